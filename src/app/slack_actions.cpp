#include "app/slack_actions.hpp"

#include <algorithm>

#include "admin/overrides.hpp"
#include "notify/messages.hpp"
#include "safetynet/core/email_json.hpp"
#include "safetynet/core/json_util.hpp"
#include "safetynet/core/logging.hpp"
#include "safetynet/core/text.hpp"
#include "safetynet/core/time_format.hpp"

namespace safetynet {

namespace {
std::shared_ptr<spdlog::logger> log() { return logger("slack"); }

// What each button does, by action_id.
struct ActionKind {
  const char* action_id;
  const char* action;  // in the store and the audit log
  const char* done;    // "Released" ...
};
constexpr ActionKind kKinds[] = {{kActionRelease, "release", "Released"},
                                 {kActionKeep, "keep", "Kept held"},
                                 {kActionKeepSuppress, "keep_suppress", "Kept held and suppressed"},
                                 {kActionReplace, "replace", ""}};

std::string platformName(const std::string& type) {
  std::string p = type;
  if (!p.empty()) p[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(p[0])));
  return p;
}

ConnectorPtr connectorNamed(const Services& s, const std::string& name) {
  for (const auto& k : s.connectors)
    if (k->name() == name) return k;
  return nullptr;
}

// The risky recipients of a decision: their addresses and reasons.
std::vector<std::pair<std::string, std::string>> riskyRecipients(const EmailDecision& d) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : d.recipients)
    if (jsonString(r, "verdict") == "revert") out.emplace_back(jsonString(r, "address"), jsonString(r, "reason"));
  return out;
}

// Argument objects are built outside the coroutines (g++ 12 and braced lists in them).
nlohmann::json userArgs(const std::string& user) { return {{"user", user}}; }
nlohmann::json ephemeralArgs(const std::string& channel, const std::string& user, const std::string& text) {
  return {{"channel", channel}, {"user", user}, {"text", text}};
}
nlohmann::json updateArgs(const std::string& channel, const std::string& ts, const std::string& text,
                          const nlohmann::json& blocks) {
  return {{"channel", channel}, {"ts", ts}, {"text", text}, {"blocks", blocks}};
}
}  // namespace

// One click, as the block_actions payload says it.
struct SlackActions::Click {
  const ActionKind* kind = nullptr;
  std::string decision, user, channel, ts;
  nlohmann::json blocks;  // the message as it was, to update
};

// The click as kept with its action (ActionRecord::detail), and back.
nlohmann::json SlackActions::clickJson(const Click& c) {
  return {{"user", c.user}, {"channel", c.channel}, {"ts", c.ts}, {"blocks", c.blocks}};
}

SlackActions::Click SlackActions::clickFromJson(const nlohmann::json& j) {
  Click c;
  if (!j.is_object()) return c;
  c.user = jsonString(j, "user");
  c.channel = jsonString(j, "channel");
  c.ts = jsonString(j, "ts");
  c.blocks = j.contains("blocks") ? j["blocks"] : nlohmann::json::array();
  return c;
}

SlackActions::SlackActions(asio::any_io_executor ex, Store& store, std::function<std::shared_ptr<Services>()> services,
                           SocketModeOptions socket)
    : store_(store), services_(std::move(services)) {
  slack_ = services_()->config.notify.slack;
  while (!slack_.base_url.empty() && slack_.base_url.back() == '/') slack_.base_url.pop_back();
  HttpClientOptions ho;
  ho.ca_file = slack_.ca_file;
  ho.user_agent = "safetynet (slack actions)";
  http_ = makeHttpClient(ex, ho);
  socket.base_url = slack_.base_url;
  socket.app_token = slack_.app_token;
  socket.websocket.ca_file = slack_.ca_file;
  client_ = std::make_unique<SocketModeClient>(ex, http_, socket, [this](std::string type, nlohmann::json payload) {
    return handle(std::move(type), std::move(payload));
  });
}

Task<void> SlackActions::run(bool resume_at_start) {
  // Actions a crash cut short are finished first (each of their steps is done once), then the link.
  if (resume_at_start) co_await resumeInterrupted();
  co_await client_->run();
}

void SlackActions::stop() { client_->stop(); }

Task<SlackReply> SlackActions::call(const std::string& method, const nlohmann::json& args) {
  SlackReply r = co_await slackCall(*http_, slack_.base_url, slack_.bot_token, method, args, true);
  co_return r;
}

Task<void> SlackActions::handle(std::string type, nlohmann::json payload) {
  if (type != "interactive" || jsonString(payload, "type") != "block_actions") {
    log()->debug("Socket Mode: {} envelope ignored", type);
    co_return;
  }
  const auto& container = jsonObject(payload, "container");
  const auto& message = jsonObject(payload, "message");
  const auto& actions = payload.contains("actions") && payload["actions"].is_array() ? payload["actions"] : nlohmann::json::array();
  for (const auto& a : actions) {
    Click c;
    for (const auto& k : kKinds)
      if (jsonString(a, "action_id") == k.action_id) c.kind = &k;
    if (!c.kind) continue;  // not one of ours
    c.decision = jsonString(a, "value");
    c.user = jsonString(jsonObject(payload, "user"), "id");
    c.channel = jsonString(container, "channel_id", jsonString(jsonObject(payload, "channel"), "id"));
    c.ts = jsonString(container, "message_ts", jsonString(message, "ts"));
    c.blocks = message.contains("blocks") ? message["blocks"] : nlohmann::json::array();
    co_await act(std::move(c));
  }
}

Task<std::string> SlackActions::whoClicked(const Click& c, std::string& error) {
  const std::string method = "users.info";
  const nlohmann::json args = userArgs(c.user);
  // A read method: GET with ?user= (docs.slack.dev: JSON bodies are for "most write methods"; a
  // JSON body to users.info is not read, and Slack answers user_not_found).
  SlackReply u = co_await slackCall(*http_, slack_.base_url, slack_.bot_token, method, args, false);
  const std::string email = asciiLower(jsonString(jsonObject(jsonObject(u.body, "user"), "profile"), "email"));
  if (!u.ok()) error = "users.info: " + u.error;
  else if (email.empty()) error = "Slack shows no email address for you (the app needs the users:read.email scope)";
  co_return email;
}

Task<void> SlackActions::tell(const Click& c, const std::string& text) {
  const std::string method = "chat.postEphemeral";
  const nlohmann::json args = ephemeralArgs(c.channel, c.user, text);
  SlackReply r = co_await call(method, args);
  if (!r.ok()) log()->warn("chat.postEphemeral to {}: {} (it said: {})", c.user, r.error, text);
}

Task<void> SlackActions::act(Click c) {
  std::shared_ptr<Services> s = services_();
  const std::string action = c.kind->action;
  auto d = store_.findDecision(c.decision);
  if (!d) {
    const std::string gone = "Safety Net has no record of this email any more (decisions are kept for retention.decisions).";
    co_await tell(c, gone);
    co_return;
  }
  ConnectorPtr connector = connectorNamed(*s, d->connector);
  const std::string platform = platformName(connector ? std::string(connector->type()) : d->connector);
  const auto risky = riskyRecipients(*d);
  if (action == "replace") {  // words only: what to do in the platform
    std::string addresses;
    for (const auto& [a, reason] : risky) addresses += (addresses.empty() ? "" : ", ") + a;
    const std::string how = "In " + platform + ", open the contact, put the person's primary work address on the email in place of " +
                             addresses + " (and remove that one from the contact), then schedule the email again.";
    co_await tell(c, how);
    co_return;
  }
  std::string error;
  const std::string who = co_await whoClicked(c, error);
  if (!error.empty()) {
    const std::string unknown = "Safety Net could not tell who you are, so nothing was done: " + error;
    co_await tell(c, unknown);
    co_return;
  }
  // The owner as the platform names it now, not as the message says.
  std::string owner;
  if (connector) {
    const ScheduledEmail email = emailFromJson(d->email);
    EmailPeople people = co_await connector->people(email);
    owner = asciiLower(people.rep.email);
  }
  const bool admin = std::find(s->config.admins.begin(), s->config.admins.end(), who) != s->config.admins.end();
  std::string refusal;
  if (!admin && (owner.empty() || owner != who))
    refusal = "Only the rep who owns this email" + (owner.empty() ? std::string() : " (" + owner + ")") +
              " or an admin may act on it.";
  if (refusal.empty() && action == "release" && !admin) {
    std::vector<std::string> reasons = {d->reason};
    for (const auto& [a, reason] : risky) reasons.push_back(reason);
    for (const auto& reason : reasons)
      if (!reason.empty() && !repMayRelease(reason)) {
        refusal = "This email is held as " + reason + ": only an admin may release it.";
        break;
      }
  }
  if (refusal.empty() && action == "release" && d->state != EmailState::Reverted)
    refusal = "There is nothing to release: this email is " + toString(d->state) + ", not held.";
  if (!refusal.empty()) {
    nlohmann::json detail;
    detail["by"] = "slack:" + who;
    detail["why"] = refusal;
    store_.audit(d->key, action + "_refused", detail);
    log()->info("{} of {} by {} refused: {}", action, d->key, who, refusal);
    co_await tell(c, refusal);
    co_return;
  }
  const std::string by = "slack:" + who;
  const std::string key = d->key + "|" + action;
  // The click is kept with the action: a crash before it is finished leaves what the next start
  // needs to finish it (resumeInterrupted).
  if (!store_.beginAction(ActionRecord{key, d->key, action, by, "", clickJson(c).dump(), {}, {}})) {
    auto before = store_.findAction(key);
    const std::string twice = std::string(c.kind->done) + " already by " + (before ? before->who : std::string("someone")) +
                              (before && before->state == "started" ? " (in progress)" : "") + ": nothing done twice.";
    co_await tell(c, twice);
    co_return;
  }
  co_await carryOut(c, *d, who, key);
}

Task<void> SlackActions::resumeInterrupted(std::optional<TimePoint> started_before) {
  for (const auto& a : store_.actionsInState("started")) {
    if (started_before && a.created >= *started_before) continue;  // maybe under way elsewhere
    auto d = store_.findDecision(a.decision_key);
    Click c = clickFromJson(nlohmann::json::parse(a.detail, nullptr, false));
    for (const auto& k : kKinds)
      if (a.action == k.action) c.kind = &k;
    const std::string who = a.who.rfind("slack:", 0) == 0 ? a.who.substr(6) : a.who;
    if (!d || !c.kind || c.user.empty()) {
      // Not enough left to finish it: said, never done blindly.
      nlohmann::json detail;
      detail["error"] = !d ? "the decision is gone" : "the click was not recorded with the action";
      store_.finishAction(a.key, "failed", detail);
      log()->error("{} of {} by {} was cut short by a restart and cannot be finished: {}; do it by hand", a.action,
                   a.decision_key, a.who, detail["error"].get<std::string>());
      continue;
    }
    nlohmann::json resumed;
    resumed["by"] = a.who;
    resumed["started"] = formatIso8601(a.created);
    store_.audit(d->key, a.action + "_resumed", resumed);
    log()->warn("{} of {} by {} was cut short by a restart: finishing it", a.action, d->key, a.who);
    co_await carryOut(c, *d, who, a.key);
  }
}

Task<void> SlackActions::carryOut(Click c, EmailDecision d, std::string who, std::string key) {
  std::shared_ptr<Services> s = services_();
  const std::string action = c.kind->action;
  const std::string by = "slack:" + who;
  ConnectorPtr connector = connectorNamed(*s, d.connector);
  const std::string platform = platformName(connector ? std::string(connector->type()) : d.connector);
  const auto risky = riskyRecipients(d);
  const TimePoint now = Clock::now();
  nlohmann::json detail = nlohmann::json::object();
  std::string outcome;  // for the message, in mrkdwn
  bool ok = true;
  if (action == "release") {
    auto overrides = nlohmann::json::array();
    std::string until;
    for (const auto& [address, reason] : risky) {
      // Finishing a release cut short by a crash: the override it already made stands (once).
      if (auto o = store_.activeOverride(admin::overrideAddress(address), now); o && o->who == by) {
        overrides.push_back(o->address);
        until = formatIso8601(o->until);
        continue;
      }
      admin::OverrideRequest r{address, admin::kOverrideDefault, "released from Slack (" + reason + ")", by};
      auto o = admin::addOverride(store_, r, now);
      if (auto* written = std::get_if<Override>(&o)) {
        overrides.push_back(written->address);
        until = formatIso8601(written->until);
      }
    }
    detail["overrides"] = overrides;
    // Back on schedule at its own time, or min_lead_time from now when that is too close or past.
    // The connector reads the email first: one already scheduled again is not written twice.
    const TimePoint at = std::max(d.scheduled_at, now + s->config.min_lead_time);
    RescheduleResult rs;
    std::string failure;
    if (connector) {
      try {
        const ScheduledEmail email = emailFromJson(d.email);
        rs = co_await connector->reschedule(email, at);
      } catch (const std::exception& e) {
        failure = e.what();
      }
    } else {
      failure = "the connector " + d.connector + " is not configured any more";
    }
    if (!failure.empty()) {
      rs.supported = true;
      rs.detail = failure;
    }
    detail["rescheduled"] = rs.done;
    detail["reschedule"] = rs.detail;
    ok = rs.done || !rs.supported;
    outcome = (overrides.empty() ? std::string() : "the address is allowed until " + slackTime(*parseIso8601(until)) + "; ") +
              (rs.done ? slackEscape(rs.detail)
               : rs.supported ? "could not put it back on schedule (" + slackEscape(rs.detail) + "): re-schedule it in " + platform
                              : "re-schedule it in " + platform + " (" + slackEscape(rs.detail) + ")");
  } else if (action == "keep_suppress") {
    auto suppressed = nlohmann::json::array();
    for (const auto& [address, reason] : risky) {
      const std::string a = admin::overrideAddress(address);
      if (a.empty()) continue;
      suppressed.push_back(a);
      if (auto st = store_.standing(a); st && st->state == "suppressed") continue;  // done before a crash
      admin::removeOverride(store_, a, by, now);  // a suppression and a release do not stand together
      store_.suppress(a, by, "kept held and suppressed from Slack by " + who, now);
    }
    detail["suppressed"] = suppressed;
    outcome = "Safety Net holds it from now on (`safetynet suppressions clear ADDRESS` lifts it)";
  } else {
    outcome = "it stays a draft";
  }
  const std::string text = std::string(c.kind->done) + " by <@" + c.user + "> " + slackTime(now) +
                           (outcome.empty() ? "" : ": " + outcome);
  const std::string update = "chat.update";
  const nlohmann::json updated = updateArgs(c.channel, c.ts, text, slackActedBlocks(c.blocks, text));
  SlackReply u = co_await call(update, updated);
  detail["message_updated"] = u.ok();
  if (!u.ok()) {
    detail["message_error"] = u.error;
    log()->warn("chat.update of {} in {}: {}", c.ts, c.channel, u.error);
    co_await tell(c, text);
  }
  store_.finishAction(key, ok ? "done" : "failed", detail);
  log()->info("{} {} by {}: {}", action, d.key, who, detail.dump());
}

}  // namespace safetynet
