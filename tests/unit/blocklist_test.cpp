// Reading DNS blocklist answers: listings versus "we refused to answer you" codes.
#include <gtest/gtest.h>

#include "checks/blocklist_check.hpp"

using namespace safetynet::checks;

TEST(BlocklistCodes, SpamhausDbl) {
  auto spam = readBlocklistCode("dbl.spamhaus.org", "127.0.1.2");
  EXPECT_TRUE(spam.listed);
  EXPECT_EQ(spam.meaning, "spam domain");
  EXPECT_EQ(readBlocklistCode("dbl.spamhaus.org", "127.0.1.4").meaning, "phishing domain");
  EXPECT_TRUE(readBlocklistCode("dbl.spamhaus.org", "127.0.1.104").listed);
  // Errors are never listings.
  for (const char* e : {"127.255.255.252", "127.255.255.254", "127.255.255.255", "127.0.1.255"}) {
    auto a = readBlocklistCode("dbl.spamhaus.org", e);
    EXPECT_FALSE(a.listed) << e;
    EXPECT_TRUE(a.refused) << e;
  }
  EXPECT_EQ(readBlocklistCode("dbl.spamhaus.org", "127.255.255.254").meaning, "query refused: public/open resolver");
}

TEST(BlocklistCodes, UriblAndSurblBits) {
  EXPECT_TRUE(readBlocklistCode("multi.uribl.com", "127.0.0.1").refused);
  EXPECT_TRUE(readBlocklistCode("multi.uribl.com", "127.0.0.2").listed);
  EXPECT_FALSE(readBlocklistCode("multi.uribl.com", "127.0.0.4").listed);  // grey only
  EXPECT_TRUE(readBlocklistCode("multi.surbl.org", "127.0.0.16").listed);
  EXPECT_FALSE(readBlocklistCode("multi.surbl.org", "127.0.0.2").listed);
}

TEST(BlocklistCodes, AnswersOutsideLoopbackAreAResolverProblem) {
  auto a = readBlocklistCode("dbl.example", "203.0.113.9");
  EXPECT_FALSE(a.listed);
  EXPECT_TRUE(a.refused);
  EXPECT_TRUE(readBlocklistCode("dbl.example", "127.0.0.2").listed);
}
