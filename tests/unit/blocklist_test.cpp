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

TEST(BlocklistCodes, SpamhausZen) {
  EXPECT_EQ(readIpBlocklistCode("zen.spamhaus.org", "127.0.0.2").listing, IpListing::Spam);
  EXPECT_EQ(readIpBlocklistCode("zen.spamhaus.org", "127.0.0.3").listing, IpListing::Spam);
  EXPECT_EQ(readIpBlocklistCode("zen.spamhaus.org", "127.0.0.9").listing, IpListing::Spam);
  EXPECT_EQ(readIpBlocklistCode("zen.spamhaus.org", "127.0.0.30").listing, IpListing::Spam);
  for (const char* xbl : {"127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7"})
    EXPECT_EQ(readIpBlocklistCode("zen.spamhaus.org", xbl).listing, IpListing::Exploited) << xbl;
  EXPECT_EQ(readIpBlocklistCode("zen.spamhaus.org", "127.0.0.10").listing, IpListing::Dynamic);
  EXPECT_EQ(readIpBlocklistCode("KEY.zen.dq.spamhaus.net", "127.0.0.11").listing, IpListing::Dynamic);
  // Errors are never listings.
  for (const char* e : {"127.255.255.252", "127.255.255.254", "127.255.255.255", "10.0.0.1", "::1"})
    EXPECT_EQ(readIpBlocklistCode("zen.spamhaus.org", e).listing, IpListing::Refused) << e;
  EXPECT_EQ(readIpBlocklistCode("zen.spamhaus.org", "127.0.0.99").listing, IpListing::None);
  // Other lists: 127.0.0.2 and up list, 127.0.0.1 refuses.
  EXPECT_EQ(readIpBlocklistCode("bl.spamcop.net", "127.0.0.2").listing, IpListing::Spam);
  EXPECT_EQ(readIpBlocklistCode("bl.spamcop.net", "127.0.0.1").listing, IpListing::Refused);
}

TEST(BlocklistCodes, ReversedQueryNames) {
  EXPECT_EQ(reversedIpQuery("192.0.2.99", "zen.example"), "99.2.0.192.zen.example");
  EXPECT_EQ(reversedIpQuery("2001:db8::1", "z"),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.z");
  EXPECT_EQ(reversedIpQuery("not-an-ip", "z"), "");
}
