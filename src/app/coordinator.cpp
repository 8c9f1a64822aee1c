#include "app/coordinator.hpp"

#include <unistd.h>

#include <algorithm>
#include <random>

#include "safetynet/core/duration.hpp"
#include "safetynet/core/logging.hpp"

namespace safetynet {

namespace {
constexpr const char* kInstancePrefix = "instance:";
constexpr const char* kAvoidPrefix = "avoid:";

// What the store's leases say now: the live instances' names, and for each unit the live
// instances that stepped back from it.
struct LeaseView {
  std::set<std::string> live;
  std::set<std::string> held;  // units some process holds now
  std::map<std::string, std::set<std::string>> avoiders;
};

LeaseView readLeases(Store& store, TimePoint now) {
  LeaseView v;
  std::vector<std::pair<std::string, std::string>> avoid;  // (instance, unit)
  for (const auto& l : store.leases()) {
    if (l.until < now) continue;
    if (l.unit.rfind(kInstancePrefix, 0) == 0) v.live.insert(l.unit.substr(std::string(kInstancePrefix).size()));
    else if (l.unit.rfind(kAvoidPrefix, 0) != 0) v.held.insert(l.unit);
    if (l.unit.rfind(kAvoidPrefix, 0) == 0) {
      const std::string rest = l.unit.substr(std::string(kAvoidPrefix).size());
      const auto bar = rest.find('|');
      if (bar != std::string::npos) avoid.emplace_back(rest.substr(0, bar), rest.substr(bar + 1));
    }
  }
  for (const auto& [instance, unit] : avoid)
    if (v.live.count(instance)) v.avoiders[unit].insert(instance);
  return v;
}

// Whether every live instance but `self` is among `avoiders`.
bool allOthersAvoid(const LeaseView& v, const std::string& unit, const std::string& self) {
  auto it = v.avoiders.find(unit);
  for (const auto& name : v.live)
    if (name != self && (it == v.avoiders.end() || !it->second.count(name))) return false;
  return true;
}
}  // namespace

std::string instanceName(const StoreConfig& config) {
  if (!config.instance.empty()) return config.instance;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "safetynet";
  return host;
}

std::string failsafeInstance(const StoreConfig& config) { return config.backend == "postgres" ? instanceName(config) : ""; }

Coordinator::Coordinator(Store& store, const StoreConfig& config)
    : store_(store), shared_(config.backend == "postgres"), instance_(instanceName(config)), lease_(config.lease) {
  std::random_device rd;
  char id[17];
  std::snprintf(id, sizeof id, "%08x%08x", rd(), rd());
  holder_ = instance_ + "#" + id;
}

bool Coordinator::connectorHeldByAnyone(const std::string& connector, TimePoint local) const {
  if (!shared_) return false;
  const TimePoint now = store_.leaseNow(local);
  for (const auto& l : store_.leases())
    if (l.unit == connectorUnit(connector) && l.until > now) return true;
  return false;
}

void Coordinator::refresh(const std::vector<std::string>& connectors, TimePoint local,
                          const std::function<bool(const std::string&)>& busy) {
  if (!shared_) return;
  const TimePoint now = store_.leaseNow(local);  // the database's clock: machines' clocks differ
  const TimePoint until = now + lease_;
  // The heartbeat, under this instance's name. Held by another process (one with the same name
  // still alive, or one that died less than a lease ago): this one does no work until it ends.
  if (!store_.tryLease(kInstancePrefix + instance_, holder_, now, until)) {
    if (!nameTaken_)
      logger("coordinator")->error("another process named \"{}\" holds this name on the database: this one does no "
                                   "work until its lease runs out (a restart after a crash waits {} at most; two "
                                   "machines need a store.instance of their own)",
                                   instance_, formatDuration(lease_));
    nameTaken_ = true;
    held_.clear();
    failedInARow_.clear();
    return;
  }
  nameTaken_ = false;
  std::vector<std::string> units = {kHousekeeping};
  for (const auto& c : connectors) units.push_back(connectorUnit(c));
  // The units in an order of this instance's own, so that instances starting together reach for
  // different ones first (any order is correct: the store gives a unit to one asker).
  const size_t offset = std::hash<std::string>{}(instance_) % units.size();
  std::rotate(units.begin(), units.begin() + static_cast<std::ptrdiff_t>(offset), units.end());

  // What it holds: renewed, or lost (taken over after this instance stalled past its lease);
  // units no longer configured are given up.
  for (auto it = held_.begin(); it != held_.end();) {
    const bool configured = std::find(units.begin(), units.end(), *it) != units.end();
    if (!configured) store_.releaseLease(*it, holder_);
    if (!configured || !store_.tryLease(*it, holder_, now, until)) {
      if (configured) logger("coordinator")->warn("{}: taken over by another instance", *it);
      it = held_.erase(it);
    } else {
      ++it;
    }
  }
  const LeaseView view = readLeases(store_, now);
  const size_t live = std::max<size_t>(view.live.size(), 1);
  live_ = live;
  const size_t share = (units.size() + live - 1) / live;
  auto avoidedBy = [&view](const std::string& u, const std::string& name) {
    auto it = view.avoiders.find(u);
    return it != view.avoiders.end() && it->second.count(name) > 0;
  };
  auto avoidedByAnother = [&](const std::string& u) {
    auto it = view.avoiders.find(u);
    return it != view.avoiders.end() && std::any_of(it->second.begin(), it->second.end(),
                                                    [this](const std::string& n) { return n != instance_; });
  };
  // Beyond its share (an instance joined): give up the last ones it is not working on, but not
  // one another instance stepped back from (it would be left to nobody).
  for (auto it = units.rbegin(); it != units.rend() && held_.size() > share; ++it)
    if (held_.count(*it) && !(busy && busy(*it)) && !avoidedByAnother(*it)) {
      store_.releaseLease(*it, holder_);
      held_.erase(*it);
      logger("coordinator")->info("{}: given up for another instance ({} live, {} units each)", *it, live, share);
    }
  // Below its share: free units, and those whose holder stopped renewing. One that another
  // instance stepped back from is taken beyond the share; one this instance stepped back from is
  // not taken again until its pause ends, unless every other live instance stepped back too.
  for (const auto& u : units) {
    if (held_.count(u)) continue;
    if (avoidedBy(u, instance_) && !allOthersAvoid(view, u, instance_)) {
      // Nobody took it within a lease of the step back (the others do not list that connector,
      // a configuration being rolled out): it is listed here again rather than by nobody.
      const auto at = stepBackAt_.find(u);
      if (view.held.count(u) || at == stepBackAt_.end() || now - at->second <= lease_) continue;
      logger("coordinator")->warn("{}: no other instance took it within a lease: listed here again", u);
      stepBackAt_.erase(at);
    }
    if (held_.size() >= share && !avoidedByAnother(u)) continue;
    if (store_.tryLease(u, holder_, now, until)) {
      held_.insert(u);
      logger("coordinator")->info("{}: taken by {}", u, instance_);
    }
  }
  // Failed listings count within one turn of holding a unit.
  for (auto it = failedInARow_.begin(); it != failedInARow_.end();)
    it = held_.count(it->first) ? std::next(it) : failedInARow_.erase(it);
  freshUntil_ = std::chrono::steady_clock::now() + lease_ * 2 / 3;
}

bool Coordinator::listingFailed(const std::string& connector, TimePoint now, bool busy) {
  if (!shared_) return false;
  const std::string unit = connectorUnit(connector);
  if (++failedInARow_[unit] < kStepBackAfterFailures || busy) return false;
  if (!stepBack(connector, now)) return false;
  failedInARow_.erase(unit);
  return true;
}

bool Coordinator::stepBack(const std::string& connector, TimePoint local) {
  if (!shared_ || nameTaken_) return false;
  const TimePoint now = store_.leaseNow(local);
  const std::string unit = connectorUnit(connector);
  const LeaseView view = readLeases(store_, now);
  if (view.live.size() <= 1 || allOthersAvoid(view, unit, instance_)) return false;
  int& n = stepBacks_[unit];
  n = std::min(n + 1, 5);
  const auto pause = std::min<std::chrono::milliseconds>(std::chrono::minutes(15) * (1 << (n - 1)), std::chrono::hours(4));
  // The mark first: an instance that sees the connector free also sees why.
  store_.tryLease(avoidUnit(instance_, unit), holder_, now, now + pause);
  stepBackAt_[unit] = now;
  if (held_.erase(unit)) store_.releaseLease(unit, holder_);
  logger("coordinator")->warn("{}: given up to another instance for {} (its listings keep failing here)", unit,
                              formatDuration(pause));
  return true;
}

std::string Coordinator::describe() const {
  std::string units;
  for (const auto& u : held_) units += (units.empty() ? "" : ", ") + u;
  if (nameTaken_) return "instance " + instance_ + ": name in use by another instance, holds nothing";
  return "instance " + instance_ + " holds " + (units.empty() ? "nothing" : units) + " (" + std::to_string(live_) + " live)";
}

void Coordinator::releaseAll() {
  if (!shared_) return;
  for (const auto& u : held_) store_.releaseLease(u, holder_);
  held_.clear();
  failedInARow_.clear();
  store_.releaseLease(kInstancePrefix + instance_, holder_);  // only if this process holds it
}

}  // namespace safetynet
