#pragma once
// A small HTTP/1.1 server on Beast (plain TCP, loopback) for the fake platforms that the tests and
// `safetynet demo` run. Not used by the daemon's production path.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

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

// What can go wrong between a client and a platform (the fault suite, issue 12 item 2).
enum class FaultKind {
  RateLimited,         // 429 with the platform's own headers; the request is not carried out
  ServerError,         // 500/502/503; not carried out
  ServerErrorApplied,  // carried out, then answered 500 (a platform that failed after its write)
  ResetBeforeAnswer,   // the connection is reset (RST) before any answer; not carried out
  AnswerLost,          // carried out, then the connection closes with no answer
  TruncatedBody,       // carried out, answered with its body cut in half (a 2xx that is not JSON)
  Stall,               // carried out at once, its answer held back for FaultPlan::stall (a slow path)
  // Not in the default kinds: the server sits on the request for FaultPlan::stall, then carries it
  // out and answers: a write that lands after its client gave up or died. A client killed meanwhile
  // cannot know; for a platform with no idempotency key (Slack) nothing but waiting can tell.
  LateApply,
};
const char* faultName(FaultKind k);
// Whether the request is carried out (a write applied) although the client gets no usable answer.
bool faultApplies(FaultKind k);

// A seeded fault plan for one server: request number n (counted per server from setFaults) gets
// a fault with probability `rate`, its kind chosen among `kinds`, both a pure function of
// (seed, n): a seed always gives the same sequence of faults (which request is the n-th still
// depends on the client's timing), not a draw from a generator shared by concurrent requests.
struct FaultPlan {
  double rate = 0;  // 0: no faults
  unsigned seed = 1;
  std::vector<FaultKind> kinds = {FaultKind::RateLimited,       FaultKind::ServerError, FaultKind::ServerErrorApplied,
                                  FaultKind::ResetBeforeAnswer, FaultKind::AnswerLost,  FaultKind::TruncatedBody,
                                  FaultKind::Stall};
  std::chrono::milliseconds stall{3000};
  // The platform's own 429 (each fake sets its headers); unset: 429 with Retry-After: 1.
  std::function<ServerResponse()> rate_limited;
  // Whether this request may get this kind of fault; unset: any. A fault not allowed is replaced
  // by the next allowed kind in `kinds`, or by none.
  std::function<bool(const ServerRequest&, FaultKind)> allows;

  // One fault on purpose: the first `times` requests "METHOD /path" (the path without its query)
  // get `kind`, no other request anything.
  static FaultPlan on(const std::string& method_and_path, FaultKind kind, int times = 1);
};

// The seeded draw behind every fault plan (this one, and the DNS and SMTP fault proxies of the
// tests): a well-mixed 64-bit value of (seed, n) (SplitMix64), and whether it falls within `rate`.
uint64_t faultDraw(unsigned seed, uint64_t n);
bool faultHits(uint64_t draw, double rate);

// A fault the server injected: what, on which request.
struct InjectedFault {
  FaultKind kind;
  std::string method, target;
};

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
  // Injects faults by `plan` from now on (rate 0: none); thread-safe.
  void setFaults(FaultPlan plan);
  // The faults injected so far, in order.
  std::vector<InjectedFault> injectedFaults() const;
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace safetynet
