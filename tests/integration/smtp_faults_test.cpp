// SMTP faults at the edge (issue 12 item 2): the RCPT probe against a real Postfix through
// SmtpFaultProxy, which answers 421 at the greeting or resets the connection after the greeting,
// after MAIL FROM or after RCPT. What must hold: each is an inconclusive answer on our side (an
// internal signal: never cached, and with the shipped policy.on_internal_error it holds nothing),
// never "mailbox not found"; the probe never sends DATA.
#include <gtest/gtest.h>

#include "checks/domain_check.hpp"
#include "checks/smtp_probe_check.hpp"
#include "checks/syntax_check.hpp"
#include "integration/peers.hpp"
#include "safetynet/pipeline/pipeline.hpp"
#include "safetynet/store/store.hpp"
#include "support/run_task.hpp"
#include "support/smtp_fault_proxy.hpp"

using namespace safetynet;
using namespace safetynet::testing;
using namespace std::chrono;

namespace {

// faulty.test's MX is the proxy (127.0.0.4); example.test's is Postfix itself.
const char* kZones = R"(
  local-zone: "faulty.test." static
  local-data: "faulty.test. 300 IN MX 10 mx.faulty.test."
  local-data: "mx.faulty.test. 300 IN A 127.0.0.4"
  local-zone: "example.test." static
  local-data: "example.test. 300 IN MX 10 mx.example.test."
  local-data: "mx.example.test. 300 IN A 127.0.0.1"
)";

class SmtpFaultsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dns_ = new Unbound(kZones);
    postfix_ = new Postfix({"faulty.test", "example.test"},
                           {"alice@faulty.test OK", "carol@faulty.test OK", "alice@example.test OK"});
  }
  static void TearDownTestSuite() {
    delete postfix_;
    delete dns_;
  }

  void SetUp() override {
    proxy = std::make_unique<SmtpFaultProxy>(std::vector<std::string>{"127.0.0.4"}, postfix_->port(), postfix_->port());
    resolver = makeCaresResolver(io.get_executor(), DnsOptions{{dns_->server()}, seconds(2), 1});
    SmtpProbeOptions o;
    o.helo = "probe.safetynet.test";
    o.port = postfix_->port();
    o.public_only = false;  // the proxy is on loopback
    o.connect_timeout = seconds(2);
    o.command_timeout = seconds(10);
    auto prober = makeSmtpProber(resolver, o);
    checks::SmtpProbeCheckOptions co;
    co.per_domain_rate = 0;  // one domain, many sessions in a row: no pacing
    pipeline = std::make_unique<Pipeline>(
        std::vector<CheckPtr>{std::make_shared<checks::SyntaxCheck>(), std::make_shared<checks::DomainCheck>(resolver),
                              std::make_shared<checks::SmtpProbeCheck>(resolver, prober, co)},
        Policy::shipped({}), store.get(), PipelineOptions{});
  }

  void TearDown() override {
    // Whatever happened, no probe sent a message: no DATA or BDAT reached the proxy, nothing queued.
    for (const auto& v : proxy->counts().verbs) EXPECT_TRUE(v != "DATA" && v != "BDAT") << v;
    const auto queued = postfix_->queuedFilesAfterSessionsEnd();
    EXPECT_TRUE(queued.empty()) << queued.front();
  }

  static std::vector<std::string> names(const RecipientVerdict& v) {
    std::vector<std::string> n;
    for (const auto& s : v.verdict.signals) n.push_back(s.name);
    return n;
  }
  bool cached(const std::string& address) { return store->cachedVerdict(address, Clock::now()).has_value(); }

  asio::io_context io;
  TempDir dir;
  StorePtr store = openSqliteStore(dir.path().string());
  DnsResolverPtr resolver;
  std::unique_ptr<SmtpFaultProxy> proxy;
  std::unique_ptr<Pipeline> pipeline;
  static Unbound* dns_;
  static Postfix* postfix_;
};
Unbound* SmtpFaultsTest::dns_ = nullptr;
Postfix* SmtpFaultsTest::postfix_ = nullptr;

}  // namespace

TEST_F(SmtpFaultsTest, WithoutFaultsTheProxyIsInvisible) {
  EXPECT_TRUE(names(runTask(io, pipeline->evaluate("alice@faulty.test"))).empty());
  EXPECT_EQ(names(runTask(io, pipeline->evaluate("bob@faulty.test"))), std::vector<std::string>{"SMTP_MAILBOX_NOT_FOUND"});
  EXPECT_EQ(proxy->counts().sessions, 2);
}

TEST_F(SmtpFaultsTest, EachFaultIsOurInconclusiveAnswerNeverMailboxNotFound) {
  for (const auto kind : {SmtpFault::Greeting421, SmtpFault::ResetAfterGreeting, SmtpFault::ResetAfterMail,
                          SmtpFault::ResetAfterRcpt}) {
    proxy->setFaults(SmtpFaultPlan::always(kind));
    // bob has no mailbox: the truth would hold him; a fault must not say so, nor pass him.
    for (const std::string addr : {"bob@faulty.test", "alice@faulty.test"}) {
      const auto v = runTask(io, pipeline->evaluate(addr));
      EXPECT_EQ(names(v), std::vector<std::string>{"SMTP_UNREACHABLE"}) << smtpFaultName(kind) << " " << addr << ": "
                                                                         << v.verdict.evidence;
      EXPECT_FALSE(v.verdict.revert) << smtpFaultName(kind) << " " << addr;  // on_internal_error: allow
      EXPECT_FALSE(cached(addr)) << smtpFaultName(kind) << " " << addr;
    }
  }
  const auto c = proxy->counts();
  EXPECT_EQ(c.greeting421 + c.reset_after_greeting + c.reset_after_mail + c.reset_after_rcpt, c.sessions);
  // The faults came where they were meant to: each session stopped at its fault.
  EXPECT_GT(std::count(c.verbs.begin(), c.verbs.end(), "MAIL"), 0);
  EXPECT_GT(std::count(c.verbs.begin(), c.verbs.end(), "RCPT"), 0);
  EXPECT_EQ(std::count(c.verbs.begin(), c.verbs.end(), "QUIT"), 0);
  // With the faults gone, the truth.
  proxy->setFaults({});
  EXPECT_EQ(names(runTask(io, pipeline->evaluate("bob@faulty.test"))), std::vector<std::string>{"SMTP_MAILBOX_NOT_FOUND"});
}

TEST_F(SmtpFaultsTest, AResetInASharedSessionIsNotGreylistingForTheRecipientsNotYetAsked) {
  // One session asks the random catch-all address and the recipients of a domain in turn: the
  // connection is reset after two replies. The recipients asked before the reset have their
  // answer; the others learned nothing (not "try later": the server never said that).
  proxy->setFaults(SmtpFaultPlan::always(SmtpFault::ResetAfterRcpt, 2));
  const std::vector<std::string> in = {"alice@faulty.test", "bob@faulty.test", "carol@faulty.test", "dave@faulty.test"};
  auto out = runTask(io, pipeline->evaluateAll(in));
  ASSERT_EQ(out.size(), in.size());
  EXPECT_EQ(proxy->counts().sessions, 1);
  int answered = 0, unreachable = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const auto n = names(out[i]);
    if (n == std::vector<std::string>{"SMTP_UNREACHABLE"}) {
      ++unreachable;
      EXPECT_FALSE(out[i].verdict.revert) << in[i];
      EXPECT_FALSE(cached(in[i])) << in[i];
    } else {
      ++answered;  // the one asked after the catch-all probe: its true answer
      EXPECT_EQ(n, in[i][0] == 'a' || in[i][0] == 'c' ? std::vector<std::string>{}
                                                      : std::vector<std::string>{"SMTP_MAILBOX_NOT_FOUND"})
          << in[i];
    }
  }
  EXPECT_EQ(answered, 1);
  EXPECT_EQ(unreachable, 3);
}

TEST_F(SmtpFaultsTest, TwentyPercentFaultsNeverHoldAGoodMailboxNorPassAMissingOne) {
  proxy->setFaults(SmtpFaultPlan{0.2, 3});
  int faulted = 0, total = 0;
  for (int i = 0; i < 30; ++i) {
    for (const auto& addr : std::vector<std::string>{"alice@faulty.test", "carol@faulty.test",
                                                     "nobody" + std::to_string(i) + "@faulty.test"}) {
      const bool good = addr[0] != 'n';
      const auto v = runTask(io, pipeline->evaluate(addr, /*fresh=*/true));
      ++total;
      const auto n = names(v);
      if (n == std::vector<std::string>{"SMTP_UNREACHABLE"}) {
        ++faulted;
        EXPECT_FALSE(v.verdict.revert) << addr;
        continue;
      }
      EXPECT_EQ(n, good ? std::vector<std::string>{} : std::vector<std::string>{"SMTP_MAILBOX_NOT_FOUND"}) << addr;
    }
  }
  const auto c = proxy->counts();
  std::cout << "SMTP FAULTS 20%: " << c.sessions << " sessions; " << c.greeting421 << " 421 greetings, resets after "
            << "greeting " << c.reset_after_greeting << ", MAIL " << c.reset_after_mail << ", RCPT " << c.reset_after_rcpt
            << "; " << faulted << " of " << total << " answers inconclusive\n";
  EXPECT_GT(faulted, 0);
  EXPECT_LT(faulted, total / 2);
}
