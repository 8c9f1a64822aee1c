#include <gtest/gtest.h>

#include "safetynet/net/http_client.hpp"
#include "safetynet/net/url.hpp"

using namespace safetynet;
using namespace std::chrono;

namespace {
HttpResponse with(int status, std::map<std::string, std::string> h) {
  HttpResponse r;
  r.status = status;
  r.headers = std::move(h);
  return r;
}
}  // namespace

TEST(RetryAfter, SecondsAndHttpDate) {
  EXPECT_EQ(serverRequestedDelay(with(429, {{"retry-after", "7"}}), Clock::now()), milliseconds(7000));
  auto now = Clock::from_time_t(1445412470);  // 2015-10-21T07:27:50Z
  EXPECT_EQ(serverRequestedDelay(with(503, {{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}}), now), milliseconds(10000));
  EXPECT_FALSE(serverRequestedDelay(with(503, {{"retry-after", "soon"}}), now));
}

TEST(RetryAfter, CloseRateLimitHeader) {
  EXPECT_EQ(serverRequestedDelay(with(429, {{"ratelimit", "limit=160, remaining=0, reset=4"}}), Clock::now()),
            milliseconds(4000));
  // Quota left: no wait on a successful answer.
  EXPECT_FALSE(serverRequestedDelay(with(200, {{"ratelimit", "limit=160, remaining=12, reset=4"}}), Clock::now()));
  // Exhausted on a 200: wait before the next request.
  EXPECT_EQ(serverRequestedDelay(with(200, {{"ratelimit", "limit=160, remaining=0, reset=2.5"}}), Clock::now()),
            milliseconds(2500));
}

TEST(RetryAfter, XRateLimitResetAsEpoch) {
  auto now = Clock::from_time_t(1'700'000'000);
  EXPECT_EQ(serverRequestedDelay(with(429, {{"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", "1700000030"}}), now),
            milliseconds(30000));
}

TEST(Backoff, FullJitterIsBoundedAndGrows) {
  RetryPolicy p;
  p.base_delay = milliseconds(100);
  p.max_delay = milliseconds(1000);
  EXPECT_EQ(backoffDelay(p, 0, 1.0), milliseconds(100));
  EXPECT_EQ(backoffDelay(p, 3, 1.0), milliseconds(800));
  EXPECT_EQ(backoffDelay(p, 10, 1.0), milliseconds(1000));
  EXPECT_EQ(backoffDelay(p, 10, 0.0), milliseconds(0));
  EXPECT_EQ(backoffDelay(p, 2, 0.5), milliseconds(200));
}

TEST(Url, ParsesWhatConnectorsUse) {
  auto u = parseUrl("https://api.close.com/api/v1/activity/email/?_limit=100");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "api.close.com");
  EXPECT_EQ(u->port, "443");
  EXPECT_EQ(u->target, "/api/v1/activity/email/?_limit=100");
  auto l = parseUrl("http://127.0.0.1:8080");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->host, "127.0.0.1");  // a bug once left IPv4 hosts empty
  EXPECT_EQ(l->port, "8080");
  auto v6 = parseUrl("http://[::1]:9/x");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(l->target, "/");
  EXPECT_FALSE(parseUrl("ftp://x.example/"));
  EXPECT_FALSE(parseUrl("not a url"));
  EXPECT_EQ(urlEncode("2026-11-22T08:00:00.000Z"), "2026-11-22T08%3A00%3A00.000Z");
}

// Found by fuzzing Slack's answers (tests/fuzz/slack_fuzz.cpp): a Retry-After too large for the
// conversion to milliseconds, not a number, or a date the clock cannot hold overflowed (UBSan) and
// came back as a negative wait.
TEST(RetryAfter, HugeOrNonFiniteValuesDoNotOverflow) {
  const auto now = Clock::from_time_t(1'700'000'000);
  auto huge = serverRequestedDelay(with(429, {{"retry-after", "9223372036854775807"}}), now);
  ASSERT_TRUE(huge);
  EXPECT_GT(*huge, hours(24 * 365));  // longer than any client waits: it gives up (max_server_delay)
  auto e30 = serverRequestedDelay(with(429, {{"retry-after", "1e30"}}), now);
  ASSERT_TRUE(e30);
  EXPECT_GT(*e30, hours(24 * 365));
  EXPECT_FALSE(serverRequestedDelay(with(429, {{"retry-after", "nan"}}), now));
  EXPECT_FALSE(serverRequestedDelay(with(429, {{"retry-after", "inf"}}), now));
  EXPECT_FALSE(serverRequestedDelay(with(503, {{"retry-after", "Fri, 31 Dec 9999 23:59:59 GMT"}}), now));
  EXPECT_FALSE(serverRequestedDelay(with(503, {{"retry-after", "Mon, 01 Jan 1600 00:00:00 GMT"}}), now));
  auto reset = serverRequestedDelay(with(429, {{"x-ratelimit-reset", "1e300"}}), now);
  ASSERT_TRUE(reset);
  EXPECT_GT(*reset, hours(24 * 365));
}
