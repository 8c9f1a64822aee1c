// `safetynet bounce classify [--json] FILE...`: one line per file (notes/product.md's contract).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include <openssl/evp.h>

#include "bounce/history.hpp"
#include "cli/commands.hpp"
#include "safetynet/bounce/bounce.hpp"
#include "safetynet/core/time_format.hpp"

namespace safetynet::cli {

int bounceClassifyCommand(bool json, const std::vector<std::string>& files) {
  int rc = 0;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::cerr << file << ": cannot read\n";
      rc = 1;
      continue;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    const bounce::Classification c = bounce::classify(ss.str());
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
      J line = {{"file", file}, {"results", results}};
      if (!c.error.empty()) line["error"] = c.error;
      std::cout << line.dump() << "\n";
    } else {
      std::cout << file << ":";
      if (c.records.empty()) std::cout << " " << c.error;
      std::cout << "\n";
      for (const auto& r : c.records)
        std::cout << "  " << r.recipient << "  " << r.reason << (r.hard ? " (hard)" : "")
                  << (r.status.empty() ? "" : "  " + r.status) << (r.reply_code.empty() ? "" : "  " + r.reply_code)
                  << "\n    " << r.diagnostic.substr(0, 200) << "\n";
    }
  }
  return rc;
}

namespace {
std::string sha256Hex(const std::string& text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(text.data(), text.size(), md, &n, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xf];
  }
  return out;
}
}  // namespace

int bounceImportCommand(const Config& config, const std::vector<std::string>& files) {
  StorePtr store;
  try {
    store = openSqliteStore(config.state_dir);
  } catch (const std::exception& e) {
    std::cerr << "bounce import: " << e.what() << "\n";
    return 1;
  }
  int rc = 0, recorded = 0, duplicates = 0;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::cerr << file << ": cannot read\n";
      rc = 1;
      continue;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string raw = ss.str();
    const bounce::Classification c = bounce::classify(raw);
    if (c.records.empty()) {
      std::cout << file << ": nothing recorded (" << c.error << ")\n";
      continue;
    }
    // The same message imported twice (the same bytes) changes nothing.
    auto result = bounce::recordBounces(*store, config.bounces, c, sha256Hex(raw), "import: " + file, c.sender, Clock::now());
    recorded += result.recorded;
    duplicates += result.duplicates;
    std::cout << file << ": " << result.recorded << " recorded" << (result.duplicates ? ", " + std::to_string(result.duplicates) + " already known" : "")
              << "\n";
    for (const auto& s : result.changed)
      if (s.state != "watch") std::cout << "  " << s.subject << ": " << s.state << " (" << s.evidence << ")\n";
  }
  std::cout << recorded << " bounce(s) recorded, " << duplicates << " already known\n";
  return rc;
}

int suppressionsCommand(const Config& config, bool json, const std::string& clear) {
  StorePtr store;
  try {
    store = openSqliteStore(config.state_dir);
  } catch (const std::exception& e) {
    std::cerr << "suppressions: " << e.what() << "\n";
    return 1;
  }
  if (!clear.empty()) {
    std::string subject = clear;
    std::transform(subject.begin(), subject.end(), subject.begin(), [](unsigned char ch) { return std::tolower(ch); });
    const char* user = std::getenv("USER");
    if (!store->clearStanding(subject, std::string("admin ") + (user ? user : "(unknown)"))) {
      std::cerr << subject << ": not suppressed or held\n";
      return 1;
    }
    std::cout << subject << ": cleared\n";
    return 0;
  }
  const TimePoint now = Clock::now();
  for (const auto& s : store->standings()) {
    const bool active = s.state == "hard" || s.state == "complained" || s.state == "soft_permanent" ||
                        (s.state == "soft_hold" && s.until && *s.until > now);
    if (!active) continue;
    if (json) {
      nlohmann::ordered_json j = {{"subject", s.subject}, {"state", s.state}, {"since", formatIso8601(s.since)},
                                  {"until", s.until ? nlohmann::ordered_json(formatIso8601(*s.until)) : nlohmann::ordered_json(nullptr)},
                                  {"reason", s.reason}, {"evidence", s.evidence}};
      std::cout << j.dump() << "\n";
    } else {
      std::cout << s.subject << "  " << s.state << "  since " << formatIso8601(s.since)
                << (s.until ? "  until " + formatIso8601(*s.until) : std::string()) << "\n    " << s.evidence << "\n";
    }
  }
  return 0;
}

int sendersCommand(const Config& config, bool json, const std::string& release) {
  StorePtr store;
  try {
    store = openSqliteStore(config.state_dir);
  } catch (const std::exception& e) {
    std::cerr << "senders: " << e.what() << "\n";
    return 1;
  }
  if (!release.empty()) {
    std::string mailbox = release;
    std::transform(mailbox.begin(), mailbox.end(), mailbox.begin(), [](unsigned char ch) { return std::tolower(ch); });
    const char* user = std::getenv("USER");
    if (!store->releaseSender(mailbox, std::string("admin ") + (user ? user : "(unknown)"), Clock::now())) {
      std::cerr << mailbox << ": not paused\n";
      return 1;
    }
    std::cout << mailbox << ": released; its bounce rate is counted afresh from now\n";
    return 0;
  }
  const TimePoint now = Clock::now();
  for (const auto& s : store->senders()) {
    const bool paused = s.state == "paused" && s.until && *s.until > now;
    const std::string state = paused ? "paused" : (s.state == "paused" ? "pause over" : s.state);
    if (json) {
      nlohmann::ordered_json j = {{"mailbox", s.mailbox}, {"state", state}, {"since", formatIso8601(s.since)},
                                  {"until", s.until ? nlohmann::ordered_json(formatIso8601(*s.until)) : nlohmann::ordered_json(nullptr)},
                                  {"pauses", s.pauses}, {"evidence", s.evidence}};
      std::cout << j.dump() << "\n";
    } else {
      std::cout << s.mailbox << "  " << state << "  pauses: " << s.pauses << "\n    " << s.evidence << "\n";
    }
  }
  return 0;
}

}  // namespace safetynet::cli
