#pragma once
// A connector's share of a platform's rate limit. Outreach allows 10,000 requests an hour per
// user; Salesloft 600 cost units a minute for the whole team; both limits are shared with the
// customer's other integrations. After every response the budget reads what the platform says is
// left; before a request it waits (up to `max_wait`) while what is left is inside the part kept
// for others, and past that it fails the request with a ConnectorError that names the reset time:
// the cycle skips the connector and the next cycle carries on.
#include <chrono>
#include <optional>
#include <string>

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
  Task<void> beforeRequest(int cost = 1);
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
};

}  // namespace safetynet
