#pragma once
// Adds network latency on loopback, where netem is not available (no sch_netem in this kernel):
// a UDP forwarder for DNS and a TCP forwarder for SMTP that hold every datagram or chunk for
// half the round trip in each direction, keeping order. A new TCP connection also waits one
// round trip before it is connected upstream, as a TCP handshake would cost.
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace safetynet::bench {

class DelayProxy {
 public:
  // Starts the proxies on their own thread. Each of `tcp_listen` is "address:port" (e.g.
  // "0.0.0.0:25"), all forwarded to the one upstream; DNS listens on 127.0.0.1 at a free port
  // (dnsPort()).
  DelayProxy(std::chrono::milliseconds rtt, unsigned short dns_upstream_port, const std::vector<std::string>& tcp_listen,
             unsigned short tcp_upstream_port);
  ~DelayProxy();
  unsigned short dnsPort() const { return dns_port_; }

 private:
  boost::asio::io_context io_;
  unsigned short dns_port_ = 0;
  std::thread thread_;
};

}  // namespace safetynet::bench
