// Email alerts without a mail server: the config keys, the message GMime writes (headers, both
// parts, a Message-ID stable across retries, no secret in it), the routing of notify.route with
// gmock notifiers and a real SQLite store, a resend after a crash, and the daily digest.
#include <gmime/gmime.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "notify/email_message.hpp"
#include "notify/email_notifier.hpp"
#include "notify/messages.hpp"
#include "safetynet/app/app.hpp"
#include "safetynet/core/time_format.hpp"
#include "support/mocks.hpp"
#include "support/run_task.hpp"

using namespace safetynet;
using namespace safetynet::testing;
using namespace std::chrono;
using ::testing::_;
using ::testing::HasSubstr;
using ::testing::NiceMock;
using ::testing::Not;
using ::testing::Return;

namespace {

std::string firstError(const std::string& yaml) {
  auto r = loadConfigText(yaml, "sn.yaml");
  return r.errors.empty() ? "" : r.errors.front().message;
}

const char* kEmail =
    "notify:\n"
    "  email:\n"
    "    transport: smtp\n"
    "    host: smtp.example.com\n"
    "    username: safetynet@example.com\n"
    "    password: hunter2-secret\n"
    "    from: \"Safety Net <safetynet@example.com>\"\n"
    "    admin_to: [revops@example.com]\n"
    "    digest: daily\n";

EmailConfig emailConfig() {
  auto r = loadConfigText(kEmail, "sn.yaml");
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors.front().message);
  return r.config ? r.config->notify.email : EmailConfig{};
}

nlohmann::json heldPayload() {
  return {{"connector", "close-main"},
          {"email_id", "acti_1"},
          {"subject", "Q3 pricing — für Sie"},
          {"sender", "riley@seller.example"},
          {"scheduled_at", "2026-11-23T08:00:00.000Z"},
          {"recipients", {"bob@nxdomain.example"}},
          {"contact_name", "Bob <Builder>"},
          {"reason", "bounce_risk"},
          {"reason_text", "likely to bounce or be blocked"},
          {"evidence", "nxdomain.example does not exist (NXDOMAIN)"},
          {"next_step", "remove the contact; source a new contact at the same company"},
          {"rep", {{"id", "u1"}, {"name", "Riley"}, {"email", "riley@seller.example"}, {"time_zone", "Europe/Paris"}}},
          {"stopped", true},
          {"outcome", "moved back to draft"},
          {"queued_at", "2026-11-23T07:50:00.000Z"}};
}

// The message parsed back with GMime.
struct Parsed {
  GMimeMessage* msg = nullptr;
  explicit Parsed(const std::string& raw) {
    GMimeStream* stream = g_mime_stream_mem_new_with_buffer(raw.data(), raw.size());
    GMimeParser* parser = g_mime_parser_new_with_stream(stream);
    msg = g_mime_parser_construct_message(parser, nullptr);
    g_object_unref(parser);
    g_object_unref(stream);
  }
  ~Parsed() {
    if (msg) g_object_unref(msg);
  }
  std::string header(const char* name) const {
    const char* v = g_mime_object_get_header(GMIME_OBJECT(msg), name);
    return v ? v : "";
  }
  std::string part(const char* type, const char* subtype) const {
    GMimeObject* top = g_mime_message_get_mime_part(msg);
    if (!GMIME_IS_MULTIPART(top)) return "";
    for (int i = 0; i < g_mime_multipart_get_count(GMIME_MULTIPART(top)); ++i) {
      GMimeObject* p = g_mime_multipart_get_part(GMIME_MULTIPART(top), i);
      if (GMIME_IS_TEXT_PART(p) && g_mime_content_type_is_type(g_mime_object_get_content_type(p), type, subtype)) {
        char* t = g_mime_text_part_get_text(GMIME_TEXT_PART(p));
        std::string s = t ? t : "";
        g_free(t);
        return s;
      }
    }
    return "";
  }
};

}  // namespace

TEST(EmailConfig, LoadsTheContractsKeys) {
  auto r = loadConfigText(kEmail, "sn.yaml");
  ASSERT_TRUE(r.ok()) << r.errors.front().message;
  const auto& e = r.config->notify.email;
  EXPECT_TRUE(e.enabled);
  EXPECT_EQ(e.port, 587);
  EXPECT_EQ(e.tls, "starttls");
  EXPECT_EQ(e.from_address, "safetynet@example.com");
  EXPECT_EQ(e.password.reveal(), "hunter2-secret");
  EXPECT_EQ(r.config->notify.route, "email");  // email alone: email
  auto implicit = loadConfigText(std::string(kEmail) + "    tls: implicit\n", "sn.yaml");
  ASSERT_TRUE(implicit.ok());
  EXPECT_EQ(implicit.config->notify.email.port, 465);
}

TEST(EmailConfig, BadKeysAreRefusedWithTheirPlace) {
  struct Case {
    std::string yaml, expected;
  } cases[] = {
      {std::string(kEmail) + "    admin_too: [x@example.com]\n",
       "sn.yaml:10:5: notify.email.admin_too: unknown key (did you mean \"admin_to\"?)"},
      {"notify:\n  email: {host: smtp.example.com, tls: none, from: a@example.com, admin_to: [b@example.com]}\n",
       "sn.yaml:2:40: notify.email.tls: none sends the alerts (and any password) in clear: only to a loopback host "
       "(127.0.0.1, ::1, localhost); use starttls (587) or implicit (465)"},
      {"notify:\n  email: {host: smtp.example.com, from: nobody, admin_to: [b@example.com]}\n",
       "sn.yaml:2:41: notify.email.from: \"nobody\" is not an address (\"Name <local@domain>\" or local@domain)"},
      {"notify:\n  email: {host: smtp.example.com, from: a@example.com, username: u, admin_to: [b@example.com]}\n",
       "sn.yaml:2:10: notify.email.password: give both username and password (or password_file), or neither"},
      {"notify:\n  email: {transport: smtpp, host: h, from: a@example.com}\n",
       "sn.yaml:2:22: notify.email.transport: \"smtpp\" is not one of: smtp, sendmail (did you mean \"smtp\"?)"},
      {"notify:\n  email: {transport: sendmail, host: h, from: a@example.com, admin_to: [b@example.com]}\n",
       "sn.yaml:2:38: notify.email.host: host is for transport: smtp (sendmail hands the message to the local MTA)"},
      {"notify:\n  email: {host: h, from: a@example.com, to_rep: true, digest: daily}\n",
       "sn.yaml:2:63: notify.email.digest: the daily digest goes to admin_to: set it"},
      {"notify:\n  slack: {bot_token: x, channel: \"#c\"}\n  email: {host: h, from: a@example.com, admin_to: [b@example.com]}\n"
       "  route: slack_then_email\n",
       "sn.yaml:4:10: notify.route: slack_then_email emails the reps Slack has no user for: it needs "
       "notify.slack.dm_rep: true"},
      {"notify:\n  slack: {bot_token: x, channel: \"#c\"}\n  route: email\n",
       "sn.yaml:3:10: notify.route: email needs notify.email"},
      {"notify:\n  email: {host: h, from: a@example.com}\n",
       "sn.yaml:2:10: notify.email.admin_to: without Slack, the admins' alerts (too late, fail-safe, paused senders) "
       "need admin_to"},
  };
  for (const auto& c : cases) EXPECT_EQ(firstError(c.yaml), c.expected) << c.yaml;
  EXPECT_EQ(firstError("notify:\n  email: {host: 127.0.0.1, port: 2525, tls: none, from: a@example.com, "
                       "admin_to: [b@example.com]}\n"),
            "");  // a loopback relay may be plain
}

// The daemon's exit after its grace period abandons whatever still waits, a send to a slow mail
// server among them: the coroutine waiting for that send must go with the io_context (while the
// daemon it refers to still exists), and the mail thread, done later, must not touch the gone
// io_context. Before the fix the frame belonged to the mail thread until the send returned, and
// its result was posted to the destroyed io_context.
TEST(EmailNotifier, ASendInFlightWhenTheIoContextShutsDownGoesWithIt) {
  struct SlowServer : MailTransport {
    std::mutex m;
    std::condition_variable cv;
    bool entered = false, release = false;
    std::shared_ptr<std::atomic<int>> sends = std::make_shared<std::atomic<int>>(0);  // outlives the server
    std::string_view name() const override { return "slow"; }
    MailResult send(const std::string&, const std::vector<std::string>&, const std::string&) override {
      std::unique_lock lock(m);
      entered = true;
      ++*sends;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
      return {MailResult::Status::Sent, "250 2.0.0 queued"};
    }
  };
  auto server = std::make_shared<SlowServer>();
  std::weak_ptr<SlowServer> watch = server;
  struct Releases {  // however the test ends: the one mail thread must not stay blocked
    std::weak_ptr<SlowServer> s;
    void now() {
      if (auto server = s.lock()) {
        std::lock_guard lock(server->m);
        server->release = true;
        server->cv.notify_all();
      }
    }
    ~Releases() { now(); }
  } releases{server};
  bool frameGone = false, resumed = false;
  const auto sends = server->sends;
  struct MarksItsEnd {
    bool& gone;
    ~MarksItsEnd() { gone = true; }
  };
  {
    EmailNotifier notifier(emailConfig(), server);
    auto io = std::make_unique<asio::io_context>();
    asio::co_spawn(
        *io,
        [&]() -> Task<void> {
          MarksItsEnd mark{frameGone};
          co_await notifier.post("riley@seller.example", "held:1", heldPayload());
          resumed = true;
        },
        asio::detached);
    // A second alert queued behind it on the mail thread: its io_context gone, it is not sent (no
    // one would record it; the next start resends it from the outbox).
    asio::co_spawn(
        *io, [&]() -> Task<void> { co_await notifier.post("riley@seller.example", "held:2", heldPayload()); }, asio::detached);
    const auto until = steady_clock::now() + seconds(10);
    for (;;) {
      io->poll();
      std::lock_guard lock(server->m);
      if (server->entered || steady_clock::now() > until) break;
    }
    ASSERT_TRUE(server->entered) << "the send never reached the mail thread";
    io.reset();  // what the daemon's exit does: the io_context shuts down, then goes
    EXPECT_TRUE(frameGone) << "the waiting coroutine outlived its io_context";
    EXPECT_FALSE(resumed);
  }
  releases.now();
  server.reset();
  const auto until = steady_clock::now() + seconds(10);
  while (!watch.expired() && steady_clock::now() < until) std::this_thread::sleep_for(milliseconds(5));
  EXPECT_TRUE(watch.expired()) << "the mail thread still holds the send";
  EXPECT_FALSE(resumed);
  EXPECT_EQ(sends->load(), 1) << "an alert was sent after its io_context had gone";
}

TEST(EmailMessage, MultipartWithTheSlackMessagesContentAndProperHeaders) {
  const EmailConfig cfg = emailConfig();
  const std::string raw = buildEmailMessage(cfg, {"riley@seller.example"}, "notify|close-main|acti_1|1|bob", heldPayload());
  Parsed m(raw);
  ASSERT_NE(m.msg, nullptr);
  const std::string id = emailMessageId("notify|close-main|acti_1|1|bob", heldPayload(), "safetynet@example.com");
  EXPECT_THAT(id, ::testing::MatchesRegex("[0-9a-f]{64}-hold@safetynet\\.example\\.com"));
  EXPECT_EQ(g_mime_message_get_message_id(m.msg), id);
  EXPECT_EQ(m.header("Auto-Submitted"), "auto-generated");
  EXPECT_EQ(m.header("Date"), "Mon, 23 Nov 2026 07:50:00 +0000");  // queued_at: the same on every try
  EXPECT_THAT(m.header("From"), HasSubstr("safetynet@example.com"));
  EXPECT_EQ(m.header("To"), "riley@seller.example");
  // Non-ASCII subject: encoded words on the wire, the words themselves once decoded.
  EXPECT_THAT(raw, HasSubstr("Subject: Held: \"Q3 pricing =?UTF-8?B?4oCUIGbDvHI=?= Sie\""));
  EXPECT_EQ(std::string(g_mime_message_get_subject(m.msg)),
            "Held: \"Q3 pricing — für Sie\" to bob@nxdomain.example — bounce_risk (likely to bounce or be blocked)");
  EXPECT_THAT(raw, HasSubstr("Content-Type: multipart/alternative"));
  const std::string text = m.part("text", "plain"), page = m.part("text", "html");
  for (const std::string& body : {text, page}) {
    EXPECT_THAT(body, HasSubstr("Safety Net moved an email back to drafts"));
    EXPECT_THAT(body, HasSubstr("bob@nxdomain.example"));
    EXPECT_THAT(body, HasSubstr("likely to bounce or be blocked"));
    EXPECT_THAT(body, HasSubstr("nxdomain.example does not exist (NXDOMAIN)"));
    EXPECT_THAT(body, HasSubstr("remove the contact; source a new contact at the same company"));
    EXPECT_THAT(body, HasSubstr("Mon 23 Nov 2026, 09:00 CET"));  // the rep's time zone
    EXPECT_THAT(body, HasSubstr("close-main email acti_1"));
  }
  EXPECT_THAT(text, HasSubstr("Reason: bounce_risk: likely to bounce or be blocked"));
  EXPECT_THAT(page, HasSubstr("Bob &lt;Builder&gt;"));  // escaped in HTML
  EXPECT_THAT(raw, Not(HasSubstr("hunter2-secret")));
}

TEST(EmailMessage, SameBytesOnEveryBuildAndUtcWithoutATimeZone) {
  const EmailConfig cfg = emailConfig();
  auto p = heldPayload();
  EXPECT_EQ(buildEmailMessage(cfg, {"a@example.com"}, "k", p), buildEmailMessage(cfg, {"a@example.com"}, "k", p));
  EXPECT_NE(emailMessageId("k", p, "x@example.com"), emailMessageId("k2", p, "x@example.com"));
  // Text that Latin-1 could carry is still sent as the UTF-8 its parts are labelled with (GMime's
  // set_text recoded it to iso-8859-1 under an HTML meta charset of utf-8: the Postfix test found it).
  p["subject"] = "Angebot für Sie";
  const std::string latin = buildEmailMessage(cfg, {"a@example.com"}, "k", p);
  EXPECT_THAT(latin, HasSubstr("Content-Type: text/plain; charset=utf-8"));
  EXPECT_THAT(latin, HasSubstr("Content-Type: text/html; charset=utf-8"));
  EXPECT_THAT(latin, HasSubstr("Angebot f=C3=BCr Sie"));
  EXPECT_THAT(Parsed(latin).part("text", "plain"), HasSubstr("Angebot für Sie"));
  p["rep"].erase("time_zone");
  EXPECT_THAT(Parsed(buildEmailMessage(cfg, {"a@example.com"}, "k", p)).part("text", "plain"),
              HasSubstr("Mon 23 Nov 2026, 08:00 UTC"));
}

TEST(SlackMessage, WordingIsSharedAndUnchanged) {
  // The Block Kit form built from the shared content says what it said before the refactoring.
  auto m = slackMessage(heldPayload());
  EXPECT_EQ(m["text"], "Held: \"Q3 pricing — für Sie\" to bob@nxdomain.example — bounce_risk (likely to bounce or be blocked)");
  EXPECT_EQ(m["blocks"][1]["fields"][0]["text"], "*To:*\nBob &lt;Builder&gt; (bob@nxdomain.example)");
  EXPECT_EQ(m["blocks"][1]["fields"][2]["text"],
            "*Scheduled:*\n<!date^1795420800^{date_short_pretty} at {time}|2026-11-23T08:00:00.000Z>");
  EXPECT_EQ(m["blocks"][1]["fields"][3]["text"], "*Reason:*\n`bounce_risk`: likely to bounce or be blocked");
  EXPECT_EQ(m["blocks"][2]["text"]["text"], "*Evidence:* nxdomain.example does not exist (NXDOMAIN)");
  EXPECT_EQ(m["blocks"][4]["elements"][0]["text"], "moved back to draft · close-main email acti_1 from riley@seller.example");
  auto paused = slackMessage({{"type", "sender_paused"}, {"mailbox", "a@b.example"}, {"evidence", "5 of 50"}});
  EXPECT_EQ(paused["blocks"][1]["fields"][2]["text"], "*Reason:*\n`sender_paused`: the sending mailbox itself is at risk");
}

TEST(SlackMessage, ASuspectedProviderIncidentTellsTheAdminsWhatItDidAndWhy) {
  const nlohmann::json p = {{"type", "bounce_incident"}, {"domain", "gmail.com"}, {"addresses", 12},
                            {"since", "2020-12-14T11:00:00.000Z"}, {"window_minutes", 60}, {"incident_after", 10},
                            {"rewritten", {"a@gmail.com", "b@gmail.com"}}};
  EXPECT_TRUE(isAdminPayload(p));
  auto m = slackMessage(p);
  EXPECT_EQ(m["blocks"][0]["text"]["text"], "Safety Net suspects a mail provider's incident at gmail.com");
  const std::string all = m.dump();
  EXPECT_THAT(all, HasSubstr("12 different addresses at gmail.com bounced as unknown (no such user) within 60 min"));
  EXPECT_THAT(all, HasSubstr("a@gmail.com, b@gmail.com"));
  EXPECT_THAT(all, HasSubstr("suppress nobody on their own"));
  // At a provider hosting many companies' mail: its name, how many domains, and why the count.
  nlohmann::json provider = p;
  provider["domain"] = "";
  provider["provider"] = "microsoft365";
  provider["domains"] = 9;
  provider["usual"] = 2;
  provider["threshold"] = 10;
  provider["ratio"] = 5.0;
  auto pm = slackMessage(provider);
  EXPECT_EQ(pm["blocks"][0]["text"]["text"],
            "Safety Net suspects a mail provider's incident at microsoft365 (9 of the domains whose mail it runs)");
  EXPECT_THAT(pm.dump(), HasSubstr("12 different addresses at 9 of the domains whose mail microsoft365 runs bounced as "
                                   "unknown (no such user) within 60 min: at least 10, bounces.incident_after (10) and 5 "
                                   "times (bounces.provider_incident_ratio) the usual count there, 2 in a window"));
  // At a relay that answered for many domains, none of whose mail it runs.
  nlohmann::json relay = p;
  relay["domain"] = "";
  relay["site"] = "relay.test";
  relay["domains"] = 4;
  relay["threshold"] = 10;
  auto rm = slackMessage(relay);
  EXPECT_EQ(rm["blocks"][0]["text"]["text"], "Safety Net suspects a relay's incident at relay.test (answering for 4 domains)");
  EXPECT_THAT(rm.dump(), HasSubstr("12 different addresses at 4 domains bounced as unknown (no such user) within 60 min, each "
                                   "answered by a host under relay.test, not the recipient's own: at least 10 "
                                   "(bounces.incident_after), where the domain check knows it is none of their mail hosts"));
}

// ---- routing, through drainOutbox with gmock notifiers and a real store ----

namespace {

class RouteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sn-route-" + std::to_string(::getpid()) + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    store_ = openSqliteStore(dir_.string(), [this] { return now_; });
    services_.config.notify.slack.enabled = true;
    services_.config.notify.slack.dm_rep = true;
    services_.config.notify.email = emailConfig();
    services_.config.notify.email.digest = "off";  // but in the digest's own test
    services_.config.notify.route = "slack_then_email";
    services_.notifiers["slack"] = slack_;
    services_.notifiers["email"] = email_;
    ON_CALL(*slack_, kind()).WillByDefault(Return("slack"));
    ON_CALL(*email_, kind()).WillByDefault(Return("email"));
    ON_CALL(*slack_, resolveTarget(_)).WillByDefault([](const nlohmann::json&) { return ready(Target{"D1", ""}); });
    ON_CALL(*email_, resolveTarget(_)).WillByDefault([](const nlohmann::json& p) {
      return ready(Target{p.value("audience", "") == "admin" ? "revops@example.com" : "riley@seller.example", ""});
    });
    ON_CALL(*slack_, post(_, _, _)).WillByDefault([](const std::string& d, const std::string&, const nlohmann::json&) {
      DeliveryResult r;
      r.delivered = true;
      r.ref = d + "/1";
      return ready(r);
    });
    ON_CALL(*email_, post(_, _, _)).WillByDefault([this](const std::string& d, const std::string&, const nlohmann::json& p) {
      emailed_.push_back(p);
      DeliveryResult r;
      r.delivered = true;
      r.ref = "email to " + d;
      return ready(r);
    });
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void enqueue(const std::string& key, nlohmann::json payload) {
    store_->audit("test", "notify", {}, outboxNote(services_, key, std::move(payload)));
  }
  OutboxStats drain() { return runTask(drainOutbox(services_, *store_, now_)); }
  std::map<std::string, OutboxMessage> rows() {
    std::map<std::string, OutboxMessage> out;
    for (auto& m : store_->allOutbox()) out[m.dedupe_key] = m;
    return out;
  }

  TimePoint now_ = Clock::now();
  std::filesystem::path dir_;
  StorePtr store_;
  Services services_;
  std::shared_ptr<NiceMock<MockNotifier>> slack_ = std::make_shared<NiceMock<MockNotifier>>();
  std::shared_ptr<NiceMock<MockNotifier>> email_ = std::make_shared<NiceMock<MockNotifier>>();
  std::vector<nlohmann::json> emailed_;
};

}  // namespace

TEST_F(RouteTest, SlackThenEmailUsesSlackWhenTheRepHasAUser) {
  EXPECT_CALL(*slack_, post("D1", "notify|k|slack", _)).Times(1);
  EXPECT_CALL(*email_, post(_, _, _)).Times(0);
  enqueue("notify|k", heldPayload());
  auto st = drain();
  EXPECT_EQ(st.routed, 1);
  EXPECT_EQ(st.sent, 1);  // in the same drain, not the next tick
  EXPECT_EQ(rows()["notify|k"].sent_ref, "routed to slack");
  EXPECT_EQ(rows()["notify|k|slack"].state, "sent");
}

TEST_F(RouteTest, SlackThenEmailEmailsARepSlackDoesNotKnow) {
  ON_CALL(*slack_, resolveTarget(_)).WillByDefault([](const nlohmann::json&) {
    Target t{"C-channel", ""};
    t.no_user = true;  // users_not_found: the channel would be the place
    return ready(t);
  });
  EXPECT_CALL(*slack_, post(_, _, _)).Times(0);
  EXPECT_CALL(*email_, post("riley@seller.example", "notify|k|slack>email", _)).Times(1);
  enqueue("notify|k", heldPayload());
  drain();
  drain();  // the email row is due at once; a second drain sends nothing again
  auto r = rows();
  EXPECT_EQ(r["notify|k|slack"].sent_ref, "no Slack user for the rep: by email instead");
  EXPECT_EQ(r["notify|k|slack>email"].state, "sent");
  ASSERT_EQ(emailed_.size(), 1u);
  EXPECT_EQ(emailed_[0].value("audience", ""), "rep");
}

TEST_F(RouteTest, ARepWithNeitherSlackNorAnAddressIsNeverNothingAndTheAuditSaysWhereItWent) {
  // Slack has nowhere for it (no DM: no rep address or Slack name; no channel): admin_to by email.
  ON_CALL(*slack_, resolveTarget(_)).WillByDefault([](const nlohmann::json&) {
    return ready(Target{"", "no Slack user for the rep and no channel configured", true});
  });
  ON_CALL(*email_, resolveTarget(_)).WillByDefault([](const nlohmann::json& p) {
    return ready(Target{p["rep"].value("email", "").empty() ? "revops@example.com" : "riley@seller.example", ""});
  });
  EXPECT_CALL(*slack_, post(_, _, _)).Times(0);
  EXPECT_CALL(*email_, post("revops@example.com", "notify|n|slack>email", _)).Times(1);
  nlohmann::json nobody = heldPayload();
  nobody["rep"] = {{"name", "Nobody"}};  // no id: not a platform that failed to name the rep (that is asked again first)
  nobody["decision"] = "close-main|acti_1|1|h";
  enqueue("notify|n", nobody);
  drain();
  drain();
  auto r = rows();
  EXPECT_EQ(r["notify|n|slack"].sent_ref,
            "no slack destination (no Slack user for the rep and no channel configured): by email instead");
  EXPECT_EQ(r["notify|n|slack>email"].state, "sent");
  ASSERT_EQ(emailed_.size(), 1u);
  EXPECT_EQ(emailed_[0].value("audience", ""), "rep");
  // The decision's audit log says where it went.
  auto audit = store_->auditFor("close-main|acti_1|1|h");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].event, "notified");
  EXPECT_EQ(audit[0].detail["kind"], "email");
  EXPECT_EQ(audit[0].detail["to"], "revops@example.com");
  EXPECT_EQ(audit[0].detail["notification"], "notify|n|slack>email");

  // route: email, and email has nowhere for it (no rep address, no admin_to): the Slack channel.
  services_.config.notify.route = "email";
  ON_CALL(*email_, resolveTarget(_)).WillByDefault([](const nlohmann::json&) {
    return ready(Target{"", "no email address for the rep, and no admin_to", true});
  });
  ON_CALL(*slack_, resolveTarget(_)).WillByDefault([](const nlohmann::json&) { return ready(Target{"C-channel", ""}); });
  nlohmann::json said;
  EXPECT_CALL(*slack_, post("C-channel", "notify|m|email>slack", _)).WillOnce([&](const std::string& d, const std::string&, const nlohmann::json& p) {
    said = p;
    DeliveryResult res;
    res.delivered = true;
    res.ref = d + "/2";
    return ready(res);
  });
  nobody["decision"] = "close-main|acti_2|1|h";
  enqueue("notify|m", nobody);
  drain();
  drain();
  EXPECT_EQ(said.value("delivery_note", ""),
            "Could not send this by email (no email address for the rep, and no admin_to), so it is posted here.");
  auto audit2 = store_->auditFor("close-main|acti_2|1|h");
  ASSERT_EQ(audit2.size(), 1u);
  EXPECT_EQ(audit2[0].detail["kind"], "slack");
  EXPECT_EQ(audit2[0].detail["to"], "C-channel");
  EXPECT_EQ(rows()["notify|m|email>slack"].state, "sent");
}

TEST_F(RouteTest, BothSendsEachOnceAndEmailOnlySendsNoSlack) {
  services_.config.notify.route = "both";
  EXPECT_CALL(*slack_, post(_, "notify|a|slack", _)).Times(1);
  EXPECT_CALL(*email_, post("riley@seller.example", "notify|a|email", _)).Times(1);
  enqueue("notify|a", heldPayload());
  drain();
  drain();
  services_.config.notify.route = "email";
  EXPECT_CALL(*email_, post("riley@seller.example", "notify|b|email", _)).Times(1);
  enqueue("notify|b", heldPayload());
  drain();
}

TEST_F(RouteTest, AdminMessagesAndEmailsNotStoppedAlsoGoToAdminTo) {
  services_.config.notify.route = "slack";
  EXPECT_CALL(*email_, post("revops@example.com", "too_late|t|email", _)).Times(1);
  EXPECT_CALL(*email_, post("revops@example.com", "notify|f|email-admin", _)).Times(1);
  EXPECT_CALL(*slack_, post(_, _, _)).Times(2);  // the admins' channel and the rep's DM
  nlohmann::json late = heldPayload();
  late["type"] = "too_late";
  enqueue("too_late|t", late);
  nlohmann::json failed = heldPayload();
  failed["stopped"] = false;
  enqueue("notify|f", failed);
  drain();
}

TEST_F(RouteTest, RefusedForGoodIsDeadAndTheAdminsChannelIsTold) {
  services_.config.notify.route = "email";
  ON_CALL(*email_, post(_, _, _)).WillByDefault([](const std::string&, const std::string&, const nlohmann::json&) {
    DeliveryResult r;
    r.permanent_failure = true;
    r.error = "smtp.example.com:587 refused it: 550 5.1.1 <riley@seller.example>: Recipient address rejected";
    return ready(r);
  });
  nlohmann::json told;
  EXPECT_CALL(*slack_, post(_, "notify|k|email|undelivered", _))
      .WillOnce([&](const std::string& d, const std::string&, const nlohmann::json& p) {
        told = p;
        DeliveryResult r;
        r.delivered = true;
        return ready(r);
      });
  enqueue("notify|k", heldPayload());
  drain();
  EXPECT_EQ(rows()["notify|k|email"].state, "dead");
  drain();  // the word to the admins was queued with the mark; it goes at the next tick
  EXPECT_EQ(told.value("type", ""), "email_failed");
  EXPECT_THAT(told.value("error", ""), HasSubstr("550 5.1.1"));
  EXPECT_THAT(slackMessage(told)["text"].get<std::string>(), HasSubstr("Could not email riley@seller.example"));
}

TEST_F(RouteTest, ASlackPostRefusedForGoodGoesByEmailInstead) {
  // The channel was archived, or the bot never invited (chat.postMessage: is_archived,
  // not_in_channel): no retry can post it, so the rep (or admin_to) is emailed, never nobody.
  ON_CALL(*slack_, post(_, _, _)).WillByDefault([](const std::string&, const std::string&, const nlohmann::json&) {
    DeliveryResult r;
    r.permanent_failure = true;
    r.error = "is_archived";
    return ready(r);
  });
  EXPECT_CALL(*email_, post("riley@seller.example", "notify|k|slack>email", _)).Times(1);
  enqueue("notify|k", heldPayload());
  drain();
  drain();
  auto r = rows();
  EXPECT_EQ(r["notify|k|slack"].sent_ref, "slack refused it (is_archived): by email instead");
  EXPECT_EQ(r["notify|k|slack>email"].state, "sent");
}

TEST_F(RouteTest, ASlackPostThatKeepsFailingGoesByEmailAfterAWhile) {
  // An error Slack gives no word on (not a refusal for good, not a rate limit), every hour: the
  // rep would hear nothing for as long as it lasts. After kSlackAttempts tries, by email instead.
  int posts = 0;
  ON_CALL(*slack_, post(_, _, _)).WillByDefault([&](const std::string&, const std::string&, const nlohmann::json&) {
    ++posts;
    DeliveryResult r;
    r.error = "service_unavailable";
    return ready(r);
  });
  EXPECT_CALL(*email_, post("riley@seller.example", "notify|k|slack>email", _)).Times(1);
  enqueue("notify|k", heldPayload());
  for (int i = 0; i < 20; ++i) {
    drain();
    now_ += hours(2);
  }
  EXPECT_EQ(posts, 12);
  auto r = rows();
  EXPECT_EQ(r["notify|k|slack"].sent_ref, "slack failed 12 times (service_unavailable): by email instead");
  EXPECT_EQ(r["notify|k|slack>email"].state, "sent");
}

TEST_F(RouteTest, TemporaryFailureIsRetriedWithBackoffAndNothingIsLost) {
  services_.config.notify.route = "email";
  int calls = 0;
  ON_CALL(*email_, post(_, _, _)).WillByDefault([&](const std::string&, const std::string&, const nlohmann::json&) {
    DeliveryResult r;
    r.delivered = ++calls > 2;
    if (!r.delivered) r.error = "smtp.example.com:587: Couldn't connect to server";
    return ready(r);
  });
  enqueue("notify|k", heldPayload());
  drain();
  EXPECT_EQ(rows()["notify|k|email"].state, "pending");
  EXPECT_GT(rows()["notify|k|email"].next_attempt_at, now_);  // backoff, not a busy loop
  drain();
  EXPECT_EQ(calls, 1);  // not due yet
  for (int i = 0; i < 3; ++i) {
    now_ += hours(2);
    drain();
  }
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(rows()["notify|k|email"].state, "sent");
}

// A crash between the end of the SMTP transaction and the mark: the resend is the same message,
// Message-ID included (recorded by a transport standing in for the server).
TEST_F(RouteTest, ACrashBetweenSendAndMarkResendsTheSameMessageId) {
  struct Recording : MailTransport {
    std::vector<std::string> got;
    std::string_view name() const override { return "recording"; }
    MailResult send(const std::string&, const std::vector<std::string>&, const std::string& m) override {
      got.push_back(m);
      return MailResult{MailResult::Status::Sent, "250 2.0.0 Ok: queued"};
    }
  };
  auto transport = std::make_shared<Recording>();
  services_.notifiers["email"] = std::make_shared<EmailNotifier>(services_.config.notify.email, transport);
  services_.config.notify.route = "email";
  enqueue("notify|k", heldPayload());
  // First life: routed, then the row marked "sending" and the message handed over; then it dies.
  auto routed = runTask(drainOutbox(services_, *store_, now_));  // sends once, marks sent
  ASSERT_EQ(transport->got.size(), 1u);
  ASSERT_EQ(routed.sent, 1);
  // Replay the crash: the row is put back as it was between the server's 250 and the mark.
  const auto row = rows()["notify|k|email"];
  store_->outboxRetry(row.id, now_, "", "sending");
  store_.reset();
  store_ = openSqliteStore(dir_.string(), [this] { return now_; });  // the restart
  auto again = runTask(drainOutbox(services_, *store_, now_));
  ASSERT_EQ(transport->got.size(), 2u);
  EXPECT_EQ(again.sent, 1);
  EXPECT_EQ(transport->got[0], transport->got[1]);  // byte for byte: the same Message-ID and Date
  Parsed a(transport->got[0]), b(transport->got[1]);
  EXPECT_EQ(std::string(g_mime_message_get_message_id(a.msg)), g_mime_message_get_message_id(b.msg));
}

// ---- the digest ----

// A digest recorded while the wall clock ran days ahead (then corrected): "the last one was sent
// less than a day ago" held for as long as the clock had been wrong, plus a day, and the admins got
// no digest meanwhile. A last digest more than an hour in the future is a clock's mistake, not a
// digest of today; one a few minutes ahead (a small step back) still counts, so none is doubled.
TEST_F(RouteTest, ADigestRecordedByAClockDaysAheadDoesNotStopTheNextOnes) {
  services_.config.notify.email.digest = "daily";
  const TimePoint t0 = now_;
  now_ = t0 + hours(72);  // the clock three days ahead
  EXPECT_CALL(*email_, post("revops@example.com", _, _)).Times(2);
  drain();
  now_ = t0;  // corrected
  drain();    // the day's digest goes out
  now_ = t0 + minutes(10);
  drain();    // not twice
  // A small step back after that one: still within its day.
  now_ = t0 - minutes(5);
  drain();
  int digests = 0;
  for (const auto& m : store_->allOutbox())
    if (m.dedupe_key.rfind("digest|", 0) == 0) ++digests;
  EXPECT_EQ(digests, 2);
}

TEST_F(RouteTest, DigestCountsTheLastDayAndGoesOutOnceADayAcrossRestarts) {
  const TimePoint t0 = now_;
  auto decide = [&](const std::string& key, const std::string& connector, const std::string& rep, const std::string& reason,
                    EmailState state, TimePoint at) {
    now_ = at;
    EmailDecision d;
    d.key = key;
    d.connector = connector;
    d.email_id = key;
    d.verdict = reason.empty() ? "allow" : "revert";
    d.reason = reason;
    d.state = state;
    d.subject = "S " + key;
    d.rep = {{"name", rep}};
    d.recipients = nlohmann::json::array({{{"address", key + "@x.example"}, {"verdict", d.verdict}}});
    store_->recordDecision(d);
  };
  decide("old", "close", "Riley", "bounce_risk", EmailState::Reverted, t0 - hours(30));  // before the window
  decide("a", "close", "Riley", "bounce_risk", EmailState::Reverted, t0 - hours(20));
  decide("b", "close", "Sam", "bounce_risk", EmailState::Reverted, t0 - hours(10));
  decide("c", "outreach", "Sam", "unknown", EmailState::Reverted, t0 - hours(5));
  decide("d", "outreach", "Sam", "spamtrap", EmailState::RevertFailed, t0 - hours(4));
  decide("e", "close", "Riley", "do_not_mail", EmailState::TooLate, t0 - hours(3));
  decide("f", "close", "Riley", "", EmailState::Allowed, t0 - hours(2));
  decide("g", "close", "Sam", "unknown", EmailState::Shadow, t0 - hours(2));  // shadow mode: would have held
  // A stop that found the email changed by the rep: not a hold, and the email is counted as its new
  // version ("f" here), not twice.
  decide("f-old", "close", "Riley", "bounce_risk", EmailState::Reverting, t0 - hours(2));
  store_->transition("f-old", EmailState::Allowed, kChangedSinceDecided + "close since it was decided", 0, std::nullopt);
  SenderState paused;
  paused.mailbox = "riley@seller.example";
  paused.state = "paused";
  paused.since = t0 - hours(1);
  paused.until = t0 + hours(3);
  store_->putSender(paused, std::nullopt);
  now_ = t0;

  const auto p = digestPayload(*store_, t0);
  EXPECT_EQ(p["decided"], 7);
  EXPECT_EQ(p["held"], 3);
  EXPECT_EQ(p["shadowed"], 1);
  EXPECT_EQ(p["by_reason"], (nlohmann::json{{"bounce_risk", 2}, {"unknown", 2}, {"spamtrap", 1}, {"do_not_mail", 1}}));
  EXPECT_EQ(p["by_rep"], (nlohmann::json{{"Riley", 2}, {"Sam", 4}}));
  EXPECT_EQ(p["by_connector"], (nlohmann::json{{"close", 4}, {"outreach", 2}}));
  ASSERT_EQ(p["not_stopped"].size(), 2u);
  EXPECT_EQ(p["not_stopped"][0]["what"], "\"S d\" to d@x.example (outreach, spamtrap, revert_failed)");
  EXPECT_EQ(p["not_stopped"][1]["what"], "\"S e\" to e@x.example (close, do_not_mail, too_late)");
  ASSERT_EQ(p["paused_senders"].size(), 1u);
  EXPECT_EQ(p["paused_senders"][0]["mailbox"], "riley@seller.example");
  const MessageContent content = messageContent(p);
  EXPECT_EQ(content.sections[0].value, "bounce_risk 2, do_not_mail 1, spamtrap 1, unknown 2");
  ASSERT_GE(content.fields.size(), 2u);
  EXPECT_EQ(content.fields[1].label, "Would have been held (shadow mode)");
  EXPECT_EQ(content.fields[1].value, "1");

  services_.config.notify.email.digest = "daily";
  EXPECT_CALL(*email_, post("revops@example.com", _, _)).Times(2);
  drain();                       // the first tick with digest: daily sends one
  now_ = t0 + hours(1);
  drain();                       // not again within the day
  store_.reset();                // a restart
  store_ = openSqliteStore(dir_.string(), [this] { return now_; });
  now_ = t0 + hours(23);
  drain();                       // still not
  now_ = t0 + hours(24);
  drain();                       // the next day's
  int digests = 0;
  for (const auto& m : store_->allOutbox())
    if (m.dedupe_key.rfind("digest|", 0) == 0) ++digests;
  EXPECT_EQ(digests, 2);
}
