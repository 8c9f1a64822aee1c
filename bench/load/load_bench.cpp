// The load benchmark of docs/benchmarks.md: N addresses over M domains, checked by `safetynet
// check --file` against a real unbound and a real Postfix behind a delaying proxy (RTT added to
// every DNS query and SMTP exchange), cold and then warm; and npm deep-email-validator, the peer,
// on the same addresses against the same servers in the same run. Run it with scripts/bench-load
// (root: the SMTP side listens on port 25, where the peer always connects).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "dataset.hpp"

using namespace safetynet::testing;
using namespace safetynet::bench;
namespace fs = std::filesystem;

namespace {

struct RunResult {
  double wall_s = 0;
  long max_rss_kb = 0;
  int status = 0;
};

// fork/exec with stdout to a file; wall time and the child's peak RSS from wait4.
RunResult runMeasured(const std::vector<std::string>& argv, const fs::path& out, const fs::path& err) {
  // The child of a threaded process makes no allocation before exec (tests/integration/peers.cpp).
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::string outPath = out.string(), errPath = err.string();
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    int o = open(outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, 1);
    dup2(e, 2);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  RunResult r;
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.max_rss_kb = ru.ru_maxrss;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

struct Outcome {
  std::vector<double> durations_ms;
  std::map<std::string, std::map<std::string, int>> confusion;  // truth -> answer -> count
  int lines = 0;
};

// safetynet's JSON lines: bounce_risk is "invalid", unknown "unknown", an allowed address with
// CATCH_ALL "catch_all", otherwise allowed "valid".
Outcome readSafetynet(const fs::path& file, const std::map<std::string, std::string>& truth) {
  Outcome o;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;
    ++o.lines;
    o.durations_ms.push_back(j.value("duration_ms", 0.0));
    std::string reason = j["reason"].is_string() ? j["reason"].get<std::string>() : "";
    std::string answer = reason == "bounce_risk" ? "invalid" : reason == "unknown" ? "unknown" : reason;
    if (reason.empty()) {
      answer = "valid";
      for (const auto& s : j["signals"])
        if (s.value("name", "") == "CATCH_ALL") answer = "catch_all";
    }
    auto t = truth.find(j.value("address", ""));
    o.confusion[t == truth.end() ? "?" : t->second][answer]++;
  }
  return o;
}

// deep-email-validator answers valid or not; a `false` is "invalid" whatever the reason.
Outcome readPeer(const fs::path& file, const std::map<std::string, std::string>& truth) {
  Outcome o;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;
    ++o.lines;
    o.durations_ms.push_back(j.value("duration_ms", 0.0));
    const std::string answer = j.value("valid", false) ? "valid" : "invalid";
    auto t = truth.find(j.value("address", ""));
    o.confusion[t == truth.end() ? "?" : t->second][answer]++;
  }
  return o;
}

std::string fmt(double v, int precision = 1) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(precision) << v;
  return o.str();
}

double median(std::vector<double> v) { return percentile(std::move(v), 0.5); }

// Medians over the repetitions: wall time, per-recipient p50 and p99; the largest peak RSS.
std::string row(const std::string& name, const std::vector<RunResult>& runs, const std::vector<Outcome>& outs, int n) {
  std::vector<double> wall, p50, p99;
  long rss = 0;
  for (const auto& r : runs) {
    wall.push_back(r.wall_s);
    rss = std::max(rss, r.max_rss_kb);
  }
  for (const auto& o : outs) {
    p50.push_back(percentile(o.durations_ms, 0.5));
    p99.push_back(percentile(o.durations_ms, 0.99));
  }
  std::string all;
  for (double w : wall) all += (all.empty() ? "" : ", ") + fmt(w, 2);
  return "| " + name + " | " + fmt(median(wall), 2) + " (" + all + ") | " + fmt(n / median(wall), 0) + " | " +
         fmt(median(p50), 3) + " | " + fmt(median(p99), 3) + " | " + fmt(rss / 1024.0, 1) + " |";
}

std::string confusionTable(const std::string& name, const Outcome& o) {
  std::string s = "\n" + name + " (rows: the truth; columns: the answer)\n\n| truth | valid | invalid | unknown | catch_all | other |\n|---|---|---|---|---|---|\n";
  for (const char* t : {"valid", "invalid", "unknown", "catch_all"}) {
    auto it = o.confusion.find(t);
    std::map<std::string, int> m = it == o.confusion.end() ? std::map<std::string, int>{} : it->second;
    int other = 0;
    for (const auto& [k, v] : m)
      if (k != "valid" && k != "invalid" && k != "unknown" && k != "catch_all") other += v;
    s += std::string("| ") + t + " | " + std::to_string(m["valid"]) + " | " + std::to_string(m["invalid"]) + " | " +
         std::to_string(m["unknown"]) + " | " + std::to_string(m["catch_all"]) + " | " + std::to_string(other) + " |\n";
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"safetynet load benchmark"};
  std::string binary, peerDir, workDir;
  int addresses = 10000, domains = 2000, rttMs = 50, peerConcurrency = 50, repeat = 1;
  app.add_option("--binary", binary, "the safetynet binary (release build)")->required();
  app.add_option("--peer-dir", peerDir, "directory with node_modules/deep-email-validator (empty: no peer run)");
  app.add_option("--addresses", addresses, "recipients");
  app.add_option("--domains", domains, "domains");
  app.add_option("--rtt-ms", rttMs, "round trip added to every DNS query and SMTP exchange");
  app.add_option("--peer-concurrency", peerConcurrency, "validations the peer runs at once");
  app.add_option("--repeat", repeat, "runs of each; the report gives medians");
  app.add_option("--work-dir", workDir, "keep inputs and outputs here (default: a temp dir, removed)");
  CLI11_PARSE(app, argc, argv);

  try {
    Dataset data = makeDataset(addresses, domains);
    std::map<std::string, std::string> truth;
    for (const auto& r : data.recipients) truth[r.address] = r.truth;
    std::optional<TempDir> tmp;
    fs::path dir = workDir.empty() ? (tmp.emplace(), tmp->path()) : fs::path(workDir);
    fs::create_directories(dir);
    {
      std::ofstream f(dir / "addresses.txt");
      for (const auto& r : data.recipients) f << r.address << "\n";
    }
    std::cerr << "starting unbound and postfix (" << domains << " domains, " << data.recipients.size()
              << " recipients)\n";
    MailPeers peers(data, std::chrono::milliseconds(rttMs));
    const std::string dnsServer = peers.dnsServer();
    {
      std::ofstream cfg(dir / "safetynet.yaml");
      cfg << "state_dir: " << (dir / "state").string() << "\n"
          << "dns: {servers: [\"" << dnsServer << "\"], timeout: 5s}\n"
          << "smtp_probe: {enabled: true, helo: probe.bench.test, port: " << kProbePort << "}\n";
    }
    const std::vector<std::string> ours = {binary, "check", "--config", (dir / "safetynet.yaml").string(), "--json",
                                           "--file", (dir / "addresses.txt").string()};
    std::vector<RunResult> cold, warm, peer;
    std::vector<Outcome> coldOut, warmOut, peerOut;
    for (int r = 0; r < repeat; ++r) {
      fs::remove_all(dir / "state");
      fs::create_directories(dir / "state");
      std::cerr << "run " << r + 1 << "/" << repeat << ": safetynet, cold cache\n";
      cold.push_back(runMeasured(ours, dir / "cold.jsonl", dir / "cold.err"));
      coldOut.push_back(readSafetynet(dir / "cold.jsonl", truth));
      if (cold.back().status != 0 || coldOut.back().lines != static_cast<int>(data.recipients.size()))
        throw std::runtime_error("safetynet check failed (status " + std::to_string(cold.back().status) + "): " +
                                 readFile(dir / "cold.err"));
      std::cerr << "run " << r + 1 << "/" << repeat << ": safetynet, warm cache\n";
      warm.push_back(runMeasured(ours, dir / "warm.jsonl", dir / "warm.err"));
      warmOut.push_back(readSafetynet(dir / "warm.jsonl", truth));
      if (peerDir.empty()) continue;
      std::cerr << "run " << r + 1 << "/" << repeat << ": deep-email-validator\n";
      const std::string script = (fs::path(SAFETYNET_BENCH_DIR) / "load" / "deep_email_validator.mjs").string();
      peer.push_back(runMeasured({"node", script, peerDir, dnsServer, std::to_string(peerConcurrency),
                                  (dir / "addresses.txt").string()},
                                 dir / "peer.jsonl", dir / "peer.err"));
      peerOut.push_back(readPeer(dir / "peer.jsonl", truth));
      if (peer.back().status != 0) throw std::runtime_error("the peer failed: " + readFile(dir / "peer.err"));
    }
    // Anything in Postfix's queue would mean a probe sent mail. Give lost connections a moment.
    std::this_thread::sleep_for(std::chrono::seconds(2));

    const int n = static_cast<int>(data.recipients.size());
    std::cout << "### " << n << " recipients over " << domains << " domains, " << rttMs << " ms round trip\n\n"
              << "Medians of " << repeat << " run(s); each run's wall time in brackets.\n\n"
              << "| run | wall s | decisions/s | p50 ms/recipient | p99 ms/recipient | peak RSS MB |\n"
              << "|---|---|---|---|---|---|\n"
              << row("safetynet, cold cache", cold, coldOut, n) << "\n"
              << row("safetynet, warm cache", warm, warmOut, n) << "\n";
    if (!peer.empty())
      std::cout << row("deep-email-validator, " + std::to_string(peerConcurrency) + " at once", peer, peerOut, n) << "\n";
    std::cout << confusionTable("safetynet, cold cache", coldOut.front());
    if (!peer.empty()) std::cout << confusionTable("deep-email-validator", peerOut.front());
    std::cout << "\nPostfix queue after the run: " << peers.postfix().queuedFiles().size() << " files\n";
    // A wrong answer at any speed: a mailbox that exists called invalid, one that does not (or a
    // catch-all) called valid. A slow probe answers unknown, never these.
    auto count = [&](const char* truth, const char* answer) {
      auto t = coldOut.front().confusion.find(truth);
      if (t == coldOut.front().confusion.end()) return 0;
      auto a = t->second.find(answer);
      return a == t->second.end() ? 0 : a->second;
    };
    const int wrong = count("valid", "invalid") + count("invalid", "valid") + count("catch_all", "valid") +
                      count("catch_all", "invalid");
    if (wrong > 0) {
      std::cerr << "load_bench: " << wrong << " wrong answer(s) in the cold run (see the table)\n";
      return 4;
    }
  } catch (const std::exception& e) {
    std::cerr << "load_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
