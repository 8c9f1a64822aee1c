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

#include <mutex>
#include <optional>

namespace safetynet {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
// SplitMix64: a well-mixed 64-bit value from (seed, request number), so that a plan does not
// depend on the order in which concurrent requests happen to draw from a generator.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

ServerResponse defaultRateLimited() {
  return ServerResponse{429, "application/json", {{"Retry-After", "1"}}, "{\"error\":\"rate limited\"}"};
}
}  // namespace

const char* faultName(FaultKind k) {
  switch (k) {
    case FaultKind::RateLimited: return "rate_limited";
    case FaultKind::ServerError: return "server_error";
    case FaultKind::ServerErrorApplied: return "server_error_applied";
    case FaultKind::ResetBeforeAnswer: return "reset_before_answer";
    case FaultKind::AnswerLost: return "answer_lost";
    case FaultKind::TruncatedBody: return "truncated_body";
    case FaultKind::Stall: return "stall";
    case FaultKind::LateApply: return "late_apply";
  }
  return "?";
}

uint64_t faultDraw(unsigned seed, uint64_t n) { return mix(mix(seed) ^ n); }
bool faultHits(uint64_t draw, double rate) { return static_cast<double>(draw >> 11) * 0x1.0p-53 < rate; }

bool faultApplies(FaultKind k) {
  return k == FaultKind::ServerErrorApplied || k == FaultKind::AnswerLost || k == FaultKind::TruncatedBody ||
         k == FaultKind::Stall || k == FaultKind::LateApply;
}

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
  // The fault plan is set from the test's thread while requests are served on the io thread.
  mutable std::mutex faultMu;
  FaultPlan plan;
  uint64_t planned = 0;  // requests seen since setFaults
  std::vector<InjectedFault> injected;

  // The fault for this request, if the plan gives it one; and a second draw for its details.
  std::optional<std::pair<FaultKind, uint64_t>> decideFault(const ServerRequest& r) {
    std::lock_guard l(faultMu);
    if (plan.rate <= 0 || plan.kinds.empty()) return std::nullopt;
    const uint64_t h = faultDraw(plan.seed, ++planned);
    if (!faultHits(h, plan.rate)) return std::nullopt;
    const uint64_t detail = mix(h);
    for (size_t i = 0; i < plan.kinds.size(); ++i) {
      const FaultKind k = plan.kinds[(detail + i) % plan.kinds.size()];
      if (plan.allows && !plan.allows(r, k)) continue;
      injected.push_back(InjectedFault{k, r.method, r.target});
      return std::make_pair(k, mix(detail));
    }
    return std::nullopt;
  }

  ServerResponse rateLimited() {
    std::function<ServerResponse()> f;
    {
      std::lock_guard l(faultMu);
      f = plan.rate_limited;
    }
    return f ? f() : defaultRateLimited();
  }

  std::chrono::milliseconds stallTime() const {
    std::lock_guard l(faultMu);
    return plan.stall;
  }

  ServerResponse handle(const ServerRequest& r) {
    try {
      return handler(r);
    } catch (const std::exception& e) {
      return ServerResponse{500, "application/json", {}, std::string("{\"error\":\"") + e.what() + "\"}"};
    }
  }

  Task<void> pause(std::chrono::milliseconds d) {
    asio::steady_timer t(acceptor.get_executor(), d);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  }

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
      const auto fault = decideFault(r);
      auto is = [&fault](FaultKind k) { return fault && fault->first == k; };
      ServerResponse out;
      if (is(FaultKind::RateLimited)) {
        out = rateLimited();
      } else if (is(FaultKind::ServerError)) {
        static const int statuses[] = {500, 502, 503};
        out = ServerResponse{statuses[fault->second % 3], "text/html", {}, "<html><body>Server Error</body></html>"};
      } else if (is(FaultKind::ResetBeforeAnswer)) {
        // Linger 0: close() sends RST, as a proxy or a crashed worker would.
        beast::error_code ignored;
        stream.socket().set_option(tcp::socket::linger(true, 0), ignored);
        stream.socket().close(ignored);
        co_return;
      } else {
        if (is(FaultKind::LateApply)) co_await pause(stallTime());
        out = handle(r);
        if (is(FaultKind::Stall)) co_await pause(stallTime());
        if (is(FaultKind::ServerErrorApplied))
          out = ServerResponse{500, "text/html", {}, "<html><body>Internal Server Error</body></html>"};
        if (is(FaultKind::AnswerLost)) out.fault = ConnectionFault::DropBeforeAnswer;
        if (is(FaultKind::TruncatedBody)) out.body.resize(out.body.size() / 2);
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

FaultPlan FaultPlan::on(const std::string& method_and_path, FaultKind kind, int times) {
  FaultPlan p;
  p.rate = 1;
  p.kinds = {kind};
  auto left = std::make_shared<int>(times);  // allows() is called under the server's fault lock
  p.allows = [method_and_path, left](const ServerRequest& r, FaultKind) {
    if (*left <= 0 || r.method + " " + r.path != method_and_path) return false;
    --*left;
    return true;
  };
  return p;
}

void HttpServer::setLatency(std::chrono::milliseconds rtt) { impl_->latency = rtt; }

void HttpServer::setFaults(FaultPlan plan) {
  std::lock_guard l(impl_->faultMu);
  impl_->plan = std::move(plan);
  impl_->planned = 0;
}

std::vector<InjectedFault> HttpServer::injectedFaults() const {
  std::lock_guard l(impl_->faultMu);
  return impl_->injected;
}

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
