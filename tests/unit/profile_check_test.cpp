// What the platform knows about a person, as signals (checks/profile_check.hpp), and the policy
// outcome of each.
#include <gtest/gtest.h>

#include "checks/profile_check.hpp"
#include "connectors/common/rate_budget.hpp"
#include "safetynet/connector/connector.hpp"
#include "safetynet/core/time_format.hpp"
#include "safetynet/policy/policy.hpp"
#include "support/run_task.hpp"

using namespace safetynet;
using namespace safetynet::testing;

namespace {

std::vector<std::string> signals(const std::string& address, const RecipientProfile& p, EngagementConfig e = {}) {
  checks::ProfileCheck check(e);
  CheckInput in;
  in.raw = address;
  in.address = parseAddress(address).address;
  in.profile = std::make_shared<const RecipientProfile>(p);
  ScanResult r;
  runTask([&]() -> Task<void> { co_await check.run(in, r); }());
  std::vector<std::string> out;
  for (const auto& s : r.signals()) out.push_back(s.name);
  return out;
}

std::string reasonOf(const std::vector<std::string>& names) {
  std::vector<std::string> errors;
  auto policy = Policy::build(kDefaultPolicyYamlText(), PolicyConfig{}, &errors);
  std::vector<Signal> s;
  for (const auto& n : names) s.push_back(Signal{n, 0, "x"});
  return policy->decide(s).reason;
}

RecipientProfile person(std::vector<ProfileAddress> addresses) {
  RecipientProfile p;
  p.person_id = "p1";
  p.addresses = std::move(addresses);
  return p;
}

using V = std::vector<std::string>;

TEST(ProfileCheck, NothingKnownNothingSaid) {
  EXPECT_EQ(signals("jane@acme.test", person({{"jane@acme.test", true, "work", false, false}})), V{});
  checks::ProfileCheck check({});
  CheckInput in;  // no profile at all (check command, re-checks)
  in.raw = "jane@acme.test";
  ScanResult r;
  runTask([&]() -> Task<void> { co_await check.run(in, r); }());
  EXPECT_TRUE(r.signals().empty());
}

TEST(ProfileCheck, BouncedAndSuppressed) {
  EXPECT_EQ(signals("jane@acme.test", person({{"jane@acme.test", true, "work", true, false}})), V{"HARD_BOUNCED"});
  EXPECT_EQ(reasonOf({"HARD_BOUNCED"}), "bounce_risk");
  // A person-level bounced flag counts for the primary address only.
  auto p = person({{"jane@acme.test", true, "work", false, false}, {"j@acme.test", false, "work", false, false}});
  p.bounced = true;
  EXPECT_EQ(signals("jane@acme.test", p), V{"HARD_BOUNCED"});
  EXPECT_EQ(signals("j@acme.test", p), V{"NOT_PRIMARY_EMAIL"});
  auto out = person({{"jane@acme.test", true, "work", false, false}});
  out.opted_out = true;
  EXPECT_EQ(signals("jane@acme.test", out), V{"SUPPRESSED"});
  EXPECT_EQ(reasonOf({"SUPPRESSED"}), "do_not_mail");
  auto dnc = person({{"jane@acme.test", true, "work", false, false}});
  dnc.do_not_contact = true;
  EXPECT_EQ(signals("jane@acme.test", dnc), V{"SUPPRESSED"});
  EXPECT_EQ(signals("JANE@acme.test", person({{"jane@acme.test", true, "", false, true}})), V{"SUPPRESSED"});
}

TEST(ProfileCheck, NotThePrimaryAddress) {
  auto p = person({{"jane@acme.test", true, "work", false, false}, {"jane.doe@gmail.com", false, "personal", false, false}});
  EXPECT_EQ(signals("jane.doe@gmail.com", p), V{"NOT_PRIMARY_EMAIL"});
  EXPECT_EQ(reasonOf({"NOT_PRIMARY_EMAIL"}), "secondary_email");
  EXPECT_EQ(signals("jane@acme.test", p), V{});
  // No primary known: personal webmail while a work address at the account's domain exists.
  auto q = person({{"jane.doe@gmail.com", false, "", false, false}, {"jane@acme.test", false, "", false, false}});
  q.account_domain = "acme.test";
  EXPECT_EQ(signals("jane.doe@gmail.com", q), V{"NOT_PRIMARY_EMAIL"});
  EXPECT_EQ(signals("jane@acme.test", q), V{});
  // Webmail with no work address anywhere: nothing to prefer.
  EXPECT_EQ(signals("jane.doe@gmail.com", person({{"jane.doe@gmail.com", false, "", false, false}})), V{});
}

TEST(ProfileCheck, EngagementWithCatchAllOrManySends) {
  EngagementConfig e;
  e.dead_after = std::chrono::hours(24 * 365);
  e.unengaged_sends = 8;
  auto stale = person({{"jane@acme.test", true, "work", false, false}});
  stale.sends = 3;
  stale.last_open = Clock::now() - std::chrono::hours(24 * 400);
  EXPECT_EQ(signals("jane@acme.test", stale, e), V{"NO_ENGAGEMENT"});
  EXPECT_EQ(reasonOf({"NO_ENGAGEMENT"}), "");  // a hint alone
  EXPECT_EQ(reasonOf({"NO_ENGAGEMENT", "CATCH_ALL"}), "dead_email");
  auto many = stale;
  many.sends = 12;
  EXPECT_EQ(signals("jane@acme.test", many, e), (V{"NO_ENGAGEMENT", "MANY_SENDS_NO_ENGAGEMENT"}));
  EXPECT_EQ(reasonOf({"NO_ENGAGEMENT", "MANY_SENDS_NO_ENGAGEMENT"}), "dead_email");
  auto never = person({{"jane@acme.test", true, "work", false, false}});
  never.sends = 9;
  never.engagements = 0;
  EXPECT_EQ(signals("jane@acme.test", never, e), (V{"NO_ENGAGEMENT", "MANY_SENDS_NO_ENGAGEMENT"}));
  auto fewNever = never;
  fewNever.sends = 2;  // new prospect: not dead, just new
  EXPECT_EQ(signals("jane@acme.test", fewNever, e), V{});
  auto recent = many;
  recent.last_reply = Clock::now() - std::chrono::hours(24 * 10);
  EXPECT_EQ(signals("jane@acme.test", recent, e), V{});
}

TEST(ProfileCheck, BouncesThePlatformCountedAreAHint) {
  auto p = person({{"jane@acme.test", true, "work", false, false}});
  p.sends = 4;
  p.bounces = 2;
  EXPECT_EQ(signals("jane@acme.test", p), V{"PLATFORM_BOUNCES"});
  EXPECT_EQ(reasonOf({"PLATFORM_BOUNCES"}), "");  // a hint alone
  EXPECT_EQ(reasonOf({"PLATFORM_BOUNCES", "NO_ENGAGEMENT"}), "dead_email");
  // Marked bouncing: the flag says it all.
  p.bounced = true;
  EXPECT_EQ(signals("jane@acme.test", p), V{"HARD_BOUNCED"});
  p.bounced = false;
  p.bounces = 0;
  EXPECT_EQ(signals("jane@acme.test", p), V{});
}

HttpResponse withHeaders(std::map<std::string, std::string> h, int status = 200) {
  HttpResponse r;
  r.status = status;
  r.headers = std::move(h);
  return r;
}

TEST(RateBudget, LeavesTheConfiguredShareToOthers) {
  RateBudget b("outreach-x", RateDialect::Outreach, 0.5, std::chrono::milliseconds(200));
  runTask(b.beforeRequest());  // nothing known yet: go
  const auto in = std::to_string(toMillis(Clock::now()) / 1000 + 3600);
  b.observe(withHeaders({{"x-ratelimit-limit", "10000"}, {"x-ratelimit-remaining", "5200"}, {"x-ratelimit-reset", in}}));
  EXPECT_EQ(b.reserve(), 5000);
  runTask(b.beforeRequest());  // 5,200 left, 5,000 kept for others
  b.observe(withHeaders({{"x-ratelimit-limit", "10000"}, {"x-ratelimit-remaining", "5000"}, {"x-ratelimit-reset", in}}));
  EXPECT_THROW(runTask(b.beforeRequest()), ConnectorError);  // the reset is an hour away
  // A reset within max_wait is waited for.
  b.observe(withHeaders({{"x-ratelimit-limit", "10000"}, {"x-ratelimit-remaining", "10"}, {"x-ratelimit-reset", "0"}}));
  runTask(b.beforeRequest());
}

TEST(RateBudget, AResetFurtherAwayThanTheWindowIsOurClockNotADayOfWaiting) {
  // Outreach's window is an hour and its reset an epoch time. Our clock went back a day: with the
  // budget low, the reset looks a day away, and every request was refused until the clock caught
  // up (no request, so no answer to correct it). The request goes; its answer tells the truth.
  RateBudget b("outreach-x", RateDialect::Outreach, 0.5, std::chrono::milliseconds(200));
  const auto dayAway = std::to_string(toMillis(Clock::now()) / 1000 + 24 * 3600 + 600);
  b.observe(withHeaders({{"x-ratelimit-limit", "10000"}, {"x-ratelimit-remaining", "10"}, {"x-ratelimit-reset", dayAway}}));
  EXPECT_NO_THROW(runTask(b.beforeRequest()));
  // A reset within the window is still the platform's word: used up until then.
  const auto inHalfAnHour = std::to_string(toMillis(Clock::now()) / 1000 + 1800);
  b.observe(withHeaders({{"x-ratelimit-limit", "10000"}, {"x-ratelimit-remaining", "10"}, {"x-ratelimit-reset", inHalfAnHour}}));
  EXPECT_THROW(runTask(b.beforeRequest()), ConnectorError);
}

TEST(RateBudget, SalesloftCountsCostPerMinute) {
  RateBudget b("salesloft-x", RateDialect::Salesloft, 0.5, std::chrono::milliseconds(0));
  b.observe(withHeaders({{"x-ratelimit-remaining-minute", "400"}}));
  EXPECT_EQ(b.reserve(), 300);
  runTask(b.beforeRequest(30));
  b.observe(withHeaders({{"x-ratelimit-remaining-minute", "305"}}));
  EXPECT_THROW(runTask(b.beforeRequest(10)), ConnectorError);  // 305 - 10 < 300, and no wait allowed
}

}  // namespace
