#include "checks/smtp_reply.hpp"

#include "bounce/record.hpp"

namespace safetynet::checks {

namespace {

// Reasons (the bounce vocabulary, docs/bounces.md) that refuse the connecting client, not the
// recipient: its IP or reputation (blocked, badreputation), its reverse DNS (requireptr), its
// sender address or domain (rejected: Sisimai's word for a refused sender), its authentication
// (authfailure), its rate (toomanyconn, speeding), its TLS or login (securityerror), its commands
// (syntaxerror: the address itself passed our syntax check, and X.1.3 reads userunknown), or the
// message, which is never sent (spamdetected, virusdetected, contenterror, mesgtoobig,
// notcompliantrfc: before DATA only the client can be judged). The real email comes from the
// rep's own mailbox and host, not the probe's: such a refusal says nothing about the recipient
// or about that email.
bool aboutTheClient(const std::string& reason) {
  for (const char* r : {"blocked", "badreputation", "requireptr", "rejected", "authfailure", "toomanyconn", "speeding",
                        "securityerror", "syntaxerror", "spamdetected", "virusdetected", "contenterror", "mesgtoobig",
                        "notcompliantrfc"})
    if (reason == r) return true;
  return false;
}

// Reasons that name the mailbox's or the address's own state.
bool aboutTheMailbox(const std::string& reason) {
  return reason == "userunknown" || reason == "hostunknown" || reason == "hasmoved" || reason == "suspend" ||
         reason == "mailboxfull";
}

}  // namespace

RcptOutcome classifyRcpt(const SmtpReply& r, const std::string& recipient, const std::string& host) {
  if (r.code == 0) return RcptOutcome::NoAnswer;
  if (r.code >= 200 && r.code < 300) return RcptOutcome::Accepted;
  if (r.code < 400 || r.code >= 600) return RcptOutcome::Temporary;  // 1xx/3xx to RCPT: nonsense, inconclusive
  if (tooManyRecipients(r)) return RcptOutcome::Temporary;  // the server's limit, not the address

  // The reply is read as a bounce's reply to RCPT is (data/bounce/rules.yaml): the same wordings,
  // status facts and host scopes, so what the rules know of a mail system's words holds here too.
  bounce::BounceRecord b;
  b.recipient = recipient;
  b.diagnostic = r.line();
  b.status = r.enhanced;
  b.reply_code = std::to_string(r.code);
  b.smtp_command = "RCPT";
  bounce::ReportContext ctx;
  ctx.remote_mta = host;
  std::string words;  // what the words name before a generic status took their place
  b = bounce::completeRecord(std::move(b), ctx, &words);

  // Google's 4.2.1 "receiving mail at a rate that prevents additional messages": the mailbox
  // exists and takes mail more slowly. (Its other 4.2.1, the relay's "Peak SMTP relay limit", is
  // about the sending customer, and other servers' 4.2.1 say a mailbox is disabled for now.)
  if (r.code < 500 && b.rule == "google-receiving-too-quickly") return RcptOutcome::Accepted;
  // Words about the client outrank a generic policy status ("421 4.7.0 TLS required for RCPT
  // domain", which X.7.0 alone reads policyviolation), unless the mailbox's state is named.
  if (!aboutTheMailbox(b.reason) && (aboutTheClient(b.reason) || aboutTheClient(words))) return RcptOutcome::RefusedUs;
  if (r.code < 500)
    return b.reason == "mailboxfull" ? RcptOutcome::MailboxFullTemporary : RcptOutcome::Temporary;
  if (b.reason == "mailboxfull") return RcptOutcome::MailboxFull;
  if (b.reason == "suspend") return RcptOutcome::MailboxDisabled;
  if (b.reason == "userunknown" || b.reason == "hostunknown" || b.reason == "hasmoved")
    return RcptOutcome::MailboxNotFound;
  return RcptOutcome::Rejected;  // relay denied, a policy, or words nobody knows: still a refusal of it
}

const char* toString(RcptOutcome o) {
  switch (o) {
    case RcptOutcome::Accepted: return "accepted";
    case RcptOutcome::MailboxNotFound: return "mailbox not found";
    case RcptOutcome::MailboxFull: return "mailbox full";
    case RcptOutcome::MailboxFullTemporary: return "mailbox full for now";
    case RcptOutcome::MailboxDisabled: return "mailbox disabled";
    case RcptOutcome::Rejected: return "rejected";
    case RcptOutcome::Temporary: return "temporary failure";
    case RcptOutcome::RefusedUs: return "refused our probe";
    case RcptOutcome::NoAnswer: return "no answer";
  }
  return "?";
}

}  // namespace safetynet::checks
