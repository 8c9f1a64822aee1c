#pragma once

#include <optional>
#include <string>

namespace safetynet {

// Why an IP address is not on the public internet, or nullopt when it is: "loopback",
// "private (RFC 1918)", "link-local"... From IANA's IPv4 and IPv6 Special-Purpose Address
// Registries (RFC 6890 and its updates): the blocks whose "Globally Reachable" is False, and
// multicast. A text that is no IP address is nullopt (not our call to make here).
std::optional<std::string> nonPublicAddress(const std::string& ip);

}  // namespace safetynet
