// The Coordinator (src/app/coordinator.hpp) over a real store, with simulated times: how several
// instances split the units, take a dead one's over after its lease, keep what they are busy with,
// and refuse a second process with the same name.
#include <gtest/gtest.h>


#include "app/coordinator.hpp"
#include "safetynet/store/store.hpp"
#include "support/scratch_store.hpp"

using namespace safetynet;
using namespace std::chrono;

namespace {

class CoordinatorTest : public safetynet::testing::ScratchStoreTest {
 protected:
  // A coordinator as with store.backend postgres (the SQLite store stands in for the shared one).
  std::unique_ptr<Coordinator> instance(const std::string& name) {
    StoreConfig c;
    c.backend = "postgres";
    c.instance = name;
    c.lease = seconds(30);
    return std::make_unique<Coordinator>(*store_, c);
  }
  static int owned(const Coordinator& c, const std::vector<std::string>& connectors) {
    int n = c.ownsHousekeeping() ? 1 : 0;
    for (const auto& x : connectors) n += c.ownsConnector(x) ? 1 : 0;
    return n;
  }
  // Two instances that split the units evenly, every unit held by exactly one of them.
  void expectAnEvenSplit(const Coordinator& a, const Coordinator& b) {
    EXPECT_EQ(owned(a, connectors_), 2);
    EXPECT_EQ(owned(b, connectors_), 2);
    EXPECT_EQ(a.ownsHousekeeping() + b.ownsHousekeeping(), 1);
    for (const auto& c : connectors_) EXPECT_EQ(a.ownsConnector(c) + b.ownsConnector(c), 1) << c;
  }
  // a and b settle into an even split: each refreshed twice, a first, from t0 on, `step` apart.
  void settle(Coordinator& a, Coordinator& b, TimePoint t0, seconds step = seconds(1)) {
    a.refresh(connectors_, t0);
    b.refresh(connectors_, t0 + step);
    a.refresh(connectors_, t0 + 2 * step);
    b.refresh(connectors_, t0 + 3 * step);
  }
  // The first connector `c` holds.
  std::string firstOwned(const Coordinator& c) const {
    for (const auto& x : connectors_)
      if (c.ownsConnector(x)) return x;
    return "";
  }
  const std::vector<std::string> connectors_ = {"close-a", "close-b", "outreach"};
};

}  // namespace

TEST_F(CoordinatorTest, WithSqliteThereIsOneInstanceAndItOwnsEverything) {
  StoreConfig c;  // sqlite
  Coordinator one(*store_, c);
  one.refresh(connectors_, Clock::now());
  EXPECT_TRUE(one.ownsHousekeeping());
  EXPECT_TRUE(one.ownsConnector("close-a"));
  EXPECT_TRUE(store_->leases().empty());  // the store is not asked
}

TEST_F(CoordinatorTest, InstancesSplitTheUnitsAndAJoinerGetsItsShare) {
  const TimePoint t0 = Clock::now();
  auto a = instance("a");
  a->refresh(connectors_, t0);
  EXPECT_EQ(owned(*a, connectors_), 4);  // alone: all four units
  auto b = instance("b");
  b->refresh(connectors_, t0 + seconds(1));
  EXPECT_EQ(owned(*b, connectors_), 0);  // all held, none expired
  a->refresh(connectors_, t0 + seconds(10));  // sees two live instances: gives up two
  EXPECT_EQ(owned(*a, connectors_), 2);
  b->refresh(connectors_, t0 + seconds(11));
  expectAnEvenSplit(*a, *b);
}

TEST_F(CoordinatorTest, ABusyUnitIsNotGivenUpForFairness) {
  const TimePoint t0 = Clock::now();
  auto a = instance("a");
  a->refresh(connectors_, t0);
  auto b = instance("b");
  b->refresh(connectors_, t0 + seconds(1));
  a->refresh(connectors_, t0 + seconds(10), [](const std::string&) { return true; });  // all busy
  EXPECT_EQ(owned(*a, connectors_), 4);
  a->refresh(connectors_, t0 + seconds(20));
  EXPECT_EQ(owned(*a, connectors_), 2);
}

TEST_F(CoordinatorTest, ADeadInstancesUnitsAreTakenOverAfterItsLease) {
  const TimePoint t0 = Clock::now();
  auto a = instance("a");
  auto b = instance("b");
  settle(*a, *b, t0, seconds(5));
  // a stops renewing (killed) at t0+10: its leases last until t0+40.
  b->refresh(connectors_, t0 + seconds(30));
  EXPECT_EQ(owned(*b, connectors_), 2);
  b->refresh(connectors_, t0 + seconds(41));
  EXPECT_EQ(owned(*b, connectors_), 4);  // one live instance: all of them
  EXPECT_TRUE(b->ownsHousekeeping());
}

// The stops of a connector removed from one instance's configuration (a rolling change) are
// settled as not stopped only when no instance holds the connector any more: one still configured
// with it may be carrying them out.
TEST_F(CoordinatorTest, AConnectorIsHeldByAnyoneUntilItsLastLeaseRunsOut) {
  const TimePoint t0 = Clock::now();
  auto a = instance("a");
  a->refresh(connectors_, t0);
  auto b = instance("b");
  b->refresh({"close-a"}, t0 + seconds(1));  // b's configuration has close-a only
  EXPECT_TRUE(b->connectorHeldByAnyone("outreach", t0 + seconds(2)));  // a holds it
  EXPECT_FALSE(b->connectorHeldByAnyone("gone", t0 + seconds(2)));
  // a stops renewing (it was reconfigured, or died): its lease runs out after 30 s.
  EXPECT_TRUE(b->connectorHeldByAnyone("outreach", t0 + seconds(29)));
  EXPECT_FALSE(b->connectorHeldByAnyone("outreach", t0 + seconds(31)));
  StoreConfig single;  // SQLite: one instance, no leases
  EXPECT_FALSE(Coordinator(*store_, single).connectorHeldByAnyone("outreach", t0));
}

TEST_F(CoordinatorTest, AStopGivesTheUnitsUpAtOnce) {
  const TimePoint t0 = Clock::now();
  auto a = instance("a");
  auto b = instance("b");
  a->refresh(connectors_, t0);
  b->refresh(connectors_, t0 + seconds(1));
  a->releaseAll();
  b->refresh(connectors_, t0 + seconds(2));
  EXPECT_EQ(owned(*b, connectors_), 4);
}

// Two processes with one name (cloned machines, or `run --once` beside the daemon): the second
// works on nothing, and its stop does not take the first one's leases away.
TEST_F(CoordinatorTest, ASecondProcessWithTheSameNameDoesNoWork) {
  const TimePoint t0 = Clock::now();
  auto first = instance("mx-1");
  first->refresh(connectors_, t0);
  auto second = instance("mx-1");
  second->refresh(connectors_, t0 + seconds(1));
  EXPECT_TRUE(second->nameTaken());
  EXPECT_EQ(owned(*second, connectors_), 0);
  second->releaseAll();
  first->refresh(connectors_, t0 + seconds(2));
  EXPECT_EQ(owned(*first, connectors_), 4);
  EXPECT_EQ(store_->leases().size(), 5u);  // four units and the first one's name
  // After the first one's lease runs out (it crashed), the name is free again.
  second->refresh(connectors_, t0 + seconds(40));
  EXPECT_FALSE(second->nameTaken());
  EXPECT_EQ(owned(*second, connectors_), 4);
}

TEST_F(CoordinatorTest, AConnectorNoLongerConfiguredIsGivenUp) {
  const TimePoint t0 = Clock::now();
  auto a = instance("a");
  a->refresh(connectors_, t0);
  a->refresh({"close-a"}, t0 + seconds(5));
  EXPECT_FALSE(a->ownsConnector("outreach"));
  for (const auto& l : store_->leases()) EXPECT_NE(l.unit, "connector:outreach");
}

// An instance whose listings of a connector keep failing (a route broken on its machine only)
// steps back: it gives the connector up, another instance takes it even beyond its fair share and
// keeps it (giving up another unit instead), and the first does not take it back during its pause
// (15 minutes).
TEST_F(CoordinatorTest, AnInstanceThatCannotListAConnectorGivesItUpAndAnotherTakesItBeyondItsShare) {
  const TimePoint t0 = Clock::now();
  auto a = instance("a");
  auto b = instance("b");
  settle(*a, *b, t0);
  ASSERT_EQ(owned(*a, connectors_), 2);
  const std::string failing = firstOwned(*a);
  ASSERT_FALSE(failing.empty());

  ASSERT_TRUE(a->stepBack(failing, t0 + seconds(4)));
  EXPECT_FALSE(a->ownsConnector(failing));
  TimePoint t = t0 + seconds(5);
  for (; t < t0 + minutes(14); t += seconds(10)) {  // both renewing every 10 s
    a->refresh(connectors_, t);
    b->refresh(connectors_, t + seconds(1));
    ASSERT_FALSE(a->ownsConnector(failing)) << "taken back during its pause";
    ASSERT_TRUE(b->ownsConnector(failing)) << "left to nobody, or given up for fairness";
  }
  // b took it beyond its share, then gave up another unit it was not busy with, which a took.
  expectAnEvenSplit(*a, *b);
  // After the pause, still two each.
  for (; t < t0 + minutes(17); t += seconds(10)) {
    a->refresh(connectors_, t);
    b->refresh(connectors_, t + seconds(1));
  }
  expectAnEvenSplit(*a, *b);
}

// Failed listings count in a row within one turn of holding the connector: two failures before the
// connector was taken over, and one after it came back, are not three in a row.
TEST_F(CoordinatorTest, FailedListingsOfAnEarlierTurnDoNotCountTowardsAStepBack) {
  const TimePoint t0 = Clock::now();
  auto a = instance("a");
  auto b = instance("b");
  settle(*a, *b, t0);
  const std::string c = firstOwned(*a);
  ASSERT_FALSE(c.empty());
  EXPECT_FALSE(a->listingFailed(c, t0 + seconds(4), false));
  EXPECT_FALSE(a->listingFailed(c, t0 + seconds(5), false));
  // a stalls past its lease: b takes everything over; then a comes back and b stops cleanly.
  b->refresh(connectors_, t0 + seconds(40));
  ASSERT_TRUE(b->ownsConnector(c));
  a->refresh(connectors_, t0 + seconds(41));
  ASSERT_FALSE(a->ownsConnector(c));
  b->releaseAll();
  a->refresh(connectors_, t0 + seconds(42));
  ASSERT_TRUE(a->ownsConnector(c));
  // Another instance joins (alone, an instance never steps back). One failure in this turn: no
  // step back (before, the earlier turn's two counted and a gave the connector up).
  auto d = instance("d");
  d->refresh(connectors_, t0 + seconds(43));
  EXPECT_FALSE(a->listingFailed(c, t0 + seconds(44), false));
  EXPECT_TRUE(a->ownsConnector(c));
  // The count itself still works within a turn, and waits while stops are under way.
  EXPECT_FALSE(a->listingFailed(c, t0 + seconds(45), false));
  EXPECT_FALSE(a->listingFailed(c, t0 + seconds(46), true));
  EXPECT_TRUE(a->listingFailed(c, t0 + seconds(47), false));
  EXPECT_FALSE(a->ownsConnector(c));
}

// When every live instance has stepped back from a connector, the platform is at fault, not a
// machine: the last one keeps listing it (and one that stepped back may take it again), so that
// the connector is never left to nobody. Alone, an instance never steps back.
TEST_F(CoordinatorTest, AConnectorEveryInstanceFailsWithIsStillListedByOne) {
  const TimePoint t0 = Clock::now();
  auto a = instance("a");
  a->refresh(connectors_, t0);
  EXPECT_FALSE(a->stepBack("close-a", t0 + seconds(1)));  // the only live instance
  EXPECT_TRUE(a->ownsConnector("close-a"));
  auto b = instance("b");
  b->refresh(connectors_, t0 + seconds(2));
  a->refresh(connectors_, t0 + seconds(3));
  b->refresh(connectors_, t0 + seconds(4));
  Coordinator& holder = a->ownsConnector("close-a") ? *a : *b;
  Coordinator& other = &holder == a.get() ? *b : *a;
  ASSERT_TRUE(holder.stepBack("close-a", t0 + seconds(5)));
  other.refresh(connectors_, t0 + seconds(6));
  ASSERT_TRUE(other.ownsConnector("close-a"));
  EXPECT_FALSE(other.stepBack("close-a", t0 + seconds(7)));  // the other stepped back already
  EXPECT_TRUE(other.ownsConnector("close-a"));
  for (TimePoint t = t0 + seconds(8); t < t0 + minutes(2); t += seconds(10)) {
    holder.refresh(connectors_, t);
    other.refresh(connectors_, t + seconds(1));
    ASSERT_EQ(holder.ownsConnector("close-a") + other.ownsConnector("close-a"), 1);
  }
}

// The others do not list that connector (a configuration being rolled out to the machines one by
// one): nobody takes it after the step back, so the instance takes it back after a lease rather
// than leave it to nobody for its pause.
TEST_F(CoordinatorTest, AConnectorNoOtherInstanceListsIsTakenBackAfterALease) {
  const TimePoint t0 = Clock::now();
  auto a = instance("a");
  auto b = instance("b");
  const std::vector<std::string> others = {"close-b", "outreach"};  // b's configuration: no close-a
  auto listingCloseA = [](const std::string& unit) { return unit == "connector:close-a"; };  // kept
  a->refresh(connectors_, t0, listingCloseA);
  b->refresh(others, t0 + seconds(1));
  a->refresh(connectors_, t0 + seconds(2), listingCloseA);
  b->refresh(others, t0 + seconds(3));
  ASSERT_TRUE(a->ownsConnector("close-a"));
  ASSERT_TRUE(a->stepBack("close-a", t0 + seconds(5)));
  TimePoint t = t0 + seconds(6);
  for (; t < t0 + seconds(30); t += seconds(10)) {  // within the lease (30 s): still stepped back
    a->refresh(connectors_, t);
    b->refresh(others, t + seconds(1));
    EXPECT_FALSE(a->ownsConnector("close-a"));
    EXPECT_FALSE(b->ownsConnector("close-a"));
  }
  for (; t < t0 + seconds(50); t += seconds(10)) {
    a->refresh(connectors_, t);
    b->refresh(others, t + seconds(1));
  }
  EXPECT_TRUE(a->ownsConnector("close-a"));
}
