#pragma once
// The bounce knowledge of data/bounce/rules.yaml (issue 13 item 2), read and checked: status-code
// meanings (RFC 3463 / 5248), wording rules and vendor code tables, each with its source. The
// engine that applies them is rule_engine.hpp; the file is embedded at build time and an admin's
// file (bounces.rules_file) adds rules before it (docs/bounces.md, "How the engine reads the data").
#include <map>
#include <set>
#include "bounce/regex.hpp"
#include <string>
#include <vector>

namespace safetynet::bounce {

struct StatusCodeFact {
  std::string code;        // "5.1.1", "X.1.1", "4.X.X"
  std::string meaning, reason;  // reason "" for a class or subject
  bool about_recipient = false;
  std::string hard_when;   // when the code alone justifies a hard bounce, "" if never stated
  // `hard: true`: with a permanent class, this status alone is evidence that the recipient's
  // address is dead (X.1.1, X.1.2, X.1.3, X.1.6, X.1.10, X.7.17, X.7.18).
  bool hard = false;
};

// A basic reply code's meaning (RFC 5321 4.2.2, RFC 7504): read when the report's status names no
// reason (none, or X.0.0), so a bare "552" is a full mailbox and a bare "421" a system error.
// Never evidence for a hard bounce (a reply code is found wherever three digits stand in a text).
struct ReplyCodeFact {
  std::string code, meaning, reason;  // reason "onhold" names none: the words must
};

// A status a reporting MTA writes of its own for a server reply that carries none (Sendmail's
// smtptodsn() and its RCPT table): it restates the reply code and is no evidence beyond it.
struct DerivedStatus {
  std::string mta, reply, stage, status;  // stage "" for any command, else "rcpt"
  std::string source_ref;
  // The status copies the reply code's digits (Stalwart's 5.5.2 for a bare 552): it reads nothing
  // of the reply, so only its class is evidence.
  bool only_class = false;
};

struct WordingRule {
  std::string id, kind, match;  // kind: phrase | regex
  // Conditions, "" when none. status: globs ('*' any run) separated by '|', `none` for a report
  // that gives no status; reply may hold 'x' (5xx).
  std::string status, reply, action;
  std::string stage;                  // scope.stage: rcpt, data (holds for eod too), eod, mail, helo, connect, local; "" any
  std::vector<std::string> hosts;     // scope.host: domain suffixes ("a.com|b.com"); empty: any
  // scope.domain: suffixes the recipient's own domain must have, where a source speaks of the
  // recipient's domain and not of whose servers answered (Microsoft's consumer domains, whose
  // servers also answer every Microsoft 365 company); empty: any.
  std::vector<std::string> domains;
  std::string mta;                    // scope.mta: whose wording it is (documentation only)
  std::string reason;
  bool hard = false, temporary = false;
  // `over_status: true`: the words are a vendor's own code whose published meaning names the reason
  // even beside a recipient status (Facebook's "550 5.1.1 RCP-P2", the recipient's preferences).
  bool over_status = false;
  // Whether the rule says `hard:` at all. A rule that does not (a dead-address wording whose source
  // states nothing more, or whose source was not found) leaves hard or soft to the engine's general
  // reading: its dead-address reason with a permanent class. `hard: false` is a source's statement
  // that the words also stand for something temporary or not about the recipient.
  bool hard_stated = false;
  std::string source_ref;
  std::string origin;  // "built-in", or the admin file's path
  Regex re;  // kind regex: compiled lower-cased, for lower-cased words (lowerCollapsed)
  std::vector<std::string> literals;  // kind regex: any match holds one of these words (lower case); none: no sure words
  // `unless`: a regex (lower case, like `match`); the rule does not hold when it is in the words.
  // For general wordings that other words in the same reply make about something else ("invalid
  // recipient" beside "sender" or "relay").
  std::string unless;
  Regex unless_re;
  // `unless_in: sentence`: the unless words count only in the sentence that holds the match (words
  // about whose mailbox it is: "your mailbox has exceeded its sending limit"); by default anywhere.
  bool unless_in_sentence = false;
  // `names_host`: a regex with a group, the host name the failing lookup was for ("name=(\S+)
  // type="); alternative layouts each with their own group, the first that matched is the name
  // ("relay.x: Unknown host", "Unknown host: relay.x"). The words are evidence about the
  // recipient only when that name is the recipient's domain or under it: any other is a next hop,
  // and the sending MTA's own relay is one.
  std::string names_host;
  Regex names_host_re;
};

// A vendor's code table the engine applies: `find` is a regex whose first group is the code (or,
// without `find`, the key comes from a report field the reader names); `codes` maps a code, or its
// last `key_digits` digits, to a reason; `other` is the reason of a code the table lacks.
struct VendorTable {
  std::string name, find, other;
  int key_digits = 0;
  std::map<std::string, std::string> codes;
  // The codes the vendor itself says are a dead address (`hard: true`), as written in the table.
  std::set<std::string> hard_codes;
  Regex re;
  std::string source_ref;
};

// Where a receiving system's dead-address words mean something else (a filter the recipient
// chose): a reason `from` becomes `to` when the host (`on` the recipient's domain or the
// reporting MTA) matches one of `hosts` (globs: '*' any run), the status matches `status` and not
// `except_status` (globs, "" no condition), and, with `unless_names_recipient`, the text does not
// name the recipient's address.
struct HostMeaning {
  std::string id, on, from, to, status, except_status;
  std::vector<std::string> hosts;
  bool unless_names_recipient = false;
  std::string source_ref;
};

// Words that say which SMTP command a reply answered (Postfix's "(in reply to RCPT TO command)",
// Exim's "after RCPT TO:"): a phrase names one stage (`stages: {any: rcpt}`); a regex names the
// stage its first group finds (`stages: {'rcpt to': rcpt, ...}`), else its `any` one. The first
// marker found, in the file's order, names the stage; `unknown` says the words name none.
struct StageMarker {
  std::string kind, match;  // phrase (lower-cased, whitespace collapsed) | regex (compiled lower-cased)
  std::map<std::string, std::string> stages;  // key -> connect|helo|mail|rcpt|data|eod|local|unknown
  // `transcript: data`: a phrase of one mail system's report that says what its session
  // transcript's ">>> DATA" answered (Courier logs DATA only once the message was sent); tried
  // only for such a transcript, never as a stage of its own.
  std::string transcript;
  std::string source_ref;
  Regex re;
  std::vector<std::string> literals;  // kind regex: words any match holds (requiredLiterals); none: no filter
};

struct BounceRules {
  std::vector<StatusCodeFact> status_codes;
  std::vector<ReplyCodeFact> reply_codes;
  std::vector<DerivedStatus> derived_statuses;
  std::vector<HostMeaning> host_meanings;
  std::vector<WordingRule> rules;
  std::vector<VendorTable> vendor_tables;
  // Sentences of a report's own text that say all its failures are permanent (Exim's "This is a
  // permanent error."): the class of a failure that carries no code. kind/match/source only.
  std::vector<WordingRule> permanence_markers;
  // An MTA's own words that its text notice is a delay warning, not a failure (Postfix's delay
  // template, Exim's warning message, Sendmail's warning banner). kind/match/source only.
  std::vector<WordingRule> delay_markers;
  std::vector<StageMarker> stage_markers;
  std::vector<std::string> disable;  // an admin file: ids of built-in rules turned off
};

// Parses the YAML text; every problem (a rule without id, source or a known reason, a duplicate id,
// a regex std::regex cannot compile, a hard rule with a temporary class) is appended to `errors`
// (prefixed with `origin` when given) and that entry is left out.
BounceRules loadBounceRules(const std::string& yaml_text, std::vector<std::string>& errors,
                            const std::string& origin = "");

// Lower case, runs of whitespace as one space, no space at either end: how phrases and the text
// they are looked for in are compared.
std::string lowerCollapsed(const std::string& s);

// The reasons a rule may name: the classifier's vocabulary (Sisimai's, plus delivered/suppressed).
bool knownReason(const std::string& reason);

}  // namespace safetynet::bounce
