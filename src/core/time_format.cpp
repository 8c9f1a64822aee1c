#include "safetynet/core/time_format.hpp"

#include <cstdio>
#include <ctime>

namespace safetynet {

std::string formatIso8601(TimePoint t) {
  long long ms = toMillis(t);
  std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  int frac = static_cast<int>(ms - static_cast<long long>(secs) * 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // room for any int the format could print (gcc warns at 40)
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

std::optional<TimePoint> parseIso8601(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fff...][Z|+hh:mm|-hh:mm]
  auto digits = [&](size_t pos, size_t n, int& out) {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    out = v;
    return true;
  };
  int Y, M, D, h, m, sec;
  if (!digits(0, 4, Y) || s.size() < 19 || s[4] != '-' || !digits(5, 2, M) || s[7] != '-' || !digits(8, 2, D) ||
      (s[10] != 'T' && s[10] != ' ') || !digits(11, 2, h) || s[13] != ':' || !digits(14, 2, m) || s[16] != ':' ||
      !digits(17, 2, sec))
    return std::nullopt;
  if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60) return std::nullopt;
  size_t i = 19;
  long long ms = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int scale = 100, n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (scale > 0) ms += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
      ++n;
    }
    if (n == 0) return std::nullopt;
  }
  long long offset = 0;
  if (i == s.size()) {
    // no zone: the platforms send UTC
  } else if (s[i] == 'Z' && i + 1 == s.size()) {
  } else if ((s[i] == '+' || s[i] == '-') && s.size() == i + 6 && s[i + 3] == ':') {
    int oh, om;
    if (!digits(i + 1, 2, oh) || !digits(i + 4, 2, om)) return std::nullopt;
    offset = (oh * 60 + om) * 60LL * (s[i] == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = Y - 1900;
  tm.tm_mon = M - 1;
  tm.tm_mday = D;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = sec;
  long long epoch = static_cast<long long>(timegm(&tm)) - offset;
  // A date the clock cannot hold (system_clock counts nanoseconds: 1678 to 2262) is malformed too:
  // converting it would overflow (found by fuzzing: "8861-11-22T09:00:00Z" from a platform).
  constexpr long long kLimitMs =
      std::chrono::duration_cast<std::chrono::milliseconds>(TimePoint::max().time_since_epoch()).count() - 1000;
  const long long total = epoch * 1000 + ms;
  if (total > kLimitMs || total < -kLimitMs) return std::nullopt;
  return fromMillis(total);
}

}  // namespace safetynet
