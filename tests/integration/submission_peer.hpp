#pragma once
// A real Postfix started by the email tests on loopback as a submission server: STARTTLS on one
// port and implicit TLS on another, both with a certificate from a throwaway CA the test makes
// with openssl; SMTP AUTH (PLAIN, LOGIN) from a Cyrus sasldb made with saslpasswd2; delivery into
// Maildirs under the test's directory (virtual(8)), which the test reads. Its config directory
// also serves Postfix's own sendmail (`sendmail -C DIR`), so the sendmail transport is tested
// against the real program. A missing program is a failure (run scripts/setup), never a skip.
#include <string>
#include <vector>

#include "integration/peers.hpp"

namespace safetynet::testing {

class SubmissionServer {
 public:
  // `mailboxes`: local parts at example.test that get a Maildir (others are refused at RCPT, 5.1.1).
  // `port`: 0 picks a free one (a test may reserve one first and start the server later).
  explicit SubmissionServer(const std::vector<std::string>& mailboxes, unsigned short port = 0);
  ~SubmissionServer();
  unsigned short port() const { return port_; }          // STARTTLS required, AUTH after it
  unsigned short smtpsPort() const { return smtpsPort_; }  // implicit TLS
  std::string caFile() const { return (dir_ / "ca.pem").string(); }
  std::string otherCaFile() const { return (dir_ / "other-ca.pem").string(); }  // did not sign the certificate
  std::string configDir() const { return (dir_ / "etc").string(); }
  static constexpr const char* kUser = "safetynet@example.test";
  static constexpr const char* kPassword = "s3cret-for-tests";
  // The messages delivered to local@example.test, oldest first (whole files).
  std::vector<std::string> messages(const std::string& local) const;
  // Waits until `local` has at least `n` messages (the queue manager delivers in the background).
  std::vector<std::string> waitForMessages(const std::string& local, size_t n,
                                           std::chrono::milliseconds timeout = std::chrono::seconds(15)) const;
  std::string log() const;

 private:
  TempDir dir_;
  unsigned short port_ = 0, smtpsPort_ = 0;
  std::string postfix_;
  Process process_;
};

}  // namespace safetynet::testing
