#pragma once
// Signals in, verdict out (rspamd's metric): forced results first (ALLOWLISTED), then the summed
// weight per reason code against the threshold. Scores, reasons and words live in YAML
// (config/policy.yaml, embedded; admin overrides in safetynet.yaml `policy:`), not in code.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "safetynet/check/signal.hpp"
#include "safetynet/config/config.hpp"

namespace safetynet {

struct SignalDef {
  std::string reason;       // reason code this signal counts towards; "" for none
  double weight = 0.0;
  std::string description;
  bool internal = false;    // a failure on our side: counts only if on_internal_error: revert
  bool force_allow = false; // ALLOWLISTED
};

struct ReasonDef {
  std::string code;
  std::string description;  // the reason in words, for the rep
  std::string next_step;
};

struct Verdict {
  bool revert = false;
  std::string reason;       // "" when nothing reached the threshold
  double score = 0.0;       // of the chosen reason
  std::vector<Signal> signals;
  std::string evidence;     // of the signals that made the reason
  std::string next_step;
  bool forced = false;
  std::string verdictWord() const { return revert ? "revert" : "allow"; }
};

// A rep may release their own emails held for these reasons; the rest (spamtrap, do_not_mail,
// sender_paused) need an admin (notes/product.md, "Release"). A rep's release of an address covers
// these alone: held for another reason since, the address is held all the same.
inline bool repMayRelease(const std::string& reason) {
  return reason == "bounce_risk" || reason == "unknown" || reason == "secondary_email" || reason == "dead_email";
}

// The shipped config/policy.yaml, as embedded at build time.
const char* kDefaultPolicyYamlText();

class Policy {
 public:
  // Parses the shipped policy text and applies the admin's overrides. Errors come back as
  // messages (the shipped file is tested; overrides are validated by the config loader).
  static std::shared_ptr<const Policy> build(const std::string& yaml, const PolicyConfig& admin,
                                             std::vector<std::string>* errors);
  static std::shared_ptr<const Policy> shipped(const PolicyConfig& admin);

  Verdict decide(std::vector<Signal> signals) const;
  const ReasonDef* reason(const std::string& code) const;
  const SignalDef* signal(const std::string& name) const;
  const std::map<std::string, SignalDef>& signals() const { return signals_; }
  const std::vector<ReasonDef>& reasons() const { return reasons_; }
  double threshold() const { return threshold_; }

 private:
  double threshold_ = 1.0;
  std::map<std::string, SignalDef> signals_;
  std::vector<ReasonDef> reasons_;  // in severity order: ties go to the earlier one
  std::vector<std::string> revert_;
  bool internal_reverts_ = false;
};

using PolicyPtr = std::shared_ptr<const Policy>;

}  // namespace safetynet
