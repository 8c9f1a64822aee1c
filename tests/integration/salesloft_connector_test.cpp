// The Salesloft connector against the fake Salesloft (tests/fakes), which follows the vendor's
// OpenAPI spec.
#include <gtest/gtest.h>

#include <set>

#include "connectors/salesloft/salesloft_connector.hpp"
#include "fakes/fake_salesloft.hpp"
#include "integration/peers.hpp"
#include "safetynet/net/http_client.hpp"
#include "support/run_task.hpp"

using namespace safetynet;
using namespace safetynet::testing;
using namespace std::chrono;

namespace {

nlohmann::json personJson(long id, const std::string& email) {
  return {{"id", id},
          {"first_name", "Pat"},
          {"last_name", "Lee"},
          {"display_name", "Pat Lee"},
          {"email_address", email},
          {"secondary_email_address", nullptr},
          {"personal_email_address", "pat.lee@gmail.com"},
          {"do_not_contact", false},
          {"contact_restrictions", {"call"}},
          {"bouncing", false},
          {"last_replied_at", nullptr},
          {"person_company_website", "https://www.acme.test/"},
          {"counts", {{"emails_sent", 12}, {"emails_viewed", 0}, {"emails_clicked", 0}, {"emails_replied_to", 0}, {"emails_bounced", 2}, {"calls", 0}}},
          {"owner", {{"id", 5}}}};
}

class SalesloftConnectorTest : public ::testing::Test {
 protected:
  asio::io_context io;
  TempDir dir;
  StorePtr store = openSqliteStore(dir.path().string());
  fakes::FakeSalesloft fake{io.get_executor(), "sl-key"};

  void SetUp() override {
    fake.addUser(5, "sam@seller.test", "Sam Seller", "sam.seller");
    fake.addPerson(personJson(1, "pat@acme.test"));
  }
  std::unique_ptr<salesloft::SalesloftConnector> connector(const std::string& strategy = "", bool oauth = false,
                                                           const std::string& key = "sl-key") {
    ConnectorConfig c;
    c.name = "salesloft-test";
    c.type = "salesloft";
    c.base_url = fake.baseUrl();
    if (oauth) {
      c.oauth.enabled = true;
      c.oauth.token_url = fake.tokenUrl();
      c.oauth.client_id = fakes::FakeSalesloft::kClientId;
      c.oauth.client_secret = Secret(fakes::FakeSalesloft::kClientSecret);
      c.oauth.refresh_token = Secret(fakes::FakeSalesloft::kFirstRefreshToken);
    } else {
      c.api_key = Secret(key);
    }
    c.revert_strategy = strategy;
    HttpClientOptions o;
    o.retry.base_delay = milliseconds(10);
    return std::make_unique<salesloft::SalesloftConnector>(c, makeHttpClient(io.get_executor(), o), *store);
  }
  void add(long id, minutes when, long cadence = 31, const std::string& status = "scheduled", std::string to = "pat@acme.test",
           minutes updatedAgo = minutes(0)) {
    fakes::FakeSalesloftEmail e;
    if (updatedAgo.count() > 0) e.updated_at = Clock::now() - updatedAgo;
    e.id = id;
    e.to = std::move(to);
    e.send_after = Clock::now() + when;
    e.status = status;
    e.person_id = 1;
    e.user_id = 5;
    e.cadence_id = cadence;
    fake.addEmail(e);
  }
  // An email of user 5, `send_after` and `updated_at` (default: now) as given.
  void addAt(long id, TimePoint send_after, std::optional<TimePoint> updated_at, long person = 1, long cadence = 31,
             const std::string& to = "pat@acme.test") {
    fakes::FakeSalesloftEmail e;
    e.id = id;
    e.to = to;
    e.send_after = send_after;
    e.person_id = person;
    e.user_id = 5;
    e.cadence_id = cadence;
    e.updated_at = updated_at;
    fake.addEmail(e);
  }
  TimeWindow window() { return TimeWindow{Clock::now() + minutes(2), Clock::now() + minutes(60)}; }
};

TEST_F(SalesloftConnectorTest, ListsTheWindowNotBeyondTheReach) {
  for (long i = 1; i <= 130; ++i) add(i, minutes(5 + static_cast<int>(i % 50)), 31, i % 2 ? "scheduled" : "pending");
  // Far beyond the full listing's reach (the window + resync_every, 6 h).
  for (long i = 200; i < 400; ++i) add(i, minutes(60 * 8 + static_cast<int>(i)));
  add(500, minutes(10), 31, "sent");
  fakes::FakeSalesloftEmail cc;
  cc.id = 600;
  cc.to = "pat@acme.test";
  cc.cc = {"boss@acme.test", "team@acme.test"};
  cc.send_after = Clock::now() + minutes(3);
  cc.person_id = 1;
  cc.user_id = 5;
  fake.addEmail(cc);
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  EXPECT_EQ(emails.size(), 131u);
  // Every scheduled email is read (331: 4 pages, and an instant shared across a page's end is
  // asked again), the ones beyond the reach are not kept.
  EXPECT_GE(fake.requestCount("GET /v2/activities/emails.json"), 4);
  EXPECT_LE(fake.requestCount("GET /v2/activities/emails.json"), 6);
  const auto& first = emails.front();
  EXPECT_EQ(first.id, "600");
  ASSERT_EQ(first.recipients.size(), 3u);
  EXPECT_EQ(first.recipients[1].address, "boss@acme.test");
  EXPECT_EQ(first.recipients[1].kind, "cc");
  EXPECT_EQ(first.ref("person"), "1");
  EXPECT_EQ(first.ref("cadence"), "");
  EXPECT_EQ(emails[1].ref("cadence"), "31");
}

TEST_F(SalesloftConnectorTest, RemovesFromTheCadenceAndConfirms) {
  add(1, minutes(20));
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  auto r = runTask(io, c->revert(emails.at(0)));
  EXPECT_TRUE(r.confirmed) << r.detail;
  EXPECT_EQ(fake.status(1), "cancelled");
  EXPECT_NE(r.detail.find("removed from cadence 31"), std::string::npos) << r.detail;
  EXPECT_EQ(fake.requestCount("DELETE /v2/cadence_memberships/"), 1);
  auto again = runTask(io, c->revert(emails.at(0)));
  EXPECT_TRUE(again.confirmed);
  EXPECT_EQ(fake.requestCount("DELETE /v2/cadence_memberships/"), 1);
}

TEST_F(SalesloftConnectorTest, ARevertThatCannotReadTheEmailIsTriedAgainNotGivenUp) {
  // The revert's first read comes back cut (a 200 that is not JSON): Salesloft was not heard, so
  // the revert fails for now (the engine tries again), it does not report "not stopped".
  add(4, minutes(20));
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  fake.setFaults(FaultPlan::on("GET /v2/activities/emails/4.json", FaultKind::TruncatedBody));
  EXPECT_THROW(runTask(io, c->revert(emails.at(0))), ConnectorError);
  EXPECT_EQ(fake.status(4), "scheduled");
  auto again = runTask(io, c->revert(emails.at(0)));
  EXPECT_TRUE(again.confirmed) << again.detail;
  EXPECT_EQ(fake.status(4), "cancelled");
  EXPECT_EQ(fake.requestCount("DELETE /v2/cadence_memberships/"), 1);
}

TEST_F(SalesloftConnectorTest, ACadenceEmailWithNoMembershipListedIsStoppedByRestrictingEmail) {
  // The membership is not found (currently_on_cadence already false, or not visible to the key):
  // the email still goes out, so the other documented stop is tried rather than reporting failure.
  add(7, minutes(20));
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  fake.forgetMemberships();
  auto r = runTask(io, c->revert(emails.at(0)));
  EXPECT_TRUE(r.confirmed) << r.detail;
  EXPECT_EQ(fake.status(7), "cancelled");
  EXPECT_NE(r.detail.find("email added to person 1's contact restrictions"), std::string::npos) << r.detail;
}

TEST_F(SalesloftConnectorTest, AOneOffEmailIsStoppedByRestrictingEmail) {
  add(2, minutes(20), 0);
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  auto r = runTask(io, c->revert(emails.at(0)));
  EXPECT_TRUE(r.confirmed) << r.detail;
  EXPECT_EQ(fake.person(1)["contact_restrictions"], (nlohmann::json{"call", "email"}));  // "call" kept
  EXPECT_NE(r.detail.find("a one-off email (no cadence)"), std::string::npos) << r.detail;
}

TEST_F(SalesloftConnectorTest, AnUnconfirmedStopIsReportedAsSuch) {
  fake.stopsNothing(true);
  add(3, minutes(20));
  auto c = connector("restrict_email");
  auto emails = runTask(io, c->listScheduled(window()));
  auto r = runTask(io, c->revert(emails.at(0)));
  EXPECT_FALSE(r.confirmed);
  EXPECT_NE(r.detail.find("NOT stopped"), std::string::npos) << r.detail;
  EXPECT_EQ(fake.requestCount("DELETE"), 0);
}

TEST_F(SalesloftConnectorTest, AnEmailSentWhileItWasBeingStoppedIsNeverConfirmedStopped) {
  // Salesloft sends the email between the stop and the re-read: "sent" is not a stop.
  add(5, minutes(20));
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  fake.sendBeforeNextWrite();
  auto r = runTask(io, c->revert(emails.at(0)));
  EXPECT_FALSE(r.confirmed) << r.detail;
  EXPECT_NE(r.detail.find("\"sent\""), std::string::npos) << r.detail;
}

TEST_F(SalesloftConnectorTest, AStopAnsweredWithAServerErrorIsTriedAgainNotGivenUp) {
  // The DELETE gets 502s past the client's own retries: Salesloft was not heard, so the engine
  // tries again (as it does for Outreach), rather than the email being reported not stopped.
  add(6, minutes(20));
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  fake.setFaults(FaultPlan::on("DELETE /v2/cadence_memberships/9000.json", FaultKind::ServerError, 20));
  EXPECT_THROW(runTask(io, c->revert(emails.at(0))), ConnectorError);
  EXPECT_EQ(fake.status(6), "scheduled");
  fake.setFaults(FaultPlan{});
  auto again = runTask(io, c->revert(emails.at(0)));
  EXPECT_TRUE(again.confirmed) << again.detail;
  EXPECT_EQ(fake.status(6), "cancelled");
}

TEST_F(SalesloftConnectorTest, EveryStatusStillToSendIsListedByTheFullListing) {
  // The spec's statuses of an email not yet sent (GET /v2/activities/emails.json "status"): the
  // full listing asks for all of them, so a restart or a resync does not forget one.
  const std::vector<std::string> toSend = {"scheduled", "pending", "pending_reply_check", "sending", "delivering",
                                           "pending_through_gmail", "pending_through_external"};
  long id = 700;
  for (const auto& status : toSend) add(id++, minutes(10), 31, status);
  add(id++, minutes(10), 31, "sent");
  add(id++, minutes(10), 31, "cancelled");
  auto emails = runTask(io, connector()->listScheduled(window()));
  std::set<std::string> seen;
  for (const auto& e : emails) seen.insert(e.status);
  EXPECT_EQ(seen, std::set<std::string>(toSend.begin(), toSend.end()));
}

TEST_F(SalesloftConnectorTest, TheUsersCrmBccAddressIsNotARecipient) {
  // A Salesloft user's bcc_email_address is "BCC'd on all emails from this user" (the spec's User):
  // a CRM's logging drop box, on every email. Checking it as a recipient would hold all of them
  // the day it looks risky; other BCC recipients are still checked.
  fake.addUser(6, "kim@seller.test", "Kim Seller", "kim.seller", "EmailToCRM@crm.example");
  fakes::FakeSalesloftEmail e;
  e.id = 800;
  e.to = "pat@acme.test";
  e.bcc = {"emailtocrm@crm.example", "boss@acme.test"};
  e.send_after = Clock::now() + minutes(10);
  e.person_id = 1;
  e.user_id = 6;
  fake.addEmail(e);
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  ASSERT_EQ(emails.size(), 1u);
  // Already as listed: the key the engine looks up before loadProfiles is the key it decides
  // under (a decision looked up under the listing's own key was never found, and a version
  // restored by the rep after a stop found it changed went out unchecked).
  const std::string listedKey = emails[0].key();
  runTask(io, c->loadProfiles(emails));
  EXPECT_EQ(emails[0].key(), listedKey);
  std::vector<std::string> recipients;
  for (const auto& r : emails[0].recipients) recipients.push_back(r.kind + ":" + r.address);
  EXPECT_EQ(recipients, (std::vector<std::string>{"to:pat@acme.test", "bcc:boss@acme.test"}));
}

TEST_F(SalesloftConnectorTest, AuthWithKeyOrOAuthAndRetries) {
  add(4, minutes(20));
  EXPECT_THROW(runTask(io, connector("", false, "wrong")->listScheduled(window())), ConnectorError);
  auto c = connector("", true);
  EXPECT_EQ(runTask(io, c->listScheduled(window())).size(), 1u);
  fake.oauth().expireAccessTokens();
  fake.rateLimitNext(1);
  fake.failNext(1, 502);
  EXPECT_EQ(runTask(io, c->listScheduled(window())).size(), 1u);
  EXPECT_EQ(fake.oauth().grants(), 2);
}

TEST_F(SalesloftConnectorTest, ProfilesAndTheRepsSlackName) {
  add(5, minutes(20), 31, "scheduled", "pat.lee@gmail.com");
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  runTask(io, c->loadProfiles(emails));
  EXPECT_EQ(fake.requestCount("GET /v2/people.json"), 1);
  const auto& p = emails.at(0).recipients.at(0).profile;
  ASSERT_TRUE(p);
  EXPECT_EQ(p->primary()->email, "pat@acme.test");
  EXPECT_EQ(p->account_domain, "acme.test");
  EXPECT_EQ(p->sends, 12);
  EXPECT_EQ(p->engagements, 0);
  EXPECT_EQ(p->bounces, 2);
  EXPECT_FALSE(p->do_not_contact);  // "call" only
  auto people = runTask(io, c->people(emails.at(0)));
  EXPECT_EQ(people.rep.slack_username, "sam.seller");
  EXPECT_EQ(people.rep.email, "sam@seller.test");
  EXPECT_EQ(people.contact_name, "Pat Lee");
}

TEST_F(SalesloftConnectorTest, PeopleFetchesWhatItHasNotSeen) {
  // A fresh connector (a restart) resuming an email from the store: no profiles loaded.
  add(6, minutes(20));
  ScheduledEmail stored = runTask(io, connector()->listScheduled(window())).at(0);
  auto people = runTask(io, connector()->people(stored));
  EXPECT_EQ(people.rep.slack_username, "sam.seller");
  EXPECT_EQ(people.rep.email, "sam@seller.test");
  EXPECT_EQ(people.contact_name, "Pat Lee");
}

}  // namespace

TEST_F(SalesloftConnectorTest, SentAndBouncedEmailsSinceThen) {
  const auto now = Clock::now();
  for (long i = 0; i < 5; ++i) {
    fakes::FakeSalesloftEmail e;
    e.id = 700 + i;
    e.to = "p" + std::to_string(i) + "@acme.test";
    e.send_after = now - hours(2);
    e.sent_at = now - hours(1) - minutes(i);
    e.status = "sent";
    e.person_id = 1;
    e.user_id = 5;
    e.bounced = i == 0;
    e.error_message = i == 0 ? "550 5.1.1 user unknown" : "";
    fake.addEmail(e);
  }
  fakes::FakeSalesloftEmail old;
  old.id = 799;
  old.to = "old@acme.test";
  old.send_after = now - hours(50);
  old.sent_at = now - hours(48);
  old.status = "sent";
  old.person_id = 1;
  old.user_id = 5;
  fake.addEmail(old);
  add(800, minutes(20));  // scheduled: not a send
  auto c = connector();
  auto a = runTask(io, c->recentActivity(now - hours(24)));
  EXPECT_TRUE(a.supported);
  ASSERT_EQ(a.sent.size(), 5u);
  for (const auto& s : a.sent) EXPECT_EQ(s.mailbox, "sam@seller.test");
  ASSERT_EQ(a.bounced.size(), 1u);
  EXPECT_EQ(a.bounced[0].address, "p0@acme.test");
  EXPECT_EQ(a.bounced[0].diagnostic, "550 5.1.1 user unknown");
  EXPECT_EQ(fake.requestCount("GET /v2/users/5.json"), 1);  // once, then cached

  // p1's bounce arrives 70 minutes after the send, after that email was read as sent: the next
  // look (since a few minutes ago) sees it.
  fake.bounceEmail(701, "550 5.2.1 mailbox disabled", now + minutes(10));
  auto later = runTask(io, c->recentActivity(now + minutes(5)));
  ASSERT_EQ(later.bounced.size(), 1u);
  EXPECT_EQ(later.bounced[0].address, "p1@acme.test");
  EXPECT_EQ(later.bounced[0].diagnostic, "550 5.2.1 mailbox disabled");
  EXPECT_EQ(later.sent.size(), 1u);  // the same send again, keyed: counted once
}

TEST_F(SalesloftConnectorTest, LaterPollsReadOnlyWhatChanged) {
  // Updated ten minutes ago, before the first poll.
  for (long i = 1; i <= 150; ++i) add(i, minutes(5 + static_cast<int>(i % 50)), 31, "scheduled", "pat@acme.test", minutes(10));
  auto c = connector();
  EXPECT_EQ(runTask(io, c->listScheduled(window())).size(), 150u);
  const int full = fake.requestCount("GET /v2/activities/emails.json");
  // Two pages; a third request when the first page ends inside an instant shared with the rest
  // (these 150 were added within a millisecond or so): its next page is asked by page number.
  EXPECT_GE(full, 2);
  EXPECT_LE(full, 3);
  // Nothing changed: one request, and the same emails (from the store).
  EXPECT_EQ(runTask(io, c->listScheduled(window())).size(), 150u);
  EXPECT_EQ(fake.requestCount("GET /v2/activities/emails.json"), full + 1);
  // A new email, and one the rep cancelled: seen by the next poll, in one request.
  add(900, minutes(7));
  fake.setStatus(3, "cancelled");
  auto emails = runTask(io, c->listScheduled(window()));
  EXPECT_EQ(fake.requestCount("GET /v2/activities/emails.json"), full + 2);
  std::set<std::string> ids;
  for (const auto& e : emails) ids.insert(e.id);
  EXPECT_EQ(ids.size(), 150u);
  EXPECT_TRUE(ids.count("900"));
  EXPECT_FALSE(ids.count("3"));
}

// Page numbers are offsets: an email stopped (or sent) between two pages would shift the rest of
// the list, and the email after the page's end would never be listed; a full listing then forgets
// it. Paging by updated_at does not shift.
TEST_F(SalesloftConnectorTest, AnEmailLeavingTheListBetweenPagesHidesNoOther) {
  for (long i = 1; i <= 250; ++i) add(i, minutes(5 + static_cast<int>(i % 50)), 31, "scheduled", "pat@acme.test", minutes(10));
  auto c = connector();
  std::set<std::string> listed;
  bool stopped = false;
  runTask(io, c->streamScheduled(window(), [&](std::vector<ScheduledEmail> page) -> Task<void> {
    for (const auto& e : page) listed.insert(e.id);
    if (!stopped) {
      // Stopped while the listing goes on: five emails of the first page leave "scheduled".
      stopped = true;
      for (long id = 1; id <= 5; ++id) fake.setStatus(id, "cancelled");
    }
    co_return;
  }));
  for (long id = 6; id <= 250; ++id) EXPECT_TRUE(listed.count(std::to_string(id))) << "email " << id << " was never listed";
  // And the next poll, from the store, still has every one still scheduled.
  std::set<std::string> next;
  for (const auto& e : runTask(io, c->listScheduled(window()))) next.insert(e.id);
  EXPECT_EQ(next.size(), 245u);
}

// salesloft-openapi.json describes every 200 as a bare array or a bare object (no {data, metadata}
// envelope, no paging metadata): pages are then read while they are full (per_page) and the listing
// ends at a short or empty page.
TEST_F(SalesloftConnectorTest, SpecBodiesAreListedUntilAShortPage) {
  fake.specBodies(true);
  const auto now = Clock::now();
  for (long i = 1; i <= 250; ++i)
    addAt(i, now + minutes(5 + static_cast<int>(i % 50)), now - minutes(30) + seconds(i));  // one instant each
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  EXPECT_EQ(emails.size(), 250u);
  EXPECT_EQ(fake.requestCount("GET /v2/activities/emails.json"), 3);  // 100, 100 (from the last one seen), 52
}

TEST_F(SalesloftConnectorTest, SpecBodiesEndAtAnEmptyPageAfterAFullOne) {
  fake.specBodies(true);
  const auto now = Clock::now();
  for (long i = 1; i <= 100; ++i)
    addAt(i, now + minutes(5 + static_cast<int>(i % 50)), now - minutes(10));  // a bulk change: one instant throughout
  auto c = connector();
  EXPECT_EQ(runTask(io, c->listScheduled(window())).size(), 100u);
  // Page 1 (full), page 1 from that instant (full again, the same instant), page 2: empty, the end.
  EXPECT_EQ(fake.requestCount("GET /v2/activities/emails.json"), 3);
}

TEST_F(SalesloftConnectorTest, SpecBodiesAreReadForStopsAndProfiles) {
  fake.specBodies(true);
  fake.addPerson(personJson(2, "kim@beta.test"));
  add(1, minutes(20));
  addAt(2, Clock::now() + minutes(25), std::nullopt, 2, 0, "kim@beta.test");  // a one-off email to person 2
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  ASSERT_EQ(emails.size(), 2u);
  runTask(io, c->loadProfiles(emails));
  ASSERT_TRUE(emails[0].recipients.at(0).profile);
  EXPECT_EQ(emails[0].recipients.at(0).profile->sends, 12);
  auto people = runTask(io, c->people(emails[0]));
  EXPECT_EQ(people.rep.slack_username, "sam.seller");
  EXPECT_EQ(people.contact_name, "Pat Lee");
  auto viaCadence = runTask(io, c->revert(emails[0]));
  EXPECT_TRUE(viaCadence.confirmed) << viaCadence.detail;
  EXPECT_NE(viaCadence.detail.find("removed from cadence 31"), std::string::npos) << viaCadence.detail;
  auto restricted = runTask(io, c->revert(emails[1]));
  EXPECT_TRUE(restricted.confirmed) << restricted.detail;
  EXPECT_EQ(fake.person(2)["contact_restrictions"], (nlohmann::json{"call", "email"}));  // "call" kept
}

// Email.send_after is "null if already sent" (the spec): an email sent since the last poll comes
// with no send time. It is no longer to send, so it is forgotten, not skipped as malformed and kept.
TEST_F(SalesloftConnectorTest, AnEmailSentSinceTheLastPollIsForgotten) {
  add(1, minutes(20), 31, "scheduled", "pat@acme.test", minutes(10));
  add(2, minutes(30), 31, "scheduled", "pat@acme.test", minutes(10));
  auto c = connector();
  EXPECT_EQ(runTask(io, c->listScheduled(window())).size(), 2u);
  fake.setStatus(1, "sent");  // send_after null from now on
  auto emails = runTask(io, c->listScheduled(window()));
  ASSERT_EQ(emails.size(), 1u);
  EXPECT_EQ(emails[0].id, "2");
  EXPECT_EQ(store->trackedBetween("salesloft-test", TimePoint{}, TimePoint::max()).size(), 1u);
}

// The rep changed the email after it was listed and before its stop: the stop's own first read
// (no extra request) shows other recipients or another send time, and nothing is written. The
// sender's automatic BCC, which the listing's recipients leave out, is no change.
TEST_F(SalesloftConnectorTest, RevertLeavesAnEmailWhoseCcOrSendTimeChanged) {
  fake.addUser(6, "kim@seller.test", "Kim Seller", "kim.seller", "emailtocrm@crm.example");
  for (long id : {1, 2, 3}) {
    fakes::FakeSalesloftEmail e;
    e.id = id;
    e.to = "pat@acme.test";
    e.cc = {"boss@acme.test"};
    e.bcc = {"emailtocrm@crm.example"};
    e.send_after = Clock::now() + minutes(20 + id);
    e.person_id = 1;
    e.user_id = 6;
    e.cadence_id = 31;
    fake.addEmail(e);
  }
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  ASSERT_EQ(emails.size(), 3u);
  runTask(io, c->loadProfiles(emails));
  fake.editEmail(1, [](fakes::FakeSalesloftEmail& e) { e.cc.clear(); });
  fake.editEmail(2, [](fakes::FakeSalesloftEmail& e) { e.send_after += minutes(10); });
  fake.editEmail(3, [](fakes::FakeSalesloftEmail& e) { e.subject = "new words"; });

  auto noCc = runTask(io, c->revert(emails[0]));
  EXPECT_TRUE(noCc.changed);
  EXPECT_FALSE(noCc.confirmed);
  ASSERT_TRUE(noCc.current);
  EXPECT_EQ(noCc.current->recipients.size(), 1u);
  auto moved = runTask(io, c->revert(emails[1]));
  EXPECT_TRUE(moved.changed);
  EXPECT_EQ(fake.requestCount("DELETE /v2/cadence_memberships/"), 0);
  EXPECT_EQ(fake.requestCount("PUT /v2/people/"), 0);
  EXPECT_EQ(fake.status(1), "scheduled");
  EXPECT_EQ(fake.status(2), "scheduled");

  const int reads = fake.requestCount("GET /v2/activities/emails/3.json");
  auto same = runTask(io, c->revert(emails[2]));
  EXPECT_FALSE(same.changed) << same.detail;
  EXPECT_TRUE(same.confirmed) << same.detail;
  EXPECT_EQ(fake.status(3), "cancelled");
  EXPECT_EQ(fake.requestCount("GET /v2/activities/emails/3.json"), reads + 2);  // before and after the stop
}

// What the stop read is what the connector lists next, though no listing of changes shows it; and
// a stop acts on the person the email names now, not the one it was listed with.
TEST_F(SalesloftConnectorTest, AChangedEmailIsListedAsReadAndAStopActsOnItsPersonOfNow) {
  fake.addPerson(personJson(2, "sam@acme.test"));
  add(1, minutes(20));
  add(2, minutes(25));
  auto c = connector("restrict_email");
  auto emails = runTask(io, c->listScheduled(window()));
  ASSERT_EQ(emails.size(), 2u);
  fake.editEmail(1, [](fakes::FakeSalesloftEmail& e) { e.cc = {"boss@acme.test"}; }, false);
  auto r = runTask(io, c->revert(emails[0]));
  ASSERT_TRUE(r.changed);
  bool listedNew = false;
  for (const auto& e : runTask(io, c->listScheduled(window())))
    if (e.id == "1") listedNew = e.key() == r.current->key();
  EXPECT_TRUE(listedNew) << "the next listing still had the version decided";

  fake.editEmail(2, [](fakes::FakeSalesloftEmail& e) { e.person_id = 2; }, false);  // same address, another person
  auto stop = runTask(io, c->revert(emails[1]));
  EXPECT_FALSE(stop.changed);
  EXPECT_TRUE(stop.confirmed) << stop.detail;
  EXPECT_EQ(fake.requestCount("PUT /v2/people/2.json"), 1);
  EXPECT_EQ(fake.requestCount("PUT /v2/people/1.json"), 0);
}
