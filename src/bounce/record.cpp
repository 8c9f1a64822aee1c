#include "bounce/record.hpp"

#include <algorithm>
#include <vector>

#include "bounce/reason.hpp"
#include "bounce/vendor_codes.hpp"
#include "safetynet/core/text.hpp"

namespace safetynet::bounce {

namespace {

// What some receiving systems mean by their words (Sisimai's per-host knowledge, as facts):
//  - Japanese mobile carriers answer "User unknown" when the subscriber's reception filter
//    refuses the sender ("550 : User unknown", naming nobody); "550 <address>: User unknown" or an
//    X.1.x status is a dead mailbox.
//  - Amazon SES inbound bounces come from the domain owner's receipt rule (a Bounce action):
//    a filter the recipient chose.
//  - Microsoft's consumer mail (Hotmail, Outlook.com) refuses unknown addresses with RFC 5321's
//    stock "550 Requested action not taken: mailbox unavailable".
std::string perHost(const std::string& reason, const std::string& recipient, const std::string& status,
                    const std::string& diagnostic, const std::string& reporting_mta) {
  if (auto orange = orangeReason(diagnostic); !orange.empty()) return orange;
  const std::string mta = asciiLower(reporting_mta);
  if (reason == "filtered" && (contains(mta, ".hotmail.com") || contains(mta, ".outlook.com")) &&
      isStockMailboxUnavailable(diagnostic))
    return "userunknown";
  if (reason != "userunknown") return reason;
  const std::string domain = recipient.substr(recipient.rfind('@') + 1);
  static const std::vector<std::string> carriers = {"ezweb.ne.jp", "au.com", "docomo.ne.jp", "softbank.ne.jp",
                                                    "i.softbank.jp", "disney.ne.jp", "uqmobile.jp"};
  const bool addressing = status.size() >= 4 && status.substr(1, 3) == ".1.";
  if (std::find(carriers.begin(), carriers.end(), domain) != carriers.end() && !addressing && !status.empty() &&
      !contains(asciiLower(diagnostic), recipient))
    return "filtered";
  if (contains(mta, "inbound-smtp.") && contains(mta, "amazonaws.com")) return "filtered";
  return reason;
}

}  // namespace

BounceRecord completeRecord(BounceRecord r, const ReportContext& ctx) {
  // Words from outside, read with std::regex: bounded (a reply is at most 512 bytes a line).
  constexpr size_t kMaxDiagnostic = 2000;
  if (r.diagnostic.size() > kMaxDiagnostic) r.diagnostic.resize(kMaxDiagnostic);
  if (r.status.empty()) r.status = findStatus(r.diagnostic);
  if (r.reply_code.empty()) r.reply_code = findReplyCode(r.diagnostic);
  if (r.smtp_command.empty()) r.smtp_command = findCommand(r.diagnostic);
  // A DSN status of X.0.0 says nothing: a more specific code in the text is better.
  if (r.status.size() >= 5 && r.status.substr(1) == ".0.0") {
    std::string inText = findStatus(r.diagnostic);
    if (!inText.empty() && inText.substr(1) != ".0.0" && inText[0] == r.status[0]) r.status = inText;
  }
  const std::string vendor = exchange2003Reason(r.diagnostic);
  if (r.reason.empty()) r.reason = vendor;
  if (r.reason.empty()) r.reason = decideReason(r.status, r.reply_code, r.diagnostic, r.smtp_command, r.action);
  r.reason = perHost(r.reason, r.recipient, r.status, r.diagnostic, ctx.reporting_mta);
  const bool addressing = r.status.size() >= 4 && r.status.substr(1, 3) == ".1.";
  if (ctx.no_stage && r.reason == "userunknown" && vendor.empty() && r.smtp_command != "RCPT" && !addressing)
    r.reason = "filtered";
  r.hard = isHardBounce(r.reason, r.status, r.reply_code);
  return r;
}

}  // namespace safetynet::bounce
