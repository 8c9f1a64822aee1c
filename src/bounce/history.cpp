#include "bounce/history.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "bounce/bounce_policy.hpp"
#include "safetynet/core/text.hpp"
#include "safetynet/core/time_format.hpp"

namespace safetynet::bounce {

namespace {
// The longest a provider's outage is taken to last (docs/bounces.md, "Provider incidents").
constexpr auto kLongestIncident = std::chrono::hours(24);
// A provider's usual count of unknown users is taken over the week before the window: a week
// holds every weekday's sending.
constexpr auto kProviderBaseline = std::chrono::days(7);

std::string domainOf(const std::string& address) {
  const auto at = address.rfind('@');
  return at == std::string::npos ? std::string() : address.substr(at + 1);
}

// Where an incident is counted: one domain, or every domain whose mail one provider runs (its MX
// as the domain check last saw it: the `provider` domain fact).
struct IncidentScope {
  std::string key;       // its facts' and its lock's name: "big.test", "provider:google"
  std::string provider;  // "" for a domain
  std::string where;     // for the evidence: "at big.test"
};

IncidentScope domainScope(const std::string& domain) { return {domain, "", "at " + domain}; }
IncidentScope providerScope(const std::string& provider) {
  return {"provider:" + provider, provider, "at the domains whose mail " + provider + " runs"};
}

// The different addresses in `scope` that bounced as unknown from `from` to `to`, both included.
std::vector<std::string> unknownIn(Store& store, const IncidentScope& scope, TimePoint from, TimePoint to, TimePoint at) {
  if (scope.provider.empty()) return store.addressesBouncedAt(scope.key, {"userunknown"}, from, to);
  std::map<std::string, std::string> providers;  // each domain's, asked once
  std::vector<std::string> out;
  for (auto& address : store.addressesBouncedBetween({"userunknown"}, from, to)) {
    const std::string domain = domainOf(address);
    auto it = providers.find(domain);
    if (it == providers.end()) it = providers.emplace(domain, store.domainFact(domain, "provider", at).value_or("")).first;
    if (it->second == scope.provider) out.push_back(std::move(address));
  }
  return out;
}

// How many addresses make an incident within a window. A domain: incident_after. A provider:
// also provider_incident_ratio times its usual count per window over the week before (a sender
// that reaches many companies there sees some dead mailboxes every hour); that count is kept a
// window as the scope's fact, so a busy provider's week is read once per window, not per bounce.
int thresholdOf(Store& store, const BouncesConfig& config, const IncidentScope& scope, TimePoint since, TimePoint at) {
  if (scope.provider.empty()) return config.incident_after;
  long long usual = -1;
  if (const auto kept = store.domainFact(scope.key, "unknown_week", at)) {
    try {
      usual = std::stoll(*kept);
    } catch (const std::exception&) {
      usual = -1;  // unreadable: counted again
    }
  }
  if (usual < 0) {
    usual = static_cast<long long>(unknownIn(store, scope, since - kProviderBaseline, since - std::chrono::milliseconds(1), at).size());
    store.putDomainFact(scope.key, "unknown_week", std::to_string(usual), at + config.incident_window);
  }
  const double perWindow = static_cast<double>(usual) * static_cast<double>(config.incident_window.count()) /
                           static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(kProviderBaseline).count());
  return std::max(config.incident_after, static_cast<int>(std::ceil(config.provider_incident_ratio * perWindow)));
}

// Whether `address` bounced hard as unknown earlier in this incident, before its window: twice in
// one outage, hours apart. Only this incident's: a bounce of an earlier one (or one an admin has
// since cleared, months ago) is no evidence against an address spared by this one.
bool unknownEarlierInIncident(Store& store, const std::string& address, const BounceIncident& inc,
                              std::chrono::milliseconds window) {
  for (const auto& past : store.bouncesFor(address, inc.started - window))  // from the window that tripped it
    if (past.hard && past.reason == "userunknown" && past.at < inc.since) return true;
  return false;
}

// Inside the bounce's transaction, the incident lock of `scope` held: whether `e` falls in a
// suspected incident there; if so, the earlier hard bounces of its window are rewritten (they were
// recorded before it tripped), and the admins told when it began.
std::optional<BounceIncident> incidentAt(Store& store, const BouncesConfig& config, const BounceEvent& e,
                                         const IncidentScope& scope, const IncidentAlert& alert) {
  BounceIncident inc;
  inc.domain = scope.provider.empty() ? scope.key : std::string();
  inc.provider = scope.provider;
  inc.since = e.at - config.incident_window;
  // The window before this bounce, not after it: a bounce recorded late (an import of last month's
  // notices, a platform's page out of order) counts what came before it only.
  const auto seen = unknownIn(store, scope, inc.since, e.at, e.at);  // this one included
  inc.addresses = static_cast<int>(seen.size());
  if (inc.addresses < config.incident_after || inc.addresses < thresholdOf(store, config, scope, inc.since, e.at))
    return std::nullopt;
  std::set<std::string> domains;
  for (const auto& address : seen) domains.insert(domainOf(address));
  inc.domains = static_cast<int>(domains.size());
  // The incident on record: "start|latest" bounce times (ms). One that has gone on for a day is no
  // outage of the provider's: a domain where that many addresses keep dying (a list of dead
  // contacts sent day after day) is read address by address again.
  TimePoint start = e.at, latest = e.at;
  const auto known = store.domainFact(scope.key, "bounce_incident", e.at);
  if (known) {
    const auto bar = known->find('|');
    try {
      start = fromMillis(std::stoll(known->substr(0, bar)));
      if (bar != std::string::npos) latest = std::max(e.at, fromMillis(std::stoll(known->substr(bar + 1))));
    } catch (const std::exception&) {
      start = latest = e.at;  // unreadable: a new one
    }
  }
  // Kept a window past its latest bounce (never shortened by one recorded late), a long one too:
  // while bounces keep coming it stays too long, rather than begin anew when it lapses.
  store.putDomainFact(scope.key, "bounce_incident", std::to_string(toMillis(start)) + "|" + std::to_string(toMillis(latest)),
                      latest + config.incident_window);
  if (e.at - start > kLongestIncident) return std::nullopt;
  inc.started = start;
  for (const auto& address : seen) {
    if (address == e.address) continue;
    store.lockSubject(address);
    const auto current = store.standing(address);
    if (!hardWithinIncident(current, config, e.at) || unknownEarlierInIncident(store, address, inc, config.incident_window)) continue;
    // Its evidence: its own latest "no such user" of the window.
    BounceEvent own;
    for (const auto& past : store.bouncesFor(address, inc.since))
      if (past.hard && past.reason == "userunknown") own = past;
    if (own.address.empty()) continue;
    if (auto st = incidentStanding(current, own, inc.addresses, scope.where, config)) {
      store.putStandingInTransaction(*st);
      inc.rewritten.push_back(address);
    }
  }
  // Began: no incident of this scope on record within a window of this bounce.
  inc.began = !known;
  if (inc.began && alert)
    if (auto note = alert(inc)) store.enqueueInTransaction(*note);
  return inc;
}
}  // namespace

std::string incidentPlace(const BounceIncident& incident) {
  if (incident.provider.empty()) return incident.domain;
  return incident.provider + " (" + std::to_string(incident.domains) + " domain" + (incident.domains == 1 ? "" : "s") +
         " whose mail it runs)";
}

ImportResult recordBounces(Store& store, const BouncesConfig& config, const Classification& c,
                           const std::string& message_id, const std::string& source, const std::string& sender,
                           TimePoint at, const IncidentAlert& alert) {
  ImportResult result;
  for (const auto& r : c.records) {
    if (r.recipient.empty()) continue;
    if (r.reason == "delivered" || r.reason == "vacation") {
      ++result.ignored;
      continue;
    }
    BounceEvent e;
    e.address = asciiLower(r.recipient);
    e.key = message_id + "|" + e.address;
    e.reason = r.reason;
    e.hard = r.hard;
    e.status = r.status;
    e.reply_code = r.reply_code;
    e.diagnostic = r.reason == "feedback" ? r.feedback_type : r.diagnostic;
    e.source = source;
    e.sender = sender;
    e.at = at;
    // A dead domain is confirmed once `domain_after` of its addresses bounced as dead: counted
    // inside the transaction with the domain locked, so that two of its addresses bouncing at once
    // (two instances) see each other.
    const std::string domain = domainOf(e.address);
    const bool aboutDomain = aboutTheDomain(e.reason) && e.hard && !domain.empty();
    // Counted the same way, under a lock of its own (taken first): a provider's incident, at the
    // domain, and at the provider that runs its mail (a lock taken before any domain's).
    const bool incidentKind = e.hard && e.reason == "userunknown" && !domain.empty() && config.incident_after > 0;
    std::string provider;
    if (incidentKind && config.provider_incident_ratio > 0) provider = store.domainFact(domain, "provider", e.at).value_or("");
    std::vector<std::string> locks;
    if (!provider.empty()) locks.push_back("incident@" + providerScope(provider).key);
    if (incidentKind) locks.push_back("incident@" + domain);
    if (aboutDomain) locks.push_back("@" + domain);
    locks.push_back(e.address);
    std::optional<BounceIncident> incident;
    // Decided inside the bounce's transaction, the subjects locked: a bounce of the same address
    // (or of another address of the same dead domain) recorded at the same moment elsewhere is
    // counted, not overwritten.
    std::optional<Standing> next;
    auto decide = [&]() -> std::optional<Standing> {
      bool domainConfirmed = false;
      if (aboutDomain) {
        auto seen = store.addressesBouncedAt(domain, {"hostunknown", "notaccept"});
        if (std::find(seen.begin(), seen.end(), e.address) == seen.end()) seen.push_back(e.address);
        domainConfirmed = static_cast<int>(seen.size()) >= config.domain_after;
      }
      const std::string subject = subjectOf(e, domainConfirmed);
      const auto current = store.standing(subject);
      if (incidentKind) {
        incident = incidentAt(store, config, e, domainScope(domain), alert);
        if (!incident && !provider.empty()) incident = incidentAt(store, config, e, providerScope(provider), alert);
        // An address that bounced as unknown earlier in this incident, before this window, and does
        // again, is a dead mailbox after all (each costs one more bounce, docs/bounces.md): at a busy
        // domain the count can stay over the threshold for hours.
        if (incident && !unknownEarlierInIncident(store, e.address, *incident, config.incident_window))
          return next = incidentStanding(current, e, incident->addresses,
                                         incident->provider.empty() ? domainScope(domain).where : providerScope(provider).where,
                                         config);
      }
      // Soft bounces of this address since the window (or the last hold) began, this one included.
      int soft = 1;
      if (!e.hard && e.reason != "feedback")
        for (const auto& past : store.bouncesFor(e.address, softCountingStart(current, config, at)))
          if (!past.hard && past.reason != "feedback" && countsAgainstRecipient(past.reason) && past.key != e.key) ++soft;
      next = applyBounce(current, e, subject, soft, config, at);
      return next;
    };
    if (!store.recordBounceDeciding(e, locks, decide)) {
      ++result.duplicates;
      continue;
    }
    ++result.recorded;
    if (next) result.changed.push_back(*next);
    if (incident) result.incidents.push_back(*incident);
  }
  return result;
}

std::vector<std::string> platformBouncedAddresses(const RecipientProfile& profile) {
  std::vector<std::string> out;
  for (const auto& a : profile.addresses)
    if (a.bounced) out.push_back(asciiLower(a.email));
  if (profile.bounced) {
    const ProfileAddress* primary = profile.primary();
    if (!primary && profile.addresses.size() == 1) primary = &profile.addresses.front();
    if (primary && std::find(out.begin(), out.end(), asciiLower(primary->email)) == out.end())
      out.push_back(asciiLower(primary->email));
  }
  return out;
}

ImportResult recordPlatformBounceFlags(Store& store, const BouncesConfig& config, const std::string& platform,
                                       const RecipientProfile& profile, TimePoint now) {
  ImportResult total;
  for (const auto& address : platformBouncedAddresses(profile)) {
    Classification c;
    BounceRecord r;
    r.recipient = address;
    r.reason = "undefined";  // the platform says it bounced, not why
    r.hard = true;
    r.action = "failed";
    r.diagnostic = platform + " marks " + address + " as bounced";
    c.records.push_back(r);
    auto one = recordBounces(store, config, c, "platform-flag|" + platform + "|" + profile.person_id, "connector: " + platform,
                             "", now);
    total.recorded += one.recorded;
    total.duplicates += one.duplicates;
    total.changed.insert(total.changed.end(), one.changed.begin(), one.changed.end());
  }
  return total;
}

}  // namespace safetynet::bounce
