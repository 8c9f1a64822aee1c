#include "bounce/reporter.hpp"

#include <algorithm>
#include <cctype>
#include "safetynet/core/text.hpp"

namespace safetynet::bounce {

namespace {

bool filteringGateway(const MimeView& v) {
  if (contains(asciiLower(v.header("x-mailer")), "surfcontrol")) return true;
  for (const auto& [name, value] : v.headers)
    if (name.rfind("x-sef-", 0) == 0 || name == "x-ahmailid") return true;  // SurfControl, Active!Hunter
  return std::any_of(v.received.begin(), v.received.end(),
                     [](const std::string& r) { return contains(asciiLower(r), "(mailfoundry)"); });
}

bool exchange2003(const MimeView& v) {
  return std::any_of(v.leaves.begin(), v.leaves.end(),
                     [](const MimeLeaf& l) { return l.depth == 0 && contains(l.text, "MSEXCH:"); });
}

// Diagnostic-Code: 5.0.0-style text with no "type;" before it.
bool untypedDiagnostic(const MimeView& v) {
  for (const auto& l : v.leaves) {
    if (l.depth != 0 || l.type != "message/delivery-status") continue;
    const std::string t = asciiLower(l.text);
    for (size_t at = t.find("diagnostic-code:"); at != std::string::npos; at = t.find("diagnostic-code:", at + 1)) {
      const auto eol = t.find('\n', at);
      const std::string value = t.substr(at + 16, eol == std::string::npos ? std::string::npos : eol - at - 16);
      const auto semi = value.find(';');
      // SendGrid leaves out the type but relays the reply ("550 5.1.1 ..."): that is an SMTP reply.
      const auto start = value.find_first_not_of(" \t");
      const bool reply = start != std::string::npos && value.size() >= start + 3 && (value[start] == '4' || value[start] == '5') &&
                         std::isdigit(static_cast<unsigned char>(value[start + 1])) &&
                         std::isdigit(static_cast<unsigned char>(value[start + 2]));
      if ((semi == std::string::npos || semi > 24) && !reply) return true;
    }
  }
  return false;
}

}  // namespace

bool reportsNoStage(const MimeView& v) { return filteringGateway(v) || exchange2003(v) || untypedDiagnostic(v); }

}  // namespace safetynet::bounce
