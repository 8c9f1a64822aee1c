#include "integration/submission_peer.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace safetynet::testing {

namespace fs = std::filesystem;

namespace {
std::string need(const std::string& program) {
  std::string p = findProgram(program);
  if (p.empty()) throw std::runtime_error(program + " is not installed: the email tests need it. Run scripts/setup.");
  return p;
}

void run(const std::vector<std::string>& argv, const std::vector<std::string>& env = {}) {
  std::string out;
  if (runCommand(argv, &out, std::chrono::seconds(60), env) != 0)
    throw std::runtime_error(argv.front() + " failed: " + out);
}

std::string idOf(const std::string& flag, const std::string& user) {
  std::string out;
  runCommand({"/usr/bin/id", flag, user}, &out);
  while (!out.empty() && (out.back() == '\n')) out.pop_back();
  return out;
}
}  // namespace

SubmissionServer::SubmissionServer(const std::vector<std::string>& mailboxes, unsigned short port) {
  postfix_ = need("postfix");
  const std::string openssl = need("openssl"), saslpasswd2 = need("saslpasswd2");
  if (::geteuid() != 0) throw std::runtime_error("the Postfix peer needs root (it drops to the postfix user)");
  if (!fs::exists("/usr/lib/x86_64-linux-gnu/sasl2/libplain.so") && !fs::exists("/usr/lib/sasl2/libplain.so"))
    throw std::runtime_error("Cyrus SASL's PLAIN module is missing (libsasl2-modules): run scripts/setup.");
  fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                   fs::perms::others_read | fs::perms::others_exec);
  for (const char* d : {"etc", "etc/sasl", "queue", "data", "mail"}) fs::create_directories(dir_ / d);
  run({"/bin/chown", "postfix", (dir_ / "data").string(), (dir_ / "mail").string()});
  const std::string ca = (dir_ / "ca.pem").string(), caKey = (dir_ / "ca.key").string();
  run({openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=safetynet test CA",
       "-keyout", caKey, "-out", ca});
  run({openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=another CA", "-keyout",
       (dir_ / "other-ca.key").string(), "-out", (dir_ / "other-ca.pem").string()});
  run({openssl, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout",
       (dir_ / "etc" / "key.pem").string(), "-out", (dir_ / "server.csr").string()});
  std::ofstream(dir_ / "ext.cnf") << "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
  run({openssl, "x509", "-req", "-in", (dir_ / "server.csr").string(), "-CA", ca, "-CAkey", caKey, "-CAcreateserial",
       "-days", "2", "-extfile", (dir_ / "ext.cnf").string(), "-out", (dir_ / "etc" / "cert.pem").string()});
  // The sasldb; Debian's Postfix reads Cyrus's smtpd.conf from <config_directory>/sasl/.
  const std::string sasldb = (dir_ / "etc" / "sasl" / "sasldb2").string();
  std::string out;
  if (runCommand({"/bin/sh", "-c", "printf '%s' '" + std::string(kPassword) + "' | " + saslpasswd2 + " -p -c -f " +
                                       sasldb + " -u example.test safetynet"},
                 &out) != 0)
    throw std::runtime_error("saslpasswd2 failed: " + out);
  fs::permissions(sasldb, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  std::ofstream(dir_ / "etc" / "sasl" / "smtpd.conf")
      << "pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\nsasldb_path: " << sasldb << "\n";
  {
    std::ofstream vm(dir_ / "etc" / "vmailbox");
    for (const auto& m : mailboxes) vm << m << "@example.test example.test/" << m << "/\n";
  }
  const std::string uid = idOf("-u", "postfix"), gid = idOf("-g", "postfix");
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = port ? port : freePort();
    smtpsPort_ = freePort();
    const std::string submission =
        "  -o smtpd_sasl_auth_enable=yes\n  -o smtpd_tls_auth_only=yes\n"
        "  -o smtpd_client_restrictions=permit_sasl_authenticated,reject\n"
        "  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject\n";
    std::ofstream(dir_ / "etc" / "master.cf")
        << "127.0.0.1:" << port_ << " inet n - n - - smtpd\n  -o smtpd_tls_security_level=encrypt\n" << submission
        << "127.0.0.1:" << smtpsPort_ << " inet n - n - - smtpd\n  -o smtpd_tls_wrappermode=yes\n" << submission
        << postfixServices()
        << "tlsmgr unix - - n 1000? 1 tlsmgr\nvirtual unix - n n - - virtual\n";  // TLS; Maildir delivery
    std::ofstream(dir_ / "etc" / "main.cf")
        << "compatibility_level = 3.6\n"
        << "queue_directory = " << (dir_ / "queue").string() << "\n"
        << "data_directory = " << (dir_ / "data").string() << "\n"
        << "myhostname = smtp.safetynet-test.test\nmydomain = safetynet-test.test\nmydestination =\n"
        << "mynetworks = 127.0.0.1/32\ninet_interfaces = 127.0.0.1\nnotify_classes =\n"
        << "virtual_mailbox_domains = example.test\n"
        << "virtual_mailbox_maps = texthash:" << (dir_ / "etc" / "vmailbox").string() << "\n"
        << "virtual_mailbox_base = " << (dir_ / "mail").string() << "\n"
        << "virtual_uid_maps = static:" << uid << "\nvirtual_gid_maps = static:" << gid << "\n"
        << "virtual_transport = virtual\n"
        << "smtpd_tls_cert_file = " << (dir_ / "etc" / "cert.pem").string() << "\n"
        << "smtpd_tls_key_file = " << (dir_ / "etc" / "key.pem").string() << "\n"
        << "smtpd_sasl_type = cyrus\nsmtpd_sasl_path = smtpd\nsmtpd_sasl_local_domain = example.test\n"
        << "smtpd_sender_restrictions =\n"
        << "maillog_file = /dev/stdout\nalias_maps =\nalias_database =\nsmtputf8_enable = yes\n";
    checkPostfixConfig(postfix_, configDir());
    process_ = Process({postfix_, "-c", configDir(), "start-fg"}, dir_ / "postfix.log");
    const auto listening = [this] {
      return waitForTcp(port_, std::chrono::milliseconds(0)) && waitForTcp(smtpsPort_, std::chrono::milliseconds(0));
    };
    if (waitUntilUp(process_, kPeerStartTimeout, listening)) return;
    const bool exited = !process_.running();
    ::kill(-process_.group(), SIGKILL);  // a start-up script still in its checks starts no master
    runCommand({postfix_, "-c", configDir(), "stop"}, &out);
    process_.wait(std::chrono::seconds(10));
    if (port || !exited) break;  // a reserved port, or neither up nor gone (peers.hpp): no second start
  }
  throw std::runtime_error("postfix (submission) did not start: " + readFile(dir_ / "postfix.log"));
}

SubmissionServer::~SubmissionServer() {
  std::string out;
  runCommand({postfix_, "-c", configDir(), "stop"}, &out, std::chrono::seconds(20));
  process_.wait(std::chrono::seconds(20));
}

std::vector<std::string> SubmissionServer::messages(const std::string& local) const {
  std::vector<fs::path> files;
  for (const char* sub : {"new", "cur"}) {
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir_ / "mail" / "example.test" / local / sub, ec);
         !ec && it != fs::directory_iterator(); it.increment(ec))
      if (it->is_regular_file()) files.push_back(it->path());
  }
  // Maildir names begin with the delivery time in seconds, then a unique part: sort by mtime first.
  std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
    auto ta = fs::last_write_time(a), tb = fs::last_write_time(b);
    return ta != tb ? ta < tb : a.filename() < b.filename();
  });
  std::vector<std::string> out;
  for (const auto& f : files) out.push_back(readFile(f));
  return out;
}

std::vector<std::string> SubmissionServer::waitForMessages(const std::string& local, size_t n,
                                                           std::chrono::milliseconds timeout) const {
  const auto until = std::chrono::steady_clock::now() + timeout;
  auto got = messages(local);
  while (got.size() < n && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    got = messages(local);
  }
  return got;
}

std::string SubmissionServer::log() const { return readFile(dir_ / "postfix.log"); }

}  // namespace safetynet::testing
