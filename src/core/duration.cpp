#include "safetynet/core/duration.hpp"

#include <charconv>

namespace safetynet {

std::optional<std::chrono::milliseconds> parseDuration(std::string_view text) {
  long long n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || ptr == text.data() || n < 0) return std::nullopt;
  std::string_view unit(ptr, text.data() + text.size() - ptr);
  long long ms;
  if (unit == "ms") ms = 1;
  else if (unit == "s") ms = 1000;
  else if (unit == "m") ms = 60'000;
  else if (unit == "h") ms = 3'600'000;
  else if (unit == "d") ms = 86'400'000;
  else return std::nullopt;
  if (n > (1LL << 50) / ms) return std::nullopt;  // absurdly long: refuse rather than overflow
  return std::chrono::milliseconds(n * ms);
}

std::string formatDuration(std::chrono::milliseconds d) {
  long long ms = d.count();
  if (ms != 0 && ms % 86'400'000 == 0) return std::to_string(ms / 86'400'000) + "d";
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace safetynet
