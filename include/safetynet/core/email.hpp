#pragma once
// Value types shared by connectors, the pipeline, the store and the notifiers.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "safetynet/core/task.hpp"

namespace safetynet {

struct TimeWindow {
  TimePoint from;  // now + min_lead_time
  TimePoint to;    // now + lookahead
  bool contains(TimePoint t) const { return t >= from && t <= to; }
};

struct RecipientProfile;

struct Recipient {
  std::string address;
  std::string kind = "to";  // to | cc | bcc
  // What the platform knows about the person (Connector::loadProfiles); null when nothing.
  std::shared_ptr<const RecipientProfile> profile;
};

// The rep who owns the email: the person Safety Net tells.
struct Rep {
  std::string id;
  std::string name;
  std::string email;
  std::string slack_username;  // empty where the platform has none
};

struct ScheduledEmail {
  std::string connector;  // the connector's configured name
  std::string id;         // the platform's id
  std::string status;     // the platform's status word, as read
  TimePoint scheduled_at{};
  std::string subject;
  std::string sender;     // sending mailbox
  std::string user_id;    // the rep's id on the platform
  std::string user_name;
  std::string contact_id;
  std::string lead_id;
  std::vector<Recipient> recipients;

  // (connector, id, scheduled time): a rescheduled email is a new piece of work.
  std::string key() const;
};

}  // namespace safetynet
