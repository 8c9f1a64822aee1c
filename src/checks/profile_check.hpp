#pragma once
// What the platform knows about the person (RecipientProfile), as signals:
//  HARD_BOUNCED        the platform marks this address (or the person's primary, where the
//                      platform keeps one flag) as bounced
//  SUPPRESSED          opted out, do-not-contact, or this address unsubscribed
//  NOT_PRIMARY_EMAIL   another address is the primary one; or this is a free-webmail address
//                      while a work address at the account's domain exists
//  NO_ENGAGEMENT       no open, click or reply within engagement.dead_after (hint: with CATCH_ALL
//                      it holds as dead_email)
//  MANY_SENDS_NO_ENGAGEMENT  and at least engagement.unengaged_sends emails were sent (adds up to
//                      dead_email alone)
//  PLATFORM_BOUNCES    bounces the platform counted without marking the address bouncing (hint:
//                      with NO_ENGAGEMENT it holds)
// Offline: the profile comes with the email, so these are never cached with network results.
#include "safetynet/check/check.hpp"
#include "safetynet/config/config.hpp"

namespace safetynet::checks {

class ProfileCheck final : public Check {
 public:
  explicit ProfileCheck(EngagementConfig engagement) : engagement_(engagement) {}
  std::string_view name() const override { return "platform_profile"; }
  Task<void> run(const CheckInput& input, ScanResult& result) override;

 private:
  EngagementConfig engagement_;
};

}  // namespace safetynet::checks
