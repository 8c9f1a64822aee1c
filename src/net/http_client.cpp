// HTTPS client on Beast: verified TLS with SNI, per-host keep-alive, per-request timeouts,
// retries with jittered backoff that honour Retry-After and the platforms' rate-limit headers.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <map>
#include <random>

#include "safetynet/core/logging.hpp"
#include "safetynet/net/http_client.hpp"
#include "safetynet/net/url.hpp"

namespace safetynet {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

struct Connection {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
};
using ConnectionPtr = std::unique_ptr<Connection>;

// Whether an idle pooled connection can still carry a request: the server has neither closed it
// nor sent anything unasked (a TLS close_notify, a stray byte), seen without blocking.
bool stillOpen(Connection& c) {
  auto& socket = c.lowest().socket();
  boost::system::error_code ec;
  socket.non_blocking(true, ec);
  if (ec) return false;
  char byte;
  socket.receive(asio::buffer(&byte, 1), tcp::socket::message_peek, ec);
  boost::system::error_code ignored;
  socket.non_blocking(false, ignored);
  return ec == asio::error::would_block;
}

// The peer closed or reset the connection (as opposed to a timeout or a malformed answer).
bool closedByPeer(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == ssl::error::stream_truncated;
}

// Where a failure happened decides whether resending is safe.
struct StageError : std::runtime_error {
  StageError(const std::string& what, bool sent, bool reused)
      : std::runtime_error(what), request_sent(sent), reused_connection(reused) {}
  bool request_sent;
  bool reused_connection;
};

class BeastHttpClient final : public HttpClient {
 public:
  BeastHttpClient(asio::any_io_executor ex, HttpClientOptions options)
      : ex_(std::move(ex)), options_(std::move(options)), ctx_(ssl::context::tls_client), rng_(std::random_device{}()) {
    ctx_.set_verify_mode(ssl::verify_peer);
    ctx_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    if (options_.ca_file.empty())
      ctx_.set_default_verify_paths();
    else
      ctx_.load_verify_file(options_.ca_file);  // throws if unreadable: a config problem, caught at startup
  }

  Task<HttpResponse> send(HttpRequest req) override {
    auto url = parseUrl(req.url);
    if (!url) throw HttpError("not an http(s) URL: " + req.url);
    const bool idempotent = req.idempotent.value_or(req.method != "POST" && req.method != "PATCH");
    const std::string hostKey = url->scheme + "://" + url->host + ":" + url->port;
    const std::string holdKey = req.rate_group.empty() ? hostKey : hostKey + " " + req.rate_group;
    const int maxAttempts = std::max(1, options_.retry.max_attempts);
    for (int attempt = 0;; ++attempt) {
      co_await waitForHost(holdKey);
      HttpResponse resp;
      std::optional<StageError> failure;  // co_await is not allowed inside a handler: note and act after
      try {
        resp = co_await once(*url, hostKey, req, idempotent);
      } catch (const StageError& e) {
        failure = e;
      }
      if (failure) {
        const bool retryable = idempotent || !failure->request_sent;
        if (!retryable || attempt + 1 >= maxAttempts)
          throw HttpError(req.method + " " + url->host + url->target.substr(0, url->target.find('?')) + ": " +
                          failure->what());
        auto d = backoffDelay(options_.retry, attempt, unit(rng_));
        log()->debug("{} {}: {}; retrying in {} ms", req.method, url->host, failure->what(), d.count());
        co_await sleep(d);
        continue;
      }
      resp.attempts = attempt + 1;
      auto serverDelay = serverRequestedDelay(resp, Clock::now());
      // Out of quota (remaining=0): hold every request of that host (or rate group) until the reset.
      if (serverDelay && resp.status != 429) notBefore_[holdKey] = std::chrono::steady_clock::now() + *serverDelay;
      const bool transient = resp.status == 429 || (resp.status >= 500 && idempotent);
      if (!transient || attempt + 1 >= maxAttempts) co_return resp;
      auto d = serverDelay.value_or(backoffDelay(options_.retry, attempt, unit(rng_)));
      if (d > options_.retry.max_server_delay) co_return resp;  // the caller decides; we do not block for long
      log()->info("{} {} answered {}; retrying in {} ms", req.method, url->host, resp.status, d.count());
      if (resp.status == 429) notBefore_[holdKey] = std::chrono::steady_clock::now() + d;
      co_await sleep(d);
    }
  }

 private:
  static std::shared_ptr<spdlog::logger> log() { return logger("http"); }

  Task<void> sleep(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
  }

  Task<void> waitForHost(const std::string& hostKey) {
    auto it = notBefore_.find(hostKey);
    if (it == notBefore_.end()) co_return;
    auto now = std::chrono::steady_clock::now();
    if (it->second > now) {
      asio::steady_timer t(co_await asio::this_coro::executor, it->second);
      co_await t.async_wait(asio::use_awaitable);
    }
  }

  Task<ConnectionPtr> connect(const Url& url) {
    auto conn = std::make_unique<Connection>();
    auto ex = co_await asio::this_coro::executor;
    tcp::resolver resolver(ex);
    auto endpoints = co_await resolver.async_resolve(url.host, url.port, asio::use_awaitable);
    if (url.tls()) {
      conn->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ex, ctx_);
      auto& tcp = beast::get_lowest_layer(*conn->tls);
      tcp.expires_after(options_.timeout);
      co_await tcp.async_connect(endpoints, asio::use_awaitable);
      // SNI (names only: RFC 6066 forbids IP literals), then the certificate must name the host
      // we asked for (an IP is matched against the certificate's IP SANs).
      boost::system::error_code notIp;
      asio::ip::make_address(url.host, notIp);
      if (notIp && !SSL_set_tlsext_host_name(conn->tls->native_handle(), url.host.c_str()))
        throw beast::system_error(beast::error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()));
      conn->tls->set_verify_callback(ssl::host_name_verification(url.host));
      co_await conn->tls->async_handshake(ssl::stream_base::client, asio::use_awaitable);
    } else {
      conn->plain = std::make_unique<beast::tcp_stream>(ex);
      conn->plain->expires_after(options_.timeout);
      co_await conn->plain->async_connect(endpoints, asio::use_awaitable);
    }
    co_return conn;
  }

  Task<HttpResponse> once(const Url& url, const std::string& hostKey, const HttpRequest& req, bool idempotent) {
    ConnectionPtr conn;
    bool reused = false;
    auto& pool = idle_[hostKey];
    while (!conn && !pool.empty()) {
      conn = std::move(pool.back());
      pool.pop_back();
      // A connection the server has closed while idle is dropped here, before a byte is written:
      // the request then goes out once, on a fresh connection.
      if (!stillOpen(*conn)) conn.reset();
      reused = conn != nullptr;
    }
    if (!conn) {
      std::string failure;
      try {
        conn = co_await connect(url);
      } catch (const boost::system::system_error& e) {
        failure = "connect: " + e.code().message();
      }
      if (!conn) throw StageError(failure, false, false);
    }
    http::request<http::string_body> r{http::string_to_verb(req.method), url.target, 11};
    const bool defaultPort = (url.tls() && url.port == "443") || (!url.tls() && url.port == "80");
    r.set(http::field::host, defaultPort ? url.host : url.host + ":" + url.port);
    r.set(http::field::user_agent, options_.user_agent);
    for (const auto& [k, v] : req.headers) r.set(k, v);
    r.body() = req.body;
    r.keep_alive(true);
    r.prepare_payload();

    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    bool sent = false, closedUnanswered = false;
    std::string failure;
    try {
      conn->lowest().expires_after(options_.timeout);
      if (conn->tls) {
        co_await http::async_write(*conn->tls, r, asio::use_awaitable);
        sent = true;
        co_await http::async_read(*conn->tls, conn->buffer, parser, asio::use_awaitable);
      } else {
        co_await http::async_write(*conn->plain, r, asio::use_awaitable);
        sent = true;
        co_await http::async_read(*conn->plain, conn->buffer, parser, asio::use_awaitable);
      }
    } catch (const boost::system::system_error& e) {
      failure = std::string(sent ? "read: " : "write: ") + e.code().message();
      closedUnanswered = sent && closedByPeer(e.code()) && !parser.got_some() && conn->buffer.size() == 0;
    }
    if (!failure.empty()) {
      // A server may close an idle keep-alive connection at any time (also just after the check
      // above). A write that failed on it reached nobody; a read that found it closed with no byte
      // of answer most likely means the same, but the server may also have processed the request
      // and died before answering: only an idempotent request is sent again for that. Anything
      // else goes back to send(), which decides by `idempotent` (and the caller, by what it can
      // read back).
      if (reused && (!sent || (closedUnanswered && idempotent))) co_return co_await once(url, hostKey, req, idempotent);
      throw StageError(failure, sent, reused);
    }
    auto& res = parser.get();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.headers[name] = std::string(f.value());
    }
    out.body = std::move(res.body());
    if (res.keep_alive() && pool.size() < 4) {
      conn->lowest().expires_never();
      idle_[hostKey].push_back(std::move(conn));
    }
    co_return out;
  }

  static double unit(std::mt19937_64& rng) { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }

  asio::any_io_executor ex_;
  HttpClientOptions options_;
  ssl::context ctx_;
  std::mt19937_64 rng_;
  std::map<std::string, std::vector<ConnectionPtr>> idle_;
  std::map<std::string, std::chrono::steady_clock::time_point> notBefore_;
};

}  // namespace

HttpClientPtr makeHttpClient(asio::any_io_executor ex, HttpClientOptions options) {
  return std::make_shared<BeastHttpClient>(std::move(ex), std::move(options));
}

}  // namespace safetynet
