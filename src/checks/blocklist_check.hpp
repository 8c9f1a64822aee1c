#pragma once
// Domain blocklists over DNS (Spamhaus DBL style): A query for <registrable domain>.<zone>.
// The answer's code is read per zone: listing codes become DBL_LISTED; error codes (127.255.255.x,
// DBL's 127.0.1.255, URIBL's 127.0.0.1) mean the list refused to answer us (public resolver,
// volume) and become DNSBL_REFUSED, never a listing.
#include "safetynet/check/check.hpp"
#include "safetynet/net/dns.hpp"

namespace safetynet::checks {

struct BlocklistAnswer {
  bool listed = false;
  bool refused = false;
  std::string meaning;  // "spam domain", "query refused: public resolver" ...
};

// Reads one returned address for a zone.
BlocklistAnswer readBlocklistCode(const std::string& zone, const std::string& address);

class DomainBlocklistCheck final : public Check {
 public:
  DomainBlocklistCheck(DnsResolverPtr dns, std::vector<std::string> zones) : dns_(std::move(dns)), zones_(std::move(zones)) {}
  std::string_view name() const override { return "domain_blocklists"; }
  bool needsNetwork() const override { return true; }
  Task<void> run(const CheckInput& input, ScanResult& result) override;

 private:
  DnsResolverPtr dns_;
  std::vector<std::string> zones_;
};

}  // namespace safetynet::checks
