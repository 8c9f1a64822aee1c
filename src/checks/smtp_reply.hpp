#pragma once
// What an RCPT reply says about the mailbox. Real replies differ by server, so the enhanced status
// code (RFC 3463) decides first and the text second; texts of Gmail, Outlook, Yahoo, iCloud, Exim
// and Postfix are in tests/unit/smtp_reply_test.cpp.
#include "safetynet/net/smtp_prober.hpp"

namespace safetynet::checks {

enum class RcptOutcome {
  Accepted,
  MailboxNotFound,
  MailboxFull,           // a permanent reply (552 / 5.2.2): mail sent now bounces; the box can be emptied
  MailboxFullTemporary,  // a temporary one (452 / 4.2.2): the server keeps trying
  MailboxDisabled,
  Rejected,     // another permanent refusal of this recipient (relay denied, policy)
  Temporary,    // 4xx: greylisting and the like; never a reason to call the address invalid
  RefusedUs,    // our IP, HELO or reverse DNS refused or blocklisted: our side
  NoAnswer,
};

// `recipient` and the answering `host` (the MX) scope the rules that hold for one mail system.
RcptOutcome classifyRcpt(const SmtpReply& reply, const std::string& recipient = "", const std::string& host = "");
const char* toString(RcptOutcome o);

}  // namespace safetynet::checks
