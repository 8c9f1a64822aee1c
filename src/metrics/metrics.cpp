// The metrics registry and its text exposition (format 0.0.4); the daemon's instruments.
#include "safetynet/metrics/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

#ifndef SAFETYNET_VERSION
#define SAFETYNET_VERSION "unknown"
#endif

namespace safetynet::metrics {

// ---- values and escaping ----

std::string formatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) return "NaN";
  return std::string(buf, end);
}

std::string escapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escapeHelp(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string_view statusClass(int s) {
  if (s == 429) return "429";
  if (s >= 200 && s < 300) return "2xx";
  if (s >= 300 && s < 400) return "3xx";
  if (s >= 400 && s < 500) return "4xx";
  if (s >= 500 && s < 600) return "5xx";
  return "error";
}

double unixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

std::vector<double> exponentialBuckets(double start, double factor, int count) {
  std::vector<double> out;
  double v = start;
  for (int i = 0; i < count; ++i, v *= factor) out.push_back(v);
  return out;
}

namespace {

bool validName(std::string_view n, bool label) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!label && c == ':');
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return !(label && n.substr(0, 2) == "__");
}

// `{a="x",b="y"}` (with an extra label, for le), or nothing when there are no labels.
void appendLabels(std::string& out, const std::vector<std::string>& names, const std::vector<std::string>& values,
                  std::string_view extraName = {}, std::string_view extraValue = {}) {
  if (names.empty() && extraName.empty()) return;
  out += '{';
  bool first = true;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out += names[i];
    out += "=\"";
    out += escapeLabelValue(values[i]);
    out += '"';
  }
  if (!extraName.empty()) {
    if (!first) out += ',';
    out += extraName;
    out += "=\"";
    out += extraValue;
    out += '"';
  }
  out += '}';
}

void appendLine(std::string& out, const std::string& name, std::string_view suffix, const std::vector<std::string>& names,
                const std::vector<std::string>& values, const std::string& value, std::string_view extraName = {},
                std::string_view extraValue = {}) {
  out += name;
  out += suffix;
  appendLabels(out, names, values, extraName, extraValue);
  out += ' ';
  out += value;
  out += '\n';
}

std::string_view typeWord(Type t) {
  switch (t) {
    case Type::Counter: return "counter";
    case Type::Gauge: return "gauge";
    case Type::Histogram: return "histogram";
  }
  return "untyped";
}

}  // namespace

// ---- histogram ----

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  bounds_.erase(std::remove_if(bounds_.begin(), bounds_.end(), [](double b) { return std::isnan(b) || std::isinf(b); }),
                bounds_.end());
  counts_.assign(bounds_.size() + 1, 0);
}

void Histogram::observe(double v) {
  if (std::isnan(v)) return;
  // The first bucket whose bound is >= v (le: less than or equal).
  const size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  std::lock_guard lock(mu_);
  ++counts_[i];
  sum_ += v;
  ++count_;
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  std::lock_guard lock(mu_);
  s.cumulative.reserve(counts_.size());
  std::uint64_t running = 0;
  for (auto c : counts_) s.cumulative.push_back(running += c);
  s.sum = sum_;
  s.count = count_;
  return s;
}

// ---- samples ----

void renderSample(std::string& out, const std::string& name, const std::vector<std::string>& labelNames,
                  const std::vector<std::string>& values, const Counter& c) {
  appendLine(out, name, "", labelNames, values, formatValue(c.value()));
}

void renderSample(std::string& out, const std::string& name, const std::vector<std::string>& labelNames,
                  const std::vector<std::string>& values, const Gauge& g) {
  appendLine(out, name, "", labelNames, values, formatValue(g.value()));
}

void renderSample(std::string& out, const std::string& name, const std::vector<std::string>& labelNames,
                  const std::vector<std::string>& values, const Histogram& h) {
  const Histogram::Snapshot s = h.snapshot();
  const auto& bounds = h.bounds();
  for (size_t i = 0; i < bounds.size(); ++i)
    appendLine(out, name, "_bucket", labelNames, values, std::to_string(s.cumulative[i]), "le", formatValue(bounds[i]));
  appendLine(out, name, "_bucket", labelNames, values, std::to_string(s.count), "le", "+Inf");
  appendLine(out, name, "_sum", labelNames, values, formatValue(s.sum));
  appendLine(out, name, "_count", labelNames, values, std::to_string(s.count));
}

// ---- families ----

FamilyBase::FamilyBase(std::string name, std::string help, Type type, std::vector<std::string> labelNames)
    : name_(std::move(name)), help_(std::move(help)), type_(type), labelNames_(std::move(labelNames)) {
  if (!validName(name_, false)) throw std::invalid_argument("metric name not valid: " + name_);
  for (const auto& l : labelNames_)
    if (!validName(l, true) || (type_ == Type::Histogram && l == "le"))
      throw std::invalid_argument("label name not valid for " + name_ + ": " + l);
}

std::vector<std::string> FamilyBase::key(std::initializer_list<std::string_view> values) const {
  if (values.size() != labelNames_.size())
    throw std::invalid_argument(name_ + ": " + std::to_string(labelNames_.size()) + " label values expected, got " +
                                std::to_string(values.size()));
  return std::vector<std::string>(values.begin(), values.end());
}

void FamilyBase::render(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  out += escapeHelp(help_);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += typeWord(type_);
  out += '\n';
  renderSeries(out);
}

// ---- registry ----

template <class F>
F& Registry::add(std::unique_ptr<F> f) {
  std::lock_guard lock(mu_);
  for (const auto& existing : families_)
    if (existing->name() == f->name()) throw std::invalid_argument("metric registered twice: " + f->name());
  F& ref = *f;
  families_.push_back(std::move(f));
  return ref;
}

Family<Counter>& Registry::counter(std::string name, std::string help, std::vector<std::string> labelNames) {
  return add(std::make_unique<Family<Counter>>(std::move(name), std::move(help), Type::Counter, std::move(labelNames),
                                               [] { return std::make_unique<Counter>(); }));
}

Family<Gauge>& Registry::gauge(std::string name, std::string help, std::vector<std::string> labelNames) {
  return add(std::make_unique<Family<Gauge>>(std::move(name), std::move(help), Type::Gauge, std::move(labelNames),
                                             [] { return std::make_unique<Gauge>(); }));
}

Family<Histogram>& Registry::histogram(std::string name, std::string help, std::vector<std::string> labelNames,
                                       std::vector<double> bounds) {
  return add(std::make_unique<Family<Histogram>>(std::move(name), std::move(help), Type::Histogram,
                                                 std::move(labelNames),
                                                 [bounds] { return std::make_unique<Histogram>(bounds); }));
}

Registry::Hook Registry::onScrape(std::function<void()> fn) {
  auto entry = std::make_shared<HookEntry>(HookEntry{std::move(fn)});
  std::lock_guard lock(mu_);
  hooks_.erase(std::remove_if(hooks_.begin(), hooks_.end(), [](const auto& w) { return w.expired(); }), hooks_.end());
  hooks_.push_back(entry);
  return entry;
}

std::string Registry::render() const {
  std::vector<std::shared_ptr<HookEntry>> live;
  {
    std::lock_guard lock(mu_);
    for (const auto& w : hooks_)
      if (auto h = w.lock()) live.push_back(std::move(h));
  }
  for (const auto& h : live) h->fn();  // without the registry's lock: a hook sets gauges
  std::string out;
  out.reserve(16 * 1024);
  std::lock_guard lock(mu_);
  for (const auto& f : families_) f->render(out);
  return out;
}

void Registry::retain(const std::string& label, const std::vector<std::string>& keep) {
  std::lock_guard lock(mu_);
  for (const auto& f : families_) f->retain(label, keep);
}

Registry& registry() {
  static Registry r;
  return r;
}

std::string renderPrometheusText() {
  instruments();  // every family is there from the first scrape, with its HELP and TYPE
  return registry().render();
}

// ---- the daemon's instruments ----

namespace {

Instruments makeInstruments(Registry& r) {
  // Seconds left before the send when decided: act_margin is 20 s by default, the platforms'
  // minimum lead 120 s; the alert looks at le="30".
  const std::vector<double> margin{0, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1800, 3600};
  const std::vector<double> poll{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300};
  const std::vector<double> dns{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  Instruments m{
      r.gauge("safetynet_build_info", "Always 1; the running version in the version label.", {"version"}),
      r.counter("safetynet_emails_decided_total",
                "Emails decided, by connector, verdict (allow|revert) and reason code (none when allowed).",
                {"connector", "verdict", "reason"}),
      r.counter("safetynet_reverts_total",
                "Risky emails and what became of them: confirmed (stopped and re-read as a draft), failed (could "
                "not be stopped), too_late (decided with less than act_margin left, not stopped), shadow (would have been "
                "held; shadow mode left it alone), changed (the rep changed its recipients or send time before the stop: not "
                "stopped, its new version decided again).",
                {"connector", "result"}),
      r.counter("safetynet_revert_retries_total", "Attempts to stop an email that failed and will be tried again.",
                {"connector"}),
      r.counter("safetynet_too_late_total",
                "Emails decided with less than act_margin left before their send, by connector and the reason "
                "code of the hold (none when allowed).",
                {"connector", "reason"}),
      r.counter("safetynet_failsafe_let_go_total", "Risky emails let go by the fail-safe.", {"connector"}),
      r.histogram("safetynet_decision_margin_seconds", "Time left before the send when an email was decided.",
                  {"connector"}, margin),
      r.gauge("safetynet_last_poll_success_timestamp_seconds",
              "Unix time at which the connector's last successful listing ended.", {"connector"}),
      r.counter("safetynet_polls_total", "Listings of scheduled emails, by result (ok|error).", {"connector", "result"}),
      r.histogram("safetynet_poll_duration_seconds", "Duration of one listing of a connector's scheduled emails.",
                  {"connector"}, poll),
      r.histogram("safetynet_cycle_duration_seconds",
                  "Duration of one daemon tick: listings, decisions, re-checks and the outbox.", {}, poll),
      r.gauge("safetynet_queue_length", "Emails listed and waiting for a decision worker."),
      r.counter("safetynet_platform_requests_total",
                "Requests to the sales platforms' APIs, by HTTP status class (2xx|3xx|4xx|429|5xx) or error "
                "(no answer).",
                {"connector", "status"}),
      r.counter("safetynet_rate_limit_waits_total", "Platform requests that waited for the connector's rate budget.",
                {"connector"}),
      r.counter("safetynet_rate_limit_wait_seconds_total", "Time platform requests spent waiting for the rate budget.",
                {"connector"}),
      r.counter("safetynet_webhooks_total",
                "Platform webhook deliveries received, by result: accepted (signature verified; the connector is "
                "listed at once) or rejected (the signature did not verify).",
                {"connector", "result"}),
      r.counter("safetynet_smtp_probes_total",
                "SMTP RCPT probes (one per recipient), by result: accepted, rejected, tempfail, unreachable, "
                "refused (our IP), error.",
                {"result"}),
      r.counter("safetynet_dns_queries_total", "DNS queries sent by the resolver, by type and result.",
                {"type", "result"}),
      r.histogram("safetynet_dns_query_duration_seconds", "Latency of DNS queries sent by the resolver.", {"type"}, dns),
      r.counter("safetynet_verdict_cache_requests_total",
                "Lookups of the per-address verdict cache, by result (hit|miss).", {"result"}),
      r.counter("safetynet_notifications_total",
                "Notification deliveries, by notifier (slack|email) and result (sent|retry|dead).",
                {"notifier", "result"}),
      r.gauge("safetynet_outbox_pending", "Notifications waiting in the outbox (pending or being sent)."),
      r.gauge("safetynet_outbox_oldest_age_seconds",
              "Age of the oldest notification waiting in the outbox; 0 when none waits."),
      r.gauge("safetynet_failsafe_active",
              "1 while the fail-safe is on (holds on guesses are let go), else 0."),
      r.gauge("safetynet_dns_distrusted", "1 while the canary domains do not resolve (DNS answers not trusted)."),
      r.gauge("safetynet_senders_paused", "Sending mailboxes paused by sender protection."),
      r.gauge("safetynet_store_size_bytes", "Size of the SQLite database with its write-ahead log."),
  };
  m.build_info.with({SAFETYNET_VERSION}).set(1);
  for (auto* g : {&m.queue_length, &m.outbox_pending, &m.outbox_oldest_age, &m.failsafe_active, &m.dns_distrusted,
                  &m.senders_paused, &m.store_size})
    g->get();  // present (0) from the start
  return m;
}

}  // namespace

Instruments& instruments() {
  static Instruments m = makeInstruments(registry());
  return m;
}

void touchConnector(std::string_view c) {
  Instruments& m = instruments();
  for (std::string_view result : {"confirmed", "failed", "too_late", "shadow", "changed"}) m.reverts.with({c, result});
  m.revert_retries.with({c});
  m.too_late.with({c, "none"});
  m.failsafe_let_go.with({c});
  m.decision_margin.with({c});
  for (std::string_view result : {"ok", "error"}) m.polls.with({c, result});
  m.poll_duration.with({c});
  m.rate_limit_waits.with({c});
  for (std::string_view result : {"accepted", "rejected"}) m.webhooks.with({c, result});
  m.rate_limit_wait_seconds.with({c});
}

void retainConnectors(const std::vector<std::string>& configured) {
  instruments();
  registry().retain("connector", configured);
}

PlatformRequest::~PlatformRequest() {
  instruments().platform_requests.with({connector_, statusClass(status_)}).inc();
}

}  // namespace safetynet::metrics
