#include "fakes/fake_salesloft.hpp"

#include <algorithm>
#include <set>
#include <sstream>
#include <thread>

#include "safetynet/core/time_format.hpp"

namespace safetynet::fakes {

namespace {
nlohmann::json errorBody(const std::string& message) { return {{"error", message}}; }

long toId(const std::string& s) {
  try {
    return std::stol(s);
  } catch (const std::exception&) {
    return -1;
  }
}

std::vector<std::string> splitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

nlohmann::json embedded(const std::string& base, const std::string& kind, long id) {
  if (id == 0) return nullptr;
  return {{"id", id}, {"_href", base + "/v2/" + kind + "/" + std::to_string(id)}};
}

int pageCost(int page) { return page <= 100 ? 1 : page <= 150 ? 3 : page <= 250 ? 8 : page <= 500 ? 10 : 30; }
}  // namespace

FakeSalesloft::FakeSalesloft(asio::any_io_executor ex, std::string api_key, unsigned short port)
    : api_key_(std::move(api_key)),
      oauth_(kClientId, kClientSecret, kFirstRefreshToken),
      server_(std::make_unique<HttpServer>(ex, [this](const ServerRequest& r) { return handle(r); }, port)) {}

void FakeSalesloft::addUser(long id, const std::string& email, const std::string& name, const std::string& slack,
                            const std::string& bcc) {
  std::lock_guard l(mu_);
  users_[id] = {{"id", id}, {"guid", "guid-" + std::to_string(id)}, {"name", name}, {"email", email},
                {"slack_username", slack.empty() ? nlohmann::json(nullptr) : nlohmann::json(slack)},
                {"sending_email_address", email}, {"active", true}, {"time_zone", "US/Eastern"},
                {"bcc_email_address", bcc.empty() ? nlohmann::json(nullptr) : nlohmann::json(bcc)}};
}

void FakeSalesloft::addPerson(const nlohmann::json& p) {
  std::lock_guard l(mu_);
  people_[p.at("id").get<long>()] = p;
}

void FakeSalesloft::bounceEmail(long id, const std::string& error_message, TimePoint at) {
  std::lock_guard l(mu_);
  auto& e = emails_.at(id);
  e.bounced = true;
  e.error_message = error_message;
  e.updated_at = at;
}

void FakeSalesloft::addEmail(const FakeSalesloftEmail& e) {
  std::lock_guard l(mu_);
  emails_[e.id] = e;
  auto& stored = emails_[e.id];
  if (!stored.updated_at) stored.updated_at = e.sent_at ? *e.sent_at : Clock::now();  // created now
  if (e.cadence_id) {
    bool known = false;
    for (const auto& [id, pc] : memberships_)
      if (pc == std::make_pair(e.person_id, e.cadence_id)) known = true;
    // Ids are never reused: one taken from the size would overwrite another after a DELETE.
    if (!known) memberships_[nextMembership_++] = {e.person_id, e.cadence_id};
  }
}

void FakeSalesloft::setStatus(long id, const std::string& status) {
  std::lock_guard l(mu_);
  auto it = emails_.find(id);
  if (it == emails_.end()) return;
  it->second.status = status;
  it->second.updated_at = Clock::now();
}

void FakeSalesloft::editEmail(long id, const std::function<void(FakeSalesloftEmail&)>& edit, bool bumpUpdatedAt) {
  std::lock_guard l(mu_);
  auto it = emails_.find(id);
  if (it == emails_.end()) return;
  edit(it->second);
  if (bumpUpdatedAt) it->second.updated_at = Clock::now();
}

void FakeSalesloft::rateLimitNext(int n) {
  std::lock_guard l(mu_);
  rateLimited_ = n;
}

void FakeSalesloft::forgetMemberships() {
  std::lock_guard l(mu_);
  memberships_.clear();
}

void FakeSalesloft::sendBeforeNextWrite() {
  std::lock_guard l(mu_);
  sendBeforeWrite_ = true;
}

void FakeSalesloft::failNext(int n, int status) {
  std::lock_guard l(mu_);
  failing_ = n;
  failStatus_ = status;
}

void FakeSalesloft::setDelay(std::chrono::milliseconds d) {
  std::lock_guard l(mu_);
  delay_ = d;
}

void FakeSalesloft::stopsNothing(bool v) {
  std::lock_guard l(mu_);
  stopsNothing_ = v;
}

void FakeSalesloft::specBodies(bool v) {
  std::lock_guard l(mu_);
  specBodies_ = v;
}

ServerResponse FakeSalesloft::list(const nlohmann::json& data, const nlohmann::json& metadata, int cost) {
  return reply(200, specBodies_ ? data : nlohmann::json{{"metadata", metadata}, {"data", data}}, cost);
}

ServerResponse FakeSalesloft::one(const nlohmann::json& resource) {
  return reply(200, specBodies_ ? resource : nlohmann::json{{"data", resource}});
}

std::string FakeSalesloft::status(long id) const {
  std::lock_guard l(mu_);
  auto it = emails_.find(id);
  return it == emails_.end() ? "" : it->second.status;
}

nlohmann::json FakeSalesloft::person(long id) const {
  std::lock_guard l(mu_);
  auto it = people_.find(id);
  return it == people_.end() ? nlohmann::json(nullptr) : it->second;
}

int FakeSalesloft::requestCount(const std::string& prefix) const {
  std::lock_guard l(mu_);
  return static_cast<int>(std::count_if(log_.begin(), log_.end(), [&](const std::string& s) { return s.rfind(prefix, 0) == 0; }));
}

std::vector<std::string> FakeSalesloft::requestLog() const {
  std::lock_guard l(mu_);
  return log_;
}

ServerResponse FakeSalesloft::rateLimited() {
  ServerResponse resp = reply(429, errorBody("Too Many Requests"));
  resp.headers["x-ratelimit-remaining-minute"] = "0";
  return resp;
}

void FakeSalesloft::setFaults(FaultPlan plan) {
  server_->setFaults(withTokenEndpoint(std::move(plan), [this] {
    std::lock_guard l(mu_);
    return rateLimited();
  }));
}

ServerResponse FakeSalesloft::reply(int status, const nlohmann::json& body, int cost) {
  const long minute = toMillis(Clock::now()) / 60000;
  if (minute != minute_) {
    minute_ = minute;
    usedThisMinute_ = 0;
  }
  usedThisMinute_ += cost;
  ServerResponse r{status, "application/json", {}, status == 204 ? "" : body.dump()};
  r.headers["x-ratelimit-endpoint-cost"] = std::to_string(cost);
  r.headers["x-ratelimit-remaining-minute"] = std::to_string(std::max(0, 600 - usedThisMinute_));
  return r;
}

nlohmann::json FakeSalesloft::emailJson(const FakeSalesloftEmail& e) const {
  const std::string base = server_->baseUrl();
  std::string cc;
  for (const auto& a : e.cc) cc += (cc.empty() ? "" : ", ") + a;
  const bool sent = e.status.rfind("sent", 0) == 0;  // sent, sent_from_gmail, sent_from_external
  return {{"id", e.id},
          {"created_at", formatIso8601(e.send_after - std::chrono::hours(1))},
          {"updated_at", formatIso8601(e.updated_at ? *e.updated_at : e.send_after - std::chrono::hours(1))},
          {"status", e.status},
          {"bounced", e.bounced},
          // "When this email will be sent, or null if already sent" (the spec's Email.send_after).
          {"send_after", sent ? nlohmann::json(nullptr) : nlohmann::json(formatIso8601(e.send_after))},
          {"sent_at", e.sent_at ? nlohmann::json(formatIso8601(*e.sent_at)) : nlohmann::json(nullptr)},
          {"error_message", e.error_message.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.error_message)},
          {"recipient_email_address", e.to},
          {"subject", e.subject.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.subject)},
          {"headers", {{"cc", cc.empty() ? nlohmann::json(nullptr) : nlohmann::json(cc)}, {"bcc", e.bcc.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.bcc)}}},
          {"user", embedded(base, "users", e.user_id)},
          {"recipient", embedded(base, "people", e.person_id)},
          {"cadence", embedded(base, "cadences", e.cadence_id)},
          {"step", nullptr},
          {"action", nullptr},
          {"counts", {{"clicks", 0}, {"views", 0}, {"replies", 0}, {"unique_devices", 0}, {"unique_locations", 0}, {"attachments", 0}}}};
}

void FakeSalesloft::cancelEmails(long person, long cadence) {
  if (stopsNothing_) return;
  for (auto& [id, e] : emails_)
    if (e.person_id == person && (cadence == 0 || e.cadence_id == cadence) &&
        (e.status == "scheduled" || e.status == "pending")) {
      e.status = "cancelled";
      e.updated_at = Clock::now();
    }
}

ServerResponse FakeSalesloft::handle(const ServerRequest& r) {
  if (r.path == "/oauth/token") return oauth_.token(r);
  std::unique_lock l(mu_);
  if (delay_.count() > 0) {
    auto d = delay_;
    l.unlock();
    std::this_thread::sleep_for(d);
    l.lock();
  }
  log_.push_back(r.method + " " + r.path);
  if (r.method != "GET" && std::exchange(sendBeforeWrite_, false))
    for (auto& [id, e] : emails_)
      if (e.status == "scheduled" || e.status == "pending") {
        e.status = "sent";
        e.updated_at = Clock::now();
      }
  const std::string auth = r.header("authorization");
  if (auth != "Bearer " + api_key_ && !oauth_.authorizes(auth)) return reply(401, errorBody("Unauthorized"));
  if (rateLimited_ > 0) {
    --rateLimited_;
    return rateLimited();
  }
  if (failing_ > 0) {
    --failing_;
    return reply(failStatus_, errorBody("Bad Gateway"));
  }
  if (r.path.rfind("/v2/", 0) != 0) return reply(404, errorBody("Not Found"));
  const std::string path = r.path.substr(3);
  auto q = [&](const std::string& k) {
    auto it = r.query.find(k);
    return it == r.query.end() ? std::string() : it->second;
  };

  if (path == "/activities/emails.json" && r.method == "GET") {
    const int perPage = q("per_page").empty() ? 25 : std::stoi(q("per_page"));
    const int page = q("page").empty() ? 1 : std::stoi(q("page"));
    if (perPage < 1 || perPage > 100) return reply(422, {{"errors", {{"per_page", {"must be between 1 and 100"}}}}});
    if (page < 1) return reply(422, {{"errors", {{"page", {"must be greater than 0"}}}}});
    auto statuses = splitList(q("status"));
    std::vector<const FakeSalesloftEmail*> match;
    std::optional<TimePoint> sentFrom, updatedFrom;
    if (!q("sent_at[gte]").empty() && !(sentFrom = parseIso8601(q("sent_at[gte]"))))
      return reply(422, {{"errors", {{"sent_at", {"is not a valid iso8601 date"}}}}});
    if (!q("updated_at[gte]").empty() && !(updatedFrom = parseIso8601(q("updated_at[gte]"))))
      return reply(422, {{"errors", {{"updated_at", {"is not a valid iso8601 date"}}}}});
    for (const auto& [id, e] : emails_) {
      if (!statuses.empty() && std::find(statuses.begin(), statuses.end(), e.status) == statuses.end()) continue;
      if (sentFrom && (!e.sent_at || *e.sent_at < *sentFrom)) continue;
      if (updatedFrom && *e.updated_at < *updatedFrom) continue;
      match.push_back(&e);
    }
    // sort_by: send_time or updated_at (the default); sort_direction DESC by default.
    const bool desc = q("sort_direction") != "ASC";
    if (q("sort_by") == "send_time")
      std::stable_sort(match.begin(), match.end(), [&](auto* a, auto* b) {
        return desc ? a->send_after > b->send_after : a->send_after < b->send_after;
      });
    else
      std::stable_sort(match.begin(), match.end(), [&](auto* a, auto* b) {
        return desc ? *a->updated_at > *b->updated_at : *a->updated_at < *b->updated_at;
      });
    auto data = nlohmann::json::array();
    const size_t start = static_cast<size_t>(page - 1) * perPage;
    for (size_t i = start; i < match.size() && i < start + perPage; ++i) data.push_back(emailJson(*match[i]));
    const bool more = start + perPage < match.size();
    nlohmann::json meta = {{"filtering", {{"status", q("status")}}},
                           {"paging", {{"per_page", perPage}, {"current_page", page},
                                       {"next_page", more ? nlohmann::json(page + 1) : nlohmann::json(nullptr)},
                                       {"prev_page", page > 1 ? nlohmann::json(page - 1) : nlohmann::json(nullptr)}}},
                           {"sorting", {{"sort_by", q("sort_by").empty() ? "updated_at" : q("sort_by")},
                                        {"sort_direction", desc ? "DESC" : "ASC"}}}};
    return list(data, meta, pageCost(page));
  }
  if (path.rfind("/activities/emails/", 0) == 0 && r.method == "GET") {
    std::string id = path.substr(19);
    if (id.size() > 5 && id.substr(id.size() - 5) == ".json") id.resize(id.size() - 5);
    auto it = emails_.find(toId(id));
    if (it == emails_.end()) return reply(404, errorBody("Not Found"));
    return one(emailJson(it->second));
  }
  if (path == "/cadence_memberships.json" && r.method == "GET") {
    auto data = nlohmann::json::array();
    for (const auto& [id, pc] : memberships_) {
      if (!q("person_id").empty() && pc.first != toId(q("person_id"))) continue;
      if (!q("cadence_id").empty() && pc.second != toId(q("cadence_id"))) continue;
      data.push_back({{"id", id}, {"currently_on_cadence", true}, {"current_state", "staged"},
                      {"person", embedded(server_->baseUrl(), "people", pc.first)},
                      {"cadence", embedded(server_->baseUrl(), "cadences", pc.second)}});
    }
    return list(data, {{"paging", {{"per_page", 25}, {"current_page", 1}, {"next_page", nullptr}, {"prev_page", nullptr}}}});
  }
  if (path.rfind("/cadence_memberships/", 0) == 0 && r.method == "DELETE") {
    std::string id = path.substr(21);
    if (id.size() > 5 && id.substr(id.size() - 5) == ".json") id.resize(id.size() - 5);
    auto it = memberships_.find(toId(id));
    if (it == memberships_.end()) return reply(404, errorBody("Not Found"));
    cancelEmails(it->second.first, it->second.second);
    memberships_.erase(it);
    return reply(204, nullptr);
  }
  if (path == "/people.json" && r.method == "GET") {
    std::vector<std::string> ids = splitList(q("ids"));
    if (ids.empty()) ids = splitList(q("ids[]"));
    auto data = nlohmann::json::array();
    for (const auto& s : ids)
      if (auto it = people_.find(toId(s)); it != people_.end()) data.push_back(it->second);
    return list(data, {{"paging", {{"per_page", 100}, {"current_page", 1}, {"next_page", nullptr}, {"prev_page", nullptr}}}});
  }
  if (path.rfind("/people/", 0) == 0) {
    std::string id = path.substr(8);
    if (id.size() > 5 && id.substr(id.size() - 5) == ".json") id.resize(id.size() - 5);
    auto it = people_.find(toId(id));
    if (it == people_.end()) return reply(404, errorBody("Not Found"));
    if (r.method == "GET") return one(it->second);
    if (r.method == "PUT") {
      if (r.header("content-type").rfind("application/x-www-form-urlencoded", 0) != 0 &&
          r.header("content-type").rfind("application/json", 0) != 0)
        return reply(415, errorBody("Unsupported Media Type"));
      // Form arrays repeat the key (contact_restrictions[]=a&contact_restrictions[]=b).
      auto restrictions = nlohmann::json::array();
      std::stringstream in(r.body);
      std::string pair;
      while (std::getline(in, pair, '&')) {
        auto kv = parseFormBody(pair);
        for (const auto& [k, v] : kv)
          if (k == "contact_restrictions[]") {
            if (v != "call" && v != "email" && v != "message")
              return reply(422, {{"errors", {{"contact_restrictions", {"contains an invalid value"}}}}});
            restrictions.push_back(v);
          }
      }
      it->second["contact_restrictions"] = restrictions;
      for (const auto& c : restrictions)
        if (c == "email") cancelEmails(it->first, 0);
      return one(it->second);
    }
  }
  if (path.rfind("/users/", 0) == 0 && r.method == "GET") {
    std::string id = path.substr(7);
    if (id.size() > 5 && id.substr(id.size() - 5) == ".json") id.resize(id.size() - 5);
    auto it = users_.find(toId(id));
    if (it == users_.end()) return reply(404, errorBody("Not Found"));
    return one(it->second);
  }
  return reply(404, errorBody("Not Found"));
}

}  // namespace safetynet::fakes
