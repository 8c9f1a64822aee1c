#pragma once
// Runs the checks over a recipient and asks the policy for a verdict. Offline checks (syntax,
// lists) run every time; network results are cached per address in the store (positive,
// negative and inconclusive results each with their own TTL).
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "safetynet/check/check.hpp"
#include "safetynet/policy/policy.hpp"
#include "safetynet/store/store.hpp"

namespace safetynet {

struct RecipientVerdict {
  std::string input;
  std::string normalized;  // "" if the syntax is invalid
  Verdict verdict;
  std::string suggestion;
  double duration_ms = 0;
  bool cached = false;           // network results came from the verdict cache
  bool network_checked = false;  // network checks ran now (not cached, not skipped)
  // Whether what was known before this evaluation (offline checks, cached network results)
  // already says revert: decides emails first seen too close to their send time.
  bool known_revert = false;
};

struct PipelineOptions {
  std::chrono::milliseconds positive_ttl{std::chrono::hours(24 * 31)};
  std::chrono::milliseconds negative_ttl{std::chrono::hours(24 * 3)};
  // An inconclusive (`unknown`) network result is held this long (recheck_after), then checked again.
  std::chrono::milliseconds unknown_ttl{std::chrono::hours(24 * 30)};
  bool network = true;  // false: `check --offline`
  // Recipients evaluated at once. Most of them wait on the network (DNS, SMTP limits), so this is
  // several times the SMTP session limit; each costs a coroutine frame.
  int concurrency = 200;
};

class Pipeline {
 public:
  Pipeline(std::vector<CheckPtr> checks, PolicyPtr policy, Store* cache, PipelineOptions options);

  // fresh: ignore the verdict cache (a re-check); the result is still cached.
  // profile: what the platform knows about the person (platform checks), if anything.
  Task<RecipientVerdict> evaluate(std::string address, bool fresh = false,
                                  std::optional<TimePoint> deadline = std::nullopt, ProfilePtr profile = nullptr);
  // Bounded parallelism over many addresses; results in input order. Addresses are taken up in
  // order of deadline (earliest send first), then grouped by domain, so that the recipients of a
  // domain meet in one SMTP session instead of waiting for the domain's session limits.
  // deadlines, profiles: empty, or one per address.
  Task<std::vector<RecipientVerdict>> evaluateAll(std::vector<std::string> addresses,
                                                  std::vector<std::optional<TimePoint>> deadlines = {},
                                                  std::vector<ProfilePtr> profiles = {});

  void setPolicy(PolicyPtr p) { policy_ = std::move(p); }
  // Our resolver is not to be trusted (the fail-safe's canaries failed): until this is cleared,
  // NXDOMAIN, no-mail-host and null-MX answers become DNS_TEMPFAIL with this evidence. "" clears.
  void setDnsDistrust(std::string evidence) { dnsDistrust_ = std::move(evidence); }
  const std::string& dnsDistrust() const { return dnsDistrust_; }
  const Policy& policy() const { return *policy_; }

 private:
  bool hasDomainCheck() const;

  std::vector<CheckPtr> checks_;
  PolicyPtr policy_;
  Store* cache_;
  PipelineOptions options_;
  std::string dnsDistrust_;
};

}  // namespace safetynet
