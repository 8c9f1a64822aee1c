#include "notify/slack_api.hpp"

#include "safetynet/core/json_util.hpp"
#include "safetynet/net/url.hpp"

namespace safetynet {

Task<SlackReply> slackCall(HttpClient& http, const std::string& base_url, const Secret& token, const std::string& method,
                           const nlohmann::json& args, bool post) {
  HttpRequest req;
  req.rate_group = method;  // Slack's limits are per Web API method (tiers; chat.postMessage per channel)
  req.headers = {{"Authorization", "Bearer " + token.reveal()}};
  if (post) {
    req.method = "POST";
    req.url = base_url + "/" + method;
    req.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
    req.body = jsonText(args);
  } else {
    req.method = "GET";
    std::string q;
    for (auto it = args.begin(); it != args.end(); ++it)
      q += (q.empty() ? "?" : "&") + it.key() + "=" +
           urlEncode(it->is_string() ? it->get<std::string>() : it->dump());
    req.url = base_url + "/" + method + q;
  }
  SlackReply r;
  HttpResponse resp;
  try {
    resp = co_await http.send(std::move(req));
  } catch (const std::exception& e) {
    r.error = e.what();
    r.transport = true;
  }
  if (!r.error.empty()) co_return r;
  r.http_status = resp.status;
  r.retry_after = serverRequestedDelay(resp, Clock::now());
  if (resp.status == 429) {
    r.error = "ratelimited";
    co_return r;
  }
  if (resp.status != 200) {
    r.error = "HTTP " + std::to_string(resp.status);
    co_return r;
  }
  r.body = nlohmann::json::parse(resp.body, nullptr, false);
  if (!r.body.is_object())
    r.error = "not JSON";
  else if (!jsonBool(r.body, "ok"))
    r.error = jsonString(r.body, "error", "unknown_error");
  co_return r;
}

}  // namespace safetynet
