#include "checks/smtp_reply.hpp"

#include <algorithm>
#include <initializer_list>

namespace safetynet::checks {

namespace {

bool contains(const std::string& lowerText, std::initializer_list<const char*> needles) {
  for (const char* n : needles)
    if (lowerText.find(n) != std::string::npos) return true;
  return false;
}

// Replies that are about the client (us), whatever the code: blocklists, reverse DNS, HELO.
bool aboutUs(const std::string& t, const std::string& enhanced) {
  if (enhanced == "5.7.606" || enhanced == "5.7.511") return true;  // Microsoft: banned sending IP
  // "black list" / "block list": Exim's example ACL, "rejected because $sender_host_address is in
  // a black list at $dnslist_domain" (configure.default); "sender address rejected": Postfix's
  // sender restrictions (smtpd_check.c), our MAIL FROM.
  return contains(t, {"spamhaus", "blocked using", "blacklist", "blocklist", "black list", "block list",
                      "sender address rejected", "dnsbl", " rbl", "reverse hostname",
                      "reverse dns", "ptr record", "helo command rejected", "client host rejected",
                      "client host [", "connections will not be accepted", "poor reputation", "your ip",
                      "sender ip", "not allowed to send", "too many connections", "rate limited your ip"});
}

bool full(const std::string& t, const std::string& e) {
  return e == "5.2.2" || e == "4.2.2" ||
         contains(t, {"over quota", "quota exceeded", "mailbox full", "mailbox is full", "insufficient storage",
                      "exceeded storage"});
}

bool disabled(const std::string& t, const std::string& e) {
  return e == "5.2.1" || contains(t, {"disabled", "inactive", "deactivated", "suspended", "no longer active"});
}

bool notFound(const std::string& t, const std::string& e) {
  if (e == "5.1.1" || e == "5.1.0" || e == "5.1.10" || e == "5.1.6" || e == "5.1.2") return true;
  return contains(t, {"user unknown", "unknown user", "no such user", "does not exist", "doesn't exist",
                      "doesn't have a", "not found", "mailbox unavailable", "invalid recipient", "invalid mailbox",
                      "unrouteable address", "no mailbox", "recipientnotfound", "unknown recipient",
                      "no such recipient", "address rejected", "user not found"});
}

}  // namespace

RcptOutcome classifyRcpt(const SmtpReply& r) {
  if (r.code == 0) return RcptOutcome::NoAnswer;
  std::string t = r.text;
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (r.code >= 200 && r.code < 300) return RcptOutcome::Accepted;
  // Gmail's "receiving mail at a rate that prevents additional messages": the mailbox exists.
  if (r.code >= 400 && r.code < 500 && (r.enhanced == "4.2.1" || contains(t, {"receiving mail at a rate"})))
    return RcptOutcome::Accepted;
  if (aboutUs(t, r.enhanced)) return RcptOutcome::RefusedUs;
  if (r.code >= 400 && r.code < 500)
    return full(t, r.enhanced) ? RcptOutcome::MailboxFullTemporary : RcptOutcome::Temporary;
  if (r.code >= 500 && r.code < 600) {
    if (tooManyRecipients(r)) return RcptOutcome::Temporary;  // the server's limit, not the address
    if (full(t, r.enhanced)) return RcptOutcome::MailboxFull;
    if (disabled(t, r.enhanced)) return RcptOutcome::MailboxDisabled;
    if (notFound(t, r.enhanced)) return RcptOutcome::MailboxNotFound;
    return RcptOutcome::Rejected;
  }
  return RcptOutcome::Temporary;  // 1xx/3xx to RCPT: nonsense, inconclusive
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
