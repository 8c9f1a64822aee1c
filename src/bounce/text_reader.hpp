#pragma once
// The human text of MTAs that send no delivery-status report.
#include "bounce/mime_view.hpp"
#include "safetynet/bounce/bounce.hpp"

namespace safetynet::bounce {

// The message comes from a mail system's own mailbox (MAILER-DAEMON, postmaster, "Mail Delivery
// System") or names its failed recipients (X-Failed-Recipients, Exim).
bool fromAMailSystem(const MimeView& v);

// A From value (lowercase) that names a mail system's own sender: its MAILER-DAEMON or postmaster,
// a "Mail Delivery" system, or Exchange's system mailbox. For the From lines of a forwarded
// notice's header block and of an attached message, where only the text is at hand.
bool namesAMailSystem(const std::string& lowered_from);

// A person's reply or an auto-reply (a vacation notice, a help desk's acknowledgement), not a mail
// system's notice: whatever bounce it quotes, the failure is not this message's.
bool aPersonsAnswer(const MimeView& v);

// A person's own new message: from a person's mailbox, not marked automatic, and neither a forward
// (no forward prefix in its subject, no client's forward separator in its text) nor a mail
// system's text (no template sentence of one). A report it pastes is quoted, not this message's.
bool aPersonsOwnMessage(const MimeView& v);

// False when the message does not look like a bounce or names no failed recipient.
bool readText(const MimeView& v, Classification& out);

}  // namespace safetynet::bounce
