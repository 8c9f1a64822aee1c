#pragma once
#include <functional>

#include "checks/admin_lists.hpp"
#include "safetynet/check/check.hpp"

namespace safetynet::checks {

// Matches the address against the admin lists: ALLOWLISTED, SPAMTRAP_LISTED, COMPLAINER_LISTED,
// SUPPRESSED. Reads the lists through a getter so that a SIGHUP reload is seen at once.
class AdminListCheck final : public Check {
 public:
  explicit AdminListCheck(std::function<AdminListsPtr()> lists) : lists_(std::move(lists)) {}
  std::string_view name() const override { return "admin_lists"; }
  Task<void> run(const CheckInput& input, ScanResult& result) override;

 private:
  std::function<AdminListsPtr()> lists_;
};

}  // namespace safetynet::checks
