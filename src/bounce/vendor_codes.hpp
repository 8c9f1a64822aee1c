#pragma once
// Codes that one vendor's software writes into its bounces and that name the reason more surely
// than the words around them. Each returns a reason in Sisimai's vocabulary, or "" when the text
// holds no such code. The tables are facts about those products (their documentation, and
// Sisimai's per-MTA and per-host modules that record them).
#include <string>

namespace safetynet::bounce {

// Orange and La Poste end their replies with "LPN007_416", "OFR_506"...: the last three digits.
std::string orangeReason(const std::string& diagnostic);

// Microsoft Exchange 2000/2003 "MSEXCH:IMS:... 0 (000C05A6)": the hexadecimal code.
std::string exchange2003Reason(const std::string& diagnostic);

// PowerMTA's X-PowerMTA-BounceCategory ("bad-mailbox"...); "other" and the like name none.
std::string powerMtaReason(const std::string& category);

}  // namespace safetynet::bounce
