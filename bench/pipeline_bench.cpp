// Micro-benchmarks of the decision path (Google Benchmark). Reproduce with:
//   cmake --preset release -DSAFETYNET_BUILD_BENCH=ON && cmake --build --preset release --target pipeline_bench
//   build/release/bench/pipeline_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <filesystem>

#include "checks/admin_lists.hpp"
#include "checks/domain_check.hpp"
#include "checks/list_checks.hpp"
#include "checks/provider_check.hpp"
#include "checks/syntax_check.hpp"
#include "fakes/static_resolver.hpp"
#include "safetynet/pipeline/pipeline.hpp"

using namespace safetynet;

namespace {

struct Fixture {
  asio::io_context io;
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("sn-bench-" + std::to_string(::getpid()));
  StorePtr store;
  std::unique_ptr<Pipeline> pipeline;

  explicit Fixture(bool withCache) {
    std::filesystem::remove_all(dir);
    store = openSqliteStore(dir.string());
    auto dns = std::make_shared<fakes::StaticResolver>();
    dns->mailDomain("acme-corp.example");
    auto lists = std::make_shared<AdminLists>();
    for (int i = 0; i < 10000; ++i) lists->suppression.add("person" + std::to_string(i) + "@suppressed.example");
    AdminListsPtr l = lists;
    std::vector<CheckPtr> checks = {std::make_shared<checks::SyntaxCheck>(),
                                    std::make_shared<checks::AdminListCheck>([l] { return l; }),
                                    std::make_shared<checks::ProviderCheck>(),
                                    std::make_shared<checks::DomainCheck>(dns)};
    pipeline = std::make_unique<Pipeline>(checks, Policy::shipped({}), withCache ? store.get() : nullptr,
                                          PipelineOptions{});
  }
  ~Fixture() {
    store.reset();
    std::filesystem::remove_all(dir);
  }
  RecipientVerdict evaluate(const std::string& a) {
    RecipientVerdict out;
    // The lambda itself goes to co_spawn, which keeps it alive while its coroutine runs: a lambda
    // called here would die at the end of this statement, before io.run() resumes the coroutine
    // that reads its captures (ASan: stack-use-after-scope, found by scripts/bench-smoke).
    asio::co_spawn(io, [&]() -> Task<void> { out = co_await pipeline->evaluate(a); }, asio::detached);
    io.restart();
    io.run();
    return out;
  }
};

void BM_ParseAddress(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(parseAddress("jane.doe+sales@Acme-Corp.example"));
}
BENCHMARK(BM_ParseAddress);

void BM_ParseIdnAddress(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(parseAddress("jörg@bücher.example"));
}
BENCHMARK(BM_ParseIdnAddress);

// A whole decision whose network part comes from the verdict cache (SQLite): the "warm" path.
void BM_WarmCacheDecision(benchmark::State& state) {
  Fixture f(true);
  f.evaluate("jane@acme-corp.example");  // fills the cache
  for (auto _ : state) {
    auto v = f.evaluate("jane@acme-corp.example");
    if (!v.cached) state.SkipWithError("not a cache hit");
  }
}
BENCHMARK(BM_WarmCacheDecision)->Unit(benchmark::kMicrosecond);

// The same decision with the network part answered by an in-memory resolver and no cache: the cost
// of the checks themselves, without any network latency.
void BM_DecisionFixtureDns(benchmark::State& state) {
  Fixture f(false);
  for (auto _ : state) benchmark::DoNotOptimize(f.evaluate("jane@acme-corp.example"));
}
BENCHMARK(BM_DecisionFixtureDns)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
