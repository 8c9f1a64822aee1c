#include "fakes/fake_slack.hpp"

#include <set>
#include <thread>

namespace safetynet::fakes {

namespace {
ServerResponse slackOk(nlohmann::json j) {
  j["ok"] = true;
  return ServerResponse{200, "application/json; charset=utf-8", {}, j.dump()};
}
std::string methodOf(const ServerRequest& r) { return r.path.rfind("/api/", 0) == 0 ? r.path.substr(5) : r.path; }
ServerResponse slackError(const std::string& e) {
  return ServerResponse{200, "application/json; charset=utf-8", {}, nlohmann::json{{"ok", false}, {"error", e}}.dump()};
}
ServerResponse rateLimited(int retry_after_seconds) {
  return ServerResponse{429, "application/json; charset=utf-8", {{"Retry-After", std::to_string(retry_after_seconds)}},
                        nlohmann::json{{"ok", false}, {"error", "ratelimited"}}.dump()};
}
}  // namespace

FakeSlack::FakeSlack(asio::any_io_executor ex, std::string token, unsigned short port) : token_(std::move(token)), ex_(ex) {
  server_ = std::make_unique<HttpServer>(ex, [this](const ServerRequest& r) { return handle(r); }, port);
}

void FakeSlack::addUser(const std::string& id, const std::string& email, const std::string& name) {
  std::lock_guard l(mu_);
  usersByEmail_[email] = {{"id", id}, {"name", name}, {"real_name", name}, {"deleted", false},
                          {"profile", {{"email", email}, {"display_name", name}}}};
}

void FakeSlack::enableSocketMode(const std::string& app_token, FakeTls tls) {
  std::lock_guard l(mu_);
  appToken_ = app_token;
  if (!socketMode_) socketMode_ = std::make_unique<FakeSocketMode>(ex_, std::move(tls));
}

void FakeSlack::addChannel(const std::string& id, const std::string& name) {
  std::lock_guard l(mu_);
  channels_[name] = id;
  channels_[id] = id;
}

void FakeSlack::setFaults(FaultPlan plan) {
  if (!plan.rate_limited) plan.rate_limited = [] { return rateLimited(1); };
  server_->setFaults(std::move(plan));
}

void FakeSlack::addChannelChatter(const std::string& channel, int n) {
  std::lock_guard l(mu_);
  for (int i = 0; i < n; ++i)
    messages_.push_back(PostedMessage{channel, std::to_string(++ts_) + ".000100", {{"text", "chatter " + std::to_string(i)}}});
}

void FakeSlack::refuseNextPost(const std::string& error, bool carriedOut) {
  std::lock_guard l(mu_);
  refuseNext_ = error;
  refusedCarriedOut_ = carriedOut;
}

void FakeSlack::rateLimitNext(int n, int retry_after_seconds) {
  rateLimited_ = n;
  retryAfter_ = retry_after_seconds;
}

void FakeSlack::failNext(const std::string& method, int n, int status) {
  std::lock_guard l(mu_);
  faults_[method].failing = n;
  faults_[method].status = status;
}

void FakeSlack::loseAnswerNext(const std::string& method, int n) {
  std::lock_guard l(mu_);
  faults_[method].losing = n;
}

ServerResponse FakeSlack::handle(const ServerRequest& r) {
  ServerResponse out = answer(r);
  std::lock_guard l(mu_);
  auto it = faults_.find(methodOf(r));
  if (it != faults_.end() && it->second.losing > 0 && out.status == 200) {
    --it->second.losing;
    out.fault = ConnectionFault::DropBeforeAnswer;
  }
  return out;
}

namespace {
// Characters, as Slack counts them (UTF-8 code points).
size_t characters(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}
std::string textOf(const nlohmann::json& object) {
  return object.is_object() && object.contains("text") && object["text"].is_string() ? object["text"].get<std::string>() : "";
}
}  // namespace

// Block Kit's limits (docs.slack.dev/reference/block-kit/blocks): a section's text 3000
// characters, its fields at most 10 of 2000 each; a header's text 150; a context's elements 10.
bool FakeSlack::withinBlockKitLimits(const nlohmann::json& blocks) {
  for (const auto& b : blocks) {
    if (!b.is_object()) return false;
    const std::string type = b.value("type", "");
    if (type == "header" && characters(textOf(b.value("text", nlohmann::json::object()))) > 150) return false;
    if (type == "section") {
      if (b.contains("text") && characters(textOf(b["text"])) > 3000) return false;
      if (b.contains("fields")) {
        if (!b["fields"].is_array() || b["fields"].size() > 10) return false;
        for (const auto& f : b["fields"])
          if (characters(textOf(f)) > 2000) return false;
      }
    }
    if (type == "context" && b.contains("elements") && (!b["elements"].is_array() || b["elements"].size() > 10)) return false;
  }
  return true;
}

ServerResponse FakeSlack::answer(const ServerRequest& r) {
  if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
  std::lock_guard l(mu_);
  if (rateLimited_ > 0) {
    --rateLimited_;
    return rateLimited(retryAfter_);
  }
  const std::string method = methodOf(r);
  if (method == "apps.connections.open") {
    // An app-level token only (xapp-, scope connections:write); a bot token is the wrong type.
    if (r.method != "POST") return slackError("invalid_request");
    if (!appToken_.empty() && r.header("authorization") == "Bearer " + appToken_) {
      calls_.push_back(method);
      return slackOk({{"url", socketMode_->newUrl()}});
    }
    return slackError(r.header("authorization") == "Bearer " + token_ ? "not_allowed_token_type" : "invalid_auth");
  }
  if (r.header("authorization") != "Bearer " + token_) return slackError("invalid_auth");
  calls_.push_back(method);
  if (auto f = faults_.find(method); f != faults_.end() && f->second.failing > 0) {
    --f->second.failing;
    return ServerResponse{f->second.status, "text/html", {}, "<html>Server Error</html>"};
  }
  // Arguments: the query, a form-encoded body, or a JSON body. "Most write methods allow arguments
  // with application/json" (docs.slack.dev/apis/web-api); a read method (users.info, users.list,
  // conversations.history...) takes query or form arguments only: a JSON body's are not read, so
  // users.info given {"user": ...} as JSON answers user_not_found.
  static const std::set<std::string> kJsonMethods = {"chat.postMessage", "chat.update", "chat.postEphemeral",
                                                     "conversations.open"};
  nlohmann::json args = nlohmann::json::object();
  for (const auto& [k, v] : r.query) args[k] = v;
  if (r.method == "POST") {
    const std::string type = r.header("content-type");
    if (type.rfind("application/x-www-form-urlencoded", 0) == 0) {
      for (const auto& [k, v] : parseFormBody(r.body)) args[k] = v;
    } else if (type.rfind("application/json", 0) == 0) {
      auto body = nlohmann::json::parse(r.body, nullptr, false);
      if (!body.is_object()) return slackError("invalid_json");
      if (kJsonMethods.count(method)) args.update(body);
    } else {
      return slackError("invalid_form_data");
    }
  }
  auto arg = [&](const char* k) { return args.contains(k) && args[k].is_string() ? args[k].get<std::string>() : ""; };

  if (method == "users.lookupByEmail") {
    auto it = usersByEmail_.find(arg("email"));
    if (it == usersByEmail_.end()) return slackError("users_not_found");
    return slackOk({{"user", it->second}});
  }
  if (method == "conversations.open") {
    std::string user = arg("users");
    if (user.empty()) return slackError("users_list_not_supplied");
    std::string dm = "D" + user.substr(1);
    channels_[dm] = dm;
    return slackOk({{"channel", {{"id", dm}}}});
  }
  if (method == "chat.postMessage") {
    if (r.method != "POST") return slackError("invalid_request");
    std::string ch = arg("channel");
    if (ch.empty()) return slackError("channel_not_found");
    if (ch[0] == 'U') ch = "D" + ch.substr(1);  // posting to a user id opens the DM
    auto it = channels_.find(ch);
    if (it == channels_.end()) return slackError("channel_not_found");
    if (arg("text").empty() && !args.contains("blocks")) return slackError("no_text");
    if (args.contains("blocks") && (!args["blocks"].is_array() || args["blocks"].size() > 50)) return slackError("invalid_blocks");
    if (args.contains("blocks") && !withinBlockKitLimits(args["blocks"])) return slackError("invalid_blocks");
    if (!refuseNext_.empty()) {
      const std::string error = std::exchange(refuseNext_, "");
      if (std::exchange(refusedCarriedOut_, false)) messages_.push_back(PostedMessage{it->second, std::to_string(++ts_) + ".000100", args});
      return slackError(error);
    }
    std::string ts = std::to_string(++ts_) + ".000100";
    messages_.push_back(PostedMessage{it->second, ts, args});
    nlohmann::json msg = {{"type", "message"}, {"text", arg("text")}, {"ts", ts}, {"bot_id", "B0SAFETY"}};
    if (args.contains("blocks")) msg["blocks"] = args["blocks"];
    return slackOk({{"channel", it->second}, {"ts", ts}, {"message", msg}});
  }
  if (method == "users.info") {
    for (const auto& [email, u] : usersByEmail_)
      if (u["id"] == arg("user")) return slackOk({{"user", u}});
    return slackError("user_not_found");
  }
  if (method == "chat.update") {
    if (r.method != "POST") return slackError("invalid_request");
    for (auto& m : messages_)
      if (m.channel == arg("channel") && m.ts == arg("ts")) {
        if (args.contains("blocks")) m.request["blocks"] = args["blocks"];
        if (args.contains("text")) m.request["text"] = args["text"];
        updates_.push_back(args);
        return slackOk({{"channel", m.channel}, {"ts", m.ts}, {"text", arg("text")}});
      }
    return slackError("message_not_found");
  }
  if (method == "chat.postEphemeral") {
    if (r.method != "POST") return slackError("invalid_request");
    if (!channels_.count(arg("channel"))) return slackError("channel_not_found");
    if (arg("user").empty()) return slackError("user_not_in_channel");
    ephemerals_.push_back(args);
    return slackOk({{"message_ts", std::to_string(++ts_) + ".000200"}});
  }
  if (method == "users.list") {
    // Cursor-paged, two members a page.
    std::vector<nlohmann::json> all;
    for (const auto& [email, u] : usersByEmail_) all.push_back(u);
    size_t start = arg("cursor").empty() ? 0 : std::stoul(arg("cursor"));
    auto members = nlohmann::json::array();
    for (size_t i = start; i < all.size() && i < start + 2; ++i) members.push_back(all[i]);
    std::string next = start + 2 < all.size() ? std::to_string(start + 2) : "";
    return slackOk({{"members", members}, {"response_metadata", {{"next_cursor", next}}}});
  }
  if (method == "conversations.list") {
    // Cursor-paged, two channels a page, so that callers must follow next_cursor.
    std::vector<std::pair<std::string, std::string>> all;  // name, id
    for (const auto& [key, id] : channels_)
      if (!key.empty() && key[0] == '#') all.emplace_back(key.substr(1), id);
    size_t start = arg("cursor").empty() ? 0 : std::stoul(arg("cursor"));
    auto list = nlohmann::json::array();
    for (size_t i = start; i < all.size() && i < start + 2; ++i)
      list.push_back({{"id", all[i].second}, {"name", all[i].first}, {"is_channel", true}, {"is_archived", false}});
    std::string next = start + 2 < all.size() ? std::to_string(start + 2) : "";
    return slackOk({{"channels", list}, {"response_metadata", {{"next_cursor", next}}}});
  }
  if (method == "conversations.history") {
    std::string ch = arg("channel");
    if (ch.empty() || ch[0] == '#') return slackError("channel_not_found");  // IDs only, as Slack
    auto it = channels_.find(ch);
    if (it == channels_.end()) return slackError("channel_not_found");
    bool withMeta = arg("include_all_metadata") == "true";
    // Cursor-paged, newest first: limit (default 100, at most 999), cursor, next_cursor in
    // response_metadata (docs.slack.dev/reference/methods/conversations.history).
    size_t limit = 100, offset = 0;
    if (!arg("limit").empty()) limit = std::clamp<size_t>(std::stoul(arg("limit")), 1, 999);
    if (!arg("cursor").empty()) offset = std::stoul(arg("cursor").substr(7));  // "offset:N"
    std::vector<const PostedMessage*> all;
    for (auto m = messages_.rbegin(); m != messages_.rend(); ++m)
      if (m->channel == it->second) all.push_back(&*m);
    auto list = nlohmann::json::array();
    for (size_t i = offset; i < all.size() && i < offset + limit; ++i) {
      const auto* m = all[i];
      nlohmann::json j = {{"type", "message"}, {"ts", m->ts}, {"text", m->request.value("text", "")}};
      if (withMeta && m->request.contains("metadata")) j["metadata"] = m->request["metadata"];
      list.push_back(j);
    }
    const bool more = offset + limit < all.size();
    nlohmann::json out = {{"messages", list}, {"has_more", more}};
    if (more) out["response_metadata"] = {{"next_cursor", "offset:" + std::to_string(offset + limit)}};
    return slackOk(out);
  }
  return slackError("unknown_method");
}

nlohmann::json blockActionsPayload(const PostedMessage& m, const std::string& user, const std::string& action_id) {
  std::string value, block_id;
  if (m.request.contains("blocks") && m.request["blocks"].is_array())
    for (const auto& b : m.request["blocks"])
      if (b.value("type", "") == "actions" && b.contains("elements"))
        for (const auto& e : b["elements"])
          if (e.value("action_id", "") == action_id) {
            value = e.value("value", "");
            block_id = b.value("block_id", "");
          }
  const nlohmann::json text = m.request.value("text", "");
  const nlohmann::json blocks = m.request.contains("blocks") ? m.request["blocks"] : nlohmann::json::array();
  return {{"type", "block_actions"},
          {"user", {{"id", user}, {"username", "u"}, {"name", "u"}, {"team_id", "T0SELLER"}}},
          {"api_app_id", "A0SAFETYNET"},
          {"token", "legacy-verification-token"},
          {"container", {{"type", "message"}, {"message_ts", m.ts}, {"channel_id", m.channel}, {"is_ephemeral", false}}},
          {"trigger_id", "1234.5678.abcd"},
          {"team", {{"id", "T0SELLER"}, {"domain", "seller"}}},
          {"enterprise", nullptr},
          {"is_enterprise_install", false},
          {"channel", {{"id", m.channel}, {"name", "directmessage"}}},
          {"message", {{"type", "message"}, {"ts", m.ts}, {"text", text}, {"blocks", blocks}}},
          {"state", {{"values", nlohmann::json::object()}}},
          {"response_url", "https://hooks.slack.com/actions/T0SELLER/1/abc"},
          {"actions", {{{"action_id", action_id}, {"block_id", block_id}, {"value", value}, {"type", "button"},
                        {"action_ts", "1700000000.000300"}, {"text", {{"type", "plain_text"}, {"text", "x"}}}}}}};
}

}  // namespace safetynet::fakes
