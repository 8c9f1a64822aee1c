#pragma once
// Real peers started by the tests on free loopback ports and stopped by them: unbound for DNS,
// `openssl s_server` for TLS, and the safetynet binary itself. A peer that is not installed is a
// test failure with a clear message (run scripts/setup), never a silent skip.
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace safetynet::testing {

// Absolute path of an installed program (PATH, /usr/sbin, /sbin), or "" if absent.
std::string findProgram(const std::string& name);
// A TCP+UDP port on 127.0.0.1 that nothing listens on right now.
unsigned short freePort();
bool waitForTcp(unsigned short port, std::chrono::milliseconds timeout);

// A fresh directory under /tmp, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

class Process {
 public:
  Process() = default;
  // Starts argv[0] with the given arguments; stdout+stderr go to `log`, stdin comes from `input`
  // (none: the test's own).
  Process(const std::vector<std::string>& argv, const std::filesystem::path& log,
          const std::vector<std::string>& env = {}, const std::filesystem::path& input = {});
  Process(Process&& o) noexcept : pid_(o.pid_), group_(o.group_), exit_(o.exit_) { o.pid_ = o.group_ = -1; }
  Process& operator=(Process&& o) noexcept;
  ~Process();
  int pid() const { return pid_; }
  // Its process group (the child makes one of its own), still known once it has exited and been
  // reaped: what it started may live on in the group (a daemon's helpers, a start-up script's).
  int group() const { return group_; }
  void signal(int sig);
  // Exit status (or 128+signal), waiting at most `timeout`; -1 on timeout (or never started).
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // False once it has exited (reaped then: wait() returns its status at once).
  bool running();

 private:
  int pid_ = -1;
  int group_ = -1;
  int exit_ = -1;
};

// How long a peer may take to come up: Postfix runs its start-up checks before its master (the
// postfix-script's check-fatal and check-warn: a dozen postconf and find runs), seconds on a
// loaded 2-core machine; a peer that has exited is seen at once (below).
inline constexpr std::chrono::seconds kPeerStartTimeout{60};
// Ready when `process` greets on the port with `word` in its first line: a listening port alone
// may be another process's (taken between freePort and the peer's bind: another test's peer).
// False as soon as the process has exited (its bind failed: pick another port), or after
// `timeout` with it still running: then kill its process group, stop it and give up. A second
// start on the same directories would race the first (a Postfix master, in a session of its own,
// outlives the start-up script that started it).
bool waitForGreeting(Process& process, unsigned short port, const std::string& word, std::chrono::milliseconds timeout);
// The same with any readiness test (a listening port).
bool waitUntilUp(Process& process, std::chrono::milliseconds timeout, const std::function<bool()>& ready);

// unbound on 127.0.0.1:port with the given `local-zone`/`local-data` lines.
class Unbound {
 public:
  explicit Unbound(const std::string& zones);
  unsigned short port() const { return port_; }
  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  TempDir dir_;
  unsigned short port_ = 0;
  Process process_;
};

// A self-signed certificate for "localhost" and `openssl s_server -www` serving with it.
class TlsServer {
 public:
  TlsServer();
  unsigned short port() const { return port_; }
  std::string caFile() const { return (dir_ / "cert.pem").string(); }

 private:
  TempDir dir_;
  unsigned short port_ = 0;
  Process process_;
};

// A PostgreSQL 15 cluster of the test's own: initdb in a temporary directory, the server on
// 127.0.0.1:port (trust authentication, user "safetynet"), stopped by the destructor. When the tests
// run as root (initdb refuses root) the cluster runs as the `postgres` system user (setpriv).
class Postgres {
 public:
  Postgres();
  ~Postgres();
  unsigned short port() const { return port_; }
  // Creates an empty database and returns its libpq connection string.
  std::string createDatabase(const std::string& name);
  std::string conninfo(const std::string& database) const;
  // Stops the server (fast shutdown) and starts it again on the same port and data.
  void restart();

 private:
  // Starts the server on port_; false when it could not take the port (another test's peer took
  // it after freePort() found it free): the caller picks another.
  bool start();
  std::vector<std::string> asOwner(std::vector<std::string> argv) const;
  TempDir dir_;
  unsigned short port_ = 0;
  std::string bin_;
  bool dropRoot_ = false;
  Process process_;
};

// The master.cf lines of the services a test Postfix needs besides its smtpd listeners.
std::string postfixServices();
// main.cf from a peer's own lines and a test's: a test's line replaces the peer's line of the same
// key instead of following it. A key set twice makes every Postfix process warn at its start, and
// every warning goes to postlogd (maillog_file): the kernel queues 10 datagrams on its socket
// (net.unix.max_dgram_qlen), a burst of warnings from the processes of a starting Postfix filled
// it, and postlogd, warning about the same line as it started, blocked on its own full socket;
// then every process that logged blocked, smtpd too (a CI run's silent peer, SMTP_TIMEOUT; a
// loaded machine's, 1 start in 27; found still blocked in unix_dgram_sendmsg an hour later).
std::string postfixMainCf(std::vector<std::string> lines, const std::vector<std::string>& extra);
// `postfix check`, refusing a configuration that draws any warning (above).
void checkPostfixConfig(const std::string& postfix, const std::string& configDir);

// A real Postfix on 127.0.0.1:port that knows some mailboxes, never delivers (discard transport),
// and answers RCPT for special users from an access map (greylist@ 450 4.7.1, full@ 552 5.2.2).
class Postfix {
 public:
  // `mailboxes`: lines of the virtual mailbox map ("alice@example.test OK", "@catchall.test OK");
  // `domains`: the virtual mailbox domains.
  // `extra_main_cf`: more main.cf lines ("default_process_limit = 200").
  Postfix(const std::vector<std::string>& domains, const std::vector<std::string>& mailboxes,
          const std::vector<std::string>& extra_main_cf = {});
  ~Postfix();
  unsigned short port() const { return port_; }
  std::string log() const;
  // Files in the queue directories: anything that stays here means a message was queued.
  std::vector<std::string> queuedFiles() const;
  // What is left in the queue once the sessions have ended, waiting up to `wait` for it to empty:
  // smtpd opens a queue file at the first accepted RCPT (smtpd_delay_open_until_valid_rcpt) and
  // removes it when the session ends without DATA, a moment after the client is gone (longer after
  // a reset, on a loaded machine).
  std::vector<std::string> queuedFilesAfterSessionsEnd(std::chrono::milliseconds wait = std::chrono::seconds(5)) const;

 private:
  TempDir dir_;
  unsigned short port_ = 0;
  std::string postfix_;
  Process process_;
};

std::string readFile(const std::filesystem::path& p);
// The configuration of a daemon whose admin API the test calls: state in `dir`/state, one Close
// connector "close-main" at `close_url` (key "close-key"), no SMTP probe, no canaries, the admin API
// on 127.0.0.1:`port` with token_file admin.token (in `dir`). The extras are YAML lines added to
// the connector and to admin_api, each indented as those keys are.
std::string adminDaemonConfig(const std::filesystem::path& dir, const std::string& close_url,
                              const std::string& poll_interval, unsigned short port,
                              const std::string& connector_extra = "", const std::string& admin_extra = "");
// Runs a command to completion, returning exit status and combined output.
int runCommand(const std::vector<std::string>& argv, std::string* output,
               std::chrono::milliseconds timeout = std::chrono::seconds(120), const std::vector<std::string>& env = {});
// The same with stdin from the file `input` (a message for a sendmail(1)), no shell between.
int runCommandWithInput(const std::vector<std::string>& argv, const std::filesystem::path& input, std::string* output,
                        std::chrono::milliseconds timeout = std::chrono::seconds(120),
                        const std::vector<std::string>& env = {});

// `binary decisions -c config --since 1d --json`: one JSON object per decision, oldest first;
// throws when the command fails.
std::vector<nlohmann::json> cliDecisions(const std::string& binary, const std::string& config);

// A test CA and a server certificate for "localhost" only (no IP address in it), made by openssl.
struct TestCa {
  TempDir dir;
  std::string ca() const { return (dir / "ca.pem").string(); }
  std::string cert() const { return (dir / "cert.pem").string(); }
  std::string key() const { return (dir / "key.pem").string(); }
  TestCa();
};

}  // namespace safetynet::testing
