#pragma once
// Suspected provider incidents (docs/bounces.md, "Provider incidents"): many different addresses
// bouncing as unknown within a window, at one domain or at the domains whose mail one provider
// runs, read as the provider refusing live mailboxes, not as that many dead ones.
#include <optional>
#include <string>

#include "bounce/history.hpp"

namespace safetynet::bounce {

// The name the domain check keeps `domain`'s facts under: its A-labels.
std::string domainFactKey(const std::string& domain);

// The provider that runs `domain`'s mail as the domain check last saw its MX (the `provider`
// domain fact, kept by the ASCII form of the domain); "" when none is known.
std::string providerOfDomain(Store& store, const std::string& domain, TimePoint at);

// The locks a hard unknown-user bounce at `domain` counts incidents under, to be taken first and
// in this order: its provider's (when one is known), the site's that answered it (when that is not
// the recipient's own), then its domain's.
std::vector<std::string> incidentLocks(const std::string& domain, const std::string& provider, const std::string& site);

// Inside the bounce's transaction, incidentLocks held: whether the hard unknown-user bounce `e`
// falls in a suspected incident, of its domain, else of `provider`, else of the relay that
// answered it (`e.answered_by`); if so the incident's earlier
// hard bounces are rewritten (recorded before it tripped) and the admins told when it began.
std::optional<BounceIncident> incidentOf(Store& store, const BouncesConfig& config, const BounceEvent& e,
                                         const std::string& provider, const IncidentAlert& alert);

// Whether `address` bounced hard as unknown earlier in `incident`, before its window: twice in
// one outage, hours apart, so a dead mailbox after all.
bool unknownEarlierInIncident(Store& store, const std::string& address, const BounceIncident& incident,
                              std::chrono::milliseconds window);

// Where the incident's count was taken, for a standing's evidence: "at big.test", "at 4 of the
// domains whose mail google runs".
std::string incidentWhere(const BounceIncident& incident);

}  // namespace safetynet::bounce
