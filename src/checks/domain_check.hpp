#pragma once
#include "safetynet/check/check.hpp"
#include "safetynet/net/dns.hpp"

namespace safetynet::checks {

// Does the domain take mail? MX in preference order; NXDOMAIN; null MX (RFC 7505); no MX but an
// A/AAAA record (implicit MX, RFC 5321 5.1); MX hosts that do not resolve. A lookup that fails
// on our side is DNS_TEMPFAIL, never a fact about the recipient.
class DomainCheck final : public Check {
 public:
  explicit DomainCheck(DnsResolverPtr dns) : dns_(std::move(dns)) {}
  std::string_view name() const override { return "domain"; }
  bool needsNetwork() const override { return true; }
  Task<void> run(const CheckInput& input, ScanResult& result) override;

 private:
  Task<DnsStatus> hasAddress(const std::string& host, std::string* error);
  DnsResolverPtr dns_;
};

}  // namespace safetynet::checks
