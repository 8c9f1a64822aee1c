// Helpers on a bounce's human text: addresses, whitespace, where the returned message starts.
#include "bounce/bounce_text.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>
#include <string_view>
#include "bounce/address_chars.hpp"
#include "bounce/regex.hpp"

#include "safetynet/core/text.hpp"

namespace safetynet::bounce {

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

namespace {

// A quoted local part (RFC 5321 4.1.2 Quoted-string: "kim lee"@, "a@b"@) ending just before the
// "@" at `at`: where its opening quote is, or npos. The opening quote follows the line's start, a
// space or a bracket; an escaped quote (\") is inside. At most 64 characters (RFC 5321 4.5.3.1.1).
size_t quotedLocalStart(const std::string& text, size_t at) {
  if (at < 2 || text[at - 1] != '"') return std::string::npos;
  for (size_t i = at - 1; i-- > 0 && at - 1 - i <= 66;) {
    const char c = text[i];
    if (c == '\r' || c == '\n') return std::string::npos;
    if (c != '"') continue;
    size_t backslashes = 0;
    while (i > backslashes && text[i - 1 - backslashes] == '\\') ++backslashes;
    if (backslashes % 2 == 1) continue;
    if (i + 1 == at - 1) return std::string::npos;  // "" is no local part
    const bool opens = i == 0 || std::string_view(" \t<:;,(").find(text[i - 1]) != std::string_view::npos;
    return opens ? i : std::string::npos;
  }
  return std::string::npos;
}

// Where the "<" is that opens a local part holding spaces ("<john doe@"), the address read from
// `begin` being its last word; npos when the words before it are not inside angle brackets.
size_t bracketedLocalWithSpaces(const std::string& text, size_t begin, size_t done) {
  if (begin == 0 || text[begin - 1] != ' ') return std::string::npos;
  for (size_t i = begin; i-- > done && begin - i <= 64;) {
    const char c = text[i];
    if (c == '<') return i + 1 < begin - 1 && std::string_view(" |/").find(text[i + 1]) == std::string_view::npos ? i : std::string::npos;
    if (c != ' ' && !localChar(c)) return std::string::npos;
  }
  return std::string::npos;
}

// A quoted local part of atext and dots only is read unquoted: "kim.lee" is the same mailbox as
// kim.lee (RFC 5321 4.1.2: a quoted-string equivalent to a Dot-string SHOULD be sent unquoted),
// and one quoted only for its dots ("taro..yamada.", which Japanese carriers handed out; Postfix
// quotes it, quote_822_local.c) is the address as the sender's list holds it.
std::string unquotedIfAtext(const std::string& quoted) {
  const std::string inner = quoted.substr(1, quoted.size() - 2);
  const bool atext = !inner.empty() && std::all_of(inner.begin(), inner.end(), localChar);
  return atext ? inner : quoted;
}

// Every address in a text, in order, lower-cased (ASCII letters only: a UTF-8 local part is
// compared as written). `min_labels` 2 asks for a domain with a dot.
std::vector<std::string> addressesIn(const std::string& text, size_t min_labels) {
  // Quoted local parts first: an "@" inside one ("a@b"@globex) is no address of its own.
  std::vector<std::pair<size_t, size_t>> quoted;  // [opening quote, the "@" after the closing one)
  for (size_t at = text.find("\"@"); at != std::string::npos; at = text.find("\"@", at + 1))
    if (const size_t open = quotedLocalStart(text, at + 1); open != std::string::npos) quoted.emplace_back(open, at + 1);
  auto quotedEndingAt = [&](size_t at) {
    for (const auto& q : quoted) if (q.second == at) return q.first;
    return std::string::npos;
  };
  auto insideQuotes = [&](size_t at) {
    return std::any_of(quoted.begin(), quoted.end(), [&](const auto& q) { return q.first < at && at < q.second; });
  };
  // Only around each "@", at most 256 characters either side (a local part has at most 64, a
  // domain 255: RFC 5321 4.5.3.1): searched over the whole text, a long run of letters without
  // "@" was tried from every start, quadratic in the line's length.
  constexpr size_t kReach = 256;
  std::vector<std::string> out;
  size_t done = 0;  // the text before this is read (the end of the last address found)
  for (size_t at = text.find('@'); at != std::string::npos; at = text.find('@', std::max(at + 1, done))) {
    if (insideQuotes(at)) continue;
    const size_t quoteOpens = quotedEndingAt(at);
    size_t begin = at;
    if (quoteOpens != std::string::npos && quoteOpens >= done) begin = quoteOpens;
    else
      while (begin > done && at - begin < kReach) {
        const size_t n = localBefore(text, begin);
        if (n == 0 || begin - n < done) break;
        begin -= n;
      }
    size_t end = at + 1;
    while (end < text.size() && end - at < kReach)
      if (const size_t n = addressCharAt(text, end, false); n > 0) end += n;
      else break;
    // Quoted in a sentence, 'a@b' or `a@b' (Exchange 5.5, TeX-style quotes), or with more inside
    // the quotes, 'a@b (host: b) (queue: smtp)' (MMDF's rtn_proc.c): the quote is punctuation, not
    // the local part's first character (RFC 5322 atext allows it, mail systems never hand one out).
    while (begin < at && (text[begin] == '\'' || text[begin] == '`')) ++begin;
    if (begin == at) continue;
    const size_t domain = domainLength(std::string_view(text).substr(at + 1, end - at - 1), min_labels);
    if (domain == 0) continue;
    std::string a = asciiLower(text.substr(begin, at + 1 + domain - begin));
    while (!a.empty() && (a.back() == '.' || a.back() == '-')) a.pop_back();
    if (begin == quoteOpens) a = unquotedIfAtext(a.substr(0, at - begin)) + a.substr(at - begin);
    // Postfix's text names a recipient whose local part holds a space in its internal, unquoted
    // form: "<john doe@globex.example>: host ... said" (as in its Final-Recipient, reportedAddress).
    // Between the angle brackets the whole local part is the address's, quoted again.
    else if (const size_t open = bracketedLocalWithSpaces(text, begin, done);
             open != std::string::npos && at + 1 + domain < text.size() && text[at + 1 + domain] == '>')
      a = "\"" + asciiLower(text.substr(open + 1, at - open - 1)) + "\"" + a.substr(at - begin);
    out.push_back(a);
    done = at + 1 + domain;
  }
  return out;
}

// RFC 6533 3's utf-8-addr-xtext: a character as "\x{HEX}" (its code point), the rest as written.
std::string decodedUtf8Xtext(const std::string& a) {
  std::string out;
  for (size_t i = 0; i < a.size(); ++i) {
    const size_t close = a.compare(i, 3, "\\x{") == 0 ? a.find('}', i + 3) : std::string::npos;
    if (close == std::string::npos || close == i + 3 || close - i - 3 > 6) {
      out += a[i];
      continue;
    }
    unsigned long cp = 0;
    bool hex = true;
    for (size_t j = i + 3; j < close; ++j) {
      const char c = a[j];
      if (!std::isxdigit(static_cast<unsigned char>(c))) hex = false;
      cp = cp * 16 + static_cast<unsigned long>(std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (std::tolower(c) - 'a' + 10));
    }
    if (!hex || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      out += a[i];
      continue;
    }
    if (cp < 0x80) out += static_cast<char>(cp);
    else if (cp < 0x800) out += {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
    else if (cp < 0x10000)
      out += {static_cast<char>(0xE0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), static_cast<char>(0x80 | (cp & 0x3F))};
    else
      out += {static_cast<char>(0xF0 | (cp >> 18)), static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
              static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), static_cast<char>(0x80 | (cp & 0x3F))};
    i = close;
  }
  return out;
}

}  // namespace

// "rfc822; <a@b>" or "a@b" or "Name <a@b>" -> "a@b", lower-cased.
std::string addressIn(const std::string& value) {
  const auto found = addressesIn(value, 1);
  return found.empty() ? std::string() : found.front();
}

// The report names the recipient it failed; a malformed address (a typo in the domain) is still
// the one the sender's list holds, and the one a hard bounce must suppress. Only the address
// token itself is taken: one '@' with something on both sides, no spaces, brackets or quotes.
// RFC 6533's type for an internationalized address is "utf-8" (also written "utf8"), its
// characters as UTF-8 or as "\x{HEX}".
std::string reportedAddress(const std::string& field_value) {
  const std::string v = trim(field_value);
  const auto semi = v.find(';');
  const std::string type = semi == std::string::npos ? std::string() : asciiLower(trim(v.substr(0, semi)));
  if (type != "rfc822" && type != "utf-8" && type != "utf8") return addressIn(v);
  std::string a = trim(v.substr(semi + 1));
  if (type != "rfc822") a = decodedUtf8Xtext(a);
  if (!a.empty() && a.front() == '<') {
    const auto close = a.find('>');
    a = close == std::string::npos ? a.substr(1) : a.substr(1, close - 1);
  }
  // Postfix names the recipient in its internal, unquoted form (bounce_notify_util.c prints
  // rcpt->address): "Final-Recipient: rfc822; john doe@globex.example" for "john doe"@globex.example.
  // Cut at its space, the field named "john" and the text's "doe@globex.example", another mailbox
  // (address-forms-in-notices). One "@" with spaces only before it and nothing RFC 5322 would
  // quote or bracket around it is that local part: quoted again as RFC 5321 4.1.2 writes it.
  if (const auto at = a.rfind('@'); at != std::string::npos && at > 0 && a.find('@') == at &&
                                    a.find_first_of(" \t") < at && a.find_first_of(" \t\r\n", at) == std::string::npos &&
                                    a.find_first_of("<>()[],;:\"\\") == std::string::npos) {
    // Not a pipe or a file: Exim 4.82-4.92 wrote the address after routing, "rfc822;| /usr/libexec/
    // sympa/queue list@lists.globex.example" for a list piped to Sympa (its 4.93 ChangeLog, JH/29).
    const std::string local = a.substr(0, at);
    if (local.front() != '|' && local.front() != '/' && local.back() != ' ' && local.size() <= 64)
      return "\"" + asciiLower(local) + "\"@" + asciiLower(a.substr(at + 1));
  }
  a = a.substr(0, a.find_first_of(" \t\r\n"));
  while (!a.empty() && a.back() == '.') a.pop_back();
  const auto at = a.rfind('@');
  const bool plain = at != std::string::npos && at > 0 && at + 1 < a.size() && a.find('@') == at &&
                     a.find_first_of("<>()[],;:\"\\") == std::string::npos &&
                     std::none_of(a.begin(), a.end(), [](char c) { return static_cast<unsigned char>(c) < 0x21 || c == 0x7f; });
  return plain ? asciiLower(a) : addressIn(type == "rfc822" ? v : a);
}

// RFC 3461 4's xtext: "+" and two hex digits for a character, the rest as written.
std::string decodedXtext(const std::string& a) {
  std::string out;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == '+' && i + 2 < a.size() && std::isxdigit(static_cast<unsigned char>(a[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(a[i + 2]))) {
      const int c = std::stoi(a.substr(i + 1, 2), nullptr, 16);
      if (c > 0x20 && c < 0x7f) {
        out += static_cast<char>(c);
        i += 2;
        continue;
      }
    }
    out += a[i];
  }
  return out;
}

namespace {
// How far a line (its quote marks taken off) is indented.
size_t indentOf(const std::string& line) {
  const std::string u = unquoted(line);
  const size_t text = u.find_first_not_of(" \t");
  return text == std::string::npos ? std::string::npos : text;
}
}  // namespace

// Whether the line starting at `lineStart` continues an entry above it: the nearest line above, in
// the same paragraph, that is indented less does not end in a colon (a heading: "could not be
// delivered to:" opens a list of entries). MTAs wrap a long entry with a deeper indent: Postfix at
// 79 columns with 4 spaces under an entry at the margin (bounce_notify_util.c, LENGTH 79 / INDENT
// 4), Exim after ": " past 45 characters, 4 spaces under the address's 2 (deliver.c
// print_address_error). An address at the start of such a line is inside the entry's words
// ("... said: 550 5.1.1\n    <kim.lee@...>: Recipient address rejected"), not a new entry.
bool continuesTheLineBefore(const std::string& lh, size_t lineStart) {
  const size_t lineEnd = lh.find('\n', lineStart);
  const size_t here = indentOf(lh.substr(lineStart, lineEnd == std::string::npos ? std::string::npos : lineEnd - lineStart));
  if (here == std::string::npos || here == 0) return false;
  size_t end = lineStart;  // one past the end of the line above (its newline)
  for (int lines = 0; end >= 1 && lines < 30; ++lines) {
    const size_t start = end >= 2 ? lh.rfind('\n', end - 2) : std::string::npos;
    const size_t from = start == std::string::npos ? 0 : start + 1;
    const std::string prev = lh.substr(from, end - 1 - from);
    const size_t before = indentOf(prev);
    if (before == std::string::npos) return false;  // a blank line: the paragraph starts here
    if (before < here) {
      const size_t last = prev.find_last_not_of(" \t\r");
      return prev[last] != ':';
    }
    if (from == 0) return false;
    end = from;
  }
  return false;
}

std::vector<Mention> mentionsOf(const std::string& lh, const std::vector<std::string>& addresses) {
  std::vector<Mention> out;
  for (const auto& address : std::set<std::string>(addresses.begin(), addresses.end())) {
    if (address.empty()) continue;
    for (size_t at = lh.find(address); at != std::string::npos; at = lh.find(address, at + 1)) {
      const size_t end = at + address.size();
      const bool dotEnd = end < lh.size() && lh[end] == '.' && addressCharAt(lh, end + 1, false) == 0;
      const bool quoted = at > 0 && (lh[at - 1] == '\'' || lh[at - 1] == '`') && end < lh.size() && lh[end] == '\'';
      // An ASCII top-level domain ends where the text turns to other letters (domainLength).
      const bool scriptEnd = end < lh.size() && utf8Byte(lh[end]) && !utf8Byte(lh[end - 1]);
      if (!((localBefore(lh, at) == 0 || quoted) && (addressCharAt(lh, end, false) == 0 || dotEnd || scriptEnd)))
        continue;
      const size_t lineStart = at == 0 ? 0 : lh.rfind('\n', at - 1) + 1;
      // One that runs into the sentence's words is inside the sentence, not a list's entry.
      const bool opens = lh.find_first_not_of(" \t\r<>\"'`", lineStart) >= at && !continuesTheLineBefore(lh, lineStart) && !scriptEnd;
      out.push_back({at, address, opens});
    }
  }
  std::sort(out.begin(), out.end(), [](const Mention& a, const Mention& b) { return a.at < b.at; });
  return out;
}

std::vector<std::string> allAddresses(const std::string& text) { return addressesIn(text, 2); }


std::vector<std::string> mailboxesIn(const std::string& value) {
  std::vector<std::string> out;
  // Split at the commas between mailboxes: not those inside a quoted string, a comment or an
  // angle-addr. In each, the angle-addr's contents when there is one, else the element without
  // its comments.
  std::string element, angle, bare;
  bool inQuotes = false, inAngle = false, sawAngle = false;
  int commentDepth = 0;
  auto finish = [&] {
    const std::string a = addressIn(sawAngle ? angle : bare);
    if (!a.empty()) out.push_back(a);
    angle.clear();
    bare.clear();
    sawAngle = false;
  };
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '\\' && (inQuotes || commentDepth > 0) && i + 1 < value.size()) {  // a quoted-pair
      if (inQuotes && !inAngle) bare += value.substr(i, 2);
      ++i;
      continue;
    }
    if (commentDepth > 0) {
      commentDepth += c == '(' ? 1 : c == ')' ? -1 : 0;
      continue;
    }
    if (inQuotes) {
      if (c == '"') inQuotes = false;
      (inAngle ? angle : bare) += c;
      continue;
    }
    if (c == '"') inQuotes = true;
    else if (c == '(') { commentDepth = 1; continue; }
    else if (c == '<' && !inAngle) { inAngle = sawAngle = true; angle.clear(); continue; }
    else if (c == '>' && inAngle) { inAngle = false; continue; }
    else if ((c == ',' || c == ';') && !inAngle) { finish(); continue; }
    (inAngle ? angle : bare) += c;
  }
  finish();
  return out;
}

// RFC 822-style fields in a text ("Name: value" with continuation lines), grouped in blocks
// separated by blank lines.

// A line without its quote marks ("> ", "> > "; RFC 3676 4.5) and the one space after them.
std::string unquoted(const std::string& line) {
  size_t at = 0;
  while (at < line.size() && line[at] == '>') {
    ++at;
    if (at < line.size() && line[at] == ' ' && at + 1 < line.size() && line[at + 1] == '>') ++at;
  }
  if (at > 0 && at < line.size() && line[at] == ' ') ++at;
  return line.substr(at);
}

// Where the returned original message starts in a bounce's text.
size_t originalStart(const std::string& text) {
  static const std::vector<std::string> markers = {
      "------ this is a copy of the message", "--- below this line is a copy of the message",
      "----- original message -----",          "original message follows",
      "------ original message ------",        "-----original message-----",
      "--- the header of the original message", "----- transcript of session follows -----\n\n----- original",
      "content-type: message/rfc822",
      "------- returned message --------",     "--- message headers follow ---",
      "------ failed message ------",          "unsent message below",
      "----- the following addresses had permanent fatal errors -----\n\n----- original",
      // Exim's notices other than its MIME bounce ("------ This is a copy of your message,
      // including all the headers.", moan.c:356; "... of the headers that were received",
      // moan.c:377; autoreply.c:634-637) and Sendmail's without MIME ("----- Message header
      // follows -----", savemail.c:1325).
      "------ this is a copy of", "----- message header follows -----",
      // Exchange's notice: the returned message's header lines follow this heading (Microsoft's
      // "Email non-delivery reports in Exchange Online": an NDR's "Original message headers").
      "\noriginal message headers:"};
  const std::string l = asciiLower(text);
  size_t best = std::string::npos;
  for (const auto& m : markers) {
    auto p = l.find(m);
    if (p != std::string::npos && p < best) best = p;
  }
  // A pasted header block ("Received: from" / "Return-Path:" at the start of a line). In a bounce
  // someone forwarded every line carries quote marks, and the mail client's own summary of the
  // forwarded notice ("> Message-Id:", "> From:") comes first: there only the trace fields an MTA
  // adds to the returned message (RFC 5321 4.4) start it.
  // A Message-ID line starts it only inside a header block, beside another field of a message: a
  // notice's own summary names the message it returns ("Queue-ID: ...", "Message-ID: ...", MDaemon's).
  const auto fieldOfAMessage = [&l](size_t lineStart) {
    if (lineStart >= l.size()) return false;
    const std::string line = unquoted(l.substr(lineStart, 32));
    for (const char* f : {"from:", "to:", "cc:", "subject:", "date:", "received:", "return-path:", "mime-version:", "content-type:",
                          "reply-to:", "sender:", "in-reply-to:", "references:", "x-", "dkim-signature:", "thread-", "delivered-to:",
                          "list-", "importance:", "user-agent:"})
      if (line.rfind(f, 0) == 0) return true;
    return false;
  };
  for (size_t start = l.find('\n'); start != std::string::npos && start < best; start = l.find('\n', start + 1)) {
    const bool quoted = start + 1 < l.size() && l[start + 1] == '>';
    const std::string line = unquoted(l.substr(start + 1, 32));
    for (const char* h : {"return-path:", "received: from", "received: by ", "message-id:"})
      if (line.rfind(h, 0) == 0 && !(quoted && h[0] == 'm')) {
        if (h[0] == 'm') {
          const size_t next = l.find('\n', start + 1);
          const size_t previous = start == 0 ? std::string::npos : l.rfind('\n', start - 1);
          const bool besideAField = (next != std::string::npos && fieldOfAMessage(next + 1)) ||
                                    (previous != std::string::npos ? fieldOfAMessage(previous + 1) : fieldOfAMessage(0));
          if (!besideAField) break;
        }
        best = start;
        break;
      }
  }
  return best;
}

// A header line a notice quotes from the returned message whose value is free text (RFC 5322
// 3.6.5 "Subject:"; Exchange's "Thread-Topic:" beside it), after optional "> " quote marks and
// indentation (Exchange 2003's summary indents "  Subject: ..."). A field that opens its line
// also takes the lines folded under it (RFC 5322 2.2.3: they start with white space).
std::string withoutQuotedSubjects(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool folding = false;
  for (size_t start = 0; start < text.size();) {
    const size_t end = text.find('\n', start);
    const size_t next = end == std::string::npos ? text.size() : end + 1;
    const std::string line = text.substr(start, next - start);
    start = next;
    const std::string rest = unquoted(line);
    const bool indented = !rest.empty() && (rest[0] == ' ' || rest[0] == '\t');
    if (folding && indented && rest.find_first_not_of(" \t\r\n") != std::string::npos) continue;
    folding = false;
    const size_t body = rest.find_first_not_of(" \t");
    const std::string head = body == std::string::npos ? std::string() : asciiLower(rest.substr(body, 14));
    if (head.rfind("subject:", 0) == 0 || head.rfind("thread-topic:", 0) == 0) {
      folding = !indented;
      continue;
    }
    out += line;
  }
  return out;
}

// One line, single spaces: MTAs wrap their phrases across lines.
std::string collapse(const std::string& text) {
  std::string flat;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = true;
      continue;
    }
    if (space && !flat.empty()) flat += ' ';
    space = false;
    flat += c;
  }
  return flat;
}

// A block a relay or a filtering gateway appends to every message it passes ("This email has been
// scanned for all viruses by ..."), after a line of nothing but rule characters: not the failure's
// words, though it may hold some ("viruses", "blocked"). Dropped when it carries no reply code or
// status of its own, nor the failed recipient (`about`, when known) where the text above the rule
// does not: a block with either (a transcript below a rule, Exim's notice below a banner a gateway
// put above it) stays. (A footer naming the recipient below a notice that named it already, a
// company's "write to info@...", is a footer still.)
std::string withoutTrailingBanner(const std::string& text, const std::string& about) {
  static const Regex rule(R"((^|\n)[ \t]*[-_*=~#]{8,}[ \t]*(\r?\n|$))");
  static const Regex evidence(R"((^|[^\d.])([45]\d\d[ -]|[245]\.\d{1,3}\.\d{1,3}))");
  size_t last = std::string::npos;
  for (RegexIterator it(text.begin(), text.end(), rule), end; it != end; ++it)
    last = static_cast<size_t>(it->position(0));
  if (last == std::string::npos || last == 0) return text;
  const std::string before = text.substr(0, last);
  if (before.find_first_not_of(" \t\r\n") == std::string::npos) return text;
  if (std::regex_search(text.begin() + static_cast<std::ptrdiff_t>(last), text.end(), evidence)) return text;
  if (!about.empty()) {
    const std::vector<std::string> recipient{asciiLower(about)};
    if (!mentionsOf(asciiLower(text.substr(last)), recipient).empty() && mentionsOf(asciiLower(before), recipient).empty())
      return text;
  }
  return before;
}

// A bounce's own text, without the returned message (nor a banner appended below a rule), on one
// line (completeRecord bounds it at 2,000 characters).
std::string humanBeforeOriginal(const std::string& text, const std::string& about) {
  const size_t cut = originalStart(text);
  std::string flat =
      collapse(withoutTrailingBanner(withoutQuotedSubjects(cut == std::string::npos ? text : text.substr(0, cut)), about));
  return flat;  // completeRecord bounds it (kMaxDiagnostic)
}

std::vector<GeneratedEntry> eximGeneratedEntries(const std::string& text) {
  std::vector<GeneratedEntry> out;
  const std::string lower = asciiLower(text);
  if (lower.find("generated from") == std::string::npos) return out;
  // One '@' in the ancestor, and a short line: no backtracking over a hostile text.
  static const Regex generated(R"(^[ \t]+\((?:ultimately )?generated from ([^\s()<>@]+@[^\s()<>@]+)\)[ \t]*$)");
  std::istringstream in(lower);
  std::string previous;
  // The lines indented below an entry are its reason (deliver.c: the address at two spaces, the
  // rest at four), up to a blank line or the next address.
  auto indentOf = [](const std::string& l) { return l.find_first_not_of(" \t"); };
  size_t entryIndent = 0;
  bool collecting = false;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    line = unquoted(line);  // a notice forwarded inline keeps its layout behind "> "
    std::smatch m;
    if (line.size() < 400 && line.find("generated from") != std::string::npos && std::regex_match(line, m, generated)) {
      const std::string entry = trim(previous);
      const bool anAddress = entry.find('@') != std::string::npos && entry.find('@') == entry.rfind('@') &&
                             entry.find_first_of(" \t<>()\"") == std::string::npos;
      out.push_back({anAddress ? entry : std::string(), m[1].str(), ""});
      entryIndent = indentOf(previous);
      collecting = true;
    } else if (collecting) {
      const size_t indent = indentOf(line);
      if (indent == std::string::npos || indent <= entryIndent || out.back().words.size() > 2000) collecting = false;
      else out.back().words += (out.back().words.empty() ? "" : " ") + trim(line);
    }
    if (!trim(line).empty()) previous = line;
  }
  for (auto& e : out) e.words = collapse(e.words);
  return out;
}

}  // namespace safetynet::bounce
