// Micro-benchmarks of the bounce classifier (Google Benchmark), on the samples of the test suite.
// Reproduce with:
//   cmake --preset release -DSAFETYNET_BUILD_BENCH=ON && cmake --build --preset release --target bounce_bench
//   build/release/bench/bounce_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>
#include <string>

#include "safetynet/bounce/bounce.hpp"

namespace {

std::string sample(const std::string& name) {
  std::ifstream in(std::string(SAFETYNET_SOURCE_DIR) + "/tests/data/bounces/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void classifySample(benchmark::State& state, const char* name) {
  const std::string raw = sample(name);
  for (auto _ : state) {
    auto c = safetynet::bounce::classify(raw);
    benchmark::DoNotOptimize(c);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(raw.size()));
}

}  // namespace

BENCHMARK_CAPTURE(classifySample, Rfc3464PostfixTwoRecipients, "postfix-dsn.eml");
BENCHMARK_CAPTURE(classifySample, EximText, "exim-text.eml");
BENCHMARK_CAPTURE(classifySample, SendmailV5Transcript, "sendmail-v5-transcript.eml");
BENCHMARK_CAPTURE(classifySample, ArfComplaint, "arf-complaint.eml");
BENCHMARK_CAPTURE(classifySample, AmazonSesJson, "ses-notification.eml");
BENCHMARK_CAPTURE(classifySample, NotABounce, "not-a-bounce.eml");

BENCHMARK_MAIN();
