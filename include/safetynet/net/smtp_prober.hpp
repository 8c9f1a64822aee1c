#pragma once
// An SMTP session that asks a recipient's mail server about mailboxes and never sends mail:
// EHLO (HELO fallback), STARTTLS when offered and enabled, MAIL FROM, RCPT TO ..., QUIT. No DATA.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "safetynet/core/task.hpp"
#include "safetynet/net/dns.hpp"

namespace safetynet {

struct SmtpReply {
  int code = 0;          // 0: no reply (timeout, connection lost)
  std::string enhanced;  // "5.1.1" (RFC 3463) when the server sent one
  std::string text;      // the reply's text, lines joined with a space
  std::string line() const;  // "550 5.1.1 User unknown"
};

// "Too many recipients" (RFC 3463 X.5.3; RFC 5321 4.5.3.1.10: 452, or 552 from older servers,
// to be treated as temporary; OpenSMTPD's 451): the server's limit per transaction, nothing
// about the address.
bool tooManyRecipients(const SmtpReply& r);

// Parses one complete reply ("250-a\r\n250 b\r\n"); nullopt when malformed.
std::optional<SmtpReply> parseSmtpReply(std::string_view raw);

struct SmtpProbeOptions {
  std::string helo = "probe.example.com";
  std::string mail_from;  // empty: the null reverse-path <>
  int port = 25;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds command_timeout{15000};
  bool starttls = true;
  // Never connect to an address that is not on the public internet (loopback, RFC 1918, link-local:
  // public_address.hpp): an MX pointing there is a parked domain's "MX 0 localhost" (our own host's
  // MTA would answer for it) or a way into the internal network. Off only for test setups, which
  // probe a server on loopback on another port (the contract: "other ports only for tests").
  bool public_only = true;
};

struct RcptReply {
  std::string address;
  SmtpReply reply;
};

struct ProbeSession {
  std::string host;                      // the MX that answered, and its address
  std::string ip;
  std::vector<std::string> unreachable;  // "mx1.example (127.0.0.2): Connection refused"
  std::optional<RcptReply> catch_all;    // the reply to a random local part, when asked
  std::vector<RcptReply> rcpts;
  bool tls = false;
  // Set when the session ended early; the replies above are what was learned before.
  std::string error;
  bool timed_out = false;
  bool out_of_time = false;  // the send's deadline ended it (our budget), not the server
  bool refused_us = false;  // greeting, EHLO/HELO or MAIL FROM rejected: about us, not the recipient
  std::optional<SmtpReply> refusal;
  // Whether the server offered SMTPUTF8 (RFC 6531), once its EHLO was answered. Without it a
  // recipient whose local part is not ASCII is not asked: it could not be delivered there
  // (RFC 6531 3.2), and a sender's MTA bounces it (Postfix: 5.6.7 "SMTPUTF8 is required, but was
  // not offered by host ...").
  std::optional<bool> smtputf8;
};

class SmtpProber {
 public:
  virtual ~SmtpProber() = default;
  // mx_hosts in preference order (a name or an IP literal); the next is tried when one cannot be
  // reached. `catch_all_probe` (may be empty) is asked before the recipients.
  // `deadline`: the whole session (all MX hosts) ends by then.
  virtual Task<ProbeSession> probe(std::vector<std::string> mx_hosts, std::string catch_all_probe,
                                   std::vector<std::string> recipients,
                                   std::optional<TimePoint> deadline = std::nullopt) = 0;
};

using SmtpProberPtr = std::shared_ptr<SmtpProber>;

SmtpProberPtr makeSmtpProber(DnsResolverPtr dns, SmtpProbeOptions options);

}  // namespace safetynet
