#pragma once
// Which work this instance does when several share one PostgreSQL database (notes/product.md,
// "Scale"; docs/operations.md, "Several instances"). The units of work are each connector's
// listing (its emails are decided and stopped by whoever lists them) and the housekeeping
// (re-checks, the outbox, retention, the digest). An instance holds a lease on each unit it works
// on and renews it; it takes free or expired units up to its fair share (the units divided by the
// live instances, rounded up) and gives up the ones beyond it, so that a new instance gets work
// and a dead one's is taken over once its leases run out (store.lease). Each instance's own
// heartbeat is the lease "instance:NAME". An instance that cannot list a connector steps back
// from it for a while (stepBack; the lease row "avoid:NAME|unit" says so to the others, who take
// it beyond their share). A decision is recorded once whoever makes it
// (Store::recordDecision), so a takeover racing a slow instance still decides an email once.
//
// With SQLite there is one instance: it holds everything and the store is not asked.
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "safetynet/config/config.hpp"
#include "safetynet/store/store.hpp"

namespace safetynet {

class Coordinator {
 public:
  static constexpr const char* kHousekeeping = "housekeeping";

  Coordinator(Store& store, const StoreConfig& config);
  // Renews this instance's leases, then takes or gives up units towards its fair share. `busy`:
  // units it is working on right now (a listing under way), never given up for fairness.
  // Store errors propagate (the tick reports them); the leases held so far stay as they were.
  // `now` is this machine's clock; the leases are reckoned in the store's (Store::leaseNow).
  void refresh(const std::vector<std::string>& connectors, TimePoint now,
               const std::function<bool(const std::string& unit)>& busy = {});
  // A unit counts as held only while its lease is fresh: an instance that cannot reach the
  // database stops its work before the others may take it over (two thirds of store.lease after
  // the last renewal).
  bool ownsConnector(const std::string& name) const { return owns(connectorUnit(name)); }
  bool ownsHousekeeping() const { return owns(kHousekeeping); }
  // Whether any instance holds a live lease on `connector` (this one included): one still
  // configured with it may still be carrying out its stops. False with SQLite (one instance).
  bool connectorHeldByAnyone(const std::string& connector, TimePoint now) const;
  // This instance's listings of `connector` keep failing (a route, a proxy or a credential broken
  // on its machine only): it gives the connector up, marks that in the store, and does not take
  // it again for a while (15 minutes, doubling each time in a row, at most 4 hours); another live
  // instance takes it even beyond its fair share. Not when it is the only live instance, nor when
  // every other live instance has given the connector up too (then the platform is at fault, and
  // someone must keep listing it). If no other instance takes it within a lease (they do not list
  // that connector), it takes it back. True if it stepped back.
  bool stepBack(const std::string& connector, TimePoint now);
  // A listing of `connector` here failed. The kStepBackAfterFailures-th in a row steps back
  // (above), unless `busy` (stops of its emails are under way here). The count starts again when
  // the connector is listed fine, after a step back, and when this instance no longer holds it
  // (taken over, given up): failures of an earlier turn are not this turn's. True if it stepped back.
  bool listingFailed(const std::string& connector, TimePoint now, bool busy);
  static constexpr int kStepBackAfterFailures = 3;
  // A listing of `connector` here succeeded: the next step back starts from the shortest pause.
  void listedFine(const std::string& connector) {
    stepBacks_.erase(connectorUnit(connector));
    failedInARow_.erase(connectorUnit(connector));
  }
  // A clean stop: every lease is given up, so that the others take the work over at once.
  void releaseAll();
  bool shared() const { return shared_; }
  const std::string& instance() const { return instance_; }
  std::chrono::milliseconds lease() const { return lease_; }
  // The units held, sorted ("connector:close-main", "housekeeping"); empty with SQLite.
  std::vector<std::string> held() const { return {held_.begin(), held_.end()}; }
  // "instance NAME holds connector:a, housekeeping (2 live)": the status line's part.
  std::string describe() const;
  // Another process holds this instance's name: it then holds no work at all.
  bool nameTaken() const { return nameTaken_; }

  static std::string connectorUnit(const std::string& name) { return "connector:" + name; }
  // The store's record that instance `instance` stepped back from `unit` (a lease row of its own).
  static std::string avoidUnit(const std::string& instance, const std::string& unit) {
    return "avoid:" + instance + "|" + unit;
  }

 private:
  // Freshness on the monotonic clock: a wall clock stepped back must not stretch it.
  bool owns(const std::string& unit) const {
    return !shared_ || (held_.count(unit) > 0 && std::chrono::steady_clock::now() < freshUntil_);
  }

  Store& store_;
  bool shared_;
  std::string instance_;
  // Who holds a lease: the name and this process's own random id, so that two processes with one
  // name (cloned machines, `run --once` beside the daemon) never both count as its holder.
  std::string holder_;
  std::chrono::milliseconds lease_;
  std::set<std::string> held_;
  bool nameTaken_ = false;
  size_t live_ = 0;
  std::map<std::string, int> stepBacks_;          // unit -> step backs in a row (the pause doubles)
  std::map<std::string, TimePoint> stepBackAt_;   // unit -> when it last stepped back from it
  std::map<std::string, int> failedInARow_;       // unit -> listings failed in a row while held
  std::chrono::steady_clock::time_point freshUntil_{};
};

// This instance's name among those sharing a database: store.instance, else the host name.
std::string instanceName(const StoreConfig& config);
// The name the fail-safe keeps its day counts under (Failsafe's `instance`): this instance's when
// several share a PostgreSQL database, none with SQLite (one instance).
std::string failsafeInstance(const StoreConfig& config);

}  // namespace safetynet
