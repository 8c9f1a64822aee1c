#pragma once
// What the rep reads: the notification payload kept in the outbox, and its Slack Block Kit form.
#include <nlohmann/json.hpp>

#include "safetynet/connector/connector.hpp"
#include "safetynet/policy/policy.hpp"
#include "safetynet/store/store.hpp"

namespace safetynet {

// Everything a notifier needs, frozen at decision time (the outbox must not depend on later state).
nlohmann::json notificationPayload(const EmailDecision& d, const ScheduledEmail& email, const EmailPeople& people,
                                   const Policy& policy, bool stopped, const std::string& outcome);

// For the admins: a risky email was decided too close to its send to be stopped (`outcome` says
// how close and why).
nlohmann::json tooLatePayload(const EmailDecision& d, const ScheduledEmail& email, const Policy& policy,
                              const std::string& outcome);

// What a message says, whatever carries it: Slack's Block Kit, an email's text and HTML parts.
struct MessageField {
  std::string label;
  std::string value;
  std::string code;   // shown first, as code: "`bounce_risk`: likely to bounce"
  bool date = false;  // value is an ISO 8601 time: each carrier shows it in its reader's time
};
struct MessageContent {
  std::string title;
  std::vector<MessageField> fields;    // side by side (to, subject, when, reason)
  std::vector<MessageField> sections;  // a paragraph each (evidence, next step)
  std::string context;                 // the small print
  std::string text;                    // one line: Slack's fallback text, an email's subject
};
MessageContent messageContent(const nlohmann::json& payload);

// For the admins rather than a rep: too_late, sender_paused, failsafe, email_failed, digest.
bool isAdminPayload(const nlohmann::json& payload);

// Block Kit blocks + fallback text for chat.postMessage.
nlohmann::json slackMessage(const nlohmann::json& payload);

// The buttons of a held email's Slack message (notify.slack.actions): an `actions` block whose
// buttons carry the decision's key; null for any other message.
constexpr const char* kActionsBlockId = "safetynet_actions";
constexpr const char* kActionRelease = "safetynet_release";
constexpr const char* kActionKeep = "safetynet_keep";
constexpr const char* kActionKeepSuppress = "safetynet_keep_suppress";
constexpr const char* kActionReplace = "safetynet_replace";
nlohmann::json slackActionsBlock(const nlohmann::json& payload);
// The message's blocks once acted on: the buttons gone, what was done (Slack mrkdwn) at the end.
nlohmann::json slackActedBlocks(const nlohmann::json& blocks, const std::string& mrkdwn_text);
// A time shown in each reader's own time zone; text made safe for mrkdwn (&, <, >).
std::string slackTime(TimePoint t);
std::string slackEscape(const std::string& text);

}  // namespace safetynet
