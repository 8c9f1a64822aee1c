#include "connectors/common/rate_budget.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cmath>

#include "safetynet/connector/connector.hpp"
#include "safetynet/core/logging.hpp"
#include "safetynet/core/time_format.hpp"
#include "safetynet/metrics/metrics.hpp"

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
  wakeFirst();  // what is left may have changed either way
}

TimePoint RateBudget::listingDue(TimePoint now) { return now + std::chrono::minutes(2); }

void RateBudget::turnWindowIfPast(TimePoint now) {
  if (!remaining_ || now < reset_at_) return;
  // A new window: the whole limit again (less what other integrations take, which the next
  // response tells). Unknown limit: unknown until that response.
  if (limit_) remaining_ = *limit_; else remaining_.reset();
  // Till a response says otherwise, the new window is assumed to last as long as the platform's.
  reset_at_ = dialect_ == RateDialect::Salesloft ? nextMinute(now) : now + std::chrono::hours(1);
}

long RateBudget::keep(TimePoint due, TimePoint now) const {
  // Held back only when the window turns before the request becomes urgent: then waiting gets it
  // a fresh window. Otherwise it would meet the same urgent requests later, only later (Outreach's
  // hour: a stop due in 30 minutes would wait 25 of them for nothing).
  if (!limit_ || due - now <= kUrgentWithin || reset_at_ >= due - kUrgentWithin) return reserve();
  const double ours = static_cast<double>(*limit_) * share_;
  return reserve() + static_cast<long>(std::ceil(ours / 2));
}

void RateBudget::wakeFirst() {
  if (!waiting_.empty()) waiting_.begin()->second->cancel();
}

Task<void> RateBudget::beforeRequest(int cost, std::optional<TimePoint> due) {
  const Key key{due.value_or(listingDue(Clock::now())), arrivals_++};
  asio::steady_timer timer(co_await asio::this_coro::executor);
  // Leaves the line however this ends (let through, refused, or the caller's coroutine destroyed)
  // and hands the turn to the next.
  struct Place {
    RateBudget& budget;
    Key key;
    bool queued = false;
    void leave() {
      if (!queued) return;
      budget.waiting_.erase(key);
      queued = false;
    }
    ~Place() {
      leave();
      budget.wakeFirst();
    }
  } place{*this, key};
  std::optional<std::chrono::steady_clock::time_point> waitedFrom;  // safetynet_rate_limit_wait*
  for (;;) {
    const TimePoint now = Clock::now();
    turnWindowIfPast(now);
    const bool behind = !waiting_.empty() && waiting_.begin()->first < key;
    const bool affordable = !remaining_ || *remaining_ - cost >= keep(key.first, now);
    if (!behind && affordable) {
      if (remaining_) *remaining_ -= cost;  // counted until the response says where we stand
      if (waitedFrom) {
        metrics::Instruments& m = metrics::instruments();
        m.rate_limit_waits.with({connector_}).inc();
        m.rate_limit_wait_seconds.with({connector_}).inc(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - *waitedFrom).count());
      }
      co_return;                            // ~Place: out of the line, the next one looks
    }
    std::chrono::milliseconds wait(60000);  // behind a more urgent request: woken when it goes
    const bool urgentWouldGo = !remaining_ || *remaining_ - cost >= reserve();
    if (!affordable && urgentWouldGo) {
      // Only held back as not urgent yet: until the window turns or it becomes urgent, looking
      // again at least every max_wait. Never refused for this (a stop due later is still a stop).
      const TimePoint urgent = key.first - kUrgentWithin;
      const TimePoint until = urgent > now && urgent < reset_at_ ? urgent : reset_at_;
      wait = std::max(std::chrono::milliseconds(1),
                      std::min(std::chrono::ceil<std::chrono::milliseconds>(until - now),
                               std::max(max_wait_, std::chrono::milliseconds(1000))));
    } else if (!affordable) {
      if (reset_at_ - now > kLongestWindow) {
        // No platform's window is that long: our clock went back since the reset was read (or the
        // platform's is ahead). Waiting for the clock to catch up would stop this connector; the
        // request goes, and its answer (a 429 at worst, which is retried) says where we stand.
        remaining_.reset();
        continue;
      }
      wait = std::chrono::ceil<std::chrono::milliseconds>(reset_at_ - now);
      if (wait > max_wait_)
        throw ConnectorError(connector_ + ": the rate budget (" + std::to_string(static_cast<int>(share_ * 100)) +
                             "% of the platform's limit) is used up until " + formatIso8601(reset_at_) +
                             "; the rest is left to other integrations");
      if (!behind)
        logger(connector_)->info("rate budget: {} left of which {} are kept for other integrations; waiting {} ms",
                                 *remaining_, reserve(), wait.count());
    }
    if (!place.queued) {
      waiting_.emplace(key, &timer);
      place.queued = true;
    }
    if (!waitedFrom) waitedFrom = std::chrono::steady_clock::now();
    timer.expires_after(wait);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace safetynet
