#pragma once
// Outreach (api.outreach.io/api/v2, JSON:API). See docs/connectors/outreach.md.
//  Listing: GET /mailings?filter[state]=scheduled&filter[scheduledAt]=FROM..TO&sort=scheduledAt
//    &include=recipients,prospect,user&page[size]=100&count=false, following links.next
//    (cursor pagination) only on the configured host.
//  Stopping (revert_strategy): `draft` (default) PATCHes the mailing's state to "drafted" (the
//    hyper-schema's update link) and, if Outreach refuses (4xx), pauses the prospect's
//    sequenceState; `pause_sequence` pauses it directly. Either way the mailing is read again, and
//    only a state other than scheduled/queued/delivering counts as stopped. A write without a
//    clear answer (5xx, lost) may have been applied: the re-read decides, and if the mailing is
//    still going out, revert() throws so that the cycle tries again later.
//  Profiles: the prospects included with the mailings, and their emailAddress resources (type,
//    order, status) in one request per 100 prospects.
//  Auth: OAuth2 (connectors/oauth); a 401 renews the token once. Rate: X-RateLimit-* with a budget.
#include <map>

#include "connectors/common/rate_budget.hpp"
#include "connectors/common/tracked_listing.hpp"
#include "connectors/oauth/oauth_session.hpp"
#include "connectors/outreach/outreach_mapping.hpp"
#include "safetynet/config/config.hpp"
#include "safetynet/connector/connector.hpp"
#include "safetynet/net/http_client.hpp"
#include "safetynet/store/store.hpp"

namespace safetynet::outreach {

class OutreachConnector final : public Connector {
 public:
  OutreachConnector(ConnectorConfig config, HttpClientPtr http, Store& store);

  const std::string& name() const override { return config_.name; }
  std::string_view type() const override { return "outreach"; }
  Task<std::vector<ScheduledEmail>> listScheduled(TimeWindow window) override;
  // Page by page, earliest first: each page is checked while the next is read.
  Task<void> streamScheduled(TimeWindow window, PageSink sink) override;
  Task<RevertResult> revert(const ScheduledEmail& email) override;
  Task<EmailPeople> people(const ScheduledEmail& email) override;
  Task<void> loadProfiles(std::vector<ScheduledEmail>& emails) override;
  // Mailings delivered or bounced since then (state delivered, bounced, opened, replied with
  // stateChangedAt in range): sends per mailbox, and the bounced ones with errorReason.
  Task<Activity> recentActivity(TimePoint since) override;

 private:
  // One request with the bearer token, the JSON:API media type, the rate budget, and one
  // token renewal on 401. Returns the response whatever its status. `due`: when the answer is
  // needed at the latest (the email's send time), for the rate budget's line; none: a listing page.
  Task<HttpResponse> call(std::string method, std::string url, std::string body = "",
                          std::optional<TimePoint> due = std::nullopt);
  Task<nlohmann::json> getJson(const std::string& url, const std::string& what,
                               std::optional<TimePoint> due = std::nullopt);
  // A write's outcome as far as its answer tells: Unclear for 5xx, 408, 429 (after the client's
  // retries) or no answer at all, when it may or may not have been applied.
  struct Written {
    enum Outcome { Applied, Refused, Unclear } outcome = Unclear;
    std::string text;  // "422: <Outreach's error>", or the transport error
  };
  Task<Written> write(std::string method, std::string url, std::string body, TimePoint due);
  // A mailing as Outreach shows it now: its state ("gone" for a 404), its sequenceState, and with
  // `version` (include=recipients,prospect) the version as the listing maps it, when every
  // recipient could be read (else nothing: the version cannot be told).
  struct MailingRead {
    std::string state, sequenceState;
    std::optional<ScheduledEmail> current;
  };
  Task<MailingRead> readMailing(const std::string& id, TimePoint due, bool version = false);
  // Reads on their own the recipients `mailing` names but the page's `included` left out, into
  // `inc`: skipped, the mailing would be decided on its other recipients and the missing one sent
  // to unchecked. One Outreach no longer has (404) stays out. One it cannot answer for is logged
  // and left out (the mailing is decided on the others, as before): failing the listing would
  // leave every mailing of the connector unchecked for one recipient.
  // Returns false when one could not be read.
  Task<bool> readMissingRecipients(const nlohmann::json& mailing, Included& inc,
                                   std::optional<TimePoint> due = std::nullopt);
  // GET /{type}/{id}'s resource, or nullopt (logged) when Outreach cannot answer.
  Task<std::optional<nlohmann::json>> resource(const std::string& type, const std::string& id,
                                               std::optional<TimePoint> due = std::nullopt);
  // The URL of `doc`'s links.next (read from `current`), or "" at the end. A link to another
  // origin than base_url's, or no URL at all, throws: the token must not travel elsewhere, and a
  // listing cut short must not be taken as complete (a full one forgets what it did not see).
  std::string nextLink(const nlohmann::json& doc, const std::string& current, const std::string& what) const;
  // Every resource of a listing, page after page (links.next), into `out`: a server may answer
  // fewer than page[size] asks, so a batch of ids can span pages too.
  Task<void> readAllPages(std::string url, const std::string& what, std::optional<TimePoint> due,
                          std::vector<nlohmann::json>& out);
  // The resources whose `filter` (filter[id], filter[prospect][id]) is one of `ids`, in batches of
  // a page's worth of ids, each read to its last page.
  Task<void> readByIds(const std::string& path, const std::string& filter, const std::vector<std::string>& ids,
                       std::optional<TimePoint> due, std::vector<nlohmann::json>& out);

  ConnectorConfig config_;
  HttpClientPtr http_;
  OAuthSession oauth_;
  RateBudget budget_;
  std::map<std::string, Rep> users_;                // user id -> rep, from included users or GET /users/{id}
  TrackedListing tracked_;  // full listing every resync_every, else only what changed
  std::map<std::string, nlohmann::json> prospects_;  // prospect id -> resource, from the last listing
};

}  // namespace safetynet::outreach
