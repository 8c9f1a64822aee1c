#include "admin/health.hpp"

#include "app/failsafe.hpp"
#include "safetynet/core/duration.hpp"
#include "safetynet/core/time_format.hpp"

namespace safetynet::admin {

void HealthState::setConnectors(const std::vector<std::string>& names, std::chrono::milliseconds poll_interval) {
  poll_interval_ = poll_interval;
  std::map<std::string, ConnectorPolls> next;
  for (const auto& n : names) {
    auto it = polls_.find(n);
    next[n] = it == polls_.end() ? ConnectorPolls{} : it->second;
  }
  polls_ = std::move(next);
}

void HealthState::pollSucceeded(const std::string& connector, TimePoint at) {
  if (auto it = polls_.find(connector); it != polls_.end()) it->second.last_success = at;
}

void HealthState::pollFailed(const std::string& connector, TimePoint at, const std::string& error) {
  if (auto it = polls_.find(connector); it != polls_.end()) {
    it->second.last_failure = at;
    std::string oneLine = error;
    for (auto& c : oneLine)
      if (c == '\n' || c == '\r') c = ' ';
    it->second.last_error = oneLine;
  }
}

Readiness readiness(const HealthState& h, Store* store, TimePoint now) {
  using J = nlohmann::ordered_json;
  Readiness r;
  std::string storeState = "ok";
  if (!store) {
    storeState = "not open";
  } else {
    try {
      store->connectorState("_health", "room_probe");  // a read that goes to the database
    } catch (const std::exception& e) {
      storeState = e.what();
    }
  }
  if (storeState != "ok") r.reasons.push_back("store: " + storeState);
  const auto limit = 3 * h.pollInterval();
  auto ago = [now](TimePoint t) {
    return formatDuration(std::chrono::duration_cast<std::chrono::milliseconds>(now - t) / 1000 * 1000) + " ago";
  };
  J connectors = J::object();
  int fresh = 0, elsewhere = 0;
  for (const auto& [name, p] : h.connectors()) {
    if (h.listedElsewhere(name)) {
      ++elsewhere;
      connectors[name] = J{{"ok", true}, {"listed_by", "another instance"}};
      continue;
    }
    const bool ok = p.last_success && now - *p.last_success <= limit;
    if (ok) {
      ++fresh;
    } else {
      std::string why = name + ": ";
      why += p.last_success ? "no successful poll since " + formatIso8601(*p.last_success) + " (" + ago(*p.last_success) + ")"
                            : "no successful poll since the start (" + ago(h.started()) + ")";
      if (!p.last_error.empty() && p.last_failure && (!p.last_success || *p.last_failure > *p.last_success))
        why += "; last error: " + p.last_error.substr(0, 300);
      r.reasons.push_back(why);
    }
    connectors[name] = J{{"ok", ok},
                         {"last_success", p.last_success ? J(formatIso8601(*p.last_success)) : J(nullptr)},
                         {"last_failure", p.last_failure ? J(formatIso8601(*p.last_failure)) : J(nullptr)},
                         {"last_error", p.last_error.empty() ? J(nullptr) : J(p.last_error.substr(0, 300))}};
  }
  r.ready = r.reasons.empty();
  if (r.ready) {
    r.summary = "ready: store ok, " + std::to_string(fresh) + " connector(s) polled within " + formatDuration(limit);
    if (elsewhere) r.summary += ", " + std::to_string(elsewhere) + " listed by other instances";
  } else {
    r.summary = "NOT READY: ";
    for (size_t i = 0; i < r.reasons.size(); ++i) r.summary += (i ? "; " : "") + r.reasons[i];
  }
  // The fail-safe does not make the daemon unready (it polls and decides; restarting it would not
  // help), but an admin looking at readiness or the STATUS line must see at once that risky emails
  // are let go, or that DNS answers are not trusted.
  J failsafe = nullptr;
  if (storeState == "ok") {
    const FailsafeStatus fs = failsafeStatus(*store);
    failsafe = J{{"active", fs.active},
                 {"since", fs.active ? J(formatIso8601(fs.since)) : J(nullptr)},
                 {"why", fs.active ? J(fs.why) : J(nullptr)},
                 {"dns_distrusted", fs.dns_distrusted},
                 {"dns_evidence", fs.dns_distrusted ? J(fs.dns_evidence) : J(nullptr)}};
    if (fs.active)
      r.summary += " | FAIL-SAFE ON since " + formatIso8601(fs.since) + ": risky emails are let go (" + fs.why +
                   "); safetynet failsafe resume";
    if (fs.dns_distrusted) r.summary += " | DNS not trusted: " + fs.dns_evidence;
  }
  r.body = J{{"ready", r.ready},
             {"reasons", r.reasons},
             {"summary", r.summary},
             {"store", storeState},
             {"poll_interval_s", std::chrono::duration<double>(h.pollInterval()).count()},
             {"connectors", connectors},
             {"failsafe", failsafe}};
  return r;
}

}  // namespace safetynet::admin
