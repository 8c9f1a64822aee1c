#include "bounce/reason.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include "bounce/regex.hpp"
#include <set>
#include <sstream>
#include <string_view>
#include <initializer_list>
#include <vector>

#include "bounce/rule_engine.hpp"
#include "safetynet/bounce/bounce.hpp"
#include "safetynet/core/text.hpp"

namespace safetynet::bounce {

namespace {

bool in(std::initializer_list<std::string_view> v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

// Reasons that name a cause on our side (the sender, its host, its message).
const std::initializer_list<std::string_view> kSenderSide = {
    "requireptr", "authfailure", "badreputation", "blocked", "toomanyconn", "speeding",
    "virusdetected", "spamdetected", "norelaying", "rejected", "policyviolation", "securityerror"};

// Reasons that say the recipient's address or domain is dead: the only ones a hard bounce names.
bool recipientReason(const std::string& r) { return in({"userunknown", "hostunknown", "hasmoved", "notaccept"}, r); }

// RFC 3463 section 2: the class is the first digit; with no status, the reply code's (RFC 5321).
// With neither, the report's own statement that its failures are permanent (Exim, qmail, Sendmail),
// or a report of failure at all: RFC 3464 section 2.3.3, Action "failed": the reporting MTA "has
// abandoned any attempts to deliver the message to this recipient" (a delay notice is "delayed").
// The words still have to say the address is dead for a hard bounce.
bool permanentClass(const std::string& status, const std::string& reply, bool permanent_report = false) {
  if (!status.empty()) return status[0] == '5';
  if (!reply.empty()) return reply[0] == '5';
  return permanent_report;
}

}  // namespace

std::string reasonFromText(const std::string& diagnostic) {
  Evidence e;
  e.text = diagnostic;
  const WordingRule* r = firstRule(*activeRules(), e, /*words_only=*/true);
  return r ? r->reason : "";
}

std::string reasonFromStatus(const std::string& status) {
  if (status.size() < 5) return "";
  if (status[0] == '2') return "delivered";
  // No answer from the host yet (4.4.1): the message is still queued, Sisimai's `expired`.
  if (status[0] == '4' && status.substr(2) == "4.1") return "expired";
  const StatusCodeFact* f = statusFact(*activeRules(), status);
  // "onhold" (X.0.0, X.1.0, X.2.0...) names no reason: the words must.
  if (!f || f->reason == "onhold") return "";
  return f->reason;
}

// Whether a server's reply speaks of a mailbox or an address: the words, or an address in angle
// brackets (RFC 5321 4.1.2's path). Not ours: "your FROM address", "sender address", "your account",
// the ORCPT parameter of our RCPT command (RFC 3461 4.2: OpenSMTPD's "553 ORCPT address syntax
// error", smtp_session.c); nor a count of them ("too many recipients from your IP": a limit on us).
static bool speaksOfAMailbox(const std::string& words) {
  static const Regex ours(
      R"(\b(?:your|sender'?s?|from|return|envelope|orcpt)\s+(?:e-?mail\s+)?(?:address(?:es)?|accounts?|users?|mailbox(?:es)?)\b|too many (?:recipients|users|addresses)\b)",
      Regex::icase);
  static const Regex re(
      R"(\b(?:recipients?|mailbox(?:es)?|users?|addressee|accounts?|address(?:es)?)\b|<[^<>@\s]+@[^<>\s]+>)",
      Regex::icase);
  return std::regex_search(std::regex_replace(words, ours, " "), re);
}

// A permanent reply code whose own enhanced status is temporary ("550 4.1.1 Bad destination
// mailbox address"). RFC 3463 section 2 gives the status's class the reply code's meaning (2034
// section 3: the class digit matches the reply's first digit); a server writing both says two
// things about whether the failure is final, and the soft one stands: a false hard bounce
// suppresses a live lead. (Postfix reports such a reply under 5.0.0, smtp_chat.c, so the report's
// Status does not show it.)
static bool permanentReplyWithTemporaryStatus(const std::string& words) {
  static const Regex re(R"((?:^|[^\d.])5\d\d[ -]\s*4\.\d{1,3}\.\d{1,3}(?!\d|\.\d))");
  return std::regex_search(words, re);
}

Decision decide(const Evidence& e) {
  const auto set = activeRules();
  const std::string act = asciiLower(e.action);
  if (act == "delivered" || act == "relayed" || act == "expanded") return {"delivered", false, "", {}};
  const std::string& status = e.status;
  const std::string& command = e.stage;
  // 1. The first wording rule whose words are in the text and whose conditions hold (admin's
  //    rules first, then the built-in file in its order).
  const std::vector<const WordingRule*> matched = matchingRules(*set, e);
  const WordingRule* rule = matched.empty() ? nullptr : matched.front();
  // A first rule whose words name nothing (`onhold`: a frame such as Yahoo's "dd Sorry, your
  // message to X cannot be delivered.", whose next sentence names the cause) gives the reason to
  // the next rule that holds and names one; hard or soft is still decided by the first rule.
  const auto naming = std::find_if(matched.begin(), matched.end(), [](const WordingRule* r) { return r->reason != "onhold"; });
  std::string text = !rule ? std::string() : rule->reason == "onhold" && naming != matched.end() ? (*naming)->reason : rule->reason;
  // Retries that ran out on a mailbox's state ("452 4.2.2 user is over quota: retry timeout
  // exceeded"): the state is why the message never arrived, and tells the rep more than "expired"
  // (RFC 3464 section 2.3.4: the report keeps the last attempt's words), as below for a 4.x.x.
  // So does a temporary policy that held every attempt back (greylisting, "451 4.7.1 Greylisting in
  // action ...: retry timeout exceeded"): our relay never passed it. Or a deferral of our sending
  // host that its provider documents as temporary (Yahoo's "421 4.7.1 [TS03] ... permanently
  // deferred"): the block is why, and it is what the rep's admin can act on. (Not a rate or
  // connection limit: those pass, and the message ran out of time while they did.)
  bool heldBackByAState = false;  // the retries ran out on it: it stays the reason below
  if (text == "expired")
    if (const auto state = std::find_if(matched.begin(), matched.end(),
                                        [](const WordingRule* r) {
                                          return r->reason == "mailboxfull" || r->reason == "suspend" ||
                                                 (r->temporary && in({"policyviolation", "blocked", "badreputation"}, r->reason));
                                        });
        state != matched.end()) {
      text = (*state)->reason;
      heldBackByAState = true;
    }
  // 2. The status code's meaning (RFC 3463 / 5248, status_codes); where it names none (no status,
  //    or X.0.0) and the words name none either, the basic reply code's (RFC 5321 4.2.2 / RFC 7504,
  //    reply_codes): a bare "552" is a full mailbox, a bare "421" a system error. Never evidence
  //    for a hard bounce: a code is found wherever three digits stand in the text (a phone number
  //    in a returned message, "556-0142", reads as one).
  std::string code = reasonFromStatus(status);
  if (code.empty() && (text.empty() || text == "onhold") && !(status.size() >= 5 && status[0] == '2'))
    if (const ReplyCodeFact* replied = replyFact(*set, e.reply); replied && replied->reason != "onhold") code = replied->reason;
  // 5.1.10 is "no such address" at Microsoft and "null MX" elsewhere (RFC 7505): the text decides.
  if (code == "notaccept" && status.size() >= 5 && status.substr(2) == "1.10" && text == "userunknown") code = "userunknown";
  std::string reason;
  // What changed the reading after the first rule, in words (the human form of `bounce classify`).
  std::vector<std::string> steps;
  std::optional<size_t> codeStep;  // the step where the code took the words' place, if it did
  const std::string codeName = status.size() >= 5 && reasonFromStatus(status) == code ? "status " + status : "reply " + e.reply;
  // The server's words decide when they name something specific; the code when they do not.
  // A code that says the mailbox moved is more precise than "no such user" ("551 not our customer").
  if (text == "userunknown" && code == "hasmoved") {
    reason = code;
    steps.push_back("the " + codeName + " says the mailbox moved, more precise than the words");
  } else if (!text.empty() && !in({"expired", "systemerror", "contenterror", "policyviolation", "securityerror", "syntaxerror", "onhold"}, text)) {
    reason = text;
  } else if (!code.empty()) {
    reason = code;
    if (!text.empty() && text != code) {
      codeStep = steps.size();
      steps.push_back("the words name only " + text + "; the " + codeName + " names " + code);
    }
  } else {
    reason = text == "onhold" ? "" : text;
  }
  // Words about us or the message beside a recipient status (a 5.1.1 "policy error"): the words
  // contradict the status, and say why (docs/bounce-sources.md, contradiction 11). So do words
  // that say nothing was attempted (an ESP's suppression list: Amazon SES writes "Suppressed" with
  // the earlier bounce's 5.1.1): the evidence is that earlier bounce, not this report. Nor are words
  // that say the route failed (Haraka writes 5.1.2 for "Tried all MXs": its MX lookup had found
  // hosts, none took the connection).
  const StatusCodeFact* fact = statusFact(*set, status);
  const bool contradicted =
      fact && fact->hard &&
      in({"blocked", "badreputation", "requireptr", "authfailure", "rejected", "norelaying", "toomanyconn", "speeding",
          "securityerror", "policyviolation", "spamdetected", "virusdetected", "contenterror", "notcompliantrfc",
          "mesgtoobig", "mailboxfull", "suspend", "exceedlimit", "suppressed", "networkerror", "systemerror"},
         text);
  const auto changed = [&](const std::string& next, const std::string& why) {
    if (next == reason) return;
    // Straight back to the words' own reading: nothing changed it after all (no two steps that
    // cancel). With a step between, each is said.
    if (next == text && codeStep && *codeStep + 1 == steps.size()) {
      steps.erase(steps.begin() + static_cast<std::ptrdiff_t>(*codeStep));
      codeStep.reset();
    } else {
      steps.push_back(why);
    }
    reason = next;
  };
  if (contradicted) changed(text, "the words (" + text + ") contradict the recipient status " + status);
  else if (rule && rule->over_status) changed(text, "the rule's words outrank the status " + status);
  // A recipient status beside words that name no cause of their own (RFC 5321's stock 550,
  // "filtered"): the status is the more precise evidence.
  // (Not a status the reporting MTA wrote for the bare reply, derived_statuses, beside words whose
  // rule says they are only the receiving side's refusal, `filtered`, and not enough: Sendmail's
  // 5.1.1 for RFC 5321's stock 550 says no more than the 550.)
  else if (fact && fact->hard && !code.empty() && !recipientReason(text) &&
           !(e.words_status && e.words_status->empty() && rule && rule->hard_stated && !rule->hard && text == "filtered"))
    changed(code, "the status " + status + " is about the recipient; the words name no cause of their own");
  // 3. The stage. The reply came to MAIL FROM: it is about our sender, whatever else it says,
  // unless it names a sender-side reason already.
  if (command == "MAIL" && asSenderRefusal(reason) != reason) changed("rejected", "answered to MAIL FROM: about our sender");
  if (command == "HELO" && !in(kSenderSide, reason)) changed("blocked", "answered to HELO: about our host");
  if (reason.empty() && act == "delayed") changed("expired", "a delay notice that names no cause");
  // An addressing status (X.1.x) is about an address given, whatever the stage words say.
  const bool addressing = status.size() >= 4 && status.substr(1, 3) == ".1.";
  // The greeting (or the handshake Postfix reports with it): no address had been given yet (RFC
  // 5321 3.1 and 4.3.2: MAIL and RCPT come after), so a status that speaks of a mailbox or an
  // address (X.1.x, X.2.x: EarthLink's "421 4.2.1 Connection deferred", La Poste's "421 4.2.1
  // Service refuse") is about no recipient, nor is its domain's ("your host does not exist in
  // DNS" is ours). What the reply code means at that point says it: 421 "Service not available"
  // (RFC 5321 4.2.2) is the server's state; a permanent refusal is of the session, from our client
  // (RFC 5321 3.1: a 554 greeting, no SMTP service for it), `blocked` as Postfix's "refused to
  // talk to me" reads. So does a reply there whose words name nothing.
  // (Only a server's answer: a greeting that never came is the network's. Not an addressing
  // status, X.1.x, which no greeting gives: a reply to RCPT whose notice names the connection
  // elsewhere, as for DATA above. Not RFC 7504's 521, "does not accept mail", which a host may
  // give as its greeting.)
  // A permanent refusal whose words name nothing is of our client whatever general meaning the
  // status has ("554 5.7.1 Your host does not exist in DNS": 5.7.1 alone reads a policy); not when
  // the status says the failure was temporary, against the reply code, nor for RFC 7504's 521 and
  // 556, a host or domain that takes no mail.
  const bool temporary = !e.reply.empty() ? e.reply[0] == '4' : !status.empty() && status[0] == '4';
  const bool wordless = !code.empty() && reason == code && (text.empty() || text == "onhold") &&
                        !(!status.empty() && status[0] == '4') && e.reply != "521" && e.reply != "556";
  if (command == "CONN" && !(e.reply.empty() && status.empty()) && !addressing &&
      (in({"", "onhold", "userunknown", "hostunknown", "hasmoved", "suspend", "mailboxfull", "exceedlimit", "filtered"},
          reason) ||
       (wordless && !temporary))) {
    changed(temporary ? "systemerror" : "blocked",
            std::string("answered to the connection, before any address: about no mailbox but ") +
                (temporary ? "the server's state" : "our client"));
  }
  // Nor is a verdict on content there: no message had been sent (RFC 5321 3.1, the greeting comes
  // first), so "spam" in that reply is what the server holds against our client (Comcast's "554
  // ... Comcast block for spam", BL000000 on its postmaster page: a block of the sending IP).
  if (command == "CONN" && in({"spamdetected", "virusdetected", "contenterror"}, reason))
    changed("blocked", "answered to the connection, before any message: the verdict is on our client, not content");
  if (reason.empty()) {
    // A bare code: 4xx is something temporary on the way, 5xx with nothing said is undecided.
    if (!status.empty() && status[0] == '4') changed("expired", "a temporary status that names no cause");
    else reason = "onhold";
  }
  // A "no such user" after the message was sent (end of DATA) is a filter's answer, not a dead
  // mailbox: Sisimai's `filtered`, soft. Whatever its status: every RCPT reply came before it
  // (RFC 2920 3.1, RFC 5321 3.3), so the address had been taken, and a gateway that takes every
  // address and refuses the message later says "user unknown" for reasons of its own.
  // In reply to the DATA command an addressing status, X.1.x, says it was about the recipient
  // after all: with PIPELINING a RCPT failure shows up after ">>> DATA" or as the DATA command's.
  // LMTP answers each recipient after the end of the message (RFC 2033 4.2: "one reply for each
  // RCPT command that had previously been accepted"): there the status is about that mailbox.
  const bool lmtp = e.lmtp || asciiLower(e.text).find("lmtp") != std::string::npos;
  // Unless the words are the provider's own, documented as "no such user" for its own hosts (a
  // rule scoped to them with `hard: true`): Yahoo answers "554 delivery error: dd This user doesn't
  // have a yahoo.com account" to the message and says the user does not exist; that is its
  // statement about its own directory, not a gateway's.
  // (Named by the receiving side: a provider relaying our mail reports a third party's words too.)
  // Nor words whose source gives them to this very stage for an address that does not exist (a
  // hard rule scoped to data or eod): mox answers "550 5.1.1 no such user(s)" to the message when
  // every recipient was unknown, having taken them at RCPT on purpose.
  const bool providersOwnWords = rule && rule->hard && scopeNamesTheReceiver(*rule, e);
  const bool documentedAfterData = rule && rule->hard && (rule->stage == "data" || rule->stage == "eod");
  if (reason == "userunknown" && !providersOwnWords && !documentedAfterData &&
      ((command == "DATA" && !addressing) || (command == "EOD" && !(lmtp && addressing))))
    changed("filtered", "answered to " + std::string(command == "EOD" ? "the message" : "DATA") +
                            ", after every recipient was taken: a filter's answer, not a dead mailbox");
  // A policy code (X.7.x) with "no such user" words: a filter's answer, not a dead mailbox.
  // (At RCPT the words are about the address: "553 5.7.1 Invalid recipient".)
  // (Not the provider's own documented words either: Yandex answers "550 5.7.1 No such user!" and
  // documents "No such user" as an address that does not exist.)
  // (Nor words whose source gives them this very status, a hard rule with it as its `status`:
  // Microsoft documents "Recipient address rejected: Access denied" under 5.7.504 as "The
  // recipient address that you're attempting to contact isn't valid.")
  const bool documentedWithStatus = rule && rule->hard && !rule->status.empty() && rule->status != "none";
  if (reason == "userunknown" && !providersOwnWords && !documentedWithStatus && status.size() >= 3 &&
      status.substr(1, 2) == ".7" && command != "RCPT")
    changed("filtered", "a policy status (" + status + ") beside no-such-user words, not at RCPT");
  // Where the code and the words disagree, the soft reading wins unless the address was judged
  // at RCPT: a false hard bounce suppresses a live lead. X.2.x is a mailbox status (disabled,
  // undefined), not "no such address".
  const bool mailboxStatus = status.size() >= 4 && status.substr(1, 3) == ".2." && status.substr(2) != "2.2";
  if (reason == "userunknown" && !providersOwnWords && mailboxStatus && command != "RCPT")
    changed("filtered", "a mailbox status (" + status + ") beside no-such-user words, not at RCPT");
  if (reason == "syntaxerror" && !e.reply.empty() && e.reply[0] == '4')
    changed("systemerror", "a syntax error in a temporary reply");
  // RFC 3463 section 2 and Postfix's qmgr (qmgr_active.c:451-470 flushes the deferred log into a
  // failure report when the queue lifetime runs out): Action failed with a 4.x.x status is a
  // message whose retries ran out. The report keeps the last attempt's status and words (RFC 3464
  // section 2.3.4: the Status of that attempt), so a reason they name is why it never arrived
  // ("452 4.2.2 over quota" for five days: a full mailbox, which tells the rep more than
  // "expired"); words that say the retries ran out ("in the queue too long", "retry timeout
  // exceeded"), or nothing specific, read as `expired`.
  // (With no status, the reply code's class: RFC 3463 section 2 takes the class from it.)
  const bool temporaryClass = !status.empty() ? status[0] == '4' : !e.reply.empty() && e.reply[0] == '4';
  if (act == "failed" && temporaryClass) {
    const bool saysExpired =
        std::any_of(matched.begin(), matched.end(), [](const WordingRule* r) { return r->reason == "expired"; });
    // Nor does a temporary status alone name a dead address: RFC 3463 gives X.4.4 "for both
    // permanent and persistent transient errors", and the transient one found no domain dead
    // (maddy's "451 4.4.4 MX lookup error" for a DNS failure that may pass, connect.go).
    const bool deadOnlyByTheCode = reason == code && (text.empty() || text == "onhold") && recipientReason(reason);
    // (Not where the words name the state that held every attempt back, above: the retry
    // timeout's own "expired" says only that they ran out, under the last attempt's 4.x.x too.)
    if ((saysExpired && !(heldBackByAState && reason == text)) || in({"onhold", "undefined"}, reason) || deadOnlyByTheCode)
      changed("expired", "a failure report with a temporary status: its retries ran out");
  }
  // 4. Hard or soft: a permanent class, evidence about the recipient (a status fact with
  //    `hard: true`, or a wording rule with `hard: true`), a reason that says the address is dead,
  //    and nothing temporary or contradicting.
  // A rule that states nothing about hardness (`hard:` absent) counts as its reason says: words that
  // the recipient's address or domain is dead are about the recipient (RFC 3463's X.1.x subjects in
  // words), and the class says whether it is permanent.
  // (A rule's own words after a hedge, "may not exist", are no evidence: the system does not know.)
  // A status the reporting MTA wrote for the bare reply code (Sendmail's 5.1.1 for a 550 to RCPT,
  // derived_statuses) does not overrule a rule that says its dead-address words are not enough
  // (OpenSMTPD's "550 Invalid recipient:", also its relay refusal): the server said no more.
  // So does a status an MTA's template writes for the rule's words (over_status: Haraka's 5.1.2
  // for a plugin's "No MX for"): it says no more than the words.
  // (Nor a rule that reads its words as the receiving side refusing this recipient for a cause it
  // does not name, `filtered`, and says so: RFC 5321's stock "550 Requested action not taken:
  // mailbox unavailable" reads the same under Sendmail's 5.1.1 as under Postfix's 5.0.0.)
  const bool wordsSayNotEnough =
      rule && rule->hard_stated && !rule->hard && (recipientReason(rule->reason) || rule->reason == "filtered");
  // Sendmail writes 5.1.1 for every bare 550 to RCPT and 5.1.3 for a bare 553 (usersmtp.c,
  // derived_statuses), but RFC 5321 4.2.2 gives 550 for a mailbox not found, no access, or a
  // policy refusal alike, and 553 for a mailbox name not allowed, which servers answer to other
  // things too (OpenSMTPD's "553 NOTIFY option NEVER cannot be combined with other options" to
  // our RCPT's DSN parameter, smtp_session.c; qmail's policy refusals). Such a status says a
  // mailbox is dead only when the server's words speak of a mailbox or an address at all ("550
  // <x> recipient rejected", "550 mailbox unavailable"), not when they name something else ("550
  // Sender did not verify", Exim's manual; "550 I don't take more than 20 RCPTs"). (Not 551: RFC
  // 5321 3.4 gives it only to a user who is not local, and Sendmail's 5.1.6 says as much.) A
  // status the server wrote itself (qmail's "(#5.1.1)") is its own word.
  const bool derivedWithoutMailbox = e.words_status && e.words_status->empty() && e.reply != "551" &&
                                     !recipientReason(text) && !speaksOfAMailbox(e.text);
  const bool statusEvidence =
      fact && fact->hard && !derivedWithoutMailbox && !(wordsSayNotEnough && (e.words_status || rule->over_status));
  // A provider's own meaning of its words (a rule scoped to its hosts) holds for its own replies:
  // the answering host, the recipient's domain, or the reporting MTA when no other host answered
  // (Outlook.com reporting its own mailbox) is the provider's, not a reporting relay alone (an
  // IONOS customer's relay reporting another server's stock "mailbox unavailable").
  const bool ruleSaysHard = rule && rule->hard && (rule->hosts.empty() || scopeNamesTheReceiver(*rule, e, true));
  const bool evidence = statusEvidence ||
                        (rule && (ruleSaysHard || (!rule->hard_stated && recipientReason(rule->reason) && !hedgedMatch(*rule, e))));
  // Any other rule that holds and names a mailbox state or a refusal of us ("The user(s) account
  // is disabled." beside "550 user unknown"): the evidence disagrees, the reading stays soft.
  // (A phrase inside the deciding rule's own words is the same evidence, not another: "access
  // denied" in "Recipient address rejected: Access denied".)
  const bool conflicting = std::any_of(matched.begin(), matched.end(), [&](const WordingRule* r) {
    if (r->kind == "phrase" && rule->match.find(r->match) != std::string::npos) return false;
    return in({"suspend", "mailboxfull", "blocked", "spamdetected", "virusdetected", "norelaying", "rejected",
               "authfailure", "requireptr", "badreputation"},
              r->reason);
  });
  // A delay notice (RFC 3464 2.3.3, Action "delayed": the MTA "will continue to attempt") reports
  // no final failure, whatever its last attempt's code.
  // Nor does a temporary reply (RFC 5321 4.2.1, 4yz) under a report's permanent status: Exim writes
  // 5.0.0 for every failure (deliver.c, print_dsn_addr_action), also one whose retries ran out on a
  // "450 4.1.1" ("retry timeout exceeded").
  const bool permanent = permanentClass(status, e.reply, e.permanent_report || act == "failed") &&
                         !(!e.reply.empty() && e.reply[0] == '4') && !permanentReplyWithTemporaryStatus(e.text);
  // A lookup that failed for a host the words name (`names_host`) other than the recipient's domain
  // or a host under it: a next hop, and the sending MTA's own relay is one (Postfix's relayhost,
  // Sendmail's SMART_HOST, qmail's smtproutes); a typo there fails every recipient alike.
  const std::string otherHost = lookupOfAnotherHost(matched, e);
  // Then the recipient's domain was not looked up at all: the name that failed is on the route
  // (RFC 3463 X.4.x, a routing failure), and the notice says nothing about the domain.
  if (!otherHost.empty() && reason == "hostunknown")
    changed("networkerror", "the failed lookup was for " + otherHost +
                                ", not the recipient's domain: a host on the way (it may be the sending side's relay)");
  const bool hard = act != "delayed" && permanent && evidence && recipientReason(reason) && !contradicted && !conflicting &&
                    !(rule && rule->temporary) && otherHost.empty();
  // The status was all that named a dead mailbox, and it was the reporting MTA's guess: undecided.
  if (!hard && derivedWithoutMailbox && reason == code && (text.empty() || text == "onhold") && recipientReason(reason) && permanent) {
    changed("onhold", "the status " + status + " is the reporting MTA's reading of a bare " + e.reply +
                          ", which servers give for a policy refusal too, and the words speak of no mailbox: undecided");
    return {reason, hard, rule ? rule->id : std::string(), steps, text};
  }
  // Why a dead-address reading stays soft, the first cause that holds.
  if (recipientReason(reason) && !hard)
    steps.push_back(act == "delayed" ? "soft: a delay notice, not a final failure"
                    : !permanent    ? (permanentReplyWithTemporaryStatus(e.text)
                                           ? "soft: the server's permanent reply carries a temporary status: it does not say the failure is final"
                                           : "soft: the class is not permanent")
                    : !evidence && fact && fact->hard
                        ? "soft: the status " + status + " is the reporting MTA's " +
                              (rule && rule->over_status ? "template for these words" : "reading of the bare reply") +
                              ", and the rule's source says these words are not enough"
                    : !evidence     ? "soft: nothing permanent about the recipient (no status that says so, or hedged words)"
                    : contradicted  ? "soft: the words contradict the status"
                    : conflicting   ? "soft: another rule that holds names a mailbox state or a refusal of us"
                    : !otherHost.empty() ? "soft: the failed lookup was for " + otherHost +
                                               ", not the recipient's domain: it may be the sending side's relay"
                                    : "soft: the rule says the words are also used for temporary failures");
  return {reason, hard, rule ? rule->id : std::string(), steps, text};
}

std::string decideReason(const std::string& status, const std::string& reply_code, const std::string& diagnostic,
                         const std::string& command, const std::string& action) {
  return decide(Evidence{status, reply_code, asciiLower(action), command, diagnostic, {}, false, ""}).reason;
}

std::string asSenderRefusal(const std::string& reason) {
  // (A message too big is refused at MAIL FROM by its SIZE parameter, RFC 1870 section 6.1: it
  // stays `mesgtoobig`.)
  if (in(kSenderSide, reason) || in({"expired", "networkerror", "systemerror", "systemfull", "mesgtoobig", "syntaxerror"}, reason))
    return reason;
  return "rejected";
}

std::string findStatus(const std::string& text) {
  // The first: a failure's status taken before a success's would take a version number ("MailScanner
  // 5.1.3") in a delivery's reply as a dead mailbox (a review's probe, s05).
  static const Regex re(R"((?:^|[^\d.])([245]\.\d{1,3}\.\d{1,3})(?![\d.]))");
  std::smatch m;
  if (std::regex_search(text, m, re)) return m[1].str();
  return "";
}

std::string classlessFailureStatus(const std::string& text) {
  static const Regex re(R"(status code \(rfc ?1893\):\s*\.(\d{1,3})\.(\d{1,3})\b)", Regex::icase);
  std::smatch m;
  return std::regex_search(text, m, re) ? "5." + m[1].str() + "." + m[2].str() : std::string();
}

// RFC 5321 4.2: a reply is the code, then a space or a hyphen, then text (RFC 3463's enhanced code
// when there is one, "550 5.1.1 ..."). Three digits that a separator and a plain number follow
// are a part of a number, not a code: a telephone number in a signature ("+1 555 0100",
// "555-0100").
std::string findReplyCode(const std::string& text) {
  static const Regex re(R"((?:^|[^\d.#:-])([45][0-7]\d)(?=[ -]|$)(?![ -]\d+(?:[^\d.]|$)))");
  std::smatch m;
  if (std::regex_search(text, m, re)) return m[1].str();
  return "";
}

// The words stand as words: no letter or digit touches either end, nor a hyphen joining them to
// one ("e-mail"). A stage marker names a command ("MAIL FROM", "RCPT TO", "after DATA"); "email
// from sender.example" or "e-mail from" in a server's reply names none (Gmail's "Unauthenticated
// email from x is not accepted due to domain's DMARC policy" read as an answer to MAIL FROM, and a
// dead mailbox beside it as a refusal of our sender). A rule of dashes before the words
// ("-------SMTP command") is no hyphen.
static bool containsAsWords(const std::string& text, const std::string& words) {
  const auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  for (size_t at = text.find(words); at != std::string::npos; at = text.find(words, at + 1)) {
    const size_t end = at + words.size();
    const bool joinedBefore =
        at > 0 && (alnum(text[at - 1]) || (text[at - 1] == '-' && at > 1 && alnum(text[at - 2])));
    if (!joinedBefore && (end >= text.size() || !alnum(text[end]))) return true;
  }
  return false;
}

std::string findCommand(const std::string& text) {
  const std::string t = asciiLower(text);
  const std::string words = lowerCollapsed(text);
  static const std::map<std::string, std::string> names = {
      {"connect", "CONN"}, {"helo", "HELO"}, {"mail", "MAIL"}, {"rcpt", "RCPT"}, {"data", "DATA"}, {"eod", "EOD"},
      {"local", "LOCAL"}, {"unknown", ""}};
  // A Sendmail-style transcript: the command sent just before the first 4xx/5xx answer. Sendmail
  // marks what it sent ">>> " and what it read "<<< " (usersmtp.c); MDaemon's session transcript
  // "--> " and "<-- ", after each line's time.
  {
    std::istringstream in(t);
    std::string line, last;
    // (The arrows looked for only in a text that has both: most have neither.)
    const bool arrows = t.find("<-- ") != std::string::npos && t.find("--> ") != std::string::npos;
    const auto marker = [arrows](const std::string& l, const char* sendmail, const char* arrow) {
      const auto at = l.find(sendmail);
      return at != std::string::npos || !arrows ? at : l.find(arrow);
    };
    for (; std::getline(in, line);) {
      const auto sent = marker(line, ">>> ", "--> ");
      if (sent != std::string::npos) {
        std::string cmd = line.substr(sent + 4);
        last = cmd.substr(0, cmd.find_first_of(" :\r"));
        continue;
      }
      const auto got = marker(line, "<<< ", "<-- ");
      if (got != std::string::npos && got + 4 < line.size() && (line[got + 4] == '4' || line[got + 4] == '5') &&
          !last.empty()) {
        // With PIPELINING, Sendmail sends DATA and then reads the RCPT replies still pending
        // (usersmtp.c:2690-2710, "pick up any pending RCPT responses"), so its transcript shows
        // them after ">>> DATA": a reply followed by another before the next command answered a
        // RCPT; the last one answers DATA (RFC 2920 3.1: replies come in the commands' order).
        if (last == "data") {
          // A mail system whose transcript shows DATA only after the message was sent says so
          // (stage_markers with `transcript: data`): no RCPT reply can follow it there.
          for (const auto& m : activeRules()->rules.stage_markers)
            if (m.transcript == "data" && words.find(m.match) != std::string::npos && m.stages.count("any"))
              return names.at(m.stages.at("any"));
          std::string next = line;
          // The reply's last line is "NNN text"; "NNN-text" lines continue it.
          while (next.size() > got + 7 && next[got + 7] == '-' && std::getline(in, next)) {
          }
          while (std::getline(in, next)) {
            if (next.find(">>> ") != std::string::npos) break;
            if (next.find("<<< ") != std::string::npos) return "RCPT";
          }
          return "DATA";
        }
        if (last == ".") return "EOD";  // the reply to the message itself
        if (last == "rcpt") return "RCPT";
        if (last == "mail") return "MAIL";
        if (last == "helo" || last == "ehlo") return "HELO";
        break;
      }
    }
  }
  // The words of the mail systems that say which command a reply answered (stage_markers in
  // data/bounce/rules.yaml, in its order).
  for (const auto& m : activeRules()->rules.stage_markers) {
    if (!m.transcript.empty()) continue;
    std::string key = "any";
    if (m.kind == "phrase") {
      if (!containsAsWords(words, m.match)) continue;
    } else {
      const auto holds = [&](const std::string& w) { return words.find(w) != std::string::npos; };
      if (!m.literals.empty() && std::none_of(m.literals.begin(), m.literals.end(), holds)) continue;
      std::smatch found;
      if (!std::regex_search(words, found, m.re)) continue;
      if (found.size() > 1 && found[1].matched) key = found[1].str();
    }
    auto it = m.stages.find(key);
    if (it == m.stages.end()) it = m.stages.find("any");
    if (it == m.stages.end()) continue;
    return names.at(it->second);
  }
  return "";
}

bool isHardBounce(const std::string& reason, const std::string& status, const std::string& reply_code) {
  const StatusCodeFact* fact = statusFact(*activeRules(), status);
  return permanentClass(status, reply_code) && fact && fact->hard && recipientReason(reason);
}

bool actionIsNoFailure(const BounceRecord& r) {
  static const std::set<std::string> notFailures{"delivered", "relayed", "expanded", "delayed"};
  return notFailures.count(asciiLower(r.action)) > 0;
}

}  // namespace safetynet::bounce
