// Retention (docs/benchmarks.md): a simulated year of a sales team's email through the store, on
// the store's own clock, pruned as the daemon prunes. Every 30 simulated days: the database's
// size, and the time of the queries the daemon runs each poll. Both must stay flat once the
// retention times have passed (180 days for decisions).
//   retention_bench [--days 365] [--per-day 40000] [--dir /dev/shm/...]
// The state directory defaults to /dev/shm (fsync costs nothing there: this measures size and
// query times, not the disk).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <vector>

#include "safetynet/core/time_format.hpp"
#include "safetynet/store/store.hpp"

using namespace safetynet;
namespace fs = std::filesystem;
using std::chrono::steady_clock;

namespace {

double medianMicros(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

template <typename F>
double timeMicros(F f) {
  const auto t = steady_clock::now();
  f();
  return std::chrono::duration<double, std::micro>(steady_clock::now() - t).count();
}

std::uintmax_t sizeOf(const fs::path& dir) {
  std::uintmax_t total = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) total += e.file_size();
  return total;
}

EmailDecision decision(long long n, TimePoint at, bool held) {
  EmailDecision d;
  d.key = "close-main|acti_" + std::to_string(n) + "|" + std::to_string(toMillis(at));
  d.connector = "close-main";
  d.email_id = "acti_" + std::to_string(n);
  d.scheduled_at = at + std::chrono::minutes(30);
  d.state = held ? EmailState::Reverting : EmailState::Allowed;
  d.verdict = held ? "revert" : "allow";
  d.reason = held ? "bounce_risk" : "";
  d.evidence = held ? "lead" + std::to_string(n) + "@gone.example: gone.example does not exist (NXDOMAIN)" : "";
  d.subject = "Following up on our call";
  d.sender = "rep" + std::to_string(n % 500) + "@seller.example";
  d.recipients = nlohmann::json::array(
      {{{"address", "lead" + std::to_string(n) + "@acme.example"}, {"verdict", d.verdict}, {"reason", d.reason},
        {"signals", nlohmann::json::array({{{"name", "MAIL_PROVIDER"}, {"weight", 0}, {"evidence", "acme.example: google"}}})}}});
  d.email = {{"id", d.email_id}, {"subject", d.subject}, {"to", d.recipients[0]["address"]}};
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"retention benchmark: a simulated year through the store"};
  int days = 365, perDay = 40000;
  std::string dir = "/dev/shm/safetynet-retention-bench";
  app.add_option("--days", days, "simulated days");
  app.add_option("--per-day", perDay, "scheduled emails a day (500 reps: about 40,000)");
  app.add_option("--dir", dir, "state directory (removed first)");
  CLI11_PARSE(app, argc, argv);

  fs::remove_all(dir);
  TimePoint now = Clock::now();
  StorePtr store = openSqliteStore(dir, [&now] { return now; });
  const RetentionConfig retention;
  const auto step = std::chrono::milliseconds(86400000LL / perDay);
  long long n = 0;
  std::cout << "day  emails      db+wal MB  pruned/day  find µs  cache µs  outbox µs  reverting µs  sim s/day\n";
  for (int day = 1; day <= days; ++day) {
    const auto dayStart = steady_clock::now();
    for (int i = 0; i < perDay; ++i, ++n) {
      now += step;
      const bool held = n % 10 == 0;  // a high hold rate: the heavier rows
      EmailDecision d = decision(n, now, held);
      store->recordDecision(d);
      store->cacheVerdict(CachedVerdict{d.recipients[0]["address"], "", "", d.recipients[0]["signals"],
                                        now + std::chrono::hours(24 * 31)});
      store->recordSend("close-main|email|" + std::to_string(n), d.sender, now);
      if (held) {
        OutboxMessage m;
        m.dedupe_key = "notify|" + d.key;
        m.kind = "slack";
        m.payload = {{"email_id", d.email_id}, {"reason", d.reason}, {"evidence", d.evidence}};
        store->transition(d.key, EmailState::Reverted, "moved back to draft in Close (confirmed by re-reading)", 1, m);
      }
      if (n % 200 == 0) {
        BounceEvent b;
        b.key = "bounce|" + std::to_string(n);
        b.address = "lead" + std::to_string(n) + "@acme.example";
        b.reason = "userunknown";
        b.hard = true;
        b.status = "5.1.1";
        b.source = "import";
        b.sender = d.sender;
        b.at = now;
        store->recordBounce(b, std::nullopt);
      }
    }
    for (const auto& m : store->dueOutbox(now, 100000)) store->outboxSent(m.id, "C1/" + std::to_string(m.id));
    int pruned = 0;
    for (int p; (p = store->prune(retention, now, 100000)) > 0;) pruned += p;
    const double simSeconds = std::chrono::duration<double>(steady_clock::now() - dayStart).count();
    if (day % 30 != 0 && day != days) continue;
    // What the daemon asks each poll, timed (medians of 200).
    std::vector<double> find, cache, outbox, reverting;
    for (int k = 0; k < 200; ++k) {
      const long long probe = n - 1 - (k * 997) % std::max<long long>(1, std::min<long long>(n, perDay));
      find.push_back(timeMicros([&] { (void)store->findDecision(decision(probe, now, false).key); }));
      cache.push_back(timeMicros([&] { (void)store->cachedVerdict("lead" + std::to_string(probe) + "@acme.example", now); }));
      outbox.push_back(timeMicros([&] { (void)store->dueOutbox(now, 100); }));
      reverting.push_back(timeMicros([&] { (void)store->decisionsInState(EmailState::Reverting); }));
    }
    std::cout << std::setw(3) << day << "  " << std::setw(9) << n << "  " << std::setw(9) << std::fixed
              << std::setprecision(1) << sizeOf(dir) / 1e6 << "  " << std::setw(10) << pruned << "  " << std::setw(7)
              << medianMicros(find) << "  " << std::setw(8) << medianMicros(cache) << "  " << std::setw(9)
              << medianMicros(outbox) << "  " << std::setw(12) << medianMicros(reverting) << "  " << std::setw(9)
              << simSeconds << std::endl;
  }
  store.reset();
  fs::remove_all(dir);
  return 0;
}
