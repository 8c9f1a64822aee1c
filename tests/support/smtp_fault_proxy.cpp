#include "support/smtp_fault_proxy.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <cctype>
#include <mutex>
#include <optional>

#include "safetynet/net/http_server.hpp"  // faultDraw, faultHits

namespace safetynet::testing {

using tcp = asio::ip::tcp;

const char* smtpFaultName(SmtpFault f) {
  switch (f) {
    case SmtpFault::Greeting421: return "greeting_421";
    case SmtpFault::ResetAfterGreeting: return "reset_after_greeting";
    case SmtpFault::ResetAfterMail: return "reset_after_mail";
    case SmtpFault::ResetAfterRcpt: return "reset_after_rcpt";
  }
  return "?";
}

namespace {
void reset(tcp::socket& s) {
  boost::system::error_code ignored;
  s.set_option(tcp::socket::linger(true, 0), ignored);  // close() sends RST
  s.close(ignored);
}

std::string verbOf(const std::string& line) {
  std::string v;
  for (char c : line) {
    if (c == ' ' || c == '\r' || c == '\n' || c == ':') break;
    v += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return v;
}
}  // namespace

struct SmtpFaultProxy::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, unsigned short upstreamPort) : io(io), upstreamPort(upstreamPort) {}

  asio::io_context& io;
  unsigned short upstreamPort;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  mutable std::mutex mu;
  SmtpFaultPlan plan;
  uint64_t n = 0;
  SmtpProxyCounts counts;

  struct Decision {
    std::optional<SmtpFault> fault;
    int rcptReplies = 0;
  };
  Decision decide() {
    std::lock_guard l(mu);
    ++counts.sessions;
    const uint64_t h = faultDraw(plan.seed, ++n);
    Decision d;
    if (plan.kinds.empty() || !faultHits(h, plan.rate)) return d;
    d.fault = plan.kinds[(h & 0xffff) % plan.kinds.size()];
    d.rcptReplies = plan.rcpt_replies >= 0 ? plan.rcpt_replies : static_cast<int>((h >> 16) & 1);
    switch (*d.fault) {
      case SmtpFault::Greeting421: ++counts.greeting421; break;
      case SmtpFault::ResetAfterGreeting: ++counts.reset_after_greeting; break;
      case SmtpFault::ResetAfterMail: ++counts.reset_after_mail; break;
      case SmtpFault::ResetAfterRcpt: ++counts.reset_after_rcpt; break;
    }
    return d;
  }
  void sawVerb(const std::string& v) {
    std::lock_guard l(mu);
    counts.verbs.push_back(v);
  }

  Task<void> accept(tcp::acceptor& a) {
    auto self = shared_from_this();
    for (;;) {
      auto [ec, s] = co_await a.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      asio::co_spawn(io, session(std::move(s)), asio::detached);
    }
  }

  // The server's side, byte for byte, until either side closes.
  static Task<void> relay(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to) {
    char buf[4096];
    for (;;) {
      auto [ec, n] = co_await from->async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
      if (ec) break;
      auto [wec, wn] = co_await asio::async_write(*to, asio::buffer(buf, n), asio::as_tuple(asio::use_awaitable));
      if (wec) break;
    }
    boost::system::error_code ignored;
    to->shutdown(tcp::socket::shutdown_send, ignored);
  }

  Task<void> session(tcp::socket clientSocket) {
    auto self = shared_from_this();
    auto client = std::make_shared<tcp::socket>(std::move(clientSocket));
    const Decision d = decide();
    if (d.fault == SmtpFault::Greeting421) {
      const std::string bye = "421 4.3.2 mx.safetynet-test.test Service not available, closing transmission channel\r\n";
      co_await asio::async_write(*client, asio::buffer(bye), asio::as_tuple(asio::use_awaitable));
      boost::system::error_code ignored;
      client->shutdown(tcp::socket::shutdown_both, ignored);
      client->close(ignored);
      co_return;
    }
    auto server = std::make_shared<tcp::socket>(io);
    auto [cec] = co_await server->async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), upstreamPort),
                                                asio::as_tuple(asio::use_awaitable));
    if (cec) {
      reset(*client);
      co_return;
    }
    asio::co_spawn(io, relay(server, client), asio::detached);
    asio::streambuf buf;
    int commands = 0, rcpts = 0;
    for (;;) {
      auto [ec, n] = co_await asio::async_read_until(*client, buf, "\n", asio::as_tuple(asio::use_awaitable));
      if (ec) break;
      std::string line(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n);
      buf.consume(n);
      const std::string verb = verbOf(line);
      sawVerb(verb);
      ++commands;
      bool cut = false;
      if (d.fault == SmtpFault::ResetAfterGreeting) cut = commands == 1;
      if (d.fault == SmtpFault::ResetAfterMail) cut = verb == "MAIL";
      if (d.fault == SmtpFault::ResetAfterRcpt && verb == "RCPT") cut = rcpts++ == d.rcptReplies;
      if (cut) {
        reset(*client);
        break;
      }
      auto [wec, wn] = co_await asio::async_write(*server, asio::buffer(line), asio::as_tuple(asio::use_awaitable));
      if (wec) break;
    }
    boost::system::error_code ignored;
    server->close(ignored);
    client->close(ignored);
  }

  void close() {
    for (auto& a : acceptors) {
      boost::system::error_code ignored;
      a->close(ignored);
    }
  }
};

SmtpFaultProxy::SmtpFaultProxy(const std::vector<std::string>& listenIps, unsigned short port, unsigned short upstreamPort) {
  impl_ = std::make_shared<Impl>(thread_.io(), upstreamPort);
  for (const auto& ip : listenIps) {
    impl_->acceptors.push_back(
        std::make_unique<tcp::acceptor>(thread_.io(), tcp::endpoint(asio::ip::make_address(ip), port)));
    asio::co_spawn(thread_.io(), impl_->accept(*impl_->acceptors.back()), asio::detached);
  }
}

SmtpFaultProxy::~SmtpFaultProxy() {
  thread_.closeThenStop([this] { impl_->close(); });
}

void SmtpFaultProxy::setFaults(SmtpFaultPlan plan) {
  std::lock_guard l(impl_->mu);
  impl_->plan = std::move(plan);
  impl_->n = 0;
}

SmtpProxyCounts SmtpFaultProxy::counts() const {
  std::lock_guard l(impl_->mu);
  return impl_->counts;
}

}  // namespace safetynet::testing
