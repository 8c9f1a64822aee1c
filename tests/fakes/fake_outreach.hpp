#pragma once
// A fake Outreach API v2 following ../shared/specs/outreach-openapi.json and the hyper-schema
// (outreach-hyper-schema.json) for what safetynet uses: JSON:API documents with
// application/vnd.api+json as the Content-Type of every request, with a body or not (415 otherwise); GET /mailings with filter[state] lists,
// filter[scheduledAt] ranges ("a..b", inf/neginf), sort, include (recipients, prospect, mailbox,
// user), cursor pagination (page[size], page[after], links.next with raw brackets in its query,
// as JSON:API servers write it); GET/PATCH /mailings/{id}; GET /users/{id}, GET /users?filter[id]=a,b;
// GET /prospects/{id}; GET /recipients/{id}; GET /emailAddresses?filter[prospect][id]=a,b (paged the same way);
// POST /sequenceStates/{id}/actions/pause;
// errors as {"errors":[{id,title,detail}]}; X-RateLimit-Limit/-Remaining/-Reset on every
// response and 429 rateLimitExceeded with Retry-After on demand; 401 for a dead access token;
// POST /oauth/token through FakeOAuth (rotating refresh tokens, up to 100 live, one mint per 60 s unless told).
// A drafted mailing has no scheduledAt (null; the spec makes it nullable).
// Not documented by Outreach, modelled as inferred in notes/platforms.md: PATCH state=drafted
// stops a scheduled mailing (can be switched off: 422), and pausing a sequenceState moves its
// scheduled mailings back to drafted.
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <tuple>
#include <string>
#include <vector>

#include "fakes/fake_oauth.hpp"
#include "safetynet/core/task.hpp"
#include "safetynet/net/http_server.hpp"

namespace safetynet::fakes {

struct FakeOutreachMailing {
  long id = 0;
  std::vector<std::string> to;  // recipient addresses
  std::vector<std::string> cc, bcc;  // recipientType cc and bcc, after the to's in the recipients
  size_t recipientCount() const { return to.size() + cc.size() + bcc.size(); }
  std::string subject;
  TimePoint scheduled_at;
  std::string state = "scheduled";
  long prospect_id = 0;
  long user_id = 0;
  long sequence_state_id = 0;  // 0: a single mailing, in no sequence
  std::string mailbox = "rep@seller.test";
  // Sent mailings (state delivered, bounced...): when that happened, and Outreach's error text.
  std::optional<TimePoint> state_changed_at;
  std::string error_reason;
  // Set by the fake: when it was last changed (updatedAt; filter[updatedAt], sort=updatedAt).
  TimePoint updated_at{};
};

struct FakeOutreachProspect {
  long id = 0;
  std::string first_name, last_name;
  // (email, emailType, status); the order is their position.
  std::vector<std::tuple<std::string, std::string, std::string>> addresses;
  bool opted_out = false;             // emailOptedOut / optedOut
  std::string emails_opt_status;      // emailsOptStatus: "opted_in", "opted_out" or null (empty)
  std::optional<TimePoint> engaged_at;
  int open_count = 0, click_count = 0, reply_count = 0;
  long owner_id = 0;
};

class FakeOutreach {
 public:
  FakeOutreach(asio::any_io_executor ex, std::chrono::milliseconds min_mint_interval = std::chrono::milliseconds(0),
               unsigned short port = 0);
  std::string baseUrl() const { return server_->baseUrl() + "/api/v2"; }
  // A distant platform: this round trip on every connection and answer (HttpServer::setLatency).
  void setLatency(std::chrono::milliseconds rtt) { server_->setLatency(rtt); }
  // Faults at the edge (HttpServer::setFaults): 429 rateLimitExceeded with X-RateLimit-* and
  // Retry-After; the token endpoint gets only faults that leave its refresh token alive.
  // `retry_after_seconds`: the Retry-After of the plan's 429s.
  void setFaults(FaultPlan plan, int retry_after_seconds = 1);
  std::vector<InjectedFault> injectedFaults() const { return server_->injectedFaults(); }
  std::string tokenUrl() const { return server_->baseUrl() + "/oauth/token"; }
  FakeOAuth& oauth() { return oauth_; }
  static constexpr const char* kClientId = "outreach-client";
  static constexpr const char* kClientSecret = "outreach-secret";
  static constexpr const char* kFirstRefreshToken = "outreach-refresh-0";

  void addUser(long id, const std::string& email, const std::string& first, const std::string& last);
  void addProspect(const FakeOutreachProspect& p);
  void addMailing(const FakeOutreachMailing& m);
  // As if a rep edited the mailing in Outreach (its updatedAt moves).
  void setMailing(long id, const std::string& state, std::optional<TimePoint> scheduled_at = std::nullopt);
  // As if a rep changed the mailing's recipients to these (all of type to). `bumpUpdatedAt` false: only the recipient
  // resources change, and a listing filtered by the mailing's updatedAt does not see it.
  void setRecipients(long id, std::vector<std::string> to, bool bumpUpdatedAt = true);
  // false: PATCH of a mailing's state answers 422 (as Outreach may), so the fallback runs.
  void allowPatchToDrafted(bool allowed);
  // true: pausing a sequence leaves its mailing scheduled (the confirmation must then fail).
  void pauseKeepsMailingScheduled(bool keeps);
  // How links.next is written. Always with raw "[" "]" in its query, as JSON:API servers write
  // them (page[size]=100&page[after]=...): absolute on this server (the default), relative
  // ("/api/v2/mailings?..."), or absolute on another origin (https://elsewhere.test).
  enum class NextLinks { Absolute, Relative, OtherOrigin };
  void setNextLinks(NextLinks style);
  // The most resources one page of /prospects, /users or /emailAddresses holds, whatever
  // page[size] asks (Outreach's own maximum is not published: a server may serve fewer).
  void setPageCap(size_t cap);
  // Listings leave the recipients of mailings out of `included` however include= asks (a server
  // trimming a large compound document); GET /recipients/{id} still answers them.
  void omitIncludedRecipients(bool omit);
  // The recipient (mailing's index-th) is gone: GET /recipients/{id} answers 404.
  void removeRecipient(long mailing_id, size_t index);
  // Every GET /recipients/{id} answers `status` (0: as usual).
  void failRecipientReads(int status);
  void rateLimitNext(int n, int retry_after_seconds = 1);
  void failNext(int n, int status = 503);
  // The next write (PATCH, POST) answers `status` after being carried out if `applied`; status 0
  // closes the connection with no answer (the answer lost).
  void failNextWrite(int status, bool applied);
  // The next write (PATCH, POST) comes just after Outreach sent every scheduled mailing: they are
  // "delivered" when it is handled (a send racing the stop).
  void sendBeforeNextWrite();
  // The rep changes the mailing's recipients just before the next write (PATCH, POST) is handled.
  void setRecipientsBeforeNextWrite(long id, std::vector<std::string> to);
  // Every request waits this long first (crash tests).
  void setDelay(std::chrono::milliseconds d);
  // Every write (PATCH, POST) waits this long first: a crash while a stop is in flight.
  void setWriteDelay(std::chrono::milliseconds d);
  std::string state(long mailing_id) const;
  std::string sequenceState(long id) const;
  int requestCount(const std::string& method_and_path_prefix) const;
  std::vector<std::string> requestLog() const;

 private:
  ServerResponse handle(const ServerRequest& r);  // answer(), then a write's fault
  ServerResponse answer(const ServerRequest& r);
  nlohmann::json mailingJson(const FakeOutreachMailing& m) const;
  nlohmann::json recipientJson(const FakeOutreachMailing& m, size_t index) const;  // id: mailing id * 100 + index
  nlohmann::json prospectJson(const FakeOutreachProspect& p) const;
  nlohmann::json userJson(long id) const;
  ServerResponse document(int status, const nlohmann::json& doc);
  ServerResponse rateLimited(int retry_after_seconds);  // mu_ held

  FakeOAuth oauth_;
  mutable std::mutex mu_;
  std::map<long, FakeOutreachMailing> mailings_;
  std::map<long, FakeOutreachProspect> prospects_;
  std::map<long, nlohmann::json> users_;
  std::map<long, std::string> sequenceStates_;  // id -> state
  std::string nextLink(const ServerRequest& r, const std::string& after) const;  // mu_ held
  bool patchAllowed_ = true, pauseKeeps_ = false;
  NextLinks nextLinks_ = NextLinks::Absolute;
  size_t pageCap_ = 1000;
  bool omitRecipients_ = false;
  std::set<long> removedRecipients_;
  int recipientReadStatus_ = 0;
  // One page of `all` as page[size] and page[after] (here: how many came before) ask, with
  // links.next when more follow.
  ServerResponse page(const ServerRequest& r, const nlohmann::json& all);  // mu_ held
  int rateLimited_ = 0, retryAfter_ = 1, failing_ = 0, failStatus_ = 503;
  std::optional<std::pair<int, bool>> writeFault_;  // status, applied
  bool sendBeforeWrite_ = false;
  std::optional<std::pair<long, std::vector<std::string>>> editBeforeWrite_;
  int remaining_ = 10000;
  std::chrono::milliseconds delay_{0}, writeDelay_{0};
  std::vector<std::string> log_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace safetynet::fakes
