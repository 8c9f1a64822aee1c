// What a scrape and an observation cost (docs/operations.md, "Metrics and alerts"): the process's
// instruments filled as a large deployment fills them (3 connectors, every reason code with both
// verdicts, every status class, DNS types and results, SMTP outcomes; histograms observed), then
//   BM_Render:          renderPrometheusText(), the body of GET /metrics (without the store's gauges)
//   BM_CounterWith:     a labelled counter found by its label values and incremented (the engine's path)
//   BM_HistogramObserve: an observation into a labelled histogram
#include <benchmark/benchmark.h>

#include "safetynet/metrics/metrics.hpp"

using namespace safetynet::metrics;

namespace {

const char* kConnectors[] = {"close-main", "outreach-emea", "salesloft-us"};
const char* kReasons[] = {"none",          "bounce_risk", "spamtrap",   "do_not_mail",  "dead_email",
                          "secondary_email", "unknown",   "sender_paused", "disposable", "role_address",
                          "typo_domain",   "complainer",  "suppressed", "opted_out",    "blocklisted"};

void fill() {
  static bool done = false;
  if (done) return;
  done = true;
  Instruments& m = instruments();
  for (const char* c : kConnectors) {
    touchConnector(c);
    for (const char* r : kReasons)
      for (const char* v : {"allow", "revert"}) m.emails_decided.with({c, v, r}).inc(17);
    for (const char* s : {"2xx", "3xx", "4xx", "429", "5xx", "error"}) m.platform_requests.with({c, s}).inc(1000);
    m.last_poll_success.with({c}).set(1.7e9);
    for (int i = 0; i < 1000; ++i) {
      m.decision_margin.with({c}).observe(i % 400);
      m.poll_duration.with({c}).observe(i * 0.01);
    }
  }
  for (const char* t : {"A", "AAAA", "MX", "TXT"}) {
    for (const char* r : {"ok", "NXDOMAIN", "NODATA", "TEMPFAIL"}) m.dns_queries.with({t, r}).inc(100);
    for (int i = 0; i < 1000; ++i) m.dns_duration.with({t}).observe(i * 0.001);
  }
  for (const char* r : {"accepted", "smtp_mailbox_not_found", "greylisted", "smtp_timeout", "smtp_unreachable",
                        "smtp_probe_refused", "catch_all", "smtp_mailbox_full", "smtp_mailbox_disabled"})
    m.smtp_probes.with({r}).inc(50);
  for (const char* n : {"slack", "email"})
    for (const char* r : {"sent", "retry", "dead"}) m.notifications.with({n, r}).inc(5);
  m.verdict_cache.with({"hit"}).inc(10000);
  m.verdict_cache.with({"miss"}).inc(1000);
}

void BM_Render(benchmark::State& state) {
  fill();
  size_t bytes = 0;
  for (auto _ : state) {
    std::string text = renderPrometheusText();
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Render);

void BM_CounterWith(benchmark::State& state) {
  fill();
  Instruments& m = instruments();
  for (auto _ : state) m.emails_decided.with({"outreach-emea", "revert", "bounce_risk"}).inc();
}
BENCHMARK(BM_CounterWith);

void BM_HistogramObserve(benchmark::State& state) {
  fill();
  Instruments& m = instruments();
  double v = 0;
  for (auto _ : state) m.decision_margin.with({"close-main"}).observe(v += 0.5);
}
BENCHMARK(BM_HistogramObserve);

}  // namespace

BENCHMARK_MAIN();
