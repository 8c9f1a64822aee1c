#include "connectors/salesloft/salesloft_connector.hpp"

#include <set>

#include "safetynet/core/json_util.hpp"
#include "safetynet/core/text.hpp"
#include "safetynet/core/logging.hpp"
#include "safetynet/core/time_format.hpp"
#include "safetynet/net/url.hpp"

namespace safetynet::salesloft {

namespace {
constexpr int kPerPage = 100;

// Salesloft's cost of a page (notes/platforms.md: deeper pages cost more).
int pageCost(int page) {
  if (page <= 100) return 1;
  if (page <= 150) return 3;
  if (page <= 250) return 8;
  if (page <= 500) return 10;
  return 30;
}

// The spec's statuses of an email not sent yet (GET /v2/activities/emails.json, "status").
constexpr const char* kStillToSend =
    "scheduled,pending,pending_reply_check,sending,delivering,pending_through_gmail,pending_through_external";

bool stillSending(const std::string& status) {
  return !status.empty() && status.find(',') == std::string::npos &&
         ("," + std::string(kStillToSend) + ",").find("," + status + ",") != std::string::npos;
}

// A write answered 5xx, 408 or 429 was not heard: "not yet", tried again by the engine (whose
// retry reads the email first, so a write that did land is seen then). Other answers say no.
void throwIfNotHeard(const HttpResponse& r, const std::string& what) {
  if (r.status >= 500 || r.status == 408 || r.status == 429)
    throw ConnectorError(what + " answered " + std::to_string(r.status) + ": " + errorText(r.body));
}
}  // namespace

SalesloftConnector::SalesloftConnector(ConnectorConfig config, HttpClientPtr http, Store& store)
    : config_(std::move(config)),
      http_(http),
      budget_(config_.name, RateDialect::Salesloft, config_.rate_budget),
      tracked_(config_.name, store, config_.resync_every) {
  while (!config_.base_url.empty() && config_.base_url.back() == '/') config_.base_url.pop_back();
  if (config_.oauth.enabled) oauth_.emplace(config_.name, config_.oauth, http, store);
}

Task<HttpResponse> SalesloftConnector::call(std::string method, std::string path, std::string body,
                                            std::string content_type, int cost, std::optional<TimePoint> due) {
  HttpResponse r;
  for (int attempt = 0; attempt < 2; ++attempt) {
    co_await budget_.beforeRequest(cost, due);
    std::string token = config_.api_key.reveal();
    if (oauth_) {
      token = co_await oauth_->accessToken();
      if (attempt == 1) token = co_await oauth_->renewAfterRejection(token);
    }
    HttpRequest req;
    req.method = method;
    req.url = config_.base_url + path;
    req.headers = {{"Authorization", "Bearer " + token}, {"Accept", "application/json"}};
    if (!body.empty()) {
      req.headers.emplace_back("Content-Type", content_type);
      req.body = body;
    }
    r = co_await http_->send(std::move(req));
    budget_.observe(r);
    if (r.status != 401 || !oauth_) break;
    logger(config_.name)->info("Salesloft answered 401: renewing the access token");
  }
  co_return r;
}

Task<nlohmann::json> SalesloftConnector::getJson(const std::string& path, const std::string& what, int cost,
                                                std::optional<TimePoint> due) {
  HttpResponse r = co_await call("GET", path, "", "", cost, due);
  if (r.status == 401)
    throw ConnectorError(config_.name + ": Salesloft rejected the " + std::string(oauth_ ? "access token" : "API key") +
                         " (401) on " + what);
  if (r.status < 200 || r.status >= 300)
    throw ConnectorError(config_.name + ": " + what + " answered " + std::to_string(r.status) + ": " + errorText(r.body));
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  // An object (the envelope, or one resource) or an array (a list, as the spec has it).
  if (!j.is_object() && !j.is_array())
    throw ConnectorError(config_.name + ": " + what + " answered something that is neither a JSON object nor an array");
  co_return j;
}

Task<std::vector<ScheduledEmail>> SalesloftConnector::listScheduled(TimeWindow window) {
  co_return co_await collectScheduled(*this, window);
}

// Page numbers are offsets: an email that leaves the filtered list between two pages (sent, or
// stopped by us) or moves to its end (updated) shifts the rest and hides one email from the
// listing, and a full listing forgets what it did not see. So the next request asks for
// updated_at[gte] the last one seen, from page 1; only a page that is one instant throughout (a
// bulk change) is followed by the next page number. An email updated during the listing moves to
// its end and is read again (the callers are idempotent).
Task<void> SalesloftConnector::pageByUpdatedAt(std::string filter, std::optional<TimePoint> since, std::string what,
                                               std::function<Task<void>(const nlohmann::json&)> onPage) {
  int page = 1;
  for (;;) {
    std::string path = "/activities/emails.json?" + filter;
    if (since) path += "updated_at" + urlEncode("[gte]") + "=" + urlEncode(formatIso8601(*since)) + "&";
    path += "sort_by=updated_at&sort_direction=ASC&per_page=" + std::to_string(kPerPage) + "&page=" + std::to_string(page);
    const nlohmann::json doc = co_await getJson(path, what, pageCost(page));
    const nlohmann::json* data = listIn(doc);
    if (!data) throw ConnectorError(config_.name + ": " + what + " answered without a list of emails");
    std::optional<TimePoint> lastUpdated;
    for (const auto& m : *data)
      if (auto u = parseIso8601(jsonString(m, "updated_at")); u && (!lastUpdated || *u > *lastUpdated)) lastUpdated = u;
    co_await onPage(*data);
    // The envelope's paging says whether more follow; a bare array (the spec's shape) says it by
    // being full: a short or empty page is the last.
    const bool more = hasNextPage(doc).value_or(data->size() == static_cast<size_t>(kPerPage));
    if (!more || data->empty()) break;
    if (lastUpdated && (!since || *lastUpdated > *since)) {
      since = lastUpdated;
      page = 1;
    } else {
      ++page;
    }
  }
}

Task<void> SalesloftConnector::streamScheduled(TimeWindow window, PageSink sink) {
  const TimePoint now = Clock::now();
  const auto plan = tracked_.plan(now, std::chrono::duration_cast<std::chrono::milliseconds>(window.to - window.from));
  // Full: every email still to send (the send_time order would list the earliest first, but no
  // send_time filter exists to page by). Increment: every email updated since the last poll,
  // whatever its status (one cancelled or sent must be forgotten).
  const std::string filter = plan.full ? "status=" + urlEncode(kStillToSend) + "&" : "";
  std::optional<TimePoint> since;
  if (!plan.full) since = plan.changed_since;
  co_await pageByUpdatedAt(filter, since, "GET /activities/emails.json", [&](const nlohmann::json& data) -> Task<void> {
    std::vector<ScheduledEmail> out;
    for (const auto& m : data) {
      std::string why;
      auto e = toScheduledEmail(m, config_.name, &why);
      if (!e) {
        if (auto id = idWithoutSendTime(m))
          tracked_.forget(*id);  // already sent: nothing to send
        else
          logger(config_.name)->warn("skipping a malformed email: {}", why);
        continue;
      }
      const bool keep = stillSending(e->status) && e->scheduled_at >= window.from && e->scheduled_at <= plan.reach;
      // Listed and tracked as decided: without the sender's automatic BCC (one request per user,
      // kept), so the key the engine looks up is the key it decides under.
      if (keep) {
        const bool bccKnown = co_await dropAutoBcc(*e);
        (void)bccKnown;  // unknown: kept, as loadProfiles keeps it
      }
      if (tracked_.saw(*e, keep, window)) out.push_back(std::move(*e));
    }
    // Each page is checked while the next one is read.
    if (!out.empty()) co_await sink(std::move(out));
  });
  tracked_.finish(plan);
  // Unchanged emails that came into the window since they were read.
  co_await sink(tracked_.inWindow(window));
}

Task<nlohmann::json> SalesloftConnector::emailResource(const std::string& id, TimePoint due) {
  HttpResponse r = co_await call("GET", "/activities/emails/" + urlEncode(id) + ".json", "", "", 1, due);
  if (r.status == 404) co_return nlohmann::json();  // gone
  if (r.status < 200 || r.status >= 300)
    throw ConnectorError(config_.name + ": GET /activities/emails/" + id + " answered " + std::to_string(r.status) + ": " +
                         errorText(r.body));
  const auto j = nlohmann::json::parse(r.body, nullptr, false);
  const nlohmann::json* email = resourceIn(j);
  if (!email) throw ConnectorError(config_.name + ": GET /activities/emails/" + id + " answered without an email");
  co_return *email;
}

Task<std::string> SalesloftConnector::emailStatus(const std::string& id, TimePoint due) {
  const nlohmann::json email = co_await emailResource(id, due);
  if (email.is_null()) co_return std::string("gone");
  co_return jsonString(email, "status");
}

Task<SalesloftConnector::EmailRead> SalesloftConnector::readEmail(const std::string& id, TimePoint due) {
  const nlohmann::json email = co_await emailResource(id, due);
  EmailRead out;
  if (email.is_null()) {
    out.status = "gone";
    co_return out;
  }
  out.status = jsonString(email, "status");
  std::string unreadable;  // the version cannot be read (no send_after once sent): status only
  out.current = toScheduledEmail(email, config_.name, &unreadable);
  if (out.current) {
    const bool known = co_await dropAutoBcc(*out.current, due);
    if (!known) out.current.reset();
  }
  co_return out;
}

Task<bool> SalesloftConnector::dropAutoBcc(ScheduledEmail& e, std::optional<TimePoint> due) {
  if (e.user_id.empty()) co_return true;
  if (!autoBcc_.count(e.user_id)) {
    std::string failure;
    try {
      co_await user(e.user_id, due);
    } catch (const std::exception& ex) {
      failure = ex.what();
    }
    if (!failure.empty()) logger(config_.name)->warn("could not look up user {}: {}", e.user_id, failure);
  }
  auto it = autoBcc_.find(e.user_id);
  if (it == autoBcc_.end()) co_return false;
  if (!it->second.empty())
    std::erase_if(e.recipients, [&](const Recipient& r) { return r.kind == "bcc" && asciiLower(r.address) == it->second; });
  co_return true;
}

Task<std::string> SalesloftConnector::removeFromCadence(const ScheduledEmail& email) {
  const std::string person = email.ref("person"), cadence = email.ref("cadence");
  nlohmann::json doc = co_await getJson("/cadence_memberships.json?person_id=" + urlEncode(person) +
                                            "&cadence_id=" + urlEncode(cadence) + "&currently_on_cadence=true",
                                        "GET /cadence_memberships.json", 1, email.scheduled_at);
  std::string membership;
  if (const auto* list = listIn(doc); list && !list->empty()) membership = idOf((*list)[0]);
  if (membership.empty()) co_return "person " + person + " is on cadence " + cadence + " no longer";
  HttpResponse r =
      co_await call("DELETE", "/cadence_memberships/" + urlEncode(membership) + ".json", "", "", 1, email.scheduled_at);
  throwIfNotHeard(r, config_.name + ": DELETE /cadence_memberships/" + membership);
  if (r.status == 204 || r.status == 200 || r.status == 404)
    co_return "cadence membership " + membership + " deleted (person " + person + " removed from cadence " + cadence + ")";
  co_return "deleting cadence membership " + membership + " failed (" + std::to_string(r.status) + ": " +
      errorText(r.body) + ")";
}

Task<std::string> SalesloftConnector::restrictEmail(const ScheduledEmail& email) {
  const std::string person = email.ref("person");
  nlohmann::json doc =
      co_await getJson("/people/" + urlEncode(person) + ".json", "GET /people/{id}.json", 1, email.scheduled_at);
  // Keep the restrictions already there (call, message) and add email. Form-encoded, per the spec.
  std::set<std::string> restrictions;
  restrictions.insert("email");
  if (const auto* person = resourceIn(doc);
      person && person->contains("contact_restrictions") && (*person)["contact_restrictions"].is_array())
    for (const auto& c : (*person)["contact_restrictions"])
      if (c.is_string()) restrictions.insert(c.get<std::string>());
  std::string body;
  for (const auto& c : restrictions) body += (body.empty() ? "" : "&") + urlEncode("contact_restrictions[]") + "=" + urlEncode(c);
  HttpResponse r = co_await call("PUT", "/people/" + urlEncode(person) + ".json", body, "application/x-www-form-urlencoded",
                                 1, email.scheduled_at);
  throwIfNotHeard(r, config_.name + ": PUT /people/" + person);
  if (r.status >= 200 && r.status < 300) co_return "email added to person " + person + "'s contact restrictions";
  co_return "restricting email for person " + person + " failed (" + std::to_string(r.status) + ": " + errorText(r.body) + ")";
}

Task<RevertResult> SalesloftConnector::revert(const ScheduledEmail& email) {
  RevertResult result;
  std::string error;
  try {
    EmailRead read = co_await readEmail(email.id, email.scheduled_at);
    const std::string before = read.status;
    if (!stillSending(before)) {
      result.confirmed = before == "cancelled" || before == "failed" || before == "gone";
      result.detail = result.confirmed ? "Salesloft already shows the email as \"" + before + "\""
                                       : "Salesloft shows status \"" + before + "\": too late to stop";
      co_return result;
    }
    // The rep changed its recipients or send time since it was decided, and no listing has shown
    // it yet: left alone for its new version to be decided (tracked as it is now). An email the
    // mapping cannot read cannot tell: stopped as decided.
    if (read.current && !sameVersion(email, *read.current)) {
      tracked_.replace(*read.current);
      co_return RevertResult::changedTo(std::move(*read.current), "changed in Salesloft since it was decided: not stopped");
    }
    // The stop acts on the person and cadence: those the email names now (a step moved to another
    // cadence since it was listed is stopped there).
    ScheduledEmail target = email;
    if (read.current) {
      if (auto person = read.current->ref("person"); !person.empty()) target.refs["person"] = person;
      if (auto cadence = read.current->ref("cadence"); !cadence.empty()) target.refs["cadence"] = cadence;
    }
    std::string strategy = config_.revert_strategy.empty() ? "remove_from_cadence" : config_.revert_strategy;
    std::string done;
    if (strategy == "remove_from_cadence" && target.ref("cadence").empty()) {
      done = "a one-off email (no cadence): ";
      strategy = "restrict_email";
    }
    if (target.ref("person").empty()) {
      result.detail = "the email names no person, so it cannot be stopped";
      co_return result;
    }
    // Named locals, not a conditional expression: g++ 12 mishandles co_await inside one.
    std::string action;
    if (strategy == "remove_from_cadence")
      action = co_await removeFromCadence(target);
    else
      action = co_await restrictEmail(target);
    done += action;
    std::string after = co_await emailStatus(email.id, email.scheduled_at);
    if (strategy == "remove_from_cadence" && stillSending(after)) {
      // No membership listed (currently_on_cadence already false, or not visible to this key), or
      // its removal did not cancel the email: the other documented stop, before reporting failure.
      const std::string more = co_await restrictEmail(target);
      done += "; still \"" + after + "\", so " + more;
      after = co_await emailStatus(email.id, email.scheduled_at);
    }
    // Only "cancelled", "failed" or no email is stopped: "sent..." means it went out meanwhile.
    result.confirmed = after == "cancelled" || after == "failed" || after == "gone";
    result.detail = done + (result.confirmed ? "; Salesloft now shows the email as \"" + after + "\" (confirmed by re-reading)"
                            : stillSending(after)
                                ? "; but Salesloft still shows the email as \"" + after + "\": NOT stopped"
                                : "; Salesloft shows the email as \"" + after + "\": it went out before it could be stopped");
  } catch (const std::exception& e) {
    error = e.what();
  }
  // Salesloft was not heard (no answer, a 5xx, a body cut short): not "could not be stopped" but
  // "not yet"; the engine tries again.
  if (!error.empty()) throw ConnectorError(error);
  co_return result;
}

Task<std::optional<nlohmann::json>> SalesloftConnector::resource(const std::string& type, const std::string& id,
                                                                 std::optional<TimePoint> due) {
  std::optional<nlohmann::json> out;
  std::string failure;
  try {
    nlohmann::json doc = co_await getJson("/" + type + "/" + urlEncode(id) + ".json", "GET /" + type + "/{id}.json", 1, due);
    if (const auto* r = resourceIn(doc)) out = *r;
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!failure.empty()) logger(config_.name)->warn("could not read {} {}: {}", type, id, failure);
  co_return out;
}

Task<EmailPeople> SalesloftConnector::people(const ScheduledEmail& email) {
  EmailPeople p;
  p.rep.id = email.user_id;
  if (!email.user_id.empty()) {
    if (auto it = users_.find(email.user_id); it != users_.end()) {
      p.rep = it->second;
    } else {
      auto user = co_await resource("users", email.user_id, email.scheduled_at);
      if (user) {
        p.rep = toRep(*user);
        users_[email.user_id] = p.rep;
      }
    }
  }
  // An email resumed after a restart comes before loadProfiles: fetch the person for their name.
  if (!email.contact_id.empty() && !people_.count(email.contact_id)) {
    auto person = co_await resource("people", email.contact_id, email.scheduled_at);
    if (person) people_[email.contact_id] = std::move(*person);
  }
  if (auto it = people_.find(email.contact_id); it != people_.end()) {
    p.contact_name = jsonString(it->second, "display_name");
    if (p.contact_name.empty())
      p.contact_name = jsonString(it->second, "first_name") + " " + jsonString(it->second, "last_name");
  }
  co_return p;
}

Task<void> SalesloftConnector::loadProfiles(std::vector<ScheduledEmail>& emails) {
  std::vector<std::string> ids;
  std::set<std::string> seen;
  std::optional<TimePoint> due;  // the batch's earliest send
  for (const auto& e : emails) {
    if (!e.contact_id.empty() && seen.insert(e.contact_id).second) ids.push_back(e.contact_id);
    if (!due || e.scheduled_at < *due) due = e.scheduled_at;
  }
  std::string error;
  try {
    for (size_t i = 0; i < ids.size(); i += kPerPage) {
      std::string list;
      for (size_t k = i; k < ids.size() && k < i + kPerPage; ++k) list += (list.empty() ? "" : ",") + ids[k];
      nlohmann::json doc = co_await getJson("/people.json?ids=" + urlEncode(list) + "&per_page=" + std::to_string(kPerPage),
                                            "GET /people.json", 1, due);
      if (const auto* list = listIn(doc))
        for (const auto& p : *list) people_[idOf(p)] = p;
    }
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!error.empty()) logger(config_.name)->warn("people not read: {}", error);
  // The owners, for the profile (cached for the process's life: users change rarely).
  std::set<std::string> owners;
  for (const auto& id : ids)
    if (auto it = people_.find(id); it != people_.end())
      if (auto owner = embeddedId(it->second, "owner"); !owner.empty() && !users_.count(owner)) owners.insert(owner);
  for (const auto& owner : owners) {
    std::string failure;
    try {
      nlohmann::json doc = co_await getJson("/users/" + urlEncode(owner) + ".json", "GET /users/{id}.json", 1, due);
      if (const auto* u = resourceIn(doc)) users_[owner] = toRep(*u);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (!failure.empty()) logger(config_.name)->warn("could not look up owner {}: {}", owner, failure);
  }
  // Each sender's automatic BCC ("Address that will be BCC'd on all emails from this user", the
  // spec's User.bcc_email_address): a CRM's logging drop box on every email, not a recipient the
  // rep chose. Checked as one, a flag on it would hold every email the user sends.
  std::set<std::string> senders;
  for (const auto& e : emails)
    if (!e.user_id.empty() && !autoBcc_.count(e.user_id)) senders.insert(e.user_id);
  for (const auto& id : senders) {
    std::string failure;
    try {
      co_await user(id);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (!failure.empty()) logger(config_.name)->warn("could not look up user {}: {}", id, failure);
  }
  for (auto& e : emails)
    if (auto it = autoBcc_.find(e.user_id); it != autoBcc_.end() && !it->second.empty())
      std::erase_if(e.recipients, [&](const Recipient& r) { return r.kind == "bcc" && asciiLower(r.address) == it->second; });
  std::map<std::string, ProfilePtr> profiles;
  for (const auto& id : ids)
    if (auto it = people_.find(id); it != people_.end()) {
      RecipientProfile p = toProfile(it->second);
      if (auto u = users_.find(p.owner.id); u != users_.end())
        p.owner = ProfileOwner{u->second.id, u->second.name, u->second.email, u->second.slack_username};
      profiles[id] = std::make_shared<const RecipientProfile>(std::move(p));
    }
  for (auto& e : emails) {
    auto it = profiles.find(e.contact_id);
    if (it == profiles.end()) continue;
    for (auto& r : e.recipients)
      if (it->second->find(r.address)) r.profile = it->second;
  }
}

Task<Rep> SalesloftConnector::user(const std::string& id, std::optional<TimePoint> due) {
  if (auto it = users_.find(id); it != users_.end() && sendingAddress_.count(id)) co_return it->second;
  nlohmann::json doc = co_await getJson("/users/" + urlEncode(id) + ".json", "GET /users/{id}.json", 1, due);
  Rep r;
  if (const auto* u = resourceIn(doc)) {
    r = toRep(*u);
    const std::string sending = jsonString(*u, "sending_email_address");
    sendingAddress_[id] = sending.empty() ? r.email : sending;
    autoBcc_[id] = asciiLower(jsonString(*u, "bcc_email_address"));
  }
  users_[id] = r;
  co_return r;
}

Task<Activity> SalesloftConnector::recentActivity(TimePoint since) {
  Activity a;
  // Updated since, not sent since: a bounce comes minutes to days after the send, and marks an
  // email already read as sent (updated_at moves; sent_at does not).
  const std::string filter = "status=" + urlEncode("sent,sent_from_gmail,sent_from_external") + "&";
  co_await pageByUpdatedAt(filter, since, "GET /activities/emails.json (sent)", [&](const nlohmann::json& data) -> Task<void> {
    for (const auto& m : data) {
      const std::string id = idOf(m), userId = embeddedId(m, "user");
      auto at = parseIso8601(jsonString(m, "sent_at"));
      if (id.empty() || userId.empty() || !at) continue;
      if (!sendingAddress_.count(userId)) {
        std::string failure;
        try {
          co_await user(userId);
        } catch (const std::exception& e) {
          failure = e.what();
        }
        if (!failure.empty()) logger(config_.name)->warn("user {}: {}", userId, failure);
      }
      const std::string mailbox = sendingAddress_.count(userId) ? sendingAddress_[userId] : "";
      if (mailbox.empty()) continue;
      const std::string key = config_.name + "|email|" + id;
      a.sent.push_back(SentEmail{key, mailbox, *at});
      if (jsonBool(m, "bounced"))
        a.bounced.push_back(PlatformBounce{key, jsonString(m, "recipient_email_address"), mailbox,
                                           jsonString(m, "error_message"), *at});
    }
  });
  co_return a;
}

}  // namespace safetynet::salesloft
