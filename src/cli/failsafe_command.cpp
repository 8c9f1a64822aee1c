// `safetynet failsafe status|resume`: what the fail-safe is doing, and resuming holds on guesses.
#include <iostream>

#include "admin/queries.hpp"
#include "app/failsafe.hpp"
#include "cli/commands.hpp"
#include "safetynet/core/email_json.hpp"
#include "safetynet/core/json_util.hpp"
#include "safetynet/core/time_format.hpp"

namespace safetynet::cli {

int failsafeCommand(const Config& config, bool json, bool resume) {
  StorePtr store = openStateStore(config, "failsafe");
  if (!store) return 1;
  if (resume) {
    if (!resumeFailsafe(*store, admin(), Clock::now())) {
      std::cerr << "the fail-safe is not on: nothing to resume\n";
      return 1;
    }
    std::cout << "resumed: risky emails are held again (the daemon picks this up at its next poll)\n";
    return 0;
  }
  const FailsafeStatus st = failsafeStatus(*store);
  if (json) {
    std::cout << jsonText(admin::failsafeJson(st)) << "\n";
    return 0;
  }
  if (st.active)
    std::cout << "fail-safe: ON since " << formatIso8601(st.since) << ": " << st.why
              << "\n  risky emails are let go (holds from your lists and the bounce history go on); "
                 "`safetynet failsafe resume` when the cause is fixed\n";
  else
    std::cout << "fail-safe: off (risky emails are held)\n";
  std::cout << (st.dns_distrusted ? "DNS: not trusted: " + st.dns_evidence : std::string("DNS: trusted (the canaries resolve)"))
            << "\n";
  return 0;
}

}  // namespace safetynet::cli
