#include "checks/smtp_probe_check.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "checks/smtp_reply.hpp"
#include "safetynet/core/text.hpp"
#include "safetynet/metrics/metrics.hpp"

#include <algorithm>

namespace safetynet::checks {

SmtpProbeCheck::SmtpProbeCheck(DnsResolverPtr dns, SmtpProberPtr prober, SmtpProbeCheckOptions options, Store* store,
                               std::shared_ptr<SmtpSessionCounts> sessions)
    : dns_(std::move(dns)),
      prober_(std::move(prober)),
      options_(std::move(options)),
      store_(store),
      sessions_(sessions ? std::move(sessions) : std::make_shared<SmtpSessionCounts>()) {}

std::optional<bool> SmtpProbeCheck::knownCatchAll(const std::string& domain) {
  if (store_) {
    if (auto v = store_->domainFact(domain, "catch_all", Clock::now())) return *v == "1";
    return std::nullopt;
  }
  if (auto it = catchAll_.find(domain); it != catchAll_.end() && it->second.until > std::chrono::steady_clock::now())
    return it->second.value;
  return std::nullopt;
}

void SmtpProbeCheck::rememberCatchAll(const std::string& domain, bool value) {
  if (store_)
    store_->putDomainFact(domain, "catch_all", value ? "1" : "0", Clock::now() + options_.catch_all_memory);
  else
    catchAll_[domain] = CatchAll{value, std::chrono::steady_clock::now() + options_.catch_all_memory};
}

std::string SmtpProbeCheck::randomLocalPart() {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s = "sn";
  for (int i = 0; i < 15; ++i) s += kChars[std::uniform_int_distribution<int>(0, 35)(rng_)];
  return s;
}

// Mail servers count connections per client: at most per_domain_concurrency sessions per domain,
// per_mx_concurrency per MX host, max_sessions in all. Waiters poll every 20 ms (single-threaded).
Task<bool> SmtpProbeCheck::acquire(const std::string& domain, const std::string& mx,
                                   const std::optional<TimePoint>& deadline) {
  SmtpSessionCounts& n = *sessions_;
  auto busy = [&] {
    return n.per_domain[domain] >= options_.per_domain_concurrency || n.per_mx[mx] >= options_.per_mx_concurrency ||
           n.total >= options_.max_sessions ||
           (options_.per_domain_rate > 0 && n.next_start.count(domain) &&
            std::chrono::steady_clock::now() < n.next_start[domain]);
  };
  while (busy()) {
    if (deadline && Clock::now() >= *deadline) co_return false;  // slow sessions hold the slots: too late now
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(20));
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  ++n.per_domain[domain];
  ++n.per_mx[mx];
  ++n.total;
  if (options_.per_domain_rate > 0) {
    // Sessions to a domain start at least 60 s / rate apart. (The map keeps one entry per domain
    // probed in this process's life: small next to the verdict cache.)
    n.next_start[domain] = std::chrono::steady_clock::now() + std::chrono::milliseconds(60000 / options_.per_domain_rate);
  }
  co_return true;
}

void SmtpProbeCheck::release(const std::string& domain, const std::string& mx) {
  SmtpSessionCounts& n = *sessions_;
  if (--n.per_domain[domain] <= 0) n.per_domain.erase(domain);
  if (--n.per_mx[mx] <= 0) n.per_mx.erase(mx);
  --n.total;
}

// The first recipient of a domain opens a batch and waits batch_window for others; the session
// then asks all of them, and every waiter reads its own reply.
Task<std::shared_ptr<SmtpProbeCheck::Batch>> SmtpProbeCheck::joinBatch(const std::string& domain,
                                                                       const std::vector<std::string>& hosts,
                                                                       const std::string& probeAddress,
                                                                       const std::string& recipient,
                                                                       std::optional<TimePoint> deadline) {
  auto ex = co_await asio::this_coro::executor;
  if (auto it = collecting_.find(domain);
      it != collecting_.end() && !it->second->started && it->second->recipients.size() < options_.max_rcpt_per_session) {
    auto batch = it->second;
    if (std::find(batch->recipients.begin(), batch->recipients.end(), recipient) == batch->recipients.end())
      batch->recipients.push_back(recipient);
    if (deadline && (!batch->deadline || *deadline < *batch->deadline)) batch->deadline = deadline;
    while (!batch->finished) co_await batch->done.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return batch;
  }
  auto batch = std::make_shared<Batch>(ex);
  batch->recipients.push_back(recipient);
  batch->deadline = deadline;
  collecting_[domain] = batch;
  asio::steady_timer window(ex, options_.batch_window);
  co_await window.async_wait(asio::as_tuple(asio::use_awaitable));
  const bool slot = co_await acquire(domain, hosts.front(), batch->deadline);
  batch->started = true;
  if (auto it = collecting_.find(domain); it != collecting_.end() && it->second == batch) collecting_.erase(it);
  if (!slot) {
    // Other sessions (slow servers, tarpits) held the domain's or the MX's slots until the send:
    // nothing asked, nothing learned (SMTP_SKIPPED, not cached).
    batch->session.error = "no probe session could start before the send (the domain's sessions were busy)";
    batch->session.timed_out = batch->session.out_of_time = true;
  } else {
    try {
      batch->session = co_await prober_->probe(hosts, probeAddress, batch->recipients, batch->deadline);
    } catch (const std::exception& e) {
      batch->failure = e.what();
    }
    release(domain, hosts.front());
  }
  batch->finished = true;
  batch->done.cancel();
  co_return batch;
}

Task<void> SmtpProbeCheck::run(const CheckInput& input, ScanResult& result) {
  if (!input.address) co_return;
  const Address& a = *input.address;
  const std::string& domain = a.ascii_domain;

  std::vector<std::string> hosts;
  DnsAnswer mx = co_await dns_->query(domain, DnsType::MX);
  if (mx.status == DnsStatus::Ok) {
    for (const auto& r : mx.mx)
      if (!r.host.empty()) hosts.push_back(r.host);
  } else if (mx.status == DnsStatus::NoData) {
    hosts.push_back(domain);  // implicit MX (RFC 5321 5.1)
  }
  if (hosts.empty()) co_return;  // NXDOMAIN, null MX, DNS failure: the domain check said so
  if (input.deadline && *input.deadline - Clock::now() < std::chrono::seconds(2)) {
    result.add("SMTP_SKIPPED", "too close to the send time to probe " + domain);
    co_return;
  }

  bool skipCatchAll = false;
  for (const auto& h : hosts)
    for (const auto& suffix : options_.skip_catch_all_mx)
      if (h.size() >= suffix.size() && h.compare(h.size() - suffix.size(), suffix.size(), suffix) == 0)
        skipCatchAll = true;
  const std::optional<bool> known = knownCatchAll(domain);
  const std::string probeAddress = (skipCatchAll || known) ? "" : randomLocalPart() + "@" + domain;

  const std::string recipient = a.local + "@" + domain;
  // One probe of this recipient, counted in safetynet_smtp_probes_total by the signal it gave
  // (lower case); "accepted" when the mailbox was accepted without one, "error" when the probe
  // ended otherwise (an exception, or cancelled).
  struct Counted {
    ScanResult& result;
    size_t before;
    bool accepted = false;
    ~Counted() {
      std::string outcome = accepted ? "accepted" : "error";
      if (result.signals().size() > before) outcome = asciiLower(result.signals().back().name);
      metrics::instruments().smtp_probes.with({outcome}).inc();
    }
  } counted{result, result.signals().size()};
  std::shared_ptr<Batch> batch = co_await joinBatch(domain, hosts, probeAddress, recipient, input.deadline);
  if (!batch->failure.empty()) {
    result.add("SMTP_UNREACHABLE", "probe of " + domain + " failed: " + batch->failure);
    co_return;
  }
  const ProbeSession& s = batch->session;
  const RcptReply* mine = nullptr;
  for (const auto& r : s.rcpts)
    if (r.address == recipient) mine = &r;

  if (!mine) {
    if (s.smtputf8 == false && !isAscii(recipient))
      result.add("SMTP_RCPT_REJECTED", s.host + " does not offer SMTPUTF8 (RFC 6531): mail to a non-ASCII address "
                                       "cannot be delivered there (a sender's Postfix bounces it: 5.6.7 \"SMTPUTF8 is "
                                       "required, but was not offered by host\")");
    else if (s.refused_us)
      result.add("SMTP_PROBE_REFUSED", s.host + " refused our probe: " + (s.refusal ? s.refusal->line() : s.error));
    else if (s.out_of_time)  // our own budget ran out, not the server: nothing learned, no hold
      result.add("SMTP_SKIPPED", "the probe of " + domain + " ran out of time before the send: " + s.error);
    else if (s.timed_out)
      result.add("SMTP_TIMEOUT", s.host + " (" + s.ip + "): " + s.error);
    else if (s.host.empty()) {
      std::string why;
      for (const auto& u : s.unreachable) why += (why.empty() ? "" : "; ") + u;
      result.add("SMTP_UNREACHABLE", "no mail server of " + domain + " could be reached: " + why);
    } else if (!s.rcpts.empty() && s.rcpts.back().reply.code == 421)  // the server closed the session: try later
      result.add("GREYLISTED", s.host + " (" + s.ip + "): " + s.error);
    else  // the connection was lost before this recipient was asked: the server said nothing about it
      result.add("SMTP_UNREACHABLE", s.host + " (" + s.ip + "): " +
                                         (s.rcpts.empty() ? "" : "the session ended before " + recipient + " was asked: ") +
                                         s.error);
    co_return;
  }

  const SmtpReply& reply = mine->reply;
  const std::string evidence = s.host + " answered \"" + reply.line() + "\"";
  switch (classifyRcpt(reply, recipient, s.host)) {
    case RcptOutcome::Accepted: {
      counted.accepted = true;
      bool isCatchAll = known.value_or(false);
      if (s.catch_all) {
        const auto probe = classifyRcpt(s.catch_all->reply, s.catch_all->address, s.host);
        if (probe == RcptOutcome::Accepted) isCatchAll = true;
        // Any answer about the random address itself says whether the domain takes every
        // address; a refusal of us, a temporary one or none says nothing.
        if (probe == RcptOutcome::Accepted || probe == RcptOutcome::MailboxNotFound ||
            probe == RcptOutcome::MailboxDisabled || probe == RcptOutcome::Rejected)
          rememberCatchAll(domain, isCatchAll);
      }
      if (isCatchAll) result.add("CATCH_ALL", domain + " accepts any address (" + s.host + " accepted a random one)");
      break;
    }
    case RcptOutcome::MailboxNotFound: result.add("SMTP_MAILBOX_NOT_FOUND", evidence); break;
    case RcptOutcome::MailboxFull: result.add("SMTP_MAILBOX_FULL", evidence); break;
    case RcptOutcome::MailboxFullTemporary: result.add("SMTP_MAILBOX_FULL_TEMPORARY", evidence); break;
    case RcptOutcome::MailboxDisabled: result.add("SMTP_MAILBOX_DISABLED", evidence); break;
    case RcptOutcome::Rejected: result.add("SMTP_RCPT_REJECTED", evidence); break;
    case RcptOutcome::Temporary: result.add("GREYLISTED", evidence); break;
    case RcptOutcome::RefusedUs: result.add("SMTP_PROBE_REFUSED", evidence); break;
    case RcptOutcome::NoAnswer: result.add("SMTP_TIMEOUT", s.host + ": " + s.error); break;
  }
}

}  // namespace safetynet::checks
