// Measures the bounce classifier on a labelled corpus (../shared/testdata/bounces: emails/*.eml
// and expected.jsonl with Sisimai v5's results), and Debian's libsisimai-perl on the same files
// in the same run. Per recipient record: parse coverage, exact and coarse reason agreement,
// hard/soft agreement, hard-bounce precision and recall, status agreement (all codes, and only the
// records where Sisimai's expected code is a real RFC 3463 one).
// Usage: eval-bounces PATH [--verbose] [--min-parsed P] [--min-exact P] [--min-hardsoft P]
//        [--min-precision P] [--min-coarse P]; exit 1 below a floor (percentages), 2 on a bad argument.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include "safetynet/bounce/bounce.hpp"

namespace fs = std::filesystem;
using safetynet::bounce::BounceRecord;

namespace {

struct Got {
  std::string reason, status;
  bool hard = false;
};

std::string bucket(const std::string& r) {
  if (r == "userunknown" || r == "hostunknown" || r == "hasmoved" || r == "notaccept") return "hard";
  if (r == "mailboxfull" || r == "suspend" || r == "exceedlimit" || r == "filtered" || r == "mesgtoobig") return "soft-recipient";
  if (r == "blocked" || r == "badreputation" || r == "requireptr" || r == "authfailure" || r == "rejected" ||
      r == "norelaying" || r == "toomanyconn" || r == "speeding" || r == "securityerror" || r == "policyviolation")
    return "soft-sender";
  if (r == "spamdetected" || r == "virusdetected" || r == "contenterror" || r == "notcompliantrfc") return "soft-content";
  if (r == "expired" || r == "networkerror" || r == "systemerror" || r == "systemfull" || r == "mailererror" ||
      r == "syntaxerror" || r == "onhold" || r == "undefined")
    return "soft-infra";
  if (r == "feedback") return "complaint";
  return "not-bounce";
}

struct Score {
  int records = 0, parsed = 0, exact = 0, coarse = 0, hardsoft = 0, status = 0, tp = 0, fp = 0, fn = 0;
  // Sisimai writes a code of its own (X.0.9xx, e.g. 5.0.911 for userunknown) where the bounce
  // carries none; safetynet reports only codes the bounce holds. Status agreement on the
  // records whose expected code is a real RFC 3463 one:
  int carried = 0, carriedMatch = 0;
  static bool sisimaiOwnCode(const std::string& s) { return s.size() >= 7 && s.substr(1, 3) == ".0." && s[4] == '9'; }
  void add(const nlohmann::json& e, const Got* g) {
    ++records;
    const std::string want = e.value("status", "");
    const bool real = !sisimaiOwnCode(want);
    carried += real;
    const bool expHard = e.value("hardbounce", 0) == 1;
    if (!g) {
      fn += expHard;
      return;
    }
    ++parsed;
    exact += g->reason == e.value("reason", "");
    coarse += bucket(g->reason) == bucket(e.value("reason", ""));
    hardsoft += g->hard == expHard;
    status += g->status == want;
    carriedMatch += real && g->status == want;
    tp += g->hard && expHard;
    fp += g->hard && !expHard;
    fn += !g->hard && expHard;
  }
  double pct(int n) const { return records ? 100.0 * n / records : 0; }
  double precision() const { return tp + fp ? 100.0 * tp / (tp + fp) : 100.0; }
  double recall() const { return tp + fn ? 100.0 * tp / (tp + fn) : 100.0; }
};

// Debian's Sisimai (v4 API) on every file in one perl process: "FILE\tJSON" lines.
std::map<std::string, std::vector<Got>> runSisimai(const std::vector<fs::path>& files) {
  std::map<std::string, std::vector<Got>> out;
  std::string cmd = "perl -MSisimai -e 'for my $f (@ARGV) { my $d = Sisimai->dump($f) // \"[]\"; $d =~ s/\\n//g; "
                    "print \"$f\\t$d\\n\" }'";
  for (const auto& f : files) cmd += " '" + f.string() + "'";
  cmd += " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  std::string all;
  char buf[65536];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) all.append(buf, n);
  if (pclose(p) != 0) return {};
  std::istringstream in(all);
  std::string line;
  while (std::getline(in, line)) {
    auto tab = line.find('\t');
    if (tab == std::string::npos) continue;
    auto j = nlohmann::json::parse(line.substr(tab + 1), nullptr, false);
    std::vector<Got> v;
    if (j.is_array())
      for (const auto& r : j) {
        Got g;
        g.reason = r.value("reason", "");
        g.status = r.value("deliverystatus", "");
        g.hard = r.value("softbounce", 1) == 0;  // v4: softbounce 0 is hard; -1 not a bounce
        v.push_back(g);
      }
    out[fs::path(line.substr(0, tab)).filename().string()] = v;
  }
  return out;
}

void report(const std::string& name, const Score& s) {
  std::cout << std::fixed << std::setprecision(1) << "| " << name << " | " << s.pct(s.parsed) << "% | " << s.pct(s.exact)
            << "% | " << s.pct(s.coarse) << "% | " << s.pct(s.hardsoft) << "% | " << s.precision() << "% | "
            << s.recall() << "% | " << s.pct(s.status) << "% | "
            << (s.carried ? 100.0 * s.carriedMatch / s.carried : 0) << "% |\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: eval-bounces PATH [--verbose] [--min-parsed P] [--min-hardsoft P] [--min-precision P] [--min-coarse P] [--min-exact P]\n";
    return 2;
  }
  const fs::path root = argv[1];
  bool verbose = false;
  std::map<std::string, double> floors;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--verbose") verbose = true;
    else if (a.rfind("--min-", 0) == 0 && i + 1 < argc) floors[a.substr(6)] = std::stod(argv[++i]);
    else {
      std::cerr << "eval-bounces: unknown argument " << a << "\n";
      return 2;
    }
  }
  for (const auto& [name, value] : floors)
    if (name != "parsed" && name != "exact" && name != "hardsoft" && name != "precision" && name != "coarse") {
      std::cerr << "eval-bounces: no such measure --min-" << name << "\n";
      return 2;
    }
  std::ifstream exp(root / "expected.jsonl");
  if (!exp) {
    std::cerr << "eval-bounces: cannot read " << (root / "expected.jsonl") << "\n";
    return 2;
  }
  std::vector<std::pair<std::string, nlohmann::json>> expected;
  std::vector<fs::path> files;
  for (std::string line; std::getline(exp, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    expected.emplace_back(j.value("file", ""), j["expected"]);
    files.push_back(root / "emails" / j.value("file", ""));
  }
  Score ours, theirs;
  auto sisimai = runSisimai(files);
  for (const auto& [file, want] : expected) {
    std::ifstream in(root / "emails" / file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    auto c = safetynet::bounce::classify(ss.str());
    std::vector<Got> got;
    for (const auto& r : c.records) got.push_back(Got{r.reason, r.status, r.hard});
    for (size_t i = 0; i < want.size(); ++i) {
      const Got* g = i < got.size() ? &got[i] : nullptr;
      ours.add(want[i], g);
      auto it = sisimai.find(file);
      theirs.add(want[i], it != sisimai.end() && i < it->second.size() ? &it->second[i] : nullptr);
      if (verbose && (!g || g->reason != want[i].value("reason", "") || g->hard != (want[i].value("hardbounce", 0) == 1)))
        std::cout << file << " #" << i << ": want " << want[i].value("reason", "") << " " << want[i].value("status", "")
                  << (want[i].value("hardbounce", 0) ? " HARD" : "") << ", got "
                  << (g ? g->reason + " " + g->status + (g->hard ? " HARD" : "") : "nothing (" + c.error + ")")
                  << (i < c.records.size() ? " [" + c.format + (c.records[i].smtp_command.empty() ? "" : " " + c.records[i].smtp_command) +
                                                 "] " + c.records[i].recipient + " | " +
                                                 c.records[i].diagnostic.substr(0, 160)
                                           : "")
                  << "\n";
    }
  }
  std::cout << "\n" << expected.size() << " emails, " << ours.records << " recipient records\n\n"
            << "| classifier | parsed | reason exact | reason coarse | hard/soft | hard precision | hard recall | status | "
               "status (RFC 3463 codes, " << ours.carried << " records) |\n"
            << "|---|---|---|---|---|---|---|---|---|\n";
  report("safetynet", ours);
  if (!sisimai.empty()) report("Debian libsisimai-perl", theirs);
  else std::cout << "(Debian's libsisimai-perl is not installed: apt-get install libsisimai-perl)\n";
  int rc = 0;
  auto check = [&](const std::string& name, double value) {
    if (floors.count(name) && value + 1e-9 < floors[name]) {
      std::cout << "below the floor: " << name << " " << value << " < " << floors[name] << "\n";
      rc = 1;
    }
  };
  check("parsed", ours.pct(ours.parsed));
  check("exact", ours.pct(ours.exact));
  check("hardsoft", ours.pct(ours.hardsoft));
  check("precision", ours.precision());
  check("coarse", ours.pct(ours.coarse));
  return rc;
}
