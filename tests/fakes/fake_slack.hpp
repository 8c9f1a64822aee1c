#pragma once
// A fake Slack Web API: chat.postMessage (JSON body, Bearer token, {"ok":true,"channel","ts",
// "message"} or {"ok":false,"error"} with HTTP 200), users.lookupByEmail, conversations.open,
// conversations.history (include_all_metadata) and 429 + Retry-After when asked to. Faults on
// demand: a method answering HTTP 5xx, or carried out with its answer lost (connection dropped).
// Arguments as Slack takes them: query or form-encoded for every method, a JSON body only for the
// write methods that accept one (chat.postMessage, chat.update, chat.postEphemeral,
// conversations.open); a JSON body to a read method (users.info...) is not read.
#include <nlohmann/json.hpp>

#include <chrono>
#include <algorithm>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <vector>

#include "fakes/fake_socket_mode.hpp"
#include "safetynet/net/http_server.hpp"

namespace safetynet::fakes {

struct PostedMessage {
  std::string channel;
  std::string ts;
  nlohmann::json request;  // the chat.postMessage body as sent
};

// What Slack sends (an `interactive` envelope's block_actions payload,
// https://api.slack.com/reference/interaction-payloads/block-actions) when `user` clicks the button
// `action_id` of the posted message `m`; the button's value is "" when the message has no such button.
nlohmann::json blockActionsPayload(const PostedMessage& m, const std::string& user, const std::string& action_id);

class FakeSlack {
 public:
  FakeSlack(asio::any_io_executor ex, std::string token, unsigned short port = 0);
  std::string baseUrl() const { return server_->baseUrl() + "/api"; }
  // A distant platform: this round trip on every connection and answer (HttpServer::setLatency).
  void setLatency(std::chrono::milliseconds rtt) { server_->setLatency(rtt); }
  // Faults at the edge (HttpServer::setFaults), its 429s as Slack's: Retry-After, "ratelimited".
  void setFaults(FaultPlan plan);
  std::vector<InjectedFault> injectedFaults() const { return server_->injectedFaults(); }
  void addUser(const std::string& id, const std::string& email, const std::string& name);
  // Socket Mode (the buttons): apps.connections.open, with this app-level token, hands out a
  // ws:// URL of `socketMode()`, or wss://localhost with `tls` (a certificate for localhost).
  // Until called, apps.connections.open answers not_allowed_token_type.
  void enableSocketMode(const std::string& app_token, FakeTls tls = {});
  FakeSocketMode& socketMode() { return *socketMode_; }
  // chat.update and chat.postEphemeral calls so far, as sent.
  std::vector<nlohmann::json> updates() const {
    std::lock_guard l(mu_);
    return updates_;
  }
  std::vector<nlohmann::json> ephemerals() const {
    std::lock_guard l(mu_);
    return ephemerals_;
  }
  void addChannel(const std::string& id, const std::string& name);
  // Calls of a Web API method so far ("users.lookupByEmail").
  int requestCount(const std::string& method) const {
    std::lock_guard l(mu_);
    return static_cast<int>(std::count(calls_.begin(), calls_.end(), method));
  }
  void rateLimitNext(int n, int retry_after_seconds = 1);
  // The next `n` calls of `method` answer HTTP `status` and do nothing.
  void failNext(const std::string& method, int n, int status = 500);
  // The next `n` calls of `method` are carried out, then the connection closes before the answer.
  void loseAnswerNext(const std::string& method, int n = 1);
  void setDelay(std::chrono::milliseconds d) { delay_ = d; }
  // The next chat.postMessage answers ok:false with `error`; `carried_out`: posted all the same
  // (Slack's internal_error: "some aspect of the operation succeeded before the error was raised").
  void refuseNextPost(const std::string& error, bool carried_out = false);
  // n messages by others in a channel (by id), as a busy channel has.
  void addChannelChatter(const std::string& channel, int n);
  // A copy: the fake may be serving on another thread.
  std::vector<PostedMessage> messages() const {
    std::lock_guard l(mu_);
    return messages_;
  }

 private:
  ServerResponse handle(const ServerRequest& r);  // answer(), then the connection faults
  ServerResponse answer(const ServerRequest& r);
  static bool withinBlockKitLimits(const nlohmann::json& blocks);
  std::string refuseNext_;
  bool refusedCarriedOut_ = false;
  std::string token_;
  mutable std::mutex mu_;
  std::chrono::milliseconds delay_{0};
  std::map<std::string, nlohmann::json> usersByEmail_;
  std::map<std::string, std::string> channels_;  // name (with #) or id -> id
  std::vector<PostedMessage> messages_;
  std::vector<nlohmann::json> updates_, ephemerals_;
  std::string appToken_;
  asio::any_io_executor ex_;
  std::unique_ptr<FakeSocketMode> socketMode_;
  std::vector<std::string> calls_;
  int rateLimited_ = 0, retryAfter_ = 1;
  struct Fault {
    int failing = 0, status = 500, losing = 0;
  };
  std::map<std::string, Fault> faults_;  // by method
  long long ts_ = 1'700'000'000;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace safetynet::fakes
