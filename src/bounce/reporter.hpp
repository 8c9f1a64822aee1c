#pragma once
// What is known of the software that wrote a bounce, where it changes how the bounce reads.
#include "bounce/mime_view.hpp"

namespace safetynet::bounce {

// The report cannot tell at which SMTP stage the words were said: filtering gateways
// (SurfControl, MailFoundry, Active!Hunter) pass on or make up a refusal without the command;
// Exchange 2000/2003 puts its verdict in a code, not in its words; a delivery-status report whose
// Diagnostic-Code is neither typed (RFC 3464 wants "smtp;" or "x-...;") nor a reply ("550 ...")
// relays no SMTP reply. There,
// "no such user" without an addressing status or the RCPT command is a filter's refusal
// (`filtered`), not a dead mailbox: a false hard bounce suppresses a live lead.
bool reportsNoStage(const MimeView& v);

}  // namespace safetynet::bounce
