// The rate budget's line: requests go in order of when their answer is due, and a window lets
// through what it holds, not every waiter at once.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <string>
#include <vector>

#include "connectors/common/rate_budget.hpp"
#include "safetynet/connector/connector.hpp"
#include "safetynet/metrics/metrics.hpp"

namespace safetynet {
namespace {

HttpResponse outreachHeaders(int limit, int remaining, int resetSeconds) {
  HttpResponse r;
  r.status = 200;
  r.headers = {{"x-ratelimit-limit", std::to_string(limit)},
               {"x-ratelimit-remaining", std::to_string(remaining)},
               {"x-ratelimit-reset", std::to_string(resetSeconds)}};
  return r;
}

struct Outcome {
  std::vector<std::string> admitted;
  std::vector<std::string> refused;
};

// Each request waits for the budget, then records its name; a refusal records it too.
void request(asio::io_context& io, RateBudget& b, Outcome& out, std::string name, std::optional<TimePoint> due) {
  asio::co_spawn(io, [&b, &out, name, due]() -> Task<void> {
    try {
      co_await b.beforeRequest(1, due);
      out.admitted.push_back(name);
    } catch (const ConnectorError&) {
      out.refused.push_back(name);
    }
  }, asio::detached);
}

TEST(RateBudget, TheEarliestDueGoFirstWhenTheWindowTurns) {
  // In a burst the stops of emails due in 50 minutes took the minute's budget from the listing and
  // from stops due sooner: requests went in the order they came. Limit 100, half kept for others,
  // nothing left of ours until the reset a second away.
  RateBudget b("outreach-x", RateDialect::Outreach, 0.5, std::chrono::seconds(5));
  asio::io_context io;  // after the budget: destroyed first, with any request still waiting
  b.observe(outreachHeaders(100, 50, 1));
  const TimePoint now = Clock::now();
  Outcome out;
  request(io, b, out, "due in 50 min", now + std::chrono::minutes(50));
  request(io, b, out, "due in 90 s", now + std::chrono::seconds(90));
  request(io, b, out, "listing page", std::nullopt);  // due when an email created now could be sent
  request(io, b, out, "due in 30 min", now + std::chrono::minutes(30));
  request(io, b, out, "due in 10 min", now + std::chrono::minutes(10));
  request(io, b, out, "due in 60 s", now + std::chrono::seconds(60));
  io.run();
  EXPECT_EQ(out.admitted, (std::vector<std::string>{"due in 60 s", "due in 90 s", "listing page", "due in 10 min",
                                                    "due in 30 min", "due in 50 min"}));
  EXPECT_TRUE(out.refused.empty());
}

TEST(RateBudget, ATurnedWindowLetsThroughWhatItHolds) {
  // When the window turned, every waiter went at once. Limit 10, 5 kept for others: 5 go.
  RateBudget b("outreach-x", RateDialect::Outreach, 0.5, std::chrono::seconds(5));
  asio::io_context io;
  b.observe(outreachHeaders(10, 5, 1));
  const TimePoint now = Clock::now();
  Outcome out;
  for (int i = 6; i >= 1; --i) request(io, b, out, "due in " + std::to_string(i * 30) + " s", now + std::chrono::seconds(i * 30));
  io.run();
  EXPECT_EQ(out.admitted, (std::vector<std::string>{"due in 30 s", "due in 60 s", "due in 90 s", "due in 120 s", "due in 150 s"}));
  // The sixth would wait for the next window, an hour away (Outreach's), beyond the 5 s a request
  // may wait: refused, the next cycle tries again.
  EXPECT_EQ(out.refused, (std::vector<std::string>{"due in 180 s"}));
}

TEST(RateBudget, RequestsDueLaterLeaveHalfOfOurShareForUrgentOnes) {
  // Order alone does not keep the budget for the listing page that comes a moment later: a burst
  // of stops due later spent a Salesloft minute in seconds. Limit 10: 5 for others, of our 5 the
  // last 3 only for requests due within kUrgentWithin. Outreach's window is an hour: requests due
  // beyond it (and its 5 minutes) are the ones held back.
  RateBudget b("outreach-x", RateDialect::Outreach, 0.5, std::chrono::seconds(2));
  asio::io_context io;
  b.observe(outreachHeaders(10, 5, 1));
  const TimePoint now = Clock::now();
  Outcome out;
  request(io, b, out, "due in 70 min", now + std::chrono::minutes(70));
  request(io, b, out, "due in 80 min", now + std::chrono::minutes(80));
  request(io, b, out, "due in 90 min", now + std::chrono::minutes(90));
  request(io, b, out, "due in 90 s", now + std::chrono::seconds(90));
  io.run_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(out.admitted, (std::vector<std::string>{"due in 90 s", "due in 70 min"}));
  EXPECT_TRUE(out.refused.empty()) << "a request due later waits; it is not refused";
  // A listing page comes: it goes at once, past the two that wait.
  request(io, b, out, "listing page", std::nullopt);
  io.run_for(std::chrono::milliseconds(500));
  EXPECT_EQ(out.admitted, (std::vector<std::string>{"due in 90 s", "due in 70 min", "listing page"}));
  // A stop due in 30 minutes, before the window turns: holding it back would only delay it.
  request(io, b, out, "due in 30 min", now + std::chrono::minutes(30));
  io.run_for(std::chrono::milliseconds(500));
  EXPECT_EQ(out.admitted.back(), "due in 30 min");
  // A response showing room again lets the next one go.
  b.observe(outreachHeaders(10, 9, 3600));
  io.run_for(std::chrono::milliseconds(500));
  EXPECT_EQ(out.admitted.size(), 5u);
  EXPECT_EQ(out.admitted.back(), "due in 80 min");
}

}  // namespace
}  // namespace safetynet
