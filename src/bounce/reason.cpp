#include "bounce/reason.hpp"

#include <algorithm>
#include <array>
#include <regex>
#include <string_view>
#include <vector>

#include "safetynet/bounce/bounce.hpp"

namespace safetynet::bounce {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

struct Phrases {
  std::string_view reason;
  std::vector<std::string_view> any;
};

// Checked in this order: the first reason with a matching phrase wins. Sender-side and content
// reasons come before recipient ones, because a "550 5.1.1 ... blocked" is about us, and a
// mailbox phrase inside a policy text ("mailbox unavailable: blocked") is not a dead mailbox.
const std::vector<Phrases>& table() {
  static const std::vector<Phrases> t = {
      {"requireptr", {"reverse dns", "reverse hostname", "ptr record", "no ptr", "reverse lookup", "rdns",
                      "cannot find your hostname", "cannot resolve your address", "dns reverse"}},
      {"authfailure", {"spf ", "spf:", "spf check", "sender policy framework", "dkim", "dmarc", "unauthenticated email",
                       "sender authentication", "authentication failed"}},
      {"badreputation", {"reputation", "ip address is on a block list"}},
      {"blocked", {"blocked", "blacklist", "blocklist", "block list", "listed in", "listed on", "dnsbl", "spamhaus",
                   "spamcop", "sorbs", "barracudacentral", "client host rejected", "access denied", "banned",
                   "has been temporarily rate limited"}},
      {"toomanyconn", {"too many connections", "too many concurrent", "connection limit", "too many simultaneous"}},
      {"speeding", {"rate limit", "too many messages", "sending rate", "too many emails", "throttl", "try again later, closing"}},
      {"virusdetected", {"virus", "malware", "infected", "trojan"}},
      {"spamdetected", {"spam", "junk mail", "bulk mail", "unsolicited", "considered unsolicited", "message content rejected"}},
      {"norelaying", {"relay access denied", "relaying denied", "not permitted to relay", "relay not permitted", "unable to relay",
                      "we do not relay", "relaying not allowed", "relay denied", "not allowed to relay"}},
      {"notcompliantrfc", {"rfc 5322", "rfc5322", "rfc 2822", "rfc2822", "not rfc compliant", "duplicate header",
                           "multiple from", "multiple to", "multiple subject", "header field"}},
      {"contenterror", {"content", "message header", "mime", "illegal character", "invalid header"}},
      {"mesgtoobig", {"message too large", "message too big", "message size exceeds", "exceeds the size limit",
                      "exceeded the size limit", "size limit", "message is too large", "too large", "larger than"}},
      {"exceedlimit", {"exceeds the maximum", "exceeds recipient's limit"}},
      {"mailboxfull", {"mailbox full", "mailbox is full", "quota", "mailbox size limit", "account is full",
                       "exceeded storage", "storage allocation", "insufficient storage", "out of storage", "inbox is full",
                       "mail box full", "user is over", "mailbox has exceeded", "no space left"}},
      {"suspend", {"disabled", "suspended", "inactive", "deactivated", "account has been locked", "not active",
                   "mailbox unavailable or access denied", "account is locked", "temporarily unavailable"}},
      {"hasmoved", {"has moved", "has been moved", "no longer with", "moved to"}},
      {"hostunknown", {"host unknown", "unknown host", "domain not found", "no such domain", "domain does not exist",
                       "host or domain name not found", "name service error", "unrouteable address", "unroutable address",
                       "domain name not found", "no mx", "host not found", "domain is not", "dns error", "no such host",
                       "unknown domain", "invalid domain", "domain unknown"}},
      {"userunknown", {"user unknown", "unknown user", "no such user", "no such mailbox", "no such recipient",
                       "user not found", "recipient not found", "recipient unknown", "unknown recipient", "invalid recipient",
                       "recipient address rejected", "does not exist", "doesn't exist", "mailbox not found",
                       "no mailbox here", "unknown local part", "not a valid mailbox", "address unknown", "invalid mailbox",
                       "unknown address", "no such account", "account does not exist", "recipnotfound", "user doesn't have",
                       "mailbox unavailable", "not our customer", "unknown or illegal alias", "bad destination mailbox",
                       "address rejected", "unknown account", "addressee unknown", "user invalid", "no valid recipients",
                       "recipient does not exist", "is not a known user", "mailbox does not exist", "no longer available",
                       "undeliverable address", "invalid address", "user account is unavailable", "no such person"}},
      {"rejected", {"sender address rejected", "sender rejected", "domain of sender address", "sender verify failed",
                    "sender is not allowed", "sender not allowed", "mail from", "envelope sender", "sender domain",
                    "return path"}},
      {"policyviolation", {"policy", "prohibited", "not allowed", "refused by", "not authorized"}},
      {"securityerror", {"security", "authentication required", "tls required", "encryption required", "starttls"}},
      {"expired", {"retry timeout exceeded", "could not be delivered for", "delivery time expired", "message expired",
                   "too long in the queue", "expired", "retry time", "delivery attempts will continue", "giving up",
                   "timed out", "timeout", "has been delayed", "delivery has been delayed"}},
      {"networkerror", {"network", "connection refused", "no route to host", "unable to connect", "connection reset",
                        "could not connect", "lost connection", "connection closed"}},
      {"systemfull", {"disk full", "system storage", "out of disk"}},
      {"mailererror", {"mailer", "procmail", "exit code", "command died", "pipe to", "x-unix", "program"}},
      {"systemerror", {"system error", "server error", "internal error", "local error", "configuration error",
                       "temporary failure", "resources temporarily", "mail system"}},
      {"syntaxerror", {"syntax error", "command unrecognized", "unrecognized command", "bad sequence"}},
      {"filtered", {"filtered", "rejected by", "content filter"}},
  };
  return t;
}

bool contains(const std::string& haystack, std::string_view needle) { return haystack.find(needle) != std::string::npos; }

}  // namespace

std::string reasonFromText(const std::string& diagnostic) {
  const std::string t = lower(diagnostic);
  if (t.empty()) return "";
  for (const auto& p : table())
    for (auto phrase : p.any)
      if (contains(t, phrase)) return std::string(p.reason);
  return "";
}

std::string reasonFromStatus(const std::string& status) {
  if (status.size() < 5) return "";
  const char cls = status[0];
  const std::string rest = status.substr(2);  // subject.detail
  if (cls == '2') return "delivered";
  static const std::array<std::pair<std::string_view, std::string_view>, 22> map = {{
      {"1.1", "userunknown"},   {"1.2", "hostunknown"},  {"1.3", "userunknown"}, {"1.4", "userunknown"},
      {"1.6", "hasmoved"},      {"1.10", "notaccept"},   {"1.8", "rejected"},    {"1.7", "rejected"},
      {"2.1", "suspend"},       {"2.2", "mailboxfull"},  {"2.3", "exceedlimit"}, {"2.4", "systemerror"},
      {"3.1", "systemfull"},    {"3.4", "mesgtoobig"},   {"4.4", "hostunknown"}, {"4.7", "expired"},
      {"5.3", "syntaxerror"},   {"7.25", "requireptr"},  {"7.23", "authfailure"}, {"7.24", "authfailure"},
      {"7.26", "authfailure"},  {"7.27", "notaccept"},
  }};
  for (const auto& [code, reason] : map)
    if (rest == code) return std::string(reason);
  if (rest == "4.1" || rest == "4.2" || rest == "4.0" || rest == "4.3" || rest == "4.6") return "networkerror";
  if (rest == "5.0" || rest == "5.1" || rest == "5.2" || rest == "5.4" || rest == "5.5") return "syntaxerror";
  if (rest == "7.28") return "speeding";
  if (rest == "7.0" || rest == "7.1") return "";  // policy: the text must say what
  return "";
}

std::string decideReason(const std::string& status, const std::string& reply_code, const std::string& diagnostic,
                         const std::string& command, const std::string& action) {
  const std::string act = lower(action);
  if (act == "delivered" || act == "relayed" || act == "expanded") return "delivered";
  std::string text = reasonFromText(diagnostic);
  const std::string code = reasonFromStatus(status);
  std::string reason;
  // Codes that name one thing win over weaker words; specific words win over generic codes.
  static const std::vector<std::string> strongCodes = {"userunknown", "hostunknown", "notaccept", "hasmoved", "mailboxfull",
                                                       "requireptr", "authfailure", "mesgtoobig", "exceedlimit"};
  static const std::vector<std::string> senderSide = {"requireptr", "authfailure", "badreputation", "blocked", "toomanyconn",
                                                      "speeding", "virusdetected", "spamdetected", "norelaying",
                                                      "rejected", "policyviolation", "securityerror"};
  auto in = [](const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); };
  if (!code.empty() && in(strongCodes, code) && !(text != code && in(senderSide, text)))
    reason = code;
  else if (!text.empty())
    reason = text;
  else
    reason = code;
  if (reason.empty() && act == "delayed") reason = "expired";
  if (reason.empty()) {
    // A bare code: 4xx is something temporary on the way, 5xx with nothing said is undecided.
    if (!status.empty() && status[0] == '4') reason = "expired";
    else reason = "onhold";
  }
  // A "no such user" after the message was sent (end of DATA) is a filter's answer, not a dead
  // mailbox: Sisimai's `filtered`, soft.
  if ((reason == "userunknown" || reason == "suspend") && command == "DATA") reason = "filtered";
  if (reason == "syntaxerror" && !reply_code.empty() && reply_code[0] == '4') reason = "systemerror";
  return reason;
}

std::string findStatus(const std::string& text) {
  static const std::regex re(R"((?:^|[^\d.])([245]\.\d{1,3}\.\d{1,3})(?![\d.]))");
  std::smatch m;
  if (std::regex_search(text, m, re)) return m[1].str();
  return "";
}

std::string findReplyCode(const std::string& text) {
  static const std::regex re(R"((?:^|[^\d.#-])([45][0-7]\d)(?:[ -]|$)(?!\d))");
  std::smatch m;
  if (std::regex_search(text, m, re)) return m[1].str();
  return "";
}

std::string findCommand(const std::string& text) {
  const std::string t = lower(text);
  if (contains(t, "end of data") || contains(t, "after end of data") || contains(t, "after data") ||
      contains(t, "in reply to data") || contains(t, "end of message"))
    return "DATA";
  if (contains(t, "rcpt to") || contains(t, "after rcpt") || contains(t, "in reply to rcpt")) return "RCPT";
  if (contains(t, "mail from") || contains(t, "after mail")) return "MAIL";
  if (contains(t, "after helo") || contains(t, "after ehlo") || contains(t, "in reply to helo") ||
      contains(t, "in reply to ehlo"))
    return "HELO";
  return "";
}

bool isHardBounce(const std::string& reason, const std::string& status, const std::string& reply_code) {
  if (reason == "userunknown" || reason == "hostunknown" || reason == "hasmoved") return true;
  if (reason == "notaccept") {
    if (!status.empty()) return status[0] == '5';
    if (!reply_code.empty()) return reply_code[0] == '5';
    return true;
  }
  return false;
}

}  // namespace safetynet::bounce
