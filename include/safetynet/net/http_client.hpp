#pragma once
// HTTP(S) for connectors and notifiers. TLS is always verified (system CAs or a ca_file).
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "safetynet/core/task.hpp"

namespace safetynet {

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // absolute: https://host[:port]/path?query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Whether resending after a network error or 5xx is safe. GET/PUT/DELETE are; a POST or PATCH
  // is only sent again when it cannot have reached the server (connecting or writing failed) or
  // on 429 (the server said it did nothing). Otherwise the error or the 5xx goes to the caller,
  // which can read back whether it was applied.
  std::optional<bool> idempotent;
  // The platform's rate-limit bucket this request counts against, when it is not the whole host:
  // a 429 or an exhausted quota holds only the requests of the same group. Slack limits each Web
  // API method on its own; Close each "endpoint group" (paths and methods). Empty: the host
  // (Outreach's limit is per user, Salesloft's per team, over every endpoint).
  std::string rate_group;
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  int attempts = 1;
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// A transport failure (DNS, connect, TLS, timeout) after all retries. The message never holds
// request headers, so credentials cannot leak through it.
struct HttpError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Returns the final response (possibly 4xx/5xx after retries); throws HttpError when no
  // response could be had.
  virtual Task<HttpResponse> send(HttpRequest request) = 0;
};

using HttpClientPtr = std::shared_ptr<HttpClient>;

struct RetryPolicy {
  int max_attempts = 5;
  std::chrono::milliseconds base_delay{500};
  std::chrono::milliseconds max_delay{30000};
  // Longest wait a Retry-After / rate-limit reset may impose before the client gives up.
  std::chrono::milliseconds max_server_delay{120000};
};

struct HttpClientOptions {
  std::string ca_file;  // empty: the system's trust store
  std::chrono::milliseconds timeout{30000};
  RetryPolicy retry;
  std::string user_agent = "safetynet";
};

HttpClientPtr makeHttpClient(asio::any_io_executor ex, HttpClientOptions options);

// How long the server asked us to wait, from Retry-After (seconds or HTTP date), Close's
// `RateLimit: limit=.., remaining=.., reset=..` or X-RateLimit-Remaining/Reset; nullopt if it did not.
std::optional<std::chrono::milliseconds> serverRequestedDelay(const HttpResponse& r, TimePoint now);

// Full-jitter exponential backoff: uniform in [0, min(max, base * 2^attempt)].
std::chrono::milliseconds backoffDelay(const RetryPolicy& p, int attempt, double unit_random);

}  // namespace safetynet
