#pragma once
// An SMTP proxy for the fault tests (issue 12 item 2, SMTP): it listens where the probe expects a
// recipient's mail server (one or more loopback addresses, on the real server's port: the probe
// uses one port for every MX) and relays each session to a real Postfix, failing a share of the
// sessions by a seeded plan: a 421 greeting from the proxy itself, or a reset (RST) of the
// connection after the greeting, after MAIL FROM or after RCPT, instead of the reply the client
// waits for. It records every command verb a client sent (a probe must never send DATA).
#include <memory>
#include <string>
#include <vector>

#include "support/io_thread.hpp"

namespace safetynet::testing {

enum class SmtpFault {
  Greeting421,         // "421 4.3.2 ... closing transmission channel" instead of the server's 220
  ResetAfterGreeting,  // the 220 passes; the client's first command is answered by a reset
  ResetAfterMail,      // ... MAIL FROM is answered by a reset
  ResetAfterRcpt,      // `rcpt_replies` RCPTs get their replies; the next RCPT is answered by a reset
};
const char* smtpFaultName(SmtpFault f);

// Session n (counted from setFaults) gets a fault with probability `rate`, its kind among `kinds`
// and, for ResetAfterRcpt, how many RCPT replies pass first (0 or 1), by a pure function of (seed, n).
struct SmtpFaultPlan {
  double rate = 0;
  unsigned seed = 1;
  std::vector<SmtpFault> kinds = {SmtpFault::Greeting421, SmtpFault::ResetAfterGreeting, SmtpFault::ResetAfterMail,
                                  SmtpFault::ResetAfterRcpt};
  int rcpt_replies = -1;  // ResetAfterRcpt: -1 drawn per session; else this many
  static SmtpFaultPlan always(SmtpFault kind, int rcpt_replies = 0) { return SmtpFaultPlan{1.0, 1, {kind}, rcpt_replies}; }
};

struct SmtpProxyCounts {
  int sessions = 0;
  int greeting421 = 0, reset_after_greeting = 0, reset_after_mail = 0, reset_after_rcpt = 0;
  std::vector<std::string> verbs;  // every command verb received, upper-case, in order
};

class SmtpFaultProxy {
 public:
  // Listens on each of `listen_ips` at `port` and relays to 127.0.0.1:`upstream_port`.
  SmtpFaultProxy(const std::vector<std::string>& listen_ips, unsigned short port, unsigned short upstream_port);
  ~SmtpFaultProxy();
  void setFaults(SmtpFaultPlan plan);  // thread-safe; restarts the session count
  SmtpProxyCounts counts() const;

 private:
  struct Impl;
  IoThread thread_;  // first: the loop outlives what runs on it
  std::shared_ptr<Impl> impl_;
};

}  // namespace safetynet::testing
