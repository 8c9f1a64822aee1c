#pragma once
// A suspected provider incident (docs/bounces.md, "Provider incidents"): what the bounce history
// found, and what the admins' message and the logs say of it.
#include <string>
#include <vector>

#include "safetynet/core/task.hpp"

namespace safetynet::bounce {

// `addresses` different addresses at `domain` bounced as unknown within bounces.incident_window
// (bounces.incident_after); or, `provider` set and `domain` empty, at `domains` different domains
// whose mail one provider runs (bounces.provider_incident_ratio).
struct BounceIncident {
  std::string domain;
  std::string provider;
  std::string site;  // a relay's: the site whose hosts answered for `domains` domains (provider and domain empty)
  int domains = 1;
  int addresses = 0;
  int usual = 0;      // a provider's: its usual count in a window with such bounces, the week before
  int threshold = 0;  // a provider's: the count that made it an incident
  bool began = false;                  // this bounce tripped it (the admins are told once)
  std::vector<std::string> rewritten;  // earlier hard bounces of it, now watched
  TimePoint since{};                   // the window's start
  TimePoint started{};                 // the incident's first bounce (its fact's start)
};

// "big.test", or "google (12 of the domains whose mail it runs)": its place in a log line or the
// CLI's output.
std::string incidentPlace(const BounceIncident& incident);

}  // namespace safetynet::bounce
