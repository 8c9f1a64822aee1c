#pragma once
// Deadline-first streaming of the main loop (notes/product.md, steps 1, 2 and 6;
// docs/architecture.md). Listing pages feed one queue ordered by send time; workers take the
// earliest email, check it (cheap checks first; network checks get the time left before
// `send - act_margin`) and act on it at once. Nothing waits for the end of a listing, and a slow
// listing of one connector holds up neither the other connectors nor the emails already queued.
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>

#include "app/failsafe.hpp"
#include "safetynet/app/app.hpp"

namespace safetynet {

class DecisionEngine {
 public:
  // Emails worked on at once. Most of them wait on the network (DNS, SMTP, the platform), so this
  // is several times the SMTP session limit; each costs a coroutine frame.
  static constexpr int kDefaultWorkers = 200;
  // Platform writes (stop + confirm) in flight per connector: the rate budgets pace them, this
  // keeps the number of connections to one platform small.
  static constexpr int kActsPerConnector = 8;
  // Coroutines that carry out the stops, across connectors. A connector's stops hold at most
  // kActsPerConnector platform slots (the revert) and kActWorkersPerConnector workers in all (the
  // revert, then the names for the notification and the store write): one slow platform cannot
  // take every worker, and its slot is free again for its next urgent stop while the names load.
  static constexpr int kActWorkers = 4 * kActsPerConnector;
  static constexpr int kActWorkersPerConnector = 2 * kActsPerConnector;
  // A stop due further ahead than this may wait (its platform's rate budget holds it back while
  // urgent work goes first), and such stops take at most kLaterActsPerConnector of the slots, so
  // that a burst of them never leaves an email due in two minutes without one.
  static constexpr std::chrono::minutes kActUrgentWithin{5};
  static constexpr int kLaterActsPerConnector = 2;
  // Tries of a stop whose platform did not answer clearly, one a tick, while the send is ahead.
  static constexpr int kMaxRevertAttempts = 8;

  DecisionEngine(asio::any_io_executor ex, Store& store, int workers = kDefaultWorkers);
  // Stops abandoned at shutdown (their coroutine frames destroyed with the io_context, maybe after
  // the engine) must not touch it: see ActSlot.
  ~DecisionEngine() { *alive_ = false; }
  DecisionEngine(const DecisionEngine&) = delete;
  DecisionEngine& operator=(const DecisionEngine&) = delete;

  // Lists one connector; each page's undecided emails enter the queue as soon as the platform's
  // profiles of their people are loaded. Throws what the listing throws (the caller counts it).
  Task<void> poll(std::shared_ptr<Services> s, Connector& c, TimePoint now);
  // Queues the emails a crash or a failed attempt left "reverting" (not those already in hand).
  // Emails of this connector queued, being decided or being stopped here.
  bool busyWith(const std::string& connector) const;
  // Only those of connectors `mine` accepts (several instances: the ones whose lease it holds).
  // A stop whose connector is not configured here may be carried out by nobody: once its send time
  // is kOrphanGrace past, it is recorded revert_failed and told, if `may_settle_orphan` says so for
  // its connector (several instances: the housekeeping one, and only while no instance still
  // holds the connector's lease, i.e. still has it configured during a rolling change); empty: yes.
  void resumeReverting(const std::shared_ptr<Services>& s, const std::function<bool(const std::string&)>& mine = {},
                       const std::function<bool(const std::string&)>& may_settle_orphan = {});
  static constexpr std::chrono::minutes kOrphanGrace{5};
  // The sending mailboxes paused now (sender protection), for the emails decided from here on.
  void setPausedSenders(std::map<std::string, SenderState> paused) { paused_ = std::move(paused); }
  // Every decision is judged by the fail-safe (app/failsafe.hpp); null: none.
  void setFailsafe(Failsafe* f) { failsafe_ = f; }

  // A listing is on its way: run(until_idle) does not finish before it ends.
  void listingStarted() { ++listings_; }
  void listingEnded();
  // Runs the workers until stop(), or with until_idle, until nothing is queued, listed or in hand.
  Task<void> run(bool until_idle);
  void stop();

  // The state directory is full (a StoreFullError): workers stop taking emails (nothing is acted
  // on that cannot be recorded) until storeHasRoom(). A once-run (until_idle) ends instead.
  void markStoreFull(const std::string& why);
  void storeHasRoom();
  const std::string& storeFull() const { return storeFull_; }

  // What happened since the last call (the daemon's status line, `run --once`).
  CycleStats takeStats();
  size_t backlog() const { return queue_.size() + acts_.size(); }
  bool idle() const { return queue_.empty() && busy_ == 0 && listings_ == 0 && acts_.empty() && actsBusy_ == 0; }

 private:
  struct WorkItem {
    std::shared_ptr<Services> services;  // those it was listed with: a reload swaps them
    Connector* connector = nullptr;      // owned by `services`
    ScheduledEmail email;
    std::optional<EmailDecision> resume;  // a decision left "reverting": act on it again
    bool handed_over = false;             // its stop waits in acts_ (still in hand)
    bool needs_profiles = false;          // not from a listing: loadProfiles before its checks
  };
  // A decided stop waiting for its connector's act slot. Workers hand stops over and go on
  // checking: a platform whose rate budget paces its stops (Salesloft: 300 units a minute) must
  // not hold up the checks of every other email. Measured (docs/benchmarks.md, case (c)): with
  // the stop done inline, Salesloft's stops waiting for their 8 slots held most of the 200
  // workers, and emails of every platform were decided minutes late.
  struct ActItem {
    std::shared_ptr<Services> services;
    Connector* connector = nullptr;
    ScheduledEmail email;
    EmailDecision decision;
  };
  // Earliest send first; then by recipient domain, so that one domain's recipients meet in one
  // SMTP session; then in arrival order.
  using Order = std::tuple<TimePoint, std::string, unsigned long long>;

  void push(WorkItem item);
  // A released email scheduled again at its own send time: its next release round (engine.cpp).
  void skipReleasedRounds(ScheduledEmail& e);
  // The platform's bounced flags of the emails' people into the bounce history (each person once).
  void recordBounceFlags(const Services& s, Connector& c, const std::vector<ScheduledEmail>& emails, TimePoint now,
                         std::set<std::string>& seenPeople);
  // Another instance sharing the database recorded the email's decision first: counted, not acted on.
  void alreadyDecided() { ++stats_.already_decided; }
  Task<void> worker(bool until_idle);
  Task<void> waitForWork();
  void wakeAll();
  Task<void> process(WorkItem& item);
  Task<void> decideAndAct(WorkItem& item);
  // Returns the email's new version when the platform showed it changed since the decision (to
  // be decided again); nothing otherwise.
  Task<std::optional<ScheduledEmail>> act(Services& s, Connector& c, const ScheduledEmail& e, const EmailDecision& d);
  void handOver(WorkItem& item, const EmailDecision& d);
  // A stop of a connector no longer configured: recorded revert_failed, the admins told.
  void settleOrphan(Services& s, const EmailDecision& d);
  Task<void> actWorker(bool until_idle);
  Task<void> acquireActSlot(const std::string& connector);
  void releaseActSlot(const std::string& connector);
  // A connector's act slot, held from acquireActSlot until release() or the end of the scope (an
  // exception too: a store error must not leak the slot).
  class ActSlot {
   public:
    ActSlot(DecisionEngine& engine, std::string connector)
        : engine_(engine), alive_(engine.alive_), connector_(std::move(connector)) {}
    ActSlot(const ActSlot&) = delete;
    ActSlot& operator=(const ActSlot&) = delete;
    ~ActSlot() { release(); }
    void release() {
      if (held_ && *alive_) engine_.releaseActSlot(connector_);
      held_ = false;
    }

   private:
    DecisionEngine& engine_;
    std::shared_ptr<bool> alive_;
    std::string connector_;
    bool held_ = true;
  };
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  asio::any_io_executor ex_;
  Store& store_;
  int workers_;
  std::map<Order, WorkItem> queue_;
  std::map<Order, ActItem> acts_;  // every connector's, earliest send first
  int actsBusy_ = 0;
  std::set<std::string> inHand_;  // keys queued or being worked on: a re-listing adds nothing
  std::map<std::string, SenderState> paused_;
  Failsafe* failsafe_ = nullptr;
  std::map<std::string, int> acting_;       // per connector
  std::map<std::string, int> actingLater_;  // per connector: stops not urgent yet being carried out
  std::map<std::string, int> actWorkersOf_;  // per connector: act workers on its stops
  asio::steady_timer wake_, actWake_;
  unsigned long long seq_ = 0;
  int busy_ = 0, listings_ = 0;
  // When the checks of each email being checked now began (the fail-safe's cohorts).
  std::multiset<std::chrono::steady_clock::time_point> checking_;
  bool stopped_ = false;
  std::string storeFull_;
  CycleStats stats_;
};

// One connector's listing into the engine; ends the listing (listingEnded) whatever happens, and
// counts a failure in `errors` (logged; the next poll tries again), its message in `error_out`.
Task<void> pollConnector(DecisionEngine& engine, std::shared_ptr<Services> s, Connector& c, TimePoint now,
                         int& errors, std::string* error_out = nullptr);
// The sending mailboxes paused now; a failure of sender protection is logged, never fatal.
// guardSenders, its errors logged (and the gauge set): `reads` and `decide` as there.
Task<std::map<std::string, SenderState>> pausedSenders(Services& s, Store& store, TimePoint now,
                                                       const std::function<bool(const std::string&)>& reads = {},
                                                       bool decide = true);

}  // namespace safetynet
