#include "support/dns_fault_proxy.hpp"

#include <arpa/nameser.h>
#include <resolv.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <optional>
#include <stdexcept>

#include "safetynet/net/http_server.hpp"  // faultDraw, faultHits

namespace safetynet::testing {

using tcp = asio::ip::tcp;
using udp = asio::ip::udp;
using namespace asio::experimental::awaitable_operators;
using Bytes = std::vector<unsigned char>;

const char* dnsFaultName(DnsFault f) {
  switch (f) {
    case DnsFault::ServFail: return "servfail";
    case DnsFault::Drop: return "drop";
    case DnsFault::Truncate: return "truncate";
  }
  return "?";
}

namespace {

constexpr auto kUpstreamTimeout = std::chrono::seconds(3);

// The message cut after its question section (header counts of the other sections zeroed), with
// `flags` set in the header's third byte and `rcode` in the fourth; nullopt if it does not parse.
std::optional<Bytes> headerAndQuestion(const Bytes& m, unsigned char flags, std::optional<int> rcode) {
  ns_msg msg;
  if (m.size() < NS_HFIXEDSZ || ns_initparse(m.data(), static_cast<int>(m.size()), &msg) < 0) return std::nullopt;
  const unsigned char* question = m.data() + NS_HFIXEDSZ;
  const int qlen = ns_skiprr(question, m.data() + m.size(), ns_s_qd, ns_msg_count(msg, ns_s_qd));
  if (qlen < 0) return std::nullopt;
  Bytes out(m.begin(), m.begin() + NS_HFIXEDSZ + qlen);
  out[2] |= flags;
  if (rcode) out[3] = static_cast<unsigned char>((out[3] & 0xF0) | *rcode);
  for (int i = 6; i < 12; ++i) out[i] = 0;  // ANCOUNT, NSCOUNT, ARCOUNT
  return out;
}

constexpr unsigned char kQr = 0x80, kTc = 0x02, kRa = 0x80;

Bytes servfailFor(const Bytes& query) {
  auto r = headerAndQuestion(query, kQr, 2);
  if (!r) return {};
  (*r)[3] |= kRa;
  return *r;
}

}  // namespace

struct DnsFaultProxy::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, const std::string& upstreamAddr) : io(io), udpSocket(io), acceptor(io) {
    const auto colon = upstreamAddr.rfind(':');
    upstreamIp = asio::ip::make_address(upstreamAddr.substr(0, colon));
    upstreamPort = static_cast<unsigned short>(std::stoi(upstreamAddr.substr(colon + 1)));
    // One port for both: TCP picks it, UDP binds the same (retried if UDP's is taken).
    for (int attempt = 0; attempt < 20; ++attempt) {
      tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
      udp::socket u(io);
      u.open(udp::v4());
      boost::system::error_code ec;
      u.bind(udp::endpoint(asio::ip::make_address("127.0.0.1"), a.local_endpoint().port()), ec);
      if (ec) continue;
      acceptor = std::move(a);
      udpSocket = std::move(u);
      port = acceptor.local_endpoint().port();
      return;
    }
    throw std::runtime_error("DnsFaultProxy: no free port for UDP and TCP");
  }

  asio::io_context& io;
  udp::socket udpSocket;
  tcp::acceptor acceptor;
  asio::ip::address upstreamIp;
  unsigned short upstreamPort = 0, port = 0;
  mutable std::mutex mu;
  DnsFaultPlan plan;
  uint64_t n = 0;
  DnsProxyCounts counts;

  std::optional<DnsFault> decide(bool overTcp) {
    std::lock_guard l(mu);
    (overTcp ? counts.tcp : counts.udp)++;
    const uint64_t h = faultDraw(plan.seed, ++n);
    if (plan.kinds.empty() || !faultHits(h, plan.rate)) return std::nullopt;
    const DnsFault f = plan.kinds[(h & 0xffff) % plan.kinds.size()];
    if (f == DnsFault::Truncate && overTcp) return std::nullopt;  // TCP has no TC to set
    (f == DnsFault::ServFail ? counts.servfail : f == DnsFault::Drop ? counts.dropped : counts.truncated)++;
    return f;
  }
  void countForwarded() {
    std::lock_guard l(mu);
    ++counts.forwarded;
  }

  // The upstream's answer to one query over UDP, or empty after kUpstreamTimeout.
  Task<Bytes> askUdp(Bytes query) {
    udp::socket s(io, udp::endpoint(udp::v4(), 0));
    auto [wec, wn] = co_await s.async_send_to(asio::buffer(query), udp::endpoint(upstreamIp, upstreamPort),
                                              asio::as_tuple(asio::use_awaitable));
    if (wec) co_return Bytes{};
    Bytes answer(65536);
    asio::steady_timer t(io, kUpstreamTimeout);
    auto r = co_await (s.async_receive(asio::buffer(answer), asio::as_tuple(asio::use_awaitable)) ||
                       t.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (r.index() == 1) co_return Bytes{};
    auto [ec, got] = std::get<0>(r);
    if (ec) co_return Bytes{};
    answer.resize(got);
    co_return answer;
  }

  // The same over TCP (two-byte length prefix, RFC 1035 4.2.2).
  Task<Bytes> askTcp(Bytes query) {
    tcp::socket s(io);
    auto [cec] = co_await s.async_connect(tcp::endpoint(upstreamIp, upstreamPort), asio::as_tuple(asio::use_awaitable));
    if (cec) co_return Bytes{};
    Bytes framed{static_cast<unsigned char>(query.size() >> 8), static_cast<unsigned char>(query.size() & 0xff)};
    framed.insert(framed.end(), query.begin(), query.end());
    auto [wec, wn] = co_await asio::async_write(s, asio::buffer(framed), asio::as_tuple(asio::use_awaitable));
    if (wec) co_return Bytes{};
    unsigned char len[2];
    auto [lec, ln] = co_await asio::async_read(s, asio::buffer(len), asio::as_tuple(asio::use_awaitable));
    if (lec) co_return Bytes{};
    Bytes answer((len[0] << 8) | len[1]);
    auto [aec, an] = co_await asio::async_read(s, asio::buffer(answer), asio::as_tuple(asio::use_awaitable));
    if (aec) co_return Bytes{};
    co_return answer;
  }

  Task<void> serveUdp() {
    auto self = shared_from_this();
    for (;;) {
      Bytes query(65536);
      udp::endpoint from;
      auto [ec, got] = co_await udpSocket.async_receive_from(asio::buffer(query), from, asio::as_tuple(asio::use_awaitable));
      if (ec == asio::error::operation_aborted || !udpSocket.is_open()) co_return;
      if (ec) continue;
      query.resize(got);
      asio::co_spawn(io, answerUdp(std::move(query), from), asio::detached);
    }
  }

  Task<void> answerUdp(Bytes query, udp::endpoint client) {
    auto self = shared_from_this();
    const auto fault = decide(false);
    if (fault == DnsFault::Drop) co_return;
    Bytes answer;
    if (fault == DnsFault::ServFail) {
      answer = servfailFor(query);
    } else {
      answer = co_await askUdp(query);
      if (answer.empty()) co_return;  // the upstream said nothing: neither do we
      if (fault == DnsFault::Truncate) {
        auto cut = headerAndQuestion(answer, kTc, std::nullopt);
        if (!cut) co_return;
        answer = std::move(*cut);
      } else {
        countForwarded();
      }
    }
    if (!answer.empty())
      co_await udpSocket.async_send_to(asio::buffer(answer), client, asio::as_tuple(asio::use_awaitable));
  }

  Task<void> acceptTcp() {
    auto self = shared_from_this();
    for (;;) {
      auto [ec, s] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      asio::co_spawn(io, serveTcp(std::move(s)), asio::detached);
    }
  }

  Task<void> serveTcp(tcp::socket s) {
    auto self = shared_from_this();
    for (;;) {  // a client may ask several questions on one connection
      unsigned char len[2];
      auto [lec, ln] = co_await asio::async_read(s, asio::buffer(len), asio::as_tuple(asio::use_awaitable));
      if (lec) co_return;
      Bytes query((len[0] << 8) | len[1]);
      auto [qec, qn] = co_await asio::async_read(s, asio::buffer(query), asio::as_tuple(asio::use_awaitable));
      if (qec) co_return;
      const auto fault = decide(true);
      if (fault == DnsFault::Drop) continue;  // no answer to this one; the client times out
      Bytes answer;
      if (fault == DnsFault::ServFail) {
        answer = servfailFor(query);
      } else {
        answer = co_await askTcp(query);
        if (!answer.empty()) countForwarded();
      }
      if (answer.empty()) continue;
      Bytes framed{static_cast<unsigned char>(answer.size() >> 8), static_cast<unsigned char>(answer.size() & 0xff)};
      framed.insert(framed.end(), answer.begin(), answer.end());
      auto [wec, wn] = co_await asio::async_write(s, asio::buffer(framed), asio::as_tuple(asio::use_awaitable));
      if (wec) co_return;
    }
  }

  void close() {
    boost::system::error_code ignored;
    udpSocket.close(ignored);
    acceptor.close(ignored);
  }
};

DnsFaultProxy::DnsFaultProxy(const std::string& upstream) {
  impl_ = std::make_shared<Impl>(thread_.io(), upstream);
  asio::co_spawn(thread_.io(), impl_->serveUdp(), asio::detached);
  asio::co_spawn(thread_.io(), impl_->acceptTcp(), asio::detached);
}

DnsFaultProxy::~DnsFaultProxy() {
  thread_.closeThenStop([this] { impl_->close(); });
}

unsigned short DnsFaultProxy::port() const { return impl_->port; }

void DnsFaultProxy::setFaults(DnsFaultPlan plan) {
  std::lock_guard l(impl_->mu);
  impl_->plan = std::move(plan);
  impl_->n = 0;
}

DnsProxyCounts DnsFaultProxy::counts() const {
  std::lock_guard l(impl_->mu);
  return impl_->counts;
}

}  // namespace safetynet::testing
