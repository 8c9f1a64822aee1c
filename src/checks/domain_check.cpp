#include "checks/domain_check.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "checks/mail_provider.hpp"
#include "checks/registrable_domain.hpp"

namespace safetynet::checks {

namespace {
// "globex.test mimecast.com": the different sites of an MX set's hosts, space-separated, in order.
std::string mailHostSites(const std::vector<std::string>& hosts) {
  std::vector<std::string> sites;
  for (std::string host : hosts) {
    std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return std::tolower(c); });
    while (!host.empty() && host.back() == '.') host.pop_back();
    if (host.empty()) continue;
    const std::string site = registrableDomain(host);
    if (std::find(sites.begin(), sites.end(), site) == sites.end()) sites.push_back(site);
  }
  std::string out;
  for (const auto& site : sites) out += (out.empty() ? "" : " ") + site;
  return out;
}

// "10 mx1.example.com,20 mx2.example.com": the stored form of an MX set.
std::string encodeMx(const std::vector<MxRecord>& mx) {
  std::string out;
  for (const auto& r : mx) out += (out.empty() ? "" : ",") + std::to_string(r.preference) + " " + r.host;
  return out;
}

std::optional<std::vector<MxRecord>> decodeMx(const std::string& text) {
  std::vector<MxRecord> mx;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    std::istringstream f(item);
    MxRecord r;
    if (!(f >> r.preference >> r.host)) return std::nullopt;
    mx.push_back(r);
  }
  if (mx.empty()) return std::nullopt;
  return mx;
}
}  // namespace

// The MX answer, from the store's domain facts when fresh, else from DNS (and then stored).
Task<DnsAnswer> DomainCheck::mxOf(const std::string& domain) {
  if (store_) {
    if (auto known = store_->domainFact(domain, "mx", Clock::now()))
      if (auto mx = decodeMx(*known)) {
        DnsAnswer a;
        a.status = DnsStatus::Ok;
        a.mx = std::move(*mx);
        co_return a;
      }
  }
  DnsAnswer a = co_await dns_->query(domain, DnsType::MX);
  const bool nullMx = a.mx.size() == 1 && a.mx[0].host.empty();
  if (store_ && a.status == DnsStatus::Ok && !a.mx.empty() && !nullMx) {
    const auto ttl = std::clamp<std::chrono::seconds>(a.ttl, std::chrono::hours(1), std::chrono::hours(24));
    store_->putDomainFact(domain, "mx", encodeMx(a.mx), Clock::now() + ttl);
    std::vector<std::string> hosts;
    for (const auto& r : a.mx) hosts.push_back(r.host);
    // Kept 60 days, not the MX's TTL: the bounce history counts a provider's incident by it
    // (docs/bounces.md, "Provider incidents"), a bounce comes hours after the check, and an
    // address judged good is not checked again for a month (cache.positive_ttl). A domain that
    // moves is rewritten at its next check.
    store_->putDomainFact(domain, "provider", mailProviderOf(hosts), Clock::now() + std::chrono::days(60));
    // The sites (registrable domains) of its mail hosts, kept as long: a bounce answered by a
    // host under none of them came through a relay, which the bounce history counts apart
    // (docs/bounces.md, "A relay's incident").
    store_->putDomainFact(domain, "mx_sites", mailHostSites(hosts), Clock::now() + std::chrono::days(60));
  }
  co_return a;
}

// Ok if the host has an A or AAAA record; NoData/NxDomain if neither; TempFail if we cannot tell.
Task<DnsStatus> DomainCheck::hasAddress(const std::string& host, std::string* error) {
  DnsAnswer a = co_await dns_->query(host, DnsType::A);
  if (a.status == DnsStatus::Ok && !a.values.empty()) co_return DnsStatus::Ok;
  DnsAnswer aaaa = co_await dns_->query(host, DnsType::AAAA);
  if (aaaa.status == DnsStatus::Ok && !aaaa.values.empty()) co_return DnsStatus::Ok;
  if (a.status == DnsStatus::TempFail || aaaa.status == DnsStatus::TempFail) {
    *error = a.status == DnsStatus::TempFail ? a.error : aaaa.error;
    co_return DnsStatus::TempFail;
  }
  co_return a.status == DnsStatus::NxDomain ? DnsStatus::NxDomain : DnsStatus::NoData;
}

Task<void> DomainCheck::run(const CheckInput& input, ScanResult& result) {
  if (!input.address) co_return;
  const std::string& domain = input.address->ascii_domain;
  DnsAnswer mx = co_await mxOf(domain);
  switch (mx.status) {
    case DnsStatus::TempFail:
      result.add("DNS_TEMPFAIL", "MX lookup for " + domain + " failed: " + mx.error);
      co_return;
    case DnsStatus::NxDomain:
      result.add("DOMAIN_NXDOMAIN", domain + " does not exist (NXDOMAIN)");
      result.stop();
      co_return;
    case DnsStatus::NoData: {
      std::string err;
      DnsStatus st = co_await hasAddress(domain, &err);
      if (st == DnsStatus::Ok)
        result.add("IMPLICIT_MX", domain + " has no MX record; mail goes to its A/AAAA record");
      else if (st == DnsStatus::TempFail)
        result.add("DNS_TEMPFAIL", "address lookup for " + domain + " failed: " + err);
      else {
        result.add("NO_MAIL_HOST", domain + " has no MX record and no A/AAAA record");
        result.stop();
      }
      co_return;
    }
    case DnsStatus::Ok:
      break;
  }
  if (mx.mx.size() == 1 && mx.mx[0].host.empty()) {
    result.add("NULL_MX", domain + " publishes a null MX (\"0 .\"): it accepts no mail");
    result.stop();
    co_return;
  }
  std::vector<std::string> mxHosts;
  for (const auto& r : mx.mx) mxHosts.push_back(r.host);
  if (std::string provider = mailProviderOf(mxHosts); !provider.empty())
    result.add("MAIL_PROVIDER", domain + "'s mail is run by " + provider + " (" + mxHosts.front() + ")");
  // The domain takes mail if any MX host resolves. Hosts are tried in preference order and the
  // first that resolves ends the search, so a healthy domain costs one lookup more.
  bool tempfail = false;
  std::string err, hosts;
  for (const auto& r : mx.mx) {
    if (r.host.empty()) continue;
    hosts += (hosts.empty() ? "" : ", ") + r.host;
    std::string e;
    DnsStatus st = co_await hasAddress(r.host, &e);
    if (st == DnsStatus::Ok) co_return;
    if (st == DnsStatus::TempFail) {
      tempfail = true;
      err = e;
    }
  }
  if (tempfail)
    result.add("DNS_TEMPFAIL", "address lookup for the MX hosts of " + domain + " failed: " + err);
  else {
    result.add("NO_MAIL_HOST", "no MX host of " + domain + " resolves (" + hosts + ")");
    result.stop();
  }
}

}  // namespace safetynet::checks
