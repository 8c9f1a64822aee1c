#include "safetynet/net/http_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/params_view.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/parse_query.hpp>

namespace safetynet {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::any_io_executor ex, ServerHandler h, unsigned short port)
      : acceptor(ex, tcp::endpoint(asio::ip::make_address("127.0.0.1"), port)), handler(std::move(h)),
        port(acceptor.local_endpoint().port()) {}

  tcp::acceptor acceptor;
  ServerHandler handler;
  unsigned short port;
  int accepted = 0;
  bool stopped = false;
  std::chrono::milliseconds latency{0};

  // Models the network between a client and a distant API: one round trip for a new connection
  // (its handshake), one for every request and answer. Asynchronous: requests overlap.
  Task<void> roundTrip() {
    if (latency.count() <= 0) co_return;
    asio::steady_timer t(acceptor.get_executor(), latency);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  }

  Task<void> accept() {
    auto self = shared_from_this();
    while (!stopped) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) break;
      ++accepted;
      asio::co_spawn(acceptor.get_executor(), serve(std::move(socket)), asio::detached);
    }
  }

  Task<void> serve(tcp::socket socket) {
    auto self = shared_from_this();
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    co_await roundTrip();
    for (;;) {
      http::request<http::string_body> req;
      auto [ec, n] = co_await http::async_read(stream, buffer, req, asio::as_tuple(asio::use_awaitable));
      if (ec) break;
      ServerRequest r;
      r.method = std::string(req.method_string());
      r.target = std::string(req.target());
      if (auto u = boost::urls::parse_origin_form(r.target)) {
        r.path = std::string(u->path());
        for (auto p : u->params()) r.query[std::string(p.key)] = std::string(p.value);
      } else {
        r.path = r.target;
      }
      for (const auto& f : req) {
        std::string name(f.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        r.headers[name] = std::string(f.value());
      }
      r.body = std::move(req.body());
      ServerResponse out;
      try {
        out = handler(r);
      } catch (const std::exception& e) {
        out = ServerResponse{500, "application/json", {}, std::string("{\"error\":\"") + e.what() + "\"}"};
      }
      co_await roundTrip();
      if (out.fault == ConnectionFault::DropBeforeAnswer) break;
      http::response<http::string_body> res{static_cast<http::status>(out.status), req.version()};
      res.set(http::field::content_type, out.content_type);
      for (const auto& [k, v] : out.headers) res.set(k, v);
      res.body() = std::move(out.body);
      auto conn = out.headers.find("Connection");
      const bool handlerCloses = conn != out.headers.end() && conn->second == "close";
      res.keep_alive(req.keep_alive() && !handlerCloses);
      res.prepare_payload();
      auto [wec, wn] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
      if (wec || !res.keep_alive() || stopped || out.fault == ConnectionFault::CloseAfterAnswer) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }
};

void HttpServer::setLatency(std::chrono::milliseconds rtt) { impl_->latency = rtt; }

HttpServer::HttpServer(asio::any_io_executor ex, ServerHandler handler, unsigned short port)
    : impl_(std::make_shared<Impl>(ex, std::move(handler), port)) {
  asio::co_spawn(ex, impl_->accept(), asio::detached);
}

HttpServer::~HttpServer() { stop(); }

unsigned short HttpServer::port() const { return impl_->port; }

int HttpServer::connectionsAccepted() const { return impl_->accepted; }

void HttpServer::stop() {
  impl_->stopped = true;
  beast::error_code ec;
  impl_->acceptor.close(ec);
}

std::map<std::string, std::string> parseFormBody(const std::string& body) {
  std::map<std::string, std::string> out;
  boost::urls::encoding_opts opts;
  opts.space_as_plus = true;  // form encoding writes a space as '+'
  if (auto q = boost::urls::parse_query(body))
    for (auto p : boost::urls::params_view(boost::urls::params_view(*q), opts))
      out[std::string(p.key)] = std::string(p.value);
  return out;
}

}  // namespace safetynet
