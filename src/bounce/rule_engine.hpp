#pragma once
// Applies data/bounce/rules.yaml to one failed recipient's evidence (docs/bounces.md, "How the
// engine reads the data"). The built-in file is embedded at build time; an admin's file
// (bounces.rules_file) adds rules tried before the built-in ones and may disable built-in ones.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bounce/rules.hpp"

namespace safetynet::bounce {

// What a report says about one recipient, as the readers found it.
struct Evidence {
  std::string status;   // "5.1.1" or ""
  std::string reply;    // "550" or ""
  std::string action;   // DSN Action, lower case, or ""
  std::string stage;    // RCPT, DATA, MAIL, HELO, CONN... (findCommand) or ""
  std::string text;     // the server's words
  std::vector<std::string> hosts;  // recipient domain, Reporting-MTA, Remote-MTA (lower case)
  bool permanent_report = false;   // the report says its failures are permanent (permanence_markers)
  std::string reporting_mta;       // the one of `hosts` that wrote the report (lower case), "" if none
  std::string recipient_domain;    // the failed recipient's domain (lower case), "" if unknown
  // The status the server's own reply carries, when the report's Status is the reporting MTA's
  // reading of a bare reply code (derived_statuses): the reply's qmail-style "#X.Y.Z", or ""
  // (none). A rule's `status:` condition holds for it or for the report's. Unset: the report's
  // status is the server's.
  std::optional<std::string> words_status;
  // The report's Status when `status` keeps only its class (a derived status that copies the
  // reply's digits, only_class): a rule's `status:` condition holds for it too, as the report
  // wrote it ("550 5.5.0" is also Microsoft's own pair). "" otherwise.
  std::string reported_status;
  bool lmtp = false;  // the reply came over LMTP (ReportContext::lmtp)
  bool remote_named = false;  // the report names the host that answered (a Remote-MTA)
};

// The rules in force: the admin's, then the built-in ones it did not disable.
struct RuleSet {
  BounceRules rules;
  std::map<std::string, const StatusCodeFact*> facts;  // by code as written ("X.1.1", "5.X.X")
  std::map<std::string, const ReplyCodeFact*> replies;  // by code ("552")
};

// The built-in rules alone, parsed once from the embedded file.
std::shared_ptr<const RuleSet> builtinRules();
// The rules classify() uses now (built-in unless installRuleSet was called).
std::shared_ptr<const RuleSet> activeRules();
// Builds the built-in rules plus an admin file's (its text and path, for messages). Errors: bad
// rules of the admin file, an id that repeats a built-in one, a disabled id that does not exist.
std::shared_ptr<const RuleSet> buildRuleSet(const std::string& admin_yaml, const std::string& admin_path,
                                            std::vector<std::string>& errors);
// Reads, checks and builds from an admin file; "" gives the built-in rules. nullptr on errors.
std::shared_ptr<const RuleSet> loadRuleSetFile(const std::string& path, std::vector<std::string>& errors);
// Makes `rules` the active set (the daemon and `bounce import` at start, from the config);
// nullptr: the built-in ones, parsed when first used.
void installRuleSet(std::shared_ptr<const RuleSet> rules);

// The first rule whose wording is in the text and whose conditions the evidence meets (all
// conditions skipped when `words_only`), or nullptr.
const WordingRule* firstRule(const RuleSet& set, const Evidence& e, bool words_only = false);
// Every rule whose words are in the text and whose conditions hold, in the order tried.
std::vector<const WordingRule*> matchingRules(const RuleSet& set, const Evidence& e);
// Whether the rule's host scope names the receiving side (the recipient's domain, the remote MTA,
// or the words themselves), not only the MTA that wrote the report: that may be our own provider
// relaying a third party's words.
// With `reporter_answers`, the reporting MTA counts as the receiver when the report names no other
// host that answered (no Remote-MTA): it refused or failed the delivery itself.
bool scopeNamesTheReceiver(const WordingRule& r, const Evidence& e, bool reporter_answers = false);
// Whether every place the rule's words stand in the text follows a hedge a few words before it in
// its sentence ("the group may not exist, or you may not have permission"; "it might be misspelled
// or it might not exist"): the mail system says it does not know.
bool hedgedMatch(const WordingRule& r, const Evidence& e);
// Whether `host` is `domain` or a name under it ("mx1.globex.example" under "globex.example"),
// as given: the caller lower-cases both.
bool isOrUnder(const std::string& host, const std::string& domain);
// A host a matching rule's words name as the one whose lookup failed (`names_host`) that is
// neither the recipient's domain nor under it, or "": such a failure may be the sending MTA's own
// relay's and would be every recipient's. With no recipient domain known, "".
std::string lookupOfAnotherHost(const std::vector<const WordingRule*>& matched, const Evidence& e);
// The most specific status-code fact for a status ("5.1.1" -> 5.1.1, X.1.1, X.1.X, 5.X.X), or nullptr.
const StatusCodeFact* statusFact(const RuleSet& set, const std::string& status);
// The derived_statuses entry whose status a report's `status` is for its bare `reply` at `stage`
// (an entry with stage rcpt holds at RCPT or an unknown stage), or nullptr. Whether the reply
// carries a status of its own is the caller's to check.
const DerivedStatus* derivedStatus(const RuleSet& set, const std::string& status, const std::string& reply,
                                   const std::string& stage);
// The basic reply code's fact ("552"), or nullptr.
const ReplyCodeFact* replyFact(const RuleSet& set, const std::string& reply);
// Whether a report's text holds one of the permanence markers.
bool saysPermanent(const RuleSet& set, const std::string& report_text);
// Whether a text notice holds one of the delay markers: its MTA says it is still trying.
bool saysDelayed(const RuleSet& set, const std::string& report_text);
// The reason after the host meanings (the first that holds), or `reason` itself.
std::string hostMeaning(const RuleSet& set, const std::string& reason, const std::string& recipient,
                        const std::string& status, const std::string& text, const std::string& reporting_mta);
// A vendor table's reason: the code `find` finds in the text, or `key` itself when given. "" if
// the table or the code is absent.
std::string vendorReason(const RuleSet& set, const std::string& table, const std::string& text,
                         const std::string& key = "");

// Whether the vendor's own table says the code (looked up by `key` as vendorReason does) is a
// dead address (`hard: true`): evidence only where the vendor gives no server's words of its own.
bool vendorCodeIsHard(const RuleSet& set, const std::string& table, const std::string& key);

}  // namespace safetynet::bounce
