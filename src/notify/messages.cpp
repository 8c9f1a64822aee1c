#include "notify/messages.hpp"

#include <cstdio>

#include "safetynet/core/email_json.hpp"
#include "safetynet/core/text.hpp"
#include "safetynet/core/time_format.hpp"

namespace safetynet {

nlohmann::json notificationPayload(const EmailDecision& d, const ScheduledEmail& email, const EmailPeople& people,
                                   const Policy& policy, bool stopped, const std::string& outcome) {
  const ReasonDef* reason = policy.reason(d.reason);
  auto risky = nlohmann::json::array();
  for (const auto& r : d.recipients)
    if (r.value("verdict", "") == "revert") risky.push_back(r.value("address", ""));
  return {{"connector", email.connector},
          {"decision", d.key},  // what the Slack buttons act on
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
  for (const auto& r : list)
    if (r.is_string()) out += (out.empty() ? "" : ", ") + r.get<std::string>();
  return out;
}

MessageField field(std::string label, std::string value, std::string code = "", bool date = false) {
  return MessageField{std::move(label), std::move(value), std::move(code), date};
}

// For the admins: a sending mailbox was paused by sender protection.
MessageContent senderPausedContent(const nlohmann::json& p) {
  const std::string mailbox = p.value("mailbox", "");
  MessageContent c;
  c.title = "Safety Net paused a sending mailbox";
  c.fields = {field("Mailbox", mailbox), field("Until", p.value("until", ""), "", true),
              field("Reason", "the sending mailbox itself is at risk", "sender_paused")};
  c.sections = {field("Evidence", p.value("evidence", "")),
                field("Next step", "review the mailbox's recent bounces (`safetynet suppressions`); every email it has "
                                   "scheduled is held until then. To resume early: `safetynet senders release " +
                                       mailbox + "`")};
  c.text = "Paused mailbox " + mailbox + ": " + p.value("evidence", "");
  return c;
}

// For the admins: many addresses at one domain bounced as unknown at once (bounces.incident_after).
// 5 as "5", 2.5 as "2.5".
std::string formatRatio(double r) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", r);
  return buf;
}

MessageContent bounceIncidentContent(const nlohmann::json& p) {
  const std::string domain = p.value("domain", "");
  const std::string provider = p.value("provider", "");
  const std::string site = p.value("site", "");
  const int addresses = p.value("addresses", 0);
  const int domains = p.value("domains", 0);
  // At one domain, at a provider hosting many (bounces.provider_incident_ratio), or at a relay
  // that answered for many.
  const std::string place = !site.empty()       ? site + " (answering for " + std::to_string(domains) + " domains)"
                            : provider.empty() ? domain
                                               : provider + " (" + std::to_string(domains) + " of the domains whose mail it runs)";
  MessageContent c;
  c.title = std::string("Safety Net suspects ") + (site.empty() ? "a mail provider's" : "a relay's") + " incident at " + place;
  if (!site.empty())
    c.fields = {field("Relay", site), field("Domains", std::to_string(domains)), field("Addresses", std::to_string(addresses)),
                field("Since", p.value("since", ""), "", true)};
  else if (provider.empty())
    c.fields = {field("Domain", domain), field("Addresses", std::to_string(addresses)),
                field("Since", p.value("since", ""), "", true)};
  else
    c.fields = {field("Provider", provider), field("Domains", std::to_string(domains)),
                field("Addresses", std::to_string(addresses)), field("Since", p.value("since", ""), "", true)};
  const std::string window = std::to_string(p.value("window_minutes", 0));
  const std::string after = std::to_string(p.value("incident_after", 0));
  const std::string why =
      !site.empty()
          ? std::to_string(addresses) + " different addresses at " + std::to_string(domains) +
                " domains bounced as unknown (no such user) within " + window + " min, each answered by a host under " + site +
                ", not the recipient's own: at least " + std::to_string(p.value("threshold", 0)) +
                (p.value("usual", 0) > 0 ? " (" + formatRatio(p.value("ratio", 0.0)) +
                                               " times, bounces.provider_incident_ratio, its usual count of " +
                                               std::to_string(p.value("usual", 0)) + " in a window over the last week)"
                                         : " (bounces.incident_after), where the domain check knows it is none of their mail hosts") +
                ". A relay between us and the recipients (an outbound smarthost, a filtering gateway) that refuses every "
                "address looks like this; the recipients' own refusals, passed on, come one company at a time."
      : provider.empty()
          ? std::to_string(addresses) + " different addresses at " + domain + " bounced as unknown (no such user) within " +
                window + " min, at least bounces.incident_after (" + after +
                "). A provider that refuses live mailboxes for a while looks like this; so does a list of dead addresses at "
                "one company."
          : std::to_string(addresses) + " different addresses at " + std::to_string(domains) + " of the domains whose mail " +
                provider + " runs bounced as unknown (no such user) within " + window + " min: at least " +
                std::to_string(p.value("threshold", 0)) + ", bounces.incident_after (" + after + ") and " +
                formatRatio(p.value("ratio", 0.0)) + " times (bounces.provider_incident_ratio) the usual count there, " +
                std::to_string(p.value("usual", 0)) +
                " in a window with such bounces over the last week. A provider that refuses live mailboxes for a while "
                "looks like this; so does an old list sent at once.";
  std::string earlier;
  int listed = 0;
  const auto rewritten = p.value("rewritten", nlohmann::json::array());
  for (const auto& a : rewritten)
    if (a.is_string() && listed++ < 20) earlier += (earlier.empty() ? "" : ", ") + a.get<std::string>();
  if (listed > 20) earlier += " and " + std::to_string(listed - 20) + " more";
  c.sections = {field("Evidence", why),
                field("No longer suppressed", earlier.empty() ? "none" : earlier),
                field("Next step", "while it lasts, these bounces suppress nobody on their own: an address that "
                                   "bounces as unknown again afterwards is suppressed then. If the contacts are "
                                   "really gone (an old list), remove them on the platform.")};
  c.text = "Suspected incident at " + place + ": " + why;
  return c;
}

// For the admins: the fail-safe tripped, or our DNS is (no longer) distrusted.
MessageContent failsafeContent(const nlohmann::json& p) {
  const std::string event = p.value("event", "");
  const std::string why = p.value("why", "");
  MessageContent c;
  std::string next;
  if (event == "tripped") {
    c.title = "Safety Net's fail-safe is ON: risky emails are let go";
    next = "find out what broke (DNS, a list, the checks): `safetynet failsafe status`, `safetynet decisions "
           "--since 1h`. Holds from your own lists and the bounce history go on. When it is fixed: `safetynet "
           "failsafe resume`.";
  } else if (event == "dns_distrusted") {
    c.title = "Safety Net does not trust its DNS resolver";
    next = "check `dns.servers` and the resolver. Until the canaries resolve again, \"domain does not exist\" "
           "answers count as our failure (policy.on_internal_error), not as a reason to hold.";
  } else {
    c.title = "Safety Net trusts its DNS resolver again";
    next = "nothing to do.";
  }
  c.sections = {field("Why", why), field("Next step", next)};
  c.text = c.title + ": " + why;
  return c;
}

// For the admins: an email alert that the mail server refused for good (a 5xx to RCPT).
MessageContent emailFailedContent(const nlohmann::json& p) {
  MessageContent c;
  c.title = "Safety Net could not email an alert";
  c.fields = {field("To", p.value("to", "")), field("About", p.value("about", ""))};
  c.sections = {field("Error", p.value("error", "")),
                field("Next step", "check the address (the rep's address on the platform, or notify.email.admin_to); "
                                   "the alert itself: `safetynet decisions --since 24h`.")};
  c.text = "Could not email " + p.value("to", "") + ": " + p.value("error", "");
  return c;
}

// "bounce_risk 3, unknown 1" from {"bounce_risk": 3, "unknown": 1}.
std::string counts(const nlohmann::json& m) {
  std::string out;
  if (m.is_object())
    for (auto it = m.begin(); it != m.end(); ++it)
      out += (out.empty() ? "" : ", ") + it.key() + " " + it->dump();
  return out.empty() ? "none" : out;
}

// For the admins, once a day: what was held and what could not be stopped.
MessageContent digestContent(const nlohmann::json& p) {
  MessageContent c;
  const int held = p.value("held", 0);
  c.title = "Safety Net: the last 24 hours";
  c.fields = {field("Held", std::to_string(held)), field("Decided", std::to_string(p.value("decided", 0))),
              field("Not stopped", std::to_string(p.value("not_stopped_count", 0))),
              field("Since", p.value("since", ""), "", true)};
  if (const int shadowed = p.value("shadowed", 0); shadowed > 0)
    c.fields.insert(c.fields.begin() + 1, field("Would have been held (shadow mode)", std::to_string(shadowed)));
  c.sections = {field("By reason", counts(p.value("by_reason", nlohmann::json::object()))),
                field("By rep", counts(p.value("by_rep", nlohmann::json::object()))),
                field("By connector", counts(p.value("by_connector", nlohmann::json::object())))};
  std::string notStopped;
  for (const auto& e : p.value("not_stopped", nlohmann::json::array()))
    notStopped += (notStopped.empty() ? "" : "; ") + e.value("what", "");
  c.sections.push_back(field("Could not be stopped", notStopped.empty() ? "none" : notStopped));
  std::string paused;
  for (const auto& e : p.value("paused_senders", nlohmann::json::array()))
    paused += (paused.empty() ? "" : "; ") + e.value("mailbox", "") + " until " + e.value("until", "");
  c.sections.push_back(field("Paused senders", paused.empty() ? "none" : paused));
  c.sections.push_back(field("Next step", "details: `safetynet decisions --since 24h`, `safetynet senders`."));
  c.text = "Safety Net digest: " + std::to_string(held) + " held, " + std::to_string(p.value("not_stopped_count", 0)) +
           " not stopped in the last 24 hours";
  return c;
}

// A held email (or one not stopped, seen too late, or re-checked).
MessageContent emailContent(const nlohmann::json& p) {
  const bool stopped = p.value("stopped", false);
  const std::string recipients = joined(p.value("recipients", nlohmann::json::array()));
  std::string to = recipients;
  if (!p.value("contact_name", "").empty()) to = p.value("contact_name", "") + " (" + recipients + ")";
  const bool recheck = p.value("recheck", false);
  const bool tooLate = p.value("type", "") == "too_late";
  const bool passes = recheck && p.value("reason", "").empty();
  MessageContent c;
  c.title = tooLate ? "Safety Net saw a risky email too late to stop it"
            : recheck ? (passes ? "Safety Net re-checked a held address: it now passes"
                                : "Safety Net re-checked a held address: still risky")
            : stopped ? "Safety Net moved an email back to drafts"
                      : "Safety Net could not stop a risky email";
  MessageField reason = passes ? field("Reason", "none: the checks pass")
                               : field("Reason", p.value("reason_text", ""), p.value("reason", ""));
  c.fields = {field("To", to), field("Subject", p.value("subject", "")),
              field("Scheduled", p.value("scheduled_at", ""), "", true), reason};
  const std::string nextStep =
      tooLate ? "it is probably sent by now: watch for its bounce or complaint. If this happens often, the "
                "platform's listing or the checks are slow: see the decision margin in `safetynet decisions`."
              : p.value("next_step", "");
  c.sections = {field("Evidence", p.value("evidence", "")), field("Next step", nextStep)};
  c.context = p.value("outcome", "") + " · " + p.value("connector", "") + " email " + p.value("email_id", "") +
              " from " + p.value("sender", "");
  c.text = tooLate ? "Too late to stop: \"" + p.value("subject", "") + "\" to " + recipients + " — " +
                         p.value("reason", "") + " (" + p.value("outcome", "") + ")"
           : recheck ? (passes ? "Re-checked, now passes: " : "Re-checked, still risky: ") + recipients + " (\"" +
                           p.value("subject", "") + "\")"
                     : (stopped ? "Held: \"" : "NOT stopped: \"") + p.value("subject", "") + "\" to " + recipients +
                           " — " + p.value("reason", "") + " (" + p.value("reason_text", "") + ")";
  return c;
}

std::string slackValue(const MessageField& f) {
  if (f.date) return slackDate(f.value);
  return esc(f.code.empty() ? f.value : "`" + f.code + "`: " + f.value);
}
}  // namespace

bool isAdminPayload(const nlohmann::json& p) {
  static const char* const kAdmin[] = {"too_late", "sender_paused", "failsafe", "email_failed", "digest", "bounce_incident"};
  const std::string type = p.value("type", "");
  for (const char* t : kAdmin)
    if (type == t) return true;
  return false;
}

MessageContent messageContent(const nlohmann::json& p) {
  const std::string type = p.value("type", "");
  if (type == "sender_paused") return senderPausedContent(p);
  if (type == "failsafe") return failsafeContent(p);
  if (type == "bounce_incident") return bounceIncidentContent(p);
  if (type == "email_failed") return emailFailedContent(p);
  if (type == "digest") return digestContent(p);
  return emailContent(p);
}

nlohmann::json slackActionsBlock(const nlohmann::json& p) {
  const std::string decision = p.value("decision", "");
  if (decision.empty() || !p.value("type", "").empty() || p.value("recheck", false) || !p.value("stopped", false))
    return nullptr;  // only an email held now, by a decision the buttons can name
  auto button = [&](const std::string& id, const std::string& text, const std::string& style) {
    nlohmann::json b = {{"type", "button"}, {"action_id", id}, {"value", decision},
                        {"text", {{"type", "plain_text"}, {"text", text}}}};
    if (!style.empty()) b["style"] = style;
    return b;
  };
  nlohmann::json release = button(kActionRelease, "Release and send", "primary");
  release["confirm"] = {{"title", {{"type", "plain_text"}, {"text", "Send it anyway?"}}},
                        {"text", {{"type", "mrkdwn"}, {"text", esc("The address is allowed for 30 days and the email is put back on schedule where the platform allows it. This is recorded with your name.")}}},
                        {"confirm", {{"type", "plain_text"}, {"text", "Release and send"}}},
                        {"deny", {{"type", "plain_text"}, {"text", "Cancel"}}}};
  auto elements = nlohmann::json::array({release, button(kActionKeep, "Keep held", ""),
                                         button(kActionKeepSuppress, "Keep held and suppress", "danger")});
  if (p.value("reason", "") == "secondary_email") elements.push_back(button(kActionReplace, "Replace address", ""));
  return {{"type", "actions"}, {"block_id", kActionsBlockId}, {"elements", elements}};
}

std::string slackTime(TimePoint t) { return slackDate(formatIso8601(t)); }

std::string slackEscape(const std::string& text) { return esc(text); }

// Block Kit refuses a whole message whose text objects are too long (invalid_blocks): a section's
// text holds 3000 characters, a field 2000, a header 150 (docs.slack.dev/reference/block-kit).
// Cut in bytes (never more characters than that), at a UTF-8 boundary and never inside an escape
// ("&amp;") or a "<...>" token, ending with an ellipsis. The full text stays in the decision.
static std::string clipped(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  const std::string ellipsis = "\u2026";
  std::string kept = utf8Prefix(text, max_bytes - ellipsis.size());
  for (auto [open, close] : {std::pair{'&', ';'}, std::pair{'<', '>'}})
    if (auto at = kept.rfind(open); at != std::string::npos && kept.find(close, at) == std::string::npos) kept.resize(at);
  return kept + ellipsis;
}

nlohmann::json slackActedBlocks(const nlohmann::json& blocks, const std::string& mrkdwnText) {
  auto out = nlohmann::json::array();
  if (blocks.is_array())
    for (const auto& b : blocks)
      if (!b.is_object() || b.value("block_id", "") != kActionsBlockId) out.push_back(b);
  out.push_back({{"type", "section"}, {"block_id", "safetynet_outcome"}, {"text", mrkdwn(clipped(mrkdwnText, 3000))}});
  return out;
}

nlohmann::json slackMessage(const nlohmann::json& p) {
  const MessageContent c = messageContent(p);
  auto blocks = nlohmann::json::array();
  blocks.push_back({{"type", "header"}, {"text", {{"type", "plain_text"}, {"text", clipped(c.title, 150)}}}});
  if (!c.fields.empty()) {
    auto fields = nlohmann::json::array();
    for (const auto& f : c.fields) fields.push_back(mrkdwn(clipped("*" + f.label + ":*\n" + slackValue(f), 2000)));
    blocks.push_back({{"type", "section"}, {"fields", fields}});
  }
  for (const auto& f : c.sections)
    blocks.push_back({{"type", "section"}, {"text", mrkdwn(clipped("*" + f.label + ":* " + slackValue(f), 3000))}});
  if (!c.context.empty()) blocks.push_back({{"type", "context"}, {"elements", {mrkdwn(clipped(esc(c.context), 3000))}}});
  // The top-level text (the notification's words) is read as mrkdwn too: a subject holding
  // "<!channel>" must not ping the admins' channel.
  return {{"text", clipped(esc(c.text), 3000)}, {"blocks", blocks}};
}

}  // namespace safetynet
