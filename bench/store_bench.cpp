// The store's calls for one email on each backend (docs/benchmarks.md, "The store"): what the
// daemon's event loop waits for per decision. SQLite in a temporary directory; PostgreSQL 15 the
// benchmark starts (initdb in a temporary directory, loopback TCP, as the tests' peer).
//   build/bench/bench/store_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>

#include "integration/peers.hpp"
#include "safetynet/store/store.hpp"

using namespace safetynet;

namespace {

testing::Postgres& postgres() {
  static testing::Postgres server;
  return server;
}

struct Backend {
  testing::TempDir dir;
  StorePtr store;
};

std::unique_ptr<Backend> open(bool pg) {
  auto b = std::make_unique<Backend>();
  static int n = 0;
  b->store = pg ? openPostgresStore(postgres().createDatabase("bench_" + std::to_string(++n))) : openSqliteStore(b->dir.path().string());
  return b;
}

EmailDecision decision(const std::string& key) {
  EmailDecision d;
  d.key = key;
  d.connector = "close-main";
  d.email_id = key;
  d.scheduled_at = Clock::now() + std::chrono::minutes(10);
  d.state = EmailState::Reverting;
  d.verdict = "revert";
  d.reason = "bounce_risk";
  d.evidence = "acme.test has a null MX";
  d.recipients = nlohmann::json::array({{{"address", "lee@acme.test"}, {"verdict", "revert"}}});
  d.email = {{"id", key}, {"subject", "Hello"}, {"user_id", "user_1"}};
  return d;
}

// A held email, as the engine and the outbox write it: looked up (not decided yet), its
// recipient's cached verdict read and written, the decision recorded, the stop recorded with its
// notification, the notification sent.
void heldEmail(benchmark::State& state, bool pg) {
  auto b = open(pg);
  long i = 0;
  for (auto _ : state) {
    const std::string key = "close-main|e" + std::to_string(i++);
    benchmark::DoNotOptimize(b->store->findDecision(key));
    benchmark::DoNotOptimize(b->store->cachedVerdict("lee@acme.test", Clock::now()));
    b->store->cacheVerdict(CachedVerdict{"lee@acme.test", "revert", "bounce_risk", nlohmann::json::array(),
                                         Clock::now() + std::chrono::hours(1)});
    b->store->recordDecision(decision(key));
    OutboxMessage m;
    m.dedupe_key = "notify|" + key;
    m.kind = "slack";
    m.payload = {{"text", "held"}};
    b->store->transition(key, EmailState::Reverted, "moved to draft", 1, m);
  }
  state.SetItemsProcessed(state.iterations());
}

// An email listed again that is decided already: one read.
void listedAgain(benchmark::State& state, bool pg) {
  auto b = open(pg);
  b->store->recordDecision(decision("close-main|seen"));
  for (auto _ : state) benchmark::DoNotOptimize(b->store->findDecision("close-main|seen"));
  state.SetItemsProcessed(state.iterations());
}

void BM_HeldEmail_Sqlite(benchmark::State& s) { heldEmail(s, false); }
void BM_HeldEmail_Postgres(benchmark::State& s) { heldEmail(s, true); }
void BM_ListedAgain_Sqlite(benchmark::State& s) { listedAgain(s, false); }
void BM_ListedAgain_Postgres(benchmark::State& s) { listedAgain(s, true); }

}  // namespace

BENCHMARK(BM_HeldEmail_Sqlite)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_HeldEmail_Postgres)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ListedAgain_Sqlite)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ListedAgain_Postgres)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
