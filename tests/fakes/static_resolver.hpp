#pragma once
// Fixture DNS for unit tests and `safetynet demo`: answers from a table, no sockets.
#include <map>

#include "safetynet/net/dns.hpp"

namespace safetynet::fakes {

class StaticResolver final : public DnsResolver {
 public:
  void set(const std::string& name, DnsType type, DnsAnswer answer) { table_[{name, type}] = std::move(answer); }
  // Convenience: a domain with MX hosts that resolve to 192.0.2.x.
  void mailDomain(const std::string& domain);
  void nullMx(const std::string& domain);
  void nxdomain(const std::string& domain);
  void aOnly(const std::string& domain);
  void tempfail(const std::string& domain);
  int queries() const { return queries_; }
  Task<DnsAnswer> query(std::string name, DnsType type) override;

 private:
  std::map<std::pair<std::string, DnsType>, DnsAnswer> table_;
  std::map<std::string, bool> nxdomains_;
  int queries_ = 0;
};

}  // namespace safetynet::fakes
