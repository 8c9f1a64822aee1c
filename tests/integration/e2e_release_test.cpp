// End to end, a release from Slack: the real `safetynet run` daemon, the fake Close and the fake
// Slack with Socket Mode over wss:// (a test CA made by openssl; the daemon trusts it through
// notify.slack.ca_file), a real unbound for DNS. A held email released by its rep's click on
// **Release and send** is put back on schedule on the fake Close (its own send time, or now +
// min_lead_time when that is closer), the next poll allows it with the signal OVERRIDDEN
// (`safetynet decisions --json`), the message is updated with who released it; a click by another
// rep is refused with a message to them.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <fstream>
#include <future>
#include <map>
#include <sstream>
#include <thread>

#include "fakes/fake_close.hpp"
#include "fakes/fake_slack.hpp"
#include "integration/peers.hpp"
#include "notify/messages.hpp"
#include "safetynet/core/time_format.hpp"
#include "safetynet/store/store.hpp"

using namespace safetynet;
using namespace safetynet::testing;
using namespace std::chrono;

namespace {

const char* kZones = R"(
  local-zone: "gone.test." static
)";

bool waitUntil(const std::function<bool()>& done, milliseconds limit) {
  const auto end = steady_clock::now() + limit;
  while (!done() && steady_clock::now() < end) std::this_thread::sleep_for(milliseconds(50));
  return done();
}

class ReleaseSandbox {
 public:
  ReleaseSandbox() : close_(io_.get_executor(), "e2e-key"), slack_(io_.get_executor(), "xoxb-e2e"), dns_(kZones) {
    slack_.enableSocketMode("xapp-1-e2e", fakes::FakeTls{ca_.cert(), ca_.key()});
    slack_.addChannel("C0DELIV", "#deliverability");
    slack_.addUser("U0RILEY", "riley@seller.test", "riley");  // the rep who owns the emails
    slack_.addUser("U0KIM", "kim@seller.test", "kim");        // another rep
    close_.addUser("user_rep1", "riley@seller.test", "Riley", "Rep");
    std::ofstream(dir_ / "safetynet.yaml")
        << "state_dir: " << (dir_ / "state").string() << "\n"
        << "poll_interval: 1s\nshutdown_grace: 2s\nmin_lead_time: 5m\n"
        << "smtp_probe: {enabled: false}\n"
        << "dns: {servers: [\"" << dns_.server() << "\"], timeout: 1s}\n"
        << "failsafe: {canaries: []}\n"
        << "connectors:\n  - name: close-e2e\n    type: close\n    base_url: " << close_.baseUrl()
        << "\n    api_key: e2e-key\n"
        << "notify:\n  slack:\n    bot_token: xoxb-e2e\n    app_token: xapp-1-e2e\n    actions: true\n"
        << "    base_url: \"" << slack_.baseUrl() << "\"\n    ca_file: " << ca_.ca() << "\n"
        << "    channel: \"#deliverability\"\n    dm_rep: true\n";
    thread_ = std::thread([this] { io_.run(); });
  }
  ~ReleaseSandbox() {
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  std::string config() const { return (dir_ / "safetynet.yaml").string(); }
  fakes::FakeClose& close() { return close_; }
  fakes::FakeSlack& slack() { return slack_; }
  const TempDir& dir() const { return dir_; }

  void schedule(const std::string& id, const std::string& to, milliseconds ahead) {
    fakes::FakeCloseEmail e;
    e.id = id;
    e.to = {to};
    e.subject = "Subject " + id;
    e.scheduled_at = Clock::now() + ahead;
    close_.addEmail(e);
  }
  // The fake Socket Mode lives on the sandbox's thread: asked there.
  template <class F>
  auto onSandbox(F f) {
    auto done = std::make_shared<std::promise<decltype(f())>>();
    asio::post(io_, [done, f] { done->set_value(f()); });
    return done->get_future().get();
  }
  int openLinks() {
    return onSandbox([this] { return slack_.socketMode().openConnections(); });
  }
  std::string click(const fakes::PostedMessage& m, const std::string& user, const std::string& action_id) {
    const nlohmann::json payload = fakes::blockActionsPayload(m, user, action_id);
    EXPECT_FALSE(payload["actions"][0]["value"].get<std::string>().empty()) << "no button " << action_id;
    return onSandbox([this, payload] { return slack_.socketMode().sendEnvelope("interactive", payload); });
  }
  std::optional<fakes::PostedMessage> messageAbout(const std::string& id) {
    for (const auto& m : slack_.messages())
      if (m.request.value("text", "").find("Subject " + id) != std::string::npos) return m;
    return std::nullopt;
  }
  std::vector<nlohmann::json> decisions() { return cliDecisions(SAFETYNET_BINARY, config()); }
  // The decision of `id` in `state` (allowed, reverted...), or null.
  nlohmann::json decisionOf(const std::string& id, const std::string& state) {
    for (const auto& d : decisions())
      if (d["email_id"] == id && d["state"] == state) return d;
    return nullptr;
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_ = asio::make_work_guard(io_);
  TestCa ca_;
  TempDir dir_;
  fakes::FakeClose close_;
  fakes::FakeSlack slack_;
  Unbound dns_;
  std::thread thread_;
};

}  // namespace

TEST(EndToEndRelease, TheRepsClickReleasesReschedulesOnCloseAndTheNextPollAllowsItOverridden) {
  ReleaseSandbox s;
  s.schedule("rel_own", "lee@gone.test", minutes(30));   // released at its own send time
  s.schedule("rel_soon", "kim@gone.test", minutes(3));   // released: now + min_lead_time (5 min)
  s.schedule("rel_other", "zed@gone.test", minutes(40)); // another rep clicks: refused
  Process daemon({SAFETYNET_BINARY, "run", "-c", s.config()}, s.dir() / "daemon.log");
  const auto log = [&] { return readFile(s.dir() / "daemon.log"); };
  ASSERT_TRUE(waitUntil([&] { return s.messageAbout("rel_own") && s.messageAbout("rel_soon") && s.messageAbout("rel_other"); },
                        seconds(30)))
      << "the three emails were not held and told\n" << log();
  for (const char* id : {"rel_own", "rel_soon", "rel_other"}) EXPECT_EQ(s.close().status(id), "draft") << id;
  ASSERT_TRUE(waitUntil([&] { return s.openLinks() == 1; }, seconds(20))) << "no wss:// Socket Mode link\n" << log();
  const TimePoint ownTime = s.close().scheduledAt("rel_own");

  const TimePoint clicked = Clock::now();
  ASSERT_FALSE(s.click(*s.messageAbout("rel_own"), "U0RILEY", kActionRelease).empty());
  ASSERT_FALSE(s.click(*s.messageAbout("rel_soon"), "U0RILEY", kActionRelease).empty());
  ASSERT_FALSE(s.click(*s.messageAbout("rel_other"), "U0KIM", kActionRelease).empty());

  // Close: back on schedule, at its own time or min_lead_time from the click.
  ASSERT_TRUE(waitUntil([&] { return s.close().status("rel_own") == "scheduled" && s.close().status("rel_soon") == "scheduled"; },
                        seconds(20)))
      << log();
  EXPECT_EQ(toMillis(s.close().scheduledAt("rel_own")) / 1000, toMillis(ownTime) / 1000);
  EXPECT_GE(s.close().scheduledAt("rel_soon"), clicked + minutes(5) - seconds(1));
  EXPECT_LE(s.close().scheduledAt("rel_soon"), Clock::now() + minutes(5) + seconds(1));

  // The next poll allows both, with OVERRIDDEN naming who released them, and touches nothing.
  ASSERT_TRUE(waitUntil([&] { return !s.decisionOf("rel_own", "allowed").is_null() && !s.decisionOf("rel_soon", "allowed").is_null(); },
                        seconds(20)))
      << "no allowed decision after the release\n" << log();
  for (const char* id : {"rel_own", "rel_soon"}) {
    const auto d = s.decisionOf(id, "allowed");
    ASSERT_EQ(d["recipients"].size(), 1u) << d;
    EXPECT_EQ(d["recipients"][0]["signals"][0]["name"], "OVERRIDDEN") << d;
    EXPECT_NE(d["recipients"][0]["signals"][0]["evidence"].get<std::string>().find("slack:riley@seller.test"), std::string::npos) << d;
    EXPECT_FALSE(s.decisionOf(id, "reverted").is_null()) << id << ": the hold stays in the audit log";
  }
  std::this_thread::sleep_for(seconds(3));  // three more polls
  EXPECT_EQ(s.close().status("rel_own"), "scheduled");
  EXPECT_EQ(s.close().status("rel_soon"), "scheduled");
  EXPECT_EQ(s.close().putCount("rel_own"), 2);  // the draft, and the reschedule
  EXPECT_EQ(s.close().putCount("rel_soon"), 2);

  // The messages: updated with who released them; the other rep told no, only them.
  const auto updates = s.slack().updates();
  ASSERT_EQ(updates.size(), 2u);
  for (const auto& u : updates)
    EXPECT_EQ(u["text"].get<std::string>().rfind("Released by <@U0RILEY>", 0), 0u) << u;
  ASSERT_TRUE(waitUntil([&] { return !s.slack().ephemerals().empty(); }, seconds(10)));
  const auto told = s.slack().ephemerals();
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0]["user"], "U0KIM");
  EXPECT_NE(told[0]["text"].get<std::string>().find("Only the rep who owns this email (riley@seller.test) or an admin"),
            std::string::npos)
      << told[0];
  EXPECT_EQ(s.close().status("rel_other"), "draft");
  EXPECT_TRUE(s.decisionOf("rel_other", "allowed").is_null());

  // `safetynet decisions KEY`: the hold's audit log says where its message went and who released it.
  const std::string key = s.decisionOf("rel_own", "reverted").value("key", "");
  std::string out;
  ASSERT_EQ(runCommand({SAFETYNET_BINARY, "decisions", "-c", s.config(), "--json", key}, &out), 0) << out;
  const auto detail = nlohmann::json::parse(out.substr(out.find('{')));
  std::map<std::string, nlohmann::json> byEvent;
  for (const auto& a : detail["actions"]) byEvent[a["event"]] = a["detail"];
  ASSERT_TRUE(byEvent.count("notified")) << detail.dump(2);
  EXPECT_EQ(byEvent["notified"]["kind"], "slack");
  EXPECT_EQ(byEvent["notified"]["to"], "D0RILEY");  // the fake Slack's DM with riley
  ASSERT_TRUE(byEvent.count("release_done")) << detail.dump(2);
  EXPECT_EQ(byEvent["release_done"]["by"], "slack:riley@seller.test");

  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait(seconds(10)), 0) << log();
  EXPECT_EQ(log().find("xapp-1-e2e"), std::string::npos) << "the app token reached the log";
}

TEST(EndToEndRelease, AReleaseCutShortByAKillStaysInProgressAndIsFinishedOnceAtTheNextStart) {
  ReleaseSandbox s;
  s.schedule("rel_crash", "lee@gone.test", minutes(30));
  const auto log = [&] { return readFile(s.dir() / "daemon.log"); };
  auto daemon = std::make_unique<Process>(std::vector<std::string>{SAFETYNET_BINARY, "run", "-c", s.config()}, s.dir() / "daemon.log");
  ASSERT_TRUE(waitUntil([&] { return s.messageAbout("rel_crash").has_value(); }, seconds(30))) << log();
  ASSERT_TRUE(waitUntil([&] { return s.openLinks() == 1; }, seconds(20))) << log();
  const std::string key = s.decisionOf("rel_crash", "reverted").value("key", "");
  ASSERT_FALSE(key.empty());
  // Close answers slowly from now on: the release is recorded, makes its override, and is still
  // reading the email on Close when the daemon is killed. The fake applies a PUT as it arrives, so
  // the round trip is the whole window between the override and the reschedule: 2 s was too short
  // on a loaded CI machine (the `overrides` command alone can take a second under ASan, and the
  // override may be written just after one run read the database: two runs to see it), 15 s is
  // still half the client's 30 s timeout.
  s.onSandbox([&] {
    s.close().setLatency(milliseconds(15000));
    return 0;
  });
  ASSERT_FALSE(s.click(*s.messageAbout("rel_crash"), "U0RILEY", kActionRelease).empty());
  auto overridden = [&] {
    std::string out;
    runCommand({SAFETYNET_BINARY, "overrides", "-c", s.config(), "--json"}, &out);
    return out.find("lee@gone.test") != std::string::npos;
  };
  ASSERT_TRUE(waitUntil(overridden, seconds(20))) << log();
  daemon->signal(SIGKILL);
  daemon->wait(seconds(10));
  daemon.reset();
  {
    StorePtr st = openSqliteStore((s.dir() / "state").string());
    auto a = st->findAction(key + "|release");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->state, "started") << "the kill did not land between beginAction and finishAction";
  }
  EXPECT_EQ(s.close().status("rel_crash"), "draft");
  EXPECT_EQ(s.close().putCount("rel_crash"), 1);  // the hold only
  s.onSandbox([&] {
    s.close().setLatency(milliseconds(0));
    return 0;
  });

  // The next start finishes it: on schedule once, the message updated, the override not made twice.
  daemon = std::make_unique<Process>(std::vector<std::string>{SAFETYNET_BINARY, "run", "-c", s.config()}, s.dir() / "daemon2.log");
  const auto log2 = [&] { return readFile(s.dir() / "daemon2.log"); };
  ASSERT_TRUE(waitUntil([&] { return s.close().status("rel_crash") == "scheduled"; }, seconds(20))) << log2();
  ASSERT_TRUE(waitUntil([&] { return !s.decisionOf("rel_crash", "allowed").is_null(); }, seconds(20))) << log2();
  EXPECT_EQ(s.decisionOf("rel_crash", "allowed")["recipients"][0]["signals"][0]["name"], "OVERRIDDEN");
  std::this_thread::sleep_for(seconds(2));
  EXPECT_EQ(s.close().putCount("rel_crash"), 2);
  const auto updates = s.slack().updates();
  ASSERT_GE(updates.size(), 1u);
  EXPECT_EQ(updates.back()["text"].get<std::string>().rfind("Released by <@U0RILEY>", 0), 0u) << updates.back();
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(seconds(10)), 0) << log2();
  StorePtr st = openSqliteStore((s.dir() / "state").string());
  EXPECT_EQ(st->findAction(key + "|release")->state, "done");
  std::vector<std::string> events;
  for (const auto& e : st->auditFor(key)) events.push_back(e.event);
  EXPECT_EQ(std::count(events.begin(), events.end(), "release_started"), 1) << ::testing::PrintToString(events);
  EXPECT_EQ(std::count(events.begin(), events.end(), "release_resumed"), 1) << ::testing::PrintToString(events);
  EXPECT_EQ(std::count(events.begin(), events.end(), "release_done"), 1) << ::testing::PrintToString(events);
  std::vector<std::string> overrideEvents;
  for (const auto& e : st->auditFor("override|lee@gone.test")) overrideEvents.push_back(e.event);
  EXPECT_EQ(overrideEvents, std::vector<std::string>{"added"});
}
