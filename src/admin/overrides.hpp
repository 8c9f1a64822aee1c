#pragma once
// Overrides (releases), one implementation of each query and action, shared by the command line
// (`safetynet overrides`), the Slack "Release and send" button and the admin API to come: an
// address the checks allow (OVERRIDDEN) for a while, with who released it and why.
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <variant>
#include <vector>

#include "safetynet/store/store.hpp"

namespace safetynet::admin {

// An override lasts this long unless said otherwise (notes/product.md: 30 days), at most a year.
constexpr std::chrono::milliseconds kOverrideDefault = std::chrono::hours(24 * 30);
constexpr std::chrono::milliseconds kOverrideMax = std::chrono::hours(24 * 365);

struct OverrideRequest {
  std::string address;  // as given: validated and normalized by addOverride
  std::chrono::milliseconds duration = kOverrideDefault;
  std::string reason;
  std::string by;       // who asks: an admin's login, "slack:riley@seller.test"
};

// The override written, or why not (an address that is not one, a duration out of range).
using OverrideOutcome = std::variant<Override, std::string>;

OverrideOutcome addOverride(Store& store, const OverrideRequest& request, TimePoint now);
// False when the address had no active override (nothing to remove).
bool removeOverride(Store& store, const std::string& address, const std::string& by, TimePoint now);
std::vector<Override> listOverrides(Store& store, TimePoint now);
// The address an override is kept under (lower-case local part, A-label domain); "" if it is not
// an address.
std::string overrideAddress(const std::string& address);
// {"address", "who", "reason", "created", "until"} in this order.
nlohmann::ordered_json overrideJson(const Override& o);

}  // namespace safetynet::admin
