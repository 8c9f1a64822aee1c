// Sends queued notifications. Each message: record the destination ("sending"), post, record
// "sent". A message found in "sending" after a crash is first looked for at its destination, no
// sooner than the notifier's in-flight wait after this life first saw it (a post may land late). One
// whose destination cannot be found for now (Slack down while opening the rep's DM, or the
// platform down when asked who the rep is) is tried again with backoff, and after kTargetAttempts
// tries goes to the notifier's fallback, saying so.
#include <random>

#include "safetynet/app/app.hpp"
#include "safetynet/core/email_json.hpp"
#include "safetynet/core/json_util.hpp"
#include "safetynet/core/logging.hpp"
#include "safetynet/metrics/metrics.hpp"
#include "safetynet/net/http_client.hpp"

namespace safetynet {

namespace {
// Tries to find a message's own destination (the rep's DM) before its fallback (the channel) is
// taken: with the backoff below, about 3 to 5 minutes of Slack failing.
constexpr int kTargetAttempts = 6;
// A Slack post failing with an error Slack gives no word on, this many times (about 3 h of
// backoff): by email instead, rather than nothing for as long as it lasts.
constexpr int kSlackAttempts = 12;

// The row's last_error while a post of unknown outcome (attempt N) is waited for: the admins read
// why it waits, and the next life reads that the wait was begun.
std::string inFlightWaitMarker(int attempts) {
  return "waiting for post " + std::to_string(attempts) + " to land before looking for it";
}

// The rep of a held email is asked of its platform when the email is held. A platform that did
// not answer then (a 5xx, a body cut short) leaves the rep named by id only, and the DM would go
// to the channel instead: such a payload is completed by asking the platform again.
bool repUnnamed(const Services& s, const OutboxMessage& m) {
  const bool toRep = (m.kind == "slack" && s.config.notify.slack.dm_rep) ||
                     (m.kind == "email" && jsonString(m.payload, "audience") == "rep");
  if (!toRep) return false;
  const auto& rep = jsonObject(m.payload, "rep");
  return !jsonString(rep, "id").empty() && jsonString(rep, "email").empty() && jsonString(rep, "slack_username").empty();
}

// What people() needs to know of the email: its connector, id and rep (built outside the coroutine).
ScheduledEmail emailOfPayload(const nlohmann::json& payload) {
  ScheduledEmail e;
  e.connector = jsonString(payload, "connector");
  e.id = jsonString(payload, "email_id");
  e.user_id = jsonString(jsonObject(payload, "rep"), "id");
  e.user_name = jsonString(jsonObject(payload, "rep"), "name");
  return e;
}

// Asks the email's platform who the rep is; false while it cannot tell.
Task<bool> nameRep(Services& s, nlohmann::json& payload) {
  const ScheduledEmail e = emailOfPayload(payload);
  for (auto& c : s.connectors) {
    if (c->name() != e.connector) continue;
    EmailPeople people = co_await c->people(e);
    if (people.rep.email.empty() && people.rep.slack_username.empty()) co_return false;
    payload["rep"] = toJson(people.rep);
    co_return true;
  }
  co_return false;  // no such connector configured any more
}

TimePoint nextAttempt(TimePoint now, int attempts, std::optional<std::chrono::milliseconds> server) {
  static std::mt19937_64 rng{std::random_device{}()};
  RetryPolicy p;
  p.base_delay = std::chrono::seconds(5);
  p.max_delay = std::chrono::hours(1);
  auto d = server.value_or(backoffDelay(p, attempts, std::uniform_real_distribution<double>(0.5, 1.0)(rng)));
  return now + std::min<std::chrono::milliseconds>(d, kOutboxMaxRetryDelay);  // see dueOutbox
}

// The audit log of the decision a notification is about says where it went: the Slack channel or
// DM, or the email addresses (GET /api/v1/decisions/{key}, `safetynet decisions KEY`).
void noteWhereItWent(Store& store, const OutboxMessage& m, const nlohmann::json& payload, const std::string& destination,
                     const std::string& ref) {
  const std::string decision = jsonString(payload, "decision");
  if (decision.empty()) return;
  nlohmann::json detail;
  detail["kind"] = m.kind;
  detail["to"] = destination;
  detail["ref"] = ref;
  detail["notification"] = m.dedupe_key;
  if (const std::string a = jsonString(payload, "audience"); !a.empty()) detail["audience"] = a;
  if (const std::string note = jsonString(payload, "delivery_note"); !note.empty()) detail["note"] = note;
  store.audit(decision, "notified", detail);
}

// One pass over the due messages (the body of drainOutbox).
Task<void> drainDue(Services& s, Store& store, TimePoint now, OutboxStats& stats) {
  auto log = logger("outbox");
  for (auto& m : store.dueOutbox(now, 100)) {
    if (m.kind == "route") {
      const std::vector<OutboxMessage> rows = routeNotification(s, m, now);
      if (rows.empty()) {  // no notifier at all now: kept until one is configured
        store.outboxRetry(m.id, now + std::chrono::minutes(10), "no notifier is configured", "pending");
        ++stats.retried;
        continue;
      }
      std::string kinds;
      for (const auto& r : rows) kinds += (kinds.empty() ? "" : ", ") + r.kind;
      store.outboxSettle(m.id, "sent", "routed to " + kinds, rows);
      ++stats.routed;
      continue;
    }
    auto it = s.notifiers.find(m.kind);
    if (it == s.notifiers.end()) {
      // Kept pending (never dropped): configuring the notifier later delivers it.
      store.outboxRetry(m.id, now + std::chrono::minutes(10), "no " + m.kind + " notifier is configured", "pending");
      ++stats.retried;
      continue;
    }
    Notifier& n = *it->second;
    std::string error;
    bool mayHaveSent = m.state == "sending";
    // Forgotten once the row leaves "sending" (every path below but those that keep it there).
    OutboxInFlight& inFlight = s.outbox_in_flight;
    bool keptSending = false;
    bool looking = false;  // for a post of unknown outcome, its wait served
    struct Forget {
      OutboxInFlight& f;
      long long id;
      const bool& kept;
      ~Forget() {
        if (!kept) {
          f.own.erase(id);
          f.waited.erase(id);
        }
      }
    } forget{inFlight, m.id, keptSending};
    try {
      if (m.state == "sending" && !m.sent_ref.empty()) {
        const auto own = inFlight.own.find(m.id);
        const auto waited = inFlight.waited.find(m.id);
        const bool mine = own != inFlight.own.end() && own->second == m.attempts;
        // A life that has ended since (a `run --once`, a killed daemon) may have begun this wait:
        // the row says so, and being due again it has been served. Else every short life would
        // begin it again and never look.
        const std::string marker = inFlightWaitMarker(m.attempts);
        const bool servedInTheRow = m.last_error.compare(0, marker.size(), marker) == 0;
        // (A notifier with no in-flight wait, email, resends under the same Message-ID instead.)
        if (!mine && !servedInTheRow && n.inFlightWait().count() > 0 &&
            (waited == inFlight.waited.end() || waited->second != m.attempts)) {
          // Left "sending" by an earlier life or another instance: its post may have gone out
          // after the search time it stored, and may land later still. The wait is written to
          // the row (like every outbox wait), so that it leaves the batch meanwhile.
          inFlight.waited[m.id] = m.attempts;
          store.outboxRetry(m.id, std::max(now, Clock::now()) + n.inFlightWait(),
                            marker + (m.last_error.empty() ? "" : "; " + m.last_error), "sending");
          keptSending = true;
          continue;
        }
        looking = true;
        std::optional<std::string> found = co_await n.findDelivered(m.sent_ref, m.dedupe_key);
        looking = false;
        if (auto ref = found) {
          store.outboxSent(m.id, *ref);
          ++stats.recovered;
          log->info("{}: found already delivered at {} (after a restart)", m.dedupe_key, *ref);
          continue;
        }
      }
      nlohmann::json payload = m.payload;
      if (repUnnamed(s, m)) {
        const bool named = co_await nameRep(s, payload);
        if (!named && m.attempts + 1 < kTargetAttempts) {
          store.outboxUnrouted(m.id, nextAttempt(now, m.attempts + 1, std::nullopt), "the rep is not known yet");
          ++stats.retried;
          log->warn("{}: {} cannot say who the rep is for now; will retry", m.dedupe_key, jsonString(payload, "connector"));
          continue;
        }
        if (!named)  // out of tries: the channel, saying why
          payload["delivery_note"] = "Could not learn who the rep is from " + jsonString(payload, "connector") +
                                     ", so this is posted here.";
      }
      Target t = co_await n.resolveTarget(payload);
      if (t.no_user && jsonBool(payload, "then_email") && s.notifiers.count("email") &&
          !jsonString(jsonObject(payload, "rep"), "email").empty()) {
        // slack_then_email: the rep has no Slack user, so the rep gets an email instead.
        const std::vector<OutboxMessage> instead = {emailInstead(m)};
        store.outboxSettle(m.id, "sent", "no Slack user for the rep: by email instead", instead);
        ++stats.routed;
        log->info("{}: no Slack user for the rep; emailing the rep instead", m.dedupe_key);
        continue;
      }
      if (t.destination.empty() && !t.permanent && !t.fallback.empty() && m.attempts + 1 >= kTargetAttempts) {
        log->warn("{}: {} after {} tries; using {}", m.dedupe_key, t.error, m.attempts + 1, t.fallback);
        t.destination = t.fallback;
        payload["delivery_note"] = t.fallback_note;
      }
      if (t.destination.empty() && t.permanent) {
        if (auto other = otherwiseInstead(s, m, t.error)) {
          // Nowhere to send it by this notifier, ever: the other one (the channel, admin_to).
          const std::vector<OutboxMessage> instead = {*other};
          store.outboxSettle(m.id, "sent", "no " + m.kind + " destination (" + t.error + "): by " + other->kind + " instead",
                             instead);
          ++stats.routed;
          log->warn("{}: no {} destination ({}); sending it by {} instead", m.dedupe_key, m.kind, t.error, other->kind);
          continue;
        }
      }
      if (t.destination.empty()) {
        // A temporary failure counts as a try, like a failed post: the backoff grows, the budget goes.
        const TimePoint next = nextAttempt(now, m.attempts + 1, std::nullopt);
        if (t.permanent)
          store.outboxRetry(m.id, next, t.error, "dead");
        else
          store.outboxUnrouted(m.id, next, t.error);
        t.permanent ? ++stats.dead : ++stats.retried;
        metrics::instruments().notifications.with({m.kind, t.permanent ? "dead" : "retry"}).inc();
        log->warn("{}: no destination: {}", m.dedupe_key, t.error);
        continue;
      }
      // Before posting (see the file comment); a post with no answer may still land, so it is not
      // looked for (after a crash, or a timeout below) before the notifier's in-flight wait.
      // The pass may have begun long before this message (earlier messages' 429s are waited out
      // in place): reckoned from the clock now, and again from when the post returns.
      store.outboxSending(m.id, t.destination, std::max(now, Clock::now()) + n.inFlightWait());
      inFlight.own[m.id] = m.attempts + 1;  // outboxSending counted this attempt
      inFlight.waited.erase(m.id);
      mayHaveSent = true;
      DeliveryResult r = co_await n.post(t.destination, m.dedupe_key, payload);
      const TimePoint searchAfter = std::max(now, Clock::now()) + n.inFlightWait();
      if (r.delivered) {
        store.outboxSent(m.id, r.ref);
        noteWhereItWent(store, m, payload, t.destination, r.ref);
        ++stats.sent;
        metrics::instruments().notifications.with({m.kind, "sent"}).inc();
        log->info("{}: delivered to {}", m.dedupe_key, r.ref);
      } else {
        // Slack said no: nothing was posted, so the next try need not search first. A transport
        // error leaves the outcome unknown: stay "sending" and search.
        std::vector<OutboxMessage> notice;
        std::optional<OutboxMessage> instead;
        if (r.permanent_failure) {
          if (auto told = undeliveredNotice(s, m, t.destination, r.error)) notice.push_back(*told);
          // A Slack post no retry can make (an archived channel, the bot not in it, a user
          // disabled): by email instead, as when Slack has nowhere for it at all.
          if (m.kind == "slack") instead = otherwiseInstead(s, m, r.error);
        } else if (m.kind == "slack" && !r.outcome_unknown && !r.retry_after && m.attempts + 1 >= kSlackAttempts) {
          instead = otherwiseInstead(s, m, r.error);
        }
        if (instead) {
          const std::string why = r.permanent_failure ? m.kind + " refused it (" + r.error + ")"
                                                      : m.kind + " failed " + std::to_string(m.attempts + 1) + " times (" +
                                                            r.error + ")";
          const std::vector<OutboxMessage> next = {*instead};
          store.outboxSettle(m.id, "sent", why + ": by " + instead->kind + " instead", next);
          ++stats.routed;
          metrics::instruments().notifications.with({m.kind, "dead"}).inc();  // dead on this notifier
          log->warn("{}: {}; sending it by {} instead", m.dedupe_key, why, instead->kind);
          continue;
        }
        if (!notice.empty())  // given up, and the admins told, in one transaction
          store.outboxSettle(m.id, "dead", r.error, notice);
        else {
          keptSending = !r.permanent_failure && r.outcome_unknown;
          store.outboxRetry(m.id,
                            r.outcome_unknown ? std::max(nextAttempt(now, m.attempts + 1, r.retry_after), searchAfter)
                                              : nextAttempt(now, m.attempts + 1, r.retry_after),
                            r.error, r.permanent_failure ? "dead" : (r.outcome_unknown ? "sending" : "pending"));
        }
        r.permanent_failure ? ++stats.dead : ++stats.retried;
        metrics::instruments().notifications.with({m.kind, r.permanent_failure ? "dead" : "retry"}).inc();
        log->warn("{}: {} ({})", m.dedupe_key, r.error, r.permanent_failure ? "giving up" : "will retry");
      }
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (!error.empty()) {
      // Unknown outcome (transport error): stays "sending" so the next try searches first.
      const TimePoint next = nextAttempt(now, m.attempts + 1, std::nullopt);
      keptSending = mayHaveSent;
      // A look that failed still comes after a served wait: the row keeps saying so, or the next
      // short life would begin the wait again instead of looking.
      store.outboxRetry(m.id, mayHaveSent ? std::max(next, std::max(now, Clock::now()) + n.inFlightWait()) : next,
                        looking ? inFlightWaitMarker(m.attempts) + "; " + error : error, mayHaveSent ? "sending" : "pending");
      ++stats.retried;
      metrics::instruments().notifications.with({m.kind, "retry"}).inc();
      log->warn("{}: {}", m.dedupe_key, error);
    }
  }
}

}  // namespace

Task<OutboxStats> drainOutbox(Services& s, Store& store, TimePoint now) {
  OutboxStats stats;
  if (queueDigestIfDue(s, store, now)) logger("outbox")->info("the daily digest is queued");
  // Rows were routed (a "route" row split per notifier, then a Slack row of a rep Slack does not
  // know turned into an email): the rows they became go out now, not at the next tick. They were
  // written after `now` (the store's clock), so they are looked for as of the clock now.
  for (int pass = 0; pass < 3; ++pass) {
    const int routedBefore = stats.routed;
    co_await drainDue(s, store, pass == 0 ? now : std::max(now, Clock::now()), stats);
    if (stats.routed == routedBefore) break;
  }
  co_return stats;
}

}  // namespace safetynet
