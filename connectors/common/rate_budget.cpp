#include "connectors/common/rate_budget.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cmath>

#include "safetynet/connector/connector.hpp"
#include "safetynet/core/logging.hpp"
#include "safetynet/core/time_format.hpp"

namespace safetynet {

namespace {
std::optional<long> number(const std::string& s) {
  if (s.empty()) return std::nullopt;
  try {
    size_t used = 0;
    long v = std::stol(s, &used);
    if (used != s.size()) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// Outreach's window is an hour, Salesloft's a minute: a reset further away than this is a clock
// that moved, not the platform's.
constexpr auto kLongestWindow = std::chrono::minutes(65);

// The start of the next minute: Salesloft's window is the clock minute.
TimePoint nextMinute(TimePoint now) {
  const auto ms = toMillis(now);
  return fromMillis((ms / 60000 + 1) * 60000);
}
}  // namespace

RateBudget::RateBudget(std::string connector, RateDialect dialect, double share, std::chrono::milliseconds max_wait)
    : connector_(std::move(connector)), dialect_(dialect), share_(share), max_wait_(max_wait) {}

long RateBudget::reserve() const {
  if (!limit_) return 0;
  return static_cast<long>(std::ceil(static_cast<double>(*limit_) * (1.0 - share_)));
}

void RateBudget::observe(const HttpResponse& r) {
  const TimePoint now = Clock::now();
  if (dialect_ == RateDialect::Outreach) {
    auto limit = number(r.header("x-ratelimit-limit"));
    auto remaining = number(r.header("x-ratelimit-remaining"));
    auto reset = number(r.header("x-ratelimit-reset"));
    if (limit) limit_ = limit;
    if (remaining) remaining_ = remaining;
    if (reset) reset_at_ = *reset > 1000000000 ? fromMillis(*reset * 1000) : now + std::chrono::seconds(*reset);
  } else {
    limit_ = 600;
    if (auto remaining = number(r.header("x-ratelimit-remaining-minute"))) {
      remaining_ = remaining;
      reset_at_ = nextMinute(now);
    }
  }
  if (r.status == 429) remaining_ = 0;
}

Task<void> RateBudget::beforeRequest(int cost) {
  for (;;) {
    const TimePoint now = Clock::now();
    if (!remaining_ || now >= reset_at_ || *remaining_ - cost >= reserve()) co_return;
    if (reset_at_ - now > kLongestWindow) {
      // No platform's window is that long: our clock went back since the reset was read (or the
      // platform's is ahead). Waiting for the clock to catch up would stop this connector; the
      // request goes, and its answer (a 429 at worst, which is retried) says where we stand.
      remaining_.reset();
      co_return;
    }
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(reset_at_ - now);
    if (wait > max_wait_)
      throw ConnectorError(connector_ + ": the rate budget (" + std::to_string(static_cast<int>(share_ * 100)) +
                           "% of the platform's limit) is used up until " + formatIso8601(reset_at_) +
                           "; the rest is left to other integrations");
    logger(connector_)->info("rate budget: {} left of which {} are kept for other integrations; waiting {} ms",
                             *remaining_, reserve(), wait.count());
    asio::steady_timer t(co_await asio::this_coro::executor, wait);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    remaining_.reset();  // the window has turned; the next response tells again
  }
}

}  // namespace safetynet
