// The web dashboard in a real browser (issue 11 item 4): the real daemon, with decisions, lists and
// a paused sender seeded in its store and the fake Close to poll, serves the page on a free
// loopback port; tests/web/dashboard_test.py drives headless Chromium through it with Selenium
// (Debian's chromium, chromium-driver and python3-selenium: scripts/setup). What the page changes
// is read back with the `safetynet` CLI. Without the browser or Selenium the test fails with what
// to install; it never skips.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>

#include "admin/overrides.hpp"
#include "admin/queries.hpp"
#include "fakes/fake_close.hpp"
#include "integration/peers.hpp"
#include "safetynet/core/time_format.hpp"
#include "support/io_thread.hpp"

using namespace safetynet;
using namespace safetynet::testing;
using namespace std::chrono;
using Json = nlohmann::json;

namespace {

const std::string kToken = "dashboard-full-token-0123456789abcdef";
const std::string kReadToken = "dashboard-read-token-0123456789abcdef";
// Debian's python3-selenium is installed for Debian's python, which may not be the first on PATH.
const std::string kPython = "/usr/bin/python3";

struct Rep {
  std::string name, mailbox, connector;
};

struct Seed {
  std::string id, address, subject, verdict, reason, evidence, signal;
  double weight;
  int days_ago;  // when it was decided
  Rep rep;
};

EmailDecision decision(const Seed& s, TimePoint decided) {
  EmailDecision d;
  d.connector = s.rep.connector;
  d.email_id = s.id;
  d.key = s.rep.connector + "|" + s.id + "|" + std::to_string(toMillis(decided)) + "|" + s.address;
  d.scheduled_at = decided + minutes(45);
  d.state = s.verdict == "revert" ? EmailState::Reverted : EmailState::Allowed;
  d.verdict = s.verdict;
  d.reason = s.reason;
  d.evidence = s.evidence;
  d.next_step = s.reason.empty() ? "" : "Remove the contact; source a new contact at the same company.";
  d.subject = s.subject;
  d.sender = s.rep.mailbox;
  d.email = Json{{"user_id", "user_" + s.rep.mailbox.substr(0, s.rep.mailbox.find('@'))}, {"user_name", s.rep.name}};
  d.recipients = Json::array({Json{{"address", s.address},
                                   {"verdict", s.verdict},
                                   {"reason", s.reason},
                                   {"signals", Json::array({Json{{"name", s.signal}, {"weight", s.weight}, {"evidence", s.evidence}}})}}});
  return d;
}

// What the page must show, written for the script (tests/web/dashboard_test.py reads it).
Json seedStore(const std::string& stateDir, TimePoint now) {
  TimePoint clock = now;
  auto store = openSqliteStore(stateDir, [&] { return clock; });
  const Rep riley{"Riley Chen", "riley@seller.test", "close-main"}, kim{"Kim Park", "kim@seller.test", "outreach-main"},
      sam{"Sam Ortiz", "sam@seller.test", "salesloft-main"};
  const std::vector<Seed> seeds = {
      {"e1", "jane.doe@acme-corp.test", "Quick question about your Q1 roadmap", "revert", "bounce_risk",
       "acme-corp.test: the domain does not exist (NXDOMAIN)", "NXDOMAIN", 10, 0, riley},
      {"e2", "<b>x</b>@evil.test", "<img src=x onerror=alert(1)> pricing for 2027", "revert", "spamtrap",
       "evil.test: listed as a spam trap domain", "SPAMTRAP_DOMAIN", 10, 0, kim},
      {"e3", "ops@globex.test", "Following up on the demo", "revert", "do_not_mail",
       "ops@globex.test: a complaint-prone role mailbox", "COMPLAINT_ROLE", 1, 1, sam},
      {"e4", "mark@initech.test", "Intro: Safety Net x Initech", "revert", "bounce_risk",
       "initech.test: the mailbox does not exist (550 5.1.1)", "MAILBOX_NOT_FOUND", 10, 1, riley},
      {"e5", "li@umbrella.test", "Can we talk Thursday?", "revert", "unknown",
       "umbrella.test: greylisted, checks not conclusive", "SMTP_GREYLISTED", 1, 2, kim},
      {"e6", "jane.doe@acme-corp.test", "Re: Quick question", "revert", "bounce_risk",
       "acme-corp.test: the domain does not exist (NXDOMAIN)", "NXDOMAIN", 10, 3, riley},
      {"e7", "trap@spamtrap-list.test", "Your free trial", "revert", "spamtrap",
       "spamtrap-list.test: on the admins' spam-trap list", "SPAMTRAP_LIST", 10, 4, sam},
      {"e8", "old@hooli.test", "Checking in", "revert", "dead_email", "hooli.test: no engagement in 2 years",
       "NO_ENGAGEMENT", 1, 5, kim},
      {"e9", "kate@massive.test", "Partnership", "revert", "bounce_risk", "massive.test: null MX (RFC 7505)", "NULL_MX",
       10, 6, riley},
      {"e10", "peter@soylent.test", "Last note", "revert", "secondary_email", "the person's primary address is another one",
       "NOT_PRIMARY", 1, 9, sam},
      {"e11", "amy@wonka.test", "Hello again", "revert", "bounce_risk", "wonka.test: the domain does not exist (NXDOMAIN)",
       "NXDOMAIN", 10, 12, kim},
      {"a1", "good@acme-corp.test", "Welcome", "allow", "", "", "MX_OK", 0, 0, riley},
      {"a2", "fine@globex.test", "Agenda", "allow", "", "", "MX_OK", 0, 1, kim},
  };
  Json held = Json::array();
  for (const auto& s : seeds) {
    clock = now - hours(24 * s.days_ago) - minutes(7 * std::stoi(s.id.substr(1)));
    EmailDecision d = decision(s, clock);
    if (s.id == "e1") d.state = EmailState::Reverting;  // its stop is confirmed below, with the notification
    store->recordDecision(d);
    if (s.verdict != "revert") continue;
    held.push_back(Json{{"key", d.key}, {"subject", s.subject}, {"address", s.address}, {"reason", s.reason},
                        {"rep", s.rep.name}, {"connector", s.rep.connector}, {"signal", s.signal}, {"weight", s.weight},
                        {"evidence", s.evidence}, {"days_ago", s.days_ago}});
  }
  clock = now;
  // The first email's stop was confirmed and its rep told (the notification shows in its detail).
  OutboxMessage note;
  note.dedupe_key = "notify|" + held[0]["key"].get<std::string>();
  note.kind = "slack";
  note.payload = Json{{"audience", "rep"}, {"text", "held"}};
  if (!store->transition(held[0]["key"], EmailState::Reverted, "moved to draft; confirmed 212 s before the send", 1, note))
    throw std::runtime_error("the seeded stop was not recorded");
  // The admins' lists: a suppression, an override, a paused sender.
  admin::addSuppression(*store, "bob@globex.test", "asked us to stop", "admin ops", now - hours(30));
  admin::addOverride(*store, admin::OverrideRequest{"li@umbrella.test", hours(24 * 7), "the customer confirmed it", "admin ops"},
                     now - hours(2));
  store->putSender(SenderState{"kim@seller.test", "paused", now - minutes(20), now + hours(4), 1, "9 bounced of 40 sent (22.5%)"},
                   std::nullopt);
  return Json{{"held", held}, {"paused_sender", "kim@seller.test"}, {"suppressed", "bob@globex.test"},
              {"overridden", "li@umbrella.test"}, {"connector", "close-main"}};
}

std::string missingPrerequisites() {
  std::string missing;
  if (findProgram("chromium").empty()) missing += " chromium";
  if (findProgram("chromedriver").empty()) missing += " chromium-driver";
  std::string out;
  if (access(kPython.c_str(), X_OK) != 0 || runCommand({kPython, "-c", "import selenium"}, &out, seconds(30)) != 0)
    missing += " python3-selenium";
  return missing;
}

}  // namespace

TEST(DashboardBrowser, AnAdminSignsInFiltersOpensAHoldAndChangesTheListsAndAReadOnlyTokenCannot) {
  const std::string missing = missingPrerequisites();
  ASSERT_TRUE(missing.empty()) << "the browser test needs Debian's chromium, chromium-driver and python3-selenium; missing:"
                               << missing << ". Install them: apt-get install -y" << missing << " (or scripts/setup)";
  TempDir dir;
  const TimePoint now = Clock::now();
  const Json fixture = seedStore((dir / "state").string(), now);
  std::ofstream(dir / "fixture.json") << fixture.dump(2);
  std::ofstream(dir / "admin.token") << kToken << "\n";
  std::ofstream(dir / "read.token") << kReadToken << "\n";

  IoThread platforms;
  fakes::FakeClose close(platforms.io().get_executor(), "close-key");
  const unsigned short port = freePort();
  const std::string config = (dir / "safetynet.yaml").string();
  std::ofstream(config) << "state_dir: " << (dir / "state").string() << "\n"
                        << "poll_interval: 1s\nshutdown_grace: 2s\nsmtp_probe: {enabled: false}\n"
                        << "failsafe: {canaries: []}\n"
                        << "connectors:\n  - name: close-main\n    type: close\n    base_url: " << close.baseUrl()
                        << "\n    api_key: close-key\n"
                        << "admin_api:\n  listen: 127.0.0.1:" << port
                        << "\n  token_file: admin.token\n  read_token_file: read.token\n";
  Process daemon({SAFETYNET_BINARY, "run", "-c", config}, dir / "daemon.log");
  ASSERT_TRUE(waitForTcp(port, seconds(20))) << readFile(dir / "daemon.log");

  // The README's picture is made by this test: SAFETYNET_DASHBOARD_SCREENSHOT=docs/images/dashboard.png.
  const char* wanted = std::getenv("SAFETYNET_DASHBOARD_SCREENSHOT");
  const std::string screenshot = wanted && *wanted ? wanted : std::string(SAFETYNET_BUILD_DIR) + "/dashboard.png";
  std::filesystem::remove(screenshot);
  const auto t0 = steady_clock::now();
  int rc = -1;
  {
    // The script, chromedriver and Chromium share the script's process group (Process starts it
    // as a group leader): whatever is left of them is killed with the group.
    Process script({kPython, std::string(SAFETYNET_SOURCE_DIR) + "/tests/web/dashboard_test.py", "--url",
                    "http://127.0.0.1:" + std::to_string(port), "--token", kToken, "--read-token", kReadToken,
                    "--fixture", (dir / "fixture.json").string(), "--safetynet", SAFETYNET_BINARY, "--config", config,
                    "--screenshot", screenshot, "--profile", (dir / "chromium").string()},
                   dir / "browser.log");
    const int group = script.pid();
    rc = script.wait(seconds(150));
    ::kill(-group, SIGKILL);
  }
  const double took = duration<double>(steady_clock::now() - t0).count();
  const std::string log = readFile(dir / "browser.log");
  std::cout << log << "browser test: " << took << " s, exit " << rc << ", screenshot " << screenshot << "\n";
  EXPECT_EQ(rc, 0) << (rc == -1 ? "timed out after 150 s\n" : "") << log;
  EXPECT_TRUE(std::filesystem::exists(screenshot)) << screenshot;

  // What the page did is in the store, as the CLI shows it: the suppression it added is cleared
  // again, the override it released removed, the paused sender released.
  std::string out;
  EXPECT_EQ(runCommand({SAFETYNET_BINARY, "suppressions", "-c", config, "--json"}, &out), 0) << out;
  EXPECT_EQ(out.find("new.person@prospect.test"), std::string::npos) << out;
  EXPECT_NE(out.find("bob@globex.test"), std::string::npos) << out;
  EXPECT_EQ(runCommand({SAFETYNET_BINARY, "senders", "-c", config, "--json"}, &out), 0) << out;
  EXPECT_NE(out.find("\"state\":\"active\""), std::string::npos) << out;

  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait(seconds(20)), 0);
  const std::string daemonLog = readFile(dir / "daemon.log");
  EXPECT_EQ(daemonLog.find(kToken), std::string::npos) << "a token in the daemon's log";
  EXPECT_EQ(daemonLog.find(kReadToken), std::string::npos);
  platforms.closeThenStop([] {});
}
