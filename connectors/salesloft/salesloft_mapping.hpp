#pragma once
// Salesloft's JSON to core types. Defensive: a malformed item is reported and skipped.
// A 200 body comes in either shape: the {"data": ..., "metadata": {"paging": ...}} envelope of
// Salesloft's docs (notes/platforms.md), or bare, as salesloft-openapi.json describes every 200
// (an array of resources, or one resource).
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "safetynet/connector/profile.hpp"
#include "safetynet/core/email.hpp"

namespace safetynet::salesloft {

// The list in a body (the body itself, or its `data`), or nullptr.
const nlohmann::json* listIn(const nlohmann::json& body);
// The one resource in a body (its `data`, or the body itself), or nullptr.
const nlohmann::json* resourceIn(const nlohmann::json& body);
// metadata.paging.next_page says whether another page follows; nullopt: the body has no paging
// metadata (a bare array).
std::optional<bool> hasNextPage(const nlohmann::json& body);

std::string idOf(const nlohmann::json& j);                          // "id" as a string
std::string embeddedId(const nlohmann::json& j, const char* key);   // j[key].id, or ""

// An email activity in status scheduled or pending; nullopt (with `why`) when it lacks an id, a
// valid send_after or a recipient address.
std::optional<ScheduledEmail> toScheduledEmail(const nlohmann::json& email, const std::string& connector, std::string* why);
// The id of an email whose id and status are readable but whose send_after is null or absent
// ("null if already sent", the spec): not malformed, only not to send. nullopt for any other email.
std::optional<std::string> idWithoutSendTime(const nlohmann::json& email);
Rep toRep(const nlohmann::json& user);
RecipientProfile toProfile(const nlohmann::json& person);
// The host of a company website ("https://www.acme.com/about" -> "acme.com").
std::string websiteDomain(const std::string& url);
std::string errorText(const std::string& body);

}  // namespace safetynet::salesloft
