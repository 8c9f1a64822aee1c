// The bounce history and its policy over simulated time: hard bounces suppress until cleared,
// complaints make do_not_mail, soft bounces hold for escalating times, then for good.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "bounce/history.hpp"
#include "checks/bounce_history_check.hpp"
#include "safetynet/core/text.hpp"
#include "safetynet/store/store.hpp"
#include "support/run_task.hpp"

using namespace safetynet;
using namespace safetynet::bounce;
using namespace std::chrono;
using safetynet::testing::runTask;

namespace {

class BounceHistoryTest : public ::testing::Test {
 protected:
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("sn-bounce-" + std::to_string(::getpid()) + "-" +
                                                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
  StorePtr store;
  BouncesConfig config;  // 3 soft bounces in 7 days hold for 72 h, doubling up to 30 d, for good at the 5th hold
  int serial = 0;

  void SetUp() override {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    store = openSqliteStore(dir.string());
  }
  void TearDown() override {
    store.reset();
    std::filesystem::remove_all(dir);
  }
  IncidentAlert alert;  // the daemon's: an admin notification when an incident begins
  ImportResult bounceAt(TimePoint at, const std::string& address, const std::string& reason, bool hard = false,
                        const std::string& status = "") {
    Classification c;
    BounceRecord r;
    r.recipient = address;
    r.reason = reason;
    r.hard = hard;
    r.status = status;
    r.diagnostic = reason == "feedback" ? "" : "550 something";
    r.feedback_type = reason == "feedback" ? "abuse" : "";
    c.records.push_back(r);
    return recordBounces(*store, config, c, "msg-" + std::to_string(++serial), "test", "rep@seller.test", at, alert);
  }
  // The admins' alerts counted, the last one kept, none queued.
  void countAlerts(int& alerts, BounceIncident& told) {
    alert = [&alerts, &told](const BounceIncident& inc) -> std::optional<OutboxMessage> {
      ++alerts;
      told = inc;
      return std::nullopt;
    };
  }
  // A hard unknown-user bounce the host `host` answered (its Remote-MTA).
  ImportResult unknownVia(TimePoint at, const std::string& address, const std::string& host) {
    Classification c;
    BounceRecord r;
    r.recipient = address;
    r.reason = "userunknown";
    r.hard = true;
    r.status = "5.1.1";
    r.diagnostic = "550 5.1.1 user unknown";
    r.remote_host = host;
    c.records.push_back(r);
    return recordBounces(*store, config, c, "msg-" + std::to_string(++serial), "test", "rep@seller.test", at, alert);
  }
  std::vector<std::string> signals(const std::string& address) {
    checks::BounceHistoryCheck check(store.get());
    CheckInput in;
    in.raw = address;
    in.address = parseAddress(address).address;
    ScanResult r;
    runTask([&]() -> Task<void> { co_await check.run(in, r); }());
    std::vector<std::string> out;
    for (const auto& s : r.signals()) out.push_back(s.name);
    return out;
  }
};

using V = std::vector<std::string>;

TEST_F(BounceHistoryTest, AHardBounceSuppressesUntilAnAdminClearsIt) {
  const auto now = Clock::now();
  bounceAt(now - hours(1), "gone@acme.test", "userunknown", true, "5.1.1");
  EXPECT_EQ(signals("gone@acme.test"), V{"HARD_BOUNCED"});
  EXPECT_EQ(signals("GONE@Acme.test"), V{"HARD_BOUNCED"});
  EXPECT_EQ(signals("other@acme.test"), V{});
  EXPECT_EQ(store->standing("gone@acme.test")->state, "hard");
  // Importing the same message again changes nothing.
  serial -= 1;
  EXPECT_EQ(bounceAt(now, "gone@acme.test", "userunknown", true).duplicates, 1);
  EXPECT_TRUE(store->clearStanding("gone@acme.test", "admin test"));
  EXPECT_EQ(signals("gone@acme.test"), V{});
  EXPECT_FALSE(store->clearStanding("gone@acme.test", "admin test"));
  EXPECT_EQ(store->auditFor("bounce|gone@acme.test").size(), 1u);  // who cleared it, and what
}

// A report may name an address twice (delayed, then failed; one mailbox under two aliases). Its
// records share one key (message and address), so the second was dropped as recorded before: a
// delay first lost the hard bounce after it.
TEST_F(BounceHistoryTest, AnAddressNamedTwiceInOneReportKeepsItsHardBounce) {
  Classification c;
  BounceRecord delayed;
  delayed.recipient = "twice@acme.test";
  delayed.reason = "mailboxfull";
  delayed.action = "delayed";
  delayed.status = "4.2.2";
  BounceRecord failed = delayed;
  failed.recipient = "Twice@ACME.test";
  failed.reason = "userunknown";
  failed.action = "failed";
  failed.status = "5.1.1";
  failed.hard = true;
  c.records = {delayed, failed};
  const auto result = recordBounces(*store, config, c, "msg-twice", "test", "rep@seller.test", Clock::now(), alert);
  EXPECT_EQ(result.duplicates, 0);
  ASSERT_TRUE(store->standing("twice@acme.test"));
  EXPECT_EQ(store->standing("twice@acme.test")->state, "hard");
  EXPECT_EQ(signals("twice@acme.test"), V{"HARD_BOUNCED"});
}

TEST_F(BounceHistoryTest, ADeadDomainSuppressesEveryAddressAtItOnceTwoAddressesSaySo) {
  const auto now = Clock::now();
  // One bounce: a DNS failure can read like a dead domain; only that address is suppressed.
  bounceAt(now - hours(2), "a@dead.test", "hostunknown", true, "5.1.2");
  EXPECT_EQ(signals("a@dead.test"), V{"DOMAIN_BOUNCED"});  // weighed against our DNS (pipeline_test)
  EXPECT_TRUE(signals("b@dead.test").empty());
  EXPECT_FALSE(store->standing("@dead.test"));
  // The same address again is still one address.
  bounceAt(now - hours(1), "a@dead.test", "hostunknown", true, "5.1.2");
  EXPECT_FALSE(store->standing("@dead.test"));
  // A second address: the whole domain.
  bounceAt(now, "c@dead.test", "notaccept", true, "5.1.10");
  ASSERT_TRUE(store->standing("@dead.test"));
  EXPECT_EQ(store->standing("@dead.test")->state, "hard");
  EXPECT_EQ(signals("b@dead.test"), V{"DOMAIN_BOUNCED"});
  // Another domain that merely ends the same way is not touched.
  EXPECT_TRUE(signals("x@notdead.test").empty());
  EXPECT_EQ(store->addressesBouncedAt("dead.test", {"hostunknown", "notaccept"}),
            (std::vector<std::string>{"a@dead.test", "c@dead.test"}));
  bounceAt(now, "z@undead.test", "hostunknown", true, "5.1.2");
  EXPECT_EQ(store->addressesBouncedAt("dead.test", {"hostunknown"}), std::vector<std::string>{"a@dead.test"});
  // domain_after: 1 is the old rule (one bounce suppresses the domain).
  config.domain_after = 1;
  bounceAt(now, "a@gone.test", "hostunknown", true, "5.1.2");
  EXPECT_TRUE(store->standing("@gone.test"));
}

TEST_F(BounceHistoryTest, ABounceSayingTheDomainTakesNoMailDoesNotReplaceTheMailboxsOwnRefusal) {
  const auto now = Clock::now();
  // The domain's own server said no such user: a later "no such domain" (the sending side's
  // resolver, which our DNS may contradict) does not turn it into a claim about DNS.
  bounceAt(now - hours(2), "gone@acme.test", "userunknown", true, "5.1.1");
  bounceAt(now - hours(1), "gone@acme.test", "hostunknown", true, "5.4.4");
  EXPECT_EQ(signals("gone@acme.test"), V{"HARD_BOUNCED"});
  EXPECT_EQ(store->standing("gone@acme.test")->reason, "userunknown");
  // The other way round, the mailbox's refusal is the stronger evidence and replaces it.
  // (At another domain: a second address at acme.test would read the whole domain as dead.)
  bounceAt(now - hours(2), "left@initech.test", "hostunknown", true, "5.4.4");
  EXPECT_EQ(signals("left@initech.test"), V{"DOMAIN_BOUNCED"});
  bounceAt(now - hours(1), "left@initech.test", "userunknown", true, "5.1.1");
  EXPECT_EQ(signals("left@initech.test"), V{"HARD_BOUNCED"});
}

TEST_F(BounceHistoryTest, ABounceSayingTheDomainTakesNoMailDropsTheMxSetTheDomainCheckKept) {
  // The domain check keeps a domain's MX set up to a day; read before the bounce, it would answer
  // for DNS after it. A bounce about the domain drops it (by its A-labels); others keep it.
  const auto now = Clock::now();
  for (const char* d : {"acme.test", "xn--bcher-kva.test", "other.test"})
    store->putDomainFact(d, "mx", "10 mx." + std::string(d), now + hours(20));
  bounceAt(now - minutes(5), "a@acme.test", "hostunknown", true, "5.4.4");
  bounceAt(now - minutes(5), "b@bücher.test", "notaccept", true, "5.1.10");
  bounceAt(now - minutes(5), "c@other.test", "userunknown", true, "5.1.1");
  EXPECT_FALSE(store->domainFact("acme.test", "mx", now));
  EXPECT_FALSE(store->domainFact("xn--bcher-kva.test", "mx", now));
  EXPECT_TRUE(store->domainFact("other.test", "mx", now));
}

TEST_F(BounceHistoryTest, ABounceSayingTheDomainTakesNoMailDropsTheVerdictsCachedBeforeIt) {
  // A clean verdict cached before the send says nothing about after the bounce: the address's goes
  // at once, the whole domain's when the domain is confirmed dead (bounces.domain_after).
  const auto now = Clock::now();
  for (const char* a : {"a@acme.test", "b@acme.test", "c@acme.test", "a@other.test"})
    store->cacheVerdict(CachedVerdict{a, "", "", nlohmann::json::array(), now + hours(24)});
  bounceAt(now - minutes(5), "a@acme.test", "hostunknown", true, "5.4.4");
  EXPECT_FALSE(store->cachedVerdict("a@acme.test", now));
  EXPECT_TRUE(store->cachedVerdict("c@acme.test", now));
  bounceAt(now - minutes(4), "b@acme.test", "hostunknown", true, "5.4.4");
  EXPECT_FALSE(store->cachedVerdict("c@acme.test", now));
  EXPECT_TRUE(store->cachedVerdict("a@other.test", now));
  // A mailbox's own refusal says nothing of DNS: the cache stays.
  bounceAt(now - minutes(3), "a@other.test", "userunknown", true, "5.1.1");
  EXPECT_TRUE(store->cachedVerdict("a@other.test", now));
}

TEST_F(BounceHistoryTest, APlatformsBouncedFlagAfterANoSuchDomainBounceIsThatBounce) {
  // The rep's relay could not resolve acme.test: the notice says so, and the platform, reading the
  // same notice, marks the address bounced (a hard bounce with no reason). The flag adds no hold
  // our DNS could not weigh: the standing stays the domain's.
  const auto now = Clock::now();
  bounceAt(now - minutes(10), "a@acme.test", "hostunknown", true, "5.4.4");
  bounceAt(now - minutes(5), "a@acme.test", "undefined", true);
  EXPECT_EQ(signals("a@acme.test"), V{"DOMAIN_BOUNCED"});
  // The whole domain's standing (two addresses): the flag of one of them makes no standing of its own.
  bounceAt(now - minutes(10), "x@dead.test", "hostunknown", true, "5.4.4");
  bounceAt(now - minutes(9), "y@dead.test", "hostunknown", true, "5.4.4");
  bounceAt(now - minutes(8), "w@dead.test", "hostunknown", true, "5.4.4");  // the domain's standing only
  bounceAt(now - minutes(5), "w@dead.test", "undefined", true);
  EXPECT_FALSE(store->standing("w@dead.test"));
  EXPECT_EQ(signals("w@dead.test"), V{"DOMAIN_BOUNCED"});
  bounceAt(now - minutes(5), "x@dead.test", "undefined", true);  // its own and the domain's
  EXPECT_EQ(store->standing("x@dead.test")->reason, "hostunknown");
  EXPECT_EQ(signals("x@dead.test"), (V{"DOMAIN_BOUNCED", "DOMAIN_BOUNCED"}));
  // A flag before any such bounce is a hold of its own, which a later "no such domain" does not weaken.
  bounceAt(now - minutes(10), "f@z.test", "undefined", true);
  bounceAt(now - minutes(5), "f@z.test", "hostunknown", true, "5.4.4");
  EXPECT_EQ(signals("f@z.test"), V{"HARD_BOUNCED"});
  // Nor does a flag replace a mailbox's own refusal.
  bounceAt(now - minutes(10), "g@z.test", "userunknown", true, "5.1.1");
  bounceAt(now - minutes(5), "g@z.test", "undefined", true);
  EXPECT_EQ(store->standing("g@z.test")->reason, "userunknown");
}

TEST_F(BounceHistoryTest, ThePlatformsFlagBesideANoSuchDomainBounceIsWeighedAsThatBounce) {
  // The platform profile check runs before this one and says HARD_BOUNCED for the platform's flag.
  auto withFlag = [&](const std::string& address) {
    checks::BounceHistoryCheck check(store.get());
    CheckInput in;
    in.raw = address;
    in.address = parseAddress(address).address;
    ScanResult r;
    r.add("HARD_BOUNCED", "the platform marks " + address + " as bounced");
    runTask([&]() -> Task<void> { co_await check.run(in, r); }());
    return r.signals();
  };
  const auto now = Clock::now();
  bounceAt(now - minutes(10), "x@dead.test", "hostunknown", true, "5.4.4");
  bounceAt(now - minutes(9), "y@dead.test", "hostunknown", true, "5.4.4");
  auto got = withFlag("x@dead.test");
  ASSERT_EQ(got.size(), 3u);  // the flag, the address's standing, the domain's
  EXPECT_EQ(got[0].name, "DOMAIN_BOUNCED");
  EXPECT_EQ(got[0].evidence, "the platform marks x@dead.test as bounced (the bounce on record for it: hostunknown 5.4.4, "
                             "the domain taking no mail)");
  EXPECT_EQ(got[1].name, "DOMAIN_BOUNCED");
  EXPECT_EQ(got[2].name, "DOMAIN_BOUNCED");
  // No such bounce of this address on record (another address at the domain): the flag holds.
  got = withFlag("z@dead.test");
  EXPECT_EQ(got[0].name, "HARD_BOUNCED");
  // A reason of the history's own that says more: the flag holds beside it.
  bounceAt(now - minutes(5), "x@dead.test", "userunknown", true, "5.1.1");
  got = withFlag("x@dead.test");
  EXPECT_EQ(got[0].name, "HARD_BOUNCED");
  EXPECT_EQ(got[1].name, "HARD_BOUNCED");
}

TEST_F(BounceHistoryTest, ABounceForAnAddressWrittenInUnicodeHoldsItsAsciiForm) {
  // The bounce history check looks an address up by its domain's A-labels, as the admin's commands
  // keep it; a bounce that names the domain in UTF-8 was kept so and held nobody.
  const auto now = Clock::now();
  bounceAt(now - hours(1), "Kim@B\xc3\xbc" "cher.test", "userunknown", true, "5.1.1");
  EXPECT_TRUE(store->standing("kim@xn--bcher-kva.test"));
  EXPECT_EQ(signals("kim@b\xc3\xbc" "cher.test"), V{"HARD_BOUNCED"});
  EXPECT_EQ(signals("kim@xn--bcher-kva.test"), V{"HARD_BOUNCED"});
}

TEST_F(BounceHistoryTest, AComplaintIsDoNotMailAndAHardBounceDoesNotUndoIt) {
  const auto now = Clock::now();
  bounceAt(now - hours(2), "annoyed@isp.test", "feedback");
  bounceAt(now - hours(1), "annoyed@isp.test", "userunknown", true);
  EXPECT_EQ(store->standing("annoyed@isp.test")->state, "complained");
  EXPECT_EQ(signals("annoyed@isp.test"), V{"SUPPRESSED"});
}

// Not every feedback report is a complaint: a DMARC failure report (RFC 6591 "auth-failure") is
// the receiver's system telling our domain's owner our mail failed authentication, "not-spam"
// (RFC 6430) the recipient saying our mail is wanted, "virus" a scanner's finding. Each once made
// the lead `complained`: do_not_mail, for good. "abuse" and "fraud" are complaints.
TEST_F(BounceHistoryTest, OnlyAComplaintsFeedbackTypeMarksTheRecipient) {
  const auto now = Clock::now();
  auto report = [&](const std::string& address, const std::string& type) {
    Classification c;
    BounceRecord r;
    r.recipient = address;
    r.reason = "feedback";
    r.feedback_type = type;
    c.records.push_back(r);
    return recordBounces(*store, config, c, "msg-" + std::to_string(++serial), "test", "rep@seller.test",
                         now - hours(1), alert);
  };
  for (const char* type : {"auth-failure", "not-spam", "virus", "Auth-Failure"}) {
    const auto result = report(std::string(type) + "@isp.test", type);
    EXPECT_EQ(result.recorded, 0) << type;
    EXPECT_EQ(result.ignored, 1) << type;
    EXPECT_FALSE(store->standing(asciiLower(type) + "@isp.test")) << type;
  }
  for (const char* type : {"abuse", "fraud"}) {
    report(std::string(type) + "@isp.test", type);
    ASSERT_TRUE(store->standing(std::string(type) + "@isp.test")) << type;
    EXPECT_EQ(store->standing(std::string(type) + "@isp.test")->state, "complained") << type;
  }
}

TEST_F(BounceHistoryTest, SoftBouncesHoldForEscalatingTimesThenForGood) {
  const auto start = Clock::now() - hours(24 * 200);
  auto t = start;
  // Two soft bounces: watched, not held.
  bounceAt(t, "busy@acme.test", "mailboxfull");
  bounceAt(t + hours(1), "busy@acme.test", "mailboxfull");
  EXPECT_EQ(store->standing("busy@acme.test")->state, "watch");
  EXPECT_EQ(store->standing("busy@acme.test")->soft_count, 2);
  // A bounce about us (blocked) does not count against the recipient.
  bounceAt(t + hours(2), "busy@acme.test", "blocked");
  EXPECT_EQ(store->standing("busy@acme.test")->state, "watch");
  // The third within seven days: held for 72 h; then 144 h, 288 h, 576 h; the fifth hold is for good.
  const std::vector<hours> holds = {hours(72), hours(144), hours(288), hours(576)};
  bounceAt(t + hours(3), "busy@acme.test", "mailboxfull");
  for (size_t i = 0;; ++i) {
    auto s = store->standing("busy@acme.test");
    ASSERT_TRUE(s);
    if (i == holds.size()) {
      EXPECT_EQ(s->state, "soft_permanent");
      EXPECT_EQ(s->holds, 5);
      break;
    }
    EXPECT_EQ(s->state, "soft_hold") << i;
    EXPECT_EQ(s->holds, static_cast<int>(i) + 1);
    ASSERT_TRUE(s->until);
    EXPECT_EQ(duration_cast<hours>(*s->until - s->since), holds[i]) << i;
    // Three more soft bounces after the hold began make the next, longer hold.
    t = s->since + hours(1);
    bounceAt(t, "busy@acme.test", "mailboxfull");
    bounceAt(t + minutes(1), "busy@acme.test", "suspend");
    EXPECT_EQ(store->standing("busy@acme.test")->holds, static_cast<int>(i) + 1);  // not yet
    bounceAt(t + minutes(2), "busy@acme.test", "mailboxfull");
  }
  EXPECT_EQ(signals("busy@acme.test"), V{"SOFT_BOUNCE_HOLD"});  // for good, whatever the clock says
}

// An address that forwards to a dead mailbox: the report's record is the dead target's (hard);
// the address the rep wrote to is counted soft, since a list with one dead member reads the same,
// and held once it repeats. A delay of the forward counts for neither.
TEST_F(BounceHistoryTest, AnAddressForwardingToADeadMailboxIsCountedSoftAndHeldWhenItRepeats) {
  const auto t = Clock::now() - hours(24 * 3);
  auto forwardFails = [&](TimePoint at, const std::string& action) {
    Classification c;
    BounceRecord r;
    r.recipient = "kim.k@othermail.test";
    r.sent_to = "kim@acme.test";
    r.reason = "userunknown";
    r.hard = action == "failed";
    r.status = action == "failed" ? "5.1.1" : "4.4.1";
    r.action = action;
    r.diagnostic = "550 5.1.1 <kim.k@othermail.test>: Recipient address rejected: User unknown";
    c.records.push_back(r);
    return recordBounces(*store, config, c, "msg-" + std::to_string(++serial), "test", "rep@seller.test", at, alert);
  };
  EXPECT_EQ(forwardFails(t, "delayed").recorded, 1);
  EXPECT_FALSE(store->standing("kim@acme.test"));
  EXPECT_EQ(forwardFails(t + hours(1), "failed").recorded, 2);
  EXPECT_EQ(store->standing("kim.k@othermail.test")->state, "hard");
  ASSERT_TRUE(store->standing("kim@acme.test"));
  EXPECT_EQ(store->standing("kim@acme.test")->state, "watch");
  EXPECT_EQ(store->standing("kim@acme.test")->soft_count, 1);
  const auto events = store->bouncesFor("kim@acme.test", TimePoint{});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_FALSE(events[0].hard);
  EXPECT_NE(events[0].diagnostic.find("kim.k@othermail.test"), std::string::npos) << events[0].diagnostic;
  forwardFails(t + hours(2), "failed");
  forwardFails(t + hours(3), "failed");
  EXPECT_EQ(store->standing("kim@acme.test")->state, "soft_hold");
  EXPECT_EQ(signals("kim@acme.test"), V{"SOFT_BOUNCE_HOLD"});
}

TEST_F(BounceHistoryTest, SoftBouncesOutsideTheWindowDoNotAddUp) {
  const auto t = Clock::now() - hours(24 * 30);
  bounceAt(t, "far@acme.test", "mailboxfull");
  bounceAt(t + hours(1), "far@acme.test", "mailboxfull");
  bounceAt(t + hours(24 * 8), "far@acme.test", "mailboxfull");  // the first two are older than 7 days
  EXPECT_EQ(store->standing("far@acme.test")->state, "watch");
  EXPECT_EQ(store->standing("far@acme.test")->soft_count, 1);
  EXPECT_EQ(signals("far@acme.test"), V{});
}

TEST_F(BounceHistoryTest, AHoldEndsOnItsOwn) {
  const auto now = Clock::now();
  for (int i = 0; i < 3; ++i) bounceAt(now - hours(100) + minutes(i), "late@acme.test", "mailboxfull");
  EXPECT_EQ(store->standing("late@acme.test")->state, "soft_hold");
  EXPECT_EQ(signals("late@acme.test"), V{});  // 72 h from 100 h ago: over
  for (int i = 0; i < 3; ++i) bounceAt(now - hours(1) + minutes(i), "soon@acme.test", "mailboxfull");
  EXPECT_EQ(signals("soon@acme.test"), V{"SOFT_BOUNCE_HOLD"});
}

}  // namespace

#include "safetynet/app/app.hpp"

TEST(SenderPause, AboveTheRateWithEnoughSendsPausesLongerEachTime) {
  SendersConfig c;  // 3% over 24 h with at least 50 sends, 4 h doubling up to 7 d
  const auto now = Clock::now();
  EXPECT_FALSE(pauseDecision(std::nullopt, "rep@seller.test", 49, 10, c, now));  // too few sends to judge
  EXPECT_FALSE(pauseDecision(std::nullopt, "rep@seller.test", 100, 3, c, now));  // 3.0%: not above
  auto first = pauseDecision(std::nullopt, "rep@seller.test", 100, 4, c, now);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->state, "paused");
  EXPECT_EQ(first->pauses, 1);
  EXPECT_EQ(*first->until - now, hours(4));
  EXPECT_NE(first->evidence.find("bounce rate 4.0% (4 of 100 emails)"), std::string::npos) << first->evidence;
  // While paused, nothing new.
  EXPECT_FALSE(pauseDecision(first, "rep@seller.test", 100, 50, c, now + hours(1)));
  // After it, a second pause is twice as long; the cap holds.
  auto second = pauseDecision(first, "rep@seller.test", 60, 6, c, now + hours(5));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->pauses, 2);
  EXPECT_EQ(*second->until - (now + hours(5)), hours(8));
  SenderState many = *second;
  many.pauses = 10;
  many.until = now;
  auto capped = pauseDecision(many, "rep@seller.test", 60, 6, c, now + hours(1));
  ASSERT_TRUE(capped);
  EXPECT_EQ(*capped->until - (now + hours(1)), hours(24 * 7));
}

TEST_F(BounceHistoryTest, APlatformsBouncedFlagSuppressesOnceAndAnAdminClearHolds) {
  const auto t0 = system_clock::now();
  RecipientProfile p;
  p.person_id = "person-7";
  p.bounced = true;  // Salesloft's `bouncing`: about the primary address
  p.addresses.push_back(ProfileAddress{"Dana@Acme.test", true, "work", false, false});
  p.addresses.push_back(ProfileAddress{"dana.old@acme.test", false, "work", true, false});  // its own flag
  p.addresses.push_back(ProfileAddress{"dana@home.test", false, "personal", false, false});
  EXPECT_EQ(platformBouncedAddresses(p), (std::vector<std::string>{"dana.old@acme.test", "dana@acme.test"}));

  auto first = recordPlatformBounceFlags(*store, config, "salesloft", p, t0);
  EXPECT_EQ(first.recorded, 2);
  auto st = store->standing("dana@acme.test");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->state, "hard");
  EXPECT_NE(st->evidence.find("salesloft marks dana@acme.test as bounced"), std::string::npos) << st->evidence;
  EXPECT_EQ(signals("dana@acme.test"), std::vector<std::string>{"HARD_BOUNCED"});
  EXPECT_TRUE(signals("dana@home.test").empty());

  // Seen again next cycle: nothing new. Cleared by an admin: the same flag does not undo it.
  EXPECT_EQ(recordPlatformBounceFlags(*store, config, "salesloft", p, t0 + minutes(1)).recorded, 0);
  ASSERT_TRUE(store->clearStanding("dana@acme.test", "admin test"));
  EXPECT_EQ(recordPlatformBounceFlags(*store, config, "salesloft", p, t0 + minutes(2)).recorded, 0);
  EXPECT_TRUE(signals("dana@acme.test").empty());
  // A person whose flag has no primary and one address: that address.
  RecipientProfile single;
  single.person_id = "person-8";
  single.bounced = true;
  single.addresses.push_back(ProfileAddress{"lee@globex.test", false, "", false, false});
  EXPECT_EQ(platformBouncedAddresses(single), std::vector<std::string>{"lee@globex.test"});
}

// A provider's incident (Gmail, 14 December 2020: "The email account that you tried to reach does
// not exist" for live mailboxes) reads like many dead mailboxes at one domain at once. Before, each of those bounces suppressed a live lead until an admin cleared it.
TEST_F(BounceHistoryTest, ManyAddressesAtOneDomainUnknownWithinTheWindowAreAnIncidentNotDeadMailboxes) {
  config.incident_after = 4;  // incident_window: 1 h
  const auto now = Clock::now();
  int alerts = 0;
  alert = [&alerts](const BounceIncident& inc) -> std::optional<OutboxMessage> {
    ++alerts;
    OutboxMessage m;
    m.dedupe_key = "bounce_incident|" + inc.domain;
    m.kind = "slack";
    m.payload = {{"type", "bounce_incident"}, {"domain", inc.domain}, {"addresses", inc.addresses}};
    return m;
  };
  // Older than the incident: a dead mailbox stays dead, a complainer stays do_not_mail.
  bounceAt(now - hours(30), "left@big.test", "userunknown", true, "5.1.1");
  bounceAt(now - hours(30), "annoyed@big.test", "feedback");
  // Three addresses at one domain within the hour, and one elsewhere: each a dead mailbox.
  bounceAt(now - minutes(50), "a@big.test", "userunknown", true, "5.1.1");
  bounceAt(now - minutes(40), "b@big.test", "userunknown", true, "5.1.1");
  bounceAt(now - minutes(35), "x@other.test", "userunknown", true, "5.1.1");
  bounceAt(now - minutes(30), "c@big.test", "userunknown", true, "5.1.1");
  EXPECT_EQ(signals("c@big.test"), V{"HARD_BOUNCED"});
  EXPECT_EQ(alerts, 0);
  // The fourth: a suspected incident. Its bounces, and the three before it, suppress nobody.
  auto fourth = bounceAt(now - minutes(20), "d@big.test", "userunknown", true, "5.1.1");
  ASSERT_EQ(fourth.incidents.size(), 1u);
  EXPECT_TRUE(fourth.incidents[0].began);
  EXPECT_EQ(fourth.incidents[0].addresses, 4);
  EXPECT_EQ(fourth.incidents[0].rewritten, (V{"a@big.test", "b@big.test", "c@big.test"}));
  for (const auto* a : {"a@big.test", "b@big.test", "c@big.test", "d@big.test"}) {
    EXPECT_EQ(signals(a), V{}) << a;
    ASSERT_TRUE(store->standing(a)) << a;
    EXPECT_EQ(store->standing(a)->state, "watch") << a;
    EXPECT_NE(store->standing(a)->evidence.find("4 different addresses at big.test"), std::string::npos)
        << store->standing(a)->evidence;
  }
  EXPECT_EQ(signals("left@big.test"), V{"HARD_BOUNCED"});
  EXPECT_EQ(signals("annoyed@big.test"), V{"SUPPRESSED"});
  EXPECT_EQ(signals("x@other.test"), V{"HARD_BOUNCED"});
  // The admins are told once, with the first bounce that tripped it.
  EXPECT_EQ(alerts, 1);
  EXPECT_EQ(store->dueOutbox(Clock::now() + seconds(1), 10).size(), 1u);
  // While it lasts, the next one is watched too; no second alert. The old dead mailbox bouncing
  // again stays dead.
  auto fifth = bounceAt(now - minutes(10), "e@big.test", "userunknown", true, "5.1.1");
  ASSERT_EQ(fifth.incidents.size(), 1u);
  EXPECT_FALSE(fifth.incidents[0].began);
  EXPECT_EQ(signals("e@big.test"), V{});
  bounceAt(now - minutes(5), "left@big.test", "userunknown", true, "5.1.1");
  EXPECT_EQ(signals("left@big.test"), V{"HARD_BOUNCED"});
  EXPECT_EQ(alerts, 1);
  // Afterwards, an address that bounces as unknown again is dead after all.
  bounceAt(now + hours(3), "b@big.test", "userunknown", true, "5.1.1");
  EXPECT_EQ(signals("b@big.test"), V{"HARD_BOUNCED"});
  EXPECT_EQ(signals("a@big.test"), V{});
  // A later incident at the same domain is told again.
  for (int i = 0; i < 4; ++i) bounceAt(now + hours(10) + minutes(i), "n" + std::to_string(i) + "@big.test", "userunknown", true, "5.1.1");
  EXPECT_EQ(alerts, 2);
}

// A provider that answers "unknown" for many addresses all day (a large domain, a steady rate): an
// address that bounced as unknown during the incident and again in a later window is a dead
// mailbox after all, as the docs and the admins' message say (h68 review: every bounce of a busy
// domain stayed `watch`, so nobody there was ever suppressed).
TEST_F(BounceHistoryTest, AnAddressUnknownAgainInALaterWindowIsSuppressedWhileTheIncidentGoesOn) {
  config.incident_after = 4;  // incident_window: 1 h
  const auto start = Clock::now() - hours(6);
  // Dead once, long ago, and cleared by an admin since: no evidence against it in this incident.
  bounceAt(start - hours(24 * 200), "spared@busy.test", "userunknown", true, "5.1.1");
  ASSERT_TRUE(store->clearStanding("spared@busy.test", "admin"));
  bounceAt(start + minutes(5), "early@busy.test", "userunknown", true, "5.1.1");  // in the window that trips it
  for (int i = 0; i < 30; ++i)  // every 10 minutes for five hours, a different address
    bounceAt(start + minutes(10 * i), "n" + std::to_string(i) + "@busy.test", "userunknown", true, "5.1.1");
  EXPECT_EQ(signals("early@busy.test"), V{});
  bounceAt(start + hours(2), "spared@busy.test", "userunknown", true, "5.1.1");
  EXPECT_EQ(signals("spared@busy.test"), V{});
  bounceAt(start + hours(3) + minutes(30), "early@busy.test", "userunknown", true, "5.1.1");
  EXPECT_EQ(signals("early@busy.test"), V{"HARD_BOUNCED"});
  bounceAt(start + minutes(45), "again@busy.test", "userunknown", true, "5.1.1");
  ASSERT_TRUE(store->standing("again@busy.test"));
  EXPECT_EQ(store->standing("again@busy.test")->state, "watch");
  // The same notice read twice, or a second send within the window: still the incident.
  bounceAt(start + minutes(75), "again@busy.test", "userunknown", true, "5.1.1");
  EXPECT_EQ(signals("again@busy.test"), V{});
  // Hours later, the incident still counted: unknown again, so dead.
  auto later = bounceAt(start + hours(3), "again@busy.test", "userunknown", true, "5.1.1");
  ASSERT_EQ(later.incidents.size(), 1u);  // the domain's count is still over the threshold
  EXPECT_EQ(signals("again@busy.test"), V{"HARD_BOUNCED"});
  EXPECT_EQ(store->standing("again@busy.test")->state, "hard");
  // The next bounce of the incident rewrites the window's first bounces, not this one.
  bounceAt(start + hours(3) + minutes(2), "new@busy.test", "userunknown", true, "5.1.1");
  EXPECT_EQ(signals("new@busy.test"), V{});
  EXPECT_EQ(signals("again@busy.test"), V{"HARD_BOUNCED"});
}

// A provider hosting many companies' mail (Microsoft 365, Google Workspace) that refuses live
// mailboxes for an hour: each company's domain sees a bounce or two, never incident_after, so the
// domain count missed it and every live lead there was suppressed (issue 13 note).
TEST_F(BounceHistoryTest, ManyCompaniesOfOneProviderUnknownWithinTheWindowAreItsIncident) {
  config.incident_after = 4;  // incident_window: 1 h
  config.provider_incident_ratio = 4;  // the usual week below: 1 an hour with such bounces
  const auto now = Clock::now();
  // What the domain check saw of their MX.
  for (int i = 0; i < 9; ++i) store->putDomainFact("c" + std::to_string(i) + ".test", "provider", "microsoft365", now + hours(24 * 30));
  store->putDomainFact("other.test", "provider", "google", now + hours(24 * 30));
  int alerts = 0;
  BounceIncident told;
  countAlerts(alerts, told);
  // The usual week: a dead mailbox there now and then; they stay dead.
  for (int d = 1; d <= 6; ++d) bounceAt(now - hours(24 * d), "old" + std::to_string(d) + "@c8.test", "userunknown", true, "5.1.10");
  // Within the hour, three companies, one address each, and elsewhere: each a dead mailbox.
  bounceAt(now - minutes(50), "a@c0.test", "userunknown", true, "5.1.10");
  bounceAt(now - minutes(45), "x@other.test", "userunknown", true, "5.1.1");
  bounceAt(now - minutes(44), "y@unknown-provider.test", "userunknown", true, "5.1.1");
  bounceAt(now - minutes(40), "b@c1.test", "userunknown", true, "5.1.10");
  auto third = bounceAt(now - minutes(30), "c@c2.test", "userunknown", true, "5.1.10");
  EXPECT_TRUE(third.incidents.empty());
  EXPECT_EQ(signals("c@c2.test"), V{"HARD_BOUNCED"});
  // The fourth company: the provider's incident.
  auto fourth = bounceAt(now - minutes(20), "d@c3.test", "userunknown", true, "5.1.10");
  ASSERT_EQ(fourth.incidents.size(), 1u);
  EXPECT_TRUE(fourth.incidents[0].began);
  EXPECT_EQ(fourth.incidents[0].provider, "microsoft365");
  EXPECT_EQ(fourth.incidents[0].domain, "");
  EXPECT_EQ(fourth.incidents[0].domains, 4);
  EXPECT_EQ(fourth.incidents[0].addresses, 4);
  EXPECT_EQ(fourth.incidents[0].usual, 1);
  EXPECT_EQ(fourth.incidents[0].threshold, 4);
  EXPECT_EQ(fourth.incidents[0].rewritten, (V{"a@c0.test", "b@c1.test", "c@c2.test"}));
  EXPECT_EQ(incidentPlace(fourth.incidents[0]), "microsoft365 (4 of the domains whose mail it runs)");
  for (const auto* a : {"a@c0.test", "b@c1.test", "c@c2.test", "d@c3.test"}) {
    EXPECT_EQ(signals(a), V{}) << a;
    ASSERT_TRUE(store->standing(a)) << a;
    EXPECT_EQ(store->standing(a)->state, "watch") << a;
    EXPECT_NE(store->standing(a)->evidence.find("4 different addresses at 4 of the domains whose mail microsoft365 runs"),
              std::string::npos)
        << store->standing(a)->evidence;
  }
  EXPECT_EQ(alerts, 1);
  EXPECT_EQ(told.provider, "microsoft365");
  // Another provider's and an unknown provider's addresses, and the week's dead mailboxes, stay.
  EXPECT_EQ(signals("x@other.test"), V{"HARD_BOUNCED"});
  EXPECT_EQ(signals("y@unknown-provider.test"), V{"HARD_BOUNCED"});
  EXPECT_EQ(signals("old3@c8.test"), V{"HARD_BOUNCED"});
  // While it lasts, the next company's bounce is watched too, told once.
  auto fifth = bounceAt(now - minutes(10), "e@c4.test", "userunknown", true, "5.1.10");
  ASSERT_EQ(fifth.incidents.size(), 1u);
  EXPECT_FALSE(fifth.incidents[0].began);
  EXPECT_EQ(signals("e@c4.test"), V{});
  EXPECT_EQ(alerts, 1);
  // The outage goes on; an address it spared in its first hour is unknown again in a later one:
  // dead after all, though the provider's count is still over the bar.
  for (int i = 5; i < 9; ++i)
    bounceAt(now + minutes(40 + i), "f" + std::to_string(i) + "@c" + std::to_string(i) + ".test", "userunknown", true, "5.1.10");
  auto again = bounceAt(now + minutes(55), "b@c1.test", "userunknown", true, "5.1.10");
  ASSERT_EQ(again.incidents.size(), 1u);
  EXPECT_EQ(signals("b@c1.test"), V{"HARD_BOUNCED"});
  EXPECT_EQ(signals("f5@c5.test"), V{});
  EXPECT_EQ(alerts, 1);
}

// A relay between us and the recipients (an outbound smarthost, a filtering gateway) that answers
// "no such user" for everyone: each company sees a bounce, no provider runs them all, and the
// domain and provider counts missed it (issue 13 note: "a relay failing many domains"). Counted by
// the site of the host that answered, where the domain check knows that host is none of the
// domain's mail hosts; a hosting company answering for the domains it hosts, a domain whose mail
// hosts are not known and each domain's own mail host are read address by address.
TEST_F(BounceHistoryTest, ARelayThatAnswersUnknownForManyDomainsIsItsIncident) {
  config.incident_after = 4;  // incident_window: 1 h, provider_incident_ratio 5
  const auto now = Clock::now();
  for (int i = 0; i < 7; ++i) {
    const std::string d = "c" + std::to_string(i) + ".test";
    store->putDomainFact(d, "mx_sites", d, now + hours(24 * 30));
  }
  for (int i = 0; i < 3; ++i) store->putDomainFact("hosted" + std::to_string(i) + ".test", "mx_sites", "hostco.test", now + hours(24 * 30));
  int alerts = 0;
  BounceIncident told;
  countAlerts(alerts, told);
  // Each domain's own mail host, and a hosting company answering for the domains it hosts.
  unknownVia(now - minutes(58), "a@c0.test", "mx.c0.test");
  unknownVia(now - minutes(57), "x@c6.test", "mx2.c6.test");
  for (int i = 0; i < 4; ++i)
    EXPECT_TRUE(unknownVia(now - minutes(56 - i), "h" + std::to_string(i) + "@hosted" + std::to_string(i % 3) + ".test", "mx.hostco.test")
                    .incidents.empty());
  // The relay, at three companies and at a domain whose mail hosts are not known.
  unknownVia(now - minutes(50), "r0@c1.test", "smtp.relay.test");
  unknownVia(now - minutes(45), "r1@c2.test", "smtp.relay.test");
  unknownVia(now - minutes(40), "r2@c3.test", "smtp2.relay.test");
  EXPECT_TRUE(unknownVia(now - minutes(35), "u@nomx.test", "smtp.relay.test").incidents.empty());
  EXPECT_EQ(signals("r2@c3.test"), V{"HARD_BOUNCED"});
  // The fourth company it answered for: the relay's incident.
  auto fourth = unknownVia(now - minutes(30), "r3@c4.test", "smtp.relay.test");
  ASSERT_EQ(fourth.incidents.size(), 1u);
  const BounceIncident& inc = fourth.incidents[0];
  EXPECT_TRUE(inc.began);
  EXPECT_EQ(inc.site, "relay.test");
  EXPECT_EQ(inc.provider, "");
  EXPECT_EQ(inc.domain, "");
  EXPECT_EQ(inc.domains, 4);
  EXPECT_EQ(inc.addresses, 4);
  EXPECT_EQ(inc.threshold, 4);
  EXPECT_EQ(inc.rewritten, (V{"r0@c1.test", "r1@c2.test", "r2@c3.test"}));
  EXPECT_EQ(incidentPlace(inc), "relay.test (answering for 4 domains)");
  for (const auto* a : {"r0@c1.test", "r1@c2.test", "r2@c3.test", "r3@c4.test"}) {
    EXPECT_EQ(signals(a), V{}) << a;
    ASSERT_TRUE(store->standing(a)) << a;
    EXPECT_EQ(store->standing(a)->state, "watch") << a;
    EXPECT_NE(store->standing(a)->evidence.find("at 4 domains, answered by hosts under relay.test"), std::string::npos)
        << store->standing(a)->evidence;
    EXPECT_NE(store->standing(a)->evidence.find("(a provider or a relay)"), std::string::npos) << store->standing(a)->evidence;
  }
  EXPECT_EQ(alerts, 1);
  EXPECT_EQ(told.site, "relay.test");
  for (const auto* a : {"a@c0.test", "x@c6.test", "h0@hosted0.test", "h3@hosted0.test", "u@nomx.test"})
    EXPECT_EQ(signals(a), V{"HARD_BOUNCED"}) << a;
  // While it lasts, the next company it answers for is watched too, told once; one its own mail
  // host answers is a dead mailbox.
  auto fifth = unknownVia(now - minutes(20), "r4@c5.test", "smtp.relay.test");
  ASSERT_EQ(fifth.incidents.size(), 1u);
  EXPECT_FALSE(fifth.incidents[0].began);
  EXPECT_EQ(signals("r4@c5.test"), V{});
  EXPECT_TRUE(unknownVia(now - minutes(15), "b@c5.test", "mx.c5.test").incidents.empty());
  EXPECT_EQ(signals("b@c5.test"), V{"HARD_BOUNCED"});
  EXPECT_EQ(alerts, 1);
  // The events keep who answered: the site, not the recipient's own.
  ASSERT_EQ(store->bouncesFor("r4@c5.test", TimePoint{}).size(), 1u);
  EXPECT_EQ(store->bouncesFor("r4@c5.test", TimePoint{})[0].answered_by, "relay.test");
  EXPECT_EQ(store->bouncesFor("b@c5.test", TimePoint{})[0].answered_by, "");
  // A company the relay's site hosts (its MX is under relay.test): the relay is its mail host
  // there, and its answer is a dead mailbox, incident or not.
  store->putDomainFact("hostedbyrelay.test", "mx_sites", "relay.test", now + hours(24 * 30));
  EXPECT_TRUE(unknownVia(now - minutes(12), "k@hostedbyrelay.test", "mx.relay.test").incidents.empty());
  EXPECT_EQ(signals("k@hostedbyrelay.test"), V{"HARD_BOUNCED"});
  // Hosts on private names are each company's own network, no one relay.
  unknownVia(now - minutes(11), "p@c6.test", "exch01.corp.local");
  EXPECT_EQ(store->bouncesFor("p@c6.test", TimePoint{}).at(0).answered_by, "");
  // Off with the provider count: provider_incident_ratio 0 counts domains only.
  config.provider_incident_ratio = 0;
  for (int i = 0; i < 5; ++i) unknownVia(now + hours(3) + minutes(i), "z" + std::to_string(i) + "@c" + std::to_string(i) + ".test", "smtp.other-relay.test");
  EXPECT_EQ(signals("z4@c4.test"), V{"HARD_BOUNCED"});
}

// A provider's own hosts answer for the domains it runs, under its names: Google's googlemail.com
// beside google.com, Microsoft's outlook.com beside its mx.microsoft MX. Their refusals are the
// provider's count (which needs its usual week), never a relay's (review of the first version:
// the site count took up what the provider count left, for another day, blaming a relay).
TEST_F(BounceHistoryTest, AProvidersOwnHostsUnderAnotherNameAreNoRelay) {
  config.incident_after = 4;
  const auto now = Clock::now();
  for (int i = 0; i < 5; ++i) {
    const std::string g = "g" + std::to_string(i) + ".test", m = "m" + std::to_string(i) + ".test";
    store->putDomainFact(g, "mx_sites", "google.com", now + hours(24 * 30));
    store->putDomainFact(g, "provider", "google", now + hours(24 * 30));
    store->putDomainFact(m, "mx_sites", "mx.microsoft", now + hours(24 * 30));
    store->putDomainFact(m, "provider", "microsoft365", now + hours(24 * 30));
  }
  for (int i = 0; i < 5; ++i) {
    const std::string n = std::to_string(i);
    EXPECT_TRUE(unknownVia(now - minutes(50 - i), "a" + n + "@g" + n + ".test", "mx.googlemail.com").incidents.empty()) << i;
    EXPECT_TRUE(unknownVia(now - minutes(40 - i), "b" + n + "@g" + n + ".test", "mx.google.com").incidents.empty()) << i;
    EXPECT_TRUE(unknownVia(now - minutes(30 - i), "c" + n + "@m" + n + ".test", "am5pr01mb1234.eurprd01.prod.outlook.com")
                    .incidents.empty())
        << i;
  }
  EXPECT_EQ(signals("a4@g4.test"), V{"HARD_BOUNCED"});
  EXPECT_EQ(signals("c4@m4.test"), V{"HARD_BOUNCED"});
}

// A relay refusing everyone for hours: its outage's own windows are no usual count (after five of
// them the bar was five times the outage, and every later lead was suppressed).
TEST_F(BounceHistoryTest, ARelaysOutageOfManyHoursStaysItsIncident) {
  config.incident_after = 4;
  const auto now = Clock::now();
  for (int i = 0; i < 60; ++i)
    store->putDomainFact("c" + std::to_string(i) + ".test", "mx_sites", "c" + std::to_string(i) + ".test", now + hours(24 * 30));
  int n = 0;
  for (int hour = 0; hour < 8; ++hour)
    for (int k = 0; k < 6; ++k, ++n)
      unknownVia(now - hours(8 - hour) + minutes(9 * k), "h" + std::to_string(n) + "@c" + std::to_string(n % 60) + ".test",
                 "smtp.relay.test");
  for (int i = 0; i < n; ++i) {
    const std::string a = "h" + std::to_string(i) + "@c" + std::to_string(i % 60) + ".test";
    EXPECT_EQ(signals(a), V{}) << a;
  }
}

// A relay that passes the recipients' own refusals on every day (a smarthost that verifies
// recipients at RCPT) has a usual week: counted against it, as a provider is, an ordinary hour is
// dead mailboxes and an outage is still its incident.
TEST_F(BounceHistoryTest, ARelayThatUsuallyAnswersIsCountedAgainstItsUsualWeek) {
  config.incident_after = 4;  // provider_incident_ratio 5
  const auto now = Clock::now();
  for (int i = 0; i < 40; ++i)
    store->putDomainFact("c" + std::to_string(i) + ".test", "mx_sites", "c" + std::to_string(i) + ".test", now + hours(24 * 30));
  auto at = [](int n) { return "@c" + std::to_string(n % 40) + ".test"; };
  // Six days of the week before, two in a working hour each.
  for (int d = 1; d <= 6; ++d)
    for (int k = 0; k < 2; ++k) unknownVia(now - hours(24 * d) + minutes(k), "w" + std::to_string(d * 2 + k) + at(d * 2 + k), "smtp.relay.test");
  // An ordinary busy hour (5, at 5 companies): dead mailboxes.
  for (int i = 0; i < 5; ++i)
    EXPECT_TRUE(unknownVia(now - minutes(55) + minutes(i), "h" + std::to_string(i) + at(20 + i), "smtp.relay.test").incidents.empty()) << i;
  EXPECT_EQ(signals("h0" + at(20)), V{"HARD_BOUNCED"});
  // Five times its usual 2: its incident.
  std::optional<ImportResult> last;
  for (int i = 5; i < 10; ++i) last = unknownVia(now - minutes(40) + minutes(i), "h" + std::to_string(i) + at(20 + i), "smtp.relay.test");
  ASSERT_EQ(last->incidents.size(), 1u);
  EXPECT_EQ(last->incidents[0].site, "relay.test");
  EXPECT_EQ(last->incidents[0].usual, 2);
  EXPECT_EQ(last->incidents[0].threshold, 10);
  EXPECT_EQ(signals("h0" + at(20)), V{});
}

// Where a sender reaches many companies, some mailboxes there die every working hour: the
// provider's usual count (the median of the week's windows with such bounces: nights and
// weekends do not lower it) sets the bar, an ordinary hour is no incident and an outage still is.
// Without a week of such windows (a new install, the week after an upgrade) the provider is not
// counted; an import of last month's notices is measured against its own week.
TEST_F(BounceHistoryTest, AProviderIncidentIsCountedAgainstItsUsualWorkingHours) {
  config.incident_after = 10;  // ratio 5
  const auto now = Clock::now();
  for (int i = 0; i < 600; ++i) store->putDomainFact("d" + std::to_string(i) + ".test", "provider", "google", now + hours(24 * 40));
  auto domainOf = [](int n) { return "@d" + std::to_string(n % 500) + ".test"; };
  int n = 0;
  // Ten days ago, nothing known before it: 20 at 10 companies in an hour are read one by one.
  for (int i = 0; i < 20; ++i) {
    auto r = bounceAt(now - hours(240) + minutes(2 * i), "first" + std::to_string(i) + domainOf(n++), "userunknown", true, "5.1.1");
    EXPECT_TRUE(r.incidents.empty()) << i;
  }
  EXPECT_EQ(signals("first19" + domainOf(n - 1)), V{"HARD_BOUNCED"});
  // The week before: five working days of ten hours, 8 dead mailboxes an hour.
  for (int day = 1; day <= 5; ++day)
    for (int hour = 2; hour < 12; ++hour)
      for (int k = 0; k < 8; ++k)
        bounceAt(now - hours(24 * day + hour) + seconds(30 * k), "w" + std::to_string(n) + domainOf(n), "userunknown", true, "5.1.1"), ++n;
  // An ordinary hour, at one and a half times the usual 8 (averaged over the week's 168 hours, 2.4):
  // dead mailboxes.
  for (int i = 0; i < 12; ++i) {
    auto r = bounceAt(now - minutes(55) + minutes(i), "h" + std::to_string(i) + domainOf(1000 + i), "userunknown", true, "5.1.1");
    EXPECT_TRUE(r.incidents.empty()) << i;
  }
  EXPECT_EQ(signals("h0" + domainOf(1000)), V{"HARD_BOUNCED"});
  // An outage: 60 within the hour, five times the usual and more.
  std::optional<ImportResult> last;
  for (int i = 12; i < 60; ++i)
    last = bounceAt(now - minutes(40) + seconds(40 * i), "h" + std::to_string(i) + domainOf(1000 + i), "userunknown", true, "5.1.1");
  ASSERT_EQ(last->incidents.size(), 1u);
  EXPECT_EQ(last->incidents[0].provider, "google");
  EXPECT_EQ(last->incidents[0].usual, 8);
  EXPECT_EQ(last->incidents[0].threshold, 40);
  EXPECT_EQ(signals("h0" + domainOf(1000)), V{});
  // Last month's outage imported now: its own week (a dead mailbox an hour on six days) sets its
  // bar, not the week cached for today's window.
  for (int d = 0; d < 6; ++d)
    bounceAt(now - hours(24 * 28) + hours(24 * d), "m" + std::to_string(d) + domainOf(1100 + d), "userunknown", true, "5.1.1");
  std::optional<ImportResult> imported;
  for (int i = 0; i < 20; ++i)
    imported = bounceAt(now - hours(24 * 21) + minutes(2 * i), "o" + std::to_string(i) + domainOf(1200 + i), "userunknown", true, "5.1.1");
  ASSERT_EQ(imported->incidents.size(), 1u);
  EXPECT_EQ(imported->incidents[0].usual, 1);
  EXPECT_EQ(signals("o0" + domainOf(1200)), V{});
  // Off: provider_incident_ratio 0 counts domains only.
  config.provider_incident_ratio = 0;
  for (int i = 0; i < 12; ++i) {
    auto r = bounceAt(now + hours(5) + minutes(i), "z" + std::to_string(i) + domainOf(1300 + i), "userunknown", true, "5.1.1");
    EXPECT_TRUE(r.incidents.empty()) << i;
  }
  EXPECT_EQ(signals("z11" + domainOf(1311)), V{"HARD_BOUNCED"});
}

// Companies whose own incidents have gone on for a day are read address by address again; their
// provider's count leaves them out, so it does not begin an incident of its own on their
// bounces and spare them for another day (h72 review).
TEST_F(BounceHistoryTest, ADayLongIncidentOfItsDomainsIsNotTakenUpByTheProvider) {
  config.incident_after = 3;
  config.provider_incident_ratio = 1;
  const auto start = Clock::now() - hours(30);
  for (const auto* d : {"a.test", "b.test", "c.test", "e.test"}) store->putDomainFact(d, "provider", "google", start + hours(24 * 30));
  // The provider's week: a dead mailbox a day elsewhere (its bar: incident_after).
  for (int d = 1; d <= 6; ++d) bounceAt(start - hours(24 * d), "q" + std::to_string(d) + "@e.test", "userunknown", true, "5.1.1");
  int alerts = 0;
  alert = [&alerts](const BounceIncident& inc) -> std::optional<OutboxMessage> {
    EXPECT_EQ(inc.provider, "") << "a provider's incident on the capped domains' bounces";
    ++alerts;
    return std::nullopt;
  };
  // Each company's own list, begun two hours apart (never three companies at once before they
  // are incidents of their own), until a.test's has gone on for more than a day.
  int n = 0;
  std::map<std::string, std::string> last;
  for (auto t = start; t < start + hours(25) + minutes(30); t += minutes(20))
    for (int d = 0; d < 3; ++d) {
      const std::string domain = std::string(1, static_cast<char>('a' + d)) + ".test";
      if (t < start + hours(2 * d)) continue;
      for (int k = 0; k < 2; ++k) {
        last[domain] = "x" + std::to_string(n++) + "@" + domain;
        bounceAt(t + seconds(k), last[domain], "userunknown", true, "5.1.1");
      }
    }
  EXPECT_EQ(alerts, 3);  // one per domain, none for the provider
  EXPECT_EQ(signals("x3@a.test"), V{});                   // a.test's first day: watched
  EXPECT_EQ(signals(last["a.test"]), V{"HARD_BOUNCED"});  // after it: dead
  EXPECT_EQ(signals(last["b.test"]), V{});                // still within theirs
  EXPECT_EQ(signals(last["c.test"]), V{});
}

TEST_F(BounceHistoryTest, IncidentAfterZeroTurnsTheIncidentReadingOff) {
  config.incident_after = 0;
  const auto now = Clock::now();
  for (int i = 0; i < 30; ++i) {
    auto r = bounceAt(now - minutes(30 - i), "p" + std::to_string(i) + "@big.test", "userunknown", true, "5.1.1");
    EXPECT_TRUE(r.incidents.empty());
  }
  EXPECT_EQ(signals("p0@big.test"), V{"HARD_BOUNCED"});
  EXPECT_EQ(signals("p29@big.test"), V{"HARD_BOUNCED"});
}

// A bounce recorded late (an import of older notices, a platform's page out of order) counts the
// window before it, not the bounces that came after it: it does not trip an incident out of a
// month of ordinary dead mailboxes and lift their suppressions. (Found by review: the count had no
// upper bound.)
TEST_F(BounceHistoryTest, ABounceRecordedLateCountsOnlyTheWindowBeforeIt) {
  config.incident_after = 4;
  const auto now = Clock::now();
  for (int i = 0; i < 3; ++i) bounceAt(now - minutes(10 * i), "d" + std::to_string(i) + "@big.test", "userunknown", true, "5.1.1");
  auto late = bounceAt(now - minutes(50), "old@big.test", "userunknown", true, "5.1.1");
  EXPECT_TRUE(late.incidents.empty());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(signals("d" + std::to_string(i) + "@big.test"), V{"HARD_BOUNCED"}) << i;
  EXPECT_EQ(signals("old@big.test"), V{"HARD_BOUNCED"});
}

// An "incident" that has gone on for a day is no provider's outage: a domain where that many
// addresses keep dying is read address by address again, without a second alert.
TEST_F(BounceHistoryTest, AnIncidentThatLastsADayIsReadAddressByAddressAgain) {
  config.incident_after = 3;
  const auto now = Clock::now() - hours(30);
  int alerts = 0;
  alert = [&alerts](const BounceIncident&) -> std::optional<OutboxMessage> {
    ++alerts;
    return std::nullopt;
  };
  int n = 0;
  for (auto t = now; t < now + hours(26); t += minutes(15))
    for (int k = 0; k < 2; ++k) bounceAt(t + seconds(k), "a" + std::to_string(n++) + "@big.test", "userunknown", true, "5.1.1");
  EXPECT_EQ(alerts, 1);
  EXPECT_EQ(signals("a3@big.test"), V{});                          // in the first day: watched
  EXPECT_EQ(signals("a" + std::to_string(n - 1) + "@big.test"), V{"HARD_BOUNCED"});  // after it: dead
}
