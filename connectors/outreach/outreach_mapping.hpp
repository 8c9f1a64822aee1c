#pragma once
// Outreach's JSON:API documents (application/vnd.api+json) to core types. Defensive: a malformed
// resource is reported and skipped, never trusted.
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "safetynet/connector/profile.hpp"
#include "safetynet/core/email.hpp"

namespace safetynet::outreach {

// The `included` resources of a document, by "type/id".
class Included {
 public:
  void add(const nlohmann::json& document);
  void addResource(const nlohmann::json& resource);  // one read on its own (GET /recipients/{id})
  const nlohmann::json* find(const std::string& type, const std::string& id) const;

 private:
  std::map<std::string, nlohmann::json> byKey_;
};

// JSON:API ids are integers at Outreach; kept as strings here.
std::string idOf(const nlohmann::json& resource);
// relationships.<name>.data.id, or "".
std::string relatedId(const nlohmann::json& resource, const std::string& name);

// The ids of `mailing`'s recipient refs that `included` does not hold.
std::vector<std::string> missingRecipients(const nlohmann::json& mailing, const Included& included);

// A `mailing` resource with its included recipients, prospect and user; nullopt (with `why`)
// when it has no id, no valid scheduledAt or no recipient address.
std::optional<ScheduledEmail> toScheduledEmail(const nlohmann::json& mailing, const Included& included,
                                               const std::string& connector, std::string* why);
// The id of a mailing whose id and state are readable but whose scheduledAt is null or absent
// (the spec makes it nullable: a mailing not scheduled, e.g. drafted): not malformed, only not to
// send. nullopt for any other mailing.
std::optional<std::string> idWithoutSendTime(const nlohmann::json& mailing);
Rep toRep(const nlohmann::json& user);

// A prospect and its emailAddress resources (may be empty: then `emails`, the first primary).
RecipientProfile toProfile(const nlohmann::json& prospect, const std::vector<nlohmann::json>& email_addresses,
                           const nlohmann::json* owner);

// The JSON:API error text of a response body ("title: detail"), or the body's start.
std::string errorText(const std::string& body);

}  // namespace safetynet::outreach
