#pragma once
// The bounce history (store standings, written by `bounce import` and the connectors' bounce
// data), as signals: a hard bounce of the address HARD_BOUNCED until an admin clears it; one that
// says its domain takes no mail (of the address, or of the whole domain) DOMAIN_BOUNCED, which the
// pipeline sets aside when our own DNS finds the domain's mail host; a complaint SUPPRESSED
// (do_not_mail); a soft-bounce hold SOFT_BOUNCE_HOLD while it lasts, or for good after repeated
// holds. Offline: a store read, no network.
#include "safetynet/check/check.hpp"
#include "safetynet/store/store.hpp"

namespace safetynet::checks {

class BounceHistoryCheck final : public Check {
 public:
  explicit BounceHistoryCheck(Store* store) : store_(store) {}
  std::string_view name() const override { return "bounce_history"; }
  Task<void> run(const CheckInput& input, ScanResult& result) override;

 private:
  Store* store_;
};

}  // namespace safetynet::checks
