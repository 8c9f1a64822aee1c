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

#include "integration/platform_sandbox.hpp"
#include "integration/state_db.hpp"

using namespace safetynet;
using namespace safetynet::testing;
using namespace std::chrono;

namespace {

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
  // Outreach keeps older refresh tokens live; here the seed must die at the first grant, so that
  // a restarted daemon that went back to it is refused.
  s.outreach().oauth().setLiveRefreshTokens(1);
  Process daemon({SAFETYNET_BINARY, "run", "-c", s.config()}, s.dir() / "daemon.log");
  const auto deadline = steady_clock::now() + seconds(20);
  while (s.outreach().oauth().grants() < 1 && steady_clock::now() < deadline) std::this_thread::sleep_for(milliseconds(20));
  ASSERT_EQ(s.outreach().oauth().grants(), 1) << readFile(s.dir() / "daemon.log");
  // The kill lands once the rotated token is committed (a fixed 300 ms lost that race on a loaded
  // CI machine: the commit is an fsync'd write). The call with it still hangs for 3 s. Salesloft
  // rotates its refresh token in the same first cycle: the kill waits for its commit too (a kill
  // between Salesloft's answer and that commit lost its token on a loaded CI machine, which is
  // not what this test is about).
  const auto storedIsLive = [&](const std::string& connector, const std::string& live) {
    for (const auto& [key, value] :
         safetynet::testing::stateRows(s.dir() / "state" / "safetynet.db", "SELECT key, value FROM connector_state WHERE connector = '" +
                                                                              connector + "' AND key = 'oauth.refresh_token'"))
      if (value == live) return true;
    return false;
  };
  const auto stored = [&] {
    return storedIsLive("outreach-e2e", s.outreach().oauth().liveRefreshToken()) && s.salesloft().oauth().grants() >= 1 &&
           storedIsLive("salesloft-e2e", s.salesloft().oauth().liveRefreshToken());
  };
  while (!stored() && steady_clock::now() < deadline) std::this_thread::sleep_for(milliseconds(20));
  ASSERT_TRUE(stored()) << "the rotated refresh tokens were never stored\n" << readFile(s.dir() / "daemon.log");
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
