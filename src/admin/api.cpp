#include "admin/api.hpp"

#include <openssl/crypto.h>

#include <set>

#include "admin/dashboard.hpp"
#include "admin/overrides.hpp"
#include "admin/queries.hpp"
#include "app/failsafe.hpp"
#include "safetynet/core/duration.hpp"
#include "safetynet/core/hash.hpp"
#include "safetynet/core/json_util.hpp"
#include "safetynet/core/logging.hpp"
#include "safetynet/core/text.hpp"

namespace safetynet::admin {

namespace {

std::shared_ptr<spdlog::logger> log() { return logger("admin-api"); }

AdminHttpResponse json(int status, const Json& body) {
  AdminHttpResponse r;
  r.status = status;
  r.body = jsonText(body) + "\n";
  return r;
}

AdminHttpResponse error(int status, const std::string& message) { return json(status, Json{{"error", message}}); }

AdminHttpResponse unauthorized(const std::string& message, bool invalid) {
  AdminHttpResponse r = error(401, message);
  r.headers.emplace_back("WWW-Authenticate", invalid ? "Bearer realm=\"safetynet\", error=\"invalid_token\""
                                                     : "Bearer realm=\"safetynet\"");
  return r;
}

AdminHttpResponse notAllowed(const std::string& allow) {
  AdminHttpResponse r = error(405, "method not allowed here; allowed: " + allow);
  r.headers.emplace_back("Allow", allow);
  return r;
}

std::string digest(const Secret& s) { return s.empty() ? std::string() : sha256Hex(s.reveal()); }

// Both are SHA-256 hex digests (64 characters), so the comparison's time says nothing of the token.
bool sameDigest(const std::string& a, const std::string& b) {
  return !a.empty() && a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// A request's JSON body: an object whose keys are all among `allowed`; else the message for a 400.
std::variant<Json, std::string> bodyObject(const AdminHttpRequest& r, const std::set<std::string>& allowed) {
  if (r.body.find_first_not_of(" \t\r\n") == std::string::npos) return Json::object();
  Json j = Json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::string("the body must be a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!allowed.count(it.key())) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return "unknown field \"" + it.key() + "\" (fields: " + list + ")";
    }
    if (!it.value().is_string()) return "\"" + it.key() + "\" must be a string";
  }
  return j;
}

std::optional<std::string> unknownParameter(const AdminHttpRequest& r, const std::set<std::string>& allowed) {
  for (const auto& [k, v] : r.query)
    if (!allowed.count(k)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return "unknown parameter \"" + k + "\"" + (list.empty() ? std::string(" (none taken here)") : " (parameters: " + list + ")");
    }
  return std::nullopt;
}

std::string str(const Json& j, const char* key) { return j.contains(key) ? j[key].get<std::string>() : std::string(); }

// The subject of a DELETE: ?address=... or {"address": "..."}.
std::variant<std::string, AdminHttpResponse> deleteSubject(const AdminHttpRequest& r) {
  if (auto bad = unknownParameter(r, {"address"})) return error(400, *bad);
  auto body = bodyObject(r, {"address"});
  if (auto* e = std::get_if<std::string>(&body)) return error(400, *e);
  std::string address = r.query.count("address") ? r.query.at("address") : str(std::get<Json>(body), "address");
  if (address.empty()) return error(400, "give the address: ?address=... or {\"address\": \"...\"}");
  return address;
}

}  // namespace

AdminApi::AdminApi(Store& store, Secret token, Secret read_token, ApiHooks hooks) : store_(store), hooks_(std::move(hooks)) {
  setTokens(std::move(token), std::move(read_token));
}

void AdminApi::setTokens(Secret token, Secret read_token) {
  tokenDigest_ = digest(token);
  readTokenDigest_ = digest(read_token);
}

AdminApi::Access AdminApi::access(const AdminHttpRequest& r) const {
  const std::string h = r.header("authorization");
  if (h.size() < 7 || asciiLower(h.substr(0, 7)) != "bearer ") return Access::None;
  std::string token = h.substr(7);
  while (!token.empty() && token.front() == ' ') token.erase(token.begin());
  while (!token.empty() && token.back() == ' ') token.pop_back();
  if (token.empty()) return Access::None;
  const std::string d = sha256Hex(token);
  // Both compared, whatever the first says: the time taken does not tell which one matched.
  const bool full = sameDigest(d, tokenDigest_), read = sameDigest(d, readTokenDigest_);
  return full ? Access::Full : read ? Access::Read : Access::None;
}

AdminHttpResponse AdminApi::handle(const AdminHttpRequest& r) {
  try {
    return route(r);
  } catch (const std::exception& e) {
    log()->error("{} {}: {}", r.method, r.segments.empty() ? "/" : "/" + r.segments.front(), e.what());
    return error(500, "internal error (the daemon's log says more)");
  }
}

AdminHttpResponse AdminApi::route(const AdminHttpRequest& r) {
  if (!r.valid_target) return error(400, "the request target is not a path");
  // The dashboard's static files (/ and /ui/...): no token, they hold no data.
  if (auto page = dashboardResponse(r)) return *page;
  const auto& seg = r.segments;
  const std::string& m = r.method;
  const TimePoint now = hooks_.now ? hooks_.now() : Clock::now();

  // Probes: no token (systemd, Kubernetes and load balancers call them as they are).
  if (seg.size() == 1 && (seg[0] == "healthz" || seg[0] == "readyz")) {
    if (m != "GET" && m != "HEAD") return notAllowed("GET, HEAD");
    if (seg[0] == "healthz") return json(200, Json{{"status", "ok"}});
    Readiness ready;
    if (hooks_.readiness) {
      ready = hooks_.readiness();
    } else {
      HealthState none;
      ready = readiness(none, &store_, now);
    }
    return json(ready.ready ? 200 : 503, ready.body);
  }

  // A platform's webhook: signed by the platform with its subscription's secret, not our token.
  if (seg.size() == 2 && seg[0] == "webhooks") {
    if (m != "POST") return notAllowed("POST");
    if (!hooks_.webhook) return error(404, "no connector takes webhooks here");
    const WebhookOutcome out = hooks_.webhook(seg[1], r);
    return out.status == 200 ? json(200, Json{{"status", "ok"}}) : error(out.status, out.error);
  }

  const Access who = access(r);
  if (who == Access::None)
    return r.header("authorization").empty() ? unauthorized("missing bearer token (Authorization: Bearer <token>)", false)
                                             : unauthorized("invalid token", true);

  if (seg.size() == 1 && seg[0] == "metrics") {
    if (m != "GET" && m != "HEAD") return notAllowed("GET, HEAD");
    if (!hooks_.metrics) return error(501, "metrics are not available in this build");
    AdminHttpResponse out;
    out.content_type = "text/plain; version=0.0.4; charset=utf-8";
    out.body = hooks_.metrics();
    return out;
  }

  if (seg.size() < 3 || seg[0] != "api" || seg[1] != "v1") return error(404, "no such path");
  const std::string& what = seg[2];
  const size_t n = seg.size();
  const bool write = m != "GET" && m != "HEAD";
  // Checked once the resource is known to exist and the method allowed: a read-only token learns
  // nothing more from a 403 than from a 404.
  auto forbidden = [&]() -> std::optional<AdminHttpResponse> {
    if (write && who != Access::Full) return error(403, "the read-only token cannot change anything");
    return std::nullopt;
  };
  auto audit = [&](const std::string& action) { log()->info("{} by {}", action, kApiWho); };

  if (what == "decisions" && n == 3) {
    if (m != "GET" && m != "HEAD") return notAllowed("GET, HEAD");
    if (auto bad = unknownParameter(r, {"since", "verdict", "reason", "connector", "rep", "address", "limit", "cursor"}))
      return error(400, *bad);
    DecisionFilter f;
    auto q = [&](const char* k, std::string& out) {
      if (auto it = r.query.find(k); it != r.query.end()) out = it->second;
    };
    q("since", f.since);
    q("verdict", f.verdict);
    q("reason", f.reason);
    q("connector", f.connector);
    q("rep", f.rep);
    q("address", f.address);
    q("limit", f.limit);
    q("cursor", f.cursor);
    auto page = decisionsPage(store_, f, now);
    if (auto* e = std::get_if<std::string>(&page)) return error(400, *e);
    const auto& p = std::get<DecisionPage>(page);
    auto list = Json::array();
    for (const auto& d : p.decisions) list.push_back(decisionJson(d));
    return json(200, Json{{"decisions", list}, {"next_cursor", p.next_cursor.empty() ? Json(nullptr) : Json(p.next_cursor)}});
  }
  if (what == "decisions" && n == 4) {
    if (m != "GET" && m != "HEAD") return notAllowed("GET, HEAD");
    if (auto bad = unknownParameter(r, {})) return error(400, *bad);
    auto d = decisionDetail(store_, seg[3]);
    if (!d) return error(404, "no decision with key \"" + seg[3] + "\"");
    return json(200, *d);
  }

  // The dashboard's chart: held emails per reason per UTC day.
  if (what == "stats" && n == 4 && seg[3] == "holds") {
    if (m != "GET" && m != "HEAD") return notAllowed("GET, HEAD");
    if (auto bad = unknownParameter(r, {"days"})) return error(400, *bad);
    auto stats = holdsPerDay(store_, r.query.count("days") ? r.query.at("days") : "30", now);
    if (auto* e = std::get_if<std::string>(&stats)) return error(400, *e);
    return json(200, holdStatsJson(std::get<HoldStats>(stats)));
  }
  // What this token may do: the dashboard hides its write actions from the read-only one.
  if (what == "access" && n == 3) {
    if (m != "GET" && m != "HEAD") return notAllowed("GET, HEAD");
    if (auto bad = unknownParameter(r, {})) return error(400, *bad);
    return json(200, Json{{"access", who == Access::Full ? "full" : "read"}});
  }

  if (what == "overrides" && n == 3) {
    if (m != "GET" && m != "HEAD" && m != "POST" && m != "DELETE") return notAllowed("GET, HEAD, POST, DELETE");
    if (auto f = forbidden()) return *f;
    if (m == "POST") {
      if (auto bad = unknownParameter(r, {})) return error(400, *bad);
      auto body = bodyObject(r, {"address", "for", "reason"});
      if (auto* e = std::get_if<std::string>(&body)) return error(400, *e);
      const Json& b = std::get<Json>(body);
      OverrideRequest req{str(b, "address"), kOverrideDefault, str(b, "reason"), kApiWho};
      if (req.address.empty()) return error(400, "\"address\" is required");
      if (b.contains("for")) {
        auto d = parseDuration(str(b, "for"));
        if (!d) return error(400, "\"for\" expects a duration like 7d or 12h, got \"" + str(b, "for") + "\"");
        req.duration = *d;
      }
      auto outcome = addOverride(store_, req, now);
      if (auto* e = std::get_if<std::string>(&outcome)) return error(400, *e);
      audit("override added for " + std::get<Override>(outcome).address);
      return json(201, overrideJson(std::get<Override>(outcome)));
    }
    if (m == "DELETE") {
      auto subject = deleteSubject(r);
      if (auto* resp = std::get_if<AdminHttpResponse>(&subject)) return *resp;
      const std::string& address = std::get<std::string>(subject);
      if (!removeOverride(store_, address, kApiWho, now)) return error(404, address + ": no override");
      audit("override removed for " + overrideAddress(address));
      return json(200, Json{{"removed", overrideAddress(address)}});
    }
    if (auto bad = unknownParameter(r, {})) return error(400, *bad);
    auto list = Json::array();
    for (const auto& o : listOverrides(store_, now)) list.push_back(overrideJson(o));
    return json(200, Json{{"overrides", list}});
  }

  if (what == "suppressions" && n == 3) {
    if (m != "GET" && m != "HEAD" && m != "POST" && m != "DELETE") return notAllowed("GET, HEAD, POST, DELETE");
    if (auto f = forbidden()) return *f;
    if (m == "POST") {
      if (auto bad = unknownParameter(r, {})) return error(400, *bad);
      auto body = bodyObject(r, {"address", "reason"});
      if (auto* e = std::get_if<std::string>(&body)) return error(400, *e);
      const Json& b = std::get<Json>(body);
      if (str(b, "address").empty()) return error(400, "\"address\" is required (an address, or \"@domain\")");
      auto outcome = addSuppression(store_, str(b, "address"), str(b, "reason"), kApiWho, now);
      if (auto* e = std::get_if<std::string>(&outcome)) return error(400, *e);
      audit("suppression added for " + std::get<Standing>(outcome).subject);
      return json(201, suppressionJson(std::get<Standing>(outcome)));
    }
    if (m == "DELETE") {
      auto subject = deleteSubject(r);
      if (auto* resp = std::get_if<AdminHttpResponse>(&subject)) return *resp;
      const std::string& address = std::get<std::string>(subject);
      if (!clearSuppression(store_, address, kApiWho)) return error(404, address + ": not suppressed or held");
      audit("suppression cleared for " + address);
      return json(200, Json{{"cleared", address}});
    }
    if (auto bad = unknownParameter(r, {})) return error(400, *bad);
    auto list = Json::array();
    for (const auto& s : activeSuppressions(store_, now)) list.push_back(suppressionJson(s));
    return json(200, Json{{"suppressions", list}});
  }

  if (what == "senders" && n == 3) {
    if (m != "GET" && m != "HEAD") return notAllowed("GET, HEAD");
    if (auto bad = unknownParameter(r, {})) return error(400, *bad);
    auto list = Json::array();
    for (const auto& s : listSenders(store_, now)) list.push_back(senderJson(s));
    return json(200, Json{{"senders", list}});
  }
  if (what == "senders" && n == 5 && seg[4] == "release") {
    if (m != "POST") return notAllowed("POST");
    if (auto f = forbidden()) return *f;
    const std::string mailbox = asciiLower(seg[3]);
    if (!releaseSender(store_, mailbox, kApiWho, now)) return error(409, mailbox + ": not paused");
    audit("sender " + mailbox + " released");
    return json(200, Json{{"released", mailbox}});
  }

  if (what == "reload" && n == 3) {
    if (m != "POST") return notAllowed("POST");
    if (auto f = forbidden()) return *f;
    if (!hooks_.reload) return error(501, "reload is not available here");
    audit("reload");
    if (auto refused = hooks_.reload()) return error(422, "reload refused, the running configuration is kept: " + *refused);
    return json(200, Json{{"reloaded", true}});
  }

  if (what == "failsafe" && n == 3) {
    if (m != "GET" && m != "HEAD") return notAllowed("GET, HEAD");
    return json(200, failsafeJson(failsafeStatus(store_)));
  }
  if (what == "failsafe" && n == 4 && seg[3] == "resume") {
    if (m != "POST") return notAllowed("POST");
    if (auto f = forbidden()) return *f;
    if (!resumeFailsafe(store_, kApiWho, now)) return error(409, "the fail-safe is not on: nothing to resume");
    audit("fail-safe resumed");
    return json(200, failsafeJson(failsafeStatus(store_)));
  }
  return error(404, "no such path");
}

}  // namespace safetynet::admin
