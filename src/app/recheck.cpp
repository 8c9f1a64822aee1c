// product.md step 7: recipients held as `unknown` (greylisted, timed out) are checked again after
// recheck_after. Still inconclusive: once more later (up to kMaxRechecks); otherwise the rep is
// told the outcome. The email itself stays a draft: the rep decides to reschedule it.
#include <map>

#include "safetynet/app/app.hpp"
#include "safetynet/core/logging.hpp"

namespace safetynet {

namespace {
constexpr int kMaxRechecks = 3;
}

Task<int> runRechecks(Services& s, Store& store, TimePoint now) {
  int n = 0;
  std::map<std::string, RecipientVerdict> seen;  // one fresh check per address per pass
  for (const auto& r : store.dueRechecks(now, 100)) {
    auto it = seen.find(r.address);
    if (it == seen.end()) {
      // Not inside the call's arguments: g++ 12 mishandles co_await results used there.
      RecipientVerdict fresh = co_await s.pipeline->evaluate(r.address, /*fresh=*/true);
      it = seen.emplace(r.address, std::move(fresh)).first;
    }
    const RecipientVerdict& v = it->second;
    ++n;
    const std::string outcome = v.verdict.reason.empty() ? "allow" : v.verdict.reason;
    std::optional<TimePoint> again;
    if (outcome == "unknown" && r.attempts + 1 < kMaxRechecks) again = now + s.config.recheck_after;
    std::optional<OutboxMessage> note;
    if (!again) {
      OutboxMessage m = outboxNote(s, "recheck|" + r.email_key + "|" + r.address, r.context);
      m.payload["recheck"] = true;
      m.payload["recipients"] = nlohmann::json::array({r.address});
      m.payload["reason"] = v.verdict.revert ? v.verdict.reason : "";
      const ReasonDef* def = s.policy->reason(v.verdict.reason);
      m.payload["reason_text"] = def ? def->description : "";
      m.payload["evidence"] = v.verdict.evidence;
      m.payload["next_step"] = v.verdict.revert ? v.verdict.next_step
                                                : "The address now passes the checks: the email is still a draft; "
                                                  "send it again if it is still relevant.";
      note = m;
    }
    store.finishRecheck(r, outcome, again, note);
    logger("recheck")->info("{} re-checked: {}{}", r.address, outcome, again ? " (again later)" : "");
  }
  co_return n;
}

}  // namespace safetynet
