#include "dataset.hpp"

#include <algorithm>
#include <iomanip>
#include <random>
#include <sstream>

namespace safetynet::bench {

namespace {

enum class Kind { Normal, NxDomain, NullMx, CatchAll, AOnly };

Kind kindOf(int i) {
  if (i % 20 == 0) return Kind::NxDomain;
  if (i % 20 == 1) return Kind::NullMx;
  if (i % 10 == 2) return Kind::CatchAll;
  if (i % 20 == 3) return Kind::AOnly;
  return Kind::Normal;
}

std::string domainName(int i) {
  std::ostringstream o;
  o << "bench-co-" << std::setw(4) << std::setfill('0') << i << ".com";
  return o.str();
}

std::string mxAddress(int i) { return "127.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1); }

const char* kLocalParts[] = {"ann.lee", "bo.chen", "cara.diaz", "dev.patel", "eli.moss", "fay.ng", "gus.ortiz", "hana.sato"};

}  // namespace

Dataset makeDataset(int addresses, int domains) {
  Dataset d;
  const int perDomain = std::max(1, addresses / domains);
  for (int i = 0; i < domains; ++i) {
    const std::string dom = domainName(i);
    const Kind kind = kindOf(i);
    d.zones += "local-zone: \"" + dom + ".\" static\n";
    switch (kind) {
      case Kind::Normal:
      case Kind::CatchAll:
        d.zones += "local-data: \"" + dom + ". 3600 IN MX 10 mx." + dom + ".\"\n";
        d.zones += "local-data: \"mx." + dom + ". 3600 IN A " + mxAddress(i) + "\"\n";
        break;
      case Kind::AOnly: d.zones += "local-data: \"" + dom + ". 3600 IN A " + mxAddress(i) + "\"\n"; break;
      case Kind::NullMx: d.zones += "local-data: \"" + dom + ". 3600 IN MX 0 .\"\n"; break;
      case Kind::NxDomain: break;
    }
    if (kind == Kind::Normal || kind == Kind::CatchAll || kind == Kind::AOnly) d.postfixDomains.push_back(dom);
    if (kind == Kind::CatchAll) d.mailboxes.push_back("@" + dom + " OK");
    const bool greylists = kind == Kind::Normal && i % 25 == 4;
    for (int k = 0; k < perDomain && static_cast<int>(d.recipients.size()) < addresses; ++k) {
      const bool last = k == perDomain - 1;
      std::string local = kLocalParts[k % 8] + (k >= 8 ? std::to_string(k / 8) : std::string());
      if (greylists && k == perDomain - 2) local = "greylist";
      Recipient r{local + "@" + dom, ""};
      if (kind == Kind::NxDomain || kind == Kind::NullMx) r.truth = "invalid";
      else if (kind == Kind::CatchAll) r.truth = "catch_all";
      else if (local == "greylist") r.truth = "unknown";
      else if (last) r.truth = "invalid";
      else r.truth = "valid";
      if (r.truth == "valid" || r.truth == "unknown") d.mailboxes.push_back(r.address + " OK");
      d.recipients.push_back(r);
    }
  }
  // A CRM export is in no particular order.
  std::mt19937 rng(42);
  std::shuffle(d.recipients.begin(), d.recipients.end(), rng);
  return d;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

MailPeers::MailPeers(const Dataset& d, std::chrono::milliseconds rtt, const std::vector<std::string>& smtp_listen)
    : unbound_(d.zones),
      postfix_(d.postfixDomains, d.mailboxes,
               {"default_process_limit = 200",
                // Postfix slows MAIL FROM by 1 s when qmgr hands out no delivery tokens, which it
                // never does here (nothing is ever queued): a property of this test server only.
                "in_flow_delay = 0"}),
      proxy_(rtt, unbound_.port(), smtp_listen, postfix_.port()) {}

}  // namespace safetynet::bench
