#pragma once
// What is known of the software that wrote a bounce, where it changes how the bounce reads.
#include <set>
#include <string>

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

// Addresses a bounce is not about (issue 13 item 4), lower-cased: the reporter's own (the
// bounce's From, Sender, Reply-To, Return-Path) and ours (the bounce's To and envelope recipient:
// Delivered-To, Envelope-To; not X-Original-To, where DragonFly Mail Agent names the failed
// recipient, nor a Received header's "for <...>", which relays rewrite) and our sender (the
// returned message's From, Sender, Reply-To, Return-Path). A failed recipient comes from the
// report's fields or the failure text, never from these.
std::set<std::string> addressesNotAbout(const MimeView& v);

// The addresses a delivery-status report gives for its recipients, lower-cased: every
// Final-Recipient, Original-Recipient and X-Actual-Recipient (RFC 3464 2.3.1, 2.3.2; Sendmail's
// X-Actual-Recipient). A reply naming one of them is about a recipient, whoever else it names.
std::set<std::string> recipientForms(const MimeView& v);

// Exchange sends its notices from its system mailbox, the same name in every organization
// (Microsoft Graph's docs, "message: move": "Undeliverable: Meet for lunch?" from "Microsoft
// Outlook" <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.onmicrosoft.com>).
inline constexpr const char* kExchangeSystemMailbox = "microsoftexchange329e71ec88ae4615bbc36ab6ce41109e";

// A mailbox of the reporting system itself: MAILER-DAEMON (and its spellings) or Exchange's system
// mailbox anywhere, postmaster@ at a domain of the reporter (its From/Sender/Return-Path domain, a
// host named in Reporting-MTA or in the bounce's own Received headers, or a parent domain of one).
bool reporterMailbox(const std::string& address, const MimeView& v);

}  // namespace safetynet::bounce
