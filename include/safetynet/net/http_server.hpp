#pragma once
// A small HTTP/1.1 server on Beast (plain TCP, loopback) for the fake platforms that the tests and
// `safetynet demo` run. Not used by the daemon's production path.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "safetynet/core/task.hpp"

namespace safetynet {

struct ServerRequest {
  std::string method;
  std::string target;  // path?query as sent
  std::string path;    // decoded path
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  std::string header(const std::string& n) const {
    auto it = headers.find(n);
    return it == headers.end() ? "" : it->second;
  }
};

// Faults a fake can inject on the connection (tests of what a lost answer does).
enum class ConnectionFault {
  None,
  DropBeforeAnswer,  // the request was handled, then the connection closes with no answer sent
  CloseAfterAnswer,  // the answer says keep-alive, then the server closes the idle connection
};

struct ServerResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::map<std::string, std::string> headers;
  std::string body;
  ConnectionFault fault = ConnectionFault::None;
};

using ServerHandler = std::function<ServerResponse(const ServerRequest&)>;

// An application/x-www-form-urlencoded body, decoded (Boost.URL).
std::map<std::string, std::string> parseFormBody(const std::string& body);

class HttpServer {
 public:
  // Binds 127.0.0.1 on `port` (0: a free one) and serves until stop() or destruction.
  HttpServer(asio::any_io_executor ex, ServerHandler handler, unsigned short port = 0);
  ~HttpServer();
  unsigned short port() const;
  int connectionsAccepted() const;
  std::string baseUrl() const { return "http://127.0.0.1:" + std::to_string(port()); }
  // Adds this round-trip time to every new connection and every answer, without blocking other
  // requests (benchmarks and tests of a distant platform).
  void setLatency(std::chrono::milliseconds rtt);
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace safetynet
