#pragma once
// Salesloft's JSON (v2: {"data": ..., "metadata": {"paging": ...}}) to core types. Defensive: a
// malformed item is reported and skipped.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "safetynet/connector/profile.hpp"
#include "safetynet/core/email.hpp"

namespace safetynet::salesloft {

std::string idOf(const nlohmann::json& j);                          // "id" as a string
std::string embeddedId(const nlohmann::json& j, const char* key);   // j[key].id, or ""

// An email activity in status scheduled or pending; nullopt (with `why`) when it lacks an id, a
// valid send_after or a recipient address.
std::optional<ScheduledEmail> toScheduledEmail(const nlohmann::json& email, const std::string& connector, std::string* why);
Rep toRep(const nlohmann::json& user);
RecipientProfile toProfile(const nlohmann::json& person);
// The host of a company website ("https://www.acme.com/about" -> "acme.com").
std::string websiteDomain(const std::string& url);
std::string errorText(const std::string& body);

}  // namespace safetynet::salesloft
