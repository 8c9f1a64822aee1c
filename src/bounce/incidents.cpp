#include "bounce/incidents.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "bounce/bounce_policy.hpp"
#include "checks/mail_provider.hpp"
#include "safetynet/check/address.hpp"
#include "safetynet/core/time_format.hpp"

namespace safetynet::bounce {

namespace {
// The longest a provider's outage is taken to last.
constexpr auto kLongestIncident = std::chrono::hours(24);
// A provider's usual count is taken over the week before the window: every weekday's sending.
constexpr auto kProviderWeek = std::chrono::days(7);
// A provider's outage shows at several of the companies it hosts; at fewer it is one company's list.
constexpr int kProviderMinDomains = 3;
// Windows of that week with such a bounce, below which its usual count says too little (a new
// install; the week after an upgrade): the provider is not counted, its domains are.
constexpr int kProviderMinWindows = 5;

std::string domainOf(const std::string& address) {
  const auto at = address.rfind('@');
  return at == std::string::npos ? std::string() : address.substr(at + 1);
}

// Where an incident is counted: one domain, the domains whose mail one provider runs, or the
// domains whose bounces hosts under one site answered (a relay's).
struct Scope {
  std::string key;       // its facts' and its lock's name: "big.test", "provider:google", "site:relay.test"
  std::string provider;  // a provider's: its name
  std::string site;      // a relay's: its site
  bool acrossDomains() const { return !provider.empty() || !site.empty(); }
};
Scope domainScope(const std::string& domain) { return {domain, "", ""}; }
Scope providerScope(const std::string& provider) { return {"provider:" + provider, provider, ""}; }
Scope siteScope(const std::string& site) { return {"site:" + site, "", site}; }

// Whether `site` is known not to run `domain`'s mail: the domain check saw its MX (the `mx_sites`
// fact), none of its hosts is under `site`, and `site` is not another name of the domain's provider
// (Google's googlemail.com beside google.com, Microsoft's outlook.com beside mx.microsoft).
// Unknown (never checked, or 60 days ago): no. A provider's own hosts answering are its count, or
// the domain's, never a relay's.
bool besideTheMailHosts(Store& store, const std::string& domain, const std::string& site, TimePoint at) {
  const auto sites = store.domainFact(domainFactKey(domain), "mx_sites", at);
  if (!sites || sites->empty()) return false;
  std::istringstream in(*sites);
  for (std::string one; in >> one;)
    if (one == site) return false;
  const std::string provider = providerOfDomain(store, domain, at);
  return provider.empty() || checks::mailProviderOf({"host." + site}) != provider;
}

// An incident on record: its scope's `bounce_incident` fact, "start|latest" bounce times (ms).
struct OnRecord {
  TimePoint start, latest;
};
std::optional<OnRecord> onRecord(Store& store, const std::string& key, TimePoint at) {
  const auto known = store.domainFact(key, "bounce_incident", at);
  if (!known) return std::nullopt;
  const auto bar = known->find('|');
  try {
    OnRecord r;
    r.start = r.latest = fromMillis(std::stoll(known->substr(0, bar)));
    if (bar != std::string::npos) r.latest = fromMillis(std::stoll(known->substr(bar + 1)));
    return r;
  } catch (const std::exception&) {
    return OnRecord{at, at};  // unreadable: taken as begun now
  }
}

// A provider's or a relay's unknown-user bounces from `from` to `to` (both included), at the
// domains whose mail the provider runs or whose bounces the relay answered, as (address, time). A
// domain with an incident of its own on record is left out: it is counted by its domain, whose
// day-long cap this count must not undo. A relay's only at the domains it is known not to be the
// mail host of (besideTheMailHosts): a hosting company answering for the domains it hosts, or a
// provider's host under another name, is their mail host.
std::vector<std::pair<std::string, TimePoint>> unknownsAcross(Store& store, const Scope& scope, TimePoint from, TimePoint to,
                                                              TimePoint at) {
  std::map<std::string, bool> counted;  // each domain asked once
  std::vector<std::pair<std::string, TimePoint>> out;
  auto rows = scope.site.empty() ? store.bouncesBetween({"userunknown"}, from, to)
                                 : store.bouncesAnsweredBy(scope.site, {"userunknown"}, from, to);
  for (auto& row : rows) {
    const std::string domain = domainOf(row.first);
    auto it = counted.find(domain);
    if (it == counted.end())
      it = counted
               .emplace(domain, (scope.provider.empty() || providerOfDomain(store, domain, at) == scope.provider) &&
                                    (scope.site.empty() || besideTheMailHosts(store, domain, scope.site, at)) &&
                                    !store.domainFact(domain, "bounce_incident", at))
               .first;
    if (it->second) out.push_back(std::move(row));
  }
  return out;
}

// The different addresses in `scope` that bounced as unknown within [from, to].
std::vector<std::string> unknownIn(Store& store, const Scope& scope, TimePoint from, TimePoint to, TimePoint at) {
  if (!scope.acrossDomains()) return store.addressesBouncedAt(scope.key, {"userunknown"}, from, to);
  std::set<std::string> distinct;
  for (auto& row : unknownsAcross(store, scope, from, to, at)) distinct.insert(std::move(row.first));
  return {distinct.begin(), distinct.end()};
}

int domainsOf(const std::vector<std::string>& addresses) {
  std::set<std::string> domains;
  for (const auto& address : addresses) domains.insert(domainOf(address));
  return static_cast<int>(domains.size());
}

// A provider's usual count: over the week before `since`, the median of the windows that had such
// a bounce, each window's different addresses (a team sends in working hours: the quiet nights do
// not lower it), and how many windows that is.
struct Usual {
  int median = 0;
  int windows = 0;
};
Usual usualWeek(Store& store, const Scope& scope, TimePoint since, std::chrono::milliseconds window, TimePoint at) {
  const TimePoint from = since - kProviderWeek;
  std::map<long long, std::set<std::string>> windows;
  for (auto& [address, when] : unknownsAcross(store, scope, from, since - std::chrono::milliseconds(1), at))
    windows[(when - from) / window].insert(address);
  std::vector<int> counts;
  for (const auto& [slot, addresses] : windows) counts.push_back(static_cast<int>(addresses.size()));
  if (counts.empty()) return {};
  std::sort(counts.begin(), counts.end());
  return {counts[counts.size() / 2], static_cast<int>(counts.size())};
}

// The same, kept as the provider's fact for the window it was taken for ("slot|median|windows"),
// so a busy provider's week is read once per window; a bounce of another window (one recorded
// late, an import of last month's notices) takes its own week.
Usual keptUsualWeek(Store& store, const Scope& scope, TimePoint since, std::chrono::milliseconds window, TimePoint at) {
  const long long slot = toMillis(since) / std::max<long long>(1, window.count());
  if (const auto kept = store.domainFact(scope.key, "unknown_week", at)) {
    long long keptSlot = 0;
    Usual u;
    if (std::sscanf(kept->c_str(), "%lld|%d|%d", &keptSlot, &u.median, &u.windows) == 3 && keptSlot == slot) return u;
  }
  const Usual u = usualWeek(store, scope, since, window, at);
  store.putDomainFact(scope.key, "unknown_week",
                      std::to_string(slot) + "|" + std::to_string(u.median) + "|" + std::to_string(u.windows), at + window);
  return u;
}

// `e` in `scope`: the incident it falls in, if any (incidentOf says what is done then).
std::optional<BounceIncident> incidentIn(Store& store, const BouncesConfig& config, const BounceEvent& e, const Scope& scope,
                                         const std::string& provider, const IncidentAlert& alert) {
  BounceIncident inc;
  inc.domain = scope.acrossDomains() ? std::string() : scope.key;
  inc.provider = scope.provider;
  inc.site = scope.site;
  inc.since = e.at - config.incident_window;
  // The window before this bounce, not after it: a bounce recorded late (an import of last month's
  // notices, a platform's page out of order) counts what came before it only.
  const auto seen = unknownIn(store, scope, inc.since, e.at, e.at);  // this one included
  // (A relay's count leaves out the domains it is their mail host of: this one's too.)
  if (std::find(seen.begin(), seen.end(), e.address) == seen.end()) return std::nullopt;
  inc.addresses = static_cast<int>(seen.size());
  if (inc.addresses < config.incident_after) return std::nullopt;
  const auto known = onRecord(store, scope.key, e.at);
  if (scope.acrossDomains()) {
    inc.domains = domainsOf(seen);
    if (inc.domains < kProviderMinDomains) return std::nullopt;
    // The usual week before the incident on record began, not before this window: an outage's own
    // hours are no usual count (after five of them the bar would be five times the outage).
    const TimePoint usualUntil = known ? std::min(inc.since, known->start) : inc.since;
    const Usual usual = keptUsualWeek(store, scope, usualUntil, config.incident_window, e.at);
    if (usual.windows >= kProviderMinWindows) {
      inc.usual = usual.median;
      inc.threshold = std::max(config.incident_after,
                               static_cast<int>(std::ceil(config.provider_incident_ratio * static_cast<double>(usual.median))));
      if (inc.addresses < inc.threshold) return std::nullopt;
    } else if (scope.site.empty()) {
      return std::nullopt;  // a provider without a usual week: its domains are counted
    } else {
      // A relay that has not answered so on most days of the week (the usual shape of its failure):
      // its count alone, of domains it is known not to be the mail host of.
      inc.threshold = config.incident_after;
    }
  }
  // Kept a window past its latest bounce (never shortened by one recorded late), a long one too:
  // while bounces keep coming it stays too long, rather than begin anew when it lapses.
  const TimePoint start = known ? known->start : e.at;
  const TimePoint latest = known ? std::max(known->latest, e.at) : e.at;
  store.putDomainFact(scope.key, "bounce_incident", std::to_string(toMillis(start)) + "|" + std::to_string(toMillis(latest)),
                      latest + config.incident_window);
  // One that has gone on for a day is no outage of the provider's: a domain where that many
  // addresses keep dying (a list of dead contacts sent day after day) is read address by address
  // again, its fact kept on record meanwhile (so that the provider's count leaves it out too).
  if (e.at - start > kLongestIncident) return std::nullopt;
  inc.started = start;
  // A domain's incident within its provider's: one outage. Its start is the provider's (an address
  // spared by the provider's incident and unknown again is dead), the provider's incident goes on
  // while its domains' do, and the admins were told of it already.
  bool withinProvider = false;
  if (!scope.acrossDomains() && !provider.empty())
    if (const auto wider = onRecord(store, providerScope(provider).key, e.at)) {
      withinProvider = true;
      inc.started = std::min(inc.started, wider->start);
      store.putDomainFact(providerScope(provider).key, "bounce_incident",
                          std::to_string(toMillis(wider->start)) + "|" + std::to_string(toMillis(std::max(wider->latest, e.at))),
                          std::max(wider->latest, e.at) + config.incident_window);
    }
  const std::string where = incidentWhere(inc);
  for (const auto& address : seen) {
    if (address == e.address) continue;
    // Most are watched already after the first rewrite: looked at before taking a lock, so a
    // large incident takes the locks of the few it rewrites, not of every address in it.
    if (!hardWithinIncident(store.standing(address), config, e.at)) continue;
    // A relay's count spans domains whose own locks it does not hold: an address another
    // instance holds (its own bounce, its domain's count) is left for this incident's next bounce
    // rather than waited for, which could wait in a circle (PostgreSQL's advisory locks).
    if (scope.site.empty()) store.lockSubject(address);
    else if (!store.tryLockSubject(address)) continue;
    const auto current = store.standing(address);
    if (!hardWithinIncident(current, config, e.at) || unknownEarlierInIncident(store, address, inc, config.incident_window)) continue;
    // Its evidence: its own latest "no such user" of the window.
    BounceEvent own;
    for (const auto& past : store.bouncesFor(address, inc.since))
      if (past.hard && past.reason == "userunknown") own = past;
    if (own.address.empty()) continue;
    if (auto st = incidentStanding(current, own, inc.addresses, where, config)) {
      store.putStandingInTransaction(*st);
      inc.rewritten.push_back(address);
    }
  }
  // Began: no incident of this scope on record within a window of this bounce.
  inc.began = !known && !withinProvider;
  if (inc.began && alert)
    if (auto note = alert(inc)) store.enqueueInTransaction(*note);
  return inc;
}
}  // namespace

std::string domainFactKey(const std::string& domain) {
  // The domain check keeps its facts by the A-labels DNS is asked; a bounce may write the domain in UTF-8.
  if (std::any_of(domain.begin(), domain.end(), [](unsigned char c) { return c >= 0x80; }))
    if (const auto parsed = parseAddress("x@" + domain); parsed.address) return parsed.address->ascii_domain;
  return domain;
}

std::string providerOfDomain(Store& store, const std::string& domain, TimePoint at) {
  return store.domainFact(domainFactKey(domain), "provider", at).value_or("");
}

std::vector<std::string> incidentLocks(const std::string& domain, const std::string& provider, const std::string& site) {
  std::vector<std::string> locks;
  if (!provider.empty()) locks.push_back("incident@" + providerScope(provider).key);
  if (!site.empty()) locks.push_back("incident@" + siteScope(site).key);
  locks.push_back("incident@" + domain);
  return locks;
}

std::optional<BounceIncident> incidentOf(Store& store, const BouncesConfig& config, const BounceEvent& e,
                                         const std::string& provider, const IncidentAlert& alert) {
  const std::string domain = domainOf(e.address);
  if (auto inc = incidentIn(store, config, e, domainScope(domain), provider, alert)) return inc;
  // The provider's count, unless the domain has an incident of its own on record (one past its
  // day: read address by address, which the provider's count must not undo).
  if (config.provider_incident_ratio <= 0 || store.domainFact(domain, "bounce_incident", e.at)) return std::nullopt;
  if (!provider.empty())
    if (auto inc = incidentIn(store, config, e, providerScope(provider), provider, alert)) return inc;
  // The relay's count: the host that answered is not the recipient's own (answered_by).
  if (e.answered_by.empty()) return std::nullopt;
  return incidentIn(store, config, e, siteScope(e.answered_by), provider, alert);
}

bool unknownEarlierInIncident(Store& store, const std::string& address, const BounceIncident& incident,
                              std::chrono::milliseconds window) {
  // Only this incident's: a bounce of an earlier one (or one an admin has since cleared, months
  // ago) is no evidence against an address spared by this one.
  for (const auto& past : store.bouncesFor(address, incident.started - window))  // from the window that tripped it
    if (past.hard && past.reason == "userunknown" && past.at < incident.since) return true;
  return false;
}

std::string incidentWhere(const BounceIncident& incident) {
  if (!incident.site.empty())
    return "at " + std::to_string(incident.domains) + " domains, answered by hosts under " + incident.site;
  if (incident.provider.empty()) return "at " + incident.domain;
  return "at " + std::to_string(incident.domains) + " of the domains whose mail " + incident.provider + " runs";
}

std::string incidentPlace(const BounceIncident& incident) {
  if (!incident.site.empty()) return incident.site + " (answering for " + std::to_string(incident.domains) + " domains)";
  if (incident.provider.empty()) return incident.domain;
  return incident.provider + " (" + std::to_string(incident.domains) + " of the domains whose mail it runs)";
}

}  // namespace safetynet::bounce
