#include "app/failsafe.hpp"

#include <cstdio>
#include <set>

#include "safetynet/core/concurrently.hpp"
#include "safetynet/core/logging.hpp"
#include "safetynet/core/time_format.hpp"

namespace safetynet {

namespace {

// The store keeps the fail-safe's state beside the connectors' (connector_state).
const std::string kStateOwner = "_failsafe";
const std::string kAuditKey = "failsafe";

// Signals that come from the admin's own lists or the bounce history: facts, not guesses. Not
// DOMAIN_BOUNCED: "no such domain" is what a sending side's broken resolver says of every domain.
const std::set<std::string>& certainSignals() {
  static const std::set<std::string> s = {"SUPPRESSED", "SPAMTRAP_LISTED", "COMPLAINER_LISTED", "HARD_BOUNCED",
                                          "SOFT_BOUNCE_HOLD"};
  return s;
}

std::string ratioText(int held, int decided) {
  return std::to_string(held) + " of the last " + std::to_string(decided) + " decisions";
}

std::string percent(double ratio) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", ratio * 100);
  return buf;
}

long long utcDay(TimePoint t) {
  const long long ms = toMillis(t);
  return ms >= 0 ? ms / 86400000 : (ms - 86399999) / 86400000;
}

constexpr long long kWeekDays = 7;

// The day counts' key: "days" for a store of one instance (and before instances kept their own),
// "days|NAME" for each instance sharing a database. Each writes only its own: one key for all
// would keep only the last writer's counts.
const std::string kDaysKey = "days";

bool isDaysKey(const std::string& key) { return key == kDaysKey || key.rfind(kDaysKey + "|", 0) == 0; }

// The canaries' verdict, one key per instance as the day counts ("dns_distrusted",
// "dns_distrusted|NAME"): {"why": evidence, "at": ms, "until": ms} while that instance's resolver
// is not trusted, "" when it is. Each instance applies only its own (its resolver is the one that
// lied); the status shows every instance's. An instance rewrites its distrust at every check, and
// "until" is when, without a rewrite, it stopped checking: 3 polls later, at least kDnsStale.
// Before, a shared key written by an instance that then died was applied by the others, and shown,
// for ever. A plain text value (an older version's shared key) is no instance's current view.
const std::string kDnsKey = "dns_distrusted";
constexpr std::chrono::minutes kDnsStale{10};

bool isDnsKey(const std::string& key) { return key == kDnsKey || key.rfind(kDnsKey + "|", 0) == 0; }

struct DnsView {
  std::string why;
  std::optional<TimePoint> until;  // none: written by an older version (plain text)
};

DnsView parseDnsView(const std::string& text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return {text, std::nullopt};
  DnsView v;
  v.why = j.contains("why") && j["why"].is_string() ? j["why"].get<std::string>() : "";
  if (j.contains("until") && j["until"].is_number_integer()) v.until = fromMillis(j["until"].get<long long>());
  return v;
}

std::string dnsViewText(const std::string& why, TimePoint at, std::chrono::milliseconds poll) {
  if (why.empty()) return "";
  const auto fresh = std::max<std::chrono::milliseconds>(kDnsStale, 3 * poll);
  return nlohmann::json{{"why", why}, {"at", toMillis(at)}, {"until", toMillis(at + fresh)}}.dump();
}

void parseDays(const std::string& text, std::map<long long, std::pair<long, long>>& into, bool add) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return;  // none yet, or unreadable: the trigger waits for a week of history
  for (const auto& [day, counts] : j.items()) {
    try {
      if (counts.is_array() && counts.size() == 2 && counts[0].is_number_integer() && counts[1].is_number_integer()) {
        auto& d = into[std::stoll(day)];
        const std::pair<long, long> c{counts[0].get<long>(), counts[1].get<long>()};
        d = add ? std::pair<long, long>{d.first + c.first, d.second + c.second} : c;
      }
    } catch (const std::exception&) {
      // a key that is not a day number: skipped
    }
  }
}

}  // namespace

FailsafeStatus failsafeStatus(Store& store) {
  FailsafeStatus st;
  const auto since = store.connectorState(kStateOwner, "active_since").value_or("");
  if (!since.empty()) {
    st.active = true;
    try {
      st.since = fromMillis(std::stoll(since));
    } catch (const std::exception&) {
      st.since = TimePoint{};
    }
    st.why = store.connectorState(kStateOwner, "why").value_or("");
  }
  const TimePoint now = Clock::now();
  for (const auto& [key, text] : store.connectorStates(kStateOwner)) {
    if (!isDnsKey(key)) continue;
    const DnsView v = parseDnsView(text);
    if (v.why.empty() || !v.until || *v.until < now) continue;
    if (!st.dns_evidence.empty()) st.dns_evidence += "; ";
    st.dns_evidence += key == kDnsKey ? v.why : key.substr(kDnsKey.size() + 1) + ": " + v.why;
  }
  st.dns_distrusted = !st.dns_evidence.empty();
  return st;
}

bool resumeFailsafe(Store& store, const std::string& by, TimePoint now) {
  if (!failsafeStatus(store).active) return false;
  store.audit(kAuditKey, "resumed", {{"by", by}, {"at", formatIso8601(now)}}, std::nullopt,
              Store::StateWrites{kStateOwner, {{"active_since", ""}, {"why", ""}}});
  return true;
}

bool holdIsCertain(const EmailDecision& d) {
  if (d.reason == "sender_paused" || d.sender_paused) return true;  // the mailbox's own bounce history
  for (const auto& r : d.recipients) {
    if (r.value("verdict", "") != "revert" || !r.contains("signals") || !r["signals"].is_array()) continue;
    for (const auto& sig : r["signals"])
      if (certainSignals().count(sig.value("name", ""))) return true;
  }
  return false;
}

Failsafe::Failsafe(Store& store, SteadyNow steady, std::string instance)
    : store_(store),
      steady_(std::move(steady)),
      daysKey_(instance.empty() ? kDaysKey : kDaysKey + "|" + instance),
      dnsKey_(instance.empty() ? kDnsKey : kDnsKey + "|" + instance) {
  refresh();
  loadDays();
  // What this instance told last, before a restart: announced again only when it changes.
  ownDnsEvidence_ = parseDnsView(store_.connectorState(kStateOwner, dnsKey_).value_or("")).why;
}

void Failsafe::loadDays() {
  parseDays(store_.connectorState(kStateOwner, daysKey_).value_or(""), days_, false);
  readOthers();
}

void Failsafe::readOthers() {
  others_.clear();
  for (const auto& [key, text] : store_.connectorStates(kStateOwner))
    if (isDaysKey(key) && key != daysKey_) parseDays(text, others_, true);
}

void Failsafe::saveDays() {
  if (days_dirty_) {
    // Only what the trigger reads: the week before today, and today.
    if (!days_.empty()) days_.erase(days_.begin(), days_.lower_bound(days_.rbegin()->first - kWeekDays));
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [day, counts] : days_) j[std::to_string(day)] = {counts.first, counts.second};
    store_.putConnectorState(kStateOwner, daysKey_, j.dump());
    days_dirty_ = false;
  }
  readOthers();
}

void Failsafe::letGoAtStop(TimePoint decided_at) {
  auto it = days_.find(utcDay(decided_at));
  if (it == days_.end() || it->second.second <= 0) return;
  --it->second.second;
  days_dirty_ = true;
}

std::optional<Failsafe::WeekRatio> Failsafe::trailingWeek(TimePoint now, long min_decided) const {
  const long long today = utcDay(now);
  WeekRatio w;
  for (const DayCounts* counts : {&days_, &others_})
    for (auto it = counts->lower_bound(today - kWeekDays); it != counts->end() && it->first < today; ++it) {
      w.decided += it->second.first;
      w.held += it->second.second;
    }
  if (w.decided < min_decided || w.decided == 0) return std::nullopt;
  return w;
}

void Failsafe::refresh() {
  const bool was = status_.active;
  status_ = failsafeStatus(store_);
  if (was && !status_.active) recent_.clear();  // resumed: judge afresh, not on the old window
}

void Failsafe::tell(Services& s, const std::string& event, const nlohmann::json& detail, TimePoint now,
                    std::vector<std::pair<std::string, std::string>> states) {
  std::optional<OutboxMessage> note;
  if (!s.notifiers.empty()) {
    note = outboxNote(s, "failsafe|" + event + "|" + std::to_string(toMillis(now)), detail);
    note->payload["type"] = "failsafe";
    note->payload["event"] = event;
  }
  // The state and its alert in one transaction: after a crash between two, the restarted daemon
  // would find the state already changed and never tell anyone.
  store_.audit(kAuditKey, event, detail, note, Store::StateWrites{kStateOwner, std::move(states)});
}

Task<std::string> Failsafe::checkCanaries(Services& s, TimePoint now) {
  saveDays();  // once a tick
  // All at once: a slow resolver costs one timeout, not one per canary.
  const auto& canaries = s.config.failsafe.canaries;
  std::vector<std::string> no(canaries.size());
  if (s.dns)
    co_await concurrently(canaries.size(), canaries.size(), [&](size_t i) -> Task<void> {
      const DnsAnswer a = co_await s.dns->query(canaries[i], DnsType::MX);
      // A failure to answer is not a lie: the checks already call it DNS_TEMPFAIL.
      if (a.status == DnsStatus::NxDomain) no[i] = "does not exist (NXDOMAIN)";
      if (a.status == DnsStatus::NoData) no[i] = "has no MX record";
      if (a.status == DnsStatus::Ok && (a.mx.empty() || a.mx.front().host.empty())) no[i] = "has a null MX";
    });
  std::string evidence;
  for (size_t i = 0; i < canaries.size() && evidence.empty(); ++i)
    if (!no[i].empty())
      evidence = "our resolver says canary " + canaries[i] + " " + no[i] + ": its NXDOMAIN and no-mail answers are not trusted";
  lastCanaryEvidence_ = evidence;  // applied by the caller even if recording it fails below
  if (evidence != ownDnsEvidence_) {
    if (!evidence.empty()) {
      logger("failsafe")->error("{}", evidence);
      tell(s, "dns_distrusted", {{"why", evidence}}, now, {{dnsKey_, dnsViewText(evidence, now, s.config.poll_interval)}});
    } else {
      logger("failsafe")->warn("the canaries resolve again: DNS answers are trusted");
      tell(s, "dns_trusted", {{"why", "the canary domains resolve again; DNS answers are trusted"}}, now, {{dnsKey_, ""}});
    }
  } else if (!evidence.empty()) {
    store_.putConnectorState(kStateOwner, dnsKey_, dnsViewText(evidence, now, s.config.poll_interval));  // still so
  }
  ownDnsEvidence_ = evidence;  // only once told: a failed write is tried again at the next tick
  refresh();
  co_return evidence;
}

std::optional<std::string> Failsafe::judge(Services& s, const EmailDecision& d, TimePoint now,
                                           std::optional<SteadyTime> started, std::optional<SteadyTime> oldestChecking,
                                           bool shadow) {
  const FailsafeConfig& cfg = s.config.failsafe;
  const bool holds = d.verdict == "revert" && !shadow;
  const bool guess = holds && !holdIsCertain(d);
  // The window is elapsed time: a wall clock stepped back would keep old holds in it (and trip on
  // them), one stepped forward would empty it.
  const auto elapsed = steadyNow();
  while (!recent_.empty() && recent_.front().at < elapsed - cfg.window) recent_.pop_front();
  recent_.push_back({elapsed, started.value_or(elapsed), guess});
  auto& day = days_[utcDay(now)];
  ++day.first;
  // A guess the fail-safe lets go held nothing: counted as held, an incident's broken inputs would
  // raise the trailing week's baseline (the week-factor trigger's) for the week after.
  day.second += guess && !status_.active;
  days_dirty_ = true;
  if (!guess) return std::nullopt;
  if (status_.active) return "the fail-safe is on since " + formatIso8601(status_.since) + " (" + status_.why + ")";
  // The complete cohort: begun before the oldest email still being checked (whose slower
  // siblings, mostly allows, have not answered yet), or anything older than kMaxCohortLag.
  std::optional<SteadyTime> cohortEnd;
  if (oldestChecking) cohortEnd = std::max(*oldestChecking, elapsed - kMaxCohortLag);
  int held = 0, decided = 0;
  for (const auto& r : recent_)
    if (!cohortEnd || r.started < *cohortEnd) {
      held += r.guess_hold;
      ++decided;
    }
  if (decided < cfg.min_decisions) return std::nullopt;
  std::string why;
  const double ratio = static_cast<double>(held) / decided;
  if (held > cfg.max_hold_ratio * decided) {
    why = ratioText(held, decided) + " would hold emails on checks' guesses, more than failsafe.max_hold_ratio (" +
          std::to_string(static_cast<int>(cfg.max_hold_ratio * 100)) + "%)";
  } else if (cfg.week_factor > 0 && ratio > cfg.week_min_ratio) {
    const auto week = trailingWeek(now, 20L * cfg.min_decisions);
    if (week && held * week->decided > cfg.week_factor * static_cast<double>(week->held) * decided) {
      char factor[32];
      std::snprintf(factor, sizeof factor, "%g", cfg.week_factor);
      why = ratioText(held, decided) + " (" + percent(ratio) + ") would hold emails on checks' guesses, more than " +
            "failsafe.week_factor (" + factor + ") times the trailing week's " +
            percent(static_cast<double>(week->held) / week->decided) + " (" + std::to_string(week->held) + " of " +
            std::to_string(week->decided) + ")";
    }
  }
  if (why.empty()) return std::nullopt;
  --day.second;  // the decision that trips it is let go too
  trip(s, why, now);
  return "the fail-safe tripped: " + why;
}

void Failsafe::trip(Services& s, const std::string& why, TimePoint now) {
  saveDays();
  logger("failsafe")->error("fail-safe tripped: {}; risky emails are let go until `safetynet failsafe resume`", why);
  tell(s, "tripped", {{"why", why}, {"since", formatIso8601(now)}}, now,
       {{"active_since", std::to_string(toMillis(now))}, {"why", why}});
  status_.active = true;
  status_.since = now;
  status_.why = why;
}

}  // namespace safetynet
