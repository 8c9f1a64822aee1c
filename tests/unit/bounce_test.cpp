// The bounce classifier on samples written for each format (tests/data/bounces/, made after the
// real ones in ../shared/testdata/bounces, which are measured by scripts/eval-bounces instead).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "bounce/reason.hpp"
#include "safetynet/bounce/bounce.hpp"

using namespace safetynet::bounce;

namespace {

Classification classifyFile(const std::string& name) {
  std::ifstream in(std::string(SAFETYNET_SOURCE_DIR) + "/tests/data/bounces/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return classify(ss.str());
}

struct Want {
  std::string recipient, reason, status, reply;
  bool hard;
  std::string action;
};

void expectRecords(const std::string& file, const std::vector<Want>& want) {
  auto c = classifyFile(file);
  ASSERT_EQ(c.records.size(), want.size()) << file << ": " << c.error;
  for (size_t i = 0; i < want.size(); ++i) {
    const auto& r = c.records[i];
    EXPECT_EQ(r.recipient, want[i].recipient) << file;
    EXPECT_EQ(r.reason, want[i].reason) << file << " " << r.diagnostic;
    EXPECT_EQ(r.status, want[i].status) << file;
    EXPECT_EQ(r.reply_code, want[i].reply) << file;
    EXPECT_EQ(r.hard, want[i].hard) << file;
    EXPECT_EQ(r.action, want[i].action) << file;
  }
}

}  // namespace

TEST(Bounce, Rfc3464FromPostfixWithTwoRecipients) {
  expectRecords("postfix-dsn.eml", {{"gone@acme.test", "userunknown", "5.1.1", "550", true, "failed"},
                                    {"full@acme.test", "mailboxfull", "4.2.2", "452", false, "delayed"}});
}

TEST(Bounce, EximTextWithoutAReport) {
  expectRecords("exim-text.eml", {{"nobody@globex.test", "userunknown", "5.1.1", "550", true, "failed"}});
  // Refused at MAIL FROM: about our sender, never a dead mailbox.
  expectRecords("exim-mail-from.eml", {{"pat@initech.test", "rejected", "5.1.8", "550", false, "failed"}});
}

TEST(Bounce, QmailText) {
  expectRecords("qmail-text.eml", {{"lee@umbrella.test", "mailboxfull", "5.2.2", "552", false, "failed"}});
}

TEST(Bounce, SendmailTranscriptAfterData) {
  expectRecords("sendmail-transcript.eml", {{"sam@hooli.test", "spamdetected", "5.7.1", "550", false, "failed"}});
}

TEST(Bounce, GmailDisabledAccountIsSoft) {
  expectRecords("gmail-text.eml", {{"old.contact@stark.test", "suspend", "5.2.1", "550", false, "failed"}});
}

TEST(Bounce, Office365RecipientNotFoundIsUserUnknownNotNullMx) {
  expectRecords("office365-dsn.eml", {{"jo@contoso.test", "userunknown", "5.1.10", "550", true, "failed"}});
}

TEST(Bounce, AmazonSesNotification) {
  expectRecords("ses-notification.eml", {{"ghost@wayne.test", "userunknown", "5.1.1", "550", true, "failed"}});
}

TEST(Bounce, ArfComplaintIsFeedback) {
  auto c = classifyFile("arf-complaint.eml");
  ASSERT_EQ(c.records.size(), 1u);
  EXPECT_EQ(c.records[0].recipient, "annoyed@isp.test");
  EXPECT_EQ(c.records[0].reason, "feedback");
  EXPECT_EQ(c.records[0].feedback_type, "abuse");
  EXPECT_FALSE(c.records[0].hard);
}

TEST(Bounce, AutoReplyIsNotABounce) {
  expectRecords("vacation.eml", {{"casey@acme.test", "vacation", "", "", false, ""}});
}

TEST(Bounce, OrdinaryMailAndGarbageGiveAClearErrorAndNoRecord) {
  auto reply = classifyFile("not-a-bounce.eml");
  EXPECT_TRUE(reply.records.empty());
  EXPECT_NE(reply.error.find("no failed recipient"), std::string::npos);
  auto garbage = classifyFile("garbage.eml");
  EXPECT_TRUE(garbage.records.empty());
  EXPECT_FALSE(garbage.error.empty());
  EXPECT_TRUE(classify("").records.empty());
}

TEST(BounceReason, CodesAndWords) {
  EXPECT_EQ(decideReason("5.1.1", "550", "User unknown", "RCPT", "failed"), "userunknown");
  // "User unknown" after DATA without an addressing code: a filter, soft.
  EXPECT_EQ(decideReason("5.0.0", "550", "User unknown", "DATA", "failed"), "filtered");
  EXPECT_EQ(decideReason("5.7.1", "554", "Client host [192.0.2.1] blocked using zen.spamhaus.org", "RCPT", "failed"),
            "blocked");
  EXPECT_EQ(decideReason("5.7.26", "550", "Unauthenticated email from seller.test is not accepted due to DMARC policy", "",
                         "failed"),
            "authfailure");
  EXPECT_EQ(decideReason("5.7.25", "550", "The IP you're using to send mail is not authorized", "", "failed"), "requireptr");
  EXPECT_EQ(decideReason("4.4.7", "", "", "", "delayed"), "expired");
  EXPECT_EQ(decideReason("2.0.0", "250", "OK", "", "delivered"), "delivered");
  EXPECT_EQ(decideReason("5.1.10", "550", "Null MX: example.test does not accept mail", "", "failed"), "notaccept");
  EXPECT_EQ(findStatus("smtp; 550 5.1.1 <a@b>"), "5.1.1");
  EXPECT_EQ(findReplyCode("host x[1.2.3.4] said: 550 5.1.1 no"), "550");
  EXPECT_EQ(findCommand(">>> RCPT To:<a@b>\n<<< 550 5.1.1 no\n>>> DATA\n<<< 503 need RCPT"), "RCPT");
}

TEST(BounceReason, HardIsOnlyADeadAddress) {
  EXPECT_TRUE(isHardBounce("userunknown", "5.1.1", "550"));
  EXPECT_TRUE(isHardBounce("hostunknown", "", ""));
  EXPECT_TRUE(isHardBounce("notaccept", "5.1.10", "550"));
  EXPECT_FALSE(isHardBounce("notaccept", "4.1.10", "450"));
  // 5xx is not hard by itself: these are about us or the message.
  for (const char* r : {"authfailure", "blocked", "mailboxfull", "suspend", "filtered", "spamdetected", "feedback"})
    EXPECT_FALSE(isHardBounce(r, "5.7.1", "550")) << r;
}

namespace {
// A minimal RFC 3464 report for one recipient.
std::string dsn(const std::string& reportingMta, const std::string& recipient, const std::string& status,
                const std::string& diagnostic) {
  return "From: MAILER-DAEMON@mx.example.test\r\nTo: riley@seller.test\r\nSubject: Delivery Status Notification (Failure)\r\n"
         "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n"
         "--b1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\r\n"
         "--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; " + reportingMta + "\r\n\r\n"
         "Final-Recipient: rfc822; " + recipient + "\r\nAction: failed\r\nStatus: " + status +
         "\r\nDiagnostic-Code: smtp; " + diagnostic + "\r\n\r\n--b1--\r\n";
}
}  // namespace

TEST(Bounce, WhatSomeReceiversMeanByUserUnknown) {
  // A Japanese carrier's reception filter names nobody; its dead mailbox names the address.
  auto filteredByCarrier = classify(dsn("mx.seller.test", "someone@ezweb.ne.jp", "5.0.0", "550 : User unknown"));
  ASSERT_EQ(filteredByCarrier.records.size(), 1u);
  EXPECT_EQ(filteredByCarrier.records[0].reason, "filtered");
  EXPECT_FALSE(filteredByCarrier.records[0].hard);
  auto dead = classify(dsn("mx.seller.test", "someone@ezweb.ne.jp", "5.0.0", "550 <someone@ezweb.ne.jp>: User unknown"));
  EXPECT_EQ(dead.records.at(0).reason, "userunknown");
  EXPECT_TRUE(dead.records.at(0).hard);
  // Amazon SES inbound: the domain owner's receipt rule bounced it.
  auto ses = classify(dsn("inbound-smtp.us-east-1.amazonaws.com", "x@acme.test", "5.1.1", "550 5.1.1 Mailbox does not exist"));
  EXPECT_EQ(ses.records.at(0).reason, "filtered");
  EXPECT_FALSE(ses.records.at(0).hard);
  // Elsewhere the same words are a dead mailbox.
  auto plain = classify(dsn("mx.seller.test", "x@acme.test", "5.1.1", "550 5.1.1 Mailbox does not exist"));
  EXPECT_EQ(plain.records.at(0).reason, "userunknown");
  EXPECT_TRUE(plain.records.at(0).hard);
}
