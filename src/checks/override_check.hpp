#pragma once
// Overrides (releases, `safetynet overrides`, the Slack "Release and send" button): an address
// released by an admin is allowed until the override expires, like the allow list (OVERRIDDEN
// forces allow and ends the scan). One released by a rep (from Slack, not an admin) covers only
// what a rep may release: the other checks still run, and the pipeline allows the address
// (OVERRIDDEN) unless they find a spam trap, a complainer or a suppression listed since. Offline:
// one store read.
#include <functional>

#include "safetynet/check/check.hpp"
#include "safetynet/store/store.hpp"

namespace safetynet::checks {

class OverrideCheck final : public Check {
 public:
  // isAdmin: whether a Slack user's email is one of the configuration's admins.
  OverrideCheck(Store* store, std::function<bool(const std::string&)> isAdmin = {})
      : store_(store), isAdmin_(std::move(isAdmin)) {}
  std::string_view name() const override { return "overrides"; }
  Task<void> run(const CheckInput& input, ScanResult& result) override;

 private:
  Store* store_;
  std::function<bool(const std::string&)> isAdmin_;
};

}  // namespace safetynet::checks
