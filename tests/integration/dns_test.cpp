// c-ares wired into Asio, against a real unbound on a free loopback port.
#include <gtest/gtest.h>

#include "checks/blocklist_check.hpp"
#include "checks/domain_check.hpp"
#include "safetynet/store/store.hpp"
#include "integration/peers.hpp"
#include "safetynet/net/dns.hpp"
#include "safetynet/policy/policy.hpp"
#include "support/run_task.hpp"

#include <future>

using namespace safetynet;
using namespace safetynet::testing;

namespace {

const char* kZones = R"(
  local-zone: "example.test." static
  local-data: "example.test. 300 IN SOA ns.example.test. admin.example.test. 1 3600 600 86400 60"
  local-data: "example.test. 300 IN MX 20 mx2.example.test."
  local-data: "example.test. 300 IN MX 10 mx1.example.test."
  local-data: 'example.test. 120 IN TXT "v=spf1 -all"' 
  local-data: "mx1.example.test. 300 IN A 127.0.0.10"
  local-data: "mx2.example.test. 300 IN A 127.0.0.11"
  local-data: "mx2.example.test. 300 IN AAAA ::1"
  local-zone: "nomx.test." static
  local-data: "nomx.test. 300 IN A 127.0.0.3"
  local-zone: "nullmx.test." static
  local-data: "nullmx.test. 300 IN MX 0 ."
  local-zone: "deadmx.test." static
  local-data: "deadmx.test. 300 IN MX 10 mx.nowhere.test."
  local-zone: "nowhere.test." static
  local-zone: "nxdomain.test." static
  local-zone: "timeout.test." deny
  local-zone: "dbl.test." static
  local-data: "spammy.test.dbl.test. 300 IN A 127.0.1.2"
  local-data: "refusing.test.dbl.test. 300 IN A 127.255.255.254"
  local-zone: "spammy.test." static
  local-data: "spammy.test. 300 IN A 127.0.0.9"
  local-zone: "googlemx.test." static
  local-data: "googlemx.test. 3600 IN MX 1 aspmx.l.google.com."
  local-zone: "aspmx.l.google.com." static
  local-data: "aspmx.l.google.com. 300 IN A 127.0.0.20"
  local-zone: "sblmx.test." static
  local-data: "sblmx.test. 300 IN MX 10 mx.sblmx.test."
  local-data: "mx.sblmx.test. 300 IN A 192.0.2.2"
  local-zone: "pblmx.test." static
  local-data: "pblmx.test. 300 IN A 192.0.2.10"
  local-zone: "v6mx.test." static
  local-data: "v6mx.test. 300 IN MX 10 mx6.v6mx.test."
  local-data: "mx6.v6mx.test. 300 IN AAAA 2001:db8::1"
  local-zone: "refusedmx.test." static
  local-data: "refusedmx.test. 300 IN MX 10 mx.refusedmx.test."
  local-data: "mx.refusedmx.test. 300 IN A 192.0.2.3"
  local-zone: "secondmx.test." static
  local-data: "secondmx.test. 300 IN MX 10 mx1.example.test."
  local-data: "secondmx.test. 300 IN MX 20 mx.sblmx.test."
  local-zone: "zen.spamhaus.org." static
  local-data: "2.2.0.192.zen.spamhaus.org. 300 IN A 127.0.0.2"
  local-data: "10.2.0.192.zen.spamhaus.org. 300 IN A 127.0.0.10"
  local-data: "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.spamhaus.org. 300 IN A 127.0.0.4"
  local-data: "3.2.0.192.zen.spamhaus.org. 300 IN A 127.255.255.254"
)";

class DnsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { unbound_ = new Unbound(kZones); }
  static void TearDownTestSuite() {
    delete unbound_;
    unbound_ = nullptr;
  }
  DnsAnswer ask(const std::string& name, DnsType type, std::chrono::milliseconds timeout = std::chrono::seconds(2)) {
    asio::io_context io;
    auto r = makeCaresResolver(io.get_executor(), DnsOptions{{unbound_->server()}, timeout, 1});
    return runTask(io, r->query(name, type));
  }
  static Unbound* unbound_;
};
Unbound* DnsTest::unbound_ = nullptr;

}  // namespace

TEST_F(DnsTest, MxRecordsInPreferenceOrderWithTtl) {
  auto a = ask("example.test", DnsType::MX);
  ASSERT_EQ(a.status, DnsStatus::Ok) << a.error;
  ASSERT_EQ(a.mx.size(), 2u);
  EXPECT_EQ(a.mx[0].host, "mx1.example.test");
  EXPECT_EQ(a.mx[0].preference, 10);
  EXPECT_EQ(a.mx[1].host, "mx2.example.test");
  EXPECT_EQ(a.ttl, std::chrono::seconds(300));
}

TEST_F(DnsTest, AddressesAndText) {
  auto a = ask("mx1.example.test", DnsType::A);
  ASSERT_EQ(a.status, DnsStatus::Ok);
  EXPECT_EQ(a.values, std::vector<std::string>{"127.0.0.10"});
  auto aaaa = ask("mx2.example.test", DnsType::AAAA);
  ASSERT_EQ(aaaa.status, DnsStatus::Ok);
  EXPECT_EQ(aaaa.values, std::vector<std::string>{"::1"});
  auto txt = ask("example.test", DnsType::TXT);
  ASSERT_EQ(txt.status, DnsStatus::Ok);
  EXPECT_EQ(txt.values, std::vector<std::string>{"v=spf1 -all"});
  EXPECT_EQ(txt.ttl, std::chrono::seconds(120));
}

TEST_F(DnsTest, NoDataIsNotNxDomain) {
  auto a = ask("nomx.test", DnsType::MX);
  EXPECT_EQ(a.status, DnsStatus::NoData);
  // Negative TTL from the SOA: min(SOA TTL 300, MINIMUM 60).
  EXPECT_EQ(ask("mx1.example.test", DnsType::AAAA).ttl, std::chrono::seconds(60));
}

TEST_F(DnsTest, NxDomain) { EXPECT_EQ(ask("foo.nxdomain.test", DnsType::MX).status, DnsStatus::NxDomain); }

TEST_F(DnsTest, NullMxIsAnEmptyHost) {
  auto a = ask("nullmx.test", DnsType::MX);
  ASSERT_EQ(a.status, DnsStatus::Ok);
  ASSERT_EQ(a.mx.size(), 1u);
  EXPECT_EQ(a.mx[0].host, "");
  EXPECT_EQ(a.mx[0].preference, 0);
}

TEST_F(DnsTest, SilenceIsATempFailOnOurSide) {
  auto start = std::chrono::steady_clock::now();
  auto a = ask("timeout.test", DnsType::MX, std::chrono::milliseconds(300));
  EXPECT_EQ(a.status, DnsStatus::TempFail);
  EXPECT_FALSE(a.error.empty());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(DnsTest, ServerDownIsATempFail) {
  asio::io_context io;
  auto r = makeCaresResolver(io.get_executor(),
                             DnsOptions{{"127.0.0.1:" + std::to_string(freePort())}, std::chrono::milliseconds(300), 1});
  EXPECT_EQ(runTask(io, r->query("example.test", DnsType::MX)).status, DnsStatus::TempFail);
}

TEST_F(DnsTest, BadServerListIsRefusedAtStart) {
  asio::io_context io;
  EXPECT_THROW(makeCaresResolver(io.get_executor(), DnsOptions{{"not an address"}, std::chrono::seconds(1), 1}),
               std::runtime_error);
}

TEST_F(DnsTest, ManyConcurrentQueriesOnOneChannel) {
  asio::io_context io;
  auto r = makeCaresResolver(io.get_executor(), DnsOptions{{unbound_->server()}, std::chrono::seconds(2), 2});
  std::vector<std::future<DnsAnswer>> futures;
  for (int i = 0; i < 200; ++i)
    futures.push_back(asio::co_spawn(io, r->query(i % 2 ? "example.test" : "x" + std::to_string(i) + ".nxdomain.test",
                                                  DnsType::MX),
                                     asio::use_future));
  io.run();
  for (int i = 0; i < 200; ++i) EXPECT_EQ(futures[i].get().status, i % 2 ? DnsStatus::Ok : DnsStatus::NxDomain);
}

TEST_F(DnsTest, CacheAnswersRepeatsWithoutTheNetwork) {
  asio::io_context io;
  auto real = makeCaresResolver(io.get_executor(), DnsOptions{{unbound_->server()}, std::chrono::milliseconds(2000), 2});
  struct Counting : DnsResolver {
    DnsResolverPtr inner;
    int n = 0;
    Task<DnsAnswer> query(std::string name, DnsType t) override {
      ++n;
      co_return co_await inner->query(name, t);
    }
  };
  auto counting = std::make_shared<Counting>();
  counting->inner = real;
  auto cached = makeCachingResolver(counting);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(runTask(io, cached->query("EXAMPLE.test", DnsType::MX)).status, DnsStatus::Ok);
  for (int i = 0; i < 3; ++i) runTask(io, cached->query("a.nxdomain.test", DnsType::MX));  // negative answers cached too
  for (int i = 0; i < 2; ++i) runTask(io, cached->query("timeout.test", DnsType::A));      // tempfails are not
  EXPECT_EQ(counting->n, 4);
}

namespace {
// Runs one check on one address; each signal as "NAME" or, with evidence, "NAME: evidence".
std::vector<std::string> runCheck(asio::io_context& io, Check& check, const std::string& addr, bool evidence = false) {
  CheckInput in;
  in.raw = addr;
  in.address = parseAddress(addr).address;
  ScanResult r;
  runTask(io, [&]() -> Task<void> { co_await check.run(in, r); }());
  std::vector<std::string> out;
  for (const auto& s : r.signals()) out.push_back(evidence ? s.name + ": " + s.evidence : s.name);
  return out;
}
}  // namespace

TEST_F(DnsTest, DomainCheckOnRealDns) {
  asio::io_context io;
  auto dns = makeCaresResolver(io.get_executor(), DnsOptions{{unbound_->server()}, std::chrono::milliseconds(2000), 1});
  checks::DomainCheck check(dns);
  auto signalsFor = [&](const std::string& addr) { return runCheck(io, check, addr); };
  EXPECT_TRUE(signalsFor("a@example.test").empty());
  EXPECT_EQ(signalsFor("a@nomx.test"), std::vector<std::string>{"IMPLICIT_MX"});
  EXPECT_EQ(signalsFor("a@nullmx.test"), std::vector<std::string>{"NULL_MX"});
  EXPECT_EQ(signalsFor("a@deadmx.test"), std::vector<std::string>{"NO_MAIL_HOST"});
  EXPECT_EQ(signalsFor("a@nxdomain.test"), std::vector<std::string>{"DOMAIN_NXDOMAIN"});
  EXPECT_EQ(signalsFor("a@timeout.test"), std::vector<std::string>{"DNS_TEMPFAIL"});
}

TEST_F(DnsTest, DomainBlocklistOnRealDns) {
  asio::io_context io;
  auto dns = makeCaresResolver(io.get_executor(), DnsOptions{{unbound_->server()}, std::chrono::milliseconds(2000), 2});
  checks::DomainBlocklistCheck check(dns, {"dbl.test"});
  auto signalsFor = [&](const std::string& addr) { return runCheck(io, check, addr, true); };
  EXPECT_EQ(signalsFor("a@mail.spammy.test"),  // the registrable domain is what is asked
            std::vector<std::string>{"DBL_LISTED: spammy.test is listed on dbl.test (127.0.1.2: listed (127.0.1.2))"});
  EXPECT_EQ(signalsFor("a@refusing.test"),
            std::vector<std::string>{"DNSBL_REFUSED: dbl.test did not answer about refusing.test: query refused: public/open resolver"});
  EXPECT_TRUE(signalsFor("a@example.test").empty());
}

TEST_F(DnsTest, MxBlocklistOnRealDns) {
  asio::io_context io;
  auto dns = makeCaresResolver(io.get_executor(), DnsOptions{{unbound_->server()}, std::chrono::milliseconds(2000), 2});
  checks::MxBlocklistCheck check(dns, {"zen.spamhaus.org"});
  auto signalsFor = [&](const std::string& addr) { return runCheck(io, check, addr, true); };
  EXPECT_EQ(signalsFor("a@sblmx.test"),
            std::vector<std::string>{"MX_IP_LISTED: a mail server of sblmx.test (192.0.2.2) is listed on zen.spamhaus.org "
                                     "(127.0.0.2: SBL: spam source or spam operation)"});
  // Implicit MX: the domain's own address is the mail server.
  EXPECT_EQ(signalsFor("a@pblmx.test"),
            std::vector<std::string>{"MX_IP_DYNAMIC: a mail server of pblmx.test (192.0.2.10) is listed on zen.spamhaus.org "
                                     "(127.0.0.10: PBL: end-user range (ISP maintained))"});
  // An IPv6-only MX host is asked by nibbles.
  EXPECT_EQ(signalsFor("a@v6mx.test"),
            std::vector<std::string>{"MX_IP_EXPLOITED: a mail server of v6mx.test (2001:db8::1) is listed on "
                                     "zen.spamhaus.org (127.0.0.4: XBL: exploited or infected host)"});
  EXPECT_EQ(signalsFor("a@refusedmx.test"),
            std::vector<std::string>{"DNSBL_REFUSED: zen.spamhaus.org did not answer about 192.0.2.3: query refused: "
                                     "public/open resolver"});
  // The second MX counts too: mail falls back to it.
  EXPECT_EQ(signalsFor("a@secondmx.test").size(), 1u);
  EXPECT_EQ(signalsFor("a@secondmx.test")[0].substr(0, 13), "MX_IP_LISTED:");
  EXPECT_TRUE(signalsFor("a@example.test").empty());
  EXPECT_TRUE(signalsFor("a@nxdomain.test").empty());
}

TEST_F(DnsTest, MxBlocklistPolicy) {
  // A spam-source MX holds the email alone; the hints (XBL, PBL) do not.
  std::vector<std::string> errors;
  auto policy = Policy::build(kDefaultPolicyYamlText(), PolicyConfig{}, &errors);
  ASSERT_TRUE(policy);
  EXPECT_EQ(policy->decide({Signal{"MX_IP_LISTED", 0, "x"}}).reason, "spamtrap");
  EXPECT_EQ(policy->decide({Signal{"MX_IP_DYNAMIC", 0, "x"}}).reason, "");
  EXPECT_EQ(policy->decide({Signal{"MX_IP_EXPLOITED", 0, "x"}}).reason, "");
}

TEST_F(DnsTest, DomainFactsKeptInTheStore) {
  TempDir dir;
  auto store = openSqliteStore(dir.path());
  asio::io_context io;
  auto real = makeCaresResolver(io.get_executor(), DnsOptions{{unbound_->server()}, std::chrono::milliseconds(2000), 2});
  struct Counting : DnsResolver {
    DnsResolverPtr inner;
    int mx = 0;
    Task<DnsAnswer> query(std::string name, DnsType type) override {
      if (type == DnsType::MX) ++mx;
      co_return co_await inner->query(name, type);
    }
  };
  auto counting = std::make_shared<Counting>();
  counting->inner = real;
  checks::DomainCheck check(counting, store.get());
  EXPECT_EQ(runCheck(io, check, "a@googlemx.test", true),
            std::vector<std::string>{"MAIL_PROVIDER: googlemx.test's mail is run by google (aspmx.l.google.com)"});
  EXPECT_EQ(store->domainFact("googlemx.test", "provider", Clock::now()), "google");
  EXPECT_EQ(store->domainFact("googlemx.test", "mx", Clock::now()), "1 aspmx.l.google.com");
  // The TTL (3600 s) bounds the fact: gone after it, kept before.
  EXPECT_FALSE(store->domainFact("googlemx.test", "mx", Clock::now() + std::chrono::seconds(3601)));
  EXPECT_EQ(runCheck(io, check, "b@example.test"), std::vector<std::string>{});
  EXPECT_EQ(store->domainFact("example.test", "mx", Clock::now()), "10 mx1.example.test,20 mx2.example.test");
  EXPECT_EQ(store->domainFact("example.test", "provider", Clock::now()), "");
  // The sites of the mail hosts, kept past the MX's TTL like the provider: a bounce answered by a
  // host under none of them came through a relay (docs/bounces.md, "A relay's incident").
  EXPECT_EQ(store->domainFact("googlemx.test", "mx_sites", Clock::now() + std::chrono::seconds(3601)), "google.com");
  EXPECT_EQ(store->domainFact("example.test", "mx_sites", Clock::now()), "example.test");
  EXPECT_EQ(counting->mx, 2);

  // A new check (a restart) on the same store asks DNS for no MX it already knows.
  checks::DomainCheck again(counting, store.get());
  EXPECT_EQ(runCheck(io, again, "c@googlemx.test").size(), 1u);
  EXPECT_TRUE(runCheck(io, again, "d@example.test").empty());
  EXPECT_EQ(counting->mx, 2);
  // Null MX and NXDOMAIN are not stored as MX sets.
  EXPECT_EQ(runCheck(io, again, "a@nullmx.test"), std::vector<std::string>{"NULL_MX"});
  EXPECT_FALSE(store->domainFact("nullmx.test", "mx", Clock::now()));
}
