#pragma once
// Close (api.close.com/api/v1). How scheduled emails are found, given that GET /activity/email/
// has no status filter (see docs/connectors/close.md):
//  1. a sweep: every email created in the last `backfill` (default 30 d), paged per day with
//     date_created ranges and _skip, keeping those with status "scheduled" in tracked_emails;
//  2. then, every poll, the event log (GET /event/ per action created|updated|deleted since the
//     last poll less a 5-minute overlap, cursor-paged) updates that table: a few requests a poll
//     instead of re-reading thousands of emails;
//  3. a new sweep every `resync_every` (default 6 h), or when the event log can no longer cover
//     the gap (30-day retention), so a missed event cannot hide an email for long.
// Stopping: PUT /activity/email/{id}/ {"status":"draft"}, then GET to confirm.
#include <map>

#include "safetynet/config/config.hpp"
#include "safetynet/connector/connector.hpp"
#include "safetynet/net/http_client.hpp"
#include "safetynet/store/store.hpp"

namespace safetynet::close {

class CloseConnector final : public Connector {
 public:
  CloseConnector(ConnectorConfig config, HttpClientPtr http, Store& store);

  const std::string& name() const override { return config_.name; }
  std::string_view type() const override { return "close"; }
  Task<std::vector<ScheduledEmail>> listScheduled(TimeWindow window) override;
  Task<RevertResult> revert(const ScheduledEmail& email) override;
  // A release: GET, then PUT {"status": "scheduled", "date_scheduled": at} on the draft ("only
  // drafts can be modified, and their status can be changed to scheduled"), then GET to confirm.
  Task<RescheduleResult> reschedule(const ScheduledEmail& email, TimePoint at) override;
  Task<EmailPeople> people(const ScheduledEmail& email) override;
  // The contact's addresses (the first listed is taken as primary) and unsubscribed flags: every
  // contact of a lead in one GET /contact/?lead_id= (a few leads at once), a contact whose email
  // names no lead by GET /contact/{id}/; cached for 15 minutes. Close keeps no engagement or
  // bounce flag on a contact.
  Task<void> loadProfiles(std::vector<ScheduledEmail>& emails) override;
  // Sent emails (status sent, with date_sent) and failed sends (status error, with the last
  // send attempt's error) seen by the sweep and the event log since the last call.
  Task<Activity> recentActivity(TimePoint since) override;  // `since` unused: see the .cpp

  // Exposed for tests and `safetynet demo`'s narration.
  struct SweepCount {
    int pages = 0, emails = 0;
  };
  Task<void> sweep(TimePoint now);
  Task<void> sweepWindow(TimePoint from, TimePoint to, SweepCount& count);
  Task<void> tailEvents(TimePoint now);

 private:
  Task<HttpResponse> send(std::string method, std::string path, std::optional<nlohmann::json> body);
  Task<nlohmann::json> get(const std::string& path);
  Task<nlohmann::json> put(const std::string& path, const nlohmann::json& body);
  // An email read (GET) or written (PUT): nullopt when Close answers 404, the email deleted.
  Task<std::optional<nlohmann::json>> emailUnlessGone(std::string method, std::string path,
                                                      std::optional<nlohmann::json> body);
  // A revert that found the email deleted: nothing is left to send, so it is stopped.
  Task<RevertResult> gone(const ScheduledEmail& email);
  nlohmann::json parse(const HttpResponse& r, const std::string& what);
  void track(const nlohmann::json& activity);
  void noteActivity(const nlohmann::json& activity);

  ConnectorConfig config_;
  HttpClientPtr http_;
  Store& store_;
  std::string auth_;
  std::map<std::string, Rep> users_;  // user id -> rep, cached for the process's life
  void cacheContact(const nlohmann::json& contact, TimePoint now);
  struct CachedContact {
    ProfilePtr profile;
    std::string name;
    TimePoint until;
  };
  std::map<std::string, CachedContact> contacts_;  // contact id -> what loadProfiles read
  Activity seen_;  // sends and failures noticed while tracking, handed over by recentActivity
};

}  // namespace safetynet::close
