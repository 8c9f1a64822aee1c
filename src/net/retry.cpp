#include <algorithm>
#include <cmath>
#include <ctime>
#include <regex>

#include "safetynet/net/http_client.hpp"

namespace safetynet {

namespace {
std::optional<long long> toNumber(const std::string& s) {
  if (s.empty()) return std::nullopt;
  try {
    size_t used = 0;
    double v = std::stod(s, &used);
    if (used == 0 || !std::isfinite(v) || v < 0) return std::nullopt;
    // Milliseconds, capped far beyond any wait the client honours (max_server_delay) or an epoch
    // time it reads (X-RateLimit-Reset): "1e30" or "9223372036854775807" no longer overflow the
    // conversion (found by fuzzing Slack's answers).
    constexpr double kMaxMs = 1e15;  // about 31,000 years
    return static_cast<long long>(std::ceil(std::min(v * 1000, kMaxMs)));
  } catch (...) {
    return std::nullopt;
  }
}

// "Wed, 21 Oct 2015 07:28:00 GMT" (IMF-fixdate, the only form servers send today).
std::optional<TimePoint> httpDate(const std::string& s) {
  std::tm tm{};
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  // Within 1970..2199: a date the clock cannot hold (system_clock counts nanoseconds, to 2262) would
  // overflow converting it or subtracting now from it.
  const long long t = static_cast<long long>(timegm(&tm));
  if (t < 0 || t >= 7'258'118'400LL) return std::nullopt;
  return Clock::from_time_t(static_cast<std::time_t>(t));
}
}  // namespace

std::optional<std::chrono::milliseconds> serverRequestedDelay(const HttpResponse& r, TimePoint now) {
  using std::chrono::milliseconds;
  if (auto ra = r.header("retry-after"); !ra.empty()) {
    if (auto ms = toNumber(ra)) return milliseconds(*ms);
    if (auto t = httpDate(ra)) return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(*t - now));
  }
  // Close: "RateLimit: limit=600, remaining=0, reset=4" (reset in seconds).
  if (auto rl = r.header("ratelimit"); !rl.empty()) {
    static const std::regex remaining(R"(remaining=(\d+))"), reset(R"(reset=([\d.]+))");
    std::smatch m1, m2;
    if (std::regex_search(rl, m2, reset)) {
      bool exhausted = !std::regex_search(rl, m1, remaining) || m1[1] == "0";
      if (exhausted || r.status == 429)
        if (auto ms = toNumber(m2[1])) return milliseconds(*ms);
    }
  }
  // Outreach: X-RateLimit-Remaining / X-RateLimit-Reset (epoch seconds).
  if (r.header("x-ratelimit-remaining") == "0" || r.status == 429) {
    if (auto reset = toNumber(r.header("x-ratelimit-reset"))) {
      long long resetMs = *reset;
      long long nowMs = std::chrono::duration_cast<milliseconds>(now.time_since_epoch()).count();
      if (resetMs > nowMs) return milliseconds(resetMs - nowMs);       // an epoch time
      if (resetMs < 86'400'000) return milliseconds(resetMs);          // seconds from now
    }
  }
  return std::nullopt;
}

std::chrono::milliseconds backoffDelay(const RetryPolicy& p, int attempt, double unit_random) {
  double cap = std::min<double>(static_cast<double>(p.max_delay.count()),
                                static_cast<double>(p.base_delay.count()) * std::pow(2.0, std::max(0, attempt)));
  return std::chrono::milliseconds(static_cast<long long>(cap * std::clamp(unit_random, 0.0, 1.0)));
}

}  // namespace safetynet
