#include "checks/override_check.hpp"

#include "safetynet/core/text.hpp"
#include "safetynet/core/time_format.hpp"

namespace safetynet::checks {

Task<void> OverrideCheck::run(const CheckInput& input, ScanResult& result) {
  if (!store_ || !input.address) co_return;
  const std::string address = asciiLower(input.address->local) + "@" + input.address->ascii_domain;
  const auto o = store_->activeOverride(address, Clock::now());  // an expired one is no override
  if (!o) co_return;
  std::string evidence = address + " was released by " + o->who + " until " + formatIso8601(o->until);
  if (!o->why.empty()) evidence += " (" + o->why + ")";
  // A release from Slack by someone who is not an admin is the rep's: it covers what a rep may
  // release, so the other checks still run (the admin's lists may have named the address since).
  const bool byRep = o->who.rfind("slack:", 0) == 0 && !(isAdmin_ && isAdmin_(o->who.substr(6)));
  if (byRep) {
    result.rep_release = evidence;
    co_return;
  }
  result.add("OVERRIDDEN", evidence);
  result.stop();  // allowed whatever the other checks say: no need to run them
}

}  // namespace safetynet::checks
