// `safetynet bounce classify [--json] FILE...`: one line per file (notes/product.md's contract).
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.hpp"
#include "safetynet/bounce/bounce.hpp"

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

}  // namespace safetynet::cli
