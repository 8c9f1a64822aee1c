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
  const size_t before = result.signals().size();  // what the checks before this one found
  bool ownHardHold = false;
  for (const std::string& subject : {address, domain}) {
    const auto s = store_->standing(subject);
    if (!s) continue;
    // A bounce that says the domain takes no mail (hostunknown, notaccept) is a claim about DNS
    // that our own domain check, run after this one, asks afresh: the pipeline lets it go when our
    // DNS finds the domain's mail host (DOMAIN_BOUNCED, docs/bounces.md "A dead domain").
    if (s->state == "hard") {
      const bool aboutDomain = bounce::aboutTheDomain(s->reason);
      ownHardHold = ownHardHold || !aboutDomain;
      result.add(aboutDomain ? "DOMAIN_BOUNCED" : "HARD_BOUNCED", s->evidence);
    } else if (s->state == "complained" || s->state == "suppressed") result.add("SUPPRESSED", s->evidence);
    else if (s->state == "soft_permanent") result.add("SOFT_BOUNCE_HOLD", s->evidence);
    else if (s->state == "soft_hold" && s->until && *s->until > now) result.add("SOFT_BOUNCE_HOLD", s->evidence);
  }
  // The platform's bounced flag (HARD_BOUNCED from the platform profile check, which services.cpp
  // runs before this one) gives no reason. When the history holds no reason of its own that says
  // more, and the address bounced as a domain that takes no mail, the flag is that bounce: the
  // platform marked it so from the same notice, and it is weighed against our DNS the same way.
  if (ownHardHold) co_return;
  bool flagged = false;
  for (size_t i = 0; i < before; ++i) flagged = flagged || result.signals()[i].name == "HARD_BOUNCED";
  if (!flagged) co_return;
  std::string why;
  for (const auto& past : store_->bouncesFor(address, TimePoint{}))
    if (past.hard && bounce::aboutTheDomain(past.reason)) why = past.reason + " " + past.status;
  if (why.empty()) co_return;
  for (size_t i = 0; i < before; ++i) {
    auto& s = result.signals()[i];
    if (s.name != "HARD_BOUNCED") continue;
    s.name = "DOMAIN_BOUNCED";
    s.evidence += " (the bounce on record for it: " + why + ", the domain taking no mail)";
  }
}

}  // namespace safetynet::checks
