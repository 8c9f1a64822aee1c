#include "delay_proxy.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <deque>
#include <memory>
#include <stdexcept>
#include <vector>

namespace safetynet::bench {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using Clock = std::chrono::steady_clock;
template <typename T>
using Task = asio::awaitable<T>;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

Task<void> sleepUntil(Clock::time_point t) {
  asio::steady_timer timer(co_await asio::this_coro::executor, t);
  co_await timer.async_wait(kTuple);
}

// One DNS query: held half an RTT, asked upstream from a fresh socket, the answer held half an
// RTT and sent back from the listening socket.
Task<void> forwardQuery(std::shared_ptr<udp::socket> listener, std::vector<char> query, udp::endpoint client,
                        udp::endpoint upstream, std::chrono::milliseconds half) {
  auto ex = co_await asio::this_coro::executor;
  co_await sleepUntil(Clock::now() + half);
  udp::socket s(ex, udp::endpoint(udp::v4(), 0));
  co_await s.async_send_to(asio::buffer(query), upstream, kTuple);
  std::array<char, 65536> answer;
  asio::steady_timer timeout(ex, std::chrono::seconds(5));
  timeout.async_wait([&s](boost::system::error_code ec) {
    if (!ec) s.close();
  });
  udp::endpoint from;
  auto [ec, n] = co_await s.async_receive_from(asio::buffer(answer), from, kTuple);
  timeout.cancel();
  if (ec) co_return;
  co_await sleepUntil(Clock::now() + half);
  co_await listener->async_send_to(asio::buffer(answer.data(), n), client, kTuple);
}

Task<void> dnsLoop(std::shared_ptr<udp::socket> listener, udp::endpoint upstream, std::chrono::milliseconds half) {
  std::array<char, 65536> buf;
  for (;;) {
    udp::endpoint client;
    auto [ec, n] = co_await listener->async_receive_from(asio::buffer(buf), client, kTuple);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;
    asio::co_spawn(listener->get_executor(),
                   forwardQuery(listener, std::vector<char>(buf.begin(), buf.begin() + n), client, upstream, half),
                   asio::detached);
  }
}

// One direction of a TCP connection: chunks are queued with the time they may leave; the writer
// sends each when its time comes, in order. End of stream is passed on as a half-close.
struct Direction {
  struct Chunk {
    Clock::time_point due;
    std::string data;
    bool eof = false;
  };
  explicit Direction(asio::any_io_executor ex) : wake(ex, Clock::time_point::max()) {}
  std::deque<Chunk> queue;
  asio::steady_timer wake;
};

Task<void> reader(std::shared_ptr<tcp::socket> from, std::shared_ptr<Direction> d, std::chrono::milliseconds half) {
  std::array<char, 16384> buf;
  for (;;) {
    auto [ec, n] = co_await from->async_read_some(asio::buffer(buf), kTuple);
    Direction::Chunk c{Clock::now() + half, std::string(buf.data(), n), static_cast<bool>(ec)};
    d->queue.push_back(std::move(c));
    d->wake.cancel();
    if (ec) co_return;
  }
}

Task<void> writer(std::shared_ptr<tcp::socket> to, std::shared_ptr<Direction> d) {
  for (;;) {
    while (d->queue.empty()) {
      d->wake.expires_at(Clock::time_point::max());
      co_await d->wake.async_wait(kTuple);
    }
    Direction::Chunk c = std::move(d->queue.front());
    d->queue.pop_front();
    co_await sleepUntil(c.due);
    if (!c.data.empty()) {
      auto [ec, n] = co_await asio::async_write(*to, asio::buffer(c.data), kTuple);
      if (ec) c.eof = true;
    }
    if (c.eof) {
      boost::system::error_code ignored;
      to->shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
  }
}

Task<void> connection(std::shared_ptr<tcp::socket> client, tcp::endpoint upstream, std::chrono::milliseconds half) {
  auto ex = co_await asio::this_coro::executor;
  co_await sleepUntil(Clock::now() + 2 * half);  // the handshake's round trip
  auto server = std::make_shared<tcp::socket>(ex);
  auto [ec] = co_await server->async_connect(upstream, kTuple);
  if (ec) co_return;
  auto up = std::make_shared<Direction>(ex), down = std::make_shared<Direction>(ex);
  asio::co_spawn(ex, reader(client, up, half), asio::detached);
  asio::co_spawn(ex, writer(server, up), asio::detached);
  asio::co_spawn(ex, reader(server, down, half), asio::detached);
  co_await writer(client, down);
}

Task<void> acceptLoop(std::shared_ptr<tcp::acceptor> acceptor, tcp::endpoint upstream, std::chrono::milliseconds half) {
  for (;;) {
    auto client = std::make_shared<tcp::socket>(acceptor->get_executor());
    auto [ec] = co_await acceptor->async_accept(*client, kTuple);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;
    client->set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor->get_executor(), connection(client, upstream, half), asio::detached);
  }
}

}  // namespace

DelayProxy::DelayProxy(std::chrono::milliseconds rtt, unsigned short dns_upstream_port,
                       const std::vector<std::string>& tcp_listens, unsigned short tcp_upstream_port) {
  const auto half = rtt / 2;
  auto dns = std::make_shared<udp::socket>(io_, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  dns_port_ = dns->local_endpoint().port();
  asio::co_spawn(io_, dnsLoop(dns, udp::endpoint(asio::ip::make_address("127.0.0.1"), dns_upstream_port), half),
                 asio::detached);
  for (const auto& tcp_listen : tcp_listens) {
    const auto colon = tcp_listen.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("tcp_listen must be address:port");
    tcp::endpoint listen(asio::ip::make_address(tcp_listen.substr(0, colon)),
                         static_cast<unsigned short>(std::stoi(tcp_listen.substr(colon + 1))));
    auto acceptor = std::make_shared<tcp::acceptor>(io_);
    acceptor->open(listen.protocol());
    acceptor->set_option(tcp::acceptor::reuse_address(true));
    boost::system::error_code ec;
    acceptor->bind(listen, ec);
    if (ec) throw std::runtime_error("cannot listen on " + tcp_listen + ": " + ec.message() + " (port 25 needs root)");
    acceptor->listen(1024);
    asio::co_spawn(io_, acceptLoop(acceptor, tcp::endpoint(asio::ip::make_address("127.0.0.1"), tcp_upstream_port), half),
                   asio::detached);
  }
  thread_ = std::thread([this] { io_.run(); });
}

DelayProxy::~DelayProxy() {
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace safetynet::bench
