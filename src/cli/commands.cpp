#include "cli/commands.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "admin/queries.hpp"
#include "bounce/rule_engine.hpp"
#include "checks/admin_lists.hpp"
#include "safetynet/app/app.hpp"
#include "safetynet/app/demo.hpp"
#include "safetynet/core/duration.hpp"
#include "safetynet/core/logging.hpp"
#include "safetynet/core/time_format.hpp"
#include "safetynet/core/json_util.hpp"

#ifndef SAFETYNET_VERSION
#define SAFETYNET_VERSION "dev"
#endif

namespace safetynet::cli {

namespace {
// What `config check` says about notifications: where alerts will go.
std::string notifySummary(const Config& c) {
  const auto& n = c.notify;
  std::string out;
  if (n.slack.enabled) out += "slack";
  if (n.email.enabled) {
    out += std::string(out.empty() ? "" : ", ") + "email by " + n.email.transport;
    if (n.email.transport == "smtp")
      out += " to " + n.email.host + ":" + std::to_string(n.email.port) + " (" + n.email.tls + ")";
    if (n.email.digest == "daily") out += ", daily digest";
  }
  if (out.empty()) return "no notifications";
  return "notify: " + out + "; route " + n.route;
}
}  // namespace

namespace {

constexpr int kOk = 0, kRuntime = 1, kUsage = 2;

// Loads and fully validates a config (lists and policy overrides too). Prints errors; nullopt on failure.
std::optional<Config> loadOrReport(const std::string& path, bool required, Secrets secrets = Secrets::Read) {
  if (!required && !std::filesystem::exists(path)) return Config{};
  auto r = loadConfigFile(path, secrets);
  std::vector<std::string> problems;
  for (const auto& e : r.errors) problems.push_back(e.message);
  if (r.config) {
    std::vector<std::string> more;
    if (!Policy::build(kDefaultPolicyYamlText(), r.config->policy, &more)) more.push_back("policy cannot be built");
    AdminLists::load(r.config->lists, &more);
    // The bounce rules in force from now on: the built-in ones, after the admin's file if any.
    // Without a file, the built-in ones are read when a bounce is first read: a command that reads
    // none (`check`) does not parse 400 KB of YAML at start (0.1 s, docs/benchmarks.md).
    if (r.config->bounces.rules_file.empty()) bounce::installRuleSet(nullptr);
    else if (auto rules = bounce::loadRuleSetFile(r.config->bounces.rules_file, more)) bounce::installRuleSet(rules);
    for (auto& m : more) problems.push_back(path + ": " + m);
  }
  for (const auto& p : problems) std::cerr << p << "\n";
  if (!problems.empty()) return std::nullopt;
  return r.config;
}

int checkCommand(const std::string& configPath, bool explicitConfig, bool json, bool offline, bool noSmtp,
                 std::vector<std::string> addresses, const std::string& file) {
  auto cfg = loadOrReport(configPath, explicitConfig, Secrets::Skip);
  if (!cfg) return kUsage;
  if (!file.empty()) {
    std::ifstream f;
    std::istream* in = &std::cin;
    if (file != "-") {
      f.open(file);
      if (!f) {
        std::cerr << file << ": cannot read\n";
        return kUsage;
      }
      in = &f;
    }
    std::string line;
    while (std::getline(*in, line)) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (!line.empty()) addresses.push_back(line);
    }
  }
  if (addresses.empty()) {
    std::cerr << "check: give addresses or --file PATH|-\n";
    return kUsage;
  }
  initLogging("warn");
  asio::io_context io;
  StorePtr store;
  try {
    store = openStore(*cfg);
  } catch (const std::exception& e) {
    logger("check")->debug("no verdict cache: {}", e.what());
  }
  std::shared_ptr<Services> services;
  try {
    Config c = *cfg;
    c.connectors.clear();  // check never touches the platforms
    // state_dir not writable (an admin running check as themselves): cache in a private temp dir.
    if (!store) store = openSqliteStore((std::filesystem::temp_directory_path() / ("safetynet-check-" + std::to_string(getuid()))).string());
    services = buildServices(io.get_executor(), c, *store, {}, !offline, !noSmtp);
  } catch (const std::exception& e) {
    std::cerr << "check: " << e.what() << "\n";
    return kRuntime;
  }
  auto fut = asio::co_spawn(io, services->pipeline->evaluateAll(addresses), asio::use_future);
  io.run();
  std::vector<RecipientVerdict> results;
  try {
    results = fut.get();
  } catch (const std::exception& e) {
    std::cerr << "check: " << e.what() << "\n";
    return kRuntime;
  }
  const bool tty = isatty(STDOUT_FILENO);
  std::map<std::string, int> perReason;
  for (const auto& r : results) {
    perReason[r.verdict.reason.empty() ? "no reason" : r.verdict.reason]++;
    if (json) {
      // ordered_json: the keys in the order of the contract (notes/product.md), for people reading it.
      using J = nlohmann::ordered_json;
      auto orNull = [](const std::string& s) { return s.empty() ? J(nullptr) : J(s); };
      auto sig = J::array();
      for (const auto& s : r.verdict.signals) sig.push_back({{"name", s.name}, {"weight", s.weight}, {"evidence", s.evidence}});
      J j = {{"address", r.input},
             {"normalized", orNull(r.normalized)},
             {"verdict", r.verdict.verdictWord()},
             {"reason", orNull(r.verdict.reason)},
             {"signals", sig},
             {"suggestion", orNull(r.suggestion)},
             {"next_step", orNull(r.verdict.next_step)},
             {"duration_ms", std::round(r.duration_ms * 1000) / 1000}};
      std::cout << jsonText(j) << "\n";
    } else {
      const char* colour = !tty ? "" : (r.verdict.revert ? "\033[31m" : "\033[32m");
      const char* reset = tty ? "\033[0m" : "";
      std::cout << colour << (r.verdict.revert ? "REVERT" : "allow ") << reset << "  " << r.input;
      if (!r.verdict.reason.empty()) std::cout << "  [" << r.verdict.reason << "] " << r.verdict.evidence;
      std::cout << "\n";
      for (const auto& s : r.verdict.signals) std::cout << "        " << s.name << " (" << s.weight << "): " << s.evidence << "\n";
    }
  }
  if (!json && results.size() > 1) {
    std::cout << "\n";
    for (const auto& [reason, n] : perReason) std::cout << "  " << reason << ": " << n << "\n";
  }
  return kOk;
}

int decisionsCommand(const std::string& configPath, admin::DecisionFilter filter, bool json, const std::string& key) {
  auto cfg = loadOrReport(configPath, true, Secrets::Skip);
  if (!cfg) return kUsage;
  StorePtr store;
  try {
    store = openStore(*cfg);
  } catch (const std::exception& e) {
    std::cerr << "decisions: " << e.what() << "\n";
    return kRuntime;
  }
  if (!key.empty()) {
    // One decision with its signals, audit log (actions) and notifications: GET /api/v1/decisions/{key}.
    auto detail = admin::decisionDetail(*store, key);
    if (!detail) {
      std::cerr << "decisions: no decision " << key << "\n";
      return kRuntime;
    }
    std::cout << (json ? detail->dump() : detail->dump(2)) << "\n";
    return kOk;
  }
  // The admin API's query (src/admin/queries), every page; printed oldest first, as a log reads.
  filter.limit = std::to_string(admin::kDecisionsMaxLimit);
  const TimePoint now = Clock::now();
  std::vector<EmailDecision> all;
  for (;;) {
    auto page = admin::decisionsPage(*store, filter, now);
    if (auto* e = std::get_if<std::string>(&page)) {
      std::cerr << "decisions: --" << *e << "\n";
      return kUsage;
    }
    auto& p = std::get<admin::DecisionPage>(page);
    all.insert(all.end(), std::make_move_iterator(p.decisions.begin()), std::make_move_iterator(p.decisions.end()));
    if (p.next_cursor.empty()) break;
    filter.cursor = p.next_cursor;
  }
  for (auto x = all.rbegin(); x != all.rend(); ++x) {
    if (json) {
      std::cout << jsonText(admin::decisionJson(*x)) << "\n";
    } else {
      std::cout << formatIso8601(x->decided_at) << "  " << x->connector << "/" << x->email_id << "  " << toString(x->state);
      if (!x->reason.empty()) std::cout << "  [" << x->reason << "] " << x->evidence;
      std::cout << "\n";
    }
  }
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"safetynet: a pre-send safety net for sales email"};
  app.require_subcommand(1);
  std::string configPath;
  bool explicitConfig = false;
  auto addConfig = [&](CLI::App* sub) {
    sub->add_option("-c,--config", configPath, "configuration file (default $SAFETYNET_CONFIG or /etc/safetynet/safetynet.yaml)");
  };

  auto* run = app.add_subcommand("run", "run the daemon");
  bool once = false;
  addConfig(run);
  run->add_flag("--once", once, "one poll cycle, then exit");

  auto* check = app.add_subcommand("check", "check addresses now");
  addConfig(check);
  bool json = false, offline = false, noSmtp = false;
  std::vector<std::string> addresses;
  std::string file;
  check->add_flag("--json", json, "one JSON line per address");
  auto* off = check->add_flag("--offline", offline, "no network at all (syntax, lists, history)");
  check->add_flag("--no-smtp", noSmtp, "no SMTP probe")->excludes(off);
  check->add_option("--file", file, "read addresses from PATH, one per line (- for stdin)");
  check->add_option("addresses", addresses, "addresses to check");

  auto* decisions = app.add_subcommand("decisions", "show recent decisions (the audit log)");
  addConfig(decisions);
  admin::DecisionFilter decisionFilter;  // the admin API's GET /api/v1/decisions filters
  decisions->add_option("--since", decisionFilter.since, "how far back (default 24h)");
  decisions->add_option("--verdict", decisionFilter.verdict, "allow or revert");
  decisions->add_option("--reason", decisionFilter.reason, "a reason code (bounce_risk, spamtrap...)");
  decisions->add_option("--connector", decisionFilter.connector, "a connector's name");
  decisions->add_option("--rep", decisionFilter.rep, "the sending mailbox, or the rep's id or name on the platform");
  decisions->add_option("--address", decisionFilter.address, "part of a recipient's address (any case)");
  decisions->add_flag("--json", json, "one JSON line per email");
  std::string decisionKey;
  decisions->add_option("key", decisionKey, "one decision's key: its signals, audit log and where each notification went");

  auto* config = app.add_subcommand("config", "configuration commands");
  config->require_subcommand(1);
  auto* configCheck = config->add_subcommand("check", "validate the configuration: exit 0, or 2 with the problems");
  addConfig(configCheck);

  auto* bounce = app.add_subcommand("bounce", "bounce emails");
  bounce->require_subcommand(1);
  auto* classify = bounce->add_subcommand("classify", "parse bounce emails: one line per file");
  std::vector<std::string> bounceFiles;
  addConfig(classify);
  classify->add_flag("--json", json, "one JSON line per file");
  classify->add_option("files", bounceFiles, "bounce emails (RFC 5322 files)")->required();
  auto* import = bounce->add_subcommand("import", "classify bounce emails and record them in the bounce history");
  addConfig(import);
  import->add_option("files", bounceFiles, "bounce emails (RFC 5322 files)")->required();

  auto* suppressions = app.add_subcommand("suppressions", "addresses suppressed or held by their bounce history");
  addConfig(suppressions);
  suppressions->add_flag("--json", json, "one JSON line per address");
  auto* clearCmd = suppressions->add_subcommand("clear", "lift a suppression or hold (an address, or @domain)");
  std::string clearSubject;
  addConfig(clearCmd);
  clearCmd->add_option("subject", clearSubject, "the address or @domain")->required();

  auto* senders = app.add_subcommand("senders", "sending mailboxes paused by sender protection");
  addConfig(senders);
  senders->add_flag("--json", json, "one JSON line per mailbox");
  auto* releaseCmd = senders->add_subcommand("release", "resume a paused mailbox now");
  addConfig(releaseCmd);
  std::string releaseMailbox;
  releaseCmd->add_option("mailbox", releaseMailbox, "the sending address")->required();

  auto* overrides = app.add_subcommand("overrides", "releases: addresses the checks allow for a while (OVERRIDDEN)");
  addConfig(overrides);
  OverridesArgs overridesArgs;
  overrides->add_flag("--json", overridesArgs.json, "one JSON line per override");
  auto* overrideAdd = overrides->add_subcommand("add", "release an address: the checks allow it until the override ends");
  addConfig(overrideAdd);
  overrideAdd->add_option("address", overridesArgs.address, "the email address")->required();
  overrideAdd->add_option("--for", overridesArgs.duration, "how long (default 30d, at most 365d)");
  overrideAdd->add_option("--reason", overridesArgs.reason, "why, for the audit log");
  auto* overrideRemove = overrides->add_subcommand("remove", "end an address's override now");
  addConfig(overrideRemove);
  overrideRemove->add_option("address", overridesArgs.address, "the email address")->required();

  auto* failsafe = app.add_subcommand("failsafe", "the fail-safe: status, or resume holding risky emails");
  addConfig(failsafe);
  failsafe->add_flag("--json", json, "one JSON line");
  auto* failsafeStatusCmd = failsafe->add_subcommand("status", "whether the fail-safe is on, and why (the default)");
  addConfig(failsafeStatusCmd);
  failsafeStatusCmd->add_flag("--json", json, "one JSON line");
  auto* resumeCmd = failsafe->add_subcommand("resume", "hold risky emails again, after the cause was fixed");
  addConfig(resumeCmd);

  auto* demo = app.add_subcommand("demo", "the main loop end to end on a local sandbox (no credentials, no internet)");
  bool keep = false;
  demo->add_flag("--keep-state", keep, "keep the sandbox's state directory and print its path");
  auto* version = app.add_subcommand("version", "print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kOk : kUsage;
  }
  explicitConfig = !configPath.empty();
  if (configPath.empty()) configPath = defaultConfigPath();
  if (std::getenv("SAFETYNET_CONFIG")) explicitConfig = true;

  if (*version) {
    std::cout << "safetynet " << SAFETYNET_VERSION << "\n";
    return kOk;
  }
  if (*configCheck) {
    auto cfg = loadOrReport(configPath, true);
    if (!cfg) return kUsage;
    const auto& api = cfg->admin_api;
    const std::string apiSummary =
        !api.enabled ? "" : std::string("; admin API ") + (api.tls_cert_file.empty() ? "http" : "https") + "://" +
                                (api.host.find(':') != std::string::npos ? "[" + api.host + "]" : api.host) + ":" +
                                std::to_string(api.port) + (api.read_token.empty() ? "" : ", read-only token");
    std::cout << configPath << ": OK (" << cfg->connectors.size() << " connector(s); " << notifySummary(*cfg) << apiSummary
              << ")\n";
    return kOk;
  }
  if (*check) return checkCommand(configPath, explicitConfig, json, offline, noSmtp, addresses, file);
  if (*decisions) return decisionsCommand(configPath, decisionFilter, json, decisionKey);
  if (*demo) return runDemo(keep);
  if (*classify) {
    auto cfg = loadOrReport(configPath, explicitConfig, Secrets::Skip);  // its bounces.rules_file
    if (!cfg) return kUsage;
    return bounceClassifyCommand(json, bounceFiles);
  }
  if (*senders) {
    auto cfg = loadOrReport(configPath, explicitConfig, Secrets::Skip);
    if (!cfg) return kUsage;
    return sendersCommand(*cfg, json, *releaseCmd ? releaseMailbox : "");
  }
  if (*overrides) {
    auto cfg = loadOrReport(configPath, explicitConfig, Secrets::Skip);
    if (!cfg) return kUsage;
    overridesArgs.add = overrideAdd->parsed();
    overridesArgs.remove = overrideRemove->parsed();
    return overridesCommand(*cfg, overridesArgs);
  }
  if (*failsafe) {
    auto cfg = loadOrReport(configPath, explicitConfig, Secrets::Skip);
    if (!cfg) return kUsage;
    return failsafeCommand(*cfg, json, resumeCmd->parsed());
  }
  if (*import || *suppressions) {
    auto cfg = loadOrReport(configPath, explicitConfig, Secrets::Skip);
    if (!cfg) return kUsage;
    if (*import) return bounceImportCommand(*cfg, bounceFiles);
    return suppressionsCommand(*cfg, json, *clearCmd ? clearSubject : "");
  }
  if (*run) {
    auto cfg = loadOrReport(configPath, true);
    if (!cfg) return kUsage;
    DaemonOptions o;
    o.config_path = configPath;
    o.once = once;
    return runDaemon(*cfg, o);
  }
  return kUsage;
}

}  // namespace safetynet::cli
