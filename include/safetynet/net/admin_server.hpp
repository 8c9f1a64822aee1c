#pragma once
// The production HTTP/1.1 server of the admin API (plain on loopback, TLS elsewhere), on Beast in
// its own translation unit (src/net/admin_server.cpp). Unlike the fakes' net/http_server, it
// defends itself: request header and body limits (431, 413), a time limit for reading a request
// (408, then the connection is closed: a slowloris holds only its own connection), a cap on open
// connections, keep-alive. A request it cannot read never reaches the handler and never disturbs
// the process; a handler that throws answers 500.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "safetynet/core/task.hpp"

namespace safetynet {

struct AdminHttpRequest {
  std::string method;                          // "GET"
  std::string target;                          // as sent
  std::vector<std::string> segments;           // the path's segments, each percent-decoded
  std::map<std::string, std::string> query;    // decoded; a repeated name keeps its last value
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  bool valid_target = true;                    // false: the target is not an origin-form URL
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct AdminHttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

using AdminHttpHandler = std::function<AdminHttpResponse(const AdminHttpRequest&)>;

struct AdminServerOptions {
  std::string host = "127.0.0.1";  // an IP address; "localhost" is 127.0.0.1
  unsigned short port = 0;         // 0: a free one (tests)
  std::string tls_cert_file, tls_key_file;  // both: TLS (the chain in PEM, leaf first); none: plain
  size_t max_header_bytes = 16 * 1024;
  // A platform's webhook carries the whole object (Close: the email activity with its body).
  size_t max_body_bytes = 1024 * 1024;
  // A whole request (TLS handshake, headers and body) must arrive within this; an idle keep-alive
  // connection is closed after idle_timeout.
  std::chrono::milliseconds read_timeout{10000};
  std::chrono::milliseconds idle_timeout{60000};
  int max_connections = 64;  // more are accepted and closed at once
};

// Parses a request target ("/api/v1/x%2Fy?a=1") into decoded segments and query; false when it is
// not an origin-form target. Shared by the server and the fuzz target.
bool parseAdminTarget(const std::string& target, std::vector<std::string>& segments,
                      std::map<std::string, std::string>& query);

// Reads one request from `bytes` as the server reads one from a connection (the same parser and
// limits): 0 with `out` filled, or the status the server answers instead (400 malformed or
// incomplete, 413, 431). For the fuzz target (tests/fuzz/admin_api_fuzz.cpp).
int parseAdminRequest(const std::string& bytes, const AdminServerOptions& options, AdminHttpRequest& out);

class AdminServer {
 public:
  // Binds and starts accepting on `ex`. Throws std::runtime_error with a clear message when the
  // address cannot be bound or the certificate or key cannot be loaded.
  AdminServer(asio::any_io_executor ex, AdminServerOptions options, AdminHttpHandler handler);
  ~AdminServer();
  unsigned short port() const;
  bool tls() const;
  int openConnections() const;
  // Stops accepting and closes every open connection.
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace safetynet
