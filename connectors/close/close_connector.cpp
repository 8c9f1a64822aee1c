#include "connectors/close/close_connector.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <map>
#include <set>

#include "connectors/close/close_mapping.hpp"
#include "safetynet/core/concurrently.hpp"
#include "safetynet/core/json_util.hpp"
#include "safetynet/core/logging.hpp"
#include "safetynet/core/time_format.hpp"
#include "safetynet/net/url.hpp"

namespace safetynet::close {

namespace {
constexpr auto kEventOverlap = std::chrono::minutes(5);      // Close: rescan the last 5 min
constexpr auto kEventRetention = std::chrono::hours(24 * 29);  // 30 days, less a margin
constexpr auto kSweepChunk = std::chrono::hours(24);
// Close caps _skip per resource ("If you need to paginate for more than a few pages, update your
// query to return smaller batches of objects ... use the date_created field as a range",
// developer.close.com/api/overview/pagination): a window needing more pages is split in two.
constexpr int kPagesBeforeSplit = 5;
constexpr auto kSmallestWindow = std::chrono::minutes(1);
// After a failed resync sweep, the event log carries on, and the sweep is tried again this late.
constexpr auto kSweepRetry = std::chrono::minutes(5);
constexpr int kPageSize = 100;
constexpr int kEventPageSize = 50;
// Contact reads in flight at once: Close's RateLimit header paces them (net/http_client waits on a
// 429's reset), this keeps the number of connections small.
constexpr size_t kProfileConcurrency = 6;
// A contact's addresses and flags change rarely; read again after this.
constexpr auto kContactTtl = std::chrono::minutes(15);

std::string basicAuth(const std::string& key) {
  const std::string raw = key + ":";
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()));
  out.resize(static_cast<size_t>(n));
  return "Basic " + out;
}

// Built outside the coroutines: g++ 12 miscompiles braced lists of string literals in them.
nlohmann::json draftBody() { return {{"status", "draft"}}; }
nlohmann::json scheduledBody(TimePoint at) { return {{"status", "scheduled"}, {"date_scheduled", formatIso8601(at)}}; }

std::string errorText(const HttpResponse& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) return j["error"].get<std::string>();
  return r.body.substr(0, 200);
}
}  // namespace

CloseConnector::CloseConnector(ConnectorConfig config, HttpClientPtr http, Store& store)
    : config_(std::move(config)), http_(std::move(http)), store_(store), auth_(basicAuth(config_.api_key.reveal())) {
  while (!config_.base_url.empty() && config_.base_url.back() == '/') config_.base_url.pop_back();
}

nlohmann::json CloseConnector::parse(const HttpResponse& r, const std::string& what) {
  if (r.status == 401) throw ConnectorError(config_.name + ": Close rejected the API key (401) on " + what);
  if (r.status == 429) throw ConnectorError(config_.name + ": Close rate limit still exceeded on " + what);
  if (r.status < 200 || r.status >= 300)
    throw ConnectorError(config_.name + ": " + what + " answered " + std::to_string(r.status) + ": " + errorText(r));
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded()) throw ConnectorError(config_.name + ": " + what + " answered something that is not JSON");
  return j;
}

Task<HttpResponse> CloseConnector::send(std::string method, std::string path, std::optional<nlohmann::json> body) {
  HttpRequest req;
  // Close limits per "endpoint group" of paths and methods (its example: GETs to /lead/ and
  // POSTs/PUTs to /activity/ may be two groups): a 429 holds the method and first path segment.
  req.rate_group = method + " " + path.substr(0, path.find_first_of("/?", 1));
  req.method = std::move(method);
  req.url = config_.base_url + path;
  req.headers = {{"Authorization", auth_}, {"Accept", "application/json"}};
  if (body) {
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = jsonText(*body);
  }
  co_return co_await http_->send(std::move(req));
}

Task<nlohmann::json> CloseConnector::get(const std::string& path) {
  HttpResponse r = co_await send("GET", path, std::nullopt);
  co_return parse(r, "GET " + path.substr(0, path.find('?')));
}

Task<nlohmann::json> CloseConnector::put(const std::string& path, const nlohmann::json& body) {
  HttpResponse r = co_await send("PUT", path, body);
  co_return parse(r, "PUT " + path);
}

Task<std::optional<nlohmann::json>> CloseConnector::emailUnlessGone(std::string method, std::string path,
                                                                    std::optional<nlohmann::json> body) {
  HttpResponse r = co_await send(method, path, std::move(body));
  if (r.status == 404) co_return std::nullopt;
  co_return parse(r, method + " " + path);
}

// A 404 for the email is its deletion only when Close answers us at all: a base_url that lost its
// /v1, or a proxy in the way, answers 404 to everything, and calling those emails stopped would let
// them all go. GET /me/ (the spec's "fetch information about yourself") must answer 200; else this
// throws, and the stop is tried again and reported as not stopped.
Task<RevertResult> CloseConnector::gone(const ScheduledEmail& email) {
  HttpResponse me = co_await send("GET", "/me/", std::nullopt);
  parse(me, "GET /me/ (the email answered 404: is base_url right?)");
  store_.removeTracked(config_.name, email.id);
  RevertResult r;
  r.confirmed = true;
  r.detail = "the email no longer exists in Close";
  co_return r;
}

void CloseConnector::track(const nlohmann::json& a) {
  const std::string id = jsonString(a, "id");
  if (id.empty()) return;
  noteActivity(a);
  if (!isScheduled(a)) {
    store_.removeTracked(config_.name, id);
    return;
  }
  auto when = parseIso8601(jsonString(a, "date_scheduled"));
  if (!when) {
    logger(config_.name)->warn("email {} is scheduled without a valid date_scheduled; ignored", id);
    return;
  }
  store_.upsertTracked(TrackedEmail{config_.name, id, *when, a});
}

void CloseConnector::noteActivity(const nlohmann::json& a) {
  const std::string status = jsonString(a, "status");
  if (status != "sent" && status != "error") return;
  auto sent = parseIso8601(jsonString(a, "date_sent"));
  // date_sent is nullable: a failed send may have none; its last attempt's date, else the email's
  // last change, is when it was tried.
  if (!sent && status == "error") {
    if (a.contains("send_attempts") && a["send_attempts"].is_array() && !a["send_attempts"].empty())
      sent = parseIso8601(jsonString(a["send_attempts"].back(), "date"));
    if (!sent) sent = parseIso8601(jsonString(a, "date_updated"));
  }
  const std::string mailbox = addressOf(jsonString(a, "sender"));
  if (!sent || mailbox.empty()) return;
  const std::string key = config_.name + "|email|" + jsonString(a, "id");
  seen_.sent.push_back(SentEmail{key, mailbox, *sent});
  if (status != "error") return;
  // The send failed at Close (the receiving server refused it): the last attempt says why.
  std::string why;
  if (a.contains("send_attempts") && a["send_attempts"].is_array() && !a["send_attempts"].empty())
    why = jsonString(a["send_attempts"].back(), "error_message");
  if (a.contains("to") && a["to"].is_array())
    for (const auto& t : a["to"])
      if (t.is_string())
        if (auto to = addressOf(t.get<std::string>()); !to.empty()) seen_.bounced.push_back(PlatformBounce{key, to, mailbox, why, *sent});
}

Task<Activity> CloseConnector::recentActivity(TimePoint) {
  // Everything the sweep and the event log saw since the last call, whatever `since` says: the
  // sweep finds yesterday's sends too, and the store counts each key once, by its send time.
  Activity out = std::move(seen_);
  seen_ = Activity{};
  co_return out;
}

Task<void> CloseConnector::sweepWindow(TimePoint from, TimePoint to, SweepCount& count) {
  for (int skip = 0, pages = 0;;) {
    if (pages == kPagesBeforeSplit && to - from > kSmallestWindow) {
      // The pages read so far are tracked already; both halves are read from their start.
      const TimePoint mid = from + (to - from) / 2;
      co_await sweepWindow(from, mid, count);
      co_await sweepWindow(mid, to, count);
      co_return;
    }
    std::string path = "/activity/email/?date_created__gte=" + urlEncode(formatIso8601(from)) +
                       "&date_created__lt=" + urlEncode(formatIso8601(to)) + "&_limit=" + std::to_string(kPageSize) +
                       "&_skip=" + std::to_string(skip);
    nlohmann::json page = co_await get(path);
    ++pages;
    ++count.pages;
    if (!page.contains("data") || !page["data"].is_array())
      throw ConnectorError(config_.name + ": /activity/email/ answered without a data list");
    for (const auto& a : page["data"]) {
      track(a);
      ++count.emails;
    }
    skip += static_cast<int>(page["data"].size());
    if (!jsonBool(page, "has_more") || page["data"].empty()) co_return;
  }
}

Task<void> CloseConnector::sweep(TimePoint now) {
  SweepCount count;
  const TimePoint start = now - config_.backfill;
  for (TimePoint from = start; from < now + kSweepChunk; from += kSweepChunk)
    co_await sweepWindow(from, from + kSweepChunk, count);
  store_.putConnectorState(config_.name, "last_sweep", std::to_string(toMillis(now)));
  store_.putConnectorState(config_.name, "events_since", std::to_string(toMillis(now)));
  logger(config_.name)->info("sweep: {} emails read in {} pages", count.emails, count.pages);
}

Task<void> CloseConnector::tailEvents(TimePoint now) {
  auto since = fromMillis(std::stoll(store_.connectorState(config_.name, "events_since").value_or("0")));
  const TimePoint from = since - kEventOverlap;
  const std::string sinceText = urlEncode(formatIso8601(from));
  std::vector<nlohmann::json> events;
  static const std::string kActions[] = {"created", "updated", "deleted"};
  for (const std::string& action : kActions) {
    std::string cursor;
    do {
      // With a cursor the spec asks for the other filters again "except for date_updated", and a
      // cursor page need not honour it: the log comes latest first, so the paging ends at the
      // first event older than `from` (applied by an earlier poll), not at the log's end.
      std::string path = "/event/?object_type=activity.email&action=" + action + "&_limit=" + std::to_string(kEventPageSize);
      path += cursor.empty() ? "&date_updated__gte=" + sinceText : "&_cursor=" + urlEncode(cursor);
      nlohmann::json page = co_await get(path);
      bool older = false;
      if (page.contains("data") && page["data"].is_array())
        for (auto& e : page["data"]) {
          if (auto at = parseIso8601(jsonString(e, "date_updated")); at && *at < from) {
            older = true;
            continue;
          }
          events.push_back(e);
        }
      cursor = !older && page.contains("cursor_next") && page["cursor_next"].is_string()
                   ? page["cursor_next"].get<std::string>()
                   : "";
    } while (!cursor.empty());
  }
  // Oldest first, so the last change to an email wins.
  std::stable_sort(events.begin(), events.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return jsonString(a, "date_updated") < jsonString(b, "date_updated");
  });
  // What is tracked may be newer than an event the overlap applies again: read by the sweep or by
  // a stop (which found the rep's edit) while the log lagged. An event whose email is older than
  // that (its date_updated) is not applied: it would put back a version the rep changed.
  std::map<std::string, TimePoint> trackedAt;
  for (const auto& t : store_.trackedBetween(config_.name, TimePoint{}, TimePoint::max()))
    if (auto at = parseIso8601(jsonString(t.data, "date_updated"))) trackedAt[t.email_id] = *at;
  for (const auto& e : events) {
    const std::string id = jsonString(e, "object_id");
    if (id.empty()) continue;
    if (jsonString(e, "action") == "deleted") {
      store_.removeTracked(config_.name, id);
      continue;
    }
    if (e.contains("data") && e["data"].is_object() && e["data"].contains("status")) {
      nlohmann::json data = e["data"];
      if (!data.contains("id")) data["id"] = id;
      if (auto known = trackedAt.find(id); known != trackedAt.end())
        if (auto at = parseIso8601(jsonString(data, "date_updated")); at && *at < known->second) continue;
      track(data);
    } else {
      // The event carries no object (older than an hour for non-admin keys): read it.
      try {
        track(co_await get("/activity/email/" + urlEncode(id) + "/"));
      } catch (const ConnectorError& err) {
        logger(config_.name)->warn("email {}: {}", id, err.what());
      }
    }
  }
  store_.putConnectorState(config_.name, "events_since", std::to_string(toMillis(now)));
  logger(config_.name)->debug("event log: {} email events applied", events.size());
}

Task<std::vector<ScheduledEmail>> CloseConnector::listScheduled(TimeWindow window) {
  const TimePoint now = Clock::now();
  auto lastSweep = store_.connectorState(config_.name, "last_sweep");
  auto eventsSince = store_.connectorState(config_.name, "events_since");
  const bool eventsKept = eventsSince && now - fromMillis(std::stoll(*eventsSince)) < kEventRetention;
  const bool needSweep = !lastSweep || !eventsKept || now - fromMillis(std::stoll(*lastSweep)) >= config_.resync_every;
  const auto failedAt = store_.connectorState(config_.name, "sweep_failed_at");
  const bool retryLater = failedAt && now - fromMillis(std::stoll(*failedAt)) < kSweepRetry;
  bool swept = false;
  if (needSweep && !(eventsKept && retryLater)) {
    // A resync that fails leaves what is tracked and the event log to go on with: one 5xx or a
    // page refused must not blind the connector. The first sweep has nothing to go on: an error.
    std::string failure;
    try {
      co_await sweep(now);
      swept = true;
    } catch (const std::exception& e) {
      if (!eventsKept) throw;
      failure = e.what();
    }
    if (!swept) {
      store_.putConnectorState(config_.name, "sweep_failed_at", std::to_string(toMillis(now)));
      logger(config_.name)->warn("resync sweep failed ({}); reading the event log, sweeping again in {} min", failure,
                                 std::chrono::duration_cast<std::chrono::minutes>(kSweepRetry).count());
    }
  }
  if (!swept) co_await tailEvents(now);
  store_.forgetTrackedBefore(config_.name, now - std::chrono::hours(24));

  std::vector<ScheduledEmail> out;
  for (const auto& t : store_.trackedBetween(config_.name, window.from, window.to)) {
    std::string why;
    if (auto e = toScheduledEmail(t.data, config_.name, &why))
      out.push_back(std::move(*e));
    else
      logger(config_.name)->warn("skipping a malformed email: {}", why);
  }
  co_return out;
}

Task<RevertResult> CloseConnector::revert(const ScheduledEmail& email) {
  RevertResult r;
  const std::string path = "/activity/email/" + urlEncode(email.id) + "/";
  // Read first: after a crash the email may already be a draft (or sent, or deleted). A read that
  // fails (no answer, a 5xx, a body cut short) throws: Close was not heard, the engine tries again.
  // A 404 at any step is the email deleted (the spec's "404: Not found"): nothing left to send.
  std::optional<nlohmann::json> read = co_await emailUnlessGone("GET", path, std::nullopt);
  if (!read) co_return co_await gone(email);
  const nlohmann::json before = std::move(*read);
  const std::string status = jsonString(before, "status");
  if (status != "scheduled" && status != "outbox") {
    r.confirmed = status == "draft";
    r.detail = r.confirmed ? "already a draft in Close" : "Close shows status \"" + status + "\": too late to stop";
    store_.removeTracked(config_.name, email.id);
    co_return r;
  }
  // The rep may have changed it since it was decided, and no listing shown it yet (the event log
  // lags): this stop was decided on recipients or a send time it no longer has. Left alone for
  // its new version to be decided; tracked as it is now, so the next listing has it too. An
  // email the mapping cannot read (no date_scheduled while in the outbox) cannot tell: stopped.
  if (auto current = toScheduledEmail(before, config_.name, nullptr); current && !sameVersion(email, *current)) {
    store_.upsertTracked(TrackedEmail{config_.name, email.id, current->scheduled_at, before});
    co_return RevertResult::changedTo(std::move(*current), "changed in Close since it was decided: not moved to draft");
  }
  std::optional<nlohmann::json> written = co_await emailUnlessGone("PUT", path, draftBody());
  if (!written) co_return co_await gone(email);
  // Confirm with a fresh read, not the PUT's echo.
  std::optional<nlohmann::json> reread = co_await emailUnlessGone("GET", path, std::nullopt);
  if (!reread) co_return co_await gone(email);
  const std::string now = jsonString(*reread, "status");
  r.confirmed = now == "draft";
  r.detail = r.confirmed ? "moved back to draft in Close (confirmed by re-reading)"
                         : "PUT status=draft answered, but Close still shows \"" + now + "\"";
  if (r.confirmed) store_.removeTracked(config_.name, email.id);
  co_return r;
}

Task<RescheduleResult> CloseConnector::reschedule(const ScheduledEmail& email, TimePoint at) {
  RescheduleResult r;
  r.supported = true;
  const std::string path = "/activity/email/" + urlEncode(email.id) + "/";
  nlohmann::json before = co_await get(path);  // read first: a second release finds it scheduled
  const std::string status = jsonString(before, "status");
  if (status == "scheduled" || status == "outbox" || status == "sent") {
    r.done = true;
    r.detail = "already " + status + " in Close";
    co_return r;
  }
  if (status != "draft") {
    r.detail = "Close shows status \"" + status + "\": not a draft, not put back on schedule";
    co_return r;
  }
  co_await put(path, scheduledBody(at));
  nlohmann::json after = co_await get(path);
  r.done = jsonString(after, "status") == "scheduled";
  r.detail = r.done ? "scheduled again in Close for " + formatIso8601(at) + " (confirmed by re-reading)"
                    : "PUT status=scheduled answered, but Close shows \"" + jsonString(after, "status") + "\"";
  co_return r;
}

void CloseConnector::cacheContact(const nlohmann::json& c, TimePoint now) {
  const std::string id = jsonString(c, "id");
  if (id.empty()) return;
  contacts_[id] = CachedContact{std::make_shared<const RecipientProfile>(toProfile(c)),
                                jsonString(c, "display_name", jsonString(c, "name")), now + kContactTtl};
}

Task<void> CloseConnector::loadProfiles(std::vector<ScheduledEmail>& emails) {
  const TimePoint now = Clock::now();
  // Contacts not cached yet, gathered by lead: one GET /contact/?lead_id= reads every contact of
  // a lead (the list's only filter in the spec), so emails to one company cost one request.
  std::map<std::string, std::set<std::string>> byLead;  // lead -> contacts wanted
  std::set<std::string> alone;                          // contacts whose email names no lead
  for (const auto& e : emails) {
    if (e.contact_id.empty()) continue;
    if (auto it = contacts_.find(e.contact_id); it != contacts_.end() && it->second.until > now) continue;
    (e.lead_id.empty() ? alone.insert(e.contact_id) : byLead[e.lead_id].insert(e.contact_id));
  }
  std::vector<std::string> leads;
  for (const auto& [lead, wanted] : byLead) leads.push_back(lead);
  co_await concurrently(leads.size(), kProfileConcurrency, [&](size_t i) -> Task<void> {
    std::string error;
    try {
      for (int skip = 0;;) {
        nlohmann::json page = co_await get("/contact/?lead_id=" + urlEncode(leads[i]) + "&_limit=" +
                                           std::to_string(kPageSize) + "&_skip=" + std::to_string(skip));
        if (!page.contains("data") || !page["data"].is_array()) break;
        for (const auto& c : page["data"]) cacheContact(c, now);
        skip += static_cast<int>(page["data"].size());
        if (!jsonBool(page, "has_more") || page["data"].empty()) break;
      }
    } catch (const std::exception& ex) {
      error = ex.what();
    }
    if (!error.empty()) logger(config_.name)->warn("no contacts for lead {}: {}", leads[i], error);
  });
  // A contact its lead did not list (moved to another lead since) is read on its own.
  for (const auto& [lead, wanted] : byLead)
    for (const auto& id : wanted)
      if (!contacts_.count(id)) alone.insert(id);
  std::vector<std::string> single(alone.begin(), alone.end());
  co_await concurrently(single.size(), kProfileConcurrency, [&](size_t i) -> Task<void> {
    std::string error;
    try {
      cacheContact(co_await get("/contact/" + urlEncode(single[i]) + "/"), now);
    } catch (const std::exception& ex) {
      error = ex.what();
    }
    if (!error.empty()) logger(config_.name)->warn("no profile for contact {}: {}", single[i], error);
  });
  for (auto& e : emails) {
    auto it = contacts_.find(e.contact_id);
    if (it == contacts_.end()) continue;
    for (auto& r : e.recipients)
      if (it->second.profile->find(r.address)) r.profile = it->second.profile;
  }
}

Task<EmailPeople> CloseConnector::people(const ScheduledEmail& email) {
  EmailPeople p;
  p.rep.id = email.user_id;
  p.rep.name = email.user_name;
  if (!email.user_id.empty()) {
    if (auto it = users_.find(email.user_id); it != users_.end()) {
      p.rep = it->second;
    } else {
      try {
        Rep rep = toRep(co_await get("/user/" + urlEncode(email.user_id) + "/"));
        if (rep.name.empty()) rep.name = email.user_name;
        if (rep.id.empty()) rep.id = email.user_id;
        users_[email.user_id] = rep;
        p.rep = rep;
      } catch (const std::exception& e) {
        logger(config_.name)->warn("could not look up user {}: {}", email.user_id, e.what());
      }
    }
  }
  if (auto it = contacts_.find(email.contact_id); it != contacts_.end()) {
    p.contact_name = it->second.name;  // read with the profiles: no second request
  } else if (!email.contact_id.empty()) {
    try {
      auto c = co_await get("/contact/" + urlEncode(email.contact_id) + "/");
      cacheContact(c, Clock::now());
      p.contact_name = jsonString(c, "display_name", jsonString(c, "name"));
    } catch (const std::exception& e) {
      logger(config_.name)->warn("could not look up contact {}: {}", email.contact_id, e.what());
    }
  }
  co_return p;
}

}  // namespace safetynet::close
