#pragma once
// A fake Close API (v1) following ../shared/specs/close-openapi.yml for the endpoints safetynet
// uses: GET /activity/email/ (date_created filters, _limit <= 100, _skip, {data, has_more}),
// GET/PUT/DELETE /activity/email/{id}/ (404 once deleted), GET /event/ (object_type+action,
// date_updated__gte on the first page only, _cursor,
// _limit <= 50, {data, cursor_next, cursor_previous}, latest first), GET /contact/ (lead_id, _limit <= 100, _skip), GET /contact/{id}/,
// GET /user/{id}/. HTTP Basic auth with the API key as user name; 401/404/400 with {"error": ...};
// 429 with a `RateLimit: limit=.., remaining=0, reset=..` header when asked to.
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "safetynet/core/task.hpp"
#include "safetynet/net/http_server.hpp"

namespace safetynet::fakes {

struct FakeCloseEmail {
  std::string id;
  std::vector<std::string> to;
  std::vector<std::string> cc, bcc;
  std::string subject;
  TimePoint scheduled_at;
  std::string status = "scheduled";
  std::string user_id = "user_rep1";
  std::string contact_id;
  TimePoint created_at;
  std::optional<TimePoint> updated_at;  // date_updated; none: created_at (moved by every change)
  std::string error_message;  // status "error": why the send failed (send_attempts)
  bool date_sent = true;      // false: status "error" with date_sent null (the spec allows it)
};

class FakeClose {
 public:
  FakeClose(asio::any_io_executor ex, std::string api_key, unsigned short port = 0);
  std::string baseUrl() const { return server_->baseUrl() + "/api/v1"; }
  // A distant platform: this round trip on every connection and answer (HttpServer::setLatency).
  // The deepest _skip /activity/email/ serves (Close's own is unpublished; past it, a 400).
  static constexpr int kMaxSkip = 1000;
  void setLatency(std::chrono::milliseconds rtt) { server_->setLatency(rtt); }
  // Faults at the edge (HttpServer::setFaults), its 429s with Close's RateLimit header.
  void setFaults(FaultPlan plan);
  std::vector<InjectedFault> injectedFaults() const { return server_->injectedFaults(); }

  void addEmail(const FakeCloseEmail& e);
  void addUser(const std::string& id, const std::string& email, const std::string& first, const std::string& last);
  // lead: the lead it belongs to; empty: a lead of its own ("lead_" + id).
  void addContact(const std::string& id, const std::string& name, const std::string& email,
                  const std::string& lead = "");
  // A contact with several addresses, in the order Close lists them.
  void addContact(const std::string& id, const std::string& name, const std::vector<std::string>& emails);
  // As if a rep edited the email in Close: changes its status (and logs an "updated" event).
  void setStatus(const std::string& id, const std::string& status);
  // As if a rep deleted the email in Close (DELETE /activity/email/{id}/; a "deleted" event).
  void deleteEmail(const std::string& id);
  // The rep deletes the email just before the next PUT to it arrives (which then answers 404).
  void deleteBeforeNextPut(const std::string& id);
  // As if a rep edited the email in Close (recipients, send time): `edit` changes it, an "updated"
  // event names the changed fields.
  // `logEvent` false: the event log has not caught up yet (Close's log may lag the object).
  void editEmail(const std::string& id, const std::function<void(FakeCloseEmail&)>& edit, bool logEvent = true);
  // Every request waits this long first (crash tests: widen the window for a SIGKILL).
  void setDelay(std::chrono::milliseconds d);
  // Appends a raw event to the log, as given (tests of odd platform data).
  void injectEvent(const nlohmann::json& event);
  // The next n requests answer 200 with a body that is not JSON.
  void garbleNext(int n);
  // The next n requests answer 429 with rate-limit headers.
  void rateLimitNext(int n, int reset_seconds = 1);
  // PUT /activity/email/{id}/ calls so far, per email id.
  int putCount(const std::string& id) const;
  std::string status(const std::string& id) const;
  // The email's send time as Close holds it now (a release may have moved it).
  TimePoint scheduledAt(const std::string& id) const;
  int requestCount(const std::string& path_prefix) const;
  std::vector<std::string> requestLog() const;

 private:
  ServerResponse handle(const ServerRequest& r);
  nlohmann::json emailJson(const FakeCloseEmail& e) const;
  std::string leadOf(const FakeCloseEmail& e) const;
  void event(const std::string& action, const FakeCloseEmail& e, const std::vector<std::string>& changed);
  void erase(const std::string& id);  // mu_ held

  std::string auth_;
  mutable std::mutex mu_;
  std::map<std::string, FakeCloseEmail> emails_;
  std::map<std::string, nlohmann::json> users_, contacts_;
  std::vector<nlohmann::json> events_;  // oldest first
  std::map<std::string, int> puts_;
  std::vector<std::string> log_;
  int rateLimited_ = 0, resetSeconds_ = 1, garbled_ = 0;
  std::string deleteBeforePut_;
  std::chrono::milliseconds delay_{0};
  std::unique_ptr<HttpServer> server_;
};

}  // namespace safetynet::fakes
