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

// Block Kit blocks + fallback text for chat.postMessage.
nlohmann::json slackMessage(const nlohmann::json& payload);

}  // namespace safetynet
