#include "integration/peers.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <pwd.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace safetynet::testing {

namespace fs = std::filesystem;

std::string findProgram(const std::string& name) {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/sbin:/usr/bin:/bin";
  std::stringstream ss(path);
  for (std::string dir; std::getline(ss, dir, ':');) {
    fs::path p = fs::path(dir) / name;
    if (!dir.empty() && ::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return "";
}

// The ports the kernel hands out itself (to bind(0) and to outgoing connections), from
// /proc/sys/net/ipv4/ip_local_port_range. A port picked inside that range can be taken between
// the check below and the peer's own bind by any other test's server or connection: a Postfix
// master that then failed to bind left another test's server answering on its port.
std::pair<int, int> kernelPortRange() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768, high = 60999;
  in >> low >> high;
  return {low, high};
}

unsigned short freePort() {
  static std::mt19937 rng(std::random_device{}());
  // Below the kernel's range when there is room (Linux: 32768-60999), else above it.
  const auto [low, high] = kernelPortRange();
  const std::pair<int, int> pick = low > 12000 ? std::pair{10000, low - 1} : std::pair{std::min(high + 1, 65000), 65535};
  for (int attempt = 0; attempt < 200; ++attempt) {
    unsigned short port = static_cast<unsigned short>(std::uniform_int_distribution<int>(pick.first, pick.second)(rng));
    bool free = true;
    for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
      int fd = ::socket(AF_INET, type, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(port);
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) free = false;
      ::close(fd);
    }
    if (free) return port;
  }
  throw std::runtime_error("no free loopback port");
}

namespace {

// The first line a server on the loopback port says, or "" within `timeout`.
std::string tcpGreeting(unsigned short port, std::chrono::milliseconds timeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string line;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    char c;
    while (line.size() < 512 && ::recv(fd, &c, 1, 0) == 1 && c != '\n') line += c;
  }
  ::close(fd);
  return line;
}

}  // namespace

bool waitUntilUp(Process& process, std::chrono::milliseconds timeout, const std::function<bool()>& ready) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (ready()) return true;
    if (!process.running()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

bool waitForGreeting(Process& process, unsigned short port, const std::string& word, std::chrono::milliseconds timeout) {
  return waitUntilUp(process, timeout,
                     [&] { return tcpGreeting(port, std::chrono::seconds(5)).find(word) != std::string::npos; });
}

bool waitForTcp(unsigned short port, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {  // one try at least, however short the timeout
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    if (ok) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
}

TempDir::TempDir() {
  std::string t = (fs::temp_directory_path() / "safetynet-test-XXXXXX").string();
  if (!::mkdtemp(t.data())) throw std::runtime_error("mkdtemp failed");
  path_ = t;
}
TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

Process::Process(const std::vector<std::string>& argv, const fs::path& log, const std::vector<std::string>& env,
                 const fs::path& input) {
  // Everything the child needs is made here, before fork: the test process has other threads
  // (the fakes' servers), and a child of a threaded process may only make async-signal-safe calls
  // until exec. An allocation in the child hung forever on the allocator's lock another thread
  // held at the fork (ASan's, seen in CI: `safetynet decisions` "did not return within 120 s"
  // while the child had not even reached exec).
  const std::string logPath = log.string();
  // The input is opened here, so a missing file is an error the test reads, not a child that
  // silently exits. O_CLOEXEC: only the dup2'd stdin reaches the program.
  int inputFd = -1;
  if (!input.empty()) {
    inputFd = ::open(input.c_str(), O_RDONLY | O_CLOEXEC);
    if (inputFd < 0) throw std::runtime_error("cannot open " + input.string() + " as a program's input");
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> environment;
  for (char** e = ::environ; *e; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('=') + 1);
    const bool replaced = std::any_of(env.begin(), env.end(), [&name](const std::string& x) { return x.rfind(name, 0) == 0; });
    if (!replaced) environment.push_back(entry);
  }
  environment.insert(environment.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& e : environment) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_ = group_ = ::fork();
  if (pid_ < 0) {
    if (inputFd >= 0) ::close(inputFd);
    throw std::runtime_error("fork failed");
  }
  if (pid_ == 0) {
    int fd = ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    if (inputFd > 0) ::dup2(inputFd, 0);  // dup2 leaves the new stdin without O_CLOEXEC
    if (inputFd == 0) ::fcntl(0, F_SETFD, 0);
    ::setpgid(0, 0);
    // Each peer starts as a service manager would start it: no signal blocked or ignored, whatever
    // the runner of the tests left. With SIGCHLD blocked, nullmailer-send (which learns of its
    // delivery's end by SIGCHLD) sits on a finished delivery until its send timeout (reproduced
    // here by running the tests with SIGCHLD blocked; the CI hang of the nullmailer test was in
    // the smtp module itself, which printed no reply line, so that cause is not proven).
    for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  if (inputFd >= 0) ::close(inputFd);
}

Process& Process::operator=(Process&& o) noexcept {
  if (this != &o) {
    if (pid_ > 0) {
      signal(SIGKILL);
      wait(std::chrono::seconds(5));
    }
    pid_ = o.pid_;
    group_ = o.group_;
    exit_ = o.exit_;
    o.pid_ = o.group_ = -1;
  }
  return *this;
}

Process::~Process() {
  if (pid_ > 0) {
    signal(SIGTERM);
    if (wait(std::chrono::seconds(5)) == -1) {
      signal(SIGKILL);
      wait(std::chrono::seconds(5));
    }
  }
}

void Process::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

bool Process::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return true;
  // Reaped here: its pid may be reused, so it is never signalled again; wait() gives the status.
  pid_ = -1;
  exit_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return false;
}

int Process::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return exit_;
  auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      exit_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_;
    }
    if (std::chrono::steady_clock::now() > end) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string readFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string adminDaemonConfig(const fs::path& dir, const std::string& close_url, const std::string& poll_interval,
                              unsigned short port, const std::string& connector_extra, const std::string& admin_extra) {
  return "state_dir: " + (dir / "state").string() + "\npoll_interval: " + poll_interval +
         "\nshutdown_grace: 2s\nsmtp_probe: {enabled: false}\nfailsafe: {canaries: []}\n"
         "connectors:\n  - name: close-main\n    type: close\n    base_url: " + close_url +
         "\n    api_key: close-key\n" + connector_extra + "admin_api:\n  listen: 127.0.0.1:" + std::to_string(port) +
         "\n  token_file: admin.token\n" + admin_extra;
}

namespace {
// Where a process that does not return is stuck, for the failure message: each thread's kernel
// wait channel and system call, and (where gdb is installed) every thread's stack.
std::string whereStuck(int pid) {
  const fs::path proc = "/proc/" + std::to_string(pid);
  std::string out;
  std::error_code ec;
  for (const auto& task : fs::directory_iterator(proc / "task", ec)) {
    auto first = [](const fs::path& f) {
      std::ifstream in(f);
      std::string line;
      std::getline(in, line);
      return line;
    };
    out += "  thread " + task.path().filename().string() + ": " + first(task.path() / "comm") + ", wchan " +
           first(task.path() / "wchan") + ", syscall " + first(task.path() / "syscall") + "\n";
  }
  if (const std::string gdb = findProgram("gdb"); !gdb.empty()) {
    TempDir d;
    Process g({gdb, "-p", std::to_string(pid), "-batch", "-ex", "thread apply all bt 30"}, d / "gdb.log");
    if (g.wait(std::chrono::seconds(60)) == -1) g.signal(SIGKILL);
    out += readFile(d / "gdb.log");
  }
  return out;
}
}  // namespace

int runCommand(const std::vector<std::string>& argv, std::string* output, std::chrono::milliseconds timeout,
               const std::vector<std::string>& env) {
  return runCommandWithInput(argv, {}, output, timeout, env);
}

int runCommandWithInput(const std::vector<std::string>& argv, const fs::path& input, std::string* output,
                        std::chrono::milliseconds timeout, const std::vector<std::string>& env) {
  TempDir d;
  int rc;
  std::string stuck;
  {
    Process p(argv, d / "out.log", env, input);
    rc = p.wait(timeout);
    if (rc == -1) {
      stuck = "[" + argv.at(0) + " did not return within " + std::to_string(timeout.count()) +
              " ms; where it was:\n" + whereStuck(p.pid()) + "]\n";
      p.signal(SIGKILL);
    }
  }
  if (output) *output = stuck + readFile(d / "out.log");
  return rc;
}

Postgres::Postgres() {
  bin_ = "/usr/lib/postgresql/15/bin";
  if (!fs::exists(bin_ + "/initdb") || !fs::exists(bin_ + "/postgres"))
    throw std::runtime_error("PostgreSQL 15 is not installed (" + bin_ + "/initdb): the PostgreSQL store tests need a real "
                             "server. Run scripts/setup.");
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam("postgres");
    if (!pw) throw std::runtime_error("running as root and there is no `postgres` user to run initdb as: run scripts/setup");
    if (findProgram("setpriv").empty()) throw std::runtime_error("setpriv (util-linux) is missing: run scripts/setup");
    dropRoot_ = true;
    if (::chown(dir_.path().c_str(), pw->pw_uid, pw->pw_gid) != 0)
      throw std::runtime_error("cannot give " + dir_.path().string() + " to the postgres user");
  }
  std::string out;
  const int rc = runCommand(asOwner({bin_ + "/initdb", "-D", (dir_ / "data").string(), "-U", "safetynet",
                                     "--auth=trust", "--no-locale", "-E", "UTF8", "--no-sync"}),
                            &out);
  if (rc != 0) throw std::runtime_error("initdb failed: " + out);
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = freePort();
    if (start()) return;
  }
  throw std::runtime_error("postgres did not start on any of five ports: " + readFile(dir_ / "postgres.log"));
}

std::vector<std::string> Postgres::asOwner(std::vector<std::string> argv) const {
  if (!dropRoot_) return argv;
  std::vector<std::string> wrapped = {findProgram("setpriv"), "--reuid=postgres", "--regid=postgres", "--init-groups", "--"};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return wrapped;
}

bool Postgres::start() {
  // fsync off and a small cluster: a test database, thrown away at the end.
  const fs::path log = dir_ / "postgres.log";
  std::error_code ignored;
  fs::remove(log, ignored);  // the lines below are this start's
  process_ = Process(asOwner({bin_ + "/postgres", "-D", (dir_ / "data").string(), "-p", std::to_string(port_), "-k",
                              dir_.path().string(), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c",
                              "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=40"}),
                     log);
  // Its own log says it took the port ("listening on IPv4 address "127.0.0.1", port N"): an open
  // port alone may be another test's server that took it first. Then it takes connections once
  // past "the database system is starting up".
  const std::string listening = "port " + std::to_string(port_);
  for (int i = 0; i < 300; ++i) {
    if (!process_.running()) return false;  // "could not bind IPv4 address": the port was taken
    const std::string text = readFile(log);
    if (text.find("listening on IPv4 address") != std::string::npos && text.find(listening) != std::string::npos &&
        runCommand({bin_ + "/pg_isready", "-q", "-h", "127.0.0.1", "-p", std::to_string(port_)}, nullptr) == 0)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("postgres does not accept connections: " + readFile(log));
}

void Postgres::restart() {
  process_.signal(SIGINT);
  process_.wait(std::chrono::seconds(20));
  if (!start()) throw std::runtime_error("postgres did not start again on port " + std::to_string(port_) + ": " + readFile(dir_ / "postgres.log"));
}

Postgres::~Postgres() {
  process_.signal(SIGINT);  // fast shutdown: disconnects the clients
  process_.wait(std::chrono::seconds(20));
}

std::string Postgres::conninfo(const std::string& database) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=safetynet dbname=" + database + " connect_timeout=5";
}

std::string Postgres::createDatabase(const std::string& name) {
  std::string out;
  const int rc = runCommand({bin_ + "/createdb", "-h", "127.0.0.1", "-p", std::to_string(port_), "-U", "safetynet", name}, &out);
  if (rc != 0) throw std::runtime_error("createdb " + name + " failed: " + out);
  return conninfo(name);
}

Unbound::Unbound(const std::string& zones) {
  const std::string unbound = findProgram("unbound");
  if (unbound.empty())
    throw std::runtime_error("unbound is not installed: the DNS tests need a real resolver. Run scripts/setup.");
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = freePort();
    std::ofstream(dir_ / "unbound.conf") << "server:\n"
                                         << "  interface: 127.0.0.1\n  port: " << port_ << "\n"
                                         << "  do-daemonize: no\n  username: \"\"\n  chroot: \"\"\n"
                                         << "  directory: \"" << dir_.path().string() << "\"\n"
                                         << "  pidfile: \"\"\n  use-syslog: no\n  logfile: \"\"\n  verbosity: 0\n"
                                         << "  module-config: \"iterator\"\n  do-not-query-localhost: no\n"
                                         << "  access-control: 127.0.0.0/8 allow\n  num-threads: 1\n"
                                         << "  so-reuseport: no\n  outgoing-range: 64\n"
                                         << zones << "\nremote-control:\n  control-enable: no\n";
    process_ = Process({unbound, "-d", "-c", (dir_ / "unbound.conf").string()}, dir_ / "unbound.log");
    if (waitForTcp(port_, std::chrono::seconds(5))) return;
  }
  throw std::runtime_error("unbound did not start: " + readFile(dir_ / "unbound.log"));
}

TlsServer::TlsServer() {
  const std::string openssl = findProgram("openssl");
  if (openssl.empty()) throw std::runtime_error("openssl is not installed: run scripts/setup.");
  std::string out;
  int rc = runCommand({openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                       "-addext", "subjectAltName=DNS:localhost", "-keyout", (dir_ / "key.pem").string(), "-out",
                       (dir_ / "cert.pem").string()},
                      &out);
  if (rc != 0) throw std::runtime_error("openssl req failed: " + out);
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = freePort();
    process_ = Process({openssl, "s_server", "-accept", "127.0.0.1:" + std::to_string(port_), "-cert",
                        (dir_ / "cert.pem").string(), "-key", (dir_ / "key.pem").string(), "-www", "-quiet"},
                       dir_ / "s_server.log");
    if (waitForTcp(port_, std::chrono::seconds(5))) return;
  }
  throw std::runtime_error("openssl s_server did not start: " + readFile(dir_ / "s_server.log"));
}

std::string postfixMainCf(std::vector<std::string> lines, const std::vector<std::string>& extra) {
  const auto keyOf = [](const std::string& line) {
    std::string key = line.substr(0, line.find('='));
    while (!key.empty() && key.back() == ' ') key.pop_back();
    return key;
  };
  for (const auto& e : extra) {
    auto same = std::find_if(lines.begin(), lines.end(), [&](const std::string& l) { return keyOf(l) == keyOf(e); });
    if (same != lines.end()) *same = e;
    else lines.push_back(e);
  }
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

void checkPostfixConfig(const std::string& postfix, const std::string& configDir) {
  std::string out;
  runCommand({postfix, "-c", configDir, "check"}, &out);
  if (out.find("warning:") != std::string::npos)
    throw std::runtime_error("the test's Postfix configuration draws warnings (postfix check):\n" + out +
                             "every Postfix process would log them at its start, and a burst of them can deadlock "
                             "postlogd (tests/integration/peers.hpp)");
}

std::string postfixServices() {
  return "pickup unix n - n 60 1 pickup\ncleanup unix n - n - 0 cleanup\nqmgr unix n - n 300 1 qmgr\n"
         "rewrite unix - - n - - trivial-rewrite\nbounce unix - - n - 0 bounce\ndefer unix - - n - 0 bounce\n"
         "trace unix - - n - 0 bounce\nverify unix - - n - 1 verify\nproxymap unix - - n - - proxymap\n"
         "smtp unix - - n - - smtp\nshowq unix n - n - - showq\nerror unix - - n - - error\n"
         "retry unix - - n - - error\ndiscard unix - - n - - discard\nanvil unix - - n - 1 anvil\n"
         "scache unix - - n - 1 scache\npostlog unix-dgram n - n - 1 postlogd\n";
}

Postfix::Postfix(const std::vector<std::string>& domains, const std::vector<std::string>& mailboxes,
                 const std::vector<std::string>& extra_main_cf) {
  postfix_ = findProgram("postfix");
  if (postfix_.empty()) throw std::runtime_error("postfix is not installed: the SMTP probe tests need it. Run scripts/setup.");
  if (::geteuid() != 0) throw std::runtime_error("the Postfix peer needs root (it drops to the postfix user)");
  // Postfix's daemons run as the postfix user: they must reach the directory and own data/.
  fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                   fs::perms::others_read | fs::perms::others_exec);
  fs::create_directories(dir_ / "etc");
  fs::create_directories(dir_ / "queue");
  fs::create_directories(dir_ / "data");
  std::string out;
  runCommand({"/bin/chown", "postfix", (dir_ / "data").string()}, &out);
  {
    std::ofstream vd(dir_ / "etc" / "vdomains");  // a table, not a main.cf line: thousands of domains fit
    for (const auto& d : domains) vd << d << " OK\n";
    std::ofstream vm(dir_ / "etc" / "vmailbox");
    for (const auto& m : mailboxes) vm << m << "\n";
    std::ofstream ra(dir_ / "etc" / "rcpt_access");
    for (const auto& d : domains) {
      ra << "greylist@" << d << " 450 4.7.1 Greylisted, try again later\n";
      ra << "full@" << d << " 552 5.2.2 Mailbox full\n";
    }
  }
  // This peer's own banner word: its temporary directory's name, unique to it.
  const std::string token = dir_.path().filename().string() + "-" + std::to_string(::getpid());
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = freePort();
    std::ofstream(dir_ / "etc" / "master.cf")
        << "127.0.0.1:" << port_ << " inet n - n - - smtpd\n"
        << postfixServices();
    std::ofstream(dir_ / "etc" / "main.cf") << postfixMainCf(
        {"compatibility_level = 3.6", "queue_directory = " + (dir_ / "queue").string(),
         "data_directory = " + (dir_ / "data").string(), "myhostname = mx.safetynet-test.test", "mydestination =",
         "mynetworks = 127.0.0.0/8", "inet_interfaces = 127.0.0.1",
         "smtpd_banner = $myhostname ESMTP safetynet-test " + token,
         "virtual_mailbox_domains = texthash:" + (dir_ / "etc" / "vdomains").string(),
         "virtual_mailbox_maps = texthash:" + (dir_ / "etc" / "vmailbox").string(), "virtual_transport = discard:",
         "smtpd_recipient_restrictions = check_recipient_access texthash:" + (dir_ / "etc" / "rcpt_access").string() +
             ", reject_unauth_destination",
         "maillog_file = /dev/stdout", "alias_maps =", "alias_database =", "smtputf8_enable = yes"},
        extra_main_cf);
    checkPostfixConfig(postfix_, (dir_ / "etc").string());
    process_ = Process({postfix_, "-c", (dir_ / "etc").string(), "start-fg"}, dir_ / "postfix.log");
    // Ready when this Postfix greets: a listening port alone may be another process's (a port
    // taken between freePort and master's bind: another test's peer, even another Postfix peer,
    // whose banner would name the same port), or a master whose smtpd never starts.
    if (waitForGreeting(process_, port_, "safetynet-test " + token, kPeerStartTimeout)) return;
    const bool exited = !process_.running();
    ::kill(-process_.group(), SIGKILL);  // a start-up script still in its checks starts no master
    runCommand({postfix_, "-c", (dir_ / "etc").string(), "stop"}, &out);
    process_.wait(std::chrono::seconds(10));
    if (!exited) break;  // neither up nor gone: never a second start on the same directories
  }
  throw std::runtime_error("postfix did not start: " + readFile(dir_ / "postfix.log"));
}

Postfix::~Postfix() {
  std::string out;
  runCommand({postfix_, "-c", (dir_ / "etc").string(), "stop"}, &out, std::chrono::seconds(20));
}

std::string Postfix::log() const { return readFile(dir_ / "postfix.log"); }

std::vector<std::string> Postfix::queuedFilesAfterSessionsEnd(std::chrono::milliseconds wait) const {
  const auto until = std::chrono::steady_clock::now() + wait;
  std::vector<std::string> queued;
  while (!(queued = queuedFiles()).empty() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return queued;
}

std::vector<std::string> Postfix::queuedFiles() const {
  std::vector<std::string> files;
  for (const char* q : {"maildrop", "incoming", "active", "deferred", "hold"}) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir_ / "queue" / q, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
      if (it->is_regular_file()) files.push_back(it->path().string());
  }
  return files;
}

std::vector<nlohmann::json> cliDecisions(const std::string& binary, const std::string& config) {
  std::string out;
  if (runCommand({binary, "decisions", "-c", config, "--since", "1d", "--json"}, &out) != 0)
    throw std::runtime_error("safetynet decisions failed: " + out);
  std::vector<nlohmann::json> v;
  std::stringstream ss(out);
  for (std::string line; std::getline(ss, line);)
    if (!line.empty() && line[0] == '{') v.push_back(nlohmann::json::parse(line));
  return v;
}

TestCa::TestCa() {
  const std::string openssl = findProgram("openssl");
  if (openssl.empty()) throw std::runtime_error("openssl is not installed: run scripts/setup.");
  auto run = [](const std::vector<std::string>& argv) {
    std::string out;
    if (runCommand(argv, &out) != 0) throw std::runtime_error(argv[1] + " failed: " + out);
  };
  run({openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=safetynet test CA",
       "-keyout", (dir / "ca.key").string(), "-out", ca()});
  run({openssl, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", key(), "-out",
       (dir / "server.csr").string()});
  std::ofstream(dir / "ext.cnf") << "subjectAltName=DNS:localhost\n";
  run({openssl, "x509", "-req", "-in", (dir / "server.csr").string(), "-CA", ca(), "-CAkey", (dir / "ca.key").string(),
       "-CAcreateserial", "-days", "2", "-extfile", (dir / "ext.cnf").string(), "-out", cert()});
}

}  // namespace safetynet::testing
