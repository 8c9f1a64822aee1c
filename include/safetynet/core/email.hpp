#pragma once
// Value types shared by connectors, the pipeline, the store and the notifiers.
#include <map>
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
  // Platform references a connector needs to stop the email later (an Outreach sequenceState,
  // a Salesloft cadence and person), kept with the decision so a resumed revert has them.
  std::map<std::string, std::string> refs;
  std::string ref(const std::string& name) const {
    auto it = refs.find(name);
    return it == refs.end() ? std::string() : it->second;
  }

  // How many times a held email was released (Slack's Release and send) and put back on schedule
  // at the same send time: each such round is a new decision (the next poll's OVERRIDDEN allow).
  int released = 0;

  // (connector, id, scheduled time, recipients[, release round]): a rescheduled email is a new piece of work.
  std::string key() const;
};

// Whether `current` (as the platform shows the email now) is still the version that was decided:
// the same send time, to the millisecond as in key(), and the same recipients with their kind, in
// any order, addresses without case or surrounding spaces. Nothing else counts: a difference here
// always makes a different key(), so an email found changed is listed again under a new key and
// decided again, never skipped as decided (the subject or sender would not change the key).
bool sameVersion(const ScheduledEmail& decided, const ScheduledEmail& current);

}  // namespace safetynet
