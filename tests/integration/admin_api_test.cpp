// The admin HTTP API (issue 11 items 1 and 2): the production server (net/admin_server) with the
// API (admin/api) over a real store, called by the project's HTTPS client (TLS verified against a
// test CA) and by raw sockets for the limits; the actions read back with the real `safetynet`
// binary; and the real daemon's /healthz, /readyz, /metrics and reload against the fake Close.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "admin/api.hpp"
#include "admin/overrides.hpp"
#include "fakes/fake_close.hpp"
#include "integration/peers.hpp"
#include "safetynet/core/time_format.hpp"
#include "safetynet/net/admin_server.hpp"
#include "safetynet/net/http_client.hpp"
#include "support/io_thread.hpp"
#include "support/run_task.hpp"

using namespace safetynet;
using namespace safetynet::testing;
using namespace std::chrono;
using Json = nlohmann::json;

namespace {

const std::string kToken = "full-access-token-0123456789abcdef";
const std::string kReadToken = "read-only-token-0123456789abcdef";

EmailDecision decision(const std::string& id, const std::string& verdict, const std::string& reason,
                       const std::string& connector = "close-main", const std::string& sender = "riley@seller.test") {
  EmailDecision d;
  d.connector = connector;
  d.email_id = id;
  d.key = connector + "|" + id + "|1767225600000|to-" + id + "@acme.test";
  d.scheduled_at = Clock::now() + hours(1);
  d.state = verdict == "revert" ? EmailState::Reverted : EmailState::Allowed;
  d.verdict = verdict;
  d.reason = reason;
  d.evidence = reason.empty() ? "" : "to-" + id + "@acme.test: the domain does not exist";
  d.subject = "Subject " + id;
  d.sender = sender;
  d.email = Json{{"user_id", "user_" + sender.substr(0, sender.find('@'))}, {"user_name", "Riley Rep"}};
  d.recipients = Json::array({Json{{"address", "to-" + id + "@acme.test"},
                                   {"verdict", verdict},
                                   {"reason", reason},
                                   {"signals", Json::array({Json{{"name", "NXDOMAIN"}, {"weight", 10.0},
                                                                 {"evidence", "acme.test: NXDOMAIN"}}})}}});
  return d;
}

// The API on the production server over a real store, on its own thread; a client on the test's.
class ApiServer {
 public:
  explicit ApiServer(AdminServerOptions o = {}, admin::ApiHooks hooks = {}) {
    store_ = openSqliteStore((dir_ / "state").string());
    std::ofstream(dir_ / "safetynet.yaml") << "state_dir: " << (dir_ / "state").string() << "\n";
    api_ = std::make_unique<admin::AdminApi>(*store_, Secret(kToken), Secret(kReadToken), std::move(hooks));
    server_ = std::make_unique<AdminServer>(thread_.io().get_executor(), o,
                                            [this](const AdminHttpRequest& r) { return api_->handle(r); });
    HttpClientOptions co;
    co.ca_file = o.tls_cert_file.empty() ? "" : caFile_;
    co.timeout = seconds(10);
    co.retry.max_attempts = 1;
    client_ = makeHttpClient(io_.get_executor(), co);
  }
  ~ApiServer() {
    thread_.closeThenStop([this] { server_->stop(); });
  }
  void useCa(const std::string& ca, const std::string& host) {
    caFile_ = ca;
    host_ = host;
    HttpClientOptions co;
    co.ca_file = ca;
    co.timeout = seconds(10);
    co.retry.max_attempts = 1;
    client_ = makeHttpClient(io_.get_executor(), co);
  }
  Store& store() { return *store_; }
  std::string config() const { return (dir_ / "safetynet.yaml").string(); }
  unsigned short port() const { return server_->port(); }
  std::string base() const { return (server_->tls() ? "https://" : "http://") + host_ + ":" + std::to_string(port()); }

  HttpResponse call(const std::string& method, const std::string& path, const std::string& token = kToken,
                    const std::string& body = "") {
    HttpRequest r;
    r.method = method;
    r.url = base() + path;
    if (!token.empty()) r.headers.emplace_back("Authorization", "Bearer " + token);
    if (!body.empty()) r.headers.emplace_back("Content-Type", "application/json");
    r.body = body;
    r.idempotent = true;
    return runTask(io_, client_->send(std::move(r)));
  }
  Json callJson(const std::string& method, const std::string& path, int expect, const std::string& token = kToken,
                const std::string& body = "") {
    auto r = call(method, path, token, body);
    EXPECT_EQ(r.status, expect) << method << " " << path << ": " << r.body;
    auto j = Json::parse(r.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.body;
    return j;
  }

 private:
  TempDir dir_;
  StorePtr store_;
  IoThread thread_;
  std::unique_ptr<admin::AdminApi> api_;
  std::unique_ptr<AdminServer> server_;
  asio::io_context io_;
  HttpClientPtr client_;
  std::string caFile_, host_ = "127.0.0.1";
};

std::string cli(const std::vector<std::string>& args, int expect = 0) {
  std::vector<std::string> argv = {SAFETYNET_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out;
  EXPECT_EQ(runCommand(argv, &out), expect) << out;
  return out;
}

// Blocking raw HTTP on loopback: what a broken or hostile client sends.
using tcp = asio::ip::tcp;
struct RawClient {
  asio::io_context io;
  tcp::socket socket{io};
  explicit RawClient(unsigned short port) { socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port)); }
  void send(const std::string& s) { asio::write(socket, asio::buffer(s)); }
  // Everything until the server closes (or `limit` elapses).
  std::string readAll(milliseconds limit = seconds(10)) {
    std::string out;
    const auto end = steady_clock::now() + limit;
    socket.non_blocking(true);
    char buf[4096];
    while (steady_clock::now() < end) {
      boost::system::error_code ec;
      const size_t n = socket.read_some(asio::buffer(buf), ec);
      if (ec == asio::error::would_block) {
        std::this_thread::sleep_for(milliseconds(10));
        continue;
      }
      if (ec) break;
      out.append(buf, n);
    }
    return out;
  }
};

}  // namespace

// ---- configuration -------------------------------------------------------------------------

TEST(AdminApiConfig, ReadsTheKeysAndRefusesWhatIsUnsafe) {
  TempDir d;
  std::ofstream(d / "admin.token") << kToken << "\n";
  std::ofstream(d / "read.token") << kReadToken << "\n";
  std::ofstream(d / "short.token") << "abc\n";
  std::ofstream(d / "empty.token") << "\n";
  auto load = [&](const std::string& api) { return loadConfigText("state_dir: /tmp/x\nadmin_api:\n" + api, (d / "t.yaml").string()); };
  auto errors = [](const ConfigResult& r) {
    std::string all;
    for (const auto& e : r.errors) all += e.message + "\n";
    return all;
  };
  auto ok = load("  token_file: admin.token\n  read_token_file: read.token\n  public_url: https://sn.example.com:8787\n");
  ASSERT_TRUE(ok.ok()) << errors(ok);
  EXPECT_TRUE(ok.config->admin_api.enabled);
  EXPECT_EQ(ok.config->admin_api.host, "127.0.0.1");
  EXPECT_EQ(ok.config->admin_api.port, 8787);
  EXPECT_EQ(ok.config->admin_api.token.reveal(), kToken);  // the trailing newline stripped
  EXPECT_EQ(ok.config->admin_api.read_token.reveal(), kReadToken);
  std::ofstream(d / "ok.yaml") << "state_dir: " << (d / "state").string()
                               << "\nadmin_api:\n  token_file: admin.token\n  read_token_file: read.token\n";
  EXPECT_NE(cli({"config", "check", "-c", (d / "ok.yaml").string()}).find("admin API http://127.0.0.1:8787, read-only token"),
            std::string::npos);
  auto v6 = load("  listen: \"[::1]:9000\"\n  token_file: admin.token\n");
  ASSERT_TRUE(v6.ok()) << errors(v6);
  EXPECT_EQ(v6.config->admin_api.host, "::1");
  EXPECT_EQ(v6.config->admin_api.port, 9000);

  auto open = load("  listen: 0.0.0.0:8787\n  token_file: admin.token\n");
  EXPECT_NE(errors(open).find("not a loopback address"), std::string::npos) << errors(open);
  std::ofstream(d / "c.pem") << "";  // only read when the listener starts (admin_api_tls tests)
  std::ofstream(d / "k.pem") << "";
  auto withTls = load("  listen: 0.0.0.0:8787\n  token_file: admin.token\n  tls: {cert_file: " + (d / "c.pem").string() +
                      ", key_file: " + (d / "k.pem").string() + "}\n");
  EXPECT_TRUE(withTls.ok()) << errors(withTls);
  // A certificate that is not there: a config error now, not a failed start.
  EXPECT_NE(errors(load("  listen: 0.0.0.0:8787\n  token_file: admin.token\n  tls: {cert_file: " + (d / "none.pem").string() +
                        ", key_file: " + (d / "k.pem").string() + "}\n"))
                .find("tls.cert_file: cannot read"),
            std::string::npos);
  EXPECT_NE(errors(load("  listen: 0.0.0.0:8787\n  token_file: admin.token\n  tls: {cert_file: /c.pem}\n")).find("key_file"),
            std::string::npos);
  EXPECT_NE(errors(load("  token_file: short.token\n")).find("too short"), std::string::npos);
  EXPECT_NE(errors(load("  token_file: empty.token\n")).find("is empty"), std::string::npos);
  EXPECT_NE(errors(load("  read_token_file: read.token\n")).find("needs token_file"), std::string::npos);
  EXPECT_NE(errors(load("  token: " + kToken + "\n")).find("read from a file"), std::string::npos);
  EXPECT_NE(errors(load("  token_file: admin.token\n  read_token_file: admin.token\n")).find("must differ"), std::string::npos);
  EXPECT_NE(errors(load("  listen: 8787\n  token_file: admin.token\n")).find("host:port"), std::string::npos);
  EXPECT_NE(errors(load("  token_file: admin.token\n  lisen: 127.0.0.1:1\n")).find("listen"), std::string::npos);
  // No message ever holds a token.
  for (const auto& api : {"  token_file: short.token\n", "  token_file: admin.token\n  read_token_file: admin.token\n"})
    EXPECT_EQ(errors(load(api)).find(kToken), std::string::npos);
}

// ---- authentication ------------------------------------------------------------------------

TEST(AdminApi, NoTokenOrAWrongOneIs401AndTheReadOnlyTokenCannotWrite) {
  ApiServer s;
  for (const std::string path : {"/api/v1/decisions", "/api/v1/overrides", "/metrics", "/api/v1/nothing"}) {
    auto none = s.call("GET", path, "");
    EXPECT_EQ(none.status, 401) << path;
    EXPECT_EQ(none.header("www-authenticate").rfind("Bearer", 0), 0u) << path;
    EXPECT_NE(Json::parse(none.body).value("error", "").find("missing bearer token"), std::string::npos);
    auto wrong = s.call("GET", path, kToken + "x");
    EXPECT_EQ(wrong.status, 401) << path;
    EXPECT_NE(wrong.header("www-authenticate").find("invalid_token"), std::string::npos);
    EXPECT_EQ(Json::parse(wrong.body)["error"], "invalid token");
  }
  EXPECT_EQ(s.call("GET", "/api/v1/overrides", kToken.substr(0, 10)).status, 401);  // a prefix is not the token
  EXPECT_EQ(s.call("GET", "/api/v1/overrides", kReadToken).status, 200);
  for (const auto& [method, path, body] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"POST", "/api/v1/overrides", R"({"address":"a@acme.test"})"},
           {"DELETE", "/api/v1/overrides?address=a@acme.test", ""},
           {"POST", "/api/v1/suppressions", R"({"address":"a@acme.test"})"},
           {"DELETE", "/api/v1/suppressions?address=a@acme.test", ""},
           {"POST", "/api/v1/senders/riley@seller.test/release", ""},
           {"POST", "/api/v1/reload", ""},
           {"POST", "/api/v1/failsafe/resume", ""}}) {
    auto r = s.call(method, path, kReadToken, body);
    EXPECT_EQ(r.status, 403) << method << " " << path << ": " << r.body;
    EXPECT_NE(Json::parse(r.body).value("error", "").find("read-only"), std::string::npos);
  }
  EXPECT_TRUE(admin::listOverrides(s.store(), Clock::now()).empty());  // nothing was written
  // The probes need no token.
  EXPECT_EQ(s.callJson("GET", "/healthz", 200, "")["status"], "ok");
  EXPECT_EQ(s.callJson("GET", "/readyz", 200, "")["ready"], true);
}

// ---- decisions -------------------------------------------------------------------------------

TEST(AdminApi, DecisionPagesNeitherRepeatNorSkipWhileNewDecisionsArrive) {
  ApiServer s;
  std::set<std::string> seeded;
  for (int i = 0; i < 250; ++i) {
    auto d = decision("e" + std::to_string(i), i % 3 ? "allow" : "revert", i % 3 ? "" : "bounce_risk");
    s.store().recordDecision(d);
    seeded.insert(d.key);
  }
  std::set<std::string> seen;
  std::string cursor;
  int pages = 0;
  for (;; ++pages) {
    auto j = s.callJson("GET", "/api/v1/decisions?limit=60" + (cursor.empty() ? "" : "&cursor=" + cursor), 200);
    for (const auto& d : j["decisions"]) EXPECT_TRUE(seen.insert(d["key"].get<std::string>()).second) << "twice: " << d["key"];
    // New decisions between pages: they sort above the first page and do not shift the others.
    for (int k = 0; k < 7; ++k) s.store().recordDecision(decision("new" + std::to_string(pages) + "_" + std::to_string(k), "allow", ""));
    if (j["next_cursor"].is_null()) break;
    cursor = j["next_cursor"];
  }
  EXPECT_EQ(pages, 4);  // 60 + 60 + 60 + 60 + 10
  EXPECT_EQ(seen, seeded);  // no gap, no duplicate, none of the new ones mixed in
  // Newest first; the filters.
  auto held = s.callJson("GET", "/api/v1/decisions?verdict=revert&reason=bounce_risk&limit=1000", 200);
  EXPECT_EQ(held["decisions"].size(), 84u);
  for (const auto& d : held["decisions"]) EXPECT_EQ(d["reason"], "bounce_risk");
  s.store().recordDecision(decision("other", "revert", "spamtrap", "outreach-main", "kim@seller.test"));
  auto byConnector = s.callJson("GET", "/api/v1/decisions?connector=outreach-main", 200);
  ASSERT_EQ(byConnector["decisions"].size(), 1u);
  EXPECT_EQ(byConnector["decisions"][0]["email_id"], "other");
  EXPECT_EQ(s.callJson("GET", "/api/v1/decisions?rep=KIM@seller.test", 200)["decisions"].size(), 1u);
  EXPECT_EQ(s.callJson("GET", "/api/v1/decisions?rep=user_kim", 200)["decisions"].size(), 1u);
  EXPECT_EQ(s.callJson("GET", "/api/v1/decisions?since=1ms", 200)["decisions"].size(), 0u);
  // The CLI's twin runs the same query: every page, oldest first.
  std::stringstream lines(cli({"decisions", "-c", s.config(), "--json", "--verdict", "revert", "--reason", "bounce_risk"}));
  std::vector<std::string> keys;
  for (std::string line; std::getline(lines, line);) keys.push_back(Json::parse(line)["key"]);
  std::vector<std::string> api;
  for (const auto& d : held["decisions"]) api.push_back(d["key"]);
  std::reverse(api.begin(), api.end());
  EXPECT_EQ(keys, api);
  EXPECT_EQ(cli({"decisions", "-c", s.config(), "--rep", "kim@seller.test"}).find("close-main"), std::string::npos);
  EXPECT_NE(cli({"decisions", "-c", s.config(), "--verdict", "maybe"}, 2).find("verdict is allow or revert"), std::string::npos);
}

TEST(AdminApi, BadParametersAre400WithAMessage) {
  ApiServer s;
  for (const auto& [path, words] : std::vector<std::pair<std::string, std::string>>{
           {"/api/v1/decisions?since=yesterday", "since expects a duration"},
           {"/api/v1/decisions?since=999999d", "since is at most 3650d"},
           {"/api/v1/decisions?verdict=maybe", "verdict is allow or revert"},
           {"/api/v1/decisions?limit=0", "limit is a number from 1 to 1000"},
           {"/api/v1/decisions?limit=5000", "limit is a number"},
           {"/api/v1/decisions?limit=ten", "limit is a number"},
           {"/api/v1/decisions?cursor=zz", "cursor is not one this server gave"},
           {"/api/v1/decisions?cursor=" + std::string(40, 'a'), "cursor is not one this server gave"},
           // "v1\n99999999999999999\n0\nk": a forged position past what the clock holds
           {"/api/v1/decisions?cursor=76310a39393939393939393939393939393939390a300a6b", "cursor is not one this server gave"},
           {"/api/v1/decisions?sinse=24h", "unknown parameter \"sinse\""},
           {"/api/v1/overrides?x=1", "unknown parameter"}}) {
    auto j = s.callJson("GET", path, 400);
    EXPECT_NE(j.value("error", "").find(words), std::string::npos) << path << ": " << j;
  }
  for (const auto& [body, words] : std::vector<std::pair<std::string, std::string>>{
           {"not json", "must be a JSON object"},
           {"[1,2]", "must be a JSON object"},
           {R"({"adress":"a@acme.test"})", "unknown field \"adress\""},
           {R"({"address":7})", "must be a string"},
           {R"({"reason":"x"})", "\"address\" is required"},
           {R"({"address":"not an address"})", "is not an email address"},
           {R"({"address":"a@acme.test","for":"forever"})", "\"for\" expects a duration"},
           {R"({"address":"a@acme.test","for":"400d"})", "at most 365d"}}) {
    auto j = s.callJson("POST", "/api/v1/overrides", 400, kToken, body);
    EXPECT_NE(j.value("error", "").find(words), std::string::npos) << body << ": " << j;
  }
  EXPECT_NE(s.callJson("POST", "/api/v1/suppressions", 400, kToken, R"({"address":"@not a domain"})")
                .value("error", "")
                .find("neither an email address nor @domain"),
            std::string::npos);
  EXPECT_NE(s.callJson("DELETE", "/api/v1/overrides", 400).value("error", "").find("give the address"), std::string::npos);
  // Unknown paths and methods.
  EXPECT_EQ(s.callJson("GET", "/api/v1/nothing", 404)["error"], "no such path");
  EXPECT_EQ(s.callJson("GET", "/api/v2/decisions", 404)["error"], "no such path");
  auto del = s.call("DELETE", "/api/v1/decisions");
  EXPECT_EQ(del.status, 405);
  EXPECT_EQ(del.header("allow"), "GET, HEAD");
  auto get = s.call("GET", "/api/v1/reload");
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.header("allow"), "POST");
  EXPECT_EQ(s.call("PUT", "/api/v1/overrides").header("allow"), "GET, HEAD, POST, DELETE");
  EXPECT_EQ(s.call("POST", "/healthz", "").status, 405);
}

TEST(AdminApi, ADecisionInFullHasItsSignalsActionsAndNotifications) {
  ApiServer s;
  auto d = decision("held1", "revert", "bounce_risk");
  d.state = EmailState::Reverting;
  OutboxMessage note;
  note.dedupe_key = "notify|" + d.key;
  note.kind = "slack";
  note.payload = Json{{"text", "held"}};
  s.store().recordDecision(d);
  s.store().transition(d.key, EmailState::Reverted, "moved to draft", 1, note);
  OutboxMessage other;  // another email's notification is not this one's
  other.dedupe_key = "notify|" + d.key + "x";
  other.kind = "slack";
  s.store().recordDecision(decision("held1x", "allow", ""));
  s.store().audit("x", "unrelated", Json::object(), other);
  // The key is percent-encoded in the path ('|' and '@').
  std::string encoded;
  for (unsigned char c : d.key) {
    char buf[4];
    std::snprintf(buf, sizeof buf, "%%%02X", c);
    encoded += std::isalnum(c) ? std::string(1, static_cast<char>(c)) : std::string(buf);
  }
  auto j = s.callJson("GET", "/api/v1/decisions/" + encoded, 200);
  EXPECT_EQ(j["key"], d.key);
  EXPECT_EQ(j["state"], "reverted");
  EXPECT_EQ(j["reason"], "bounce_risk");
  ASSERT_EQ(j["signals"].size(), 1u);
  EXPECT_EQ(j["signals"][0]["address"], "to-held1@acme.test");
  EXPECT_EQ(j["signals"][0]["signals"][0]["name"], "NXDOMAIN");
  EXPECT_EQ(j["signals"][0]["signals"][0]["weight"], 10.0);
  EXPECT_EQ(j["signals"][0]["signals"][0]["evidence"], "acme.test: NXDOMAIN");
  std::vector<std::string> events;
  for (const auto& a : j["actions"]) events.push_back(a["event"]);
  EXPECT_EQ(events, (std::vector<std::string>{"decided", "reverted"}));
  ASSERT_EQ(j["notifications"].size(), 1u);
  EXPECT_EQ(j["notifications"][0]["kind"], "slack");
  EXPECT_EQ(j["notifications"][0]["state"], "pending");
  EXPECT_NE(s.callJson("GET", "/api/v1/decisions/close-main%7Cnope", 404).value("error", "").find("no decision"),
            std::string::npos);
}

// ---- actions, and the CLI sees them --------------------------------------------------------

TEST(AdminApi, OverridesAndSuppressionsMadeHereAreWhatTheCliShows) {
  ApiServer s;
  auto o = s.callJson("POST", "/api/v1/overrides", 201, kToken,
                      R"({"address":"Jane@Acme.test","for":"7d","reason":"the customer confirmed it"})");
  EXPECT_EQ(o["address"], "jane@acme.test");
  EXPECT_EQ(o["who"], admin::kApiWho);
  auto listed = s.callJson("GET", "/api/v1/overrides", 200, kReadToken);
  ASSERT_EQ(listed["overrides"].size(), 1u);
  std::string out = cli({"overrides", "-c", s.config(), "--json"});
  auto line = Json::parse(out.substr(0, out.find('\n')));
  EXPECT_EQ(line["address"], "jane@acme.test");
  EXPECT_EQ(line["reason"], "the customer confirmed it");
  EXPECT_EQ(line["who"], admin::kApiWho);
  // Removed from the API: gone from the CLI; removed twice: 404.
  EXPECT_EQ(s.callJson("DELETE", "/api/v1/overrides?address=jane@acme.test", 200)["removed"], "jane@acme.test");
  EXPECT_EQ(cli({"overrides", "-c", s.config(), "--json"}), "");
  EXPECT_EQ(s.callJson("DELETE", "/api/v1/overrides", 404, kToken, R"({"address":"jane@acme.test"})")["error"],
            "jane@acme.test: no override");
  // Added by the CLI: seen here.
  cli({"overrides", "add", "bob@globex.test", "-c", s.config(), "--for", "2d"});
  EXPECT_EQ(s.callJson("GET", "/api/v1/overrides", 200)["overrides"][0]["address"], "bob@globex.test");

  // Suppressions: an address and a whole domain.
  auto sup = s.callJson("POST", "/api/v1/suppressions", 201, kToken, R"({"address":"bob@globex.test","reason":"asked us to stop"})");
  EXPECT_EQ(sup["subject"], "bob@globex.test");
  EXPECT_EQ(sup["state"], "suppressed");
  EXPECT_EQ(s.callJson("GET", "/api/v1/overrides", 200)["overrides"].size(), 0u);  // a suppression ends its release
  EXPECT_EQ(s.callJson("POST", "/api/v1/suppressions", 201, kToken, R"({"address":"@Spam.test"})")["subject"], "@spam.test");
  out = cli({"suppressions", "-c", s.config(), "--json"});
  EXPECT_NE(out.find("\"subject\":\"bob@globex.test\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"subject\":\"@spam.test\""), std::string::npos) << out;
  EXPECT_NE(out.find("asked us to stop"), std::string::npos) << out;
  EXPECT_EQ(s.callJson("GET", "/api/v1/suppressions", 200)["suppressions"].size(), 2u);
  EXPECT_EQ(s.callJson("DELETE", "/api/v1/suppressions?address=%40spam.test", 200)["cleared"], "@spam.test");
  cli({"suppressions", "clear", "bob@globex.test", "-c", s.config()});
  EXPECT_EQ(s.callJson("GET", "/api/v1/suppressions", 200)["suppressions"].size(), 0u);
  EXPECT_EQ(s.callJson("DELETE", "/api/v1/suppressions?address=bob@globex.test", 404)["error"],
            "bob@globex.test: not suppressed or held");
  // Every write is in the audit log with who made it.
  bool audited = false;
  for (const auto& a : s.store().auditFor("override|jane@acme.test"))
    audited = audited || (a.event == "removed" && a.detail.dump().find(admin::kApiWho) != std::string::npos);
  EXPECT_TRUE(audited);
}

TEST(AdminApi, SendersAndTheFailsafeLikeTheirCliTwins) {
  ApiServer s;
  const TimePoint now = Clock::now();
  SenderState paused{"riley@seller.test", "paused", now - minutes(5), now + hours(4), 1, "12 bounced of 60 sent"};
  s.store().putSender(paused, std::nullopt);
  auto list = s.callJson("GET", "/api/v1/senders", 200, kReadToken);
  ASSERT_EQ(list["senders"].size(), 1u);
  EXPECT_EQ(list["senders"][0]["state"], "paused");
  EXPECT_EQ(list["senders"][0]["evidence"], "12 bounced of 60 sent");
  EXPECT_EQ(Json::parse(cli({"senders", "-c", s.config(), "--json"})), list["senders"][0]);
  EXPECT_EQ(s.callJson("POST", "/api/v1/senders/Riley@seller.test/release", 200)["released"], "riley@seller.test");
  EXPECT_EQ(s.callJson("GET", "/api/v1/senders", 200)["senders"][0]["state"], "active");
  EXPECT_EQ(s.callJson("POST", "/api/v1/senders/riley@seller.test/release", 409)["error"], "riley@seller.test: not paused");

  auto fs = s.callJson("GET", "/api/v1/failsafe", 200, kReadToken);
  EXPECT_EQ(fs["active"], false);
  EXPECT_EQ(s.callJson("POST", "/api/v1/failsafe/resume", 409)["error"], "the fail-safe is not on: nothing to resume");
  // Tripped (as the daemon records it), then resumed here: the CLI says it is off.
  s.store().putConnectorStates("_failsafe", {{"active_since", std::to_string(toMillis(now))}, {"why", "31 of 40 held"}});
  EXPECT_EQ(Json::parse(cli({"failsafe", "status", "--json", "-c", s.config()})), s.callJson("GET", "/api/v1/failsafe", 200));
  EXPECT_EQ(s.callJson("GET", "/api/v1/failsafe", 200)["why"], "31 of 40 held");
  // Readiness shows it too (still 200: the daemon works), and its one-line summary (the STATUS line).
  auto ready = s.callJson("GET", "/readyz", 200, "");
  EXPECT_EQ(ready["failsafe"]["active"], true);
  EXPECT_EQ(ready["failsafe"]["why"], "31 of 40 held");
  EXPECT_NE(ready["summary"].get<std::string>().find("FAIL-SAFE ON"), std::string::npos) << ready["summary"];
  EXPECT_EQ(s.callJson("POST", "/api/v1/failsafe/resume", 200)["active"], false);
  EXPECT_EQ(Json::parse(cli({"failsafe", "status", "--json", "-c", s.config()}))["active"], false);
  EXPECT_EQ(s.callJson("GET", "/readyz", 200, "")["failsafe"]["active"], false);
  EXPECT_EQ(s.callJson("GET", "/readyz", 200, "")["summary"].get<std::string>().find("FAIL-SAFE"), std::string::npos);
}

TEST(AdminApi, ReloadAndMetricsCallTheDaemon) {
  int reloads = 0;
  bool refuse = false;
  admin::ApiHooks hooks;
  hooks.reload = [&]() -> std::optional<std::string> {
    ++reloads;
    if (refuse) return std::string("t.yaml:3:1: poll_interval: expected a duration");
    return std::nullopt;
  };
  hooks.metrics = [] { return std::string("# TYPE safetynet_up gauge\nsafetynet_up 1\n"); };
  ApiServer s({}, hooks);
  EXPECT_EQ(s.callJson("POST", "/api/v1/reload", 200)["reloaded"], true);
  refuse = true;
  EXPECT_NE(s.callJson("POST", "/api/v1/reload", 422).value("error", "").find("poll_interval"), std::string::npos);
  EXPECT_EQ(reloads, 2);
  auto m = s.call("GET", "/metrics", kReadToken);
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(m.body, "# TYPE safetynet_up gauge\nsafetynet_up 1\n");
}

// ---- the server: TLS and limits ------------------------------------------------------------

TEST(AdminServer, ServesTlsThatTheClientVerifiesAgainstTheTestCaAndTheHostName) {
  TestCa ca;
  AdminServerOptions o;
  o.tls_cert_file = ca.cert();
  o.tls_key_file = ca.key();
  ApiServer s(o);
  s.useCa(ca.ca(), "localhost");
  EXPECT_EQ(s.callJson("GET", "/api/v1/overrides", 200)["overrides"].size(), 0u);
  // The certificate names localhost only: the same server by its IP address is refused.
  s.useCa(ca.ca(), "127.0.0.1");
  std::string error;
  try {
    s.call("GET", "/healthz", "");
  } catch (const HttpError& e) {
    error = e.what();
  }
  EXPECT_NE(error.find("certificate verify failed"), std::string::npos) << error;
  // And a client that does not know the CA refuses it too.
  s.useCa("", "localhost");
  error.clear();
  try {
    s.call("GET", "/healthz", "");
  } catch (const HttpError& e) {
    error = e.what();
  }
  EXPECT_NE(error.find("certificate verify failed"), std::string::npos) << error;
  // Plain HTTP to the TLS port gets nothing, and the server goes on.
  RawClient raw(s.port());
  raw.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(raw.readAll(seconds(5)).find("200 OK"), std::string::npos);
  s.useCa(ca.ca(), "localhost");
  EXPECT_EQ(s.callJson("GET", "/healthz", 200, "")["status"], "ok");
}

TEST(AdminServer, RefusesToStartWithAKeyThatIsNotTheCertificates) {
  TestCa a, b;
  asio::io_context io;
  AdminServerOptions o;
  o.tls_cert_file = a.cert();
  o.tls_key_file = b.key();
  try {
    AdminServer server(io.get_executor(), o, [](const AdminHttpRequest&) { return AdminHttpResponse{}; });
    FAIL() << "started";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("admin_api.tls.key_file"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("mismatch"), std::string::npos) << e.what();
  }
}

TEST(AdminServer, AnOversizedBodyIs413AndAnOversizedHeader431) {
  AdminServerOptions o;
  o.max_body_bytes = 4096;
  o.max_header_bytes = 2048;
  ApiServer s(o);
  {
    RawClient raw(s.port());
    raw.send("POST /api/v1/overrides HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kToken +
             "\r\nContent-Length: 100000\r\n\r\n" + std::string(5000, 'x'));
    const std::string answer = raw.readAll();
    EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer;
    EXPECT_NE(answer.find("too large"), std::string::npos);
  }
  {
    RawClient raw(s.port());
    raw.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'y') + "\r\n\r\n");
    const std::string answer = raw.readAll();
    EXPECT_EQ(answer.rfind("HTTP/1.1 431", 0), 0u) << answer;
  }
  {
    RawClient raw(s.port());
    raw.send("NOT HTTP AT ALL\r\n\r\n");
    EXPECT_EQ(raw.readAll().rfind("HTTP/1.1 400", 0), 0u);
  }
  EXPECT_TRUE(admin::listOverrides(s.store(), Clock::now()).empty());
  EXPECT_EQ(s.callJson("GET", "/healthz", 200, "")["status"], "ok");  // and the server goes on
}

TEST(AdminServer, ASlowClientHoldsOnlyItsOwnConnectionAndIsCutOff) {
  AdminServerOptions o;
  o.read_timeout = milliseconds(3000);
  ApiServer s(o);
  // Slowloris: a header sent a byte at a time, never finished (it would take 13 s); a second one
  // that sends nothing.
  RawClient slow(s.port()), silent(s.port());
  std::thread dribble([&] {
    const std::string partial = "GET /api/v1/decisions HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    for (char c : partial + std::string(80, 'z')) {
      boost::system::error_code ec;
      asio::write(slow.socket, asio::buffer(&c, 1), ec);
      if (ec) break;
      std::this_thread::sleep_for(milliseconds(100));
    }
  });
  // Meanwhile everyone else is served, before the slow one's read_timeout: not queued behind it.
  const auto t0 = steady_clock::now();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(s.call("GET", "/api/v1/overrides").status, 200);
  EXPECT_LT(steady_clock::now() - t0, o.read_timeout);
  // The slow one is cut off after read_timeout (408), well before it would have finished.
  const std::string answer = slow.readAll(seconds(10));
  EXPECT_EQ(answer.rfind("HTTP/1.1 408", 0), 0u) << answer;
  EXPECT_LT(steady_clock::now() - t0, seconds(9));
  EXPECT_EQ(silent.readAll(seconds(3)).rfind("HTTP/1.1 408", 0), 0u);
  dribble.join();
}

TEST(AdminServer, KeepsConnectionsAliveAndCapsHowManyAreOpen) {
  AdminServerOptions o;
  o.max_connections = 3;
  ApiServer s(o);
  {
    RawClient raw(s.port());
    raw.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const std::string both = raw.readAll();
    EXPECT_EQ(std::count(both.begin(), both.end(), '{'), 2) << both;  // two answers on one connection
  }
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 3; ++i) idle.push_back(std::make_unique<RawClient>(s.port()));
  std::this_thread::sleep_for(milliseconds(200));
  RawClient extra(s.port());  // the fourth is closed at once
  extra.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(extra.readAll(seconds(3)), "");
  idle.clear();  // the idle ones go: room again, once the server has seen them close
  const auto roomBy = steady_clock::now() + seconds(5);
  for (;;) {
    RawClient probe(s.port());
    probe.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    if (probe.readAll(seconds(1)).rfind("HTTP/1.1 200", 0) == 0 || steady_clock::now() > roomBy) break;
  }
  EXPECT_EQ(s.callJson("GET", "/healthz", 200, "")["status"], "ok");
}

// The daemon shuts its io_context down before it destroys the admin server (runDaemon): a session
// still open then is a coroutine frame destroyed unfinished, its socket with it. The server must
// not keep that socket to close it later (a heap-use-after-free under ASan when it did).
TEST(AdminServer, AConnectionOpenWhenTheIoContextShutsDownIsForgotten) {
  struct ShutDownable : asio::io_context {
    using asio::io_context::shutdown;
  } io;
  auto server = std::make_unique<AdminServer>(io.get_executor(), AdminServerOptions{},
                                              [](const AdminHttpRequest&) { return AdminHttpResponse{}; });
  RawClient idle(server->port());  // keep-alive, sends nothing: its session waits to read
  const auto until = steady_clock::now() + seconds(5);
  while (server->openConnections() < 1 && steady_clock::now() < until) io.run_for(milliseconds(20));
  ASSERT_EQ(server->openConnections(), 1);
  io.shutdown();
  EXPECT_EQ(server->openConnections(), 0);
  server.reset();  // stop(): closes what it tracks
}

TEST(AdminServer, AnswersHeadWithTheLengthAndNoBody) {
  ApiServer s;
  RawClient raw(s.port());
  raw.send("HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const std::string answer = raw.readAll();
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  EXPECT_NE(answer.find("Content-Length: 16\r\n"), std::string::npos) << answer;  // {"status":"ok"}\n
  EXPECT_EQ(answer.substr(answer.size() - 4), "\r\n\r\n") << answer;               // and nothing after the header
}

// ---- the dashboard (issue 11 item 4) ---------------------------------------------------------

TEST(AdminDashboard, PagesAreServedWithoutATokenWithTheirTypesAndSecurityHeaders) {
  ApiServer s;
  const std::string web = std::string(SAFETYNET_SOURCE_DIR) + "/src/admin/web/";
  for (const auto& [path, file, type] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"/", "index.html", "text/html; charset=utf-8"},
           {"/ui/dashboard.css", "dashboard.css", "text/css; charset=utf-8"},
           {"/ui/dom.js", "dom.js", "text/javascript; charset=utf-8"},
           {"/ui/api.js", "api.js", "text/javascript; charset=utf-8"},
           {"/ui/chart.js", "chart.js", "text/javascript; charset=utf-8"},
           {"/ui/dashboard.js", "dashboard.js", "text/javascript; charset=utf-8"}}) {
    auto r = s.call("GET", path, "");
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.header("content-type"), type) << path;
    EXPECT_EQ(r.body, readFile(web + file)) << path << ": not the file as it is in src/admin/web";
    const std::string csp = r.header("content-security-policy");
    EXPECT_EQ(csp.rfind("default-src 'self'; script-src 'self'; style-src 'self';", 0), 0u) << path << ": " << csp;
    EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
    EXPECT_EQ(r.header("x-content-type-options"), "nosniff") << path;
    EXPECT_EQ(r.header("x-frame-options"), "DENY") << path;
    EXPECT_EQ(r.header("referrer-policy"), "no-referrer") << path;
    EXPECT_EQ(r.header("cache-control"), "no-store") << path;
    // Nothing from the internet (SVG's namespace is a name, never fetched), and the data goes on
    // the page as text only.
    const std::string urls = std::regex_replace(r.body, std::regex("http://www\\.w3\\.org/2000/svg"), "");
    EXPECT_EQ(urls.find("http://"), std::string::npos) << path;
    EXPECT_EQ(urls.find("https://"), std::string::npos) << path;
    EXPECT_EQ(r.body.find("innerHTML"), std::string::npos) << path;
    EXPECT_EQ(r.body.find("insertAdjacentHTML"), std::string::npos) << path;
  }
  // The page has no inline script or style (the policy would refuse them): every <script> has a src.
  const std::string page = s.call("GET", "/", "").body;
  for (size_t at = page.find("<script"); at != std::string::npos; at = page.find("<script", at + 1))
    EXPECT_EQ(page.compare(at, 13, "<script src=\""), 0) << page.substr(at, 60);
  EXPECT_EQ(page.find("<style"), std::string::npos);
  EXPECT_EQ(page.find(" style="), std::string::npos);
  EXPECT_FALSE(std::regex_search(page, std::regex(" on[a-z]+="))) << "an inline event handler";
  // Unknown files, other methods; API answers are not sniffed or kept either.
  for (const std::string path : {"/ui/nothing.js", "/ui/", "/ui/%2E%2E%2Fapi.js", "/ui/web/api.js", "/ui/index.html/x"}) {
    auto r = s.call("GET", path, "");
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(Json::parse(r.body)["error"], "no such file in the dashboard") << path;
  }
  auto post = s.call("POST", "/", "");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("allow"), "GET, HEAD");
  EXPECT_EQ(s.call("DELETE", "/ui/api.js", kToken).status, 405);
  auto api = s.call("GET", "/api/v1/access", kReadToken);
  EXPECT_EQ(api.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(api.header("cache-control"), "no-store");
  EXPECT_EQ(s.call("GET", "/index.html", "").status, 401);  // only / and /ui/ are the dashboard's
}

TEST(AdminDashboard, AccessSaysWhatTheTokenMayDo) {
  ApiServer s;
  EXPECT_EQ(s.callJson("GET", "/api/v1/access", 200)["access"], "full");
  EXPECT_EQ(s.callJson("GET", "/api/v1/access", 200, kReadToken)["access"], "read");
  EXPECT_EQ(s.call("GET", "/api/v1/access", "").status, 401);
  EXPECT_EQ(s.call("GET", "/api/v1/access", "wrong-token-0123456789").status, 401);
  EXPECT_NE(s.callJson("GET", "/api/v1/access?x=1", 400)["error"].get<std::string>().find("unknown parameter"), std::string::npos);
  EXPECT_EQ(s.call("POST", "/api/v1/access").status, 405);
}

TEST(AdminApi, HoldsPerDayCountsHeldEmailsPerReasonAndUtcDay) {
  const TimePoint now = *parseIso8601("2026-11-30T12:00:00Z");
  admin::ApiHooks hooks;
  hooks.now = [now] { return now; };
  ApiServer s({}, hooks);
  // Decisions stamped by a store whose clock the test sets (the API's store stamps with the real one).
  TimePoint clock = now;
  auto seed = openSqliteStore((std::filesystem::path(s.config()).parent_path() / "state").string(), [&] { return clock; });
  int id = 0;
  auto at = [&](const char* iso, const std::string& verdict, const std::string& reason) {
    clock = *parseIso8601(iso);
    seed->recordDecision(decision("d" + std::to_string(id++), verdict, reason));
  };
  at("2026-11-27T23:59:59.999Z", "revert", "bounce_risk");  // before the window of 3 days
  at("2026-11-28T00:00:00Z", "revert", "bounce_risk");
  at("2026-11-28T13:00:00Z", "revert", "spamtrap");
  at("2026-11-28T14:00:00Z", "allow", "");  // allowed: not a hold
  at("2026-11-30T11:59:00Z", "revert", "bounce_risk");
  at("2026-11-30T11:59:30Z", "revert", "bounce_risk");
  auto j = s.callJson("GET", "/api/v1/stats/holds?days=3", 200, kReadToken);
  EXPECT_EQ(j["days"], Json::parse(R"(["2026-11-28","2026-11-29","2026-11-30"])"));
  EXPECT_EQ(j["reasons"], Json::parse(R"({"bounce_risk":[1,0,2],"spamtrap":[1,0,0]})")) << j;
  auto month = s.callJson("GET", "/api/v1/stats/holds", 200);  // 30 days by default
  EXPECT_EQ(month["days"].size(), 30u);
  EXPECT_EQ(month["days"][0], "2026-11-01");
  EXPECT_EQ(month["reasons"]["bounce_risk"][26], 1) << month;  // 2026-11-27
  EXPECT_EQ(s.callJson("GET", "/api/v1/stats/holds?days=1", 200)["reasons"], Json::parse(R"({"bounce_risk":[2]})"));
  for (const auto& [query, words] : std::vector<std::pair<std::string, std::string>>{
           {"days=0", "days is a number from 1 to 366, not \"0\""},
           {"days=367", "days is a number from 1 to 366"},
           {"days=week", "days is a number from 1 to 366, not \"week\""},
           {"days=", "days is a number"},
           {"day=3", "unknown parameter \"day\" (parameters: days)"}}) {
    auto bad = s.callJson("GET", "/api/v1/stats/holds?" + query, 400);
    EXPECT_NE(bad.value("error", "").find(words), std::string::npos) << query << ": " << bad;
  }
  EXPECT_EQ(s.call("GET", "/api/v1/stats/holds", "").status, 401);
  EXPECT_EQ(s.call("GET", "/api/v1/stats/holds", kToken + "x").status, 401);
  EXPECT_EQ(s.call("POST", "/api/v1/stats/holds", kReadToken).status, 405);
  EXPECT_EQ(s.call("GET", "/api/v1/stats/nothing").status, 404);
}

TEST(AdminApi, AddressSearchFindsPartOfARecipientInAnyCaseLikeTheCli) {
  ApiServer s;
  s.store().recordDecision(decision("jane", "revert", "bounce_risk"));
  s.store().recordDecision(decision("janet", "allow", ""));
  s.store().recordDecision(decision("bob", "revert", "spamtrap"));
  auto keys = [&](const std::string& query, const std::string& token = kToken) {
    const Json page = s.callJson("GET", "/api/v1/decisions?" + query, 200, token);
    std::vector<std::string> out;
    for (const auto& d : page["decisions"]) out.push_back(d["email_id"]);
    std::sort(out.begin(), out.end());
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(keys("address=TO-JANE"), (V{"jane", "janet"}));
  EXPECT_EQ(keys("address=to-jane%40acme.test", kReadToken), (V{"jane"}));
  EXPECT_EQ(keys("address=%40ACME.test&verdict=revert"), (V{"bob", "jane"}));
  EXPECT_EQ(keys("address=jane&reason=spamtrap"), V{});
  EXPECT_EQ(keys("address=nobody"), V{});
  EXPECT_EQ(keys("address=%25"), V{});  // a literal '%', not a wildcard
  EXPECT_EQ(keys("address="), (V{"bob", "jane", "janet"}));  // empty: any
  EXPECT_EQ(s.call("GET", "/api/v1/decisions?address=jane", "").status, 401);
  EXPECT_NE(s.callJson("GET", "/api/v1/decisions?adress=jane", 400).value("error", "").find("unknown parameter \"adress\""),
            std::string::npos);
  // The CLI's twin: the same query.
  const std::string out = cli({"decisions", "-c", s.config(), "--address", "Jane@", "--json"});
  EXPECT_NE(out.find("\"email_id\":\"jane\""), std::string::npos) << out;
  EXPECT_EQ(out.find("janet"), std::string::npos) << out;
  EXPECT_EQ(out.find("bob"), std::string::npos) << out;
}

// ---- the daemon ------------------------------------------------------------------------------

namespace {
Json getJson(asio::io_context& io, HttpClient& c, const std::string& url, int* status, const std::string& token = "") {
  HttpRequest r;
  r.url = url;
  if (!token.empty()) r.headers.emplace_back("Authorization", "Bearer " + token);
  try {
    auto resp = runTask(io, c.send(r));
    *status = resp.status;
    return Json::parse(resp.body, nullptr, false);
  } catch (const HttpError&) {
    *status = 0;
    return Json();
  }
}
}  // namespace

TEST(AdminDaemon, ReadyzTurns503WhenAConnectorsPollsFailAndBackWhenTheyWork) {
  TempDir dir;
  IoThread platforms;
  fakes::FakeClose close(platforms.io().get_executor(), "close-key");
  std::ofstream(dir / "admin.token") << kToken << "\n";
  std::ofstream(dir / "read.token") << kReadToken << "\n";
  const unsigned short port = freePort();
  std::ofstream(dir / "safetynet.yaml") << adminDaemonConfig(dir.path(), close.baseUrl(), "1s", port, "",
                                                             "  read_token_file: read.token\n");
  Process daemon({SAFETYNET_BINARY, "run", "-c", (dir / "safetynet.yaml").string()}, dir / "daemon.log");
  ASSERT_TRUE(waitForTcp(port, seconds(20))) << readFile(dir / "daemon.log");
  asio::io_context io;
  HttpClientOptions co;
  co.timeout = seconds(5);
  co.retry.max_attempts = 1;
  auto client = makeHttpClient(io.get_executor(), co);
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  int status = 0;
  EXPECT_EQ(getJson(io, *client, base + "/healthz", &status)["status"], "ok");
  EXPECT_EQ(status, 200);
  auto waitFor = [&](int want, seconds limit) {
    Json j;
    const auto end = steady_clock::now() + limit;
    while (steady_clock::now() < end) {
      j = getJson(io, *client, base + "/readyz", &status);
      if (status == want) break;
      std::this_thread::sleep_for(milliseconds(200));
    }
    return j;
  };
  auto ready = waitFor(200, seconds(20));
  ASSERT_EQ(status, 200) << ready << readFile(dir / "daemon.log");
  EXPECT_EQ(ready["ready"], true);
  EXPECT_FALSE(ready["connectors"]["close-main"]["last_success"].is_null());
  // Close fails every request now: within 3 x poll_interval (and the client's retries), not ready.
  FaultPlan down;
  down.rate = 1;
  down.kinds = {FaultKind::ServerError};
  close.setFaults(down);
  auto notReady = waitFor(503, seconds(30));
  ASSERT_EQ(status, 503) << notReady << readFile(dir / "daemon.log");
  EXPECT_EQ(notReady["ready"], false);
  ASSERT_FALSE(notReady["reasons"].empty());
  EXPECT_NE(notReady["reasons"][0].get<std::string>().find("close-main: no successful poll since"), std::string::npos)
      << notReady;
  // The metrics and the API answer meanwhile; a reload through the API works.
  HttpRequest m;
  m.url = base + "/metrics";
  m.headers.emplace_back("Authorization", "Bearer " + kReadToken);
  auto metrics = runTask(io, client->send(m));
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("safetynet_"), std::string::npos) << metrics.body.substr(0, 500);
  HttpRequest reload;
  reload.method = "POST";
  reload.url = base + "/api/v1/reload";
  reload.headers.emplace_back("Authorization", "Bearer " + kToken);
  EXPECT_EQ(runTask(io, client->send(reload)).status, 200);
  // Close is back: ready again.
  close.setFaults(FaultPlan{});
  auto back = waitFor(200, seconds(30));
  EXPECT_EQ(status, 200) << back;
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait(seconds(20)), 0);
  const std::string log = readFile(dir / "daemon.log");
  EXPECT_NE(log.find("admin API on http://127.0.0.1:" + std::to_string(port)), std::string::npos) << log;
  EXPECT_EQ(log.find(kToken), std::string::npos);  // never logged
  EXPECT_EQ(log.find(kReadToken), std::string::npos);
  platforms.closeThenStop([] {});
}

TEST(AdminDaemon, RefusesToStartWhenTheAddressIsTaken) {
  TempDir dir;
  std::ofstream(dir / "admin.token") << kToken << "\n";
  asio::io_context io;
  tcp::acceptor taken(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::ofstream(dir / "safetynet.yaml") << "state_dir: " << (dir / "state").string() << "\n"
                                        << "admin_api:\n  listen: 127.0.0.1:" << taken.local_endpoint().port()
                                        << "\n  token_file: admin.token\n";
  std::string out;
  EXPECT_EQ(runCommand({SAFETYNET_BINARY, "run", "-c", (dir / "safetynet.yaml").string()}, &out, seconds(20)), 1);
  EXPECT_NE(out.find("cannot listen on 127.0.0.1"), std::string::npos) << out;
}
