// The bounce classifier: MIME structure from GMime (mime_view), then the first reader that
// understands the message: ARF complaint (RFC 5965), disposition notification (RFC 8098),
// delivery-status report (RFC 3464, wherever its fields appear), the human text of the common MTAs that send no report (Exim, qmail,
// Gmail, Exchange...: text_reader.cpp), and auto-replies (RFC 3834), which are not bounces.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include "bounce/regex.hpp"
#include <set>
#include <sstream>
#include <string_view>

#include <nlohmann/json.hpp>

#include "bounce/bounce_text.hpp"
#include "bounce/mime_view.hpp"
#include "bounce/reason.hpp"
#include "bounce/record.hpp"
#include "bounce/rule_engine.hpp"
#include "bounce/reporter.hpp"
#include "bounce/sendmail_text.hpp"
#include "bounce/text_reader.hpp"
#include "bounce/list_notice.hpp"
#include "checks/mail_provider.hpp"
#include "safetynet/check/address.hpp"
#include "checks/registrable_domain.hpp"
#include "safetynet/bounce/bounce.hpp"
#include "safetynet/core/text.hpp"

namespace safetynet::bounce {

namespace {

// An address whose domain is one label ("kim@ims-ms-daemon"), not an address literal.
bool singleLabelDomain(const std::string& address) {
  const auto at = address.rfind('@');
  if (at == std::string::npos) return false;
  const std::string domain = address.substr(at + 1);
  return !domain.empty() && domain.front() != '[' && domain.find('.') == std::string::npos;
}

using Fields = std::vector<std::pair<std::string, std::string>>;
std::vector<Fields> fieldBlocks(const std::string& text) {
  std::vector<Fields> blocks(1);
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (trim(line).empty()) {
      if (!blocks.back().empty()) blocks.emplace_back();
      continue;
    }
    if ((line[0] == ' ' || line[0] == '\t') && !blocks.back().empty()) {
      if (blocks.back().back().second.size() < kMaxHeaderBytes) blocks.back().back().second += " " + trim(line);
      continue;
    }
    const auto colon = line.find(':');
    if (colon == std::string::npos || colon == 0 || line.find(' ') < colon) continue;
    blocks.back().emplace_back(asciiLower(line.substr(0, colon)), trim(line.substr(colon + 1)));
  }
  if (blocks.back().empty()) blocks.pop_back();
  return blocks;
}

std::string field(const Fields& f, const std::string& name) {
  for (const auto& [k, v] : f)
    if (k == name) return v;
  return "";
}

// "smtp; 550 5.1.1 <a@b>... User unknown" -> "550 5.1.1 <a@b>... User unknown"
std::string stripType(const std::string& v) {
  const auto semi = v.find(';');
  if (semi != std::string::npos && semi < 12) return trim(v.substr(semi + 1));
  return v;
}

// ---- ARF (RFC 5965) ----
// "complaint (abuse)"; a report that is none says so.
std::string feedbackDiagnostic(const std::string& feedback_type) {
  return isComplaint(feedback_type) ? "complaint (" + feedback_type + ")"
                                    : "feedback report (" + feedback_type + "), no complaint by the recipient";
}

bool readArf(const MimeView& v, Classification& out) {
  const MimeLeaf* report = nullptr;
  for (const auto& l : v.leaves)
    if (l.type == "message/feedback-report") report = &l;
  if (!report && v.report_type != "feedback-report") return false;
  std::vector<std::string> recipients;
  std::string feedbackType;
  if (report)
    for (const auto& block : fieldBlocks(report->text))
      for (const auto& [name, value] : block) {
        // One report may name several recipients (a spam trap network's report, for one).
        if (name == "original-rcpt-to" || name == "removal-recipient")
          if (auto a = addressIn(value); !a.empty() && std::find(recipients.begin(), recipients.end(), a) == recipients.end())
            recipients.push_back(a);
        if (name == "feedback-type" && feedbackType.empty()) feedbackType = asciiLower(value);
      }
  // Else the complained-of message's To. A report a person forwarded as an attachment is itself an
  // attached message (after the forwards around it, in document order), addressed to our abuse box:
  // the message it reports is the one after it, inside it (RFC 5965 2: the report's third part).
  auto isTheReport = [](const std::map<std::string, std::string>& h) {
    const auto ct = h.find("content-type");
    return ct != h.end() && contains(asciiLower(ct->second), "feedback-report");
  };
  size_t reported = 0;
  for (size_t i = 0; i < v.originals.size(); ++i)
    if (isTheReport(v.originals[i])) reported = i + 1;
  // A report whose third part is the message's headers as text (text/rfc822-headers, right after
  // the report, at its depth) names it there: the readers list such headers after every attached
  // message, so another attached after the report (the lead's own reply) came first.
  if (recipients.empty() && report)
    for (size_t i = 0; i + 1 < v.leaves.size(); ++i)
      if (&v.leaves[i] == report) {
        const MimeLeaf& third = v.leaves[i + 1];
        std::string ignored;
        if (third.type == "text/rfc822-headers" && third.depth == report->depth)
          if (auto headers = readMime(third.text + "\n\n", &ignored))
            if (const auto to = mailboxesIn(headers->header("to")); !to.empty()) recipients.push_back(to.front());
        break;
      }
  if (recipients.empty())
    for (size_t i = reported; i < v.originals.size(); ++i)
      if (auto it = v.originals[i].find("to"); it != v.originals[i].end())
        if (const auto to = mailboxesIn(it->second); !to.empty()) {
          recipients.push_back(to.front());
          break;
        }
  if (recipients.empty()) recipients.push_back("");
  for (const auto& recipient : recipients) {
    BounceRecord r;
    r.reason = "feedback";
    r.recipient = recipient;
    r.feedback_type = feedbackType.empty() ? "abuse" : feedbackType;
    r.diagnostic = feedbackDiagnostic(r.feedback_type);
    out.records.push_back(r);
  }
  out.format = "arf";
  return true;
}

// ---- Microsoft's Junk Mail Reporting Program: not ARF ----
// Outlook.com sends "complaint about message from <IP>" from staff@hotmail.com with the message
// attached; the complainer is in the attached message's X-HmXmrOriginalRecipient.
bool readJmrp(const MimeView& v, Classification& out) {
  for (const auto& h : v.originals) {
    auto it = h.find("x-hmxmroriginalrecipient");
    if (it == h.end()) continue;
    BounceRecord r;
    r.reason = "feedback";
    r.recipient = addressIn(it->second);
    r.feedback_type = "abuse";
    r.diagnostic = "complaint (abuse) through Microsoft JMRP";
    if (r.recipient.empty()) continue;
    out.records.push_back(r);
  }
  if (out.records.empty()) return false;
  out.format = "jmrp";
  return true;
}

// An SES field's text: its default when absent or not a string (SES writes null for an empty
// complaintSubType, its guide says; json::value would throw on it and lose the notice).
std::string jsonText(const nlohmann::json& o, const char* key, const std::string& otherwise) {
  const auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : otherwise;
}

// ---- Amazon SES notifications (JSON, possibly inside an SNS envelope) ----
bool readSesJson(const MimeView& v, Classification& out) {
  for (const auto& l : v.leaves) {
    if (l.depth != 0 || (l.text.find("notificationType") == std::string::npos && l.text.find("eventType") == std::string::npos))
      continue;
    std::string body = l.text;
    // Sendmail folds lines longer than 990 characters with "!" + newline + space.
    for (size_t p; (p = body.find("!\n ")) != std::string::npos;) body.erase(p, 3);
    const auto open = body.find('{'), close = body.rfind('}');
    if (open == std::string::npos || close == std::string::npos || close < open) continue;
    auto j = nlohmann::json::parse(body.substr(open, close - open + 1), nullptr, false);  // SNS adds a footer
    if (j.is_object() && j.contains("Message") && j["Message"].is_string())
      j = nlohmann::json::parse(j["Message"].get<std::string>(), nullptr, false);
    if (!j.is_object()) continue;
    const std::string type = asciiLower(jsonText(j, "notificationType", jsonText(j, "eventType", "")));
    if (type == "bounce" && j.contains("bounce") && j["bounce"].is_object()) {
      const auto& b = j["bounce"];
      if (b.contains("bouncedRecipients") && b["bouncedRecipients"].is_array())
        for (const auto& x : b["bouncedRecipients"]) {
          if (!x.is_object()) continue;
          BounceRecord r;
          r.recipient = addressIn(jsonText(x, "emailAddress", ""));
          r.action = asciiLower(jsonText(x, "action", "failed"));
          r.status = findStatus(jsonText(x, "status", ""));
          r.diagnostic = stripType(jsonText(x, "diagnosticCode", ""));
          if (r.diagnostic.empty()) r.diagnostic = jsonText(b, "bounceType", "") + " " + jsonText(b, "bounceSubType", "");
          // SES's own bounce type and subtype (vendor_codes.amazon_ses): a specific subtype names
          // the reason; "General" and "Undetermined" name none, and the words decide. Hard or soft
          // is still the words' reading, and a bounce SES calls Transient is never hard.
          const std::string bounceType = jsonText(b, "bounceType", ""), subType = jsonText(b, "bounceSubType", "");
          // Not for a recipient SES is still retrying: nothing has refused it yet.
          if (!subType.empty() && subType != "General" && subType != "Undetermined" && r.action != "delayed")
            r.reason = vendorReason(*activeRules(), "amazon_ses", "", bounceType + "/" + subType);
          if (r.recipient.empty()) continue;
          BounceRecord done = completeRecord(r);
          // With no diagnosticCode, no server's words: SES's own code is the only evidence, and its
          // table says which codes are a dead address (Permanent/Suppressed: "a recent history of
          // bouncing as an invalid address", as the emailed notice's words read, rule
          // amazon-ses-suppressed-global). Only for a failed recipient: SES's own example of a
          // NoEmail record carries a second recipient still delayed ("action": "delayed", 4.0.0),
          // which nothing has refused yet.
          if (!done.hard && !x.contains("diagnosticCode") && asciiLower(done.action) == "failed" &&
              (done.reason == "userunknown" || done.reason == "hostunknown") &&
              vendorCodeIsHard(*activeRules(), "amazon_ses", bounceType + "/" + subType)) {
            done.hard = true;
            done.why += std::string(done.why.empty() ? "" : "; ") + "hard: Amazon SES's own code " + bounceType + "/" + subType +
                        " says the address is dead, and no server's words say otherwise";
          }
          if (done.hard && asciiLower(bounceType) == "transient") {
            done.hard = false;
            done.why += std::string(done.why.empty() ? "" : "; ") + "soft: Amazon SES calls the bounce Transient";
          }
          out.records.push_back(done);
        }
    } else if (type == "complaint" && j.contains("complaint") && j["complaint"].is_object()) {
      const auto& c = j["complaint"];
      if (c.contains("complainedRecipients") && c["complainedRecipients"].is_array())
        for (const auto& x : c["complainedRecipients"]) {
          BounceRecord r;
          r.recipient = addressIn(x.is_object() ? jsonText(x, "emailAddress", "") : "");
          r.reason = "feedback";
          // SES passes on the ISP's Feedback-Type (its API reference, Complaint).
          r.feedback_type = jsonText(c, "complaintFeedbackType", "abuse");
          r.diagnostic = feedbackDiagnostic(r.feedback_type);
          // "OnAccountSuppressionList": SES did not send it, the address being on our account's
          // suppression list (developer guide, complaintSubType): no one complained of this one.
          if (jsonText(c, "complaintSubType", "") == "OnAccountSuppressionList") {
            r.reason = "suppressed";
            r.feedback_type.clear();
            r.diagnostic = "not sent: on the account-level suppression list (Amazon SES, OnAccountSuppressionList)";
          }
          if (!r.recipient.empty()) out.records.push_back(r);
        }
    } else if (type == "delivery" && j.contains("delivery") && j["delivery"].is_object()) {
      const auto& d = j["delivery"];
      if (d.contains("recipients") && d["recipients"].is_array())
        for (const auto& x : d["recipients"]) {
          BounceRecord r;
          r.recipient = addressIn(x.is_string() ? x.get<std::string>() : "");
          r.action = "delivered";
          r.diagnostic = jsonText(d, "smtpResponse", "");
          if (!r.recipient.empty()) out.records.push_back(completeRecord(r));
        }
    } else if (type == "deliverydelay" && j.contains("deliveryDelay") && j["deliveryDelay"].is_object()) {
      // A recipient SES is still retrying (developer guide, "DeliveryDelay object"): a delay, as a
      // DSN's "Action: delayed", never a failure; the server's words, else SES's delayType, name why.
      const auto& d = j["deliveryDelay"];
      if (d.contains("delayedRecipients") && d["delayedRecipients"].is_array())
        for (const auto& x : d["delayedRecipients"]) {
          if (!x.is_object()) continue;
          BounceRecord r;
          r.recipient = addressIn(jsonText(x, "emailAddress", ""));
          r.action = "delayed";
          r.status = findStatus(jsonText(x, "status", ""));
          r.diagnostic = stripType(jsonText(x, "diagnosticCode", ""));
          // No server's words: SES's delayType names the cause (vendor_codes.amazon_ses).
          if (r.diagnostic.empty()) {
            const std::string delayType = jsonText(d, "delayType", "");
            r.diagnostic = "DeliveryDelay " + delayType;
            r.reason = vendorReason(*activeRules(), "amazon_ses", "", "DeliveryDelay/" + delayType);
          }
          if (!r.recipient.empty()) out.records.push_back(completeRecord(r));
        }
    }
    if (!out.records.empty()) {
      out.format = "amazonses";
      return true;
    }
  }
  return false;
}

// ---- Message disposition notifications (RFC 8098) ----
// A read receipt says the message arrived: no failure. One disposition is a refusal: a Sieve
// "reject" (RFC 5429) answers with an MDN whose disposition is "automatic-action/MDN-sent-
// automatically; deleted", the recipient's own filter having refused the message (Dovecot
// Pigeonhole sieve-actions.c, Cyrus lmtp_sieve.c, Zimbra FilterUtil.java reject()). That is
// `filtered`, soft, for its Final-Recipient, with the filter's reason from the human part. A
// "Not read" receipt (the message deleted unread after delivery) is a person's act, whatever
// mode a gateway converting it wrote.
bool readMdn(const MimeView& v, Classification& out) {
  const MimeLeaf* report = nullptr;
  for (const auto& l : v.leaves)
    if (l.depth == 0 && l.type == "message/disposition-notification") report = &l;
  if (!report) return false;
  std::string recipient, original, disposition, human;
  // Cyrus may write a session id as Final-Recipient (sieve_mdn_private, lmtp_sieve.c): an
  // address only, else the Original-Recipient.
  auto anAddress = [](const std::string& v) {
    std::string a = reportedAddress(v);
    return a.find('@') == std::string::npos ? std::string() : a;
  };
  for (const auto& block : fieldBlocks(report->text)) {
    if (recipient.empty()) recipient = anAddress(field(block, "final-recipient"));
    if (original.empty()) original = anAddress(field(block, "original-recipient"));
    if (disposition.empty()) disposition = field(block, "disposition");
  }
  for (const auto& l : v.leaves)
    if (l.depth == 0 && l.type == "text/plain") {
      human = humanBeforeOriginal(l.text);
      break;
    }
  if (recipient.empty()) recipient = original;
  // "action-mode/sending-mode; disposition-type[/modifier]" (RFC 8098 3.2.6)
  const std::string ld = asciiLower(disposition);
  const auto semi = ld.find(';');
  const std::string mode = trim(ld.substr(0, semi));
  const std::string type = semi == std::string::npos ? "" : trim(ld.substr(semi + 1));
  const std::string lh = asciiLower(human) + " " + asciiLower(v.header("subject"));
  const bool refused = mode.rfind("automatic-action", 0) == 0 && type.rfind("deleted", 0) == 0 && !recipient.empty() &&
                       !contains(lh, "without being read") && !contains(lh, "not read:");
  out.format = "mdn";
  if (!refused) {
    out.error = "no failed recipient found: a message disposition notification (RFC 8098), \"" + disposition + "\", reports no failure";
    return true;
  }
  BounceRecord r;
  r.recipient = recipient;
  r.reason = "filtered";
  r.action = "failed";
  if (asciiLower(original) != asciiLower(recipient)) r.sent_to = original;  // an alias's source, as in a DSN
  r.diagnostic = utf8Prefix(collapse(human), 600);
  r.why = "the recipient's own filter refused the message (an automatic \"deleted\" disposition, a Sieve reject)";
  out.records.push_back(r);
  return true;
}

// ---- RFC 3464 delivery-status fields, in a report part or pasted into a text ----
// The part of a notice's human text about one recipient of its report: from the recipient's mention
// (the first that opens a line, else the first: a Subject line or an intro sentence may name it
// first) to the paragraph's end, or to the line that another recipient of the report opens. Exim
// lists its addresses one under another, each with its reason indented below it and no blank line
// between (deliver.c's "The following address(es) failed:" and its delay warning): an address with
// no reason of its own is followed at once by the next one's. Another recipient named inside a
// reason ("please write to b@x", "RCPT TO:<b@x>") does not end it. Recipients listed across lines
// with a comma ("a@x,\n b@y: 550 ...") share the words after the list's last member.
std::string paragraphAbout(const std::string& human, const std::string& lh, const std::vector<Mention>& mentions,
                           const std::string& recipient) {
  const Mention* self = nullptr;
  for (const auto& m : mentions)
    if (m.address == recipient && (!self || (m.opensLine && !self->opensLine))) {
      self = &m;
      if (m.opensLine) break;
    }
  if (!self) return "";
  const size_t at = self->at;
  size_t blank = lh.find("\n\n", at);
  if (blank == std::string::npos) blank = lh.size();
  size_t from = at + recipient.size();
  const size_t ownLineEnd = std::min(lh.find('\n', at), lh.size());
  for (const auto& m : mentions) {
    if (m.at < from || m.address == recipient) continue;
    if (m.at >= blank) break;
    // A later line of its own about another recipient ("Delivery to b@y failed with error: ...",
    // maddy's one line per recipient with no blank line between) is that recipient's entry. An
    // indented line continues this entry (Exim's and Postfix's wrapped words: "    550 5.1.1 Alice
    // has left; please write to bob@...").
    if (!m.opensLine) {
      const size_t lineStart = lh.rfind('\n', m.at);
      if (lineStart != std::string::npos && lineStart >= ownLineEnd && lineStart + 1 < lh.size() &&
          lh[lineStart + 1] != ' ' && lh[lineStart + 1] != '\t') {
        blank = lineStart;
        break;
      }
      continue;
    }
    const std::string_view gap(lh.data() + from, m.at - from);
    if (gap.find_first_not_of(" \t\r\n,;<>\"'") == std::string_view::npos && gap.find_first_of(",;") != std::string_view::npos) {
      from = m.at + m.address.size();
      continue;
    }
    blank = lh.rfind('\n', m.at);
    break;
  }
  return human.substr(at, blank - at);
}

// Which of Exim's "(generated from <ancestor>)" entries each record naming that ancestor is.
// The DSN walks the failed addresses in the reverse of the text's order, and puts those with a
// transport's output file elsewhere (deliver.c: msgchain, handled_addr), so the order is no
// guide: a record whose Diagnostic-Code names one entry's address is that entry's; a lone record
// and a lone entry are each other's; records with no words of their own, as many as the entries,
// take them in any order (their words come from each entry's paragraph). A record whose reply
// (and Remote-MTA, where the entry names its host) stands under one entry only is that entry's:
// Exim writes the same message for an address in both parts (deliver.c: addr->message). Records
// it cannot tell apart stay the ancestor's, and are returned: never hard, the failure being one
// of its members'. So is a member Exim hides ("an undisclosed address").
std::vector<size_t> redirectsToTheirMembers(std::vector<BounceRecord>& records, const std::vector<GeneratedEntry>& entries,
                                            const std::vector<std::string>& remoteMtas) {
  std::vector<size_t> unknownMember;
  if (entries.empty()) return unknownMember;
  std::map<std::string, std::vector<size_t>> byAncestor;  // ancestor -> its records
  for (size_t i = 0; i < records.size(); ++i) byAncestor[asciiLower(records[i].recipient)].push_back(i);
  for (const auto& [ancestor, blocks] : byAncestor) {
    std::vector<const GeneratedEntry*> open;
    for (const auto& e : entries)
      if (e.ancestor == ancestor && e.address != ancestor) open.push_back(&e);
    if (open.empty()) continue;
    std::map<size_t, const GeneratedEntry*> member;
    for (size_t b : blocks) {
      if (records[b].diagnostic.empty()) continue;
      const std::string words = asciiLower(records[b].diagnostic);
      std::vector<const GeneratedEntry*> named;
      for (const auto* e : open)
        if (!e->address.empty() && !mentionsOf(words, {e->address}).empty()) named.push_back(e);
      if (named.size() == 1) {
        member[b] = named[0];
        open.erase(std::find(open.begin(), open.end(), named[0]));
      }
    }
    // The reply's first words, and its host, under an entry.
    auto standsUnder = [&](size_t b, const GeneratedEntry& e) {
      const std::string reply = collapse(asciiLower(records[b].diagnostic)).substr(0, 48);
      const std::string host = b < remoteMtas.size() ? asciiLower(trim(remoteMtas[b])) : std::string();
      return !reply.empty() && contains(e.words, reply) &&
             (host.empty() || !contains(e.words, "host ") || contains(e.words, "host " + host));
    };
    for (size_t b : blocks) {
      if (member.count(b) || records[b].diagnostic.empty()) continue;
      std::vector<const GeneratedEntry*> under;
      for (const auto* e : open)
        if (standsUnder(b, *e)) under.push_back(e);
      if (under.size() == 1) {
        member[b] = under[0];
        open.erase(std::find(open.begin(), open.end(), under[0]));
      }
    }
    std::vector<size_t> left;
    for (size_t b : blocks)
      if (!member.count(b)) left.push_back(b);
    const bool wordless = std::all_of(left.begin(), left.end(), [&](size_t b) { return records[b].diagnostic.empty(); });
    // Records alike, each standing under every entry left: any order reads the same.
    const bool alike = std::all_of(left.begin(), left.end(), [&](size_t b) {
      return std::all_of(open.begin(), open.end(), [&](const GeneratedEntry* e) { return standsUnder(b, *e); });
    });
    if (left.size() == open.size() && (left.size() == 1 || wordless || alike))
      for (size_t k = 0; k < left.size(); ++k) member[left[k]] = open[k];
    for (size_t b : blocks) {
      const auto it = member.find(b);
      if (it == member.end() || it->second->address.empty()) {
        unknownMember.push_back(b);
        continue;
      }
      auto& r = records[b];
      if (r.sent_to.empty()) r.sent_to = r.recipient;
      r.recipient = it->second->address;
    }
  }
  return unknownMember;
}

// X-Actual-Recipient names a program or a file ("X-Unix; |/usr/bin/procmail", "X-Unix;
// /var/mail/x", "RFC822; |IFS=' ' && exec ...").
bool programOrFile(const std::string& value) {
  const std::string a = trim(stripType(value));
  return !a.empty() && (a[0] == '|' || a[0] == '/' || a[0] == '"');
}

// X-Actual-Recipient's address when it names another mailbox than the Final-Recipient: not a
// program or a file, nor the same user on a host of the recipient's domain (Sendmail gives a
// local mailer's user its host's name, "jdoe@mail.corp.example" for jdoe@corp.example). ""
// otherwise.
// The same user on a host of the address's own domain ("jdoe@mail.corp.example" for
// jdoe@corp.example): one mailbox under the name a mail system gave it, not another one.
bool sameUserOnAHostOf(const std::string& rewritten, const std::string& address) {
  const std::string a = asciiLower(rewritten), r = asciiLower(address);
  const auto at = a.rfind('@'), rat = r.rfind('@');
  if (at == std::string::npos || rat == std::string::npos || a == r) return false;
  return a.substr(0, at) == r.substr(0, rat) && isOrUnder(a.substr(at + 1), r.substr(rat + 1));
}

// Exchange hybrid's routing address of a mailbox moved to Exchange Online: the on-premises mail
// user's target address, "<alias>@<tenant>.mail.onmicrosoft.com" (Microsoft KB 2685437: "the
// target address, also known as the service routing address"). The same local part at the
// tenant of the address's own organization is the same mailbox under its routing name
// (routing-rewrites). The tenant must be the domain's name ("contoso-mfg.example" and
// "contosomfg"): the same local part at another company's tenant is a forward to it, and
// Microsoft's 5.1.10 article reads an NDR naming another address than the one sent as "the
// recipient is forwarding to a bad address" (review-2026-12-08-22).
bool hybridRoutingNameOf(const std::string& rewritten, const std::string& address) {
  static const std::string routing = ".mail.onmicrosoft.com";
  const std::string a = asciiLower(rewritten), r = asciiLower(address);
  const auto at = a.rfind('@'), rat = r.rfind('@');
  if (at == std::string::npos || rat == std::string::npos || a == r || a.size() <= routing.size() ||
      a.compare(a.size() - routing.size(), routing.size(), routing) != 0 || at + 1 >= a.size() - routing.size() ||
      a.substr(0, at) != r.substr(0, rat) || r.find(".onmicrosoft.com") != std::string::npos)
    return false;
  const std::string tenant = a.substr(at + 1, a.size() - routing.size() - at - 1);
  const std::string organization = checks::registrableDomain(r.substr(rat + 1));
  const size_t suffix = organization.find('.');
  if (suffix == std::string::npos) return false;
  std::string name;
  for (char c : organization.substr(0, suffix))
    if (std::isalnum(static_cast<unsigned char>(c))) name += c;
  return !name.empty() && tenant == name;
}

std::string actualRecipient(const std::string& value, const std::string& recipient) {
  if (trim(stripType(value)).empty() || programOrFile(value)) return "";
  const std::string actual = reportedAddress(value);
  if (actual.find('@') == std::string::npos || actual == asciiLower(recipient) || sameUserOnAHostOf(actual, recipient)) return "";
  return actual;
}

// X-Actual-Recipient's local user when it is one (no domain: Sendmail's local mailer, "X-Unix;
// old.driver") other than the recipient's own local part, not a program or a file; "" otherwise.
std::string localMember(const std::string& value, const std::string& recipient) {
  const std::string a = asciiLower(trim(stripType(value)));
  if (a.empty() || programOrFile(value) || a.find('@') != std::string::npos || a.find_first_of(" \t") != std::string::npos)
    return "";
  const std::string r = asciiLower(recipient);
  return a == r.substr(0, r.rfind('@')) ? "" : a;
}

bool sameOrganization(const std::string& a, const std::string& b);

// One mailbox in two spellings: its domain in U-labels and in A-labels, which RFC 5890 2.3.2.1
// makes one label (an SMTPUTF8 sender's ORCPT "utf-8;info@bücher.example" beside the ASCII RCPT
// its library sent, "info@xn--bcher-kva.example"). Compared as the bounce history keys addresses
// (canonicalAddress: the local part lower-cased, the domain in A-labels).
bool sameMailbox(const std::string& a, const std::string& b) {
  return asciiLower(canonicalAddress(a)) == asciiLower(canonicalAddress(b));
}

void giveAStoresAnswerToTheAddressSent(std::vector<BounceRecord>& records, const std::set<size_t>& pairs, const MimeView& v,
                                       const std::string& sender);

bool readDsn(const MimeView& v, Classification& out) {
  std::vector<const MimeLeaf*> sources;
  for (const auto& l : v.leaves)
    if (l.depth == 0 && (l.type == "message/delivery-status" || l.type == "message/global-delivery-status")) sources.push_back(&l);
  // A report's fields in a text part: a mail system that sends its report as text, a rep
  // forwarding a notice inline. Not in a person's reply or an auto-reply that quotes one (the
  // recipient's IT answering that the mailbox is restored, a help desk acknowledging a ticket),
  // nor in a person's own new message pasting them (a colleague asking whether to resend): the
  // failure is the quoted notice's, not this message's.
  if (sources.empty() && !aPersonsAnswer(v)) {
    for (const auto& l : v.leaves)
      if (l.depth == 0 && l.type.rfind("text/", 0) == 0 && contains(asciiLower(l.text), "final-recipient:")) sources.push_back(&l);
    if (!sources.empty() && aPersonsOwnMessage(v)) sources.clear();
  }
  if (sources.empty()) return false;
  std::vector<BounceRecord> records;
  std::set<size_t> expandedMember;      // records whose failure is a local member's (X-Actual-Recipient)
  std::set<size_t> pairs;               // records whose Final-Recipient came from another Original-Recipient
  std::vector<std::string> remoteMtas;  // each record's Remote-MTA
  std::vector<std::string> categories;  // each record's reason from the sender's own category (PowerMTA)
  std::string reportingMta;
  // Courier writes an ASCII address in its report as RFC 3461's xtext, "rfc822;lars+2Borders@x"
  // for lars+orders@x (courier-libs rfc2045/rfc6533.C encode(), which courier's module.dsn/dsn.C
  // uses for Final-Recipient), and Exim copies our ORCPT parameter's xtext into
  // Original-Recipient. RFC 3464 2.3.2 wants the address itself there, and a real address may
  // hold "+2b" (a tag): the decoded form only where the notice names it too (the server's reply,
  // the returned message).
  std::string noticeText;  // every part, lower case, built when first needed
  const auto asNamed = [&](const std::string& a) {
    const std::string decoded = decodedXtext(a);
    if (decoded == a) return a;
    if (noticeText.empty())
      for (const auto& l : v.leaves) noticeText += asciiLower(l.text) + "\n";
    // The whole address, not the end of a longer one ("ann+61@x" is not "anna@x" because
    // "hanna@x" is named).
    const auto inAddress = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("._%+-=/!#$&'*?^`{|}~", c); };
    for (size_t at = noticeText.find(decoded); at != std::string::npos; at = noticeText.find(decoded, at + 1)) {
      const size_t end = at + decoded.size();
      if ((at == 0 || !inAddress(noticeText[at - 1])) &&
          (end == noticeText.size() || !(std::isalnum(static_cast<unsigned char>(noticeText[end])) || noticeText[end] == '-')))
        return decoded;
    }
    return a;
  };
  for (const auto* src : sources)
    for (const auto& block : fieldBlocks(src->text)) {
      if (auto mta = field(block, "reporting-mta"); !mta.empty()) reportingMta = stripType(mta);
      std::string recipient = asNamed(reportedAddress(field(block, "final-recipient")));
      if (recipient.empty()) recipient = asNamed(reportedAddress(field(block, "original-recipient")));
      if (recipient.empty()) continue;
      BounceRecord r;
      r.recipient = recipient;
      if (const std::string original = asNamed(reportedAddress(field(block, "original-recipient")));
          original.find('@') != std::string::npos && asciiLower(original) != asciiLower(recipient)) {
        // The same mailbox spelled another way is no forward: the record keeps the sender's
        // spelling (RFC 3464 2.3.1: Original-Recipient is the address "as specified by the sender").
        if (sameMailbox(original, recipient)) r.recipient = original;
        // A final address in no domain of the DNS (one label: Oracle Messaging Server's store
        // channel, "kim@ims-ms-daemon", or "kim@localhost") is the system's own name for the
        // mailbox the original address reached, not an address anyone writes to (RFC 5321 2.3.5:
        // a domain name in an address is fully qualified): the failure is the original's.
        // Oracle: its notices give the original form "because that is the form that the recipient
        // of the notification message is most likely to recognize".
        else if (singleLabelDomain(recipient) && !singleLabelDomain(original)) r.recipient = original;
        else {
          r.sent_to = original;
          pairs.insert(records.size());
        }
      }
      // Sendmail's Final-Recipient is the address of its RCPT, the one the sender used; an alias
      // or a forward's "real problem address" is X-Actual-Recipient (savemail.c:1262-1340). The
      // failure is that address's; the one we sent to is where it came from (sent_to).
      if (const std::string actual = actualRecipient(field(block, "x-actual-recipient"), recipient); !actual.empty()) {
        if (r.sent_to.empty()) r.sent_to = recipient;
        r.recipient = actual;
      } else if (const std::string member = localMember(field(block, "x-actual-recipient"), recipient); !member.empty()) {
        // A local mailer's user the alias expanded to ("X-Unix; old.driver"): no address to give
        // the failure, which is still not the alias's own (as an Exim forward's hidden member).
        expandedMember.insert(records.size());
      }
      // The action's word: Sendmail adds a comment ("delivered (to mailbox)", "expanded (to
      // multi-recipient alias)", savemail.c:1211-1233), as RFC 5322 3.2.2 lets a field.
      r.action = asciiLower(trim(field(block, "action")));
      r.action = r.action.substr(0, r.action.find_first_of(" \t("));
      r.status = findStatus(field(block, "status"));
      const std::string code = field(block, "diagnostic-code");
      r.diagnostic = stripType(code);
      // A local delivery program failed (procmail, a pipe): not the mailbox's fault.
      // (Unless it says the mailbox is over quota.) But an SMTP reply under that type is the MTA's
      // own: Sendmail gives its local mailer's type, X-Unix, to its "550 5.1.1 User unknown" for a
      // local user it does not know (recipient.c:1005-1007; savemail.c's Diagnostic-Code takes
      // the mailer's m_diagtype): the rules read it as any reply. A program's own output (Postfix's
      // pipe and local(8) give X-Unix to a command's words) stays its failure. A delivery, a relay or
      // an expansion failed nothing (a Sendmail return receipt: "250 2.0.0 ... Delivered").
      // Nor a program that exited EX_NOUSER and printed nothing: Postfix's pipe(8) then writes the
      // sysexits text, "user unknown" with 5.1.1 (global/sys_exits.c; pipe_command.c:653-660, the
      // command's output instead when it printed some). Dovecot's LDA exits so, silent, when its
      // userdb has no such user (dovecot/core@f28b5a92ec src/lda/main.c:529-532). A program that
      // said more keeps its words (procmail's "Couldn't create ... No such user" under 5.1.1 is a
      // forward's local setup, not the address). Sendmail writes a local mailer's exit code itself,
      // "X-Unix; 67", with the status of that code (deliver.c:4847-4854, ex2enhsc): 67 is EX_NOUSER,
      // "550 5.1.1 User unknown" (libsm/strexit.c). Not a program's (X-Actual-Recipient "X-Unix;
      // |/usr/bin/vacation kasia"): its 67 is about its own argument; the mailbox had its copy.
      static const Regex mtaReply(R"(^\s*[45]\d\d[ -][45]\.\d{1,3}\.\d{1,3}\b)");
      if (asciiLower(code).rfind("x-unix", 0) == 0 && !std::regex_search(r.diagnostic, mtaReply) &&
          !(r.status == "5.1.1" && (asciiLower(trim(r.diagnostic)) == "user unknown" ||
                                    (trim(r.diagnostic) == "67" && !programOrFile(field(block, "x-actual-recipient"))))) &&
          r.action != "delivered" && r.action != "relayed" && r.action != "expanded") {
        // Postfix writes a mailbox's write error as the sysexits text of EX_IOERR, "input/output
        // error", whatever errno was, and puts the cause in the status (mail_copy.c: dsb_unix(why,
        // mbox_dsn(errno, "5.3.0"), "input/output error", ...); mbox_open.c: EDQUOT and EFBIG are
        // 5.2.2, mailbox full): such fixed words name nothing, the status does.
        const std::string words = asciiLower(trim(r.diagnostic));
        const bool fixedWords = words == "input/output error";
        const bool statusSaysFull = r.status.size() == 5 && r.status.compare(1, 4, ".2.2") == 0;
        r.reason = reasonFromText(r.diagnostic) == "mailboxfull" || (fixedWords && statusSaysFull) ? "mailboxfull" : "mailererror";
      }
      // PowerMTA names its own category for each recipient (vendor_codes.powermta): its guess,
      // which a sourced rule on the reply's own words overrules (completeRecord).
      const std::string category = field(block, "x-powermta-bouncecategory");
      categories.push_back(category.empty() ? "" : vendorReason(*activeRules(), "powermta", "", category));
      remoteMtas.push_back(stripType(field(block, "remote-mta")));
      records.push_back(r);
    }
  if (records.empty()) return false;
  // The human text often says more than the report (the SMTP command, the full reply).
  std::string human;
  for (const auto& l : v.leaves)
    if (l.depth == 0 && l.type == "text/plain") {
      human = l.text;
      break;
    }
  // Exim's Final-Recipient is the ancestor of an address a redirect produced, the one the sender
  // used (deliver.c print_dsn_addr_action); its text names the failed member above "(generated
  // from <ancestor>)". A list with one dead member is not a dead list: the failure is the
  // member's, the list is where it came from (sent_to).
  std::set<size_t> hiddenMember;
  for (size_t i : redirectsToTheirMembers(records, eximGeneratedEntries(human), remoteMtas)) hiddenMember.insert(i);
  hiddenMember.insert(expandedMember.begin(), expandedMember.end());
  std::vector<std::string> reported;
  std::map<std::string, int> times;  // how many records name each address
  for (const auto& r : records) {
    reported.push_back(asciiLower(r.recipient));
    ++times[reported.back()];
  }
  const std::string lh = asciiLower(human);
  const std::vector<Mention> mentions = human.empty() ? std::vector<Mention>{} : mentionsOf(lh, reported);
  // One recipient: a transcript anywhere in the text says which command failed.
  const std::string wholeCommand = records.size() == 1 ? findCommand(human) : std::string();
  // Postfix connects over a UNIX-domain socket only as an LMTP client (smtp_connect.c: "With LMTP
  // we have direct-to-host delivery only", "unix:" destinations), and names the socket's path
  // where an SMTP host has its address: "host name[/var/run/...] said:" (smtp_proto.c).
  static const Regex lmtpSocket(R"(\bhost [^\s\[\]]+\[/[^\]\s]*\] said:)");
  const size_t firstRecord = out.records.size();
  for (size_t i = 0; i < records.size(); ++i) {
    auto& r = records[i];
    bool lmtp = false;
    if (!human.empty()) r.diagnostic = sendmailWholeReply(human, r.diagnostic);
    // Sendmail's own "550 Host unknown" (EX_NOHOST) names the host whose lookup failed only in the
    // transcript's line for the recipient, "<a@b>... Host unknown (Name server: relay.x: host not
    // found)" (err.c); with a SMART_HOST that host is the sending side's relay, ours or a relay
    // vendor's, and the recipient's domain was never looked up. The line is the evidence then, as
    // Postfix's and qmail's name for the host looked up is (the rule's names_host).
    // Sendmail's Remote-MTA is that same host (deliver.c markfailure: q_statmta = CurHostName): a
    // report whose field and line disagree on whether the host is the recipient's domain (or one
    // under it) was not written so by Sendmail, and its field is the evidence.
    if (!human.empty() && times[reported[i]] == 1 && contains(asciiLower(r.diagnostic), "host unknown"))
      if (const std::string line = sendmailNameServerLine(human, reported[i]); !line.empty()) {
        const std::string host = nameServerHost(line);
        const std::string domain = asciiLower(reported[i].substr(reported[i].rfind('@') + 1));
        const std::string remote = asciiLower(remoteMtas[i]);
        if (sameOrganization(host, reportingMta) || remote.empty() || isOrUnder(remote, domain) == isOrUnder(host, domain))
          r.diagnostic = line;
      }
    if (r.smtp_command.empty()) r.smtp_command = findCommand(r.diagnostic);
    if (r.smtp_command.empty()) r.smtp_command = wholeCommand;
    // The paragraph of the human text that names this recipient. Not for an address that several
    // records name (Exim's Final-Recipient is the alias for each of its failed members): which
    // paragraph is whose, the text cannot say, and one member's "no such user" would make the alias dead.
    if (!human.empty() && times[reported[i]] == 1) {
      const std::string para = paragraphAbout(human, lh, mentions, reported[i]);
      if (!para.empty()) {
        if (r.smtp_command.empty()) r.smtp_command = findCommand(para);
        lmtp = std::regex_search(para, lmtpSocket);
        // No Diagnostic-Code: for a single recipient, the whole text up to the returned message
        // (an MTA's own sentence, "The user(s) account is disabled.", may stand apart from the
        // address); else this recipient's line of Sendmail's transcript, which gives a Diagnostic-Code
        // only for a remote reply (savemail.c: q_rstatus) and lists a deferred address alone under
        // its heading ("<a@b>... Deferred: Connection timed out with mx.b.", deliver.c:5200-5205);
        // else this recipient's paragraph.
        if (r.diagnostic.empty() && records.size() > 1) {
          const SendmailVerdict verdict = sendmailVerdict(human, lh, reported[i]);
          r.diagnostic = trim(verdict.line);
          if (r.smtp_command.empty()) r.smtp_command = verdict.command;
        }
        if (r.diagnostic.empty()) r.diagnostic = trim(records.size() == 1 ? humanBeforeOriginal(human, reported[i]) : para);
      }
    }
    out.records.push_back(completeRecord(r, ReportContext{reportingMta, remoteMtas[i], reportsNoStage(v), false, lmtp, categories[i]}));
    if (hiddenMember.count(i) && out.records.back().hard) {
      out.records.back().hard = false;
      out.records.back().why += std::string(out.records.back().why.empty() ? "" : "; ") +
                                "the failure is of an address this one was expanded to, which the report does not name: not of this address";
    }
  }
  std::set<size_t> pairsOut;
  for (size_t i : pairs) pairsOut.insert(firstRecord + i);
  giveAStoresAnswerToTheAddressSent(out.records, pairsOut, v, out.sender);
  out.format = "rfc3464";
  return true;
}

// ---- A bounce forwarded as an attachment ----
// A rep forwarding a bounce to the bounce address, a relay returning one inside its own notice:
// the outer message has no report of its own, the attached message has. Its report is read.
// The address a message was sent from: its From's mailbox, else its Return-Path's; "" if none.
std::string senderOf(const std::map<std::string, std::string>& headers) {
  for (const char* h : {"from", "return-path"})
    if (auto it = headers.find(h); it != headers.end())
      if (const auto m = mailboxesIn(it->second); !m.empty() && m.front().find('@') != std::string::npos) return m.front();
  return "";
}

// Two domains of one registrable domain (the public suffix list's: "eu.sender.example" and
// "sender.example", not "sender.co.uk" and "other.co.uk").
bool sameOrganization(const std::string& a, const std::string& b) {
  return !a.empty() && !b.empty() && checks::registrableDomain(asciiLower(a)) == checks::registrableDomain(asciiLower(b));
}

// `forwards` counts the people's forwards around this one: a colleague forwarding a rep's forward
// of a bounce (or the rep forwarding an assistant's) wraps it once more; the bounce inside is
// read as the innermost forward carries it, and that forward's recipients say whose it is.
bool readForwarded(const MimeView& v, Classification& out, int forwards = 0) {
  if (v.originals.empty()) return false;
  const bool innerReport = std::any_of(v.leaves.begin(), v.leaves.end(), [](const MimeLeaf& l) {
    return l.depth == 1 && (l.type == "message/delivery-status" || l.type == "message/global-delivery-status");
  });
  MimeView inner;
  inner.headers = v.originals.front();
  inner.originals.assign(v.originals.begin() + 1, v.originals.end());
  for (const auto& l : v.leaves)
    if (l.depth >= 1) inner.leaves.push_back(MimeLeaf{l.type, l.text, l.depth - 1});
  if (innerReport) {
    if (!readDsn(inner, out)) return false;
  } else {
    // A text notice forwarded as an attachment ("Forward as attachment" of an NDR without a
    // report part): read when the attached message is a mail system's own (its From a
    // MAILER-DAEMON, postmaster, mail delivery system or Exchange's), never a person's mail; and only by a
    // person (a mail system's own notice returns the message that failed, which may be a notice).
    auto mailSystem = [](const MimeView& m) {
      const std::string from = asciiLower(m.header("from"));
      return namesAMailSystem(from) || !m.header("x-failed-recipients").empty();
    };
    if (mailSystem(v)) return false;
    if (!mailSystem(inner)) return forwards < 3 && !inner.originals.empty() && readForwarded(inner, out, forwards + 1);
    if (!readText(inner, out)) return false;
  }
  out.format = "forwarded " + out.format;
  // A person forwarding a bounce of mail someone else sent (a reader whose forward of our
  // newsletter to a friend bounced) tells us of another sender's failure: the address may be one
  // we never had, and the failure is not our mail's. A rep forwards a bounce of mail sent from the
  // company's domain to the company's bounce mailbox. Only where the forward comes to the
  // registrable domain the returned message was sent from is the failure ours; otherwise its
  // records stay soft.
  if (const std::string from = v.originals.size() > 1 ? senderOf(v.originals[1]) : std::string(); !from.empty() && !fromAMailSystem(v)) {
    const std::string fromDomain = from.substr(from.rfind('@') + 1);
    const auto to = mailboxesIn(v.header("to") + "," + v.header("cc") + "," + v.header("delivered-to"));
    const bool ours = std::any_of(to.begin(), to.end(), [&](const std::string& a) { return sameOrganization(a.substr(a.rfind('@') + 1), fromDomain); });
    if (!to.empty() && !ours)
      for (auto& r : out.records) {
        if (!r.hard) continue;
        r.hard = false;
        r.why += std::string(r.why.empty() ? "" : "; ") + "a bounce of mail " + from +
                 " sent, forwarded by a person to another domain's mailbox: not our mail's failure";
      }
  }
  return true;
}

// ---- Auto-replies (RFC 3834): not bounces ----
bool readAutoReply(const MimeView& v, Classification& out) {
  const std::string auto_ = asciiLower(v.header("auto-submitted"));
  const std::string subject = asciiLower(v.header("subject"));
  const bool autoHeader = auto_.rfind("auto-replied", 0) == 0 || !v.header("x-autoreply").empty() ||
                          !v.header("x-autorespond").empty() || asciiLower(v.header("precedence")) == "auto_reply";
  static const std::vector<std::string> words = {"out of office", "out of the office", "auto:", "automatic reply",
                                                 "autoreply", "auto-reply", "auto reply", "vacation", "abwesenheit", "absence"};
  bool vacationWords = false;
  for (const auto& w : words)
    if (contains(subject, w)) vacationWords = true;
  if (!autoHeader && !vacationWords) return false;
  // A mail system's notice carries Auto-Submitted too (Exim's); one this reader could not read is
  // not a person's auto-reply.
  const std::string from = asciiLower(v.header("from"));
  if (contains(from, "mailer-daemon") || contains(from, "postmaster")) return false;
  BounceRecord r;
  r.recipient = addressIn(v.header("from"));
  r.reason = "vacation";
  r.diagnostic = v.header("subject");
  out.records.push_back(r);
  out.format = "rfc3834";
  return true;
}

// The address a reply opens with, after its codes, is the one it is about: Postfix's "<%s>:
// Recipient address rejected: ..." (smtpd_check.c), Sendmail's "<%s>... User unknown" (err.c,
// fmtmsg puts the address being handled before its words). "" when the reply opens otherwise (an
// address further on, "please write to bob@...", is named in passing). No '@' inside either part:
// with one, the match backtracks over every '@' of a hostile text.
std::string addressTheReplyOpensWith(const std::string& diagnostic) {
  static const Regex opens(
      R"(^\s*(?:[245]\d\d[ -]\s*)?(?:[245]\.\d{1,3}\.\d{1,3}\s+)?(?:<([^<>\s@]+@[^<>\s@]+)>|([^<>\s@]+@[^<>\s:@]+?)(?:\.\.\.|:)))");
  std::smatch m;
  const std::string head = diagnostic.substr(0, 600);
  if (!std::regex_search(head, m, opens)) return "";
  return asciiLower(m[1].matched ? m[1].str() : m[2].str());
}

// A reply about another recipient of the same report is not about this one. nullmailer 2.2 gives
// up a message whole at its first refused RCPT and writes that one reply, and its status, under
// every recipient (protocols/smtp.cc, src/send.cc, src/dsn.cc); Courier gives a reply refusing
// the whole transaction to each recipient of it. The others' mailboxes were never judged: their
// records read `otherrecipient`, which never counts against the address (bounce_policy.cpp).
// Only where that other recipient's own record carries the same words (the one reply, copied):
// a report's recipients can be two forms of one mailbox (an alias and its target, a tag), and a
// reply naming one form in the other's record is then still about this mailbox.
// The recipient a reply names after its opening words: Courier's "550 User <%s> unknown"
// (module.local/local.C:399-436, a whole address or, for a local domain, the local part) and
// Citadel's "550 Invalid recipient: %s" (internet_addressing.c:743-746, the local part). A bare
// local part is returned as it stands, without '@'.
std::string recipientTheReplyNames(const std::string& diagnostic) {
  if (const std::string opens = addressTheReplyOpensWith(diagnostic); !opens.empty()) return opens;
  static const Regex named(
      R"(^\s*[245]\d\d[ -]\s*(?:[245]\.\d{1,3}\.\d{1,3}\s+)?(?:user <([^<>\s]{1,320})> unknown|invalid recipient: ([^\s<>;@]{1,64})(?:;|\s|$)))",
      Regex::icase);
  std::smatch m;
  const std::string head = diagnostic.substr(0, 600);
  if (!std::regex_search(head, m, named)) return "";
  return asciiLower(m[1].matched ? m[1].str() : m[2].str());
}

// Whether `named` (an address, or a bare local part) is `recipient`.
bool namesRecipient(const std::string& named, const std::string& recipient) {
  const std::string r = asciiLower(recipient);
  if (named.find('@') != std::string::npos) return named == r;
  return r.substr(0, r.rfind('@')) == named;
}

void keepRepliesToTheAddressTheyName(std::vector<BounceRecord>& records) {
  if (records.size() < 2) return;
  for (auto& r : records) {
    const std::string about = recipientTheReplyNames(r.diagnostic);
    if (about.empty() || namesRecipient(about, r.recipient)) continue;
    // A line that lists this recipient too is about it as well (Sendmail's one line for all the
    // recipients of a connection, "<a@b>,<c@d>... Host unknown").
    if (contains(asciiLower(r.diagnostic), "<" + asciiLower(r.recipient) + ">")) continue;
    // The other recipient it names, with the same words: the one reply, copied.
    const auto other = std::find_if(records.begin(), records.end(), [&](const BounceRecord& o) {
      return &o != &r && namesRecipient(about, o.recipient) && trim(o.diagnostic) == trim(r.diagnostic);
    });
    if (other == records.end()) continue;
    r.hard = false;
    r.reason = "otherrecipient";
    r.why += std::string(r.why.empty() ? "" : "; ") + "the reply is about " + other->recipient +
             ", another recipient of this report, whose record has the same words: it says nothing of this mailbox";
  }
}

// An address whose local part is not ASCII travels only where every hop speaks SMTPUTF8 (RFC 6531
// 3.2), and no ASCII form of such a local part exists (RFC 6530 7.1; Postfix's SMTPUTF8_README:
// "the RFCs do not define an ASCII alternative form"). A refusal of a spelling of it on a path
// without SMTPUTF8 says nothing of the mailbox: X.1.3, "bad destination mailbox address syntax"
// (RFC 3463; Google's "is not a valid RFC 5321 address"), or a reply about an ASCII spelling at
// the same domain that a relay made of it (Exim's utf8_downconvert writes "xn--" and the punycode
// of the local part, utf8.c string_localpart_utf8_to_alabel): the server judged a string the rep
// never wrote. Soft, the message's need of SMTPUTF8, as Postfix's "message requires SMTPUTF8"
// reads (contenterror).
void keepRefusalsOfAnotherSpellingSoft(std::vector<BounceRecord>& records, bool globalReport) {
  const auto ascii = [](const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  };
  for (auto& r : records) {
    const size_t at = r.recipient.rfind('@');
    if (!r.hard || at == std::string::npos || ascii(r.recipient.substr(0, at))) continue;
    // (As the reply writes it: a Postfix that speaks SMTPUTF8 quotes the address in RFC 6533's
    // "\x{HEX}" form in its report, the same address.)
    std::string named = addressTheReplyOpensWith(r.diagnostic);
    if (!named.empty()) named = reportedAddress("utf-8; " + named);
    const bool asciiSpelling = !named.empty() && ascii(named) && !sameMailbox(named, r.recipient) &&
                               sameMailbox("x" + named.substr(named.rfind('@')), "x" + r.recipient.substr(at));
    // (Not in a global report, RFC 6533: its MTA handled an SMTPUTF8 message, and RFC 6531 3.4 lets
    // it send the UTF-8 address only to a server that offered SMTPUTF8, so the server judged the
    // address itself: Gmail's "553 5.1.3 ... not a valid RFC 5321 address" for a UTF-8 local part
    // at gmail.com, whose usernames are ASCII; review-2026-12-07-15.)
    const bool syntax = !globalReport && r.status.size() == 5 && r.status.compare(1, 4, ".1.3") == 0;
    if (!asciiSpelling && !syntax) continue;
    r.hard = false;
    r.reason = "contenterror";
    r.why += std::string(r.why.empty() ? "" : "; ") +
             (asciiSpelling ? "the reply is about " + named + ", an ASCII spelling a relay made of this address"
                            : "a syntax refusal (X.1.3) of an address whose local part is not ASCII") +
             ": such an address needs SMTPUTF8 on every hop (RFC 6531 3.2), and the mailbox was not judged";
  }
}

// A domain that routed: the address the record came from (a list or an alias the reporting host
// expanded, sent_to) is in the failed address's own domain, so that domain has a mail host that
// took mail for it. A failure of the member there that reads as a dead domain, in words that name
// no DNS finding, is about the member's local part: Exim's "Unrouteable address" after a list's
// expansion says no router took the member (route.c; the spec: "bounced as unrouteable"), on the
// host that had just routed the list (precision-traps-8). Words that say what DNS answered for the
// domain ("all relevant MX records point to non-existent hosts", "Name service error ... Host not
// found") stay the domain's: a legacy host may still take mail for a domain whose current MX is
// broken (review-2026-12-07-16). A dead domain counts against every address there (history.cpp).
void keepDomainsThatRoutedAlive(std::vector<BounceRecord>& records) {
  const auto domainOf = [](const std::string& a) {
    const std::string canonical = asciiLower(canonicalAddress(a));
    const size_t at = canonical.rfind('@');
    return at == std::string::npos ? std::string() : canonical.substr(at + 1);
  };
  // The words alone: a name holds them too ("lindholm-dns.example", ".com.mx"), and Exim's
  // diagnostic is its whole paragraph with the addresses (review-2026-12-07-17).
  const auto words = [](const std::string& text) {
    std::istringstream in(asciiLower(text.substr(0, 600)));
    std::string token, out;
    while (in >> token) {
      const size_t first = token.find_first_not_of(".,;:()[]<>\"'");
      const size_t last = token.find_last_not_of(".,;:()[]<>\"'");
      if (first == std::string::npos) continue;
      token = token.substr(first, last - first + 1);
      if (token.find_first_of("@.-_/=") == std::string::npos) out += token + " ";
    }
    return out;
  };
  static const Regex dnsFinding(R"(\b(?:mx|dns|name service|nxdomain|host(?:name)? (?:or domain )?(?:name )?not found|domain)\b)");
  for (auto& r : records) {
    if (r.reason != "hostunknown" || r.sent_to.empty() || domainOf(r.recipient).empty() ||
        domainOf(r.recipient) != domainOf(r.sent_to) || std::regex_search(words(r.diagnostic), dnsFinding))
      continue;
    r.reason = "userunknown";
    r.why += std::string(r.why.empty() ? "" : "; ") + "its domain routed " + r.sent_to +
             ", which it came from, and the words name no DNS finding: the failure is about the local part, not the domain";
  }
}

// A border gateway that rewrites each address of its domain to the same user on its mail store
// (a Postfix virtual(5) regexp "/^(.*)@corp\.example$/ ${1}@mailstore.corp.example", an Exim
// redirect router; Sendmail names its local mailer's user "%s@MyHostName" the same way) passes
// on the store's "no such user" for the rewritten address: Postfix's report gives it as
// Final-Recipient beside the address we sent as Original-Recipient (bounce_notify_util.c), Exim
// under "(generated from ...)". It is one mailbox under the store's name, nobody writes to that
// name, and no other mailbox can take the address we sent: the dead mailbox is that address's,
// as Sendmail's X-Actual-Recipient is read (actualRecipient). The store's host not found is no
// dead domain either: the gateway took the mail for the domain, and the name it rewrote to is its
// own routing (RFC 3463 X.4: network and routing), soft (white-box-classifier). Other failures
// keep their reading. Not where the address sent was a mailbox or an alias of its own
// (review-2026-12-08-20):
// - a copy delivered to it or forwarded from it: Postfix's local(8) prepends "Delivered-To:" with
//   that address when it delivers or forwards (prepend_delivered_header, "command, file, forward"
//   by default), and a user's .forward or an alias that keeps a copy reaches the same name at a
//   department's domain; a rewrite in cleanup delivers nothing and adds none;
// - several failed addresses from it: an alias's members, each failure its own;
// - an address of our own organization (our team's list): no hard bounce for either name.
// Only Postfix's pair of fields: Exim's "(generated from ...)" is the same for a redirect router
// that rewrites and for a user's .forward that keeps a copy (review-2026-12-08-20), and Sendmail's
// X-Actual-Recipient is read above.
void giveAStoresAnswerToTheAddressSent(std::vector<BounceRecord>& records, const std::set<size_t>& pairs, const MimeView& v,
                                       const std::string& sender) {
  std::map<std::string, size_t> fromOne;  // sent_to -> its records
  for (const auto& r : records)
    if (!r.sent_to.empty()) ++fromOne[asciiLower(r.sent_to)];
  std::set<std::string> deliveredTo;
  for (const auto& o : v.originals)
    if (auto it = o.find("delivered-to"); it != o.end())
      for (const auto& a : mailboxesIn(it->second)) deliveredTo.insert(a);
  const auto domainOf = [](const std::string& a) { return a.rfind('@') == std::string::npos ? std::string() : a.substr(a.rfind('@') + 1); };
  for (size_t i : pairs) {
    auto& r = records[i];
    if ((r.reason != "userunknown" && r.reason != "hostunknown") || r.sent_to.empty() ||
        !(sameUserOnAHostOf(r.recipient, r.sent_to) || hybridRoutingNameOf(r.recipient, r.sent_to)))
      continue;
    const std::string sentTo = asciiLower(r.sent_to);
    if (fromOne[sentTo] > 1 || deliveredTo.count(sentTo)) continue;
    if (sameOrganization(domainOf(sentTo), domainOf(asciiLower(sender)))) {
      if (r.hard) r.why += std::string(r.why.empty() ? "" : "; ") + "soft: " + r.recipient + " is our own mail store's name for " + r.sent_to;
      r.hard = false;
      continue;
    }
    std::string why = "the failed address " + r.recipient + " is " + r.sent_to + "'s own mailbox under " +
                      (hybridRoutingNameOf(r.recipient, r.sent_to) ? "Exchange hybrid's routing name" : "its mail store's name");
    if (r.reason == "hostunknown") {
      r.reason = "networkerror";
      r.hard = false;
      why += "; that host's name not found is the gateway's own routing, not a dead domain";
    }
    r.why += (r.why.empty() ? "" : "; ") + why;
    r.recipient = r.sent_to;
    r.sent_to.clear();
  }
}

// A notice that names only Exchange hybrid's routing address of a mailbox (hybridRoutingNameOf),
// with no Original-Recipient, is about the address the returned message was sent to with the same
// local part: nobody writes to the routing name, and the address sent would get no record.
// Only where one address of the returned message's To or Cc has that local part (routing-rewrites).
// Only a mailbox that does not exist, as giveAStoresAnswerToTheAddressSent, and never one of our
// own organization's addresses (our tenant's routing names: a setup of ours, not a lead's).
void giveAHybridRoutingNameTheAddressSent(std::vector<BounceRecord>& records, const MimeView& v, const std::string& sender) {
  std::set<std::string> addressed;
  const auto domainOf = [](const std::string& a) { return a.rfind('@') == std::string::npos ? std::string() : a.substr(a.rfind('@') + 1); };
  for (const auto& o : v.originals)
    for (const char* h : {"to", "cc"})
      if (auto it = o.find(h); it != o.end())
        for (const auto& a : mailboxesIn(it->second))
          if (!sameOrganization(domainOf(a), domainOf(asciiLower(sender)))) addressed.insert(a);
  for (auto& r : records) {
    if (!r.sent_to.empty() || r.reason != "userunknown") continue;
    std::vector<std::string> same;
    for (const auto& a : addressed)
      if (hybridRoutingNameOf(r.recipient, a)) same.push_back(a);
    if (same.size() != 1 ||
        std::any_of(records.begin(), records.end(), [&](const BounceRecord& o) { return asciiLower(o.recipient) == same.front(); }))
      continue;
    r.why += std::string(r.why.empty() ? "" : "; ") + "the failed address " + r.recipient + " is " + same.front() +
             "'s own mailbox under Exchange hybrid's routing name (the returned message was sent to " + same.front() + ")";
    r.recipient = same.front();
  }
}

// A reply from a host of our own organization about a recipient outside it is our relay's (a
// smarthost, an outbound gateway), not the recipient's mail server's: the relay holds no mailbox
// of the recipient's domain. Exim's "550 Unrouteable address" is what any Exim says when its
// routers find no way to an address (route.c), a relay when it cannot route the recipient's
// domain; a relay's resolver that fails says the same for every lead. Only a reply a host sent,
// not the reporting MTA's own finding, and only from a host that no mail
// provider runs (mail_provider.cpp): a provider's hosts serve the senders and the recipients of
// all its customers alike.
void keepOurRelaysRepliesSoft(std::vector<BounceRecord>& records, const std::string& sender) {
  const auto at = sender.rfind('@');
  if (at == std::string::npos) return;
  const std::string ours = checks::registrableDomain(asciiLower(sender.substr(at + 1)));
  if (ours.empty()) return;
  for (auto& r : records) {
    const auto rat = r.recipient.rfind('@');
    // An SMTP reply only: with none, the host is the reporting MTA telling its own finding (a
    // null MX it looked up), which is about the recipient's domain.
    if (!r.hard || r.remote_host.empty() || r.reply_code.empty() || rat == std::string::npos) continue;
    if (checks::registrableDomain(asciiLower(r.remote_host)) != ours) continue;
    if (checks::registrableDomain(asciiLower(r.recipient.substr(rat + 1))) == ours) continue;
    if (!checks::mailProviderOf({r.remote_host}).empty()) continue;
    // A reply with an addressing status of its own (Postfix's "550 5.1.1 <%s>: Recipient address
    // rejected: User unknown in virtual mailbox table" or "in relay recipient table") comes from a
    // host that holds the domain's users: a sister domain ours hosts, or the relay's list of them.
    static const Regex addressingStatus(R"(^\s*[245]\d\d[ -]\s*[245]\.1\.\d{1,3}\b)");
    if (std::regex_search(r.diagnostic.substr(0, 40), addressingStatus)) continue;
    r.hard = false;
    r.why += std::string(r.why.empty() ? "" : "; ") + "the reply came from " + r.remote_host +
             ", a host of our sender's own organization, about a recipient outside it: our relay's answer, not the "
             "recipient's mail server's";
  }
}

// A reply that names our sender is about our sender. Servers name the address they refuse
// (Postfix "<%s>: Sender address rejected: ...", smtpd_check.c; Sendmail "<%s>... User unknown",
// which proto.m4 also gives for an unknown envelope sender; a gateway's "<%s> From: Domain is
// invalid"): when the address a reply opens with is our sender's or the returned message's
// sender's, not the recipient's, the refusal was of the sender, whatever the stage (a text notice
// may not give one). Such a record is never hard; with no sender-side reason of its own it reads
// `rejected` (the sender refused).
// Only a refusal: a delivery or relay report ("250 2.1.5 <%s>... Sender ok" under Action
// delivered), a delay notice (RFC 3464 2.3.3: not a final failure; its own reading is soft), an
// auto-reply whose subject opens with our address, a complaint, or a reply whose code is a
// success (2xx, RFC 5321 4.2.1) refused nobody. Nor a reply that names another form of the
// recipient (its Original-Recipient, X-Actual-Recipient): that is about the recipient.
bool aRefusal(const BounceRecord& r) {
  static const std::set<std::string> notRefusals{"delivered", "vacation", "feedback", "otherrecipient"};
  if (notRefusals.count(r.reason) || actionIsNoFailure(r)) return false;
  if (!r.status.empty() && r.status[0] == '2') return false;
  static const Regex success(R"(^\s*2\d\d[ -])");
  return !std::regex_search(r.diagnostic.substr(0, 40), success);
}

void keepRepliesAboutOurSenderSoft(std::vector<BounceRecord>& records, const std::set<std::string>& ours,
                                   const std::set<std::string>& recipientForms) {
  for (auto& r : records) {
    if (!aRefusal(r)) continue;
    const std::string about = addressTheReplyOpensWith(r.diagnostic);
    if (about.empty() || about == asciiLower(r.recipient) || !ours.count(about) || recipientForms.count(about)) continue;
    r.hard = false;
    r.reason = asSenderRefusal(r.reason);
    r.why += std::string(r.why.empty() ? "" : "; ") + "the reply names " + about +
             ", our sender, not this recipient: it refused our sender";
  }
}

// A complaint is never charged to our own side: an address the notice itself was sent to (a
// colleague's forward whose only attached message is a lead's reply to our rep), or the author of
// a message sent to itself (a Bcc'd mailing, To our own sender). Such a report names no complainer
// (RFC 5965 3.2: the reporter speaks for its own user, never our sender). A lead's own reply, From
// the lead to our rep, leaves the lead theirs. The notice's To counts only when our side did not
// write the notice: an author of an attached message, or a colleague at an author's domain (a rep
// forwarding to the lead, with a copy by Cc, the report of the company's news@ mailing).
void dropComplaintsChargedToOurSide(std::vector<BounceRecord>& records, const MimeView& v) {
  std::set<std::string> ourSide, authors, authorDomains;  // mailboxesIn gives them lower-cased
  for (const auto& o : v.originals) {
    const auto from = o.find("from"), to = o.find("to");
    if (from == o.end()) continue;
    const auto toList = to == o.end() ? std::vector<std::string>{} : mailboxesIn(to->second);
    for (const auto& a : mailboxesIn(from->second)) {
      authors.insert(a);
      authorDomains.insert(a.substr(a.rfind('@') + 1));
      if (std::find(toList.begin(), toList.end(), a) != toList.end()) ourSide.insert(a);
    }
  }
  const auto noticeFrom = mailboxesIn(v.header("from"));
  const bool writtenByOurSide = std::any_of(noticeFrom.begin(), noticeFrom.end(), [&](const std::string& a) {
    return authors.count(a) > 0 || authorDomains.count(a.substr(a.rfind('@') + 1)) > 0;
  });
  for (const char* h : {"to", "delivered-to", "envelope-to", "x-envelope-to"})
    if (std::string_view(h) != "to" || !writtenByOurSide)
      for (const auto& a : mailboxesIn(v.header(h))) ourSide.insert(a);
  records.erase(std::remove_if(records.begin(), records.end(),
                               [&](const BounceRecord& r) {
                                 return r.reason == "feedback" &&
                                        (ourSide.count(asciiLower(r.recipient)) || reporterMailbox(r.recipient, v));
                               }),
                records.end());
}

// A notice that its receiving side found forged, and that holds neither a report nor anything of
// a message we sent, is no evidence about anyone it names. RFC 5321 4.5.5 sends every notice
// from the mail system that handled the message, and the systems return what they could not
// deliver (RFC 3464 2: a report part, then the message or its headers; Microsoft's NDRs carry
// "Original message headers"): a stranger who never saw our message can only name addresses.
// Phishing dressed as a mailbox provider's notice ("Undelivered messages", a table of addresses
// beside "550 5.1.1", a link to "release" them) is that (precision-traps-6, -7). The verdict is
// the receiving side's, in its Authentication-Results fields (RFC 8601 5: the border's, and an
// internal filter's that may stand above it; all of them, MimeView joins them): DMARC
// "fail" (RFC 7489), whatever policy the domain published (Exim writes none; a "p=none" domain is
// spoofed as easily), or Microsoft's composite authentication "fail" (its anti-spam message
// headers page). A failure anywhere in the field is the verdict, and no "pass" outweighs it: the
// sender's own text reaches the field (its envelope address, quoted in a verifier's comment, can
// close the comment and write "dmarc=pass;" or "compauth=pass" of its own), so a pass cannot be
// told from an injected one, while a failure only a verifier writes against the sender
// (reviews 2026-12-07-16 and -17). Not SPF alone: forwarders break it for real notices
// (set-of-emails' SES notice forwarded to Gmail says "spf=fail"), and a notice that returns our
// message is read however it travelled. The cost, chosen for precision: a real notice that
// returns nothing and fails DMARC (an on-premises host outside its domain's SPF, a notice
// forwarded with ARC) gives no record: a hard bounce missed, none made up.
bool forgedAndReturnsNothing(const MimeView& v) {
  static const Regex failure(R"(\b(?:dmarc|compauth)\s*=\s*fail\b)");
  const bool forged = std::regex_search(asciiLower(v.header("authentication-results").substr(0, 16 * 1024)), failure);
  if (!forged) return false;
  if (!v.originals.empty()) return false;
  for (const auto& l : v.leaves) {
    if (l.type == "message/delivery-status" || l.type == "message/global-delivery-status" ||
        l.type == "message/feedback-report" || l.type == "message/disposition-notification")
      return false;
    if (l.type.rfind("text/", 0) == 0 && originalStart(l.text) != std::string::npos) return false;
  }
  return true;
}

}  // namespace

Classification classify(const std::string& raw) {
  Classification out;
  std::string error;
  auto view = readMime(raw, &error);
  if (!view) {
    out.error = error;
    return out;
  }
  // The returned message's author: its From's mailbox, not an address its display name holds.
  for (const auto& o : view->originals)
    if (auto it = o.find("from"); it != o.end() && out.sender.empty())
      if (const auto from = mailboxesIn(it->second); !from.empty()) out.sender = from.front();
  if (const auto to = mailboxesIn(view->header("to")); out.sender.empty() && !to.empty()) out.sender = to.front();
  out.date_unix = view->date_unix;
  if (forgedAndReturnsNothing(*view)) {
    out.error = "no failed recipient found: the receiving side found the notice's sender forged (DMARC or compauth "
                "\"fail\") and it returns nothing of a message we sent";
    return out;
  }
  try {
    if (readArf(*view, out) || readJmrp(*view, out) || readSesJson(*view, out) || readMdn(*view, out) || readDsn(*view, out) || readForwarded(*view, out) ||
        readListRefusal(*view, out) || readText(*view, out) ||
        readAutoReply(*view, out)) {
      // Never a hard bounce for an address the bounce is not about: the reporter's own mailboxes,
      // our sender, the returned message's sender. (A report naming one of them as its failed
      // recipient is a message someone sent to themselves, or a misread: a hard bounce would
      // suppress one of our own mailboxes.)
      keepRepliesToTheAddressTheyName(out.records);
      keepRefusalsOfAnotherSpellingSoft(
          out.records, std::any_of(view->leaves.begin(), view->leaves.end(),
                                   [](const MimeLeaf& l) { return l.type == "message/global-delivery-status"; }));
      keepDomainsThatRoutedAlive(out.records);
      giveAHybridRoutingNameTheAddressSent(out.records, *view, out.sender);
      keepOurRelaysRepliesSoft(out.records, out.sender);
      const auto notAbout = addressesNotAbout(*view);
      keepRepliesAboutOurSenderSoft(out.records, notAbout, recipientForms(*view));
      for (auto& r : out.records)
        if (r.hard && (notAbout.count(r.recipient) || reporterMailbox(r.recipient, *view))) r.hard = false;
      // Nor an Exchange-encapsulated address, "IMCEA<type>-...@" (Microsoft's recipient-resolution.md:
      // a non-SMTP address, EX for an Exchange directory entry, in the sending organization's default
      // domain): no one writes to it; "ExRecipNotFound" for it is a stale entry of the sender's own
      // directory (an old thread's deleted contact, non-delivery-reports-and-bounce-messages.md, 5.1.1).
      for (auto& r : out.records)
        if (r.hard && asciiLower(r.recipient).rfind("imcea", 0) == 0 && r.recipient.find('-') != std::string::npos &&
            r.recipient.find('-') < r.recipient.find('@'))
          r.hard = false;
      dropComplaintsChargedToOurSide(out.records, *view);
      // Nor a bounce counted for one of them as the address a message was sent to.
      for (auto& r : out.records)
        if (!r.sent_to.empty() && (notAbout.count(asciiLower(r.sent_to)) || reporterMailbox(r.sent_to, *view))) r.sent_to.clear();
      return out;
    }
  } catch (const std::exception& e) {  // std::regex on hostile input, for one
    out.records.clear();
    out.error = std::string("unreadable bounce: ") + e.what();
    return out;
  }
  out.error = "no failed recipient found: not a bounce, or a format not understood";
  return out;
}

}  // namespace safetynet::bounce
