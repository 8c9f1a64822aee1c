// Reply parsing and classification on real reply texts (Gmail, Outlook/Microsoft 365, Yahoo,
// iCloud, Exim, Postfix), as collected by verifiers such as Reacher (core/src/smtp/parser.rs) and
// seen from a real Postfix in tests/integration/smtp_probe_test.cpp.
#include <gtest/gtest.h>

#include "checks/smtp_reply.hpp"

using namespace safetynet;
using namespace safetynet::checks;

namespace {
// `host`: the MX that answered, which scopes a mail system's own rules as in the probe.
RcptOutcome classify(const std::string& raw, const std::string& host = "") {
  auto r = parseSmtpReply(raw);
  EXPECT_TRUE(r) << raw;
  return r ? classifyRcpt(*r, "kim@acme.test", host) : RcptOutcome::NoAnswer;
}
}  // namespace

TEST(SmtpReply, ParsesMultiLineRepliesAndEnhancedCodes) {
  auto r = parseSmtpReply(
      "550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n"
      "550-5.1.1 double-checking the recipient's email address for typos or\r\n"
      "550 5.1.1 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, 550);
  EXPECT_EQ(r->enhanced, "5.1.1");
  EXPECT_EQ(r->text.rfind("The email account that you tried to reach does not exist.", 0), 0u);
  EXPECT_EQ(r->text.find("5.1.1 double"), std::string::npos);  // the code is not repeated in the text
  auto plain = parseSmtpReply("250 Ok\r\n");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->enhanced, "");
  EXPECT_EQ(plain->line(), "250 Ok");
  EXPECT_FALSE(parseSmtpReply("hello\r\n"));
  EXPECT_FALSE(parseSmtpReply("250-first\r\n"));          // no last line
  EXPECT_FALSE(parseSmtpReply("250-a\r\n550 b\r\n"));      // codes differ
}

TEST(SmtpReply, Gmail) {
  const std::string mx = "gmail-smtp-in.l.google.com";
  EXPECT_EQ(classify("550-5.1.1 The email account that you tried to reach does not exist.\r\n550 5.1.1 Learn more\r\n", mx),
            RcptOutcome::MailboxNotFound);
  EXPECT_EQ(classify("550-5.2.1 The email account that you tried to reach is disabled.\r\n550 5.2.1 Learn more\r\n", mx),
            RcptOutcome::MailboxDisabled);
  EXPECT_EQ(classify("452-4.2.2 The email account that you tried to reach is over quota.\r\n452 4.2.2 Learn more\r\n", mx),
            RcptOutcome::MailboxFullTemporary);
  // Google's own wording, from Google's MX: the mailbox exists (elsewhere a rate is the client's).
  EXPECT_EQ(classify("450-4.2.1 The user you are trying to contact is receiving mail at a rate that\r\n"
                     "450 4.2.1 prevents additional messages from being delivered.\r\n",
                     mx),
            RcptOutcome::Accepted);
  EXPECT_EQ(classify("250 2.1.5 OK 5si12345 - gsmtp\r\n", mx), RcptOutcome::Accepted);
}

TEST(SmtpReply, OutlookAndMicrosoft365) {
  // RFC 5321 4.2.3's stock text for 550, "(e.g., mailbox not found, no access, or command rejected
  // for policy reasons)": a refusal of the recipient, not a finding that the mailbox is missing.
  EXPECT_EQ(classify("550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302).\r\n"),
            RcptOutcome::Rejected);
  EXPECT_EQ(classify("550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup\r\n"),
            RcptOutcome::MailboxNotFound);
  EXPECT_EQ(classify("550 5.7.1 Service unavailable, Client host [192.0.2.7] blocked using Spamhaus. To request "
                     "removal from this list see https://www.spamhaus.org/query/ip/192.0.2.7 AS(1450)\r\n"),
            RcptOutcome::RefusedUs);
  EXPECT_EQ(classify("550 5.7.606 Access denied, banned sending IP [192.0.2.7].\r\n"), RcptOutcome::RefusedUs);
  EXPECT_EQ(classify("451 4.4.4 Temporary server error. Please try again later ATTR31\r\n"), RcptOutcome::Temporary);
  EXPECT_EQ(classify("452 4.5.3 Too many recipients\r\n"), RcptOutcome::Temporary);
}

TEST(SmtpReply, Yahoo) {
  EXPECT_EQ(classify("554 delivery error: dd This user doesn't have a yahoo.com account (nobody@yahoo.com) [0] - "
                     "mta1234.mail.gq1.yahoo.com\r\n"),
            RcptOutcome::MailboxNotFound);
  EXPECT_EQ(classify("553 5.7.1 [BL21] Connections will not be accepted from 192.0.2.7, because the ip is in "
                     "Spamhaus's list; see http://postmaster.yahoo.com/550-bl23.html\r\n"),
            RcptOutcome::RefusedUs);
  // Yahoo's TSS04 defers our IP (Yahoo's SMTP error codes, SLN3444): the probe's standing, from
  // Yahoo's MX, whose scope holds Yahoo's own rules.
  EXPECT_EQ(classify("421 4.7.0 [TSS04] Messages from 192.0.2.7 temporarily deferred due to unexpected volume or "
                     "user complaints\r\n",
                     "mta7.am0.yahoodns.net"),
            RcptOutcome::RefusedUs);
}

TEST(SmtpReply, ICloudEximPostfix) {
  EXPECT_EQ(classify("550 5.1.1 <nobody@icloud.com>: user does not exist\r\n"), RcptOutcome::MailboxNotFound);
  EXPECT_EQ(classify("550 Unrouteable address\r\n"), RcptOutcome::MailboxNotFound);
  // Exim writes "Verification failed for <%s>" only when its callout to OUR sender failed
  // (smtp_in.c, sender_verified_failed): our probe's sender, not the recipient.
  EXPECT_EQ(classify("550-Verification failed for <x@y.example>\r\n550 Previous (cached) callout verification "
                     "failure\r\n"),
            RcptOutcome::RefusedUs);
  EXPECT_EQ(classify("451 Temporary local problem - please try later\r\n"), RcptOutcome::Temporary);
  EXPECT_EQ(classify("550 5.1.1 <bob@example.test>: Recipient address rejected: User unknown in virtual mailbox "
                     "table\r\n"),
            RcptOutcome::MailboxNotFound);
  EXPECT_EQ(classify("450 4.7.1 <g@example.test>: Recipient address rejected: Greylisted, try again later\r\n"),
            RcptOutcome::Temporary);
  EXPECT_EQ(classify("552 5.2.2 <full@example.test>: Recipient address rejected: Mailbox full\r\n"),
            RcptOutcome::MailboxFull);
  EXPECT_EQ(classify("452 4.3.1 Insufficient system storage\r\n"), RcptOutcome::Temporary);
  EXPECT_EQ(classify("554 5.7.1 <x@other.test>: Relay access denied\r\n"), RcptOutcome::Rejected);
  EXPECT_EQ(classify("450 4.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.7]\r\n"),
            RcptOutcome::RefusedUs);
  EXPECT_EQ(classify("504 5.5.2 <probe>: Helo command rejected: need fully-qualified hostname\r\n"),
            RcptOutcome::RefusedUs);
  EXPECT_EQ(classify("550 5.2.1 Mailbox disabled, not accepting messages\r\n"), RcptOutcome::MailboxDisabled);
}

// Found by fuzzing (tests/fuzz/smtp_reply_fuzz.cpp): "025 Oc" parsed as a reply with code 25, and
// "000" as code 0, which means "no reply". RFC 5321 4.2: the first digit is 2 to 5, the second 0 to 5.
TEST(SmtpReply, RefusesCodesOutsideRfc5321) {
  EXPECT_FALSE(parseSmtpReply("025 Oc\r\n"));
  EXPECT_FALSE(parseSmtpReply("000 nothing\r\n"));
  EXPECT_FALSE(parseSmtpReply("199 early\r\n"));
  EXPECT_FALSE(parseSmtpReply("650 five hundred and fifty\r\n"));
  EXPECT_FALSE(parseSmtpReply("290 odd\r\n"));
  EXPECT_TRUE(parseSmtpReply("354 go ahead\r\n"));
  EXPECT_TRUE(parseSmtpReply("559 local policy\r\n"));
}

// Issue 13 item 5. RFC 3463 X.2.2 "Mailbox full" is a persistent transient condition of the
// mailbox, even in a permanent reply; RFC 5321 4.5.3.1.10: a 552 for too many recipients is to be
// treated as temporary. A permanent full answer (mail sent now bounces) is told apart from a
// temporary one (the sending server keeps trying).
TEST(SmtpReply, AFullMailboxIsPermanentOnlyInAPermanentReply) {
  EXPECT_EQ(classify("552 5.2.2 <kim@acme.test>: Recipient address rejected: Mailbox full\r\n"), RcptOutcome::MailboxFull);
  EXPECT_EQ(classify("552 Requested mail action aborted: exceeded storage allocation\r\n"), RcptOutcome::MailboxFull);
  EXPECT_EQ(classify("452 4.2.2 The email account that you tried to reach is over quota\r\n"),
            RcptOutcome::MailboxFullTemporary);
  EXPECT_EQ(classify("452 Mailbox full, try again later\r\n"), RcptOutcome::MailboxFullTemporary);
  EXPECT_EQ(classify("552 5.5.3 Too many recipients\r\n"), RcptOutcome::Temporary);
  EXPECT_EQ(classify("552 Too many recipients\r\n"), RcptOutcome::Temporary);
  EXPECT_STREQ(toString(RcptOutcome::MailboxFullTemporary), "mailbox full for now");
}

TEST(SmtpReply, RefusalsOfOurIpOrSenderAreAboutUsWhateverTheirWords) {
  // Exim's own example ACL ("rejected because $sender_host_address is in a black list at
  // $dnslist_domain", configure.default) and Postfix's sender restrictions ("Sender address
  // rejected", smtpd_check.c): about our probe, not the recipient's mailbox.
  EXPECT_EQ(classify("550 Rejected because 192.0.2.7 is in a black list at b.barracudacentral.org\r\n"),
            RcptOutcome::RefusedUs);
  EXPECT_EQ(classify("550 5.7.1 192.0.2.7 is listed on a block list\r\n"), RcptOutcome::RefusedUs);
  EXPECT_EQ(classify("554 5.7.1 <>: Sender address rejected: Access denied\r\n"), RcptOutcome::RefusedUs);
  // A recipient's own rejection stays about the recipient.
  EXPECT_EQ(classify("550 5.1.1 <kim@acme.test>: Recipient address rejected: User unknown in local recipient table\r\n"),
            RcptOutcome::MailboxNotFound);
}

// The reply is read by the bounce rules (data/bounce/rules.yaml) at RCPT, not by a phrase list of
// its own. Each line failed with the old list, which read words without their source.
TEST(SmtpReply, IsReadByTheBounceRulesOfItsMailSystem) {
  // Postfix's default text for a REJECT in an access table ("Access denied", smtpd_check.c): a
  // policy, not a missing mailbox. Microsoft's 5.4.1 with the same words is Directory-Based Edge
  // Blocking: the address is not in the organization (Exchange Online's NDR reference).
  EXPECT_EQ(classify("554 5.7.1 <kim@acme.test>: Recipient address rejected: Access denied\r\n"), RcptOutcome::Rejected);
  EXPECT_EQ(classify("550 5.4.1 Recipient address rejected: Access denied. AS(201806281) "
                     "[BN8NAM12FT034.eop-nam12.prod.protection.outlook.com]\r\n"),
            RcptOutcome::MailboxNotFound);
  // Refusals of the client, whatever address they answer: Apache James's DNSRBL handler
  // (DNSRBLHandler.java) and Exim's default limit on bad recipients (configure.default). Held,
  // they would hold every lead behind such a server for the probe's own standing.
  EXPECT_EQ(classify("554 5.7.1 Rejected: unauthenticated e-mail from /192.0.2.10 is restricted.  Contact the "
                     "postmaster for details.\r\n"),
            RcptOutcome::RefusedUs);
  EXPECT_EQ(classify("550 Rejected for too many bad recipients\r\n"), RcptOutcome::RefusedUs);
  // Courier's unknown user of a hosted domain (module.local/local.C).
  EXPECT_EQ(classify("550 User <kim@acme.test> unknown\r\n"), RcptOutcome::MailboxNotFound);
  // A 4.2.1 is "the mailbox exists" only when it names a rate (Gmail); Cyrus's "Delivery to mailbox
  // is disabled" (lmtpd) is a temporary failure like any other.
  EXPECT_EQ(classify("451 4.2.1 Delivery to mailbox is disabled\r\n"), RcptOutcome::Temporary);
}

// OpenSMTPD answers a recipient past its limit with 451 4.5.3 (smtp_session.c): a new transaction
// takes it. Postfix's "450 4.7.1 Error: too many recipients from <client>" is its rate limit per
// client (smtpd.c), which a new transaction does not lift.
TEST(SmtpReply, TooManyRecipientsIsTheStatusOrRfc5321sCodes) {
  EXPECT_TRUE(tooManyRecipients(*parseSmtpReply("451 4.5.3 Too many recipients: Too many recipients\r\n")));
  EXPECT_TRUE(tooManyRecipients(*parseSmtpReply("452 Too many recipients\r\n")));
  EXPECT_FALSE(tooManyRecipients(*parseSmtpReply("450 4.7.1 Error: too many recipients from 192.0.2.10\r\n")));
  EXPECT_EQ(classify("450 4.7.1 Error: too many recipients from 192.0.2.10\r\n"), RcptOutcome::RefusedUs);
}

// Temporary refusals of the probe itself are no greylisting: GREYLISTED is `unknown`, which the
// shipped policy holds until a re-check. Each failed before the words outranked a generic status
// or the rules knew them.
TEST(SmtpReply, TemporaryRefusalsOfTheProbeAreAboutUs) {
  // Exim could not verify our sender (acl.c, verify.c), at RCPT under its default ACL.
  EXPECT_EQ(classify("451 Could not complete sender verify callout\r\n"), RcptOutcome::RefusedUs);
  EXPECT_EQ(classify("451 Could not complete sender verify\r\n"), RcptOutcome::RefusedUs);
  // Google wants TLS from us (answer/3726730): X.7.0 alone would read a policy.
  EXPECT_EQ(classify("421 4.7.0 TLS required for RCPT domain, closing connection. - gsmtp\r\n",
                     "gmail-smtp-in.l.google.com"),
            RcptOutcome::RefusedUs);
  // Google's relay limit is about the sending customer, not a mailbox that exists.
  EXPECT_EQ(classify("450 4.2.1 Peak SMTP relay limit exceeded for customer. This is a temporary error.\r\n",
                     "smtp-relay.gmail.com"),
            RcptOutcome::RefusedUs);
  EXPECT_EQ(classify("450-4.2.1 The user you are trying to contact is receiving mail at a rate that\r\n"
                     "450 4.2.1 prevents additional messages from being delivered.\r\n",
                     "gmail-smtp-in.l.google.com"),
            RcptOutcome::Accepted);
  // A command the server refused (OpenSMTPD, smtp_session.c) is about the probe's session.
  EXPECT_EQ(classify("503 5.5.1 Invalid command: Command not allowed at this point.\r\n"), RcptOutcome::RefusedUs);
  // A closing server's 421 is no limit a new transaction lifts.
  EXPECT_FALSE(tooManyRecipients(*parseSmtpReply("421 4.5.3 Too many recipients\r\n")));
  // Cox blocks the sending IP for too many invalid recipients (its postmaster page): not this one.
  EXPECT_EQ(classify("452 source IP rejected. Too many invalid recipients\r\n", "mx.east.cox.net"), RcptOutcome::RefusedUs);
}

// Microsoft's restrictions of a mailbox or group to internal or listed senders (Exchange Online's
// NDR reference: 5.7.12, 5.7.124, 5.7.134) refuse every outside sender, the rep too: the recipient
// is held, not let go as a refusal of the probe's sender.
TEST(SmtpReply, ARecipientThatRefusesEveryOutsideSenderIsHeld) {
  const std::string mx = "acme-test.mail.protection.outlook.com";
  EXPECT_EQ(classify("550 5.7.12 Sender was not authenticated by organization\r\n", mx), RcptOutcome::Rejected);
  EXPECT_EQ(classify("550 5.7.124 Sender not in allowed-senders list\r\n", mx), RcptOutcome::Rejected);
  EXPECT_EQ(classify("550 5.7.134 Sender was not authenticated for mailbox\r\n", mx), RcptOutcome::Rejected);
}
