#include "app/coordinator.hpp"

#include <unistd.h>

#include <algorithm>
#include <random>

#include "safetynet/core/duration.hpp"
#include "safetynet/core/logging.hpp"

namespace safetynet {

namespace {
constexpr const char* kInstancePrefix = "instance:";
}

std::string instanceName(const StoreConfig& config) {
  if (!config.instance.empty()) return config.instance;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "safetynet";
  return host;
}

Coordinator::Coordinator(Store& store, const StoreConfig& config)
    : store_(store), shared_(config.backend == "postgres"), instance_(instanceName(config)), lease_(config.lease) {
  std::random_device rd;
  char id[17];
  std::snprintf(id, sizeof id, "%08x%08x", rd(), rd());
  holder_ = instance_ + "#" + id;
}

void Coordinator::refresh(const std::vector<std::string>& connectors, TimePoint now,
                          const std::function<bool(const std::string&)>& busy) {
  if (!shared_) return;
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
  size_t live = 0;
  for (const auto& l : store_.leases())
    if (l.unit.rfind(kInstancePrefix, 0) == 0 && l.until >= now) ++live;
  live = std::max<size_t>(live, 1);
  live_ = live;
  const size_t share = (units.size() + live - 1) / live;
  // Beyond its share (an instance joined): give up the last ones it is not working on.
  for (auto it = units.rbegin(); it != units.rend() && held_.size() > share; ++it)
    if (held_.count(*it) && !(busy && busy(*it))) {
      store_.releaseLease(*it, holder_);
      held_.erase(*it);
      logger("coordinator")->info("{}: given up for another instance ({} live, {} units each)", *it, live, share);
    }
  // Below its share: free units, and those whose holder stopped renewing.
  for (const auto& u : units) {
    if (held_.size() >= share) break;
    if (held_.count(u)) continue;
    if (store_.tryLease(u, holder_, now, until)) {
      held_.insert(u);
      logger("coordinator")->info("{}: taken by {}", u, instance_);
    }
  }
  freshUntil_ = std::chrono::steady_clock::now() + lease_ * 2 / 3;
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
  store_.releaseLease(kInstancePrefix + instance_, holder_);  // only if this process holds it
}

}  // namespace safetynet
