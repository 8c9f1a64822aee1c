#include "checks/mail_provider.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace safetynet::checks {

namespace {
struct Suffix {
  std::string_view suffix;
  std::string_view provider;
};

// Longest suffixes first where they overlap (Outlook consumer vs Microsoft 365).
constexpr std::array kSuffixes = {
    Suffix{".olc.protection.outlook.com", "outlook_consumer"},
    Suffix{".mail.protection.outlook.com", "microsoft365"},
    Suffix{".protection.outlook.com", "microsoft365"},
    Suffix{".outlook.com", "microsoft365"},
    // Exchange Online's DNSSEC/DANE inbound MX ("contoso-com.<x>.mx.microsoft").
    Suffix{".mx.microsoft", "microsoft365"},
    Suffix{".hotmail.com", "outlook_consumer"},
    Suffix{".google.com", "google"},
    Suffix{".googlemail.com", "google"},
    Suffix{".yahoodns.net", "yahoo"},
    Suffix{".mail.icloud.com", "icloud"},
    Suffix{".me.com", "icloud"},
    Suffix{".pphosted.com", "proofpoint"},
    Suffix{".ppe-hosted.com", "proofpoint"},
    Suffix{".mimecast.com", "mimecast"},
    Suffix{".mimecast.co.za", "mimecast"},
    Suffix{".barracudanetworks.com", "barracuda"},
    Suffix{".antispamcloud.com", "spamexperts"},
    Suffix{".messagingengine.com", "fastmail"},
    Suffix{".zoho.com", "zoho"},
    Suffix{".zoho.eu", "zoho"},
    Suffix{".zoho.in", "zoho"},
    Suffix{".yandex.net", "yandex"},
    Suffix{".yandex.ru", "yandex"},
    Suffix{".mail.ru", "mailru"},
    Suffix{".protonmail.ch", "proton"},
    Suffix{".gmx.net", "gmx"},
    Suffix{".web.de", "webde"},
    Suffix{".secureserver.net", "godaddy"},
    Suffix{".ionos.com", "ionos"},
    Suffix{".kundenserver.de", "ionos"},
    Suffix{".amazonaws.com", "amazon_ses"},
    Suffix{".iphmx.com", "cisco_secure_email"},
    Suffix{".trendmicro.com", "trendmicro"},
    Suffix{".sophos.com", "sophos"},
};

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
}  // namespace

std::string mailProviderOf(const std::vector<std::string>& mx_hosts) {
  for (std::string host : mx_hosts) {
    std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return std::tolower(c); });
    while (!host.empty() && host.back() == '.') host.pop_back();
    for (const auto& s : kSuffixes)
      if (endsWith(host, s.suffix)) return std::string(s.provider);
  }
  return "";
}

}  // namespace safetynet::checks
