#include "fakes/fake_outreach.hpp"

#include <algorithm>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "safetynet/core/time_format.hpp"
#include "safetynet/net/url.hpp"

namespace safetynet::fakes {

namespace {
constexpr const char* kMediaType = "application/vnd.api+json";

nlohmann::json errorDoc(const std::string& id, const std::string& title, const std::string& detail) {
  return {{"errors", {{{"id", id}, {"title", title}, {"detail", detail}}}}};
}

std::vector<std::string> splitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

nlohmann::json ref(const std::string& type, long id) {
  if (id == 0) return {{"data", nullptr}};
  return {{"data", {{"type", type}, {"id", id}}}};
}

long toId(const std::string& s) {
  try {
    return std::stol(s);
  } catch (const std::exception&) {
    return -1;
  }
}
}  // namespace

FakeOutreach::FakeOutreach(asio::any_io_executor ex, std::chrono::milliseconds min_mint_interval, unsigned short port)
    // Up to 100 active refresh tokens per user and app (shared/notes/platforms.md).
    : oauth_(kClientId, kClientSecret, kFirstRefreshToken, std::chrono::seconds(7200), min_mint_interval, 100),
      server_(std::make_unique<HttpServer>(ex, [this](const ServerRequest& r) { return handle(r); }, port)) {}

void FakeOutreach::addUser(long id, const std::string& email, const std::string& first, const std::string& last) {
  std::lock_guard l(mu_);
  users_[id] = {{"type", "user"},
                {"id", id},
                {"attributes",
                 {{"email", email}, {"firstName", first}, {"lastName", last}, {"name", first + " " + last},
                  {"username", first}, {"locked", false}}}};
}

void FakeOutreach::addProspect(const FakeOutreachProspect& p) {
  std::lock_guard l(mu_);
  prospects_[p.id] = p;
}

void FakeOutreach::addMailing(const FakeOutreachMailing& m) {
  std::lock_guard l(mu_);
  mailings_[m.id] = m;
  mailings_[m.id].updated_at = m.state_changed_at.value_or(Clock::now());
  if (m.sequence_state_id) sequenceStates_.emplace(m.sequence_state_id, "active");
}

void FakeOutreach::setMailing(long id, const std::string& state, std::optional<TimePoint> scheduled_at) {
  std::lock_guard l(mu_);
  auto it = mailings_.find(id);
  if (it == mailings_.end()) return;
  it->second.state = state;
  if (scheduled_at) it->second.scheduled_at = *scheduled_at;
  it->second.updated_at = Clock::now();
}

void FakeOutreach::setRecipients(long id, std::vector<std::string> to, bool bumpUpdatedAt) {
  std::lock_guard l(mu_);
  auto it = mailings_.find(id);
  if (it == mailings_.end()) return;
  it->second.to = std::move(to);
  it->second.cc.clear();
  it->second.bcc.clear();
  if (bumpUpdatedAt) it->second.updated_at = Clock::now();
}

void FakeOutreach::allowPatchToDrafted(bool allowed) {
  std::lock_guard l(mu_);
  patchAllowed_ = allowed;
}

void FakeOutreach::pauseKeepsMailingScheduled(bool keeps) {
  std::lock_guard l(mu_);
  pauseKeeps_ = keeps;
}

void FakeOutreach::setNextLinks(NextLinks style) {
  std::lock_guard l(mu_);
  nextLinks_ = style;
}

ServerResponse FakeOutreach::page(const ServerRequest& r, const nlohmann::json& all) {
  auto q = [&](const std::string& k) {
    auto it = r.query.find(k);
    return it == r.query.end() ? std::string() : it->second;
  };
  size_t size = 50, start = 0;
  try {
    if (!q("page[size]").empty()) size = std::stoul(q("page[size]"));
    if (!q("page[after]").empty()) start = std::stoul(q("page[after]"));
  } catch (const std::exception&) {
    return document(422, errorDoc("validationError", "Validation Error", "page[size] or page[after] not understood"));
  }
  if (size < 1 || size > 1000)
    return document(422, errorDoc("validationError", "Validation Error", "page[size] must be between 1 and 1000"));
  size = std::min(size, pageCap_);
  auto data = nlohmann::json::array();
  for (size_t i = start; i < all.size() && i < start + size; ++i) data.push_back(all[i]);
  nlohmann::json doc = {{"data", data}, {"links", nlohmann::json::object()}};
  if (start + size < all.size()) doc["links"]["next"] = nextLink(r, std::to_string(start + size));
  return document(200, doc);
}

void FakeOutreach::setPageCap(size_t cap) {
  std::lock_guard l(mu_);
  pageCap_ = std::max<size_t>(cap, 1);
}

std::string FakeOutreach::nextLink(const ServerRequest& r, const std::string& after) const {
  std::string next = nextLinks_ == NextLinks::Relative      ? std::string()
                     : nextLinks_ == NextLinks::OtherOrigin ? std::string("https://elsewhere.test")
                                                            : server_->baseUrl();
  // The keys as JSON:API servers write them: page[after], not page%5Bafter%5D.
  next += r.path + "?";
  for (const auto& [k, v] : r.query)
    if (k != "page[after]") next += k + "=" + urlEncode(v) + "&";
  return next + "page[after]=" + urlEncode(after);
}

void FakeOutreach::rateLimitNext(int n, int retry_after_seconds) {
  std::lock_guard l(mu_);
  rateLimited_ = n;
  retryAfter_ = retry_after_seconds;
}

void FakeOutreach::failNext(int n, int status) {
  std::lock_guard l(mu_);
  failing_ = n;
  failStatus_ = status;
}

void FakeOutreach::failNextWrite(int status, bool applied) {
  std::lock_guard l(mu_);
  writeFault_ = std::make_pair(status, applied);
}

void FakeOutreach::sendBeforeNextWrite() {
  std::lock_guard l(mu_);
  sendBeforeWrite_ = true;
}

void FakeOutreach::setRecipientsBeforeNextWrite(long id, std::vector<std::string> to) {
  std::lock_guard l(mu_);
  editBeforeWrite_ = std::make_pair(id, std::move(to));
}

void FakeOutreach::setDelay(std::chrono::milliseconds d) {
  std::lock_guard l(mu_);
  delay_ = d;
}

void FakeOutreach::setWriteDelay(std::chrono::milliseconds d) {
  std::lock_guard l(mu_);
  writeDelay_ = d;
}

std::string FakeOutreach::state(long id) const {
  std::lock_guard l(mu_);
  auto it = mailings_.find(id);
  return it == mailings_.end() ? "" : it->second.state;
}

std::string FakeOutreach::sequenceState(long id) const {
  std::lock_guard l(mu_);
  auto it = sequenceStates_.find(id);
  return it == sequenceStates_.end() ? "" : it->second;
}

int FakeOutreach::requestCount(const std::string& prefix) const {
  std::lock_guard l(mu_);
  return static_cast<int>(std::count_if(log_.begin(), log_.end(), [&](const std::string& s) { return s.rfind(prefix, 0) == 0; }));
}

std::vector<std::string> FakeOutreach::requestLog() const {
  std::lock_guard l(mu_);
  return log_;
}

ServerResponse FakeOutreach::document(int status, const nlohmann::json& doc) {
  ServerResponse r{status, kMediaType, {}, doc.dump()};
  r.headers["X-RateLimit-Limit"] = "10000";
  r.headers["X-RateLimit-Remaining"] = std::to_string(std::max(0, remaining_));
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
  r.headers["X-RateLimit-Reset"] = std::to_string((now / 3600 + 1) * 3600);
  return r;
}

ServerResponse FakeOutreach::rateLimited(int retry_after_seconds) {
  ServerResponse resp = document(429, errorDoc("rateLimitExceeded", "Rate Limit Exceeded",
                                               "You have exceeded your permitted rate limit of 10000; please try again later."));
  resp.headers["Retry-After"] = std::to_string(retry_after_seconds);
  resp.headers["X-RateLimit-Remaining"] = "0";
  return resp;
}

void FakeOutreach::setFaults(FaultPlan plan, int retry_after_seconds) {
  server_->setFaults(withTokenEndpoint(std::move(plan), [this, retry_after_seconds] {
    std::lock_guard l(mu_);
    return rateLimited(retry_after_seconds);
  }));
}

nlohmann::json FakeOutreach::recipientJson(const FakeOutreachMailing& m, size_t k) const {
  return {{"type", "recipient"},
          {"id", m.id * 100 + static_cast<long>(k)},
          {"attributes", {{"value", k < m.to.size()                  ? m.to[k]
                                    : k < m.to.size() + m.cc.size() ? m.cc[k - m.to.size()]
                                                                    : m.bcc[k - m.to.size() - m.cc.size()]},
                          {"recipientType", k < m.to.size() ? "to" : k < m.to.size() + m.cc.size() ? "cc" : "bcc"},
                          {"primary", k == 0}}}};
}

void FakeOutreach::omitIncludedRecipients(bool omit) {
  std::lock_guard l(mu_);
  omitRecipients_ = omit;
}

void FakeOutreach::failRecipientReads(int status) {
  std::lock_guard l(mu_);
  recipientReadStatus_ = status;
}

void FakeOutreach::removeRecipient(long mailing_id, size_t index) {
  std::lock_guard l(mu_);
  removedRecipients_.insert(mailing_id * 100 + static_cast<long>(index));
}

nlohmann::json FakeOutreach::mailingJson(const FakeOutreachMailing& m) const {
  auto recipients = nlohmann::json::array();
  for (size_t i = 0; i < m.recipientCount(); ++i) recipients.push_back({{"type", "recipient"}, {"id", m.id * 100 + static_cast<long>(i)}});
  nlohmann::json rel = {{"prospect", ref("prospect", m.prospect_id)},
                        {"user", ref("user", m.user_id)},
                        {"mailbox", ref("mailbox", m.user_id)},
                        {"sequenceState", ref("sequenceState", m.sequence_state_id)},
                        {"recipients", {{"data", recipients}}}};
  const std::string when = formatIso8601(m.scheduled_at);
  const std::string changed = formatIso8601(m.state_changed_at.value_or(m.scheduled_at));
  const bool sent = m.state != "scheduled" && m.state != "drafted";
  auto orNull = [](bool present, const std::string& v) { return present ? nlohmann::json(v) : nlohmann::json(nullptr); };
  return {{"type", "mailing"},
          {"id", m.id},
          {"attributes",
           {{"state", m.state}, {"scheduledAt", orNull(m.state != "drafted", when)}, {"subject", m.subject}, {"mailboxAddress", m.mailbox},
            {"mailingType", m.sequence_state_id ? "sequence" : "single"}, {"bodyHtml", nullptr},
            {"createdAt", when}, {"updatedAt", formatIso8601(m.updated_at)}, {"stateChangedAt", changed}, {"openCount", 0}, {"clickCount", 0},
            {"deliveredAt", orNull(sent, changed)}, {"bouncedAt", orNull(m.state == "bounced", changed)},
            {"errorReason", orNull(!m.error_reason.empty(), m.error_reason)}}},
          {"relationships", rel},
          {"links", {{"self", server_->baseUrl() + "/api/v2/mailings/" + std::to_string(m.id)}}}};
}

nlohmann::json FakeOutreach::prospectJson(const FakeOutreachProspect& p) const {
  auto emails = nlohmann::json::array();
  for (const auto& [email, type, status] : p.addresses) emails.push_back(email);
  return {{"type", "prospect"},
          {"id", p.id},
          {"attributes",
           {{"firstName", p.first_name}, {"lastName", p.last_name}, {"emails", emails}, {"emailOptedOut", p.opted_out},
            {"optedOut", p.opted_out},
            {"emailsOptStatus", p.emails_opt_status.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.emails_opt_status)},
            {"engagedAt", p.engaged_at ? nlohmann::json(formatIso8601(*p.engaged_at)) : nlohmann::json(nullptr)},
            {"openCount", p.open_count}, {"clickCount", p.click_count}, {"replyCount", p.reply_count}}},
          {"relationships", {{"owner", ref("user", p.owner_id)}}}};
}

nlohmann::json FakeOutreach::userJson(long id) const {
  auto it = users_.find(id);
  return it == users_.end() ? nlohmann::json(nullptr) : it->second;
}

ServerResponse FakeOutreach::handle(const ServerRequest& r) {
  std::optional<std::pair<int, bool>> fault;
  if (r.method != "GET" && r.path.rfind("/api/v2/", 0) == 0) {
    std::lock_guard l(mu_);
    fault = std::exchange(writeFault_, std::nullopt);
    if (std::exchange(sendBeforeWrite_, false))
      for (auto& [id, m] : mailings_)
        if (m.state == "scheduled") {
          m.state = "delivered";
          m.updated_at = Clock::now();
        }
    if (auto edit = std::exchange(editBeforeWrite_, std::nullopt))
      if (auto it = mailings_.find(edit->first); it != mailings_.end()) it->second.to = edit->second;
  }
  if (!fault) return answer(r);
  const auto [status, applied] = *fault;
  if (applied) answer(r);  // carried out; its answer is replaced below
  std::lock_guard l(mu_);
  if (!applied) log_.push_back(r.method + " " + r.path);
  ServerResponse out = document(status, errorDoc("serverError", "Server Error", "Something went wrong."));
  if (status == 0) out.fault = ConnectionFault::DropBeforeAnswer;
  return out;
}

ServerResponse FakeOutreach::answer(const ServerRequest& r) {
  if (r.path == "/oauth/token") return oauth_.token(r);
  std::unique_lock l(mu_);
  if (auto d = r.method == "GET" ? delay_ : std::max(delay_, writeDelay_); d.count() > 0) {
    l.unlock();
    std::this_thread::sleep_for(d);
    l.lock();
  }
  log_.push_back(r.method + " " + r.path);
  --remaining_;
  if (!oauth_.authorizes(r.header("authorization")))
    return document(401, errorDoc("unauthorized", "Unauthorized", "The access token is invalid or has expired."));
  if (rateLimited_ > 0) {
    --rateLimited_;
    return rateLimited(retryAfter_);
  }
  if (failing_ > 0) {
    --failing_;
    return document(failStatus_, errorDoc("serverError", "Server Error", "Something went wrong."));
  }
  const std::string prefix = "/api/v2";
  if (r.path.rfind(prefix, 0) != 0) return document(404, errorDoc("resourceNotFound", "Resource Not Found", r.path));
  const std::string path = r.path.substr(prefix.size());
  // "All requests must specify the JSON API media type (application/vnd.api+json) within the
  // Content-Type request header. Requests failing to specify this content type will receive a
  // 415" (developers.outreach.io/api/making-requests): GETs and body-less POSTs too.
  if (r.header("content-type").rfind(kMediaType, 0) != 0)
    return document(415, errorDoc("unsupportedMediaType", "Unsupported Media Type",
                                  "Content-Type must be application/vnd.api+json"));
  auto q = [&](const std::string& k) {
    auto it = r.query.find(k);
    return it == r.query.end() ? std::string() : it->second;
  };

  // A resource included without its scope: Outreach's scopes are per resource (granted ones:
  // kGrantedScopes, which hold no mailboxes.*).
  for (const auto& inc : splitList(q("include")))
    if (inc == "mailbox")
      return document(403, errorDoc("forbidden", "Forbidden", "include=mailbox needs the mailboxes.read scope"));
  if (path == "/mailings" && r.method == "GET") {
    std::vector<const FakeOutreachMailing*> match;
    auto states = splitList(q("filter[state]"));
    std::optional<TimePoint> from, to;
    if (auto range = q("filter[scheduledAt]"); !range.empty()) {
      auto dots = range.find("..");
      if (dots == std::string::npos)
        return document(422, errorDoc("validationError", "Validation Error", "filter[scheduledAt] must be a range a..b"));
      std::string a = range.substr(0, dots), b = range.substr(dots + 2);
      if (a != "neginf") from = parseIso8601(a);
      if (b != "inf") to = parseIso8601(b);
      if ((a != "neginf" && !from) || (b != "inf" && !to))
        return document(422, errorDoc("validationError", "Validation Error", "filter[scheduledAt]: not a date-time"));
    }
    std::optional<TimePoint> changedFrom;
    if (auto range = q("filter[stateChangedAt]"); !range.empty()) {
      auto dots = range.find("..");
      if (dots == std::string::npos || !(changedFrom = parseIso8601(range.substr(0, dots))))
        return document(422, errorDoc("validationError", "Validation Error", "filter[stateChangedAt] must be a range a..b"));
    }
    std::optional<TimePoint> updatedFrom;
    if (auto range = q("filter[updatedAt]"); !range.empty()) {
      auto dots = range.find("..");
      if (dots == std::string::npos || !(updatedFrom = parseIso8601(range.substr(0, dots))))
        return document(422, errorDoc("validationError", "Validation Error", "filter[updatedAt] must be a range a..b"));
    }
    for (const auto& [id, m] : mailings_) {
      if (!states.empty() && std::find(states.begin(), states.end(), m.state) == states.end()) continue;
      if (updatedFrom && m.updated_at < *updatedFrom) continue;
      if (from && m.scheduled_at < *from) continue;
      if (to && m.scheduled_at > *to) continue;
      if (changedFrom && m.state_changed_at.value_or(m.scheduled_at) < *changedFrom) continue;
      match.push_back(&m);
    }
    const std::string sort = q("sort");
    if (sort == "updatedAt")
      std::stable_sort(match.begin(), match.end(), [](auto* x, auto* y) { return x->updated_at < y->updated_at; });
    if (sort == "scheduledAt" || sort == "-scheduledAt")
      std::stable_sort(match.begin(), match.end(), [&](auto* x, auto* y) {
        return sort == "scheduledAt" ? x->scheduled_at < y->scheduled_at : x->scheduled_at > y->scheduled_at;
      });
    int size = q("page[size]").empty() ? 50 : std::stoi(q("page[size]"));
    if (size < 1 || size > 1000)
      return document(422, errorDoc("validationError", "Validation Error", "page[size] must be between 1 and 1000"));
    // A cursor, as Outreach's: the last mailing's sort key (not an offset), so a mailing that
    // leaves the filter between two pages (stopped, sent) does not shift the next page.
    auto keyOf = [&](const FakeOutreachMailing* m) {
      const TimePoint t = sort == "updatedAt" ? m->updated_at : m->scheduled_at;
      long long ms = sort.empty() ? 0 : std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
      if (sort == "-scheduledAt") ms = -ms;
      return std::make_pair(ms, m->id);
    };
    size_t start = 0;
    if (const std::string after = q("page[after]"); !after.empty()) {
      const auto dot = after.find('.');
      std::pair<long long, long> cursor;
      try {
        cursor = {std::stoll(after.substr(0, dot)), std::stol(after.substr(dot + 1))};
      } catch (const std::exception&) {
        return document(422, errorDoc("validationError", "Validation Error", "page[after]: not a cursor"));
      }
      while (start < match.size() && keyOf(match[start]) <= cursor) ++start;
    }
    auto includes = splitList(q("include"));
    auto has = [&](const char* k) { return std::find(includes.begin(), includes.end(), k) != includes.end(); };
    auto data = nlohmann::json::array(), included = nlohmann::json::array();
    std::set<std::string> seen;
    auto include = [&](const nlohmann::json& res) {
      if (res.is_null()) return;
      std::string key = res["type"].get<std::string>() + "/" + std::to_string(res["id"].get<long>());
      if (seen.insert(key).second) included.push_back(res);
    };
    for (size_t i = start; i < match.size() && i < start + static_cast<size_t>(size); ++i) {
      const auto& m = *match[i];
      data.push_back(mailingJson(m));
      if (has("recipients") && !omitRecipients_)
        for (size_t k = 0; k < m.recipientCount(); ++k) include(recipientJson(m, k));
      if (has("prospect"))
        if (auto it = prospects_.find(m.prospect_id); it != prospects_.end()) include(prospectJson(it->second));
      if (has("user")) include(userJson(m.user_id));
      if (has("mailbox")) include({{"type", "mailbox"}, {"id", m.user_id}, {"attributes", {{"email", m.mailbox}}}});
    }
    nlohmann::json doc = {{"data", data}, {"links", nlohmann::json::object()}};
    if (!included.empty()) doc["included"] = included;
    if (start + static_cast<size_t>(size) < match.size()) {
      const auto last = keyOf(match[start + static_cast<size_t>(size) - 1]);
      doc["links"]["next"] = nextLink(r, std::to_string(last.first) + "." + std::to_string(last.second));
    }
    if (q("count") != "false") doc["meta"] = {{"count", match.size()}};
    return document(200, doc);
  }
  if (path.rfind("/mailings/", 0) == 0) {
    const long id = toId(path.substr(10));
    auto it = mailings_.find(id);
    if (it == mailings_.end())
      return document(404, errorDoc("resourceNotFound", "Resource Not Found", "Could not find 'mailing' with ID '" + path.substr(10) + "'."));
    if (r.method == "GET") {
      // include= as on the listing (JSON:API compound document): recipients and prospect.
      nlohmann::json doc = {{"data", mailingJson(it->second)}};
      auto includes = splitList(q("include"));
      auto has = [&](const char* k) { return std::find(includes.begin(), includes.end(), k) != includes.end(); };
      auto included = nlohmann::json::array();
      if (has("recipients") && !omitRecipients_)
        for (size_t k = 0; k < it->second.recipientCount(); ++k) included.push_back(recipientJson(it->second, k));
      if (has("prospect"))
        if (auto p = prospects_.find(it->second.prospect_id); p != prospects_.end()) included.push_back(prospectJson(p->second));
      if (!included.empty()) doc["included"] = included;
      return document(200, doc);
    }
    if (r.method == "PATCH") {
      auto body = nlohmann::json::parse(r.body, nullptr, false);
      if (!body.is_object() || !body.contains("data") || !body["data"].is_object())
        return document(400, errorDoc("badRequest", "Bad Request", "The request body must be a JSON:API document"));
      const auto& d = body["data"];
      if (d.value("type", "") != "mailing")
        return document(409, errorDoc("typeMismatch", "Conflict", "data.type must be 'mailing'"));
      if (!d.contains("id") || !d["id"].is_number_integer() || d["id"].get<long>() != id)
        return document(409, errorDoc("idMismatch", "Conflict", "data.id must match the URL"));
      if (d.contains("attributes") && d["attributes"].contains("state")) {
        const std::string to = d["attributes"]["state"].is_string() ? d["attributes"]["state"].get<std::string>() : "";
        if (!patchAllowed_ || to != "drafted" || it->second.state != "scheduled")
          return document(422, errorDoc("validationError", "Validation Error",
                                        "State transition from " + it->second.state + " to " + to + " is not permitted"));
        it->second.state = "drafted";
        it->second.updated_at = Clock::now();
      }
      return document(200, {{"data", mailingJson(it->second)}});
    }
    return document(405, errorDoc("methodNotAllowed", "Method Not Allowed", r.method));
  }
  if (path.rfind("/users/", 0) == 0 && r.method == "GET") {
    auto it = users_.find(toId(path.substr(7)));
    if (it == users_.end())
      return document(404, errorDoc("resourceNotFound", "Resource Not Found", "Could not find 'user' with ID '" + path.substr(7) + "'."));
    return document(200, {{"data", it->second}});
  }
  if (path.rfind("/recipients/", 0) == 0 && r.method == "GET") {
    if (recipientReadStatus_)
      return document(recipientReadStatus_, errorDoc("serverError", "Server Error", "recipients are not available"));
    const long id = toId(path.substr(12));
    auto it = mailings_.find(id / 100);
    const size_t k = static_cast<size_t>(id % 100);
    if (it == mailings_.end() || k >= it->second.recipientCount() || removedRecipients_.count(id))
      return document(404, errorDoc("resourceNotFound", "Resource Not Found", "Could not find 'recipient' with ID '" + path.substr(12) + "'."));
    return document(200, {{"data", recipientJson(it->second, k)}});
  }
  if (path.rfind("/prospects/", 0) == 0 && r.method == "GET") {
    auto it = prospects_.find(toId(path.substr(11)));
    if (it == prospects_.end())
      return document(404, errorDoc("resourceNotFound", "Resource Not Found", "Could not find 'prospect' with ID '" + path.substr(11) + "'."));
    return document(200, {{"data", prospectJson(it->second)}});
  }
  if (path == "/prospects" && r.method == "GET") {
    auto data = nlohmann::json::array();
    for (const auto& s : splitList(q("filter[id]")))
      if (auto it = prospects_.find(toId(s)); it != prospects_.end()) data.push_back(prospectJson(it->second));
    return page(r, data);
  }
  if (path == "/users" && r.method == "GET") {
    auto data = nlohmann::json::array();
    for (const auto& s : splitList(q("filter[id]")))
      if (auto it = users_.find(toId(s)); it != users_.end()) data.push_back(it->second);
    return page(r, data);
  }
  if (path == "/emailAddresses" && r.method == "GET") {
    auto ids = splitList(q("filter[prospect][id]"));
    auto all = nlohmann::json::array();
    for (const auto& s : ids) {
      auto it = prospects_.find(toId(s));
      if (it == prospects_.end()) continue;
      int order = 0;
      for (const auto& [email, type, status] : it->second.addresses) {
        all.push_back({{"type", "emailAddress"},
                       {"id", it->first * 10 + order},
                       {"attributes",
                        {{"email", email}, {"emailType", type}, {"order", order}, {"status", status},
                         {"unsubscribedAt", nullptr}}},
                       {"relationships", {{"prospect", ref("prospect", it->first)}}}});
        ++order;
      }
    }
    return page(r, all);
  }
  if (path.rfind("/sequenceStates/", 0) == 0 && r.method == "POST") {
    const std::string rest = path.substr(16);
    const auto slash = rest.find('/');
    const long id = toId(rest.substr(0, slash));
    if (slash == std::string::npos || rest.substr(slash) != "/actions/pause")
      return document(404, errorDoc("resourceNotFound", "Resource Not Found", path));
    auto it = sequenceStates_.find(id);
    if (it == sequenceStates_.end())
      return document(404, errorDoc("resourceNotFound", "Resource Not Found", "Could not find 'sequenceState'"));
    it->second = "paused";
    if (!pauseKeeps_)
      for (auto& [mid, m] : mailings_)
        if (m.sequence_state_id == id && m.state == "scheduled") {
          m.state = "drafted";
          m.updated_at = Clock::now();
        }
    return document(200, {{"data", {{"type", "sequenceState"}, {"id", id}, {"attributes", {{"state", "paused"}}}}}});
  }
  return document(404, errorDoc("resourceNotFound", "Resource Not Found", r.method + " " + path));
}

}  // namespace safetynet::fakes
