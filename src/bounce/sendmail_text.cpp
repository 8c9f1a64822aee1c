// Sendmail's text notice: see sendmail_text.hpp.
#include "bounce/sendmail_text.hpp"

#include <algorithm>
#include "bounce/regex.hpp"
#include <sstream>

#include "bounce/bounce_text.hpp"
#include "bounce/reason.hpp"
#include "safetynet/core/text.hpp"

namespace safetynet::bounce {

// `lh` is `human` lower-cased, done once per notice by the caller.
SendmailVerdict sendmailVerdict(const std::string& human, const std::string& lh, const std::string& recipient) {
  // Most notices have no such line for the address: no regex over every line then (it ran for
  // every candidate and every record, most of a long notice's reading time).
  if (lh.find("<" + recipient + ">... ") == std::string::npos) return {};
  std::string sessionReply;
  size_t sessionStart = 0;  // where this session's transcript begins in `human`
  // A failure's line carries its reply code; a deferral's is "<a@b>... Deferred: 451 ..." (the
  // message giveresponse() copies into the transcript for EX_TEMPFAIL, deliver.c:5200-5205).
  static const Regex verdictLine(R"(^\s*(?:[45]\d\d |(?=<[^>]+>\.\.\. deferred))<([^>]+)>\.\.\. )", Regex::icase);
  for (size_t next = 0; next < human.size();) {
    const size_t lineStart = next;
    const size_t nl = human.find('\n', lineStart);
    std::string line = human.substr(lineStart, nl == std::string::npos ? std::string::npos : nl - lineStart);
    next = nl == std::string::npos ? human.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string ll = asciiLower(line);
    if (contains(ll, "while talking to ")) {
      sessionReply.clear();
      sessionStart = lineStart;
      continue;
    }
    if (ll.rfind(">>> ", 0) == 0) continue;
    if (ll.rfind("<<< ", 0) == 0) {
      if (sessionReply.empty() && ll.size() > 4 && (ll[4] == '4' || ll[4] == '5')) sessionReply = line.substr(4);
      continue;
    }
    std::smatch m;
    if (!std::regex_search(line, m, verdictLine) || asciiLower(m[1].str()) != recipient) continue;
    // Sendmail's own exit texts ("Remote protocol error", EX_PROTOCOL: rule sendmail-remote-protocol-error)
    // say only that the remote's answer was unexpected: its reply names the cause.
    const std::string own = reasonFromText(line.substr(static_cast<size_t>(m.length(0))));
    // The command that reply answered, read from the whole session as findCommand reads any
    // transcript (a reply after ">>> DATA" that another follows answered a pipelined RCPT).
    if ((own.empty() || own == "systemerror") && !sessionReply.empty())
      return {sessionReply + "\n" + line, findCommand(human.substr(sessionStart))};
    return {line, ""};
  }
  return {};
}

namespace {

// The line opening the transcript's session ("... while talking to mx.b.:") whose commands or
// replies name the recipient, with its newline; "" when none does.
std::string sendmailSessionLine(const std::string& human, const std::string& lh, const std::string& recipient) {
  const std::string named = "<" + recipient + ">";
  for (size_t at = lh.find("while talking to "); at != std::string::npos;) {
    const size_t lineStart = lh.rfind('\n', at) == std::string::npos ? 0 : lh.rfind('\n', at) + 1;
    const size_t lineEnd = std::min(lh.find('\n', at), lh.size());
    const size_t next = lh.find("while talking to ", lineEnd);
    const size_t sessionEnd = std::min({next, lh.find("\n\n", lineEnd), lh.size()});
    if (lh.substr(lineEnd, sessionEnd - lineEnd).find(named) != std::string::npos)
      return human.substr(lineStart, lineEnd - lineStart) + "\n";
    at = next;
  }
  return {};
}

}  // namespace

// The recipient's lines of Sendmail's transcript: the session's opening line ("... while talking
// to mx.b.:") where its commands or replies name it, and the replies and verdicts that do ("<<< 550
// 5.1.2 <a@b>... Host unknown", "550 5.1.2 <a@b>... Host unknown"), each with its newline.
std::string sendmailTranscriptLines(const std::string& human, const std::string& lh, const std::string& recipient) {
  std::string out = sendmailSessionLine(human, lh, recipient);
  const std::string named = "<" + recipient + ">...";
  for (size_t at = lh.find(named); at != std::string::npos; at = lh.find(named, at + 1)) {
    const size_t lineStart = lh.rfind('\n', at) == std::string::npos ? 0 : lh.rfind('\n', at) + 1;
    const size_t lineEnd = std::min(lh.find('\n', at), lh.size());
    if (lh.compare(lineStart, 4, ">>> ") != 0) out += human.substr(lineStart, lineEnd - lineStart) + "\n";
    at = lineEnd;
  }
  return out;
}

std::string sendmailWholeReply(const std::string& human, const std::string& diagnostic) {
  const std::string first = trim(diagnostic);
  const auto replyLine = [&](const std::string& l) {  // "NNN-..." or "NNN ..." of the same code
    return l.size() >= 4 && l.compare(0, 3, first, 0, 3) == 0 && (l[3] == '-' || l[3] == ' ');
  };
  if (first.size() < 4 || first[3] != '-' || !std::all_of(first.begin(), first.begin() + 3, [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) != 0;
      }))
    return diagnostic;
  std::istringstream in(human);
  std::string line, whole;
  while (std::getline(in, line)) {
    const size_t at = line.find("<<< ");
    const std::string reply = at == std::string::npos ? std::string() : trim(line.substr(at + 4));
    if (whole.empty()) {
      if (reply == first) whole = first;
      continue;
    }
    if (!replyLine(reply)) break;
    whole += " " + reply;
    if (reply[3] == ' ') return whole;  // the reply's last line
  }
  return diagnostic;
}

std::string sendmailNameServerLine(const std::string& human, const std::string& recipient) {
  std::istringstream in(human);
  // One line for all the recipients of a connection: "<a@b>,<c@d>... Host unknown (Name server:
  // relay: host not found)" (Sendmail names e_to, the addresses it was sending to at once).
  const std::string named = "<" + asciiLower(recipient) + ">";
  for (std::string line; std::getline(in, line);) {
    const std::string ll = asciiLower(line);
    const size_t dots = ll.find(">... ");
    if (dots == std::string::npos || !contains(ll, "(name server: ") || ll.rfind("<<< ", 0) == 0) continue;
    const std::string addresses = ll.substr(0, dots + 1);
    if (const size_t at = addresses.find(named);
        at != std::string::npos && (at + named.size() == addresses.size() || addresses[at + named.size()] == ','))
      return trim(line);
  }
  return {};
}

std::string nameServerHost(const std::string& line) {
  static const Regex re(R"(\(name server: ([^\s:()]+): host not found\))", Regex::icase);
  std::smatch m;
  if (!std::regex_search(line, m, re)) return {};
  std::string host = asciiLower(m[1].str());
  if (!host.empty() && host.back() == '.') host.pop_back();  // a SMART_HOST written with its root dot
  return host;
}

// Sendmail's failure list puts the address on a line of its own and under it, indented,
// "    (reason: ...)" and "    (expanded from: <alias>)" (savemail.c:975-995): the alias, or "".
std::string sendmailExpandedFrom(const std::string& lowerText, const std::string& recipient) {
  if (!contains(lowerText, "(expanded from:")) return {};
  static const Regex entry(R"((?:^|\n)[ \t]*<?([^\s<>]+@[^\s<>]+)>?[ \t]*((?:\n[ \t]+\([^\n]*)*))");
  static const Regex expanded(R"(\n[ \t]+\(expanded from: <?([^\s<>()]+@[^\s<>()]+)>?\))");
  for (RegexIterator it(lowerText.begin(), lowerText.end(), entry), end; it != end; ++it) {
    if ((*it)[1].str() != recipient) continue;
    std::smatch m;
    const std::string under = (*it)[2].str();
    if (std::regex_search(under, m, expanded) && m[1].str() != recipient) return m[1].str();
  }
  return {};
}

std::vector<SectionHeading> sectionHeadings(const std::string& lh) {
  std::vector<SectionHeading> out;
  if (!contains(lh, "-----")) return out;
  static const Regex heading(R"((?:^|\n)([ \t]*-{3,}[ \t]*[a-z][^\n]*-{3,})[ \t\r]*(?=\n|$))");
  for (RegexIterator it(lh.begin(), lh.end(), heading), end; it != end; ++it)
    out.push_back({static_cast<size_t>(it->position(1)), (*it)[1].str()});
  return out;
}

}  // namespace safetynet::bounce
