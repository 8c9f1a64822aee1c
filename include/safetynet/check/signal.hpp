#pragma once
// Checks emit named signals (rspamd symbols): NAME + weight + evidence. The policy decides.
#include <string>
#include <vector>

namespace safetynet {

struct Signal {
  std::string name;
  double weight = 0.0;   // filled in by the policy from config/policy.yaml
  std::string evidence;  // what was seen, in words an admin can check
};

class ScanResult {
 public:
  void add(std::string name, std::string evidence) {
    signals_.push_back(Signal{std::move(name), 0.0, std::move(evidence)});
  }
  bool has(std::string_view name) const {
    for (const auto& s : signals_)
      if (s.name == name) return true;
    return false;
  }
  // A check may end the scan early (bad syntax: nothing else can be checked).
  void stop() { stopped_ = true; }
  bool stopped() const { return stopped_; }
  std::string suggestion;  // e.g. a corrected domain
  // A rep's release of the address (the override's evidence): it allows the address (OVERRIDDEN)
  // only when what the checks find is something a rep may release (the pipeline decides after
  // every check has run; an admin's release is OVERRIDDEN at once and ends the scan).
  std::string rep_release;
  const std::vector<Signal>& signals() const { return signals_; }
  std::vector<Signal>& signals() { return signals_; }

 private:
  std::vector<Signal> signals_;
  bool stopped_ = false;
};

}  // namespace safetynet
