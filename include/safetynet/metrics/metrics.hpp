#pragma once
// Prometheus metrics (issue 11 item 3; names: notes/product.md, "Acting on a hold, and the admin's
// view"; every metric and label: docs/operations.md, "Metrics and alerts").
//
// A small registry of counters, gauges and histograms rendered in the text exposition format
// 0.0.4 (GET /metrics on the admin server). Debian 12's prometheus-cpp-dev was not used: it pulls
// in civetweb (a web server) and libcurl's push client for what is a few hundred lines here, and
// it has no scrape-time gauges.
//
// Labels are bounded: values are connector names, reason codes, verdicts, status classes; never an
// address, an email id or a domain. A family holds at most kMaxSeriesPerFamily label sets; past
// that, new ones are counted under the value "other" for every label.
//
// Thread-safe: counters and gauges are atomics, histograms and families take a mutex (the event
// loop observes; the email notifier's worker thread may too).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace safetynet::metrics {

// The Content-Type of renderPrometheusText()'s answer.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";
inline constexpr size_t kMaxSeriesPerFamily = 1000;

class Counter {
 public:
  void inc(double v = 1.0) { v_.fetch_add(v, std::memory_order_relaxed); }  // v >= 0
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0.0};
};

class Gauge {
 public:
  void set(double v) { v_.store(v, std::memory_order_relaxed); }
  void inc(double v = 1.0) { v_.fetch_add(v, std::memory_order_relaxed); }
  void dec(double v = 1.0) { v_.fetch_sub(v, std::memory_order_relaxed); }
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0.0};
};

class Histogram {
 public:
  // Upper bounds, ascending (sorted and deduplicated here); +Inf is implicit.
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // per bound, then +Inf (== count)
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot snapshot() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<std::uint64_t> counts_;  // per bucket (not cumulative), last: above every bound
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

enum class Type { Counter, Gauge, Histogram };

// Appends one series' sample lines: `name{labels} value` (a histogram: _bucket{..,le}, _sum, _count).
void renderSample(std::string& out, const std::string& name, const std::vector<std::string>& labelNames,
                  const std::vector<std::string>& values, const Counter& c);
void renderSample(std::string& out, const std::string& name, const std::vector<std::string>& labelNames,
                  const std::vector<std::string>& values, const Gauge& g);
void renderSample(std::string& out, const std::string& name, const std::vector<std::string>& labelNames,
                  const std::vector<std::string>& values, const Histogram& h);

// Bucket bounds: start, start*factor, ... (count of them).
std::vector<double> exponentialBuckets(double start, double factor, int count);

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, Type type, std::vector<std::string> labelNames);
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  Type type() const { return type_; }
  const std::vector<std::string>& labelNames() const { return labelNames_; }
  // Appends "# HELP", "# TYPE" and every series.
  void render(std::string& out) const;
  // Drops the series whose value of label `label` is not in `keep` (none: the family has no such label).
  virtual void retain(const std::string& label, const std::vector<std::string>& keep) = 0;

 protected:
  // The label values as stored: as many as names, "other" for all past the cap.
  std::vector<std::string> key(std::initializer_list<std::string_view> values) const;
  virtual void renderSeries(std::string& out) const = 0;
  std::string name_, help_;
  Type type_;
  std::vector<std::string> labelNames_;
  mutable std::mutex mu_;
};

// One metric name with its labelled series. with() returns a reference that stays valid for the
// registry's life (callers may keep it).
template <class M>
class Family : public FamilyBase {
 public:
  Family(std::string name, std::string help, Type type, std::vector<std::string> labelNames,
         std::function<std::unique_ptr<M>()> make)
      : FamilyBase(std::move(name), std::move(help), type, std::move(labelNames)), make_(std::move(make)) {}

  M& with(std::initializer_list<std::string_view> values) {
    std::vector<std::string> k = key(values);
    std::lock_guard lock(mu_);
    auto it = series_.find(k);
    if (it == series_.end()) {
      if (series_.size() >= kMaxSeriesPerFamily) k.assign(labelNames_.size(), "other");
      it = series_.find(k);
      if (it == series_.end()) it = series_.emplace(std::move(k), make_()).first;
    }
    return *it->second;
  }
  // The series without labels (a family declared with no label names).
  M& get() { return with({}); }

  size_t size() const {
    std::lock_guard lock(mu_);
    return series_.size();
  }
  // Drops every series (a gauge family recomputed at each scrape).
  void clear() {
    std::lock_guard lock(mu_);
    series_.clear();
  }
  void retain(const std::string& label, const std::vector<std::string>& keep) override {
    size_t i = 0;
    while (i < labelNames_.size() && labelNames_[i] != label) ++i;
    if (i == labelNames_.size()) return;
    std::lock_guard lock(mu_);
    std::erase_if(series_, [&](const auto& s) {
      return std::find(keep.begin(), keep.end(), s.first[i]) == keep.end();
    });
  }

 protected:
  void renderSeries(std::string& out) const override {
    std::lock_guard lock(mu_);
    for (const auto& [values, m] : series_) renderSample(out, name_, labelNames_, values, *m);
  }

 private:
  std::function<std::unique_ptr<M>()> make_;
  std::map<std::vector<std::string>, std::unique_ptr<M>> series_;
};

class Registry {
 public:
  Family<Counter>& counter(std::string name, std::string help, std::vector<std::string> labelNames = {});
  Family<Gauge>& gauge(std::string name, std::string help, std::vector<std::string> labelNames = {});
  Family<Histogram>& histogram(std::string name, std::string help, std::vector<std::string> labelNames,
                               std::vector<double> bounds);

  // A callback run at each render, before the families are written: it sets the gauges that are
  // cheaper to read at scrape time than to keep up to date (the store's outbox, its size). It runs
  // on the rendering thread (the admin server's: the event loop). Registered until the returned
  // handle is destroyed.
  using Hook = std::shared_ptr<void>;
  [[nodiscard]] Hook onScrape(std::function<void()> fn);

  // The text exposition format 0.0.4: families in registration order, series in label order.
  std::string render() const;
  // Drops, in every family with label `label`, the series whose value is not in `keep`.
  void retain(const std::string& label, const std::vector<std::string>& keep);

 private:
  template <class F>
  F& add(std::unique_ptr<F> f);
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<FamilyBase>> families_;
  struct HookEntry {
    std::function<void()> fn;
  };
  std::vector<std::weak_ptr<HookEntry>> hooks_;
};

// Escaping of the exposition format: a label value (\\, \", \n) and a HELP text (\\, \n).
std::string escapeLabelValue(std::string_view v);
std::string escapeHelp(std::string_view v);
// A sample value as Prometheus reads it: shortest round-trip decimal, +Inf, -Inf, NaN.
std::string formatValue(double v);

// The process's registry, holding the instruments below.
Registry& registry();
// GET /metrics: renders the process's registry (scrape hooks included).
std::string renderPrometheusText();

// The daemon's instruments (docs/operations.md, "Metrics and alerts"). Label values: see there.
struct Instruments {
  Family<Gauge>& build_info;                        // {version} = 1
  // Decisions and actions
  Family<Counter>& emails_decided;                  // {connector, verdict = allow|revert, reason (none when allowed)}
  Family<Counter>& reverts;                         // {connector, result = confirmed|failed|too_late|shadow|changed}
  Family<Counter>& revert_retries;                  // {connector}: an attempt failed, tried again
  Family<Counter>& too_late;                        // {connector, reason}: decided with less than act_margin left
  Family<Counter>& failsafe_let_go;                 // {connector}: risky, let go by the fail-safe
  Family<Histogram>& decision_margin;               // {connector}: seconds left before the send when decided
  // Polling
  Family<Gauge>& last_poll_success;                 // {connector}: unix time of the last listing that succeeded
  Family<Counter>& polls;                           // {connector, result = ok|error}
  Family<Histogram>& poll_duration;                 // {connector}: one listing, first request to last page
  Family<Histogram>& cycle_duration;                // the daemon's tick (listings, rechecks, outbox)
  Family<Gauge>& queue_length;                      // emails waiting for a worker
  // Platforms
  Family<Counter>& platform_requests;               // {connector, status = 2xx|3xx|4xx|429|5xx|error}
  Family<Counter>& rate_limit_waits;                // {connector}: requests that waited for the rate budget
  Family<Counter>& rate_limit_wait_seconds;         // {connector}: time spent waiting
  Family<Counter>& webhooks;                        // {connector, result = accepted|rejected}: deliveries received
  // Checks
  Family<Counter>& smtp_probes;                     // {result}
  Family<Counter>& dns_queries;                     // {type, result}
  Family<Histogram>& dns_duration;                  // {type}
  Family<Counter>& verdict_cache;                   // {result = hit|miss}
  // Notifications and state (set at scrape time where they come from the store)
  Family<Counter>& notifications;                   // {notifier, result = sent|retry|dead}
  Family<Gauge>& outbox_pending;
  Family<Gauge>& outbox_oldest_age;                 // seconds since the oldest pending message was queued
  Family<Gauge>& failsafe_active;                   // 1 while the fail-safe lets holds on guesses go
  Family<Gauge>& dns_distrusted;                    // 1 while the canaries fail
  Family<Gauge>& senders_paused;                    // sending mailboxes paused now
  Family<Gauge>& store_size;                        // bytes: the database with its WAL
};
Instruments& instruments();

// Every per-connector series at 0 (the daemon calls it for each configured connector): a counter
// that appears only with its first increment is not seen by increase() in an alert rule.
void touchConnector(std::string_view connector);
// After a reload: the series of connectors no longer configured go (a removed connector's last
// successful poll would otherwise age into SafetyNetNoSuccessfulPoll for ever).
void retainConnectors(const std::vector<std::string>& configured);

// Counts one platform API request in safetynet_platform_requests_total when it goes out of scope:
// by the status given to answered(), or as "error" when none was (no answer: an exception).
class PlatformRequest {
 public:
  explicit PlatformRequest(std::string_view connector) : connector_(connector) {}
  PlatformRequest(const PlatformRequest&) = delete;
  PlatformRequest& operator=(const PlatformRequest&) = delete;
  ~PlatformRequest();
  void answered(int httpStatus) { status_ = httpStatus; }

 private:
  std::string connector_;
  int status_ = 0;
};

// A platform HTTP status as the `status` label: 2xx, 3xx, 4xx, 429, 5xx; 0 (no answer): error.
std::string_view statusClass(int httpStatus);
// Seconds since the epoch, as a gauge wants them.
double unixSeconds(std::chrono::system_clock::time_point t);

}  // namespace safetynet::metrics
