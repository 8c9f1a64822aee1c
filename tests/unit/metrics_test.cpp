// The metrics registry's text exposition (format 0.0.4) and, on the rendered text of the daemon's
// own instruments, Debian's promtool (`promtool check metrics`): the parser Prometheus uses.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "safetynet/metrics/metrics.hpp"

namespace safetynet::metrics {
namespace {

bool contains(const std::string& text, const std::string& line) { return text.find(line) != std::string::npos; }

TEST(Metrics, CounterAndGaugeWithHelpTypeAndLabels) {
  Registry r;
  auto& c = r.counter("safetynet_things_total", "Things done.", {"connector", "result"});
  c.with({"close", "ok"}).inc();
  c.with({"close", "ok"}).inc(2);
  c.with({"outreach", "error"}).inc();
  auto& g = r.gauge("safetynet_level", "A level.");
  g.get().set(2.5);
  const std::string text = r.render();
  EXPECT_EQ(text,
            "# HELP safetynet_things_total Things done.\n"
            "# TYPE safetynet_things_total counter\n"
            "safetynet_things_total{connector=\"close\",result=\"ok\"} 3\n"
            "safetynet_things_total{connector=\"outreach\",result=\"error\"} 1\n"
            "# HELP safetynet_level A level.\n"
            "# TYPE safetynet_level gauge\n"
            "safetynet_level 2.5\n");
}

TEST(Metrics, LabelValuesAndHelpAreEscaped) {
  Registry r;
  auto& c = r.counter("safetynet_escaped_total", "Back\\slash and\nnewline \"quotes\" stay.", {"v"});
  c.with({"a\\b\"c\nd"}).inc();
  const std::string text = r.render();
  // HELP escapes \ and newline only; a label value escapes \, " and newline.
  EXPECT_TRUE(contains(text, "# HELP safetynet_escaped_total Back\\\\slash and\\nnewline \"quotes\" stay.\n")) << text;
  EXPECT_TRUE(contains(text, "safetynet_escaped_total{v=\"a\\\\b\\\"c\\nd\"} 1\n")) << text;
}

TEST(Metrics, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Registry r;
  auto& h = r.histogram("safetynet_wait_seconds", "Waits.", {"connector"}, {30, 1, 10, 10});  // sorted, deduplicated
  auto& close = h.with({"close"});
  for (double v : {0.5, 1.0, 5.0, 10.0, 29.0, 31.0, 1000.0}) close.observe(v);
  const std::string text = r.render();
  EXPECT_TRUE(contains(text, "# TYPE safetynet_wait_seconds histogram\n")) << text;
  EXPECT_TRUE(contains(text,
                       "safetynet_wait_seconds_bucket{connector=\"close\",le=\"1\"} 2\n"  // le: <= 1
                       "safetynet_wait_seconds_bucket{connector=\"close\",le=\"10\"} 4\n"
                       "safetynet_wait_seconds_bucket{connector=\"close\",le=\"30\"} 5\n"
                       "safetynet_wait_seconds_bucket{connector=\"close\",le=\"+Inf\"} 7\n"
                       "safetynet_wait_seconds_sum{connector=\"close\"} 1076.5\n"
                       "safetynet_wait_seconds_count{connector=\"close\"} 7\n"))
      << text;
}

TEST(Metrics, HistogramWithoutLabelsAndNegativeValues) {
  Registry r;
  auto& h = r.histogram("safetynet_margin_seconds", "Margins.", {}, {0, 0.25});
  h.get().observe(-3);
  h.get().observe(0.1);
  const std::string text = r.render();
  EXPECT_TRUE(contains(text, "safetynet_margin_seconds_bucket{le=\"0\"} 1\n"
                             "safetynet_margin_seconds_bucket{le=\"0.25\"} 2\n"
                             "safetynet_margin_seconds_bucket{le=\"+Inf\"} 2\n"
                             "safetynet_margin_seconds_sum -2.9\n"
                             "safetynet_margin_seconds_count 2\n"))
      << text;
}

TEST(Metrics, ValuesAsPrometheusReadsThem) {
  EXPECT_EQ(formatValue(0), "0");
  EXPECT_EQ(formatValue(12345678), "12345678");
  EXPECT_EQ(formatValue(1e21), "1e+21");
  EXPECT_EQ(formatValue(0.1), "0.1");
  EXPECT_EQ(formatValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(formatValue(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(formatValue(std::nan("")), "NaN");
  EXPECT_EQ(statusClass(200), "2xx");
  EXPECT_EQ(statusClass(304), "3xx");
  EXPECT_EQ(statusClass(404), "4xx");
  EXPECT_EQ(statusClass(429), "429");
  EXPECT_EQ(statusClass(503), "5xx");
  EXPECT_EQ(statusClass(0), "error");
}

TEST(Metrics, ABadNameOrAWrongNumberOfLabelValuesIsRefused) {
  Registry r;
  EXPECT_THROW(r.counter("9starts_with_a_digit", "x"), std::invalid_argument);
  EXPECT_THROW(r.counter("safetynet_x_total", "x", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(r.histogram("safetynet_h", "x", {"le"}, {1}), std::invalid_argument);
  auto& c = r.counter("safetynet_ok_total", "x", {"a"});
  EXPECT_THROW(c.with({"1", "2"}), std::invalid_argument);
  EXPECT_THROW(r.counter("safetynet_ok_total", "again"), std::invalid_argument);
}

TEST(Metrics, SeriesPastTheCapGoUnderOther) {
  Registry r;
  auto& c = r.counter("safetynet_capped_total", "x", {"v"});
  for (size_t i = 0; i < kMaxSeriesPerFamily + 50; ++i) c.with({std::to_string(i)}).inc();
  EXPECT_EQ(c.size(), kMaxSeriesPerFamily + 1);
  EXPECT_EQ(c.with({"other"}).value(), 50);
}

TEST(Metrics, ScrapeHooksRunAtRenderUntilTheirHandleGoes) {
  Registry r;
  auto& g = r.gauge("safetynet_pending", "x");
  int calls = 0;
  {
    auto hook = r.onScrape([&] { g.get().set(++calls); });
    EXPECT_TRUE(contains(r.render(), "safetynet_pending 1\n"));
    EXPECT_TRUE(contains(r.render(), "safetynet_pending 2\n"));
  }
  r.render();
  EXPECT_EQ(calls, 2);
}

TEST(Metrics, SeriesOfConnectorsNoLongerConfiguredGo) {
  Registry r;
  auto& g = r.gauge("safetynet_last_seen", "x", {"connector"});
  auto& h = r.histogram("safetynet_wait", "x", {"connector", "kind"}, {1});
  auto& other = r.counter("safetynet_no_connector_total", "x", {"result"});
  for (const char* c : {"close", "outreach", "salesloft"}) {
    g.with({c}).set(1);
    h.with({c, "a"}).observe(0.5);
  }
  other.with({"ok"}).inc();
  r.retain("connector", {"close", "salesloft"});
  const std::string text = r.render();
  EXPECT_FALSE(contains(text, "outreach")) << text;
  EXPECT_TRUE(contains(text, "safetynet_last_seen{connector=\"close\"} 1\n")) << text;
  EXPECT_TRUE(contains(text, "safetynet_wait_count{connector=\"salesloft\",kind=\"a\"} 1\n")) << text;
  EXPECT_TRUE(contains(text, "safetynet_no_connector_total{result=\"ok\"} 1\n")) << text;
}

TEST(Metrics, CountsFromSeveralThreadsAddUp) {
  Registry r;
  auto& c = r.counter("safetynet_threads_total", "x", {"t"});
  auto& h = r.histogram("safetynet_threads_seconds", "x", {}, {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.with({"same"}).inc();
        h.get().observe(0.5);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.with({"same"}).value(), 40000);
  EXPECT_TRUE(contains(r.render(), "safetynet_threads_seconds_count 40000\n"));
}

TEST(Metrics, TheDaemonsInstrumentsCarryTheContractsNames) {
  Instruments& m = instruments();
  m.emails_decided.with({"close", "revert", "dead_email"}).inc();
  m.decision_margin.with({"close"}).observe(95);
  const std::string text = renderPrometheusText();
  for (const char* name :
       {"safetynet_emails_decided_total", "safetynet_reverts_total", "safetynet_decision_margin_seconds",
        "safetynet_platform_requests_total", "safetynet_smtp_probes_total", "safetynet_outbox_pending",
        "safetynet_failsafe_active", "safetynet_last_poll_success_timestamp_seconds", "safetynet_too_late_total",
        "safetynet_build_info"})
    EXPECT_TRUE(contains(text, std::string("# TYPE ") + name + " ")) << name;
  EXPECT_TRUE(contains(text, "safetynet_emails_decided_total{connector=\"close\",verdict=\"revert\",reason=\"dead_email\"}"));
  EXPECT_TRUE(contains(text, "safetynet_outbox_pending 0\n"));
  EXPECT_TRUE(contains(text, "safetynet_build_info{version=\""));
}

// promtool parses the exposition with Prometheus' own parser and lints names, types and units.
// Debian's `prometheus` package (scripts/setup) provides it; without it this test fails.
TEST(Metrics, PromtoolChecksTheRenderedText) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0)
    FAIL() << "promtool not found: install Debian's prometheus package (scripts/setup)";
  Instruments& m = instruments();
  // One series of every instrument, so that each family's samples are parsed, not only its HELP.
  m.reverts.with({"close", "confirmed"}).inc();
  m.revert_retries.with({"close"}).inc();
  m.too_late.with({"close", "bounce_risk"}).inc();
  m.failsafe_let_go.with({"close"}).inc();
  m.last_poll_success.with({"close"}).set(unixSeconds(std::chrono::system_clock::now()));
  m.polls.with({"close", "ok"}).inc();
  m.poll_duration.with({"close"}).observe(0.3);
  m.cycle_duration.get().observe(1.2);
  m.platform_requests.with({"close", "2xx"}).inc();
  m.rate_limit_waits.with({"close"}).inc();
  m.rate_limit_wait_seconds.with({"close"}).inc(0.25);
  m.webhooks.with({"close", "accepted"}).inc();
  m.smtp_probes.with({"accepted"}).inc();
  m.dns_queries.with({"MX", "ok"}).inc();
  m.dns_duration.with({"MX"}).observe(0.004);
  m.verdict_cache.with({"hit"}).inc();
  m.notifications.with({"slack", "sent"}).inc();
  m.emails_decided.with({"close", "allow", "a \"quoted\\ value\nwith a newline"}).inc();
  const std::string text = renderPrometheusText();
  const auto path = std::filesystem::temp_directory_path() / ("safetynet-metrics-" + std::to_string(::getpid()) + ".txt");
  std::ofstream(path) << text;
  const std::string out = path.string() + ".out";
  const int rc = std::system(("promtool check metrics < " + path.string() + " > " + out + " 2>&1").c_str());
  std::stringstream said;
  said << std::ifstream(out).rdbuf();
  std::filesystem::remove(path);
  std::filesystem::remove(out);
  EXPECT_EQ(rc, 0) << said.str() << "\n---\n" << text;
  EXPECT_EQ(said.str(), "") << said.str();
}

}  // namespace
}  // namespace safetynet::metrics
