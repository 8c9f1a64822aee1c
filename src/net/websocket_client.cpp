// WebSocket client on Beast: the one translation unit with beast::websocket (a TLS coroutine TU
// is expensive to compile: keep it here and small).
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "safetynet/net/url.hpp"
#include "safetynet/net/websocket.hpp"

namespace safetynet {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

template <class Next>
class BeastWebSocket final : public WebSocket {
 public:
  template <class... Args>
  explicit BeastWebSocket(std::shared_ptr<ssl::context> ctx, Args&&... args)
      : ctx_(std::move(ctx)), ws_(std::forward<Args>(args)...) {}

  websocket::stream<Next>& stream() { return ws_; }

  Task<std::string> read() override {
    beast::flat_buffer buffer;
    std::string failure;
    try {
      co_await ws_.async_read(buffer, asio::use_awaitable);
    } catch (const boost::system::system_error& e) {
      failure = e.code() == websocket::error::closed
                    ? "closed by the peer (" + std::to_string(ws_.reason().code) + " " + std::string(ws_.reason().reason.data(), ws_.reason().reason.size()) + ")"
                    : e.code().message();
    }
    if (!failure.empty()) throw WebSocketError("websocket read: " + failure);
    co_return beast::buffers_to_string(buffer.data());
  }

  Task<void> write(std::string text) override {
    std::string failure;
    try {
      ws_.text(true);
      co_await ws_.async_write(asio::buffer(text), asio::use_awaitable);
    } catch (const boost::system::system_error& e) {
      failure = e.code().message();
    }
    if (!failure.empty()) throw WebSocketError("websocket write: " + failure);
  }

  void close() override {
    boost::system::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
  }

 private:
  std::shared_ptr<ssl::context> ctx_;  // outlives the stream that uses it
  websocket::stream<Next> ws_;
};

using PlainSocket = BeastWebSocket<beast::tcp_stream>;
using TlsSocket = BeastWebSocket<beast::ssl_stream<beast::tcp_stream>>;

template <class Socket>
Task<void> upgrade(Socket& s, const Url& u, const WebSocketOptions& o) {
  auto& ws = s.stream();
  beast::get_lowest_layer(ws).expires_never();  // the websocket's own timeouts from here on
  websocket::stream_base::timeout t{};
  t.handshake_timeout = o.connect_timeout;
  t.idle_timeout = o.idle_timeout;
  t.keep_alive_pings = true;
  ws.set_option(t);
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::request_type& req) { req.set(beast::http::field::user_agent, "safetynet"); }));
  const bool defaultPort = (u.tls() && u.port == "443") || (!u.tls() && u.port == "80");
  const std::string host = defaultPort ? u.host : u.host + ":" + u.port;  // a named local: g++ 12 and temporaries
  co_await ws.async_handshake(host, u.target, asio::use_awaitable);
}

Task<WebSocketPtr> open(const Url& u, const WebSocketOptions& o) {
  auto ex = co_await asio::this_coro::executor;
  tcp::resolver resolver(ex);
  auto endpoints = co_await resolver.async_resolve(u.host, u.port, asio::use_awaitable);
  if (!u.tls()) {
    auto s = std::make_unique<PlainSocket>(nullptr, ex);
    beast::get_lowest_layer(s->stream()).expires_after(o.connect_timeout);
    co_await beast::get_lowest_layer(s->stream()).async_connect(endpoints, asio::use_awaitable);
    co_await upgrade(*s, u, o);
    co_return s;
  }
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_verify_mode(ssl::verify_peer);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (o.ca_file.empty())
    ctx->set_default_verify_paths();
  else
    ctx->load_verify_file(o.ca_file);
  auto s = std::make_unique<TlsSocket>(ctx, ex, *ctx);
  auto& tls = s->stream().next_layer();
  beast::get_lowest_layer(tls).expires_after(o.connect_timeout);
  co_await beast::get_lowest_layer(tls).async_connect(endpoints, asio::use_awaitable);
  // SNI for names (not IP literals), and the certificate must name the host asked for.
  boost::system::error_code notIp;
  asio::ip::make_address(u.host, notIp);
  if (notIp && !SSL_set_tlsext_host_name(tls.native_handle(), u.host.c_str()))
    throw WebSocketError("websocket: cannot set SNI for " + u.host);
  tls.set_verify_callback(ssl::host_name_verification(u.host));
  co_await tls.async_handshake(ssl::stream_base::client, asio::use_awaitable);
  co_await upgrade(*s, u, o);
  co_return s;
}

}  // namespace

Task<WebSocketPtr> connectWebSocket(std::string url, WebSocketOptions options) {
  // Parsed as its http(s) twin (RFC 6455 section 3).
  std::string twin;
  if (url.rfind("wss://", 0) == 0) twin = "https://" + url.substr(6);
  else if (url.rfind("ws://", 0) == 0) twin = "http://" + url.substr(5);
  auto u = parseUrl(twin);
  if (!u) throw WebSocketError("not a ws:// or wss:// URL");
  if (!u->tls() && !isLoopbackHost(u->host))
    throw WebSocketError("ws:// (no TLS) is accepted for loopback hosts only, not " + u->host);
  WebSocketPtr s;
  std::string failure;
  try {
    s = co_await open(*u, options);
  } catch (const boost::system::system_error& e) {
    failure = e.code().message();
  }
  if (!s) throw WebSocketError("websocket connect to " + u->host + ": " + failure);
  co_return s;
}

}  // namespace safetynet
