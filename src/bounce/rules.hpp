#pragma once
// The bounce knowledge of data/bounce/rules.yaml (issue 13 item 2), read and checked: status-code
// meanings (RFC 3463 / 5248) and wording rules, each with its source. A first step of the engine
// that will apply them; today nothing in the classifier uses them yet (docs/bounces.md).
#include <map>
#include <regex>
#include <string>
#include <vector>

namespace safetynet::bounce {

struct StatusCodeFact {
  std::string code;        // "5.1.1", "X.1.1", "4.X.X"
  std::string meaning, reason;  // reason "" for a class or subject
  bool about_recipient = false;
  std::string hard_when;   // when the code alone justifies a hard bounce, "" if never stated
};

struct WordingRule {
  std::string id, kind, match;  // kind: phrase | regex
  std::string status, reply, action;  // conditions, "" when none
  std::map<std::string, std::string> scope;  // stage / mta / host; empty: any
  std::string reason;
  bool hard = false, temporary = false;
  std::string source_ref;
  std::regex re;  // kind regex: compiled, case-insensitive
};

struct BounceRules {
  std::vector<StatusCodeFact> status_codes;
  std::vector<WordingRule> rules;
};

// Parses the YAML text; every problem (a rule without id, source or a known reason, a duplicate id,
// a regex std::regex cannot compile, a hard rule with a temporary class) is appended to `errors`
// and that entry is left out.
BounceRules loadBounceRules(const std::string& yaml_text, std::vector<std::string>& errors);

// The reasons a rule may name: the classifier's vocabulary (Sisimai's, plus delivered/suppressed).
bool knownReason(const std::string& reason);

}  // namespace safetynet::bounce
