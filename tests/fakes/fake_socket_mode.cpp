#include "fakes/fake_socket_mode.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <deque>
#include <list>

namespace safetynet::fakes {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

// One link, plain or TLS: the WebSocket operations the fake needs, behind one interface.
struct Connection {
  virtual ~Connection() = default;
  virtual Task<boost::system::error_code> write(const std::string& text) = 0;
  virtual Task<std::pair<boost::system::error_code, std::string>> read() = 0;
  virtual void drop() = 0;  // the TCP connection closed, no close frame
  std::deque<std::string> outbox;
  bool writing = false, open = false;
};
using ConnectionPtr = std::shared_ptr<Connection>;

template <class Next>
struct ConnectionT final : Connection {
  template <class... Args>
  explicit ConnectionT(Args&&... args) : ws(std::forward<Args>(args)...) {}
  websocket::stream<Next> ws;
  Task<boost::system::error_code> write(const std::string& text) override {
    ws.text(true);
    auto [ec, n] = co_await ws.async_write(asio::buffer(text), asio::as_tuple(asio::use_awaitable));
    co_return ec;
  }
  Task<std::pair<boost::system::error_code, std::string>> read() override {
    beast::flat_buffer in;
    auto [ec, n] = co_await ws.async_read(in, asio::as_tuple(asio::use_awaitable));
    co_return std::make_pair(ec, beast::buffers_to_string(in.data()));
  }
  void drop() override {
    boost::system::error_code ignored;
    beast::get_lowest_layer(ws).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws).close();
  }
};
using PlainConnection = ConnectionT<beast::tcp_stream>;
using TlsConnection = ConnectionT<beast::ssl_stream<beast::tcp_stream>>;

struct FakeSocketMode::Impl : std::enable_shared_from_this<Impl> {
  Impl(FakeSocketMode& o, asio::any_io_executor e, const FakeTls& tls)
      : owner(&o), ex(e), acceptor(e, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    if (!tls.enabled()) return;
    ssl = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    ssl->use_certificate_chain_file(tls.cert_file);
    ssl->use_private_key_file(tls.key_file, asio::ssl::context::pem);
  }
  FakeSocketMode* owner;
  asio::any_io_executor ex;
  tcp::acceptor acceptor;
  std::shared_ptr<asio::ssl::context> ssl;  // null: ws://
  std::list<ConnectionPtr> connections;
  std::map<std::string, std::chrono::steady_clock::time_point> sentAt;
  std::map<std::string, std::vector<std::chrono::milliseconds>> acks;
  int nextTicket = 0, nextEnvelope = 0;
  bool stopped = false;

  void start() { asio::co_spawn(ex, accept(shared_from_this()), asio::detached); }

  static Task<void> accept(std::shared_ptr<Impl> self) {
    while (!self->stopped) {
      auto [ec, socket] = co_await self->acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      if (self->ssl)
        asio::co_spawn(self->ex, serveTls(self, std::move(socket)), asio::detached);
      else
        asio::co_spawn(self->ex, serve(self, std::make_shared<PlainConnection>(std::move(socket))), asio::detached);
    }
  }

  static Task<void> serveTls(std::shared_ptr<Impl> self, tcp::socket socket) {
    auto c = std::make_shared<TlsConnection>(std::move(socket), *self->ssl);
    auto [ec] = co_await c->ws.next_layer().async_handshake(asio::ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (self->owner) self->owner->tlsFailures_++;
      co_return;
    }
    co_await serve(self, c);
  }

  template <class Conn>
  static Task<void> serve(std::shared_ptr<Impl> self, std::shared_ptr<Conn> c) {
    beast::flat_buffer buffer;
    beast::http::request<beast::http::string_body> upgrade;
    auto [rec, rn] = co_await beast::http::async_read(c->ws.next_layer(), buffer, upgrade, asio::as_tuple(asio::use_awaitable));
    if (rec || !websocket::is_upgrade(upgrade)) co_return;
    const std::string target(upgrade.target());
    auto [aec] = co_await c->ws.async_accept(upgrade, asio::as_tuple(asio::use_awaitable));
    if (aec || self->stopped) co_return;
    self->owner->accepted_++;
    self->owner->tickets_.push_back(target.substr(target.find("ticket=") == std::string::npos ? target.size() : target.find("ticket=") + 7));
    c->open = true;
    self->connections.push_back(c);
    nlohmann::json hello = {{"type", "hello"},
                            {"num_connections", static_cast<int>(self->connections.size())},
                            {"debug_info", {{"host", "applink-fake"}, {"build_number", 1}, {"approximate_connection_time", 18060}}},
                            {"connection_info", {{"app_id", "A0SAFETYNET"}}}};
    self->send(c, hello.dump());
    for (;;) {
      auto [ec, text] = co_await c->read();
      if (ec) break;
      auto j = nlohmann::json::parse(text, nullptr, false);
      if (!j.is_object() || !j.contains("envelope_id") || !j["envelope_id"].is_string()) continue;
      const std::string id = j["envelope_id"];
      auto it = self->sentAt.find(id);
      if (it != self->sentAt.end())
        self->acks[id].push_back(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - it->second));
    }
    c->open = false;
    self->connections.remove(c);
  }

  void send(const ConnectionPtr& c, std::string text) {
    c->outbox.push_back(std::move(text));
    if (c->writing) return;  // the running flush takes it: one write at a time on a WebSocket
    c->writing = true;
    asio::co_spawn(ex, flush(shared_from_this(), c), asio::detached);
  }

  static Task<void> flush(std::shared_ptr<Impl> self, ConnectionPtr c) {
    while (!c->outbox.empty() && c->open) {
      std::string text = std::move(c->outbox.front());
      c->outbox.pop_front();
      auto ec = co_await c->write(text);
      if (ec) break;
    }
    c->writing = false;
  }

  static void drop(const ConnectionPtr& c) { c->drop(); }
};

FakeSocketMode::FakeSocketMode(asio::any_io_executor ex, FakeTls tls) : impl_(std::make_shared<Impl>(*this, ex, tls)) {
  impl_->start();
}

FakeSocketMode::~FakeSocketMode() {
  impl_->stopped = true;
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
  for (auto& c : impl_->connections) Impl::drop(c);
  impl_->owner = nullptr;
}

std::string FakeSocketMode::newUrl() {
  // TLS: the name the test CA's certificate carries (Slack's is wss://wss-primary.slack.com).
  return (impl_->ssl ? "wss://localhost:" : "ws://127.0.0.1:") + std::to_string(impl_->acceptor.local_endpoint().port()) +
         "/link/?ticket=fake-" +
         std::to_string(++impl_->nextTicket) + "&app_id=A0SAFETYNET";
}

std::string FakeSocketMode::sendEnvelope(const std::string& type, const nlohmann::json& payload, const std::string& envelope_id,
                                         int retry_attempt) {
  if (impl_->connections.empty()) return "";
  const std::string id = envelope_id.empty() ? "env-" + std::to_string(++impl_->nextEnvelope) : envelope_id;
  nlohmann::json e = {{"envelope_id", id}, {"type", type}, {"payload", payload}, {"accepts_response_payload", false}};
  if (type == "events_api") {
    e["retry_attempt"] = retry_attempt;
    e["retry_reason"] = retry_attempt ? "timeout" : "";
  }
  impl_->sentAt[id] = std::chrono::steady_clock::now();
  impl_->send(impl_->connections.back(), e.dump());
  return id;
}

void FakeSocketMode::sendDisconnect(const std::string& reason, std::chrono::milliseconds grace) {
  nlohmann::json d = {{"type", "disconnect"}, {"reason", reason}, {"debug_info", {{"host", "applink-fake"}}}};
  for (auto& c : impl_->connections) {
    impl_->send(c, d.dump());
    auto timer = std::make_shared<asio::steady_timer>(impl_->ex, grace);
    timer->async_wait([timer, c](boost::system::error_code) { Impl::drop(c); });
  }
}

void FakeSocketMode::dropConnections() {
  for (auto& c : impl_->connections) Impl::drop(c);
}

int FakeSocketMode::openConnections() const { return static_cast<int>(impl_->connections.size()); }

std::optional<std::chrono::milliseconds> FakeSocketMode::ackDelay(const std::string& envelope_id) const {
  auto it = impl_->acks.find(envelope_id);
  if (it == impl_->acks.end() || it->second.empty()) return std::nullopt;
  return it->second.front();
}

int FakeSocketMode::ackCount(const std::string& envelope_id) const {
  auto it = impl_->acks.find(envelope_id);
  return it == impl_->acks.end() ? 0 : static_cast<int>(it->second.size());
}

}  // namespace safetynet::fakes
