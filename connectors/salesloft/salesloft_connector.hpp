#pragma once
// Salesloft (api.salesloft.com/v2). See docs/connectors/salesloft.md.
//  Listing: GET /activities/emails.json, every status still to send, sort_by=updated_at; later
//    polls ask only what changed (updated_at[gte]). send_after has no filter, so the window is
//    applied here. Deep pages cost more (3, 8, 10, 30): the budget counts it.
//  Stopping (revert_strategy): `remove_from_cadence` (default) deletes the person's membership of
//    the email's cadence (one-off emails fall back to the next); `restrict_email` adds "email" to
//    the person's contact_restrictions. Then the email is read again: only cancelled, failed or
//    gone counts as stopped.
//  Profiles: GET /people.json?ids=... (100 a request): addresses, do_not_contact, bouncing,
//    counts, last_replied_at, company website.
//  Auth: api_key or OAuth2 (rotating refresh tokens), Bearer either way.
#include <functional>
#include <map>
#include <optional>

#include "connectors/common/rate_budget.hpp"
#include "connectors/common/tracked_listing.hpp"
#include "connectors/oauth/oauth_session.hpp"
#include "connectors/salesloft/salesloft_mapping.hpp"
#include "safetynet/config/config.hpp"
#include "safetynet/connector/connector.hpp"
#include "safetynet/net/http_client.hpp"
#include "safetynet/store/store.hpp"

namespace safetynet::salesloft {

class SalesloftConnector final : public Connector {
 public:
  SalesloftConnector(ConnectorConfig config, HttpClientPtr http, Store& store);

  const std::string& name() const override { return config_.name; }
  std::string_view type() const override { return "salesloft"; }
  Task<std::vector<ScheduledEmail>> listScheduled(TimeWindow window) override;
  // Page by page, earliest first: each page is checked while the next is read.
  Task<void> streamScheduled(TimeWindow window, PageSink sink) override;
  Task<RevertResult> revert(const ScheduledEmail& email) override;
  Task<EmailPeople> people(const ScheduledEmail& email) override;
  Task<void> loadProfiles(std::vector<ScheduledEmail>& emails) override;
  // Emails sent since then (status sent*, sent_at[gte]), each user's sending address as the
  // mailbox; those with `bounced` are bounces, with Salesloft's error message.
  Task<Activity> recentActivity(TimePoint since) override;

 private:
  Task<HttpResponse> call(std::string method, std::string path, std::string body = "", std::string content_type = "",
                          int cost = 1, std::optional<TimePoint> due = std::nullopt);
  // `due`: when the answer is needed at the latest (the email's send time), for the rate budget's
  // line; none: a listing page.
  Task<nlohmann::json> getJson(const std::string& path, const std::string& what, int cost = 1,
                               std::optional<TimePoint> due = std::nullopt);
  // GET /activities/emails.json with `filter`, updated since `since`, every page to `onPage`.
  Task<void> pageByUpdatedAt(std::string filter, std::optional<TimePoint> since, std::string what,
                             std::function<Task<void>(const nlohmann::json&)> onPage);
  // The email as Salesloft shows it now: its status ("gone" for a 404) and, when the mapping reads
  // it, the version (recipients without the sender's automatic BCC, as loadProfiles leaves them).
  struct EmailRead {
    std::string status;
    std::optional<ScheduledEmail> current;
  };
  Task<EmailRead> readEmail(const std::string& id, TimePoint due);
  // Only the status (the reads that confirm a stop): no mapping, no user lookup.
  Task<std::string> emailStatus(const std::string& id, TimePoint due);
  // GET /activities/emails/{id}.json's email; null when Salesloft answers 404.
  Task<nlohmann::json> emailResource(const std::string& id, TimePoint due);
  // Drops the sending user's automatic BCC from the recipients (a CRM drop box, not a recipient).
  // False when the user cannot be read: the recipients are then not known as the listing knows them.
  Task<bool> dropAutoBcc(ScheduledEmail& e, std::optional<TimePoint> due = std::nullopt);
  Task<std::string> removeFromCadence(const ScheduledEmail& email);
  Task<std::string> restrictEmail(const ScheduledEmail& email);
  Task<Rep> user(const std::string& id, std::optional<TimePoint> due = std::nullopt);
  // GET /{type}/{id}.json's data, or nullopt (logged) when Salesloft cannot answer.
  Task<std::optional<nlohmann::json>> resource(const std::string& type, const std::string& id,
                                               std::optional<TimePoint> due = std::nullopt);

  ConnectorConfig config_;
  HttpClientPtr http_;
  std::optional<OAuthSession> oauth_;
  RateBudget budget_;
  TrackedListing tracked_;  // full listing every resync_every, else only what changed
  std::map<std::string, Rep> users_;
  std::map<std::string, std::string> sendingAddress_;  // user id -> the address their emails go from
  std::map<std::string, std::string> autoBcc_;         // user id -> bcc_email_address (lower case), "" if none
  std::map<std::string, nlohmann::json> people_;  // person id -> resource, from loadProfiles or people()
};

}  // namespace safetynet::salesloft
