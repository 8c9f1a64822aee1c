#include "checks/bounce_history_check.hpp"

#include <algorithm>

#include "bounce/bounce_policy.hpp"

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
    // A bounce that says the domain takes no mail (hostunknown, notaccept) is a claim about DNS
    // that our own domain check, run after this one, asks afresh: the pipeline lets it go when our
    // DNS finds the domain's mail host (DOMAIN_BOUNCED, docs/bounces.md "A dead domain").
    if (s->state == "hard") result.add(bounce::aboutTheDomain(s->reason) ? "DOMAIN_BOUNCED" : "HARD_BOUNCED", s->evidence);
    else if (s->state == "complained" || s->state == "suppressed") result.add("SUPPRESSED", s->evidence);
    else if (s->state == "soft_permanent") result.add("SOFT_BOUNCE_HOLD", s->evidence);
    else if (s->state == "soft_hold" && s->until && *s->until > now) result.add("SOFT_BOUNCE_HOLD", s->evidence);
  }
}

}  // namespace safetynet::checks
