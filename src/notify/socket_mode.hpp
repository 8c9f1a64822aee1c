#pragma once
// Slack Socket Mode (https://api.slack.com/apis/socket-mode): the app asks apps.connections.open
// (with the app-level token, xapp-) for a WebSocket URL, connects, waits for `hello`, and then
// receives envelopes ({"envelope_id", "type", "payload"}), each acknowledged at once with
// {"envelope_id"} (Slack wants it within 3 seconds) before the handler does any slow work.
// A `disconnect` message (refresh_requested, warning) means: connect again now; a dropped or
// silent link (no data, not even a pong, within the idle timeout) is reconnected with backoff.
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/steady_timer.hpp>

#include "safetynet/config/secret.hpp"
#include "safetynet/net/http_client.hpp"
#include "safetynet/net/websocket.hpp"

namespace safetynet {

struct SocketModeOptions {
  std::string base_url = "https://slack.com/api";
  Secret app_token;
  WebSocketOptions websocket;
  std::chrono::milliseconds min_backoff{1000};
  std::chrono::milliseconds max_backoff{60000};
};

// Called for every envelope after its acknowledgement: its type ("interactive", "events_api",
// "slash_commands") and payload. Runs on its own: the next envelope does not wait for it.
using EnvelopeHandler = std::function<Task<void>(std::string type, nlohmann::json payload)>;

class SocketModeClient {
 public:
  SocketModeClient(asio::any_io_executor ex, HttpClientPtr http, SocketModeOptions options, EnvelopeHandler handler);
  // Connects and keeps connected until stop().
  Task<void> run();
  void stop();
  bool connected() const { return connected_; }  // a `hello` came on the current link
  int links() const { return links_; }           // links opened so far

 private:
  // One link's messages; true when Slack asked to reconnect (disconnect), false when it dropped.
  Task<bool> session(WebSocket& ws);

  asio::any_io_executor ex_;
  HttpClientPtr http_;
  SocketModeOptions options_;
  EnvelopeHandler handler_;
  WebSocket* current_ = nullptr;
  std::shared_ptr<asio::steady_timer> backoff_;
  bool stopped_ = false, connected_ = false;
  int links_ = 0;
};

}  // namespace safetynet
