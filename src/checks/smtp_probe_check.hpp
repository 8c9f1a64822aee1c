#pragma once
// The SMTP RCPT probe as a check: MX hosts in preference order (the domain itself when it has no
// MX: implicit MX), a random local part first to tell a catch-all domain (unless the MX belongs
// to a provider known to answer it wrongly), then the recipient. Never sends mail.
#include <map>
#include <random>

#include "safetynet/check/check.hpp"
#include "safetynet/net/dns.hpp"
#include "safetynet/net/smtp_prober.hpp"
#include "safetynet/store/store.hpp"

namespace safetynet::checks {

struct SmtpProbeCheckOptions {
  // MX host suffixes whose answer to a random address means nothing (notes/verification.md:
  // Outlook answers 451 to everything, Yahoo accepts everything).
  std::vector<std::string> skip_catch_all_mx = {".google.com", ".googlemail.com", ".outlook.com",
                                                ".yahoodns.net", ".antispamcloud.com"};
  int per_domain_concurrency = 2;
  std::chrono::hours catch_all_memory{24};
};

class SmtpProbeCheck final : public Check {
 public:
  // `store` (may be null) keeps what was learned about domains (catch-all) across restarts.
  SmtpProbeCheck(DnsResolverPtr dns, SmtpProberPtr prober, SmtpProbeCheckOptions options, Store* store = nullptr);
  std::string_view name() const override { return "smtp_probe"; }
  bool needsNetwork() const override { return true; }
  Task<void> run(const CheckInput& input, ScanResult& result) override;

 private:
  std::string randomLocalPart();
  Task<void> acquire(const std::string& domain);
  void release(const std::string& domain);

  DnsResolverPtr dns_;
  SmtpProberPtr prober_;
  SmtpProbeCheckOptions options_;
  std::mt19937_64 rng_{std::random_device{}()};
  struct CatchAll {
    bool value;
    std::chrono::steady_clock::time_point until;
  };
  std::optional<bool> knownCatchAll(const std::string& domain);
  void rememberCatchAll(const std::string& domain, bool value);

  Store* store_;
  std::map<std::string, CatchAll> catchAll_;  // domain -> known answer, when there is no store
  std::map<std::string, int> inFlight_;       // domain -> sessions open
};

}  // namespace safetynet::checks
