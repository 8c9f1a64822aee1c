#include "fakes/static_resolver.hpp"

namespace safetynet::fakes {

namespace {
DnsAnswer ok(std::vector<std::string> v) {
  DnsAnswer a;
  a.status = DnsStatus::Ok;
  a.values = std::move(v);
  a.ttl = std::chrono::seconds(300);
  return a;
}
}  // namespace

void StaticResolver::mailDomain(const std::string& d) {
  DnsAnswer mx;
  mx.status = DnsStatus::Ok;
  mx.mx = {{10, "mx1." + d}, {20, "mx2." + d}};
  mx.ttl = std::chrono::seconds(300);
  set(d, DnsType::MX, mx);
  set("mx1." + d, DnsType::A, ok({"192.0.2.10"}));
  set("mx2." + d, DnsType::A, ok({"192.0.2.11"}));
}

void StaticResolver::nullMx(const std::string& d) {
  DnsAnswer mx;
  mx.status = DnsStatus::Ok;
  mx.mx = {{0, ""}};
  set(d, DnsType::MX, mx);
}

void StaticResolver::nxdomain(const std::string& d) { nxdomains_[d] = true; }

void StaticResolver::aOnly(const std::string& d) { set(d, DnsType::A, ok({"192.0.2.20"})); }

void StaticResolver::tempfail(const std::string& d) {
  DnsAnswer a;
  a.status = DnsStatus::TempFail;
  a.error = "timeout";
  for (auto t : {DnsType::MX, DnsType::A, DnsType::AAAA, DnsType::TXT}) set(d, t, a);
}

Task<DnsAnswer> StaticResolver::query(std::string name, DnsType type) {
  ++queries_;
  for (std::string n = name;;) {  // NXDOMAIN covers the names below it
    if (nxdomains_.count(n)) {
      DnsAnswer a;
      a.status = DnsStatus::NxDomain;
      co_return a;
    }
    auto dot = n.find('.');
    if (dot == std::string::npos) break;
    n.erase(0, dot + 1);
  }
  auto it = table_.find({name, type});
  if (it != table_.end()) co_return it->second;
  DnsAnswer a;
  a.status = DnsStatus::NoData;
  a.ttl = std::chrono::seconds(60);
  co_return a;
}

}  // namespace safetynet::fakes
