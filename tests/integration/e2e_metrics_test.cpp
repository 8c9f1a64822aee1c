// End to end, metrics: the real daemon (`safetynet run`) against the fake Close and Slack and a
// real unbound, its admin server on a free loopback port, and a real Prometheus (Debian's
// `prometheus` package) started here with a temporary config that scrapes the daemon's /metrics
// every second and loads the shipped alert rules. Through Prometheus' HTTP API: the held count of
// the run is the number of emails the store says were held, every email decided is counted, the
// target is up, and every shipped rule evaluates without error on the daemon's real series.
// No prometheus binary: the test fails (scripts/setup installs it), it never skips.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <fstream>
#include <sstream>
#include <thread>

#include "fakes/fake_close.hpp"
#include "fakes/fake_slack.hpp"
#include "integration/peers.hpp"
#include "safetynet/core/logging.hpp"
#include "safetynet/net/http_client.hpp"
#include "safetynet/net/url.hpp"
#include "support/run_task.hpp"

using namespace safetynet;
using namespace safetynet::testing;
using namespace std::chrono;

namespace {

const char* kZones = R"(
  local-zone: "acme.test." static
  local-data: "acme.test. 300 IN MX 10 mx.acme.test."
  local-data: "mx.acme.test. 300 IN A 127.0.0.20"
  local-zone: "nullmx.test." static
  local-data: "nullmx.test. 300 IN MX 0 ."
  local-zone: "gone.test." static
)";

struct Case {
  std::string id, to;
  bool risky;
};
const std::vector<Case> kCases = {
    {"m_good1", "jane@acme.test", false}, {"m_good2", "bob@acme.test", false},
    {"m_good3", "pat@acme.test", false},  {"m_nx", "lee@gone.test", true},
    {"m_nullmx", "ops@nullmx.test", true}, {"m_trap", "info@acme.test", true},
};
constexpr int kRisky = 3;

// GET url with the product's HTTP client; the body, or a failed expectation.
std::string get(const std::string& url, const std::string& bearer = "") {
  asio::io_context io;
  HttpClientOptions o;
  o.timeout = seconds(5);
  o.retry.max_attempts = 1;
  auto http = makeHttpClient(io.get_executor(), o);
  HttpRequest req;
  req.url = url;
  if (!bearer.empty()) req.headers.emplace_back("Authorization", "Bearer " + bearer);
  try {
    HttpResponse r = runTask(io, http->send(std::move(req)));
    if (r.status != 200) return "HTTP " + std::to_string(r.status) + ": " + r.body;
    return r.body;
  } catch (const std::exception& e) {
    return std::string("error: ") + e.what();
  }
}

// The value of a one-sample instant query, or nullopt (no sample yet, or an error).
std::optional<double> queryValue(unsigned short prometheusPort, const std::string& promql, std::string* raw = nullptr) {
  const std::string body =
      get("http://127.0.0.1:" + std::to_string(prometheusPort) + "/api/v1/query?query=" + urlEncode(promql));
  if (raw) *raw = body;
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || j.value("status", "") != "success") return std::nullopt;
  const auto& result = j["data"]["result"];
  if (!result.is_array() || result.size() != 1) return std::nullopt;
  return std::stod(result[0]["value"][1].get<std::string>());
}

void writeSecret(const std::filesystem::path& p, const std::string& value) {
  std::ofstream(p) << value << "\n";
  ::chmod(p.c_str(), 0600);
}

}  // namespace

TEST(EndToEndMetrics, PrometheusScrapesTheDaemonAndCountsItsHolds) {
  initLogging("warn");  // the HTTP client's log (and, as it happens, logging's object file at link time)
  const std::string prometheus = findProgram("prometheus");
  ASSERT_FALSE(prometheus.empty()) << "prometheus not found: install Debian's prometheus package (scripts/setup)";

  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  fakes::FakeClose close(io.get_executor(), "metrics-key");
  fakes::FakeSlack slack(io.get_executor(), "xoxb-metrics");
  slack.addChannel("C0DELIV", "#deliverability");
  close.addUser("user_rep1", "riley@seller.test", "Riley", "Rep");
  int minute = 10;
  for (const auto& c : kCases) {
    fakes::FakeCloseEmail e;
    e.id = c.id;
    e.to = {c.to};
    e.subject = "Subject " + c.id;
    e.scheduled_at = Clock::now() + minutes(minute++);
    close.addEmail(e);
  }
  std::thread ioThread([&] { io.run(); });
  struct Join {
    asio::io_context& io;
    std::thread& t;
    ~Join() {
      io.stop();
      t.join();
    }
  } join{io, ioThread};

  Unbound dns(kZones);
  TempDir dir;
  const unsigned short adminPort = freePort();
  std::ofstream(dir / "spamtraps.txt") << "info@acme.test\n";
  writeSecret(dir / "admin.token", "metrics-full-token-0123456789");
  writeSecret(dir / "read.token", "metrics-read-token-0123456789");
  std::ofstream(dir / "safetynet.yaml")
      << "state_dir: " << (dir / "state").string() << "\n"
      << "poll_interval: 1s\nshutdown_grace: 2s\n"
      << "smtp_probe: {enabled: false}\n"
      << "dns: {servers: [\"" << dns.server() << "\"], timeout: 1s}\n"
      << "lists:\n  spamtraps: " << (dir / "spamtraps.txt").string() << "\n"
      << "connectors:\n  - name: close-metrics\n    type: close\n    base_url: " << close.baseUrl()
      << "\n    api_key: metrics-key\n    backfill: 2d\n"
      << "notify:\n  slack: {bot_token: xoxb-metrics, base_url: \"" << slack.baseUrl()
      << "\", channel: \"#deliverability\"}\n"
      << "admin_api:\n  listen: 127.0.0.1:" << adminPort << "\n  token_file: " << (dir / "admin.token").string()
      << "\n  read_token_file: " << (dir / "read.token").string() << "\n";

  Process daemon({SAFETYNET_BINARY, "run", "-c", (dir / "safetynet.yaml").string()}, dir / "daemon.log");
  ASSERT_TRUE(waitForTcp(adminPort, seconds(20))) << "the admin server did not listen:\n" << readFile(dir / "daemon.log");

  // Prometheus: a temporary config scraping the daemon every second with the read-only token.
  const unsigned short promPort = freePort();
  std::ofstream(dir / "prometheus.yml")
      << "global: {scrape_interval: 2s, scrape_timeout: 2s, evaluation_interval: 1s}\n"
      << "rule_files: [\"" << SAFETYNET_SOURCE_DIR << "/packaging/prometheus/alerts.yml\"]\n"
      << "scrape_configs:\n"
      << "  - job_name: safetynet\n"
      << "    authorization: {credentials_file: \"" << (dir / "read.token").string() << "\"}\n"
      << "    static_configs: [{targets: [\"127.0.0.1:" << adminPort << "\"]}]\n";
  Process prom({prometheus, "--config.file=" + (dir / "prometheus.yml").string(),
                "--storage.tsdb.path=" + (dir / "tsdb").string(),
                "--web.listen-address=127.0.0.1:" + std::to_string(promPort)},
               dir / "prometheus.log");
  ASSERT_TRUE(waitForTcp(promPort, seconds(30))) << readFile(dir / "prometheus.log");

  // The held count through Prometheus, once the daemon has stopped the risky emails and a scrape
  // has seen it.
  std::string raw;
  std::optional<double> held;
  const auto until = steady_clock::now() + seconds(60);
  while (steady_clock::now() < until) {
    held = queryValue(promPort, "sum(safetynet_reverts_total{job=\"safetynet\",result=\"confirmed\"})", &raw);
    if (held && *held == kRisky) break;
    std::this_thread::sleep_for(milliseconds(500));
  }
  ASSERT_TRUE(held.has_value()) << raw << "\n" << readFile(dir / "prometheus.log") << readFile(dir / "daemon.log");
  EXPECT_EQ(*held, kRisky) << raw;

  // The same run as the store tells it: the emails held, each decided once.
  std::string out;
  ASSERT_EQ(runCommand({SAFETYNET_BINARY, "decisions", "-c", (dir / "safetynet.yaml").string(), "--since", "1d", "--json"},
                       &out),
            0)
      << out;
  int reverted = 0, decided = 0;
  std::stringstream ss(out);
  for (std::string line; std::getline(ss, line);)
    if (!line.empty() && line[0] == '{') {
      ++decided;
      reverted += nlohmann::json::parse(line).value("state", "") == "reverted";
    }
  EXPECT_EQ(reverted, kRisky);
  EXPECT_EQ(decided, static_cast<int>(kCases.size()));

  // A value Prometheus has: asked again for a few seconds, since one scrape slower than its
  // timeout (a loaded machine, the sanitized daemon) marks every series stale until the next.
  const auto eventually = [&](const std::string& query, std::optional<double> want) {
    std::optional<double> got;
    for (const auto end = steady_clock::now() + seconds(10); steady_clock::now() < end;) {
      got = queryValue(promPort, query);
      if (got == want) break;
      std::this_thread::sleep_for(milliseconds(500));
    }
    return got;
  };
  EXPECT_EQ(eventually("sum(safetynet_emails_decided_total{connector=\"close-metrics\"})", static_cast<double>(kCases.size())),
            std::optional<double>(static_cast<double>(kCases.size())));
  EXPECT_EQ(eventually("sum(safetynet_emails_decided_total{verdict=\"revert\"})", kRisky), std::optional<double>(kRisky));
  EXPECT_EQ(eventually("up{job=\"safetynet\"}", 1), std::optional<double>(1));
  EXPECT_EQ(eventually("safetynet_failsafe_active", 0), std::optional<double>(0));
  // A series that must be there: asked again for a few seconds while a stale scrape hides it.
  const auto present = [&](const std::string& query) {
    std::optional<double> got;
    for (const auto end = steady_clock::now() + seconds(10); steady_clock::now() < end && !got;) {
      got = queryValue(promPort, query);
      if (!got) std::this_thread::sleep_for(milliseconds(500));
    }
    return got;
  };
  const auto lastPoll = present("time() - safetynet_last_poll_success_timestamp_seconds{connector=\"close-metrics\"}");
  ASSERT_TRUE(lastPoll.has_value());
  EXPECT_LT(*lastPoll, 30);
  EXPECT_EQ(eventually("sum(safetynet_decision_margin_seconds_count)", static_cast<double>(kCases.size())),
            std::optional<double>(static_cast<double>(kCases.size())));
  // The other instruments on their real paths: the platform's requests, the resolver's queries,
  // the verdict cache, the three Slack messages and an empty outbox once they are out.
  const auto requests = present("sum(safetynet_platform_requests_total{connector=\"close-metrics\",status=\"2xx\"})");
  ASSERT_TRUE(requests.has_value());
  EXPECT_GE(*requests, 3 * 2);  // at least a stop and its confirmation per held email
  // No request answered otherwise: asked in one query with the 2xx ones, so that a stale scrape
  // (which hides both) cannot read as none.
  const auto others = present("sum(safetynet_platform_requests_total{status!=\"2xx\"}) or (0 * sum(safetynet_platform_requests_total{status=\"2xx\"}))");
  EXPECT_EQ(others, std::optional<double>(0));
  const auto mx = present("sum(safetynet_dns_queries_total{type=\"MX\"})");
  ASSERT_TRUE(mx.has_value());
  EXPECT_GE(*mx, 2);  // acme.test, gone.test, nullmx.test: each asked once at least (cached after)
  EXPECT_EQ(eventually("sum(safetynet_verdict_cache_requests_total)", static_cast<double>(kCases.size())),
            std::optional<double>(static_cast<double>(kCases.size())));  // one lookup per recipient
  std::optional<double> sent;
  for (const auto until2 = steady_clock::now() + seconds(20); steady_clock::now() < until2;) {
    sent = queryValue(promPort, "sum(safetynet_notifications_total{notifier=\"slack\",result=\"sent\"})");
    if (sent && *sent == kRisky) break;
    std::this_thread::sleep_for(milliseconds(500));
  }
  EXPECT_EQ(sent, std::optional<double>(kRisky));
  EXPECT_EQ(static_cast<int>(slack.messages().size()), kRisky);

  // The daemon's own exposition, as served, passes promtool's parser and lint.
  const std::string promtool = findProgram("promtool");
  ASSERT_FALSE(promtool.empty()) << "promtool not found: install Debian's prometheus package (scripts/setup)";
  const std::string served = get("http://127.0.0.1:" + std::to_string(adminPort) + "/metrics", "metrics-read-token-0123456789");
  ASSERT_NE(served.find("# TYPE safetynet_reverts_total counter"), std::string::npos) << served.substr(0, 500);
  std::ofstream(dir / "served.txt") << served;
  std::string lint;
  EXPECT_EQ(runCommand({"/bin/sh", "-c", "\"$0\" check metrics < \"$1\"", promtool, (dir / "served.txt").string()}, &lint), 0)
      << lint;
  EXPECT_EQ(lint, "") << lint;

  // Every shipped rule evaluated on the daemon's real series without an error, and none fires on
  // this healthy run.
  std::this_thread::sleep_for(seconds(2));  // at least one evaluation after the holds
  auto rules = nlohmann::json::parse(get("http://127.0.0.1:" + std::to_string(promPort) + "/api/v1/rules"), nullptr, false);
  ASSERT_TRUE(rules.is_object()) << "rules API";
  int evaluated = 0;
  for (const auto& g : rules["data"]["groups"])
    for (const auto& r : g["rules"]) {
      ++evaluated;
      EXPECT_EQ(r.value("health", ""), "ok") << r.dump();
      EXPECT_EQ(r.value("state", ""), "inactive") << r.dump();
    }
  EXPECT_EQ(evaluated, 9);

  prom.signal(SIGTERM);
  prom.wait(seconds(10));
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait(seconds(10)), 0) << readFile(dir / "daemon.log");
}
