// `safetynet demo`: the same runDaemon() that systemd starts, pointed at a local sandbox.
#include "safetynet/app/demo.hpp"

#include <gmime/gmime.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <regex>
#include <future>
#include <thread>

#include "fakes/fake_close.hpp"
#include "fakes/fake_slack.hpp"
#include "fakes/fake_smtp.hpp"
#include "fakes/static_resolver.hpp"
#include "safetynet/app/app.hpp"
#include "notify/messages.hpp"
#include "safetynet/core/time_format.hpp"

namespace safetynet {

namespace {

void write(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

struct DemoEmail {
  const char* id;
  std::vector<std::string> to;
  const char* subject;
  int minutes;  // from now
  const char* story;
  const char* owner = "user_rep1";  // the rep on Close: Riley (on Slack) or Sam (email only)
};

// The Subject header of a message as sent, decoded (RFC 2047), for the demo's lines.
std::string subjectOf(const std::string& data) {
  const auto at = data.find("\r\nSubject: ");
  if (at == std::string::npos) return "";
  const auto from = at + 11;
  std::string raw;
  for (auto end = data.find("\r\n", from), start = from;; start = end + 3, end = data.find("\r\n", start)) {
    raw += data.substr(start, end - start);  // a folded header goes on after CRLF and a space
    if (end == std::string::npos || end + 2 >= data.size() || (data[end + 2] != ' ' && data[end + 2] != '\t')) break;
    raw += ' ';
  }
  char* decoded = g_mime_utils_header_decode_text(nullptr, raw.c_str());
  const std::string out = decoded ? decoded : raw;
  g_free(decoded);
  return out;
}

// Runs `f` on the sandbox's thread (where the fakes live) and returns its result.
template <class F>
auto onSandbox(asio::io_context& sandbox, F f) {
  auto done = std::make_shared<std::promise<decltype(f())>>();
  asio::post(sandbox, [done, f] { done->set_value(f()); });
  return done->get_future().get();
}

}  // namespace

int runDemo(bool keep_state) {
  namespace fs = std::filesystem;
  char tmpl[] = "/tmp/safetynet-demo-XXXXXX";
  if (!mkdtemp(tmpl)) {
    std::cerr << "demo: cannot create a temporary directory\n";
    return 1;
  }
  const fs::path dir(tmpl);

  // The sandbox platforms run on their own thread and io_context, like remote services would.
  asio::io_context sandbox;
  auto guard = asio::make_work_guard(sandbox);
  fakes::FakeClose close(sandbox.get_executor(), "demo-close-api-key");
  fakes::FakeSlack slack(sandbox.get_executor(), "xoxb-demo-token");
  fakes::FakeSmtp mail(sandbox.get_executor(), dir / "Maildir");
  std::thread sandboxThread([&] { sandbox.run(); });

  slack.addChannel("C0DELIVER", "#deliverability");
  slack.addUser("U0RILEY", "riley@seller.example", "riley");
  slack.enableSocketMode("xapp-demo-token");  // the buttons
  close.addUser("user_rep1", "riley@seller.example", "Riley", "Rep");
  close.addUser("user_rep2", "sam@seller.example", "Sam", "Rep");  // not on Slack: alerts by email

  const std::vector<DemoEmail> emails = {
      {"acti_01", {"jane.doe@acme-corp.test"}, "Quick question, Jane", 6, "a good contact"},
      {"acti_02", {"sam.lee@acme-corp.test"}, "Following up", 8, "a good contact"},
      {"acti_03", {"bob..smith@acme-corp.test"}, "Intro", 10, "two dots in a row"},
      {"acti_04", {"lee@no-such-company.test"}, "Pricing", 12, "a domain that does not exist"},
      {"acti_05", {"ops@nullmx-example.test"}, "Partnership", 14, "a domain with a null MX"},
      {"acti_06", {"kim@no-mail-host.test"}, "Your Q3 plans", 16, "MX hosts that do not resolve (Sam's: told by email)",
       "user_rep2"},
      {"acti_07", {"info@honeypot-list.test"}, "Hello there", 18, "on the admin's spam-trap list"},
      {"acti_08", {"angry.ann@bigcorp.test"}, "One more thing", 20, "on the complainer list"},
      {"acti_09", {"chris@optout.test"}, "Checking in", 22, "unsubscribed (suppression list)"},
      {"acti_10", {"pat@a-record-only.test"}, "Demo next week?", 24, "no MX, but an A record (implicit MX)"},
      {"acti_11", {"vip@allowed-partner.test"}, "Contract", 26, "allow-listed (its domain is broken, it still passes)"},
      {"acti_12", {"dana@dns-down.test"}, "Webinar invite", 28, "our DNS fails: on_internal_error=allow lets it go"},
      {"acti_13", {"jane.doe@acme-corp.test", "ghost@no-such-company.test"}, "Team intro", 30,
       "two recipients, one bad"},
      {"acti_14", {"jane@gmial.com"}, "Coffee next week?", 32, "a typo of gmail.com (typo domains are traps)"},
      {"acti_15", {"abuse@bigcorp.test"}, "Quick intro", 34, "a role mailbox that reads complaints"},
  };
  const TimePoint now = Clock::now();
  auto schedule = [&close, now](const DemoEmail& e) {
    fakes::FakeCloseEmail fe;
    fe.id = e.id;
    fe.to = e.to;
    fe.subject = e.subject;
    fe.scheduled_at = now + std::chrono::minutes(e.minutes);
    fe.user_id = e.owner;
    fe.contact_id = std::string("cont_") + (e.id + 5);
    close.addContact(fe.contact_id, "Contact " + std::string(e.id + 5), e.to.front());
    close.addEmail(fe);
  };
  for (const auto& e : emails) schedule(e);
  fakes::FakeCloseEmail sent;  // not scheduled: must be left alone
  sent.id = "acti_99";
  sent.to = {"old@acme-corp.test"};
  sent.subject = "Already sent";
  sent.status = "sent";
  sent.scheduled_at = now - std::chrono::hours(1);
  close.addEmail(sent);

  auto dns = std::make_shared<fakes::StaticResolver>();
  for (const char* d : {"acme-corp.test", "honeypot-list.test", "bigcorp.test", "optout.test"}) dns->mailDomain(d);
  dns->nxdomain("no-such-company.test");
  dns->nxdomain("allowed-partner.test");
  dns->nullMx("nullmx-example.test");
  DnsAnswer deadMx;
  deadMx.status = DnsStatus::Ok;
  deadMx.mx = {{10, "mx.gone-hosting.test"}};
  dns->set("no-mail-host.test", DnsType::MX, deadMx);
  dns->nxdomain("gone-hosting.test");
  dns->aOnly("a-record-only.test");
  dns->tempfail("dns-down.test");
  // The fail-safe's canaries: big mailbox providers always have MX records.
  for (const char* d : {"gmail.com", "outlook.com", "yahoo.com"}) dns->mailDomain(d);

  write(dir / "allow.txt", "# partners we always mail\nallowed-partner.test\n");
  write(dir / "spamtraps.txt", "info@honeypot-list.test\n");
  write(dir / "complainers.txt", "angry.ann@bigcorp.test\n");
  write(dir / "suppression.txt", "chris@optout.test\n");
  ::setenv("DEMO_CLOSE_API_KEY", "demo-close-api-key", 1);
  write(dir / "slack.token", "xoxb-demo-token\n");
  write(dir / "slack.app-token", "xapp-demo-token\n");
  const fs::path configPath = dir / "safetynet.yaml";
  write(configPath, "state_dir: " + (dir / "state").string() +
                        "\n"
                        "poll_interval: 1s\nmin_lead_time: 2m\nlookahead: 60m\n"
                        "policy:\n  on_internal_error: allow\n"
                        "smtp_probe:\n  enabled: false   # the sandbox has no mail servers\n"
                        "lists:\n"
                        "  allow: " + (dir / "allow.txt").string() + "\n"
                        "  spamtraps: " + (dir / "spamtraps.txt").string() + "\n"
                        "  complainers: " + (dir / "complainers.txt").string() + "\n"
                        "  suppression: " + (dir / "suppression.txt").string() + "\n"
                        "connectors:\n"
                        "  - name: close-demo\n    type: close\n    base_url: " + close.baseUrl() + "\n"
                        "    api_key: ${DEMO_CLOSE_API_KEY}\n"
                        "notify:\n  slack:\n    base_url: " + slack.baseUrl() + "\n"
                        "    bot_token_file: slack.token\n    channel: \"#deliverability\"\n    dm_rep: true\n"
                        "    app_token_file: slack.app-token\n    actions: true\n"
                        "  email:   # the sandbox's mail server on loopback (no TLS: loopback only)\n"
                        "    transport: smtp\n    host: 127.0.0.1\n    port: " + std::to_string(mail.port()) + "\n"
                        "    tls: none\n    from: \"Safety Net <safetynet@seller.example>\"\n"
                        "    admin_to: [revops@seller.example]\n    digest: \"off\"\n"
                        "  route: slack_then_email\n");

  std::cout << "Safety Net demo: the real daemon path against a local sandbox\n"
            << "  fake Close   " << close.baseUrl() << "  (" << emails.size() << " scheduled emails + 1 sent)\n"
            << "  fake Slack   " << slack.baseUrl() << "  (rep riley@seller.example has a Slack DM; buttons over Socket Mode)\n"
            << "  mail server  127.0.0.1:" << mail.port() << "  (rep sam@seller.example is not on Slack: email; Maildir "
            << (dir / "Maildir").string() << ")\n"
            << "  DNS          fixture zones (no internet)\n"
            << "  config       " << configPath.string() << "\n\n";

  auto cfg = loadConfigFile(configPath.string());
  if (!cfg.ok()) {
    for (const auto& e : cfg.errors) std::cerr << e.message << "\n";
    return 1;
  }
  DaemonOptions opts;
  opts.config_path = configPath.string();
  opts.once = true;
  opts.overrides.dns = dns;
  std::cout << "--- safetynet run --once (daemon log) ---\n" << std::flush;
  int rc = runDaemon(*cfg.config, opts);
  std::cout << "\n--- a second cycle: nothing may be decided, reverted or sent twice ---\n" << std::flush;
  const size_t messagesAfterFirst = slack.messages().size();
  int rc2 = runDaemon(*cfg.config, opts);

  // An email alert: Sam is not on Slack, so Sam's held email was told by email (slack_then_email).
  std::cout << "\n--- an email alert: Sam is not on Slack, so Sam was told by email ---\n";
  for (const auto& m : mail.received())
    std::cout << "  email to " << m.to.front() << ": \"" << subjectOf(m.data) << "\" (text + HTML), delivered into "
              << m.file << "\n";

  // A release: Riley clicks "Release and send" on a held email's Slack message; the daemon (running,
  // not --once) gets the click over Socket Mode, releases the address, puts the email back on
  // schedule on Close and updates the message; its next poll lets the email go (OVERRIDDEN).
  std::cout << "\n--- a release: Riley clicks \"Release and send\" in Slack on the held email acti_04 ---\n" << std::flush;
  std::optional<fakes::PostedMessage> heldMessage;
  for (const auto& m : slack.messages())
    if (m.request.value("text", "").find("lee@no-such-company.test") != std::string::npos) heldMessage = m;
  int rcRelease = 0;
  std::function<void()> clickWhenLinked;  // runs on the sandbox's thread, which ends before this does
  if (heldMessage) {
    const int linksBefore = onSandbox(sandbox, [&] { return slack.socketMode().connectionsAccepted(); });
    const nlohmann::json click = fakes::blockActionsPayload(*heldMessage, "U0RILEY", kActionRelease);
    auto timer = std::make_shared<asio::steady_timer>(sandbox);
    clickWhenLinked = [&slack, &clickWhenLinked, timer, click, linksBefore] {
      if (slack.socketMode().connectionsAccepted() > linksBefore && slack.socketMode().openConnections() > 0) {
        slack.socketMode().sendEnvelope("interactive", click);
        return;
      }
      timer->expires_after(std::chrono::milliseconds(50));
      timer->async_wait([&clickWhenLinked](boost::system::error_code ec) {
        if (!ec) clickWhenLinked();
      });
    };
    asio::post(sandbox, clickWhenLinked);
    DaemonOptions releaseOpts = opts;
    releaseOpts.once = false;
    const auto giveUp = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    releaseOpts.stop_when = [&](Store& st) {
      for (const auto& d : st.decisionsSince(now - std::chrono::hours(1)))
        if (d.email_id == "acti_04" && d.state == EmailState::Allowed) return true;
      return std::chrono::steady_clock::now() > giveUp;
    };
    rcRelease = runDaemon(*cfg.config, releaseOpts);
    onSandbox(sandbox, [&] {
      timer->cancel();
      return 0;
    });
    // Slack's markup as Slack shows it: a date as its fallback text, <@U0RILEY> as @riley.
    const std::regex date("<!date\\^[^|>]*\\|([^>]*)>");
    for (const auto& u : slack.updates())
      std::cout << "  Slack message updated: "
                << std::regex_replace(std::regex_replace(u.value("text", ""), date, "$1"), std::regex("<@U0RILEY>"), "@riley")
                << "\n";
    std::cout << "  Close now shows acti_04: " << close.status("acti_04") << " for "
              << formatIso8601(close.scheduledAt("acti_04")) << "\n";
    bool released = false;
    StorePtr st = openSqliteStore(cfg.config->state_dir);
    for (const auto& d : st->decisionsSince(now - std::chrono::hours(1)))
      if (d.email_id == "acti_04" && d.state == EmailState::Allowed && !d.recipients.empty()) {
        const auto& sig = d.recipients[0]["signals"][0];
        std::cout << "  the next poll: acti_04 allowed, " << sig.value("name", "") << ": " << sig.value("evidence", "") << "\n";
        released = true;
      }
    if (!released) {
      std::cout << "  the release did not happen (see the daemon log above)\n";
      rcRelease = 1;
    }
  } else {
    std::cout << "  no Slack message about acti_04 to click\n";
    rcRelease = 1;
  }

  // The fail-safe: the resolver breaks (NXDOMAIN for every name, as a broken upstream or a wrong
  // dns.servers would). New emails arrive; the daemon must not hold them on that resolver's word.
  std::cout << "\n--- the resolver breaks (NXDOMAIN for every name): the fail-safe ---\n" << std::flush;
  const std::vector<DemoEmail> later = {
      {"acti_21", {"new.lead@acme-corp.test"}, "Intro", 40, "a good contact (the broken resolver says the domain is gone)"},
      {"acti_22", {"buyer@gmail.com"}, "Quick question", 42, "a good contact at a big provider"},
      {"acti_23", {"angry.ann@bigcorp.test"}, "Following up", 44, "on the complainer list: still held"},
  };
  for (const auto& e : later) schedule(e);
  auto broken = std::make_shared<fakes::StaticResolver>();
  broken->nxdomain("test");
  broken->nxdomain("com");
  DaemonOptions brokenOpts = opts;
  brokenOpts.overrides.dns = broken;
  const size_t messagesBeforeBreak = slack.messages().size();
  int rc3 = runDaemon(*cfg.config, brokenOpts);
  {
    StorePtr st = openSqliteStore(cfg.config->state_dir);
    for (const auto& e : later)
      for (const auto& d : st->decisionsSince(now - std::chrono::hours(1)))
        if (d.email_id == e.id)
          std::cout << "  " << std::left << std::setw(8) << (d.state == EmailState::Reverted ? "HELD" : toString(d.state)) << " "
                    << d.email_id << "  " << std::setw(26) << e.to.front() << " " << e.story << "\n";
  }
  for (size_t i = messagesBeforeBreak; i < slack.messages().size(); ++i)
    std::cout << "  Slack " << slack.messages()[i].channel << ": " << slack.messages()[i].request.value("text", "") << "\n";
  if (rc == 0) rc = rc3;
  if (rc == 0) rc = rcRelease;

  std::cout << "\n--- what was decided ---\n";
  StorePtr store = openSqliteStore(cfg.config->state_dir);
  auto decisions = store->decisionsSince(now - std::chrono::hours(1));
  std::map<std::string, std::string> story;
  for (const auto& e : emails) story[e.id] = e.story;
  int held = 0;
  for (const auto& d : decisions) {
    std::string to;
    for (const auto& r : d.recipients) to += (to.empty() ? "" : ", ") + r.value("address", "");
    const bool isHeld = d.state == EmailState::Reverted;
    held += isHeld;
    std::cout << "  " << std::left << std::setw(8) << (isHeld ? "HELD" : toString(d.state)) << " " << d.email_id << "  "
              << std::setw(50) << to << " " << std::setw(12) << (d.reason.empty() ? "-" : d.reason) << " "
              << story[d.email_id] << "\n";
    if (isHeld) std::cout << "           evidence: " << d.evidence << "\n";
  }
  std::cout << "\n--- Slack messages posted (" << slack.messages().size() << ") ---\n";
  for (const auto& m : slack.messages()) std::cout << "  " << m.channel << ": " << m.request.value("text", "") << "\n";
  std::cout << "\n--- emails delivered by the sandbox's mail server (" << mail.received().size() << ") ---\n";
  for (const auto& m : mail.received()) std::cout << "  to " << m.to.front() << ": \"" << subjectOf(m.data) << "\"\n";
  std::cout << "\n--- Close now shows ---\n";
  for (const auto& e : emails) std::cout << "  " << e.id << ": " << close.status(e.id) << "\n";
  std::cout << "\n" << decisions.size() << " emails decided, " << held << " moved back to drafts, "
            << slack.messages().size() << " Slack messages, " << mail.received().size()
            << " emails; the second cycle added "
            << messagesBeforeBreak - messagesAfterFirst << "; with the broken resolver, "
            << slack.messages().size() - messagesBeforeBreak << " (the admins told, and the one certain hold).\n";

  guard.reset();
  sandbox.stop();
  sandboxThread.join();
  if (keep_state)
    std::cout << "state kept in " << dir.string() << "\n";
  else
    fs::remove_all(dir);
  return rc != 0 ? rc : rc2;
}

}  // namespace safetynet
