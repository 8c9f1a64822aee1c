// The Slack notifier against the fake Slack Web API.
#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "connectors/close/close_connector.hpp"
#include "fakes/fake_close.hpp"
#include "fakes/fake_slack.hpp"
#include "integration/peers.hpp"
#include "notify/slack_notifier.hpp"
#include "safetynet/app/app.hpp"
#include "safetynet/net/http_client.hpp"
#include "support/run_task.hpp"

using namespace safetynet;
using namespace safetynet::testing;
using namespace std::chrono;

namespace {

class SlackTest : public ::testing::Test {
 protected:
  asio::io_context io;
  fakes::FakeSlack fake{io.get_executor(), "xoxb-test"};

  std::unique_ptr<SlackNotifier> notifier(bool dm, std::string channel = "#deliverability",
                                          std::string token = "xoxb-test", milliseconds timeout = milliseconds(30000)) {
    SlackConfig c;
    c.enabled = true;
    c.bot_token = Secret(token);
    c.base_url = fake.baseUrl();
    c.channel = std::move(channel);
    c.dm_rep = dm;
    HttpClientOptions o;
    o.retry.base_delay = milliseconds(10);
    o.timeout = timeout;
    return std::make_unique<SlackNotifier>(c, makeHttpClient(io.get_executor(), o));
  }
  nlohmann::json payload(const std::string& repEmail) {
    return {{"connector", "close-main"}, {"email_id", "acti_1"}, {"subject", "Hello <Jane> & co"},
            {"sender", "riley@seller.example"}, {"scheduled_at", "2026-11-22T09:00:00.000Z"},
            {"recipients", {"jane@gone.example"}}, {"contact_name", "Jane Doe"}, {"reason", "bounce_risk"},
            {"reason_text", "likely to bounce or be blocked"}, {"evidence", "gone.example does not exist (NXDOMAIN)"},
            {"next_step", "Remove the contact."}, {"rep", {{"email", repEmail}, {"name", "Riley"}}},
            {"stopped", true}, {"outcome", "moved back to draft in Close"}};
  }
  void SetUp() override {
    fake.addChannel("C0ALERTS", "#alerts");  // sorted before #deliverability: it is on page 2
    fake.addChannel("C0ANNOUNCE", "#announcements");
    fake.addChannel("C0DELIV", "#deliverability");
    fake.addUser("U0RILEY", "riley@seller.example", "riley");
  }
};

}  // namespace

TEST_F(SlackTest, DirectMessageToTheRepFoundByEmail) {
  auto n = notifier(true);
  auto t = runTask(io, n->resolveTarget(payload("riley@seller.example")));
  EXPECT_EQ(t.destination, "D0RILEY");
  auto r = runTask(io, n->post(t.destination, "notify|k1", payload("riley@seller.example")));
  ASSERT_TRUE(r.delivered) << r.error;
  const auto messages = fake.messages();
  ASSERT_EQ(messages.size(), 1u);
  const auto& m = messages[0];
  EXPECT_EQ(m.channel, "D0RILEY");
  EXPECT_EQ(r.ref, "D0RILEY/" + m.ts);
  const std::string blocks = m.request["blocks"].dump();
  EXPECT_NE(blocks.find("Hello &lt;Jane&gt; &amp; co"), std::string::npos) << blocks;  // mrkdwn escaped
  EXPECT_NE(blocks.find("Jane Doe (jane@gone.example)"), std::string::npos);
  EXPECT_NE(blocks.find("likely to bounce or be blocked"), std::string::npos);
  EXPECT_NE(blocks.find("Remove the contact."), std::string::npos);
  EXPECT_NE(blocks.find("<!date^"), std::string::npos);  // the send time in the reader's time zone
}

TEST_F(SlackTest, RepWithoutSlackFallsBackToTheChannel) {
  auto n = notifier(true);
  // A "#name" is turned into its ID (conversations.list, paged): history lookups take IDs only.
  EXPECT_EQ(runTask(io, n->resolveTarget(payload("nobody@seller.example"))).destination, "C0DELIV");
}

TEST_F(SlackTest, NoRepAndNoChannelIsPermanent) {
  auto n = notifier(true, "");
  auto t = runTask(io, n->resolveTarget(payload("nobody@seller.example")));
  EXPECT_TRUE(t.destination.empty());
  EXPECT_TRUE(t.permanent);
}

TEST_F(SlackTest, RateLimitedPostIsRetriedAfterRetryAfter) {
  auto n = notifier(false);
  fake.rateLimitNext(1, 1);
  auto r = runTask(io, n->post("#deliverability", "notify|k2", payload("")));
  EXPECT_TRUE(r.delivered) << r.error;
  EXPECT_EQ(fake.messages().size(), 1u);
}

TEST_F(SlackTest, SlackErrorsArePermanentOrNot) {
  auto n = notifier(false);
  auto r = runTask(io, n->post("#no-such-channel", "notify|k3", payload("")));
  EXPECT_FALSE(r.delivered);
  EXPECT_EQ(r.error, "channel_not_found");
  EXPECT_TRUE(r.permanent_failure);
  auto bad = notifier(false, "#deliverability", "xoxb-wrong");
  auto r2 = runTask(io, bad->post("#deliverability", "notify|k4", payload("")));
  EXPECT_EQ(r2.error, "invalid_auth");
}

TEST_F(SlackTest, AnInternalErrorMayHavePostedSoItIsLookedForBeforePostingAgain) {
  // Slack's internal_error and fatal_error: "It's possible some aspect of the operation succeeded
  // before the error was raised" (chat.postMessage's errors): the outcome is unknown.
  auto n = notifier(false);
  fake.refuseNextPost("internal_error", true);
  auto r = runTask(io, n->post("C0DELIV", "notify|k6", payload("")));
  EXPECT_FALSE(r.delivered);
  EXPECT_TRUE(r.outcome_unknown);
  EXPECT_FALSE(r.permanent_failure);
  EXPECT_TRUE(runTask(io, n->findDelivered("C0DELIV", "notify|k6")));
  // A user deactivated in Slack is no temporary refusal (conversations.open: user_disabled).
  fake.refuseNextPost("user_disabled");
  auto gone = runTask(io, n->post("C0DELIV", "notify|k7", payload("")));
  EXPECT_TRUE(gone.permanent_failure);
  EXPECT_FALSE(gone.outcome_unknown);
}

TEST_F(SlackTest, LongEvidenceAndManyRecipientsStayWithinBlockKitLimits) {
  // A section's text holds 3000 characters, a field 2000 (Block Kit): past them Slack refuses
  // the whole message (invalid_blocks) and the rep would never hear. Long values are cut.
  auto p = payload("");
  std::string evidence;
  while (evidence.size() < 6000) evidence += "550 5.1.1 <x@gone.example>: mailbox unavailable & gone; ";
  p["evidence"] = evidence;
  auto many = nlohmann::json::array();
  for (int i = 0; i < 150; ++i) many.push_back("person" + std::to_string(i) + "@gone.example");
  p["recipients"] = many;
  p["subject"] = std::string(2500, 'S');
  auto n = notifier(false);
  auto r = runTask(io, n->post("C0DELIV", "notify|k8", p));
  ASSERT_TRUE(r.delivered) << r.error;
  const auto blocks = fake.messages().at(0).request["blocks"];
  bool cut = false;
  for (const auto& b : blocks)
    if (b.value("type", "") == "section" && b.contains("text")) {
      const std::string t = b["text"]["text"].get<std::string>();
      if (t.rfind("*Evidence:*", 0) == 0) {
        cut = t.size() <= 3000 && t.substr(t.size() - 3) == "\u2026";
        const size_t amp = t.rfind('&');  // never cut inside an escape ("&amp;")
        EXPECT_TRUE(amp == std::string::npos || t.find(';', amp) != std::string::npos) << t.substr(t.size() - 20);
      }
    }
  EXPECT_TRUE(cut);
}

TEST_F(SlackTest, ARepsSubjectCannotPingTheChannel) {
  // The top-level text is read as mrkdwn: "<!channel>" in a subject would notify everyone in the
  // admins' channel, "<https://x|y>" would be a link. Escaped as Slack's formatting docs ask
  // (&, <, >), like the blocks.
  auto p = payload("");
  p["subject"] = "<!channel> pricing & <https://evil.example|your invoice>";
  auto n = notifier(false);
  ASSERT_TRUE(runTask(io, n->post("C0DELIV", "notify|k9", p)).delivered);
  const std::string text = fake.messages().at(0).request["text"].get<std::string>();
  EXPECT_EQ(text.find("<!channel>"), std::string::npos) << text;
  EXPECT_EQ(text.find("<https://"), std::string::npos) << text;
  EXPECT_NE(text.find("&lt;!channel&gt; pricing &amp; &lt;https://evil.example|your invoice&gt;"), std::string::npos) << text;
}

TEST_F(SlackTest, FindsAMessageItAlreadyPosted) {
  auto n = notifier(false);
  auto target = runTask(io, n->resolveTarget(payload("")));
  ASSERT_EQ(target.destination, "C0DELIV");
  ASSERT_TRUE(runTask(io, n->post(target.destination, "notify|k5", payload(""))).delivered);
  auto found = runTask(io, n->findDelivered(target.destination, "notify|k5"));
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, "C0DELIV/" + fake.messages()[0].ts);
  EXPECT_FALSE(runTask(io, n->findDelivered(target.destination, "notify|other")));
}

TEST_F(SlackTest, APostFarBackInABusyChannelIsStillFound) {
  // The admins' channel gets every alert: a post whose answer was lost can be hundreds of messages
  // back when it is looked for. conversations.history is cursor-paged; every page is read back to
  // a bounded depth, not only the newest one.
  auto n = notifier(false);
  ASSERT_TRUE(runTask(io, n->post("C0DELIV", "notify|deep", payload(""))).delivered);
  fake.addChannelChatter("C0DELIV", 450);
  auto found = runTask(io, n->findDelivered("C0DELIV", "notify|deep"));
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, "C0DELIV/" + fake.messages()[0].ts);
  EXPECT_FALSE(runTask(io, n->findDelivered("C0DELIV", "notify|never")));
}

TEST_F(SlackTest, UnknownChannelNameIsPermanent) {
  auto n = notifier(false, "#nope");
  auto t = runTask(io, n->resolveTarget(payload("")));
  EXPECT_TRUE(t.destination.empty());
  EXPECT_TRUE(t.permanent);
  EXPECT_EQ(t.error, "channel #nope not found (is the bot a member?)");
}

TEST_F(SlackTest, DirectMessageByThePlatformsSlackUsername) {
  // Salesloft knows the rep's Slack name; the email on the platform differs from Slack's.
  fake.addUser("U0ANN", "ann@elsewhere.example", "ann.a");
  fake.addUser("U0SAM", "sam@personal.example", "sam.seller");
  fake.addUser("U0ZOE", "zoe@seller.example", "zoe");
  auto n = notifier(true);
  auto p = payload("sam@seller.example");
  p["rep"]["slack_username"] = "sam.seller";
  EXPECT_EQ(runTask(io, n->resolveTarget(p)).destination, "D0SAM");
  EXPECT_EQ(fake.requestCount("users.lookupByEmail"), 0);
  // An unknown Slack name falls back to the email, then the channel.
  auto q = payload("riley@seller.example");
  q["rep"]["slack_username"] = "no.such.user";
  EXPECT_EQ(runTask(io, n->resolveTarget(q)).destination, "D0RILEY");
}

namespace {

// The outbox delivering through the Slack notifier to the fake Slack, on a real store: faults on
// the wire must neither double a message nor send the rep's DM to the channel.
class SlackOutboxTest : public SlackTest {
 protected:
  TempDir dir;
  StorePtr store = openSqliteStore(dir.path().string());
  Services services;

  void SetUp() override {
    SlackTest::SetUp();
    services.notifiers["slack"] = notifier(true);
  }
  void enqueue(const std::string& key, nlohmann::json note = nullptr) {
    EmailDecision d;
    d.key = key;
    d.connector = "close-main";
    d.email_id = key;
    d.scheduled_at = Clock::now() + minutes(10);
    d.state = EmailState::Reverting;
    d.verdict = "revert";
    d.reason = "bounce_risk";
    store->recordDecision(d);
    OutboxMessage m;
    m.dedupe_key = "notify|" + key;
    m.kind = "slack";
    m.payload = note.is_null() ? payload("riley@seller.example") : std::move(note);
    store->transition(key, EmailState::Reverted, "moved back to draft", 1, m);
  }
  OutboxStats drain(TimePoint at) { return runTask(io, drainOutbox(services, *store, at)); }
  OutboxMessage message() { return store->allOutbox().at(0); }
  int postedTo(const std::string& channel) {
    int n = 0;
    for (const auto& m : fake.messages()) n += m.channel == channel;
    return n;
  }
};

}  // namespace

TEST_F(SlackOutboxTest, APostWhoseAnswerWasLostIsFoundByItsMetadataNotPostedAgain) {
  enqueue("k-lost");
  fake.loseAnswerNext("chat.postMessage");  // posted, then the connection drops before the answer
  drain(Clock::now());
  ASSERT_EQ(fake.messages().size(), 1u);
  EXPECT_EQ(message().state, "sending");  // the outcome is unknown: look before posting again
  auto stats = drain(Clock::now() + hours(2));
  EXPECT_EQ(stats.recovered, 1);
  ASSERT_EQ(fake.messages().size(), 1u);
  EXPECT_EQ(message().state, "sent");
  EXPECT_EQ(message().sent_ref, "D0RILEY/" + fake.messages()[0].ts);
  EXPECT_EQ(fake.requestCount("chat.postMessage"), 1);
}

TEST_F(SlackOutboxTest, APostAnsweredWithACutBodyIsFoundByItsMetadataNotPostedAgain) {
  // Slack posted it, but the 200 answer came cut short (not JSON): that is no "Slack said no".
  enqueue("k-cut");
  fake.setFaults(FaultPlan::on("POST /api/chat.postMessage", FaultKind::TruncatedBody));
  drain(Clock::now());
  ASSERT_EQ(fake.messages().size(), 1u);
  EXPECT_EQ(message().state, "sending");  // look before posting again
  auto stats = drain(Clock::now() + hours(2));
  EXPECT_EQ(stats.recovered, 1);
  EXPECT_EQ(fake.messages().size(), 1u);
  EXPECT_EQ(message().state, "sent");
  EXPECT_EQ(fake.requestCount("chat.postMessage"), 1);
}

Task<void> waitFor(milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

// A post that Slack carries out only after its client gave up on it (a timeout, or the daemon
// killed) is not in the history at once. Slack has no idempotency key: the outbox looks for it
// no sooner than notify.slack.in_flight_wait after the attempt (2 minutes by default), and finds it.
TEST_F(SlackOutboxTest, APostThatLandsAfterItsClientGaveUpIsNotPostedAgain) {
  services.notifiers["slack"] = notifier(true, "#deliverability", "xoxb-test", milliseconds(200));
  enqueue("k-late");
  FaultPlan late = FaultPlan::on("POST /api/chat.postMessage", FaultKind::LateApply);
  late.stall = milliseconds(800);
  fake.setFaults(late);
  const TimePoint t0 = Clock::now();
  drain(t0);  // no answer within 200 ms: the outcome is unknown
  EXPECT_EQ(message().state, "sending");
  drain(t0 + minutes(1));  // within the in-flight wait: neither looked for nor posted again
  EXPECT_EQ(fake.requestCount("conversations.history"), 0);
  runTask(io, waitFor(milliseconds(1000)));  // the first post lands
  EXPECT_EQ(fake.requestCount("chat.postMessage"), 1);
  drain(t0 + minutes(3));  // looks, finds it
  EXPECT_EQ(fake.messages().size(), 1u);
  EXPECT_EQ(fake.requestCount("chat.postMessage"), 1);
  EXPECT_EQ(message().state, "sent");
}

// A pass over the outbox can take long (each message's 429s are waited out in place), so a post
// goes out well after the pass began. A post with no answer is looked for no sooner than the
// in-flight wait after the post itself, not after the pass's start (the fault suite, seed 1 under
// ASan: a late post found no sooner than 5 s after its pass began was not there yet, and was
// posted twice).
TEST_F(SlackOutboxTest, APostWithNoAnswerIsLookedForAfterTheWaitFromThePostNotFromThePassStart) {
  enqueue("k-long-pass");  // notify.slack.in_flight_wait: 2 minutes
  // Answered 429 (Retry-After: 1 s), waited out in place; the second try is posted, its answer lost.
  fake.setFaults(FaultPlan::on("POST /api/chat.postMessage", FaultKind::RateLimited));
  fake.loseAnswerNext("chat.postMessage");
  const TimePoint t0 = Clock::now();
  drain(t0);
  EXPECT_EQ(message().state, "sending");
  ASSERT_EQ(fake.messages().size(), 1u);
  drain(t0 + minutes(2) + milliseconds(500));  // the wait after the pass began, not after the post
  EXPECT_EQ(fake.requestCount("conversations.history"), 0);
  EXPECT_EQ(message().state, "sending");
  drain(t0 + minutes(3));
  EXPECT_EQ(fake.requestCount("conversations.history"), 1);
  EXPECT_EQ(fake.messages().size(), 1u);
  EXPECT_EQ(message().state, "sent");
}

// A message another life of the daemon left in "sending" (it was killed mid-post) carries the
// time that life meant to look for it, reckoned from before its post; the post itself may have
// gone out later (after a 429, a retried connect) and may land later still. This life has seen
// the row only now: it looks no sooner than the in-flight wait after first seeing it, and then
// finds the late post instead of posting again.
TEST_F(SlackOutboxTest, AMessageAnEarlierLifeLeftSendingIsLookedForOnlyAfterTheWaitFromNow) {
  std::shared_ptr<SlackNotifier> slack = notifier(true);  // in_flight_wait: 2 minutes
  services.notifiers["slack"] = slack;
  enqueue("k-earlier-life");
  const TimePoint t0 = Clock::now();
  store->outboxSending(message().id, "D0RILEY", t0 - seconds(10));  // its wait has run out already
  drain(t0);
  EXPECT_EQ(fake.requestCount("conversations.history"), 0);
  EXPECT_EQ(fake.requestCount("chat.postMessage"), 0);
  EXPECT_EQ(message().state, "sending");
  // The earlier life's post lands now.
  ASSERT_EQ(runTask(io, slack->resolveTarget(message().payload)).destination, "D0RILEY");
  auto landed = runTask(io, slack->post("D0RILEY", message().dedupe_key, message().payload));
  ASSERT_TRUE(landed.delivered);
  EXPECT_EQ(drain(t0 + minutes(1)).recovered, 0);  // still within the wait
  EXPECT_EQ(fake.requestCount("conversations.history"), 0);
  auto stats = drain(t0 + minutes(3));
  EXPECT_EQ(stats.recovered, 1);
  EXPECT_EQ(fake.messages().size(), 1u);
  EXPECT_EQ(message().state, "sent");
}

// Short lives (`run --once` from a timer, or a daemon killed again and again): each saw the row
// for the first time, began the in-flight wait and ended, so no life ever looked for the post nor
// sent it. The wait begun is in the row; the next life, the row due, looks at once.
TEST_F(SlackOutboxTest, AWaitAnEndedLifeBeganIsServedNotBegunAgainByTheNext) {
  std::shared_ptr<SlackNotifier> slack = notifier(true);  // in_flight_wait: 2 minutes
  enqueue("k-short-lives");
  const TimePoint t0 = Clock::now();
  store->outboxSending(message().id, "D0RILEY", t0 - seconds(10));  // killed mid-post
  {
    Services life;  // sees another life's row: begins the wait, and ends
    life.notifiers["slack"] = notifier(true);
    runTask(io, drainOutbox(life, *store, t0));
  }
  EXPECT_EQ(fake.requestCount("conversations.history"), 0);
  EXPECT_EQ(message().state, "sending");
  EXPECT_NE(message().last_error.find("waiting for post 1 to land"), std::string::npos) << message().last_error;
  // The killed life's post lands meanwhile.
  ASSERT_EQ(runTask(io, slack->resolveTarget(message().payload)).destination, "D0RILEY");
  ASSERT_TRUE(runTask(io, slack->post("D0RILEY", message().dedupe_key, message().payload)).delivered);
  {
    Services life;  // after the wait: looks, finds it, posts nothing
    life.notifiers["slack"] = notifier(true);
    EXPECT_EQ(runTask(io, drainOutbox(life, *store, t0 + minutes(3))).recovered, 1);
  }
  EXPECT_EQ(fake.requestCount("conversations.history"), 1);
  EXPECT_EQ(fake.messages().size(), 1u);
  EXPECT_EQ(message().state, "sent");
}

// The look after the wait fails (Slack's history answers 5xx): the wait was served all the same,
// so the row keeps saying so, and the next short life looks again rather than begin a second wait
// (h68 review: the failed look's error replaced the marker).
TEST_F(SlackOutboxTest, ALookThatFailedAfterTheWaitKeepsTheWaitServed) {
  std::shared_ptr<SlackNotifier> slack = notifier(true);  // in_flight_wait: 2 minutes
  enqueue("k-look-fails");
  const TimePoint t0 = Clock::now();
  store->outboxSending(message().id, "D0RILEY", t0 - seconds(10));  // killed mid-post
  {
    Services life;  // begins the wait, and ends
    life.notifiers["slack"] = notifier(true);
    runTask(io, drainOutbox(life, *store, t0));
  }
  ASSERT_EQ(message().state, "sending");
  // The killed life's post lands meanwhile.
  ASSERT_EQ(runTask(io, slack->resolveTarget(message().payload)).destination, "D0RILEY");
  ASSERT_TRUE(runTask(io, slack->post("D0RILEY", message().dedupe_key, message().payload)).delivered);
  fake.failNext("conversations.history", 5, 502);  // every try of the HTTP client's retries
  {
    Services life;  // after the wait: looks, and the look fails
    life.notifiers["slack"] = notifier(true);
    runTask(io, drainOutbox(life, *store, t0 + minutes(3)));
  }
  ASSERT_GE(fake.requestCount("conversations.history"), 1);
  const int looks = fake.requestCount("conversations.history");
  EXPECT_EQ(message().state, "sending");
  EXPECT_NE(message().last_error.find("waiting for post 1 to land"), std::string::npos) << message().last_error;
  EXPECT_NE(message().last_error.find("conversations.history"), std::string::npos) << message().last_error;
  {
    Services life;  // due again: looks at once, finds it, posts nothing
    life.notifiers["slack"] = notifier(true);
    EXPECT_EQ(runTask(io, drainOutbox(life, *store, t0 + minutes(30))).recovered, 1);
  }
  EXPECT_EQ(fake.requestCount("conversations.history"), looks + 1);
  EXPECT_EQ(fake.messages().size(), 1u);
  EXPECT_EQ(message().state, "sent");
}

// The housekeeping moved between instances (A, then B, then A again): A's post got no usable
// answer, B later posted the message again (another attempt) and got no answer either. A, draining
// again, must not take the row for its own post (it would search at once, before B's post may have
// landed): it waits as for any other's, then finds B's post. (Its memory was keyed by row only.)
TEST_F(SlackOutboxTest, ARowAnotherInstancePostedAgainIsNotTakenForThisOnesOwnPost) {
  enqueue("k-moved");
  Services b;  // the other instance, on the same database and Slack
  b.notifiers["slack"] = notifier(true);
  fake.failNext("chat.postMessage", 1, 500);  // A's post: a 5xx, nothing posted, outcome unknown
  const TimePoint t0 = Clock::now();
  drain(t0);
  ASSERT_EQ(message().state, "sending");
  runTask(io, drainOutbox(b, *store, t0 + minutes(3)));  // B sees another's row: waits first
  EXPECT_EQ(fake.requestCount("conversations.history"), 0);
  fake.loseAnswerNext("chat.postMessage");
  runTask(io, drainOutbox(b, *store, t0 + minutes(6)));  // searches, finds nothing, posts again
  EXPECT_EQ(fake.requestCount("conversations.history"), 1);
  ASSERT_EQ(fake.messages().size(), 1u);
  ASSERT_EQ(message().state, "sending");
  drain(t0 + minutes(12));  // A again: B's attempt, not A's own
  EXPECT_EQ(fake.requestCount("conversations.history"), 1);
  EXPECT_EQ(message().state, "sending");
  drain(t0 + minutes(16));
  EXPECT_EQ(message().state, "sent");
  EXPECT_EQ(fake.messages().size(), 1u);
  EXPECT_EQ(fake.requestCount("chat.postMessage"), 2);
}

// A held Close email whose rep Close could not name when it was held (GET /user/{id} failed): the
// engine's payload has the rep's id and name, no email. The outbox asks Close again.
class SlackOutboxRepTest : public SlackOutboxTest {
 protected:
  fakes::FakeClose close{io.get_executor(), "close-key"};

  void SetUp() override {
    SlackOutboxTest::SetUp();
    close.addUser("user_rep1", "riley@seller.example", "Riley", "Rep");
    ConnectorConfig c;
    c.name = "close-main";
    c.type = "close";
    c.base_url = close.baseUrl();
    c.api_key = Secret("close-key");
    HttpClientOptions o;
    o.retry.base_delay = milliseconds(10);
    services.connectors.push_back(std::make_shared<close::CloseConnector>(c, makeHttpClient(io.get_executor(), o), *store));
    services.config.notify.slack.dm_rep = true;
    auto p = payload("");
    p["rep"] = {{"id", "user_rep1"}, {"name", "Riley Rep"}, {"email", ""}, {"slack_username", ""}};
    enqueue("k-rep", p);
  }
};

TEST_F(SlackOutboxRepTest, ARepThePlatformCouldNotNameWhenHeldGetsTheDmNotTheChannel) {
  drain(Clock::now());
  EXPECT_EQ(postedTo("D0RILEY"), 1);
  EXPECT_EQ(postedTo("C0DELIV"), 0);
  EXPECT_EQ(message().state, "sent");
}

TEST_F(SlackOutboxRepTest, ARepThePlatformStillCannotNameIsAskedForAgainThenTheChannelSaysSo) {
  close.setFaults(FaultPlan::on("GET /api/v1/user/user_rep1/", FaultKind::TruncatedBody, 2));
  drain(Clock::now());  // Close cannot say who the rep is yet: tried again later
  EXPECT_TRUE(fake.messages().empty());
  EXPECT_EQ(message().state, "pending");
  drain(Clock::now() + hours(2));
  EXPECT_TRUE(fake.messages().empty());
  drain(Clock::now() + hours(4));  // Close answers now
  EXPECT_EQ(postedTo("D0RILEY"), 1);
  EXPECT_EQ(postedTo("C0DELIV"), 0);

  // Close never answering: after the outbox's budget of tries, the channel, saying why.
  fake.addUser("U0OTHER", "other@seller.example", "other");
  close.addUser("user_rep2", "other@seller.example", "Other", "Rep");
  auto p = payload("");
  p["rep"] = {{"id", "user_rep2"}, {"name", "Other Rep"}, {"email", ""}, {"slack_username", ""}};
  enqueue("k-rep2", p);
  close.setFaults(FaultPlan::on("GET /api/v1/user/user_rep2/", FaultKind::TruncatedBody, 100));
  TimePoint at = Clock::now() + hours(6);
  for (int i = 0; i < 20 && postedTo("C0DELIV") == 0; ++i, at += hours(2)) drain(at);
  ASSERT_EQ(postedTo("C0DELIV"), 1);
  EXPECT_EQ(postedTo("D0OTHER"), 0);
  const std::string text = fake.messages().back().request["text"].get<std::string>();
  EXPECT_EQ(text.rfind("Could not learn who the rep is from close-main", 0), 0u) << text;
}

TEST_F(SlackOutboxTest, ADmThatCannotBeOpenedForNowIsRetriedNotSentToTheChannel) {
  enqueue("k-open");
  fake.failNext("conversations.open", 1, 500);
  auto first = drain(Clock::now());
  EXPECT_EQ(first.retried, 1);
  EXPECT_TRUE(fake.messages().empty());
  EXPECT_EQ(message().state, "pending");
  drain(Clock::now() + hours(2));
  EXPECT_EQ(postedTo("D0RILEY"), 1);
  EXPECT_EQ(postedTo("C0DELIV"), 0);
  EXPECT_EQ(message().state, "sent");
}

TEST_F(SlackOutboxTest, ADmOutOfReachForTheWholeBudgetGoesToTheChannelSayingSo) {
  enqueue("k-never");
  fake.failNext("conversations.open", 100, 503);
  TimePoint at = Clock::now();
  int drains = 0;
  while (fake.messages().empty() && drains < 20) {
    drain(at);
    ++drains;
    at += hours(2);
  }
  EXPECT_GT(drains, 3);  // the DM was tried for a while first
  const auto messages = fake.messages();
  ASSERT_EQ(messages.size(), 1u);
  const auto& m = messages[0];
  EXPECT_EQ(m.channel, "C0DELIV");
  const std::string text = m.request["text"].get<std::string>();
  EXPECT_EQ(text.rfind("Could not reach Riley (riley@seller.example) by DM (conversations.open: HTTP 503)", 0), 0u) << text;
  const auto& first = m.request["blocks"].at(0);  // said first in the blocks too
  EXPECT_EQ(first["type"], "context");
  EXPECT_EQ(first["elements"].at(0)["text"].get<std::string>().rfind("Could not reach Riley", 0), 0u) << first.dump();
  EXPECT_EQ(m.request["blocks"].at(1)["type"], "header");
  EXPECT_EQ(message().state, "sent");
}

TEST_F(SlackOutboxTest, ARepLookupThatFailsForNowIsRetriedNotSentToTheChannel) {
  enqueue("k-lookup");
  fake.failNext("users.lookupByEmail", 5, 502);  // every try of the HTTP client's retries
  drain(Clock::now());
  EXPECT_TRUE(fake.messages().empty());
  drain(Clock::now() + hours(2));
  EXPECT_EQ(postedTo("D0RILEY"), 1);
  EXPECT_EQ(postedTo("C0DELIV"), 0);
}

TEST_F(SlackOutboxTest, AMemberListThatFailsForNowIsRetriedNotSentToTheChannel) {
  // Salesloft names the rep's Slack user; the rep's platform email is unknown to Slack.
  fake.addUser("U0SAM", "sam@personal.example", "sam.seller");
  auto p = payload("sam@seller.example");
  p["rep"]["slack_username"] = "sam.seller";
  enqueue("k-members", p);
  fake.failNext("users.list", 5, 500);
  drain(Clock::now());
  EXPECT_TRUE(fake.messages().empty());
  drain(Clock::now() + hours(2));
  EXPECT_EQ(postedTo("D0SAM"), 1);
  EXPECT_EQ(postedTo("C0DELIV"), 0);
}
