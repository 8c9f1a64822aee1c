#include "checks/list_checks.hpp"

namespace safetynet::checks {

Task<void> AdminListCheck::run(const CheckInput& input, ScanResult& result) {
  AdminListsPtr lists = lists_();
  if (!input.address || !lists) co_return;
  const Address& a = *input.address;
  if (auto m = lists->allow.match(a); !m.empty()) {
    result.add("ALLOWLISTED", m + " is on the allow list");
    result.stop();  // allow-listed addresses always pass: no need to probe them
    co_return;
  }
  if (auto m = lists->spamtraps.match(a); !m.empty()) result.add("SPAMTRAP_LISTED", m + " is on the spam-trap list");
  if (auto m = lists->complainers.match(a); !m.empty())
    result.add("COMPLAINER_LISTED", m + " is on the complainer list");
  if (auto m = lists->suppression.match(a); !m.empty()) result.add("SUPPRESSED", m + " is on the suppression list");
  co_return;
}

}  // namespace safetynet::checks
