#include "bounce/vendor_codes.hpp"

#include <algorithm>
#include <map>
#include <regex>

namespace safetynet::bounce {

std::string orangeReason(const std::string& diagnostic) {
  static const std::regex code(R"(\b(?:LPN|LPNAAA|OFR|OUK)(?:_\d{3}|\d{3}[-_]\d{3})\b)", std::regex::icase);
  std::smatch m;
  if (!std::regex_search(diagnostic, m, code)) return "";
  static const std::map<std::string, std::string> table = {
      {"101", "blocked"},         {"102", "blocked"},         {"103", "blocked"},       {"104", "toomanyconn"},
      {"305", "securityerror"},   {"401", "blocked"},         {"402", "securityerror"}, {"403", "rejected"},
      {"405", "rejected"},        {"415", "rejected"},        {"416", "userunknown"},   {"417", "mailboxfull"},
      {"418", "userunknown"},     {"420", "suspend"},         {"421", "rejected"},      {"426", "suspend"},
      {"505", "systemerror"},     {"506", "spamdetected"},    {"510", "blocked"},       {"514", "mesgtoobig"},
      {"517", "policyviolation"}, {"630", "policyviolation"}, {"999", "blocked"}};
  const std::string s = m[0].str();
  auto it = table.find(s.substr(s.size() - 3));
  return it == table.end() ? "undefined" : it->second;  // a code Orange gives no meaning to
}

std::string exchange2003Reason(const std::string& diagnostic) {
  static const std::regex code(R"(MSEXCH:[^\n]*?\((0[0-9A-Fa-f]{7})\))");
  std::smatch m;
  if (!std::regex_search(diagnostic, m, code)) return "";
  std::string hex = m[1].str();
  std::transform(hex.begin(), hex.end(), hex.begin(), [](unsigned char c) { return std::toupper(c); });
  static const std::map<std::string, std::string> table = {
      {"000C05A6", "userunknown"},  // Unknown Recipient
      {"000C0595", "filtered"},     // Ambiguous Recipient
      // 000B099C, 000B09AA, 000B09B6 cover several errors (host unknown, relaying, size, the
      // remote MTA's own error): the words decide.
      {"00010256", "systemerror"},  // too many recipients
      {"000D06B5", "systemerror"},  // no proxy for the recipient
      {"00120270", "networkerror"}, // too many hops
      {"00050311", "contenterror"}, // conversion to Internet format failed
      {"000502CC", "contenterror"},
      {"000B0981", "securityerror"},  // the server does not support AUTH
  };
  auto it = table.find(hex);
  return it == table.end() ? "" : it->second;
}

std::string powerMtaReason(const std::string& category) {
  static const std::map<std::string, std::string> table = {
      {"bad-domain", "hostunknown"},       {"bad-mailbox", "userunknown"},         {"inactive-mailbox", "suspend"},
      {"message-expired", "expired"},      {"no-answer-from-host", "networkerror"}, {"policy-related", "policyviolation"},
      {"quota-issues", "mailboxfull"},     {"routing-errors", "systemerror"},      {"spam-related", "spamdetected"},
      {"virus-related", "virusdetected"},  {"relaying-issues", "norelaying"},      {"content-related", "contenterror"}};
  std::string c;
  for (char ch : category)
    if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n') c += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  auto it = table.find(c);
  return it == table.end() ? "" : it->second;
}

}  // namespace safetynet::bounce
