// The Close connector against the fake Close (tests/fakes), which follows the vendor's spec.
#include <gtest/gtest.h>

#include <set>

#include "connectors/close/close_connector.hpp"
#include "fakes/fake_close.hpp"
#include "integration/peers.hpp"
#include "safetynet/core/time_format.hpp"
#include "safetynet/net/http_client.hpp"
#include "support/run_task.hpp"

using namespace safetynet;
using namespace safetynet::testing;
using namespace std::chrono;

namespace {

class CloseConnectorTest : public ::testing::Test {
 protected:
  asio::io_context io;
  TempDir dir;
  StorePtr store = openSqliteStore(dir.path().string());
  fakes::FakeClose fake{io.get_executor(), "key-1"};

  std::unique_ptr<close::CloseConnector> connector(const std::string& key = "key-1") {
    ConnectorConfig c;
    c.name = "close-test";
    c.type = "close";
    c.base_url = fake.baseUrl();
    c.api_key = Secret(key);
    HttpClientOptions o;
    o.retry.base_delay = milliseconds(10);
    return std::make_unique<close::CloseConnector>(c, makeHttpClient(io.get_executor(), o), *store);
  }
  void add(const std::string& id, minutes when, const std::string& status = "scheduled",
           hours createdAgo = hours(2)) {
    fakes::FakeCloseEmail e;
    e.id = id;
    e.to = {"Jane <" + id + "@acme.test>"};
    e.subject = "s-" + id;
    e.scheduled_at = Clock::now() + when;
    e.status = status;
    e.created_at = Clock::now() - createdAgo;
    e.contact_id = "cont_" + id;
    fake.addEmail(e);
  }
  TimeWindow window() { return {Clock::now(), Clock::now() + minutes(60)}; }
  std::vector<std::string> ids(const std::vector<ScheduledEmail>& v) {
    std::vector<std::string> out;
    for (const auto& e : v) out.push_back(e.id);
    return out;
  }
};

}  // namespace

TEST_F(CloseConnectorTest, SweepFindsScheduledEmailsAcrossPagesAndDays) {
  for (int i = 0; i < 230; ++i) add("bulk" + std::to_string(i), minutes(200));  // outside the window
  add("in1", minutes(5));
  add("in2", minutes(50), "scheduled", hours(24 * 10));  // created ten days ago
  add("sent", minutes(10), "sent");
  add("draft", minutes(10), "draft");
  auto c = connector();
  auto found = runTask(io, c->listScheduled(window()));
  EXPECT_EQ(ids(found), (std::vector<std::string>{"in1", "in2"}));
  EXPECT_EQ(found[0].recipients.at(0).address, "in1@acme.test");
  EXPECT_EQ(found[0].subject, "s-in1");
  // 230 emails created two hours ago sit in one day chunk: three pages of 100.
  EXPECT_GE(fake.requestCount("GET /api/v1/activity/email/"), 3 + 30);
}

TEST_F(CloseConnectorTest, ADayTooBusyForClosesSkipLimitIsSweptInSmallerWindows) {
  // 1,500 emails created within one day: a day's window would need _skip past Close's limit (a
  // 400); "update your query to return smaller batches ... use the date_created field as a
  // range" (developer.close.com/api/overview/pagination).
  for (int i = 0; i < 1500; ++i) {  // one every 20 s, over 8 hours
    fakes::FakeCloseEmail e;
    e.id = "bulk" + std::to_string(i);
    e.to = {"bulk@acme.test"};
    e.status = "sent";
    e.scheduled_at = Clock::now() - hours(3);
    e.created_at = Clock::now() - hours(2) - seconds(20 * i);
    fake.addEmail(e);
  }
  add("in1", minutes(5), "scheduled", hours(2));
  auto c = connector();
  EXPECT_EQ(ids(runTask(io, c->listScheduled(window()))), std::vector<std::string>{"in1"});
}

TEST_F(CloseConnectorTest, AFailedResyncStillListsWhatIsTrackedAndReadsTheEventLog) {
  add("a", minutes(5));
  auto c = connector();
  EXPECT_EQ(ids(runTask(io, c->listScheduled(window()))), std::vector<std::string>{"a"});
  // The 6-hourly resync comes, and Close answers the sweep with errors past the client's retries.
  store->putConnectorState("close-test", "last_sweep", "0");
  fake.setFaults(FaultPlan::on("GET /api/v1/activity/email/", FaultKind::ServerError, 50));
  add("b", minutes(7));  // a created event
  EXPECT_EQ(ids(runTask(io, c->listScheduled(window()))), (std::vector<std::string>{"a", "b"}));
  // The next poll does not start the whole sweep again at once.
  fake.setFaults(FaultPlan{});
  const int sweeps = fake.requestCount("GET /api/v1/activity/email/");
  EXPECT_EQ(ids(runTask(io, c->listScheduled(window()))), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(fake.requestCount("GET /api/v1/activity/email/"), sweeps);
  // The very first sweep failing is an error: nothing is known yet.
  TempDir other;
  auto fresh = openSqliteStore(other.path().string());
  ConnectorConfig cfg;
  cfg.name = "close-fresh";
  cfg.type = "close";
  cfg.base_url = fake.baseUrl();
  cfg.api_key = Secret("key-1");
  HttpClientOptions o;
  o.retry.base_delay = milliseconds(10);
  close::CloseConnector first(cfg, makeHttpClient(io.get_executor(), o), *fresh);
  fake.setFaults(FaultPlan::on("GET /api/v1/activity/email/", FaultKind::ServerError, 50));
  EXPECT_THROW(runTask(io, first.listScheduled(window())), ConnectorError);
}

TEST_F(CloseConnectorTest, LaterPollsReadOnlyTheEventLog) {
  add("a", minutes(5));
  auto c = connector();
  EXPECT_EQ(ids(runTask(io, c->listScheduled(window()))), std::vector<std::string>{"a"});
  const int listCalls = fake.requestCount("GET /api/v1/activity/email/");
  add("b", minutes(7));        // created event
  fake.setStatus("a", "sent");  // updated event: no longer scheduled
  EXPECT_EQ(ids(runTask(io, c->listScheduled(window()))), std::vector<std::string>{"b"});
  EXPECT_EQ(fake.requestCount("GET /api/v1/activity/email/"), listCalls);  // no new sweep
  EXPECT_EQ(fake.requestCount("GET /api/v1/event/"), 3);                    // created, updated, deleted
}

TEST_F(CloseConnectorTest, RevertMovesToDraftAndConfirmsOnce) {
  add("r1", minutes(9));
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  ASSERT_EQ(emails.size(), 1u);
  auto r = runTask(io, c->revert(emails[0]));
  EXPECT_TRUE(r.confirmed) << r.detail;
  EXPECT_EQ(fake.status("r1"), "draft");
  EXPECT_EQ(fake.putCount("r1"), 1);
  // Again (as after a crash): reads, sees a draft, does not PUT again.
  auto again = runTask(io, c->revert(emails[0]));
  EXPECT_TRUE(again.confirmed);
  EXPECT_EQ(again.detail, "already a draft in Close");
  EXPECT_EQ(fake.putCount("r1"), 1);
  EXPECT_TRUE(runTask(io, c->listScheduled(window())).empty());
}

TEST_F(CloseConnectorTest, ARevertThatCannotReadTheEmailIsTriedAgainNotGivenUp) {
  // The first read of the revert is answered with something that is not JSON: Close was not
  // heard, so the revert fails for now (the engine tries again), it does not report "not stopped".
  add("g1", minutes(9));
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  fake.garbleNext(1);
  EXPECT_THROW(runTask(io, c->revert(emails.at(0))), ConnectorError);
  EXPECT_EQ(fake.status("g1"), "scheduled");
  auto again = runTask(io, c->revert(emails.at(0)));
  EXPECT_TRUE(again.confirmed) << again.detail;
  EXPECT_EQ(fake.status("g1"), "draft");
}

TEST_F(CloseConnectorTest, TooLateWhenAlreadySent) {
  add("s1", minutes(9));
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  fake.setStatus("s1", "sent");
  auto r = runTask(io, c->revert(emails.at(0)));
  EXPECT_FALSE(r.confirmed);
  EXPECT_EQ(r.detail, "Close shows status \"sent\": too late to stop");
  EXPECT_EQ(fake.putCount("s1"), 0);
}

TEST_F(CloseConnectorTest, RateLimitIsWaitedOut) {
  add("x", minutes(5));
  fake.rateLimitNext(2, 1);
  auto c = connector();
  auto start = steady_clock::now();
  EXPECT_EQ(runTask(io, c->listScheduled(window())).size(), 1u);
  EXPECT_GE(steady_clock::now() - start, milliseconds(1900));
}

TEST_F(CloseConnectorTest, WrongKeyIsAClearErrorWithoutTheKey) {
  auto c = connector("wrong-key");
  try {
    runTask(io, c->listScheduled(window()));
    FAIL() << "expected ConnectorError";
  } catch (const ConnectorError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("rejected the API key (401)"), std::string::npos) << m;
    EXPECT_EQ(m.find("wrong-key"), std::string::npos);
  }
}

TEST_F(CloseConnectorTest, PeopleNamesTheRepAndTheContact) {
  fake.addUser("user_rep1", "riley@seller.test", "Riley", "Rep");
  fake.addContact("cont_p1", "Jane Prospect", "p1@acme.test");
  add("p1", minutes(5));
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  auto people = runTask(io, c->people(emails.at(0)));
  EXPECT_EQ(people.rep.email, "riley@seller.test");
  EXPECT_EQ(people.rep.name, "Riley Rep");
  EXPECT_EQ(people.contact_name, "Jane Prospect");
}

TEST_F(CloseConnectorTest, AReplyThatIsNotJsonIsAConnectorError) {
  add("x", minutes(5));
  fake.garbleNext(1);
  auto c = connector();
  try {
    runTask(io, c->listScheduled(window()));
    FAIL() << "expected ConnectorError";
  } catch (const ConnectorError& e) {
    EXPECT_NE(std::string(e.what()).find("answered something that is not JSON"), std::string::npos) << e.what();
  }
  // The next poll works again.
  EXPECT_EQ(runTask(io, c->listScheduled(window())).size(), 1u);
}

TEST_F(CloseConnectorTest, OddEventsAreSkippedNotFatal) {
  add("ok1", minutes(5));
  auto c = connector();
  runTask(io, c->listScheduled(window()));
  const std::string now = "2099-01-01T00:00:00Z";  // sorts last
  fake.injectEvent({{"object_type", "activity.email"}, {"action", "updated"}, {"object_id", "odd1"},
                    {"date_updated", nullptr},
                    {"data", {{"id", "odd1"}, {"status", "scheduled"}, {"date_scheduled", nullptr}}}});
  fake.injectEvent({{"object_type", "activity.email"}, {"action", "updated"}, {"object_id", nullptr}});
  fake.injectEvent({{"object_type", "activity.email"}, {"action", "created"}, {"object_id", "odd2"},
                    {"date_updated", now},
                    {"data", {{"id", "odd2"}, {"status", "scheduled"}, {"date_scheduled", "soon"}, {"to", 5}}}});
  add("ok2", minutes(6));
  EXPECT_EQ(ids(runTask(io, c->listScheduled(window()))), (std::vector<std::string>{"ok1", "ok2"}));
}

TEST_F(CloseConnectorTest, SentAndFailedEmailsSeenWhileTracking) {
  add("acti_sent1", minutes(-30), "sent");
  add("acti_sent2", minutes(-20), "sent");
  fakes::FakeCloseEmail failed;
  failed.id = "acti_err";
  failed.to = {"Lee <lee@gone.test>"};
  failed.scheduled_at = Clock::now() - minutes(10);
  failed.status = "error";
  failed.created_at = Clock::now() - hours(1);
  failed.error_message = "550 5.1.1 <lee@gone.test>: Recipient address rejected";
  fake.addEmail(failed);
  // A failed send whose date_sent is null (nullable in the spec): its last attempt's date counts.
  failed.id = "acti_err2";
  failed.to = {"Kim <kim@gone.test>"};
  failed.date_sent = false;
  fake.addEmail(failed);
  add("acti_sched", minutes(30));
  auto c = connector();
  runTask(io, c->listScheduled(TimeWindow{Clock::now(), Clock::now() + hours(1)}));
  auto a = runTask(io, c->recentActivity(Clock::now() - hours(24)));
  ASSERT_EQ(a.sent.size(), 4u);
  EXPECT_EQ(a.sent[0].mailbox, "riley@seller.example");
  ASSERT_EQ(a.bounced.size(), 2u);
  std::set<std::string> bounced = {a.bounced[0].address, a.bounced[1].address};
  EXPECT_EQ(bounced, (std::set<std::string>{"lee@gone.test", "kim@gone.test"}));
  EXPECT_NE(a.bounced[0].diagnostic.find("550 5.1.1"), std::string::npos);
  // Handed over once.
  EXPECT_TRUE(runTask(io, c->recentActivity(Clock::now() - hours(24))).sent.empty());
}

TEST_F(CloseConnectorTest, ProfilesAreReadByLeadCachedAndReusedForTheContactName) {
  // Six emails to three contacts of one company (one lead), two to a contact of another lead.
  fake.addContact("cont_a", "Ann", "a@acme.test", "lead_acme");
  fake.addContact("cont_b", "Bob", "b@acme.test", "lead_acme");
  fake.addContact("cont_c", "Cy", "c@acme.test", "lead_acme");
  fake.addContact("cont_z", "Zed", "z@other.test", "lead_other");
  const std::vector<std::pair<std::string, std::string>> mails = {
      {"a1", "cont_a"}, {"a2", "cont_a"}, {"b1", "cont_b"}, {"c1", "cont_c"}, {"c2", "cont_c"}, {"z1", "cont_z"}};
  for (const auto& [id, contact] : mails) {
    fakes::FakeCloseEmail e;
    e.id = id;
    e.to = {contact.substr(5) + "@" + (contact == "cont_z" ? "other.test" : "acme.test")};
    e.scheduled_at = Clock::now() + minutes(10);
    e.contact_id = contact;
    fake.addEmail(e);
  }
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  ASSERT_EQ(emails.size(), 6u);
  runTask(io, c->loadProfiles(emails));
  for (const auto& e : emails) {
    ASSERT_TRUE(e.recipients.at(0).profile) << e.id;
    EXPECT_EQ(e.recipients.at(0).profile->person_id, e.contact_id);
  }
  auto count = [&](const std::string& exact) {
    int n = 0;
    for (const auto& line : fake.requestLog()) n += line == exact;
    return n;
  };
  EXPECT_EQ(count("GET /api/v1/contact/"), 2);  // one request per lead
  EXPECT_EQ(fake.requestCount("GET /api/v1/contact/"), 2);  // and none per contact
  // Cached: a second load and the notification's contact name cost nothing.
  runTask(io, c->loadProfiles(emails));
  EXPECT_EQ(runTask(io, c->people(emails.at(0))).contact_name, "Ann");
  EXPECT_EQ(fake.requestCount("GET /api/v1/contact/"), 2);
}

// Close answers 404 for an email that was deleted (the spec: GET /activity/email/{id}/ "404: Not
// found"). Nothing is left to send: the stop is done, as on Outreach and Salesloft, not an error
// tried again and reported as "could NOT be stopped".
TEST_F(CloseConnectorTest, ADeletedEmailIsStoppedNotAnError) {
  add("d1", minutes(9));
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  ASSERT_EQ(emails.size(), 1u);
  fake.deleteEmail("d1");
  auto r = runTask(io, c->revert(emails[0]));
  EXPECT_TRUE(r.confirmed);
  EXPECT_EQ(r.detail, "the email no longer exists in Close");
  EXPECT_EQ(fake.putCount("d1"), 0);
  EXPECT_TRUE(store->trackedBetween("close-test", TimePoint{}, TimePoint::max()).empty());
}

// A 404 from a wrong base_url (a reload that dropped /v1) is no deleted email: Close itself must
// answer (GET /me/), else the stop failed and is tried again.
TEST_F(CloseConnectorTest, A404FromAWrongBaseUrlIsNoDeletedEmail) {
  add("w1", minutes(9));
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  ASSERT_EQ(emails.size(), 1u);
  ConnectorConfig wrong;
  wrong.name = "close-test";
  wrong.type = "close";
  wrong.base_url = fake.baseUrl().substr(0, fake.baseUrl().size() - 3);  // ".../api": no /v1
  wrong.api_key = Secret("key-1");
  HttpClientOptions o;
  o.retry.base_delay = milliseconds(10);
  auto misconfigured = std::make_unique<close::CloseConnector>(wrong, makeHttpClient(io.get_executor(), o), *store);
  EXPECT_ANY_THROW(runTask(io, misconfigured->revert(emails[0])));
  EXPECT_EQ(fake.status("w1"), "scheduled");
  EXPECT_FALSE(store->trackedBetween("close-test", TimePoint{}, TimePoint::max()).empty());  // still tracked
}

TEST_F(CloseConnectorTest, AnEmailDeletedWhileItIsStoppedIsStoppedNotAnError) {
  add("d2", minutes(9));
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  ASSERT_EQ(emails.size(), 1u);
  fake.deleteBeforeNextPut("d2");  // read as scheduled, deleted before the PUT lands
  auto r = runTask(io, c->revert(emails[0]));
  EXPECT_TRUE(r.confirmed);
  EXPECT_EQ(r.detail, "the email no longer exists in Close");
  EXPECT_EQ(fake.status("d2"), "");
  EXPECT_TRUE(store->trackedBetween("close-test", TimePoint{}, TimePoint::max()).empty());
}

// The event log's cursor pages need not honour date_updated (close-openapi.yml: with _cursor,
// supply the other filters again "except for date_updated"; cursors "are not designed to stream
// new events"): paging stops at the first event older than the poll's start, not at the log's end.
TEST_F(CloseConnectorTest, TheEventLogIsPagedBackToThePollsStartOnly) {
  for (int i = 0; i < 200; ++i) {  // two days old, before the first sweep
    const std::string id = "old" + std::to_string(i);
    fake.injectEvent({{"object_type", "activity.email"}, {"action", "created"}, {"object_id", id},
                      {"date_updated", formatIso8601(Clock::now() - hours(48) + seconds(i))},
                      {"data", {{"id", id}, {"status", "draft"}}}});
  }
  add("a", minutes(5));
  auto c = connector();
  EXPECT_EQ(runTask(io, c->listScheduled(window())).size(), 1u);  // the sweep
  for (int i = 0; i < 60; ++i) add("n" + std::to_string(i), minutes(10));
  EXPECT_EQ(runTask(io, c->listScheduled(window())).size(), 61u);
  // created: 50 new events, then 11 new and the old ones (the end); updated, deleted: a page each.
  EXPECT_EQ(fake.requestCount("GET /api/v1/event/"), 4);
}

// The rep moved the email after it was listed and before its stop, and no listing has shown it
// yet: the stop's own first read (no extra request) sees another send time and writes nothing.
// The new version is what the connector lists next, without waiting for the event log.
TEST_F(CloseConnectorTest, RevertLeavesAnEmailRescheduledOrReaddressedSinceItWasListed) {
  add("moved", minutes(30));
  add("cc", minutes(31));
  add("same", minutes(32));
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  ASSERT_EQ(emails.size(), 3u);
  const TimePoint later = emails[0].scheduled_at + minutes(15);
  // The event log lags: no event tells the listing of these edits.
  fake.editEmail("moved", [&](fakes::FakeCloseEmail& e) { e.scheduled_at = later; }, false);
  fake.editEmail("cc", [](fakes::FakeCloseEmail& e) { e.cc = {"boss@acme.test"}; }, false);
  fake.editEmail("same", [](fakes::FakeCloseEmail& e) {
    e.subject = "a new subject";
    e.to = {"JANE <SAME@acme.test>"};  // the same address, written otherwise
  });
  const int reads = fake.requestCount("GET /api/v1/activity/email/moved/");

  auto r = runTask(io, c->revert(emails[0]));
  EXPECT_TRUE(r.changed);
  EXPECT_FALSE(r.confirmed);
  ASSERT_TRUE(r.current);
  EXPECT_EQ(toMillis(r.current->scheduled_at), toMillis(later));
  EXPECT_EQ(fake.putCount("moved"), 0);
  EXPECT_EQ(fake.status("moved"), "scheduled");
  EXPECT_EQ(fake.requestCount("GET /api/v1/activity/email/moved/"), reads + 1);

  auto cc = runTask(io, c->revert(emails[1]));
  EXPECT_TRUE(cc.changed);
  ASSERT_TRUE(cc.current);
  ASSERT_EQ(cc.current->recipients.size(), 2u);
  EXPECT_EQ(cc.current->recipients[1].kind, "cc");
  EXPECT_EQ(fake.putCount("cc"), 0);

  // Changed in nothing the decision saw: stopped as decided.
  auto same = runTask(io, c->revert(emails[2]));
  EXPECT_FALSE(same.changed);
  EXPECT_TRUE(same.confirmed) << same.detail;
  EXPECT_EQ(fake.status("same"), "draft");

  // The next listing has the new versions at once (under their new keys), though the event log
  // has not told of them.
  auto next = runTask(io, c->listScheduled({Clock::now(), Clock::now() + minutes(60)}));
  ASSERT_EQ(next.size(), 2u);
  std::set<std::string> keys{next[0].key(), next[1].key()};
  EXPECT_TRUE(keys.count(r.current->key()));
  EXPECT_TRUE(keys.count(cc.current->key()));
}
