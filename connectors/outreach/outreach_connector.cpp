#include "connectors/outreach/outreach_connector.hpp"

#include <set>

#include "safetynet/core/json_util.hpp"
#include "safetynet/core/logging.hpp"
#include "safetynet/core/time_format.hpp"
#include "safetynet/net/url.hpp"

namespace safetynet::outreach {

namespace {
constexpr int kPageSize = 100;
constexpr const char* kMediaType = "application/vnd.api+json";

std::string param(const std::string& key, const std::string& value) { return urlEncode(key) + "=" + urlEncode(value); }

// Built outside coroutines (g++ 12 and braced lists of string literals).
std::string draftedBody(const std::string& id) {
  nlohmann::json body;
  body["data"]["type"] = "mailing";
  try {
    body["data"]["id"] = std::stoll(id);
  } catch (const std::exception&) {
    body["data"]["id"] = id;
  }
  body["data"]["attributes"]["state"] = "drafted";
  return jsonText(body);
}

nlohmann::json userResource(const Rep& r) {
  nlohmann::json u;
  u["type"] = "user";
  u["id"] = r.id;
  u["attributes"]["email"] = r.email;
  u["attributes"]["name"] = r.name;
  return u;
}

bool stillSending(const std::string& state) {
  return state == "scheduled" || state == "queued" || state == "delivering";
}
}  // namespace

OutreachConnector::OutreachConnector(ConnectorConfig config, HttpClientPtr http, Store& store)
    : config_(std::move(config)),
      http_(http),
      oauth_(config_.name, config_.oauth, http, store),
      budget_(config_.name, RateDialect::Outreach, config_.rate_budget),
      tracked_(config_.name, store, config_.resync_every) {
  while (!config_.base_url.empty() && config_.base_url.back() == '/') config_.base_url.pop_back();
}

std::string OutreachConnector::nextLink(const nlohmann::json& doc, const std::string& current,
                                        const std::string& what) const {
  if (!doc.contains("links") || !doc["links"].is_object()) return "";
  const std::string next = jsonString(doc["links"], "next");
  if (next.empty()) return "";
  // JSON:API servers write brackets raw (page[after]=...) and may give a relative link.
  const auto resolved = resolveLink(current, next);
  const auto to = resolved ? parseUrl(*resolved) : std::nullopt;
  const auto base = parseUrl(config_.base_url);
  if (!to) throw ConnectorError(config_.name + ": " + what + ": links.next is not a URL; the listing is incomplete");
  if (!base || !sameOrigin(*to, *base))
    throw ConnectorError(config_.name + ": " + what + ": links.next points to another origin (" + to->scheme + "://" +
                         to->host + ":" + to->port + "), not followed; the listing is incomplete");
  return *resolved;
}

Task<void> OutreachConnector::readAllPages(std::string url, const std::string& what, std::optional<TimePoint> due,
                                           std::vector<nlohmann::json>& out) {
  while (!url.empty()) {
    nlohmann::json doc = co_await getJson(url, what, due);
    if (doc.contains("data") && doc["data"].is_array())
      for (const auto& r : doc["data"]) out.push_back(r);
    url = nextLink(doc, url, what);
  }
}

Task<void> OutreachConnector::readByIds(const std::string& path, const std::string& filter,
                                        const std::vector<std::string>& ids, std::optional<TimePoint> due,
                                        std::vector<nlohmann::json>& out) {
  for (size_t i = 0; i < ids.size(); i += kPageSize) {
    std::string batch;
    for (size_t k = i; k < ids.size() && k < i + kPageSize; ++k) batch += (batch.empty() ? "" : ",") + ids[k];
    co_await readAllPages(config_.base_url + path + "?" + param(filter, batch) + "&" +
                              param("page[size]", std::to_string(kPageSize)) + "&count=false",
                          "GET " + path, due, out);
  }
}

Task<HttpResponse> OutreachConnector::call(std::string method, std::string url, std::string body,
                                           std::optional<TimePoint> due) {
  HttpResponse r;
  for (int attempt = 0; attempt < 2; ++attempt) {
    co_await budget_.beforeRequest(1, due);
    std::string token = co_await oauth_.accessToken();
    if (attempt == 1) token = co_await oauth_.renewAfterRejection(token);
    HttpRequest req;
    req.method = method;
    req.url = url;
    // Every request names the media type, with a body or not (a GET, the pause POST): Outreach
    // answers 415 to any request that does not (developers.outreach.io/api/making-requests).
    req.headers = {{"Authorization", "Bearer " + token}, {"Accept", kMediaType}, {"Content-Type", kMediaType}};
    req.body = body;
    r = co_await http_->send(std::move(req));
    budget_.observe(r);
    if (r.status != 401) break;
    logger(config_.name)->info("Outreach answered 401: renewing the access token");
  }
  co_return r;
}

Task<nlohmann::json> OutreachConnector::getJson(const std::string& url, const std::string& what,
                                               std::optional<TimePoint> due) {
  HttpResponse r = co_await call("GET", url, "", due);
  if (r.status == 401) throw ConnectorError(config_.name + ": Outreach rejected a fresh access token on " + what);
  if (r.status < 200 || r.status >= 300)
    throw ConnectorError(config_.name + ": " + what + " answered " + std::to_string(r.status) + ": " + errorText(r.body));
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object()) throw ConnectorError(config_.name + ": " + what + " answered something that is not a JSON:API document");
  co_return j;
}

Task<std::vector<ScheduledEmail>> OutreachConnector::listScheduled(TimeWindow window) {
  co_return co_await collectScheduled(*this, window);
}

Task<void> OutreachConnector::streamScheduled(TimeWindow window, PageSink sink) {
  const TimePoint now = Clock::now();
  const auto plan = tracked_.plan(now, std::chrono::duration_cast<std::chrono::milliseconds>(window.to - window.from));
  // Full: every scheduled mailing within reach, earliest first. Increment: every mailing changed
  // since the last poll, whatever its state (one that left "scheduled" must be forgotten).
  std::string url =
      plan.full ? config_.base_url + "/mailings?" + param("filter[state]", "scheduled") + "&" +
                      param("filter[scheduledAt]", formatIso8601(window.from) + ".." + formatIso8601(plan.reach)) + "&" +
                      param("sort", "scheduledAt")
                : config_.base_url + "/mailings?" + param("filter[updatedAt]", formatIso8601(plan.changed_since) + "..inf") +
                      "&" + param("sort", "updatedAt");
  if (plan.full) prospects_.clear();  // what a full listing includes is read again
  url += "&" + param("include", "recipients,prospect,user") + "&" + param("page[size]", std::to_string(kPageSize)) +
         "&count=false";
  size_t listed = 0;
  int pages = 0;
  while (!url.empty()) {
    nlohmann::json doc = co_await getJson(url, "GET /mailings");
    ++pages;
    if (!doc.contains("data") || !doc["data"].is_array())
      throw ConnectorError(config_.name + ": GET /mailings answered without a data list");
    Included inc;
    inc.add(doc);
    if (doc.contains("included") && doc["included"].is_array())
      for (const auto& r : doc["included"]) {
        if (jsonString(r, "type") == "user") users_[idOf(r)] = toRep(r);
        if (jsonString(r, "type") == "prospect") prospects_[idOf(r)] = r;
      }
    std::vector<ScheduledEmail> page;
    for (const auto& m : doc["data"]) {
      // Only a mailing still to send needs its every recipient (an incremental listing brings the
      // sent and drafted ones too).
      if (m.contains("attributes") && jsonString(m["attributes"], "state") == "scheduled")
        co_await readMissingRecipients(m, inc);
      std::string why;
      auto e = toScheduledEmail(m, inc, config_.name, &why);
      if (!e) {
        if (auto id = idWithoutSendTime(m))
          tracked_.forget(*id);  // not scheduled any more (drafted...): nothing to send
        else
          logger(config_.name)->warn("skipping a malformed mailing: {}", why);
        continue;
      }
      // Trust, but check: only a scheduled mailing still ahead is kept.
      if (tracked_.saw(*e, e->status == "scheduled" && e->scheduled_at >= window.from, window))
        page.push_back(std::move(*e));
    }
    listed += page.size();
    // Each page is checked while the next one is read.
    if (!page.empty()) co_await sink(std::move(page));
    url = nextLink(doc, url, "GET /mailings");
  }
  tracked_.finish(plan);
  logger(config_.name)->debug("{} listing: {} scheduled mailings in the window in {} pages", plan.full ? "full" : "incremental",
                              listed, pages);
  // Unchanged mailings that came into the window since they were read (the engine skips the
  // ones it has in hand or decided).
  co_await sink(tracked_.inWindow(window));
}

Task<OutreachConnector::MailingRead> OutreachConnector::readMailing(const std::string& id, TimePoint due, bool version) {
  // include: JSON:API's compound document, as the listing asks it of GET /mailings. A named local:
  // g++ 12 destroys a conditional expression's temporaries twice inside a co_await's arguments.
  std::string url = config_.base_url + "/mailings/" + urlEncode(id);
  if (version) url += "?" + param("include", "recipients,prospect");
  HttpResponse r = co_await call("GET", url, "", due);
  MailingRead out;
  if (r.status == 404) {
    out.state = "gone";
    co_return out;
  }
  if (r.status < 200 || r.status >= 300)
    throw ConnectorError(config_.name + ": GET /mailings/" + id + " answered " + std::to_string(r.status) + ": " +
                         errorText(r.body));
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j.contains("data") || !j["data"].is_object())
    throw ConnectorError(config_.name + ": GET /mailings/" + id + " answered without a mailing");
  const auto& d = j["data"];
  if (d.contains("attributes")) out.state = jsonString(d["attributes"], "state");
  out.sequenceState = relatedId(d, "sequenceState");
  if (version && out.state == "scheduled") {
    Included inc;
    inc.add(j);
    std::string unreadable;
    const bool everyRecipient = co_await readMissingRecipients(d, inc, due);
    if (everyRecipient) out.current = toScheduledEmail(d, inc, config_.name, &unreadable);
  }
  co_return out;
}

Task<OutreachConnector::Written> OutreachConnector::write(std::string method, std::string url, std::string body,
                                                          TimePoint due) {
  Written w;
  HttpResponse r;
  try {
    r = co_await call(std::move(method), std::move(url), std::move(body), due);
  } catch (const std::exception& e) {
    w.text = e.what();  // no answer: it may or may not have been applied
  }
  if (!w.text.empty()) co_return w;
  w.text = std::to_string(r.status) + ": " + errorText(r.body);
  if (r.status >= 200 && r.status < 300) w.outcome = Written::Applied;
  // A 4xx is Outreach saying no, so nothing changed; but 408 and 429 only say "not now".
  else if (r.status >= 400 && r.status < 500 && r.status != 408 && r.status != 429) w.outcome = Written::Refused;
  co_return w;
}

Task<RevertResult> OutreachConnector::revert(const ScheduledEmail& email) {
  RevertResult result;
  const std::string strategy = config_.revert_strategy.empty() ? "draft" : config_.revert_strategy;
  std::string error;
  // A write answered 5xx or not at all may have been applied (a PATCH that drafted the mailing,
  // then its answer was lost): only the re-read below tells. If it shows the mailing still going
  // out, the revert is an error, tried again later, never the pause fallback meant for a refusal.
  bool unclear = false;
  try {
    // Read first: after a crash the mailing may already be drafted, sent or gone.
    MailingRead read = co_await readMailing(email.id, email.scheduled_at, true);
    const std::string state = read.state;
    std::string sequenceState = read.sequenceState.empty() ? email.ref("sequence_state") : read.sequenceState;
    if (!stillSending(state)) {
      result.confirmed = state == "drafted" || state == "gone";
      result.detail = state == "drafted" ? "already a draft in Outreach"
                      : state == "gone"  ? "the mailing no longer exists in Outreach"
                                         : "Outreach shows state \"" + state + "\": too late to stop";
      co_return result;
    }
    // The rep changed its recipients or send time since it was decided, and no listing has shown
    // it yet (a recipient edit may not even move the mailing's updatedAt): left alone for its new
    // version to be decided, tracked as it is now. A version that cannot be told (a recipient
    // Outreach did not answer for) is stopped as decided.
    if (read.current && !sameVersion(email, *read.current)) {
      tracked_.replace(*read.current);
      co_return RevertResult::changedTo(std::move(*read.current), "changed in Outreach since it was decided: not drafted");
    }
    std::string done;
    bool pause = strategy == "pause_sequence";
    if (!pause) {
      Written w = co_await write("PATCH", config_.base_url + "/mailings/" + urlEncode(email.id), draftedBody(email.id),
                                  email.scheduled_at);
      if (w.outcome == Written::Applied) {
        done = "PATCH state=drafted";
      } else if (w.outcome == Written::Refused) {
        done = "PATCH state=drafted refused (" + w.text + ")";
        // A refusal may only say "it is not scheduled any more": an earlier PATCH of ours that
        // landed late (its answer never came), or the rep. Re-read before a second, different stop.
        MailingRead reread = co_await readMailing(email.id, email.scheduled_at, true);
        const std::string now = reread.state;
        // The rep's edit may be why it was refused: pausing the sequence then would stop it for
        // the old version's reason.
        if (reread.current && !sameVersion(email, *reread.current)) {
          tracked_.replace(*reread.current);
          co_return RevertResult::changedTo(std::move(*reread.current),
                                            done + "; changed in Outreach since it was decided: not paused");
        }
        pause = stillSending(now);  // else the documented fallback is not needed
        if (!pause) done += ", the mailing being \"" + now + "\" already";
      } else {
        done = "PATCH state=drafted got no clear answer (" + w.text + ")";
        unclear = true;
      }
    }
    if (pause) {
      if (sequenceState.empty()) {
        result.detail = done + (done.empty() ? "" : "; ") + "the mailing belongs to no sequence, so it cannot be paused";
        co_return result;
      }
      Written w = co_await write("POST", config_.base_url + "/sequenceStates/" + urlEncode(sequenceState) +
                                             "/actions/pause",
                                  "", email.scheduled_at);
      unclear = w.outcome == Written::Unclear;
      done += std::string(done.empty() ? "" : "; ") +
              (w.outcome == Written::Applied   ? "sequenceState " + sequenceState + " paused"
               : w.outcome == Written::Refused ? "pausing sequenceState " + sequenceState + " failed (" + w.text + ")"
                                               : "pausing sequenceState " + sequenceState + " got no clear answer (" +
                                                     w.text + ")");
    }
    // Confirm with a fresh read. Only a draft or no mailing at all is stopped: "delivered",
    // "opened", "bounced"... (or no state) mean it went out while we were stopping it.
    const std::string after = (co_await readMailing(email.id, email.scheduled_at)).state;
    result.confirmed = after == "drafted" || after == "gone";
    if (!stillSending(after)) unclear = false;  // whatever the write did, the mailing's fate is known
    result.detail = done + (result.confirmed ? "; Outreach now shows the mailing as \"" + after + "\" (confirmed by re-reading)"
                            : stillSending(after)
                                ? "; but Outreach still shows the mailing as \"" + after + "\": NOT stopped"
                                : "; Outreach shows the mailing as \"" + after + "\": it went out before it could be stopped");
  } catch (const std::exception& e) {
    error = e.what();
  }
  // Outreach was not heard (no answer, a 5xx, a body cut short): not "could not be stopped" but
  // "not yet"; the engine tries again.
  if (!error.empty()) throw ConnectorError(error);
  if (unclear && !result.confirmed) throw ConnectorError(config_.name + ": mailing " + email.id + ": " + result.detail);
  co_return result;
}

Task<bool> OutreachConnector::readMissingRecipients(const nlohmann::json& m, Included& inc,
                                                     std::optional<TimePoint> due) {
  bool all = true;
  // JSON:API asks a compound document for every resource its relationships name, but a server
  // may leave some out (a large page); before, such a recipient was skipped without a word.
  for (const auto& id : missingRecipients(m, inc)) {
    const std::string what = "GET /recipients/" + id;
    std::string failure;
    try {
      HttpResponse r = co_await call("GET", config_.base_url + "/recipients/" + urlEncode(id), "", due);
      if (r.status == 404) continue;  // removed from the mailing since it was listed
      auto j = nlohmann::json::parse(r.body, nullptr, false);
      if (r.status < 200 || r.status >= 300)
        failure = "answered " + std::to_string(r.status) + ": " + errorText(r.body);
      else if (!j.is_object() || !j.contains("data") || !j["data"].is_object())
        failure = "answered without a recipient";
      else
        inc.addResource(j["data"]);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (!failure.empty()) {
      all = false;
      logger(config_.name)->warn("mailing {}: recipient {} is not in the listing and {} {}: decided on the others",
                                 idOf(m), id, what, failure);
    }
  }
  co_return all;
}

Task<std::optional<nlohmann::json>> OutreachConnector::resource(const std::string& type, const std::string& id,
                                                                std::optional<TimePoint> due) {
  std::optional<nlohmann::json> out;
  std::string failure;
  try {
    nlohmann::json doc = co_await getJson(config_.base_url + "/" + type + "/" + urlEncode(id), "GET /" + type + "/{id}", due);
    if (doc.contains("data") && doc["data"].is_object()) out = doc["data"];
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!failure.empty()) logger(config_.name)->warn("could not read {} {}: {}", type, id, failure);
  co_return out;
}

Task<EmailPeople> OutreachConnector::people(const ScheduledEmail& email) {
  EmailPeople p;
  // An email resumed after a restart comes before any listing: fetch who the listing would have
  // brought (the rep, the prospect) rather than telling the channel instead of the rep.
  if (!email.user_id.empty() && !users_.count(email.user_id)) {
    auto user = co_await resource("users", email.user_id, email.scheduled_at);
    if (user) users_[email.user_id] = toRep(*user);
  }
  if (!email.contact_id.empty() && !prospects_.count(email.contact_id)) {
    auto prospect = co_await resource("prospects", email.contact_id, email.scheduled_at);
    if (prospect) prospects_[email.contact_id] = std::move(*prospect);
  }
  if (auto it = users_.find(email.user_id); it != users_.end()) p.rep = it->second;
  if (p.rep.id.empty()) p.rep.id = email.user_id;
  if (p.rep.name.empty()) p.rep.name = email.user_name;
  for (const auto& r : email.recipients)
    if (r.profile && p.rep.email.empty() && !r.profile->owner.email.empty()) {
      p.rep.email = r.profile->owner.email;
      if (p.rep.name.empty()) p.rep.name = r.profile->owner.name;
    }
  if (auto it = prospects_.find(email.contact_id); it != prospects_.end() && it->second.contains("attributes")) {
    const auto& a = it->second["attributes"];
    const std::string first = jsonString(a, "firstName"), last = jsonString(a, "lastName");
    p.contact_name = first + (first.empty() || last.empty() ? "" : " ") + last;
  }
  co_return p;
}

Task<void> OutreachConnector::loadProfiles(std::vector<ScheduledEmail>& emails) {
  // Prospects that did not come with this poll's pages (emails read before a restart, kept in the
  // store): read in batches by id.
  std::set<std::string> missing;
  std::optional<TimePoint> due;  // the batch's earliest send
  for (const auto& e : emails) {
    if (!e.contact_id.empty() && !prospects_.count(e.contact_id)) missing.insert(e.contact_id);
    if (!due || e.scheduled_at < *due) due = e.scheduled_at;
  }
  std::string failure;
  try {
    std::vector<nlohmann::json> found;
    co_await readByIds("/prospects", "filter[id]", {missing.begin(), missing.end()}, due, found);
    for (const auto& p : found) prospects_[idOf(p)] = p;
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!failure.empty()) logger(config_.name)->warn("prospects not read: {}", failure);
  std::vector<std::string> ids;
  std::set<std::string> seen;
  for (const auto& e : emails)
    if (!e.contact_id.empty() && prospects_.count(e.contact_id) && seen.insert(e.contact_id).second) ids.push_back(e.contact_id);
  std::map<std::string, std::vector<nlohmann::json>> addresses;  // prospect id -> emailAddress resources
  std::string error;
  try {
    std::vector<nlohmann::json> found;
    co_await readByIds("/emailAddresses", "filter[prospect][id]", ids, due, found);
    for (const auto& a : found) addresses[relatedId(a, "prospect")].push_back(a);
  } catch (const std::exception& e) {
    error = e.what();  // profiles then come from the prospects' own `emails` list
  }
  if (!error.empty()) logger(config_.name)->warn("email addresses not read: {}", error);
  // Owners that did not come with the mailings: one request for all of them.
  std::set<std::string> unknownOwners;
  for (const auto& id : ids)
    if (auto owner = relatedId(prospects_[id], "owner"); !owner.empty() && !users_.count(owner)) unknownOwners.insert(owner);
  if (!unknownOwners.empty()) {
    std::string failure;
    try {
      std::vector<nlohmann::json> found;
      co_await readByIds("/users", "filter[id]", {unknownOwners.begin(), unknownOwners.end()}, due, found);
      for (const auto& u : found) users_[idOf(u)] = toRep(u);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (!failure.empty()) logger(config_.name)->warn("owners not read: {}", failure);
  }
  std::map<std::string, ProfilePtr> profiles;
  for (const auto& id : ids) {
    const nlohmann::json* owner = nullptr;
    const std::string ownerId = relatedId(prospects_[id], "owner");
    nlohmann::json ownerJson;
    if (auto it = users_.find(ownerId); it != users_.end()) {
      ownerJson = userResource(it->second);
      owner = &ownerJson;
    }
    profiles[id] = std::make_shared<const RecipientProfile>(toProfile(prospects_[id], addresses[id], owner));
  }
  for (auto& e : emails) {
    auto it = profiles.find(e.contact_id);
    if (it == profiles.end()) continue;
    for (auto& r : e.recipients)
      if (it->second->find(r.address)) r.profile = it->second;
  }
}

Task<Activity> OutreachConnector::recentActivity(TimePoint since) {
  Activity a;
  std::string url = config_.base_url + "/mailings?" + param("filter[state]", "delivered,bounced,opened,replied") + "&" +
                    param("filter[stateChangedAt]", formatIso8601(since) + "..inf") + "&" + param("include", "recipients") +
                    "&" + param("page[size]", std::to_string(kPageSize)) + "&count=false";
  while (!url.empty()) {
    nlohmann::json doc = co_await getJson(url, "GET /mailings (activity)");
    Included inc;
    inc.add(doc);
    if (doc.contains("data") && doc["data"].is_array())
      for (const auto& m : doc["data"]) {
        const std::string id = idOf(m);
        if (id.empty() || !m.contains("attributes")) continue;
        const auto& attrs = m["attributes"];
        const std::string mailbox = jsonString(attrs, "mailboxAddress");
        std::optional<TimePoint> at = parseIso8601(jsonString(attrs, "deliveredAt"));
        if (!at) at = parseIso8601(jsonString(attrs, "stateChangedAt"));
        if (mailbox.empty() || !at) continue;
        const std::string key = config_.name + "|mailing|" + id;
        a.sent.push_back(SentEmail{key, mailbox, *at});
        if (jsonString(attrs, "state") != "bounced") continue;
        auto bouncedAt = parseIso8601(jsonString(attrs, "bouncedAt"));
        co_await readMissingRecipients(m, inc);  // the bounced address is a recipient
        std::string why;
        auto e = toScheduledEmail(m, inc, config_.name, &why);  // for its recipients
        if (!e) continue;
        for (const auto& r : e->recipients)
          if (r.kind == "to")
            a.bounced.push_back(PlatformBounce{key, r.address, mailbox, jsonString(attrs, "errorReason"), bouncedAt.value_or(*at)});
      }
    url = nextLink(doc, url, "GET /mailings (activity)");
  }
  co_return a;
}

}  // namespace safetynet::outreach
