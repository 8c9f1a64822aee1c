// The human text of MTAs that send no delivery-status report (Exim, qmail, Gmail, Exchange 2003,
// Zoho, old Sendmail transcripts...): the failed recipients and each one's part of the text.
#include "bounce/text_reader.hpp"

#include <algorithm>
#include <cctype>
#include <deque>
#include <map>
#include <optional>
#include "bounce/regex.hpp"
#include <set>
#include <sstream>

#include "bounce/bounce_text.hpp"
#include "bounce/reason.hpp"
#include "bounce/record.hpp"
#include "bounce/reporter.hpp"
#include "bounce/rule_engine.hpp"
#include "bounce/sendmail_text.hpp"
#include "safetynet/core/text.hpp"

namespace safetynet::bounce {

namespace {

// Addresses of the returned message's header lines quoted in the text ("From: rep@ours.example",
// "Return-Path: <...>"): its sender, not a recipient. Also its message identifiers (RFC 5322
// 3.6.4: msg-id is "<" id-left "@" id-right ">", an address's shape that names no mailbox). A
// bounce forwarded inline quotes each line with "> " (RFC 3676 4.5).
std::set<std::string> quotedHeaderAddresses(const std::string& human) {
  std::set<std::string> out;
  std::istringstream in(human);
  for (std::string line; std::getline(in, line);) {
    std::string ll = asciiLower(trim(line));
    ll.erase(0, ll.find_first_not_of("> \t"));
    for (const char* h : {"from:", "sender:", "return-path:", "reply-to:"})
      if (ll.rfind(h, 0) == 0)
        if (auto a = addressIn(ll); !a.empty()) out.insert(a);
    for (const char* h : {"message-id:", "in-reply-to:", "references:", "content-id:", "resent-message-id:"})
      if (ll.rfind(h, 0) == 0)
        for (const auto& a : allAddresses(ll)) out.insert(a);
  }
  return out;
}

// The address a notice gives for help: Postfix's template sentence "For further assistance,
// please send mail to postmaster." (bounce_templates.c:106), which bounce(5) lets a site rewrite
// with its help desk's address, and the same request worded "please contact <address>". Only
// what the sentence names after those words, up to its end.
std::set<std::string> helpDeskAddresses(const std::string& lowerText) {
  std::set<std::string> out;
  for (const char* words : {"for further assistance", "please contact", "please send mail to"})
    for (size_t at = lowerText.find(words); at != std::string::npos; at = lowerText.find(words, at + 1)) {
      size_t end = lowerText.find("\n\n", at);
      for (const char* stop : {". ", ".\n"})
        if (auto p = lowerText.find(stop, at); p != std::string::npos && p < end) end = p;
      for (const auto& a : allAddresses(lowerText.substr(at, end == std::string::npos ? 300 : end - at))) out.insert(a);
    }
  return out;
}

// The envelope sender a receiving server refused, or checked by calling back our own servers and
// found undeliverable (a VERP bounce address our MTA no longer accepts): ours, never a failed
// recipient, whatever the callback's "User unknown" says. Postfix names it in the reply class
// "Sender address" (smtpd_check.c, SMTPD_NAME_SENDER: "<%s>: %s rejected: %s"); Exim in its
// sender-verify replies (smtp_in.c: "Verification failed for <%s>", "Postmaster verification
// failed while checking <%s>", "Callback setup failed while verifying <%s>"). Exchange Online's
// notice labels it in its "Original Message Details" ("Sender Address: x", beside "Recipient
// Address: y"; Microsoft's "Email non-delivery reports in Exchange Online"), which a ticket system
// quoting the notice as text keeps (the address on the label's line or below it, as a link's text
// or alone).
std::set<std::string> refusedSenderAddresses(const std::string& lowerText) {
  static const Regex named(
      R"(<([^<>\s@]+@[^<>\s@]+)>:?\s+sender address rejected|(?:verification failed for|postmaster verification failed while checking|callback setup failed while verifying)\s+<([^<>\s@]+@[^<>\s@]+)>)"
      R"(|(?:^|\n)[ \t>]*sender address:[ \t]*(?:\r?\n[ \t>]*){0,2}<?([^<>\s@]+@[^<>\s@]+))");
  std::set<std::string> out;
  for (RegexIterator it(lowerText.begin(), lowerText.end(), named), end; it != end; ++it)
    for (int g = 1; g <= 3; ++g)
      if ((*it)[g].matched) out.insert((*it)[g].str());
  return out;
}

// An address the words just before it, on its line, offer as somewhere else to write: a help desk
// ("contact mailadmin@x", "write to", "e-mail us at"), or where to send instead (RFC 5321 3.4's
// "551 User not local; please try <forward-path>", a note's "please use kim.lee@new from now on").
// Every mention of it is so: the address is not a failed recipient (issue 13 item 4).
bool offeredAsContact(const std::string& lowerText, const std::string& address) {
  static const Regex offer(
      R"(\b(?:contact|contact us at|write to|write to us at|please try|try|please use|use|send (?:an )?e?-?mail to|)"
      R"((?:e-?)?mail us at|reach us at|questions to|forward (?:it )?to|help ?desk at|service desk at|support at)$)");
  bool mentioned = false;
  for (const auto& m : mentionsOf(lowerText, {address})) {
    const size_t at = m.at;
    mentioned = true;
    const size_t lineStart = at == 0 ? 0 : lowerText.rfind('\n', at - 1) + 1;
    std::string before = lowerText.substr(std::max(lineStart, at >= 40 ? at - 40 : 0), at - std::max(lineStart, at >= 40 ? at - 40 : 0));
    while (!before.empty() && std::string(" \t<\"':").find(before.back()) != std::string::npos) before.pop_back();
    if (!std::regex_search(before, offer)) return false;
  }
  return mentioned;
}

bool automaticMailbox(const std::string& a) {
  const std::string local = a.substr(0, a.find('@'));
  return local == "noreply" || local == "no-reply" || local == "root";
}

// The text names a local part alone, as a word ("could not be delivered to: jdoe"; AOL names its
// members so).
bool namesLocalPart(const std::string& lowerText, const std::string& address) {
  const std::string local = address.substr(0, address.find('@'));
  if (local.empty()) return false;
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == '@'; };
  for (size_t at = lowerText.find(local); at != std::string::npos; at = lowerText.find(local, at + 1)) {
    const size_t end = at + local.size();
    if ((at == 0 || !word(lowerText[at - 1])) && (end == lowerText.size() || !word(lowerText[end]))) return true;
  }
  return false;
}

// Where the address opens a line of the text (a failure list: "<a@b>:", "a@b on <date>"), or npos.
// (A whole address: "kim@acme.com" inside "<kim@acme.com.au>:" opens no line.)
size_t mentionOpeningALine(const std::string& text, const std::string& address) {
  for (const auto& m : mentionsOf(text, {address}))
    if (m.opensLine) return m.at;
  return std::string::npos;
}

// The bare local parts a failure list names under its heading (a line naming "the following
// recipients" or "the following addresses"), one per line, qualified with the domain of `notice_from`
// when that is the mail system's own mailbox (mailer-daemon@ or postmaster@). At most 20.
std::vector<std::string> bareListedRecipients(const std::string& lowerText, const std::string& notice_from) {
  std::vector<std::string> out;
  const auto at = notice_from.find('@');
  if (at == std::string::npos) return out;
  const std::string local = notice_from.substr(0, at), domain = notice_from.substr(at + 1);
  if ((local != "mailer-daemon" && local != "postmaster") || domain.empty()) return out;
  static const Regex bare(R"(^[ \t]*([a-z0-9][a-z0-9._+-]{0,63})[ \t\r]*$)");
  std::istringstream in(lowerText);
  bool inList = false;
  for (std::string line; std::getline(in, line);) {
    if (contains(line, "following recipient") || contains(line, "following address")) {
      inList = true;
      continue;
    }
    if (!inList) continue;
    std::smatch m;
    if (!std::regex_match(line, m, bare)) {
      if (!out.empty() || trim(line).size() > 0) inList = false;  // the list ends at its first other line
      continue;
    }
    out.push_back(m[1].str() + "@" + domain);
    if (out.size() >= 20) break;
  }
  return out;
}

// Whether a text names an address's domain as a host of its own ("to host nx.test:"), not only
// inside an address ("kim@nx.test") or as a part of a longer name ("mx.nx.test.example").
bool namesTheDomainOf(const std::string& text, const std::string& address) {
  const size_t at = address.rfind('@');
  if (at == std::string::npos || at + 1 >= address.size()) return false;
  const std::string domain = asciiLower(address.substr(at + 1)), lower = asciiLower(text);
  const auto hostChar = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_'; };
  for (size_t i = lower.find(domain); i != std::string::npos; i = lower.find(domain, i + 1)) {
    const size_t end = i + domain.size();
    const bool opens = i == 0 || (!hostChar(lower[i - 1]) && lower[i - 1] != '@');
    // A trailing dot ends a sentence ("host nx.test."), not the name.
    const bool closes = end == lower.size() || !hostChar(lower[end]) ||
                        (lower[end] == '.' && (end + 1 == lower.size() || !hostChar(lower[end + 1])));
    if (opens && closes) return true;
  }
  return false;
}

bool carriesAFailure(const std::string& text) {
  return !findReplyCode(text).empty() || !findStatus(text).empty() || !classlessFailureStatus(text).empty() ||
         !reasonFromText(text).empty();
}

// The words with which notices introduce their failed recipients: Exim's "The following
// address(es) failed:" (deliver.c:6045), qmail's "I wasn't able to deliver your message to the
// following addresses." (qmail-send.c:713), Exchange's "Delivery has failed to these recipients or
// groups:" and its older "did not reach the following recipient(s)", "could not be reached",
// Gmail's "Delivery to the following recipient failed permanently:" and "wasn't delivered to".
bool introducesFailedRecipients(const std::string& lowerText) {
  static const std::vector<std::string> words = {
      "the following recipient", "the following address", "could not be delivered to", "couldn't be delivered to",
      "was not delivered to",    "wasn't delivered to",   "did not reach",             "undeliverable to",
      "failed to these recipients", "could not be reached"};
  return std::any_of(words.begin(), words.end(), [&](const std::string& w) { return contains(lowerText, w); });
}

// Whether the text says the address failed rather than naming it in passing (issue 13 item 4: a
// help desk in the site's own words, "Questions? Write to care@isp.example"; colleagues named in
// the returned body quoted inline). At one of its mentions, the address opens a line of a failure
// list ("<a@b>:", "  a@b"); or is one of a list ("To: a@x, b@y" then "Reason: 550 ...") whose
// last member's paragraph says so; or its own paragraph carries the failure's words (a reply code, a
// status, a rule's words) or the words that introduce failed recipients: from its line's start
// (IMail's "Unknown user: a@b") to the paragraph's end or the next candidate's line (the words
// there are that address's: "554 <b@y>... 550 Host unknown"). Or the returned message was sent to
// it, or Sendmail's transcript gives it a line.
// A mention inside another candidate's entry (the line it opens and the lines under it, to the
// paragraph's end) is in passing: Postfix's "User has moved to bob@x" in alice@'s reply, a
// "please write to kim@acme.com" under <kim@acme.com.au>.
bool insideAnothersEntry(const std::string& lh, const std::vector<Mention>& mentions, const Mention& m) {
  const Mention* entry = nullptr;
  for (const auto& o : mentions) {
    if (o.at >= m.at) break;
    if (o.opensLine) entry = &o;
  }
  if (!entry || entry->address == m.address) return false;
  const size_t blank = lh.find("\n\n", entry->at);
  return blank == std::string::npos || blank > m.at;
}

bool namedAsFailed(const std::string& human, const std::string& lh, const std::string& address,
                   const std::vector<std::string>& candidates, const std::set<std::string>& addressed,
                   const std::vector<Mention>& mentions) {
  if (addressed.count(address)) return true;
  for (const auto& m : mentions)
    if (m.address == address && m.opensLine) return true;
  if (!sendmailVerdict(human, lh, address).line.empty()) return true;
  // The first candidate mentioned from `from` on, and where.
  auto nextMention = [&](size_t from, const std::string& self) {
    std::pair<size_t, std::string> next{lh.size(), ""};
    for (const auto& m : mentions)
      if (m.at >= from && m.address != self) {
        next = {m.at, m.address};
        break;
      }
    return next;
  };
  // The paragraphs found to carry no failure, by their end: one that starts later and ends there
  // is a part of one of them and carries none either (an address named on each of hundreds of
  // lines would otherwise read the rest of the text once per line).
  std::map<size_t, size_t> clean;  // end -> the earliest start read
  for (const auto& mention : mentions) {
    if (mention.address != address || insideAnothersEntry(lh, mentions, mention)) continue;
    const size_t first = mention.at;
    // One of a list ("a@x, b@y"): the words after the list's last member are every member's.
    size_t at = first;
    std::string last = address;
    auto next = nextMention(at + last.size(), last);
    for (size_t members = 0; members < candidates.size() && next.first < lh.size() &&
                             lh.find_first_not_of(" \t\r\n,;<>\"'", at + last.size()) >= next.first;
         ++members) {
      at = next.first;
      last = next.second;
      next = nextMention(at + last.size(), last);
    }
    const size_t lineStart = first == 0 ? 0 : lh.rfind('\n', first - 1) + 1;
    size_t end = next.first;
    if (const size_t nl = lh.rfind('\n', end == 0 ? 0 : end - 1); nl != std::string::npos && nl > at) end = nl;
    // The paragraph ends at a blank line (or one of spaces).
    for (size_t nl = lh.find('\n', at + last.size()); nl != std::string::npos && nl < end; nl = lh.find('\n', nl + 1)) {
      const size_t b = lh.find_first_not_of(" \t\r", nl + 1);
      if (b == std::string::npos || lh[b] == '\n') {
        end = nl;
        break;
      }
    }
    if (const auto it = clean.find(end); it != clean.end() && it->second <= lineStart) continue;
    if (carriesAFailure(human.substr(lineStart, end - lineStart)) || introducesFailedRecipients(lh.substr(lineStart, end - lineStart)))
      return true;
    clean[end] = lineStart;
  }
  return false;
}

// The address a failed one was expanded from: Postfix writes "<%s> (expanded from <%s>): %s"
// for a recipient an alias, a forward or a list produced (bounce_notify_util.c), wrapped at 79
// columns, so the words may be split over lines; Sendmail a line under it (above), Exim its
// "(generated from %s)" line (eximGeneratedEntries). "" when none is named.
std::string expandedFrom(const std::string& lowerText, const std::string& recipient, const std::vector<GeneratedEntry>& exim) {
  if (std::string alias = sendmailExpandedFrom(lowerText, asciiLower(recipient)); !alias.empty()) return alias;
  for (const auto& e : exim)
    if (e.address == asciiLower(recipient) && e.ancestor != e.address) return e.ancestor;
  const std::string opening = "<" + asciiLower(recipient) + ">";
  for (size_t at = lowerText.find(opening); at != std::string::npos; at = lowerText.find(opening, at + 1)) {
    size_t i = at + opening.size();
    auto word = [&](std::string_view w) {
      const size_t from = lowerText.find_first_not_of(" \t\r\n", i);
      if (from == std::string::npos || lowerText.compare(from, w.size(), w) != 0 || from == i) return false;
      i = from + w.size();
      return true;
    };
    if (!word("(expanded") || !word("from")) continue;
    const size_t open = lowerText.find_first_not_of(" \t\r\n", i);
    if (open == std::string::npos || lowerText[open] != '<') continue;
    const size_t close = lowerText.find('>', open);
    if (close == std::string::npos) continue;
    const std::string original = lowerText.substr(open + 1, close - open - 1);
    if (original.find('@') != std::string::npos && original.find_first_of(" \t\r\n<") == std::string::npos &&
        original != asciiLower(recipient))
      return original;
  }
  return {};
}

// A session transcript written with arrows, "--> " before what the client sent and "<-- " before
// what it read, after each line's time (MDaemon's transcript in its notices): the failing reply
// that answered this recipient, and the command it answered. Replies answer the commands in the
// order they were sent, also when a client sends several before reading (RFC 5321 4.1.1; RFC 2920
// 3.1, PIPELINING): each reply is matched to the oldest command not yet answered. A refusal of
// another recipient's RCPT is that recipient's; a failure at DATA or after the message is this
// recipient's only where its RCPT was accepted in that session; the last such reply stands (a
// backup MX's 421 before the next MX's 550 is no reading of the address). With none, the last
// failure of a session that never accepted the recipient at the greeting, HELO or MAIL FROM
// (about us). A refused STARTTLS or AUTH the session went on after is neither. Only a transcript
// whose client lines hold HELO, MAIL or RCPT is one: arrows in a signature or in prose are not.
struct ArrowVerdict {
  std::string line;     // the failing reply
  std::string command;  // CONN, HELO, MAIL, RCPT, DATA, EOD
};
bool argumentNames(const std::string& argument, const std::string& address) {
  for (size_t at = argument.find(address); at != std::string::npos; at = argument.find(address, at + 1)) {
    const size_t end = at + address.size();
    const bool before = at > 0 && (argument[at - 1] == '<' || argument[at - 1] == ':' || argument[at - 1] == ' ');
    const bool after = end == argument.size() || argument[end] == '>' || argument[end] == ' ';
    if (before && after) return true;
  }
  return false;
}
ArrowVerdict arrowTranscriptVerdict(const std::string& human, const std::string& recipient) {
  if (human.find("<-- ") == std::string::npos || human.find("--> ") == std::string::npos) return {};
  const std::string address = asciiLower(recipient);
  struct Sent {
    std::string name;      // CONN, HELO, MAIL, RCPT, DATA, EOD, or the verb in lower case
    std::string argument;  // the whole command, lower case
  };
  std::deque<Sent> pending;
  bool smtpSent = false, accepted = false, everAccepted = false;
  ArrowVerdict own, session;
  std::istringstream in(human);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t sent = line.find("--> "), got = line.find("<-- ");
    if (sent != std::string::npos && (got == std::string::npos || sent < got)) {
      const std::string cmd = asciiLower(trim(line.substr(sent + 4)));
      const std::string verb = cmd.substr(0, cmd.find_first_of(" :"));
      // SMTP's commands only (RFC 5321 4.1, and the extensions' STARTTLS, AUTH, BDAT): a client's
      // log lines between them ("--> Using the existing connection to: ...") are answered by nothing.
      static const std::set<std::string> commands = {"ehlo", "helo", "mail", "rcpt", "data", "bdat", ".", "rset", "vrfy", "expn",
                                                     "help", "noop", "quit", "starttls", "auth", "xclient", "xforward"};
      if (!commands.count(verb)) continue;
      const std::string name = verb == "ehlo" || verb == "helo" ? "HELO" : verb == "mail" ? "MAIL" : verb == "rcpt" ? "RCPT"
                             : verb == "data" ? "DATA" : verb == "." || verb == "bdat" ? "EOD" : verb;
      smtpSent = smtpSent || name == "HELO" || name == "MAIL" || name == "RCPT";
      // The message's end after a 354 is answered as EOD already.
      if (verb == "." && !pending.empty() && pending.back().name == "EOD") continue;
      pending.push_back({name, cmd});
      continue;
    }
    if (got == std::string::npos) continue;
    const std::string reply = trim(line.substr(got + 4));
    if (reply.size() < 3 || !std::isdigit(static_cast<unsigned char>(reply[0]))) continue;
    if (reply.size() > 3 && reply[3] == '-') continue;  // a line of a reply that goes on
    Sent answered{"CONN", ""};
    // A greeting opens a new session (STARTTLS's own 220 answers it).
    if (reply.rfind("220", 0) == 0 && (pending.empty() || pending.front().name != "starttls")) {
      pending.clear();
      accepted = false;
    } else if (!pending.empty()) {
      answered = pending.front();
      pending.pop_front();
    }
    if (answered.name == "DATA" && reply[0] == '3') {
      pending.push_front({"EOD", ""});
      continue;
    }
    // Or the reply names it, as servers name the address they refuse ("550 5.1.1 <a@b>: Recipient
    // address rejected"): a transcript that left a reply out (EHLO's) still says whose it is.
    const bool aboutIt = (answered.name == "RCPT" && argumentNames(answered.argument, address)) ||
                         asciiLower(reply).find("<" + address + ">") != std::string::npos;
    if (aboutIt && reply[0] == '2') accepted = everAccepted = true;
    if (reply[0] != '4' && reply[0] != '5') continue;
    if (aboutIt || ((answered.name == "DATA" || answered.name == "EOD") && accepted))
      // (A reply naming the recipient to what the order says was HELO or MAIL: a line left out,
      // the command unknown. One to DATA keeps its stage: a gateway names the address after the
      // message too.)
      own = {reply, answered.name == "RCPT" || answered.name == "DATA" || answered.name == "EOD" ? answered.name : ""};
    else if (answered.name == "CONN" || answered.name == "HELO" || answered.name == "MAIL")
      session = {reply, answered.name};
  }
  if (!smtpSent) return {};
  if (!own.line.empty()) return own;
  return everAccepted ? ArrowVerdict{} : session;
}

}  // namespace

bool fromAMailSystem(const MimeView& v) {
  return !v.header("x-failed-recipients").empty() || namesAMailSystem(asciiLower(v.header("from")));
}

bool namesAMailSystem(const std::string& lowered_from) {
  // The mailbox decides, not the display name: "Wendt, Thomas (IT / Postmaster)" <thomas@...> is a
  // person. (A From with no parsable mailbox is read whole.)
  const std::vector<std::string> mailboxes = mailboxesIn(lowered_from);
  const bool systemMailbox = std::any_of(mailboxes.begin(), mailboxes.end(), [](const std::string& m) {
    const std::string local = m.substr(0, m.find('@'));
    return contains(local, "mailer-daemon") || contains(local, "postmaster");
  });
  const bool unparsed =
      mailboxes.empty() && (contains(lowered_from, "mailer-daemon") || contains(lowered_from, "postmaster"));
  return systemMailbox || unparsed || contains(lowered_from, "mail delivery") || contains(lowered_from, kExchangeSystemMailbox);
}

namespace {

// A reply's subject prefix in the replier's language: "Re:" (RFC 5322 3.6.5) and the ones mail
// clients write instead (Wikipedia, "List of email subject abbreviations": German AW, Dutch Antw,
// Scandinavian SV, Finnish VS, Italian R and RIF, Polish and Czech Odp, Portuguese RES, Turkish
// YNT, Hungarian Vá, Chinese 回复/答复/回覆, Japanese 返信, Greek ΑΠ/ΣΧΕΤ in either case, Arabic
// رد, Hebrew השב), with a count some add ("Re[2]:", "Re(2):"), before an ASCII or a full-width
// colon.
bool opensWithAReplyPrefix(const std::string& opening) {
  static const Regex prefix(
      R"(^(?:re|aw|antw|sv|vs|r|rif|odp|res|ynt|v\xc3\xa1|\xe5\x9b\x9e\xe5\xa4\x8d|\xe7\xad\x94\xe5\xa4\x8d|\xe5\x9b\x9e\xe8\xa6\x86|\xe8\xbf\x94\xe4\xbf\xa1|\xce\x91\xce\xa0|\xce\xb1\xcf\x80|\xce\xa3\xce\xa7\xce\x95\xce\xa4|\xcf\x83\xcf\x87\xce\xb5\xcf\x84|\xd8\xb1\xd8\xaf|\xd7\x94\xd7\xa9\xd7\x91)(?:\[\d+\]|\(\d+\))? ?(?::|\xef\xbc\x9a))");
  return std::regex_search(opening, prefix);
}

// The rest of a subject after one forward prefix ("FW:", "Fwd:", German WG, French TR, Italian I,
// Danish and Norwegian VS, Swedish VB, Finnish VL, Polish PD, Portuguese ENC, Dutch Doorst, Spanish
// RV, Greek ΠΡΘ, Hungarian Továbbítás, Turkish İLT, Chinese 转发/轉寄, Japanese 転送: the same list),
// or "" when it opens with none. The subject is lowered in ASCII only: Greek in either case, the
// Turkish dotted capital I as written (not an ASCII "ILT:", which opens English subjects about
// instructor-led training: review-2026-12-07-19).
const Regex& forwardPrefix() {
  static const Regex prefix(
      R"(^(?:fwd?|wg|tr|i|vs|vb|vl|pd|enc|doorst|rv|\xce\xa0\xce\xa1\xce\x98|\xcf\x80\xcf\x81\xce\xb8|tov\xc3\xa1bb\xc3\xadt\xc3\xa1s|\xc4\xb0lt|\xe8\xbd\xac\xe5\x8f\x91|\xe8\xbd\x89\xe5\xaf\x84|\xe8\xbb\xa2\xe9\x80\x81) ?(?::|\xef\xbc\x9a) *)");
  return prefix;
}
std::string afterAForwardPrefix(const std::string& opening) {
  std::smatch m;
  return std::regex_search(opening, m, forwardPrefix()) ? opening.substr(static_cast<size_t>(m.length(0))) : std::string();
}
bool opensWithAForwardPrefix(const std::string& opening) { return std::regex_search(opening, forwardPrefix()); }

}  // namespace

namespace {

// The message's own text: its first text part at the top level (not a report's
// text/rfc822-headers), or an empty string.
const std::string& firstTopLevelText(const MimeView& v) {
  static const std::string none;
  for (const auto& l : v.leaves)
    if (l.depth == 0 && l.type.rfind("text/", 0) == 0 && l.type != "text/rfc822-headers") return l.text;
  return none;
}

// Whether the message's own words, above the first quoted or forwarded line ("> ", "On ... wrote:",
// a "From:" header block, a rule of dashes or underscores), are a mail system's notice: its
// template sentences (permanence_markers, delay_markers) or words of a delivery that failed.
bool aNoticesOwnWordsOpen(const MimeView& v) {
  const std::string text = asciiLower(firstTopLevelText(v).substr(0, 16 * 1024));
  std::string own;
  std::istringstream in(text);
  static const Regex wrote(R"(^on .{0,200}wrote:\s*$)");
  for (std::string line; std::getline(in, line);) {
    const size_t start = line.find_first_not_of(" \t\r");
    if (start != std::string::npos) {
      const std::string body = line.substr(start);
      if (body[0] == '>' || body.rfind("from:", 0) == 0 || body.rfind("-----", 0) == 0 || body.rfind("_____", 0) == 0 ||
          std::regex_search(body, wrote))
        break;
    }
    own += line + "\n";
  }
  const auto rules = activeRules();
  if (saysPermanent(*rules, own) || saysDelayed(*rules, own)) return true;
  // (Exchange 2003's "Your message did not reach some or all of the intended recipients.")
  static const std::vector<std::string> failed = {"unable to deliver", "wasn't able to deliver", "was not able to deliver",
                                                  "could not be delivered", "couldn't be delivered", "undeliverable",
                                                  "delivery has failed", "delivery failed", "failed to deliver",
                                                  "did not reach"};
  const std::string flat = collapse(own);
  return std::any_of(failed.begin(), failed.end(), [&](const std::string& w) { return contains(flat, w); });
}

// The subject's own opening, lower-case: a ticket system or a list puts its tag before the subject
// it answers ("[support #4412] AutoReply: ...", Request Tracker's Autoreply template; "[list]
// ..."), and the message's own words come after it. (A gateway's tag may run into the subject
// with a colon: "[EXTERNAL]:RE: ...".)
std::string subjectOpening(const MimeView& v) {
  std::string opening = trim(asciiLower(v.header("subject")));
  while (opening.size() > 1 && opening[0] == '[' && opening.find(']') != std::string::npos) {
    opening = trim(opening.substr(opening.find(']') + 1));
    if (!opening.empty() && opening[0] == ':') opening = trim(opening.substr(1));
  }
  return opening;
}

}  // namespace

namespace {
bool holdsAForward(const std::string& text);

// Whether the message quotes what it answers, as a person's reply does: the client's block of the
// message answered ("-----Original Message-----", "From: ... Sent: ..."), lines quoted with ">"
// (RFC 3676 4.5) or an attribution ("On ... wrote:").
bool quotesWhatItAnswers(const MimeView& v) {
  const std::string text = firstTopLevelText(v).substr(0, 64 * 1024);
  if (holdsAForward(text)) return true;
  // (Not a Sendmail transcript's ">>> RCPT TO:<...>": that is the session it pastes, no quote.)
  static const Regex quoted(R"((?:^|\n)[ \t]*>(?!>> )|(?:^|\n)on [^\n]{0,200}wrote:[ \t\r]*(?:\n|$))");
  return std::regex_search(asciiLower(text.substr(0, 16 * 1024)), quoted);
}
}  // namespace

// The postmaster mailbox reaches a person (RFC 5321 4.5.1: "the intent of this requirement is
// to ensure that someone is available to receive messages"), who answers a rep's question ("RE:
// Mail to Omar bouncing?": "omar@ is a valid mailbox, the 550 was a sync fault") as any sender
// does: under a reply's prefix, with that mailbox's own address as the reverse-path, where a
// notice has the null one (RFC 5321 4.5.5). Gateways that send their notices from postmaster@
// with it as the reverse-path (AOL's, InterScan MSS's, m-FILTER's, whose Japanese template no
// marker knows) do so under their own subjects ("failure notice"). Apache James's NotifySender
// sends from postmaster@, with it as the reverse-path, as "Re: <subject>" (NotifySender.java) in
// whatever words its admin wrote, but quotes nothing: its "Message details:" list the envelope.
// A person's reply quotes what it answers (review-2026-12-07-19).
bool aPersonAtThePostmasterMailbox(const MimeView& v) {
  if (!v.header("x-failed-recipients").empty() || !v.originals.empty() || !v.report_type.empty()) return false;
  if (!opensWithAReplyPrefix(subjectOpening(v))) return false;
  const std::string autoSubmitted = trim(asciiLower(v.header("auto-submitted")));
  if (!autoSubmitted.empty() && autoSubmitted != "no") return false;
  // (The headers first: the text's scans below run only for the postmaster's own mail.)
  const std::vector<std::string> from = mailboxesIn(asciiLower(v.header("from")));
  const std::vector<std::string> path = mailboxesIn(asciiLower(v.header("return-path")));
  if (from.size() != 1 || path != from || from.front().rfind("postmaster@", 0) != 0) return false;
  return quotesWhatItAnswers(v) && !aNoticesOwnWordsOpen(v);
}

bool aPersonsAnswer(const MimeView& v) {
  if (aPersonAtThePostmasterMailbox(v)) return true;
  const std::string opening = subjectOpening(v);
  // (Not from a mail system's mailbox, even with a reply's prefix: Apache James sends its bounce
  // from postmaster@ as "Re: <the subject>" with In-Reply-To, Bouncer's reply to the message.)
  // But a reply to a forward ("RE: FW: Undeliverable: ...") is the recipient's admin answering,
  // from the postmaster's mailbox, the notice a rep forwarded to it ("the mailbox is restored"):
  // a conversation, whatever mailbox it comes from. A mail system's own "Re: <subject>" has a
  // forward's prefix after it only when the returned message was itself a forward, and a notice
  // about such a message is about whom that forward went to, never about the addresses it quotes.
  // Apache James's own bounce of a rep's forward is "Re: FW: <subject>" from postmaster@ too: a
  // notice says so in its own words, above anything it quotes ("I'm afraid I wasn't able to
  // deliver your message", Bouncer.java; "We were unable to deliver the attached message",
  // NotifyMailetsMessage.java), where an admin's answer speaks of the mailbox.
  const auto aReplyToAForward = [&] {
    static const Regex replyPrefix(R"(^[^:\xef]*(?::|\xef\xbc\x9a) *)");
    std::smatch m;
    return opensWithAReplyPrefix(opening) && std::regex_search(opening, m, replyPrefix) &&
           opensWithAForwardPrefix(opening.substr(static_cast<size_t>(m.length(0))));
  };
  if (fromAMailSystem(v)) return !v.header("in-reply-to").empty() && aReplyToAForward() && !aNoticesOwnWordsOpen(v);
  // From anyone else, a reply to a forward is an answer whether or not it names the message it
  // answers: a help desk's acknowledgement of the ticket a rep opened by forwarding a notice
  // ("[IT] Re: Fwd: Undelivered Mail Returned to Sender", Zendesk's "Request received" quoting the
  // rep's comment and the notice below it). A notice says it could not deliver in its own words,
  // or returns the message it could not deliver attached.
  if (aReplyToAForward() && v.originals.empty() && !aNoticesOwnWordsOpen(v)) return true;
  // RFC 3834 section 5: "auto-replied" marks a responder's answer to a message, an out-of-office in
  // whatever language its subject is ("Automatische Antwort:"), naming a deputy beside words like
  // "Reason: annual leave". A mail system's notice that carries it too (Exim's, Exchange's) comes
  // from the mail system's own mailbox (above) or as a report, read before this.
  // Not where its text holds a mail system's own template sentence (permanence_markers,
  // delay_markers): Exim writes auto-replied on its bounces and delay warnings from whatever sender
  // its dsn_from names ("IT Helpdesk <helpdesk@...>"), with no X-Failed-Recipients for an address
  // it hides (deliver.c, hide_child_in_errmsg) or on a warning.
  if (asciiLower(v.header("auto-submitted")).rfind("auto-replied", 0) == 0 && !mailboxesIn(v.header("from")).empty()) {
    std::string text;
    for (const auto& l : v.leaves)
      if (l.depth == 0 && l.type.rfind("text/", 0) == 0 && l.type != "text/rfc822-headers") text += l.text.substr(0, 16 * 1024);
    const auto rules = activeRules();
    if (!saysPermanent(*rules, text) && !saysDelayed(*rules, text)) return true;
  }
  // A forward of a reply ("FW: RE: FW: Undeliverable: ..."): the message forwarded is a person's
  // answer, the recipient's IT saying the mailbox is back, whatever notice it quotes further down.
  // (A forwarded notice keeps the notice's own subject after the prefix: "FW: Undeliverable: RE: ...".)
  const bool reply = (opensWithAReplyPrefix(opening) && !v.header("in-reply-to").empty()) ||
                     opensWithAReplyPrefix(afterAForwardPrefix(opening));
  // An auto-reply says so at the start of its subject (RFC 3834 3.1.5: "Auto:"; Outlook's
  // "Automatic reply:", Exchange's "Out of Office:", Request Tracker's "AutoReply:"): a person's
  // (or a help desk's) answer, not a mail system's notice, whatever the rep's subject after it
  // holds ("failed payment"). readAutoReply reads it.
  static const std::vector<std::string> autoReplyOpenings = {"auto:", "automatic reply", "auto reply", "auto-reply",
                                                             "autoreply", "out of office", "out of the office"};
  for (const auto& w : autoReplyOpenings)
    if (opening.rfind(w, 0) == 0) return true;
  // A person's reply ("Re: ", RFC 5322 3.6.5, answering a message it names in In-Reply-To) is a
  // conversation, not a mail system's notice, whatever its subject or quoted lines hold: the
  // lead's "Re: Invoice 4411 rejected" naming a new contact, a rep asking the help desk about a
  // bounce it quotes, the recipient's IT answering that the mailbox is restored. A notice someone
  // forwards keeps its own prefix ("Fwd:", "WG:") and is read.
  return reply;
}

namespace {

// Whether the text holds a mail client's forward: a separator line ("---------- Forwarded message
// ---------", "-----Original Message-----", "-------- Weitergeleitete Nachricht --------") that
// names itself, or a rule of dashes or underscores followed by the forwarded message's header
// block (Outlook: "________________" then "From: ...", in the user's language: "Von:", "De :"),
// or Apple Mail's opening in its common languages. A rule before a disclaimer, a signature's
// "-----" or a PGP armour line is none. Read line by line over the first 64 KiB (no regex over
// the whole text: libstdc++'s recurses per character).
bool holdsAForward(const std::string& text) {
  static const std::vector<std::string> appleOpenings = {"begin forwarded message", "anfang der weitergeleiteten nachricht",
                                                         "début du message réexpédié", "inizio messaggio inoltrato",
                                                         "comienzo del mensaje reenviado", "início da mensagem reencaminhada"};
  static const Regex fieldLabel(R"(^[^\s:][^:]{0,30} ?:\s)");
  const std::string head = asciiLower(text.substr(0, 64 * 1024));
  std::istringstream in(head);
  std::string line;
  bool ruleBefore = false;  // the line before was a bare rule: the next non-blank line decides
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t start = line.find_first_not_of(" \t>");
    if (start == std::string::npos) continue;
    const std::string body = line.substr(start);
    if (ruleBefore) {
      if (std::regex_search(body.substr(0, 80), fieldLabel)) return true;
      ruleBefore = false;
    }
    for (const auto& w : appleOpenings)
      if (body.rfind(w, 0) == 0) return true;
    const char c = body[0];
    if (c != '-' && c != '_') continue;
    const size_t run = body.find_first_not_of(c);
    const size_t length = run == std::string::npos ? body.size() : run;
    if ((c == '-' && length < 5) || (c == '_' && length < 10)) continue;
    const bool words = std::any_of(body.begin(), body.end(), [](unsigned char ch) { return std::isalpha(ch) || ch >= 0x80; });
    if (words && !contains(body, "pgp")) return true;
    if (!words) ruleBefore = true;
  }
  return false;
}

}  // namespace

bool aPersonsOwnMessage(const MimeView& v) {
  // A mail system's notice: its own mailbox, the null reverse-path every notice is sent with (RFC
  // 5321 4.5.5: "<>"), an automatic mailbox (no-reply@), a mark of automatic mail (RFC 3834: any
  // Auto-Submitted but "no"), or the returned message attached.
  const std::vector<std::string> from = mailboxesIn(v.header("from"));
  const std::string autoSubmitted = trim(asciiLower(v.header("auto-submitted")));
  if (fromAMailSystem(v) || from.empty() || automaticMailbox(from.front()) || trim(v.header("return-path")) == "<>" ||
      (!autoSubmitted.empty() && autoSubmitted != "no") || !v.originals.empty())
    return false;
  // Nor a sender whose name is a system's ("mx.seller.test MMDF Mail System" <mmdf@...>, "Mail
  // Router", "System Administrator"): a person's name holds none of these words.
  std::string name = asciiLower(v.header("from"));
  for (const auto& m : from)
    if (const auto at = name.find(m); at != std::string::npos) name.erase(at, m.size());
  static const Regex systemName(R"(\b(?:mail|mailer|system|daemon|delivery|postmaster|administrator|admin|router|server|gateway|agent|notification)s?\b)");
  if (std::regex_search(name.substr(0, 200), systemName)) return false;
  const std::string opening = subjectOpening(v);
  if (opensWithAForwardPrefix(opening)) return false;
  std::string text;
  for (const auto& l : v.leaves)
    if (l.depth == 0 && l.type.rfind("text/", 0) == 0 && l.type != "text/rfc822-headers") text += l.text.substr(0, 64 * 1024) + "\n";
  if (holdsAForward(text)) return false;
  const auto rules = activeRules();
  return !saysPermanent(*rules, text) && !saysDelayed(*rules, text);
}

bool readText(const MimeView& v, Classification& out) {
  // Exim's DMARC failure report (dmarc_common.c dmarc_send_forensic_report; moan.c writes it from
  // its Mailer-Daemon, "Subject: DMARC Forensic Report for <domain> from IP <ip>") goes to the
  // domain's ruf address about mail that failed its policy, with the headers of that mail: it
  // refuses nobody. When the receiver refused the message too, the sending MTA's bounce says so.
  if (asciiLower(trim(v.header("subject"))).rfind("dmarc forensic report for ", 0) == 0) {
    out.format = "text";
    out.error = "no failed recipient found: a DMARC failure report (Exim's) refuses no recipient";
    return true;
  }
  // Postfix's transcript of a session for the postmaster (notify_classes): smtpd_chat_notify's
  // "<mail_name> SMTP server: errors from <client>" is a session of mail sent to us, and
  // smtp_chat_notify's "<mail_name> SMTP client: errors from <server>" ("LMTP client") a copy for
  // the postmaster beside the sender's own bounce (smtpd/smtpd_chat.c:376-389,
  // smtp/smtp_chat.c:488-502). Neither reports a delivery that failed.
  // Postfix's own: from its mail system's mailbox, the text opening with its first line.
  static const Regex postmasterTranscript(R"(\b(?:smtp|lmtp) (?:server|client): errors from )");
  const auto opensWith = [&](const std::string& words) {
    if (v.leaves.empty()) return false;
    const std::string& t = v.leaves.front().text;
    const size_t start = t.find_first_not_of(" \t\r\n");
    return start != std::string::npos && t.compare(start, words.size(), words) == 0;
  };
  if (std::regex_search(asciiLower(v.header("subject")), postmasterTranscript) && fromAMailSystem(v) &&
      (opensWith("Transcript of session follows.") || opensWith("Unexpected response from "))) {
    out.format = "text";
    out.error = "no failed recipient found: a Postfix session transcript for the postmaster reports no delivery";
    return true;
  }
  const std::string& text = firstTopLevelText(v);
  if (text.empty()) return false;
  // A notice someone forwarded from Outlook: its "-----Original Message-----" is followed by the
  // notice's own From/Sent/To/Subject, from a mail system, not by the returned message. The
  // returned message starts after that block.
  // Only Outlook's own marker ("-----Original Message-----") opens such a block: after an MTA's
  // ("--- Below this line is a copy of the message.", qmail-send.c; "----- Original message
  // follows -----", Sendmail) comes the returned message, even one a mail system wrote (a bounce
  // returned), whose failure lines are not this notice's.
  size_t cut = originalStart(text);
  for (int forwards = 0; cut != std::string::npos && forwards < 3; ++forwards) {
    const std::string after = asciiLower(text.substr(cut, 4096));
    const std::string markerLine = after.substr(0, after.find('\n'));
    if (!contains(markerLine, "original message") || contains(markerLine, "follows") || contains(markerLine, "headers"))
      break;
    const size_t blockAt = after.find('\n');
    if (blockAt == std::string::npos) break;
    const size_t blockEnd = after.find("\n\n", blockAt + 1);
    if (blockEnd == std::string::npos) break;
    // Outlook writes the block's labels in the user's language ("Von:", "De :", "差出人:"); its
    // first line is the sender's whatever the label.
    const std::string block = after.substr(blockAt + 1, blockEnd - blockAt - 1);
    static const Regex labelled(R"(^[^:\n]{1,40}:)");
    // A field with the lines Outlook wrapped it onto (a long address goes to the next line, with
    // no label of its own).
    auto field = [&](size_t at) {
      size_t end = block.find('\n', at + 1);
      while (end != std::string::npos) {
        const size_t next = block.find('\n', end + 1);
        const std::string line = block.substr(end + 1, next == std::string::npos ? std::string::npos : next - end - 1);
        if (line.empty() || std::regex_search(line, labelled)) break;
        end = next;
      }
      return block.substr(at, end == std::string::npos ? std::string::npos : end - at);
    };
    const std::string firstField = field(0);
    const size_t fromAt = block.rfind("from:", 0) == 0 ? 0 : block.find("\nfrom:");
    const std::string fromField = fromAt == std::string::npos ? "" : field(fromAt);
    if (!namesAMailSystem(fromField) && !(std::regex_search(firstField, labelled) && namesAMailSystem(firstField)))
      break;
    const size_t resume = cut + blockEnd + 2;
    const size_t next = originalStart(text.substr(resume));
    cut = next == std::string::npos ? std::string::npos : resume + next;
  }
  // A quoted "Subject:" holds the rep's words, never the failure's: not a recipient, not a reason.
  std::string human = withoutQuotedSubjects(cut == std::string::npos ? text : text.substr(0, cut));
  // The explanation of a bounce is a few kilobytes; past that it is not one worth reading.
  constexpr size_t kMaxHumanBytes = 64 * 1024;
  if (human.size() > kMaxHumanBytes) human.resize(kMaxHumanBytes);
  // Exim's "(generated from x@y)" names an alias, not a failed recipient: where its entry's
  // address came from (sent_to), then out of the text.
  const std::vector<GeneratedEntry> eximEntries = eximGeneratedEntries(human);
  static const Regex generated(R"(\((?:ultimately )?generated from [^)]*\))", Regex::icase);
  human = std::regex_replace(human, generated, "");
  const std::string lh = asciiLower(human);
  const std::string subject = asciiLower(v.header("subject"));
  const std::string from = asciiLower(v.header("from"));
  static const std::vector<std::string> bounceWords = {
      "undeliver", "undelivered", "delivery fail", "failure notice", "returned mail", "could not be delivered",
      "delivery status notification", "mail delivery", "not be delivered", "delivery has failed", "permanent error",
      "was not delivered", "couldn't be delivered", "delivery problem", "non remis", "unzustellbar",
      "warning: could not send", "delivery delayed", "delayed mail", "failed mail"};
  // Words any application's report uses ("Sync completed with 3 errors", "Export failed"): they
  // make a notice only of a message a mail system sent, that returns a message (attached, or
  // quoted below its text), or that came with the null reverse-path RFC 5321 4.5.5 gives every
  // notice, or that is marked an automatic response (below). (A CRM's sync-error digest quoting a
  // stored "550 5.1.1" beside a lead's address gave that lead a hard bounce: precision-traps-6.)
  static const std::vector<std::string> generalWords = {"failed", "rejected", "returned", "error", "delayed"};
  const bool fromMailSystem = fromAMailSystem(v);
  // A person's answer, or a person's own new message that quotes a notice (a colleague asking
  // whether to resend): the failure is the quoted notice's, not this message's.
  if (aPersonsAnswer(v) || aPersonsOwnMessage(v)) return false;
  bool looksLikeBounce = fromMailSystem;
  for (const auto& w : bounceWords)
    if (contains(subject, w)) looksLikeBounce = true;
  const std::string returnPath = asciiLower(v.header("return-path"));
  const bool nullSender = returnPath.find("<>") != std::string::npos;
  // RFC 3834 5.2: "auto-replied" marks a response to a message (Exim's bounces and delay
  // warnings carry it, whatever sender dsn_from names).
  const bool autoReplied = contains(asciiLower(v.header("auto-submitted")), "auto-replied");
  if (!v.originals.empty() || cut != std::string::npos || nullSender || autoReplied)
    for (const auto& w : generalWords)
      if (contains(subject, w)) looksLikeBounce = true;
  // Some carriers send a notice with a plain subject ("Mail") from a no-reply address: the words
  // of a failed delivery before a returned message make it a bounce.
  static const std::vector<std::string> failureWords = {"could not be delivered to", "was not delivered to",
                                                        "delivery to the following recipient", "undeliverable to"};
  if (!looksLikeBounce && !v.originals.empty())
    for (const auto& w : failureWords)
      if (contains(lh, w)) looksLikeBounce = true;
  // Exchange's own diagnostic line, "#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##" (Microsoft's
  // NDR pages: "#550 4.4.7 QUEUE.Expired; message expired ##"), is written by the mail system in
  // every language its notice is: a notice a rep forwards under a localized subject ("WG:
  // Unzustellbar:", "FW: 配信不能:") carries it where no English word of the gate stands.
  // Exchange Online's is "Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; ...'", also
  // untranslated ("fix-error-code-550-5-7-1-in-exchange-online.md": "Remote Server returned
  // '<xxxxxxxx> #5.7.1 smtp;550 5.7.1 RESOLVER.RST.AuthRequired; ...'").
  static const Regex exchangeDiagnostic(
      R"(#[45]\d\d [45]\.\d{1,3}\.\d{1,3} [^\n]*##|remote server returned '[^'\n]{0,40}\b[45]\.\d{1,3}\.\d{1,3}\b)");
  // Only where the notice is Exchange's or a forward of one: a mail system's message, a message a
  // mail client forwarded, or one that returns a message, came with the null reverse-path or is
  // auto-replied (as the general words above). A training platform's quiz quoting Exchange's
  // "Remote server returned '550 5.1.10 ...'" beside made-up addresses is none (precision-traps-7).
  // Asked only when the line is the last evidence left: a forward's separator is looked for over the
  // text's first 64 KiB.
  const auto forwarded = [&] { return opensWithAForwardPrefix(subjectOpening(v)) || holdsAForward(text); };
  if (!looksLikeBounce &&
      (fromMailSystem || !v.originals.empty() || cut != std::string::npos || nullSender || autoReplied || forwarded()) &&
      std::regex_search(lh, exchangeDiagnostic))
    looksLikeBounce = true;
  if (!looksLikeBounce) return false;

  // A failed recipient comes from X-Failed-Recipients or the failure text, never from the
  // addresses the bounce is not about: the reporter's, ours, the returned message's sender (also
  // where the text quotes its header lines).
  std::set<std::string> exclude = addressesNotAbout(v);
  for (const auto& a : quotedHeaderAddresses(human)) exclude.insert(a);
  const std::set<std::string> refusedSenders = refusedSenderAddresses(lh);
  exclude.insert(refusedSenders.begin(), refusedSenders.end());
  // A message identifier the text labels as one ("Original message ID: <x@y>", "Message-ID: x@y")
  // when the returned message is not attached to say so: an identifier, not a mailbox.
  if (contains(lh, "message")) {
    static const Regex messageId(R"(\bmessage[- ]?id:?[ \t]*<?([^\s<>]+@[^\s<>]+?)>?(?:\s|$))");
    for (RegexIterator it(lh.begin(), lh.end(), messageId), end; it != end; ++it)
      for (const auto& a : allAddresses((*it)[1].str())) exclude.insert(a);
  }
  // A help desk the notice names is not a failed recipient, unless a failure list names it too
  // (the address opens a line: "<support@isp>: host ... said: 550 ...").
  for (const auto& a : helpDeskAddresses(lh))
    if (mentionOpeningALine(lh, a) == std::string::npos) exclude.insert(a);
  // The alias a failed address was expanded from (Postfix's "(expanded from <x>)", Sendmail's
  // "(expanded from: <x>)") is that record's sent_to, not a failed recipient of its own.
  if (contains(lh, "(expanded")) {
    static const Regex expansion(R"(\(expanded\s+from:?\s+<?([^\s<>()]+@[^\s<>()]+)>?\))");
    for (RegexIterator it(lh.begin(), lh.end(), expansion), end; it != end; ++it) exclude.insert((*it)[1].str());
  }
  auto notARecipient = [&](const std::string& a) {
    return exclude.count(a) || reporterMailbox(a, v) || automaticMailbox(a) || offeredAsContact(lh, a);
  };
  std::set<std::string> addressed;  // by the returned message
  for (const auto& o : v.originals)
    for (const char* h : {"to", "cc"})
      if (auto it = o.find(h); it != o.end())
        for (const auto& a : mailboxesIn(it->second)) addressed.insert(a);
  // The returned message quoted after the notice's words, with no MIME part of its own: its header
  // block's To and Cc (Haraka's and qmail's "--- Below this line is a copy of the message.").
  static const Regex toLine(R"((?:^|\n)to:\s*([^\n]+))", Regex::icase);
  static const Regex ccLine(R"((?:^|\n)cc:\s*([^\n]+))", Regex::icase);
  const std::string rest = cut == std::string::npos ? std::string() : text.substr(cut);
  // Its header block: from the first line that is a header field (the cut is at a marker line,
  // "------ This is a copy of the message", or at the first trace field) to the first blank line.
  static const Regex fieldLine(R"((?:^|\n)[A-Za-z][A-Za-z0-9-]*:[ \t])");
  const std::string head = rest.substr(0, 64 * 1024);  // a header block starts within this
  std::smatch firstField;
  size_t headersAt = head.size();
  if (std::regex_search(head, firstField, fieldLine))
    headersAt = static_cast<size_t>(firstField.position(0)) + (head[static_cast<size_t>(firstField.position(0))] == '\n' ? 1 : 0);
  const size_t blank = head.find("\n\n", headersAt);
  const std::string inlineHeaders = head.substr(headersAt, blank == std::string::npos ? std::string::npos : blank - headersAt);
  for (const auto* field : {&toLine, &ccLine}) {
    std::smatch m;
    if (std::regex_search(inlineHeaders, m, *field))
      for (const auto& a : allAddresses(m[1].str())) addressed.insert(a);
  }
  std::vector<std::string> recipients;
  auto add = [&](const std::string& a) {
    if (std::find(recipients.begin(), recipients.end(), a) == recipients.end()) recipients.push_back(a);
  };
  for (const auto& a : allAddresses(v.header("x-failed-recipients"))) add(a);
  // The addresses the text names that it says failed; those it names only in passing are kept
  // aside, the recipients of last resort (never hard) when no other reading finds one.
  std::vector<std::string> inPassing;
  if (recipients.empty()) {
    std::vector<std::string> named;  // at most as many as a notice's records (kMaxRecipients)
    std::set<std::string> seen;      // each address judged once, however often it is named
    for (const auto& a : allAddresses(human))
      if (named.size() < 200 && seen.insert(a).second && !notARecipient(a)) named.push_back(a);
    const std::vector<Mention> mentions = mentionsOf(lh, named);
    for (const auto& a : named)
      if (namedAsFailed(human, lh, a, named, addressed, mentions)) add(a);
      else inPassing.push_back(a);
  }
  // A message someone sent to themselves: the failure text lists one of ours as failed (the
  // address opens a line) or names one the returned message was sent to. Never a hard bounce:
  // classify() keeps it soft.
  // (Not an address the text itself names as our sender: that is no message to ourselves.)
  if (recipients.empty())
    for (const auto& a : allAddresses(human))
      if ((addressed.count(a) || mentionOpeningALine(lh, a) != std::string::npos) && !reporterMailbox(a, v) &&
          !refusedSenders.count(a))
        add(a);
  // Nobody named in the text: the returned message's addressee, when the text names its local
  // part; otherwise a guess, kept soft.
  // Only a message sent to one addressee names it: of several, the text does not say which
  // failed (Exim's "malformed recipient address" notice names one nobody can parse).
  auto soleAddressee = [](const std::string& to, const std::string& cc) {
    const std::string all = to + (cc.empty() ? "" : "," + cc);
    return std::count(all.begin(), all.end(), '@') == 1 ? addressIn(all) : std::string();
  };
  std::set<std::string> guessed;
  if (recipients.empty()) {
    for (const auto& o : v.originals)
      if (auto it = o.find("to"); it != o.end()) {
        auto cc = o.find("cc");
        if (auto a = soleAddressee(it->second, cc == o.end() ? "" : cc->second); !a.empty() && !notARecipient(a)) {
          add(a);
          if (!namesLocalPart(lh, a)) guessed.insert(a);
        }
      }
    if (recipients.empty() && cut != std::string::npos) {
      std::smatch m, c;
      if (std::regex_search(rest, m, toLine))
        if (auto a = soleAddressee(m[1].str(), std::regex_search(inlineHeaders, c, ccLine) ? c[1].str() : "");
            !a.empty() && !notARecipient(a)) {
          add(a);
          if (!namesLocalPart(lh, a)) guessed.insert(a);
        }
    }
  }
  // Nobody named by address and no returned message to name one: a failure list of bare local
  // parts ("Your mail to the following recipients could not be delivered ...:" then "\tjdoe"),
  // users of the system that wrote the notice. MTAs qualify an address without a domain with
  // their own (Postfix's append_at_myorigin: "append the string "@$myorigin" to mail addresses
  // without domain information"), so the name is qualified with the domain of the notice's sender,
  // its MAILER-DAEMON or postmaster. Kept soft: the report never wrote this address.
  if (recipients.empty())
    for (const auto& a : bareListedRecipients(lh, addressIn(v.header("from"))))
      if (!notARecipient(a)) {
        add(a);
        guessed.insert(a);
      }
  // Of those named in passing, the returned message's addressees on a "To:" line the notice quotes
  // (one with nothing marking the returned message's start), else all; never hard.
  if (recipients.empty()) {
    auto onAToLine = [&](const std::string& a) {
      for (size_t at = lh.find(a); at != std::string::npos; at = lh.find(a, at + 1)) {
        const size_t lineOpens = at == 0 ? 0 : lh.rfind('\n', at - 1) + 1;
        if (unquoted(trim(lh.substr(lineOpens, at - lineOpens))).rfind("to:", 0) == 0) return true;
      }
      return false;
    };
    const bool someOnAToLine = std::any_of(inPassing.begin(), inPassing.end(), onAToLine);
    for (const auto& a : inPassing)
      if (!someOnAToLine || onAToLine(a)) {
        add(a);
        guessed.insert(a);  // no evidence the failure is about it
      }
  }
  if (recipients.empty()) return false;
  // No real bounce names more failed recipients than this; past it the text is not a bounce.
  constexpr size_t kMaxRecipients = 200;
  if (recipients.size() > kMaxRecipients) recipients.resize(kMaxRecipients);

  // A delay notice says so at the start of its subject: Postfix "Delayed Mail (still being
  // retried)" and "Postmaster Warning: Delayed Mail" (bounce_templates.c), Exim "Warning: message
  // %s delayed %s" (deliver.c:6394), Sendmail "Warning: could not send message for past %s"
  // (envelope.c:404). The rep's subject a failure notice quotes after its own words ("Undeliverable:
  // Re: delayed shipment") says nothing.
  // Its text, by the MTA's own delay wording (delay_markers), not by the word "delayed" that a
  // site's paragraph may hold: an Exim warning says "delayed" only in its subject.
  bool delayNotice = contains(subject, "(delay)") || saysDelayed(*activeRules(), human);
  // (A notice someone forwarded: its subject after the forward's prefix, in the mail clients'
  // languages: Fwd/Fw, German WG, French TR, Spanish RV, Portuguese ENC, Nordic VS/VB; or a
  // gateway's tag such as "[EXTERNAL]".)
  std::string opens = trim(subject);
  for (bool more = true; more;) {
    more = false;
    for (const char* f : {"fwd:", "fw:", "wg:", "tr:", "rv:", "enc:", "vs:", "vb:", "[external]"})
      if (opens.rfind(f, 0) == 0) opens = trim(opens.substr(std::string_view(f).size())), more = true;
  }
  for (const char* w : {"delayed mail", "postmaster warning: delayed mail", "warning:", "delivery delayed"})
    if (opens.rfind(w, 0) == 0) delayNotice = true;
  // The report's own words that every failure it lists is permanent (a delay notice is not).
  const bool permanent = saysPermanent(*activeRules(), human);
  std::optional<std::string> failureLines;
  const std::vector<Mention> recipientMentions = mentionsOf(lh, recipients);
  const std::vector<SectionHeading> headings = sectionHeadings(lh);
  for (size_t i = 0; i < recipients.size(); ++i) {
    BounceRecord r;
    r.recipient = recipients[i];
    // This recipient's part of the text: from its mention to the next recipient's entry. The
    // mention that opens a line, where there is one: a summary ("To: a@x; b@y") may name it before.
    size_t at = std::string::npos;
    for (const auto& m : recipientMentions)
      if (m.address == r.recipient && (at == std::string::npos || m.opensLine)) {
        at = m.at;
        if (m.opensLine) break;
      }
    std::string block;
    if (at == std::string::npos) {
      block = human;
    } else {
      // Another recipient's entry: a mention that opens a line, or Sendmail's "<b@y>... 550 ..."
      // transcript line. One named inside this recipient's reason ("please write to bob@",
      // "RCPT TO:<sysadmin@...>") is not.
      size_t end = std::string::npos;
      for (const auto& m : recipientMentions)
        if (m.at >= at + r.recipient.size() && m.address != r.recipient &&
            (m.opensLine || lh.compare(m.at + m.address.size(), 5, ">... ") == 0)) {
          end = m.at;
          break;
        }
      // Up to the next recipient's line when that is a later one: the words that open it are that
      // recipient's (a transcript's "<<< 550 5.1.1 <b@y>... User unknown").
      if (end != std::string::npos)
        if (const size_t nl = lh.rfind('\n', end - 1); nl != std::string::npos && nl > at) end = nl;
      // At the next section's heading, when the entry has words of its own before it (Active!hunter
      // puts them under "----- Transcript of session follows -----" instead).
      for (const auto& h : headings)
        if (h.at > at && h.at < end) {
          if (carriesAFailure(human.substr(at, h.at - at))) end = h.at;
          break;
        }
      block = human.substr(at, end == std::string::npos ? std::string::npos : end - at);
    }
    // Whether the entry has words of its own under or after the address, to the end of its
    // paragraph (hMailServer's "   Error Type: SMTP" lines, deliver.c's indented reason), even words
    // no rule knows; a bare address in a list has none.
    bool entryHasWords = false;
    if (at != std::string::npos) {
      const size_t from = at + r.recipient.size();
      const size_t blankLine = lh.find("\n\n", from);
      const std::string rest = lh.substr(from, std::min(blankLine, at + block.size()) - std::min(from, at + block.size()));
      entryHasWords = std::any_of(rest.begin(), rest.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; });
    }
    // Sendmail's entry gives the words as "    (reason: %s)" (savemail.c:980-984): those words.
    static const Regex sendmailReason(R"(\n[ \t]+\(reason: ([^\n]*)\)[ \t\r]*(?:\n|$))");
    // Its lines of the transcript follow: the host that said them, the status the reason line
    // may lack ("(reason: 550 Host unknown)" beside the transcript's "550 5.1.2 <a@b>... Host unknown").
    std::string sendmailWords;  // shown as the diagnostic
    if (std::smatch m; at != std::string::npos && std::regex_search(block, m, sendmailReason)) {
      sendmailWords = m[1].str();
      block = sendmailWords + "\n" + sendmailTranscriptLines(human, lh, r.recipient);
    }
    // The section the entry is in (Sendmail's, above).
    std::string section;
    for (const auto& h : headings)
      if (at != std::string::npos && h.at < at) section = h.line;
    std::string sessionCommand;
    if (auto verdict = sendmailVerdict(human, lh, r.recipient); !verdict.line.empty()) {
      block = verdict.line;
      sessionCommand = verdict.command;
    } else if (auto arrows = arrowTranscriptVerdict(human, r.recipient); !arrows.line.empty()) {
      block = arrows.line;
      sessionCommand = arrows.command;
    }
    // Some MTAs say why before naming the address, or in a paragraph of its own: then the lines of
    // the text that carry a reply, a status or an error (found once per notice). Words that are
    // not in the recipient's own part may be another recipient's, or a help desk's: never hard.
    // (Its line's start is its own too: IMail's "Unknown user: a@b".)
    if (at != std::string::npos && sessionCommand.empty() && !carriesAFailure(block)) {
      const size_t lineStart = at == 0 ? 0 : lh.rfind('\n', at - 1) + 1;
      if (const std::string opening = human.substr(lineStart, at - lineStart); carriesAFailure(opening)) block = opening + block;
    }
    // Or its paragraph, where it is the only recipient named (Lotus Notes puts the reason on the
    // line above: "User not listed in public Name & Address Book\nkim@x").
    if (at != std::string::npos && sessionCommand.empty() && !carriesAFailure(block)) {
      auto blankLineAt = [&](size_t nl) {
        const size_t b = lh.find_first_not_of(" \t\r", nl + 1);
        return b == std::string::npos || lh[b] == '\n';
      };
      size_t from = 0, to = lh.size();
      for (size_t nl = lh.rfind('\n', at); nl != std::string::npos && nl > 0; nl = lh.rfind('\n', nl - 1))
        if (blankLineAt(nl)) {
          from = nl + 1;
          break;
        }
      for (size_t nl = lh.find('\n', at); nl != std::string::npos; nl = lh.find('\n', nl + 1))
        if (blankLineAt(nl)) {
          to = nl;
          break;
        }
      const std::string paragraph = lh.substr(from, to - from);
      const bool alone = std::none_of(recipients.begin(), recipients.end(), [&](const std::string& o) {
        return o != r.recipient && paragraph.find(o) != std::string::npos;
      });
      if (alone && carriesAFailure(human.substr(from, to - from))) block = human.substr(from, to - from);
    }
    bool ownWords = carriesAFailure(block);
    const bool delivered = contains(section, "successful delivery notifications");  // savemail.c:1066
    if (!ownWords && !delivered) {
      // The lines of the text that carry a failure. An entry with words of its own takes none from
      // any recipient's entry (the line that names it and the lines under it, to its paragraph's
      // end; its own is in the block already): hMailServer's "Server does not support STARTTLS."
      // for one recipient is no reason to read the next one's "550 Unknown user" as its own.
      auto linesCarryingAFailure = [&](bool skipOthersEntries) {
        std::vector<std::pair<size_t, size_t>> others;
        if (skipOthersEntries)
          for (const auto& m : recipientMentions)
            if (m.opensLine) {  // its own entry is in the block already
              const size_t start = m.at == 0 ? 0 : lh.rfind('\n', m.at - 1) + 1;
              const size_t blankLine = lh.find("\n\n", m.at);
              others.emplace_back(start, blankLine == std::string::npos ? lh.size() : blankLine);
            }
        std::string lines;
        size_t lineAt = 0;
        std::istringstream in(human);
        for (std::string line; std::getline(in, line); lineAt += line.size() + 1) {
          if (std::any_of(others.begin(), others.end(), [&](const auto& o) { return lineAt >= o.first && lineAt < o.second; }))
            continue;
          const std::string ll = asciiLower(line);
          if (!findReplyCode(line).empty() || !findStatus(line).empty() || contains(ll, "said:") || contains(ll, "error") ||
              contains(ll, "reason") || !reasonFromText(line).empty())
            lines += line + "\n";
        }
        return lines;
      };
      std::string borrowed;
      if (entryHasWords) {
        borrowed = linesCarryingAFailure(true);
      } else {
        if (!failureLines) failureLines = linesCarryingAFailure(false);
        borrowed = failureLines->empty() ? human : *failureLines;
      }
      // Of those lines, the replies that name this recipient and no other are its own words: a
      // reply names the address it refuses (Sendmail's "550 5.1.1 <a@b>... User unknown",
      // Postfix's "<a@b>: Recipient address rejected"), wherever the notice prints it, even in a
      // paragraph apart from its failure list.
      std::string namingIt;
      std::istringstream lines(borrowed);
      for (std::string line; std::getline(lines, line);) {
        if (findReplyCode(line).empty() && findStatus(line).empty()) continue;  // a reply, not a list's heading
        const auto named = mentionsOf(asciiLower(line), recipients);
        if (!named.empty() && std::all_of(named.begin(), named.end(), [&](const Mention& m) { return m.address == r.recipient; }))
          namingIt += line + "\n";
      }
      if (!namingIt.empty() && at != std::string::npos) {
        borrowed = namingIt;
        ownWords = true;
      }
      block = (at == std::string::npos ? std::string() : block + "\n") + borrowed;
    }
    std::string flat = collapse(block);
    // Zoho writes "Invalid Address, ERROR_CODE :550, ERROR_CODE :<reply text>": a label, then
    // the reply split in two.
    static const Regex zoho(R"((?:Invalid Address|Error), ERROR_CODE :(\d{3}), ERROR_CODE :)");
    flat = std::regex_replace(flat, zoho, "$1 ");
    // At most 600 characters: where a notice quotes the returned message inline with nothing that
    // marks its start, its body (a phone number, "our office has moved") follows the failure's
    // words; the reply and its reason come first in a text notice.
    r.diagnostic = utf8Prefix(flat, 600);
    r.smtp_command = sessionCommand;
    r.action = "failed";
    // Google Groups: the group does not exist or refuses our sender, in the reader's language.
    if (contains(r.recipient, "@googlegroups.com")) r.reason = "rejected";
    if (delayNotice || contains(section, "transient non-fatal errors")) r.action = "delayed";
    // The reason from the whole block; the diagnostic shown from the server's reply on.
    BounceRecord done = completeRecord(r, ReportContext{"", "", reportsNoStage(v), permanent});
    // A notice whose words report a delivery (Domino's Delivery Confirmation Report) failed nothing.
    // Nor did Sendmail's "successful delivery notifications" (savemail.c:1066).
    if (delivered) {
      done.reason = "delivered";
      done.hard = false;
    }
    if (done.reason == "delivered") done.action = "delivered";
    // No evidence it is about this address: a guess, a mention in passing, or words that are not
    // in its own part of the text.
    // Unless the words are a failure of the recipient's domain itself, named by them: that is
    // every address's there, wherever the notice writes it (simta gives a host's error once,
    // above the addresses that share it: bounce.c, "The following error occurred during delivery
    // to host %s:", then "address %s" for each).
    const bool domainsOwnFailure =
        (done.reason == "hostunknown" || done.reason == "notaccept") && namesTheDomainOf(block, done.recipient);
    if (guessed.count(done.recipient) || (!ownWords && !domainsOwnFailure)) done.hard = false;
    // The words shown are the entry's own; the transcript's lines were evidence.
    if (!sendmailWords.empty()) done.diagnostic = collapse(sendmailWords);
    static const Regex reply(R"((?:^|[^\d.#:-])([45][0-7]\d[ -]))");
    std::smatch m;
    if (std::regex_search(done.diagnostic, m, reply)) done.diagnostic = done.diagnostic.substr(static_cast<size_t>(m.position(1)));

    done.sent_to = expandedFrom(lh, done.recipient, eximEntries);
    out.records.push_back(done);
  }
  out.format = "text";
  return true;
}

}  // namespace safetynet::bounce
