// The admin API's HTTP server (net/admin_server.hpp): Beast, plain or TLS, with limits.
#include "safetynet/net/admin_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include <optional>
#include <stdexcept>


namespace safetynet {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

bool parseAdminTarget(const std::string& target, std::vector<std::string>& segments,
                      std::map<std::string, std::string>& query) {
  segments.clear();
  query.clear();
  auto u = boost::urls::parse_origin_form(target);
  if (!u) return false;
  for (auto seg : u->segments()) segments.push_back(std::string(seg));
  // "/api/v1/x/" and "/api/v1/x" are the same resource.
  if (!segments.empty() && segments.back().empty()) segments.pop_back();
  for (auto p : u->params()) query[std::string(p.key)] = std::string(p.value);
  return true;
}

namespace {

http::response<http::string_body> makeResponse(const AdminHttpResponse& out, unsigned version, bool keepAlive,
                                               bool head = false) {
  http::response<http::string_body> res{static_cast<http::status>(out.status), version};
  res.set(http::field::content_type, out.content_type);
  res.set(http::field::cache_control, "no-store");  // API answers hold data: never kept by a browser or proxy
  res.set("X-Content-Type-Options", "nosniff");      // a JSON answer is never run as a script or page
  for (const auto& [k, v] : out.headers) res.set(k, v);
  res.keep_alive(keepAlive);
  if (head) {  // the length the GET would have, no body
    res.content_length(out.body.size());
    return res;
  }
  res.body() = out.body;
  res.prepare_payload();
  return res;
}

// A request the parser could not read: the status it is answered with (0: none, the connection
// is just closed: the client went away).
int statusFor(const boost::system::error_code& ec, bool timedOut, std::string& message) {
  if (ec == http::error::header_limit) {
    message = "the request's header is too large";
    return 431;
  }
  if (ec == http::error::body_limit) {
    message = "the request's body is too large";
    return 413;
  }
  if (timedOut || ec == beast::error::timeout) {
    message = "the request did not arrive in time";
    return 408;
  }
  if (ec.category() == http::make_error_code(http::error::bad_method).category() && ec != http::error::end_of_stream &&
      ec != http::error::partial_message) {
    message = "malformed HTTP request";
    return 400;
  }
  return 0;
}

AdminHttpRequest toAdminRequest(const http::request<http::string_body>& req) {
  AdminHttpRequest r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  r.valid_target = parseAdminTarget(r.target, r.segments, r.query);
  for (const auto& f : req) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = std::string(f.value());
  }
  r.body = req.body();
  return r;
}

void limit(http::request_parser<http::string_body>& parser, const AdminServerOptions& o) {
  parser.header_limit(static_cast<std::uint32_t>(o.max_header_bytes));
  parser.body_limit(o.max_body_bytes);
}

AdminHttpResponse plainError(int status, const std::string& message) {
  AdminHttpResponse r;
  r.status = status;
  r.body = "{\"error\":\"" + message + "\"}";  // fixed texts only: no escaping needed
  return r;
}

}  // namespace

struct AdminServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::any_io_executor ex, AdminServerOptions o, AdminHttpHandler h)
      : opt(std::move(o)), handler(std::move(h)), acceptor(ex) {
    const std::string host = opt.host == "localhost" ? "127.0.0.1" : opt.host;
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (ec) throw std::runtime_error("admin_api.listen: \"" + opt.host + "\" is not an IP address");
    const tcp::endpoint ep(address, opt.port);
    acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      throw std::runtime_error("admin_api.listen: cannot listen on " + opt.host + ":" + std::to_string(opt.port) + ": " +
                               ec.message());
    port = acceptor.local_endpoint().port();
    if (!opt.tls_cert_file.empty()) {
      tlsContext.emplace(ssl::context::tls_server);
      tlsContext->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                              ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
      tlsContext->use_certificate_chain_file(opt.tls_cert_file, ec);
      if (ec) throw std::runtime_error("admin_api.tls.cert_file: cannot load " + opt.tls_cert_file + ": " + ec.message());
      tlsContext->use_private_key_file(opt.tls_key_file, ssl::context::pem, ec);
      if (ec) throw std::runtime_error("admin_api.tls.key_file: cannot load " + opt.tls_key_file + ": " + ec.message());
      if (SSL_CTX_check_private_key(tlsContext->native_handle()) != 1)
        throw std::runtime_error("admin_api.tls: the key in " + opt.tls_key_file + " does not match the certificate in " +
                                 opt.tls_cert_file);
    }
  }

  AdminServerOptions opt;
  AdminHttpHandler handler;
  tcp::acceptor acceptor;
  std::optional<ssl::context> tlsContext;
  unsigned short port = 0;
  bool stopped = false;
  int open = 0;
  unsigned long long nextId = 0;
  std::map<unsigned long long, tcp::socket*> sockets;  // open connections, closed by stop()

  Task<void> accept() {
    auto self = shared_from_this();
    while (!stopped) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (stopped || ec == asio::error::operation_aborted) break;
        // EMFILE and the like: wait a little rather than spin.
        asio::steady_timer t(acceptor.get_executor(), std::chrono::milliseconds(100));
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      if (open >= opt.max_connections) {
        boost::system::error_code ignored;
        socket.close(ignored);
        continue;
      }
      ++open;
      if (tlsContext)
        asio::co_spawn(acceptor.get_executor(), serveTls(std::move(socket)), asio::detached);
      else
        asio::co_spawn(acceptor.get_executor(), servePlain(std::move(socket)), asio::detached);
    }
  }

  // A connection stop() can close, untracked however its session ends: returned, or its frame
  // destroyed unfinished with the io_context (a daemon that shuts it down with a connection open).
  // Declared after the stream it names, so it goes first, while the socket is still there.
  struct Tracked {
    Impl& impl;
    tcp::socket& socket;
    unsigned long long id;
    Tracked(Impl& i, tcp::socket& s) : impl(i), socket(s), id(i.track(s)) {}
    Tracked(const Tracked&) = delete;
    Tracked& operator=(const Tracked&) = delete;
    ~Tracked() { impl.untrack(id, socket); }
  };

  Task<void> servePlain(tcp::socket socket) {
    auto self = shared_from_this();
    beast::tcp_stream stream(std::move(socket));
    Tracked tracked(*this, stream.socket());
    co_await session(stream);
  }

  Task<void> serveTls(tcp::socket socket) {
    auto self = shared_from_this();
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *tlsContext);
    Tracked tracked(*this, beast::get_lowest_layer(stream).socket());
    beast::get_lowest_layer(stream).expires_after(opt.read_timeout);
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
    if (!ec) co_await session(stream);
  }

  unsigned long long track(tcp::socket& s) {
    const auto id = nextId++;
    sockets[id] = &s;
    if (stopped) {
      boost::system::error_code ignored;
      s.close(ignored);
    }
    return id;
  }

  void untrack(unsigned long long id, tcp::socket& s) {
    sockets.erase(id);
    --open;
    boost::system::error_code ignored;
    s.shutdown(tcp::socket::shutdown_both, ignored);
    s.close(ignored);
  }

  template <typename Stream>
  Task<bool> send(Stream& stream, const AdminHttpResponse& out, unsigned version, bool keepAlive, bool head = false) {
    auto res = makeResponse(out, version, keepAlive, head);
    beast::get_lowest_layer(stream).expires_after(opt.read_timeout);
    auto [ec, n] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
    co_return !ec;
  }

  AdminHttpResponse handle(const http::request<http::string_body>& req) {
    const AdminHttpRequest r = toAdminRequest(req);
    try {
      return handler(r);
    } catch (const std::exception&) {  // the handler logs what it knows (admin/api.cpp)
      return plainError(500, "internal error");
    }
  }

  // After an error answer: the rest of what the client sent is read and dropped for a moment
  // (at most 1 s, 1 MiB), so that closing with unread data (a TCP reset) does not destroy the
  // answer before the client reads it.
  Task<void> drain(beast::tcp_stream& lowest) {
    boost::system::error_code ignored;
    lowest.socket().shutdown(tcp::socket::shutdown_send, ignored);
    lowest.expires_after(std::chrono::seconds(1));
    std::vector<char> sink(16 * 1024);
    for (size_t total = 0; total < 1024 * 1024;) {
      auto [ec, n] = co_await lowest.async_read_some(asio::buffer(sink), asio::as_tuple(asio::use_awaitable));
      if (ec) break;
      total += n;
    }
  }

  template <typename Stream>
  Task<void> session(Stream& stream) {
    beast::flat_buffer buffer;
    bool first = true;
    while (!stopped) {
      if (!first && buffer.size() == 0) {
        // Between requests: an idle connection may wait for idle_timeout; the next request, once
        // begun, must arrive within read_timeout like the first.
        beast::get_lowest_layer(stream).expires_after(opt.idle_timeout);
        auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), asio::as_tuple(asio::use_awaitable));
        if (ec) break;
        buffer.commit(n);
      }
      first = false;
      // The request must be complete within read_timeout. The deadline cancels the read but keeps
      // the connection, so that the client is told (408); the stream's own expiry, a little later,
      // closes it if even that does not end the read.
      auto& lowest = beast::get_lowest_layer(stream);
      lowest.expires_after(opt.read_timeout + std::chrono::seconds(2));
      auto readState = std::make_shared<int>(0);  // 0 reading, 1 done, 2 timed out
      asio::steady_timer deadline(acceptor.get_executor(), opt.read_timeout);
      deadline.async_wait([readState, &lowest](boost::system::error_code e) {
        if (e || *readState != 0) return;  // *readState: the stream may be gone once the read is done
        *readState = 2;
        boost::system::error_code ignored;
        lowest.socket().cancel(ignored);
      });
      http::request_parser<http::string_body> parser;
      limit(parser, opt);
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      const bool timedOut = *readState == 2;
      *readState = 1;
      deadline.cancel();
      if (ec) {
        std::string message;
        const int status = statusFor(ec, timedOut, message);
        // Said once, then the connection is closed: what remains of the request cannot be trusted.
        if (status) {
          AdminHttpResponse out = plainError(status, message);
          if (co_await send(stream, out, 11, false)) co_await drain(lowest);
        }
        break;
      }
      const auto& req = parser.get();
      const AdminHttpResponse out = handle(req);
      const bool keepAlive = req.keep_alive() && !stopped;
      const bool head = req.method() == http::verb::head;
      const bool ok = co_await send(stream, out, req.version(), keepAlive, head);
      if (!ok || !keepAlive) break;
    }
  }

  void stop() {
    stopped = true;
    boost::system::error_code ignored;
    acceptor.close(ignored);
    for (auto& [id, s] : sockets) s->close(ignored);
  }
};

int parseAdminRequest(const std::string& bytes, const AdminServerOptions& options, AdminHttpRequest& out) {
  http::request_parser<http::string_body> parser;
  limit(parser, options);
  parser.eager(true);
  boost::system::error_code ec;
  size_t used = 0;
  while (!ec && !parser.is_done() && used < bytes.size()) {
    const size_t n = parser.put(asio::buffer(bytes.data() + used, bytes.size() - used), ec);
    used += n;
    if (ec == http::error::need_more) {
      // The parser saw all there is and wants more (it may be called again only with more than it
      // was given, as async_read does): a client that stopped sending.
      ec = {};
      break;
    }
  }
  if (!ec && !parser.is_done()) return 400;  // incomplete: the server would wait, then answer 408
  if (ec) {
    std::string message;
    const int status = statusFor(ec, false, message);
    return status ? status : 400;
  }
  out = toAdminRequest(parser.get());
  return 0;
}

AdminServer::AdminServer(asio::any_io_executor ex, AdminServerOptions options, AdminHttpHandler handler)
    : impl_(std::make_shared<Impl>(ex, std::move(options), std::move(handler))) {
  asio::co_spawn(ex, impl_->accept(), asio::detached);
}

AdminServer::~AdminServer() { stop(); }

unsigned short AdminServer::port() const { return impl_->port; }
bool AdminServer::tls() const { return impl_->tlsContext.has_value(); }
int AdminServer::openConnections() const { return impl_->open; }
void AdminServer::stop() { impl_->stop(); }

}  // namespace safetynet
