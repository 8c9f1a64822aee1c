// Sends queued notifications. Each message: record the destination ("sending"), post, record
// "sent". A message found in "sending" after a crash is first looked for at its destination.
#include <random>

#include "safetynet/app/app.hpp"
#include "safetynet/core/logging.hpp"
#include "safetynet/net/http_client.hpp"

namespace safetynet {

namespace {
TimePoint nextAttempt(TimePoint now, int attempts, std::optional<std::chrono::milliseconds> server) {
  static std::mt19937_64 rng{std::random_device{}()};
  RetryPolicy p;
  p.base_delay = std::chrono::seconds(5);
  p.max_delay = std::chrono::hours(1);
  auto d = server.value_or(backoffDelay(p, attempts, std::uniform_real_distribution<double>(0.5, 1.0)(rng)));
  return now + d;
}
}  // namespace

Task<OutboxStats> drainOutbox(Services& s, Store& store, TimePoint now) {
  OutboxStats stats;
  auto log = logger("outbox");
  for (auto& m : store.dueOutbox(now, 100)) {
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
    try {
      if (m.state == "sending" && !m.sent_ref.empty()) {
        if (auto ref = co_await n.findDelivered(m.sent_ref, m.dedupe_key)) {
          store.outboxSent(m.id, *ref);
          ++stats.recovered;
          log->info("{}: found already delivered at {} (after a restart)", m.dedupe_key, *ref);
          continue;
        }
      }
      Target t = co_await n.resolveTarget(m.payload);
      if (t.destination.empty()) {
        store.outboxRetry(m.id, nextAttempt(now, m.attempts, std::nullopt), t.error, t.permanent ? "dead" : "pending");
        t.permanent ? ++stats.dead : ++stats.retried;
        log->warn("{}: no destination: {}", m.dedupe_key, t.error);
        continue;
      }
      store.outboxSending(m.id, t.destination);  // before posting: see the file comment
      mayHaveSent = true;
      DeliveryResult r = co_await n.post(t.destination, m.dedupe_key, m.payload);
      if (r.delivered) {
        store.outboxSent(m.id, r.ref);
        ++stats.sent;
        log->info("{}: delivered to {}", m.dedupe_key, r.ref);
      } else {
        // Slack said no: nothing was posted, so the next try need not search first. A transport
        // error leaves the outcome unknown: stay "sending" and search.
        store.outboxRetry(m.id, nextAttempt(now, m.attempts + 1, r.retry_after), r.error,
                          r.permanent_failure ? "dead" : (r.outcome_unknown ? "sending" : "pending"));
        r.permanent_failure ? ++stats.dead : ++stats.retried;
        log->warn("{}: {} ({})", m.dedupe_key, r.error, r.permanent_failure ? "giving up" : "will retry");
      }
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (!error.empty()) {
      // Unknown outcome (transport error): stays "sending" so the next try searches first.
      store.outboxRetry(m.id, nextAttempt(now, m.attempts + 1, std::nullopt), error,
                        mayHaveSent ? "sending" : "pending");
      ++stats.retried;
      log->warn("{}: {}", m.dedupe_key, error);
    }
  }
  co_return stats;
}

}  // namespace safetynet
