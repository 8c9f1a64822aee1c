// `safetynet bounce classify [--json] FILE...`: one line per file (notes/product.md's contract).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>

#include "safetynet/core/hash.hpp"

#include "bounce/history.hpp"
#include "safetynet/app/app.hpp"
#include "admin/queries.hpp"
#include "cli/commands.hpp"
#include "safetynet/bounce/bounce.hpp"
#include "safetynet/core/time_format.hpp"
#include "safetynet/core/json_util.hpp"
#include "safetynet/core/text.hpp"

namespace safetynet::cli {

namespace {
// A bounce file's bytes; nullopt (after saying so on stderr) when it cannot be read.
std::optional<std::string> readBounceFile(const std::string& file) {
  // An mbox of bounces can be large, but not this large: past it, read it in parts.
  constexpr std::uintmax_t kMaxFileBytes = 256u << 20;
  std::error_code ec;
  if (file != "-" && std::filesystem::file_size(file, ec) > kMaxFileBytes && !ec) {
    std::cerr << file << ": larger than 256 MB, not read (split the mailbox)\n";
    return std::nullopt;
  }
  std::stringstream ss;
  if (file == "-") {
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << file << ": cannot read\n";
    return std::nullopt;
  }
  ss << in.rdbuf();
  return ss.str();
}

// One message to read: where it came from and its bytes.
struct BounceInput {
  std::string name;   // the file ("-" for standard input)
  int index = 1;      // its place in an mbox, from 1
  int count = 1;      // messages in that file
  std::string bytes;
};

// The files an argument names: itself, or every file under a directory (a Maildir's cur/ and
// new/, not its tmp/ being written; no dot files), in name order.
std::vector<std::string> filesOf(const std::string& arg) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (arg == "-" || !fs::is_directory(arg, ec)) return {arg};
  std::vector<std::string> out;
  for (auto it = fs::recursive_directory_iterator(arg, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || (it->is_directory(ec) && name == "tmp")) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec)) out.push_back(it->path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Every message of every argument (FILE, "-", a directory, an mbox) to `each`, and every file that
// could not be read to `unreadable` (when given); false if some file could not be read.
bool forEachBounce(const std::vector<std::string>& args, const std::function<void(const BounceInput&)>& each,
                   const std::function<void(const std::string&)>& unreadable = {}) {
  bool ok = true;
  for (const auto& arg : args)
    for (const auto& file : filesOf(arg)) {
      const auto raw = readBounceFile(file);
      if (!raw) {
        ok = false;
        if (unreadable) unreadable(file);
        continue;
      }
      const auto ranges = bounce::mailboxMessages(*raw);
      for (size_t i = 0; i < ranges.size(); ++i)
        each(BounceInput{file, static_cast<int>(i + 1), static_cast<int>(ranges.size()),
                         raw->substr(ranges[i].first, ranges[i].second - ranges[i].first)});
    }
  return ok;
}

std::string labelOf(const BounceInput& in) {
  return in.count > 1 ? in.name + " #" + std::to_string(in.index) : in.name;
}
}  // namespace

int bounceClassifyCommand(bool json, const std::vector<std::string>& files) {
  const bool ok = forEachBounce(files, [&](const BounceInput& in) {
    const bounce::Classification c = bounce::classify(in.bytes);
    if (json) {
      using J = nlohmann::ordered_json;  // the contract's key order, for people reading it
      auto results = J::array();
      for (const auto& r : c.records)
        results.push_back(J{{"recipient", r.recipient},
                            {"reason", r.reason},
                            {"status", r.status},
                            {"replycode", r.reply_code},
                            {"hardbounce", r.hard ? 1 : 0},
                            {"action", r.action},
                            {"diagnostic", r.diagnostic}});
      // The address the message was sent to, when the failed one is its forward (only then).
      for (size_t i = 0; i < c.records.size(); ++i)
        if (!c.records[i].sent_to.empty()) results[i]["sent_to"] = c.records[i].sent_to;
      J line = {{"file", in.name}};
      if (in.count > 1) line["message"] = in.index;  // an mbox: one line per message
      line["results"] = results;
      if (!c.error.empty()) line["error"] = c.error;
      std::cout << jsonText(line) << "\n";
    } else {
      std::cout << labelOf(in) << ":";
      if (c.records.empty()) std::cout << " " << c.error;
      std::cout << "\n";
      for (const auto& r : c.records)
        std::cout << "  " << r.recipient << "  " << r.reason << (r.hard ? " (hard)" : "")
                  << (r.status.empty() ? "" : "  " + r.status) << (r.reply_code.empty() ? "" : "  " + r.reply_code)
                  << (r.rule.empty() ? "" : "  rule " + r.rule)
                  << (r.sent_to.empty() ? "" : "\n    sent to " + r.sent_to + ", forwarded or expanded to this address")
                  << (r.why.empty() ? "" : "\n    then: " + r.why)
                  << "\n    " << utf8Prefix(r.diagnostic, 200) << "\n";
    }
  }, [&](const std::string& file) {
    // Still one line per file (the contract), so a script reading the lines misses none.
    if (json) std::cout << jsonText(nlohmann::ordered_json{{"file", file}, {"results", nlohmann::ordered_json::array()},
                                                           {"error", "cannot read the file"}})
                        << "\n";
  });
  return ok ? 0 : 1;
}

StorePtr openStateStore(const Config& config, const char* command) {
  try {
    return openStore(config);
  } catch (const std::exception& e) {
    std::cerr << command << ": " << e.what() << "\n";
    return nullptr;
  }
}

// Who did it, for the audit log.
std::string admin() {
  const char* user = std::getenv("USER");
  return std::string("admin ") + (user ? user : "(unknown)");
}

int bounceImportCommand(const Config& config, const std::vector<std::string>& files) {
  StorePtr store = openStateStore(config, "bounce import");
  if (!store) return 1;
  int rc = 0, recorded = 0, duplicates = 0;
  // Each bounce counts at the time it was sent (its Date:, never later than now), and they are
  // recorded oldest first: a folder of last month's soft bounces is not a burst today, and the
  // escalation of holds follows the order things happened in.
  struct Read {
    std::string file, hash;
    bounce::Classification c;
    TimePoint at;
  };
  std::vector<Read> reads;
  const TimePoint now = Clock::now();
  if (!forEachBounce(files, [&](const BounceInput& in) {
        bounce::Classification c = bounce::classify(in.bytes);
        if (c.records.empty()) {
          std::cout << labelOf(in) << ": nothing recorded (" << c.error << ")\n";
          return;
        }
        TimePoint at = now;
        if (c.date_unix) at = std::min(now, TimePoint(std::chrono::seconds(*c.date_unix)));
        reads.push_back(Read{labelOf(in), sha256Hex(in.bytes), std::move(c), at});
      }))
    rc = 1;
  std::stable_sort(reads.begin(), reads.end(), [](const Read& a, const Read& b) { return a.at < b.at; });
  // An incident that begins here is told to the admins as the daemon tells it (the daemon would
  // not: it reads it as begun), when a notifier is configured.
  const bounce::IncidentAlert alert = [&config](const bounce::BounceIncident& inc) -> std::optional<OutboxMessage> {
    if (!config.notify.slack.enabled && !config.notify.email.enabled) return std::nullopt;
    return bounceIncidentNote(config, inc);
  };
  for (const auto& [file, hash, c, at] : reads) {
    // The same message imported twice (the same bytes) changes nothing.
    auto result = bounce::recordBounces(*store, config.bounces, c, hash, "import: " + file, c.sender, at, alert);
    recorded += result.recorded;
    duplicates += result.duplicates;
    std::cout << file << ": " << result.recorded << " recorded" << (result.duplicates ? ", " + std::to_string(result.duplicates) + " already known" : "")
              << "\n";
    for (const auto& s : result.changed)
      if (s.state != "watch") std::cout << "  " << s.subject << ": " << s.state << " (" << s.evidence << ")\n";
    for (const auto& inc : result.incidents)
      if (inc.began || !inc.rewritten.empty())
        std::cout << "  " << bounce::incidentPlace(inc) << ": " << inc.addresses
                  << " different addresses bounced as unknown within bounces.incident_window: a suspected provider "
                     "or relay incident; their hard bounces suppress nobody on their own\n";
  }
  std::cout << recorded << " bounce(s) recorded, " << duplicates << " already known\n";
  return rc;
}

// suppressions and senders: the admin API's queries and actions (src/admin/queries), printed.
int suppressionsCommand(const Config& config, bool json, const std::string& clear) {
  StorePtr store = openStateStore(config, "suppressions");
  if (!store) return 1;
  if (!clear.empty()) {
    const std::string subject = admin::suppressionSubject(clear).empty() ? asciiLower(clear) : admin::suppressionSubject(clear);
    if (!admin::clearSuppression(*store, clear, admin())) {
      std::cerr << subject << ": not suppressed or held\n";
      return 1;
    }
    std::cout << subject << ": cleared\n";
    return 0;
  }
  for (const auto& s : admin::activeSuppressions(*store, Clock::now())) {
    if (json) {
      std::cout << jsonText(admin::suppressionJson(s)) << "\n";
    } else {
      std::cout << s.subject << "  " << s.state << "  since " << formatIso8601(s.since)
                << (s.until ? "  until " + formatIso8601(*s.until) : std::string()) << "\n    " << s.evidence << "\n";
    }
  }
  return 0;
}

int sendersCommand(const Config& config, bool json, const std::string& release) {
  StorePtr store = openStateStore(config, "senders");
  if (!store) return 1;
  if (!release.empty()) {
    const std::string mailbox = asciiLower(release);
    if (!admin::releaseSender(*store, mailbox, admin(), Clock::now())) {
      std::cerr << mailbox << ": not paused\n";
      return 1;
    }
    std::cout << mailbox << ": released; its bounce rate is counted afresh from now\n";
    return 0;
  }
  for (const auto& r : admin::listSenders(*store, Clock::now())) {
    if (json) {
      std::cout << jsonText(admin::senderJson(r)) << "\n";
    } else {
      char pct[32];
      std::snprintf(pct, sizeof pct, "%.1f%%", r.bounce_rate * 100);
      std::cout << r.mailbox << "  " << r.state << "  " << r.bounces << " bounced of " << r.sends << " sent (" << pct
                << ") since " << formatIso8601(r.counted_since) << (r.stored ? "  pauses: " + std::to_string(r.stored->pauses) : "")
                << "\n";
      if (r.stored && !r.stored->evidence.empty()) std::cout << "    " << r.stored->evidence << "\n";
    }
  }
  return 0;
}

}  // namespace safetynet::cli
