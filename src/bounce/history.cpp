#include "bounce/history.hpp"

#include <algorithm>
#include <set>

#include "bounce/bounce_policy.hpp"
#include "bounce/incidents.hpp"
#include "checks/registrable_domain.hpp"
#include "safetynet/check/address.hpp"
#include "safetynet/core/text.hpp"
#include "safetynet/core/time_format.hpp"

namespace safetynet::bounce {

namespace {
// Names no public DNS gives: a site under them (corp.local, localhost.localdomain) is a different
// network at each company, no one relay (RFC 6761, RFC 6762 .local, RFC 8375 home.arpa, and the
// private names in common use).
bool privateName(const std::string& host) {
  const auto dot = host.rfind('.');
  const std::string last = dot == std::string::npos ? host : host.substr(dot + 1);
  static const std::set<std::string> names{"local", "localhost", "localdomain", "lan", "internal", "intranet",
                                           "corp", "home", "private", "invalid", "example"};
  return names.count(last) > 0 || (host.size() >= 10 && host.compare(host.size() - 10, 10, ".home.arpa") == 0);
}

// The site (registrable domain) of the host that answered, unless it is the recipient's own.
std::string answeredBy(const std::string& host, const std::string& domain) {
  if (host.empty() || domain.empty() || privateName(host)) return "";
  const std::string site = checks::registrableDomain(host);
  return site == checks::registrableDomain(domainFactKey(domain)) ? std::string() : site;
}

// Whether `e`'s address bounced hard, before `e`, as a domain that takes no mail.
bool bouncedAsDeadDomain(Store& store, const BounceEvent& e) {
  for (const auto& past : store.bouncesFor(e.address, TimePoint{}))
    if (past.hard && aboutTheDomain(past.reason) && past.at <= e.at && past.key != e.key) return true;
  return false;
}

// The records to count: each failed address's, and, for one the report says a message to another
// address was forwarded or expanded to (BounceRecord::sent_to), a soft bounce of that address too.
// That is the address a rep wrote to, and mail to it keeps failing while the forward stands; but a
// forward and a list with one dead member look the same in a report, so never hard: repeated, the
// soft bounces hold it.
std::vector<BounceRecord> withAddressesSentTo(const std::vector<BounceRecord>& records) {
  std::vector<BounceRecord> out = records;
  std::set<std::string> named;
  for (const auto& r : records) named.insert(asciiLower(r.recipient));
  for (const auto& r : records) {
    if (r.sent_to.empty() || actionIsNoFailure(r) || r.reason == "delivered" || r.reason == "vacation" ||
        r.reason == "feedback" || !named.insert(asciiLower(r.sent_to)).second)
      continue;
    BounceRecord forwarded = r;
    forwarded.recipient = r.sent_to;
    forwarded.sent_to.clear();
    forwarded.hard = false;
    forwarded.diagnostic = "forwarded or expanded to " + r.recipient + ": " + r.diagnostic;
    out.push_back(std::move(forwarded));
  }
  return out;
}
// One record per address: a message's records are kept under one key per address (message id and
// address), so a second record of the same address is dropped as recorded before. A report may
// name an address twice (delayed and then failed in one report, the same mailbox under two
// aliases); the one that says most is kept: a hard bounce, else a failure, else the first.
std::vector<BounceRecord> oneRecordPerAddress(const std::vector<BounceRecord>& records) {
  auto weight = [](const BounceRecord& r) { return (r.hard ? 2 : 0) + (actionIsNoFailure(r) ? 0 : 1); };
  std::vector<BounceRecord> out;
  std::map<std::string, size_t> at;  // canonical address -> its record in `out`
  for (const auto& r : records) {
    const std::string address = asciiLower(canonicalAddress(r.recipient));
    const auto [it, fresh] = at.emplace(address, out.size());
    if (fresh) out.push_back(r);
    else if (weight(r) > weight(out[it->second])) out[it->second] = r;
  }
  return out;
}
}  // namespace

ImportResult recordBounces(Store& store, const BouncesConfig& config, const Classification& c,
                           const std::string& message_id, const std::string& source, const std::string& sender,
                           TimePoint at, const IncidentAlert& alert) {
  ImportResult result;
  for (const auto& r : oneRecordPerAddress(withAddressesSentTo(c.records))) {
    if (r.recipient.empty()) continue;
    // A feedback report that is no complaint (a DMARC failure report, "not-spam") is not about the lead.
    if (r.reason == "delivered" || r.reason == "vacation" || (r.reason == "feedback" && !isComplaint(r.feedback_type))) {
      ++result.ignored;
      continue;
    }
    BounceEvent e;
    // The canonical form (the domain's A-labels), as the bounce history check and the admin's
    // commands look it up: a bounce for kim@bücher.de held nobody when kept in UTF-8.
    e.address = asciiLower(canonicalAddress(r.recipient));
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
    e.answered_by = answeredBy(r.remote_host, domain);
    const bool aboutDomain = aboutTheDomain(e.reason) && e.hard && !domain.empty();
    // Counted the same way, under locks of their own (taken first): a provider's incident, at the
    // domain and at the provider that runs its mail. The provider's lock is taken whenever one is
    // known, whatever provider_incident_ratio says: instances configured apart still take the
    // same locks in the same order.
    const bool incidentKind = e.hard && e.reason == "userunknown" && !domain.empty() && config.incident_after > 0;
    const std::string provider = incidentKind ? providerOfDomain(store, domain, e.at) : std::string();
    std::vector<std::string> locks;
    if (incidentKind) locks = incidentLocks(domain, provider, e.answered_by);
    if (aboutDomain) locks.push_back("@" + domain);
    locks.push_back(e.address);
    std::optional<BounceIncident> incident;
    // Decided inside the bounce's transaction, the subjects locked: a bounce of the same address
    // (or of another address of the same dead domain) recorded at the same moment elsewhere is
    // counted, not overwritten.
    std::optional<Standing> next;
    bool domainConfirmed = false;
    auto decide = [&]() -> std::optional<Standing> {
      domainConfirmed = false;
      if (aboutDomain) {
        auto seen = store.addressesBouncedAt(domain, {"hostunknown", "notaccept"});
        if (std::find(seen.begin(), seen.end(), e.address) == seen.end()) seen.push_back(e.address);
        domainConfirmed = static_cast<int>(seen.size()) >= config.domain_after;
      }
      const std::string subject = subjectOf(e, domainConfirmed);
      const auto current = store.standing(subject);
      // A hard bounce that gives no reason (a platform's bounced flag) after one that said the
      // domain takes no mail is that bounce, seen again: no hold our DNS could not weigh.
      if (e.hard && e.reason == "undefined" && bouncedAsDeadDomain(store, e))
        return next = std::nullopt;
      if (incidentKind) {
        incident = incidentOf(store, config, e, provider, alert);
        // An address that bounced as unknown earlier in this incident, before this window, and does
        // again, is a dead mailbox after all (each costs one more bounce, docs/bounces.md): at a busy
        // domain the count can stay over the threshold for hours.
        if (incident && !unknownEarlierInIncident(store, e.address, *incident, config.incident_window))
          return next = incidentStanding(current, e, incident->addresses, incidentWhere(*incident), config);
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
    // The MX set the domain check keeps (up to a day) was read before this bounce: the next check
    // of the domain asks DNS again, so that a bounce saying it takes no mail is weighed against
    // what DNS says after it (the pipeline, DOMAIN_BOUNCED), not before.
    // The verdicts cached before it are dropped too (the address's, or the whole domain's once
    // confirmed): a clean verdict from before the bounce is no answer to it.
    if (aboutDomain) {
      store.putDomainFact(domainFactKey(domain), "mx", "", std::min(e.at, Clock::now()));
      store.forgetVerdicts(domainConfirmed ? "@" + domainFactKey(domain) : e.address);
    }
    if (next) result.changed.push_back(*next);
    if (incident) result.incidents.push_back(*incident);
  }
  return result;
}

std::vector<std::string> platformBouncedAddresses(const RecipientProfile& profile) {
  std::vector<std::string> out;
  for (const auto& a : profile.addresses)
    if (a.bounced) out.push_back(asciiLower(canonicalAddress(a.email)));
  if (profile.bounced) {
    const ProfileAddress* primary = profile.primary();
    if (!primary && profile.addresses.size() == 1) primary = &profile.addresses.front();
    if (primary && std::find(out.begin(), out.end(), asciiLower(canonicalAddress(primary->email))) == out.end())
      out.push_back(asciiLower(canonicalAddress(primary->email)));
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
