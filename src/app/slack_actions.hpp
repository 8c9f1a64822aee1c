#pragma once
// The buttons of a held email's Slack message (notify.slack.actions), answered over Socket Mode:
// Release and send (an override for the risky addresses, the email put back on schedule where the
// platform allows it), Keep held, Keep held and suppress, Replace address (what to do, for
// secondary_email). Who may: the rep who owns the email (named by its platform) or an admin
// (`admins`), matched by the clicking user's email (users.info); a rep releases only bounce_risk,
// unknown, secondary_email and dead_email. Each action is recorded (decision + action) before it
// is carried out: a double click or a replayed envelope does it once. All in the audit log.
#include <functional>
#include <memory>
#include <optional>

#include "notify/slack_api.hpp"
#include "notify/socket_mode.hpp"
#include "safetynet/app/app.hpp"

namespace safetynet {

class SlackActions {
 public:
  // `services`: the running services (a reload swaps them). Slack's keys are read from the
  // services given at construction (a new app token takes a restart).
  SlackActions(asio::any_io_executor ex, Store& store, std::function<std::shared_ptr<Services>()> services,
               SocketModeOptions socket = {});
  // Keeps the Socket Mode link until stop(). `resume_at_start`: first finish the actions a crash
  // cut short (one instance); several instances sharing a database leave it to the one holding the
  // housekeeping (resumeInterrupted with a cut-off), which cannot be carrying them out itself.
  Task<void> run(bool resume_at_start = true);
  void stop();
  const SocketModeClient& socketMode() const { return *client_; }
  // One envelope's payload (tests call it directly too).
  Task<void> handle(std::string type, nlohmann::json payload);

 private:
  struct Click;
  static nlohmann::json clickJson(const Click& c);
  static Click clickFromJson(const nlohmann::json& j);
  Task<void> act(Click click);
  // After the click is recorded (beginAction): the action's steps, the message updated, finishAction.
  Task<void> carryOut(Click click, EmailDecision decision, std::string who, std::string key);
  // The actions a crash left "started" (killed between beginAction and finishAction), finished
  // now: an override made already stands, the platform is read before it is written (Close:
  // "already scheduled"), the message is updated, and the audit log says "<action>_resumed".
  // `started_before`: only those begun before it (several instances: an action a live instance is
  // carrying out is younger than that; one begun longer ago was cut short).
 public:
  Task<void> resumeInterrupted(std::optional<TimePoint> started_before = std::nullopt);

 private:
  Task<std::string> whoClicked(const Click& click, std::string& error);
  Task<void> tell(const Click& click, const std::string& text);
  Task<SlackReply> call(const std::string& method, const nlohmann::json& args);

  Store& store_;
  std::function<std::shared_ptr<Services>()> services_;
  SlackConfig slack_;
  HttpClientPtr http_;
  std::unique_ptr<SocketModeClient> client_;
};

}  // namespace safetynet
