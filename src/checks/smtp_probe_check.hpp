#pragma once
// The SMTP RCPT probe as a check: MX hosts in preference order (the domain itself when it has no
// MX: implicit MX), a random local part first to tell a catch-all domain (unless the MX belongs
// to a provider known to answer it wrongly), then the recipient. Never sends mail.
#include <boost/asio/steady_timer.hpp>

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
  int per_mx_concurrency = 5;    // sessions open at once to one MX host (shared hosting serves many domains)
  int max_sessions = 50;         // sessions open at once in all
  int per_domain_rate = 30;      // sessions started per minute per domain (0: no limit)
  // Recipients of one domain that arrive together share a session: the first waits this long for
  // others, then asks up to max_rcpt_per_session of them (RFC 5321 allows 100; Outlook limits).
  std::chrono::milliseconds batch_window{15};
  size_t max_rcpt_per_session = 20;
  std::chrono::hours catch_all_memory{24};
};

// The SMTP sessions open, per domain, per first MX host and in all, and when the next session to
// a domain may start: one set per daemon. A reload (SIGHUP) builds a new probe check while the old
// one still finishes its sessions; sharing these, the limits hold across the swap (before, each
// domain could get twice per_domain_concurrency sessions meanwhile).
struct SmtpSessionCounts {
  std::map<std::string, int> per_domain, per_mx;
  int total = 0;
  std::map<std::string, std::chrono::steady_clock::time_point> next_start;  // domain -> earliest next session
};

class SmtpProbeCheck final : public Check {
 public:
  // `store` (may be null) keeps what was learned about domains (catch-all) across restarts.
  // `sessions`: the counts to share (a reload's new check takes the old one's); none: its own.
  SmtpProbeCheck(DnsResolverPtr dns, SmtpProberPtr prober, SmtpProbeCheckOptions options, Store* store = nullptr,
                 std::shared_ptr<SmtpSessionCounts> sessions = nullptr);
  const std::shared_ptr<SmtpSessionCounts>& sessionCounts() const { return sessions_; }
  std::string_view name() const override { return "smtp_probe"; }
  bool needsNetwork() const override { return true; }
  Task<void> run(const CheckInput& input, ScanResult& result) override;

 private:
  std::string randomLocalPart();
  // Waits until a session to this domain and MX host may open (per domain, per MX, global limits).
  // false when `deadline` came first: no session slot before the send (nothing was taken).
  // `deadline` is read at each wait: a joiner of the batch may bring it forward meanwhile.
  Task<bool> acquire(const std::string& domain, const std::string& mx, const std::optional<TimePoint>& deadline);
  void release(const std::string& domain, const std::string& mx);

  DnsResolverPtr dns_;
  SmtpProberPtr prober_;
  SmtpProbeCheckOptions options_;
  std::mt19937_64 rng_{std::random_device{}()};
  struct CatchAll {
    bool value;
    std::chrono::steady_clock::time_point until;
  };
  // One SMTP session for several recipients of a domain.
  struct Batch {
    explicit Batch(asio::any_io_executor ex) : done(ex, asio::steady_timer::time_point::max()) {}
    std::vector<std::string> recipients;
    // The earliest send of its recipients: a later email's recipient may join with an earlier
    // send time than the opener's, and the session must end in time for it too.
    std::optional<TimePoint> deadline;
    bool started = false, finished = false;
    ProbeSession session;
    std::string failure;
    asio::steady_timer done;
  };
  Task<std::shared_ptr<Batch>> joinBatch(const std::string& domain, const std::vector<std::string>& hosts,
                                         const std::string& probeAddress, const std::string& recipient,
                                         std::optional<TimePoint> deadline);

  std::optional<bool> knownCatchAll(const std::string& domain);
  void rememberCatchAll(const std::string& domain, bool value);

  Store* store_;
  std::map<std::string, CatchAll> catchAll_;  // domain -> known answer, when there is no store
  std::shared_ptr<SmtpSessionCounts> sessions_;
  std::map<std::string, std::shared_ptr<Batch>> collecting_;  // domain -> batch not started yet
};

}  // namespace safetynet::checks
