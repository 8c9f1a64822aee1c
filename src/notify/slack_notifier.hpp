#pragma once
// Slack Web API: users.lookupByEmail + conversations.open for a DM to the rep (dm_rep); the
// configured channel when Slack has no such user, or when the DM stayed out of reach for the
// outbox's retry budget (the message then says so); chat.postMessage with Block Kit and message
// metadata carrying the dedupe key, which conversations.history (include_all_metadata) finds again
// after a crash.
#include <map>

#include "notify/slack_api.hpp"
#include "safetynet/config/config.hpp"
#include "safetynet/net/http_client.hpp"
#include "safetynet/notify/notifier.hpp"

namespace safetynet {

class SlackNotifier final : public Notifier {
 public:
  SlackNotifier(SlackConfig config, HttpClientPtr http);
  std::string_view kind() const override { return "slack"; }
  Task<Target> resolveTarget(const nlohmann::json& payload) override;
  Task<std::optional<std::string>> findDelivered(const std::string& destination, const std::string& dedupe_key) override;
  Task<DeliveryResult> post(const std::string& destination, const std::string& dedupe_key,
                            const nlohmann::json& payload) override;
  std::chrono::milliseconds inFlightWait() const override { return config_.in_flight_wait; }

 private:
  using Reply = SlackReply;
  Task<Reply> call(const std::string& method, const nlohmann::json& args, bool post);
  // The configured channel as an ID: conversations.history (crash recovery) takes IDs only, so a
  // "#name" is looked up once with conversations.list.
  Task<Target> channelId();
  // The Slack user ID of a username (the platform's slack_username), from users.list: id "" if
  // none; error set when Slack could not be asked.
  struct UserLookup {
    std::string id, error;
  };
  Task<UserLookup> userIdByName(const std::string& username);
  // The rep's DM. A permanent error means Slack has no user to DM (the channel is then the
  // place); any other error is temporary, and the DM is tried again later.
  Task<Target> repDm(const nlohmann::json& payload);
  Task<Target> openDm(const std::string& user_id);

  SlackConfig config_;
  HttpClientPtr http_;
  std::string channelId_;
  std::map<std::string, std::string> userIds_;  // username -> user ID, from users.list
  TimePoint usersListedAt_{};
};

}  // namespace safetynet
