#include "safetynet/pipeline/pipeline.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "safetynet/core/logging.hpp"
#include "safetynet/metrics/metrics.hpp"

#include <algorithm>

namespace safetynet {

Pipeline::Pipeline(std::vector<CheckPtr> checks, PolicyPtr policy, Store* cache, PipelineOptions options)
    : checks_(std::move(checks)), policy_(std::move(policy)), cache_(cache), options_(options) {}

namespace {
// How long a "try again later" answer stands before the address is probed again (verification
// notes: greylists hold minutes, so re-probe after 30 min or more).
constexpr std::chrono::milliseconds kTemporaryTtl = std::chrono::minutes(30);

nlohmann::json signalsJson(const std::vector<Signal>& signals) {
  auto a = nlohmann::json::array();
  for (const auto& s : signals) a.push_back({{"name", s.name}, {"evidence", s.evidence}});
  return a;
}

bool hasInternal(const Policy& p, const std::vector<Signal>& signals) {
  for (const auto& s : signals)
    if (const SignalDef* d = p.signal(s.name); d && d->internal) return true;
  return false;
}

// What a lying resolver says about a domain is our failure, not the domain's (the fail-safe).
ScanResult distrustDns(ScanResult in, const std::string& why) {
  ScanResult out;
  for (const auto& s : in.signals()) {
    if (s.name == "DOMAIN_NXDOMAIN" || s.name == "NO_MAIL_HOST" || s.name == "NULL_MX")
      out.add("DNS_TEMPFAIL", s.evidence + " (not trusted: " + why + ")");
    else
      out.add(s.name, s.evidence);
  }
  out.suggestion = in.suggestion;
  return out;
}

// A bounce said the domain takes no mail (DOMAIN_BOUNCED: hostunknown, notaccept) and our own
// domain check, asked after it, found its mail host: the bounce spoke for the sending side's
// resolver or relay, or for an outage since over (docs/bounces.md, "A dead domain is DNS's to
// say"). Such a bounce never reached the domain, so sending again costs no reputation, while
// holding on it could hold every lead a broken resolver bounced. Any failure of ours (a lookup
// that failed, a check that threw) is no answer: the bounce holds.
bool ourDnsFindsTheMailHost(const ScanResult& net) {
  for (const auto& s : net.signals())
    if (s.name == "DNS_TEMPFAIL" || s.name == "DOMAIN_NXDOMAIN" || s.name == "NO_MAIL_HOST" || s.name == "NULL_MX" ||
        s.name == "INTERNAL_ERROR")
      return false;
  return true;
}

void setAsideDomainBounces(std::vector<Signal>& signals, const std::string& domain) {
  for (auto& s : signals)
    if (s.name == "DOMAIN_BOUNCED") {
      s.name = "DOMAIN_BOUNCE_CONTRADICTED";
      s.evidence += "; but our DNS finds " + domain + "'s mail host now";
    }
}

// A check that throws has failed on our side: it becomes a signal, never a crash.
Task<void> runGuarded(Check& check, const CheckInput& in, ScanResult& out) {
  std::string failure;
  try {
    co_await check.run(in, out);
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!failure.empty()) {
    logger("pipeline")->warn("check {} failed: {}", check.name(), failure);
    out.add("INTERNAL_ERROR", std::string(check.name()) + " check failed: " + failure);
  }
}
}  // namespace

// Whether the network checks include the domain check (cached verdicts are of these checks).
bool Pipeline::hasDomainCheck() const {
  return std::any_of(checks_.begin(), checks_.end(), [](const CheckPtr& c) { return c->name() == "domain"; });
}

Task<RecipientVerdict> Pipeline::evaluate(std::string raw, bool fresh, std::optional<TimePoint> deadline,
                                          ProfilePtr profile) {
  const auto start = std::chrono::steady_clock::now();
  RecipientVerdict rv;
  rv.input = raw;
  CheckInput in;
  in.raw = raw;
  in.deadline = deadline;
  in.profile = std::move(profile);
  auto parsed = parseAddress(raw);
  in.address = parsed.address;
  if (in.address) rv.normalized = in.address->normalized();
  const std::string cacheKey = in.address ? canonicalAddress(raw) : std::string();

  ScanResult scan;
  for (auto& c : checks_) {  // offline checks: always, so list edits apply at once
    if (c->needsNetwork()) continue;
    co_await runGuarded(*c, in, scan);
    if (scan.stopped()) break;
  }
  std::vector<Signal> known;  // offline + cached: what did not need this evaluation's network
  // Whether the domain check found the domain's mail host: in this evaluation, or in the cached
  // one (recording a bounce that says the domain takes no mail drops the verdicts cached before it,
  // so a cached verdict beside DOMAIN_BOUNCED was checked after the bounce).
  bool mailHostFound = false;
  if (!scan.stopped() && options_.network && in.address) {
    std::optional<CachedVerdict> hit;
    if (cache_ && !fresh) {
      hit = cache_->cachedVerdict(cacheKey, Clock::now());
      metrics::instruments().verdict_cache.with({hit ? "hit" : "miss"}).inc();
    }
    if (hit) {
      rv.cached = true;
      ScanResult net;
      for (const auto& s : hit->signals) net.add(s.value("name", ""), s.value("evidence", ""));
      mailHostFound = hasDomainCheck() && ourDnsFindsTheMailHost(net);
      for (auto& s : net.signals()) scan.add(s.name, s.evidence);
      if (!hit->reason.empty()) scan.suggestion = hit->reason;  // reason column holds the suggestion
    } else {
      known = scan.signals();
      ScanResult net;
      bool domainAsked = false;
      for (auto& c : checks_) {
        if (!c->needsNetwork()) continue;
        rv.network_checked = true;
        co_await runGuarded(*c, in, net);
        domainAsked = domainAsked || c->name() == "domain";
        if (net.stopped()) break;
      }
      if (!dnsDistrust_.empty()) net = distrustDns(std::move(net), dnsDistrust_);
      mailHostFound = domainAsked && ourDnsFindsTheMailHost(net);
      // Failures on our side are not facts about the address: never cache them. Nor a probe
      // skipped for time (nothing was learned: the next email probes again).
      bool learned = true, temporary = false;
      for (const auto& sig : net.signals()) {
        if (sig.name == "SMTP_SKIPPED") learned = false;
        // A 4xx "try again later" (RFC 5321 4.2.1): greylisting holds minutes, so the address is
        // probed again after kTemporaryTtl, not after recheck_after.
        if (sig.name == "GREYLISTED") temporary = true;
      }
      if (cache_ && learned && !hasInternal(*policy_, net.signals())) {
        const std::string reason = policy_->decide(net.signals()).reason;
        auto ttl = reason.empty() ? options_.positive_ttl
                   : reason == "unknown" ? options_.unknown_ttl
                                         : options_.negative_ttl;
        if (temporary) ttl = std::min(ttl, kTemporaryTtl);
        cache_->cacheVerdict(CachedVerdict{cacheKey, "", net.suggestion, signalsJson(net.signals()), Clock::now() + ttl});
      }
      for (auto& s : net.signals()) scan.add(s.name, s.evidence);
      if (!net.suggestion.empty()) scan.suggestion = net.suggestion;
    }
  }
  if (mailHostFound) {
    // Known before this evaluation too: a hold it contradicts is no reason to stop an email first
    // seen too late.
    setAsideDomainBounces(scan.signals(), in.address->ascii_domain);
    setAsideDomainBounces(known, in.address->ascii_domain);
  }
  rv.suggestion = scan.suggestion;
  // A rep's release allows what a rep may release, and nothing else (policy.hpp, repMayRelease).
  auto decide = [&](std::vector<Signal> signals) {
    Verdict v = policy_->decide(signals);
    if (scan.rep_release.empty() || v.forced) return v;
    if (!v.reason.empty() && !repMayRelease(v.reason)) {
      v.evidence += "; a rep's release (" + scan.rep_release + ") does not cover " + v.reason + ": an admin's does";
      return v;
    }
    signals.insert(signals.begin(), Signal{"OVERRIDDEN", 0.0, scan.rep_release});
    return policy_->decide(std::move(signals));
  };
  rv.known_revert = decide(rv.network_checked ? known : scan.signals()).revert;
  rv.verdict = decide(std::move(scan.signals()));
  rv.duration_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  co_return rv;
}

Task<std::vector<RecipientVerdict>> Pipeline::evaluateAll(std::vector<std::string> addresses,
                                                          std::vector<std::optional<TimePoint>> deadlines,
                                                          std::vector<ProfilePtr> profiles) {
  std::vector<RecipientVerdict> out(addresses.size());
  std::vector<size_t> order(addresses.size());
  {
    std::vector<std::string> domains(addresses.size());
    for (size_t i = 0; i < addresses.size(); ++i) {
      order[i] = i;
      const auto at = addresses[i].rfind('@');
      domains[i] = at == std::string::npos ? std::string() : addresses[i].substr(at + 1);
      std::transform(domains[i].begin(), domains[i].end(), domains[i].begin(),
                     [](unsigned char c) { return std::tolower(c); });
    }
    auto deadlineOf = [&](size_t i) {
      return i < deadlines.size() && deadlines[i] ? *deadlines[i] : TimePoint::max();
    };
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const TimePoint da = deadlineOf(a), db = deadlineOf(b);
      return da != db ? da < db : domains[a] < domains[b];
    });
  }
  size_t next = 0;
  // W workers share one cursor; all run on the same single-threaded io_context, so no locking.
  auto worker = [&]() -> Task<void> {
    while (next < order.size()) {
      size_t i = order[next++];
      std::optional<TimePoint> deadline;  // a named local: g++ 12 mishandles temporaries in co_await calls
      if (i < deadlines.size()) deadline = deadlines[i];
      ProfilePtr profile = i < profiles.size() ? profiles[i] : nullptr;
      out[i] = co_await evaluate(addresses[i], false, deadline, profile);
    }
  };
  auto ex = co_await asio::this_coro::executor;
  const size_t n = std::min<size_t>(std::max(1, options_.concurrency), addresses.size());
  using Op = decltype(asio::co_spawn(ex, worker(), asio::deferred));
  std::vector<Op> ops;
  for (size_t i = 0; i < n; ++i) ops.push_back(asio::co_spawn(ex, worker(), asio::deferred));
  if (!ops.empty()) {
    auto [order, errors] = co_await asio::experimental::make_parallel_group(std::move(ops))
                               .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
  }
  co_return out;
}

}  // namespace safetynet
