#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace safetynet {

// Parses "90s", "2m", "4h", "30d", "250ms" (one number, one unit). nullopt when malformed.
std::optional<std::chrono::milliseconds> parseDuration(std::string_view text);

// The inverse, for messages and `decisions --since`: the largest unit that divides exactly.
std::string formatDuration(std::chrono::milliseconds d);

}  // namespace safetynet
