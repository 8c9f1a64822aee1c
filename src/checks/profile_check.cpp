#include "checks/profile_check.hpp"

#include "checks/builtin_lists.hpp"
#include "checks/provider_check.hpp"
#include "safetynet/connector/profile.hpp"
#include "safetynet/core/time_format.hpp"

namespace safetynet::checks {

namespace {
std::string domainOf(const std::string& address) {
  const auto at = address.rfind('@');
  std::string d = at == std::string::npos ? "" : address.substr(at + 1);
  for (auto& c : d) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return d;
}

bool isFreeMail(const std::string& domain) {
  const auto lists = BuiltinLists::get();
  return lists->free.count(domain) > 0 || lists->free.count(registrableDomain(domain)) > 0;
}

bool atAccountDomain(const std::string& address, const std::string& account) {
  if (account.empty()) return false;
  const std::string d = domainOf(address);
  return d == account || registrableDomain(d) == registrableDomain(account);
}

std::string days(std::chrono::milliseconds d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::hours>(d).count() / 24) + " days";
}
}  // namespace

Task<void> ProfileCheck::run(const CheckInput& input, ScanResult& result) {
  const RecipientProfile* p = input.profile.get();
  if (!p) co_return;
  const std::string address = input.address ? input.address->local + "@" + input.address->ascii_domain : input.raw;
  const ProfileAddress* self = p->find(address);
  if (!self) self = p->find(input.raw);
  const ProfileAddress* primary = p->primary();
  const bool isPrimary = self && self->primary;

  const bool bouncedFlag = (self && self->bounced) || (p->bounced && (isPrimary || (!primary && p->addresses.size() <= 1)));
  if (bouncedFlag) result.add("HARD_BOUNCED", "the platform marks " + address + " as bounced");
  // Bounces the platform counted without calling the address bouncing (Salesloft's
  // counts.emails_bounced): soft ones, most likely. A hint: with no engagement it holds.
  else if (p->bounces && *p->bounces > 0)
    result.add("PLATFORM_BOUNCES", "the platform counted " + std::to_string(*p->bounces) + " bounced email" +
                                       (*p->bounces == 1 ? "" : "s") + " to this person" +
                                       (p->sends ? " (of " + std::to_string(*p->sends) + " sent)" : ""));
  if (p->opted_out) result.add("SUPPRESSED", "the person opted out of email on the platform");
  else if (p->do_not_contact) result.add("SUPPRESSED", "the person is marked do-not-contact (email) on the platform");
  else if (self && self->unsubscribed) result.add("SUPPRESSED", address + " is unsubscribed on the platform");

  if (primary && self && !self->primary)
    result.add("NOT_PRIMARY_EMAIL", "the person's primary address is " + primary->email + ", not " + address);
  else if (isFreeMail(domainOf(address)) && !atAccountDomain(address, p->account_domain)) {
    for (const auto& other : p->addresses) {
      if (other.email == address) continue;
      const bool work = atAccountDomain(other.email, p->account_domain) ||
                        (other.type == "work" && !isFreeMail(domainOf(other.email)));
      if (work) {
        result.add("NOT_PRIMARY_EMAIL", address + " is a personal webmail address; the person has a work address, " +
                                            other.email);
        break;
      }
    }
  }

  // Engagement, only where the platform reports it. Stale: the last open, click or reply is
  // older than dead_after. Never engaged counts only after unengaged_sends emails: before that
  // the prospect is new, not dead.
  const auto last = p->lastEngaged();
  const bool stale = last && *last < Clock::now() - engagement_.dead_after;
  const bool never = !last && p->engagements && *p->engagements == 0;
  const bool many = p->sends && *p->sends >= engagement_.unengaged_sends;
  const std::string sent = p->sends ? std::to_string(*p->sends) + " emails sent" : "emails sent";
  if (stale || (never && many)) {
    const std::string what = stale ? "no open, click or reply since " + formatIso8601(*last).substr(0, 10)
                                   : "no open, click or reply ever recorded";
    result.add("NO_ENGAGEMENT", what + " (" + sent + "; dead after " + days(engagement_.dead_after) + ")");
  }
  if ((stale || never) && many)
    result.add("MANY_SENDS_NO_ENGAGEMENT", sent + " without any engagement since");
}

}  // namespace safetynet::checks
