// The characters of an address inside a text (address_chars.hpp).
#include "bounce/address_chars.hpp"

#include <cctype>

namespace safetynet::bounce {

// An address's characters (RFC 5322 atext and dots; a domain's letters, digits, hyphens and
// dots), and any byte of a UTF-8 sequence: RFC 6531 lets both parts hold UTF-8 (a U-label, a
// local part such as "jürgen"). Read as ASCII only, "jürgen@müller.example" was "rgen@m".
bool utf8Byte(char c) { return static_cast<unsigned char>(c) >= 0x80; }
bool localChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || utf8Byte(c) ||
         std::string_view("!#$%&'*+-/=?^_`{|}~.").find(c) != std::string_view::npos;
}
// Inside a domain's label also the underscore: RFC 5321 4.1.2's host names have none, but DNS
// holds any octet in a label (RFC 2181 11) and MTAs print the address as it was given.
// OpenSMTPD refuses "s.moreau@lumen_atelier.example" with "Invalid domain name" (mta.c), and
// the record must name that address, not "s.moreau@lumen". A label still opens and ends with a
// letter or digit (labelEdge), so a rule of underscores after a domain stays outside it.
bool domainChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || utf8Byte(c) || c == '-' || c == '.' || c == '_';
}
bool labelEdge(char c) { return std::isalnum(static_cast<unsigned char>(c)) || utf8Byte(c); }

// Punctuation and spaces outside ASCII: quotation marks, brackets, commas and stops of Latin-1,
// General Punctuation, CJK Symbols and Punctuation and the fullwidth forms. IDNA2008 leaves them
// out of every domain label (RFC 5892 2.1-2.2: only letters, digits and marks are PVALID), and a
// local part holding one is nothing a mail system hands out: around an address they are the
// sentence's, as ASCII quotes are. A notice saying 您发送到“li@globex.example”的邮件 (gromox's
// Chinese template) named the address "您发送到“li@globex.example”的邮件无法..." otherwise. Letters
// inside these blocks stay letters (ª µ º, 々 in 佐々木, 〆).
bool unicodePunctuation(char32_t cp) {
  // Not the middle dot (Catalan's "l·l": col·legi@escola.cat) nor the zero-width joiners, which
  // IDNA2008 allows in a label in context (RFC 5892 A.1-A.3): they join a word.
  if (cp == 0xB7 || cp == 0x200C || cp == 0x200D) return false;
  if (cp >= 0xA0 && cp <= 0xBF) return cp != 0xAA && cp != 0xB5 && cp != 0xBA;
  if (cp == 0xD7 || cp == 0xF7) return true;
  if (cp >= 0x2000 && cp <= 0x206F) return true;
  if (cp >= 0x3000 && cp <= 0x3004) return true;
  if (cp >= 0x3008 && cp <= 0x3020) return true;
  if (cp == 0x3030 || cp == 0x303D) return true;
  if (cp >= 0xFE30 && cp <= 0xFE6F) return true;
  return (cp >= 0xFF01 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) || (cp >= 0xFF3B && cp <= 0xFF40) ||
         (cp >= 0xFF5B && cp <= 0xFF65);
}

// The UTF-8 sequence starting at `from` in `s`: its code point and length. A byte that opens no
// valid sequence (Latin-1 text, a cut) is one character of its own, read as a letter as before.
std::pair<char32_t, size_t> utf8At(std::string_view s, size_t from) {
  const auto b = static_cast<unsigned char>(s[from]);
  const size_t n = b >= 0xC2 && b < 0xE0 ? 2 : b >= 0xE0 && b < 0xF0 ? 3 : b >= 0xF0 && b < 0xF5 ? 4 : 1;
  if (n == 1 || from + n > s.size()) return {b, 1};
  char32_t cp = b & (0x3F >> (n - 1));
  for (size_t i = 1; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[from + i]);
    if ((c & 0xC0) != 0x80) return {b, 1};
    cp = (cp << 6) | (c & 0x3F);
  }
  return {cp, n};
}

// How many bytes the character at `pos` takes if it can stand in an address's domain (or, for
// `local`, its local part); 0 if it cannot. Walking back, `localBefore` finds the sequence that
// ends just before `pos`.
size_t addressCharAt(std::string_view s, size_t pos, bool local) {
  if (pos >= s.size()) return 0;
  if (!utf8Byte(s[pos])) return (local ? localChar(s[pos]) : domainChar(s[pos])) ? 1 : 0;
  const auto [cp, n] = utf8At(s, pos);
  return n > 1 && unicodePunctuation(cp) ? 0 : n;
}
size_t localBefore(std::string_view s, size_t pos) {
  if (pos == 0) return 0;
  size_t from = pos - 1;
  while (from > 0 && pos - from < 4 && (static_cast<unsigned char>(s[from]) & 0xC0) == 0x80) --from;
  if (utf8At(s, from).second != pos - from) from = pos - 1;  // not one whole sequence: the last byte alone
  return addressCharAt(s, from, true) == pos - from ? pos - from : 0;
}

// How much of `d` (the text after an "@") is a domain: labels joined by dots, each opening and
// ending with a letter, digit or UTF-8 byte; at least `min_labels` of them. 0 if none.
// The last label is a top-level domain: either ASCII letters, digits and hyphens, or an IDN
// whose characters are all outside ASCII (the root zone holds no label that mixes them). One
// that opens in ASCII ends where the text turns to other letters: in Japanese or Chinese text an
// address runs into the sentence with no space ("Postmaster@dti.ne.jpまで返信をお願いします").
size_t domainLength(std::string_view d, size_t min_labels) {
  size_t end = 0, labels = 0, at = 0, lastLabel = 0;
  while (at < d.size()) {
    size_t stop = at;
    while (stop < d.size() && domainChar(d[stop]) && d[stop] != '.') ++stop;
    size_t last = stop;
    while (last > at && !labelEdge(d[last - 1])) --last;
    if (last == at || !labelEdge(d[at])) break;
    ++labels;
    end = last;
    lastLabel = at;
    if (last < stop || stop >= d.size() || d[stop] != '.') break;
    at = stop + 1;
  }
  if (labels == 0 || utf8Byte(d[lastLabel])) return labels >= min_labels ? end : 0;
  size_t ascii = lastLabel;
  while (ascii < end && !utf8Byte(d[ascii])) ++ascii;
  while (ascii > lastLabel && !std::isalnum(static_cast<unsigned char>(d[ascii - 1]))) --ascii;
  end = ascii;
  return labels >= min_labels ? end : 0;
}

std::pair<size_t, size_t> addressAround(const std::string& text, size_t at) {
  constexpr size_t kReach = 256;  // a local part has at most 64 octets, a domain 255 (RFC 5321 4.5.3.1)
  if (at >= text.size() || text[at] != '@') return {at, at};
  size_t begin = at;
  while (begin > 0 && at - begin < kReach)
    if (const size_t n = localBefore(text, begin); n > 0) begin -= n;
    else break;
  // A quotation mark opening the local part is the text's, not the address's: MMDF writes
  // "'kim@globex.test (host: globex.test) (queue: smtp)'" (rtn_proc.c), and prose quotes an
  // address as 'kim@globex.test'. RFC 5322's atext allows the apostrophe and the backtick, but
  // inside a local part ("o'brien"), not in front of it.
  while (begin < at && (text[begin] == '\'' || text[begin] == '`')) ++begin;
  const size_t domain = domainLength(std::string_view(text).substr(at + 1, kReach), 1);
  if (begin == at || domain == 0) return {at, at};
  return {begin, at + 1 + domain};
}

}  // namespace safetynet::bounce
