#include <gtest/gtest.h>

#include "safetynet/policy/policy.hpp"

using namespace safetynet;

namespace {
std::vector<Signal> sigs(std::initializer_list<const char*> names) {
  std::vector<Signal> v;
  for (auto n : names) v.push_back(Signal{n, 0, std::string(n) + " seen"});
  return v;
}
PolicyPtr shipped(PolicyConfig c = {}) { return Policy::shipped(c); }
}  // namespace

TEST(Policy, ShippedPolicyParsesAndCoversEveryReasonCode) {
  std::vector<std::string> errors;
  auto p = Policy::build(kDefaultPolicyYamlText(), PolicyConfig{}, &errors);
  ASSERT_TRUE(p);
  EXPECT_TRUE(errors.empty());
  for (const char* code : {"bounce_risk", "spamtrap", "do_not_mail", "secondary_email", "dead_email", "unknown",
                           "sender_paused"}) {
    ASSERT_NE(p->reason(code), nullptr) << code;
    EXPECT_FALSE(p->reason(code)->next_step.empty()) << code;
  }
  // Every signal of the product brief is defined.
  for (const char* s : {"SYNTAX_INVALID", "DOMAIN_NXDOMAIN", "NULL_MX", "NO_MAIL_HOST", "SMTP_MAILBOX_NOT_FOUND",
                        "SMTP_MAILBOX_FULL", "SMTP_MAILBOX_DISABLED", "CATCH_ALL", "GREYLISTED", "SMTP_TIMEOUT",
                        "DISPOSABLE_DOMAIN", "ROLE_ACCOUNT", "FREE_PROVIDER", "TYPO_DOMAIN", "DBL_LISTED",
                        "SPAMTRAP_LISTED", "COMPLAINER_LISTED", "SUPPRESSED", "HARD_BOUNCED", "SOFT_BOUNCE_HOLD",
                        "NO_ENGAGEMENT", "NOT_PRIMARY_EMAIL", "SENDER_BOUNCE_SPIKE", "DNS_TEMPFAIL", "INTERNAL_ERROR",
                        "ALLOWLISTED"})
    EXPECT_NE(p->signal(s), nullptr) << s;
}

TEST(Policy, NoSignalsAllow) {
  auto v = shipped()->decide({});
  EXPECT_FALSE(v.revert);
  EXPECT_EQ(v.reason, "");
}

TEST(Policy, HardSignalRevertsWithReasonEvidenceAndNextStep) {
  auto v = shipped()->decide(sigs({"DOMAIN_NXDOMAIN"}));
  EXPECT_TRUE(v.revert);
  EXPECT_EQ(v.reason, "bounce_risk");
  EXPECT_EQ(v.evidence, "DOMAIN_NXDOMAIN seen");
  EXPECT_EQ(v.next_step, shipped()->reason("bounce_risk")->next_step);
  EXPECT_EQ(v.signals[0].weight, 10);
}

TEST(Policy, CatchAllAloneDoesNotHoldButWithNoEngagementItDoes) {
  EXPECT_FALSE(shipped()->decide(sigs({"CATCH_ALL"})).revert);
  auto v = shipped()->decide(sigs({"CATCH_ALL", "NO_ENGAGEMENT"}));
  EXPECT_TRUE(v.revert);
  EXPECT_EQ(v.reason, "dead_email");
}

TEST(Policy, AllowListForcesAllow) {
  auto v = shipped()->decide(sigs({"SPAMTRAP_LISTED", "ALLOWLISTED"}));
  EXPECT_FALSE(v.revert);
  EXPECT_TRUE(v.forced);
  EXPECT_EQ(v.evidence, "ALLOWLISTED seen");
}

TEST(Policy, OurSideFailuresFollowOnInternalError) {
  EXPECT_FALSE(shipped()->decide(sigs({"DNS_TEMPFAIL"})).revert);
  PolicyConfig strict;
  strict.on_internal_error = "revert";
  auto v = shipped(strict)->decide(sigs({"DNS_TEMPFAIL"}));
  EXPECT_TRUE(v.revert);
  EXPECT_EQ(v.reason, "unknown");
}

TEST(Policy, SeverityBreaksTiesAndTheHigherScoreWins) {
  // spamtrap is listed before bounce_risk in config/policy.yaml
  EXPECT_EQ(shipped()->decide(sigs({"DOMAIN_NXDOMAIN", "SPAMTRAP_LISTED"})).reason, "spamtrap");
  EXPECT_EQ(shipped()->decide(sigs({"DOMAIN_NXDOMAIN", "SYNTAX_INVALID", "SPAMTRAP_LISTED"})).reason, "bounce_risk");
}

TEST(Policy, ReasonNotInRevertListIsReportedButAllowed) {
  PolicyConfig c;
  c.revert = {"spamtrap"};
  auto v = shipped(c)->decide(sigs({"SUPPRESSED"}));
  EXPECT_EQ(v.reason, "do_not_mail");
  EXPECT_FALSE(v.revert);
}

TEST(Policy, AdminOverridesChangeWeightsAndReasons) {
  PolicyConfig c;
  c.signals["CATCH_ALL"].weight = 1.0;
  EXPECT_TRUE(shipped(c)->decide(sigs({"CATCH_ALL"})).revert);
  PolicyConfig d;
  d.signals["ROLE_ACCOUNT"].reason = "bounce_risk";
  EXPECT_EQ(shipped(d)->decide(sigs({"ROLE_ACCOUNT"})).reason, "bounce_risk");
  PolicyConfig e;
  e.signals["NO_SUCH_SIGNAL"].weight = 1;
  std::vector<std::string> errors;
  Policy::build(kDefaultPolicyYamlText(), e, &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "policy.signals.NO_SUCH_SIGNAL: no such signal");
}

TEST(Policy, UnknownSignalNamesCountForNothing) {
  auto v = shipped()->decide(sigs({"SOMETHING_NEW"}));
  EXPECT_FALSE(v.revert);
  EXPECT_EQ(v.signals[0].weight, 0);
}
