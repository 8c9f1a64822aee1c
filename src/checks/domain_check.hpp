#pragma once
#include "safetynet/check/check.hpp"
#include "safetynet/net/dns.hpp"
#include "safetynet/store/store.hpp"

namespace safetynet::checks {

// Does the domain take mail? MX in preference order; NXDOMAIN; null MX (RFC 7505); no MX but an
// A/AAAA record (implicit MX, RFC 5321 5.1); MX hosts that do not resolve. A lookup that fails
// on our side is DNS_TEMPFAIL, never a fact about the recipient.
//
// The MX set and the mail provider read from it (MAIL_PROVIDER, no weight) are domain facts: kept
// in the store (when given) for the answer's DNS TTL, at least an hour and at most a day, so a
// restart or a new address at a known domain does not ask DNS for the MX again.
class DomainCheck final : public Check {
 public:
  explicit DomainCheck(DnsResolverPtr dns, Store* store = nullptr) : dns_(std::move(dns)), store_(store) {}
  std::string_view name() const override { return "domain"; }
  bool needsNetwork() const override { return true; }
  Task<void> run(const CheckInput& input, ScanResult& result) override;

 private:
  Task<DnsStatus> hasAddress(const std::string& host, std::string* error);
  Task<DnsAnswer> mxOf(const std::string& domain);
  DnsResolverPtr dns_;
  Store* store_;
};

}  // namespace safetynet::checks
