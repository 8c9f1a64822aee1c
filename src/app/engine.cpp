// Crash safety as before the streaming (docs/architecture.md): an email's decision is written
// before acting ("reverting"), the action is idempotent (the connector re-reads first), and the
// final state and its notification are written in one transaction. Emails left "reverting" are
// queued again by resumeReverting(), whether or not the platform still lists them.
#include "app/engine.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <iterator>

#include "bounce/history.hpp"
#include "notify/messages.hpp"
#include "safetynet/core/email_json.hpp"
#include "safetynet/core/logging.hpp"
#include "safetynet/core/text.hpp"
#include "safetynet/core/time_format.hpp"
#include "safetynet/metrics/metrics.hpp"

namespace safetynet {

namespace {

// Emails whose profiles are read at once: a platform page (100), so that Outreach's and Salesloft's
// batched reads stay one request per page.
constexpr size_t kProfileBatch = 100;

// A recipient is evaluated once per email per (address, person): the same address with another
// platform's profile is another evaluation.
std::string evaluationKey(const std::string& connector, const Recipient& r) {
  return r.profile ? r.address + "\x1f" + connector + "\x1f" + r.profile->person_id : r.address;
}

std::string domainOf(const ScheduledEmail& e) {
  if (e.recipients.empty()) return {};
  const auto& a = e.recipients.front().address;
  const auto at = a.rfind('@');
  return at == std::string::npos ? std::string() : asciiLower(a.substr(at + 1));
}

Connector* findConnector(Services& s, const std::string& name) {
  for (auto& c : s.connectors)
    if (c->name() == name) return c.get();
  return nullptr;
}

long long secondsLeft(TimePoint send, TimePoint now) {
  return std::chrono::duration_cast<std::chrono::seconds>(send - now).count();
}

nlohmann::json recipientJson(const RecipientVerdict& rv) {
  auto signals = nlohmann::json::array();
  for (const auto& sig : rv.verdict.signals)
    signals.push_back({{"name", sig.name}, {"weight", sig.weight}, {"evidence", sig.evidence}});
  return {{"address", rv.input},      {"normalized", rv.normalized}, {"verdict", rv.verdict.verdictWord()},
          {"reason", rv.verdict.reason}, {"evidence", rv.verdict.evidence}, {"signals", signals},
          {"cached", rv.cached}, {"known_revert", rv.known_revert}};
}

// The email's verdict: the first reverting recipient in reason-severity order decides, among the
// reasons carried out (`shadowed` says which are only recorded): a reason in shadow never hides
// an enforced one on another recipient, nor the sender's pause. Only when every reason is in
// shadow does the worst of them stand (the decision is then recorded as shadow).
EmailDecision decide(const ScheduledEmail& e, const std::map<std::string, RecipientVerdict>& verdicts,
                     const Policy& policy, const std::map<std::string, SenderState>& paused,
                     const std::function<bool(const std::string&)>& shadowed) {
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
  auto enforced = [&](const std::string& reason) { return !shadowed || !shadowed(reason); };
  // Worse: enforced before shadowed, then by rank.
  auto worse = [&](const std::string& a, const std::string& b) {
    if (enforced(a) != enforced(b)) return enforced(a);
    return rank(a) < rank(b);
  };
  for (const auto& r : e.recipients) {
    const auto& rv = verdicts.at(evaluationKey(e.connector, r));
    d.recipients.push_back(recipientJson(rv));
    if (rv.verdict.revert && (!worst || worse(rv.verdict.reason, worst->verdict.reason))) worst = &rv;
  }
  if (worst) {
    d.verdict = "revert";
    d.reason = worst->verdict.reason;
    d.evidence = worst->input + ": " + worst->verdict.evidence;
    d.next_step = worst->verdict.next_step;
  }
  // The sending mailbox is paused (sender protection): every email of it is held, unless a
  // recipient already holds it for a more serious reason.
  const std::string mailbox = asciiLower(e.sender);
  if (auto it = paused.find(mailbox); it != paused.end()) {
    const Verdict sv = policy.decide({Signal{"SENDER_BOUNCE_SPIKE", 0, "mailbox " + mailbox + " is paused: " + it->second.evidence}});
    d.sender_paused = sv.revert && enforced(sv.reason);
    if (sv.revert && (!worst || worse(sv.reason, d.reason))) {
      d.verdict = "revert";
      d.reason = sv.reason;
      d.evidence = sv.evidence;
      d.next_step = sv.next_step;
    }
  }
  return d;
}

}  // namespace

DecisionEngine::DecisionEngine(asio::any_io_executor ex, Store& store, int workers)
    : ex_(ex),
      store_(store),
      workers_(std::max(1, workers)),
      wake_(ex, asio::steady_timer::time_point::max()),
      actWake_(ex, asio::steady_timer::time_point::max()) {}

void DecisionEngine::push(WorkItem item) {
  const std::string key = item.resume ? item.resume->key : item.email.key();
  if (!inHand_.insert(key).second) return;
  Order order{item.email.scheduled_at, domainOf(item.email), seq_++};
  queue_.emplace(std::move(order), std::move(item));
  wakeAll();
}

void DecisionEngine::wakeAll() {
  wake_.cancel();
  actWake_.cancel();
}

// The timers never expire (set once, in the constructor): cancel() wakes every waiter. Setting the
// expiry again would itself cancel the other waiters, and they would wake each other for ever.
Task<void> DecisionEngine::waitForWork() {
  co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
}

void DecisionEngine::listingEnded() {
  --listings_;
  wakeAll();
}

void DecisionEngine::stop() {
  stopped_ = true;
  wakeAll();
}

CycleStats DecisionEngine::takeStats() {
  CycleStats out = stats_;
  stats_ = CycleStats{};
  return out;
}

Task<void> DecisionEngine::poll(std::shared_ptr<Services> s, Connector& c, TimePoint now) {
  const TimeWindow window{now, now + s->config.lookahead};
  auto sink = [this, s, &c, now](std::vector<ScheduledEmail> page) -> Task<void> {
    stats_.listed += static_cast<int>(page.size());
    std::vector<ScheduledEmail> undecided;
    for (auto& e : page) {
      skipReleasedRounds(e);
      const std::string key = e.key();
      if (inHand_.count(key)) continue;
      if (store_.findDecision(key)) {
        ++stats_.already_decided;
        continue;
      }
      undecided.push_back(std::move(e));
    }
    if (undecided.empty()) co_return;
    // What the platform knows about the people, only for emails not decided yet (API quota), in
    // batches by send time: a page of thousands (Close hands over its whole listing at once) must
    // not keep the earliest email waiting for the last one's profile.
    std::stable_sort(undecided.begin(), undecided.end(),
                     [](const ScheduledEmail& a, const ScheduledEmail& b) { return a.scheduled_at < b.scheduled_at; });
    std::set<std::string> seenPeople;
    for (size_t from = 0; from < undecided.size() && !stopped_; from += kProfileBatch) {
      const size_t to = std::min(undecided.size(), from + kProfileBatch);
      std::vector<ScheduledEmail> batch(std::make_move_iterator(undecided.begin() + from),
                                        std::make_move_iterator(undecided.begin() + to));
      co_await c.loadProfiles(batch);
      recordBounceFlags(*s, c, batch, now, seenPeople);
      for (auto& e : batch) {
        // loadProfiles may have changed the recipients (Salesloft leaves out the sender's
        // automatic BCC), and with them the key: its rounds and its decision are looked up again.
        skipReleasedRounds(e);
        if (store_.findDecision(e.key())) {
          ++stats_.already_decided;
          continue;
        }
        push(WorkItem{s, &c, std::move(e), std::nullopt});
      }
    }
  };
  co_await c.streamScheduled(window, sink);
}

// The platform's bounced flags go into the bounce history: they then hold on every platform.
void DecisionEngine::recordBounceFlags(const Services& s, Connector& c, const std::vector<ScheduledEmail>& emails,
                                       TimePoint now, std::set<std::string>& seenPeople) {
  for (const auto& e : emails)
    for (const auto& r : e.recipients)
      if (r.profile && seenPeople.insert(r.profile->person_id).second)
        for (const auto& st : bounce::recordPlatformBounceFlags(store_, s.config.bounces, c.name(), *r.profile, now).changed)
          logger("cycle")->info("{}: {} (from the platform's bounced flag)", st.subject, st.state);
}

// A held email whose release (Slack's Release and send) put it back on schedule at its own send
// time comes back with the key it was held under; that decision is settled, so the email is one
// release round further on: decided again (an override allows it, OVERRIDDEN), not skipped as
// decided. Only a release that is done counts: the platform showed the email scheduled again
// after the release, so a listing that still shows it scheduled is not a stale one.
void DecisionEngine::skipReleasedRounds(ScheduledEmail& e) {
  for (;;) {
    auto d = store_.findDecision(e.key());
    // A stop not carried out because the rep had changed the email (supersededStop): the rep may
    // have changed it back since, and this version, decided risky, must be decided again, not
    // skipped as decided. A new round, as after a release.
    if (d && supersededStop(*d)) {
      ++e.released;
      continue;
    }
    if (!d || d->state != EmailState::Reverted) return;
    auto release = store_.findAction(d->key + "|release");
    if (!release || release->state != "done") return;
    ++e.released;
  }
}

bool DecisionEngine::busyWith(const std::string& connector) const {
  const std::string prefix = connector + "|";  // ScheduledEmail::key(): connector|id|...
  auto it = inHand_.lower_bound(prefix);
  return it != inHand_.end() && it->rfind(prefix, 0) == 0;
}

void DecisionEngine::resumeReverting(const std::shared_ptr<Services>& s,
                                     const std::function<bool(const std::string&)>& mine,
                                     const std::function<bool(const std::string&)>& maySettleOrphan) {
  const TimePoint now = Clock::now();
  for (auto& d : store_.decisionsInState(EmailState::Reverting)) {
    if (inHand_.count(d.key)) continue;
    Connector* c = findConnector(*s, d.connector);
    if (!c) {
      // Its connector was removed from the configuration while the stop was pending: left
      // "reverting", nobody was ever told it went out.
      if (d.scheduled_at + kOrphanGrace < now && (!maySettleOrphan || maySettleOrphan(d.connector))) {
        try {
          settleOrphan(*s, d);
        } catch (const StoreFullError&) {
          throw;
        } catch (const std::exception& ex) {  // one email's trouble does not stop the others' resumption
          logger("engine")->error("email {} of removed connector {}: {}", d.email_id, d.connector, ex.what());
        }
      }
      continue;
    }
    if (mine && !mine(d.connector)) continue;
    ScheduledEmail e = emailFromJson(d.email);
    push(WorkItem{s, c, std::move(e), std::move(d)});
  }
}

void DecisionEngine::settleOrphan(Services& s, const EmailDecision& d) {
  const ScheduledEmail e = emailFromJson(d.email);
  const std::string detail = "not stopped: its connector " + d.connector +
                             " was removed from the configuration before the stop was carried out; its send time (" +
                             formatIso8601(d.scheduled_at) + ") has passed";
  // No connector to name the rep: the notification goes where an unknown rep's goes (the admins).
  OutboxMessage note = outboxNote(s, "notify|" + d.key, notificationPayload(d, e, EmailPeople{}, *s.policy, false, detail));
  if (!store_.transition(d.key, EmailState::RevertFailed, detail, d.attempts, note)) return;
  ++stats_.revert_failed;
  metrics::instruments().reverts.with({d.connector, "failed"}).inc();
  logger("engine")->error("email {} of removed connector {} could NOT be stopped: {}", e.id, d.connector, detail);
}

Task<void> DecisionEngine::run(bool untilIdle) {
  using Op = decltype(asio::co_spawn(ex_, worker(untilIdle), asio::deferred));
  std::vector<Op> ops;
  for (int i = 0; i < workers_; ++i) ops.push_back(asio::co_spawn(ex_, worker(untilIdle), asio::deferred));
  for (int i = 0; i < kActWorkers; ++i) ops.push_back(asio::co_spawn(ex_, actWorker(untilIdle), asio::deferred));
  auto [order, errors] = co_await asio::experimental::make_parallel_group(std::move(ops))
                             .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

void DecisionEngine::markStoreFull(const std::string& why) {
  if (storeFull_.empty())
    logger("cycle")->error("{}: not acting on any email until there is room (every step must be recorded first)", why);
  storeFull_ = why;
}

void DecisionEngine::storeHasRoom() {
  if (storeFull_.empty()) return;
  storeFull_.clear();
  logger("cycle")->warn("the state directory has room again: acting on emails again");
  wakeAll();
}

Task<void> DecisionEngine::worker(bool untilIdle) {
  while (!stopped_) {
    if (!storeFull_.empty()) {
      if (untilIdle) co_return;  // a once-run ends; what is left is listed again next time
      co_await waitForWork();
      continue;
    }
    if (queue_.empty()) {
      // Idle only when the stops are done too: a stop may hand back an email to decide again.
      if (untilIdle && idle()) {
        wakeAll();  // the others see it too
        co_return;
      }
      co_await waitForWork();
      continue;
    }
    auto node = queue_.extract(queue_.begin());
    WorkItem& item = node.mapped();
    const std::string key = item.resume ? item.resume->key : item.email.key();
    ++busy_;
    std::string failure, full;
    try {
      co_await process(item);
    } catch (const StoreFullError& e) {
      full = e.what();
    } catch (const std::exception& e) {
      failure = e.what();
    }
    --busy_;
    if (!item.handed_over) inHand_.erase(key);  // else when its stop is done
    if (!full.empty()) markStoreFull(full);
    // A failed email is not lost: decided ones are resumed from the store ("reverting"), the rest
    // are listed again by the next poll.
    if (!failure.empty()) logger("cycle")->error("email {}: {}", item.email.id, failure);
    wakeAll();
  }
}

Task<void> DecisionEngine::process(WorkItem& item) {
  if (item.resume) {
    ++stats_.resumed;
    handOver(item, *item.resume);
    co_return;
  }
  if (item.needs_profiles) {  // not from a listing: what the platform knows about the people
    std::vector<ScheduledEmail> one;
    one.push_back(std::move(item.email));
    co_await item.connector->loadProfiles(one);
    std::set<std::string> seenPeople;
    recordBounceFlags(*item.services, *item.connector, one, Clock::now(), seenPeople);
    item.email = std::move(one.front());
    item.needs_profiles = false;
    // Its release round as a listing would give it: a version decided before and superseded (the
    // rep restored it) is decided again.
    skipReleasedRounds(item.email);
  }
  if (store_.findDecision(item.email.key())) {  // decided since it was queued
    ++stats_.already_decided;
    co_return;
  }
  co_await decideAndAct(item);
}

Task<void> DecisionEngine::decideAndAct(WorkItem& item) {
  Services& s = *item.services;
  Connector& c = *item.connector;
  const ScheduledEmail& e = item.email;
  const Config& cfg = s.config;
  // Network checks must answer before the email must be acted on.
  const std::optional<TimePoint> deadline = e.scheduled_at - cfg.act_margin;
  std::map<std::string, RecipientVerdict> verdicts;
  // The fail-safe judges its hold ratio on complete cohorts: it is told when each email's checks
  // began and when the oldest still running began.
  const auto started = failsafe_ ? failsafe_->steadyNow() : std::chrono::steady_clock::now();
  {
    struct Checking {
      std::multiset<std::chrono::steady_clock::time_point>& set;
      std::multiset<std::chrono::steady_clock::time_point>::iterator it;
      ~Checking() { set.erase(it); }
    } checking{checking_, checking_.insert(started)};
    for (const auto& r : e.recipients) {
      const std::string k = evaluationKey(e.connector, r);
      if (verdicts.count(k)) continue;
      verdicts.emplace(k, co_await s.pipeline->evaluate(r.address, false, deadline, r.profile));
    }
  }
  EmailDecision d = decide(e, verdicts, *s.policy, paused_,
                           [&](const std::string& reason) { return shadowSetting(s.config, c.name(), reason).has_value(); });
  const TimePoint now = Clock::now();
  d.margin = std::chrono::duration_cast<std::chrono::milliseconds>(e.scheduled_at - now);
  metrics::Instruments& m = metrics::instruments();
  // Counted once recorded: another instance sharing the database may have decided it first (the
  // metric then counted it twice across the instances).
  auto record = [&](const std::optional<OutboxMessage>& note = std::nullopt) {
    if (!store_.recordDecision(d, note)) return false;
    m.emails_decided.with({c.name(), d.verdict, d.reason.empty() ? "none" : d.reason}).inc();
    return true;
  };
  m.decision_margin.with({c.name()}).observe(std::chrono::duration<double>(*d.margin).count());
  std::optional<std::chrono::steady_clock::time_point> oldestChecking;
  if (!checking_.empty()) oldestChecking = *checking_.begin();
  // Shadow mode (a trial run, or a reason or platform being rolled out): the decision is recorded
  // as it would be carried out, and nothing more: no platform call, no rep or admin told. It
  // holds nothing, so the fail-safe counts it as decided, not held: a reason in shadow must not
  // trip it and let the enforced holds go.
  const std::optional<std::string> shadow =
      d.verdict == "revert" ? shadowSetting(cfg, c.name(), d.reason) : std::nullopt;
  if (failsafe_)
    if (auto why = failsafe_->judge(s, d, now, started, oldestChecking, shadow.has_value())) {
      // Our own inputs look broken: a hold on a guess is let go, and recorded as such.
      d.failsafe = *why;
      d.state = EmailState::Allowed;
      d.detail = "would hold (" + d.reason + "), let go by the fail-safe: " + *why;
      ++stats_.decided;
      ++stats_.allowed;
      ++stats_.let_go;
      m.failsafe_let_go.with({c.name()}).inc();
      if (!record()) co_return alreadyDecided();
      logger(c.name())->warn("email {}: {}", e.id, d.detail);
      co_return;
    }
  // Too late only when less than act_margin is left now, at the moment it could be acted on.
  const bool tooLate = e.scheduled_at - now < cfg.act_margin;
  const std::string left = std::to_string(secondsLeft(e.scheduled_at, now)) + " s";
  // Too close to the send to check properly: act only on what was already known (cached or
  // offline knowledge such as the admin's lists), else record it and let it go.
  bool knownBefore = d.reason == "sender_paused" || d.sender_paused;  // the mailbox's history, not a check
  for (const auto& r : d.recipients)
    if (r.value("known_revert", false)) knownBefore = true;
  ++stats_.decided;
  if (tooLate) {
    ++stats_.too_late;
    m.too_late.with({c.name(), d.reason.empty() ? "none" : d.reason}).inc();
  }
  if (d.verdict != "revert") {
    d.state = tooLate ? EmailState::TooLate : EmailState::Allowed;
    if (tooLate) d.detail = "decided " + left + " before its send, less than act_margin: checks may have been cut short";
    if (!tooLate) ++stats_.allowed;
    if (!record()) co_return alreadyDecided();
    co_return;
  }
  if (tooLate && !knownBefore) {  // too late whatever the mode: enforcing would not stop it either
    d.state = EmailState::TooLate;
    m.reverts.with({c.name(), "too_late"}).inc();
    d.detail = "risky, but decided " + left + " before its send, less than act_margin (" +
               std::to_string(std::chrono::duration_cast<std::chrono::seconds>(cfg.act_margin).count()) +
               " s): not stopped" + (shadow ? " (" + *shadow + " is shadow: nobody told)" : std::string());
    std::optional<OutboxMessage> note;
    if (!s.notifiers.empty() && !shadow)
      note = outboxNote(s, "too_late|" + d.key, tooLatePayload(d, e, *s.policy, d.detail));
    if (!record(note)) co_return alreadyDecided();
    logger(c.name())->warn("email {} is risky ({}) but was decided too late to stop: {}", e.id, d.reason, d.detail);
    co_return;
  }
  if (shadow) {
    d.state = EmailState::Shadow;
    d.detail = "would be held (" + d.reason + "), " + left + " before its send; not stopped and nobody told: " +
               *shadow + " is shadow";
    ++stats_.shadowed;
    m.reverts.with({c.name(), "shadow"}).inc();
    if (!record()) co_return alreadyDecided();
    logger(c.name())->info("email {}: {}", e.id, d.detail);
    co_return;
  }
  if (tooLate) d.detail = "decided " + left + " before its send: stopped on what was already known";
  d.state = EmailState::Reverting;
  if (!record()) co_return alreadyDecided();  // written before acting
  handOver(item, d);
}

void DecisionEngine::handOver(WorkItem& item, const EmailDecision& d) {
  Order order{item.email.scheduled_at, domainOf(item.email), seq_++};
  acts_.emplace(std::move(order), ActItem{item.services, item.connector, item.email, d});
  item.handed_over = true;
  actWake_.cancel();
}

// Takes the earliest stop whose connector has a free act slot. A stop that fails is not lost: it
// stays "reverting" in the store and is resumed (resumeReverting).
Task<void> DecisionEngine::actWorker(bool untilIdle) {
  while (!stopped_) {
    if (!storeFull_.empty()) {
      if (untilIdle) co_return;  // a once-run ends; the stops left are "reverting" in the store
      co_await actWake_.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    const TimePoint now = Clock::now();
    auto it = acts_.begin();
    for (; it != acts_.end(); ++it) {
      const std::string& name = it->second.connector->name();
      const bool later = it->second.email.scheduled_at - now > kActUrgentWithin;
      if (acting_[name] < kActsPerConnector && actWorkersOf_[name] < kActWorkersPerConnector &&
          (!later || actingLater_[name] < kLaterActsPerConnector))
        break;
    }
    if (it == acts_.end()) {
      if (untilIdle && idle()) {
        wakeAll();  // the others see it too
        co_return;
      }
      co_await actWake_.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    ActItem a = std::move(it->second);
    acts_.erase(it);
    const std::string name = a.connector->name();
    const bool later = a.email.scheduled_at - now > kActUrgentWithin;
    if (later) ++actingLater_[name];
    ++actWorkersOf_[name];
    ++actsBusy_;
    std::string failure, full;
    std::optional<ScheduledEmail> again;
    try {
      again = co_await act(*a.services, *a.connector, a.email, a.decision);
    } catch (const StoreFullError& e) {
      full = e.what();
    } catch (const std::exception& e) {
      failure = e.what();
    }
    --actWorkersOf_[name];
    if (later) --actingLater_[name];
    // Moved beyond the lookahead: decided when a listing brings it into the window (the connector
    // tracks the new version), on the checks' answers of then.
    if (again && again->scheduled_at > Clock::now() + a.services->config.lookahead) again.reset();
    if (again && !stopped_) {
      // The rep's new version, decided now rather than at the next listing (its send may be near).
      // A decide worker reads its profiles and its release round (process()): a platform's slow
      // profile reads must not hold the act workers, nor a store error end one.
      WorkItem item;
      item.services = a.services;
      item.connector = a.connector;
      item.email = std::move(*again);
      item.email.released = 0;
      item.needs_profiles = true;
      push(std::move(item));
    }
    --actsBusy_;
    inHand_.erase(a.decision.key);
    if (!full.empty()) markStoreFull(full);
    if (!failure.empty()) logger("cycle")->error("email {}: {}", a.email.id, failure);
    wakeAll();
  }
}

Task<void> DecisionEngine::acquireActSlot(const std::string& connector) {
  while (acting_[connector] >= kActsPerConnector && !stopped_) {
    co_await actWake_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  ++acting_[connector];
}

void DecisionEngine::releaseActSlot(const std::string& connector) {
  --acting_[connector];
  actWake_.cancel();
}

// Stops the email and records the outcome with its notification in one transaction.
Task<std::optional<ScheduledEmail>> DecisionEngine::act(Services& s, Connector& c, const ScheduledEmail& e,
                                                        const EmailDecision& d) {
  auto log = logger(c.name());
  const int attempts = d.attempts + 1;
  RevertResult r;
  bool failed = false;
  co_await acquireActSlot(c.name());
  ActSlot slot(*this, c.name());
  // Still to stop? Queued a while ago, it may have been stopped or released since (several
  // instances on one database: the one that took this connector over resumed it too).
  const auto current = store_.findDecision(d.key);
  if (!current || current->state != EmailState::Reverting) {
    slot.release();
    log->info("email {}: no longer to stop here ({})", e.id, current ? toString(current->state) : std::string("no decision"));
    co_return std::nullopt;
  }
  // Judged again at the moment of the stop (queued behind a bulk's others, or resumed after a
  // restart): the fail-safe may have tripped since (our own inputs broke), or an admin may have
  // put this reason or connector in shadow (SIGHUP). Neither touches the platform. Nor does an
  // email the rep changed since (its recipients or send time): it was decided again under its new
  // key, and that decision, not this one, says whether to stop it (the revert works by email id).
  std::string instead;
  EmailState insteadState = EmailState::Allowed;
  bool letGoByFailsafe = false;
  if (auto latest = store_.latestDecisionOf(d.connector, d.email_id);
      latest && latest->key != d.key && latest->decided_at > current->decided_at) {
    instead = kChangedSinceDecided + std::string(c.type()) + " since it was decided (recipients or send time): decided again (" +
              latest->verdict + (latest->reason.empty() ? "" : ", " + latest->reason) + "); not stopped for the old version";
  } else if (failsafe_ && failsafe_->active() && !holdIsCertain(d)) {
    letGoByFailsafe = true;
    instead = "would hold (" + d.reason + "), let go by the fail-safe before its stop: " + failsafe_->status().why;
  } else if (auto sh = shadowSetting(s.config, c.name(), d.reason)) {
    insteadState = EmailState::Shadow;
    instead = "would be held (" + d.reason + "); not stopped and nobody told: " + *sh + " is shadow since it was decided";
  }
  if (!instead.empty()) {
    slot.release();
    if (!store_.transition(d.key, insteadState, instead, d.attempts, std::nullopt)) {
      log->info("email {}: settled elsewhere meanwhile", e.id);
      co_return std::nullopt;
    }
    insteadState == EmailState::Shadow ? ++stats_.shadowed : ++stats_.let_go;
    if (letGoByFailsafe) failsafe_->letGoAtStop(current->decided_at);
    log->warn("email {}: {}", e.id, instead);
    co_return std::nullopt;
  }
  try {
    r = co_await c.revert(e);
  } catch (const std::exception& ex) {
    r.detail = ex.what();
    failed = true;
  }
  slot.release();  // the platform write is done: its next stop may begin
  if (r.changed && r.current) {
    // The rep changed its recipients or send time since the decision, and no listing has shown it
    // yet: this stop would act on a version nobody checked. Not stopped, nobody told; the new
    // version is decided now (its own stop, if any, reads the platform again).
    ScheduledEmail current = std::move(*r.current);
    const std::string why = kChangedSinceDecided + std::string(c.type()) +
                            " since it was decided (recipients or send time): not stopped; its new version is decided again";
    if (!store_.transition(d.key, EmailState::Allowed, why, d.attempts, std::nullopt)) {
      log->info("email {}: settled elsewhere meanwhile", e.id);
      co_return std::nullopt;
    }
    ++stats_.changed;
    metrics::instruments().reverts.with({c.name(), "changed"}).inc();
    log->warn("email {}: {}", e.id, why);
    co_return current;
  }
  const TimePoint now = Clock::now();
  // A platform that did not answer clearly (a 5xx, a reset, a body cut short) is tried again at
  // the next tick while the send is still ahead. Three tries gave up within 3 s of a platform's
  // glitch with minutes to go (the fault suite, seed 5: three truncated answers in a row).
  const bool retryLater = !r.confirmed && failed && attempts < kMaxRevertAttempts && e.scheduled_at > now;
  // Another instance sharing the database may have settled it meanwhile (it took this connector
  // over): the store moves only an email still reverting, so a late failure here undoes nothing.
  if (retryLater) {
    if (!store_.transition(d.key, EmailState::Reverting,
                           "attempt " + std::to_string(attempts) + " failed: " + r.detail, attempts, std::nullopt)) {
      log->info("email {}: settled elsewhere meanwhile ({})", e.id, r.detail);
      co_return std::nullopt;
    }
    log->warn("email {} not stopped yet (attempt {}): {}", e.id, attempts, r.detail);
    metrics::instruments().revert_retries.with({c.name()}).inc();
    co_return std::nullopt;
  }
  if (r.confirmed) r.detail += " (" + std::to_string(secondsLeft(e.scheduled_at, now)) + " s before its send)";
  // The names for the notification come from the same platform, often a request each (a user
  // or contact not seen yet). The worker stays this platform's meanwhile: at most
  // kActWorkersPerConnector of them, so the other platforms' stops keep theirs.
  EmailPeople people = co_await c.people(e);
  OutboxMessage note = outboxNote(s, "notify|" + d.key, notificationPayload(d, e, people, *s.policy, r.confirmed, r.detail));
  if (r.confirmed) {
    // Held as `unknown`: its inconclusive recipients are checked again after recheck_after.
    std::vector<Recheck> rechecks;
    if (d.reason == "unknown")
      for (const auto& rcpt : d.recipients)
        if (rcpt.value("reason", "") == "unknown")
          rechecks.push_back(Recheck{rcpt.value("address", ""), d.key, now + s.config.recheck_after, 0, note.payload});
    if (!store_.transition(d.key, EmailState::Reverted, r.detail, attempts, note, rechecks)) {
      log->info("email {}: stopped, and settled elsewhere meanwhile", e.id);
      co_return std::nullopt;
    }
    ++stats_.reverted;
    metrics::instruments().reverts.with({c.name(), "confirmed"}).inc();
    log->info("email {} held: {} ({})", e.id, d.reason, d.evidence);  // the evidence names the recipient
  } else {
    if (!store_.transition(d.key, EmailState::RevertFailed, r.detail, attempts, note)) {
      log->info("email {}: not stopped here ({}), settled elsewhere meanwhile", e.id, r.detail);
      co_return std::nullopt;
    }
    ++stats_.revert_failed;
    metrics::instruments().reverts.with({c.name(), "failed"}).inc();
    log->error("email {} could NOT be stopped: {}", e.id, r.detail);
  }
  co_return std::nullopt;
}

}  // namespace safetynet
