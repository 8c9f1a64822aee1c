#pragma once
// Bounce classification: a bounce email in, one record per failed recipient out, with Sisimai's
// reason vocabulary (notes/bounces.md): userunknown, hostunknown, mailboxfull, blocked, expired,
// feedback (ARF complaints), vacation (auto-replies, not bounces)...
#include <optional>
#include <string>
#include <vector>

namespace safetynet::bounce {

struct BounceRecord {
  std::string recipient;
  std::string reason;      // Sisimai's vocabulary
  std::string status;      // RFC 3463 enhanced status ("5.1.1"), "" if none was given
  std::string reply_code;  // SMTP reply code ("550"), "" if none
  bool hard = false;       // the address is dead: permanent evidence about it (docs/bounces.md, "Hard or soft")
  std::string action;      // failed, delayed, delivered... (RFC 3464), "" when not stated
  std::string diagnostic;  // the server's words
  std::string smtp_command;  // RCPT, DATA, MAIL... when the bounce says in reply to which
  std::string feedback_type;  // ARF: abuse, fraud, ...
  // The host whose reply this is, lower-case: the DSN's Remote-MTA, else the host a text notice
  // names before the reply (Postfix "host %s[%s] said:", Exim "host %s [%s]:", Sendmail "while
  // talking to %s:"), else, when the words are no SMTP reply, the Reporting-MTA (the reporter
  // refused it itself); "" when none is named or it is an address literal. The bounce history
  // counts a relay's incident by it.
  std::string remote_host;
  // The id of the wording rule of data/bounce/rules.yaml (or the admin's file) that decided the
  // reading, "" when the status, a vendor code or a reader decided: what an admin disables or
  // overrides (bounces.rules_file) when a reading is wrong.
  std::string rule;
  // What changed the reading after that rule (the stage, a status, a receiver's meaning), or why a
  // dead-address reading stays soft: for the admin reading `bounce classify`, "" when nothing did.
  std::string why;
  // The address the message was sent to, when the report names it apart from the address that
  // failed: a forward's or an alias's source. Postfix writes it as Original-Recipient (an ORCPT
  // given, else the address before expansion: bounce_notify_util.c, RFC 3464 2.3.1) and in its
  // text as "<%s> (expanded from <%s>)". "" when it is the same address or not named. The record
  // stays the failed address's; the bounce history counts a soft bounce for this one too
  // (history.cpp), since a forward and a list with one dead member look the same.
  std::string sent_to;
};

struct Classification {
  std::vector<BounceRecord> records;
  std::string format;  // which reader understood it: rfc3464, arf, amazonses, text, list, rfc3834
  std::string sender;  // the mailbox that sent the bounced message (its From, else the bounce's To)
  std::string error;   // why nothing could be read (not a bounce, broken MIME...)
  std::optional<long long> date_unix;  // the bounce's Date: header (seconds since 1970), if it parses
};

// Never throws: broken input gives an empty result with `error`.
Classification classify(const std::string& raw_message);

// The messages of an mbox file ("From " lines, read by GMime) as [begin, end) byte ranges of
// `raw`; a file that is not an mbox is one message.
std::vector<std::pair<size_t, size_t>> mailboxMessages(const std::string& raw);

// Hard on the status alone: a permanent class, a status that data/bounce/rules.yaml marks as
// evidence about the recipient (X.1.1, X.1.2...), and a reason that says the address is dead.
// (classify() also counts the wording rules; this is what a reason and codes say by themselves.)
bool isHardBounce(const std::string& reason, const std::string& status, const std::string& reply_code);

// Whether an ARF Feedback-Type (a `feedback` record's feedback_type) is the recipient complaining
// about our email: "abuse", "fraud", "other" and types not registered. Not "auth-failure" (RFC 6591:
// the receiver's system reporting our domain's failed authentication, DMARC's failure reports),
// "not-spam" (RFC 6430: the recipient saying our email is wanted), nor "virus" (RFC 5965 7.3: a
// scanner's finding): those are for the admins and change no lead's standing.
bool isComplaint(const std::string& feedback_type);

// Whether the record's action reports no final failure (RFC 3464 2.3.3): delivered, relayed,
// expanded, or delayed (the MTA "will continue to attempt").
bool actionIsNoFailure(const BounceRecord& r);

}  // namespace safetynet::bounce
