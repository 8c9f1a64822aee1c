// The platforms' JSON mappings on replies found by fuzzing (tests/fuzz/*_mapping_fuzz.cpp): a reply
// is input like any other, and no value in it may be undefined behaviour or a nonsense count.
#include <gtest/gtest.h>

#include <limits>

#include "connectors/outreach/outreach_mapping.hpp"

using namespace safetynet;

namespace {
nlohmann::json prospect(const std::string& attributes) {
  return nlohmann::json::parse(R"({"type":"prospect","id":7,"attributes":)" + attributes + "}");
}
}  // namespace

// "openCount": 1.3e44 was converted from double to int (undefined; -2147483648 in practice).
TEST(OutreachMapping, ACountNoIntHoldsIsNoCount) {
  auto p = outreach::toProfile(prospect(R"({"emails":["jane@x.example"],"openCount":1.33333e44})"), {}, nullptr);
  EXPECT_FALSE(p.engagements.has_value());
  auto q = outreach::toProfile(prospect(R"({"openCount":-1e300,"clickCount":2})"), {}, nullptr);
  ASSERT_TRUE(q.engagements.has_value());
  EXPECT_EQ(*q.engagements, 2);
}

// Three counts each an int: their sum overflowed.
TEST(OutreachMapping, EngagementsAddUpWithoutOverflow) {
  auto p = outreach::toProfile(prospect(R"({"openCount":2000000000,"clickCount":2000000000,"replyCount":3})"), {},
                               nullptr);
  ASSERT_TRUE(p.engagements.has_value());
  EXPECT_EQ(*p.engagements, std::numeric_limits<int>::max());
}

// The order of an emailAddress sorts the addresses; a huge one sorts last instead of anywhere.
TEST(OutreachMapping, AnOrderNoIntHoldsSortsLast) {
  std::vector<nlohmann::json> addresses = {
      nlohmann::json::parse(R"({"type":"emailAddress","id":1,"attributes":{"email":"b@x.example","order":1e40}})"),
      nlohmann::json::parse(R"({"type":"emailAddress","id":2,"attributes":{"email":"a@x.example","order":0}})")};
  auto p = outreach::toProfile(prospect("{}"), addresses, nullptr);
  ASSERT_EQ(p.addresses.size(), 2u);
  EXPECT_EQ(p.addresses[0].email, "a@x.example");
  EXPECT_TRUE(p.addresses[0].primary);
}
