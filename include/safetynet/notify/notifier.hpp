#pragma once
// Delivers outbox messages. The outbox records where a message is about to go *before* posting, so
// after a crash between posting and recording, `findDelivered` can tell whether it went out:
// a message is then neither lost nor sent twice.
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "safetynet/core/task.hpp"

namespace safetynet {

struct DeliveryResult {
  bool delivered = false;
  bool permanent_failure = false;  // retrying cannot help (channel_not_found, invalid_auth)
  bool outcome_unknown = false;    // the request may have been processed (timeout after sending)
  std::string ref;                 // where it landed (Slack: channel/ts)
  std::string error;
  std::optional<std::chrono::milliseconds> retry_after;
};

struct Target {
  std::string destination;  // Slack: a channel id (C…/D…) or name
  std::string error;        // set when no destination could be found
  bool permanent = false;   // else the outbox tries again later, with its backoff
  // With a temporary error: where the message may go instead once the outbox has spent its retry
  // budget (Slack: the channel, when the rep's DM stayed out of reach), and what it then says first.
  // (`= {}` keeps Target{dest, error, permanent} free of missing-initializer warnings.)
  std::string fallback = {};
  std::string fallback_note = {};
  // Slack: the rep has no Slack user (the destination, if any, is the channel instead), so
  // notify.route slack_then_email emails the rep.
  bool no_user = false;
};

class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual std::string_view kind() const = 0;
  virtual Task<Target> resolveTarget(const nlohmann::json& payload) = 0;
  // The ref of a message carrying `dedupe_key` already at `destination`, if any.
  virtual Task<std::optional<std::string>> findDelivered(const std::string& destination,
                                                         const std::string& dedupe_key) = 0;
  virtual Task<DeliveryResult> post(const std::string& destination, const std::string& dedupe_key,
                                    const nlohmann::json& payload) = 0;
  // How long after a post whose answer never came findDelivered can be trusted to see it (the
  // destination may carry the post out late). 0: at once.
  virtual std::chrono::milliseconds inFlightWait() const { return std::chrono::milliseconds(0); }
};

using NotifierPtr = std::shared_ptr<Notifier>;

}  // namespace safetynet
