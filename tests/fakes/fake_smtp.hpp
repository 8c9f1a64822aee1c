#pragma once
// A local mail submission server for `safetynet demo`: plain SMTP on 127.0.0.1 (what
// notify.email `tls: none` allows, to a loopback relay only), no login. It takes every message
// (EHLO, MAIL, RCPT, DATA, QUIT; RFC 5321's replies) and delivers it into a Maildir. The tests
// of email alerts use a real Postfix instead (tests/integration/email_test.cpp).
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "safetynet/core/task.hpp"

namespace safetynet::fakes {

struct ReceivedMail {
  std::string from;
  std::vector<std::string> to;
  std::string data;  // the message as sent, dot-unstuffed
  std::string file;  // where it was delivered in the Maildir
};

class FakeSmtp {
 public:
  FakeSmtp(asio::any_io_executor ex, std::filesystem::path maildir);
  ~FakeSmtp();
  unsigned short port() const;
  // A copy: the server may be serving on another thread.
  std::vector<ReceivedMail> received() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace safetynet::fakes
