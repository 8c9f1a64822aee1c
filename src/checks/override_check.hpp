#pragma once
// Overrides (releases, `safetynet overrides`, the Slack "Release and send" button): an address
// released by an admin or its rep is allowed until the override expires, like the allow list
// (OVERRIDDEN forces allow and ends the scan). Offline: one store read.
#include "safetynet/check/check.hpp"
#include "safetynet/store/store.hpp"

namespace safetynet::checks {

class OverrideCheck final : public Check {
 public:
  explicit OverrideCheck(Store* store) : store_(store) {}
  std::string_view name() const override { return "overrides"; }
  Task<void> run(const CheckInput& input, ScanResult& result) override;

 private:
  Store* store_;
};

}  // namespace safetynet::checks
