#pragma once
// The receiving side shared by the load benchmark (bench/load/load_bench.cpp) and the in-time
// benchmark (bench/in_time/): N recipients over M domains of known kinds (no such domain, null
// MX, catch-all, A record only, one MX) with the right answer for each, and the servers that
// answer for them: a real unbound with the zones and a real Postfix with the mailboxes, both
// behind a DelayProxy adding a round trip to every DNS query and SMTP exchange.
#include <chrono>
#include <string>
#include <vector>

#include "delay_proxy.hpp"
#include "integration/peers.hpp"

namespace safetynet::bench {

struct Recipient {
  std::string address;
  std::string truth;  // valid, invalid, unknown (greylisted), catch_all
};

struct Dataset {
  std::vector<Recipient> recipients;  // shuffled, as a CRM export is in no particular order
  std::string zones;                  // unbound local-zone/local-data lines
  std::vector<std::string> postfixDomains, mailboxes;
};

// Per domain: 5 % do not exist, 5 % publish a null MX, 10 % are catch-all, 5 % have only an A
// record, the rest one MX (each on its own 127.1.x.y). Per domain addresses/domains recipients:
// all exist but the last (550 5.1.1); every 25th domain greylists one mailbox (450 4.7.1).
Dataset makeDataset(int addresses, int domains);

// The p-quantile (0..1) of v, nearest rank; 0 for an empty v.
double percentile(std::vector<double> v, double p);

// The port safetynet's probe is given in the benchmarks. On port 25 the prober never connects to
// a loopback or private address (a production rule: an MX on 127.x or 10/8 is skipped), and every
// mail server here is on 127.1.x.y: on 25 the benchmarks would measure a daemon that never probes.
constexpr int kProbePort = 2525;

// unbound and Postfix for a dataset, behind the proxy: DNS on 127.0.0.1:dnsPort(), SMTP on port 25
// (the peer validator's, which always connects there: root) and kProbePort of every 127.1.x.y.
class MailPeers {
 public:
  MailPeers(const Dataset& d, std::chrono::milliseconds rtt,
            const std::vector<std::string>& smtp_listen = {"0.0.0.0:25", "0.0.0.0:" + std::to_string(kProbePort)});
  std::string dnsServer() const { return "127.0.0.1:" + std::to_string(proxy_.dnsPort()); }
  const testing::Postfix& postfix() const { return postfix_; }

 private:
  testing::Unbound unbound_;
  testing::Postfix postfix_;
  DelayProxy proxy_;
};

}  // namespace safetynet::bench
