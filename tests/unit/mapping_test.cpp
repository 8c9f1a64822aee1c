// The platforms' JSON mappings on replies found by fuzzing (tests/fuzz/*_mapping_fuzz.cpp): a reply
// is input like any other, and no value in it may be undefined behaviour or a nonsense count.
#include <gtest/gtest.h>

#include <limits>

#include "connectors/outreach/outreach_mapping.hpp"
#include "connectors/salesloft/salesloft_mapping.hpp"
#include "safetynet/core/time_format.hpp"

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

// Salesloft's counts: emails_viewed + emails_clicked + emails_replied_to overflowed an int
// (salesloft_mapping_fuzz with counts of 2147483647), and a count past an int kept its low 32 bits.
TEST(SalesloftMapping, CountsAddUpWithoutOverflowAndACountNoIntHoldsIsNone) {
  auto p = salesloft::toProfile(nlohmann::json::parse(
      R"({"id":9,"counts":{"emails_viewed":2147483647,"emails_clicked":2147483647,"emails_replied_to":1,)"
      R"("emails_sent":99999999999,"emails_bounced":18446744073709551615}})"));
  ASSERT_TRUE(p.engagements.has_value());
  EXPECT_EQ(*p.engagements, std::numeric_limits<int>::max());
  EXPECT_EQ(p.sends, 0);
  EXPECT_EQ(p.bounces, 0);
  auto q = salesloft::toProfile(nlohmann::json::parse(R"({"id":9,"counts":{"emails_sent":12,"emails_viewed":5}})"));
  EXPECT_EQ(q.sends, 12);
  EXPECT_EQ(q.engagements, 5);
}

// A send time that is null (Outreach's nullable scheduledAt, Salesloft's send_after "null if
// already sent") marks an email no longer to send; one that is there but unreadable is malformed.
// The spec's bare object, or the envelope's data; never an object that names no resource.
TEST(Mappings, ASalesloftResourceIsABareObjectWithAnIdOrTheEnvelopesData) {
  const auto bare = nlohmann::json::parse(R"({"id":5,"status":"scheduled"})");
  EXPECT_EQ(salesloft::resourceIn(bare), &bare);
  const auto wrapped = nlohmann::json::parse(R"({"data":{"id":5,"status":"scheduled"}})");
  EXPECT_EQ(salesloft::resourceIn(wrapped), &wrapped["data"]);
  EXPECT_EQ(salesloft::resourceIn(nlohmann::json::object()), nullptr);
  EXPECT_EQ(salesloft::resourceIn(nlohmann::json::parse(R"({"error":"not found"})")), nullptr);
  EXPECT_EQ(salesloft::resourceIn(nlohmann::json::parse(R"({"data":null})")), nullptr);
}

TEST(Mappings, ANullSendTimeIsNotToSendAnUnreadableOneIsMalformed) {
  auto mailing = [](const std::string& attributes) {
    return nlohmann::json::parse(R"({"type":"mailing","id":5,"attributes":)" + attributes + "}");
  };
  EXPECT_EQ(outreach::idWithoutSendTime(mailing(R"({"state":"drafted","scheduledAt":null})")), "5");
  EXPECT_EQ(outreach::idWithoutSendTime(mailing(R"({"state":"drafted"})")), "5");
  EXPECT_EQ(outreach::idWithoutSendTime(mailing(R"({"state":"scheduled","scheduledAt":"soon"})")), std::nullopt);
  EXPECT_EQ(outreach::idWithoutSendTime(mailing(R"({"scheduledAt":null})")), std::nullopt);  // no state
  EXPECT_EQ(salesloft::idWithoutSendTime(nlohmann::json::parse(R"({"id":8,"status":"sent","send_after":null})")), "8");
  EXPECT_EQ(salesloft::idWithoutSendTime(nlohmann::json::parse(R"({"id":8,"status":"sent","send_after":"x"})")),
            std::nullopt);
  EXPECT_EQ(salesloft::idWithoutSendTime(nlohmann::json::parse(R"({"status":"sent","send_after":null})")), std::nullopt);
}

// A stop checks that the email is still the version decided (DecisionEngine::act). Only what the
// key holds counts, so "changed" always means a new key that the next listing decides again.
TEST(EmailVersion, SendTimeAndRecipientsCountNotTheirOrderCaseOrTheSubject) {
  ScheduledEmail a;
  a.connector = "close-main";
  a.id = "acti_1";
  a.scheduled_at = fromMillis(1'800'000'000'123);
  a.subject = "Hello";
  a.recipients = {Recipient{"jane@acme.example", "to"}, Recipient{"boss@acme.example", "cc"}};
  ScheduledEmail b = a;
  b.subject = "Hello again";
  b.sender = "other@seller.example";
  b.recipients = {Recipient{" Boss@ACME.example", "cc"}, Recipient{"JANE@acme.example ", "to"}};
  EXPECT_TRUE(sameVersion(a, b));

  ScheduledEmail later = a;
  later.scheduled_at += std::chrono::milliseconds(1);
  EXPECT_FALSE(sameVersion(a, later));
  EXPECT_NE(a.key(), later.key());

  ScheduledEmail noCc = a;
  noCc.recipients.pop_back();
  EXPECT_FALSE(sameVersion(a, noCc));
  EXPECT_NE(a.key(), noCc.key());

  ScheduledEmail bcc = a;
  bcc.recipients[1].kind = "bcc";  // the same address, now blind
  EXPECT_FALSE(sameVersion(a, bcc));
  EXPECT_NE(a.key(), bcc.key());

  ScheduledEmail other = a;
  other.recipients[0].address = "john@acme.example";
  EXPECT_FALSE(sameVersion(a, other));
}
