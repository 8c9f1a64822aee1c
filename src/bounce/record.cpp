#include "bounce/record.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include "bounce/regex.hpp"
#include <vector>

#include "bounce/reason.hpp"
#include "safetynet/core/text.hpp"

namespace safetynet::bounce {

namespace {

// The first enhanced status written as a reply writes it: after a reply code ("550 5.1.1",
// "550-5.1.1") or qmail's "#" ("(#5.1.1)", qmail-remote.c), or as the diagnostic's first word,
// the MTA's own code for its failure (Domino's "X-Notes; 5.1.2 - Bad destination host ...").
std::string replyStatus(const std::string& text) {
  static const Regex re(R"((?:(?:^|[^\d.])[245]\d\d[ -]|#|^\s*)([245]\.\d{1,3}\.\d{1,3})(?!\d|\.\d))");
  std::smatch m;
  return std::regex_search(text, m, re) ? m[1].str() : std::string();
}

// A host name as a report writes it ("dns; mx.example.com. (192.0.2.7, the server for ...)",
// "mx.example.com"), lower-case and without its final dot; "" for an address literal or a name
// with no domain ("unknown", Postfix's for a host without a name).
std::string hostName(const std::string& written) {
  // Ended by the field's end, a space, a comment or an address: "mx.bücher.de" is no "mx.b".
  static const Regex name(R"(^\s*(?:dns\s*;\s*)?([a-z0-9][a-z0-9.-]{0,252})(?=$|[\s;()\[\]]))", Regex::icase);
  std::smatch m;
  const std::string head = written.substr(0, 300);
  if (!std::regex_search(head, m, name)) return "";
  std::string host = asciiLower(m[1].str());
  while (!host.empty() && host.back() == '.') host.pop_back();
  const auto dot = host.rfind('.');
  // Its last label a name's (a letter first), not an address literal's number.
  if (dot == std::string::npos || dot + 2 > host.size() || !std::isalpha(static_cast<unsigned char>(host[dot + 1])) ||
      host.find("..") != std::string::npos || host.back() == '-')
    return "";
  return host;
}

// The hosts a text names as the one whose reply follows: Postfix "host %s said: %s" with its
// "name[addr]" (smtp_proto.c), Exim "host %s [%s]: " (transports/smtp.c), Sendmail "... while
// talking to %s.:" (deliver.c). Each as (its place in the text, its name: "" for a host named by
// its address alone, Postfix's "unknown[192.0.2.7]").
std::vector<std::pair<size_t, std::string>> hostsInWords(const std::string& text) {
  static const Regex host(
      R"((?:\bhost\s+([a-z0-9][a-z0-9.-]*)\s?\[[0-9a-f.:]+\]|\bwhile talking to\s+([a-z0-9][a-z0-9.-]*?)\.?:))",
      Regex::icase);
  const std::string head = text.substr(0, 2000);
  std::vector<std::pair<size_t, std::string>> out;
  for (auto it = RegexIterator(head.begin(), head.end(), host); it != RegexIterator(); ++it)
    out.emplace_back(static_cast<size_t>(it->position(0)), hostName((*it)[1].matched ? (*it)[1].str() : (*it)[2].str()));
  return out;
}

// The host whose answer the record is, or "" (docs/bounces.md, "A relay's incident"). A reply that
// passes on another host's answer names it inside (Postfix's reject_unverified_recipient:
// "550 5.1.1 <%s>: Recipient address rejected: undeliverable address: host %s said: ..."): that
// innermost host judged the mailbox, not the relay that repeated it.
std::string answeringHost(const BounceRecord& r, const ReportContext& ctx) {
  static const Regex replyCode(R"((?:^|[^\d.#:-])[245]\d\d[ -])");
  std::smatch code;
  const std::string head = r.diagnostic.substr(0, 2000);
  const size_t firstReply = std::regex_search(head, code, replyCode) ? static_cast<size_t>(code.position(0)) : std::string::npos;
  const auto hosts = hostsInWords(head);
  if (firstReply != std::string::npos)
    for (auto it = hosts.rbegin(); it != hosts.rend(); ++it)
      if (it->first > firstReply) return it->second;
  // The report's own word for it, else the host named before the reply; the reporter answered
  // itself only when none is named (one named by its address alone still answered) and the words
  // are no SMTP reply: a reply code is another server's answer, which a report need not say whose
  // (OpenSMTPD gives no Remote-MTA); Postfix's "X-Postfix; unknown user" and Exim's "Unrouteable
  // address" have none.
  if (!ctx.remote_mta.empty()) return hostName(ctx.remote_mta);
  if (!hosts.empty()) return hosts.front().second;
  return r.reply_code.empty() ? hostName(ctx.reporting_mta) : std::string();
}

// Whether the server's reply gives an enhanced status after its code ("550 5.1.1", "550-5.1.1"),
// the one place a reporting MTA takes it from (Sendmail's `enhsc`; Postfix's smtp_chat.c).
bool replyCarriesStatus(const std::string& text) {
  static const Regex re(R"((?:^|[^\d.])[245]\d\d[ -]\s*[245]\.\d{1,3}\.\d{1,3}(?!\d|\.\d))");
  return std::regex_search(text, re);
}

// The status the server's reply itself carries, when the report's Status is the reporting MTA's
// reading of a bare reply code (derived_statuses: Sendmail's 5.1.3 for "553 sorry, that domain
// isn't in my list of allowed rcpthosts (#5.7.1)"): the reply's qmail-style "#X.Y.Z", or "" for
// none. The words' rules are matched against it too (a rule for qmail's relay refusal asks for its
// 5.7.1); the report's Status stays the evidence where the words name no cause of their own, as
// the reporting MTA read the code. Unset when the Status is the server's.
std::optional<std::string> wordsStatus(const RuleSet& set, const BounceRecord& r) {
  if (r.status.size() < 5 || r.reply_code.empty() || replyCarriesStatus(r.diagnostic)) return std::nullopt;
  if (!derivedStatus(set, r.status, r.reply_code, r.smtp_command)) return std::nullopt;
  const std::string own = replyStatus(r.diagnostic);
  return !own.empty() && own[0] == r.status[0] ? own : std::string();
}

// Postfix's address verification quotes the probe's result after its own words, "<a>: Recipient
// address rejected: undeliverable address: host mx.b[...] said: 550 5.7.1 Permission denied", and
// writes x.1.1 for the refusal whatever the probe's cause (smtpd_check.c, "4.1.1" in both
// branches). The quoted server reply is the evidence, as Postfix's own report of it would be: its
// words, and its status or, with none, X.0.0 (smtp_chat.c). A result that quotes no server (a
// local "unknown user: x", a probe's "connect to ...: Connection timed out") is read by its own
// words under X.0.0 of the refusal's class. Only the recipient's: the
// same words after "Sender address rejected:" quote the probe of our sender (reject_unverified_sender).
// The probe's own "(in reply to MAIL FROM command)" says a server refused the probe's sender
// (address_verify_sender, "double-bounce" by default: postconf.proto), not ours, before it asked
// about the mailbox: nothing was learnt of it, and no words are evidence, only the quoted reply's
// class at our RCPT (white-box-reason). The first such mark after the reply is the probe's: a
// gateway's smtpd_reject_footer, or a relay's own words, may follow it (review-2026-12-08-21).
struct QuotedReply {
  std::string status, words;
  bool rcpt = false;  // a Postfix verification's refusal: given to our RCPT, whatever the probe's stage
};
std::optional<QuotedReply> verifiedReply(const std::string& diagnostic) {
  static const Regex re(
      R"(recipient address rejected: (?:undeliverable|unverified) address: .*?\bsaid: (([245])\d\d[ -]\s*(?:([245]\.\d{1,3}\.\d{1,3})(?![\d.]))?.*))",
      Regex::icase);
  static const Regex probesStage(R"(\(in reply to ([a-z ]+?) command\))", Regex::icase);
  std::smatch m;
  if (std::regex_search(diagnostic, m, re)) {
    std::smatch stage;
    const std::string reply = m[1].str();
    if (std::regex_search(reply, stage, probesStage) && asciiLower(stage[1].str()) == "mail from")
      return QuotedReply{m[2].str() + ".0.0", "", true};
    return QuotedReply{m[3].matched ? m[3].str() : m[2].str() + ".0.0", m[1].str(), true};
  }
  // No server answered the probe: the words are its delivery agent's own ("connect to
  // mx.b[10.0.0.9]:25: Connection timed out", a deferral the queue manager kept, why in
  // smtpd_check.c), under the same x.1.1, with the class of the refusal's code.
  static const Regex own(R"(^\s*([245])\d\d[ -].*?recipient address rejected: (?:undeliverable|unverified) address: (.+))", Regex::icase);
  if (std::regex_search(diagnostic, m, own)) return QuotedReply{m[1].str() + ".0.0", m[2].str(), true};
  return std::nullopt;
}

// Exchange Online passes on a remote server's reply under a status and words of its own, then the
// reply after an arrow: "550 5.1.351 Remote server returned unknown recipient or mailbox
// unavailable -> 550 Unrouteable address", "5.7.350 Remote server returned message detected as
// spam -> 550 5.7.1 ...", "5.0.350 Remote server returned an error -> ...". For a reply without an
// enhanced status its 5.1.351 words restate what RFC 5321 4.2.3 gives the bare 550 ("mailbox
// unavailable (e.g., mailbox not found, no access, or command rejected for policy reasons)"), so
// they and their X.1.x say no more than the code; and a reply that carries its own status is the
// server's reading, which Exchange's class replaces. Either way the server's reply after the arrow
// is the evidence, as for Postfix's verification above. (Other words before the arrow, beside a
// bare reply, are Exchange's reading of it and stay.)
std::optional<QuotedReply> exchangeRestatedReply(const std::string& diagnostic) {
  static const Regex re(
      R"(\b[45]\.\d\.35\d remote server returned (.{0,80}?)\s*->\s*(([245])\d\d[ -]\s*(?:([245]\.\d{1,3}\.\d{1,3})(?![\d.]))?.*))",
      Regex::icase);
  std::smatch m;
  if (!std::regex_search(diagnostic, m, re)) return std::nullopt;
  if (m[4].matched) return QuotedReply{m[4].str(), m[2].str()};
  if (asciiLower(m[1].str()) != "unknown recipient or mailbox unavailable") return std::nullopt;
  return QuotedReply{m[3].str() + ".0.0", m[2].str()};
}

bool deadAddressReason(const std::string& r) {
  return r == "userunknown" || r == "hostunknown" || r == "hasmoved" || r == "notaccept";
}

}  // namespace

BounceRecord completeRecord(BounceRecord r, const ReportContext& ctx, std::string* words_reason) {
  // Words from outside, read with std::regex: bounded (a reply is at most 512 bytes a line).
  constexpr size_t kMaxDiagnostic = 2000;
  if (r.diagnostic.size() > kMaxDiagnostic) r.diagnostic.resize(kMaxDiagnostic);
  if (r.status.empty()) r.status = findStatus(r.diagnostic);
  // Domino R5 writes a failure's status without its class (".1.2"): a failure report's is 5. Not
  // beside a success reply: IBM's own example of such a report reads "250 Message received OK".
  static const Regex successReply(R"((?:^|[^\d.])2\d\d[ -])");
  bool classless = false;
  if (r.status.empty() && asciiLower(r.action) == "failed" && !std::regex_search(r.diagnostic, successReply)) {
    r.status = classlessFailureStatus(r.diagnostic);
    classless = !r.status.empty();
  }
  if (r.reply_code.empty()) r.reply_code = findReplyCode(r.diagnostic);
  if (r.smtp_command.empty()) r.smtp_command = findCommand(r.diagnostic);
  // A DSN status of X.0.0 says nothing: a more specific code in the text is better, where the
  // text gives it as a reply does ("550 5.1.1", qmail's "#5.1.1"), not in a sentence of help
  // ("codes you may see: 5.1.1 (the address is wrong)").
  if (r.status.size() >= 5 && r.status.substr(1) == ".0.0") {
    std::string inText = replyStatus(r.diagnostic);
    if (!inText.empty() && inText.substr(1) != ".0.0" && inText[0] == r.status[0]) r.status = inText;
  }
  const auto rules = activeRules();
  // A vendor's own code names the reason more surely than the words around it (vendor_codes).
  const std::string vendor = vendorReason(*rules, "exchange_2003", r.diagnostic);
  Evidence e{r.status, r.reply_code, asciiLower(r.action), r.smtp_command, r.diagnostic, {}, ctx.permanent,
             asciiLower(ctx.reporting_mta)};
  if (const auto at = r.recipient.rfind('@'); at != std::string::npos) {
    e.recipient_domain = asciiLower(r.recipient.substr(at + 1));
    e.hosts.push_back(e.recipient_domain);
  }
  for (const auto* h : {&ctx.reporting_mta, &ctx.remote_mta})
    if (!h->empty()) e.hosts.push_back(asciiLower(*h));
  // Google ends every reply of its SMTP servers with "gsmtp" (support.google.com/a/answer/3726730:
  // "Google adds gsmtp to all its errors"): the reply is Google's whatever name the notice gives
  // the host (a relay's report names none, a domain's own MX alias). A text notice's diagnostic may
  // run on past the reply into the notice's own words, so the mark is looked for anywhere.
  // The mark says whose words these are, not that Google judged this address: a gateway that
  // passes Google's reply on after the message may have rewritten the address it asked about. So
  // it names the reason, never alone a hard bounce (below).
  static const Regex googleMark(R"(\s-\s?gsmtp\b)");
  // The plain search first: nearly no notice holds the word, and the regex would scan every one.
  const std::string head = asciiLower(r.diagnostic.substr(0, 4096));
  const bool googleByMark = contains(head, "gsmtp") && std::regex_search(head, googleMark);
  if (googleByMark) e.hosts.push_back("google.com");
  e.words_status = wordsStatus(*rules, r);
  // A reply that carries the server's own status after its words (qmail's "(#5.7.1)") says more
  // than the reporting MTA's reading of its bare code (Sendmail's 5.1.3 for any 553 to RCPT): the
  // server's status is the evidence.
  if (e.words_status && !e.words_status->empty()) e.status = *e.words_status;
  // A status that copies the bare reply's digits (Stalwart's 5.5.2 for "552 Message rejected")
  // is no reading: its class is all it says, and the reply code names the reason (RFC 5321 4.2.2).
  std::string digitsCopied;
  if (e.words_status && e.words_status->empty())
    if (const DerivedStatus* ds = derivedStatus(*rules, r.status, r.reply_code, r.smtp_command); ds && ds->only_class) {
      e.reported_status = r.status;
      e.status = r.status.substr(0, 1) + ".0.0";
      digitsCopied = "the status " + r.status + " copies the reply code's digits (as " + ds->mta + " writes it): only its class counts";
    }
  auto quoted = verifiedReply(r.diagnostic);
  if (!quoted) quoted = exchangeRestatedReply(r.diagnostic);
  if (quoted && !e.status.empty() && quoted->status[0] == e.status[0]) {
    e.status = quoted->status;
    e.text = quoted->words;
    if (quoted->rcpt) e.stage = "RCPT";
  }
  e.lmtp = ctx.lmtp;
  e.remote_named = !ctx.remote_mta.empty();
  r.remote_host = answeringHost(r, ctx);
  Decision d = decide(e);
  // The probe is the verifying host's own mail, from its own address and its own IP: a refusal of
  // its sender or of its host in the quoted reply (a backend's "Sender address rejected" given at
  // RCPT under smtpd_delay_reject, its block list listing the gateway) is the gateway's, never
  // ours, and says nothing of the mailbox (review-2026-12-08-21).
  static const std::set<std::string> sendingSide = {"rejected",    "blocked",     "badreputation", "requireptr",   "authfailure",
                                                    "norelaying",  "toomanyconn", "speeding",      "securityerror"};
  if (quoted && quoted->rcpt && e.text == quoted->words && sendingSide.count(d.reason)) {
    d.steps.push_back("the quoted reply refused the verification probe's own sender or host (" + d.reason +
                      "), the verifying gateway's, not ours: nothing was learnt of the mailbox");
    d.reason = "onhold";
    d.hard = false;
    d.rule.clear();
  }
  if (googleByMark && d.hard) {
    Evidence unmarked = e;
    unmarked.hosts.pop_back();
    if (!decide(unmarked).hard) {
      d.hard = false;
      d.steps.push_back("soft: only Google's mark (gsmtp) made the words Google's, and it does not say whose address Google judged");
    }
  }
  if (words_reason) *words_reason = d.words;
  std::vector<std::string> why;
  if (!digitsCopied.empty()) why.push_back(digitsCopied);
  // A hard bounce that rests on such a status: the admin sees whose reading it was.
  if (e.words_status && e.words_status->empty() && d.hard && !deadAddressReason(d.words))
    if (const DerivedStatus* ds = derivedStatus(*rules, r.status, r.reply_code, r.smtp_command))
      why.push_back("the status " + r.status + " is " + ds->mta + "'s reading of a bare " + r.reply_code +
                    (ds->stage.empty() ? std::string() : " at RCPT"));
  if (r.reason.empty()) r.reason = vendor;
  // A sending MTA's category is its guess from patterns of its own (PowerMTA files block lists
  // and content refusals alike under "spam-related"): a rule on the receiver's words says more.
  if (r.reason.empty() && !ctx.category_reason.empty()) {
    if (!d.rule.empty() && !d.words.empty() && d.words != ctx.category_reason)
      why.push_back("the words' rule overrules the sending MTA's category (" + ctx.category_reason + ")");
    else
      r.reason = ctx.category_reason;
  }
  if (r.reason.empty()) {
    r.reason = d.reason;
    r.rule = d.rule;
    why.insert(why.end(), d.steps.begin(), d.steps.end());
  } else if (!vendor.empty()) {
    // The words' rule named the same reason, and nothing changed it: it is the reading's rule too.
    if (!d.rule.empty() && vendor == d.words && vendor == d.reason) r.rule = d.rule;
    else why.push_back("a vendor code in the words names " + vendor);
    // Why the words' dead-address reading stayed soft still holds under the vendor's reason.
    for (const auto& step : d.steps)
      if (step.rfind("soft:", 0) == 0) why.push_back(step);
  } else if (deadAddressReason(r.reason) && !d.hard) {
    // The report's own category named a dead address (PowerMTA's bad-mailbox); hard or soft is
    // still the words' reading below: say why it stayed soft, or the admin sees a dead mailbox
    // that suppressed nothing.
    if (d.reason == r.reason) {
      for (const auto& step : d.steps)
        if (step.rfind("soft:", 0) == 0) why.push_back(step);
    } else {
      std::string steps;
      for (const auto& step : d.steps) steps += (steps.empty() ? "" : "; ") + step;
      why.push_back("soft: the words alone read as " + (d.reason.empty() ? std::string("nothing") : d.reason) +
                    (steps.empty() ? "" : " (" + steps + ")"));
    }
  }
  // What some receiving systems mean by their words (rules.yaml host_meanings).
  const std::string before = r.reason;
  r.reason = hostMeaning(*rules, r.reason, r.recipient, r.status, r.diagnostic, ctx.reporting_mta);
  if (r.reason != before) why.push_back("what the receiving system means by these words: " + r.reason);
  const bool addressing = r.status.size() >= 4 && r.status.substr(1, 3) == ".1.";
  if (ctx.no_stage && r.reason == "userunknown" && vendor.empty() && r.smtp_command != "RCPT" && !addressing) {
    r.reason = "filtered";
    why.push_back("a report that names no stage: a filter's answer as likely as a dead mailbox");
  }
  // IBM calls Domino R5's classless code cryptic: it "does not explain why the mail message
  // failed" (technote 1100477). It names the reason; alone, it is no evidence of a dead address.
  bool hard = d.hard;
  if (classless && hard && d.rule.empty()) {
    hard = false;
    why.push_back("soft: the status is Domino R5's code without its class, which IBM says does not explain the failure");
  }
  for (const auto& w : why) r.why += (r.why.empty() ? "" : "; ") + w;
  // Hard only as the rules decided (docs/bounces.md, "Hard or soft"), and only while the reason,
  // after vendor codes and hosts, still says the address is dead.
  r.hard = hard && deadAddressReason(r.reason);
  return r;
}

}  // namespace safetynet::bounce
