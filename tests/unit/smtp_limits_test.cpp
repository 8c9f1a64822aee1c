// The SMTP probe check's limits: per MX host, in all, and batching per domain, with a fake prober
// that counts the sessions open at once.
#include <gtest/gtest.h>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <map>

#include "checks/smtp_probe_check.hpp"
#include "checks/syntax_check.hpp"
#include "fakes/static_resolver.hpp"
#include "safetynet/pipeline/pipeline.hpp"
#include "support/run_task.hpp"

using namespace safetynet;
using namespace safetynet::testing;

namespace {

struct CountingProber : SmtpProber {
  int open = 0, maxOpen = 0, sessions = 0;
  std::vector<std::chrono::steady_clock::time_point> starts;
  size_t maxRcpts = 0;
  std::map<std::string, SmtpReply> replies;  // by recipient; 250 for the others
  std::vector<std::optional<TimePoint>> deadlines;  // each session's
  std::chrono::milliseconds delay{30};              // how long a session lasts
  std::optional<SmtpReply> catchAllReply;           // the reply to a random address, when asked
  std::vector<bool> catchAllAsked;                  // each session's: was a random address asked?
  Task<ProbeSession> probe(std::vector<std::string> hosts, std::string catchAll, std::vector<std::string> rcpts,
                           std::optional<TimePoint> deadline) override {
    ++sessions;
    catchAllAsked.push_back(!catchAll.empty());
    deadlines.push_back(deadline);
    starts.push_back(std::chrono::steady_clock::now());
    maxOpen = std::max(maxOpen, ++open);
    maxRcpts = std::max(maxRcpts, rcpts.size());
    asio::steady_timer t(co_await asio::this_coro::executor, delay);
    co_await t.async_wait(asio::use_awaitable);
    --open;
    ProbeSession s;
    s.host = hosts.front();
    if (!catchAll.empty() && catchAllReply) s.catch_all = RcptReply{catchAll, *catchAllReply};
    for (const auto& r : rcpts) {
      SmtpReply reply;
      reply.code = 250;
      reply.enhanced = "2.1.5";
      reply.text = "Ok";
      if (auto it = replies.find(r); it != replies.end()) reply = it->second;
      s.rcpts.push_back(RcptReply{r, reply});
    }
    co_return s;
  }
};

struct ProbeRig {
  std::shared_ptr<fakes::StaticResolver> dns = std::make_shared<fakes::StaticResolver>();
  std::shared_ptr<CountingProber> prober = std::make_shared<CountingProber>();
  std::unique_ptr<Pipeline> pipeline;
  // `sessions`: counts shared with another rig's check (a reload's old and new ones).
  explicit ProbeRig(checks::SmtpProbeCheckOptions o, std::shared_ptr<checks::SmtpSessionCounts> sessions = nullptr) {
    o.skip_catch_all_mx = {};
    if (o.per_domain_rate == checks::SmtpProbeCheckOptions{}.per_domain_rate) o.per_domain_rate = 0;
    std::vector<CheckPtr> checks = {std::make_shared<checks::SyntaxCheck>(),
                                    std::make_shared<checks::SmtpProbeCheck>(dns, prober, o, nullptr, sessions)};
    PipelineOptions po;
    po.concurrency = 64;
    pipeline = std::make_unique<Pipeline>(checks, Policy::shipped({}), nullptr, po);
  }
};

}  // namespace

TEST(SmtpLimits, OneSharedMxHostIsNotFlooded) {
  checks::SmtpProbeCheckOptions o;
  o.per_mx_concurrency = 3;
  ProbeRig s(o);
  std::vector<std::string> in;
  for (int i = 0; i < 12; ++i) {
    const std::string d = "hosted" + std::to_string(i) + ".example";
    DnsAnswer mx;
    mx.status = DnsStatus::Ok;
    mx.mx = {{10, "mx.shared-hosting.example"}};
    s.dns->set(d, DnsType::MX, mx);
    in.push_back("a@" + d);
  }
  runTask(s.pipeline->evaluateAll(in));
  EXPECT_EQ(s.prober->sessions, 12);
  EXPECT_LE(s.prober->maxOpen, 3);
  EXPECT_GE(s.prober->maxOpen, 2);  // and it does run sessions in parallel
}

// A random address refused for itself (Postfix's default "Access denied" of an access table,
// smtpd_check.c) says the domain does not take every address: it is remembered, and the next
// session does not ask again (Exim's default ACL counts every refused RCPT towards "Rejected for
// too many bad recipients", configure.default). A refusal of the probe itself says nothing.
TEST(SmtpLimits, ARandomAddressRefusedForItselfIsRememberedAsNoCatchAll) {
  const std::pair<const char*, bool> cases[] = {
      {"554 5.7.1 <sn1@acme.example>: Recipient address rejected: Access denied\r\n", true},
      {"554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org\r\n", false}};
  for (const auto& [reply, remembered] : cases) {
    ProbeRig s({});
    s.dns->mailDomain("acme.example");
    s.prober->catchAllReply = *parseSmtpReply(reply);
    runTask(s.pipeline->evaluateAll({"a@acme.example"}));
    runTask(s.pipeline->evaluateAll({"b@acme.example"}));
    ASSERT_EQ(s.prober->catchAllAsked.size(), 2u) << reply;
    EXPECT_TRUE(s.prober->catchAllAsked[0]) << reply;
    EXPECT_EQ(s.prober->catchAllAsked[1], !remembered) << reply;
  }
}

TEST(SmtpLimits, GlobalLimitAcrossDomains) {
  checks::SmtpProbeCheckOptions o;
  o.max_sessions = 4;
  ProbeRig s(o);
  std::vector<std::string> in;
  for (int i = 0; i < 20; ++i) {
    const std::string d = "d" + std::to_string(i) + ".example";
    s.dns->mailDomain(d);
    in.push_back("a@" + d);
  }
  runTask(s.pipeline->evaluateAll(in));
  EXPECT_LE(s.prober->maxOpen, 4);
}

TEST(SmtpLimits, RecipientsOfADomainAreBatchedUpToTheLimit) {
  checks::SmtpProbeCheckOptions o;
  o.max_rcpt_per_session = 5;
  ProbeRig s(o);
  s.dns->mailDomain("big.example");
  std::vector<std::string> in;
  for (int i = 0; i < 12; ++i) in.push_back("user" + std::to_string(i) + "@big.example");
  auto out = runTask(s.pipeline->evaluateAll(in));
  EXPECT_LE(s.prober->maxRcpts, 5u);
  EXPECT_LE(s.prober->sessions, 4);  // 12 recipients, at most 5 a session (one may start alone)
  for (const auto& v : out) EXPECT_FALSE(v.verdict.revert) << v.input;
}

// A reload (SIGHUP) builds a new probe check while the old one still has its sessions open: the
// daemon gives both one SmtpSessionCounts (buildServices' `previous`), so the two together keep
// per_domain_concurrency. With counts of their own (before), a domain got a session from each.
TEST(SmtpLimits, AReloadsNewCheckCountsTheOldOnesSessions) {
  checks::SmtpProbeCheckOptions o;
  o.per_domain_concurrency = 1;
  auto shared = std::make_shared<checks::SmtpSessionCounts>();
  ProbeRig before(o, shared), after(o, shared);  // each with its prober: the server sees both
  before.dns->mailDomain("one.example");
  after.dns->mailDomain("one.example");
  auto both = [&]() -> Task<int> {
    using namespace asio::experimental::awaitable_operators;
    co_await (before.pipeline->evaluate("a@one.example") && after.pipeline->evaluate("b@one.example"));
    co_return 0;
  };
  runTask(both());
  ASSERT_EQ(before.prober->sessions, 1);
  ASSERT_EQ(after.prober->sessions, 1);
  // One after the other: the second began when the first (30 ms) was over, not beside it.
  const auto a = before.prober->starts.at(0), b = after.prober->starts.at(0);
  EXPECT_GE(a > b ? a - b : b - a, before.prober->delay);
  EXPECT_TRUE(shared->per_domain.empty());
  EXPECT_EQ(shared->total, 0);
}

// Two emails decided at once, to one domain: the second's recipient joins the session the first
// opened, though it is sent sooner. The session ends by the earlier send, not the opener's.
TEST(SmtpLimits, ABatchEndsByTheEarliestSendOfItsRecipients) {
  ProbeRig s(checks::SmtpProbeCheckOptions{});
  s.dns->mailDomain("shared.example");
  const TimePoint later = Clock::now() + std::chrono::minutes(30), sooner = Clock::now() + std::chrono::minutes(3);
  auto both = [&]() -> Task<int> {
    using namespace asio::experimental::awaitable_operators;
    co_await (s.pipeline->evaluate("a@shared.example", false, later) &&
              s.pipeline->evaluate("b@shared.example", false, sooner));
    co_return 0;
  };
  runTask(both());
  ASSERT_EQ(s.prober->sessions, 1);
  EXPECT_EQ(s.prober->deadlines.at(0), sooner);
}

// A slow server holds the domain's only session slot (a tarpit, a far-off email's probe); an email
// due soon waits for the slot only until its deadline, then goes on unprobed (SMTP_SKIPPED, nothing
// learned), instead of waiting out the slow session and being decided too late.
TEST(SmtpLimits, WaitingForASessionSlotEndsAtTheDeadline) {
  checks::SmtpProbeCheckOptions o;
  o.per_domain_concurrency = 1;
  o.max_rcpt_per_session = 1;  // no shared session: the second must wait for a slot
  ProbeRig s(o);
  s.prober->delay = std::chrono::seconds(5);
  s.dns->mailDomain("slow.example");
  const TimePoint soon = Clock::now() + std::chrono::milliseconds(2600);
  RecipientVerdict urgent;
  auto both = [&]() -> Task<int> {
    using namespace asio::experimental::awaitable_operators;
    auto [far, near] = co_await (s.pipeline->evaluate("a@slow.example") && s.pipeline->evaluate("b@slow.example", false, soon));
    urgent = near;
    co_return 0;
  };
  runTask(both());
  EXPECT_EQ(s.prober->sessions, 1);  // the urgent one never opened a session
  ASSERT_FALSE(urgent.verdict.signals.empty());
  EXPECT_EQ(urgent.verdict.signals.back().name, "SMTP_SKIPPED") << urgent.verdict.signals.back().evidence;
  EXPECT_FALSE(urgent.verdict.revert);
}

TEST(SmtpLimits, SessionsToADomainAreSpacedByItsRate) {
  checks::SmtpProbeCheckOptions o;
  o.per_domain_rate = 600;  // one session per 100 ms
  o.per_domain_concurrency = 10;
  o.max_rcpt_per_session = 1;
  ProbeRig s(o);
  s.dns->mailDomain("rated.example");
  std::vector<std::string> in;
  for (int i = 0; i < 4; ++i) in.push_back("u" + std::to_string(i) + "@rated.example");
  runTask(s.pipeline->evaluateAll(in));
  ASSERT_EQ(s.prober->starts.size(), 4u);
  for (size_t i = 1; i < s.prober->starts.size(); ++i)
    EXPECT_GE(s.prober->starts[i] - s.prober->starts[i - 1], std::chrono::milliseconds(95)) << i;
}

// Issue 13 item 5: a mailbox refused as full with a permanent reply at RCPT is held as `unknown`
// (re-checked later: it can be emptied), not let go; a temporary one stays a hint.
TEST(SmtpLimits, APermanentFullMailboxIsHeldAsUnknownATemporaryOneIsAHint) {
  ProbeRig s(checks::SmtpProbeCheckOptions{});
  s.dns->mailDomain("acme.example");
  s.prober->replies["full@acme.example"] = SmtpReply{552, "5.2.2", "<full@acme.example>: Recipient address rejected: Mailbox full"};
  s.prober->replies["busy@acme.example"] = SmtpReply{452, "4.2.2", "The email account that you tried to reach is over quota"};
  std::vector<std::string> in = {"full@acme.example", "busy@acme.example"};
  auto out = runTask(s.pipeline->evaluateAll(in));
  ASSERT_EQ(out.size(), 2u);
  ASSERT_EQ(out[0].verdict.signals.size(), 1u);
  EXPECT_EQ(out[0].verdict.signals[0].name, "SMTP_MAILBOX_FULL");
  EXPECT_TRUE(out[0].verdict.revert);
  EXPECT_EQ(out[0].verdict.reason, "unknown");
  EXPECT_NE(out[0].verdict.evidence.find("552 5.2.2"), std::string::npos) << out[0].verdict.evidence;
  ASSERT_EQ(out[1].verdict.signals.size(), 1u);
  EXPECT_EQ(out[1].verdict.signals[0].name, "SMTP_MAILBOX_FULL_TEMPORARY");
  EXPECT_FALSE(out[1].verdict.revert);  // weight 0.5 of 1.0
}
