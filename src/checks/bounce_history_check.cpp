#include "checks/bounce_history_check.hpp"

#include <algorithm>

namespace safetynet::checks {

Task<void> BounceHistoryCheck::run(const CheckInput& input, ScanResult& result) {
  if (!store_ || !input.address) co_return;
  std::string address = input.address->local + "@" + input.address->ascii_domain;
  std::transform(address.begin(), address.end(), address.begin(), [](unsigned char c) { return std::tolower(c); });
  const std::string domain = address.substr(address.rfind('@'));
  const TimePoint now = Clock::now();
  for (const std::string& subject : {address, domain}) {
    const auto s = store_->standing(subject);
    if (!s) continue;
    if (s->state == "hard") result.add("HARD_BOUNCED", s->evidence);
    else if (s->state == "complained" || s->state == "suppressed") result.add("SUPPRESSED", s->evidence);
    else if (s->state == "soft_permanent") result.add("SOFT_BOUNCE_HOLD", s->evidence);
    else if (s->state == "soft_hold" && s->until && *s->until > now) result.add("SOFT_BOUNCE_HOLD", s->evidence);
  }
}

}  // namespace safetynet::checks
