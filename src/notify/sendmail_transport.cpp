// Hands the message to the local MTA: `sendmail -t -oi -f FROM` (Postfix, Exim and sendmail all
// take it), the message on stdin, recipients from its headers; the exit status says whether it
// was taken (sysexits.h).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <mutex>

#include "safetynet/notify/mail_transport.hpp"

extern char** environ;

namespace safetynet {

namespace {

class SendmailTransport final : public MailTransport {
 public:
  explicit SendmailTransport(EmailConfig c) : c_(std::move(c)) {
    // A sendmail that exits before reading all of stdin must not kill the daemon with SIGPIPE.
    static std::once_flag once;
    std::call_once(once, [] { ::signal(SIGPIPE, SIG_IGN); });
  }
  std::string_view name() const override { return "sendmail"; }

  MailResult send(const std::string& from, const std::vector<std::string>&, const std::string& message) override {
    MailResult r;
    std::vector<std::string> args{c_.sendmail_path};
    args.insert(args.end(), c_.sendmail_args.begin(), c_.sendmail_args.end());
    for (const char* a : {"-t", "-oi", "-f"}) args.emplace_back(a);
    args.push_back(from);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0) return fail("pipe: " + std::string(std::strerror(errno)));
    if (::pipe2(out, O_CLOEXEC) != 0) {
      ::close(in[0]);
      ::close(in[1]);
      return fail("pipe: " + std::string(std::strerror(errno)));
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, out[1], 2);
    // The MTA starts as a service manager would start it: every signal at its default, none
    // blocked. Otherwise it inherits the daemon's ignored SIGPIPE, and any mask left by whoever
    // started the daemon; a sendmail that waits for SIGCHLD with it blocked waits forever.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    // Each call returns an error number; the first one that fails is what the spawn reports.
    int spawned = posix_spawnattr_setsigdefault(&attr, &all);
    if (spawned == 0) spawned = posix_spawnattr_setsigmask(&attr, &none);
    if (spawned == 0) spawned = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    pid_t pid = -1;
    if (spawned == 0) spawned = ::posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    if (spawned != 0) {
      ::close(in[1]);
      ::close(out[0]);
      return fail("cannot run " + c_.sendmail_path + ": " + std::strerror(spawned));
    }
    const auto deadline = std::chrono::steady_clock::now() + c_.timeout;
    size_t written = 0;
    bool writeFailed = false;
    while (written < message.size()) {
      const ssize_t n = ::write(in[1], message.data() + written, message.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        writeFailed = true;
        break;
      }
      written += static_cast<size_t>(n);
    }
    ::close(in[1]);
    std::string said;
    char buf[512];
    pollfd p{out[0], POLLIN, 0};
    while (std::chrono::steady_clock::now() < deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (::poll(&p, 1, static_cast<int>(std::max<long long>(1, left.count()))) <= 0) continue;
      const ssize_t n = ::read(out[0], buf, sizeof buf);
      if (n <= 0) break;  // the program closed its output: it is exiting
      if (said.size() < 2000) said.append(buf, static_cast<size_t>(n));
    }
    ::close(out[0]);
    int status = 0;
    pid_t w = 0;
    while ((w = ::waitpid(pid, &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() < deadline)
      ::usleep(10000);
    if (w == 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      r.status = MailResult::Status::Unknown;  // it may have queued the message before it hung
      r.detail = c_.sendmail_path + " did not finish within the timeout";
      return r;
    }
    while (!said.empty() && (said.back() == '\n' || said.back() == '\r')) said.pop_back();
    const std::string output = said.empty() ? "" : ": " + said.substr(0, said.find('\n'));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !writeFailed) {
      r.status = MailResult::Status::Sent;
      r.detail = c_.sendmail_path + ": queued";
      return r;
    }
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.detail = c_.sendmail_path + " exited with " + std::to_string(code) + output;
    // EX_DATAERR, EX_NOUSER, EX_NOHOST: the message or an address is refused for good; anything
    // else (EX_TEMPFAIL, the program missing, killed) may pass later.
    if (code == 65 || code == 67 || code == 68) r.status = MailResult::Status::PermFail;
    return r;
  }

 private:
  static MailResult fail(std::string detail) {
    MailResult r;
    r.detail = std::move(detail);
    return r;
  }
  EmailConfig c_;
};

}  // namespace

MailTransportPtr makeSendmailTransport(const EmailConfig& config) { return std::make_shared<SendmailTransport>(config); }

}  // namespace safetynet
