#include "checks/blocklist_check.hpp"

#include <arpa/inet.h>

#include "checks/provider_check.hpp"

namespace safetynet::checks {

namespace {
bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

BlocklistAnswer readBlocklistCode(const std::string& zone, const std::string& address) {
  BlocklistAnswer a;
  in_addr ip{};
  if (inet_pton(AF_INET, address.c_str(), &ip) != 1) {
    a.refused = true;
    a.meaning = "not an IPv4 answer (" + address + ")";
    return a;
  }
  const uint32_t v = ntohl(ip.s_addr);
  const unsigned b2 = (v >> 16) & 0xff, b3 = (v >> 8) & 0xff, b4 = v & 0xff;
  if ((v >> 24) != 127) {
    a.refused = true;  // a resolver that answers everything (NXDOMAIN hijacking)
    a.meaning = "answer outside 127.0.0.0/8 (" + address + "): the resolver rewrites answers";
    return a;
  }
  if (b2 == 255 && b3 == 255) {  // Spamhaus: .252 typo in zone, .254 public resolver, .255 excess volume
    a.refused = true;
    a.meaning = b4 == 254 ? "query refused: public/open resolver" : b4 == 255 ? "query refused: excess volume"
                                                                          : "query refused (" + address + ")";
    return a;
  }
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

}  // namespace safetynet::checks
