// Every email in time (the benchmark case (a), smaller): the real daemon (`safetynet run`,
// default poll_interval 10 s and act_margin 20 s) against the three platforms' fakes with 100 ms
// per API round trip; emails appear at random moments, each scheduled exactly 2m00s after it was
// created (the platforms' minimum). Every risky one must be stopped with at least act_margin
// left, no good one touched, none too late.
#include <gtest/gtest.h>
#include <signal.h>

#include <random>

#include "integration/platform_sandbox.hpp"
#include "safetynet/core/time_format.hpp"

using namespace safetynet;
using namespace safetynet::testing;
using namespace std::chrono;

namespace {

constexpr int kPerPlatform = 6;     // 2 of them risky (a null MX)
constexpr auto kSpread = seconds(20);  // creation moments spread over this
constexpr auto kLead = minutes(2);

bool risky(int index) { return index % 3 == 0; }  // indexes 0 and 3
std::string recipient(int index) {
  const std::string id = std::to_string(300 + index);
  return risky(index) ? "ops" + id + "@nullmx.test" : "p" + id + "@acme.test";
}

}  // namespace

TEST(EndToEndInTime, EmailsCreatedWithTheTwoMinuteMinimumAreStoppedWithActMarginLeft) {
  SandboxOptions o;
  o.seed = false;
  o.poll_interval = "";  // the default, 10 s
  PlatformSandbox s(o);
  s.setLatency(milliseconds(100));
  // People the platforms know (profiles), one per email.
  for (int i = 0; i < kPerPlatform; ++i) {
    const long id = 300 + i;
    fakes::FakeOutreachProspect p;
    p.id = id;
    p.first_name = "P";
    p.last_name = std::to_string(id);
    p.addresses = {{recipient(i), "work", ""}};
    p.owner_id = 7;
    s.outreach().addProspect(p);
    s.salesloft().addPerson(salesloftPerson(id, recipient(i)));
  }

  Process daemon({SAFETYNET_BINARY, "run", "-c", s.config()}, s.dir() / "daemon.log");

  // Creation moments: uniform over kSpread, shuffled across the platforms.
  struct Creation {
    milliseconds at;
    std::string platform;
    int index;
  };
  std::vector<Creation> plan;
  std::mt19937 rng(20261129);
  std::uniform_int_distribution<int> when(0, static_cast<int>(duration_cast<milliseconds>(kSpread).count()));
  for (const char* p : {"close", "outreach", "salesloft"})
    for (int i = 0; i < kPerPlatform; ++i) plan.push_back({milliseconds(when(rng)), p, i});
  std::sort(plan.begin(), plan.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
  const auto start = steady_clock::now();
  for (const auto& c : plan) {
    std::this_thread::sleep_until(start + c.at);
    const long id = 300 + c.index;
    const std::string to = recipient(c.index);
    const std::string reason = risky(c.index) ? "bounce_risk" : "";
    const TimePoint sendAt = Clock::now() + kLead;
    if (c.platform == "close") s.addClose("c" + std::to_string(id), to, "", sendAt, reason);
    if (c.platform == "outreach") s.addOutreach(id, to, id, sendAt, reason);
    if (c.platform == "salesloft") s.addSalesloft(id, to, id, sendAt, reason);
  }

  // Everything decided and acted on well within the two minutes (polls every 10 s).
  std::map<std::string, nlohmann::json> decisions;
  auto settled = [&] {
    if (decisions.size() < s.expected().size()) return false;
    for (const auto& [key, d] : decisions)
      if (d["state"] == "reverting") return false;
    return true;
  };
  for (int i = 0; i < 60 && !settled(); ++i) {
    std::this_thread::sleep_for(seconds(1));
    decisions = s.decisions();
  }
  ASSERT_EQ(decisions.size(), s.expected().size()) << readFile(s.dir() / "daemon.log");
  int stopped = 0;
  for (const auto& e : s.expected()) {
    const auto& d = decisions.at(e.connector + "/" + e.id);
    const auto sendAt = parseIso8601(d["scheduled_at"].get<std::string>());
    const auto decidedAt = parseIso8601(d["decided_at"].get<std::string>());
    const auto doneAt = parseIso8601(d["updated_at"].get<std::string>());
    ASSERT_TRUE(sendAt && decidedAt && doneAt) << d.dump();
    if (e.reason.empty()) {
      EXPECT_EQ(d["state"], "allowed") << e.id << " " << d.dump();
      EXPECT_EQ(s.platformState(e), "scheduled") << e.id;
      continue;
    }
    EXPECT_EQ(d["state"], "reverted") << e.id << " " << d.dump();
    const std::string draft = e.connector == "close-e2e" ? "draft" : e.connector == "outreach-e2e" ? "drafted" : "cancelled";
    EXPECT_EQ(s.platformState(e), draft) << e.id;
    // Stopped and confirmed (the final state's time) with at least act_margin to spare.
    EXPECT_GE(*sendAt - *doneAt, seconds(20)) << e.id << " " << d.dump();
    ++stopped;
  }
  EXPECT_EQ(stopped, 6);
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait(seconds(20)), 0);
}

// The housekeeping (re-checks, the notifications' outbox, retention) runs beside the listings,
// not inside the tick: a Slack that answers each call in 12 s, with six holds to tell, would
// otherwise stop every listing for minutes, and an email created with the 2-minute minimum in
// that time would go out undecided.
TEST(EndToEndInTime, ASlowSlackDoesNotHoldUpTheListings) {
  SandboxOptions o;
  o.seed = false;
  PlatformSandbox s(o);
  s.slack().setLatency(seconds(12));
  Process daemon({SAFETYNET_BINARY, "run", "-c", s.config()}, s.dir() / "daemon.log");
  for (int i = 0; i < 6; ++i)
    s.addClose("c_held" + std::to_string(i), "ops" + std::to_string(i) + "@nullmx.test", "", Clock::now() + minutes(30),
               "bounce_risk");
  std::map<std::string, nlohmann::json> decisions;
  for (int i = 0; i < 30 && decisions.size() < 6; ++i) {
    std::this_thread::sleep_for(seconds(1));
    decisions = s.decisions();
  }
  ASSERT_EQ(decisions.size(), 6u) << readFile(s.dir() / "daemon.log");
  std::this_thread::sleep_for(seconds(3));  // the notifications are being posted, slowly
  const TimePoint created = Clock::now();
  s.addClose("c_late", "ops9@nullmx.test", "", created + minutes(2), "bounce_risk");
  for (int i = 0; i < 40 && !decisions.count("close-e2e/c_late"); ++i) {
    std::this_thread::sleep_for(seconds(1));
    decisions = s.decisions();
  }
  ASSERT_TRUE(decisions.count("close-e2e/c_late")) << readFile(s.dir() / "daemon.log");
  const auto decidedAt = parseIso8601(decisions.at("close-e2e/c_late")["decided_at"].get<std::string>());
  ASSERT_TRUE(decidedAt);
  EXPECT_LT(*decidedAt - created, seconds(15)) << decisions.at("close-e2e/c_late").dump();
  for (int i = 0; i < 20 && decisions.at("close-e2e/c_late")["state"] == "reverting"; ++i) {
    std::this_thread::sleep_for(seconds(1));
    decisions = s.decisions();
  }
  EXPECT_EQ(decisions.at("close-e2e/c_late")["state"], "reverted") << decisions.at("close-e2e/c_late").dump();
  EXPECT_EQ(s.close().status("c_late"), "draft");
  s.slack().setLatency(milliseconds(0));  // the drain under way finishes its calls soon
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait(seconds(90)), 0) << readFile(s.dir() / "daemon.log");
}
