#pragma once
// What one more bounce does to where an address stands (config.bounces). Pure: no store, no
// clock; bounce_history.cpp feeds it and writes the result.
#include <optional>

#include "safetynet/config/config.hpp"
#include "safetynet/store/store.hpp"

namespace safetynet::bounce {

// Whether a soft bounce says something about the recipient (full, disabled, expired...) rather
// than about us or our message (blocked, authfailure, spamdetected...): only those count.
bool countsAgainstRecipient(const std::string& reason);

// Whether the bounce says the recipient's domain is dead (hostunknown, notaccept).
bool aboutTheDomain(const std::string& reason);

// The address itself, or "@domain" when the failure is the domain's (hostunknown, notaccept) and
// `domain_confirmed`: bounces say so for config.domain_after different addresses. One bounce is
// not enough for a whole company: a DNS failure can read like a dead domain.
std::string subjectOf(const BounceEvent& e, bool domain_confirmed);

// The subject's new standing after `e`, given the soft bounces counted since the window or the
// last hold began (`soft_in_window`, this one included); nullopt: nothing to record (a
// delivery, an auto-reply).
std::optional<Standing> applyBounce(const std::optional<Standing>& current, const BounceEvent& e, const std::string& subject,
                                    int soft_in_window,
                                    const BouncesConfig& config, TimePoint now);

// A hard "no such user" bounce (`e`) while `addresses` different addresses `where` ("at
// big.test", or at the domains of one mail provider) bounced so within config.incident_window, at
// least config.incident_after: more like the provider's incident than that many mailboxes dying in
// an hour. The address is watched, not suppressed: a hard bounce after the incident suppresses it.
// nullopt: nothing to change (a complaint, or a suppression older than the incident, stays).
std::optional<Standing> incidentStanding(const std::optional<Standing>& current, const BounceEvent& e, int addresses,
                                         const std::string& where, const BouncesConfig& config);

// Whether `current` is a hard bounce the incident seen at `at` may have caused (recorded within
// the window before `at`, for an unknown user): those are rewritten as incidentStanding says.
bool hardWithinIncident(const std::optional<Standing>& current, const BouncesConfig& config, TimePoint at);

// When the soft bounces that count towards the next hold began.
TimePoint softCountingStart(const std::optional<Standing>& current, const BouncesConfig& config, TimePoint now);

}  // namespace safetynet::bounce
