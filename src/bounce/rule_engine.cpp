#include "bounce/rule_engine.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <idn2.h>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include "bounce/address_chars.hpp"
#include "safetynet/bounce_rules_yaml.hpp"  // generated from data/bounce/rules.yaml (cmake/embed.cmake)

namespace safetynet::bounce {

bool isOrUnder(const std::string& host, const std::string& domain) {
  return host == domain || (host.size() > domain.size() && host.compare(host.size() - domain.size(), domain.size(), domain) == 0 &&
                            host[host.size() - domain.size() - 1] == '.');
}

namespace {

void index(RuleSet& set) {
  for (const auto& f : set.rules.status_codes) set.facts.emplace(f.code, &f);
  for (const auto& f : set.rules.reply_codes) set.replies.emplace(f.code, &f);
}

std::mutex activeMutex;
std::shared_ptr<const RuleSet>& activeSlot() {
  static std::shared_ptr<const RuleSet> active;
  return active;
}

// '*' stands for any run of characters: "5.7.5*", "*.1.1", "4.*".
bool glob(const std::string& pattern, const std::string& s, size_t p = 0, size_t i = 0) {
  for (; p < pattern.size(); ++p, ++i) {
    if (pattern[p] == '*') {
      for (size_t k = i; k <= s.size(); ++k)
        if (glob(pattern, s, p + 1, k)) return true;
      return false;
    }
    if (i >= s.size() || pattern[p] != s[i]) return false;
  }
  return i == s.size();
}

// "5xx" a class, "550" a code. With no reply code in the report, a class follows the status's.
bool replyHolds(const std::string& pattern, const Evidence& e) {
  if (pattern.empty()) return true;
  const bool isClass = pattern.size() == 3 && (pattern[1] == 'x' || pattern[1] == 'X');
  if (e.reply.empty() && e.status.empty()) return isClass && pattern[0] == '5' && e.permanent_report;
  if (e.reply.empty()) return isClass && e.status[0] == pattern[0];
  return isClass ? e.reply[0] == pattern[0] : e.reply == pattern;
}

// An unknown stage never contradicts a rule's; a known one must be the rule's.
bool stageHolds(const std::string& ruleStage, const std::string& stage) {
  if (ruleStage.empty() || stage.empty()) return true;
  std::string s;
  for (char c : stage) s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "conn") s = "connect";
  // The end of data is a reply of the DATA phase: a rule about what comes after DATA holds there.
  if (s == "eod" && ruleStage == "data") return true;
  return s == ruleStage;
}

// A domain in A-labels (RFC 5890 2.3.2.1): an MTA writes the name it looked up in DNS, Punycode
// ("name=xn--bcher-kva.test", Postfix's dns_lookup.c), while an SMTPUTF8 address keeps its
// U-labels ("mila@bücher.test"). The name as given when it is ASCII already or no valid IDN.
std::string inALabels(const std::string& domain) {
  if (std::all_of(domain.begin(), domain.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) return domain;
  char* ascii = nullptr;
  if (idn2_to_ascii_8z(domain.c_str(), &ascii, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) != IDN2_OK) return domain;
  std::string out(ascii);
  idn2_free(ascii);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool hostHolds(const std::vector<std::string>& suffixes, const Evidence& e, const std::string& text) {
  if (suffixes.empty()) return true;
  for (const auto& suffix : suffixes) {
    for (const auto& h : e.hosts)
      if (isOrUnder(h, suffix)) return true;
    // The server's words name it (mx.google.com, a help URL): as a whole name or a subdomain of it,
    // not inside another name ("mail.com" is not named by "gmail.com", nor "me.com" by "acme.com").
    for (size_t at = text.find(suffix); at != std::string::npos; at = text.find(suffix, at + 1)) {
      const auto namePart = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; };
      const bool startsName = at == 0 || !namePart(text[at - 1]);
      const size_t end = at + suffix.size();
      if (startsName && (end == text.size() || !namePart(text[end]))) return true;
    }
  }
  return false;
}

// Whether the recipient's domain is one of `suffixes` or under one (no condition when empty).
bool domainHolds(const std::vector<std::string>& suffixes, const Evidence& e) {
  if (suffixes.empty()) return true;
  const std::string d = lowerCollapsed(e.recipient_domain);
  return std::any_of(suffixes.begin(), suffixes.end(), [&](const std::string& s) { return isOrUnder(d, s); });
}

// The sentence of a one-line text that holds [at, to): a sentence ends at ". ", "! ", "? " or "; ".
static std::pair<size_t, size_t> sentenceAround(const std::string& text, size_t at, size_t to) {
  size_t begin = 0, end = text.size();
  for (const char* stop : {". ", "! ", "? ", "; "}) {
    if (const size_t b = text.rfind(stop, at); b != std::string::npos && b + 2 > begin && b < at) begin = b + 2;
    if (const size_t e = text.find(stop, to); e != std::string::npos && e < end) end = e;
  }
  return {begin, end};
}

bool wordsMatch(const WordingRule& r, const std::string& text) {
  if (!r.unless.empty() && !r.unless_in_sentence && std::regex_search(text, r.unless_re)) return false;
  // A match holds unless the unless words are in its own sentence (unless_in: sentence).
  const auto holdsAt = [&](size_t at, size_t to) {
    if (!r.unless_in_sentence) return true;
    const auto [begin, end] = sentenceAround(text, at, to);
    return !std::regex_search(text.begin() + static_cast<std::ptrdiff_t>(begin),
                              text.begin() + static_cast<std::ptrdiff_t>(end), r.unless_re);
  };
  if (r.kind == "phrase") {
    for (size_t at = text.find(r.match); at != std::string::npos; at = text.find(r.match, at + 1))
      if (holdsAt(at, at + r.match.size())) return true;
    return false;
  }
  if (!r.literals.empty() &&
      std::none_of(r.literals.begin(), r.literals.end(), [&](const std::string& w) { return text.find(w) != std::string::npos; }))
    return false;
  if (!r.unless_in_sentence) return std::regex_search(text, r.re);
  for (auto it = RegexIterator(text.begin(), text.end(), r.re); it != RegexIterator(); ++it) {
    const size_t at = static_cast<size_t>(it->position(0));
    if (holdsAt(at, at + static_cast<size_t>(it->length(0)))) return true;
  }
  return false;
}

// A rule's status condition: globs separated by '|'; `none` holds for a report with no status.
bool statusHolds(const std::string& pattern, const std::string& status) {
  if (pattern.empty()) return true;
  for (size_t b = 0; b <= pattern.size();) {
    const size_t e = std::min(pattern.find('|', b), pattern.size());
    const std::string alt = pattern.substr(b, e - b);
    if (alt == "none" ? status.empty() : (!status.empty() && glob(alt, status))) return true;
    b = e + 1;
  }
  return false;
}

// RFC 5321 section 4.2.1: each line of a multiline reply starts with the code ("550-" on all but
// the last, "550 " on the last), often with the enhanced status again (Gmail's "550-5.1.1"). A
// report that joins the lines keeps them inside the sentence ("invalid FreeUK 550 username"):
// the repeats after the first line are not words of the reply.
std::string withoutContinuationCodes(const std::string& text) {
  // The reply's code: the first three digits of 2-5 standing as a word and followed by '-' or ' '
  // (a report may put its own words before the reply: "host x said: 550-...").
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  size_t first = std::string::npos;
  for (size_t p = 0; p + 4 <= text.size(); ++p)
    if ((p == 0 || text[p - 1] == ' ' || text[p - 1] == ':') && text[p] >= '2' && text[p] <= '5' && digit(text[p + 1]) &&
        digit(text[p + 2]) && (text[p + 3] == '-' || text[p + 3] == ' ')) {
      first = p;
      break;
    }
  if (first == std::string::npos) return text;
  static const Regex status(R"(^[245]\.[0-9]{1,3}\.[0-9]{1,3}( |$))");
  const std::string code = text.substr(first, 3);
  std::string out = text.substr(0, first + 4);
  size_t i = first + 4;
  while (i < text.size()) {
    // " 550-" or " 550 " after the first line, and an enhanced status right after it.
    if (text[i] == ' ' && text.compare(i + 1, 3, code) == 0 && i + 4 < text.size() && (text[i + 4] == '-' || text[i + 4] == ' ')) {
      size_t j = i + 5;
      std::smatch m;
      const std::string rest = text.substr(j, 16);
      if (std::regex_search(rest, m, status)) j += static_cast<size_t>(m.length(0));
      out += ' ';
      i = j;
      continue;
    }
    out += text[i++];
  }
  return out;
}

// A link's path and query are an address of a page, not words: NetEase ends every reply with
// "http://mail.163.com/help/help_spam_16.htm?ip=...", whose "spam" read each of its refusals (a
// sender address, DMARC, relaying) as a spam verdict. The host stays: it names the provider
// ("community.mimecast.com", "www.spamhaus.org"), as rules and host scopes read it.
std::string withoutLinkPaths(const std::string& words) {
  if (words.find("://") == std::string::npos) return words;
  auto ends = [](char c) { return c == ' ' || std::strchr("<>\"'()[]", c) != nullptr; };
  std::string out;
  size_t copied = 0;
  for (size_t at = words.find("://"); at != std::string::npos; at = words.find("://", std::max(at + 3, copied))) {
    const bool web = (at >= 4 && words.compare(at - 4, 4, "http") == 0) || (at >= 5 && words.compare(at - 5, 5, "https") == 0);
    if (!web) continue;
    size_t hostEnd = at + 3;
    while (hostEnd < words.size() && !ends(words[hostEnd]) && !std::strchr("/?#", words[hostEnd])) ++hostEnd;
    size_t end = hostEnd;
    while (end < words.size() && !ends(words[end])) ++end;
    out.append(words, copied, hostEnd - copied);
    if (end > hostEnd) out += '/';
    copied = end;
  }
  out.append(words, copied, std::string::npos);
  return out;
}

// A colon between two words written without its space ("Requested action not taken:mailbox
// unavailable", ESET's reject text) reads as the same words with it, as the rules write them.
// Only between words of three letters or more: times, IPv6 addresses, URLs and providers' tags
// ("MI:STC", "DT:SPM", NetEase's table) keep theirs.
std::string spacedAfterColons(const std::string& words) {
  auto alpha = [&](size_t i) { return i < words.size() && std::isalpha(static_cast<unsigned char>(words[i])) != 0; };
  std::string out;
  out.reserve(words.size() + 8);
  for (size_t i = 0; i < words.size(); ++i) {
    out += words[i];
    if (words[i] == ':' && i >= 3 && alpha(i - 1) && alpha(i - 2) && alpha(i - 3) && alpha(i + 1) && alpha(i + 2) && alpha(i + 3))
      out += ' ';
  }
  return out;
}

// The text rules are matched against: lower case, whitespace collapsed, addresses replaced by
// "<address>" (an address is a name, not a word: "<filtered@example.com>... User unknown" is no filter).
std::string normalized(const std::string& text) {
  // std::regex (libstdc++) recurses once per character on patterns such as ".*": the words are
  // bounded as a reply is (completeRecord keeps 2,000 bytes of a diagnostic), whatever line of a
  // hostile text a reader asks about.
  constexpr size_t kMaxWords = 4096;
  // The continuation codes first: "550-a@b.c" would otherwise read as one address.
  const std::string words = spacedAfterColons(
      withoutLinkPaths(withoutContinuationCodes(lowerCollapsed(text.size() > kMaxWords ? text.substr(0, kMaxWords) : text))));
  // An address: a run of characters that are not spaces or delimiters holding an "@" with
  // something on each side. Scanned around each "@", not with a regex over the whole text, which
  // tried every start of a long run without "@" to its end (quadratic in a run's length).
  auto delimiter = [](char c) { return std::isspace(static_cast<unsigned char>(c)) || std::strchr("<>()[]\"',;:", c) != nullptr; };
  std::string out;
  size_t copied = 0;
  for (size_t at = words.find('@'); at != std::string::npos; at = words.find('@', std::max(at + 1, copied))) {
    size_t begin = at, end = at + 1;
    while (begin > copied && !delimiter(words[begin - 1])) --begin;
    // A domain holds no empty label (RFC 5321 4.1.2: sub-domain *("." sub-domain)): two dots end
    // it ("kim@earthlink.net...User unknown", Sendmail's "<a>... User unknown" without the space).
    while (end < words.size() && !delimiter(words[end]) && words.compare(end, 2, "..") != 0) ++end;
    // Chinese or Japanese text puts no space around an address (gromox's bounce: 您發送到
    // “kim@globex.test”的郵件…因為郵件過大！): the run holds the sentence too. There the address
    // ends as allAddresses reads it, at punctuation or where an ASCII domain meets other letters,
    // and the sentence stays words.
    const auto utf8 = [](char c) { return (static_cast<unsigned char>(c) & 0x80) != 0; };
    if (std::any_of(words.begin() + static_cast<std::ptrdiff_t>(begin), words.begin() + static_cast<std::ptrdiff_t>(end), utf8)) {
      const auto [first, last] = addressAround(words, at);
      if (first == last) continue;
      begin = std::max(first, copied);
      end = last;
    }
    if (begin == at || end == at + 1) continue;
    out.append(words, copied, begin - copied);
    out += "<address>";
    copied = end;
  }
  out.append(words, copied, std::string::npos);
  return out;
}

}  // namespace

std::shared_ptr<const RuleSet> builtinRules() {
  static const std::shared_ptr<const RuleSet> builtin = [] {
    auto set = std::make_shared<RuleSet>();
    std::vector<std::string> errors;
    set->rules = loadBounceRules(kBounceRulesYaml, errors);
    // A bad built-in rule is a build defect the unit tests catch (BounceRules.*); the rest still apply.
    index(*set);
    return std::shared_ptr<const RuleSet>(set);
  }();
  return builtin;
}

std::shared_ptr<const RuleSet> activeRules() {
  std::lock_guard lock(activeMutex);
  if (!activeSlot()) activeSlot() = builtinRules();
  return activeSlot();
}

void installRuleSet(std::shared_ptr<const RuleSet> rules) {
  std::lock_guard lock(activeMutex);
  activeSlot() = std::move(rules);
}

std::shared_ptr<const RuleSet> buildRuleSet(const std::string& admin_yaml, const std::string& admin_path,
                                            std::vector<std::string>& errors) {
  const auto builtin = builtinRules();
  const size_t before = errors.size();
  BounceRules admin = loadBounceRules(admin_yaml, errors, admin_path);
  auto set = std::make_shared<RuleSet>();
  set->rules.status_codes = builtin->rules.status_codes;
  set->rules.reply_codes = builtin->rules.reply_codes;
  set->rules.derived_statuses = builtin->rules.derived_statuses;
  set->rules.permanence_markers = builtin->rules.permanence_markers;
  set->rules.delay_markers = builtin->rules.delay_markers;
  set->rules.stage_markers = builtin->rules.stage_markers;
  set->rules.disable = admin.disable;
  std::set<std::string> builtinIds;
  for (const auto& r : builtin->rules.rules) builtinIds.insert(r.id);
  for (auto& r : admin.rules) {
    if (builtinIds.count(r.id)) {
      errors.push_back(admin_path + ": rule " + r.id + ": duplicate id (a built-in rule has it; disable it and use a new id)");
      continue;
    }
    set->rules.rules.push_back(std::move(r));
  }
  for (const auto& h : builtin->rules.host_meanings) builtinIds.insert(h.id);
  const std::set<std::string> off(admin.disable.begin(), admin.disable.end());
  // Host meanings likewise: the admin's first, then the built-in ones not disabled.
  set->rules.host_meanings = admin.host_meanings;
  for (const auto& h : builtin->rules.host_meanings)
    if (!off.count(h.id)) set->rules.host_meanings.push_back(h);
  for (const auto& id : off)
    if (!builtinIds.count(id)) errors.push_back(admin_path + ": disable: no built-in rule has the id " + id);
  for (const auto& r : builtin->rules.rules)
    if (!off.count(r.id)) set->rules.rules.push_back(r);
  // An admin's vendor table replaces the built-in one of the same name.
  set->rules.vendor_tables = admin.vendor_tables;
  for (const auto& t : builtin->rules.vendor_tables) {
    bool replaced = false;
    for (const auto& a : admin.vendor_tables) replaced = replaced || a.name == t.name;
    if (!replaced) set->rules.vendor_tables.push_back(t);
  }
  if (!admin.status_codes.empty())
    errors.push_back(admin_path + ": status_codes: the RFC meanings are built in; override a reading with a rule");
  if (!admin.permanence_markers.empty() || !admin.stage_markers.empty() || !admin.delay_markers.empty())
    errors.push_back(admin_path + ": permanence_markers, delay_markers and stage_markers are built in; read a wording with a rule");
  if (!admin.reply_codes.empty())
    errors.push_back(admin_path + ": reply_codes: the RFC meanings are built in; override a reading with a rule");
  if (!admin.derived_statuses.empty())
    errors.push_back(admin_path + ": derived_statuses: the MTAs' tables are built in; read a wording with a rule");
  index(*set);
  if (errors.size() > before) return nullptr;
  return set;
}

std::shared_ptr<const RuleSet> loadRuleSetFile(const std::string& path, std::vector<std::string>& errors) {
  if (path.empty()) return builtinRules();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errors.push_back(path + ": cannot read the bounce rules file");
    return nullptr;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return buildRuleSet(ss.str(), path, errors);
}

namespace {

// Each rule whose words are in the text and whose conditions hold, in order; the first only
// when `all` is false.
std::vector<const WordingRule*> matching(const RuleSet& set, const Evidence& e, bool words_only, bool all) {
  std::vector<const WordingRule*> out;
  const std::string text = normalized(e.text);
  if (text.empty()) return out;
  for (const auto& r : set.rules.rules) {
    if (!wordsMatch(r, text)) continue;
    if (!words_only) {
      // The report's Status, or (when the reporting MTA wrote it for a bare reply) the reply's own.
      if (!statusHolds(r.status, e.status) && !(e.words_status && statusHolds(r.status, *e.words_status)) &&
          !(!e.reported_status.empty() && statusHolds(r.status, e.reported_status)))
        continue;
      if (!replyHolds(r.reply, e)) continue;
      if (!r.action.empty() && r.action != e.action) continue;
      if (!stageHolds(r.stage, e.stage) || !hostHolds(r.hosts, e, text) || !domainHolds(r.domains, e)) continue;
    }
    out.push_back(&r);
    if (!all) break;
  }
  return out;
}

}  // namespace

bool scopeNamesTheReceiver(const WordingRule& r, const Evidence& e, bool reporter_answers) {
  if (!r.domains.empty() && domainHolds(r.domains, e)) return true;  // the recipient's own domain
  if (r.hosts.empty()) return false;
  Evidence receiver = e;
  if (!e.reporting_mta.empty() && !(reporter_answers && !e.remote_named))
    receiver.hosts.erase(std::remove(receiver.hosts.begin(), receiver.hosts.end(), e.reporting_mta), receiver.hosts.end());
  return hostHolds(r.hosts, receiver, normalized(e.text));
}

const WordingRule* firstRule(const RuleSet& set, const Evidence& e, bool words_only) {
  const auto found = matching(set, e, words_only, false);
  return found.empty() ? nullptr : found.front();
}

std::vector<const WordingRule*> matchingRules(const RuleSet& set, const Evidence& e) { return matching(set, e, false, true); }

std::string lookupOfAnotherHost(const std::vector<const WordingRule*>& matched, const Evidence& e) {
  const std::string domain = lowerCollapsed(e.recipient_domain);
  if (domain.empty()) return "";
  const std::string words = normalized(e.text);
  for (const WordingRule* r : matched) {
    if (r->names_host.empty()) continue;
    for (RegexIterator it(words.begin(), words.end(), r->names_host_re), end; it != end; ++it) {
      std::string host;
      for (size_t g = 1; g < it->size() && host.empty(); ++g)
        if ((*it)[g].matched) host = (*it)[g].str();
      while (!host.empty() && (host.back() == '.' || host.back() == ']')) host.pop_back();
      if (!host.empty() && host.front() == '[') host.erase(0, 1);
      if (host.empty()) continue;
      // A name whose last label is all digits is no host name (RFC 3696 section 2: a top-level
      // domain is never all-numeric): a status code ("550 5.1.2 unknown host or domain") or an
      // address literal, never the name whose lookup failed.
      const std::string last = host.substr(host.rfind('.') + 1);
      if (std::all_of(last.begin(), last.end(), [](unsigned char c) { return std::isdigit(c); })) continue;
      if (!isOrUnder(host, domain) && !isOrUnder(inALabels(host), inALabels(domain))) return host;
    }
  }
  return "";
}

bool hedgedMatch(const WordingRule& r, const Evidence& e) {
  const std::string text = normalized(e.text);
  std::vector<size_t> at;
  if (r.kind == "phrase")
    for (size_t p = text.find(r.match); p != std::string::npos && at.size() < 64; p = text.find(r.match, p + 1)) at.push_back(p);
  else
    for (auto it = RegexIterator(text.begin(), text.end(), r.re); it != RegexIterator() && at.size() < 64; ++it)
      at.push_back(static_cast<size_t>(it->position(0)));
  if (at.empty()) return false;
  // "may", "might", "maybe", "possibly", "perhaps", "probably" up to three words before the words,
  // in their sentence. ("could" is not one: "could not be delivered: the user does not exist".)
  static const Regex hedge(R"(\b(?:may|might|maybe|possibly|perhaps|probably)\b(?:\s+[^\s.!?;]+){0,3}\s*$)");
  return std::all_of(at.begin(), at.end(), [&](size_t p) {
    size_t begin = 0;
    for (const char* stop : {". ", "! ", "? ", "; "})
      if (const size_t b = text.rfind(stop, p); b != std::string::npos && b + 2 > begin && b < p) begin = b + 2;
    const size_t from = std::max(begin, p > 80 ? p - 80 : size_t{0});
    return std::regex_search(text.substr(from, p - from), hedge);
  });
}

const StatusCodeFact* statusFact(const RuleSet& set, const std::string& status) {
  const auto a = status.find('.'), b = status.find('.', a == std::string::npos ? 0 : a + 1);
  if (a == std::string::npos || b == std::string::npos) return nullptr;
  const std::string cls = status.substr(0, a), subject = status.substr(a + 1, b - a - 1), detail = status.substr(b + 1);
  for (const std::string& code : {status, "X." + subject + "." + detail, "X." + subject + ".X", cls + ".X.X"})
    if (auto it = set.facts.find(code); it != set.facts.end()) return it->second;
  return nullptr;
}

const DerivedStatus* derivedStatus(const RuleSet& set, const std::string& status, const std::string& reply,
                                   const std::string& stage) {
  for (const auto& d : set.rules.derived_statuses)
    if (d.status == status && d.reply == reply && (d.stage.empty() || stage.empty() || stage == "RCPT")) return &d;
  return nullptr;
}

const ReplyCodeFact* replyFact(const RuleSet& set, const std::string& reply) {
  const auto it = set.replies.find(reply);
  return it == set.replies.end() ? nullptr : it->second;
}

namespace {
bool holdsAMarker(const std::vector<WordingRule>& markers, const std::string& report_text) {
  const std::string text = lowerCollapsed(report_text);
  return std::any_of(markers.begin(), markers.end(), [&](const WordingRule& m) { return text.find(m.match) != std::string::npos; });
}
}  // namespace

bool saysPermanent(const RuleSet& set, const std::string& report_text) {
  return holdsAMarker(set.rules.permanence_markers, report_text);
}

bool saysDelayed(const RuleSet& set, const std::string& report_text) { return holdsAMarker(set.rules.delay_markers, report_text); }

std::string hostMeaning(const RuleSet& set, const std::string& reason, const std::string& recipient,
                        const std::string& status, const std::string& text, const std::string& reporting_mta) {
  const std::string address = lowerCollapsed(recipient);
  const auto at = address.rfind('@');
  const std::string domain = at == std::string::npos ? std::string() : address.substr(at + 1);
  const std::string mta = lowerCollapsed(reporting_mta);
  for (const auto& h : set.rules.host_meanings) {
    if (h.from != reason) continue;
    const std::string& host = h.on == "recipient" ? domain : mta;
    if (host.empty() || std::none_of(h.hosts.begin(), h.hosts.end(), [&](const std::string& g) { return glob(g, host); }))
      continue;
    if (!h.status.empty() && (status.empty() || !glob(h.status, status))) continue;
    if (!h.except_status.empty() && glob(h.except_status, status)) continue;
    if (h.unless_names_recipient && !address.empty() && lowerCollapsed(text).find(address) != std::string::npos) continue;
    return h.to;
  }
  return reason;
}

// A vendor's code as a key is compared: lower case, without blanks ("Permanent/NoEmail" for SES's
// "permanent/noemail").
static std::string plainCode(const std::string& code) {
  std::string out;
  for (char c : code)
    if (!std::isspace(static_cast<unsigned char>(c))) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string vendorReason(const RuleSet& set, const std::string& table, const std::string& text, const std::string& key) {
  for (const auto& t : set.rules.vendor_tables) {
    if (t.name != table) continue;
    std::string code;
    if (!key.empty()) {
      code = plainCode(key);
    } else {
      std::smatch m;
      if (t.find.empty() || !std::regex_search(text, m, t.re)) return "";
      code = m.size() > 1 && m[1].matched ? m[1].str() : m[0].str();
      for (auto& c : code) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (t.key_digits > 0 && code.size() > static_cast<size_t>(t.key_digits)) code = code.substr(code.size() - t.key_digits);
    if (auto it = t.codes.find(code); it != t.codes.end()) return it->second;
    // A key is matched as the code is written in any case ("Permanent/NoEmail" for SES's
    // "permanent/noemail"): the table keeps the vendor's spelling.
    if (!key.empty())
      for (const auto& [written, reason] : t.codes)
        if (plainCode(written) == code) return reason;
    return t.other;
  }
  return "";
}

bool vendorCodeIsHard(const RuleSet& set, const std::string& table, const std::string& key) {
  for (const auto& t : set.rules.vendor_tables) {
    if (t.name != table) continue;
    return std::any_of(t.hard_codes.begin(), t.hard_codes.end(), [&](const std::string& written) { return plainCode(written) == plainCode(key); });
  }
  return false;
}

}  // namespace safetynet::bounce
