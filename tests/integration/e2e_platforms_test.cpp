// End to end with all three platforms at once: the real `safetynet run --once` against fake
// Close, Outreach and Salesloft (each following its vendor's spec), fake Slack and a real
// unbound. Exactly the risky emails are stopped on each platform, with the right reasons, using
// what each platform knows about the person (primary address, opt-out, bounced, engagement).
// Also: killed between receiving a rotated refresh token and using it, the daemon restarts and
// still authenticates.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <fstream>
#include <map>
#include <thread>

#include "fakes/fake_close.hpp"
#include "fakes/fake_outreach.hpp"
#include "fakes/fake_salesloft.hpp"
#include "fakes/fake_slack.hpp"
#include "integration/peers.hpp"

using namespace safetynet;
using namespace safetynet::testing;
using namespace std::chrono;

namespace {

const char* kZones = R"(
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

nlohmann::json salesloftPerson(long id, const std::string& email) {
  return {{"id", id}, {"first_name", "P"}, {"last_name", std::to_string(id)}, {"display_name", "P " + std::to_string(id)},
          {"email_address", email}, {"secondary_email_address", nullptr}, {"personal_email_address", nullptr},
          {"do_not_contact", false}, {"contact_restrictions", nlohmann::json::array()}, {"bouncing", false},
          {"last_replied_at", nullptr}, {"person_company_website", nullptr},
          {"counts", {{"emails_sent", 1}, {"emails_viewed", 1}, {"emails_clicked", 0}, {"emails_replied_to", 0}, {"emails_bounced", 0}}},
          {"owner", {{"id", 5}}}};
}

// Expected outcome per platform email: "" allowed, else the reason it is held for.
struct Expect {
  std::string connector, id, reason;
};

class PlatformSandbox {
 public:
  PlatformSandbox()
      : close_(io_.get_executor(), "close-key"),
        outreach_(io_.get_executor(), milliseconds(1000)),  // one token a second, like Outreach's one a minute
        salesloft_(io_.get_executor(), "unused-key"),
        slack_(io_.get_executor(), "xoxb-e2e"),
        dns_(kZones) {
    slack_.addChannel("C0DELIV", "#deliverability");
    slack_.addUser("U0SAM", "sam.home@personal.test", "sam.seller");  // found by Salesloft's slack_username
    slack_.addUser("U0RILEY", "riley@seller.test", "riley");
    int n = 10;
    auto at = [&n] { return Clock::now() + minutes(n++); };

    // Close: API key.
    close_.addUser("user_rep1", "riley@seller.test", "Riley", "Rep");
    close_.addContact("cont_1", "Jane", std::vector<std::string>{"jane@acme.test"});
    close_.addContact("cont_2", "Dan", std::vector<std::string>{"dan@acme.test", "dan.old@globex.test"});
    addClose("c_good", "jane@acme.test", "cont_1", at(), "");
    addClose("c_nx", "lee@gone.test", "", at(), "bounce_risk");
    addClose("c_secondary", "dan.old@globex.test", "cont_2", at(), "secondary_email");

    // Outreach: OAuth with rotating refresh tokens.
    outreach_.addUser(7, "riley@seller.test", "Riley", "Rep");
    prospect(1, {{"bob@globex.test", "work", ""}});
    prospect(2, {{"opt@acme.test", "work", ""}}, true);
    prospect(3, {{"gone@acme.test", "work", "bounced"}});
    prospect(4, {{"kim@acme.test", "work", ""}, {"kim.k@gmail.com", "personal", ""}});
    addOutreach(101, "bob@globex.test", 1, at(), "");
    addOutreach(102, "opt@acme.test", 2, at(), "do_not_mail");
    addOutreach(103, "gone@acme.test", 3, at(), "bounce_risk");
    addOutreach(104, "kim.k@gmail.com", 4, at(), "secondary_email");

    // Salesloft: OAuth too; the rep has a Slack username.
    salesloft_.addUser(5, "sam@seller.test", "Sam Seller", "sam.seller");
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

    std::ofstream(dir_ / "outreach.secret") << fakes::FakeOutreach::kClientSecret << "\n";
    std::ofstream(dir_ / "outreach.refresh") << fakes::FakeOutreach::kFirstRefreshToken << "\n";
    std::ofstream(dir_ / "safetynet.yaml")
        << "state_dir: " << (dir_ / "state").string() << "\n"
        << "poll_interval: 1s\nshutdown_grace: 2s\n"
        << "smtp_probe: {enabled: false}\n"
        << "dns: {servers: [\"" << dns_.server() << "\"], timeout: 1s}\n"
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
        << "\", channel: \"#deliverability\", dm_rep: true}\n";
    thread_ = std::thread([this] { io_.run(); });
  }
  ~PlatformSandbox() {
    guard_.reset();
    io_.stop();
    thread_.join();
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
  std::map<std::string, nlohmann::json> decisions() {
    std::string out;
    EXPECT_EQ(runCommand({SAFETYNET_BINARY, "decisions", "-c", config(), "--since", "1d", "--json"}, &out), 0) << out;
    std::map<std::string, nlohmann::json> byKey;
    std::stringstream ss(out);
    for (std::string line; std::getline(ss, line);)
      if (!line.empty() && line[0] == '{') {
        auto d = nlohmann::json::parse(line);
        const std::string key = d["connector"].get<std::string>() + "/" + d["email_id"].get<std::string>();
        EXPECT_FALSE(byKey.count(key)) << "decided twice: " << key;
        byKey[key] = d;
      }
    return byKey;
  }

 private:
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
  Unbound dns_;
  std::thread thread_;
  std::vector<Expect> expected_;
};

void expectExactlyTheRiskyOnesStopped(PlatformSandbox& s) {
  auto decisions = s.decisions();
  ASSERT_EQ(decisions.size(), s.expected().size());
  int held = 0;
  for (const auto& e : s.expected()) {
    const auto& d = decisions.at(e.connector + "/" + e.id);
    const std::string state = s.platformState(e);
    if (e.reason.empty()) {
      EXPECT_EQ(d["state"], "allowed") << e.id << " " << d.dump();
      EXPECT_EQ(state, "scheduled") << e.id;
    } else {
      ++held;
      EXPECT_EQ(d["state"], "reverted") << e.id << " " << d.dump();
      EXPECT_EQ(d["reason"], e.reason) << e.id << " " << d.dump();
      const std::string stopped = e.connector == "close-e2e" ? "draft" : e.connector == "outreach-e2e" ? "drafted" : "cancelled";
      EXPECT_EQ(state, stopped) << e.id;
    }
  }
  // One Slack message per held email: Salesloft's rep by Slack username, the others by email.
  const auto messages = s.slack().messages();
  EXPECT_EQ(static_cast<int>(messages.size()), held);
  int sam = 0, riley = 0;
  for (const auto& m : messages) {
    sam += m.channel == "D0SAM";
    riley += m.channel == "D0RILEY";
  }
  EXPECT_EQ(sam, 4);
  EXPECT_EQ(riley, held - 4);
}

}  // namespace

TEST(EndToEndPlatforms, RunOnceStopsExactlyTheRiskyEmailsOnEachPlatform) {
  PlatformSandbox s;
  std::string out;
  ASSERT_EQ(runCommand({SAFETYNET_BINARY, "run", "--once", "-c", s.config()}, &out), 0) << out;
  expectExactlyTheRiskyOnesStopped(s);
  // The profile's evidence is in the decision: the secondary address names the primary one.
  auto decisions = s.decisions();
  EXPECT_NE(decisions.at("outreach-e2e/104").dump().find("primary address is kim@acme.test"), std::string::npos);
  // The platforms' bounced flags (Outreach's address status, Salesloft's `bouncing`) are in the
  // bounce history now, so they hold on every platform.
  ASSERT_EQ(runCommand({SAFETYNET_BINARY, "suppressions", "--json", "-c", s.config()}, &out), 0) << out;
  std::map<std::string, std::string> standing;
  std::stringstream lines(out);
  for (std::string l; std::getline(lines, l);)
    if (!l.empty() && l[0] == '{') {
      auto j = nlohmann::json::parse(l);
      standing[j["subject"]] = j["state"];
    }
  EXPECT_EQ(standing["gone@acme.test"], "hard") << out;
  EXPECT_EQ(standing["bouncy@acme.test"], "hard") << out;
  // Again: nothing is decided, stopped or told twice; the stored tokens are reused.
  const int grants = s.outreach().oauth().grants();
  ASSERT_EQ(runCommand({SAFETYNET_BINARY, "run", "--once", "-c", s.config()}, &out), 0) << out;
  expectExactlyTheRiskyOnesStopped(s);
  EXPECT_EQ(s.outreach().oauth().grants(), grants);
  EXPECT_EQ(s.outreach().oauth().refusedGrants(), 0);
  EXPECT_EQ(s.salesloft().oauth().refusedGrants(), 0);
}

TEST(EndToEndPlatforms, KilledBetweenARotatedRefreshTokenAndItsUseStillAuthenticates) {
  PlatformSandbox s;
  // Every Outreach API call hangs for a while: the daemon receives its new tokens, stores them,
  // and is killed while its first call with them is in flight.
  s.outreach().setDelay(milliseconds(3000));
  Process daemon({SAFETYNET_BINARY, "run", "-c", s.config()}, s.dir() / "daemon.log");
  const auto deadline = steady_clock::now() + seconds(20);
  while (s.outreach().oauth().grants() < 1 && steady_clock::now() < deadline) std::this_thread::sleep_for(milliseconds(20));
  ASSERT_EQ(s.outreach().oauth().grants(), 1) << readFile(s.dir() / "daemon.log");
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(s.outreach().state(102), "scheduled");  // nothing done with the token yet
  daemon.signal(SIGKILL);
  daemon.wait(seconds(10));
  // The seed in the config is dead now (rotated); the access tokens expire before the restart.
  EXPECT_NE(s.outreach().oauth().liveRefreshToken(), fakes::FakeOutreach::kFirstRefreshToken);
  s.outreach().oauth().expireAccessTokens();
  s.outreach().setDelay(milliseconds(0));
  std::this_thread::sleep_for(milliseconds(1100));  // the platform's minting limit
  std::string out;
  ASSERT_EQ(runCommand({SAFETYNET_BINARY, "run", "--once", "-c", s.config()}, &out), 0) << out;
  EXPECT_EQ(s.outreach().oauth().refusedGrants(), 0) << "the restarted daemon used a dead refresh token";
  EXPECT_EQ(s.outreach().oauth().grants(), 2);
  expectExactlyTheRiskyOnesStopped(s);
  // No client secret, refresh token or access token reached a log line.
  const std::string logs = readFile(s.dir() / "daemon.log") + out;
  for (const std::string& secret : {std::string(fakes::FakeOutreach::kClientSecret), std::string(fakes::FakeSalesloft::kClientSecret),
                                   std::string("refresh-"), std::string("access-"), std::string("xoxb-e2e")})
    EXPECT_EQ(logs.find(secret), std::string::npos) << secret << " in the logs";
}

TEST(EndToEndPlatforms, AnOutreachEmailResumedAfterAKillReachesItsRepByDm) {
  // Killed while stopping an Outreach mailing: the restarted daemon resumes it before listing
  // anything, so the connector knows no user yet and must fetch the rep (GET /users/{id}).
  PlatformSandbox s;
  s.outreach().setWriteDelay(milliseconds(3000));
  Process daemon({SAFETYNET_BINARY, "run", "-c", s.config()}, s.dir() / "daemon.log");
  const auto deadline = steady_clock::now() + seconds(30);
  // The revert's first read of a mailing: the decision is recorded as reverting by then.
  while (s.outreach().requestCount("GET /api/v2/mailings/1") < 1 && steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(20));
  ASSERT_GE(s.outreach().requestCount("GET /api/v2/mailings/1"), 1) << readFile(s.dir() / "daemon.log");
  std::this_thread::sleep_for(milliseconds(300));  // its PATCH is on its way
  daemon.signal(SIGKILL);
  daemon.wait(seconds(10));
  int reverting = 0;
  for (const auto& [key, d] : s.decisions()) reverting += key.rfind("outreach-e2e/", 0) == 0 && d["state"] == "reverting";
  ASSERT_GE(reverting, 1) << "the kill did not land while an Outreach email was being stopped";
  s.outreach().setWriteDelay(milliseconds(0));
  std::string out;
  ASSERT_EQ(runCommand({SAFETYNET_BINARY, "run", "--once", "-c", s.config()}, &out), 0) << out;
  expectExactlyTheRiskyOnesStopped(s);
  for (const auto& m : s.slack().messages()) {
    if (m.request["text"].get<std::string>().find("\"Subject 10") != std::string::npos) {
      EXPECT_EQ(m.channel, "D0RILEY") << m.request["text"];
    }
  }
}

TEST(EndToEndPlatforms, AMailboxThatBouncesTooMuchIsPausedThenReleased) {
  PlatformSandbox s;
  // In the last 24 h rep@seller.test sent 60 mailings on Outreach, and 4 of them bounced: 6.7%,
  // above the default 3% with more than 50 sends.
  const auto now = Clock::now();
  for (long i = 0; i < 60; ++i) {
    fakes::FakeOutreachMailing m;
    m.id = 5000 + i;
    m.to = {"sent" + std::to_string(i) + "@globex.test"};
    m.scheduled_at = now - hours(3);
    m.state_changed_at = now - hours(2) - minutes(i);
    m.state = i < 4 ? "bounced" : "delivered";
    m.error_reason = i < 4 ? "550 5.1.1 The email account that you tried to reach does not exist" : "";
    m.prospect_id = 1;
    m.user_id = 7;
    s.outreach().addMailing(m);
  }
  std::string out;
  ASSERT_EQ(runCommand({SAFETYNET_BINARY, "run", "--once", "-c", s.config()}, &out), 0) << out;
  auto decisions = s.decisions();
  // The good Outreach email of that mailbox is held for the mailbox; worse reasons keep theirs.
  EXPECT_EQ(decisions.at("outreach-e2e/101")["reason"], "sender_paused") << decisions.at("outreach-e2e/101").dump();
  EXPECT_EQ(s.outreach().state(101), "drafted");
  EXPECT_EQ(decisions.at("outreach-e2e/102")["reason"], "do_not_mail");
  EXPECT_EQ(decisions.at("outreach-e2e/104")["reason"], "sender_paused");
  // Other mailboxes are not touched: Salesloft's good email still goes.
  EXPECT_EQ(decisions.at("salesloft-e2e/201")["state"], "allowed");
  // The admins were told, in the channel.
  int adminMessages = 0;
  for (const auto& m : s.slack().messages())
    if (m.request["text"].get<std::string>().rfind("Paused mailbox rep@seller.test", 0) == 0) {
      ++adminMessages;
      EXPECT_EQ(m.channel, "C0DELIV");
    }
  EXPECT_EQ(adminMessages, 1);
  ASSERT_EQ(runCommand({SAFETYNET_BINARY, "senders", "-c", s.config(), "--json"}, &out), 0) << out;
  EXPECT_NE(out.find("\"state\":\"paused\""), std::string::npos) << out;
  EXPECT_NE(out.find("bounce rate 6.7% (4 of 60 emails)"), std::string::npos) << out;
  // The bounced recipients are in the bounce history now.
  ASSERT_EQ(runCommand({SAFETYNET_BINARY, "check", "--offline", "-c", s.config(), "sent0@globex.test"}, &out), 0) << out;
  EXPECT_NE(out.find("HARD_BOUNCED"), std::string::npos) << out;

  // An admin releases the mailbox: its next email goes out; the count starts afresh.
  ASSERT_EQ(runCommand({SAFETYNET_BINARY, "senders", "release", "-c", s.config(), "REP@seller.test"}, &out), 0) << out;
  fakes::FakeOutreachMailing next;
  next.id = 106;
  next.to = {"bob@globex.test"};
  next.subject = "After the release";
  next.scheduled_at = now + minutes(40);
  next.prospect_id = 1;
  next.user_id = 7;
  next.sequence_state_id = 1006;
  s.outreach().addMailing(next);
  ASSERT_EQ(runCommand({SAFETYNET_BINARY, "run", "--once", "-c", s.config()}, &out), 0) << out;
  decisions = s.decisions();
  EXPECT_EQ(decisions.at("outreach-e2e/106")["state"], "allowed") << decisions.at("outreach-e2e/106").dump();
  EXPECT_EQ(s.outreach().state(106), "scheduled");
  EXPECT_NE(runCommand({SAFETYNET_BINARY, "senders", "release", "-c", s.config(), "rep@seller.test"}, &out), 0);
}

TEST(EndToEndPlatforms, ThousandsOfSendsADayAreReadInPagesThenIncrementally) {
  // A team's day on Outreach: 5,000 mailings over the last 20 h from one mailbox, 139 bounced
  // (2.8%, under the 3% pause line). The first cycle reads the day in pages of 100; later cycles
  // read only what changed since the last one (and a few minutes of overlap).
  PlatformSandbox s;
  const auto now = Clock::now();
  auto mailing = [&](long id, TimePoint changed, bool bounced) {
    fakes::FakeOutreachMailing m;
    m.id = id;
    m.to = {"lead" + std::to_string(id) + "@globex.test"};
    m.scheduled_at = changed - minutes(1);
    m.state_changed_at = changed;
    m.state = bounced ? "bounced" : "delivered";
    m.error_reason = bounced ? "552 5.2.2 Mailbox full" : "";
    m.prospect_id = 1;
    m.user_id = 7;
    s.outreach().addMailing(m);
  };
  for (long i = 0; i < 5000; ++i) mailing(10000 + i, now - hours(20) + seconds(i * 14), i % 36 == 0 && i < 5040);
  const int before = s.outreach().requestCount("GET /api/v2/mailings");
  const auto t0 = steady_clock::now();
  std::string out;
  ASSERT_EQ(runCommand({SAFETYNET_BINARY, "run", "--once", "-c", s.config()}, &out), 0) << out;
  const auto first = duration_cast<milliseconds>(steady_clock::now() - t0).count();
  const int firstRequests = s.outreach().requestCount("GET /api/v2/mailings") - before;
  EXPECT_LE(firstRequests, 5000 / 100 + 10) << "pages of 100, plus the scheduled listing and the stopped emails' re-reads";
  ASSERT_EQ(runCommand({SAFETYNET_BINARY, "senders", "--json", "-c", s.config()}, &out), 0) << out;
  EXPECT_NE(out.find("\"mailbox\":\"rep@seller.test\",\"state\":\"sending\",\"sends\":5000,\"bounces\":139"), std::string::npos)
      << out;

  // Next cycle: 200 more mailings, 40 of them bounced (179 of 5,200: 3.4%): read incrementally,
  // and the mailbox is paused.
  for (long i = 0; i < 200; ++i) mailing(20000 + i, now + seconds(i), i < 40);
  const int beforeSecond = s.outreach().requestCount("GET /api/v2/mailings");
  ASSERT_EQ(runCommand({SAFETYNET_BINARY, "run", "--once", "-c", s.config()}, &out), 0) << out;
  const int secondRequests = s.outreach().requestCount("GET /api/v2/mailings") - beforeSecond;
  EXPECT_LE(secondRequests, 200 / 100 + 10) << "only what changed since the last cycle";
  ASSERT_EQ(runCommand({SAFETYNET_BINARY, "senders", "--json", "-c", s.config()}, &out), 0) << out;
  EXPECT_NE(out.find("\"mailbox\":\"rep@seller.test\",\"state\":\"paused\""), std::string::npos) << out;
  std::cout << "first cycle over 5,000 mailings: " << first << " ms, " << firstRequests << " GET /mailings; next cycle: "
            << secondRequests << "\n";
}
