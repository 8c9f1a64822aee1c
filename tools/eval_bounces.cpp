// Measures the bounce classifier on labelled corpora, beside Debian's Sisimai on the same files.
//
// Two corpus formats, told apart by what the folder holds:
// - Sisimai's set-of-emails (../shared/testdata/bounces: emails/*.eml and expected.jsonl with
//   Sisimai v5's results); Debian's libsisimai-perl is run on the same files in the same run. Per
//   recipient record: parse coverage, exact and coarse reason agreement, hard/soft agreement,
//   hard-bounce precision and recall, status agreement (all codes, and only the records where
//   Sisimai's expected code is a real RFC 3463 one).
// - bounces-indep (../shared/testdata/bounces-indep: emails/, expected.jsonl with the labels other
//   projects' tests assert, sisimai-4.25.jsonl with Debian's Sisimai 4.25 on every file; the
//   folder's README): bounces read, recipients found, hard/soft, false and missed hard bounces,
//   hard bounces on an address the bounce is not about, non-bounces given a hard bounce. Rows the
//   README marks `review` are kept out of the headline figures and reported on their own.
//
// --folds K splits each corpus into K folds by a hash of the file name (FNV-1a, 64 bits, of the
// name inside emails/, modulo K: deterministic, independent of the file order and of K's other
// folds) and reports every fold and the sum over folds. Nothing is fitted per fold today (the
// rules are written from sources, not trained), so each fold's held-out figure is the figure on
// that fold's files and the sum over folds equals the all-files figure; the output says so.
//
// --rules FILE classifies with an admin's rules file (bounces.rules_file) on top of the built-in
// rules, as the daemon would. --ablate PREFIX measures what each built-in rule whose id starts
// with PREFIX carries: every corpus read again with that rule alone disabled, and the figures
// that move listed per rule (a rule whose removal moves nothing is counted, not listed).
//
// Usage: eval-bounces PATH... [--folds K] [--verbose] [--rules FILE] [--ablate PREFIX] [--min-parsed P]
//        [--min-exact P] [--min-hardsoft P] [--min-precision P] [--min-coarse P]
//        [--indep-min-hardsoft P] [--indep-min-recipients P] [--indep-max-false-hard N] [--indep-max-not-about N]
// The --min-* floors apply to a set-of-emails corpus, the --indep-* ones to the headline rows of
// a corpus with sisimai-4.25.jsonl (bounces-indep: the one nobody tuned for).
// The floors (percentages) apply to the set-of-emails corpus; exit 1 below one, 2 on a bad argument.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "bounce/rule_engine.hpp"
#include "safetynet/bounce/bounce.hpp"

namespace fs = std::filesystem;

namespace {

struct Got {
  std::string recipient, reason, status;
  bool hard = false;
  std::string rule;  // the deciding wording rule (ours only)
};
using Results = std::map<std::string, std::vector<Got>>;  // file name -> records

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The fold of a file: FNV-1a (64 bits) of its name, modulo K.
int foldOf(const std::string& name, int k) {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : name) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return static_cast<int>(h % static_cast<std::uint64_t>(k));
}

std::string readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Row {
  std::string file;
  nlohmann::json expected;  // the labelled items
  bool notBounce = false, review = false;
};

std::vector<Row> readExpected(const fs::path& root) {
  std::ifstream exp(root / "expected.jsonl");
  std::vector<Row> rows;
  for (std::string line; std::getline(exp, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    rows.push_back(Row{j.value("file", ""), j.value("expected", nlohmann::json::array()), j.value("not_bounce", false),
                       j.contains("review")});
  }
  return rows;
}

std::vector<Got> ours(const fs::path& file, std::string* format = nullptr) {
  auto c = safetynet::bounce::classify(readFile(file));
  if (format) *format = c.format.empty() ? "(" + c.error + ")" : c.format;
  std::vector<Got> got;
  for (const auto& r : c.records) got.push_back(Got{r.recipient, r.reason, r.status, r.hard, r.rule});
  return got;
}

std::string str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// ---- Sisimai's set-of-emails, labelled with Sisimai v5's results ----

std::string bucket(const std::string& r) {
  if (r == "userunknown" || r == "hostunknown" || r == "hasmoved" || r == "notaccept") return "hard";
  if (r == "mailboxfull" || r == "suspend" || r == "exceedlimit" || r == "filtered" || r == "mesgtoobig") return "soft-recipient";
  if (r == "blocked" || r == "badreputation" || r == "requireptr" || r == "authfailure" || r == "rejected" ||
      r == "norelaying" || r == "toomanyconn" || r == "speeding" || r == "securityerror" || r == "policyviolation")
    return "soft-sender";
  if (r == "spamdetected" || r == "virusdetected" || r == "contenterror" || r == "notcompliantrfc") return "soft-content";
  if (r == "expired" || r == "networkerror" || r == "systemerror" || r == "systemfull" || r == "mailererror" ||
      r == "syntaxerror" || r == "onhold" || r == "undefined" || r == "otherrecipient")
    return "soft-infra";
  if (r == "feedback") return "complaint";
  return "not-bounce";
}

struct Score {
  int emails = 0, records = 0, parsed = 0, exact = 0, coarse = 0, hardsoft = 0, status = 0, tp = 0, fp = 0, fn = 0;
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
  void operator+=(const Score& o) {
    emails += o.emails, records += o.records, parsed += o.parsed, exact += o.exact, coarse += o.coarse;
    hardsoft += o.hardsoft, status += o.status, tp += o.tp, fp += o.fp, fn += o.fn;
    carried += o.carried, carriedMatch += o.carriedMatch;
  }
  double pct(int n) const { return records ? 100.0 * n / records : 0; }
  double precision() const { return tp + fp ? 100.0 * tp / (tp + fp) : 100.0; }
  double recall() const { return tp + fn ? 100.0 * tp / (tp + fn) : 100.0; }
};

// Debian's Sisimai (v4 API) on every file in one perl process: "FILE\tJSON" lines.
Results runSisimai(const std::vector<fs::path>& files) {
  Results out;
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
      for (const auto& r : j)
        // v4: softbounce 0 is hard; -1 not a bounce
        v.push_back(Got{r.value("recipient", ""), r.value("reason", ""), r.value("deliverystatus", ""),
                        r.value("softbounce", 1) == 0, ""});
    out[fs::path(line.substr(0, tab)).filename().string()] = v;
  }
  return out;
}

void setHeader(const std::string& first, int carried) {
  std::cout << "| " << first << " | parsed | reason exact | reason coarse | hard/soft | hard precision | hard recall | status | "
            << "status (RFC 3463 codes, " << carried << " records) |\n|---|---|---|---|---|---|---|---|---|\n";
}

void setLine(const std::string& name, const Score& s) {
  std::cout << std::fixed << std::setprecision(1) << "| " << name << " | " << s.pct(s.parsed) << "% | " << s.pct(s.exact)
            << "% | " << s.pct(s.coarse) << "% | " << s.pct(s.hardsoft) << "% | " << s.precision() << "% | "
            << s.recall() << "% | " << s.pct(s.status) << "% | "
            << (s.carried ? 100.0 * s.carriedMatch / s.carried : 0) << "% |\n";
}

// Scores per fold (index K is the whole corpus) for safetynet and Sisimai.
struct SetRun {
  std::vector<Score> ours, theirs;
  bool haveSisimai = false;
};

SetRun runSet(const fs::path& root, int folds, bool verbose, bool withSisimai = true) {
  const auto rows = readExpected(root);
  std::vector<fs::path> files;
  for (const auto& r : rows) files.push_back(root / "emails" / r.file);
  SetRun run{std::vector<Score>(folds + 1), std::vector<Score>(folds + 1), false};
  const Results sisimai = withSisimai ? runSisimai(files) : Results{};
  run.haveSisimai = !sisimai.empty();
  for (const auto& row : rows) {
    std::string format;
    const auto got = ours(root / "emails" / row.file, &format);
    const int f = foldOf(row.file, folds);
    const auto it = sisimai.find(row.file);
    for (int k : {f, folds}) {
      ++run.ours[k].emails;
      ++run.theirs[k].emails;
    }
    for (size_t i = 0; i < row.expected.size(); ++i) {
      const auto& want = row.expected[i];
      const Got* g = i < got.size() ? &got[i] : nullptr;
      const Got* s = it != sisimai.end() && i < it->second.size() ? &it->second[i] : nullptr;
      for (int k : {f, folds}) {
        run.ours[k].add(want, g);
        run.theirs[k].add(want, s);
      }
      if (verbose && (!g || g->reason != want.value("reason", "") || g->hard != (want.value("hardbounce", 0) == 1)))
        std::cout << row.file << " #" << i << ": want " << want.value("reason", "") << " " << want.value("status", "")
                  << (want.value("hardbounce", 0) ? " HARD" : "") << ", got "
                  << (g ? g->reason + " " + g->status + (g->hard ? " HARD" : "") + " " + g->recipient : "nothing")
                  << " [" << format << "]\n";
    }
  }
  return run;
}

// ---- bounces-indep: labels from other projects' tests, Sisimai 4.25's results beside ----

struct IndepScore {
  int bounces = 0, read = 0;              // bounces, and those given at least one record
  int notBounces = 0, hardOnNotBounce = 0;  // non-bounces, and those given a hard bounce
  int named = 0, found = 0;               // items naming a recipient, and those found
  int labelled = 0, agree = 0;            // items with a hard/soft label, and agreement
  int soft = 0, falseHard = 0, hard = 0, missedHard = 0;
  int notAbout = 0;  // hard bounces on an address none of the file's labels name
  int statusLabelled = 0, statusOk = 0;
  void add(const Row& row, const std::vector<Got>& got) {
    if (row.notBounce) {
      ++notBounces;
      hardOnNotBounce += std::any_of(got.begin(), got.end(), [](const Got& g) { return g.hard; });
      return;
    }
    ++bounces;
    read += !got.empty();
    std::set<std::string> names;
    for (const auto& e : row.expected)
      for (const char* k : {"recipient", "recipient_alt"})
        if (auto a = lower(str(e, k)); !a.empty()) names.insert(a);
    for (size_t i = 0; i < row.expected.size(); ++i) {
      const auto& e = row.expected[i];
      const Got* m = nullptr;
      if (const std::string want = lower(str(e, "recipient")); !want.empty()) {
        ++named;
        const std::string alt = lower(str(e, "recipient_alt"));
        for (const auto& g : got)
          if (!m && (lower(g.recipient) == want || (!alt.empty() && lower(g.recipient) == alt))) m = &g;
        found += m != nullptr;
      } else if (i < got.size()) {
        m = &got[i];  // the labels name nobody: the record in the same place
      }
      if (e.contains("hardbounce") && e["hardbounce"].is_number()) {
        const bool wantHard = e["hardbounce"].get<int>() == 1, isHard = m && m->hard;
        ++labelled;
        agree += wantHard == isHard;
        (wantHard ? hard : soft) += 1;
        falseHard += !wantHard && isHard;
        missedHard += wantHard && !isHard;
      }
      if (const std::string st = str(e, "status"); !st.empty()) {
        ++statusLabelled;
        statusOk += m && m->status == st;
      }
    }
    if (!names.empty())
      for (const auto& g : got) notAbout += g.hard && !names.count(lower(g.recipient));
  }
  void operator+=(const IndepScore& o) {
    bounces += o.bounces, read += o.read, notBounces += o.notBounces, hardOnNotBounce += o.hardOnNotBounce;
    named += o.named, found += o.found, labelled += o.labelled, agree += o.agree, soft += o.soft;
    falseHard += o.falseHard, hard += o.hard, missedHard += o.missedHard, notAbout += o.notAbout;
    statusLabelled += o.statusLabelled, statusOk += o.statusOk;
  }
};

void indepHeader(const std::string& first) {
  std::cout << "| " << first << " | bounces read | recipient found | hard/soft | false hard | missed hard | "
            << "hard bounce on an address the bounce is not about | status exact | non-bounces given a hard bounce |\n"
            << "|---|---|---|---|---|---|---|---|---|\n";
}

void indepLine(const std::string& name, const IndepScore& s) {
  std::cout << std::fixed << std::setprecision(1) << "| " << name << " | " << s.read << "/" << s.bounces << " | " << s.found
            << "/" << s.named << " | " << (s.labelled ? 100.0 * s.agree / s.labelled : 0) << "% (" << s.agree << "/"
            << s.labelled << ") | " << s.falseHard << "/" << s.soft << " | " << s.missedHard << "/" << s.hard << " | "
            << s.notAbout << " | " << s.statusOk << "/" << s.statusLabelled << " | " << s.hardOnNotBounce << "/"
            << s.notBounces << " |\n";
}

Results readSisimaiJsonl(const fs::path& p) {
  Results out;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    auto& v = out[j.value("file", "")];
    for (const auto& r : j.value("results", nlohmann::json::array()))
      v.push_back(Got{r.value("recipient", ""), r.value("reason", ""), r.value("status", ""), r.value("hardbounce", 0) == 1, ""});
  }
  return out;
}

// Per fold (index K: the whole corpus): headline (no `review` rows) and review rows, ours and Sisimai's.
struct IndepRun {
  std::vector<IndepScore> ours, theirs, oursReview, theirsReview;
  int reviewRows = 0;
};

IndepRun runIndep(const fs::path& root, int folds, bool verbose) {
  const auto rows = readExpected(root);
  const Results sisimai = readSisimaiJsonl(root / "sisimai-4.25.jsonl");
  IndepRun run{std::vector<IndepScore>(folds + 1), std::vector<IndepScore>(folds + 1), std::vector<IndepScore>(folds + 1),
               std::vector<IndepScore>(folds + 1), 0};
  for (const auto& row : rows) {
    std::string format;
    const auto got = ours(root / "emails" / row.file, &format);
    const auto it = sisimai.find(row.file);
    const std::vector<Got> none;
    const auto& theirs = it == sisimai.end() ? none : it->second;
    run.reviewRows += row.review;
    for (int k : {foldOf(row.file, folds), folds}) {
      (row.review ? run.oursReview : run.ours)[k].add(row, got);
      (row.review ? run.theirsReview : run.theirs)[k].add(row, theirs);
    }
    if (verbose) {
      IndepScore one;
      one.add(row, got);
      if (one.agree != one.labelled || one.found != one.named || one.notAbout || one.hardOnNotBounce ||
          (!row.notBounce && !one.read)) {
        std::cout << row.file << (row.review ? " (review)" : "") << ": want";
        for (const auto& e : row.expected)
          std::cout << " " << str(e, "label") << (e.value("hardbounce", nlohmann::json()).is_null() ? "" : e["hardbounce"] == 1 ? " HARD" : " soft")
                    << " " << str(e, "recipient");
        std::cout << (row.notBounce ? " not a bounce" : "") << "; got [" << format << "]";
        for (const auto& g : got) std::cout << " " << g.reason << " " << g.status << (g.hard ? " HARD " : " ") << g.recipient;
        std::cout << "\n";
      }
    }
  }
  return run;
}

void foldNote(int folds) {
  std::cout << "\nFolds: " << folds
            << " by FNV-1a (64 bits) of the file name modulo " << folds
            << ". No rule is fitted per fold yet (the rules come from the mail systems' sources, "
               "not from training), so each fold's figure is the classifier on that fold's files and the "
               "sum over folds equals the all-files figure.\n";
}


// ---- --ablate: what each rule carries ----

// The figures an ablation compares, over every corpus given.
struct Figures {
  std::vector<Score> sets;
  std::vector<IndepScore> indeps;
};

Figures measure(const std::vector<fs::path>& roots) {
  Figures f;
  for (const auto& root : roots)
    if (fs::exists(root / "sisimai-4.25.jsonl")) f.indeps.push_back(runIndep(root, 1, false).ours[1]);
    else f.sets.push_back(runSet(root, 1, false, false).ours[1]);
  return f;
}

// One line per rule whose removal moves a figure: the change of each figure that moved.
void ablate(const std::vector<fs::path>& roots, const std::string& prefix) {
  namespace b = safetynet::bounce;
  const Figures base = measure(roots);
  std::vector<std::string> ids;
  for (const auto& r : b::builtinRules()->rules.rules)
    if (r.id.rfind(prefix, 0) == 0) ids.push_back(r.id);
  std::cout << "\nAblation: " << ids.size() << " built-in rules with ids starting '" << prefix
            << "', each disabled alone; changes against all rules in force (set-of-emails: records; "
               "bounces-indep headline: items). Rules whose removal changes nothing are not listed.\n\n"
            << "| rule disabled | exact | coarse | hard/soft | false hard | missed hard | indep hard/soft | indep false hard "
               "| indep not about |\n|---|---|---|---|---|---|---|---|---|\n";
  int silent = 0;
  for (const auto& id : ids) {
    std::vector<std::string> errors;
    auto set = b::buildRuleSet("disable: ['" + id + "']\n", "(ablation)", errors);
    if (!set) {
      std::cout << "| " << id << " | cannot disable: " << (errors.empty() ? "?" : errors.front()) << " |\n";
      continue;
    }
    b::installRuleSet(set);
    const Figures now = measure(roots);
    int d[8] = {};
    for (size_t i = 0; i < now.sets.size(); ++i) {
      const Score &x = now.sets[i], &y = base.sets[i];
      d[0] += x.exact - y.exact, d[1] += x.coarse - y.coarse, d[2] += x.hardsoft - y.hardsoft;
      d[3] += x.fp - y.fp, d[4] += x.fn - y.fn;
    }
    for (size_t i = 0; i < now.indeps.size(); ++i) {
      const IndepScore &x = now.indeps[i], &y = base.indeps[i];
      d[5] += x.agree - y.agree, d[6] += x.falseHard - y.falseHard, d[7] += x.notAbout - y.notAbout;
    }
    if (std::all_of(std::begin(d), std::end(d), [](int v) { return v == 0; })) {
      ++silent;
      continue;
    }
    std::cout << "| " << id;
    for (int v : d) std::cout << " | " << (v > 0 ? "+" : "") << v;
    std::cout << " |\n";
  }
  b::installRuleSet(b::builtinRules());
  std::cout << "\n" << silent << " of " << ids.size() << " rules change no figure when disabled.\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<fs::path> roots;
  bool verbose = false;
  int folds = 0;
  std::string rulesFile, ablatePrefix;
  std::map<std::string, double> floors;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--verbose") verbose = true;
    else if (a == "--folds" && i + 1 < argc) folds = std::atoi(argv[++i]);
    else if (a == "--rules" && i + 1 < argc) rulesFile = argv[++i];
    else if (a == "--ablate" && i + 1 < argc) ablatePrefix = argv[++i];
    else if (a.rfind("--min-", 0) == 0 && i + 1 < argc) floors[a.substr(6)] = std::stod(argv[++i]);
    else if (a.rfind("--indep-", 0) == 0 && i + 1 < argc) floors[a.substr(2)] = std::stod(argv[++i]);
    else if (a.rfind("--", 0) != 0) roots.emplace_back(a);
    else {
      std::cerr << "eval-bounces: unknown argument " << a << "\n";
      return 2;
    }
  }
  if (roots.empty() || folds < 0 || folds == 1) {
    std::cerr << "usage: eval-bounces PATH... [--folds K (2 or more)] [--verbose] [--rules FILE] [--ablate PREFIX] "
                 "[--min-parsed P] [--min-hardsoft P] "
                 "[--min-precision P] [--min-coarse P] [--min-exact P] [--indep-min-hardsoft P] [--indep-min-recipients P] "
                 "[--indep-max-false-hard N] [--indep-max-not-about N]\n";
    return 2;
  }
  for (const auto& [name, value] : floors)
    if (name != "parsed" && name != "exact" && name != "hardsoft" && name != "precision" && name != "coarse" &&
        name != "indep-min-hardsoft" && name != "indep-min-recipients" && name != "indep-max-false-hard" &&
        name != "indep-max-not-about") {
      std::cerr << "eval-bounces: no such measure " << name << "\n";
      return 2;
    }
  for (const auto& root : roots)
    if (!fs::exists(root / "expected.jsonl")) {
      std::cerr << "eval-bounces: cannot read " << (root / "expected.jsonl") << "\n";
      return 2;
    }
  if (!rulesFile.empty()) {
    std::vector<std::string> errors;
    auto set = safetynet::bounce::loadRuleSetFile(rulesFile, errors);
    if (!set) {
      for (const auto& e : errors) std::cerr << "eval-bounces: " << e << "\n";
      return 2;
    }
    safetynet::bounce::installRuleSet(set);
  }
  if (!ablatePrefix.empty()) {
    ablate(roots, ablatePrefix);
    return 0;
  }
  const int k = std::max(folds, 1);
  int rc = 0;
  auto check = [&](const std::string& name, double value) {
    if (floors.count(name) && value + 1e-9 < floors[name]) {
      std::cout << "below the floor: " << name << " " << value << " < " << floors[name] << "\n";
      rc = 1;
    }
  };
  auto ceiling = [&](const std::string& name, int value) {
    if (floors.count(name) && value > floors[name]) {
      std::cout << "over the ceiling: " << name << " " << value << " > " << floors[name] << "\n";
      rc = 1;
    }
  };
  for (size_t n = 0; n < roots.size(); ++n) {
    const fs::path& root = roots[n];
    if (n) std::cout << "\n";
    if (fs::exists(root / "sisimai-4.25.jsonl")) {
      const IndepRun run = runIndep(root, k, verbose);
      const auto& all = run.ours[k];
      std::cout << "\n" << root.string() << ": " << all.bounces + run.oursReview[k].bounces << " bounces, "
                << all.notBounces + run.oursReview[k].notBounces << " not bounces; headline without the "
                << run.reviewRows << " rows marked review\n\n";
      if (folds) {
        indepHeader("fold (held out)");
        IndepScore sum;
        for (int f = 0; f < k; ++f) {
          indepLine(std::to_string(f + 1) + " safetynet", run.ours[f]);
          indepLine(std::to_string(f + 1) + " Debian Sisimai 4.25", run.theirs[f]);
          sum += run.ours[f];
        }
        indepLine("over all folds, safetynet", sum);
        foldNote(folds);
        std::cout << "\n";
      }
      indepHeader("classifier");
      indepLine("safetynet", run.ours[k]);
      indepLine("Debian Sisimai 4.25 (sisimai-4.25.jsonl)", run.theirs[k]);
      std::cout << "\nThe " << run.reviewRows << " rows marked review (the message's own text disputes the label), and all rows:\n\n";
      indepHeader("classifier");
      indepLine("safetynet", run.oursReview[k]);
      indepLine("Debian Sisimai 4.25", run.theirsReview[k]);
      IndepScore oursAll = run.ours[k], theirsAll = run.theirs[k];
      oursAll += run.oursReview[k];
      theirsAll += run.theirsReview[k];
      indepLine("safetynet, all rows", oursAll);
      indepLine("Debian Sisimai 4.25, all rows", theirsAll);
      check("indep-min-hardsoft", all.labelled ? 100.0 * all.agree / all.labelled : 0);
      check("indep-min-recipients", all.named ? 100.0 * all.found / all.named : 0);
      ceiling("indep-max-false-hard", all.falseHard);
      ceiling("indep-max-not-about", all.notAbout);
      continue;
    }
    const SetRun run = runSet(root, k, verbose);
    const Score& all = run.ours[k];
    std::cout << "\n" << root.string() << ": " << all.emails << " emails, " << all.records << " recipient records\n\n";
    if (folds) {
      setHeader("fold (held out)", all.carried);
      Score sum;
      for (int f = 0; f < k; ++f) {
        const Score& s = run.ours[f];
        setLine(std::to_string(f + 1) + " safetynet (" + std::to_string(s.emails) + " emails)", s);
        if (run.haveSisimai) setLine(std::to_string(f + 1) + " Debian libsisimai-perl", run.theirs[f]);
        sum += s;
      }
      setLine("over all folds, safetynet", sum);
      foldNote(folds);
      std::cout << "\n";
    }
    setHeader("classifier", all.carried);
    setLine("safetynet", all);
    if (run.haveSisimai) setLine("Debian libsisimai-perl", run.theirs[k]);
    else std::cout << "(Debian's libsisimai-perl is not installed: apt-get install libsisimai-perl)\n";
    check("parsed", all.pct(all.parsed));
    check("exact", all.pct(all.exact));
    check("hardsoft", all.pct(all.hardsoft));
    check("precision", all.precision());
    check("coarse", all.pct(all.coarse));
  }
  return rc;
}
