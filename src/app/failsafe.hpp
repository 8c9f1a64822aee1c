#pragma once
// The safety net never becomes the outage (notes/product.md, "Rules that are never bent"): when
// its own inputs look broken it stops holding emails on guesses, lets them go, and tells the
// admins, rather than hold a whole company's mail. Two triggers:
//  - the canaries: domains that always have MX records (gmail.com...) are resolved every tick; a
//    definite "no" for one of them means our resolver lies, and while it does, NXDOMAIN / no mail
//    host / null MX answers become DNS_TEMPFAIL (our failure: on_internal_error decides);
//  - the hold ratio: more than failsafe.max_hold_ratio of the recent decisions (at least
//    min_decisions within failsafe.window) held on guesses trips the fail-safe. The ratio counts
//    only a complete cohort: the emails whose checks began before the oldest one still being
//    checked (at most kMaxCohortLag back). A definite DNS answer (null MX) holds in one query, an
//    allow waits for the SMTP probe: the first decisions of a burst are mostly holds, and counted
//    as they come they tripped the fail-safe on a healthy burst with 10% risky (measured: 13 of
//    the first 25). The same cohort also trips it when its share is more than
//    failsafe.week_factor times the trailing week's (counted per day here, kept in the store) and
//    above week_min_ratio: broken inputs that hold 30% of a company whose week held 2%. From then on a
//    hold on a guess is let go (state allowed, audit event "failsafe") until an admin resumes
//    (`safetynet failsafe resume`). It survives restarts (kept in the store).
// Holds from the admin's own lists and the bounce history (suppression, spam traps, complainers,
// hard and soft bounces) and a paused sender are never let go: they are not guesses.
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "safetynet/app/app.hpp"

namespace safetynet {

struct FailsafeStatus {
  bool active = false;  // holding on guesses is stopped (the hold ratio tripped)
  TimePoint since{};
  std::string why;
  bool dns_distrusted = false;  // the canaries failed at an instance's last check (within 10 minutes)
  std::string dns_evidence;     // "NAME: evidence; ..." with several instances
};

FailsafeStatus failsafeStatus(Store& store);
// An admin resumes holding on guesses. Returns false when the fail-safe was not active.
bool resumeFailsafe(Store& store, const std::string& by, TimePoint now);

// Whether an email held for this decision rests on the admin's lists or the bounce history.
bool holdIsCertain(const EmailDecision& d);

class Failsafe {
 public:
  using SteadyNow = std::function<std::chrono::steady_clock::time_point()>;
  // `steady`: the clock of failsafe.window (tests step it); empty: std::chrono::steady_clock.
  // `instance`: this instance's name when several share the store (store.instance): each keeps its
  // own day counts, and the trailing week sums everyone's.
  explicit Failsafe(Store& store, SteadyNow steady = {}, std::string instance = {});

  // Resolves the canaries' MX (each tick). Returns the evidence when DNS is not to be trusted,
  // else "". The admins are told when this changes.
  Task<std::string> checkCanaries(Services& s, TimePoint now);
  // Reads the state from the store (an admin may have resumed from the command line).
  void refresh();
  // Every decision passes here, in order. Returns why a revert must be let go (the fail-safe is
  // active, or this decision trips it), or nothing.
  // `started`: when this email's checks began; `oldest_checking`: when the checks of the oldest
  // email still being checked began (none: no other is being checked). Both on steadyNow()'s clock;
  // not given: now.
  using SteadyTime = std::chrono::steady_clock::time_point;
  // `shadow`: a revert that shadow mode only records: decided, but no hold.
  std::optional<std::string> judge(Services& s, const EmailDecision& d, TimePoint now,
                                   std::optional<SteadyTime> started = std::nullopt,
                                   std::optional<SteadyTime> oldest_checking = std::nullopt, bool shadow = false);
  SteadyTime steadyNow() const { return steady_ ? steady_() : std::chrono::steady_clock::now(); }
  // How far back a slow check (a probe waiting for its timeout) may hold the cohort's end.
  static constexpr std::chrono::seconds kMaxCohortLag{5};
  bool active() const { return status_.active; }
  // This instance's canaries' evidence against its resolver ("" : trusted); status() shows every
  // instance's.
  const std::string& ownDnsEvidence() const { return ownDnsEvidence_; }
  // What the last canary check found, recorded or not: when the store refuses the record (and
  // checkCanaries throws), the checks must still distrust a lying resolver.
  const std::string& lastCanaryEvidence() const { return lastCanaryEvidence_; }
  const FailsafeStatus& status() const { return status_; }
  // Writes this instance's day counts of the trailing-week trigger to the store and reads the
  // other instances' (each tick; a crash loses at most a tick's counts of a statistic).
  void saveDays();
  // The trailing week's share of decisions held on guesses: the 7 days before `now`'s (UTC), or
  // nothing with fewer than `min_decided` decisions in them.
  struct WeekRatio {
    long held = 0, decided = 0;
  };
  std::optional<WeekRatio> trailingWeek(TimePoint now, long min_decided) const;
  // A guess hold judged before the fail-safe tripped and let go at its stop (queued, or resumed)
  // since: it held nothing, so it leaves the held count of the day it was decided (this
  // instance's; one another instance decided stays in that one's count).
  void letGoAtStop(TimePoint decided_at);

 private:
  void trip(Services& s, const std::string& why, TimePoint now);
  // Audits `event`, queues its alert and writes `states` (of the fail-safe), all in one transaction.
  void tell(Services& s, const std::string& event, const nlohmann::json& detail, TimePoint now,
            std::vector<std::pair<std::string, std::string>> states = {});

  Store& store_;
  SteadyNow steady_;
  FailsafeStatus status_;
  struct Recent {
    std::chrono::steady_clock::time_point at;       // when it was judged, on the steady clock
    std::chrono::steady_clock::time_point started;  // when its checks began
    bool guess_hold;
  };
  std::deque<Recent> recent_;
  // UTC day number -> {decided, held on guesses}: the trailing-week trigger's history, this
  // instance's (kept under daysKey_) and the other instances' (read from the store each tick).
  using DayCounts = std::map<long long, std::pair<long, long>>;
  DayCounts days_, others_;
  std::string daysKey_;
  bool days_dirty_ = false;
  void readOthers();
  // What this instance's own canary check last found (at start: what it stored before, so a
  // restart does not announce again), kept under dnsKey_. Each instance tells the admins when its
  // own view changes, and applies only its own: another's resolver is not ours.
  std::string dnsKey_;
  std::string ownDnsEvidence_;
  std::string lastCanaryEvidence_;
  void loadDays();
};

}  // namespace safetynet
