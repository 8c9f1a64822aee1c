// Reads every bounce of a corpus twice: as it is, and changed in a way no mail system gives a
// meaning to, and counts the files whose reading moves. A classifier that generalizes reads the
// same failure the same way however the notice travelled or whoever it was about; a reading that
// moves depends on something other than the failure (the evidence's length, the line ends, the
// address's own letters), and it moves on mail nobody has seen too. No label is used: any folder
// of messages will do (the corpora in ../shared/testdata, or an admin's own bounces).
//
// The changes:
// - crlf / lf: every line ended by CRLF, as the message travelled (RFC 5321 2.3.8) and as IMAP
//   clients and Windows tools save it; or by LF alone, as a Unix mail store keeps it.
// - base64 / quoted-printable / 8bit: every text part re-encoded (RFC 2045 6.1: the transfer
//   encoding is the transport's choice; Exchange and Gmail send bounce texts base64).
// - fieldcase: the report's field names in capitals (RFC 3464 2: field names are
//   case-insensitive, as RFC 5322 2.2 says of every header).
// - refold: each Diagnostic-Code unfolded and folded again at another place (RFC 5322 2.2.3).
// - fieldorder: the fields of each report block in reverse order (RFC 3464 gives them none).
// - fieldspace: no space after a report field's colon where there was one, two where there was
//   none (RFC 5322 2.2).
// - blockorder: a report's per-recipient blocks in reverse order (RFC 3464 2.3); the readings are
//   compared as a set.
// - mbox: the message kept as a one-message mbox, as a mail client or a spool saves it.
// - preamble / postamble: a neutral paragraph of the site's own before or after the first text
//   part's words.
// - helpbefore / helpafter: a paragraph of the site's own naming its help desk's address in its
//   own words (Postfix's bounce(5) lets a site rewrite "For further assistance, please send mail
//   to postmaster."): an address the notice is not about (issue 13 item 4), named in passing.
// - domaincase: every address's domain in capitals (RFC 5321 2.4), recipients compared lowered.
// - rename: each address's local part replaced by a made-up one, the same everywhere in the file
//   (the recipient "does-not-exist@" is a label, not a reply); the readings are compared with the
//   recipients mapped back.
// - repsubject / repbody: the returned message (a message/rfc822 part; its headers in a
//   text/rfc822-headers part, or quoted in the notice's text from its trace fields) with a sales subject, or a sales paragraph first in its text, in
//   words bounces also use ("undelivered", "blocked", "full", "user unknown", "550 Main Street",
//   a colleague's address): the rep's words, never the failure's.
//
// Usage: eval-bounce-invariance DIR... [--verbose] [--max-moved N] [--show CHANGE]
//   DIR: a folder of messages (or a corpus folder holding emails/); a file is read alone.
//   --show CHANGE: print each message as the change leaves it instead (to see what it does).
//   --max-moved N: exit 1 when more than N files move under any change (a CI ceiling).
#include <gmime/gmime.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "safetynet/bounce/bounce.hpp"

namespace fs = std::filesystem;
namespace b = safetynet::bounce;

namespace {

std::string readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A changed message, or nothing when the change does not apply to this one.
using Change = std::function<std::optional<std::string>(const std::string&, std::map<std::string, std::string>&)>;

// Every line ended by LF alone, as a Unix mail store keeps a message that arrived with CRLF.
std::optional<std::string> lf(const std::string& raw, std::map<std::string, std::string>&) {
  if (raw.find('\r') == std::string::npos) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i)
    if (!(raw[i] == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n')) out += raw[i];
  return out;
}

std::optional<std::string> crlf(const std::string& raw, std::map<std::string, std::string>&) {
  std::string out;
  out.reserve(raw.size() + raw.size() / 40);
  for (char c : raw) {
    if (c == '\r') continue;
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

// The message parsed by GMime, changed by `change` (which says whether it changed anything), and
// written out; nothing when it did not parse or nothing changed.
std::optional<std::string> rewritten(const std::string& raw, const std::function<bool(GMimeMessage*)>& change) {
  GMimeStream* stream = g_mime_stream_mem_new_with_buffer(raw.data(), raw.size());
  GMimeParser* parser = g_mime_parser_new_with_stream(stream);
  GMimeMessage* message = g_mime_parser_construct_message(parser, nullptr);
  g_object_unref(parser);
  g_object_unref(stream);
  if (!message) return std::nullopt;
  std::optional<std::string> out;
  if (change(message)) {
    char* text = g_mime_object_to_string(GMIME_OBJECT(message), nullptr);
    if (text) out = text;
    g_free(text);
  }
  g_object_unref(message);
  return out;
}

// Every leaf text part of the message's own tree (not the returned message's) with the given
// transfer encoding, written out by GMime.
std::optional<std::string> reencode(const std::string& raw, GMimeContentEncoding encoding) {
  return rewritten(raw, [encoding](GMimeMessage* message) {
    struct Walk {
      GMimeContentEncoding encoding;
      int changed = 0;
    } walk{encoding};
    g_mime_message_foreach(
        message,
        [](GMimeObject*, GMimeObject* part, gpointer data) {
          auto* w = static_cast<Walk*>(data);
          if (!GMIME_IS_PART(part)) return;
          GMimeContentType* type = g_mime_object_get_content_type(part);
          if (type && g_mime_content_type_is_type(type, "text", "*")) {
            g_mime_part_set_content_encoding(GMIME_PART(part), w->encoding);
            ++w->changed;
          }
        },
        &walk);
    return walk.changed > 0;
  });
}

// A paragraph of the sending site's own before (or after) the first text part's words (a site's
// template adds one: a language line, a note on what the notice is). It says nothing of the failure.
constexpr const char* kNeutralParagraph =
    "This notice was written by the mail system of the sending site. Please keep it for your own files.";
// The same, naming the site's help desk (a domain of its own, in no corpus message).
constexpr const char* kHelpDeskParagraph =
    "Questions about this notice? Write to our help desk at care@helpdesk-of-the-site.example and quote it whole.";

std::optional<std::string> siteParagraph(const std::string& raw, bool after, const char* words = kNeutralParagraph) {
  return rewritten(raw, [after, words](GMimeMessage* message) {
    struct Walk {
      bool after;
      std::string words;
      bool changed = false;
    } walk{after, words};
    g_mime_message_foreach(
        message,
        [](GMimeObject*, GMimeObject* part, gpointer data) {
          auto* w = static_cast<Walk*>(data);
          if (w->changed || !GMIME_IS_TEXT_PART(part)) return;
          GMimeContentType* type = g_mime_object_get_content_type(part);
          if (!type || !g_mime_content_type_is_type(type, "text", "plain")) return;
          char* text = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
          const std::string was = text ? text : "";
          g_free(text);
          const std::string now = w->after ? was + "\n\n" + w->words + "\n" : w->words + "\n\n" + was;
          g_mime_text_part_set_text(GMIME_TEXT_PART(part), now.c_str());
          w->changed = true;
        },
        &walk);
    return walk.changed;
  });
}

// The returned message is the rep's own: a sales email, whose words are the rep's, never the
// failure's (a reply to it is the one thing a bounce is about). Its subject and its first text
// part get words bounces also use, as a sales email may ("undelivered", "blocked", "full",
// a street number and a phone number that read like reply codes, a colleague's address).
constexpr const char* kRepSubject = "Re: Undelivered invoices, blocked payments and a full inbox? 15 minutes next week";
constexpr const char* kRepParagraph =
    "Hi,\n\nOur office has moved to 550 Main Street (call 554-0142). If your mailbox is full of spam and your "
    "team keeps getting user unknown and blocked-delivery errors, we fix that: my colleague "
    "jane.doe@vendor-of-the-rep.example can show you in 15 minutes. Reply STOP to unsubscribe.";

// Replaces the value of a header block's Subject field (with its folded lines); nothing when the
// block has none.
std::optional<std::string> withSubject(const std::string& block, const std::string& subject) {
  const std::string lb = lower(block);
  size_t at = lb.rfind("subject:", 0) == 0 ? 0 : lb.find("\nsubject:");
  if (at == std::string::npos) return std::nullopt;
  if (lb[at] == '\n') ++at;
  size_t end = block.find('\n', at);
  while (end != std::string::npos && end + 1 < block.size() && (block[end + 1] == ' ' || block[end + 1] == '\t'))
    end = block.find('\n', end + 1);
  const bool cr = end != std::string::npos && end > at && block[end - 1] == '\r';
  return block.substr(0, at) + "Subject: " + subject + (cr ? "\r" : "") +
         (end == std::string::npos ? std::string() : block.substr(end));
}

// The returned message (a message/rfc822 part, or its headers in text/rfc822-headers) changed:
// its subject (`subject`) or its first text part's words (a sales paragraph put first).
std::optional<std::string> repMessage(const std::string& raw, bool subject) {
  return rewritten(raw, [subject](GMimeMessage* message) {
    struct Walk {
      bool subject;
      bool changed = false;
    } walk{subject};
    g_mime_message_foreach(
        message,
        [](GMimeObject*, GMimeObject* part, gpointer data) {
          auto* w = static_cast<Walk*>(data);
          if (GMIME_IS_MESSAGE_PART(part)) {
            GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(part));
            if (!inner) return;
            if (w->subject) {
              g_mime_message_set_subject(inner, kRepSubject, "utf-8");
              w->changed = true;
              return;
            }
            struct Body {
              bool changed = false;
            } body;
            g_mime_message_foreach(
                inner,
                [](GMimeObject*, GMimeObject* p, gpointer d) {
                  auto* b = static_cast<Body*>(d);
                  if (b->changed || !GMIME_IS_TEXT_PART(p)) return;
                  GMimeContentType* type = g_mime_object_get_content_type(p);
                  if (!type || !g_mime_content_type_is_type(type, "text", "plain")) return;
                  char* text = g_mime_text_part_get_text(GMIME_TEXT_PART(p));
                  const std::string was = text ? text : "";
                  g_free(text);
                  g_mime_text_part_set_text(GMIME_TEXT_PART(p), (std::string(kRepParagraph) + "\n\n" + was).c_str());
                  b->changed = true;
                },
                &body);
            w->changed = w->changed || body.changed;
            return;
          }
          if (!w->subject || !GMIME_IS_TEXT_PART(part)) return;
          GMimeContentType* type = g_mime_object_get_content_type(part);
          if (!type) return;
          const bool headers = g_mime_content_type_is_type(type, "text", "rfc822-headers");
          if (!headers && !g_mime_content_type_is_type(type, "text", "plain")) return;
          char* text = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
          const std::string was = text ? text : "";
          g_free(text);
          // In a notice's text, the returned message quoted inline starts at its trace fields
          // (RFC 5321 4.4: Return-Path, Received); the Subject after them is its own.
          size_t from = 0;
          if (!headers) {
            const std::string lw = lower(was);
            from = std::min(lw.find("\nreturn-path:"), lw.find("\nreceived:"));
            if (from == std::string::npos) return;
          }
          // Only in that header block: to its first blank line.
          size_t end = was.find("\n\n", from + 1);
          if (const size_t crEnd = was.find("\n\r\n", from + 1); crEnd < end) end = crEnd;
          if (end == std::string::npos) end = was.size();
          if (auto block = withSubject(was.substr(from, end - from), kRepSubject)) {
            const std::string now = was.substr(0, from) + *block + was.substr(end);
            g_mime_text_part_set_text(GMIME_TEXT_PART(part), now.c_str());
            w->changed = true;
          }
        },
        &walk);
    return walk.changed;
  });
}

// Each line starting with one of the report's field names, the name in capitals.
std::optional<std::string> fieldCase(const std::string& raw, std::map<std::string, std::string>&) {
  static const std::vector<std::string> names = {"final-recipient:", "original-recipient:", "action:", "status:",
                                                 "diagnostic-code:", "remote-mta:", "reporting-mta:"};
  std::string out = raw;
  bool changed = false;
  for (size_t start = 0; start < out.size();) {
    for (const auto& n : names)
      if (lower(out.substr(start, n.size())) == n) {
        for (size_t i = start; i < start + n.size(); ++i) out[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[i])));
        changed = true;
        break;
      }
    const size_t nl = out.find('\n', start);
    start = nl == std::string::npos ? out.size() : nl + 1;
  }
  if (!changed) return std::nullopt;
  return out;
}

// Each Diagnostic-Code field unfolded, then folded at the first space after column 30.
std::optional<std::string> refold(const std::string& raw, std::map<std::string, std::string>&) {
  std::string out;
  bool changed = false;
  for (size_t start = 0; start < raw.size();) {
    size_t nl = raw.find('\n', start);
    size_t next = nl == std::string::npos ? raw.size() : nl + 1;
    std::string line = raw.substr(start, next - start);
    start = next;
    if (lower(line.substr(0, 16)) != "diagnostic-code:") {
      out += line;
      continue;
    }
    std::string field = line.substr(0, line.find_last_not_of("\r\n") + 1);
    while (start < raw.size() && (raw[start] == ' ' || raw[start] == '\t')) {  // its folded lines
      nl = raw.find('\n', start);
      next = nl == std::string::npos ? raw.size() : nl + 1;
      std::string more = raw.substr(start, next - start);
      start = next;
      const size_t b = more.find_first_not_of(" \t"), e = more.find_last_not_of(" \t\r\n");
      if (b != std::string::npos && e != std::string::npos && e >= b) field += " " + more.substr(b, e - b + 1);
    }
    const size_t at = field.find(' ', 30);
    if (at != std::string::npos && at + 1 < field.size()) {
      field = field.substr(0, at) + "\n\t" + field.substr(at + 1);
      changed = true;
    }
    out += field + "\n";
  }
  if (!changed) return std::nullopt;
  return out;
}

// Within each block of report fields (the lines between blank lines that hold a Final-Recipient
// or a Reporting-MTA), the fields in reverse order, each with its folded lines: RFC 3464 2.2 and
// 2.3 give the fields no order.
std::optional<std::string> fieldOrder(const std::string& raw, std::map<std::string, std::string>&) {
  std::vector<std::string> lines;
  for (size_t start = 0; start < raw.size();) {
    const size_t nl = raw.find('\n', start);
    const size_t next = nl == std::string::npos ? raw.size() : nl + 1;
    lines.push_back(raw.substr(start, next - start));
    start = next;
  }
  auto blank = [](const std::string& l) { return l.find_first_not_of(" \t\r\n") == std::string::npos; };
  std::string out;
  bool changed = false;
  for (size_t i = 0; i < lines.size();) {
    if (blank(lines[i])) {
      out += lines[i++];
      continue;
    }
    size_t j = i;
    while (j < lines.size() && !blank(lines[j])) ++j;
    std::vector<std::string> fields;  // each with its folded lines
    bool report = false, shaped = true;
    for (size_t k = i; k < j; ++k) {
      const std::string& l = lines[k];
      if ((l[0] == ' ' || l[0] == '\t') && !fields.empty()) {
        fields.back() += l;
        continue;
      }
      const size_t colon = l.find(':');
      if (colon == std::string::npos || colon == 0 || l.find(' ') < colon) shaped = false;
      const std::string name = lower(l.substr(0, colon));
      report = report || name == "final-recipient" || name == "reporting-mta";
      fields.push_back(l);
    }
    if (report && shaped && fields.size() > 1) {
      if (fields.back().back() != '\n') fields.back() += '\n';
      std::reverse(fields.begin(), fields.end());
      changed = true;
    }
    for (const auto& f : fields) out += f;
    i = j;
  }
  if (!changed) return std::nullopt;
  return out;
}

// The message cut into blank-line separated groups of lines (each group with the blank lines
// after it), and whether a group is a block of report fields holding one of the given names.
std::vector<std::string> groupsOf(const std::string& raw) {
  std::vector<std::string> groups(1);
  bool inBlank = false;
  for (size_t start = 0; start < raw.size();) {
    const size_t nl = raw.find('\n', start);
    const size_t next = nl == std::string::npos ? raw.size() : nl + 1;
    const std::string line = raw.substr(start, next - start);
    start = next;
    const bool blank = line.find_first_not_of(" \t\r\n") == std::string::npos;
    if (!blank && inBlank) groups.emplace_back();
    inBlank = blank;
    groups.back() += line;
  }
  return groups;
}

bool reportBlock(const std::string& group, const std::vector<std::string>& names) {
  bool named = false;
  for (size_t start = 0; start < group.size();) {
    const size_t nl = group.find('\n', start);
    const size_t next = nl == std::string::npos ? group.size() : nl + 1;
    const std::string line = group.substr(start, next - start);
    start = next;
    if (line.find_first_not_of(" \t\r\n") == std::string::npos || line[0] == ' ' || line[0] == '\t') continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos || colon == 0 || line.find(' ') < colon) return false;
    named = named || std::find(names.begin(), names.end(), lower(line.substr(0, colon))) != names.end();
  }
  return named;
}

// Each run of a report's per-recipient blocks (consecutive blocks of fields holding a
// Final-Recipient) in reverse order: RFC 3464 2.3 gives them none, and each recipient's reading
// comes from its own block.
std::optional<std::string> blockOrder(const std::string& raw, std::map<std::string, std::string>&) {
  auto groups = groupsOf(raw);
  bool changed = false;
  for (size_t i = 0; i < groups.size();) {
    size_t j = i;
    while (j < groups.size() && reportBlock(groups[j], {"final-recipient"})) ++j;
    if (j - i > 1) {
      // The blank lines stay where they were: only the blocks' own lines move.
      std::vector<std::string> bodies, gaps;
      for (size_t k = i; k < j; ++k) {
        const size_t end = groups[k].find("\n\n") == std::string::npos ? groups[k].size() : groups[k].find("\n\n") + 1;
        bodies.push_back(groups[k].substr(0, end));
        gaps.push_back(groups[k].substr(end));
      }
      std::reverse(bodies.begin(), bodies.end());
      for (size_t k = i; k < j; ++k) groups[k] = bodies[k - i] + gaps[k - i];
      changed = true;
    }
    i = std::max(j, i + 1);
  }
  if (!changed) return std::nullopt;
  std::string out;
  for (const auto& g : groups) out += g;
  return out;
}

// Each report field's value with no space after its colon, or two where it had none ("Status:
// 5.1.1", "Status:5.1.1": RFC 5322 2.2 lets the field body start at once or after white space).
std::optional<std::string> fieldSpace(const std::string& raw, std::map<std::string, std::string>&) {
  static const std::vector<std::string> names = {"final-recipient:", "action:", "status:", "diagnostic-code:",
                                                 "remote-mta:", "reporting-mta:"};
  std::string out;
  bool changed = false;
  for (size_t start = 0; start < raw.size();) {
    const size_t nl = raw.find('\n', start);
    const size_t next = nl == std::string::npos ? raw.size() : nl + 1;
    std::string line = raw.substr(start, next - start);
    start = next;
    for (const auto& n : names)
      if (lower(line.substr(0, n.size())) == n) {
        const size_t value = line.find_first_not_of(" \t", n.size());
        line = line.substr(0, n.size()) + (value == n.size() ? "  " : "") + line.substr(value == std::string::npos ? line.size() : value);
        changed = true;
        break;
      }
    out += line;
  }
  if (!changed) return std::nullopt;
  return out;
}

// The message as a mail client or a spool keeps it: an mbox with one message (a "From " line
// first, a body line starting with "From " quoted with ">").
std::optional<std::string> mbox(const std::string& raw, std::map<std::string, std::string>&) {
  if (raw.rfind("From ", 0) == 0) return std::nullopt;  // an mbox already
  std::string out = "From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n";
  for (size_t start = 0; start < raw.size();) {
    const size_t nl = raw.find('\n', start);
    const size_t next = nl == std::string::npos ? raw.size() : nl + 1;
    if (raw.compare(start, 5, "From ") == 0) out += '>';
    out += raw.substr(start, next - start);
    start = next;
  }
  return out;
}

bool localChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

// Every address's domain in capitals (RFC 5321 2.4: domain names are case-insensitive).
std::optional<std::string> domainCase(const std::string& raw, std::map<std::string, std::string>&) {
  std::string out = raw;
  bool changed = false;
  for (size_t at = out.find('@'); at != std::string::npos; at = out.find('@', at + 1)) {
    if (at == 0 || !localChar(out[at - 1])) continue;
    size_t end = at + 1;
    while (end < out.size() && (std::isalnum(static_cast<unsigned char>(out[end])) || out[end] == '-' || out[end] == '.')) ++end;
    if (out.substr(at + 1, end - at - 1).find('.') == std::string::npos) continue;
    for (size_t i = at + 1; i < end; ++i) out[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[i])));
    changed = true;
  }
  if (!changed) return std::nullopt;
  return out;
}

// Each address's local part (before an "@" followed by a dotted domain) replaced by "zqNx",
// consistently and whatever its case; the daemon's own (mailer-daemon, postmaster) are kept, as a
// reply code written against an address ("550-kim@") is.
std::optional<std::string> renameLocalParts(const std::string& raw, std::map<std::string, std::string>& mapping) {
  std::map<std::string, std::string> names;  // lowered local part -> new one
  std::string out;
  size_t copied = 0;
  for (size_t at = raw.find('@'); at != std::string::npos; at = raw.find('@', at + 1)) {
    size_t begin = at;
    while (begin > copied && localChar(raw[begin - 1])) --begin;
    // "550-kim@...": the reply code and its hyphen are not the local part.
    if (at - begin > 4 && std::isdigit(static_cast<unsigned char>(raw[begin])) && raw[begin + 3] == '-' &&
        std::all_of(raw.begin() + static_cast<long>(begin), raw.begin() + static_cast<long>(begin) + 3, ::isdigit))
      begin += 4;
    size_t end = at + 1;
    while (end < raw.size() && (std::isalnum(static_cast<unsigned char>(raw[end])) || raw[end] == '-' || raw[end] == '.')) ++end;
    while (end > at + 1 && raw[end - 1] == '.') --end;  // "kim@globex.test." ends a sentence
    const std::string domain = raw.substr(at + 1, end - at - 1);
    if (begin == at || domain.find('.') == std::string::npos) continue;
    const std::string local = lower(raw.substr(begin, at - begin));
    if (local == "mailer-daemon" || local == "postmaster") continue;
    auto [it, fresh] = names.emplace(local, "zq" + std::to_string(names.size()) + "x");
    out += raw.substr(copied, begin - copied) + it->second;
    copied = at;
    mapping[lower(it->second + "@" + domain)] = lower(local + "@" + domain);
  }
  if (names.empty()) return std::nullopt;
  out += raw.substr(copied);
  return out;
}

struct Reading {
  std::string recipient, reason, status, action;
  bool hard = false;
  bool operator==(const Reading&) const = default;
};

// The readings in a stable order (a report names its recipients in any order).
std::vector<Reading> read(const std::string& raw, const std::map<std::string, std::string>& back = {}) {
  std::vector<Reading> out;
  for (const auto& r : b::classify(raw).records) {
    const auto it = back.find(lower(r.recipient));
    out.push_back(Reading{it == back.end() ? lower(r.recipient) : it->second, r.reason, r.status, r.action, r.hard});
  }
  std::sort(out.begin(), out.end(), [](const Reading& a, const Reading& b) {
    return std::tie(a.recipient, a.reason, a.status, a.action, a.hard) < std::tie(b.recipient, b.reason, b.status, b.action, b.hard);
  });
  return out;
}

std::string shown(const std::vector<Reading>& rs) {
  if (rs.empty()) return "nothing";
  std::string s;
  for (const auto& r : rs) s += (s.empty() ? "" : "; ") + r.recipient + " " + r.reason + " " + r.status + (r.hard ? " HARD" : "");
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<fs::path> dirs;
  bool verbose = false;
  int maxMoved = -1;
  std::string show;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--verbose") verbose = true;
    else if (a == "--max-moved" && i + 1 < argc) maxMoved = std::atoi(argv[++i]);
    else if (a == "--show" && i + 1 < argc) show = argv[++i];
    else if (a.rfind("--", 0) != 0) dirs.emplace_back(a);
    else {
      std::cerr << "usage: eval-bounce-invariance DIR... [--verbose] [--max-moved N] [--show CHANGE]\n";
      return 2;
    }
  }
  if (dirs.empty()) {
    std::cerr << "usage: eval-bounce-invariance DIR... [--verbose] [--max-moved N]\n";
    return 2;
  }
  g_mime_init();
  const std::vector<std::pair<std::string, Change>> changes = {
      {"crlf", crlf},
      {"lf", lf},
      {"base64", [](const std::string& raw, std::map<std::string, std::string>&) { return reencode(raw, GMIME_CONTENT_ENCODING_BASE64); }},
      {"quoted-printable", [](const std::string& raw, std::map<std::string, std::string>&) { return reencode(raw, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE); }},
      {"8bit", [](const std::string& raw, std::map<std::string, std::string>&) { return reencode(raw, GMIME_CONTENT_ENCODING_8BIT); }},
      {"fieldcase", fieldCase},
      {"refold", refold},
      {"fieldorder", fieldOrder},
      {"fieldspace", fieldSpace},
      {"blockorder", blockOrder},
      {"mbox", mbox},
      {"preamble", [](const std::string& raw, std::map<std::string, std::string>&) { return siteParagraph(raw, false); }},
      {"postamble", [](const std::string& raw, std::map<std::string, std::string>&) { return siteParagraph(raw, true); }},
      {"helpbefore", [](const std::string& raw, std::map<std::string, std::string>&) { return siteParagraph(raw, false, kHelpDeskParagraph); }},
      {"helpafter", [](const std::string& raw, std::map<std::string, std::string>&) { return siteParagraph(raw, true, kHelpDeskParagraph); }},
      {"domaincase", domainCase},
      {"rename", renameLocalParts},
      {"repsubject", [](const std::string& raw, std::map<std::string, std::string>&) { return repMessage(raw, true); }},
      {"repbody", [](const std::string& raw, std::map<std::string, std::string>&) { return repMessage(raw, false); }},
  };
  if (!show.empty() && std::none_of(changes.begin(), changes.end(), [&](const auto& c) { return c.first == show; })) {
    std::cerr << "eval-bounce-invariance: no such change " << show << "\n";
    return 2;
  }
  int rc = 0;
  for (fs::path dir : dirs) {
    if (fs::is_directory(dir / "emails")) dir /= "emails";
    std::vector<fs::path> files;
    if (fs::is_regular_file(dir)) files.push_back(dir);
    else
      for (const auto& e : fs::directory_iterator(dir))
        if (e.is_regular_file()) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    if (!show.empty()) {
      for (const auto& f : files)
        for (const auto& [name, change] : changes) {
          std::map<std::string, std::string> back;
          if (name != show) continue;
          if (auto changed = change(readFile(f), back)) std::cout << *changed;
        }
      continue;
    }
    std::cout << "\n" << dir.string() << ": " << files.size() << " messages\n\n"
              << "| change | messages it applies to | readings that move |\n|---|---|---|\n";
    std::map<std::string, std::vector<std::string>> moved;
    std::map<std::string, int> applied;
    for (const auto& f : files) {
      const std::string raw = readFile(f);
      const auto before = read(raw);
      for (const auto& [name, change] : changes) {
        std::map<std::string, std::string> back;
        const auto changed = change(raw, back);
        if (!changed) continue;
        ++applied[name];
        const auto after = read(*changed, back);
        if (after != before) moved[name].push_back(f.filename().string() + ": " + shown(before) + " -> " + shown(after));
      }
    }
    for (const auto& [name, change] : changes) {
      const int n = static_cast<int>(moved[name].size());
      std::cout << "| " << name << " | " << applied[name] << " | " << n << " |\n";
      if (maxMoved >= 0 && n > maxMoved) rc = 1;
    }
    if (verbose)
      for (const auto& [name, lines] : moved)
        for (const auto& l : lines) std::cout << name << " " << l << "\n";
  }
  if (rc) std::cout << "\nover the ceiling: more than " << maxMoved << " messages moved under a change\n";
  return rc;
}
