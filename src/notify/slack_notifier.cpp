#include "notify/slack_notifier.hpp"

#include "notify/messages.hpp"
#include "notify/slack_api.hpp"
#include "safetynet/core/json_util.hpp"
#include "safetynet/core/logging.hpp"
#include "safetynet/net/url.hpp"

namespace safetynet {

namespace {
constexpr const char* kEventType = "safetynet_notification";

// Errors after which retrying the same call cannot succeed (the method pages' error tables of
// chat.postMessage and conversations.open, and Slack's common errors).
bool permanentError(const std::string& e) {
  for (const char* p : {"channel_not_found", "not_in_channel", "invalid_auth", "account_inactive", "token_revoked",
                        "token_expired", "is_archived", "missing_scope", "not_authed", "not_allowed_token_type",
                        "no_permission", "access_denied", "ekm_access_denied", "team_access_not_granted",
                        "enterprise_is_restricted", "restricted_action", "restricted_action_read_only_channel",
                        "restricted_action_thread_only_channel", "restricted_action_non_threadable_channel",
                        "invalid_blocks", "invalid_arguments", "invalid_metadata_format", "invalid_metadata_schema",
                        "metadata_too_large", "msg_too_long", "no_text", "too_many_attachments", "users_not_found",
                        "user_not_found", "user_not_visible", "user_disabled", "cannot_dm_bot", "deprecated_endpoint",
                        "method_deprecated"})
    if (e == p) return true;
  return false;
}

// Errors after which Slack may have carried the call out all the same: internal_error and
// fatal_error ("It's possible some aspect of the operation succeeded before the error was raised").
bool mayHaveSucceeded(const std::string& e) { return e == "internal_error" || e == "fatal_error"; }
// The argument objects are built outside the coroutines: g++ 12 miscompiles braced lists of
// string literals inside them ("array used as initializer").
nlohmann::json arg(const std::string& k, const std::string& v) { return {{k, v}}; }

nlohmann::json listArgs(const std::string& cursor) {
  nlohmann::json a = {{"types", "public_channel,private_channel"}, {"exclude_archived", "true"}, {"limit", "200"}};
  if (!cursor.empty()) a["cursor"] = cursor;
  return a;
}

nlohmann::json usersListArgs(const std::string& cursor) {
  nlohmann::json a = {{"limit", "200"}};
  if (!cursor.empty()) a["cursor"] = cursor;
  return a;
}

nlohmann::json historyArgs(const std::string& channel, const std::string& cursor) {
  nlohmann::json a = {{"channel", channel}, {"limit", "200"}, {"include_all_metadata", "true"}};
  if (!cursor.empty()) a["cursor"] = cursor;
  return a;
}

// How far back a post whose answer was lost is looked for: the admins' channel takes every alert,
// and a bulk hold posts hundreds, so more than the newest page; bounded, as each page is a
// Tier 3 call.
constexpr int kHistoryPages = 10;

// Who the rep is, in words: "Riley (riley@seller.example)".
std::string repLabel(const nlohmann::json& payload) {
  const auto& rep = jsonObject(payload, "rep");
  const std::string name = jsonString(rep, "name"), email = jsonString(rep, "email");
  std::string who = name.empty() ? jsonString(rep, "slack_username") : name;
  if (who.empty()) return email.empty() ? "the rep" : email;
  return email.empty() ? who : who + " (" + email + ")";
}

nlohmann::json postArgs(const std::string& destination, const std::string& dedupe_key, const nlohmann::json& payload,
                        bool actions) {
  nlohmann::json msg = slackMessage(payload);
  if (nlohmann::json buttons = actions ? slackActionsBlock(payload) : nullptr; !buttons.is_null())
    msg["blocks"].push_back(buttons);
  // Posted somewhere else than meant (the outbox's fallback): said first, in the text and the blocks.
  if (const std::string note = jsonString(payload, "delivery_note"); !note.empty()) {
    msg["text"] = slackEscape(note) + " " + jsonString(msg, "text");
    nlohmann::json element = {{"type", "plain_text"}, {"text", note}};  // plain: names need no escaping
    nlohmann::json block = {{"type", "context"}, {"elements", nlohmann::json::array({element})}};
    if (msg.contains("blocks") && msg["blocks"].is_array()) msg["blocks"].insert(msg["blocks"].begin(), block);
  }
  msg["channel"] = destination;
  msg["unfurl_links"] = false;
  msg["metadata"] = {{"event_type", kEventType}, {"event_payload", {{"dedupe_key", dedupe_key}}}};
  return msg;
}
}  // namespace

SlackNotifier::SlackNotifier(SlackConfig config, HttpClientPtr http) : config_(std::move(config)), http_(std::move(http)) {
  while (!config_.base_url.empty() && config_.base_url.back() == '/') config_.base_url.pop_back();
}

Task<SlackNotifier::Reply> SlackNotifier::call(const std::string& method, const nlohmann::json& args, bool post) {
  co_return co_await slackCall(*http_, config_.base_url, config_.bot_token, method, args, post);
}

Task<SlackNotifier::UserLookup> SlackNotifier::userIdByName(const std::string& username) {
  // Slack has no lookup by username: list the workspace's members, at most once an hour (a
  // listing that failed is no listing: the next try lists again).
  UserLookup out;
  if (!userIds_.count(username) && Clock::now() - usersListedAt_ > std::chrono::hours(1)) {
    std::string cursor;
    do {
      Reply r = co_await call("users.list", usersListArgs(cursor), false);
      if (!r.ok()) {
        logger("slack")->warn("users.list failed: {}", r.error);
        out.error = r.error;
        break;
      }
      if (r.body.contains("members") && r.body["members"].is_array())
        for (const auto& m : r.body["members"]) {
          if (jsonBool(m, "deleted")) continue;
          const std::string id = jsonString(m, "id");
          if (auto name = jsonString(m, "name"); !name.empty()) userIds_[name] = id;
          if (auto shown = jsonString(jsonObject(m, "profile"), "display_name"); !shown.empty()) userIds_.emplace(shown, id);
        }
      cursor = jsonString(jsonObject(r.body, "response_metadata"), "next_cursor");
    } while (!cursor.empty());
    if (out.error.empty() || permanentError(out.error)) usersListedAt_ = Clock::now();
  }
  if (auto it = userIds_.find(username); it != userIds_.end()) {
    out.id = it->second;
    out.error.clear();
  }
  co_return out;
}

Task<Target> SlackNotifier::openDm(const std::string& user_id) {
  Target t;
  Reply open = co_await call("conversations.open", arg("users", user_id), true);
  t.destination = open.ok() ? jsonString(jsonObject(open.body, "channel"), "id") : "";
  if (t.destination.empty()) {
    t.error = "conversations.open: " + (open.ok() ? std::string("no channel in the answer") : open.error);
    t.permanent = permanentError(open.error);
  }
  co_return t;
}

Task<Target> SlackNotifier::repDm(const nlohmann::json& payload) {
  const std::string repEmail = jsonString(jsonObject(payload, "rep"), "email");
  const std::string repSlack = jsonString(jsonObject(payload, "rep"), "slack_username");
  if (!repSlack.empty()) {
    // The platform knows the rep's Slack name (Salesloft): that is who gets the DM.
    UserLookup user = co_await userIdByName(repSlack);
    if (!user.error.empty() && !permanentError(user.error)) {
      Target t;
      t.error = "users.list: " + user.error;
      co_return t;
    }
    if (!user.id.empty()) {
      Target dm = co_await openDm(user.id);
      if (!dm.destination.empty() || !dm.permanent) co_return dm;
      logger("slack")->warn("cannot open a DM with {}: {}; trying the rep's email", repSlack, dm.error);
    } else {
      logger("slack")->warn("no Slack user named {}; trying the rep's email", repSlack);
    }
  }
  Target t;
  if (repEmail.empty()) {
    t.error = "no Slack user named " + repSlack;
    t.permanent = true;
    co_return t;
  }
  Reply u = co_await call("users.lookupByEmail", arg("email", repEmail), false);
  if (!u.ok()) {
    t.error = "users.lookupByEmail: " + u.error;
    t.permanent = permanentError(u.error);  // users_not_found: the rep has no Slack account
    co_return t;
  }
  co_return co_await openDm(jsonString(jsonObject(u.body, "user"), "id"));
}

Task<Target> SlackNotifier::resolveTarget(const nlohmann::json& payload) {
  const auto& rep = jsonObject(payload, "rep");
  bool noUser = false;
  if (config_.dm_rep && (!jsonString(rep, "email").empty() || !jsonString(rep, "slack_username").empty())) {
    Target dm = co_await repDm(payload);
    if (!dm.destination.empty()) co_return dm;
    if (!dm.permanent) {
      // Slack failed for now (5xx, timeout, rate limit): the outbox tries the DM again later, and
      // only after its retry budget is the channel used, the message saying why.
      if (!config_.channel.empty()) {
        Target channel = co_await channelId();
        dm.fallback = channel.destination;
        dm.fallback_note = "Could not reach " + repLabel(payload) + " by DM (" + dm.error + "), so this is posted here.";
      }
      co_return dm;
    }
    logger("slack")->warn("no DM for the rep ({}): {}", dm.error,
                          config_.channel.empty() ? "and no channel configured" : "posting to the channel");
    noUser = true;
  }
  if (config_.channel.empty()) {
    Target t;
    t.error = "no Slack user for the rep and no channel configured";
    t.permanent = true;
    t.no_user = noUser;
    co_return t;
  }
  Target channel = co_await channelId();
  channel.no_user = noUser;
  co_return channel;
}

Task<Target> SlackNotifier::channelId() {
  Target t;
  if (!channelId_.empty()) {
    t.destination = channelId_;
    co_return t;
  }
  const std::string& c = config_.channel;
  if (c.front() != '#') {  // already an ID (C…, G…)
    channelId_ = c;
    t.destination = c;
    co_return t;
  }
  const std::string name = c.substr(1);
  std::string cursor;
  do {
    Reply r = co_await call("conversations.list", listArgs(cursor), false);
    if (!r.ok()) {
      t.error = "conversations.list: " + r.error;
      t.permanent = permanentError(r.error);
      co_return t;
    }
    if (r.body.contains("channels") && r.body["channels"].is_array())
      for (const auto& ch : r.body["channels"])
        if (jsonString(ch, "name") == name) {
          channelId_ = jsonString(ch, "id");
          t.destination = channelId_;
          co_return t;
        }
    cursor = jsonString(jsonObject(r.body, "response_metadata"), "next_cursor");
  } while (!cursor.empty());
  t.error = "channel " + c + " not found (is the bot a member?)";
  t.permanent = true;
  co_return t;
}

Task<std::optional<std::string>> SlackNotifier::findDelivered(const std::string& destination,
                                                              const std::string& dedupe_key) {
  std::string cursor;
  for (int page = 0; page < kHistoryPages; ++page) {
    Reply h = co_await call("conversations.history", historyArgs(destination, cursor), false);
    if (!h.ok()) throw std::runtime_error("conversations.history: " + h.error);
    if (h.body.contains("messages") && h.body["messages"].is_array()) {
      for (const auto& m : h.body["messages"]) {
        const auto& md = jsonObject(m, "metadata");
        if (jsonString(md, "event_type") == kEventType &&
            jsonString(jsonObject(md, "event_payload"), "dedupe_key") == dedupe_key)
          co_return destination + "/" + jsonString(m, "ts");
      }
    }
    cursor = jsonString(jsonObject(h.body, "response_metadata"), "next_cursor");
    if (cursor.empty() || !jsonBool(h.body, "has_more")) break;
  }
  co_return std::nullopt;
}

Task<DeliveryResult> SlackNotifier::post(const std::string& destination, const std::string& dedupe_key,
                                         const nlohmann::json& payload) {
  Reply r = co_await call("chat.postMessage", postArgs(destination, dedupe_key, payload, config_.actions), true);
  DeliveryResult d;
  if (r.ok()) {
    d.delivered = true;
    d.ref = jsonString(r.body, "channel", destination) + "/" + jsonString(r.body, "ts");
  } else {
    d.error = r.error;
    d.permanent_failure = permanentError(r.error);
    d.retry_after = r.retry_after;
    // No answer, a 5xx, or a 200 that could not be read (cut short): Slack may have posted it, so
    // the outbox looks for it before posting again. Only an answer Slack wrote says it did not.
    d.outcome_unknown = r.transport || r.http_status >= 500 || (r.http_status == 200 && !r.body.is_object()) ||
                        mayHaveSucceeded(r.error);
  }
  co_return d;
}

}  // namespace safetynet
