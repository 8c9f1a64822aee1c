#include <gtest/gtest.h>

#include <future>
#include <sqlite3.h>

#include <filesystem>
#include <libpq-fe.h>
#include <atomic>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "app/coordinator.hpp"
#include "bounce/history.hpp"
#include "integration/peers.hpp"
#include "support/scratch_store.hpp"
#include "safetynet/core/time_format.hpp"
#include "safetynet/store/store.hpp"
#include "store/sql_db.hpp"

using namespace safetynet;
namespace fs = std::filesystem;

namespace {
class StoreTest : public safetynet::testing::ScratchStoreTest {
 protected:
  EmailDecision decision(const std::string& key, EmailState st) {
    EmailDecision d;
    d.key = key;
    d.connector = "close-main";
    d.email_id = key;
    d.scheduled_at = Clock::now() + std::chrono::minutes(10);
    d.state = st;
    d.verdict = st == EmailState::Allowed ? "allow" : "revert";
    d.reason = st == EmailState::Allowed ? "" : "bounce_risk";
    d.recipients = nlohmann::json::array({{{"address", "a@b.com"}}});
    return d;
  }
  // A reverted email's notification, queued: its outbox id.
  long long queuedNotification(const std::string& key) {
    store_->recordDecision(decision(key, EmailState::Reverting));
    OutboxMessage m;
    m.dedupe_key = "notify|" + key;
    m.kind = "slack";
    store_->transition(key, EmailState::Reverted, "ok", 1, m);
    return store_->dueOutbox(Clock::now(), 10).at(0).id;
  }
  // The store on the same database again (a restart).
  virtual StorePtr reopen() { return openSqliteStore(dir_.string()); }
};

// One PostgreSQL cluster for the test process (initdb takes a second or two), a fresh database per
// test.
safetynet::testing::Postgres& postgres() {
  static safetynet::testing::Postgres server;
  return server;
}

std::string freshDatabase() {
  static int n = 0;
  return postgres().createDatabase("store_" + std::to_string(::getpid()) + "_" + std::to_string(++n));
}

// What every backend must do alike: each test runs on SQLite and on PostgreSQL.
class StoreContract : public StoreTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (GetParam() == "postgres") {
      conninfo_ = freshDatabase();
      store_ = openPostgresStore(conninfo_);
    }
  }
  StorePtr reopen() override { return GetParam() == "postgres" ? openPostgresStore(conninfo_) : StoreTest::reopen(); }
  std::string conninfo_;
};
}  // namespace

TEST_F(StoreTest, UsesWalAndRecordsTheSchemaVersion) {
  sqlite3* db;
  ASSERT_EQ(sqlite3_open((dir_ / "safetynet.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, nullptr);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "wal");
  sqlite3_finalize(s);
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 0), 10);
  sqlite3_finalize(s);
  sqlite3_close(db);
}

TEST_F(StoreTest, RefusesADatabaseFromTheFuture) {
  store_.reset();
  sqlite3* db;
  sqlite3_open((dir_ / "safetynet.db").c_str(), &db);
  sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  try {
    openSqliteStore(dir_.string());
    FAIL() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 99"), std::string::npos);
  }
}

TEST_P(StoreContract, DecisionsAreKeptWithTheirAuditTrail) {
  store_->recordDecision(decision("k1", EmailState::Reverting));
  store_->transition("k1", EmailState::Reverted, "moved to draft", 1, std::nullopt);
  auto d = store_->findDecision("k1");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->state, EmailState::Reverted);
  EXPECT_EQ(d->detail, "moved to draft");
  EXPECT_EQ(d->recipients[0]["address"], "a@b.com");
  auto audit = store_->auditFor("k1");
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0].event, "decided");
  EXPECT_EQ(audit[1].event, "reverted");
  EXPECT_FALSE(store_->findDecision("nope"));
  // Decided once: a second decision of the same email (another instance's) is refused, unwritten.
  EXPECT_TRUE(store_->recordDecision(decision("k2", EmailState::Allowed)));
  EXPECT_FALSE(store_->recordDecision(decision("k1", EmailState::Allowed)));
  EXPECT_EQ(store_->findDecision("k1")->state, EmailState::Reverted);
  EXPECT_EQ(store_->auditFor("k1").size(), 2u);
}

TEST_P(StoreContract, TransitionAndNotificationCommitTogetherAndOnce) {
  store_->recordDecision(decision("k2", EmailState::Reverting));
  OutboxMessage m;
  m.dedupe_key = "notify|k2";
  m.kind = "slack";
  m.payload = {{"x", 1}};
  EXPECT_TRUE(store_->transition("k2", EmailState::Reverted, "ok", 1, m));
  EXPECT_FALSE(store_->transition("k2", EmailState::Reverted, "ok again", 2, m));  // a replay writes nothing
  auto due = store_->dueOutbox(Clock::now() + std::chrono::seconds(1), 10);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].state, "pending");
  EXPECT_THROW(store_->transition("missing", EmailState::Reverted, "", 1, m), StoreError);
}

// Two instances on one database: one confirmed the stop (reverted, the rep told); the other's late
// attempt failed. Its transition must not move the settled email back to reverting (to be stopped
// and told again) or to revert_failed: only an email still reverting moves.
TEST_P(StoreContract, ASettledEmailIsNotMovedByALateAttempt) {
  store_->recordDecision(decision("k5", EmailState::Reverting));
  ASSERT_TRUE(store_->transition("k5", EmailState::Reverted, "moved to draft", 1, std::nullopt));
  OutboxMessage m;
  m.dedupe_key = "notify-failed|k5";
  m.kind = "slack";
  m.payload = {{"x", 2}};
  EXPECT_FALSE(store_->transition("k5", EmailState::Reverting, "attempt 1 failed: 503", 1, std::nullopt));
  EXPECT_FALSE(store_->transition("k5", EmailState::RevertFailed, "502", 2, m));
  auto d = store_->findDecision("k5");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->state, EmailState::Reverted);
  EXPECT_EQ(d->detail, "moved to draft");
  EXPECT_EQ(store_->auditFor("k5").size(), 2u);  // decided, reverted
  EXPECT_TRUE(store_->dueOutbox(Clock::now() + std::chrono::seconds(1), 10).empty());
}

// An email edited since it was decided is decided again under a new key; the newest decision of
// the platform email is the one that says whether to stop it (DecisionEngine::act).
TEST_P(StoreContract, TheNewestDecisionOfAnEmailIsFoundWhateverItsKey) {
  auto first = decision("close-main|acti_9|1000|old@b.com", EmailState::Reverting);
  first.email_id = "acti_9";
  ASSERT_TRUE(store_->recordDecision(first));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto edited = decision("close-main|acti_9|1000|new@b.com", EmailState::Allowed);
  edited.email_id = "acti_9";
  ASSERT_TRUE(store_->recordDecision(edited));
  auto latest = store_->latestDecisionOf("close-main", "acti_9");
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->key, edited.key);
  EXPECT_GT(latest->decided_at, store_->findDecision(first.key)->decided_at);
  EXPECT_FALSE(store_->latestDecisionOf("close-main", "acti_10"));
  EXPECT_FALSE(store_->latestDecisionOf("outreach-main", "acti_9"));
}

TEST_P(StoreContract, OutboxLifecycle) {
  auto id = queuedNotification("k3");
  // Not due again before the in-flight wait: a post with no answer may still land.
  store_->outboxSending(id, "C1", Clock::now() + std::chrono::minutes(2));
  EXPECT_TRUE(store_->dueOutbox(Clock::now(), 10).empty());
  auto s = store_->dueOutbox(Clock::now() + std::chrono::minutes(2), 10).at(0);
  EXPECT_EQ(s.state, "sending");
  EXPECT_EQ(s.sent_ref, "C1");
  EXPECT_EQ(s.attempts, 1);
  store_->outboxRetry(id, Clock::now() + std::chrono::hours(1), "timeout", "sending");
  EXPECT_TRUE(store_->dueOutbox(Clock::now(), 10).empty());
  EXPECT_EQ(store_->dueOutbox(Clock::now() + std::chrono::hours(2), 10).size(), 1u);
  store_->outboxSent(id, "C1/123.4");
  EXPECT_TRUE(store_->dueOutbox(Clock::now() + std::chrono::hours(2), 10).empty());
  EXPECT_EQ(store_->allOutbox().at(0).state, "sent");
}

TEST_P(StoreContract, AnUnroutedTryCountsAsAnAttempt) {
  auto id = queuedNotification("k9");
  store_->outboxUnrouted(id, Clock::now() + std::chrono::hours(1), "conversations.open: HTTP 500");
  EXPECT_TRUE(store_->dueOutbox(Clock::now(), 10).empty());
  auto again = store_->dueOutbox(Clock::now() + std::chrono::hours(2), 10).at(0);
  EXPECT_EQ(again.state, "pending");
  EXPECT_EQ(again.attempts, 1);
  EXPECT_EQ(again.last_error, "conversations.open: HTTP 500");
}

TEST_P(StoreContract, VerdictCacheHonoursExpiry) {
  store_->cacheVerdict(CachedVerdict{"a@b.com", "", "", nlohmann::json::array({{{"name", "NULL_MX"}}}),
                                     Clock::now() + std::chrono::hours(1)});
  EXPECT_TRUE(store_->cachedVerdict("a@b.com", Clock::now()));
  EXPECT_FALSE(store_->cachedVerdict("a@b.com", Clock::now() + std::chrono::hours(2)));
}

TEST_P(StoreContract, VerdictsAreForgottenByAddressOrByDomain) {
  const auto later = Clock::now() + std::chrono::hours(1);
  for (const char* a : {"a@b.com", "c@b.com", "a@sub.b.com", "a@xb.com", "a@b_c.com", "a@bxc.com", "a@b.community"})
    store_->cacheVerdict(CachedVerdict{a, "", "", nlohmann::json::array(), later});
  store_->forgetVerdicts("a@b.com");
  EXPECT_FALSE(store_->cachedVerdict("a@b.com", Clock::now()));
  EXPECT_TRUE(store_->cachedVerdict("c@b.com", Clock::now()));
  store_->forgetVerdicts("@b.com");  // every address at b.com, none at another domain ending so
  EXPECT_FALSE(store_->cachedVerdict("c@b.com", Clock::now()));
  for (const char* a : {"a@sub.b.com", "a@xb.com", "a@bxc.com", "a@b.community"}) EXPECT_TRUE(store_->cachedVerdict(a, Clock::now())) << a;
  store_->forgetVerdicts("@b_c.com");  // '_' is no wildcard
  EXPECT_FALSE(store_->cachedVerdict("a@b_c.com", Clock::now()));
  EXPECT_TRUE(store_->cachedVerdict("a@bxc.com", Clock::now()));
}

TEST_P(StoreContract, ConnectorStateAndTrackedEmailsSurviveReopen) {
  store_->putConnectorState("close-main", "events_since", "123");
  TimePoint t = Clock::now() + std::chrono::minutes(5);
  store_->upsertTracked(TrackedEmail{"close-main", "e1", t, {{"id", "e1"}}});
  store_->upsertTracked(TrackedEmail{"close-main", "e2", t + std::chrono::hours(3), {{"id", "e2"}}});
  store_.reset();
  store_ = reopen();
  EXPECT_EQ(store_->connectorState("close-main", "events_since"), "123");
  // All of one connector's keys, and none of another's.
  store_->putConnectorState("close-main", "days|mx-1", "{}");
  store_->putConnectorState("close-other", "events_since", "9");
  const auto all = store_->connectorStates("close-main");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], (std::pair<std::string, std::string>{"days|mx-1", "{}"}));
  EXPECT_EQ(all[1], (std::pair<std::string, std::string>{"events_since", "123"}));
  auto in = store_->trackedBetween("close-main", Clock::now(), Clock::now() + std::chrono::hours(1));
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].email_id, "e1");
  store_->removeTracked("close-main", "e1");
  EXPECT_TRUE(store_->trackedBetween("close-main", Clock::now(), Clock::now() + std::chrono::hours(1)).empty());
}

TEST_F(StoreTest, UnusableStateDirIsAClearError) {
  EXPECT_THROW(openSqliteStore("/proc/definitely/not/writable"), StoreError);
}

TEST_P(StoreContract, RecheckQueue) {
  store_->recordDecision(decision("k4", EmailState::Reverting));
  const TimePoint due = Clock::now() + std::chrono::hours(24 * 30);
  store_->transition("k4", EmailState::Reverted, "ok", 1, std::nullopt,
                     {Recheck{"grey@x.example", "k4", due, 0, {{"subject", "s"}}}});
  EXPECT_TRUE(store_->dueRechecks(Clock::now(), 10).empty());
  auto r = store_->dueRechecks(due, 10);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].context["subject"], "s");
  store_->finishRecheck(r[0], "unknown", due + std::chrono::hours(1), std::nullopt);  // still unknown: again later
  EXPECT_TRUE(store_->dueRechecks(due, 10).empty());
  auto again = store_->dueRechecks(due + std::chrono::hours(1), 10);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].attempts, 1);
  store_->finishRecheck(again[0], "allow", std::nullopt, std::nullopt);
  EXPECT_TRUE(store_->dueRechecks(due + std::chrono::hours(100), 10).empty());
  EXPECT_EQ(store_->auditFor("k4").back().event, "rechecked");
}

TEST_P(StoreContract, DomainFactsExpire) {
  store_->putDomainFact("catchall.example", "catch_all", "1", Clock::now() + std::chrono::hours(1));
  EXPECT_EQ(store_->domainFact("catchall.example", "catch_all", Clock::now()), "1");
  EXPECT_FALSE(store_->domainFact("catchall.example", "catch_all", Clock::now() + std::chrono::hours(2)));
  EXPECT_FALSE(store_->domainFact("other.example", "catch_all", Clock::now()));
}

TEST_P(StoreContract, PruneDropsWhatIsPastItsRetentionAndKeepsWhatIsStillActedOn) {
  const long long sent = queuedNotification("old");  // decided, reverted, its notification queued
  store_->outboxSent(sent, "C1/1");
  store_->recordDecision(decision("stuck", EmailState::Reverting));  // still being acted on
  store_->cacheVerdict(CachedVerdict{"a@b.com", "", "", nlohmann::json::array(), Clock::now() + std::chrono::hours(1)});
  store_->recordSend("s1", "rep@seller.test", Clock::now());
  RetentionConfig r;
  // Nothing is old yet.
  EXPECT_EQ(store_->prune(r, Clock::now(), 10000), 0);
  ASSERT_TRUE(store_->findDecision("old"));
  // 181 days later: the decision, its audit lines, the sent notification, the send and the
  // expired cache row go; the email still "reverting" stays.
  const auto later = Clock::now() + std::chrono::hours(24 * 181);
  EXPECT_GT(store_->prune(r, later, 10000), 0);
  EXPECT_FALSE(store_->findDecision("old"));
  EXPECT_TRUE(store_->auditFor("old").empty());
  EXPECT_TRUE(store_->allOutbox().empty());
  EXPECT_TRUE(store_->findDecision("stuck"));
  EXPECT_FALSE(store_->auditFor("stuck").empty());
  EXPECT_FALSE(store_->cachedVerdict("a@b.com", Clock::now()));
  EXPECT_EQ(store_->sendsFrom("rep@seller.test", TimePoint{}), 0);
  EXPECT_EQ(store_->prune(r, later, 10000), 0);  // done
}

// Lease rows of instances and step backs long gone are pruned a day after they ran out; a lease
// that ran out an hour ago, or still runs, stays (it is taken again in place).
TEST_P(StoreContract, PruneDropsLeasesADayPastTheirEnd) {
  const TimePoint now = Clock::now();
  ASSERT_TRUE(store_->tryLease("instance:gone", "gone#1", now - std::chrono::hours(49), now - std::chrono::hours(48)));
  ASSERT_TRUE(store_->tryLease("avoid:gone|connector:c", "gone#1", now - std::chrono::hours(30), now - std::chrono::hours(25)));
  ASSERT_TRUE(store_->tryLease("instance:recent", "recent#1", now - std::chrono::hours(2), now - std::chrono::hours(1)));
  ASSERT_TRUE(store_->tryLease("instance:live", "live#1", now, now + std::chrono::seconds(30)));
  EXPECT_EQ(store_->prune(RetentionConfig{}, now, 10000), 2);
  std::set<std::string> left;
  for (const auto& l : store_->leases()) left.insert(l.unit);
  EXPECT_EQ(left, (std::set<std::string>{"instance:live", "instance:recent"}));
}

TEST_P(StoreContract, PruneWorksInBoundedBatches) {
  for (int i = 0; i < 30; ++i) store_->recordDecision(decision("d" + std::to_string(i), EmailState::Allowed));
  const auto later = Clock::now() + std::chrono::hours(24 * 181);
  int total = 0;
  for (int n; (n = store_->prune(RetentionConfig{}, later, 10)) > 0;) {
    EXPECT_LE(n, 10);
    total += n;
  }
  EXPECT_EQ(total, 60);  // 30 decisions and their 30 "decided" audit lines
}

TEST_F(StoreTest, MigratesADatabaseOfTheVersionBeforeOverridesAndKeepsItsRows) {
  // A database as version 6 left it: everything but the overrides (7), actions (8) and leases (9)
  // tables and the bounces' answered_by column (10).
  store_->recordDecision(decision("kept", EmailState::Allowed));
  store_.reset();
  sqlite3* db;
  ASSERT_EQ(sqlite3_open((dir_ / "safetynet.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE overrides; DROP TABLE actions; DROP TABLE leases; DROP INDEX bounces_answered_by; "
                             "ALTER TABLE bounces DROP COLUMN answered_by; PRAGMA user_version=6", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  store_ = openSqliteStore(dir_.string());
  EXPECT_TRUE(store_->findDecision("kept"));
  const TimePoint now = Clock::now();
  store_->putOverride(Override{"a@b.com", "admin ops", "a good lead", now, now + std::chrono::hours(1)});
  EXPECT_TRUE(store_->activeOverride("a@b.com", now));
}

TEST_F(StoreTest, MigratesADatabaseOfTheVersionBeforeAnsweredByAndKeepsItsBounces) {
  // A database as version 9 left it: bounces without the site that answered them (10).
  BounceEvent kept;
  kept.key = "kept|kim@c.test";
  kept.address = "kim@c.test";
  kept.reason = "userunknown";
  kept.hard = true;
  kept.at = Clock::now();
  ASSERT_TRUE(store_->recordBounce(kept, std::nullopt));
  store_.reset();
  sqlite3* db;
  ASSERT_EQ(sqlite3_open((dir_ / "safetynet.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP INDEX bounces_answered_by; ALTER TABLE bounces DROP COLUMN answered_by; PRAGMA user_version=9",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  store_ = openSqliteStore(dir_.string());
  const auto events = store_->bouncesFor("kim@c.test", TimePoint{});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].answered_by, "");
  EXPECT_TRUE(store_->bouncesAnsweredBy("relay.test", {"userunknown"}, TimePoint{}, TimePoint::max()).empty());
}

TEST_P(StoreContract, OverridesAreAddedListedRemovedAndAudited) {
  const TimePoint now = Clock::now();
  store_->putOverride(Override{"a@b.com", "admin ops", "first", now, now + std::chrono::hours(1)});
  store_->putOverride(Override{"c@d.com", "slack:riley@seller.test", "", now, now + std::chrono::hours(2)});
  // A second release of the same address replaces the first, and the audit line says so.
  store_->putOverride(Override{"a@b.com", "admin kim", "longer", now, now + std::chrono::hours(3)});
  auto all = store_->activeOverrides(now);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].address, "c@d.com");  // the one ending first
  EXPECT_EQ(all[1].who, "admin kim");
  EXPECT_EQ(all[1].why, "longer");
  EXPECT_EQ(toMillis(all[1].until), toMillis(now + std::chrono::hours(3)));
  auto audit = store_->auditFor("override|a@b.com");
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[1].event, "added");
  EXPECT_EQ(audit[1].detail["who"], "admin kim");
  EXPECT_EQ(audit[1].detail["replaced"]["who"], "admin ops");

  EXPECT_TRUE(store_->removeOverride("a@b.com", "admin ops", now));
  EXPECT_FALSE(store_->activeOverride("a@b.com", now));
  EXPECT_FALSE(store_->removeOverride("a@b.com", "admin ops", now));  // nothing left to remove
  audit = store_->auditFor("override|a@b.com");
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[2].event, "removed");
  EXPECT_EQ(audit[2].detail["by"], "admin ops");
}

TEST_P(StoreContract, AnExpiredOverrideIsIgnoredThenPrunedWithAnAuditLine) {
  const TimePoint now = Clock::now();
  store_->putOverride(Override{"a@b.com", "admin ops", "", now - std::chrono::hours(2), now + std::chrono::hours(1)});
  EXPECT_TRUE(store_->activeOverride("a@b.com", now));
  const TimePoint later = now + std::chrono::hours(2);
  EXPECT_FALSE(store_->activeOverride("a@b.com", later));
  EXPECT_TRUE(store_->activeOverrides(later).empty());
  EXPECT_FALSE(store_->removeOverride("a@b.com", "admin ops", later));  // expired: not active
  EXPECT_EQ(store_->prune(RetentionConfig{}, later, 10000), 1);
  EXPECT_FALSE(store_->activeOverride("a@b.com", now));  // gone from the table, not just expired
  auto audit = store_->auditFor("override|a@b.com");
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[1].event, "expired");
  EXPECT_EQ(audit[1].detail["who"], "admin ops");
  EXPECT_EQ(store_->prune(RetentionConfig{}, later, 10000), 0);
}

TEST_P(StoreContract, AnActionIsRecordedOnceAndSettledWithAuditLines) {
  store_->recordDecision(decision("k1", EmailState::Reverting));
  ActionRecord a{"k1|release", "k1", "release", "riley@seller.test", "", "", {}, {}};
  EXPECT_TRUE(store_->beginAction(a));
  EXPECT_FALSE(store_->beginAction(a));  // a double click: nothing written
  auto rec = store_->findAction("k1|release");
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->state, "started");
  store_->finishAction("k1|release", "done", {{"rescheduled", true}});
  EXPECT_EQ(store_->findAction("k1|release")->state, "done");
  EXPECT_FALSE(store_->beginAction(a));  // replayed later: still nothing
  auto audit = store_->auditFor("k1");
  ASSERT_EQ(audit.size(), 3u);  // decided, release_started, release_done
  EXPECT_EQ(audit[1].event, "release_started");
  EXPECT_EQ(audit[2].event, "release_done");
  EXPECT_EQ(audit[2].detail["by"], "riley@seller.test");
  EXPECT_EQ(audit[2].detail["rescheduled"], true);
}

TEST_P(StoreContract, ASuppressionByAPersonIsAStandingUntilCleared) {
  store_->suppress("lead@acme.test", "slack:riley@seller.test", "kept held and suppressed from Slack", Clock::now());
  auto st = store_->standing("lead@acme.test");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->state, "suppressed");
  EXPECT_FALSE(st->until);
  EXPECT_EQ(store_->auditFor("bounce|lead@acme.test").at(0).event, "suppressed");
  EXPECT_TRUE(store_->clearStanding("lead@acme.test", "admin ops"));
  EXPECT_FALSE(store_->standing("lead@acme.test"));
}

// A lease is one instance's at a time: taken when free, renewed by its holder, taken over only
// once its time ran out, given up on release.
TEST_P(StoreContract, ALeaseIsOneHoldersUntilItRunsOutOrIsReleased) {
  const TimePoint t0 = Clock::now();
  const auto s30 = std::chrono::seconds(30);
  EXPECT_TRUE(store_->tryLease("connector:close-main", "host-a", t0, t0 + s30));
  EXPECT_FALSE(store_->tryLease("connector:close-main", "host-b", t0 + std::chrono::seconds(10), t0 + std::chrono::seconds(40)));
  EXPECT_TRUE(store_->tryLease("connector:close-main", "host-a", t0 + std::chrono::seconds(10), t0 + std::chrono::seconds(40)));
  // host-a stopped renewing: after its time, host-b takes over.
  EXPECT_FALSE(store_->tryLease("connector:close-main", "host-b", t0 + std::chrono::seconds(39), t0 + std::chrono::seconds(69)));
  EXPECT_TRUE(store_->tryLease("connector:close-main", "host-b", t0 + std::chrono::seconds(41), t0 + std::chrono::seconds(71)));
  EXPECT_FALSE(store_->tryLease("connector:close-main", "host-a", t0 + std::chrono::seconds(42), t0 + std::chrono::seconds(72)));
  auto all = store_->leases();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].holder, "host-b");
  // Only its holder releases it; then anyone takes it at once.
  store_->releaseLease("connector:close-main", "host-a");
  EXPECT_EQ(store_->leases().size(), 1u);
  store_->releaseLease("connector:close-main", "host-b");
  EXPECT_TRUE(store_->leases().empty());
  EXPECT_TRUE(store_->tryLease("connector:close-main", "host-a", t0 + std::chrono::seconds(43), t0 + std::chrono::seconds(73)));
}

// The decision log's page (admin API, dashboard) and the holds per day: JSON and date expressions
// differ between the dialects, the answers must not.
TEST_P(StoreContract, DecisionPagesFilterAndPageAlikeAndHoldsAreCountedPerDay) {
  for (int i = 0; i < 5; ++i) {
    auto d = decision("page-" + std::to_string(i), i % 2 ? EmailState::Reverted : EmailState::Allowed);
    d.sender = i < 3 ? "Riley@Seller.test" : "sam@seller.test";
    d.email = {{"user_id", "user_" + std::to_string(i % 2)}, {"user_name", "Riley Rep"}};
    d.recipients = nlohmann::json::array({{{"address", "lead" + std::to_string(i) + "@Acme.test"}}});
    ASSERT_TRUE(store_->recordDecision(d));
  }
  DecisionQuery q;
  q.since = Clock::now() - std::chrono::hours(1);
  EXPECT_EQ(store_->decisionsPage(q).size(), 5u);
  q.rep = "riley@seller.test";  // the sending mailbox, case-insensitive
  EXPECT_EQ(store_->decisionsPage(q).size(), 3u);
  q.rep = "user_1";  // the rep's id on the platform
  EXPECT_EQ(store_->decisionsPage(q).size(), 2u);
  q.rep = "riley rep";  // the rep's name
  EXPECT_EQ(store_->decisionsPage(q).size(), 5u);
  q.rep = "";
  q.address = "LEAD3@acme";  // part of a recipient's address
  auto one = store_->decisionsPage(q);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].key, "page-3");
  q.address = "";
  q.verdict = "revert";
  EXPECT_EQ(store_->decisionsPage(q).size(), 2u);
  // Pages of two, newest first, none repeated or skipped.
  q.verdict = "";
  q.limit = 2;
  std::set<std::string> keys;
  for (int page = 0; page < 4; ++page) {
    auto rows = store_->decisionsPage(q);
    for (const auto& r : rows) EXPECT_TRUE(keys.insert(r.key).second) << r.key;
    if (rows.empty()) break;
    q.after = std::make_pair(rows.back().decided_at, rows.back().key);
  }
  EXPECT_EQ(keys.size(), 5u);
  auto holds = store_->holdsPerDay(Clock::now() - std::chrono::hours(48));
  ASSERT_EQ(holds.size(), 1u);
  // The day they were decided: today, or yesterday if UTC midnight passed since.
  const std::string today = formatIso8601(Clock::now()).substr(0, 10);
  EXPECT_TRUE(holds[0].day == today || holds[0].day == formatIso8601(Clock::now() - std::chrono::hours(1)).substr(0, 10))
      << holds[0].day;
  EXPECT_EQ(holds[0].reason, "bounce_risk");
  EXPECT_EQ(holds[0].count, 2);
  // A stop not carried out because the rep changed the email held nothing (supersededStop).
  auto superseded = decision("page-superseded", EmailState::Reverting);
  ASSERT_TRUE(store_->recordDecision(superseded));
  ASSERT_TRUE(store_->transition("page-superseded", EmailState::Allowed,
                                 kChangedSinceDecided + "close since it was decided: not stopped", 0, std::nullopt));
  ASSERT_TRUE(supersededStop(*store_->findDecision("page-superseded")));
  EXPECT_EQ(store_->holdsPerDay(Clock::now() - std::chrono::hours(48)).at(0).count, 2);
}

// A remote server's words go into the store as they came (an SMTP reply in the evidence, a
// bounce's diagnostic): bytes that are not UTF-8, even a NUL, never make a write fail.
TEST_P(StoreContract, ServersBytesThatAreNotUtf8AreStored) {
  auto d = decision("bytes", EmailState::Allowed);
  d.evidence = std::string("550 5.1.1 \xff\xfe unknown ") + std::string(1, '\0') + "user \xe9t\xe9";
  ASSERT_TRUE(store_->recordDecision(d));
  const std::string stored = store_->findDecision("bytes")->evidence;
  EXPECT_NE(stored.find("550 5.1.1"), std::string::npos);
  EXPECT_NE(stored.find("user"), std::string::npos);
  BounceEvent e;
  e.key = "bytes|lee@acme.test";
  e.address = "lee@acme.test";
  e.reason = "userunknown";
  e.diagnostic = "550 \x1b$B%f!<%6\x1b(B \xa4\xa2";
  e.at = Clock::now();
  EXPECT_TRUE(store_->recordBounce(e, std::nullopt));
  EXPECT_FALSE(store_->recordBounce(e, std::nullopt));
  EXPECT_EQ(store_->bouncesFor("lee@acme.test", Clock::now() - std::chrono::hours(1)).size(), 1u);
}

// The addresses that bounced at a domain, by the domain's suffix: a domain written in UTF-8 is
// found (its length in bytes is not its length in characters: h68 review), one that merely ends
// the same way or holds a LIKE wildcard's place is not.
TEST_P(StoreContract, TheAddressesBouncedAtADomainAreFoundHoweverItIsWritten) {
  const auto now = Clock::now();
  int n = 0;
  for (const char* a : {"kim@b\xc3\xbc" "cher.test", "lee@b\xc3\xbc" "cher.test", "kim@xb\xc3\xbc" "cher.test", "kim@a_b.test",
                        "lee@axb.test", "kim@50%.test", "lee@500.test"}) {
    BounceEvent e;
    e.key = "m" + std::to_string(++n) + "|" + a;
    e.address = a;
    e.reason = "hostunknown";
    e.hard = true;
    e.at = now;
    ASSERT_TRUE(store_->recordBounce(e, std::nullopt)) << a;
  }
  const auto since = now - std::chrono::hours(1), until = now + std::chrono::hours(1);
  EXPECT_EQ(store_->addressesBouncedAt("b\xc3\xbc" "cher.test", {"hostunknown"}, since, until),
            (std::vector<std::string>{"kim@b\xc3\xbc" "cher.test", "lee@b\xc3\xbc" "cher.test"}));
  EXPECT_EQ(store_->addressesBouncedAt("a_b.test", {"hostunknown"}, since, until), std::vector<std::string>{"kim@a_b.test"});
  EXPECT_EQ(store_->addressesBouncedAt("50%.test", {"hostunknown"}, since, until), std::vector<std::string>{"kim@50%.test"});
  EXPECT_TRUE(store_->addressesBouncedAt("b\xc3\xbc" "cher.test", {"userunknown"}, since, until).empty());
  // At every domain (a provider's incident), from `since` to `until` both included, by time.
  BounceEvent again;
  again.key = "again|lee@500.test";
  again.address = "lee@500.test";
  again.reason = "hostunknown";
  again.hard = true;
  again.at = now + std::chrono::minutes(1);
  ASSERT_TRUE(store_->recordBounce(again, std::nullopt));
  BounceEvent other = again;
  other.key = "other|kim@c.test";
  other.address = "kim@c.test";
  other.reason = "userunknown";
  ASSERT_TRUE(store_->recordBounce(other, std::nullopt));
  using Rows = std::vector<std::pair<std::string, TimePoint>>;
  auto ms = [](TimePoint t) { return fromMillis(toMillis(t)); };  // as stored
  EXPECT_EQ(store_->bouncesBetween({"hostunknown"}, since, until).size(), 8u);
  EXPECT_EQ(store_->bouncesBetween({"userunknown", "notaccept"}, since, until), (Rows{{"kim@c.test", ms(again.at)}}));
  EXPECT_EQ(store_->bouncesBetween({"hostunknown"}, again.at, again.at), (Rows{{"lee@500.test", ms(again.at)}}));
  EXPECT_EQ(store_->bouncesBetween({"hostunknown"}, now, now).size(), 7u);
  EXPECT_TRUE(store_->bouncesBetween({"hostunknown"}, now + std::chrono::milliseconds(1), again.at - std::chrono::milliseconds(1)).empty());
  // The site that answered: kept with the event, and counted by it (a relay's incident).
  BounceEvent relayed = other;
  relayed.key = "relayed|amy@d.test";
  relayed.address = "amy@d.test";
  relayed.answered_by = "relay.test";
  ASSERT_TRUE(store_->recordBounce(relayed, std::nullopt));
  BounceEvent relayedSoft = relayed;
  relayedSoft.key = "relayed|bo@e.test";
  relayedSoft.address = "bo@e.test";
  relayedSoft.reason = "mailboxfull";
  relayedSoft.hard = false;
  ASSERT_TRUE(store_->recordBounce(relayedSoft, std::nullopt));
  EXPECT_EQ(store_->bouncesAnsweredBy("relay.test", {"userunknown"}, since, until), (Rows{{"amy@d.test", ms(again.at)}}));
  EXPECT_EQ(store_->bouncesAnsweredBy("relay.test", {"userunknown", "mailboxfull"}, since, until).size(), 2u);
  EXPECT_TRUE(store_->bouncesAnsweredBy("other.test", {"userunknown"}, since, until).empty());
  EXPECT_TRUE(store_->bouncesAnsweredBy("", {"userunknown"}, since, until).empty());
  EXPECT_EQ(store_->bouncesFor("amy@d.test", TimePoint{}).at(0).answered_by, "relay.test");
  EXPECT_EQ(store_->bouncesFor("kim@c.test", TimePoint{}).at(0).answered_by, "");
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContract, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

namespace {
// A query of the test's own on a PostgreSQL database: the first column of the first row.
std::string pgQuery(const std::string& conninfo, const std::string& sql) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  PGresult* r = PQexec(c, sql.c_str());
  std::string out = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : std::string();
  const bool ok = PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK;
  const std::string error = PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(c);
  if (!ok) throw std::runtime_error(sql + ": " + error);
  return out;
}
}  // namespace

TEST(PostgresStore, RecordsTheSchemaVersionAndRefusesADatabaseFromTheFuture) {
  const std::string db = freshDatabase();
  openPostgresStore(db);
  EXPECT_EQ(pgQuery(db, "SELECT version FROM safetynet_schema"), "10");
  // Times are milliseconds: the columns are 64-bit.
  EXPECT_EQ(pgQuery(db, "SELECT data_type FROM information_schema.columns WHERE table_name='decisions' AND "
                        "column_name='decided_at'"),
            "bigint");
  pgQuery(db, "UPDATE safetynet_schema SET version=99");
  try {
    openPostgresStore(db);
    FAIL() << "a database from a newer safetynet was opened";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 99"), std::string::npos) << e.what();
  }
}

// A PostgreSQL database as version 9 left it, with a bounce on record: migration 10 adds the
// site that answered (empty for the rows already there) and keeps them (review: only SQLite's
// upgrade was tested with rows in place).
TEST(PostgresStore, MigratesAVersion9DatabaseAndKeepsItsBounces) {
  const std::string db = freshDatabase();
  {
    auto store = openPostgresStore(db);
    BounceEvent kept;
    kept.key = "kept|kim@c.test";
    kept.address = "kim@c.test";
    kept.reason = "userunknown";
    kept.hard = true;
    kept.at = Clock::now();
    ASSERT_TRUE(store->recordBounce(kept, std::nullopt));
  }
  pgQuery(db, "DROP INDEX bounces_answered_by");
  pgQuery(db, "ALTER TABLE bounces DROP COLUMN answered_by");
  pgQuery(db, "UPDATE safetynet_schema SET version=9");
  auto store = openPostgresStore(db);
  EXPECT_EQ(pgQuery(db, "SELECT version FROM safetynet_schema"), "10");
  const auto events = store->bouncesFor("kim@c.test", TimePoint{});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].answered_by, "");
  BounceEvent relayed = events[0];
  relayed.key = "relayed|amy@d.test";
  relayed.address = "amy@d.test";
  relayed.answered_by = "relay.test";
  ASSERT_TRUE(store->recordBounce(relayed, std::nullopt));
  EXPECT_EQ(store->bouncesAnsweredBy("relay.test", {"userunknown"}, TimePoint{}, TimePoint::max()).size(), 1u);
}

// Instances on different machines start together against one new database: the schema is made
// once, and every instance opens it.
TEST(PostgresStore, InstancesStartingTogetherMigrateOnce) {
  const std::string db = freshDatabase();
  std::vector<std::thread> instances;
  std::atomic<int> opened{0};
  std::vector<std::string> errors(4);
  for (int i = 0; i < 4; ++i)
    instances.emplace_back([&, i] {
      try {
        auto s = openPostgresStore(db);
        s->putConnectorState("close-main", "instance" + std::to_string(i), "up");
        ++opened;
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(i)] = e.what();
      }
    });
  for (auto& t : instances) t.join();
  for (const auto& e : errors) EXPECT_EQ(e, "");
  EXPECT_EQ(opened.load(), 4);
  EXPECT_EQ(pgQuery(db, "SELECT count(*) FROM safetynet_schema"), "1");
  EXPECT_EQ(pgQuery(db, "SELECT count(*) FROM connector_state"), "4");
}

// A first write is written once when two instances make it: the second is told, not duplicated.
TEST(PostgresStore, TwoInstancesRecordingTheSameBounceOrActionWriteItOnce) {
  const std::string db = freshDatabase();
  auto a = openPostgresStore(db), b = openPostgresStore(db);
  BounceEvent e;
  e.key = "msg-1|lee@acme.test";
  e.address = "lee@acme.test";
  e.reason = "userunknown";
  e.hard = true;
  e.at = Clock::now();
  EXPECT_TRUE(a->recordBounce(e, std::nullopt));
  EXPECT_FALSE(b->recordBounce(e, std::nullopt));
  EXPECT_EQ(b->bouncesFor("lee@acme.test", Clock::now() - std::chrono::hours(1)).size(), 1u);
  EXPECT_TRUE(a->recordSend("send-1", "rep@seller.test", Clock::now()));
  EXPECT_FALSE(b->recordSend("send-1", "rep@seller.test", Clock::now()));
}

// A relay's incident rewrites addresses at domains whose locks it does not hold: it only tries
// their locks (tryLockSubject), so two instances never wait for each other in a circle. Held by
// another instance's transaction: false at once; free: true.
TEST(PostgresStore, ALockHeldByAnotherInstanceIsNotWaitedForByATry) {
  const std::string db = freshDatabase();
  auto a = openPostgresStore(db), b = openPostgresStore(db);
  std::promise<void> holding, tried;
  auto triedDone = tried.get_future();
  std::thread holder([&] {
    BounceEvent e;
    e.key = "held|kim@acme.test";
    e.address = "kim@acme.test";
    e.reason = "userunknown";
    e.at = Clock::now();
    b->recordBounceDeciding(e, {"kim@acme.test"}, [&]() -> std::optional<Standing> {
      holding.set_value();
      triedDone.wait();
      return std::nullopt;
    });
  });
  holding.get_future().wait();
  bool heldElsewhere = true, free = false;
  BounceEvent other;
  other.key = "other|lee@acme.test";
  other.address = "lee@acme.test";
  other.reason = "userunknown";
  other.at = Clock::now();
  a->recordBounceDeciding(other, {"lee@acme.test"}, [&]() -> std::optional<Standing> {
    heldElsewhere = a->tryLockSubject("kim@acme.test");
    free = a->tryLockSubject("amy@acme.test");
    return std::nullopt;
  });
  tried.set_value();
  holder.join();
  EXPECT_FALSE(heldElsewhere);
  EXPECT_TRUE(free);
}

// Two soft bounces of one address recorded at the same moment by two instances: the standing
// counts both. (Before, each instance read the standing and the address's earlier bounces outside
// the bounce's transaction, and the later write overwrote the other's count: 1, not 2.)
TEST(PostgresStore, TwoSoftBouncesOfOneAddressRecordedAtOnceByTwoInstancesBothCount) {
  const std::string db = freshDatabase();
  auto a = openPostgresStore(db), b = openPostgresStore(db);
  BouncesConfig config;  // a hold after 3 soft bounces: 2 is a "watch" with soft_count 2
  constexpr int kAddresses = 25;
  auto oneSoftBounce = [&](Store& store, const std::string& message, int i) {
    bounce::Classification c;
    bounce::BounceRecord r;
    r.recipient = "lee" + std::to_string(i) + "@acme.test";
    r.reason = "mailboxfull";
    r.hard = false;
    r.action = "failed";
    r.status = "4.2.2";
    c.records.push_back(r);
    return bounce::recordBounces(store, config, c, message, "test", "", Clock::now());
  };
  std::atomic<int> ready{0};
  auto instance = [&](Store& store, const std::string& name) {
    for (int i = 0; i < kAddresses; ++i) {
      // Both instances reach each address together.
      ++ready;
      while (ready.load() < 2 * (i + 1)) std::this_thread::yield();
      oneSoftBounce(store, name + "-msg-" + std::to_string(i), i);
    }
  };
  std::thread ta(instance, std::ref(*a), "a"), tb(instance, std::ref(*b), "b");
  ta.join();
  tb.join();
  int counted = 0;
  for (int i = 0; i < kAddresses; ++i) {
    const std::string address = "lee" + std::to_string(i) + "@acme.test";
    ASSERT_EQ(a->bouncesFor(address, Clock::now() - std::chrono::hours(1)).size(), 2u);
    auto st = a->standing(address);
    ASSERT_TRUE(st.has_value()) << address;
    EXPECT_EQ(st->soft_count, 2) << address;
    counted += st->soft_count == 2;
  }
  EXPECT_EQ(counted, kAddresses);
}

// Two addresses of one dead domain hard-bounce at the same moment on two instances: with
// domain_after 2, the second of them confirms the domain whichever instance records it (each
// counts the other's bounce, the domain locked), never neither.
TEST(PostgresStore, TwoAddressesOfADeadDomainRecordedAtOnceByTwoInstancesConfirmIt) {
  const std::string db = freshDatabase();
  auto a = openPostgresStore(db), b = openPostgresStore(db);
  BouncesConfig config;
  config.domain_after = 2;
  constexpr int kDomains = 25;
  auto deadDomainBounce = [&](Store& store, const std::string& local, int i) {
    bounce::Classification c;
    bounce::BounceRecord r;
    r.recipient = local + "@gone" + std::to_string(i) + ".test";
    r.reason = "hostunknown";
    r.hard = true;
    r.action = "failed";
    r.status = "5.1.2";
    c.records.push_back(r);
    return bounce::recordBounces(store, config, c, local + "-msg-" + std::to_string(i), "test", "", Clock::now());
  };
  std::atomic<int> ready{0};
  auto instance = [&](Store& store, const std::string& local) {
    for (int i = 0; i < kDomains; ++i) {
      ++ready;
      while (ready.load() < 2 * (i + 1)) std::this_thread::yield();
      deadDomainBounce(store, local, i);
    }
  };
  std::thread ta(instance, std::ref(*a), "kim"), tb(instance, std::ref(*b), "lee");
  ta.join();
  tb.join();
  int confirmed = 0;
  for (int i = 0; i < kDomains; ++i) {
    const auto st = a->standing("@gone" + std::to_string(i) + ".test");
    confirmed += st.has_value();
    EXPECT_TRUE(st.has_value()) << "gone" << i << ".test";
  }
  EXPECT_EQ(confirmed, kDomains);
}

// Two instances record "no such user" bounces of different addresses at one domain at once
// (bounces.incident_after 4): the count is taken under the domain's incident lock, so every
// domain's incident trips once, is told to the admins once, and leaves none of its addresses
// suppressed, whichever instance recorded which bounce.
TEST(PostgresStore, AProviderIncidentSeenByTwoInstancesAtOnceIsToldOnceAndSuppressesNobody) {
  const std::string db = freshDatabase();
  auto a = openPostgresStore(db), b = openPostgresStore(db);
  BouncesConfig config;
  config.incident_after = 4;
  constexpr int kDomains = 10, kEach = 4;
  const TimePoint t0 = Clock::now();
  std::atomic<int> alerts{0};
  const bounce::IncidentAlert alert = [&alerts](const bounce::BounceIncident& inc) -> std::optional<OutboxMessage> {
    OutboxMessage m;
    // A key of its own per alert: two alerts for one domain would be two rows, not one kept.
    m.dedupe_key = "bounce_incident|" + inc.domain + "|" + std::to_string(++alerts);
    m.kind = "slack";
    m.payload = {{"type", "bounce_incident"}, {"domain", inc.domain}};
    return m;
  };
  auto unknownBounce = [&](Store& store, const std::string& local, int d, int k) {
    bounce::Classification c;
    bounce::BounceRecord r;
    r.recipient = local + std::to_string(k) + "@big" + std::to_string(d) + ".test";
    r.reason = "userunknown";
    r.hard = true;
    r.action = "failed";
    r.status = "5.1.1";
    c.records.push_back(r);
    return bounce::recordBounces(store, config, c, r.recipient, "test", "", t0 + std::chrono::seconds(k), alert);
  };
  std::atomic<int> ready{0};
  auto instance = [&](Store& store, const std::string& local) {
    for (int d = 0; d < kDomains; ++d)
      for (int k = 0; k < kEach; ++k) {
        ++ready;
        while (ready.load() < 2 * (d * kEach + k + 1)) std::this_thread::yield();
        unknownBounce(store, local, d, k);
      }
  };
  std::thread ta(instance, std::ref(*a), "kim"), tb(instance, std::ref(*b), "lee");
  ta.join();
  tb.join();
  std::map<std::string, int> told;
  for (const auto& m : a->allOutbox()) ++told[m.payload.value("domain", "")];
  for (int d = 0; d < kDomains; ++d) {
    const std::string domain = "big" + std::to_string(d) + ".test";
    EXPECT_EQ(told[domain], 1) << domain;
    for (const std::string local : {"kim", "lee"})
      for (int k = 0; k < kEach; ++k) {
        const auto st = a->standing(local + std::to_string(k) + "@" + domain);
        ASSERT_TRUE(st.has_value());
        EXPECT_EQ(st->state, "watch") << st->subject << ": " << st->evidence;
      }
  }
}

// The same at a provider hosting many companies' mail: while one instance records the bounce that
// begins its incident (its alert queued inside the transaction), another records the next one at
// another of its domains. The provider's lock makes the second wait and see the first: the admins
// are told once. Without the lock the second counted the same window alone and told them again.
TEST(PostgresStore, AnIncidentOfAProviderOfManyDomainsSeenByTwoInstancesIsToldOnce) {
  const std::string db = freshDatabase();
  auto a = openPostgresStore(db), b = openPostgresStore(db);
  BouncesConfig config;
  config.incident_after = 4;
  config.provider_incident_ratio = 1;
  const TimePoint t0 = Clock::now();
  for (int d = 0; d < 10; ++d) a->putDomainFact("co" + std::to_string(d) + ".test", "provider", "microsoft365", t0 + std::chrono::hours(24 * 30));
  auto unknownBounce = [&](Store& store, const std::string& address, TimePoint at, const bounce::IncidentAlert& alert) {
    bounce::Classification c;
    bounce::BounceRecord r;
    r.recipient = address;
    r.reason = "userunknown";
    r.hard = true;
    r.action = "failed";
    r.status = "5.1.10";
    c.records.push_back(r);
    return bounce::recordBounces(store, config, c, address, "test", "", at, alert);
  };
  // The provider's usual week: a dead mailbox a day.
  for (int d = 1; d <= 6; ++d) unknownBounce(*a, "old" + std::to_string(d) + "@co9.test", t0 - std::chrono::hours(24 * d), {});
  std::atomic<int> alerts{0};
  std::atomic<bool> go{false};
  const bounce::IncidentAlert alert = [&](const bounce::BounceIncident& inc) -> std::optional<OutboxMessage> {
    if (!go.exchange(true)) std::this_thread::sleep_for(std::chrono::milliseconds(400));  // B goes now
    OutboxMessage m;
    m.dedupe_key = "bounce_incident|" + inc.provider + "|" + std::to_string(++alerts);  // two alerts: two rows
    m.kind = "slack";
    m.payload = {{"type", "bounce_incident"}, {"provider", inc.provider}};
    return m;
  };
  std::thread ta([&] {
    for (int k = 0; k < 4; ++k) unknownBounce(*a, "kim@co" + std::to_string(2 * k) + ".test", t0 + std::chrono::seconds(k), alert);
  });
  std::thread tb([&] {
    while (!go.load()) std::this_thread::yield();
    unknownBounce(*b, "lee@co1.test", t0 + std::chrono::seconds(5), alert);
  });
  ta.join();
  tb.join();
  const auto told = a->allOutbox();
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0].payload.value("provider", ""), "microsoft365");
  for (const auto* address : {"kim@co0.test", "kim@co2.test", "kim@co4.test", "kim@co6.test", "lee@co1.test"}) {
    const auto st = a->standing(address);
    ASSERT_TRUE(st.has_value()) << address;
    EXPECT_EQ(st->state, "watch") << st->subject << ": " << st->evidence;
  }
}

// An admin suppresses an address ("Keep held and suppress") while a soft bounce of it is being
// recorded by another instance: the suppression stays (a soft bounce never lifts it), whichever
// comes first. (Before, the bounce read no standing, the suppression was written, and the bounce's
// "watch" overwrote it.)
TEST(PostgresStore, ASuppressionAndASoftBounceAtOnceLeaveTheAddressSuppressed) {
  const std::string db = freshDatabase();
  auto a = openPostgresStore(db), b = openPostgresStore(db);
  BouncesConfig config;
  constexpr int kAddresses = 25;
  std::atomic<int> ready{0};
  auto together = [&ready](int i) {
    ++ready;
    while (ready.load() < 2 * (i + 1)) std::this_thread::yield();
  };
  std::thread admin([&] {
    for (int i = 0; i < kAddresses; ++i) {
      together(i);
      a->suppress("kim" + std::to_string(i) + "@acme.test", "admin", "kept held and suppressed", Clock::now());
    }
  });
  std::thread bounces([&] {
    for (int i = 0; i < kAddresses; ++i) {
      together(i);
      bounce::Classification c;
      bounce::BounceRecord r;
      r.recipient = "kim" + std::to_string(i) + "@acme.test";
      r.reason = "mailboxfull";
      r.action = "failed";
      r.status = "4.2.2";
      c.records.push_back(r);
      bounce::recordBounces(*b, config, c, "msg-" + std::to_string(i), "test", "", Clock::now());
    }
  });
  admin.join();
  bounces.join();
  for (int i = 0; i < kAddresses; ++i) {
    auto st = a->standing("kim" + std::to_string(i) + "@acme.test");
    ASSERT_TRUE(st.has_value());
    EXPECT_EQ(st->state, "suppressed") << i;
  }
}

// The server restarts (an upgrade, a failover): the next call reconnects.
TEST(PostgresStore, ReconnectsAfterTheServerRestarts) {
  const std::string db = freshDatabase();
  auto s = openPostgresStore(db);
  s->putConnectorState("close-main", "k", "1");
  postgres().restart();
  // The call that finds the connection gone fails, and so do those while the server is still
  // starting up; then a call reconnects, with no new store.
  std::optional<std::string> v;
  std::string lastError;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!v && std::chrono::steady_clock::now() < deadline) {
    try {
      v = s->connectorState("close-main", "k");
    } catch (const StoreError& e) {
      lastError = e.what();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  EXPECT_NE(lastError, "");  // the first call did find the connection gone
  EXPECT_EQ(v, "1");
}

// Instances on different machines ask for the same free unit at the same moment: one gets it.
TEST(PostgresStore, OneOfManyInstancesAskingAtOnceGetsALease) {
  const std::string db = freshDatabase();
  for (int round = 0; round < 5; ++round) {
    std::vector<StorePtr> stores;
    for (int i = 0; i < 4; ++i) stores.push_back(openPostgresStore(db));
    std::atomic<int> winners{0};
    std::vector<std::thread> askers;
    const TimePoint now = Clock::now();
    const std::string unit = "connector:c" + std::to_string(round);
    for (int i = 0; i < 4; ++i)
      askers.emplace_back([&, i] {
        if (stores[static_cast<size_t>(i)]->tryLease(unit, "host-" + std::to_string(i), now, now + std::chrono::seconds(30)))
          ++winners;
      });
    for (auto& t : askers) t.join();
    EXPECT_EQ(winners.load(), 1) << unit;
  }
}

// Leases are reckoned by the database server's clock, not each machine's: an instance whose clock
// runs ten minutes fast neither takes a live instance's units nor, once dead, holds its own ten
// minutes past its lease.
TEST(PostgresStore, LeasesAreReckonedByTheDatabasesClockNotTheMachines) {
  const std::string db = freshDatabase();
  auto onTime = openPostgresStore(db), fast = openPostgresStore(db);
  auto config = [](const std::string& name) {
    StoreConfig c;
    c.backend = "postgres";
    c.lease = std::chrono::seconds(5);  // room for each step's round trips on a loaded machine
    c.instance = name;
    return c;
  };
  Coordinator a(*onTime, config("on-time")), b(*fast, config("fast"));
  const std::vector<std::string> connectors = {"close-a", "close-b", "outreach"};
  auto owned = [&](const Coordinator& c) {
    int n = c.ownsHousekeeping() ? 1 : 0;
    for (const auto& x : connectors) n += c.ownsConnector(x) ? 1 : 0;
    return n;
  };
  const auto skew = std::chrono::minutes(10);
  a.refresh(connectors, Clock::now());
  ASSERT_EQ(owned(a), 4);
  // The fast one joins while the first is alive: it takes nothing the first holds, which renews
  // all of them and gives up only its excess (two of four).
  b.refresh(connectors, Clock::now() + skew);
  EXPECT_EQ(owned(b), 0) << "units were taken from a live instance";
  a.refresh(connectors, Clock::now());
  EXPECT_EQ(owned(a), 2);
  b.refresh(connectors, Clock::now() + skew);
  EXPECT_EQ(owned(b), 2);
  // Now the fast one holds everything and dies: another takes over once its lease has run out.
  a.releaseAll();
  b.refresh(connectors, Clock::now() + skew);
  ASSERT_EQ(owned(b), 4);
  std::this_thread::sleep_for(std::chrono::milliseconds(5500));
  Coordinator c(*onTime, config("on-time"));
  c.refresh(connectors, Clock::now());
  EXPECT_EQ(owned(c), 4) << "a dead instance's units were held past its lease";
}

// A connection string libpq cannot parse is reported without its text: it may hold the password.
TEST(PostgresStore, AnUnreadableConnectionStringIsNotEchoed) {
  for (const char* bad : {"host=db.internal password=hunter 2secret", "postgresql://u:%zzhunter2@db.internal/x"}) {
    try {
      openPostgresStore(bad);
      FAIL() << "opened " << bad;
    } catch (const StoreError& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.find("hunter"), std::string::npos) << what;
      EXPECT_EQ(what.find("secret"), std::string::npos) << what;
      EXPECT_NE(what.find("store.conninfo"), std::string::npos) << what;
    }
  }
}

// The SQLite driver keeps prepared statements for reuse (docs/benchmarks.md): a statement still
// stepping is never handed out again, so a query run inside another's loop, with the same SQL, reads
// its own rows; one put back mid-result (a lookup that read one row) starts afresh.
TEST(SqliteDb, AStatementInUseIsNotHandedOutTwiceAndOneReturnedEarlyStartsAfresh) {
  const auto dir = std::filesystem::temp_directory_path() / ("sn-sqlitedb-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    auto db = safetynet::store::openSqliteDb((dir / "t.db").string());
    db->exec("CREATE TABLE t (k INTEGER)");
    db->exec("INSERT INTO t VALUES (1), (2), (3)");
    const std::string sql = "SELECT k FROM t WHERE k>=? ORDER BY k";
    std::vector<std::string> seen;
    auto outer = db->prepare(sql);
    outer->bind(1, 1LL);
    while (outer->step()) {
      auto inner = db->prepare(sql);  // the same SQL while the outer one steps
      inner->bind(1, outer->integer(0));
      std::string row = std::to_string(outer->integer(0)) + ":";
      while (inner->step()) row += std::to_string(inner->integer(0));
      seen.push_back(row);
    }
    EXPECT_EQ(seen, (std::vector<std::string>{"1:123", "2:23", "3:3"}));
    {
      auto early = db->prepare(sql);
      early->bind(1, 2LL);
      ASSERT_TRUE(early->step());  // one row read, the rest left
    }
    auto again = db->prepare(sql);
    again->bind(1, 1LL);
    ASSERT_TRUE(again->step());
    EXPECT_EQ(again->integer(0), 1);
    // Its bindings were cleared: an unbound parameter is NULL, and k>=NULL holds for no row.
    again.reset();
    auto unbound = db->prepare(sql);
    EXPECT_FALSE(unbound->step());
    // SQL with no statement in it is an error, not a null statement reset later.
    EXPECT_THROW(db->prepare("  -- nothing"), StoreError);
  }
  std::filesystem::remove_all(dir);
}
