#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "safetynet/core/task.hpp"

namespace safetynet {

// RFC 3339 / ISO 8601 in UTC with milliseconds: 2026-11-22T08:00:00.000Z.
std::string formatIso8601(TimePoint t);
// Accepts what the platforms send: "Z" or "+hh:mm" offsets, optional fraction. nullopt if malformed.
std::optional<TimePoint> parseIso8601(std::string_view text);
// Milliseconds since the epoch, as stored in SQLite.
inline long long toMillis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline TimePoint fromMillis(long long ms) { return TimePoint(std::chrono::milliseconds(ms)); }

}  // namespace safetynet
