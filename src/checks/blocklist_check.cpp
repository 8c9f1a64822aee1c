#include "checks/blocklist_check.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include "checks/provider_check.hpp"

namespace safetynet::checks {

namespace {
bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Answers that are errors whatever the list: not an IPv4 address, outside 127/8 (a resolver that
// rewrites NXDOMAIN), or Spamhaus's 127.255.255.x (.252 typo in zone, .254 public resolver, .255
// excess volume). Sets *v to the answer as a number; returns the refusal's meaning, or "".
std::string commonRefusal(const std::string& address, uint32_t* v) {
  in_addr ip{};
  if (inet_pton(AF_INET, address.c_str(), &ip) != 1) return "not an IPv4 answer (" + address + ")";
  *v = ntohl(ip.s_addr);
  if ((*v >> 24) != 127) return "answer outside 127.0.0.0/8 (" + address + "): the resolver rewrites answers";
  if ((*v >> 8) == 0x7fffff) {
    const unsigned b4 = *v & 0xff;
    return b4 == 254 ? "query refused: public/open resolver"
           : b4 == 255 ? "query refused: excess volume"
                       : "query refused (" + address + ")";
  }
  return "";
}
}  // namespace

BlocklistAnswer readBlocklistCode(const std::string& zone, const std::string& address) {
  BlocklistAnswer a;
  uint32_t v = 0;
  if (std::string refusal = commonRefusal(address, &v); !refusal.empty()) {
    a.refused = true;
    a.meaning = refusal;
    return a;
  }
  const unsigned b2 = (v >> 16) & 0xff, b3 = (v >> 8) & 0xff, b4 = v & 0xff;
  if (endsWith(zone, "dbl.spamhaus.org") || endsWith(zone, "dbl.dq.spamhaus.net")) {
    if (b2 == 0 && b3 == 1 && b4 == 255) {
      a.refused = true;
      a.meaning = "query refused: an IP was sent to a domain list";
    } else if (b2 == 0 && b3 == 1 && b4 >= 2 && b4 <= 99) {
      a.listed = true;
      a.meaning = b4 == 4 ? "phishing domain" : b4 == 5 ? "malware domain" : b4 == 6 ? "botnet C&C domain"
                                                                                   : "spam domain";
    } else if (b2 == 0 && b3 == 1 && b4 >= 102 && b4 <= 106) {
      a.listed = true;
      a.meaning = "abused legitimate domain";
    } else {
      a.meaning = "unknown code " + address;
    }
    return a;
  }
  if (endsWith(zone, "multi.uribl.com")) {
    if (v == 0x7f000001) {
      a.refused = true;
      a.meaning = "query refused (URIBL 127.0.0.1: public resolver or volume)";
    } else if (b4 & (2 | 8)) {
      a.listed = true;
      a.meaning = (b4 & 2) ? "black list" : "red list";
    } else {
      a.meaning = "grey list only";
    }
    return a;
  }
  if (endsWith(zone, "multi.surbl.org")) {
    if (b4 & (8 | 16 | 64 | 128)) {
      a.listed = true;
      a.meaning = (b4 & 16) ? "malware" : (b4 & 8) ? "phishing" : (b4 & 64) ? "abuse" : "cracked site";
    } else if (b4 == 1) {
      a.refused = true;
      a.meaning = "query refused";
    }
    return a;
  }
  // Any other list: 127.0.0.2 and up is a listing, 127.0.0.1 the usual "refused".
  if (v == 0x7f000001) {
    a.refused = true;
    a.meaning = "query refused (127.0.0.1)";
  } else {
    a.listed = true;
    a.meaning = "listed (" + address + ")";
  }
  return a;
}

Task<void> DomainBlocklistCheck::run(const CheckInput& input, ScanResult& result) {
  if (!input.address || zones_.empty()) co_return;
  const std::string domain = registrableDomain(input.address->ascii_domain);
  for (const auto& zone : zones_) {
    DnsAnswer a = co_await dns_->query(domain + "." + zone, DnsType::A);
    if (a.status == DnsStatus::TempFail) {
      result.add("DNSBL_REFUSED", zone + " could not be asked about " + domain + ": " + a.error);
      continue;
    }
    if (a.status != DnsStatus::Ok) continue;  // NXDOMAIN: not listed
    for (const auto& ip : a.values) {
      BlocklistAnswer b = readBlocklistCode(zone, ip);
      if (b.listed) {
        result.add("DBL_LISTED", domain + " is listed on " + zone + " (" + ip + ": " + b.meaning + ")");
        break;
      }
      if (b.refused) {
        result.add("DNSBL_REFUSED", zone + " did not answer about " + domain + ": " + b.meaning);
        break;
      }
    }
  }
}

IpBlocklistAnswer readIpBlocklistCode(const std::string& zone, const std::string& address) {
  IpBlocklistAnswer a;
  uint32_t v = 0;
  if (std::string refusal = commonRefusal(address, &v); !refusal.empty()) {
    a.listing = IpListing::Refused;
    a.meaning = refusal;
    return a;
  }
  const unsigned b4 = v & 0xff;
  const bool spamhaus = endsWith(zone, ".spamhaus.org") || endsWith(zone, ".spamhaus.net") ||
                        zone == "spamhaus.org";
  if (spamhaus && (v >> 8) == 0x7f0000) {  // 127.0.0.x: zen, sbl, xbl, pbl, sbl-xbl and their DQS twins
    switch (b4) {
      case 2: a = {IpListing::Spam, "SBL: spam source or spam operation"}; break;
      case 3: a = {IpListing::Spam, "CSS: snowshoe spam source"}; break;
      case 9: a = {IpListing::Spam, "DROP: hijacked or criminal network"}; break;
      case 30: a = {IpListing::Spam, "BCL: botnet controller"}; break;
      case 4: case 5: case 6: case 7: a = {IpListing::Exploited, "XBL: exploited or infected host"}; break;
      case 10: a = {IpListing::Dynamic, "PBL: end-user range (ISP maintained)"}; break;
      case 11: a = {IpListing::Dynamic, "PBL: end-user range (Spamhaus maintained)"}; break;
      default: a = {IpListing::None, "unknown code " + address}; break;
    }
    return a;
  }
  // Other IP lists (bl.spamcop.net, b.barracudacentral.org...): 127.0.0.2 and up list a spam
  // source; 127.0.0.1 is the usual refusal.
  if (v == 0x7f000001) return {IpListing::Refused, "query refused (127.0.0.1)"};
  return {IpListing::Spam, "listed (" + address + ")"};
}

std::string reversedIpQuery(const std::string& ip, const std::string& zone) {
  in_addr v4{};
  if (inet_pton(AF_INET, ip.c_str(), &v4) == 1) {
    const auto* b = reinterpret_cast<const unsigned char*>(&v4.s_addr);
    return std::to_string(b[3]) + "." + std::to_string(b[2]) + "." + std::to_string(b[1]) + "." +
           std::to_string(b[0]) + "." + zone;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, ip.c_str(), &v6) == 1) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string name;
    for (int i = 15; i >= 0; --i) {
      name += kHex[v6.s6_addr[i] & 0xf];
      name += '.';
      name += kHex[v6.s6_addr[i] >> 4];
      name += '.';
    }
    return name + zone;
  }
  return "";
}

// IPv4 addresses of the first MX hosts (the domain itself when it has no MX), deduplicated.
// IPv6-only hosts are looked up by their AAAA addresses.
Task<std::vector<std::string>> MxBlocklistCheck::mailServerAddresses(const std::string& domain) {
  std::vector<std::string> hosts;
  DnsAnswer mx = co_await dns_->query(domain, DnsType::MX);
  if (mx.status == DnsStatus::Ok) {
    for (const auto& r : mx.mx)
      if (!r.host.empty() && hosts.size() < max_hosts_) hosts.push_back(r.host);
  } else if (mx.status == DnsStatus::NoData) {
    hosts.push_back(domain);
  }
  std::vector<std::string> ips;
  for (const auto& host : hosts) {
    DnsAnswer a = co_await dns_->query(host, DnsType::A);
    std::vector<std::string> found = a.status == DnsStatus::Ok ? a.values : std::vector<std::string>{};
    if (found.empty()) {
      DnsAnswer aaaa = co_await dns_->query(host, DnsType::AAAA);
      if (aaaa.status == DnsStatus::Ok) found = aaaa.values;
    }
    for (auto& ip : found)
      if (std::find(ips.begin(), ips.end(), ip) == ips.end()) ips.push_back(std::move(ip));
  }
  co_return ips;
}

Task<void> MxBlocklistCheck::run(const CheckInput& input, ScanResult& result) {
  if (!input.address || zones_.empty()) co_return;
  const std::string& domain = input.address->ascii_domain;
  std::vector<std::string> ips = co_await mailServerAddresses(domain);
  // The worst listing wins; one signal per kind, so ten recipients of a domain read the same.
  bool spam = false, exploited = false, dynamic = false, refused = false;
  for (const auto& zone : zones_) {
    for (const auto& ip : ips) {
      const std::string name = reversedIpQuery(ip, zone);
      if (name.empty()) continue;
      DnsAnswer a = co_await dns_->query(name, DnsType::A);
      if (a.status == DnsStatus::TempFail) {
        if (!refused) result.add("DNSBL_REFUSED", zone + " could not be asked about " + ip + ": " + a.error);
        refused = true;
        continue;
      }
      if (a.status != DnsStatus::Ok) continue;  // NXDOMAIN: not listed
      for (const auto& code : a.values) {
        IpBlocklistAnswer b = readIpBlocklistCode(zone, code);
        const std::string what = "a mail server of " + domain + " (" + ip + ") is listed on " + zone + " (" +
                                 code + ": " + b.meaning + ")";
        if (b.listing == IpListing::Spam && !spam) {
          spam = true;
          result.add("MX_IP_LISTED", what);
        } else if (b.listing == IpListing::Exploited && !exploited) {
          exploited = true;
          result.add("MX_IP_EXPLOITED", what);
        } else if (b.listing == IpListing::Dynamic && !dynamic) {
          dynamic = true;
          result.add("MX_IP_DYNAMIC", what);
        } else if (b.listing == IpListing::Refused && !refused) {
          refused = true;
          result.add("DNSBL_REFUSED", zone + " did not answer about " + ip + ": " + b.meaning);
        }
      }
    }
  }
}

}  // namespace safetynet::checks
