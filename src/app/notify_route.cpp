// Where notifications go (notify.route), and the admins' daily digest. A notification made while
// email is configured is one "route" row; drainOutbox splits it, in one transaction, into a row
// per notifier, each then delivered (and retried, and recovered after a crash) on its own.
#include <map>

#include "notify/messages.hpp"
#include "safetynet/app/app.hpp"
#include "safetynet/core/json_util.hpp"
#include "safetynet/core/time_format.hpp"

namespace safetynet {

namespace {
OutboxMessage row(const std::string& key, const std::string& kind, nlohmann::json payload) {
  OutboxMessage m;
  m.dedupe_key = key;
  m.kind = kind;
  m.payload = std::move(payload);
  return m;
}

// A held email that could not be stopped: the rep is told, and the admins should know too.
bool notStopped(const nlohmann::json& p) {
  return jsonString(p, "type").empty() && !jsonBool(p, "recheck") && p.contains("stopped") && !jsonBool(p, "stopped");
}
}  // namespace

OutboxMessage outboxNote(const Services& s, const std::string& dedupe_key, nlohmann::json payload) {
  return outboxNote(s.config, dedupe_key, std::move(payload));
}

OutboxMessage outboxNote(const Config& config, const std::string& dedupe_key, nlohmann::json payload) {
  return row(dedupe_key, config.notify.email.enabled ? "route" : "slack", std::move(payload));
}

std::vector<OutboxMessage> routeNotification(const Services& s, const OutboxMessage& m, TimePoint now) {
  const bool slack = s.notifiers.count("slack") > 0, email = s.notifiers.count("email") > 0;
  const bool admins = !s.config.notify.email.admin_to.empty();
  nlohmann::json p = m.payload;
  p["queued_at"] = formatIso8601(now);  // the email's Date: the same on every try
  std::vector<OutboxMessage> out;
  auto add = [&](const std::string& kind, const std::string& audience, nlohmann::json extra) {
    nlohmann::json q = p;
    if (!audience.empty()) q["audience"] = audience;
    for (auto it = extra.begin(); it != extra.end(); ++it) q[it.key()] = it.value();
    out.push_back(row(m.dedupe_key + "|" + kind + (audience == "admin" && !isAdminPayload(p) ? "-admin" : ""), kind, q));
  };
  if (isAdminPayload(p)) {
    if (slack) add("slack", "", nlohmann::json::object());
    if (email && admins) add("email", "admin", nlohmann::json::object());
    return out;
  }
  const std::string& route = s.config.notify.route;
  if (slack && (route == "slack" || route == "both" || route == "slack_then_email"))
    add("slack", "", route == "slack_then_email" && email ? nlohmann::json{{"then_email", true}} : nlohmann::json::object());
  if (email && (route == "email" || route == "both")) add("email", "rep", nlohmann::json::object());
  if (out.empty()) {  // the route's notifier is gone (a reload): whichever is left, never nothing
    if (slack) add("slack", "", nlohmann::json::object());
    else if (email) add("email", "rep", nlohmann::json::object());
  }
  if (email && admins && notStopped(p)) add("email", "admin", nlohmann::json::object());
  return out;
}

OutboxMessage emailInstead(const OutboxMessage& m) {
  nlohmann::json p = m.payload;
  p.erase("then_email");
  p["audience"] = "rep";
  return row(m.dedupe_key + ">email", "email", std::move(p));
}

std::optional<OutboxMessage> otherwiseInstead(const Services& s, const OutboxMessage& m, const std::string& error) {
  const std::string other = m.kind == "slack" ? "email" : m.kind == "email" ? "slack" : "";
  if (other.empty() || !s.notifiers.count(other) || m.payload.contains("instead_of")) return std::nullopt;
  nlohmann::json p = m.payload;
  p.erase("then_email");
  p["instead_of"] = m.kind;
  if (other == "email") {
    if (!isAdminPayload(p) && jsonString(p, "audience").empty()) p["audience"] = "rep";  // admin_to when no address
  } else {
    p.erase("audience");
    p["delivery_note"] = "Could not send this by " + m.kind + " (" + error + "), so it is posted here.";
  }
  return row(m.dedupe_key + ">" + other, other, std::move(p));
}

std::optional<OutboxMessage> undeliveredNotice(const Services& s, const OutboxMessage& m, const std::string& destination,
                                               const std::string& error) {
  if (m.kind != "email" || jsonString(m.payload, "type") == "email_failed") return std::nullopt;  // no loops
  nlohmann::json p = {{"type", "email_failed"},
                      {"to", destination},
                      {"about", messageContent(m.payload).text},
                      {"error", error}};
  if (s.notifiers.count("slack")) return row(m.dedupe_key + "|undelivered", "slack", p);
  std::string admins;
  for (const auto& a : s.config.notify.email.admin_to) admins += (admins.empty() ? "" : ", ") + a;
  if (admins.empty() || admins == destination) return std::nullopt;  // nobody else to tell
  p["audience"] = "admin";
  return row(m.dedupe_key + "|undelivered", "email", p);
}

nlohmann::json digestPayload(Store& store, TimePoint now) {
  const TimePoint since = now - std::chrono::hours(24);
  nlohmann::json byReason = nlohmann::json::object(), byRep = nlohmann::json::object(),
                 byConnector = nlohmann::json::object(), notStopped = nlohmann::json::array();
  int decided = 0, held = 0, shadowed = 0;
  auto bump = [](nlohmann::json& m, const std::string& k) { m[k.empty() ? "(unknown)" : k] = m.value(k.empty() ? "(unknown)" : k, 0) + 1; };
  for (const auto& d : store.decisionsSince(since)) {
    if (supersededStop(d)) continue;  // the rep changed the email: counted once, as its new version
    ++decided;
    if (d.verdict != "revert") continue;
    bump(byReason, d.reason);
    const std::string rep = jsonString(d.rep, "name").empty() ? jsonString(d.rep, "email") : jsonString(d.rep, "name");
    bump(byRep, rep);
    bump(byConnector, d.connector);
    if (d.state == EmailState::Reverted) ++held;
    if (d.state == EmailState::Shadow) ++shadowed;  // counted by reason too: what enforcing would hold
    if (d.state == EmailState::RevertFailed || d.state == EmailState::TooLate) {
      std::string to;
      for (const auto& r : d.recipients)
        if (r.value("verdict", "") == "revert") to += (to.empty() ? "" : ", ") + r.value("address", "");
      notStopped.push_back({{"what", "\"" + d.subject + "\" to " + to + " (" + d.connector + ", " + d.reason + ", " +
                                         toString(d.state) + ")"}});
    }
  }
  nlohmann::json paused = nlohmann::json::array();
  for (const auto& st : store.senders())
    if (st.state == "paused" && st.until && *st.until > now)
      paused.push_back({{"mailbox", st.mailbox}, {"until", formatIso8601(*st.until)}});
  return {{"type", "digest"},
          {"since", formatIso8601(since)},
          {"decided", decided},
          {"held", held},
          {"shadowed", shadowed},
          {"by_reason", byReason},
          {"by_rep", byRep},
          {"by_connector", byConnector},
          {"not_stopped", notStopped},
          {"not_stopped_count", notStopped.size()},
          {"paused_senders", paused},
          {"audience", "admin"},
          {"queued_at", formatIso8601(now)}};
}

bool queueDigestIfDue(const Services& s, Store& store, TimePoint now) {
  const auto& e = s.config.notify.email;
  if (!e.enabled || e.digest != "daily" || e.admin_to.empty()) return false;
  const auto last = store.lastDigestAt();
  // A last digest more than an hour ahead was recorded by a clock that ran ahead, since corrected:
  // counted as today's, it would stop every digest until real time passed it by a day.
  const bool fromAWrongClock = last && *last - now > std::chrono::hours(1);
  if (last && !fromAWrongClock && now - *last < std::chrono::hours(24)) return false;
  store.enqueueDigest(row("digest|" + formatIso8601(now), "email", digestPayload(store, now)), now);
  return true;
}

}  // namespace safetynet
