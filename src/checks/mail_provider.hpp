#pragma once
// Who runs a domain's mail, read from its MX host names (notes/verification.md: provider routing
// by MX suffix). The provider explains answers that look odd (Yahoo accepts everything, Outlook
// defers random addresses) and is kept as a domain fact in the store.
#include <string>
#include <vector>

namespace safetynet::checks {

// A short stable name ("google", "microsoft365", "outlook_consumer", "yahoo", "proofpoint"...) for
// the first MX host that matches a known suffix; "" when none does.
std::string mailProviderOf(const std::vector<std::string>& mx_hosts);

}  // namespace safetynet::checks
