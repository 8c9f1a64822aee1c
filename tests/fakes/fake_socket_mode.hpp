#pragma once
// A fake Slack Socket Mode endpoint (https://api.slack.com/apis/socket-mode): a WebSocket server
// on loopback (Beast) that the fake Slack's apps.connections.open hands out: ws://127.0.0.1, or
// with a certificate and key, wss://localhost (TLS, as Slack's wss-primary.slack.com). As Slack's:
// `hello` on connect; envelopes {"envelope_id", "type": "interactive"|"events_api", "payload",
// "accepts_response_payload"} for the app to acknowledge with {"envelope_id"} within 3 s;
// `disconnect` {"reason": "refresh_requested"|"warning"|"link_disabled"}, after which the server
// closes the link. Single-threaded: call it on the thread that runs its executor.
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "safetynet/core/task.hpp"

namespace safetynet::fakes {

// A server certificate (PEM) for the wss:// link, naming "localhost".
struct FakeTls {
  std::string cert_file, key_file;
  bool enabled() const { return !cert_file.empty(); }
};

class FakeSocketMode {
 public:
  explicit FakeSocketMode(asio::any_io_executor ex, FakeTls tls = {});
  ~FakeSocketMode();
  // A new connection URL with its own ticket (what apps.connections.open answers).
  std::string newUrl();
  // Sends an envelope to the newest open connection (Slack sends each envelope on one of the
  // app's connections); returns its envelope_id, "" if no connection is open.
  std::string sendEnvelope(const std::string& type, const nlohmann::json& payload, const std::string& envelope_id = "",
                           int retry_attempt = 0);
  // A `disconnect` message to every open connection; each is closed `grace` later.
  void sendDisconnect(const std::string& reason, std::chrono::milliseconds grace = std::chrono::milliseconds(1000));
  // Every open connection dropped: the TCP connection closed with no close frame.
  void dropConnections();
  int connectionsAccepted() const { return accepted_; }
  // TLS handshakes that failed (a client that refused the certificate, say).
  int tlsHandshakeFailures() const { return tlsFailures_; }
  int openConnections() const;
  // How long after it was sent each envelope was acknowledged.
  std::optional<std::chrono::milliseconds> ackDelay(const std::string& envelope_id) const;
  int ackCount(const std::string& envelope_id) const;
  // The tickets of the URLs connected to, in order (each URL is used once, as Slack's).
  const std::vector<std::string>& ticketsUsed() const { return tickets_; }

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
  int accepted_ = 0, tlsFailures_ = 0;
  std::vector<std::string> tickets_;
  friend struct Impl;
};

}  // namespace safetynet::fakes
