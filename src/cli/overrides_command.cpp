// `safetynet overrides [--json] | overrides add ADDRESS [--for 30d] [--reason TEXT] |
// overrides remove ADDRESS`: the command-line twin of the admin API's /api/v1/overrides, on the
// same module (src/admin/overrides).
#include <iostream>

#include "admin/overrides.hpp"
#include "cli/commands.hpp"
#include "safetynet/core/duration.hpp"
#include "safetynet/core/json_util.hpp"
#include "safetynet/core/time_format.hpp"

namespace safetynet::cli {

int overridesCommand(const Config& config, const OverridesArgs& a) {
  std::chrono::milliseconds duration = admin::kOverrideDefault;
  if (a.add && !a.duration.empty()) {
    auto d = parseDuration(a.duration);
    if (!d) {
      std::cerr << "overrides add: --for expects a duration like 7d or 12h, got \"" << a.duration << "\"\n";
      return 2;
    }
    duration = *d;
  }
  StorePtr store = openStateStore(config, "overrides");
  if (!store) return 1;
  const TimePoint now = Clock::now();
  if (a.add) {
    admin::OverrideRequest r{a.address, duration, a.reason, admin()};
    auto outcome = admin::addOverride(*store, r, now);
    if (auto* error = std::get_if<std::string>(&outcome)) {
      std::cerr << "overrides add: " << *error << "\n";
      return 2;
    }
    const Override& o = std::get<Override>(outcome);
    std::cout << o.address << ": released until " << formatIso8601(o.until)
              << " (the checks allow it: OVERRIDDEN; the daemon sees it at its next poll)\n";
    return 0;
  }
  if (a.remove) {
    if (!admin::removeOverride(*store, a.address, admin(), now)) {
      std::cerr << a.address << ": no override\n";
      return 1;
    }
    std::cout << admin::overrideAddress(a.address) << ": override removed\n";
    return 0;
  }
  for (const auto& o : admin::listOverrides(*store, now)) {
    if (a.json) {
      std::cout << jsonText(admin::overrideJson(o)) << "\n";
      continue;
    }
    std::cout << o.address << "  until " << formatIso8601(o.until) << "  by " << o.who << "\n";
    if (!o.why.empty()) std::cout << "    " << o.why << "\n";
  }
  return 0;
}

}  // namespace safetynet::cli
