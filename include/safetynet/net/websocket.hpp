#pragma once
// A WebSocket client connection (RFC 6455) for Slack's Socket Mode, behind a small interface so
// that the Beast code stays in one translation unit (src/net/websocket_client.cpp).
// wss:// only, TLS verified with SNI and the host name (the system's CAs or ca_file); ws:// is
// accepted for loopback hosts only (tests), like http:// base URLs.
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "safetynet/core/task.hpp"

namespace safetynet {

// Connecting failed, or the connection ended (the peer closed it, a reset, no data within the
// idle timeout). The message holds no credentials (Slack's URL carries a ticket: only its host is said).
struct WebSocketError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct WebSocketOptions {
  std::string ca_file;  // empty: the system's trust store
  std::chrono::milliseconds connect_timeout{10000};  // TCP, TLS and the upgrade together
  // Pings are sent when nothing came for half of this; nothing at all for this long (not even a
  // pong) ends the connection: a dead link is noticed.
  std::chrono::milliseconds idle_timeout{30000};
};

class WebSocket {
 public:
  virtual ~WebSocket() = default;
  // The next text message. Throws WebSocketError when the connection ends.
  virtual Task<std::string> read() = 0;
  // One text message. At most one write at a time. Throws WebSocketError.
  virtual Task<void> write(std::string text) = 0;
  // Ends the connection now: a pending read() throws.
  virtual void close() = 0;
};

using WebSocketPtr = std::unique_ptr<WebSocket>;

Task<WebSocketPtr> connectWebSocket(std::string url, WebSocketOptions options);

}  // namespace safetynet
