#include "notify/socket_mode.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <random>

#include "notify/slack_api.hpp"
#include "safetynet/core/json_util.hpp"
#include "safetynet/core/logging.hpp"

namespace safetynet {

namespace {
std::shared_ptr<spdlog::logger> log() { return logger("slack"); }

nlohmann::json ack(const std::string& envelope_id) { return {{"envelope_id", envelope_id}}; }
}  // namespace

SocketModeClient::SocketModeClient(asio::any_io_executor ex, HttpClientPtr http, SocketModeOptions options,
                                   EnvelopeHandler handler)
    : ex_(std::move(ex)), http_(std::move(http)), options_(std::move(options)), handler_(std::move(handler)) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/') options_.base_url.pop_back();
}

void SocketModeClient::stop() {
  stopped_ = true;
  if (current_) current_->close();
  if (backoff_) backoff_->cancel();
}

Task<void> SocketModeClient::run() {
  std::mt19937_64 rng{std::random_device{}()};
  RetryPolicy backoff;
  backoff.base_delay = options_.min_backoff;
  backoff.max_delay = options_.max_backoff;
  int failures = 0;
  while (!stopped_) {
    std::string failure;
    bool again = false;
    const nlohmann::json noArgs = nlohmann::json::object();
    const std::string method = "apps.connections.open";
    SlackReply open = co_await slackCall(*http_, options_.base_url, options_.app_token, method, noArgs, true);
    const std::string url = open.ok() ? jsonString(open.body, "url") : "";
    if (!open.ok() || url.empty()) {
      failure = "apps.connections.open: " + (open.ok() ? std::string("no url in the answer") : open.error);
    } else {
      WebSocketPtr ws;
      try {
        ws = co_await connectWebSocket(url, options_.websocket);
      } catch (const WebSocketError& e) {
        failure = e.what();
      }
      if (ws && !stopped_) {
        ++links_;
        current_ = ws.get();
        again = co_await session(*ws);
        current_ = nullptr;
        connected_ = false;
        if (!again) failure = "the link dropped";
        else failures = 0;
      }
    }
    if (stopped_) break;
    if (again) continue;  // Slack asked for a new link: at once
    // Never faster than min_backoff, however the jitter falls; longer after each failure in a row.
    auto d = std::max(options_.min_backoff,
                      backoffDelay(backoff, failures++, std::uniform_real_distribution<double>(0.5, 1.0)(rng)));
    log()->warn("Socket Mode: {}; connecting again in {} ms", failure, d.count());
    backoff_ = std::make_shared<asio::steady_timer>(ex_, d);
    co_await backoff_->async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

Task<bool> SocketModeClient::session(WebSocket& ws) {
  for (;;) {
    std::string text, failure;
    try {
      text = co_await ws.read();
    } catch (const WebSocketError& e) {
      failure = e.what();
    }
    if (!failure.empty()) {
      if (!stopped_) log()->warn("Socket Mode: {}", failure);
      co_return false;
    }
    const auto message = nlohmann::json::parse(text, nullptr, false);
    if (!message.is_object()) continue;
    const std::string type = jsonString(message, "type");
    if (type == "hello") {
      connected_ = true;
      log()->info("Socket Mode: connected ({} link(s) of this app)", message.value("num_connections", 1));
      continue;
    }
    if (type == "disconnect") {
      const std::string reason = jsonString(message, "reason");
      log()->info("Socket Mode: Slack asks to reconnect ({})", reason);
      ws.close();
      // link_disabled: Socket Mode was turned off in the app's settings; retrying at once would spin.
      co_return reason != "link_disabled";
    }
    const std::string envelope = jsonString(message, "envelope_id");
    if (envelope.empty()) continue;
    // Acknowledged first: Slack retries an envelope not acknowledged within 3 seconds.
    const std::string reply = jsonText(ack(envelope));
    try {
      co_await ws.write(reply);
    } catch (const WebSocketError& e) {
      failure = e.what();
    }
    if (!failure.empty()) {
      log()->warn("Socket Mode: could not acknowledge {}: {}", envelope, failure);
      co_return false;
    }
    nlohmann::json payload = message.contains("payload") ? message["payload"] : nlohmann::json::object();
    asio::co_spawn(ex_, handler_(type, std::move(payload)), [envelope](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log()->error("Socket Mode: envelope {} failed: {}", envelope, ex.what());
      }
    });
  }
}

}  // namespace safetynet
