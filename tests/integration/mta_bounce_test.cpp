// Bounces written by real mail systems, not by us. Debian's Postfix, Exim, Sendmail, OpenSMTPD, dma,
// Courier and nullmailer, each started by the test as the sending MTA on loopback, relay one message to a real
// receiving Postfix that knows one mailbox, refuses the others at RCPT in the ways mail systems do
// (a dead mailbox, a full one, an access-map REJECT, greylisting) and refuses a spam subject after
// DATA; one recipient's domain is routed to a closed port. The sender's MTA writes its own notices
// (failure, delay warning, expiry; Postfix also a "relayed" success report) into the rep's
// mailbox, and the classifier reads each one. Other tests put the notice's words on the receiving
// side as companies run it: a Postfix that finds no mailbox at delivery, Exim and OpenSMTPD
// receivers, Dovecot's LMTP behind Postfix, gateways that ask the mailbox server behind them. The
// truth is the configured situation, not a label: the dead mailbox is the only hard bounce.
//
// Exim, Sendmail, OpenSMTPD, dma, Courier and nullmailer conflict with Postfix as Debian packages,
// so scripts/setup unpacks them under /opt/safetynet-test-peers (never installed, never run as
// services) and creates the users and mount points their binaries were built for; Dovecot is
// installed, its service never started.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "integration/peers.hpp"
#include "safetynet/bounce/bounce.hpp"

using namespace safetynet::testing;
namespace fs = std::filesystem;

namespace {

constexpr const char* kEximRoot = "/opt/safetynet-test-peers/exim4";
constexpr const char* kSendmailRoot = "/opt/safetynet-test-peers/sendmail";
constexpr const char* kOpenSmtpdRoot = "/opt/safetynet-test-peers/opensmtpd";
constexpr const char* kDmaRoot = "/opt/safetynet-test-peers/dma";
constexpr const char* kCourierRoot = "/opt/safetynet-test-peers/courier";
constexpr const char* kNullmailerRoot = "/opt/safetynet-test-peers/nullmailer";

// A loopback port nothing answers on for the whole test: bound, never listening, so a connection is
// refused and no peer another test starts meanwhile can take it (a port only probed free could be).
class ClosedPort {
 public:
  explicit ClosedPort(const std::string& address) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    socklen_t len = sizeof a;
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0 || ::inet_pton(AF_INET, address.c_str(), &a.sin_addr) != 1 ||
        ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("cannot hold a closed port on " + address);
    port_ = ntohs(a.sin_port);
  }
  ~ClosedPort() { ::close(fd_); }
  ClosedPort(const ClosedPort&) = delete;
  ClosedPort& operator=(const ClosedPort&) = delete;
  unsigned short port() const { return port_; }

 private:
  int fd_ = -1;
  unsigned short port_ = 0;
};

// One per address, held for the test process's life (ctest runs each test in a process of its own).
unsigned short closedPort(const std::string& address = "127.0.0.1") {
  static std::map<std::string, std::unique_ptr<ClosedPort>> held;
  auto& p = held[address];
  if (!p) p = std::make_unique<ClosedPort>(address);
  return p->port();
}

// Sendmail, OpenSMTPD, dma and Courier run in namespaces of their own (a host name, their compiled-in paths
// mounted over): root is not enough in a container without CAP_SYS_ADMIN. Said once, plainly.
void requireNamespaces(const std::string& peer) {
  std::string out;
  if (runCommand({"/usr/bin/unshare", "--mount", "--uts", "--propagation", "private", "/bin/true"}, &out) != 0)
    throw std::runtime_error("the " + peer + " peer runs in mount and UTS namespaces, which this machine refuses (" +
                             out + "): run the tests as root with CAP_SYS_ADMIN.");
}

std::string idOf(const std::string& flag, const std::string& user) {
  std::string out;
  runCommand({"/usr/bin/id", flag, user}, &out);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// A word for a peer's banner that no other peer's has (its directory's name, unique, and this
// process): with waitForGreeting, a port another test's peer took first is never taken for it.
std::string bannerWord(const TempDir& dir) {
  return "safetynet-test " + dir.path().filename().string() + "-" + std::to_string(::getpid());
}

void openToDaemons(const fs::path& dir) {
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                           fs::perms::others_exec);
}

// The receiving side: a real Postfix with one mailbox (jane@acme.test) and RCPT refusals from its
// own access map, the words Postfix writes for each (smtpd_check.c): "User unknown in virtual
// mailbox table" (5.1.1) for any other address, and the admin's texts below.
Postfix receivingPostfix(const TempDir& dir, const std::vector<std::string>& extra = {}) {
  openToDaemons(dir.path());
  std::ofstream(dir / "rcpt_access") << "full@acme.test 552 5.2.2 Mailbox full\n"
                                     << "greylist@acme.test 450 4.7.1 Greylisted, try again later\n"
                                     << "blocked@acme.test REJECT\n";
  std::ofstream(dir / "header_checks") << "/^Subject: .*free money/ REJECT Spam content not accepted\n";
  std::vector<std::string> cf = {
      "smtpd_recipient_restrictions = check_recipient_access texthash:" + (dir / "rcpt_access").string() +
          ", reject_unauth_destination",
      "header_checks = regexp:" + (dir / "header_checks").string(),
      // A receiver without DSN: the sender's MTA reports "relayed" for NOTIFY=SUCCESS.
      "smtpd_discard_ehlo_keywords = dsn"};
  cf.insert(cf.end(), extra.begin(), extra.end());
  return Postfix({"acme.test"}, {"jane@acme.test OK"}, cf);
}

// A daemon and the processes it forked into its process group (Process gives each child a group of
// its own): asked to stop, then, once the daemon is gone, whatever of the group outlived it is
// killed (a module of Courier's, a delivery still running), so no process keeps the test's
// namespace and its mounts. Children that start sessions of their own, as OpenSMTPD's deliveries
// do, are short-lived; their mounts and namespaces go with the last of them.
void stopGroup(Process& p) {
  const int group = p.group();  // also once the leader has exited: its helpers may live on
  if (group <= 0) return;
  ::kill(-group, SIGTERM);
  p.wait(std::chrono::seconds(10));
  ::kill(-group, SIGKILL);
}

// The rep's Maildir: every notice, whole.
std::vector<std::string> maildirMessages(const fs::path& maildir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator(maildir / "new", ec); !ec && it != fs::directory_iterator(); it.increment(ec))
    if (it->is_regular_file()) out.push_back(readFile(it->path()));
  return out;
}

// Waits until `done(notices)`, then a moment more: a late extra notice (a second delay warning, an
// expiry written apart from another) would otherwise go unseen.
template <typename Read, typename Done>
std::vector<std::string> waitUntilNotices(Read read, Done done, std::chrono::seconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  auto got = read();
  while (!done(got) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    got = read();
  }
  if (!done(got)) ADD_FAILURE() << "the awaited notices did not come within " << timeout.count() << " s (" << got.size() << " came)";
  std::this_thread::sleep_for(std::chrono::seconds(2));
  return read();
}

// The processes of one process group, each with where it waits (state, wchan, system call, and
// its sockets' peers by inode): for the message of a test whose daemon went quiet.
std::string groupState(int pgid) {
  std::string out;
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc", ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string pid = it->path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = readFile(it->path() / "stat");
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    std::string state, ppid, pgrp;
    rest >> state >> ppid >> pgrp;
    if (pgrp != std::to_string(pgid)) continue;
    std::string cmdline = readFile(it->path() / "cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    std::string syscall = readFile(it->path() / "syscall");
    if (!syscall.empty() && syscall.back() == '\n') syscall.pop_back();
    // Blocked and ignored signals too: a process that waits for SIGCHLD with it blocked waits forever.
    std::string signals;
    std::istringstream status(readFile(it->path() / "status"));
    for (std::string line; std::getline(status, line);)
      if (line.rfind("SigBlk:", 0) == 0 || line.rfind("SigIgn:", 0) == 0) signals += ", " + line;
    out += "  pid " + pid + " (" + state + ") " + cmdline + "\n    wchan " + readFile(it->path() / "wchan") +
           ", syscall " + syscall + signals + ", fds:";
    for (auto fd = fs::directory_iterator(it->path() / "fd", ec); !ec && fd != fs::directory_iterator(); fd.increment(ec))
      out += " " + fd->path().filename().string() + "->" + fs::read_symlink(fd->path(), ec).string();
    out += "\n";
  }
  return out.empty() ? "  (no process left in group " + std::to_string(pgid) + ")\n" : out;
}

// Polls `ready()` until it holds or `timeout` passes: a side effect (a copy delivered onward) that
// runs beside the notice, not before it.
template <typename Ready>
bool eventually(Ready ready, std::chrono::seconds timeout = std::chrono::seconds(20)) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!ready()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return true;
}

template <typename Read>
std::vector<std::string> waitForNotices(Read read, size_t want, std::chrono::seconds timeout) {
  return waitUntilNotices(read, [want](const std::vector<std::string>& got) { return got.size() >= want; }, timeout);
}

const std::vector<std::string> kRecipients = {"jane@acme.test",     "nobody@acme.test",  "full@acme.test",
                                              "greylist@acme.test", "blocked@acme.test", "x@dead.test"};

void writeMessages(const TempDir& dir) {
  std::ofstream(dir / "m1.eml") << "From: Rep <rep@sender.test>\nTo: Team <team@acme.test>\nSubject: Quick question\n"
                                   "Message-ID: <m1@sender.test>\n\nHello, do you have a minute on Tuesday?\n";
  std::ofstream(dir / "m2.eml") << "From: Rep <rep@sender.test>\nTo: Jane <jane@acme.test>\nSubject: Get free money now\n"
                                   "Message-ID: <m2@sender.test>\n\nHello again.\n";
}

bool deadAddressReason(const std::string& reason) {
  return reason == "userunknown" || reason == "hostunknown" || reason == "hasmoved" || reason == "notaccept";
}

struct Readings {
  std::map<std::string, std::vector<safetynet::bounce::BounceRecord>> byRecipient;
  std::vector<std::string> problems;
};

Readings readAll(const std::vector<std::string>& notices) {
  Readings out;
  for (const auto& n : notices) {
    const auto c = safetynet::bounce::classify(n);
    if (c.records.empty()) out.problems.push_back("a notice read as nothing (" + c.error + "):\n" + n.substr(0, 2000));
    for (const auto& r : c.records) out.byRecipient[r.recipient].push_back(r);
  }
  return out;
}

std::string describe(const Readings& r) {
  std::string s;
  for (const auto& [who, records] : r.byRecipient)
    for (const auto& rec : records)
      s += who + " " + rec.action + " " + rec.reason + (rec.hard ? " HARD " : " soft ") + rec.status + " " +
           rec.reply_code + " [" + rec.rule + "]\n";
  for (const auto& p : r.problems) s += p + "\n";
  return s;
}

// A recipient the notices give exactly one record, hard or soft for this reason.
void expectOneReading(const Readings& got, const std::string& who, bool hard, const std::string& reason) {
  const auto it = got.byRecipient.find(who);
  ASSERT_TRUE(it != got.byRecipient.end() && it->second.size() == 1) << who << ": not exactly one record";
  EXPECT_EQ(it->second[0].hard, hard) << who;
  EXPECT_EQ(it->second[0].reason, reason) << who;
}

// Where MTAs' notices differ in form, not in what happened. OpenSMTPD 6.8 writes its expiry as a
// delay ("Action: delayed", "Status: 4.4.7", "Envelope expired": queue.c gives an expired envelope
// the temporary-failure class and bounce.c names the notice after the class; the message is given
// up all the same), and its lines give each recipient the reply alone, not the command it answered.
struct NoticeForm {
  bool expiryWrittenAsDelay = false;
  bool namesTheCommand = true;
};

bool isExpiry(const safetynet::bounce::BounceRecord& r, const NoticeForm& form) {
  return form.expiryWrittenAsDelay ? r.action == "delayed" && r.status == "4.4.7" && r.reason == "expired"
                                   : r.action == "failed";
}

// The last notices a sending MTA writes in these tests are the two expiries (10 s). Exim writes them
// in one notice or two as its retries fall; OpenSMTPD in two when they fall more than the second
// apart that its notices wait to gather addresses (bounce.c).
bool bothExpiriesIn(const std::vector<std::string>& notices, const NoticeForm& form) {
  const auto got = readAll(notices);
  for (const std::string who : {"greylist@acme.test", "x@dead.test"}) {
    const auto it = got.byRecipient.find(who);
    if (it == got.byRecipient.end() ||
        std::none_of(it->second.begin(), it->second.end(), [&](const auto& r) { return isExpiry(r, form); }))
      return false;
  }
  return true;
}

// What every sending MTA's notices must say, whatever their wording: the one dead mailbox is the
// only hard bounce (and, for Exim, the domain it has no route to); the other refusals are soft with
// their own reasons; the unreachable domain and the greylisted address are delayed, then expire,
// soft, each with its own words (never the reply of the address listed next to it).
void expectTheTruth(const Readings& got, const std::vector<std::string>& recipients, NoticeForm form = {}) {
  SCOPED_TRACE(describe(got));
  EXPECT_TRUE(got.problems.empty());
  for (const auto& [who, records] : got.byRecipient) {
    EXPECT_NE(std::find(recipients.begin(), recipients.end(), who), recipients.end())
        << who << " is not a recipient of the message";
    for (const auto& r : records)
      EXPECT_TRUE(!r.hard || who == "nobody@acme.test" || who == "who@nowhere.test") << who << " is no dead address";
  }
  auto failed = [&](const std::string& who) {
    std::vector<safetynet::bounce::BounceRecord> out;
    if (auto it = got.byRecipient.find(who); it != got.byRecipient.end())
      for (const auto& r : it->second)
        if (r.action == "failed") out.push_back(r);
    return out;
  };
  ASSERT_EQ(failed("nobody@acme.test").size(), 1u);
  EXPECT_TRUE(failed("nobody@acme.test")[0].hard);
  EXPECT_EQ(failed("nobody@acme.test")[0].reason, "userunknown");
  // The receiver answered, reached at 127.0.0.1: a host named by its address alone, never the
  // reporting MTA itself (BounceRecord::remote_host, which a relay's incident counts by).
  EXPECT_EQ(failed("nobody@acme.test")[0].remote_host, "");
  ASSERT_EQ(failed("full@acme.test").size(), 1u);
  EXPECT_EQ(failed("full@acme.test")[0].reason, "mailboxfull");
  ASSERT_EQ(failed("blocked@acme.test").size(), 1u);
  EXPECT_FALSE(deadAddressReason(failed("blocked@acme.test")[0].reason));
  // jane's second message was refused for its content after DATA: about the message, not her.
  ASSERT_EQ(failed("jane@acme.test").size(), 1u);
  EXPECT_FALSE(deadAddressReason(failed("jane@acme.test")[0].reason));
  // The reply to the message itself (Postfix, Exim: "end of data"); Sendmail's transcript shows
  // ">>> DATA" then the reply, with no line for the message's end.
  const std::string command = failed("jane@acme.test")[0].smtp_command;
  if (form.namesTheCommand)
    EXPECT_TRUE(command == "EOD" || command == "DATA") << command;
  else
    EXPECT_EQ(command, "") << "a command the notice does not name";
  for (const std::string who : {"greylist@acme.test", "x@dead.test"}) {
    const auto& records = got.byRecipient.count(who) ? got.byRecipient.at(who) : std::vector<safetynet::bounce::BounceRecord>{};
    const auto expiry = [&form](const auto& r) { return isExpiry(r, form); };
    const auto delayed = std::count_if(records.begin(), records.end(),
                                       [&](const auto& r) { return r.action == "delayed" && !expiry(r); });
    EXPECT_GE(delayed, 1) << who << ": the delay warning";
    EXPECT_EQ(std::count_if(records.begin(), records.end(), expiry), 1) << who << ": the expiry";
    if (form.expiryWrittenAsDelay) {
      EXPECT_TRUE(failed(who).empty()) << who;
    }
    for (const auto& r : records) EXPECT_FALSE(deadAddressReason(r.reason)) << who;
  }
  // Nothing answered for x@dead.test: the port was closed. A reply code on its record is the
  // greylisted address's, read across from the next lines of the notice.
  for (const auto& r : got.byRecipient.at("x@dead.test")) {
    EXPECT_EQ(r.reply_code, "") << r.diagnostic;
    EXPECT_TRUE(r.reason == "expired" || r.reason == "networkerror") << r.reason;
  }
}

// A Postfix that delivers its domain's mail into Maildirs (virtual(8)) and sends the rest on.
// The sending side: relays to the receiver, routes dead.test to a closed port, keeps the rep's
// notices; a deferred message is warned about after 1 s and returned after 10 s, retried every
// second or two meanwhile. The same, configured otherwise, is a receiver that accepts first and
// bounces later (below).
struct MaildirPostfixOptions {
  std::string hostname = "mta.sender.test";
  std::string domain = "sender.test";        // delivered here, into Maildirs
  std::vector<std::string> mailboxes = {"rep"};
  unsigned short relayPort = 0;             // everything else goes to 127.0.0.1:relayPort
  std::vector<std::string> transport;       // transport(5) lines
  std::vector<std::string> extra;           // more main.cf lines
  unsigned short port = 0;                  // 0: a free one
};

class MaildirPostfix {
 public:
  explicit MaildirPostfix(const MaildirPostfixOptions& o) : domain_(o.domain) {
    postfix_ = findProgram("postfix");
    if (postfix_.empty()) throw std::runtime_error("postfix is not installed: run scripts/setup.");
    if (::geteuid() != 0) throw std::runtime_error("the Postfix peer needs root (it drops to the postfix user)");
    openToDaemons(dir_.path());
    for (const char* d : {"etc", "queue", "data", "mail"}) fs::create_directories(dir_ / d);
    std::string out;
    runCommand({"/bin/chown", "postfix", (dir_ / "data").string(), (dir_ / "mail").string()}, &out);
    {
      std::ofstream vm(dir_ / "etc" / "vmailbox");
      for (const auto& m : o.mailboxes) vm << m << "@" << o.domain << " " << o.domain << "/" << m << "/\n";
      std::ofstream tr(dir_ / "etc" / "transport");
      for (const auto& t : o.transport) tr << t << "\n";
    }
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = o.port ? o.port : freePort();
      std::ofstream(dir_ / "etc" / "master.cf") << "127.0.0.1:" << port_ << " inet n - n - - smtpd\n"
                                                << postfixServices() << "virtual unix - n n - - virtual\n"
                                                << "lmtp unix - - n - - lmtp\n";
      std::vector<std::string> cf = {
          "compatibility_level = 3.6", "queue_directory = " + (dir_ / "queue").string(),
          "data_directory = " + (dir_ / "data").string(), "myhostname = " + o.hostname, "mydomain = " + o.domain,
          "mydestination =", "mynetworks = 127.0.0.0/8", "inet_interfaces = 127.0.0.1", "notify_classes =",
          "transport_maps = texthash:" + (dir_ / "etc" / "transport").string(), "smtp_dns_support_level = disabled",
          "virtual_mailbox_domains = " + o.domain, "virtual_mailbox_base = " + (dir_ / "mail").string(),
          "virtual_mailbox_maps = texthash:" + (dir_ / "etc" / "vmailbox").string(),
          "virtual_uid_maps = static:" + idOf("-u", "postfix"), "virtual_gid_maps = static:" + idOf("-g", "postfix"),
          "maximal_queue_lifetime = 10s", "bounce_queue_lifetime = 10s", "delay_warning_time = 1s",
          "queue_run_delay = 1s", "minimal_backoff_time = 1s", "maximal_backoff_time = 2s",
          "maillog_file = /dev/stdout", "alias_maps =", "alias_database =",
          "smtpd_banner = $myhostname ESMTP " + bannerWord(dir_)};
      if (o.relayPort) cf.push_back("relayhost = [127.0.0.1]:" + std::to_string(o.relayPort));
      std::ofstream(dir_ / "etc" / "main.cf") << postfixMainCf(cf, o.extra);
      checkPostfixConfig(postfix_, configDir());
      process_ = Process({postfix_, "-c", configDir(), "start-fg"}, dir_ / "postfix.log");
      if (waitForGreeting(process_, port_, bannerWord(dir_), kPeerStartTimeout)) return;
      const bool exited = !process_.running();
      ::kill(-process_.group(), SIGKILL);  // a start-up script still in its checks starts no master
      runCommand({postfix_, "-c", configDir(), "stop"}, &out);
      process_.wait(std::chrono::seconds(10));
      if (o.port || !exited) break;  // a reserved port, or neither up nor gone (peers.hpp): no second start
    }
    throw std::runtime_error("postfix (" + o.hostname + ") did not start: " + readFile(dir_ / "postfix.log"));
  }
  ~MaildirPostfix() {
    std::string out;
    runCommand({postfix_, "-c", configDir(), "stop"}, &out, std::chrono::seconds(20));
    process_.wait(std::chrono::seconds(20));
  }
  unsigned short port() const { return port_; }
  std::string configDir() const { return (dir_ / "etc").string(); }
  fs::path maildir(const std::string& mailbox = "rep") const { return dir_ / "mail" / domain_ / mailbox; }
  std::string log() const { return readFile(dir_ / "postfix.log"); }
  // Postfix's own sendmail(1) into this instance's queue, as a mail client would submit.
  void send(const fs::path& message, const std::vector<std::string>& recipients, const std::string& notify) const {
    std::vector<std::string> argv = {findProgram("sendmail"), "-C", configDir(), "-f", "rep@sender.test", "-i"};
    if (!notify.empty()) argv.insert(argv.end(), {"-N", notify});
    argv.push_back("--");
    argv.insert(argv.end(), recipients.begin(), recipients.end());
    std::string out;
    if (runCommandWithInput(argv, message, &out) != 0)
      throw std::runtime_error("sendmail failed: " + out);
  }

 private:
  TempDir dir_;
  std::string domain_;
  unsigned short port_ = 0;
  std::string postfix_;
  Process process_;
};

// The receiver as the one smarthost of an MTA that sends everything there, its notices too (dma,
// nullmailer): it also relays sender.test to the rep's mailbox.
Postfix smarthostFor(const TempDir& dir, const MaildirPostfix& repsMailbox, std::vector<std::string> extra = {}) {
  extra.insert(extra.begin(),
               {"relay_domains = sender.test",
                "transport_maps = inline:{sender.test=smtp:[127.0.0.1]:" + std::to_string(repsMailbox.port()) + "}",
                // A notice deferred on its way to the rep is retried within the test, not in 300 s.
                "queue_run_delay = 1s", "minimal_backoff_time = 1s", "maximal_backoff_time = 2s"});
  return receivingPostfix(dir, extra);
}

MaildirPostfixOptions sendingPostfix(unsigned short relayPort, unsigned short closedPort) {
  MaildirPostfixOptions o;
  o.relayPort = relayPort;
  o.transport = {"dead.test smtp:[127.0.0.1]:" + std::to_string(closedPort)};
  return o;
}

// Exim 4.96 (Debian's binary, unpacked by scripts/setup) on 127.0.0.1 with a configuration of the
// test's: the common head (paths, port, no TLS) here, the rest from `body`, which also learns the
// directory its Maildirs go under. The queue is run every second.
class Exim {
 public:
  template <typename Body>
  explicit Exim(Body body) {
    exim_ = std::string(kEximRoot) + "/usr/sbin/exim4";
    if (!fs::exists(exim_))
      throw std::runtime_error(exim_ + " is missing: scripts/setup unpacks Debian's exim4-daemon-light there.");
    if (idOf("-u", "Debian-exim").empty()) throw std::runtime_error("the Debian-exim user is missing: run scripts/setup.");
    if (::geteuid() != 0) throw std::runtime_error("the Exim peer needs root (it drops to Debian-exim)");
    openToDaemons(dir_.path());
    for (const char* d : {"spool", "log", "mail"}) fs::create_directories(dir_ / d);
    std::string out;
    runCommand({"/bin/chown", "Debian-exim:", (dir_ / "spool").string(), (dir_ / "log").string(),
                (dir_ / "mail").string()},
               &out);
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = freePort();
      std::ofstream(config()) << "exim_path = " << exim_ << "\nkeep_environment =\n"
                              << "spool_directory = " << (dir_ / "spool").string() << "\n"
                              << "log_file_path = " << (dir_ / "log").string() << "/%slog\n"
                              << "local_interfaces = 127.0.0.1\ndaemon_smtp_ports = " << port_ << "\n"
                              << "tls_advertise_hosts =\n"
                              // A taken port ends the daemon at once (by default it retries the
                              // bind 9 times, 30 s apart): the test then picks another.
                              << "daemon_startup_retries = 0\n"
                              << "smtp_banner = $smtp_active_hostname ESMTP " << bannerWord(dir_) << "\n"
                              << body((dir_ / "mail").string());
      process_ = Process({exim_, "-C", config(), "-bdf", "-q1s"}, dir_ / "exim.out");
      if (waitForGreeting(process_, port_, bannerWord(dir_), kPeerStartTimeout)) return;
      const bool exited = !process_.running();
      stop();
      if (!exited) break;  // neither up nor gone (peers.hpp): no second start
    }
    throw std::runtime_error("exim did not start: " + readFile(dir_ / "exim.out") + readFile(dir_ / "log" / "paniclog"));
  }
  ~Exim() { stop(); }
  unsigned short port() const { return port_; }
  fs::path maildir(const std::string& mailbox = "rep") const { return dir_ / "mail" / mailbox; }
  std::string log() const { return readFile(dir_ / "log" / "mainlog") + readFile(dir_ / "log" / "paniclog"); }
  // Exim as sendmail(1) (-bm, the default), delivering at once in the background.
  void send(const fs::path& message, const std::vector<std::string>& recipients) const {
    std::vector<std::string> argv = {exim_, "-C", config(), "-f", "rep@sender.test", "-i", "--"};
    argv.insert(argv.end(), recipients.begin(), recipients.end());
    std::string out;
    if (runCommandWithInput(argv, message, &out) != 0)
      throw std::runtime_error("exim -bm failed: " + out);
  }

 private:
  std::string config() const { return (dir_ / "exim.conf").string(); }
  // The daemon and the deliveries it forked.
  void stop() { stopGroup(process_); }
  TempDir dir_;
  unsigned short port_ = 0;
  std::string exim_;
  Process process_;
};

// The sending side: the same routes as the sending Postfix, plus no route at all for other
// domains; the rep's notices into a Maildir. A deferred address is warned about after 2 s (then
// hourly) and given up after 10 s (retry rule F,10s,2s).
auto sendingExim(unsigned short relayPort, unsigned short closedPort) {
  return [=](const std::string& mail) {
    std::ostringstream c;
    c << "primary_hostname = mta.exim-sender.test\ndomainlist local_domains = sender.test\n"
      << "acl_smtp_rcpt = acl_check_rcpt\ndelay_warning = 2s:1h\n"
      << "begin acl\nacl_check_rcpt:\n  accept hosts = 127.0.0.1\n  deny\n"
      << "begin routers\n"
      << "rep:\n  driver = accept\n  domains = +local_domains\n  transport = rep_maildir\n"
      << "receiver:\n  driver = manualroute\n  domains = acme.test\n  route_list = * 127.0.0.1\n"
      << "  self = send\n  transport = to_receiver\n"
      << "dead:\n  driver = manualroute\n  domains = dead.test\n  route_list = * 127.0.0.1\n"
      << "  self = send\n  transport = to_closed_port\n"
      << "begin transports\n"
      << "to_receiver:\n  driver = smtp\n  port = " << relayPort << "\n  hosts_avoid_tls = *\n"
      << "to_closed_port:\n  driver = smtp\n  port = " << closedPort << "\n"
      << "rep_maildir:\n  driver = appendfile\n  directory = " << mail << "/rep\n"
      << "  maildir_format\n  user = Debian-exim\n"
      << "begin retry\n*  *  F,10s,2s\n";
    return c.str();
  };
}

// The sending side, Sendmail 8.17 (Debian's sendmail-bin and sendmail-cf, unpacked by
// scripts/setup): a sendmail.cf made by m4 from the package's own cf.m4, the mailertable routing
// acme.test to the receiver (relay mailer) and dead.test to the closed port (esmtp mailer), no DNS
// (nocanonify, hosts from files); its notices go through an alias to an mbox file. A deferred
// message is warned about after 2 s and returned after 10 s (Timeout.queuewarn, .queuereturn),
// the queue run every second.
class SendingSendmail {
 public:
  SendingSendmail(unsigned short relayPort, unsigned short closedPort) {
    const std::string root = kSendmailRoot;
    sendmail_ = root + "/usr/libexec/sendmail/sendmail";
    if (!fs::exists(sendmail_))
      throw std::runtime_error(sendmail_ + " is missing: scripts/setup unpacks Debian's sendmail-bin there.");
    const std::string m4 = findProgram("m4");
    if (m4.empty()) throw std::runtime_error("m4 is not installed (it makes sendmail.cf): run scripts/setup.");
    if (::geteuid() != 0) throw std::runtime_error("the Sendmail peer needs root");
    requireNamespaces("Sendmail");
    openToDaemons(dir_.path());
    fs::create_directories(dir_ / "queue");
    for (const char* box : {"rep.mbox", "postmaster.mbox"}) {
      std::ofstream(dir_ / box).flush();
      fs::permissions(dir_ / box, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                      fs::perms::group_write | fs::perms::others_read | fs::perms::others_write);
    }
    std::ofstream(dir_ / "aliases") << "rep: " << (dir_ / "rep.mbox").string() << "\npostmaster: "
                                    << (dir_ / "postmaster.mbox").string() << "\nMAILER-DAEMON: postmaster\n";
    std::ofstream(dir_ / "mailertable") << "acme.test\trelay:[127.0.0.1]\ndead.test\tesmtp:[127.0.0.1]\n";
    std::ofstream(dir_ / "service.switch") << "hosts files\naliases files\n";
    std::string out;
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = freePort();
      const std::string d = dir_.path().string();
      std::ofstream(dir_ / "test.mc")
          << "divert(0)dnl\ninclude(`" << root << "/usr/share/sendmail/cf/m4/cf.m4')dnl\n"
          << "VERSIONID(`safetynet test')dnl\nOSTYPE(`linux')dnl\n"
          << "define(`confDOMAIN_NAME', `mta.sm-sender.test')dnl\n"
          << "define(`QUEUE_DIR', `" << d << "/queue')dnl\ndefine(`STATUS_FILE', `" << d << "/sendmail.st')dnl\n"
          << "define(`ALIAS_FILE', `" << d << "/aliases')dnl\ndefine(`confPID_FILE', `" << d << "/sendmail.pid')dnl\n"
          << "define(`confEBINDIR', `" << root << "/usr/libexec/sendmail')dnl\n"
          << "define(`confSERVICE_SWITCH_FILE', `" << d << "/service.switch')dnl\n"
          << "define(`RELAY_MAILER_ARGS', `TCP $h " << relayPort << "')dnl\n"
          << "define(`ESMTP_MAILER_ARGS', `TCP $h " << closedPort << "')dnl\n"
          << "define(`confTO_QUEUEWARN', `2s')dnl\ndefine(`confTO_QUEUERETURN', `10s')dnl\n"
          << "define(`confMIN_QUEUE_AGE', `0')dnl\ndefine(`confDONT_PROBE_INTERFACES', `True')dnl\n"
          << "define(`confSMTP_LOGIN_MSG', `$j ESMTP " << bannerWord(dir_) << "')dnl\n"
          // The test's directory is under /tmp, world-writable with the sticky bit.
          << "define(`confDONT_BLAME_SENDMAIL', `TrustStickyBit,MapInUnsafeDirPath')dnl\n"
          << "DAEMON_OPTIONS(`Port=" << port_ << ", Addr=127.0.0.1, Name=MTA')dnl\n"
          << "FEATURE(`no_default_msa')dnl\nFEATURE(`nocanonify')dnl\nFEATURE(`mailertable', `hash -o " << d << "/mailertable')dnl\n"
          << "LOCAL_CONFIG\nCwsender.test\nMAILER(`local')dnl\nMAILER(`smtp')dnl\n";
      if (runCommand({"/bin/sh", "-c", m4 + " " + d + "/test.mc > " + config()}, &out) != 0)
        throw std::runtime_error("m4 failed: " + out);
      if (runCommand({"/bin/sh", "-c", root + "/usr/libexec/sendmail/makemap -C " + config() + " hash " + d +
                                           "/mailertable < " + d + "/mailertable"},
                     &out) != 0 ||
          runCommand(named({sendmail_, "-C", config(), "-bi"}), &out) != 0)
        throw std::runtime_error("makemap or newaliases failed: " + out);
      process_ = Process(named({sendmail_, "-C", config(), "-bD", "-q1s"}), dir_ / "sendmail.out");
      if (waitForGreeting(process_, port_, bannerWord(dir_), kPeerStartTimeout)) return;
      const bool exited = !process_.running();
      stop();
      if (!exited) break;  // neither up nor gone (peers.hpp): no second start
    }
    throw std::runtime_error("sendmail did not start: " + readFile(dir_ / "sendmail.out"));
  }
  ~SendingSendmail() { stop(); }
  std::vector<std::string> notices() const {
    const std::string box = readFile(dir_ / "rep.mbox");
    std::vector<std::string> out;
    if (box.empty()) return out;
    for (const auto& [begin, end] : safetynet::bounce::mailboxMessages(box)) out.push_back(box.substr(begin, end - begin));
    return out;
  }
  std::string log() const { return readFile(dir_ / "sendmail.out") + readFile(dir_ / "postmaster.mbox"); }
  void send(const fs::path& message, const std::vector<std::string>& recipients) const {
    std::vector<std::string> argv = {sendmail_, "-C", config(), "-f", "rep@sender.test", "-i", "--"};
    argv.insert(argv.end(), recipients.begin(), recipients.end());
    std::string out;
    if (runCommandWithInput(named(argv), message, &out) != 0)
      throw std::runtime_error("sendmail failed: " + out);
  }

 private:
  std::string config() const { return (dir_ / "sendmail.cf").string(); }
  // Sendmail sleeps a minute at start when the machine's own name has no domain ("My unqualified
  // host name (vm) unknown; sleeping for retry", before it reads its configuration): each run gets
  // a UTS namespace of its own whose host name is the test MTA's.
  static std::vector<std::string> named(std::vector<std::string> argv) {
    argv.insert(argv.begin(), {"/usr/bin/unshare", "--uts", "/bin/sh", "-c",
                               "hostname mta.sm-sender.test && exec \"$0\" \"$@\""});
    return argv;
  }
  // The daemon and its queue runners.
  void stop() { stopGroup(process_); }
  TempDir dir_;
  unsigned short port_ = 0;
  std::string sendmail_;
  Process process_;
};

// OpenSMTPD 6.8 (Debian's opensmtpd, unpacked by scripts/setup) on 127.0.0.1, named `hostname`,
// with a configuration of the test's: the listener here, the rest from `body`, which learns the
// directory its Maildirs go under (written as nobody). Its binary has its spool, control socket and
// delivery helpers compiled in (/var/spool/smtpd, /var/run/smtpd.sock, /usr/libexec/opensmtpd): one
// instance per machine, installed. Each run gets a mount namespace of its own with the test's
// spool and the unpacked helpers mounted over those paths and a fresh /run, and a UTS namespace
// with the MTA's name.
class OpenSmtpd {
 public:
  template <typename Body>
  OpenSmtpd(const std::string& hostname, Body body) {
    const std::string smtpd = std::string(kOpenSmtpdRoot) + "/usr/sbin/smtpd";
    if (!fs::exists(smtpd))
      throw std::runtime_error(smtpd + " is missing: scripts/setup unpacks Debian's opensmtpd there.");
    if (idOf("-u", "opensmtpd").empty() || idOf("-u", "opensmtpq").empty() || !fs::is_directory("/var/spool/smtpd") ||
        !fs::is_directory("/var/lib/opensmtpd/empty"))
      throw std::runtime_error("OpenSMTPD's users or directories are missing: run scripts/setup.");
    if (::geteuid() != 0) throw std::runtime_error("the OpenSMTPD peer needs root (mount namespaces, its users)");
    requireNamespaces("OpenSMTPD");
    openToDaemons(dir_.path());
    // Its name comes from /etc/mailname before the host name (util.c): where the machine has one,
    // the test's is mounted over it.
    std::ofstream(dir_ / "mailname") << hostname << "\n";
    fs::create_directories(dir_ / "spool");
    fs::permissions(dir_ / "spool", fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);  // 0711, as smtpd demands
    fs::create_directories(dir_ / "mail");
    fs::permissions(dir_ / "mail", fs::perms::all);  // Maildirs are written as nobody
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = freePort();
      std::ofstream(config()) << "listen on 127.0.0.1 port " << port_ << "\n" << body((dir_ / "mail").string());
      process_ = Process({"/usr/bin/unshare", "--mount", "--uts", "--propagation", "private", "/bin/sh", "-c",
                          "mount --bind \"$1\" /var/spool/smtpd && mount --bind \"$3\" /usr/libexec && "
                          "mount -t tmpfs none /run && hostname \"$4\" && "
                          "{ [ ! -e /etc/mailname ] || mount --bind \"$5\" /etc/mailname; } && exec \"$0\" -d -f \"$2\"",
                          smtpd, (dir_ / "spool").string(), config(), std::string(kOpenSmtpdRoot) + "/usr/libexec",
                          hostname, (dir_ / "mailname").string()},
                         dir_ / "smtpd.out");
      // Its banner is "220 <name> ESMTP OpenSMTPD", the name this run gives it.
      if (waitForGreeting(process_, port_, hostname + " ESMTP OpenSMTPD", kPeerStartTimeout)) return;
      const bool exited = !process_.running();
      stop();
      if (!exited) break;  // neither up nor gone (peers.hpp): no second start
    }
    throw std::runtime_error("smtpd did not start: " + readFile(dir_ / "smtpd.out"));
  }
  ~OpenSmtpd() { stop(); }
  unsigned short port() const { return port_; }
  fs::path maildir(const std::string& mailbox = "rep") const { return dir_ / "mail" / mailbox; }
  std::string log() const { return readFile(dir_ / "smtpd.out"); }
  // Over SMTP, as a mail client submits (Python's smtplib; OpenSMTPD's own enqueuer would need its
  // socket, inside the namespace), asking for every DSN.
  void send(const fs::path& message, const std::vector<std::string>& recipients) const {
    std::string list;
    for (const auto& r : recipients) list += "'" + r + "',";
    const std::string script = "import smtplib\ns = smtplib.SMTP('127.0.0.1', " + std::to_string(port_) +
                               ")\ns.sendmail('rep@sender.test', [" + list + "], open('" + message.string() +
                               "', 'rb').read(), rcpt_options=['NOTIFY=SUCCESS,DELAY,FAILURE'])\ns.quit()\n";
    const std::string python = findProgram("python3");
    if (python.empty()) throw std::runtime_error("python3 is missing (it submits to OpenSMTPD): run scripts/setup.");
    std::string out;
    if (runCommand({python, "-c", script}, &out) != 0) throw std::runtime_error("submitting to smtpd failed: " + out);
  }

 private:
  std::string config() const { return (dir_ / "smtpd.conf").string(); }
  // smtpd and its processes; its mounts go with the last of them.
  void stop() { stopGroup(process_); }
  TempDir dir_;
  unsigned short port_ = 0;
  Process process_;
};

// The sending side: the same routes as the sending Postfix, the rep's notices into a Maildir. A
// deferred address is warned about at its first temporary failure (its next retry falls after the
// 2 s warn interval: scheduler.c) and given up after 10 s (queue ttl), not retried meanwhile.
auto sendingOpenSmtpd(unsigned short relayPort, unsigned short closedPort) {
  return [=](const std::string& mail) {
    std::ostringstream c;
    c << "queue ttl 10s\nbounce warn-interval 2s\n"
      << "action \"rep\" maildir \"" << mail << "/rep\" virtual { \"@\" = nobody }\n"
      << "action \"receiver\" relay host smtp://127.0.0.1:" << relayPort << "\n"
      // Another loopback address: OpenSMTPD's routes are by host, not port, and the closed port's
      // errors would disable the receiver's route too.
      << "action \"closed\" relay host smtp://127.0.0.2:" << closedPort << "\n"
      << "match from any for domain \"sender.test\" action \"rep\"\n"
      << "match from any for domain \"acme.test\" action \"receiver\"\n"
      << "match from any for domain \"dead.test\" action \"closed\"\n";
    return c.str();
  };
}

// The DragonFly Mail Agent 0.13 (Debian's dma, unpacked by scripts/setup): no daemon, it delivers
// each message as it is handed over, all remote mail (its notices too) through one smarthost. Its
// configuration path is compiled in (/etc/dma): each run gets a mount namespace with the test's
// over it. dma forks a process per recipient and returns before they finish, and a process whose
// address is deferred sleeps and retries for days: each run is also a PID namespace whose first
// process waits until the spool is empty (20 s at most) and whose end kills whatever is left.
class SendingDma {
 public:
  explicit SendingDma(unsigned short smarthostPort) {
    dma_ = std::string(kDmaRoot) + "/usr/sbin/dma";
    if (!fs::exists(dma_)) throw std::runtime_error(dma_ + " is missing: scripts/setup unpacks Debian's dma there.");
    if (!fs::is_directory("/etc/dma"))
      throw std::runtime_error("/etc/dma is missing (the mount point): run scripts/setup.");
    if (::geteuid() != 0) throw std::runtime_error("the dma peer needs root (mount namespaces)");
    requireNamespaces("dma");
    openToDaemons(dir_.path());
    fs::create_directories(dir_ / "etc");
    fs::create_directories(dir_ / "spool");
    std::string out;
    // As its Debian package has the spool: dma is set-group-ID mail and writes there as that group.
    runCommand({"/bin/chgrp", "mail", (dir_ / "spool").string()}, &out);
    runCommand({"/bin/chmod", "2775", (dir_ / "spool").string()}, &out);
    std::ofstream(dir_ / "etc" / "dma.conf") << "SMARTHOST 127.0.0.1\nPORT " << smarthostPort
                                             << "\nMAILNAME mta.dma-sender.test\nSPOOLDIR "
                                             << (dir_ / "spool").string() << "\n";
  }
  // As sendmail(1) would be called. dma forks a process for each recipient but the last; each
  // one that fails writes its notice and sends it after sendmail(1) has returned. They run in a
  // PID namespace held by a sleeping init for the whole test, so that none is cut short (a
  // namespace per call, ended once the spool looked empty, killed notices half-sent on a loaded
  // machine) and none outlives the test.
  void send(const fs::path& message, const std::vector<std::string>& recipients) {
    if (!holder_.running()) startHolder();
    std::vector<std::string> argv = {"/usr/bin/nsenter", "--target", std::to_string(init_), "--mount", "--pid",
                                     "--",  dma_, "-D", "-f", "rep@sender.test", "-i"};
    argv.insert(argv.end(), recipients.begin(), recipients.end());
    std::string out;
    if (runCommandWithInput(argv, message, &out, std::chrono::seconds(90)) != 0) throw std::runtime_error("dma failed: " + out);
  }
  // What is still queued (a deferred address, a notice not yet sent).
  std::vector<std::string> queued() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir_ / "spool", ec); !ec && it != fs::directory_iterator(); it.increment(ec))
      out.push_back(it->path().filename().string() + ":\n" + readFile(it->path()));
    return out;
  }

 private:
  // The namespace's init: mounts the test's configuration over /etc/dma, says so, and sleeps.
  void startHolder() {
    const fs::path ready = dir_ / "holder.ready";
    holder_ = Process({"/usr/bin/unshare", "--pid", "--fork", "--kill-child", "--mount", "--propagation", "private",
                       "/bin/sh", "-c", "mount --bind \"$0\" /etc/dma && : > \"$1\" && exec sleep infinity",
                       (dir_ / "etc").string(), ready.string()},
                      dir_ / "holder.out");
    if (!eventually([&] { return fs::exists(ready); }, std::chrono::seconds(30)))
      throw std::runtime_error("dma's namespace did not start: " + readFile(dir_ / "holder.out"));
    // unshare's forked child is the init, and nsenter needs its pid: unshare itself stays outside.
    std::istringstream children(readFile("/proc/" + std::to_string(holder_.pid()) + "/task/" +
                                         std::to_string(holder_.pid()) + "/children"));
    if (!(children >> init_)) throw std::runtime_error("dma's namespace has no init");
  }

  TempDir dir_;
  std::string dma_;
  Process holder_;
  int init_ = -1;
};

// A Courier instance's own tree in `dir`: the package's configuration (etc/: courierd exits when a
// module's, even one unused, is missing) and empty spool (spool/, the courier user's), once the
// machine is known to have what every Courier peer needs. Returns a writer of control files.
auto prepareCourierTree(const TempDir& dir) {
  const std::string root = kCourierRoot;
  if (idOf("-u", "courier").empty() || !fs::is_directory("/etc/courier") || !fs::is_directory("/var/lib/courier") ||
      !fs::is_directory("/usr/lib/courier"))
    throw std::runtime_error("Courier's user or mount points are missing: run scripts/setup.");
  if (::geteuid() != 0) throw std::runtime_error("the Courier peer needs root (mount namespaces, its user)");
  requireNamespaces("Courier");
  openToDaemons(dir.path());
  fs::copy(root + "/etc/courier", dir / "etc", fs::copy_options::recursive);
  fs::copy(root + "/var/lib/courier", dir / "spool", fs::copy_options::recursive);
  std::string out;
  runCommand({"/bin/chown", "-R", "courier:courier", (dir / "spool").string()}, &out);
  return [etc = dir / "etc"](const std::string& name, const std::string& value) {
    std::ofstream(etc / name) << value << "\n";
  };
}

// Courier 1.0.16 (Debian's courier-base and courier-mta, unpacked by scripts/setup; the courier
// user and libraries from courier-authlib). courierd has its configuration, spool and modules
// compiled in (/etc/courier, /var/lib/courier, /usr/lib/courier): it runs in a mount namespace with
// the test's copies mounted over them, and a UTS namespace with the MTA's name. Its routes are the
// sending Postfix's (esmtproutes): acme.test to the receiver, dead.test to a closed port, and
// sender.test, where its notices go, to the rep's mailbox. A deferred address is warned about after
// 2 s (warntime) and returned after 20 s (queuetime: with less, no retry fell between the two and
// no warning was written), retried every second or so meanwhile (retryalpha/beta/gamma).
class SendingCourier {
 public:
  SendingCourier(unsigned short relayPort, unsigned short closedPort, unsigned short repsMailboxPort) {
    const std::string root = kCourierRoot;
    courierd_ = root + "/usr/lib/courier/courier/courierd";
    if (!fs::exists(courierd_))
      throw std::runtime_error(courierd_ + " is missing: scripts/setup unpacks Debian's courier-mta there.");
    const auto control = prepareCourierTree(dir_);
    control("me", "mta.courier-sender.test");
    control("locals", "localhost");
    control("esmtproutes", "acme.test: [127.0.0.1]," + std::to_string(relayPort) +
                               "\ndead.test: [127.0.0.2]," + std::to_string(closedPort) +
                               "\nsender.test: [127.0.0.1]," + std::to_string(repsMailboxPort));
    control("queuetime", "20s");
    control("warntime", "2s");
    control("retryalpha", "1s");
    control("retrybeta", "3");
    control("retrygamma", "2s");
    control("retrymaxdelta", "1");
    // No STARTTLS on loopback: the peers have no certificates.
    std::string courierd = readFile(dir_ / "etc" / "courierd");
    if (const auto at = courierd.find("\nESMTP_USE_STARTTLS="); at != std::string::npos)
      courierd.replace(at, courierd.find('\n', at + 1) - at, "\nESMTP_USE_STARTTLS=0");
    else
      courierd += "\nESMTP_USE_STARTTLS=0\n";
    std::ofstream(dir_ / "etc" / "courierd") << courierd;
    // courierd stays in the foreground; it logs to syslog only, so its output file holds only what
    // goes wrong before that.
    process_ = Process({"/usr/bin/unshare", "--mount", "--uts", "--propagation", "private", "/bin/sh", "-c",
                        "mount --bind \"$1\" /etc/courier && mount --bind \"$2\" /var/lib/courier && "
                        "mount --bind \"$3\" /usr/lib/courier && mount -t tmpfs none /run && hostname \"$4\" && "
                        "exec /usr/bin/env -i /bin/sh -c 'set -a; . /etc/courier/courierd; exec \"$0\"' \"$0\"",
                        "/usr/lib/courier/courier/courierd", (dir_ / "etc").string(), (dir_ / "spool").string(),
                        root + "/usr/lib/courier", "mta.courier-sender.test"},
                       dir_ / "courierd.out");
    // Ready when it has made the trigger its submissions wake it by.
    if (!eventually([&] { return fs::exists(dir_ / "spool" / "tmp" / "trigger"); }, std::chrono::seconds(10))) {
      stop();
      throw std::runtime_error("courierd did not start: " + readFile(dir_ / "courierd.out"));
    }
  }
  ~SendingCourier() { stop(); }
  std::string log() const { return readFile(dir_ / "courierd.out"); }
  // courierd and its modules, as they are now.
  std::string processes() { return "Courier's processes:\n" + groupState(process_.pid()); }
  // Courier's own sendmail(1), inside courierd's namespaces, asking for the DSNs given.
  void send(const fs::path& message, const std::vector<std::string>& recipients, const std::string& notify) const {
    std::vector<std::string> argv = {"/usr/bin/nsenter", "--target", std::to_string(process_.pid()), "--mount", "--uts",
                                     std::string(kCourierRoot) + "/usr/sbin/sendmail", "-f", "rep@sender.test"};
    if (!notify.empty()) argv.insert(argv.end(), {"-N", notify});
    argv.push_back("--");
    argv.insert(argv.end(), recipients.begin(), recipients.end());
    std::string out;
    if (runCommandWithInput(argv, message, &out) != 0) throw std::runtime_error("Courier's sendmail failed: " + out);
  }

 private:
  // courierd and its modules (one process group).
  void stop() { stopGroup(process_); }
  TempDir dir_;
  std::string courierd_;
  Process process_;
};

// Courier 1.0.16 as the receiver of acme.test, with its users checked as Courier checks them: its
// local module asks courier-authlib's authdaemond (Debian's, authpam: the machine's own users), so
// nobody@ is a mailbox and ghost@ is not. authdaemond starts in the namespace before the test's
// modules are mounted over /usr/lib/courier, where Debian keeps it. couriertcpd runs courieresmtpd
// for each connection; no courierd: accepted mail stays in the test's spool. esmtpacceptmailfor
// names the domains it takes by SMTP (module.esmtp/esmtp.C: without it only `me`'s); any other is
// refused as relaying.
class ReceivingCourier {
 public:
  ReceivingCourier() {
    const std::string root = kCourierRoot;
    const std::string authdaemond = "/usr/lib/courier/courier-authlib/authdaemond";
    if (!fs::exists(root + "/usr/sbin/couriertcpd") || !fs::exists(authdaemond))
      throw std::runtime_error("Courier's couriertcpd or courier-authlib's authdaemond is missing: run scripts/setup.");
    const auto control = prepareCourierTree(dir_);
    control("me", "mx.acme.test");
    control("locals", "acme.test");
    control("esmtpacceptmailfor", "acme.test");
    control("esmtpgreeting", "mx.acme.test ESMTP " + bannerWord(dir_));
    control("authdaemonrc", "authmodulelist=\"authpam\"\ndaemons=1\nauthdaemonvar=/run/courier/authdaemon");
    // No DNS check of the sender's domain (loopback has no DNS), no delay before refusals.
    std::string esmtpd = readFile(dir_ / "etc" / "esmtpd");
    esmtpd += "\nBOFHCHECKDNS=0\nTARPIT=0\n";
    std::ofstream(dir_ / "etc" / "esmtpd") << esmtpd;
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = freePort();
      process_ = Process(
          {"/usr/bin/unshare", "--mount", "--uts", "--propagation", "private", "/bin/sh", "-c",
           "mount --bind \"$1\" /etc/courier && mount --bind \"$2\" /var/lib/courier && mount -t tmpfs none /run && "
           "mkdir -p /run/courier/authdaemon && chmod 755 /run/courier /run/courier/authdaemon && hostname mx.acme.test "
           "|| exit 1; \"$0\" & n=0; "
           "while [ ! -S /run/courier/authdaemon/socket ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done; "
           "mount --bind \"$3\" /usr/lib/courier && exec /usr/bin/env -i /bin/sh -c "
           "'set -a; . /etc/courier/esmtpd; exec \"$0\" -address=127.0.0.1 -noidentlookup -nodnslookup -user=courier "
           "-group=courier \"$1\" \"$2\"' \"$4/usr/sbin/couriertcpd\" \"$5\" \"$4/usr/sbin/courieresmtpd\"",
           authdaemond, (dir_ / "etc").string(), (dir_ / "spool").string(), root + "/usr/lib/courier", root,
           std::to_string(port_)},
          dir_ / "courier.out");
      if (waitForGreeting(process_, port_, bannerWord(dir_), kPeerStartTimeout)) return;
      const bool exited = !process_.running();
      stopGroup(process_);
      if (!exited) break;  // neither up nor gone (peers.hpp): no second start
    }
    throw std::runtime_error("Courier's couriertcpd did not start: " + readFile(dir_ / "courier.out"));
  }
  ~ReceivingCourier() { stopGroup(process_); }
  unsigned short port() const { return port_; }
  std::string log() const { return readFile(dir_ / "courier.out"); }

 private:
  TempDir dir_;
  unsigned short port_ = 0;
  Process process_;
};

// nullmailer 2.2 (Debian's, unpacked by scripts/setup), the relay-only MTA of many small servers:
// every message goes to one smarthost, its notices too (nullmailer-dsn, queued like mail). Its
// paths are compiled in, but its own test hook (NULLMAILER_TEST_PREFIX, lib/config_path.cc) puts
// them under one directory: conf/, queue/, bin/, sbin/, protocols/ (here links to the unpacked
// programs). nullmailer-queue is set-user-ID mail, which turns that hook off: a plain copy of it is
// used instead (NULLMAILER_QUEUE, lib/forkexec.cc). The queue is run again a second after a
// failure, then every 2 s at most; a message still failing temporarily 20 s after it was queued
// is given up (queuelifetime).
class SendingNullmailer {
 public:
  explicit SendingNullmailer(unsigned short smarthostPort) {
    const std::string root = kNullmailerRoot;
    if (!fs::exists(root + "/usr/sbin/nullmailer-send"))
      throw std::runtime_error(root + "/usr/sbin/nullmailer-send is missing: scripts/setup unpacks Debian's nullmailer there.");
    if (::geteuid() != 0) throw std::runtime_error("the nullmailer peer needs root (a mount namespace)");
    requireNamespaces("nullmailer");
    openToDaemons(dir_.path());
    for (const char* d : {"conf", "queue/queue", "queue/tmp", "queue/failed"}) fs::create_directories(dir_ / d);
    fs::create_directory_symlink(root + "/usr/bin", dir_ / "bin");
    fs::create_directory_symlink(root + "/usr/sbin", dir_ / "sbin");
    fs::create_directory_symlink(root + "/usr/lib/nullmailer", dir_ / "protocols");
    fs::copy_file(root + "/usr/sbin/nullmailer-queue", dir_ / "nullmailer-queue");  // without its set-user-ID bit
    fs::permissions(dir_ / "nullmailer-queue", fs::perms::owner_all);
    std::string out;
    if (runCommand({"/usr/bin/mkfifo", (dir_ / "queue" / "trigger").string()}, &out) != 0)
      throw std::runtime_error("mkfifo failed: " + out);
    const auto conf = [&](const std::string& name, const std::string& value) {
      std::ofstream(dir_ / "conf" / name) << value << "\n";
    };
    conf("me", "mta.nm-sender.test");
    conf("defaultdomain", "nm-sender.test");
    conf("remotes", "127.0.0.1 smtp port=" + std::to_string(smarthostPort));
    conf("pausetime", "1");
    conf("maxpause", "2");
    // A first delivery that has not ended in 6 s is killed and tried again (sendtimeout, an hour
    // by default): a delivery once hung in CI, for reasons its log did not show. It is a guard,
    // not a fix, and a partial one: nullmailer-send's wait for later deliveries may miss the
    // timeout (its self-pipe can hold a stale child's record), so such a hang can still fail the
    // test, which then prints the processes and both logs. It says when a kill happened (timedOut()).
    conf("sendtimeout", "6");
    // Long enough that a message or a notice (queued and sent the same way) is given up only when
    // it fails permanently or still fails 20 s after it was queued: a notice given up is dropped
    // (no bounce of a bounce, send.cc).
    conf("queuelifetime", "20");
    // Debian's nullmailer takes its name from /etc/mailname, not from `me` (it says so at each
    // start): where the machine has one, the test's is mounted over it.
    std::ofstream(dir_ / "mailname") << "mta.nm-sender.test\n";
    process_ = Process({"/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                        "{ [ ! -e /etc/mailname ] || mount --bind \"$1\" /etc/mailname; } && exec \"$0\"",
                        root + "/usr/sbin/nullmailer-send", (dir_ / "mailname").string()},
                       dir_ / "send.out", env());
    // Ready when it has scanned its queue once (its first words), still running.
    eventually([&] { return log().find("Rescanning queue") != std::string::npos || !process_.running(); },
               std::chrono::seconds(10));
    if (log().find("Rescanning queue") == std::string::npos || !process_.running())
      throw std::runtime_error("nullmailer-send did not start: " + log());
  }
  ~SendingNullmailer() { stopGroup(process_); }
  std::string log() const { return readFile(dir_ / "send.out"); }
  // Whether a delivery was killed at its sendtimeout ("Sending timed out, killing protocol").
  bool timedOut() const { return log().find("Sending timed out") != std::string::npos; }
  // nullmailer-send and the delivery it runs, as they are now.
  std::string processes() { return "nullmailer's processes:\n" + groupState(process_.pid()); }
  // Its sendmail(1), as a program on the server would call it.
  void send(const fs::path& message, const std::vector<std::string>& recipients) const {
    std::vector<std::string> argv = {(dir_ / "sbin" / "sendmail").string(), "-f", "rep@sender.test", "--"};
    argv.insert(argv.end(), recipients.begin(), recipients.end());
    std::string out;
    if (runCommandWithInput(argv, message, &out, std::chrono::seconds(30), env()) != 0)
      throw std::runtime_error("nullmailer's sendmail failed: " + out);
  }
  // The messages it gave up (moved to failed/ as it bounced them).
  size_t failed() const {
    size_t n = 0;
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir_ / "queue" / "failed", ec); !ec && it != fs::directory_iterator(); it.increment(ec)) ++n;
    return n;
  }

 private:
  std::vector<std::string> env() const {
    return {"NULLMAILER_TEST_PREFIX=" + dir_.path().string(), "NULLMAILER_QUEUE=" + (dir_ / "nullmailer-queue").string()};
  }
  TempDir dir_;
  Process process_;
};

// Dovecot 2.3's LMTP server (Debian's dovecot-lmtpd) on 127.0.0.1, the mailbox store behind a
// Postfix as most Postfix sites run it: the users of a passwd-file, each Maildir under the test's
// directory, a quota where one is given (quota_rule, Dovecot's quota plugin).
class DovecotLmtp {
 public:
  // mailboxes: user name -> quota rule ("" for none).
  explicit DovecotLmtp(const std::map<std::string, std::string>& mailboxes) {
    const std::string dovecot = findProgram("dovecot");
    if (dovecot.empty()) throw std::runtime_error("dovecot is not installed: run scripts/setup.");
    if (idOf("-u", "dovecot").empty() || idOf("-u", "dovenull").empty())
      throw std::runtime_error("the dovecot or dovenull user is missing: run scripts/setup.");
    if (!fs::exists("/usr/lib/dovecot/lmtp"))
      throw std::runtime_error("Dovecot's LMTP server is missing (dovecot-lmtpd): run scripts/setup.");
    if (::geteuid() != 0) throw std::runtime_error("the Dovecot peer needs root (it drops to its users)");
    openToDaemons(dir_.path());
    for (const char* d : {"run", "state", "mail"}) fs::create_directories(dir_ / d);
    std::string out;
    runCommand({"/bin/chown", "dovecot:", (dir_ / "mail").string()}, &out);
    {
      std::ofstream users(dir_ / "users");
      for (const auto& [user, quota] : mailboxes)
        users << user << ":{PLAIN}unused:" << idOf("-u", "dovecot") << ":" << idOf("-g", "dovecot") << "::"
              << (dir_ / "mail" / user).string() << "::" << (quota.empty() ? "" : "userdb_quota_rule=" + quota) << "\n";
    }
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = freePort();
      const std::string d = dir_.path().string();
      std::ofstream(dir_ / "dovecot.conf")
          << "base_dir = " << d << "/run\nstate_dir = " << d << "/state\nlog_path = " << d << "/dovecot.log\n"
          << "protocols = lmtp\nlisten = 127.0.0.1\nssl = no\nmail_location = maildir:~/Maildir\n"
          << "login_greeting = " << bannerWord(dir_) << "\n"
          << "first_valid_uid = 1\nauth_username_format = %n\nmail_plugins = quota\n"
          << "plugin {\n  quota = maildir:User quota\n}\n"
          << "passdb {\n  driver = passwd-file\n  args = " << d << "/users\n}\n"
          << "userdb {\n  driver = passwd-file\n  args = " << d << "/users\n}\n"
          << "service lmtp {\n  inet_listener lmtp {\n    address = 127.0.0.1\n    port = " << port_ << "\n  }\n}\n";
      process_ = Process({dovecot, "-F", "-c", d + "/dovecot.conf"}, dir_ / "dovecot.out");
      if (waitForGreeting(process_, port_, bannerWord(dir_), kPeerStartTimeout)) return;
      const bool exited = !process_.running();
      stopGroup(process_);
      if (!exited) break;  // neither up nor gone (peers.hpp): no second start
    }
    throw std::runtime_error("dovecot did not start: " + readFile(dir_ / "dovecot.out") + log());
  }
  ~DovecotLmtp() { stopGroup(process_); }
  unsigned short port() const { return port_; }
  std::string log() const { return readFile(dir_ / "dovecot.log"); }
  fs::path maildir(const std::string& user) const { return dir_ / "mail" / user / "Maildir"; }

 private:
  TempDir dir_;
  unsigned short port_ = 0;
  Process process_;
};

}  // namespace

TEST(MtaBounces, PostfixNoticesAreReadForWhatHappened) {
  TempDir dir;
  Postfix receiver = receivingPostfix(dir);
  MaildirPostfix sender(sendingPostfix(receiver.port(), closedPort()));
  writeMessages(dir);
  sender.send(dir / "m1.eml", kRecipients, "success,delay,failure");
  sender.send(dir / "m2.eml", {"jane@acme.test"}, "");
  // The failures at RCPT, the refusal after DATA, the "relayed" report, the delay warning, the expiry.
  const auto notices = waitUntilNotices([&] { return maildirMessages(sender.maildir()); },
                                        [](const auto& n) { return bothExpiriesIn(n, {}); }, std::chrono::seconds(60));
  ASSERT_EQ(notices.size(), 5u) << sender.log() << "\nthe receiver's log:\n" << receiver.log();
  const auto got = readAll(notices);
  expectTheTruth(got, kRecipients);
  // NOTIFY=SUCCESS to a receiver without DSN: Postfix reports the message relayed. Not a bounce.
  const auto& jane = got.byRecipient.at("jane@acme.test");
  EXPECT_EQ(std::count_if(jane.begin(), jane.end(), [](const auto& r) { return r.action == "relayed" && !r.hard; }), 1)
      << describe(got);
}

TEST(MtaBounces, EximNoticesAreReadForWhatHappened) {
  TempDir dir;
  Postfix receiver = receivingPostfix(dir);
  Exim sender(sendingExim(receiver.port(), closedPort()));
  writeMessages(dir);
  // And a domain Exim has no route to: "Unrouteable address", no host asked, so no reply of its own.
  auto recipients = kRecipients;
  recipients.insert(recipients.begin(), "who@nowhere.test");
  sender.send(dir / "m1.eml", recipients);
  sender.send(dir / "m2.eml", {"jane@acme.test"});
  // The failures at routing and RCPT, the refusal after DATA, one delay warning (2 s, then hourly),
  // the expiries (in one notice or two).
  const auto notices = waitUntilNotices([&] { return maildirMessages(sender.maildir()); },
                                        [](const auto& n) { return bothExpiriesIn(n, {}); }, std::chrono::seconds(60));
  ASSERT_TRUE(notices.size() == 4u || notices.size() == 5u) << notices.size() << "\n" << sender.log() << "\nthe receiver's log:\n" << receiver.log();
  const auto got = readAll(notices);
  expectTheTruth(got, recipients);
  ASSERT_EQ(got.byRecipient.count("who@nowhere.test"), 1u) << describe(got);
  // What Exim says of a domain it finds no way to (with DNS: one that does not exist): its own words,
  // not the 550 of the dead mailbox listed under it.
  for (const auto& r : got.byRecipient.at("who@nowhere.test")) {
    EXPECT_EQ(r.reply_code, "") << describe(got);
    EXPECT_EQ(r.reason, "hostunknown") << describe(got);
    // No host asked: Exim itself answered (its Reporting-MTA, primary_hostname).
    EXPECT_EQ(r.remote_host, "mta.exim-sender.test") << describe(got);
  }
}

TEST(MtaBounces, SendmailNoticesAreReadForWhatHappened) {
  TempDir dir;
  Postfix receiver = receivingPostfix(dir);
  SendingSendmail sender(receiver.port(), closedPort());
  writeMessages(dir);
  sender.send(dir / "m1.eml", kRecipients);
  sender.send(dir / "m2.eml", {"jane@acme.test"});
  // The failures at RCPT, the refusal after DATA, the warning (Timeout.queuewarn), the return.
  const auto notices = waitUntilNotices([&] { return sender.notices(); },
                                        [](const auto& n) { return bothExpiriesIn(n, {}); }, std::chrono::seconds(60));
  ASSERT_EQ(notices.size(), 4u) << sender.log() << "\nthe receiver's log:\n" << receiver.log();
  expectTheTruth(readAll(notices), kRecipients);
}

TEST(MtaBounces, OpenSmtpdNoticesAreReadForWhatHappened) {
  TempDir dir;
  Postfix receiver = receivingPostfix(dir);
  OpenSmtpd sender("mta.osmtpd-sender.test", sendingOpenSmtpd(receiver.port(), closedPort("127.0.0.2")));
  writeMessages(dir);
  sender.send(dir / "m1.eml", kRecipients);
  sender.send(dir / "m2.eml", {"jane@acme.test"});
  // The failures at RCPT, the refusal after DATA, the "relayed" report (NOTIFY=SUCCESS, a receiver
  // without DSN), the delay warnings (the greylisted address; the closed port) and the expiries
  // (one notice or two).
  const NoticeForm form{.expiryWrittenAsDelay = true, .namesTheCommand = false};
  const auto notices = waitUntilNotices([&] { return maildirMessages(sender.maildir()); },
                                        [&](const auto& n) { return bothExpiriesIn(n, form); }, std::chrono::seconds(60));
  // The RCPT refusals, the two delay warnings and the two expiries each gathered in one notice or
  // not (a notice waits a second for more addresses: bounce.c).
  ASSERT_TRUE(notices.size() >= 5u && notices.size() <= 8u) << notices.size() << "\n" << sender.log() << "\nthe receiver's log:\n" << receiver.log();
  const auto got = readAll(notices);
  expectTheTruth(got, kRecipients, form);
  const auto& jane = got.byRecipient.at("jane@acme.test");
  EXPECT_EQ(std::count_if(jane.begin(), jane.end(), [](const auto& r) { return r.action == "relayed" && !r.hard; }), 1)
      << describe(got);
}

TEST(MtaBounces, DmaNoticesAreReadForWhatHappened) {
  // The receiving Postfix also relays sender.test to the rep's Maildir, since dma sends its
  // notices through the same smarthost as the mail. Only the permanent refusals: dma retries a
  // deferred address in a sleeping process for days (its compiled-in limit) and writes no delay
  // warning.
  MaildirPostfix repsMailbox(MaildirPostfixOptions{});
  TempDir dir;
  Postfix receiver = smarthostFor(dir, repsMailbox);
  SendingDma sender(receiver.port());
  writeMessages(dir);
  const std::vector<std::string> recipients = {"jane@acme.test", "nobody@acme.test", "full@acme.test",
                                               "blocked@acme.test"};
  sender.send(dir / "m1.eml", recipients);
  sender.send(dir / "m2.eml", {"jane@acme.test"});
  // One notice per failed address (dma writes each apart), and the refusal after DATA.
  const auto notices = waitForNotices([&] { return maildirMessages(repsMailbox.maildir()); }, 4, std::chrono::seconds(60));
  std::string queued;
  for (const auto& q : sender.queued()) queued += q + "\n";
  ASSERT_EQ(notices.size(), 4u) << repsMailbox.log() << queued;
  const auto got = readAll(notices);
  SCOPED_TRACE(describe(got));
  EXPECT_TRUE(got.problems.empty());
  ASSERT_EQ(got.byRecipient.size(), 4u);
  ASSERT_NO_FATAL_FAILURE(expectOneReading(got, "nobody@acme.test", true, "userunknown"));
  ASSERT_NO_FATAL_FAILURE(expectOneReading(got, "full@acme.test", false, "mailboxfull"));
  for (const std::string who : {"nobody@acme.test", "full@acme.test", "blocked@acme.test"})
    EXPECT_EQ(got.byRecipient.at(who)[0].smtp_command, "RCPT") << who << ": \"did not like our RCPT TO\"";
  for (const std::string who : {"blocked@acme.test", "jane@acme.test"}) {
    ASSERT_EQ(got.byRecipient.at(who).size(), 1u) << who;
    EXPECT_FALSE(got.byRecipient.at(who)[0].hard) << who;
    EXPECT_FALSE(deadAddressReason(got.byRecipient.at(who)[0].reason)) << who;
  }
  // "did not like our final DATA": the reply to the message itself.
  EXPECT_EQ(got.byRecipient.at("jane@acme.test")[0].smtp_command, "EOD");
}

TEST(MtaBounces, AReceiverThatAcceptedThenCouldNotDeliverWritesItsOwnNotice) {
  // Much of the mail that bounces was accepted first: the recipient's own server writes the
  // notice. A Postfix for acme.test that takes any address at RCPT (smtpd_reject_unlisted_recipient
  // = no) and learns at delivery (virtual(8)) that nobody@ has no mailbox ("unknown user", 5.1.1);
  // its notice comes back through the sender's Postfix. A message over the size the receiver
  // announces (EHLO SIZE) is not sent: the sender's Postfix writes that notice ("message size ...
  // exceeds size limit ... of server", 5.3.4).
  const unsigned short receiverPort = freePort();
  MaildirPostfix sender(sendingPostfix(receiverPort, closedPort()));
  MaildirPostfixOptions o;
  o.hostname = "mx.acme.test";
  o.domain = "acme.test";
  o.mailboxes = {"jane"};
  o.transport = {"sender.test smtp:[127.0.0.1]:" + std::to_string(sender.port())};
  o.extra = {"smtpd_reject_unlisted_recipient = no", "message_size_limit = 20000", "virtual_mailbox_limit = 20000"};
  o.port = receiverPort;
  MaildirPostfix receiver(o);
  TempDir dir;
  writeMessages(dir);
  {
    std::ofstream big(dir / "big.eml");
    big << "From: Rep <rep@sender.test>\nTo: Jane <jane@acme.test>\nSubject: The deck\nMessage-ID: <m3@sender.test>\n\n";
    for (int i = 0; i < 600; ++i) big << "Slide " << i << ": forty-odd bytes of a deck that is too big.\n";
  }
  sender.send(dir / "m1.eml", {"jane@acme.test", "nobody@acme.test"}, "");
  sender.send(dir / "big.eml", {"jane@acme.test"}, "");
  const auto notices = waitForNotices([&] { return maildirMessages(sender.maildir()); }, 2, std::chrono::seconds(60));
  ASSERT_EQ(notices.size(), 2u) << sender.log() << receiver.log();
  const auto got = readAll(notices);
  SCOPED_TRACE(describe(got));
  EXPECT_TRUE(got.problems.empty());
  ASSERT_EQ(got.byRecipient.size(), 2u);
  ASSERT_NO_FATAL_FAILURE(expectOneReading(got, "nobody@acme.test", true, "userunknown"));
  ASSERT_NO_FATAL_FAILURE(expectOneReading(got, "jane@acme.test", false, "mesgtoobig"));
  EXPECT_TRUE(eventually([&] { return maildirMessages(receiver.maildir("jane")).size() == 1; }))
      << "the first message reached jane";
}

TEST(MtaBounces, APostfixForwardToADeadMailboxNamesTheAddressItWasSentTo) {
  // kim@acme.test forwards to kim.k@othermail.test (a virtual alias), which othermail.test's
  // Postfix refuses at RCPT ("User unknown in virtual mailbox table"). acme.test's Postfix writes
  // the notice: the forward's target in Final-Recipient, the address the rep wrote to in
  // Original-Recipient and in its text "(expanded from <kim@acme.test>)" (bounce_notify_util.c).
  // The record is the dead target's, hard; the address the message was sent to is kept beside it.
  const unsigned short acmePort = freePort();
  MaildirPostfix sender(sendingPostfix(acmePort, closedPort()));
  MaildirPostfixOptions other;
  other.hostname = "mx.othermail.test";
  other.domain = "othermail.test";
  other.mailboxes = {"jane"};
  MaildirPostfix othermail(other);
  TempDir dir;
  std::ofstream(dir / "forwards") << "kim@acme.test kim.k@othermail.test\n";
  MaildirPostfixOptions o;
  o.hostname = "mx.acme.test";
  o.domain = "acme.test";
  o.mailboxes = {"jane"};
  o.transport = {"sender.test smtp:[127.0.0.1]:" + std::to_string(sender.port()),
                 "othermail.test smtp:[127.0.0.1]:" + std::to_string(othermail.port())};
  o.extra = {"virtual_alias_maps = texthash:" + (dir / "forwards").string()};
  o.port = acmePort;
  MaildirPostfix acme(o);
  writeMessages(dir);
  sender.send(dir / "m1.eml", {"kim@acme.test"}, "");
  const auto notices = waitForNotices([&] { return maildirMessages(sender.maildir()); }, 1, std::chrono::seconds(60));
  ASSERT_EQ(notices.size(), 1u) << sender.log() << acme.log() << othermail.log();
  const auto got = readAll(notices);
  SCOPED_TRACE(describe(got));
  EXPECT_TRUE(got.problems.empty());
  ASSERT_NO_FATAL_FAILURE(expectOneReading(got, "kim.k@othermail.test", true, "userunknown"));
  EXPECT_EQ(got.byRecipient.at("kim.k@othermail.test")[0].sent_to, "kim@acme.test");
  EXPECT_EQ(got.byRecipient.count("kim@acme.test"), 0u);
  // The same notice with its report taken out: Postfix's text alone names it.
  std::string text = notices[0];
  const size_t report = text.find("Content-Type: message/delivery-status");
  ASSERT_NE(report, std::string::npos);
  text.replace(report, std::string("Content-Type: message/delivery-status").size(), "Content-Type: text/x-removed");
  const auto c = safetynet::bounce::classify(text);
  ASSERT_EQ(c.records.size(), 1u) << c.error;
  EXPECT_EQ(c.records[0].recipient, "kim.k@othermail.test");
  EXPECT_EQ(c.records[0].sent_to, "kim@acme.test");
}

TEST(MtaBounces, APostfixThatDeliversThroughDovecotLmtpPassesItsRepliesOn) {
  // acme.test's Postfix takes any address at RCPT and delivers through Dovecot's LMTP, as most
  // Postfix sites do: Dovecot refuses an unknown user at RCPT ("550 5.1.1 <...> User doesn't
  // exist", lmtp-local.c) and a mailbox over its quota after the message (552 5.2.2 "Quota
  // exceeded (mailbox for user is full)", the quota plugin); Postfix writes the notice, which comes
  // back through the sender's Postfix.
  DovecotLmtp store({{"jane", ""}, {"full", "*:storage=10B"}});
  const unsigned short receiverPort = freePort();
  MaildirPostfix sender(sendingPostfix(receiverPort, closedPort()));
  MaildirPostfixOptions o;
  o.hostname = "mx.acme.test";
  o.domain = "acme.test";
  o.mailboxes = {};
  o.transport = {"sender.test smtp:[127.0.0.1]:" + std::to_string(sender.port())};
  o.extra = {"smtpd_reject_unlisted_recipient = no", "virtual_transport = lmtp:inet:127.0.0.1:" + std::to_string(store.port())};
  o.port = receiverPort;
  MaildirPostfix receiver(o);
  TempDir dir;
  writeMessages(dir);
  sender.send(dir / "m1.eml", {"jane@acme.test", "nobody@acme.test", "full@acme.test"}, "");
  const auto notices = waitForNotices([&] { return maildirMessages(sender.maildir()); }, 1, std::chrono::seconds(60));
  ASSERT_EQ(notices.size(), 1u) << sender.log() << receiver.log() << store.log();
  const auto got = readAll(notices);
  SCOPED_TRACE(describe(got) + notices[0]);
  EXPECT_TRUE(got.problems.empty());
  ASSERT_EQ(got.byRecipient.size(), 2u);
  ASSERT_NO_FATAL_FAILURE(expectOneReading(got, "nobody@acme.test", true, "userunknown"));
  ASSERT_NO_FATAL_FAILURE(expectOneReading(got, "full@acme.test", false, "mailboxfull"));
  EXPECT_NE(got.byRecipient.at("nobody@acme.test")[0].diagnostic.find("User doesn't exist"), std::string::npos);
  EXPECT_NE(got.byRecipient.at("full@acme.test")[0].diagnostic.find("Quota exceeded"), std::string::npos);
  EXPECT_EQ(maildirMessages(store.maildir("jane")).size(), 1u) << store.log();
}

TEST(MtaBounces, AnEximReceiverRefusesOrBouncesInItsOwnWords) {
  // The receiver is Exim, set up as its own default configuration is (src/configure.default: the
  // RCPT ACL's "require verify = recipient", the local user router's "cannot_route_message = Unknown
  // user"), with a quota on full@'s Maildir. The sending Postfix writes the RCPT refusal's notice;
  // Exim writes its own for the mailbox over quota (retried, then given up: retry rule "quota").
  const unsigned short senderPort = freePort();
  Exim receiver([=](const std::string& mail) {
    std::ostringstream c;
    c << "primary_hostname = mx.acme.test\ndomainlist local_domains = acme.test\n"
      << "acl_smtp_rcpt = acl_check_rcpt\n"
      << "begin acl\nacl_check_rcpt:\n  require message = relay not permitted\n    domains = +local_domains\n"
      << "  require verify = recipient\n  accept\n"
      << "begin routers\n"
      << "senders:\n  driver = manualroute\n  domains = sender.test\n  route_list = * 127.0.0.1\n"
      << "  self = send\n  transport = to_sender\n"
      << "localuser:\n  driver = accept\n  domains = +local_domains\n  local_parts = jane : full\n"
      << "  transport = local_maildir\n  cannot_route_message = Unknown user\n"
      << "begin transports\n"
      << "to_sender:\n  driver = smtp\n  port = " << senderPort << "\n  hosts_avoid_tls = *\n"
      << "local_maildir:\n  driver = appendfile\n  directory = " << mail << "/${local_part_data}\n"
      << "  maildir_format\n  user = Debian-exim\n  quota = ${if eq{$local_part_data}{full}{100}{}}\n"
      << "begin retry\n*  quota  F,3s,1s\n*  *  F,10s,2s\n";
    return c.str();
  });
  MaildirPostfixOptions o = sendingPostfix(receiver.port(), closedPort());
  o.port = senderPort;
  MaildirPostfix sender(o);
  TempDir dir;
  writeMessages(dir);
  sender.send(dir / "m1.eml", {"jane@acme.test", "nobody@acme.test", "full@acme.test"}, "");
  const auto notices = waitForNotices([&] { return maildirMessages(sender.maildir()); }, 2, std::chrono::seconds(60));
  ASSERT_EQ(notices.size(), 2u) << sender.log() << receiver.log();
  const auto got = readAll(notices);
  SCOPED_TRACE(describe(got));
  EXPECT_TRUE(got.problems.empty());
  ASSERT_EQ(got.byRecipient.size(), 2u);
  ASSERT_NO_FATAL_FAILURE(expectOneReading(got, "nobody@acme.test", true, "userunknown"));
  EXPECT_EQ(got.byRecipient.at("nobody@acme.test")[0].smtp_command, "RCPT");
  ASSERT_NO_FATAL_FAILURE(expectOneReading(got, "full@acme.test", false, "mailboxfull"));
  EXPECT_TRUE(eventually([&] { return maildirMessages(receiver.maildir("jane")).size() == 1; })) << receiver.log();
}

TEST(MtaBounces, AnOpenSmtpdReceiverRefusesUnknownAddressesInItsOwnWords) {
  // OpenSMTPD as the receiver of two domains, refusing at RCPT in its own words (lka_session.c):
  // globex.test delivers to the machine's users, and an address no user has is "550 Invalid
  // recipient"; initech.test, which no rule of its ruleset matches (mail it would not relay), gets
  // the very same words (lka_session.c:311-315): soft both, a dead address there costs soft bounces
  // until SOFT_BOUNCE_HOLD, never a live lead (the h80 audit). acme.test is a virtual domain whose table names jane@ alone, and an address
  // it does not list is "524 5.2.4 Mailing list expansion problem", the reply OpenSMTPD also gives
  // an alias loop or an expansion to nothing: RFC 3463's X.2.4 (a list that could not be expanded,
  // "permanent ... or persistent transient"), about the server's expansion, not a missing mailbox
  // the words name. Soft, on purpose. The sending Postfix writes the notice.
  OpenSmtpd receiver("mx.acme.test", [](const std::string& mail) {
    return "action \"virtual\" maildir \"" + mail + "/%{rcpt.user}\" virtual { \"jane@acme.test\" = nobody }\n" +
           "action \"users\" maildir \"" + mail + "/%{rcpt.user}\"\n" +
           "match from any for domain \"acme.test\" action \"virtual\"\n" +
           "match from any for domain \"globex.test\" action \"users\"\n";
  });
  MaildirPostfixOptions o = sendingPostfix(receiver.port(), closedPort());
  o.transport.push_back("globex.test smtp:[127.0.0.1]:" + std::to_string(receiver.port()));
  o.transport.push_back("initech.test smtp:[127.0.0.1]:" + std::to_string(receiver.port()));
  MaildirPostfix sender(o);
  TempDir dir;
  writeMessages(dir);
  sender.send(dir / "m1.eml", {"jane@acme.test", "nobody@acme.test", "nobody@globex.test", "ghost@globex.test", "kim@initech.test"},
              "");
  const auto notices = waitForNotices([&] { return maildirMessages(sender.maildir()); }, 1, std::chrono::seconds(60));
  ASSERT_EQ(notices.size(), 1u) << sender.log() << receiver.log();
  const auto got = readAll(notices);
  SCOPED_TRACE(describe(got) + notices[0]);
  EXPECT_TRUE(got.problems.empty());
  ASSERT_EQ(got.byRecipient.size(), 3u);
  ASSERT_NO_FATAL_FAILURE(expectOneReading(got, "ghost@globex.test", false, "userunknown"));
  ASSERT_NO_FATAL_FAILURE(expectOneReading(got, "kim@initech.test", false, "userunknown"));
  ASSERT_NO_FATAL_FAILURE(expectOneReading(got, "nobody@acme.test", false, "systemerror"));
  for (const auto& [who, words] : {std::pair<std::string, std::string>{"ghost@globex.test", "550 Invalid recipient"},
                                   {"kim@initech.test", "550 Invalid recipient"},
                                   {"nobody@acme.test", "524 5.2.4 Mailing list expansion problem"}}) {
    const auto& r = got.byRecipient.at(who)[0];
    EXPECT_NE(r.diagnostic.find(words), std::string::npos) << who << ": not OpenSMTPD's refusal";
    EXPECT_EQ(r.smtp_command, "RCPT") << who;
  }
  for (const std::string mailbox : {"jane", "nobody"})
    EXPECT_TRUE(eventually([&] { return maildirMessages(receiver.maildir(mailbox)).size() == 1; }))
        << mailbox << "'s copy: " << receiver.log();
}

TEST(MtaBounces, AGatewayThatAsksTheMailboxServerAtRcptPassesItsWordsOn) {
  // A filtering gateway in front of the mailbox server, as many companies run one: Exim with
  // "require verify = recipient/callout" (its spec, "Callout verification") asks the real Postfix
  // behind it at RCPT and refuses with that server's reply inside its own ("550-Callout
  // verification failed:" then "550 550 5.1.1 <...>: ... User unknown ..."). The dead mailbox is
  // hard; the full one and the refused one stay soft, whatever the gateway's own 550 says.
  TempDir dir;
  Postfix mailboxServer = receivingPostfix(dir);
  const unsigned short backend = mailboxServer.port();
  Exim gateway([=](const std::string&) {
    std::ostringstream c;
    c << "primary_hostname = gw.acme.test\ndomainlist relay_to_domains = acme.test\n"
      << "acl_smtp_rcpt = acl_check_rcpt\n"
      << "begin acl\nacl_check_rcpt:\n  require message = relay not permitted\n    domains = +relay_to_domains\n"
      << "  require verify = recipient/callout=10s\n  accept\n"
      << "begin routers\n"
      << "mailbox_server:\n  driver = manualroute\n  domains = acme.test\n  route_list = * 127.0.0.1\n"
      << "  self = send\n  transport = to_mailbox_server\n"
      << "begin transports\n"
      << "to_mailbox_server:\n  driver = smtp\n  port = " << backend << "\n  hosts_avoid_tls = *\n";
    return c.str();
  });
  MaildirPostfix sender(sendingPostfix(gateway.port(), closedPort()));
  writeMessages(dir);
  sender.send(dir / "m1.eml", {"jane@acme.test", "nobody@acme.test", "full@acme.test", "blocked@acme.test"}, "");
  const auto notices = waitForNotices([&] { return maildirMessages(sender.maildir()); }, 1, std::chrono::seconds(60));
  ASSERT_EQ(notices.size(), 1u) << sender.log() << gateway.log();
  const auto got = readAll(notices);
  SCOPED_TRACE(describe(got) + notices[0]);
  EXPECT_TRUE(got.problems.empty());
  ASSERT_EQ(got.byRecipient.size(), 3u);
  ASSERT_NO_FATAL_FAILURE(expectOneReading(got, "nobody@acme.test", true, "userunknown"));
  ASSERT_NO_FATAL_FAILURE(expectOneReading(got, "full@acme.test", false, "mailboxfull"));
  ASSERT_EQ(got.byRecipient.at("blocked@acme.test").size(), 1u);
  EXPECT_FALSE(got.byRecipient.at("blocked@acme.test")[0].hard);
  for (const std::string who : {"nobody@acme.test", "full@acme.test", "blocked@acme.test"})
    EXPECT_NE(got.byRecipient.at(who)[0].diagnostic.find("Callout verification failed"), std::string::npos)
        << who << ": not the gateway's refusal";
  EXPECT_TRUE(eventually([&] { return gateway.log().find("=> jane@acme.test") != std::string::npos; }))
      << "jane's copy went on: " << gateway.log();
}

TEST(MtaBounces, APostfixGatewayThatVerifiesRecipientsIsReadByItsReplyClass) {
  // Postfix gateways that probe the mailbox server behind them before they accept
  // (reject_unverified_recipient, ADDRESS_VERIFICATION_README) refuse with the server's answer
  // inside their own: "... Recipient address rejected: undeliverable address: host ... said: 550
  // 5.1.1 ... User unknown ...". The gateway's own code decides what the refusal is: acme.test's
  // gateway is set to refuse so (unverified_recipient_reject_code = 550: hard); globex.test's keeps
  // Postfix's default, 450 ("unverified address: host ... said: 550 5.1.1 ..."), a deferral
  // whatever the words inside it, until the message expires: soft throughout (RFC 3463: a 4.x.x is
  // never a permanent failure).
  Postfix mailboxServer({"acme.test", "globex.test"}, {"jane@acme.test OK", "jane@globex.test OK"}, {});
  auto gatewayFor = [&](const std::string& domain, const std::string& rejectCode) {
    return Postfix({}, {},
                   {"relay_domains = " + domain,
                    "transport_maps = inline:{" + domain + "=smtp:[127.0.0.1]:" + std::to_string(mailboxServer.port()) + "}",
                    "smtpd_recipient_restrictions = reject_unverified_recipient, permit_auth_destination, reject",
                    "unverified_recipient_reject_code = " + rejectCode, "smtp_dns_support_level = disabled",
                    // Wait for the probe's answer up to 20 s (default: 3 polls 3 s apart), or a slow
                    // machine gets "Address verification in progress" for jane@ too.
                    "address_verify_poll_count = 20", "address_verify_poll_delay = 1s"});
  };
  Postfix acmeGateway = gatewayFor("acme.test", "550");
  Postfix globexGateway = gatewayFor("globex.test", "450");
  MaildirPostfixOptions o = sendingPostfix(acmeGateway.port(), closedPort());
  o.transport.push_back("globex.test smtp:[127.0.0.1]:" + std::to_string(globexGateway.port()));
  MaildirPostfix sender(o);
  TempDir dir;
  writeMessages(dir);
  sender.send(dir / "m1.eml", {"jane@acme.test", "nobody@acme.test", "jane@globex.test", "nobody@globex.test"}, "");
  // The refusal, the delay warning, the expiry.
  const auto notices = waitForNotices([&] { return maildirMessages(sender.maildir()); }, 3, std::chrono::seconds(60));
  ASSERT_EQ(notices.size(), 3u) << sender.log();
  const auto got = readAll(notices);
  SCOPED_TRACE(describe(got));
  EXPECT_TRUE(got.problems.empty());
  ASSERT_EQ(got.byRecipient.size(), 2u);
  ASSERT_NO_FATAL_FAILURE(expectOneReading(got, "nobody@acme.test", true, "userunknown"));
  EXPECT_NE(got.byRecipient.at("nobody@acme.test")[0].diagnostic.find("undeliverable address"), std::string::npos)
      << "not the gateway's refusal";
  const auto& globex = got.byRecipient.at("nobody@globex.test");
  ASSERT_EQ(globex.size(), 2u);
  for (const auto& r : globex) {
    EXPECT_FALSE(r.hard) << r.action;
    EXPECT_EQ(r.status.substr(0, 1), "4") << r.action;
    EXPECT_NE(r.diagnostic.find("unverified address: host"), std::string::npos) << r.action << ": " << r.diagnostic;
  }
}

TEST(MtaBounces, AnEximReceiverThatCannotVerifyOurSenderIsNoDeadMailbox) {
  // Exim's "require verify = sender" at RCPT (a receiver checking that the sender's address routes)
  // with no route to sender.test: the 550 is about our sender, under a live recipient's RCPT.
  Exim receiver([](const std::string& mail) {
    std::ostringstream c;
    c << "primary_hostname = mx.acme.test\ndomainlist local_domains = acme.test\n"
      << "acl_smtp_rcpt = acl_check_rcpt\n"
      << "begin acl\nacl_check_rcpt:\n  require message = relay not permitted\n    domains = +local_domains\n"
      << "  require verify = sender\n  require verify = recipient\n  accept\n"
      << "begin routers\n"
      << "localuser:\n  driver = accept\n  domains = +local_domains\n  local_parts = jane\n"
      << "  transport = local_maildir\n  cannot_route_message = Unknown user\n"
      << "begin transports\n"
      << "local_maildir:\n  driver = appendfile\n  directory = " << mail << "/${local_part_data}\n"
      << "  maildir_format\n  user = Debian-exim\n";
    return c.str();
  });
  MaildirPostfix sender(sendingPostfix(receiver.port(), closedPort()));
  TempDir dir;
  writeMessages(dir);
  sender.send(dir / "m1.eml", {"jane@acme.test"}, "");
  const auto notices = waitForNotices([&] { return maildirMessages(sender.maildir()); }, 1, std::chrono::seconds(60));
  ASSERT_EQ(notices.size(), 1u) << sender.log() << receiver.log();
  const auto got = readAll(notices);
  SCOPED_TRACE(describe(got) + notices[0]);
  EXPECT_TRUE(got.problems.empty());
  ASSERT_EQ(got.byRecipient.size(), 1u);
  ASSERT_EQ(got.byRecipient.at("jane@acme.test").size(), 1u);
  const auto& jane = got.byRecipient.at("jane@acme.test")[0];
  ASSERT_NE(jane.diagnostic.find("Sender verify failed"), std::string::npos) << "not the refusal meant";
  EXPECT_FALSE(jane.hard);
  EXPECT_FALSE(deadAddressReason(jane.reason)) << jane.reason;
}

TEST(MtaBounces, APostfixReceiverRefusingUsOrOurSenderIsNoDeadMailbox) {
  // Refusals about the sending side, given at RCPT under a live mailbox (smtpd_delay_reject):
  // Postfix's client restriction ("Client host rejected: Access denied") and its sender access
  // map ("Sender address rejected: Access denied").
  TempDir dir;
  openToDaemons(dir.path());
  std::ofstream(dir / "sender_access") << "rep@sender.test REJECT\n";
  Postfix refusesUs({"acme.test"}, {"jane@acme.test OK"}, {"smtpd_client_restrictions = reject"});
  Postfix refusesOurSender({"globex.test"}, {"jane@globex.test OK"},
                           {"smtpd_sender_restrictions = check_sender_access texthash:" + (dir / "sender_access").string()});
  MaildirPostfixOptions o = sendingPostfix(refusesUs.port(), closedPort());
  o.transport.push_back("globex.test smtp:[127.0.0.1]:" + std::to_string(refusesOurSender.port()));
  MaildirPostfix sender(o);
  writeMessages(dir);
  sender.send(dir / "m1.eml", {"jane@acme.test", "jane@globex.test"}, "");
  const auto notices = waitForNotices([&] { return maildirMessages(sender.maildir()); }, 1, std::chrono::seconds(60));
  ASSERT_EQ(notices.size(), 1u) << sender.log();
  const auto got = readAll(notices);
  SCOPED_TRACE(describe(got));
  EXPECT_TRUE(got.problems.empty());
  ASSERT_EQ(got.byRecipient.size(), 2u);
  for (const auto& [who, words] : {std::pair<std::string, std::string>{"jane@acme.test", "Client host rejected"},
                                   {"jane@globex.test", "Sender address rejected"}}) {
    ASSERT_EQ(got.byRecipient.at(who).size(), 1u) << who;
    const auto& r = got.byRecipient.at(who)[0];
    ASSERT_NE(r.diagnostic.find(words), std::string::npos) << who << ": not the refusal meant";
    EXPECT_FALSE(r.hard) << who;
    EXPECT_FALSE(deadAddressReason(r.reason)) << who << " " << r.reason;
  }
}

TEST(MtaBounces, CourierNoticesAreReadForWhatHappened) {
  MaildirPostfix repsMailbox(MaildirPostfixOptions{});
  TempDir dir;
  Postfix receiver = receivingPostfix(dir);
  // Another loopback address for the closed port: Courier remembers a host's connection failure
  // for a while, and the receiver's address must not share it.
  SendingCourier sender(receiver.port(), closedPort("127.0.0.2"), repsMailbox.port());
  writeMessages(dir);
  sender.send(dir / "m1.eml", kRecipients, "success,delay,failure");
  sender.send(dir / "m2.eml", {"jane@acme.test"}, "");
  // Courier holds a message's report until every recipient is done: the delay warning (the
  // greylisted address, the closed port), then one notice with the RCPT refusals, the "relayed"
  // report and both expiries; and the refusal of m2 after DATA.
  const auto notices = waitUntilNotices([&] { return maildirMessages(repsMailbox.maildir()); },
                                        [](const auto& n) { return bothExpiriesIn(n, {}); }, std::chrono::seconds(90));
  // Each notice for what it holds, so a missing one is named.
  int warnings = 0, finals = 0, contentRefusals = 0;
  for (const auto& n : notices) {
    const auto c = safetynet::bounce::classify(n);
    const auto has = [&](const std::string& who, const std::string& action) {
      return std::any_of(c.records.begin(), c.records.end(),
                         [&](const auto& r) { return r.recipient == who && r.action == action; });
    };
    if (!c.records.empty() &&
        std::all_of(c.records.begin(), c.records.end(), [](const auto& r) { return r.action == "delayed"; }))
      ++warnings;
    if (has("greylist@acme.test", "failed") && has("x@dead.test", "failed") && has("nobody@acme.test", "failed") &&
        has("jane@acme.test", "relayed"))
      ++finals;
    if (c.records.size() == 1 && has("jane@acme.test", "failed")) ++contentRefusals;
  }
  EXPECT_EQ(warnings, 1) << "the delay warning";
  EXPECT_EQ(finals, 1) << "m1's one final notice: the refusals, the relayed report, both expiries";
  EXPECT_EQ(contentRefusals, 1) << "m2's refusal after DATA";
  ASSERT_EQ(notices.size(), 3u) << sender.log() << sender.processes() << "the smarthost's log:\n"
                               << receiver.log() << "the rep's mailbox's log:\n" << repsMailbox.log();
  const auto got = readAll(notices);
  expectTheTruth(got, kRecipients);
  SCOPED_TRACE(describe(got));
  // Its expiry is a failure with its own class, 5.0.0, beside the last attempt's words: for the
  // closed port the system's error text alone, with no reply ("Network is down" when the cached
  // error was lost, else "Connection refused").
  for (const auto& r : got.byRecipient.at("x@dead.test"))
    if (r.action == "failed") {
      EXPECT_EQ(r.status, "5.0.0");
      EXPECT_EQ(r.reason, "networkerror") << r.diagnostic;
    }
  // NOTIFY=SUCCESS to a receiver without DSN: "relayed", in the same notice. Not a bounce.
  const auto& jane = got.byRecipient.at("jane@acme.test");
  EXPECT_EQ(std::count_if(jane.begin(), jane.end(), [](const auto& r) { return r.action == "relayed" && !r.hard; }), 1);
}

TEST(MtaBounces, NullmailerNoticesAreReadForWhatHappened) {
  // As for dma: the receiving Postfix relays sender.test to the rep's Maildir, since nullmailer
  // sends its notices through its one smarthost.
  MaildirPostfix repsMailbox(MaildirPostfixOptions{});
  TempDir dir;
  // nullmailer returns the message whole (message/rfc822): the spam subject's header check must
  // not refuse the notice of its refusal.
  Postfix receiver = smarthostFor(dir, repsMailbox, {"nested_header_checks ="});
  SendingNullmailer sender(receiver.port());
  writeMessages(dir);
  sender.send(dir / "m1.eml", {"jane@acme.test", "nobody@acme.test", "full@acme.test", "blocked@acme.test"});
  sender.send(dir / "m2.eml", {"jane@acme.test"});
  sender.send(dir / "m1.eml", {"greylist@acme.test"});
  // One notice per message: nullmailer fails a message whole at its first refused RCPT, and gives
  // up the greylisted one at its queue lifetime.
  const auto notices = waitForNotices([&] { return maildirMessages(repsMailbox.maildir()); }, 3, std::chrono::seconds(60));
  ASSERT_EQ(notices.size(), 3u) << sender.log() << sender.processes() << "the smarthost's log:\n"
                               << receiver.log() << "the rep's mailbox's log:\n" << repsMailbox.log();
  if (sender.timedOut())
    std::cerr << "note: a nullmailer delivery hung and was killed at its sendtimeout:\n"
              << sender.log() << "the smarthost's log:\n" << receiver.log();
  const auto got = readAll(notices);
  SCOPED_TRACE(describe(got));
  EXPECT_TRUE(got.problems.empty());
  // m1's notice gives all four recipients the first refusal's status and reply, "550 5.1.1
  // <nobody@acme.test>: ... User unknown" (send.cc passes the one reply to nullmailer-dsn, which
  // writes it under each recipient): about nobody@ alone. The others were never judged, and their
  // records never count against them (`otherrecipient`).
  ASSERT_NO_FATAL_FAILURE(expectOneReading(got, "nobody@acme.test", true, "userunknown"));
  for (const std::string who : {"full@acme.test", "blocked@acme.test"}) {
    ASSERT_NO_FATAL_FAILURE(expectOneReading(got, who, false, "otherrecipient"));
    EXPECT_EQ(got.byRecipient.at(who)[0].status, "5.1.1") << who << ": the status as the notice wrote it";
  }
  // jane@: that record, and m2's refusal after DATA for its content.
  ASSERT_EQ(got.byRecipient.count("jane@acme.test"), 1u);
  ASSERT_EQ(got.byRecipient.at("jane@acme.test").size(), 2u);
  for (const auto& r : got.byRecipient.at("jane@acme.test")) {
    EXPECT_FALSE(r.hard);
    EXPECT_FALSE(deadAddressReason(r.reason)) << r.reason;
  }
  const auto& jane = got.byRecipient.at("jane@acme.test");
  EXPECT_EQ(std::count_if(jane.begin(), jane.end(), [](const auto& r) { return r.reason == "otherrecipient"; }), 1);
  // The greylisted message, given up (moved to failed/) but written as a delay: nullmailer-dsn
  // names its notice after the status's class ("has not been delivered", Action delayed, 4.7.1).
  ASSERT_EQ(got.byRecipient.count("greylist@acme.test"), 1u);
  ASSERT_EQ(got.byRecipient.at("greylist@acme.test").size(), 1u);
  const auto& greylist = got.byRecipient.at("greylist@acme.test")[0];
  EXPECT_EQ(greylist.action, "delayed");
  EXPECT_FALSE(greylist.hard);
  EXPECT_FALSE(deadAddressReason(greylist.reason)) << greylist.reason;
  EXPECT_EQ(sender.failed(), 3u) << "all three messages given up";
}

TEST(MtaBounces, ACourierReceiverRefusesUnknownUsersInItsOwnWords) {
  // Courier as the receiver: an address with no user is refused at RCPT in its local module's words,
  // "550 User <ghost> unknown" (module.local/local.C, the local part alone for a local domain): hard.
  // A domain it does not take mail for is "513 Relaying denied." (module.esmtp/esmtp.C): about
  // where we sent, not the mailbox: soft. nobody@, a user of the machine, is taken. The sending
  // Postfix writes the notice.
  ReceivingCourier receiver;
  MaildirPostfixOptions o = sendingPostfix(receiver.port(), closedPort());
  o.transport.push_back("elsewhere.test smtp:[127.0.0.1]:" + std::to_string(receiver.port()));
  MaildirPostfix sender(o);
  TempDir dir;
  writeMessages(dir);
  sender.send(dir / "m1.eml", {"nobody@acme.test", "ghost@acme.test", "x@elsewhere.test"}, "");
  const auto notices = waitForNotices([&] { return maildirMessages(sender.maildir()); }, 1, std::chrono::seconds(60));
  ASSERT_EQ(notices.size(), 1u) << sender.log() << receiver.log();
  const auto got = readAll(notices);
  SCOPED_TRACE(describe(got) + notices[0]);
  EXPECT_TRUE(got.problems.empty());
  ASSERT_EQ(got.byRecipient.size(), 2u) << "nobody@ was taken: no record";
  ASSERT_NO_FATAL_FAILURE(expectOneReading(got, "ghost@acme.test", true, "userunknown"));
  const auto& relay = got.byRecipient.at("x@elsewhere.test");
  ASSERT_EQ(relay.size(), 1u);
  EXPECT_FALSE(relay[0].hard);
  EXPECT_FALSE(deadAddressReason(relay[0].reason)) << relay[0].reason;
  for (const auto& [who, words] : {std::pair<std::string, std::string>{"ghost@acme.test", "550 User <ghost> unknown"},
                                   {"x@elsewhere.test", "513 Relaying denied."}}) {
    const auto& r = got.byRecipient.at(who)[0];
    EXPECT_NE(r.diagnostic.find(words), std::string::npos) << who << ": not Courier's refusal";
    EXPECT_EQ(r.smtp_command, "RCPT") << who;
  }
}
