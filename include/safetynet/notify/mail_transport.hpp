#pragma once
// Hands one message to a mail server: SMTP submission (libcurl) or the local MTA's sendmail
// program. Blocking: the email notifier calls it off the event loop's thread.
#include <memory>
#include <string>
#include <vector>

#include "safetynet/config/config.hpp"

namespace safetynet {

struct MailResult {
  enum class Status {
    Sent,       // the server took it (250 after DATA; sendmail exited 0)
    TempFail,   // not taken, try again later (4xx, refused connection, TLS or login problems)
    PermFail,   // refused for good (5xx to RCPT, MAIL or DATA): retrying the same cannot help
    Unknown,    // may have been taken (the connection dropped after the message was sent)
  };
  Status status = Status::TempFail;
  std::string detail;  // the server's last answer or the error, never a credential
};

class MailTransport {
 public:
  virtual ~MailTransport() = default;
  virtual std::string_view name() const = 0;
  // `message`: RFC 5322 with LF line ends; `from`: the envelope sender (bounces go there).
  virtual MailResult send(const std::string& from, const std::vector<std::string>& to, const std::string& message) = 0;
};

using MailTransportPtr = std::shared_ptr<MailTransport>;

// transport smtp: smtp://host:port with STARTTLS required (tls: starttls), smtps:// (implicit),
// or plain (tls: none, loopback only: refused by the config loader otherwise); certificates and
// host names always verified; AUTH PLAIN or LOGIN with username/password.
MailTransportPtr makeSmtpTransport(const EmailConfig& config);
// transport sendmail: `sendmail_path sendmail_args... -t -oi -f FROM`, the message on stdin.
MailTransportPtr makeSendmailTransport(const EmailConfig& config);

}  // namespace safetynet
