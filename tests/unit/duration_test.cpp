#include <gtest/gtest.h>

#include "safetynet/core/duration.hpp"
#include "safetynet/core/time_format.hpp"

using namespace safetynet;
using namespace std::chrono;

TEST(Duration, ParsesEveryUnit) {
  EXPECT_EQ(parseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(parseDuration("90s"), seconds(90));
  EXPECT_EQ(parseDuration("2m"), minutes(2));
  EXPECT_EQ(parseDuration("4h"), hours(4));
  EXPECT_EQ(parseDuration("30d"), hours(24 * 30));
  EXPECT_EQ(parseDuration("0s"), milliseconds(0));
}

TEST(Duration, RefusesWhatIsNotOneNumberAndOneUnit) {
  for (const char* bad : {"", "30", "s", "2 m", "1.5h", "-3s", "3w", "30 seconds", "3ss", "999999999999999999d"})
    EXPECT_FALSE(parseDuration(bad).has_value()) << bad;
}

TEST(Duration, FormatsWithTheLargestExactUnit) {
  EXPECT_EQ(formatDuration(hours(48)), "2d");
  EXPECT_EQ(formatDuration(minutes(90)), "90m");
  EXPECT_EQ(formatDuration(seconds(30)), "30s");
  EXPECT_EQ(formatDuration(milliseconds(1500)), "1500ms");
}

TEST(Iso8601, RoundTripsAndReadsOffsets) {
  auto t = parseIso8601("2026-11-22T08:00:00.250Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(formatIso8601(*t), "2026-11-22T08:00:00.250Z");
  EXPECT_EQ(parseIso8601("2026-11-22T10:00:00+02:00"), parseIso8601("2026-11-22T08:00:00Z"));
  EXPECT_EQ(parseIso8601("2026-11-22T08:00:00.123456+00:00"), parseIso8601("2026-11-22T08:00:00.123Z"));
  EXPECT_FALSE(parseIso8601("2026-13-01T00:00:00Z"));
  EXPECT_FALSE(parseIso8601("yesterday"));
  EXPECT_FALSE(parseIso8601("2026-11-22T08:00:00Zjunk"));
}

// Found by fuzzing the platform mappings: a date past 2262 (or before 1678) does not fit the
// clock's nanoseconds; converting it overflowed (UBSan) and gave a date in the past.
TEST(Iso8601, RefusesDatesTheClockCannotHold) {
  EXPECT_FALSE(parseIso8601("8861-11-22T09:00:00.000Z"));
  EXPECT_FALSE(parseIso8601("9999-12-31T23:59:59Z"));
  EXPECT_FALSE(parseIso8601("0001-01-01T00:00:00Z"));
  EXPECT_TRUE(parseIso8601("2261-12-31T23:59:59Z"));
  EXPECT_TRUE(parseIso8601("1970-01-01T00:00:00Z"));
}
