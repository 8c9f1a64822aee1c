#pragma once
// A DNS proxy for the fault tests (issue 12 item 2, DNS): it stands between the resolver under
// test and a real unbound, on UDP and TCP of one loopback port, and fails a share of the queries
// by a seeded plan: SERVFAIL, silence (the query is dropped: the client times out), or, on UDP, an
// answer cut to its header and question with the TC bit set, so that the client must ask again
// over TCP (which the proxy forwards too). Messages are not parsed beyond what libresolv's
// ns_initparse/ns_skiprr say about where the question ends; faults only flip header bits and cut.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "support/io_thread.hpp"

namespace safetynet::testing {

enum class DnsFault {
  ServFail,  // answered SERVFAIL at once (RCODE 2), no records
  Drop,      // never answered (a lost datagram, a dead upstream)
  Truncate,  // UDP only: the real answer cut to header + question, TC set; TCP queries pass
};
const char* dnsFaultName(DnsFault f);

// Query n (counted over UDP and TCP from setFaults) gets a fault with probability `rate`, its
// kind among `kinds`: a pure function of (seed, n), as FaultPlan's.
struct DnsFaultPlan {
  double rate = 0;
  unsigned seed = 1;
  std::vector<DnsFault> kinds = {DnsFault::ServFail, DnsFault::Drop, DnsFault::Truncate};
  static DnsFaultPlan always(DnsFault kind) { return DnsFaultPlan{1.0, 1, {kind}}; }
};

struct DnsProxyCounts {
  int udp = 0, tcp = 0;  // queries received
  int servfail = 0, dropped = 0, truncated = 0;
  int forwarded = 0;  // answered with the upstream's answer as it was
};

class DnsFaultProxy {
 public:
  // Listens on 127.0.0.1 (a free port, UDP and TCP) and forwards to upstream "ip:port".
  explicit DnsFaultProxy(const std::string& upstream);
  ~DnsFaultProxy();
  unsigned short port() const;
  std::string server() const { return "127.0.0.1:" + std::to_string(port()); }
  void setFaults(DnsFaultPlan plan);  // thread-safe; restarts the query count
  DnsProxyCounts counts() const;

 private:
  struct Impl;
  IoThread thread_;  // first: the loop outlives what runs on it
  std::shared_ptr<Impl> impl_;
};

}  // namespace safetynet::testing
