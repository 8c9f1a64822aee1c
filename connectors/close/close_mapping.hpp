#pragma once
// Close's JSON (EmailActivity, events, users) to and from core types. Defensive: the API's reply is
// input like any other, and a malformed item is reported, not trusted.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "safetynet/connector/profile.hpp"
#include "safetynet/core/email.hpp"

namespace safetynet::close {

// nullopt (with `why`) when the object lacks an id, a parsable date_scheduled, or recipients.
std::optional<ScheduledEmail> toScheduledEmail(const nlohmann::json& activity, const std::string& connector,
                                               std::string* why);
bool isScheduled(const nlohmann::json& activity);
// "Jane Doe <jane@x.com>" or a bare address, as Close writes the `to` list.
std::string addressOf(const std::string& to_entry);
Rep toRep(const nlohmann::json& user);

// A contact's profile: its emails (the first is taken as primary), unsubscribed flags.
RecipientProfile toProfile(const nlohmann::json& contact);

}  // namespace safetynet::close
