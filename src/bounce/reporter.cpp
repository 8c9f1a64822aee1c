#include "bounce/reporter.hpp"

#include <algorithm>
#include <cctype>
#include "bounce/regex.hpp"

#include "bounce/bounce_text.hpp"
#include "bounce/rule_engine.hpp"
#include "safetynet/core/text.hpp"

namespace safetynet::bounce {

namespace {

bool filteringGateway(const MimeView& v) {
  if (contains(asciiLower(v.header("x-mailer")), "surfcontrol")) return true;
  for (const auto& [name, value] : v.headers)
    if (name.rfind("x-sef-", 0) == 0 || name == "x-ahmailid") return true;  // SurfControl, Active!Hunter
  return std::any_of(v.received.begin(), v.received.end(),
                     [](const std::string& r) { return contains(asciiLower(r), "(mailfoundry)"); });
}

bool exchange2003(const MimeView& v) {
  return std::any_of(v.leaves.begin(), v.leaves.end(),
                     [](const MimeLeaf& l) { return l.depth == 0 && contains(l.text, "MSEXCH:"); });
}

// Diagnostic-Code: 5.0.0-style text with no "type;" before it.
bool untypedDiagnostic(const MimeView& v) {
  for (const auto& l : v.leaves) {
    if (l.depth != 0 || l.type != "message/delivery-status") continue;
    const std::string t = asciiLower(l.text);
    for (size_t at = t.find("diagnostic-code:"); at != std::string::npos; at = t.find("diagnostic-code:", at + 1)) {
      const auto eol = t.find('\n', at);
      const std::string value = t.substr(at + 16, eol == std::string::npos ? std::string::npos : eol - at - 16);
      const auto semi = value.find(';');
      // SendGrid leaves out the type but relays the reply ("550 5.1.1 ..."): that is an SMTP reply.
      const auto start = value.find_first_not_of(" \t");
      const bool reply = start != std::string::npos && value.size() >= start + 3 && (value[start] == '4' || value[start] == '5') &&
                         std::isdigit(static_cast<unsigned char>(value[start + 1])) &&
                         std::isdigit(static_cast<unsigned char>(value[start + 2]));
      if ((semi == std::string::npos || semi > 24) && !reply) return true;
    }
  }
  return false;
}

// A delivery-status part's per-message fields: its first block, up to the blank line before the
// per-recipient ones (RFC 3464 2.1). Blank lines before it (a part's leading newline) are skipped.
std::string perMessageFields(const std::string& status) {
  const size_t start = status.find_first_not_of(" \t\n");
  if (start == std::string::npos) return "";
  const size_t blank = status.find("\n\n", start);
  return status.substr(start, std::min(blank == std::string::npos ? status.size() : blank, kMaxHeaderBytes + start) - start);
}

}  // namespace

bool reportsNoStage(const MimeView& v) { return filteringGateway(v) || exchange2003(v) || untypedDiagnostic(v); }

std::set<std::string> addressesNotAbout(const MimeView& v) {
  std::set<std::string> out;
  for (const char* h : {"from", "sender", "reply-to", "return-path", "to", "delivered-to", "envelope-to",
                        "x-envelope-to"})
    for (const auto& a : mailboxesIn(v.header(h))) out.insert(a);
  for (const auto& o : v.originals)
    for (const char* h : {"from", "sender", "reply-to", "return-path"})
      if (auto it = o.find(h); it != o.end())
        for (const auto& a : mailboxesIn(it->second)) out.insert(a);
  // Message identifiers have an address's shape (RFC 5322 3.6.4: id-left "@" id-right) and name
  // no mailbox: the notice's own and the returned message's, which notices quote in their text
  // (Postal's "Orginal Message ID: %s", app/models/bounce_message.rb).
  // Only the identifiers in angle brackets: Gnus writes In-Reply-To: <id> (kim@globex.test's
  // message of "..."), a comment naming a person who may be the failed recipient.
  const auto identifiers = [&out](const std::string& value) {
    for (size_t open = value.find('<'); open != std::string::npos; open = value.find('<', open + 1)) {
      const size_t close = value.find('>', open);
      if (close == std::string::npos) break;
      for (const auto& a : allAddresses(value.substr(open + 1, close - open - 1))) out.insert(a);
      open = close;
    }
  };
  for (const char* h : {"message-id", "in-reply-to", "references"}) {
    identifiers(v.header(h));
    for (const auto& o : v.originals)
      if (auto it = o.find(h); it != o.end()) identifiers(it->second);
  }
  // The returned message's envelope sender, as Postfix reports it among the per-message fields
  // ("X-%s-Sender: %s; %s" with mail_name, "Postfix" by default: bounce_notify_util.c): in the
  // per-message block (RFC 3464 2.1, before the first blank line), where a per-recipient field
  // of another name cannot pass for it.
  static const Regex envelopeSender(R"((?:^|\n)x-[a-z0-9]+-sender:[ \t]*(?:rfc822|utf-8);[ \t]*<?([^\s<>]+@[^\s<>]+))",
                                         Regex::icase);
  for (const auto& l : v.leaves)
    if (l.depth == 0 && l.type == "message/delivery-status") {
      const std::string head = perMessageFields(l.text);
      std::smatch m;
      if (std::regex_search(head, m, envelopeSender)) out.insert(asciiLower(m[1].str()));
    }
  return out;
}

std::set<std::string> recipientForms(const MimeView& v) {
  std::set<std::string> out;
  static const Regex field(R"((?:^|\n)(?:original|final|x-actual)-recipient:[ \t]*[a-z0-9-]+;[ \t]*<?([^\s<>]+@[^\s<>]+))",
                                Regex::icase);
  for (const auto& l : v.leaves)
    if (l.depth == 0 && l.type == "message/delivery-status") {
      const std::string text = l.text.substr(0, kMaxHeaderBytes);
      for (auto it = RegexIterator(text.begin(), text.end(), field); it != RegexIterator(); ++it)
        out.insert(asciiLower((*it)[1].str()));
    }
  return out;
}

bool reporterMailbox(const std::string& address, const MimeView& v) {
  const auto at = address.rfind('@');
  const std::string local = address.substr(0, at), domain = at == std::string::npos ? "" : address.substr(at + 1);
  if (local == "mailer-daemon" || local == "mailer_daemon" || local == "mailerdaemon" || local == "mail-daemon" ||
      local == kExchangeSystemMailbox)
    return true;
  if (local != "postmaster" || domain.empty()) return false;
  std::vector<std::string> hosts;
  for (const char* h : {"from", "sender", "return-path"})
    if (auto a = addressIn(v.header(h)); !a.empty()) hosts.push_back(a.substr(a.rfind('@') + 1));
  static const Regex host(R"((?:\bby|\bfrom|reporting-mta:\s*dns;)\s+([a-z0-9.-]+\.[a-z]{2,}))", Regex::icase);
  auto addHosts = [&](const std::string& text) {
    const std::string t = asciiLower(text.size() > kMaxHeaderBytes ? text.substr(0, kMaxHeaderBytes) : text);
    for (auto it = RegexIterator(t.begin(), t.end(), host); it != RegexIterator(); ++it) hosts.push_back((*it)[1].str());
  };
  for (const auto& r : v.received) addHosts(r);
  for (const auto& l : v.leaves)
    if (l.depth == 0 && l.type == "message/delivery-status")
      if (auto p = asciiLower(l.text).find("reporting-mta:"); p != std::string::npos) addHosts(l.text.substr(p, 200));
  return std::any_of(hosts.begin(), hosts.end(), [&](const std::string& h) { return isOrUnder(h, domain); });
}

}  // namespace safetynet::bounce
