// The Outreach connector against the fake Outreach (tests/fakes), which follows the vendor's
// OpenAPI spec and hyper-schema.
#include <gtest/gtest.h>

#include <set>

#include "connectors/outreach/outreach_connector.hpp"
#include "fakes/fake_outreach.hpp"
#include "integration/peers.hpp"
#include "safetynet/net/http_client.hpp"
#include "safetynet/net/url.hpp"
#include "support/run_task.hpp"

using namespace safetynet;
using namespace safetynet::testing;
using namespace std::chrono;

namespace {

class OutreachConnectorTest : public ::testing::Test {
 protected:
  asio::io_context io;
  TempDir dir;
  StorePtr store = openSqliteStore(dir.path().string());
  fakes::FakeOutreach fake{io.get_executor()};

  void SetUp() override {
    fake.addUser(7, "rep@seller.test", "Riley", "Rep");
    fakes::FakeOutreachProspect p;
    p.id = 1;
    p.first_name = "Jane";
    p.last_name = "Doe";
    p.addresses = {{"jane@acme.test", "work", ""}, {"jane.doe@gmail.com", "personal", ""}};
    p.owner_id = 7;
    fake.addProspect(p);
  }
  std::unique_ptr<outreach::OutreachConnector> connector(const std::string& strategy = "",
                                                         milliseconds timeout = milliseconds(30000)) {
    ConnectorConfig c;
    c.name = "outreach-test";
    c.type = "outreach";
    c.base_url = fake.baseUrl();
    c.oauth.enabled = true;
    c.oauth.token_url = fake.tokenUrl();
    c.oauth.client_id = fakes::FakeOutreach::kClientId;
    c.oauth.client_secret = Secret(fakes::FakeOutreach::kClientSecret);
    c.oauth.refresh_token = Secret(fakes::FakeOutreach::kFirstRefreshToken);
    c.revert_strategy = strategy;
    if (resyncEvery) c.resync_every = *resyncEvery;
    c.oauth.redirect_uri = redirectUri;
    HttpClientOptions o;
    o.retry.base_delay = milliseconds(10);
    o.timeout = timeout;
    return std::make_unique<outreach::OutreachConnector>(c, makeHttpClient(io.get_executor(), o), *store);
  }
  void add(long id, minutes when, std::vector<std::string> to = {"jane@acme.test"}, const std::string& state = "scheduled",
           long sequenceState = 0, minutes changedAgo = minutes(0)) {
    fakes::FakeOutreachMailing m;
    if (changedAgo.count() > 0) m.state_changed_at = Clock::now() - changedAgo;
    m.id = id;
    m.to = std::move(to);
    m.subject = "s-" + std::to_string(id);
    m.scheduled_at = Clock::now() + when;
    m.state = state;
    m.prospect_id = 1;
    m.user_id = 7;
    m.sequence_state_id = sequenceState;
    fake.addMailing(m);
  }
  TimeWindow window() { return TimeWindow{Clock::now() + minutes(2), Clock::now() + minutes(60)}; }
  std::optional<milliseconds> resyncEvery;  // 0: every listing is a full one
  std::string redirectUri;                  // oauth.redirect_uri
};

TEST_F(OutreachConnectorTest, ListsScheduledMailingsInTheWindowAcrossCursorPages) {
  for (long i = 1; i <= 130; ++i) add(i, minutes(5 + static_cast<int>(i % 40)));
  add(500, minutes(1));                                   // too soon
  add(501, minutes(90));                                  // beyond the look-ahead
  add(502, minutes(10), {"jane@acme.test"}, "drafted");   // not scheduled
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  ASSERT_EQ(emails.size(), 130u);
  EXPECT_EQ(fake.requestCount("GET /api/v2/mailings"), 2);  // 100 + 30
  for (size_t i = 1; i < emails.size(); ++i) EXPECT_LE(emails[i - 1].scheduled_at, emails[i].scheduled_at);
  const auto& e = emails.front();
  EXPECT_EQ(e.recipients.size(), 1u);
  EXPECT_EQ(e.recipients[0].address, "jane@acme.test");
  EXPECT_EQ(e.user_name, "Riley Rep");
  EXPECT_EQ(e.sender, "rep@seller.test");
  EXPECT_EQ(e.contact_id, "1");
  auto people = runTask(io, c->people(e));
  EXPECT_EQ(people.rep.email, "rep@seller.test");
  EXPECT_EQ(people.contact_name, "Jane Doe");
}

TEST_F(OutreachConnectorTest, RevertPatchesToDraftedAndConfirms) {
  add(11, minutes(30), {"jane@acme.test"}, "scheduled", 99);
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  ASSERT_EQ(emails.size(), 1u);
  auto r = runTask(io, c->revert(emails[0]));
  EXPECT_TRUE(r.confirmed) << r.detail;
  EXPECT_EQ(fake.state(11), "drafted");
  EXPECT_EQ(fake.sequenceState(99), "active");  // the sequence itself was left alone
  EXPECT_EQ(fake.requestCount("PATCH /api/v2/mailings/11"), 1);
  // Again (a crash after the PATCH): nothing is sent twice.
  auto again = runTask(io, c->revert(emails[0]));
  EXPECT_TRUE(again.confirmed);
  EXPECT_EQ(again.detail, "already a draft in Outreach");
  EXPECT_EQ(fake.requestCount("PATCH /api/v2/mailings/11"), 1);
}

TEST_F(OutreachConnectorTest, FallsBackToPausingTheSequenceWhenThePatchIsRefused) {
  fake.allowPatchToDrafted(false);
  add(12, minutes(30), {"jane@acme.test"}, "scheduled", 77);
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  auto r = runTask(io, c->revert(emails.at(0)));
  EXPECT_TRUE(r.confirmed) << r.detail;
  EXPECT_EQ(fake.sequenceState(77), "paused");
  EXPECT_NE(r.detail.find("PATCH state=drafted refused (422"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("sequenceState 77 paused"), std::string::npos) << r.detail;
}

TEST_F(OutreachConnectorTest, AnUnconfirmedStopIsReportedAsSuch) {
  fake.pauseKeepsMailingScheduled(true);
  add(13, minutes(30), {"jane@acme.test"}, "scheduled", 78);
  auto c = connector("pause_sequence");
  auto emails = runTask(io, c->listScheduled(window()));
  auto r = runTask(io, c->revert(emails.at(0)));
  EXPECT_FALSE(r.confirmed);
  EXPECT_NE(r.detail.find("still shows the mailing as \"scheduled\": NOT stopped"), std::string::npos) << r.detail;
  EXPECT_EQ(fake.requestCount("PATCH"), 0);  // pause_sequence does not try the PATCH
}

TEST_F(OutreachConnectorTest, AMailingSentWhileItWasBeingStoppedIsNeverConfirmedStopped) {
  // Outreach sends the mailing as the PATCH arrives: the PATCH is refused (no longer scheduled),
  // the re-read shows "delivered". The email went out: not a confirmed stop.
  add(15, minutes(30), {"jane@acme.test"}, "scheduled", 80);
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  ASSERT_EQ(emails.size(), 1u);
  fake.sendBeforeNextWrite();
  auto r = runTask(io, c->revert(emails[0]));
  EXPECT_FALSE(r.confirmed) << r.detail;
  EXPECT_NE(r.detail.find("\"delivered\""), std::string::npos) << r.detail;
  EXPECT_EQ(r.detail.find("confirmed"), std::string::npos) << r.detail;
  EXPECT_EQ(fake.state(15), "delivered");
  EXPECT_EQ(fake.sequenceState(80), "active");  // nothing left to stop: no pause
}

// Outreach answers 415 to any request without Content-Type: application/vnd.api+json
// (developers.outreach.io/api/making-requests), a GET or the pause POST, which has no body.
TEST_F(OutreachConnectorTest, EveryRequestCarriesTheJsonApiMediaTypeEvenWithoutABody) {
  add(16, minutes(30), {"jane@acme.test"}, "scheduled", 79);
  auto c = connector("pause_sequence");
  auto emails = runTask(io, c->listScheduled(window()));  // GET /mailings
  ASSERT_EQ(emails.size(), 1u);
  auto r = runTask(io, c->revert(emails[0]));  // GET /mailings/16, POST .../actions/pause, GET again
  EXPECT_TRUE(r.confirmed) << r.detail;
  EXPECT_EQ(fake.sequenceState(79), "paused");
  EXPECT_EQ(fake.requestCount("POST /api/v2/sequenceStates/79/actions/pause"), 1);
}

TEST_F(OutreachConnectorTest, ASingleMailingOutsideASequenceCannotBePaused) {
  fake.allowPatchToDrafted(false);
  add(14, minutes(30));
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  auto r = runTask(io, c->revert(emails.at(0)));
  EXPECT_FALSE(r.confirmed);
  EXPECT_NE(r.detail.find("belongs to no sequence"), std::string::npos) << r.detail;
  EXPECT_EQ(fake.state(14), "scheduled");
}

TEST_F(OutreachConnectorTest, RenewsTheTokenOn401AndRetriesOn429And5xx) {
  add(15, minutes(30));
  auto c = connector();
  EXPECT_EQ(runTask(io, c->listScheduled(window())).size(), 1u);
  EXPECT_EQ(fake.oauth().grants(), 1);
  fake.oauth().expireAccessTokens();
  EXPECT_EQ(runTask(io, c->listScheduled(window())).size(), 1u);
  EXPECT_EQ(fake.oauth().grants(), 2);
  fake.rateLimitNext(1, 1);
  fake.failNext(1, 503);
  EXPECT_EQ(runTask(io, c->listScheduled(window())).size(), 1u);
  EXPECT_EQ(fake.oauth().grants(), 2);
}

TEST_F(OutreachConnectorTest, ProfilesFromProspectsAndTheirEmailAddresses) {
  fakes::FakeOutreachProspect p;
  p.id = 2;
  p.first_name = "Bo";
  p.addresses = {{"bo@beta.test", "work", "bounced"}, {"bo@gmail.com", "personal", ""}};
  p.opted_out = true;
  p.open_count = 3;
  p.engaged_at = Clock::now() - hours(24 * 400);
  p.owner_id = 7;
  fake.addProspect(p);
  fakes::FakeOutreachMailing m;
  m.id = 21;
  m.to = {"bo@gmail.com"};
  m.scheduled_at = Clock::now() + minutes(20);
  m.prospect_id = 2;
  m.user_id = 7;
  fake.addMailing(m);
  add(22, minutes(25), {"jane.doe@gmail.com"});
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  ASSERT_EQ(emails.size(), 2u);
  runTask(io, c->loadProfiles(emails));
  EXPECT_EQ(fake.requestCount("GET /api/v2/emailAddresses"), 1);  // both prospects in one request
  const auto& bo = emails[0].recipients.at(0).profile;
  ASSERT_TRUE(bo);
  EXPECT_EQ(bo->person_id, "2");
  EXPECT_TRUE(bo->opted_out);
  ASSERT_EQ(bo->addresses.size(), 2u);
  EXPECT_TRUE(bo->addresses[0].primary);
  EXPECT_TRUE(bo->addresses[0].bounced);
  EXPECT_EQ(bo->addresses[1].type, "personal");
  EXPECT_EQ(bo->engagements, 3);
  EXPECT_EQ(bo->owner.email, "rep@seller.test");
  const auto& jane = emails[1].recipients.at(0).profile;
  ASSERT_TRUE(jane);
  EXPECT_EQ(jane->primary()->email, "jane@acme.test");
  EXPECT_FALSE(jane->opted_out);
}

TEST_F(OutreachConnectorTest, AProspectOptedOutByEmailsOptStatusOrABouncedStatusInAnyCaseIsSeen) {
  // The spec's prospect.emailsOptStatus ("opted_in", "opted_out", "null") says an opt-out on its
  // own; emailAddress.status has no documented values, so its words are read in any case.
  fakes::FakeOutreachProspect p;
  p.id = 3;
  p.first_name = "Cy";
  p.addresses = {{"cy@gamma.test", "work", "Bounced"}};
  p.emails_opt_status = "opted_out";
  p.owner_id = 7;
  fake.addProspect(p);
  fakes::FakeOutreachMailing m;
  m.id = 31;
  m.to = {"cy@gamma.test"};
  m.scheduled_at = Clock::now() + minutes(20);
  m.prospect_id = 3;
  m.user_id = 7;
  fake.addMailing(m);
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  ASSERT_EQ(emails.size(), 1u);
  runTask(io, c->loadProfiles(emails));
  const auto& cy = emails[0].recipients.at(0).profile;
  ASSERT_TRUE(cy);
  EXPECT_TRUE(cy->opted_out);
  ASSERT_EQ(cy->addresses.size(), 1u);
  EXPECT_TRUE(cy->addresses[0].bounced);
}

TEST_F(OutreachConnectorTest, APatchAppliedButAnswered500IsConfirmedByReadingNotByPausing) {
  add(16, minutes(30), {"jane@acme.test"}, "scheduled", 79);
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  fake.failNextWrite(500, true);
  auto r = runTask(io, c->revert(emails.at(0)));
  EXPECT_TRUE(r.confirmed) << r.detail;
  EXPECT_EQ(fake.state(16), "drafted");
  EXPECT_EQ(fake.sequenceState(79), "active");  // a 500 is no refusal: the sequence is left alone
  EXPECT_EQ(fake.requestCount("POST /api/v2/sequenceStates"), 0);
  EXPECT_EQ(fake.requestCount("PATCH /api/v2/mailings/16"), 1);
  EXPECT_EQ(fake.requestCount("GET /api/v2/mailings/16"), 2);  // read first, then re-read
}

TEST_F(OutreachConnectorTest, APatchWhoseAnswerWasLostIsConfirmedByReadingNotByPausing) {
  add(17, minutes(30), {"jane@acme.test"}, "scheduled", 80);
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  fake.failNextWrite(0, true);  // applied, then the connection drops before the answer
  auto r = runTask(io, c->revert(emails.at(0)));
  EXPECT_TRUE(r.confirmed) << r.detail;
  EXPECT_EQ(fake.sequenceState(80), "active");
  EXPECT_EQ(fake.requestCount("PATCH /api/v2/mailings/17"), 1);  // not sent again
  EXPECT_EQ(fake.requestCount("POST /api/v2/sequenceStates"), 0);
}

TEST_F(OutreachConnectorTest, APatchNotAppliedAndAnswered503IsLeftForTheNextTryNotPaused) {
  add(18, minutes(30), {"jane@acme.test"}, "scheduled", 81);
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  fake.failNextWrite(503, false);
  // An error, not a result: the cycle tries again later (the revert reads first, so it is safe).
  EXPECT_THROW(runTask(io, c->revert(emails.at(0))), ConnectorError);
  EXPECT_EQ(fake.state(18), "scheduled");
  EXPECT_EQ(fake.sequenceState(81), "active");
  auto again = runTask(io, c->revert(emails.at(0)));
  EXPECT_TRUE(again.confirmed) << again.detail;
  EXPECT_EQ(fake.sequenceState(81), "active");
}

TEST_F(OutreachConnectorTest, APatchRefusedBecauseAnEarlierOneLandedLateIsNotFollowedByAPause) {
  // The first PATCH is slow to land (applied after the client's timeout: no answer, so the revert
  // fails for now); the next try's PATCH is answered 429 and, sent again after Retry-After,
  // finds the mailing drafted by the first one: 422. That refusal says "already done", so the
  // sequence must not be paused as well (issue 14's double stop, found again by the fault suite).
  // The windows: the next try's read must come before the late PATCH lands (timeout 1 s, landing
  // at 2.5 s: 1.5 s of slack), its PATCH sent again after (Retry-After 3 s: at 4 s or later).
  add(32, minutes(20), {"jane@acme.test"}, "scheduled", 932);
  auto c = connector("", milliseconds(1000));
  auto emails = runTask(io, c->listScheduled(window()));
  FaultPlan plan;
  plan.rate = 1;
  plan.stall = milliseconds(2500);
  plan.kinds = {FaultKind::LateApply, FaultKind::RateLimited};
  auto patches = std::make_shared<int>(0);
  plan.allows = [patches](const ServerRequest& r, FaultKind k) {
    if (r.method != "PATCH") return false;
    const bool wanted = (*patches == 0 && k == FaultKind::LateApply) || (*patches == 1 && k == FaultKind::RateLimited);
    if (wanted) ++*patches;
    return wanted;
  };
  fake.setFaults(plan, 3);
  EXPECT_THROW(runTask(io, c->revert(emails.at(0))), ConnectorError);  // the stalled PATCH: no answer
  auto r = runTask(io, c->revert(emails.at(0)));
  EXPECT_EQ(fake.requestCount("PATCH /api/v2/mailings/32"), 2);  // the late one, and the refused one
  EXPECT_TRUE(r.confirmed) << r.detail;
  EXPECT_EQ(fake.state(32), "drafted");
  EXPECT_EQ(fake.sequenceState(932), "active");
  EXPECT_EQ(fake.requestCount("POST /api/v2/sequenceStates"), 0);
}

TEST_F(OutreachConnectorTest, ARevertThatCannotReadTheMailingIsTriedAgainNotGivenUp) {
  // The revert's first read comes back cut (a 200 that is not JSON): Outreach was not heard, so
  // the revert fails for now (the engine tries again), it does not report "not stopped".
  add(31, minutes(20), {"jane@acme.test"}, "scheduled", 931);
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  fake.setFaults(FaultPlan::on("GET /api/v2/mailings/31", FaultKind::TruncatedBody));
  EXPECT_THROW(runTask(io, c->revert(emails.at(0))), ConnectorError);
  EXPECT_EQ(fake.state(31), "scheduled");
  auto again = runTask(io, c->revert(emails.at(0)));
  EXPECT_TRUE(again.confirmed) << again.detail;
  EXPECT_EQ(fake.state(31), "drafted");
  EXPECT_EQ(fake.sequenceState(931), "active");
}

TEST_F(OutreachConnectorTest, PeopleFetchesTheRepItHasNotSeen) {
  // A fresh connector (a restart) resuming an email from the store: nothing listed, no cache.
  add(19, minutes(30));
  ScheduledEmail stored = runTask(io, connector()->listScheduled(window())).at(0);
  auto c = connector();
  auto people = runTask(io, c->people(stored));
  EXPECT_EQ(people.rep.id, "7");
  EXPECT_EQ(people.rep.email, "rep@seller.test");
  EXPECT_EQ(people.rep.name, "Riley Rep");
  EXPECT_EQ(people.contact_name, "Jane Doe");
  EXPECT_EQ(fake.requestCount("GET /api/v2/users/7"), 1);
  runTask(io, c->people(stored));
  EXPECT_EQ(fake.requestCount("GET /api/v2/users/7"), 1);  // cached
}

TEST_F(OutreachConnectorTest, PeopleFallsBackToTheEmailWhenOutreachCannotAnswer) {
  add(20, minutes(30));
  ScheduledEmail stored = runTask(io, connector()->listScheduled(window())).at(0);
  stored.user_id = "404";  // no such user
  auto people = runTask(io, connector()->people(stored));
  EXPECT_EQ(people.rep.id, "404");
  EXPECT_EQ(people.rep.name, "Riley Rep");  // what the email itself says
  EXPECT_TRUE(people.rep.email.empty());
}

}  // namespace

TEST_F(OutreachConnectorTest, LaterPollsReadOnlyWhatChanged) {
  // Scheduled ten minutes ago (their updatedAt), before the first poll.
  for (long i = 1; i <= 130; ++i) add(i, minutes(5 + static_cast<int>(i % 40)), {"jane@acme.test"}, "scheduled", 0, minutes(10));
  add(600, minutes(60 * 3), {"jane@acme.test"}, "scheduled", 0, minutes(10));  // beyond the window, within reach
  auto c = connector();
  EXPECT_EQ(runTask(io, c->listScheduled(window())).size(), 130u);
  const int full = fake.requestCount("GET /api/v2/mailings");
  EXPECT_EQ(full, 2);
  // Nothing changed: one request, and the same mailings (from the store).
  EXPECT_EQ(runTask(io, c->listScheduled(window())).size(), 130u);
  EXPECT_EQ(fake.requestCount("GET /api/v2/mailings"), full + 1);
  // A new mailing, one the rep drafted, one rescheduled later and one that came into the window
  // without changing (600, moved as if time had passed): all seen, one request.
  add(700, minutes(8));
  fake.setMailing(3, "drafted");
  fake.setMailing(4, "scheduled", Clock::now() + minutes(50));
  TimeWindow later = window();
  later.to += minutes(60 * 3);
  auto emails = runTask(io, c->listScheduled(later));
  EXPECT_EQ(fake.requestCount("GET /api/v2/mailings"), full + 2);
  std::map<std::string, TimePoint> when;
  for (const auto& e : emails) when[e.id] = e.scheduled_at;
  EXPECT_TRUE(when.count("700"));
  EXPECT_TRUE(when.count("600"));
  EXPECT_FALSE(when.count("3"));
  ASSERT_TRUE(when.count("4"));
  EXPECT_GT(when["4"], Clock::now() + minutes(45));
  EXPECT_EQ(emails.size(), 131u);  // 130 - 1 drafted + 700 + 600
}

// Outreach pages by cursor (page[after], notes/platforms.md), not by offset: a mailing that leaves
// "scheduled" between two pages (stopped by us, sent) hides no other from the listing.
TEST_F(OutreachConnectorTest, AMailingLeavingTheListBetweenPagesHidesNoOther) {
  for (long i = 1; i <= 250; ++i) add(i, minutes(5 + static_cast<int>(i % 50)), {"jane@acme.test"}, "scheduled", 0, minutes(10));
  auto c = connector();
  std::set<std::string> listed;
  int drafted = 0;
  runTask(io, c->streamScheduled(window(), [&](std::vector<ScheduledEmail> page) -> Task<void> {
    for (const auto& e : page) {
      listed.insert(e.id);
      // The first page's first five are stopped while the listing goes on.
      if (drafted < 5) {
        fake.setMailing(std::stol(e.id), "drafted");
        ++drafted;
      }
    }
    co_return;
  }));
  EXPECT_EQ(drafted, 5);
  for (long id = 1; id <= 250; ++id) EXPECT_TRUE(listed.count(std::to_string(id))) << "mailing " << id << " was never listed";
}

// JSON:API servers write links.next with raw brackets (?page[size]=100&page[after]=...), which
// RFC 3986 does not allow in a query; the link may also be relative to the document.
TEST(OutreachNextLinks, AreMadeUrlsAsJsonApiServersWriteThem) {
  const std::string page = "http://127.0.0.1:8080/api/v2/mailings?page%5Bsize%5D=100";
  EXPECT_EQ(resolveLink(page, "http://127.0.0.1:8080/api/v2/mailings?page[size]=100&page[after]=a.1"),
            "http://127.0.0.1:8080/api/v2/mailings?page%5Bsize%5D=100&page%5Bafter%5D=a.1");
  EXPECT_EQ(resolveLink(page, "/api/v2/mailings?page[after]=x%2Cy"), "http://127.0.0.1:8080/api/v2/mailings?page%5Bafter%5D=x%2Cy");
  EXPECT_EQ(resolveLink(page, "?page[after]=2"), "http://127.0.0.1:8080/api/v2/mailings?page%5Bafter%5D=2");
  EXPECT_EQ(resolveLink(page, "https://[::1]:9/a?b[c]=d e%zz"), "https://[::1]:9/a?b%5Bc%5D=d%20e%25zz");
  EXPECT_EQ(resolveLink(page, "mailto:someone@else.test"), std::nullopt);
}

TEST_F(OutreachConnectorTest, ARelativeNextLinkIsFollowed) {
  fake.setNextLinks(fakes::FakeOutreach::NextLinks::Relative);
  for (long i = 1; i <= 130; ++i) add(i, minutes(5 + static_cast<int>(i % 40)));
  auto c = connector();
  EXPECT_EQ(runTask(io, c->listScheduled(window())).size(), 130u);
  EXPECT_EQ(fake.requestCount("GET /api/v2/mailings"), 2);
}

// A next link to another origin is not followed (the token stays here), and the listing fails:
// taken as complete, a full listing would forget every tracked mailing it did not see.
TEST_F(OutreachConnectorTest, ANextLinkToAnotherOriginFailsTheListingAndForgetsNothing) {
  resyncEvery = milliseconds(0);
  for (long i = 1; i <= 130; ++i) add(i, minutes(5 + static_cast<int>(i % 40)));
  auto c = connector();
  EXPECT_EQ(runTask(io, c->listScheduled(window())).size(), 130u);
  fake.setNextLinks(fakes::FakeOutreach::NextLinks::OtherOrigin);
  EXPECT_THROW(runTask(io, c->listScheduled(window())), ConnectorError);
  EXPECT_EQ(store->trackedBetween("outreach-test", TimePoint{}, TimePoint::max()).size(), 130u);
}

TEST_F(OutreachConnectorTest, RecentActivityFollowsNextLinks) {
  for (long i = 1; i <= 130; ++i) add(i, minutes(-10), {"jane@acme.test"}, "delivered", 0, minutes(5));
  auto c = connector();
  auto a = runTask(io, c->recentActivity(Clock::now() - hours(1)));
  EXPECT_EQ(a.sent.size(), 130u);
  EXPECT_EQ(fake.requestCount("GET /api/v2/mailings"), 2);
}

TEST_F(OutreachConnectorTest, EmailAddressesFollowNextLinks) {
  // 60 prospects with two addresses each: 120 emailAddress resources, two pages of 100.
  for (long i = 0; i < 60; ++i) {
    fakes::FakeOutreachProspect p;
    p.id = 100 + i;
    p.first_name = "P" + std::to_string(i);
    p.addresses = {{"p" + std::to_string(i) + "@acme.test", "work", i == 59 ? "bounced" : ""},
                   {"p" + std::to_string(i) + "@gmail.com", "personal", ""}};
    p.owner_id = 7;
    fake.addProspect(p);
    fakes::FakeOutreachMailing m;
    m.id = 1000 + i;
    m.to = {"p" + std::to_string(i) + "@acme.test"};
    m.scheduled_at = Clock::now() + minutes(10) + seconds(30 * i);
    m.prospect_id = 100 + i;
    m.user_id = 7;
    fake.addMailing(m);
  }
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  ASSERT_EQ(emails.size(), 60u);
  runTask(io, c->loadProfiles(emails));
  EXPECT_EQ(fake.requestCount("GET /api/v2/emailAddresses"), 2);
  const auto& last = emails.back().recipients.at(0).profile;
  ASSERT_TRUE(last);
  EXPECT_EQ(last->person_id, "159");
  ASSERT_EQ(last->addresses.size(), 2u);
  EXPECT_TRUE(last->addresses[0].bounced);  // read from the second page only
}

// After a restart the connector knows no prospect or owner: it reads them by id, in batches. A
// server that serves fewer than page[size] asks (Outreach publishes no maximum) pages each batch;
// every page is read, or the emails past the first page would go unchecked against their
// prospect's profile and owner.
TEST_F(OutreachConnectorTest, ProspectsAndOwnersReadByIdFollowNextLinks) {
  fake.setPageCap(10);
  for (long i = 0; i < 25; ++i) {
    fake.addUser(200 + i, "owner" + std::to_string(i) + "@seller.test", "Owner", std::to_string(i));
    fakes::FakeOutreachProspect p;
    p.id = 100 + i;
    p.first_name = "P" + std::to_string(i);
    p.addresses = {{"p" + std::to_string(i) + "@acme.test", "work", i == 24 ? "bounced" : ""}};
    p.owner_id = 200 + i;
    fake.addProspect(p);
    fakes::FakeOutreachMailing m;
    m.id = 1000 + i;
    m.to = {"p" + std::to_string(i) + "@acme.test"};
    m.scheduled_at = Clock::now() + minutes(10) + seconds(30 * i);
    m.prospect_id = 100 + i;
    m.user_id = 7;
    fake.addMailing(m);
  }
  auto emails = runTask(io, connector()->listScheduled(window()));
  ASSERT_EQ(emails.size(), 25u);
  for (auto& e : emails)
    for (auto& r : e.recipients) r.profile.reset();
  auto restarted = connector();
  runTask(io, restarted->loadProfiles(emails));
  EXPECT_EQ(fake.requestCount("GET /api/v2/prospects"), 3);
  EXPECT_EQ(fake.requestCount("GET /api/v2/users"), 3);
  for (size_t i = 0; i < emails.size(); ++i) {
    const auto& profile = emails[i].recipients.at(0).profile;
    ASSERT_TRUE(profile) << "mailing " << emails[i].id;
    EXPECT_EQ(profile->owner.email, "owner" + std::to_string(std::stol(profile->person_id) - 100) + "@seller.test");
  }
  EXPECT_TRUE(emails.back().recipients.at(0).profile->addresses.at(0).bounced);
}

// A compound document that leaves a mailing's recipients out of `included` (JSON:API asks for
// them; a server trimming a large page may not): each is read on its own, never skipped. Before,
// the mailing was decided on the recipients that came (here: the prospect's address, a fallback),
// and the other address was sent to unchecked. One removed since (404) stays out.
TEST_F(OutreachConnectorTest, RecipientsLeftOutOfTheListingAreReadOnTheirOwn) {
  add(1, minutes(10), {"jane@acme.test", "dead@gone.test", "left@acme.test"});
  fake.omitIncludedRecipients(true);
  fake.removeRecipient(1, 2);
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  ASSERT_EQ(emails.size(), 1u);
  std::set<std::string> to;
  for (const auto& r : emails[0].recipients) to.insert(r.address);
  EXPECT_EQ(to, (std::set<std::string>{"jane@acme.test", "dead@gone.test"}));
  EXPECT_EQ(fake.requestCount("GET /api/v2/recipients/"), 3);
  // One Outreach cannot answer for is left out, as before: failing the listing would leave every
  // mailing of the connector unchecked for one recipient.
  add(2, minutes(12), {"kim@acme.test", "lee@acme.test"});
  fake.failRecipientReads(500);
  auto again = connector();
  std::vector<ScheduledEmail> listed;
  EXPECT_NO_THROW(listed = runTask(io, again->listScheduled(window())));
  EXPECT_EQ(listed.size(), 2u);
  for (const auto& e : listed)
    if (e.id == "2") {
      EXPECT_FALSE(e.recipients.empty());
    }
}

// mailing.scheduledAt is nullable: a mailing drafted since the last poll comes without one. It is
// no longer to send, so it is forgotten, not skipped as malformed and kept.
TEST_F(OutreachConnectorTest, AMailingWithoutAScheduledAtIsForgotten) {
  add(1, minutes(20), {"jane@acme.test"}, "scheduled", 0, minutes(10));
  add(2, minutes(30), {"jane@acme.test"}, "scheduled", 0, minutes(10));
  auto c = connector();
  EXPECT_EQ(runTask(io, c->listScheduled(window())).size(), 2u);
  fake.setMailing(1, "drafted");  // scheduledAt null from now on
  auto emails = runTask(io, c->listScheduled(window()));
  ASSERT_EQ(emails.size(), 1u);
  EXPECT_EQ(emails[0].id, "2");
  EXPECT_EQ(store->trackedBetween("outreach-test", TimePoint{}, TimePoint::max()).size(), 1u);
}

// oauth.redirect_uri, when configured, goes with the refresh grant (Outreach's token examples send
// it); the fake's token endpoint refuses a grant without the app's redirect URI when told to.
TEST_F(OutreachConnectorTest, TheRefreshGrantSendsTheConfiguredRedirectUri) {
  fake.oauth().requireRedirectUri("https://safetynet.example/oauth/callback");
  redirectUri = "https://safetynet.example/oauth/callback";
  add(1, minutes(20));
  auto c = connector();
  EXPECT_EQ(runTask(io, c->listScheduled(window())).size(), 1u);
  EXPECT_EQ(fake.oauth().grants(), 1);
  EXPECT_EQ(fake.oauth().refusedGrants(), 0);
}

// The rep changed the mailing's recipients after it was listed and before its stop, an edit to the
// recipient resources that need not move the mailing's updatedAt (no increment would list it):
// the stop's own first read, with the recipients included (no extra request), shows it, and
// nothing is written. The same recipient in other case is no change; neither is a recipient
// Outreach cannot answer for (the version cannot be told: stopped as decided).
TEST_F(OutreachConnectorTest, RevertLeavesAMailingWhoseRecipientsChangedSinceItWasListed) {
  add(11, minutes(30), {"jane@acme.test"}, "scheduled", 99);
  add(12, minutes(31), {"kim@acme.test"}, "scheduled", 98);
  add(13, minutes(32), {"lee@acme.test"}, "scheduled", 97);
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  ASSERT_EQ(emails.size(), 3u);
  fake.setRecipients(11, {"john@acme.test"}, false);
  fake.setRecipients(12, {"KIM@acme.test"}, false);

  auto r = runTask(io, c->revert(emails[0]));
  EXPECT_TRUE(r.changed);
  EXPECT_FALSE(r.confirmed);
  ASSERT_TRUE(r.current);
  ASSERT_EQ(r.current->recipients.size(), 1u);
  EXPECT_EQ(r.current->recipients[0].address, "john@acme.test");
  EXPECT_EQ(fake.state(11), "scheduled");
  EXPECT_EQ(fake.requestCount("PATCH /api/v2/mailings/11"), 0);
  EXPECT_EQ(fake.requestCount("POST /api/v2/sequenceStates/99"), 0);
  EXPECT_EQ(fake.requestCount("GET /api/v2/mailings/11"), 1);
  // The next listing (an increment, which does not see the edit) has the new version.
  bool listedNew = false;
  for (const auto& e : runTask(io, c->listScheduled(window())))
    if (e.id == "11") listedNew = e.key() == r.current->key();
  EXPECT_TRUE(listedNew);

  auto sameInOtherCase = runTask(io, c->revert(emails[1]));
  EXPECT_FALSE(sameInOtherCase.changed);
  EXPECT_TRUE(sameInOtherCase.confirmed) << sameInOtherCase.detail;
  EXPECT_EQ(fake.state(12), "drafted");

  fake.setRecipients(13, {"someone@else.test"}, false);
  fake.omitIncludedRecipients(true);
  fake.failRecipientReads(500);
  auto cannotTell = runTask(io, c->revert(emails[2]));
  EXPECT_FALSE(cannotTell.changed);
  EXPECT_TRUE(cannotTell.confirmed) << cannotTell.detail;
  EXPECT_EQ(fake.state(13), "drafted");
}

// Outreach refused the PATCH because the rep was editing the mailing meanwhile: the re-read before
// the fallback shows other recipients, and the sequence is not paused for the old version's reason.
TEST_F(OutreachConnectorTest, APatchRefusedWhileTheRepChangedTheMailingPausesNothing) {
  fake.allowPatchToDrafted(false);
  add(21, minutes(30), {"jane@acme.test"}, "scheduled", 55);
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  ASSERT_EQ(emails.size(), 1u);
  fake.setRecipientsBeforeNextWrite(21, {"john@acme.test"});
  auto r = runTask(io, c->revert(emails[0]));
  EXPECT_TRUE(r.changed) << r.detail;
  EXPECT_FALSE(r.confirmed);
  EXPECT_EQ(fake.requestCount("POST /api/v2/sequenceStates/55"), 0);
  EXPECT_EQ(fake.sequenceState(55), "active");
  ASSERT_TRUE(r.current);
  EXPECT_EQ(r.current->recipients.at(0).address, "john@acme.test");
}

// The same address moved from to to cc (recipientType, the spec's recipient attribute) is another
// version: a cc'd recipient is checked and told as one.
TEST_F(OutreachConnectorTest, RecipientTypesAreReadAndAMoveToCcIsAChange) {
  fakes::FakeOutreachMailing m;
  m.id = 31;
  m.to = {"jane@acme.test"};
  m.cc = {"boss@acme.test"};
  m.bcc = {"crm@acme.test"};
  m.scheduled_at = Clock::now() + minutes(30);
  m.prospect_id = 1;
  m.user_id = 7;
  fake.addMailing(m);
  auto c = connector();
  auto emails = runTask(io, c->listScheduled(window()));
  ASSERT_EQ(emails.size(), 1u);
  std::vector<std::string> kinds;
  for (const auto& r : emails[0].recipients) kinds.push_back(r.kind + ":" + r.address);
  EXPECT_EQ(kinds, (std::vector<std::string>{"to:jane@acme.test", "cc:boss@acme.test", "bcc:crm@acme.test"}));
  fake.setRecipients(31, {"jane@acme.test", "boss@acme.test"}, false);  // boss@ now a to, crm@ gone
  auto r = runTask(io, c->revert(emails[0]));
  EXPECT_TRUE(r.changed) << r.detail;
  EXPECT_EQ(fake.state(31), "scheduled");
}
