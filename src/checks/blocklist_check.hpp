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

// Reads one returned address for a domain list's zone.
BlocklistAnswer readBlocklistCode(const std::string& zone, const std::string& address);

// What an IP list (Spamhaus ZEN style) says about an address.
enum class IpListing { None, Spam, Exploited, Dynamic, Refused };
struct IpBlocklistAnswer {
  IpListing listing = IpListing::None;
  std::string meaning;
};
IpBlocklistAnswer readIpBlocklistCode(const std::string& zone, const std::string& address);

// The query name of an IP in a zone: 4.3.2.1.zen.example for 1.2.3.4, nibbles for IPv6; "" if
// `ip` is not an address.
std::string reversedIpQuery(const std::string& ip, const std::string& zone);

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

// MX-IP blocklists (Spamhaus ZEN style): the addresses of the domain's first MX hosts (the domain
// itself under implicit MX) looked up in each zone. Spam-source listings (SBL, CSS, DROP, BCL)
// become MX_IP_LISTED; a hijacked host (XBL) MX_IP_EXPLOITED and an end-user range (PBL)
// MX_IP_DYNAMIC, hints; error codes DNSBL_REFUSED. Answers are per domain, so many recipients of
// one domain cost the lookups once (the DNS cache keeps them).
class MxBlocklistCheck final : public Check {
 public:
  MxBlocklistCheck(DnsResolverPtr dns, std::vector<std::string> zones, size_t max_hosts = 2)
      : dns_(std::move(dns)), zones_(std::move(zones)), max_hosts_(max_hosts) {}
  std::string_view name() const override { return "mx_blocklists"; }
  bool needsNetwork() const override { return true; }
  Task<void> run(const CheckInput& input, ScanResult& result) override;

 private:
  Task<std::vector<std::string>> mailServerAddresses(const std::string& domain);
  DnsResolverPtr dns_;
  std::vector<std::string> zones_;
  size_t max_hosts_;
};

}  // namespace safetynet::checks
