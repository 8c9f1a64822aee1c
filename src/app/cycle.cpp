// One poll cycle (`run --once`, the demo, tests): the streaming engine (app/engine.hpp) run until
// every connector has been listed and every email it found has been decided and acted on. The
// daemon runs the same engine continuously instead (app/daemon.cpp).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "app/coordinator.hpp"
#include "app/engine.hpp"
#include "safetynet/app/app.hpp"
#include "safetynet/core/logging.hpp"
#include "safetynet/metrics/metrics.hpp"

namespace safetynet {

std::string CycleStats::summary() const {
  return std::to_string(listed) + " scheduled, " + std::to_string(decided) + " decided (" + std::to_string(reverted) +
         " held, " + std::to_string(allowed) + " allowed, " + std::to_string(too_late) + " too late, " +
         std::to_string(revert_failed) + " could not be stopped" +
         (let_go ? ", " + std::to_string(let_go) + " risky let go by the fail-safe" : std::string()) +
         (shadowed ? ", " + std::to_string(shadowed) + " would have been held (shadow mode)" : std::string()) +
         (changed ? ", " + std::to_string(changed) + " changed by the rep before the stop, decided again" : std::string()) + "), " +
         std::to_string(connector_errors) + " connector errors";
}

Task<void> pollConnector(DecisionEngine& engine, std::shared_ptr<Services> s, Connector& c, TimePoint now,
                         int& errors, std::string* error_out) {
  const auto started = std::chrono::steady_clock::now();
  std::string error;
  try {
    co_await engine.poll(s, c, now);
  } catch (const StoreFullError& e) {
    engine.markStoreFull(e.what());
    error = e.what();
  } catch (const std::exception& e) {
    error = e.what();
  }
  engine.listingEnded();
  metrics::Instruments& m = metrics::instruments();
  m.poll_duration.with({c.name()}).observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  m.polls.with({c.name(), error.empty() ? "ok" : "error"}).inc();
  if (error.empty()) m.last_poll_success.with({c.name()}).set(metrics::unixSeconds(Clock::now()));
  if (!error.empty()) {
    ++errors;
    if (error_out) *error_out = error;
    logger(c.name())->error("listing scheduled emails failed: {}", error);
  }
}

Task<std::map<std::string, SenderState>> pausedSenders(Services& s, Store& store, TimePoint now,
                                                       const std::function<bool(const std::string&)>& reads, bool decide) {
  std::map<std::string, SenderState> paused;
  std::string error;
  try {
    paused = co_await guardSenders(s, store, now, reads, decide);
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!error.empty()) logger("senders")->error("sender protection failed this cycle: {}", error);
  metrics::instruments().senders_paused.get().set(static_cast<double>(paused.size()));
  co_return paused;
}

Task<CycleStats> runCycle(Services& s, Store& store, TimePoint now) {
  auto ex = co_await asio::this_coro::executor;
  const std::shared_ptr<Services> services(std::shared_ptr<Services>{}, &s);  // not owned: s outlives the cycle
  DecisionEngine engine(ex, store);
  Failsafe failsafe(store, Failsafe::SteadyNow{}, failsafeInstance(s.config.store));
  engine.setFailsafe(&failsafe);
  if (s.pipeline) s.pipeline->setDnsDistrust(co_await failsafe.checkCanaries(s, now));
  engine.resumeReverting(services);  // 1. what a crash interrupted
  engine.setPausedSenders(co_await pausedSenders(s, store, now));  // 2. sender protection
  // 3. every connector listed while the workers already decide what the first pages brought.
  int errors = 0;
  using Op = decltype(asio::co_spawn(ex, engine.run(true), asio::deferred));
  std::vector<Op> ops;
  for (auto& c : s.connectors) {
    engine.listingStarted();
    ops.push_back(asio::co_spawn(ex, pollConnector(engine, services, *c, now, errors), asio::deferred));
  }
  ops.push_back(asio::co_spawn(ex, engine.run(true), asio::deferred));
  auto [order, failures] = co_await asio::experimental::make_parallel_group(std::move(ops))
                               .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
  for (auto& f : failures)
    if (f) std::rethrow_exception(f);
  failsafe.saveDays();  // this cycle's decisions count in the trailing week
  CycleStats stats = engine.takeStats();
  stats.connector_errors = errors;
  co_return stats;
}

}  // namespace safetynet
