#pragma once
// The email form of a notification (GMime): multipart/alternative, text and HTML, with the same
// content as the Slack message (messages.hpp). Everything in it is derived from the outbox row, so
// building it again for a retry gives the same message: same Message-ID, Date and MIME boundary.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "safetynet/config/config.hpp"

namespace safetynet {

// <sha256(dedupe_key)-TAG@safetynet.DOMAIN>, DOMAIN the From address's domain; TAG says what it is
// (hold, too-late, digest...). Stable: a resend after a crash carries the same one.
std::string emailMessageId(const std::string& dedupe_key, const nlohmann::json& payload, const std::string& from_address);

// The whole message (RFC 5322, LF line ends) to `to` (addresses), ready for sendmail; the SMTP
// transport turns line ends into CRLF. The Date is the payload's queued_at (when it was routed).
std::string buildEmailMessage(const EmailConfig& config, const std::vector<std::string>& to,
                              const std::string& dedupe_key, const nlohmann::json& payload);

// An ISO 8601 time shown in an IANA time zone ("Europe/Paris"; "" or unknown: UTC), e.g.
// "Mon 23 Nov 2026, 09:00 CET".
std::string emailDate(const std::string& iso, const std::string& time_zone);

}  // namespace safetynet
