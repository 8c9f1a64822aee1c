#include "bounce/rules.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>

#include <yaml-cpp/yaml.h>

#include "safetynet/core/text.hpp"

namespace safetynet::bounce {

namespace {

// The stages a reply can be given at (findCommand, src/bounce/reason.cpp): eod is the reply to the
// end of the message, data the reply to the DATA command.
const std::set<std::string> kStages = {"connect", "helo", "mail", "rcpt", "data", "eod", "local", "unknown"};

std::string text(const YAML::Node& n, const char* key) {
  const YAML::Node v = n[key];
  return v && v.IsScalar() ? v.as<std::string>() : std::string();
}

}  // namespace

std::string lowerCollapsed(const std::string& s) {
  std::string out;
  bool space = false;
  for (unsigned char c : s) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += static_cast<char>(std::tolower(c));
  }
  return out;
}

namespace {

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
      "undefined",   "feedback",     "vacation",      "delivered",     "suppressed",   "otherrecipient"};
  return reasons.count(r) > 0;
}

namespace {

// The longest run of plain characters a regex's every match must contain (outside groups, not
// under a quantifier, no top-level alternation), lower-cased; "" when none is sure. std::regex is
// slow, and most rules' words are not in a given text: a substring test skips them first.
// A regex's letters in lower case, escapes kept (\S, \W, \D, \B mean other things than \s...):
// what matches the lower-cased words as the pattern matched them in any case.
std::string lowerPattern(const std::string& re) {
  std::string out = re;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '\\') {
      ++i;  // the escaped character stays as written
      continue;
    }
    out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[i])));
  }
  return out;
}

std::string requiredLiteral(const std::string& re) {
  std::string best, run;
  int depth = 0;
  auto endRun = [&] {
    if (run.size() > best.size()) best = run;
    run.clear();
  };
  for (size_t i = 0; i < re.size(); ++i) {
    const char c = re[i];
    const bool quantified = i + 1 < re.size() && std::strchr("?*+{", re[i + 1]) != nullptr;
    if (c == '\\' && i + 1 < re.size()) {
      const char e = re[++i];
      const bool quantifiedEscape = i + 1 < re.size() && std::strchr("?*+{", re[i + 1]) != nullptr;
      if (depth == 0 && std::strchr(".()[]{}|*+?^$\\/-", e) && !quantifiedEscape) {
        run += e;
      } else {
        endRun();
      }
      continue;
    }
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == '|' && depth == 0) return "";  // alternatives at the top: no common words
    if (c == '[') {  // a class: skip to its end
      endRun();
      while (i + 1 < re.size() && re[i + 1] != ']') i += re[i + 1] == '\\' ? 2 : 1;
      ++i;
      continue;
    }
    if (depth > 0 || std::strchr("()|.*+?{}^$", c) || quantified) {
      endRun();
      continue;
    }
    run += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  endRun();
  return best.size() >= 4 ? best : std::string();
}

// Words one of which any match must hold: the required literal, else one per alternative of a
// top-level alternation or of a group every match passes through ("(a|b|c):"). Empty when some
// alternative has no sure words. Only a filter: the regex still decides.
std::vector<std::string> requiredLiterals(const std::string& re, int depth_left = 8) {
  if (auto one = requiredLiteral(re); !one.empty()) return {one};
  if (depth_left == 0) return {};  // nested deeper than any rule needs: no filter, the regex decides
  // Split at '|' outside groups and classes; note the first top-level group.
  std::vector<std::string> branches;
  size_t start = 0, groupOpen = std::string::npos, groupClose = std::string::npos;
  int depth = 0;
  for (size_t i = 0; i < re.size(); ++i) {
    const char c = re[i];
    if (c == '\\') {
      ++i;
      continue;
    }
    if (c == '[') {
      while (i + 1 < re.size() && re[i + 1] != ']') i += re[i + 1] == '\\' ? 2 : 1;
      ++i;
      continue;
    }
    if (c == '(' && depth++ == 0 && groupOpen == std::string::npos) groupOpen = i;
    if (c == ')' && --depth == 0 && groupClose == std::string::npos) groupClose = i;
    if (c == '|' && depth == 0) {
      branches.push_back(re.substr(start, i - start));
      start = i + 1;
    }
  }
  std::vector<std::string> out;
  if (!branches.empty()) {
    branches.push_back(re.substr(start));
    for (const auto& b : branches) {
      const auto words = requiredLiterals(b, depth_left - 1);
      if (words.empty()) return {};
      out.insert(out.end(), words.begin(), words.end());
    }
    return out;
  }
  // One group every match passes through (not quantified): its alternatives' words.
  if (groupOpen == std::string::npos || groupClose == std::string::npos) return {};
  if (groupClose + 1 < re.size() && std::strchr("?*{", re[groupClose + 1])) return {};
  std::string inner = re.substr(groupOpen + 1, groupClose - groupOpen - 1);
  if (inner.rfind("?:", 0) == 0) inner.erase(0, 2);
  if (inner.rfind("?", 0) == 0) return {};  // a look-ahead matches no words
  return requiredLiterals(inner, depth_left - 1);
}

// A vendor table the engine applies (it has `find` or `field`); others are documentation.
void readVendorTables(const YAML::Node& tables, BounceRules& out, std::vector<std::string>& errors, const std::string& at) {
  if (!tables || !tables.IsMap()) return;
  for (const auto& kv : tables) {
    const YAML::Node& n = kv.second;
    if (!n.IsMap() || (!n["find"] && !n["field"])) continue;
    VendorTable t;
    t.name = kv.first.as<std::string>();
    t.find = text(n, "find");
    t.other = text(n, "other");
    if (const YAML::Node d = n["key_digits"]; d && d.IsScalar()) t.key_digits = d.as<int>(0);
    const std::string where = at + "vendor table " + t.name + ": ";
    if (sourceRef(n).empty() || (!t.other.empty() && !knownReason(t.other))) {
      errors.push_back(where + "needs a source, and `other` a known reason");
      continue;
    }
    t.source_ref = sourceRef(n);
    bool ok = true;
    for (const auto& c : n["codes"]) {
      const std::string code = text(c, "code"), reason = text(c, "reason");
      if (code.empty() || !knownReason(reason)) {
        errors.push_back(where + "code " + code + " needs a known reason");
        ok = false;
        continue;
      }
      t.codes[code] = reason;
      if (const YAML::Node h = c["hard"]; h && h.IsScalar() && h.as<std::string>() == "true") t.hard_codes.insert(code);
    }
    if (!t.find.empty()) {
      try {
        t.re = Regex(t.find, Regex::ECMAScript | Regex::icase);
      } catch (const std::regex_error& e) {
        errors.push_back(where + "find does not compile: " + e.what());
        ok = false;
      }
    }
    if (ok) out.vendor_tables.push_back(std::move(t));
  }
}

}  // namespace

BounceRules loadBounceRules(const std::string& yaml_text, std::vector<std::string>& errors, const std::string& origin) {
  BounceRules out;
  const std::string at = origin.empty() ? std::string() : origin + ": ";
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const std::exception& e) {
    errors.push_back(at + "not YAML: " + e.what());
    return out;
  }
  if (!root.IsMap()) {
    if (!root.IsNull()) errors.push_back(at + "not a mapping of status_codes, rules, vendor_codes, disable");
    return out;
  }
  static const std::set<std::string> kKeys = {"version",      "read_on",           "status_codes",  "reply_codes",  "derived_statuses",
                                               "rules",        "permanence_markers", "host_meanings", "stage_markers",
                                               "vendor_codes", "disable",          "delay_markers"};
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>("");
    if (!kKeys.count(key))
      errors.push_back(at + "unknown key " + key + " (a rules file has rules, host_meanings, vendor_codes, disable)");
  }
  for (const auto& n : root["status_codes"]) {
    StatusCodeFact f{text(n, "code"), text(n, "meaning"), text(n, "reason"), flag(n, "about_recipient"),
                     text(n, "hard_when"), flag(n, "hard")};
    if (f.code.empty() || sourceRef(n).empty() || (!f.reason.empty() && !knownReason(f.reason))) {
      errors.push_back(at + "status code " + f.code + ": needs a code, a source and a known reason");
      continue;
    }
    out.status_codes.push_back(f);
  }
  for (const auto& n : root["reply_codes"]) {
    ReplyCodeFact f{text(n, "code"), text(n, "meaning"), text(n, "reason")};
    const bool code = f.code.size() == 3 && (f.code[0] == '4' || f.code[0] == '5') &&
                      std::all_of(f.code.begin(), f.code.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!code || sourceRef(n).empty() || !knownReason(f.reason)) {
      errors.push_back(at + "reply code " + f.code + ": needs a 4xx or 5xx code, a source and a known reason");
      continue;
    }
    out.reply_codes.push_back(f);
  }
  for (const auto& n : root["derived_statuses"]) {
    DerivedStatus d{text(n, "mta"), text(n, "reply"), text(n, "stage"), text(n, "status"), sourceRef(n)};
    d.only_class = n["only_class"] && n["only_class"].as<bool>(false);
    static const Regex code(R"([45]\d\d)"), status(R"([45]\.\d{1,3}\.\d{1,3})");
    const bool ok = std::regex_match(d.reply, code) && std::regex_match(d.status, status) && d.reply[0] == d.status[0] &&
                    (d.stage.empty() || d.stage == "rcpt") && !d.mta.empty() && !d.source_ref.empty();
    if (!ok) {
      errors.push_back(at + "derived status " + d.reply + " -> " + d.status +
                       ": needs an mta, a 4xx or 5xx reply, a status of its class, stage rcpt or none, and a source");
      continue;
    }
    out.derived_statuses.push_back(d);
  }
  readVendorTables(root["vendor_codes"], out, errors, at);
  // Sentences an MTA writes into its own reports: a phrase and where it was read, nothing more.
  auto markers = [&](const YAML::Node& list, const std::string& what, std::vector<WordingRule>& into) {
    for (const auto& n : list) {
      WordingRule m;
      m.id = text(n, "id");
      m.kind = text(n, "kind");
      m.match = lowerCollapsed(text(n, "match"));
      m.source_ref = sourceRef(n);
      if (m.id.empty() || m.kind != "phrase" || m.match.empty() || m.source_ref.empty()) {
        errors.push_back(at + what + " " + m.id + ": needs an id, kind phrase, match and a source");
        continue;
      }
      into.push_back(std::move(m));
    }
  };
  markers(root["permanence_markers"], "permanence marker", out.permanence_markers);
  markers(root["delay_markers"], "delay marker", out.delay_markers);
  const std::set<std::string>& stages = kStages;
  for (const auto& n : root["stage_markers"]) {
    StageMarker m;
    m.kind = text(n, "kind");
    m.match = text(n, "match");
    m.transcript = text(n, "transcript");
    m.source_ref = sourceRef(n);
    bool ok = (m.kind == "phrase" || m.kind == "regex") && !m.match.empty() && !m.source_ref.empty() && n["stages"].IsMap() &&
              (m.transcript.empty() || (m.transcript == "data" && m.kind == "phrase"));
    if (ok) {
      for (const auto& kv : n["stages"]) {
        const std::string stage = kv.second.IsScalar() ? kv.second.as<std::string>() : std::string();
        ok = ok && kv.first.IsScalar() && stages.count(stage) > 0;
        if (ok) m.stages[lowerCollapsed(kv.first.as<std::string>())] = stage;
      }
    }
    if (ok && m.kind == "phrase") m.match = lowerCollapsed(m.match);
    if (ok && m.kind == "regex") {
      try {
        m.re = Regex(lowerPattern(m.match), Regex::ECMAScript);
        m.literals = requiredLiterals(m.match);
      } catch (const std::regex_error&) {
        ok = false;
      }
    }
    if (!ok) {
      errors.push_back(at + "stage marker '" + m.match +
                       "': needs kind phrase|regex, a match that compiles, stages (connect, helo, mail, rcpt, data, eod, "
                       "local, unknown), a source, and transcript only `data` with a phrase");
      continue;
    }
    out.stage_markers.push_back(std::move(m));
  }
  for (const auto& n : root["host_meanings"]) {
    HostMeaning h;
    h.id = text(n, "id");
    h.on = text(n, "on");
    h.from = text(n, "from");
    h.to = text(n, "to");
    h.status = text(n, "status");
    h.except_status = text(n, "except_status");
    h.unless_names_recipient = flag(n, "unless_names_recipient");
    h.source_ref = sourceRef(n);
    for (const auto& host : n["hosts"])
      if (host.IsScalar()) h.hosts.push_back(lowerCollapsed(host.as<std::string>()));
    if (h.id.empty() || (h.on != "recipient" && h.on != "reporting_mta") || !knownReason(h.from) || !knownReason(h.to) ||
        h.hosts.empty() || h.source_ref.empty()) {
      errors.push_back(at + "host meaning " + h.id + ": needs an id, on (recipient or reporting_mta), hosts, known from/to reasons and a source");
      continue;
    }
    out.host_meanings.push_back(std::move(h));
  }
  for (const auto& n : root["disable"])
    if (n.IsScalar()) out.disable.push_back(n.as<std::string>());
  std::set<std::string> ids;
  for (const auto& n : root["rules"]) {
    WordingRule r;
    r.id = text(n, "id");
    r.kind = text(n, "kind");
    r.match = text(n, "match");
    r.status = text(n, "status");
    r.reply = text(n, "reply");
    r.action = text(n, "action");
    r.unless = text(n, "unless");
    r.names_host = text(n, "names_host");
    const std::string unlessIn = text(n, "unless_in");
    r.unless_in_sentence = unlessIn == "sentence";
    r.reason = text(n, "reason");
    r.hard = flag(n, "hard");
    r.hard_stated = static_cast<bool>(n["hard"]);
    r.temporary = flag(n, "temporary");
    r.over_status = flag(n, "over_status");
    r.source_ref = sourceRef(n);
    r.origin = origin.empty() ? "built-in" : origin;
    if (const YAML::Node scope = n["scope"]; scope && scope.IsMap()) {
      r.stage = text(scope, "stage");
      r.mta = text(scope, "mta");
      for (const auto& [key, into] : {std::pair<const char*, std::vector<std::string>*>{"host", &r.hosts}, {"domain", &r.domains}}) {
        const std::string list = text(scope, key);
        for (size_t b = 0; !list.empty() && b <= list.size();) {
          const size_t e = std::min(list.find('|', b), list.size());
          if (e > b) into->push_back(list.substr(b, e - b));
          b = e + 1;
        }
      }
    }
    const std::string where = at + "rule " + (r.id.empty() ? "(no id)" : r.id) + ": ";
    if (r.id.empty() || !ids.insert(r.id).second) {
      errors.push_back(where + "missing or duplicate id");
      continue;
    }
    if (r.match.empty() || (r.kind != "phrase" && r.kind != "regex") || r.source_ref.empty()) {
      errors.push_back(where + "needs kind phrase|regex, match and a source");
      continue;
    }
    if (!knownReason(r.reason)) {
      errors.push_back(where + "unknown reason \"" + r.reason + "\"");
      continue;
    }
    // A stage no reply is ever given would make the rule hold nowhere, silently.
    r.stage = asciiLower(r.stage);
    if (!r.stage.empty() && (!kStages.count(r.stage) || r.stage == "unknown")) {
      errors.push_back(where + "unknown scope stage \"" + r.stage + "\" (connect, helo, mail, rcpt, data, eod, local; data holds for eod too)");
      continue;
    }
    // A phrase is matched against lower-cased text with its whitespace collapsed.
    if (r.kind == "phrase") r.match = lowerCollapsed(r.match);
    // RFC 3463 section 2: a temporary class is never a hard bounce.
    if (r.hard && (r.temporary || r.status.rfind("4.", 0) == 0 || r.reply.rfind('4', 0) == 0)) {
      errors.push_back(where + "hard with a temporary class");
      continue;
    }
    if (r.kind == "regex") {
      try {
        // The words are matched lower-cased (rule_engine.cpp normalized()), so the pattern is
        // lower-cased too and compiled case-sensitive: libstdc++'s icase looks up the locale's
        // ctype facet for every character it compares, which made rule matching most of a
        // bounce's classification time (docs/benchmarks.md).
        r.re = Regex(lowerPattern(r.match), Regex::ECMAScript);
        r.literals = requiredLiterals(r.match);
      } catch (const std::regex_error& e) {
        errors.push_back(where + "regex does not compile: " + e.what());
        continue;
      }
    }
    if (!unlessIn.empty() && (unlessIn != "sentence" || r.unless.empty())) {
      errors.push_back(where + "unless_in: only 'sentence', for a rule with an unless");
      continue;
    }
    if (!r.unless.empty()) {
      try {
        r.unless_re = Regex(lowerPattern(r.unless), Regex::ECMAScript);
      } catch (const std::regex_error& e) {
        errors.push_back(where + "unless: regex does not compile: " + e.what());
        continue;
      }
    }
    if (!r.names_host.empty()) {
      try {
        r.names_host_re = Regex(lowerPattern(r.names_host), Regex::ECMAScript);
      } catch (const std::regex_error& e) {
        errors.push_back(where + "names_host: regex does not compile: " + e.what());
        continue;
      }
      if (r.names_host_re.mark_count() < 1) {
        errors.push_back(where + "names_host: needs a group, the host name (one per alternative layout)");
        continue;
      }
    }
    out.rules.push_back(std::move(r));
  }
  return out;
}

}  // namespace safetynet::bounce
