#pragma once
// Offline facts about the address from the shipped lists: DISPOSABLE_DOMAIN, ROLE_ACCOUNT
// (complaint-prone: abuse@, postmaster@...), ROLE_ADDRESS (a team mailbox: info@, sales@; weight 0
// by default), FREE_PROVIDER (information), TYPO_DOMAIN (gmial.com; with the corrected address
// as the suggestion). Registrable domains come from the public suffix list (libpsl).
#include <memory>

#include "checks/builtin_lists.hpp"
#include "checks/registrable_domain.hpp"
#include "safetynet/check/check.hpp"

namespace safetynet::checks {

// "gmail.com" for "gmial.com", or "" when the domain is no near miss of a big provider.
std::string typoSuggestion(const std::string& domain, const BuiltinLists& lists);

class ProviderCheck final : public Check {
 public:
  explicit ProviderCheck(std::shared_ptr<const BuiltinLists> lists = BuiltinLists::get()) : lists_(std::move(lists)) {}
  std::string_view name() const override { return "provider_lists"; }
  Task<void> run(const CheckInput& input, ScanResult& result) override;

 private:
  std::shared_ptr<const BuiltinLists> lists_;
};

}  // namespace safetynet::checks
