#pragma once
// Bounce history: classified bounces into the store, each recipient's standing updated by the
// policy (bounce_policy.hpp) in the same transaction. Used by `bounce import` and, later, by the
// connectors' bounce data.
#include <functional>
#include <optional>

#include "safetynet/bounce/bounce.hpp"
#include "safetynet/bounce/incident.hpp"
#include "safetynet/config/config.hpp"
#include "safetynet/connector/profile.hpp"
#include "safetynet/store/store.hpp"

namespace safetynet::bounce {

struct ImportResult {
  int recorded = 0;    // new events
  int duplicates = 0;  // seen before (same message, same recipient)
  int ignored = 0;     // deliveries, auto-replies, feedback reports that are no complaint
  std::vector<Standing> changed;  // standings written
  std::vector<BounceIncident> incidents;  // incidents these bounces fell in
};

// The admins' notification of an incident that began, queued in the same transaction; nullopt:
// none (no notifier).
using IncidentAlert = std::function<std::optional<OutboxMessage>(const BounceIncident&)>;

// `message_id`: what makes the source message unique (a hash of its bytes for files).
ImportResult recordBounces(Store& store, const BouncesConfig& config, const Classification& c,
                           const std::string& message_id, const std::string& source, const std::string& sender,
                           TimePoint at, const IncidentAlert& alert = {});

// The addresses a platform's profile marks as bounced (an address's own flag, or the person's
// flag, which is about the primary address or the only one).
std::vector<std::string> platformBouncedAddresses(const RecipientProfile& profile);

// Those addresses into the history as hard bounces, once per platform, person and address: the
// platform's word then holds on every platform, and an admin's `suppressions clear` is not undone
// by the same flag seen again. `platform`: the connector's name, for the evidence.
ImportResult recordPlatformBounceFlags(Store& store, const BouncesConfig& config, const std::string& platform,
                                       const RecipientProfile& profile, TimePoint now);

}  // namespace safetynet::bounce
