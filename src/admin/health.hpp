#pragma once
// Liveness and readiness (GET /healthz, GET /readyz, the sd_notify STATUS line): the store answers,
// and every connector has listed its scheduled emails successfully within 3 x poll_interval.
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "safetynet/store/store.hpp"

namespace safetynet::admin {

// What the daemon knows of each connector's polls (kept by the main loop).
struct ConnectorPolls {
  std::optional<TimePoint> last_success, last_failure;
  std::string last_error;  // the last failure's message (no secrets: connectors' errors never hold them)
};

class HealthState {
 public:
  explicit HealthState(TimePoint started = Clock::now()) : started_(started) {}
  // The connectors configured now (a reload may add or remove some).
  void setConnectors(const std::vector<std::string>& names, std::chrono::milliseconds poll_interval);
  void pollSucceeded(const std::string& connector, TimePoint at);
  void pollFailed(const std::string& connector, TimePoint at, const std::string& error);
  // Connectors another instance sharing the database lists (store.backend postgres): this
  // instance's readiness does not wait for their polls.
  void setListedElsewhere(std::set<std::string> names) { elsewhere_ = std::move(names); }
  bool listedElsewhere(const std::string& connector) const { return elsewhere_.count(connector) > 0; }
  const std::map<std::string, ConnectorPolls>& connectors() const { return polls_; }
  TimePoint started() const { return started_; }
  std::chrono::milliseconds pollInterval() const { return poll_interval_; }

 private:
  TimePoint started_;
  std::chrono::milliseconds poll_interval_{10000};
  std::map<std::string, ConnectorPolls> polls_;
  std::set<std::string> elsewhere_;
};

struct Readiness {
  bool ready = false;
  std::vector<std::string> reasons;  // why not, one line each; empty when ready
  std::string summary;               // one line: "ready: ..." or "NOT READY: ..."
  nlohmann::ordered_json body;       // GET /readyz's JSON
};

// `store` may be null (not opened): not ready.
Readiness readiness(const HealthState& h, Store* store, TimePoint now);

}  // namespace safetynet::admin
