#pragma once
// A fake Salesloft API v2 following ../shared/specs/salesloft-openapi.json for what safetynet
// uses: GET /v2/activities/emails.json (status list, sort_by send_time|updated_at,
// sort_direction, per_page 1-100, page), GET /v2/activities/emails/{id}.json,
// GET /v2/cadence_memberships.json (person_id, cadence_id, currently_on_cadence),
// DELETE /v2/cadence_memberships/{id}.json (204), GET/PUT /v2/people/{id}.json (PUT form-encoded,
// contact_restrictions[]), GET /v2/people.json?ids=, GET /v2/users/{id}.json. Bearer auth with an
// API key or an OAuth token (POST /oauth/token, rotating refresh tokens); errors {"error": ...}
// and 422 {"errors": {field: [..]}}; the team's cost budget (600 a minute, deeper pages cost
// more) in x-ratelimit-remaining-minute and x-ratelimit-endpoint-cost; 429 without Retry-After.
// Bodies: by default the {data, metadata.paging} envelope of Salesloft's docs (notes/platforms.md,
// secondary); with specBodies(true) as salesloft-openapi.json describes every 200: a bare array
// (a list) or a bare object (one resource), no paging metadata.
// `send_after` is null once the email is sent ("null if already sent", the spec's Email).
// Inferred, not documented (notes/platforms.md): removing a person from a cadence, or restricting
// email for them, cancels their scheduled emails of it.
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "fakes/fake_oauth.hpp"
#include "safetynet/core/task.hpp"
#include "safetynet/net/http_server.hpp"

namespace safetynet::fakes {

struct FakeSalesloftEmail {
  long id = 0;
  std::string to;
  std::vector<std::string> cc, bcc;
  TimePoint send_after;
  std::string status = "scheduled";
  long person_id = 0;
  long user_id = 0;
  long cadence_id = 0;  // 0: a one-off email
  std::string subject;
  std::optional<TimePoint> sent_at;  // status sent: when
  bool bounced = false;
  std::string error_message;
  std::optional<TimePoint> updated_at;  // default: sent_at, else when it was added
};

class FakeSalesloft {
 public:
  FakeSalesloft(asio::any_io_executor ex, std::string api_key, unsigned short port = 0);
  std::string baseUrl() const { return server_->baseUrl() + "/v2"; }
  // A distant platform: this round trip on every connection and answer (HttpServer::setLatency).
  void setLatency(std::chrono::milliseconds rtt) { server_->setLatency(rtt); }
  // Faults at the edge (HttpServer::setFaults): 429 with x-ratelimit-remaining-minute 0 and no
  // Retry-After, as Salesloft; the token endpoint gets only faults that leave its refresh token alive.
  void setFaults(FaultPlan plan);
  std::vector<InjectedFault> injectedFaults() const { return server_->injectedFaults(); }
  std::string tokenUrl() const { return server_->baseUrl() + "/oauth/token"; }
  FakeOAuth& oauth() { return oauth_; }
  static constexpr const char* kClientId = "salesloft-client";
  static constexpr const char* kClientSecret = "salesloft-secret";
  static constexpr const char* kFirstRefreshToken = "salesloft-refresh-0";

  void addUser(long id, const std::string& email, const std::string& name, const std::string& slack_username,
               const std::string& bcc_email_address = "");
  // A person resource as Salesloft returns it (id, email_address, counts...): stored as given.
  void addPerson(const nlohmann::json& person);
  void addEmail(const FakeSalesloftEmail& e);
  // The bounce arrives after the send: the email is marked bounced and updated `at`.
  void bounceEmail(long id, const std::string& error_message, TimePoint at);
  void rateLimitNext(int n);
  void failNext(int n, int status = 502);
  void setDelay(std::chrono::milliseconds d);
  // As if a rep changed the email in Salesloft (its updated_at moves).
  void setStatus(long id, const std::string& status);
  // As if a rep edited the email (recipients, send time): `edit` changes it, its updated_at moves.
  // `bumpUpdatedAt` false: its updated_at stays (a listing of what changed does not see it).
  void editEmail(long id, const std::function<void(FakeSalesloftEmail&)>& edit, bool bumpUpdatedAt = true);
  // true: removing from a cadence or restricting email leaves the email scheduled.
  void stopsNothing(bool v);
  // The next write (DELETE, PUT) comes just after Salesloft sent every email still to send: they
  // are "sent" when it is handled (a send racing the stop).
  void sendBeforeNextWrite();
  // The cadence memberships are no longer listed (currently_on_cadence turned false, or the key's
  // user cannot see them), the emails staying scheduled.
  void forgetMemberships();
  // true: 200 bodies as the spec describes them (bare arrays and objects, no envelope).
  void specBodies(bool v);
  std::string status(long email_id) const;
  nlohmann::json person(long id) const;
  int requestCount(const std::string& method_and_path_prefix) const;
  // "METHOD /path" of every request the platform handled, in order.
  std::vector<std::string> requestLog() const;

 private:
  ServerResponse handle(const ServerRequest& r);
  ServerResponse reply(int status, const nlohmann::json& body, int cost = 1);
  ServerResponse rateLimited();  // mu_ held
  // A 200 with a list or one resource, in the envelope or bare (specBodies).
  ServerResponse list(const nlohmann::json& data, const nlohmann::json& metadata, int cost = 1);
  ServerResponse one(const nlohmann::json& resource);
  nlohmann::json emailJson(const FakeSalesloftEmail& e) const;
  void cancelEmails(long person, long cadence);  // cadence 0: all of the person's

  std::string api_key_;
  FakeOAuth oauth_;
  mutable std::mutex mu_;
  std::map<long, FakeSalesloftEmail> emails_;
  std::map<long, nlohmann::json> people_, users_;
  std::map<long, std::pair<long, long>> memberships_;  // id -> (person, cadence), on cadence
  long nextMembership_ = 9000;
  int rateLimited_ = 0, failing_ = 0, failStatus_ = 502, usedThisMinute_ = 0;
  long minute_ = 0;
  bool stopsNothing_ = false, specBodies_ = false, sendBeforeWrite_ = false;
  std::chrono::milliseconds delay_{0};
  std::vector<std::string> log_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace safetynet::fakes
