#pragma once
// What a platform knows about the person behind a recipient address: one model for Close,
// Outreach and Salesloft. Fields a platform does not have stay empty; checks use only what is
// there (docs/connectors/*.md say which platform fills what).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "safetynet/core/task.hpp"

namespace safetynet {

struct ProfileAddress {
  std::string email;
  bool primary = false;
  std::string type;  // "work", "personal" or "" (unknown)
  bool bounced = false;
  bool unsubscribed = false;
};

struct ProfileOwner {
  std::string id, name, email, slack_username;
};

struct RecipientProfile {
  std::string person_id;  // the platform's id of the prospect / person / contact
  std::vector<ProfileAddress> addresses;
  bool opted_out = false;       // unsubscribed from email as a person
  bool do_not_contact = false;  // the platform's do-not-contact / contact restriction for email
  bool bounced = false;         // the platform's bounced flag for the person's primary address
  std::optional<TimePoint> last_open, last_click, last_reply;
  std::optional<int> sends;        // emails sent to the person, where the platform counts them
  std::optional<int> engagements;  // opens + clicks + replies counted by the platform
  std::optional<int> bounces;      // emails to the person that bounced, where the platform counts them
  std::string account_domain;      // the company's web domain, where known
  ProfileOwner owner;

  const ProfileAddress* find(const std::string& address) const;
  const ProfileAddress* primary() const;
  std::optional<TimePoint> lastEngaged() const;
};

using ProfilePtr = std::shared_ptr<const RecipientProfile>;

}  // namespace safetynet
