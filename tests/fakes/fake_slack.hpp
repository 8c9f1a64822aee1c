#pragma once
// A fake Slack Web API: chat.postMessage (JSON body, Bearer token, {"ok":true,"channel","ts",
// "message"} or {"ok":false,"error"} with HTTP 200), users.lookupByEmail, conversations.open,
// conversations.history (include_all_metadata) and 429 + Retry-After when asked to.
#include <nlohmann/json.hpp>

#include <chrono>
#include <algorithm>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <vector>

#include "safetynet/net/http_server.hpp"

namespace safetynet::fakes {

struct PostedMessage {
  std::string channel;
  std::string ts;
  nlohmann::json request;  // the chat.postMessage body as sent
};

class FakeSlack {
 public:
  FakeSlack(asio::any_io_executor ex, std::string token, unsigned short port = 0);
  std::string baseUrl() const { return server_->baseUrl() + "/api"; }
  void addUser(const std::string& id, const std::string& email, const std::string& name);
  void addChannel(const std::string& id, const std::string& name);
  // Calls of a Web API method so far ("users.lookupByEmail").
  int requestCount(const std::string& method) const {
    std::lock_guard l(mu_);
    return static_cast<int>(std::count(calls_.begin(), calls_.end(), method));
  }
  void rateLimitNext(int n, int retry_after_seconds = 1);
  void setDelay(std::chrono::milliseconds d) { delay_ = d; }
  // A copy: the fake may be serving on another thread.
  std::vector<PostedMessage> messages() const {
    std::lock_guard l(mu_);
    return messages_;
  }

 private:
  ServerResponse handle(const ServerRequest& r);
  std::string token_;
  mutable std::mutex mu_;
  std::chrono::milliseconds delay_{0};
  std::map<std::string, nlohmann::json> usersByEmail_;
  std::map<std::string, std::string> channels_;  // name (with #) or id -> id
  std::vector<PostedMessage> messages_;
  std::vector<std::string> calls_;
  int rateLimited_ = 0, retryAfter_ = 1;
  long long ts_ = 1'700'000'000;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace safetynet::fakes
