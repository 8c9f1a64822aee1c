#pragma once
// The three platforms at once for end-to-end tests and bench/in_time: fake Close (API key),
// Outreach and Salesloft (OAuth with rotating refresh tokens), each following its vendor's spec, a
// fake Slack and a real unbound (unless given a DNS server), on their own thread; and the
// safetynet.yaml that points the real daemon at them. Needs no gtest: a failure throws.

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "fakes/fake_close.hpp"
#include "fakes/fake_outreach.hpp"
#include "fakes/fake_salesloft.hpp"
#include "fakes/fake_slack.hpp"
#include "integration/peers.hpp"

namespace safetynet::testing {

using namespace std::chrono;

inline const char* kZones = R"(
  local-zone: "acme.test." static
  local-data: "acme.test. 300 IN MX 10 mx.acme.test."
  local-data: "mx.acme.test. 300 IN A 127.0.0.20"
  local-zone: "globex.test." static
  local-data: "globex.test. 300 IN MX 10 mx.globex.test."
  local-data: "mx.globex.test. 300 IN A 127.0.0.21"
  local-zone: "gmail.com." static
  local-data: "gmail.com. 300 IN MX 5 gmail-smtp-in.l.google.com."
  local-zone: "gmail-smtp-in.l.google.com." static
  local-data: "gmail-smtp-in.l.google.com. 300 IN A 127.0.0.23"
  local-zone: "nullmx.test." static
  local-data: "nullmx.test. 300 IN MX 0 ."
  local-zone: "gone.test." static
)";

inline nlohmann::json salesloftPerson(long id, const std::string& email) {
  return {{"id", id}, {"first_name", "P"}, {"last_name", std::to_string(id)}, {"display_name", "P " + std::to_string(id)},
          {"email_address", email}, {"secondary_email_address", nullptr}, {"personal_email_address", nullptr},
          {"do_not_contact", false}, {"contact_restrictions", nlohmann::json::array()}, {"bouncing", false},
          {"last_replied_at", nullptr}, {"person_company_website", nullptr},
          {"counts", {{"emails_sent", 1}, {"emails_viewed", 1}, {"emails_clicked", 0}, {"emails_replied_to", 0}, {"emails_bounced", 0}}},
          {"owner", {{"id", 5}}}};
}

// Seeds from a comma-separated environment variable ("1,2,3"), else from `fallback`.
inline std::vector<unsigned> seedsFromEnv(const char* var, const char* fallback) {
  std::vector<unsigned> seeds;
  const char* env = std::getenv(var);
  std::stringstream in(env && *env ? env : fallback);
  for (std::string s; std::getline(in, s, ',');)
    if (!s.empty()) seeds.push_back(static_cast<unsigned>(std::stoul(s)));
  return seeds;
}

// Expected outcome per platform email: "" allowed, else the reason it is held for.
struct Expect {
  std::string connector, id, reason;
};

struct SandboxOptions {
  bool seed = true;                  // the fixed emails of the platform tests (expected())
  std::string poll_interval = "1s";  // empty: the daemon's default
  std::string extra_config;          // appended to safetynet.yaml
  std::string dns_server;            // "127.0.0.1:port": no unbound started, the daemon asks this one
  std::string smtp_probe = "{enabled: false}";  // the smtp_probe section of safetynet.yaml
  std::string dns_timeout = "1s";
#ifdef SAFETYNET_BINARY
  std::string binary = SAFETYNET_BINARY;  // the safetynet binary decisions() runs
#else
  std::string binary;
#endif
};

class PlatformSandbox {
 public:
  explicit PlatformSandbox(SandboxOptions options = {})
      : close_(io_.get_executor(), "close-key"),
        outreach_(io_.get_executor(), milliseconds(1000)),  // one token a second, like Outreach's one a minute
        salesloft_(io_.get_executor(), "unused-key"),
        slack_(io_.get_executor(), "xoxb-e2e"),
        binary_(options.binary) {
    if (options.dns_server.empty()) dns_.emplace(kZones);
    slack_.addChannel("C0DELIV", "#deliverability");
    slack_.addUser("U0SAM", "sam.home@personal.test", "sam.seller");  // found by Salesloft's slack_username
    slack_.addUser("U0RILEY", "riley@seller.test", "riley");
    close_.addUser("user_rep1", "riley@seller.test", "Riley", "Rep");
    outreach_.addUser(7, "riley@seller.test", "Riley", "Rep");
    salesloft_.addUser(5, "sam@seller.test", "Sam Seller", "sam.seller");
    if (options.seed) seed();
    writeConfig(options);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~PlatformSandbox() {
    guard_.reset();
    io_.stop();
    thread_.join();
  }

  // The platform tests' emails: each kind of risk each platform can tell, and good ones.
  void seed() {
    int n = 10;
    auto at = [&n] { return Clock::now() + minutes(n++); };

    // Close: API key.
    close_.addContact("cont_1", "Jane", std::vector<std::string>{"jane@acme.test"});
    close_.addContact("cont_2", "Dan", std::vector<std::string>{"dan@acme.test", "dan.old@globex.test"});
    addClose("c_good", "jane@acme.test", "cont_1", at(), "");
    addClose("c_nx", "lee@gone.test", "", at(), "bounce_risk");
    addClose("c_secondary", "dan.old@globex.test", "cont_2", at(), "secondary_email");

    // Outreach: OAuth with rotating refresh tokens.
    prospect(1, {{"bob@globex.test", "work", ""}});
    prospect(2, {{"opt@acme.test", "work", ""}}, true);
    prospect(3, {{"gone@acme.test", "work", "bounced"}});
    prospect(4, {{"kim@acme.test", "work", ""}, {"kim.k@gmail.com", "personal", ""}});
    addOutreach(101, "bob@globex.test", 1, at(), "");
    addOutreach(102, "opt@acme.test", 2, at(), "do_not_mail");
    addOutreach(103, "gone@acme.test", 3, at(), "bounce_risk");
    addOutreach(104, "kim.k@gmail.com", 4, at(), "secondary_email");

    // Salesloft: OAuth too; the rep has a Slack username.
    salesloft_.addPerson(salesloftPerson(11, "pat@acme.test"));
    auto dnc = salesloftPerson(12, "dnc@globex.test");
    dnc["do_not_contact"] = true;
    salesloft_.addPerson(dnc);
    auto bouncing = salesloftPerson(13, "bouncy@acme.test");
    bouncing["bouncing"] = true;
    salesloft_.addPerson(bouncing);
    auto dead = salesloftPerson(14, "quiet@globex.test");
    dead["counts"] = {{"emails_sent", 20}, {"emails_viewed", 0}, {"emails_clicked", 0}, {"emails_replied_to", 0}, {"emails_bounced", 0}};
    salesloft_.addPerson(dead);
    salesloft_.addPerson(salesloftPerson(15, "ops@nullmx.test"));
    addSalesloft(201, "pat@acme.test", 11, at(), "");
    addSalesloft(202, "dnc@globex.test", 12, at(), "do_not_mail");
    addSalesloft(203, "bouncy@acme.test", 13, at(), "bounce_risk");
    addSalesloft(204, "quiet@globex.test", 14, at(), "dead_email");
    addSalesloft(205, "ops@nullmx.test", 15, at(), "bounce_risk");
  }

  void writeConfig(const SandboxOptions& options) {
    std::ofstream(dir_ / "outreach.secret") << fakes::FakeOutreach::kClientSecret << "\n";
    std::ofstream(dir_ / "outreach.refresh") << fakes::FakeOutreach::kFirstRefreshToken << "\n";
    std::ofstream(dir_ / "safetynet.yaml")
        << "state_dir: " << (dir_ / "state").string() << "\n"
        << (options.poll_interval.empty() ? "" : "poll_interval: " + options.poll_interval + "\n")
        << "shutdown_grace: 2s\n"
        << "smtp_probe: " << options.smtp_probe << "\n"
        << "dns: {servers: [\"" << (dns_ ? dns_->server() : options.dns_server) << "\"], timeout: " << options.dns_timeout << "}\n"
        << "connectors:\n"
        << "  - name: close-e2e\n    type: close\n    base_url: " << close_.baseUrl() << "\n    api_key: close-key\n    backfill: 2d\n"
        << "  - name: outreach-e2e\n    type: outreach\n    base_url: " << outreach_.baseUrl() << "\n"
        << "    oauth:\n      token_url: " << outreach_.tokenUrl() << "\n      client_id: " << fakes::FakeOutreach::kClientId
        << "\n      client_secret_file: " << (dir_ / "outreach.secret").string()
        << "\n      refresh_token_file: " << (dir_ / "outreach.refresh").string() << "\n      min_mint_interval: 1s\n"
        << "  - name: salesloft-e2e\n    type: salesloft\n    base_url: " << salesloft_.baseUrl() << "\n"
        << "    oauth:\n      token_url: " << salesloft_.tokenUrl() << "\n      client_id: " << fakes::FakeSalesloft::kClientId
        << "\n      client_secret: " << fakes::FakeSalesloft::kClientSecret
        << "\n      refresh_token: " << fakes::FakeSalesloft::kFirstRefreshToken << "\n"
        << "notify:\n  slack: {bot_token: xoxb-e2e, base_url: \"" << slack_.baseUrl()
        << "\", channel: \"#deliverability\", dm_rep: true, in_flight_wait: 5s}\n"
        << options.extra_config;
  }
  std::string config() const { return (dir_ / "safetynet.yaml").string(); }
  const TempDir& dir() const { return dir_; }
  fakes::FakeClose& close() { return close_; }
  fakes::FakeOutreach& outreach() { return outreach_; }
  fakes::FakeSalesloft& salesloft() { return salesloft_; }
  fakes::FakeSlack& slack() { return slack_; }
  const std::vector<Expect>& expected() const { return expected_; }

  // The platform's own word on whether the email will still go out.
  std::string platformState(const Expect& e) {
    if (e.connector == "close-e2e") return close_.status(e.id);
    if (e.connector == "outreach-e2e") return outreach_.state(std::stol(e.id));
    return salesloft_.status(std::stol(e.id));
  }
  // `safetynet decisions --json`, by "connector/email_id"; throws if it fails or an email was
  // decided twice.
  std::map<std::string, nlohmann::json> decisions() {
    std::string out;
    if (const int rc = runCommand({binary_, "decisions", "-c", config(), "--since", "1d", "--json"}, &out); rc != 0)
      throw std::runtime_error("safetynet decisions exited " + std::to_string(rc) + ": " + out.substr(0, 12000));
    std::map<std::string, nlohmann::json> byKey;
    std::stringstream ss(out);
    for (std::string line; std::getline(ss, line);)
      if (!line.empty() && line[0] == '{') {
        auto d = nlohmann::json::parse(line);
        const std::string key = d["connector"].get<std::string>() + "/" + d["email_id"].get<std::string>();
        if (!byKey.emplace(key, d).second) throw std::runtime_error("decided twice: " + key);
      }
    return byKey;
  }

  // A distant platform: every API round trip on the three platforms costs `rtt`.
  void setLatency(milliseconds rtt) {
    close_.setLatency(rtt);
    outreach_.setLatency(rtt);
    salesloft_.setLatency(rtt);
  }

  void addClose(const std::string& id, const std::string& to, const std::string& contact, TimePoint when,
                const std::string& reason) {
    fakes::FakeCloseEmail e;
    e.id = id;
    e.to = {to};
    e.subject = "Subject " + id;
    e.scheduled_at = when;
    e.contact_id = contact;
    close_.addEmail(e);
    expected_.push_back({"close-e2e", id, reason});
  }
  void prospect(long id, std::vector<std::tuple<std::string, std::string, std::string>> addresses, bool optedOut = false) {
    fakes::FakeOutreachProspect p;
    p.id = id;
    p.first_name = "Prospect";
    p.last_name = std::to_string(id);
    p.addresses = std::move(addresses);
    p.opted_out = optedOut;
    p.owner_id = 7;
    outreach_.addProspect(p);
  }
  void addOutreach(long id, const std::string& to, long prospect, TimePoint when, const std::string& reason) {
    fakes::FakeOutreachMailing m;
    m.id = id;
    m.to = {to};
    m.subject = "Subject " + std::to_string(id);
    m.scheduled_at = when;
    m.prospect_id = prospect;
    m.user_id = 7;
    m.sequence_state_id = 900 + id;
    outreach_.addMailing(m);
    expected_.push_back({"outreach-e2e", std::to_string(id), reason});
  }
  void addSalesloft(long id, const std::string& to, long person, TimePoint when, const std::string& reason) {
    fakes::FakeSalesloftEmail e;
    e.id = id;
    e.to = to;
    e.send_after = when;
    e.person_id = person;
    e.user_id = 5;
    e.cadence_id = 31;
    salesloft_.addEmail(e);
    expected_.push_back({"salesloft-e2e", std::to_string(id), reason});
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_ = asio::make_work_guard(io_);
  TempDir dir_;
  fakes::FakeClose close_;
  fakes::FakeOutreach outreach_;
  fakes::FakeSalesloft salesloft_;
  fakes::FakeSlack slack_;
  std::string binary_;
  std::optional<Unbound> dns_;
  std::thread thread_;
  std::vector<Expect> expected_;
};

}  // namespace safetynet::testing
