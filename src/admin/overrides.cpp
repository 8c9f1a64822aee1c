#include "admin/overrides.hpp"

#include "safetynet/check/address.hpp"
#include "safetynet/core/duration.hpp"
#include "safetynet/core/time_format.hpp"

namespace safetynet::admin {

std::string overrideAddress(const std::string& address) {
  if (!parseAddress(address).address) return "";
  return canonicalAddress(address);
}

OverrideOutcome addOverride(Store& store, const OverrideRequest& r, TimePoint now) {
  const std::string address = overrideAddress(r.address);
  if (address.empty()) return "\"" + r.address + "\" is not an email address";
  if (r.duration <= std::chrono::milliseconds(0) || r.duration > kOverrideMax)
    return "an override lasts more than 0 and at most " + formatDuration(kOverrideMax) + ", not " + formatDuration(r.duration);
  Override o{address, r.by, r.reason, now, now + r.duration};
  store.putOverride(o);
  return o;
}

bool removeOverride(Store& store, const std::string& address, const std::string& by, TimePoint now) {
  const std::string a = overrideAddress(address);
  return !a.empty() && store.removeOverride(a, by, now);
}

std::vector<Override> listOverrides(Store& store, TimePoint now) { return store.activeOverrides(now); }

nlohmann::ordered_json overrideJson(const Override& o) {
  return {{"address", o.address}, {"who", o.who}, {"reason", o.why}, {"created", formatIso8601(o.created)},
          {"until", formatIso8601(o.until)}};
}

}  // namespace safetynet::admin
