// An admin's bounce rules file (bounces.rules_file): its rules are tried before the built-in
// ones, it can disable a built-in rule by id, and a bad file is refused with the file and the
// rule named (docs/bounces.md, "Overriding a rule").
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "bounce/reason.hpp"
#include "bounce/record.hpp"
#include "bounce/rule_engine.hpp"

using namespace safetynet::bounce;

namespace {

// Installs a rule set for one test and puts the built-in one back after it.
struct Installed {
  explicit Installed(std::shared_ptr<const RuleSet> set) { installRuleSet(std::move(set)); }
  ~Installed() { installRuleSet(builtinRules()); }
};

BounceRecord readReply(const std::string& diagnostic) {
  BounceRecord r;
  r.recipient = "kim@globex.test";
  r.action = "failed";
  r.diagnostic = diagnostic;
  return completeRecord(r);
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& e : v) s += e + "\n";
  return s;
}

}  // namespace

TEST(BounceAdminRules, TheBuiltInRulesAreEmbedded) {
  // No file at run time: the built-in set is the data file compiled in.
  const auto builtin = builtinRules();
  EXPECT_GT(builtin->rules.rules.size(), 500u);
  EXPECT_NE(statusFact(*builtin, "5.1.1"), nullptr);
  std::vector<std::string> errors;
  EXPECT_EQ(loadRuleSetFile("", errors), builtin);
  EXPECT_TRUE(errors.empty());
}

TEST(BounceAdminRules, AnAdminRuleComesFirstAndABuiltInOneCanBeDisabled) {
  const std::string reply = "550 5.0.0 Message rejected by the recipient's gateway: mailbox closed for good";
  EXPECT_FALSE(readReply(reply).hard);
  std::vector<std::string> errors;
  auto set = buildRuleSet(R"(
rules:
  - {id: acme-gateway-closed, kind: phrase, match: 'mailbox closed for good', status: '5.*', reason: userunknown,
     hard: true, source: {ref: 'our gateway vendor, ticket 4711', quote: 'mailbox closed for good'}}
disable: [rfc5321-stock-550]
)",
                          "/etc/safetynet/bounce-rules.yaml", errors);
  ASSERT_TRUE(set) << joined(errors);
  EXPECT_EQ(set->rules.rules.front().id, "acme-gateway-closed");
  EXPECT_EQ(set->rules.rules.front().origin, "/etc/safetynet/bounce-rules.yaml");
  for (const auto& r : set->rules.rules) EXPECT_NE(r.id, "rfc5321-stock-550");
  Installed use(set);
  auto got = readReply(reply);
  EXPECT_EQ(got.reason, "userunknown");
  // 5.0.0 says nothing about the recipient; the admin's rule is the evidence.
  EXPECT_TRUE(got.hard);
  // With rfc5321-stock-550 disabled, no built-in rule reads the stock 550: a failure of
  // unknown cause, soft.
  auto stock = readReply("550 Requested action not taken: mailbox unavailable");
  EXPECT_EQ(stock.reason, "onhold");
  EXPECT_FALSE(stock.hard);
}

TEST(BounceAdminRules, ABadFileIsRefusedWithTheFileAndTheRule) {
  std::vector<std::string> errors;
  auto set = buildRuleSet(R"(
rules:
  - {id: bad-regex, kind: regex, match: '(unclosed', reason: blocked, source: {ref: x}}
  - {id: bad-reason, kind: phrase, match: 'x', reason: deadish, source: {ref: x}}
  - {id: sendmail-user-unknown, kind: phrase, match: 'user unknown', reason: userunknown, source: {ref: x}}
  - {id: twice, kind: phrase, match: 'a', reason: blocked, source: {ref: x}}
  - {id: twice, kind: phrase, match: 'b', reason: blocked, source: {ref: x}}
  - {id: bad-stage, kind: phrase, match: 'c', scope: {stage: end of data}, reason: blocked, source: {ref: x}}
  - {id: good-stage, kind: phrase, match: 'd', scope: {stage: EOD}, reason: blocked, source: {ref: x}}
  - {id: bad-unless-in, kind: regex, match: 'e', unless: 'f', unless_in: paragraph, reason: blocked, source: {ref: x}}
  - {id: host-no-group, kind: phrase, match: 'g', names_host: 'host \S+', reason: hostunknown, source: {ref: x}}
  - {id: host-bad-regex, kind: phrase, match: 'h', names_host: 'host (\S+', reason: hostunknown, source: {ref: x}}
disable: [no-such-rule]
)",
                          "rules.yaml", errors);
  EXPECT_FALSE(set);
  const std::string all = joined(errors);
  EXPECT_NE(all.find("rules.yaml: rule bad-regex: regex does not compile"), std::string::npos) << all;
  EXPECT_NE(all.find("rules.yaml: rule bad-reason: unknown reason \"deadish\""), std::string::npos) << all;
  EXPECT_NE(all.find("rules.yaml: rule sendmail-user-unknown: duplicate id"), std::string::npos) << all;
  EXPECT_NE(all.find("rules.yaml: rule twice: missing or duplicate id"), std::string::npos) << all;
  EXPECT_NE(all.find("rules.yaml: disable: no built-in rule has the id no-such-rule"), std::string::npos) << all;
  // A stage no reply is given at would make the rule hold nowhere, silently (eod in any case).
  EXPECT_NE(all.find("rules.yaml: rule bad-stage: unknown scope stage \"end of data\""), std::string::npos) << all;
  EXPECT_EQ(all.find("good-stage"), std::string::npos) << all;
  EXPECT_NE(all.find("rules.yaml: rule bad-unless-in: unless_in: only 'sentence'"), std::string::npos) << all;
  EXPECT_NE(all.find("rules.yaml: rule host-no-group: names_host: needs a group, the host name"), std::string::npos) << all;
  EXPECT_NE(all.find("rules.yaml: rule host-bad-regex: names_host: regex does not compile"), std::string::npos) << all;
  // Keys a rules file cannot change, and keys it does not have, are refused, never ignored.
  errors.clear();
  EXPECT_FALSE(buildRuleSet(R"(
rule:
  - {id: typo, kind: phrase, match: 'x', reason: blocked, source: {ref: x}}
reply_codes:
  - {code: '550', reason: userunknown, hard: true, source: {ref: x}}
stage_markers:
  - {kind: phrase, match: 'after rcpt', stages: {any: rcpt}, source: {ref: x}}
derived_statuses:
  - {mta: sendmail, reply: '550', stage: rcpt, status: '5.1.1', source: {ref: x}}
)",
                            "rules.yaml", errors));
  const std::string keys = joined(errors);
  EXPECT_NE(keys.find("rules.yaml: unknown key rule "), std::string::npos) << keys;
  EXPECT_NE(keys.find("rules.yaml: reply_codes: the RFC meanings are built in"), std::string::npos) << keys;
  EXPECT_NE(keys.find("rules.yaml: permanence_markers, delay_markers and stage_markers are built in"), std::string::npos) << keys;
  EXPECT_NE(keys.find("rules.yaml: derived_statuses: the MTAs' tables are built in"), std::string::npos) << keys;
  errors.clear();
  EXPECT_FALSE(loadRuleSetFile("/nonexistent/bounce-rules.yaml", errors));
  EXPECT_NE(joined(errors).find("/nonexistent/bounce-rules.yaml: cannot read"), std::string::npos);
}

// The per-host meanings are data too (rules.yaml host_meanings): an SES receiving domain's bounce is
// its owner's receipt rule, a filter; an admin who knows better disables it by id, and adds one.
TEST(BounceAdminRules, HostMeaningsAreDataAnAdminCanDisableOrAdd) {
  BounceRecord ses;
  ses.recipient = "kim@globex.test";
  ses.action = "failed";
  ses.diagnostic = "550 5.1.1 Mailbox does not exist";
  auto builtin = completeRecord(ses, ReportContext{"inbound-smtp.eu-west-1.amazonaws.com"});
  EXPECT_EQ(builtin.reason, "filtered");
  EXPECT_FALSE(builtin.hard);
  std::vector<std::string> errors;
  auto set = buildRuleSet(R"(
host_meanings:
  - {id: acme-relay-filter, on: reporting_mta, hosts: ['relay*.acme.test'], from: userunknown, to: filtered,
     source: {ref: 'our relay vendor, ticket 4712'}}
disable: [amazon-ses-inbound-bounce-action]
)",
                          "/etc/safetynet/bounce-rules.yaml", errors);
  ASSERT_TRUE(set) << joined(errors);
  Installed use(set);
  auto dead = completeRecord(ses, ReportContext{"inbound-smtp.eu-west-1.amazonaws.com"});
  EXPECT_EQ(dead.reason, "userunknown");
  EXPECT_TRUE(dead.hard);
  auto relayed = completeRecord(ses, ReportContext{"relay2.acme.test"});
  EXPECT_EQ(relayed.reason, "filtered");
  EXPECT_FALSE(relayed.hard);
}

// A regex is compiled lower-cased for the lower-cased words, and filtered by the words any match
// must hold (one per alternative of a group every match passes through): neither changes what
// it matches. Upper-case escapes keep their meaning (\S is "not a space").
TEST(BounceAdminRules, ARegexMatchesWhatItSaysInAnyCase) {
  std::vector<std::string> errors;
  auto set = buildRuleSet(R"(
rules:
  - {id: acme-closed, kind: regex, match: 'Box (Closed For Good|retired by \S+ admin|gone):', reason: suspend, source: {ref: x}}
  - {id: acme-either, kind: regex, match: 'ACME-Full|acme (quota|storage) reached', reason: mailboxfull, source: {ref: x}}
)",
                          "/etc/safetynet/bounce-rules.yaml", errors);
  ASSERT_TRUE(set) << joined(errors);
  Installed use(set);
  EXPECT_EQ(readReply("550 BOX CLOSED FOR GOOD: kim").reason, "suspend");
  EXPECT_EQ(readReply("550 box retired by Globex admin: kim").reason, "suspend");
  EXPECT_EQ(readReply("550 box Gone: kim").reason, "suspend");
  EXPECT_NE(readReply("550 box retired by the admin team: kim").reason, "suspend");  // \S+ is one word
  EXPECT_NE(readReply("550 box closed for now: kim").reason, "suspend");
  EXPECT_EQ(readReply("452 acme-full").reason, "mailboxfull");
  EXPECT_EQ(readReply("452 ACME Storage reached").reason, "mailboxfull");
  EXPECT_NE(readReply("452 acme limit reached").reason, "mailboxfull");
}

// A rule scoped to a host holds when the recipient's domain or a reporting/remote MTA is that host
// or under it, or when the server's words name it: as a name, not inside another name.
TEST(BounceAdminRules, AHostIsNamedAsAWholeNameNotInsideAnother) {
  std::vector<std::string> errors;
  auto set = buildRuleSet(R"(
rules:
  - {id: acme-mailcom-quota, kind: phrase, match: 'box over the line', scope: {host: 'mail.com'}, reason: mailboxfull, source: {ref: x}}
)",
                          "/etc/safetynet/bounce-rules.yaml", errors);
  ASSERT_TRUE(set) << joined(errors);
  Installed use(set);
  EXPECT_EQ(readReply("452 box over the line, see https://help.mail.com/quota").reason, "mailboxfull");
  EXPECT_EQ(readReply("452 box over the line (mx01.eu.mail.com)").reason, "mailboxfull");
  EXPECT_NE(readReply("452 box over the line (relayed by gmail.com)").reason, "mailboxfull");
  EXPECT_NE(readReply("452 box over the line (hotmail.community.test)").reason, "mailboxfull");
}
