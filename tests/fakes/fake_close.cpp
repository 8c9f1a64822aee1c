#include "fakes/fake_close.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <thread>

#include "safetynet/core/time_format.hpp"

namespace safetynet::fakes {

namespace {
const char* kOrg = "orga_safetynetdemo";

ServerResponse error(int status, const std::string& message) {
  return ServerResponse{status, "application/json", {}, nlohmann::json{{"error", message}}.dump()};
}
// Close's 429: the IETF draft RateLimit header (reset in seconds) and Retry-After.
ServerResponse rateLimited(int reset_seconds) {
  ServerResponse resp = error(429, "API rate limit exceeded. Please try again later.");
  resp.headers["RateLimit"] = "limit=160, remaining=0, reset=" + std::to_string(reset_seconds);
  resp.headers["Retry-After"] = std::to_string(reset_seconds);
  return resp;
}
ServerResponse ok(const nlohmann::json& j) {
  return ServerResponse{200, "application/json", {{"RateLimit", "limit=160, remaining=150, reset=5"}}, j.dump()};
}
std::string b64(const std::string& raw) {
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}
std::optional<TimePoint> param(const ServerRequest& r, const std::string& key) {
  auto it = r.query.find(key);
  if (it == r.query.end()) return std::nullopt;
  return parseIso8601(it->second);
}
}  // namespace

FakeClose::FakeClose(asio::any_io_executor ex, std::string api_key, unsigned short port)
    : auth_("Basic " + b64(api_key + ":")) {
  server_ = std::make_unique<HttpServer>(ex, [this](const ServerRequest& r) { return handle(r); }, port);
}

std::string FakeClose::leadOf(const FakeCloseEmail& e) const {
  // An email belongs to its contact's lead (a lead holds several contacts).
  if (auto it = contacts_.find(e.contact_id); it != contacts_.end()) return it->second["lead_id"].get<std::string>();
  return "lead_" + e.id;
}

nlohmann::json FakeClose::emailJson(const FakeCloseEmail& e) const {
  // Every field the spec marks required in EmailActivity.
  auto list = [](const std::vector<std::string>& v) {
    auto a = nlohmann::json::array();
    for (const auto& x : v) a.push_back(x);
    return a;
  };
  return {{"_type", "Email"},
          {"id", e.id},
          {"organization_id", kOrg},
          {"lead_id", leadOf(e)},
          {"contact_id", e.contact_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.contact_id)},
          {"user_id", e.user_id},
          {"user_name", "Riley Rep"},
          {"users", nlohmann::json::array({e.user_id})},
          {"activity_at", formatIso8601(e.scheduled_at)},
          {"date_created", formatIso8601(e.created_at)},
          {"date_updated", formatIso8601(e.updated_at.value_or(e.created_at))},
          {"date_scheduled", e.status == "scheduled" ? nlohmann::json(formatIso8601(e.scheduled_at)) : nlohmann::json(nullptr)},
          {"date_sent", (e.status == "sent" || e.status == "error") && e.date_sent ? nlohmann::json(formatIso8601(e.scheduled_at))
                                                                                   : nlohmann::json(nullptr)},
          {"send_attempts", e.status == "error" ? nlohmann::json::array({{{"error_message", e.error_message},
                                                                           {"date", formatIso8601(e.scheduled_at)}}})
                                                : nlohmann::json::array()},
          {"direction", "outgoing"},
          {"status", e.status},
          {"subject", e.subject},
          {"sender", "Riley Rep <riley@seller.example>"},
          {"to", list(e.to)},
          {"cc", list(e.cc)},
          {"bcc", list(e.bcc)},
          {"body_text", "Hi, quick question about your deliverability..."},
          {"body_html", "<p>Hi, quick question about your deliverability...</p>"},
          {"bulk_email_action_id", nullptr},
          {"created_by", e.user_id},
          {"updated_by", nullptr},
          {"followup_sequence_add_cc_bcc", false},
          {"followup_sequence_delay", nullptr},
          {"has_reply", false},
          {"in_reply_to_id", nullptr},
          {"message_ids", nlohmann::json::array()},
          {"need_smtp_credentials", false},
          {"opens_summary", nullptr},
          {"references", nlohmann::json::array()},
          {"send_as_id", nullptr},
          {"template_id", nullptr},
          {"thread_id", nullptr}};
}

void FakeClose::event(const std::string& action, const FakeCloseEmail& e, const std::vector<std::string>& changed) {
  const std::string now = formatIso8601(Clock::now());
  events_.push_back({{"id", "ev_" + std::to_string(events_.size() + 1)},
                     {"object_type", "activity.email"},
                     {"object_id", e.id},
                     {"lead_id", leadOf(e)},
                     {"organization_id", kOrg},
                     {"action", action},
                     {"date_created", now},
                     {"date_updated", now},
                     {"changed_fields", changed},
                     {"previous_data", nlohmann::json::object()},
                     {"data", emailJson(e)}});
}

void FakeClose::addEmail(const FakeCloseEmail& in) {
  std::lock_guard l(mu_);
  FakeCloseEmail e = in;
  if (e.created_at == TimePoint{}) e.created_at = Clock::now() - std::chrono::hours(2);
  emails_[e.id] = e;
  event("created", e, {});
}

void FakeClose::addUser(const std::string& id, const std::string& email, const std::string& first,
                        const std::string& last) {
  std::lock_guard l(mu_);
  users_[id] = {{"id", id}, {"email", email}, {"first_name", first}, {"last_name", last},
                {"image", ""}, {"date_created", formatIso8601(Clock::now())}};
}

void FakeClose::addContact(const std::string& id, const std::string& name, const std::string& email,
                           const std::string& lead) {
  std::lock_guard l(mu_);
  contacts_[id] = {{"id", id}, {"name", name}, {"display_name", name}, {"title", nullptr},
                   {"lead_id", lead.empty() ? "lead_" + id : lead},
                   {"organization_id", kOrg}, {"created_by", nullptr}, {"updated_by", nullptr},
                   {"date_created", formatIso8601(Clock::now())}, {"date_updated", formatIso8601(Clock::now())},
                   {"emails", {{{"email", email}, {"type", "office"}, {"is_unsubscribed", false}}}}};
}

void FakeClose::addContact(const std::string& id, const std::string& name, const std::vector<std::string>& emails) {
  addContact(id, name, emails.empty() ? std::string() : emails.front());
  std::lock_guard l(mu_);
  auto list = nlohmann::json::array();
  for (const auto& e : emails) list.push_back({{"email", e}, {"type", "office"}, {"is_unsubscribed", false}});
  contacts_[id]["emails"] = list;
}

void FakeClose::setStatus(const std::string& id, const std::string& status) {
  std::lock_guard l(mu_);
  auto it = emails_.find(id);
  if (it == emails_.end()) return;
  it->second.status = status;
  it->second.updated_at = Clock::now();
  event("updated", it->second, {"status"});
}

void FakeClose::erase(const std::string& id) {
  auto it = emails_.find(id);
  if (it == emails_.end()) return;
  event("deleted", it->second, {});
  emails_.erase(it);
}

void FakeClose::deleteEmail(const std::string& id) {
  std::lock_guard l(mu_);
  erase(id);
}

void FakeClose::deleteBeforeNextPut(const std::string& id) {
  std::lock_guard l(mu_);
  deleteBeforePut_ = id;
}

void FakeClose::editEmail(const std::string& id, const std::function<void(FakeCloseEmail&)>& edit, bool logEvent) {
  std::lock_guard l(mu_);
  auto it = emails_.find(id);
  if (it == emails_.end()) return;
  const FakeCloseEmail before = it->second;
  edit(it->second);
  std::vector<std::string> changed;
  if (before.to != it->second.to) changed.push_back("to");
  if (before.cc != it->second.cc) changed.push_back("cc");
  if (before.bcc != it->second.bcc) changed.push_back("bcc");
  if (before.scheduled_at != it->second.scheduled_at) changed.push_back("date_scheduled");
  it->second.updated_at = Clock::now();
  if (logEvent) event("updated", it->second, changed);
}

void FakeClose::injectEvent(const nlohmann::json& event) {
  std::lock_guard l(mu_);
  events_.push_back(event);
}

void FakeClose::garbleNext(int n) {
  std::lock_guard l(mu_);
  garbled_ = n;
}

void FakeClose::setDelay(std::chrono::milliseconds d) {
  std::lock_guard l(mu_);
  delay_ = d;
}

void FakeClose::setFaults(FaultPlan plan) {
  if (!plan.rate_limited) plan.rate_limited = [] { return rateLimited(1); };
  server_->setFaults(std::move(plan));
}

void FakeClose::rateLimitNext(int n, int reset_seconds) {
  std::lock_guard l(mu_);
  rateLimited_ = n;
  resetSeconds_ = reset_seconds;
}

int FakeClose::putCount(const std::string& id) const {
  std::lock_guard l(mu_);
  auto it = puts_.find(id);
  return it == puts_.end() ? 0 : it->second;
}

TimePoint FakeClose::scheduledAt(const std::string& id) const {
  std::lock_guard l(mu_);
  auto it = emails_.find(id);
  return it == emails_.end() ? TimePoint{} : it->second.scheduled_at;
}

std::string FakeClose::status(const std::string& id) const {
  std::lock_guard l(mu_);
  auto it = emails_.find(id);
  return it == emails_.end() ? "" : it->second.status;
}

int FakeClose::requestCount(const std::string& prefix) const {
  std::lock_guard l(mu_);
  return static_cast<int>(std::count_if(log_.begin(), log_.end(), [&](const std::string& s) { return s.rfind(prefix, 0) == 0; }));
}

std::vector<std::string> FakeClose::requestLog() const {
  std::lock_guard l(mu_);
  return log_;
}

ServerResponse FakeClose::handle(const ServerRequest& r) {
  std::unique_lock l(mu_);
  if (delay_.count() > 0) {
    auto d = delay_;
    l.unlock();
    std::this_thread::sleep_for(d);
    l.lock();
  }
  log_.push_back(r.method + " " + r.path);
  if (r.header("authorization") != auth_) return error(401, "The API key is invalid or missing.");
  if (rateLimited_ > 0) {
    --rateLimited_;
    return rateLimited(resetSeconds_);
  }
  if (garbled_ > 0) {
    --garbled_;
    return ServerResponse{200, "text/html", {}, "<html><body>Service temporarily unavailable</body></html>"};
  }
  const std::string prefix = "/api/v1";
  if (r.path.rfind(prefix, 0) != 0) return error(404, "Not found");
  std::string path = r.path.substr(prefix.size());

  auto limitOf = [&](int def, int max) {
    int v = def;
    if (auto it = r.query.find("_limit"); it != r.query.end()) v = std::stoi(it->second);
    return std::clamp(v, 1, max);
  };

  if (path == "/activity/email/" && r.method == "GET") {
    auto gte = param(r, "date_created__gte"), lt = param(r, "date_created__lt");
    int limit = limitOf(100, 100);
    int skip = r.query.count("_skip") ? std::stoi(r.query.at("_skip")) : 0;
    // "there is a maximum limit that can vary per resource. You will get a 400 response with an
    // appropriate message if you exceed it" (developer.close.com/api/overview/pagination).
    if (skip > kMaxSkip) return error(400, "_skip must be at most " + std::to_string(kMaxSkip) + " for this resource");
    std::vector<const FakeCloseEmail*> match;
    for (const auto& [id, e] : emails_)
      if ((!gte || e.created_at >= *gte) && (!lt || e.created_at < *lt)) match.push_back(&e);
    std::sort(match.begin(), match.end(), [](auto* a, auto* b) { return a->created_at > b->created_at; });
    auto data = nlohmann::json::array();
    for (int i = skip; i < static_cast<int>(match.size()) && i < skip + limit; ++i) data.push_back(emailJson(*match[i]));
    return ok({{"data", data}, {"has_more", skip + limit < static_cast<int>(match.size())}});
  }
  if (path.rfind("/activity/email/", 0) == 0) {
    std::string id = path.substr(16);
    if (!id.empty() && id.back() == '/') id.pop_back();
    if (r.method == "PUT" && !id.empty() && id == deleteBeforePut_) {
      deleteBeforePut_.clear();
      erase(id);
    }
    auto it = emails_.find(id);
    if (it == emails_.end()) return error(404, "Object does not exist.");
    if (r.method == "GET") return ok(emailJson(it->second));
    if (r.method == "DELETE") {
      erase(id);
      return ok(nlohmann::json::object());
    }
    if (r.method == "PUT") {
      if (r.header("content-type").rfind("application/json", 0) != 0) return error(415, "Unsupported media type");
      auto body = nlohmann::json::parse(r.body, nullptr, false);
      if (!body.is_object()) return error(400, "Invalid JSON");
      ++puts_[id];
      if (body.contains("status")) {
        std::string st = body["status"].is_string() ? body["status"].get<std::string>() : "";
        static const std::vector<std::string> allowed = {"inbox", "draft", "scheduled", "outbox", "sent", "error"};
        if (std::find(allowed.begin(), allowed.end(), st) == allowed.end())
          return ServerResponse{400, "application/json", {},
                                nlohmann::json{{"errors", nlohmann::json::array()},
                                               {"field-errors", {{"status", "Not a valid choice."}}}}.dump()};
        if (it->second.status == "sent") return error(400, "Cannot modify a sent email.");
        if (st == "scheduled") {
          // "Only drafts can be modified, and their status can be changed to scheduled (to send
          // later)": a date_scheduled is required with it.
          if (it->second.status != "draft") return error(400, "Only drafts can be modified.");
          std::optional<TimePoint> at;
          if (body.contains("date_scheduled") && body["date_scheduled"].is_string())
            at = parseIso8601(body["date_scheduled"].get<std::string>());
          if (!at)
            return ServerResponse{400, "application/json", {},
                                  nlohmann::json{{"errors", nlohmann::json::array()},
                                                 {"field-errors", {{"date_scheduled", "A scheduled email needs date_scheduled."}}}}.dump()};
          it->second.scheduled_at = *at;
        }
        it->second.status = st;
        it->second.updated_at = Clock::now();
        event("updated", it->second, {"status"});
      }
      return ok(emailJson(it->second));
    }
    return error(405, "Method not allowed");
  }
  if (path == "/event/" && r.method == "GET") {
    // Supported filter combinations (spec): object_type needs action or object_id.
    if (r.query.count("object_type") && !r.query.count("action") && !r.query.count("object_id"))
      return error(400, "Unsupported combination of filters.");
    // With _cursor the spec asks for the other filters again "except for date_updated", and
    // cursors "are not designed to stream new events": a cursor page goes on through the log,
    // whatever date_updated__gte says.
    auto gte = r.query.count("_cursor") ? std::nullopt : param(r, "date_updated__gte");
    int limit = limitOf(50, 50);
    size_t start = 0;
    if (auto it = r.query.find("_cursor"); it != r.query.end()) start = std::stoul(it->second);
    std::vector<const nlohmann::json*> match;
    for (auto it = events_.rbegin(); it != events_.rend(); ++it) {  // latest first
      const auto& e = *it;
      if (r.query.count("object_type") && e["object_type"] != r.query.at("object_type")) continue;
      if (r.query.count("action") && e["action"] != r.query.at("action")) continue;
      if (gte && e.contains("date_updated") && e["date_updated"].is_string() &&
          parseIso8601(e["date_updated"].get<std::string>()) < *gte)
        continue;
      match.push_back(&e);
    }
    auto data = nlohmann::json::array();
    for (size_t i = start; i < match.size() && i < start + limit; ++i) data.push_back(*match[i]);
    nlohmann::json next = start + limit < match.size() ? nlohmann::json(std::to_string(start + limit)) : nlohmann::json(nullptr);
    return ok({{"data", data}, {"cursor_next", next}, {"cursor_previous", nullptr}});
  }
  auto byId = [&](const std::string& base, std::map<std::string, nlohmann::json>& m) -> std::optional<ServerResponse> {
    if (path.rfind(base, 0) != 0 || r.method != "GET") return std::nullopt;
    std::string id = path.substr(base.size());
    if (!id.empty() && id.back() == '/') id.pop_back();
    auto it = m.find(id);
    if (it == m.end()) return error(404, "Object does not exist.");
    return ok(it->second);
  };
  if (path == "/contact/" && r.method == "GET") {
    // A lead's contacts (the spec's only filter on this list); {data, has_more}, _limit <= 100.
    int limit = limitOf(100, 100);
    int skip = r.query.count("_skip") ? std::stoi(r.query.at("_skip")) : 0;
    std::vector<const nlohmann::json*> match;
    for (const auto& [id, c] : contacts_)
      if (!r.query.count("lead_id") || c["lead_id"] == r.query.at("lead_id")) match.push_back(&c);
    auto data = nlohmann::json::array();
    for (int i = skip; i < static_cast<int>(match.size()) && i < skip + limit; ++i) data.push_back(*match[i]);
    return ok({{"data", data}, {"has_more", skip + limit < static_cast<int>(match.size())}});
  }
  if (path == "/me/" && r.method == "GET")  // the user the API key belongs to (the spec's get-me)
    return ok({{"id", "user_api"}, {"email", "api@seller.test"}, {"first_name", "API"}, {"last_name", "Key"},
               {"organizations", nlohmann::json::array()}});
  if (auto resp = byId("/user/", users_)) return *resp;
  if (auto resp = byId("/contact/", contacts_)) return *resp;
  return error(404, "Not found");
}

}  // namespace safetynet::fakes
