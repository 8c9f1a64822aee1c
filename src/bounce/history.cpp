#include "bounce/history.hpp"

#include <algorithm>

#include "bounce/bounce_policy.hpp"
#include "safetynet/core/text.hpp"
#include "safetynet/core/time_format.hpp"

namespace safetynet::bounce {

namespace {
// The longest a provider's outage is taken to last (docs/bounces.md, "Provider incidents").
constexpr auto kLongestIncident = std::chrono::hours(24);

// Whether `address` bounced hard as unknown earlier in this incident, before its window: twice in
// one outage, hours apart. Only this incident's: a bounce of an earlier one (or one an admin has
// since cleared, months ago) is no evidence against an address spared by this one.
bool unknownEarlierInIncident(Store& store, const std::string& address, const BounceIncident& inc,
                              std::chrono::milliseconds window) {
  for (const auto& past : store.bouncesFor(address, inc.started - window))  // from the window that tripped it
    if (past.hard && past.reason == "userunknown" && past.at < inc.since) return true;
  return false;
}

// Inside the bounce's transaction, the incident lock of `domain` held: whether `e` falls in a
// suspected incident; if so, the earlier hard bounces of its window are rewritten (they were
// recorded before it tripped), and the admins told when it began.
std::optional<BounceIncident> incidentAt(Store& store, const BouncesConfig& config, const BounceEvent& e,
                                         const std::string& domain, const IncidentAlert& alert) {
  BounceIncident inc;
  inc.domain = domain;
  inc.since = e.at - config.incident_window;
  // The window before this bounce, not after it: a bounce recorded late (an import of last month's
  // notices, a platform's page out of order) counts what came before it only.
  const auto seen = store.addressesBouncedAt(domain, {"userunknown"}, inc.since, e.at);  // this one included
  inc.addresses = static_cast<int>(seen.size());
  if (inc.addresses < config.incident_after) return std::nullopt;
  // The incident on record: "start|latest" bounce times (ms). One that has gone on for a day is no
  // outage of the provider's: a domain where that many addresses keep dying (a list of dead
  // contacts sent day after day) is read address by address again.
  TimePoint start = e.at, latest = e.at;
  const auto known = store.domainFact(domain, "bounce_incident", e.at);
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
  store.putDomainFact(domain, "bounce_incident", std::to_string(toMillis(start)) + "|" + std::to_string(toMillis(latest)),
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
    if (auto st = incidentStanding(current, own, inc.addresses, config)) {
      store.putStandingInTransaction(*st);
      inc.rewritten.push_back(address);
    }
  }
  // Began: no incident of this domain on record within a window of this bounce.
  inc.began = !known;
  if (inc.began && alert)
    if (auto note = alert(inc)) store.enqueueInTransaction(*note);
  return inc;
}
}  // namespace

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
    const auto atSign = e.address.rfind('@');
    const std::string domain = atSign == std::string::npos ? std::string() : e.address.substr(atSign + 1);
    const bool aboutDomain = aboutTheDomain(e.reason) && e.hard && !domain.empty();
    // Counted the same way, under a lock of its own (taken first): a provider's incident.
    const bool incidentKind = e.hard && e.reason == "userunknown" && !domain.empty() && config.incident_after > 0;
    std::vector<std::string> locks;
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
        incident = incidentAt(store, config, e, domain, alert);
        // An address that bounced as unknown earlier in this incident, before this window, and does
        // again, is a dead mailbox after all (each costs one more bounce, docs/bounces.md): at a busy
        // domain the count can stay over the threshold for hours.
        if (incident && !unknownEarlierInIncident(store, e.address, *incident, config.incident_window))
          return next = incidentStanding(current, e, incident->addresses, config);
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
