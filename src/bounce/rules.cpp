#include "bounce/rules.hpp"

#include <set>

#include <yaml-cpp/yaml.h>

namespace safetynet::bounce {

namespace {

std::string text(const YAML::Node& n, const char* key) {
  const YAML::Node v = n[key];
  return v && v.IsScalar() ? v.as<std::string>() : std::string();
}

bool flag(const YAML::Node& n, const char* key) {
  const YAML::Node v = n[key];
  return v && v.IsScalar() && v.as<std::string>() == "true";
}

std::string sourceRef(const YAML::Node& n) {
  const YAML::Node s = n["source"];
  return s && s.IsMap() ? text(s, "ref") : std::string();
}

}  // namespace

bool knownReason(const std::string& r) {
  static const std::set<std::string> reasons = {
      "userunknown", "hostunknown",  "hasmoved",      "notaccept",     "mailboxfull",  "suspend",
      "exceedlimit", "filtered",     "mesgtoobig",    "blocked",       "badreputation", "requireptr",
      "authfailure", "rejected",     "norelaying",    "toomanyconn",   "speeding",     "securityerror",
      "policyviolation", "spamdetected", "virusdetected", "contenterror", "notcompliantrfc", "expired",
      "networkerror", "systemerror", "systemfull",    "mailererror",   "syntaxerror",  "onhold",
      "undefined",   "feedback",     "vacation",      "delivered",     "suppressed"};
  return reasons.count(r) > 0;
}

BounceRules loadBounceRules(const std::string& yaml_text, std::vector<std::string>& errors) {
  BounceRules out;
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const std::exception& e) {
    errors.push_back(std::string("not YAML: ") + e.what());
    return out;
  }
  for (const auto& n : root["status_codes"]) {
    StatusCodeFact f{text(n, "code"), text(n, "meaning"), text(n, "reason"), flag(n, "about_recipient"),
                     text(n, "hard_when")};
    if (f.code.empty() || sourceRef(n).empty() || (!f.reason.empty() && !knownReason(f.reason))) {
      errors.push_back("status code " + f.code + ": needs a code, a source and a known reason");
      continue;
    }
    out.status_codes.push_back(f);
  }
  std::set<std::string> ids;
  for (const auto& n : root["rules"]) {
    WordingRule r;
    r.id = text(n, "id");
    r.kind = text(n, "kind");
    r.match = text(n, "match");
    r.status = text(n, "status");
    r.reply = text(n, "reply");
    r.action = text(n, "action");
    r.reason = text(n, "reason");
    r.hard = flag(n, "hard");
    r.temporary = flag(n, "temporary");
    r.source_ref = sourceRef(n);
    if (const YAML::Node scope = n["scope"]; scope && scope.IsMap())
      for (const auto& kv : scope) r.scope[kv.first.as<std::string>()] = kv.second.as<std::string>();
    const std::string where = "rule " + (r.id.empty() ? "(no id)" : r.id) + ": ";
    if (r.id.empty() || !ids.insert(r.id).second) {
      errors.push_back(where + "missing or duplicate id");
      continue;
    }
    if (r.match.empty() || (r.kind != "phrase" && r.kind != "regex") || !knownReason(r.reason) || r.source_ref.empty()) {
      errors.push_back(where + "needs kind phrase|regex, match, a known reason and a source");
      continue;
    }
    // RFC 3463 section 2: a temporary class is never a hard bounce.
    if (r.hard && (r.temporary || r.status.rfind("4.", 0) == 0 || r.reply.rfind('4', 0) == 0)) {
      errors.push_back(where + "hard with a temporary class");
      continue;
    }
    if (r.kind == "regex") {
      try {
        r.re = std::regex(r.match, std::regex::ECMAScript | std::regex::icase);
      } catch (const std::regex_error& e) {
        errors.push_back(where + "regex does not compile: " + e.what());
        continue;
      }
    }
    out.rules.push_back(std::move(r));
  }
  return out;
}

}  // namespace safetynet::bounce
