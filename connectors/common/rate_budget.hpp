#pragma once
// A connector's share of a platform's rate limit. Outreach allows 10,000 requests an hour per
// user; Salesloft 600 cost units a minute for the whole team; both limits are shared with the
// customer's other integrations. After every response the budget reads what the platform says is
// left; before a request it waits (up to `max_wait`) while what is left is inside the part kept
// for others, and past that it fails the request with a ConnectorError that names the reset time:
// the cycle skips the connector and the next cycle carries on.
//
// Requests wait their turn by when their answer is due at the latest (an email's send time), not
// by arrival: in a burst the stops of emails due in 50 minutes would otherwise take the minute's
// budget from the listing and from the stops due in 90 seconds. Between two responses the budget
// counts what it let through itself, so a window that turns does not let every waiter go at once.
// A request due more than kUrgentWithin ahead, whose window turns before it becomes urgent, may
// not spend the last half of the connector's share: order alone does not keep the budget for the
// listing page that comes a moment later, and a burst of stops due in 50 minutes spent a
// Salesloft minute in seconds.
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "safetynet/core/task.hpp"
#include "safetynet/net/http_client.hpp"

namespace safetynet {

enum class RateDialect {
  Outreach,   // X-RateLimit-Limit / -Remaining / -Reset (epoch seconds, or seconds from now)
  Salesloft,  // x-ratelimit-remaining-minute, limit 600 a minute, x-ratelimit-endpoint-cost
};

class RateBudget {
 public:
  RateBudget(std::string connector, RateDialect dialect, double share,
             std::chrono::milliseconds max_wait = std::chrono::seconds(65));
  void observe(const HttpResponse& r);
  // `due`: when the answer is needed at the latest; none is a listing page (listingDue).
  Task<void> beforeRequest(int cost = 1, std::optional<TimePoint> due = std::nullopt);
  // A listing page may reveal an email created this instant with the shortest lead the product
  // promises to stop (two minutes, `min_lead_time`): its send time is what the page is due for.
  static TimePoint listingDue(TimePoint now);
  static constexpr std::chrono::minutes kUrgentWithin{5};
  // For tests and logs.
  std::optional<long> remaining() const { return remaining_; }
  long reserve() const;

 private:
  std::string connector_;
  RateDialect dialect_;
  double share_;
  std::chrono::milliseconds max_wait_;
  std::optional<long> limit_, remaining_;
  TimePoint reset_at_{};
  // The requests waiting, most urgent first (due, then arrival); each is woken by its timer.
  using Key = std::pair<TimePoint, uint64_t>;
  std::map<Key, asio::steady_timer*> waiting_;
  uint64_t arrivals_ = 0;

  void turnWindowIfPast(TimePoint now);
  // What must stay unspent for a request due then: the others' part, and for one not urgent yet
  // half of ours as well.
  long keep(TimePoint due, TimePoint now) const;
  void wakeFirst();
};

}  // namespace safetynet
