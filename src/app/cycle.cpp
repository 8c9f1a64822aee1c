// One poll cycle (notes/product.md, main loop steps 1-7). Crash safety: every email's decision is
// written before acting ("reverting"), the action is idempotent (the connector re-reads first), and
// the final state and its notification are written in one transaction. Emails left "reverting" by
// a crash are resumed from the store, whether or not the platform still lists them.
#include <algorithm>
#include <set>

#include "bounce/history.hpp"
#include "notify/messages.hpp"
#include "safetynet/app/app.hpp"
#include "safetynet/core/email_json.hpp"
#include "safetynet/core/logging.hpp"
#include "safetynet/core/time_format.hpp"

namespace safetynet {

std::string CycleStats::summary() const {
  return std::to_string(listed) + " scheduled, " + std::to_string(decided) + " decided (" + std::to_string(reverted) +
         " held, " + std::to_string(allowed) + " allowed, " + std::to_string(too_late) + " too late, " +
         std::to_string(revert_failed) + " could not be stopped), " + std::to_string(connector_errors) +
         " connector errors";
}

namespace {

constexpr int kMaxRevertAttempts = 3;

// A recipient is evaluated once per cycle per (address, person): the same address with another
// platform's profile is another evaluation.
std::string evaluationKey(const std::string& connector, const Recipient& r) {
  return r.profile ? r.address + "\x1f" + connector + "\x1f" + r.profile->person_id : r.address;
}

Connector* findConnector(Services& s, const std::string& name) {
  for (auto& c : s.connectors)
    if (c->name() == name) return c.get();
  return nullptr;
}

nlohmann::json recipientJson(const RecipientVerdict& rv) {
  auto signals = nlohmann::json::array();
  for (const auto& sig : rv.verdict.signals)
    signals.push_back({{"name", sig.name}, {"weight", sig.weight}, {"evidence", sig.evidence}});
  return {{"address", rv.input},      {"normalized", rv.normalized}, {"verdict", rv.verdict.verdictWord()},
          {"reason", rv.verdict.reason}, {"evidence", rv.verdict.evidence}, {"signals", signals},
          {"cached", rv.cached}, {"known_revert", rv.known_revert}};
}

// The email's verdict: the first reverting recipient in reason-severity order decides.
EmailDecision decide(const ScheduledEmail& e, const std::map<std::string, RecipientVerdict>& verdicts,
                     const Policy& policy, const std::map<std::string, SenderState>& paused) {
  EmailDecision d;
  d.key = e.key();
  d.connector = e.connector;
  d.email_id = e.id;
  d.scheduled_at = e.scheduled_at;
  d.subject = e.subject;
  d.sender = e.sender;
  d.email = toJson(e);
  d.verdict = "allow";
  const RecipientVerdict* worst = nullptr;
  auto rank = [&](const std::string& reason) {
    const auto& rs = policy.reasons();
    for (size_t i = 0; i < rs.size(); ++i)
      if (rs[i].code == reason) return i;
    return rs.size();
  };
  for (const auto& r : e.recipients) {
    const auto& rv = verdicts.at(evaluationKey(e.connector, r));
    d.recipients.push_back(recipientJson(rv));
    if (rv.verdict.revert && (!worst || rank(rv.verdict.reason) < rank(worst->verdict.reason))) worst = &rv;
  }
  if (worst) {
    d.verdict = "revert";
    d.reason = worst->verdict.reason;
    d.evidence = worst->input + ": " + worst->verdict.evidence;
    d.next_step = worst->verdict.next_step;
  }
  // The sending mailbox is paused (sender protection): every email of it is held, unless a
  // recipient already holds it for a more serious reason.
  std::string mailbox = e.sender;
  std::transform(mailbox.begin(), mailbox.end(), mailbox.begin(), [](unsigned char c) { return std::tolower(c); });
  if (auto it = paused.find(mailbox); it != paused.end()) {
    const Verdict sv = policy.decide({Signal{"SENDER_BOUNCE_SPIKE", 0, "mailbox " + mailbox + " is paused: " + it->second.evidence}});
    if (sv.revert && (!worst || rank(sv.reason) < rank(d.reason))) {
      d.verdict = "revert";
      d.reason = sv.reason;
      d.evidence = sv.evidence;
      d.next_step = sv.next_step;
    }
  }
  return d;
}

// Stops the email and records the outcome with its notification in one transaction.
Task<void> act(Services& s, Store& store, Connector& c, const ScheduledEmail& e, const EmailDecision& d,
               CycleStats& stats) {
  auto log = logger(c.name());
  const int attempts = d.attempts + 1;
  RevertResult r;
  bool failed = false;
  try {
    r = co_await c.revert(e);
  } catch (const std::exception& ex) {
    r.detail = ex.what();
    failed = true;
  }
  const bool retryLater = !r.confirmed && failed && attempts < kMaxRevertAttempts && e.scheduled_at > Clock::now();
  if (retryLater) {
    store.transition(d.key, EmailState::Reverting, "attempt " + std::to_string(attempts) + " failed: " + r.detail,
                     attempts, std::nullopt);
    log->warn("email {} not stopped yet (attempt {}): {}", e.id, attempts, r.detail);
    co_return;
  }
  EmailPeople people = co_await c.people(e);
  OutboxMessage note;
  note.dedupe_key = "notify|" + d.key;
  note.kind = "slack";
  note.payload = notificationPayload(d, e, people, *s.policy, r.confirmed, r.detail);
  if (r.confirmed) {
    // Held as `unknown`: its inconclusive recipients are checked again after recheck_after.
    std::vector<Recheck> rechecks;
    if (d.reason == "unknown")
      for (const auto& rcpt : d.recipients)
        if (rcpt.value("reason", "") == "unknown")
          rechecks.push_back(Recheck{rcpt.value("address", ""), d.key, Clock::now() + s.config.recheck_after, 0,
                                     note.payload});
    store.transition(d.key, EmailState::Reverted, r.detail, attempts, note, rechecks);
    ++stats.reverted;
    log->info("email {} held: {} ({})", e.id, d.reason, d.evidence);  // the evidence names the recipient
  } else {
    store.transition(d.key, EmailState::RevertFailed, r.detail, attempts, note);
    ++stats.revert_failed;
    log->error("email {} could NOT be stopped: {}", e.id, r.detail);
  }
}

}  // namespace

Task<CycleStats> runCycle(Services& s, Store& store, TimePoint now) {
  CycleStats stats;
  const Config& cfg = s.config;
  const TimeWindow window{now, now + cfg.lookahead};

  // 1. Resume what a crash interrupted.
  for (const auto& d : store.decisionsInState(EmailState::Reverting)) {
    Connector* c = findConnector(s, d.connector);
    if (!c) continue;
    ++stats.resumed;
    co_await act(s, store, *c, emailFromJson(d.email), d, stats);
  }

  // 2. Sender protection: which sending mailboxes are paused now.
  std::map<std::string, SenderState> paused;
  {
    std::string error;
    try {
      paused = co_await guardSenders(s, store, now);
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (!error.empty()) logger("senders")->error("sender protection failed this cycle: {}", error);
  }

  // 3. List, skip what is decided, evaluate every new recipient at once (bounded parallelism).
  std::vector<std::pair<Connector*, ScheduledEmail>> fresh;
  for (auto& c : s.connectors) {
    std::vector<ScheduledEmail> emails;
    std::string error;
    try {
      emails = co_await c->listScheduled(window);
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (!error.empty()) {
      ++stats.connector_errors;
      logger(c->name())->error("listing scheduled emails failed: {}", error);
      continue;
    }
    stats.listed += static_cast<int>(emails.size());
    std::vector<ScheduledEmail> undecided;
    for (auto& e : emails) {
      if (store.findDecision(e.key())) {
        ++stats.already_decided;
        continue;
      }
      undecided.push_back(std::move(e));
    }
    // What the platform knows about the people: only for emails not decided yet (API quota).
    if (!undecided.empty()) co_await c->loadProfiles(undecided);
    // The platform's bounced flags go into the bounce history: they then hold on every platform.
    std::set<std::string> seenPeople;
    for (const auto& e : undecided)
      for (const auto& r : e.recipients)
        if (r.profile && seenPeople.insert(r.profile->person_id).second)
          for (const auto& st : bounce::recordPlatformBounceFlags(store, s.config.bounces, c->name(), *r.profile, now).changed)
            logger("cycle")->info("{}: {} (from the platform's bounced flag)", st.subject, st.state);
    for (auto& e : undecided) fresh.emplace_back(c.get(), std::move(e));
  }
  std::sort(fresh.begin(), fresh.end(),
            [](const auto& a, const auto& b) { return a.second.scheduled_at < b.second.scheduled_at; });
  // Each answer must come before the earliest send to that recipient, less the time to stop it.
  constexpr auto kTimeToAct = std::chrono::seconds(60);
  std::vector<std::string> addresses;
  std::vector<std::optional<TimePoint>> deadlines;
  std::vector<ProfilePtr> profiles;
  std::vector<std::string> keys;
  std::set<std::string> unique;
  for (const auto& [c, e] : fresh)  // earliest first: the first deadline seen is the earliest
    for (const auto& r : e.recipients)
      if (unique.insert(evaluationKey(e.connector, r)).second) {
        keys.push_back(evaluationKey(e.connector, r));
        addresses.push_back(r.address);
        deadlines.push_back(e.scheduled_at - kTimeToAct);
        profiles.push_back(r.profile);
      }
  auto results = co_await s.pipeline->evaluateAll(addresses, deadlines, profiles);
  std::map<std::string, RecipientVerdict> verdicts;
  for (size_t i = 0; i < results.size(); ++i) verdicts.emplace(keys[i], std::move(results[i]));

  // 4. Decide and act, earliest send first.
  for (const auto& [c, e] : fresh) {
    EmailDecision d = decide(e, verdicts, *s.policy, paused);
    const bool tooLate = e.scheduled_at < Clock::now() + cfg.min_lead_time;
    // Too close to the send to check properly: act only on what was already known (cached or
    // offline knowledge such as the admin's lists), else record it and let it go.
    bool knownBefore = false;
    for (const auto& r : d.recipients)
      if (r.value("known_revert", false)) knownBefore = true;
    if (d.reason == "sender_paused") knownBefore = true;  // known from the mailbox's history, not a check
    ++stats.decided;
    if (d.verdict != "revert") {
      d.state = tooLate ? EmailState::TooLate : EmailState::Allowed;
      tooLate ? ++stats.too_late : ++stats.allowed;
      store.recordDecision(d);
      continue;
    }
    if (tooLate && !knownBefore) {
      d.state = EmailState::TooLate;
      d.detail = "first seen less than min_lead_time before its send: not stopped";
      ++stats.too_late;
      store.recordDecision(d);
      logger(c->name())->warn("email {} is risky ({}) but was first seen too late to check", e.id, d.reason);
      continue;
    }
    d.state = EmailState::Reverting;
    store.recordDecision(d);  // written before acting
    co_await act(s, store, *c, e, d, stats);
  }
  co_return stats;
}

}  // namespace safetynet
