#pragma once
// One Slack Web API call (https://api.slack.com/web): a JSON POST or a GET with a query, a Bearer
// token (the bot's xoxb-, or the app-level xapp- for apps.connections.open), and the answer read
// the Slack way: HTTP 200 with {"ok": false, "error": ...} is a refusal, 429 is "ratelimited".
#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>

#include "safetynet/config/secret.hpp"
#include "safetynet/net/http_client.hpp"

namespace safetynet {

struct SlackReply {
  int http_status = 0;
  nlohmann::json body;
  std::optional<std::chrono::milliseconds> retry_after;
  std::string error;  // Slack's "error" or a transport/HTTP problem
  bool transport = false;
  bool ok() const { return error.empty(); }
};

// `base_url`: https://slack.com/api (no trailing slash). Never throws for what Slack or the
// network does: the reply says it. The token never reaches an error text.
Task<SlackReply> slackCall(HttpClient& http, const std::string& base_url, const Secret& token, const std::string& method,
                           const nlohmann::json& args, bool post);

}  // namespace safetynet
