// The pipeline and the domain check against gmock doubles of DnsResolver and Check.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "bounce/history.hpp"
#include "checks/bounce_history_check.hpp"
#include "checks/domain_check.hpp"
#include "checks/list_checks.hpp"
#include "checks/override_check.hpp"
#include "checks/syntax_check.hpp"
#include "safetynet/core/time_format.hpp"
#include "safetynet/pipeline/pipeline.hpp"
#include "support/mocks.hpp"
#include "support/run_task.hpp"

using namespace safetynet;
using namespace safetynet::testing;
using ::testing::_;
using ::testing::Return;
using ::testing::StrictMock;

namespace {

auto reply(DnsAnswer a) {
  return [a](std::string, DnsType) { return ready(a); };
}

class PipelineTest : public ::testing::Test {
 protected:
  std::shared_ptr<StrictMock<MockDnsResolver>> dns = std::make_shared<StrictMock<MockDnsResolver>>();
  std::shared_ptr<AdminLists> lists = std::make_shared<AdminLists>();

  std::unique_ptr<Pipeline> pipeline(Store* cache = nullptr, PolicyConfig pc = {}) {
    std::vector<CheckPtr> checks;
    checks.push_back(std::make_shared<checks::SyntaxCheck>());
    AdminListsPtr l = lists;
    checks.push_back(std::make_shared<checks::AdminListCheck>([l] { return l; }));
    checks.push_back(std::make_shared<checks::DomainCheck>(dns));
    return std::make_unique<Pipeline>(std::move(checks), Policy::shipped(pc), cache, PipelineOptions{});
  }
  RecipientVerdict eval(const std::string& a, Store* cache = nullptr) { return runTask(pipeline(cache)->evaluate(a)); }
  std::vector<std::string> names(const RecipientVerdict& v) {
    std::vector<std::string> n;
    for (const auto& s : v.verdict.signals) n.push_back(s.name);
    return n;
  }
};

}  // namespace

TEST_F(PipelineTest, HealthyDomainAllows) {
  EXPECT_CALL(*dns, query("acme.com", DnsType::MX)).WillOnce(reply(mxAnswer({{10, "mx1.acme.com"}})));
  EXPECT_CALL(*dns, query("mx1.acme.com", DnsType::A)).WillOnce(reply(answer(DnsStatus::Ok, {"192.0.2.1"})));
  auto v = eval("jane@acme.com");
  EXPECT_FALSE(v.verdict.revert);
  EXPECT_TRUE(v.verdict.signals.empty());
  EXPECT_EQ(v.normalized, "jane@acme.com");
}

TEST_F(PipelineTest, BadSyntaxStopsBeforeAnyLookup) {
  auto v = eval("jane@@acme.com");  // StrictMock: any DNS call fails the test
  EXPECT_TRUE(v.verdict.revert);
  EXPECT_EQ(v.verdict.reason, "bounce_risk");
  EXPECT_EQ(names(v), std::vector<std::string>{"SYNTAX_INVALID"});
}

TEST_F(PipelineTest, NxDomain) {
  EXPECT_CALL(*dns, query("gone.example", DnsType::MX)).WillOnce(reply(answer(DnsStatus::NxDomain)));
  auto v = eval("a@gone.example");
  EXPECT_EQ(names(v), std::vector<std::string>{"DOMAIN_NXDOMAIN"});
  EXPECT_EQ(v.verdict.reason, "bounce_risk");
}

TEST_F(PipelineTest, NullMx) {
  EXPECT_CALL(*dns, query("nomail.example", DnsType::MX)).WillOnce(reply(mxAnswer({{0, ""}})));
  auto v = eval("a@nomail.example");
  EXPECT_EQ(names(v), std::vector<std::string>{"NULL_MX"});
  EXPECT_TRUE(v.verdict.revert);
}

TEST_F(PipelineTest, ImplicitMxFromARecordIsAllowed) {
  EXPECT_CALL(*dns, query("aonly.example", DnsType::MX)).WillOnce(reply(answer(DnsStatus::NoData)));
  EXPECT_CALL(*dns, query("aonly.example", DnsType::A)).WillOnce(reply(answer(DnsStatus::Ok, {"192.0.2.5"})));
  auto v = eval("a@aonly.example");
  EXPECT_EQ(names(v), std::vector<std::string>{"IMPLICIT_MX"});
  EXPECT_FALSE(v.verdict.revert);
}

TEST_F(PipelineTest, ImplicitMxFromAaaaOnly) {
  EXPECT_CALL(*dns, query("v6.example", DnsType::MX)).WillOnce(reply(answer(DnsStatus::NoData)));
  EXPECT_CALL(*dns, query("v6.example", DnsType::A)).WillOnce(reply(answer(DnsStatus::NoData)));
  EXPECT_CALL(*dns, query("v6.example", DnsType::AAAA)).WillOnce(reply(answer(DnsStatus::Ok, {"2001:db8::1"})));
  EXPECT_FALSE(eval("a@v6.example").verdict.revert);
}

TEST_F(PipelineTest, NoMxNoAddressIsNoMailHost) {
  EXPECT_CALL(*dns, query("bare.example", DnsType::MX)).WillOnce(reply(answer(DnsStatus::NoData)));
  EXPECT_CALL(*dns, query("bare.example", DnsType::A)).WillOnce(reply(answer(DnsStatus::NoData)));
  EXPECT_CALL(*dns, query("bare.example", DnsType::AAAA)).WillOnce(reply(answer(DnsStatus::NoData)));
  auto v = eval("a@bare.example");
  EXPECT_EQ(names(v), std::vector<std::string>{"NO_MAIL_HOST"});
  EXPECT_TRUE(v.verdict.revert);
}

TEST_F(PipelineTest, FallsBackToTheNextMxHostThatResolves) {
  EXPECT_CALL(*dns, query("two.example", DnsType::MX))
      .WillOnce(reply(mxAnswer({{10, "dead.two.example"}, {20, "live.two.example"}})));
  EXPECT_CALL(*dns, query("dead.two.example", DnsType::A)).WillOnce(reply(answer(DnsStatus::NxDomain)));
  EXPECT_CALL(*dns, query("dead.two.example", DnsType::AAAA)).WillOnce(reply(answer(DnsStatus::NxDomain)));
  EXPECT_CALL(*dns, query("live.two.example", DnsType::A)).WillOnce(reply(answer(DnsStatus::Ok, {"192.0.2.9"})));
  EXPECT_FALSE(eval("a@two.example").verdict.revert);
}

TEST_F(PipelineTest, OurDnsFailureIsTempfailAndAllowedByDefault) {
  EXPECT_CALL(*dns, query("slow.example", DnsType::MX)).WillOnce(reply(answer(DnsStatus::TempFail)));
  auto v = eval("a@slow.example");
  EXPECT_EQ(names(v), std::vector<std::string>{"DNS_TEMPFAIL"});
  EXPECT_FALSE(v.verdict.revert);
  EXPECT_EQ(v.verdict.signals[0].weight, 0);
}

TEST_F(PipelineTest, AllowListSkipsNetworkAndForcesAllow) {
  lists->allow.add("partner.example");
  auto v = eval("ceo@sub.partner.example");  // StrictMock: no DNS
  EXPECT_EQ(names(v), std::vector<std::string>{"ALLOWLISTED"});
  EXPECT_FALSE(v.verdict.revert);
}

TEST_F(PipelineTest, AdminListsGiveTheirReasons) {
  lists->spamtraps.add("trap@x.example");
  lists->complainers.add("Angry@Y.example");  // matching is case-insensitive
  EXPECT_CALL(*dns, query(_, DnsType::MX)).WillRepeatedly(reply(mxAnswer({{10, "mx.example"}})));
  EXPECT_CALL(*dns, query("mx.example", DnsType::A)).WillRepeatedly(reply(answer(DnsStatus::Ok, {"192.0.2.1"})));
  EXPECT_EQ(eval("trap@x.example").verdict.reason, "spamtrap");
  EXPECT_EQ(eval("angry@y.example").verdict.reason, "do_not_mail");
}

TEST_F(PipelineTest, ThrowingCheckBecomesInternalError) {
  auto boom = std::make_shared<StrictMock<MockCheck>>();
  EXPECT_CALL(*boom, name()).WillRepeatedly(Return("boom"));
  EXPECT_CALL(*boom, needsNetwork()).WillRepeatedly(Return(false));
  EXPECT_CALL(*boom, run(_, _)).WillOnce([](const CheckInput&, ScanResult&) -> Task<void> {
    throw std::runtime_error("kaput");
    co_return;
  });
  Pipeline p({boom}, Policy::shipped({}), nullptr, PipelineOptions{});
  auto v = runTask(p.evaluate("a@b.example"));
  ASSERT_EQ(v.verdict.signals.size(), 1u);
  EXPECT_EQ(v.verdict.signals[0].name, "INTERNAL_ERROR");
  EXPECT_EQ(v.verdict.signals[0].evidence, "boom check failed: kaput");
  EXPECT_FALSE(v.verdict.revert);
}

TEST_F(PipelineTest, NetworkResultsAreCachedButTempfailsAreNot) {
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / ("sn-pipe-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto store = openSqliteStore(dir.string());
  EXPECT_CALL(*dns, query("gone.example", DnsType::MX)).Times(1).WillOnce(reply(answer(DnsStatus::NxDomain)));
  auto first = eval("a@gone.example", store.get());
  auto second = eval("A@gone.example", store.get());  // same canonical address: from the cache
  EXPECT_FALSE(first.cached);
  EXPECT_FALSE(first.known_revert);  // it took this evaluation's DNS lookup to know
  EXPECT_TRUE(second.cached);
  EXPECT_TRUE(second.known_revert);  // known before: usable for an email first seen too late
  // A bad result is kept negative_ttl (3 d), a clean one positive_ttl (31 d), as Postfix's verify cache.
  EXPECT_TRUE(store->cachedVerdict("a@gone.example", Clock::now() + std::chrono::hours(70)));
  EXPECT_FALSE(store->cachedVerdict("a@gone.example", Clock::now() + std::chrono::hours(74)));
  EXPECT_CALL(*dns, query("fine.example", DnsType::MX)).WillOnce(reply(mxAnswer({{10, "mx.fine.example"}})));
  EXPECT_CALL(*dns, query("mx.fine.example", DnsType::A)).WillOnce(reply(answer(DnsStatus::Ok, {"192.0.2.1"})));
  eval("a@fine.example", store.get());
  EXPECT_TRUE(store->cachedVerdict("a@fine.example", Clock::now() + std::chrono::hours(24 * 30)));
  EXPECT_FALSE(store->cachedVerdict("a@fine.example", Clock::now() + std::chrono::hours(24 * 32)));
  EXPECT_EQ(second.verdict.reason, "bounce_risk");
  EXPECT_CALL(*dns, query("flaky.example", DnsType::MX)).Times(2).WillRepeatedly(reply(answer(DnsStatus::TempFail)));
  eval("a@flaky.example", store.get());
  eval("a@flaky.example", store.get());
  fs::remove_all(dir);
}

TEST_F(PipelineTest, AProbeThatLearnedNothingIsNotCachedAndGreylistingOnlyBriefly) {
  // SMTP_SKIPPED (no time to probe): nothing was learned, so the next email probes again, not a
  // month of "clean". GREYLISTED (a 4xx "try again later", RFC 5321 4.2.1): re-probed after 30
  // minutes (verification notes: greylists hold minutes; re-probe >= 30 min), not recheck_after.
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / ("sn-pipe-t-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto store = openSqliteStore(dir.string());
  auto probe = std::make_shared<::testing::NiceMock<MockCheck>>();
  ON_CALL(*probe, name()).WillByDefault(Return("probe"));
  ON_CALL(*probe, needsNetwork()).WillByDefault(Return(true));
  ON_CALL(*probe, run(_, _)).WillByDefault([](const CheckInput& in, ScanResult& out) -> Task<void> {
    if (in.raw.rfind("skip", 0) == 0) out.add("SMTP_SKIPPED", "too close to the send time to probe");
    if (in.raw.rfind("grey", 0) == 0) out.add("GREYLISTED", "mx answered \"450 4.2.0 Greylisted\"");
    co_return;
  });
  Pipeline p({probe}, Policy::shipped({}), store.get(), PipelineOptions{});
  runTask(p.evaluate("skip@a.example"));
  EXPECT_FALSE(store->cachedVerdict("skip@a.example", Clock::now()));
  auto grey = runTask(p.evaluate("grey@b.example"));
  EXPECT_EQ(grey.verdict.reason, "unknown");
  EXPECT_TRUE(store->cachedVerdict("grey@b.example", Clock::now() + std::chrono::minutes(20)));
  EXPECT_FALSE(store->cachedVerdict("grey@b.example", Clock::now() + std::chrono::minutes(40)));
  fs::remove_all(dir);
}

TEST_F(PipelineTest, EvaluateAllKeepsInputOrder) {
  EXPECT_CALL(*dns, query(_, DnsType::MX)).WillRepeatedly(reply(answer(DnsStatus::NxDomain)));
  std::vector<std::string> in;
  for (int i = 0; i < 50; ++i) in.push_back("u" + std::to_string(i) + "@d" + std::to_string(i) + ".example");
  in.push_back("broken");
  auto out = runTask(pipeline()->evaluateAll(in));
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) EXPECT_EQ(out[i].input, in[i]);
  EXPECT_EQ(out.back().verdict.signals[0].name, "SYNTAX_INVALID");
}

namespace {
// A store in a temp dir of its own, removed after the test.
struct TempStore {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("sn-pipe-ovr-" + std::to_string(::getpid()) + "-" +
                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
  StorePtr store;
  TempStore() {
    std::filesystem::remove_all(dir);
    store = openSqliteStore(dir.string());
  }
  ~TempStore() {
    store.reset();
    std::filesystem::remove_all(dir);
  }
};
}  // namespace

class OverridePipelineTest : public PipelineTest {
 protected:
  TempStore temp;
  // Syntax, overrides, the admin lists and the domain check (StrictMock DNS: any lookup fails
  // the test), as buildServices orders them.
  RecipientVerdict evalWithOverrides(const std::string& a) {
    std::vector<CheckPtr> checks;
    checks.push_back(std::make_shared<checks::SyntaxCheck>());
    checks.push_back(std::make_shared<checks::OverrideCheck>(
        temp.store.get(), [](const std::string& who) { return who == "ops@seller.test"; }));  // the admins
    AdminListsPtr l = lists;
    checks.push_back(std::make_shared<checks::AdminListCheck>([l] { return l; }));
    checks.push_back(std::make_shared<checks::DomainCheck>(dns));
    Pipeline p(std::move(checks), Policy::shipped({}), temp.store.get(), PipelineOptions{});
    return runTask(p.evaluate(a));
  }
};

TEST_F(OverridePipelineTest, AnOverrideAllowsBeforeAnyOtherCheckAndSaysWhoAndUntilWhen) {
  lists->spamtraps.add("lead@gone.example");  // held by the admin's list, and NXDOMAIN: released anyway
  const TimePoint until = Clock::now() + std::chrono::hours(24 * 30);
  temp.store->putOverride(Override{"lead@gone.example", "slack:ops@seller.test", "a real lead", Clock::now(), until});
  auto v = evalWithOverrides("Lead@GONE.example");  // matched on the canonical address; no DNS asked
  EXPECT_FALSE(v.verdict.revert);
  EXPECT_TRUE(v.verdict.forced);
  ASSERT_EQ(names(v), std::vector<std::string>{"OVERRIDDEN"});
  EXPECT_EQ(v.verdict.signals[0].evidence, "lead@gone.example was released by slack:ops@seller.test until " +
                                                formatIso8601(until) + " (a real lead)");
  EXPECT_EQ(v.verdict.evidence, v.verdict.signals[0].evidence);
}

// notes/product.md: "A rep may release their own emails held as bounce_risk, unknown,
// secondary_email or dead_email; the rest need an admin." A rep's release (from Slack, not an
// admin) allows what it was for, but the admin's spam-trap list naming the address since holds it:
// the release must not be a way around the admin.
TEST_F(OverridePipelineTest, ARepsReleaseDoesNotCoverASpamTrapTheAdminListedSince) {
  const TimePoint until = Clock::now() + std::chrono::hours(24 * 30);
  temp.store->putOverride(Override{"lead@gone.example", "slack:riley@seller.test", "released from Slack (bounce_risk)",
                                   Clock::now(), until});
  // What the rep released (the domain is gone: bounce_risk): allowed, OVERRIDDEN naming Riley.
  EXPECT_CALL(*dns, query("gone.example", DnsType::MX)).WillOnce(reply(answer(DnsStatus::NxDomain)));
  auto released = evalWithOverrides("lead@gone.example");
  EXPECT_FALSE(released.verdict.revert);
  ASSERT_FALSE(released.verdict.signals.empty());
  EXPECT_EQ(released.verdict.signals[0].name, "OVERRIDDEN");
  EXPECT_NE(released.verdict.evidence.find("released by slack:riley@seller.test"), std::string::npos);
  // The admin lists it as a spam trap: held, and the evidence says why the release did not count.
  lists->spamtraps.add("lead@gone.example");
  EXPECT_CALL(*dns, query("gone.example", DnsType::MX)).WillRepeatedly(reply(answer(DnsStatus::NxDomain)));
  auto held = evalWithOverrides("lead@gone.example");
  EXPECT_TRUE(held.verdict.revert);
  EXPECT_EQ(held.verdict.reason, "spamtrap");
  EXPECT_NE(held.verdict.evidence.find("does not cover spamtrap"), std::string::npos) << held.verdict.evidence;
}

TEST_F(OverridePipelineTest, AnExpiredOverrideDoesNotAllow) {
  const TimePoint now = Clock::now();
  temp.store->putOverride(Override{"lead@gone.example", "admin ops", "", now - std::chrono::hours(48), now - std::chrono::hours(1)});
  EXPECT_CALL(*dns, query("gone.example", DnsType::MX)).WillOnce(reply(answer(DnsStatus::NxDomain)));
  auto v = evalWithOverrides("lead@gone.example");
  EXPECT_TRUE(v.verdict.revert);
  EXPECT_EQ(v.verdict.reason, "bounce_risk");
  EXPECT_EQ(names(v), std::vector<std::string>{"DOMAIN_NXDOMAIN"});
}

TEST_F(OverridePipelineTest, AnOverrideOfAnotherAddressChangesNothing) {
  temp.store->putOverride(Override{"other@gone.example", "admin ops", "", Clock::now(), Clock::now() + std::chrono::hours(1)});
  lists->spamtraps.add("lead@gone.example");
  EXPECT_CALL(*dns, query("gone.example", DnsType::MX)).WillOnce(reply(answer(DnsStatus::NxDomain)));
  EXPECT_EQ(evalWithOverrides("lead@gone.example").verdict.reason, "spamtrap");
}

// A bounce that says the domain takes no mail (hostunknown, notaccept) is what the sending side's
// resolver or relay saw: a broken one says it of every domain it is asked about (docs/bounces.md,
// "A dead domain is DNS's to say"). It holds while our own DNS, asked afresh, agrees or cannot
// tell; when our DNS finds the domain's mail host, the email goes and the evidence says why.
class DomainBouncePipelineTest : public PipelineTest {
 protected:
  TempStore temp;
  PipelineOptions options;
  // As buildServices orders them: the bounce history (offline), then the domain check, which
  // keeps its MX sets in the same store.
  RecipientVerdict evalWithHistory(const std::string& a) {
    std::vector<CheckPtr> checks;
    checks.push_back(std::make_shared<checks::SyntaxCheck>());
    checks.push_back(std::make_shared<checks::BounceHistoryCheck>(temp.store.get()));
    checks.push_back(std::make_shared<checks::DomainCheck>(dns, temp.store.get()));
    Pipeline p(std::move(checks), Policy::shipped({}), temp.store.get(), options);
    return runTask(p.evaluate(a));
  }
  void hardBounce(const std::string& address, const std::string& reason, const std::string& status,
                  const std::string& text) {
    bounce::Classification c;
    bounce::BounceRecord r;
    r.recipient = address;
    r.reason = reason;
    r.hard = true;
    r.status = status;
    r.diagnostic = text;
    c.records.push_back(r);
    bounce::recordBounces(*temp.store, BouncesConfig{}, c, "msg-" + address + reason, "test", "rep@seller.test",
                          Clock::now() - std::chrono::minutes(5));
  }
  // The MX set is asked of DNS once, then kept by the domain check; its host is asked each time.
  void alive(const std::string& domain, int evaluations = 1) {
    EXPECT_CALL(*dns, query(domain, DnsType::MX)).WillOnce(reply(mxAnswer({{10, "mx." + domain}})));
    EXPECT_CALL(*dns, query("mx." + domain, DnsType::A))
        .Times(evaluations)
        .WillRepeatedly(reply(answer(DnsStatus::Ok, {"192.0.2.1"})));
  }
};

TEST_F(DomainBouncePipelineTest, ABounceSayingTheDomainIsGoneIsSetAsideWhenOurDnsFindsItsMailHost) {
  hardBounce("lead@acme.test", "hostunknown", "5.4.4",
             "Host or domain name not found. Name service error for name=acme.test type=MX: Host not found");
  alive("acme.test");
  auto v = evalWithHistory("lead@acme.test");
  EXPECT_FALSE(v.verdict.revert) << v.verdict.evidence;
  ASSERT_EQ(names(v), std::vector<std::string>{"DOMAIN_BOUNCE_CONTRADICTED"});
  EXPECT_NE(v.verdict.signals[0].evidence.find("hostunknown 5.4.4"), std::string::npos);
  EXPECT_NE(v.verdict.signals[0].evidence.find("but our DNS finds acme.test's mail host now"), std::string::npos)
      << v.verdict.signals[0].evidence;
  // What was known before this evaluation is contradicted by it: no reason to stop an email first
  // seen too late (the engine acts on known_revert then).
  EXPECT_FALSE(v.known_revert);
  // Its verdict is cached, checked after the bounce: the next email reads it without asking DNS.
  auto again = evalWithHistory("lead@acme.test");
  EXPECT_TRUE(again.cached);
  EXPECT_FALSE(again.verdict.revert);
  EXPECT_EQ(names(again), std::vector<std::string>{"DOMAIN_BOUNCE_CONTRADICTED"});
  EXPECT_FALSE(again.known_revert);
}

TEST_F(DomainBouncePipelineTest, ItHoldsWhileOurDnsAgreesOrCannotTell) {
  hardBounce("lead@gone.test", "hostunknown", "5.4.4", "Host or domain name not found");
  EXPECT_CALL(*dns, query("gone.test", DnsType::MX)).WillOnce(reply(answer(DnsStatus::NxDomain)));
  auto gone = evalWithHistory("lead@gone.test");
  EXPECT_TRUE(gone.verdict.revert);
  EXPECT_TRUE(gone.known_revert);  // the bounce was known before the lookup
  EXPECT_EQ(gone.verdict.reason, "bounce_risk");
  EXPECT_EQ(names(gone), (std::vector<std::string>{"DOMAIN_BOUNCED", "DOMAIN_NXDOMAIN"}));
  // And from the cache (NXDOMAIN cached negative_ttl), still held.
  auto cached = evalWithHistory("lead@gone.test");
  EXPECT_TRUE(cached.cached);
  EXPECT_EQ(names(cached), (std::vector<std::string>{"DOMAIN_BOUNCED", "DOMAIN_NXDOMAIN"}));
  // Our DNS failing is no answer: the bounce holds (bounce_risk, not our unknown).
  hardBounce("lead@flaky.test", "notaccept", "5.1.10", "Domain flaky.test does not accept mail (nullMX)");
  EXPECT_CALL(*dns, query("flaky.test", DnsType::MX)).WillOnce(reply(answer(DnsStatus::TempFail)));
  auto flaky = evalWithHistory("lead@flaky.test");
  EXPECT_TRUE(flaky.verdict.revert);
  EXPECT_EQ(names(flaky), (std::vector<std::string>{"DOMAIN_BOUNCED", "DNS_TEMPFAIL"}));
  // A null MX now: our DNS agrees.
  hardBounce("lead@nomail.test", "notaccept", "5.1.10", "Domain nomail.test does not accept mail (nullMX)");
  EXPECT_CALL(*dns, query("nomail.test", DnsType::MX)).WillOnce(reply(mxAnswer({{0, ""}})));
  EXPECT_EQ(evalWithHistory("lead@nomail.test").verdict.reason, "bounce_risk");
  // Without the network (`check --offline`), nothing contradicts it.
  options.network = false;
  auto offline = evalWithHistory("lead@acme.test");  // no bounce: nothing
  EXPECT_FALSE(offline.verdict.revert);
  hardBounce("lead@acme.test", "hostunknown", "5.4.4", "Host or domain name not found");
  offline = evalWithHistory("lead@acme.test");
  EXPECT_TRUE(offline.verdict.revert);
  EXPECT_EQ(names(offline), std::vector<std::string>{"DOMAIN_BOUNCED"});
}

TEST_F(DomainBouncePipelineTest, TheWholeDomainsStandingIsSetAsideTooButAMailboxsOwnRefusalIsNot) {
  // Two addresses bounced as hostunknown (bounces.domain_after): the whole domain's standing.
  hardBounce("a@acme.test", "hostunknown", "5.4.4", "Host or domain name not found");
  hardBounce("b@acme.test", "hostunknown", "5.4.4", "Host or domain name not found");
  ASSERT_TRUE(temp.store->standing("@acme.test"));
  hardBounce("gone@acme.test", "userunknown", "5.1.1", "550 5.1.1 <gone@acme.test>: Recipient address rejected: User unknown");
  alive("acme.test", 2);
  auto other = evalWithHistory("c@acme.test");
  EXPECT_FALSE(other.verdict.revert) << other.verdict.evidence;
  EXPECT_EQ(names(other), std::vector<std::string>{"DOMAIN_BOUNCE_CONTRADICTED"});
  // The domain's own server said no such user: our DNS finding the domain changes nothing.
  auto gone = evalWithHistory("gone@acme.test");
  EXPECT_TRUE(gone.verdict.revert);
  EXPECT_EQ(names(gone), (std::vector<std::string>{"HARD_BOUNCED", "DOMAIN_BOUNCE_CONTRADICTED"}));
}

TEST_F(DomainBouncePipelineTest, ItIsWeighedAgainstDnsAskedAfterTheBounceNotACachedVerdictOrMxSetFromBefore) {
  // Checked clean before the send: the verdict cached a month, the MX set kept up to a day.
  alive("acme.test");
  EXPECT_FALSE(evalWithHistory("lead@acme.test").verdict.revert);
  ASSERT_TRUE(temp.store->cachedVerdict("lead@acme.test", Clock::now()));
  ASSERT_TRUE(temp.store->domainFact("acme.test", "mx", Clock::now()));
  // Then the domain lapsed and the send bounced: DNS is asked again, and now agrees.
  hardBounce("lead@acme.test", "hostunknown", "5.4.4", "Host or domain name not found");
  EXPECT_CALL(*dns, query("acme.test", DnsType::MX)).WillOnce(reply(answer(DnsStatus::NxDomain)));
  auto v = evalWithHistory("lead@acme.test");
  EXPECT_FALSE(v.cached);
  EXPECT_TRUE(v.verdict.revert);
  EXPECT_EQ(names(v), (std::vector<std::string>{"DOMAIN_BOUNCED", "DOMAIN_NXDOMAIN"}));
}
