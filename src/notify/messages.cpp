#include "notify/messages.hpp"

#include "safetynet/core/email_json.hpp"
#include "safetynet/core/time_format.hpp"

namespace safetynet {

nlohmann::json notificationPayload(const EmailDecision& d, const ScheduledEmail& email, const EmailPeople& people,
                                   const Policy& policy, bool stopped, const std::string& outcome) {
  const ReasonDef* reason = policy.reason(d.reason);
  auto risky = nlohmann::json::array();
  for (const auto& r : d.recipients)
    if (r.value("verdict", "") == "revert") risky.push_back(r.value("address", ""));
  return {{"connector", email.connector},
          {"email_id", email.id},
          {"subject", email.subject},
          {"sender", email.sender},
          {"scheduled_at", formatIso8601(email.scheduled_at)},
          {"recipients", risky},
          {"contact_name", people.contact_name},
          {"reason", d.reason},
          {"reason_text", reason ? reason->description : d.reason},
          {"evidence", d.evidence},
          {"next_step", d.next_step},
          {"rep", toJson(people.rep)},
          {"stopped", stopped},
          {"outcome", outcome}};
}

nlohmann::json tooLatePayload(const EmailDecision& d, const ScheduledEmail& email, const Policy& policy,
                              const std::string& outcome) {
  // No rep: it goes to the admins' channel. The rep of the email is named in the text instead.
  nlohmann::json p = notificationPayload(d, email, EmailPeople{}, policy, false, outcome);
  p["type"] = "too_late";
  p["rep_name"] = email.user_name;
  return p;
}

namespace {
nlohmann::json mrkdwn(const std::string& text) { return {{"type", "mrkdwn"}, {"text", text}}; }

// Slack mrkdwn treats &, < and > specially.
std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '&') o += "&amp;";
    else if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else o += c;
  }
  return o;
}

// Slack shows <!date^EPOCH^...|fallback> in each reader's own time zone.
std::string slackDate(const std::string& iso) {
  auto t = parseIso8601(iso);
  if (!t) return iso;
  return "<!date^" + std::to_string(toMillis(*t) / 1000) + "^{date_short_pretty} at {time}|" + iso + ">";
}

std::string joined(const nlohmann::json& list) {
  std::string out;
  for (const auto& r : list) out += (out.empty() ? "" : ", ") + r.get<std::string>();
  return out;
}
}  // namespace

namespace {
// For the admins: a sending mailbox was paused by sender protection.
nlohmann::json senderPausedMessage(const nlohmann::json& p) {
  const std::string mailbox = p.value("mailbox", "");
  auto blocks = nlohmann::json::array();
  blocks.push_back({{"type", "header"}, {"text", {{"type", "plain_text"}, {"text", "Safety Net paused a sending mailbox"}}}});
  blocks.push_back({{"type", "section"},
                    {"fields",
                     {mrkdwn("*Mailbox:*\n" + esc(mailbox)), mrkdwn("*Until:*\n" + slackDate(p.value("until", ""))),
                      mrkdwn("*Reason:*\n`sender_paused`: the sending mailbox itself is at risk")}}});
  blocks.push_back({{"type", "section"}, {"text", mrkdwn("*Evidence:* " + esc(p.value("evidence", "")))}});
  blocks.push_back({{"type", "section"},
                    {"text", mrkdwn("*Next step:* review the mailbox's recent bounces (`safetynet suppressions`); every "
                                    "email it has scheduled is held until then. To resume early: `safetynet senders "
                                    "release " + esc(mailbox) + "`")}});
  return {{"text", "Paused mailbox " + mailbox + ": " + p.value("evidence", "")}, {"blocks", blocks}};
}
}  // namespace

namespace {
// For the admins: the fail-safe tripped, or our DNS is (no longer) distrusted.
nlohmann::json failsafeMessage(const nlohmann::json& p) {
  const std::string event = p.value("event", "");
  const std::string why = p.value("why", "");
  std::string title, next;
  if (event == "tripped") {
    title = "Safety Net's fail-safe is ON: risky emails are let go";
    next = "find out what broke (DNS, a list, the checks): `safetynet failsafe status`, `safetynet decisions "
           "--since 1h`. Holds from your own lists and the bounce history go on. When it is fixed: `safetynet "
           "failsafe resume`.";
  } else if (event == "dns_distrusted") {
    title = "Safety Net does not trust its DNS resolver";
    next = "check `dns.servers` and the resolver. Until the canaries resolve again, \"domain does not exist\" "
           "answers count as our failure (policy.on_internal_error), not as a reason to hold.";
  } else {
    title = "Safety Net trusts its DNS resolver again";
    next = "nothing to do.";
  }
  auto blocks = nlohmann::json::array();
  blocks.push_back({{"type", "header"}, {"text", {{"type", "plain_text"}, {"text", title}}}});
  blocks.push_back({{"type", "section"}, {"text", mrkdwn("*Why:* " + esc(why))}});
  blocks.push_back({{"type", "section"}, {"text", mrkdwn("*Next step:* " + esc(next))}});
  return {{"text", title + ": " + why}, {"blocks", blocks}};
}
}  // namespace

nlohmann::json slackMessage(const nlohmann::json& p) {
  if (p.value("type", "") == "sender_paused") return senderPausedMessage(p);
  if (p.value("type", "") == "failsafe") return failsafeMessage(p);
  const bool stopped = p.value("stopped", false);
  const std::string recipients = joined(p.value("recipients", nlohmann::json::array()));
  std::string to = recipients;
  if (!p.value("contact_name", "").empty()) to = p.value("contact_name", "") + " (" + recipients + ")";
  const bool recheck = p.value("recheck", false);
  const bool tooLate = p.value("type", "") == "too_late";
  const bool passes = recheck && p.value("reason", "").empty();
  const std::string title = tooLate ? "Safety Net saw a risky email too late to stop it"
                            : recheck ? (passes ? "Safety Net re-checked a held address: it now passes"
                                              : "Safety Net re-checked a held address: still risky")
                            : stopped ? "Safety Net moved an email back to drafts"
                                      : "Safety Net could not stop a risky email";
  const std::string reason =
      passes ? std::string("none: the checks pass") : "`" + p.value("reason", "") + "`: " + p.value("reason_text", "");
  auto blocks = nlohmann::json::array();
  blocks.push_back({{"type", "header"}, {"text", {{"type", "plain_text"}, {"text", title}}}});
  blocks.push_back({{"type", "section"},
                    {"fields",
                     {mrkdwn("*To:*\n" + esc(to)), mrkdwn("*Subject:*\n" + esc(p.value("subject", ""))),
                      mrkdwn("*Scheduled:*\n" + slackDate(p.value("scheduled_at", ""))), mrkdwn("*Reason:*\n" + esc(reason))}}});
  blocks.push_back({{"type", "section"}, {"text", mrkdwn("*Evidence:* " + esc(p.value("evidence", "")))}});
  const std::string nextStep =
      tooLate ? "it is probably sent by now: watch for its bounce or complaint. If this happens often, the "
                "platform's listing or the checks are slow: see the decision margin in `safetynet decisions`."
              : p.value("next_step", "");
  blocks.push_back({{"type", "section"}, {"text", mrkdwn("*Next step:* " + esc(nextStep))}});
  blocks.push_back({{"type", "context"},
                    {"elements",
                     {mrkdwn(esc(p.value("outcome", "")) + " · " + esc(p.value("connector", "")) + " email " +
                             esc(p.value("email_id", "")) + " from " + esc(p.value("sender", "")))}}});
  std::string text = tooLate ? "Too late to stop: \"" + p.value("subject", "") + "\" to " + recipients + " — " +
                                    p.value("reason", "") + " (" + p.value("outcome", "") + ")"
                     : recheck ? (passes ? "Re-checked, now passes: " : "Re-checked, still risky: ") + recipients +
                                   " (\"" + p.value("subject", "") + "\")"
                             : (stopped ? "Held: \"" : "NOT stopped: \"") + p.value("subject", "") + "\" to " +
                                   recipients + " — " + p.value("reason", "") + " (" + p.value("reason_text", "") + ")";
  return {{"text", text}, {"blocks", blocks}};
}

}  // namespace safetynet
