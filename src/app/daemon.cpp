// The main loop on one io_context. SIGTERM/SIGINT: stop taking work, give in-flight work
// `shutdown_grace`, then abandon it (every step is already durable) and exit 0. SIGHUP: reload the
// config and lists; a bad config is refused and the running one kept.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <filesystem>
#include <map>
#include <set>

#include "admin/api.hpp"
#include "admin/health.hpp"
#include "admin/webhooks.hpp"
#include "app/coordinator.hpp"
#include "bounce/rule_engine.hpp"
#include "app/engine.hpp"
#include "app/slack_actions.hpp"
#include "app/systemd_notify.hpp"
#include "safetynet/app/app.hpp"
#include "safetynet/core/duration.hpp"
#include "safetynet/core/logging.hpp"
#include "safetynet/core/time_format.hpp"
#include "safetynet/net/admin_server.hpp"
#include "safetynet/metrics/metrics.hpp"

namespace safetynet {

namespace {

// Rows pruned per tick at most (docs/benchmarks.md, retention): a 40,000-email day leaves about
// 100,000 rows to prune a day, 12 a second; 2,000 a tick catches up after any backlog.
constexpr int kPruneRowsPerTick = 2000;

// Webhook deliveries list their connector at once, but a burst (a bulk enrollment sends one per
// email) is folded into at most one listing a second per connector: each listing is incremental
// (a request or two) and the platform's rate budget is kept for the stops.
constexpr std::chrono::milliseconds kWebhookListingGap{1000};

class Daemon {
 public:
  Daemon(asio::io_context& io, const Config& config, DaemonOptions options)
      : io_(io),
        options_(std::move(options)),
        wake_(io),
        grace_(io),
        watchdog_(io),
        signals_(io, SIGINT, SIGTERM, SIGHUP) {
    store_ = openStore(config);
    coordinator_ = std::make_unique<Coordinator>(*store_, config.store);
    engine_ = std::make_unique<DecisionEngine>(io.get_executor(), *store_);
    failsafe_ = std::make_unique<Failsafe>(*store_, Failsafe::SteadyNow{}, failsafeInstance(config.store));
    engine_->setFailsafe(failsafe_.get());
    services_ = buildServices(io.get_executor(), config, *store_, options_.overrides);
    // The bounce rules in force, parsed now: the built-in ones are otherwise parsed at the first
    // bounce read, on the event loop (a tenth of a second; commands read them only when needed).
    bounce::activeRules();
    watchConnectors();
    startAdminApi();  // before anything runs: an address in use or a bad certificate stops the start
    touchConnectorMetrics();
    metricsHook_ = metrics::registry().onScrape([this] { scrapeGauges(); });
  }

  int run() {
    waitForSignal();
    startWatchdog();
    startSlackActions();
    asio::co_spawn(io_, mainLoop(), [this](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          log()->critical("main loop failed: {}", ex.what());
        }
        exit_ = 1;
      }
      finish();
    });
    io_.run();
    return exit_;
  }

 private:
  static std::shared_ptr<spdlog::logger> log() { return logger("daemon"); }

  // The engine's workers run from start to stop; every poll_interval each connector whose last
  // listing has ended is listed again (a slow one never delays the others), the emails left
  // "reverting" are queued again, sender protection is refreshed, re-checks run and the outbox is
  // drained. The status line counts what the engine did since the previous tick.
  Task<void> mainLoop() {
    systemd::ready();
    log()->info("started: {} connector(s), polling every {}", services_->connectors.size(),
                formatDuration(services_->config.poll_interval));
    asio::co_spawn(io_, engine_->run(false), [this](std::exception_ptr e) {
      workersDone_ = true;
      if (e) failWith(e, "the decision workers failed");
    });
    refreshLeases();  // before the first tick: which connectors are this instance's to list
    if (coordinator_->shared() && !options_.once)
      asio::co_spawn(io_, leaseLoop(), [this](std::exception_ptr e) {
        if (e) failWith(e, "lease renewal failed");
      });
    for (int n = 1; !stopping_; ++n) {
      auto s = services_;  // a reload swaps services_; this tick keeps the ones it started with
      const auto tickStart = std::chrono::steady_clock::now();
      if (!engine_->storeFull().empty() && !roomInStateDir(*s)) {
        // Nothing may be acted on that cannot be recorded: wait for room, say so.
        const std::string where = s->config.store.backend == "postgres" ? std::string("the PostgreSQL database")
                                                                         : s->config.state_dir;
        systemd::status((s->config.store.backend == "postgres" ? "DATABASE FULL (" : "STATE DIRECTORY FULL (") + where +
                        "): not acting on any email; free space to resume");
        if (n % 6 == 1) log()->error("{}: not acting until there is room in {}", engine_->storeFull(), where);
        if (options_.once) {
          exit_ = 1;
          break;
        }
        wake_.expires_after(s->config.poll_interval);
        co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      try {
        failsafe_->refresh();  // an admin may have resumed it from the command line
        // The canaries are asked in the background: a slow resolver must not hold up the tick;
        // until they answer, the last known state applies.
        s->pipeline->setDnsDistrust(failsafe_->ownDnsEvidence());
        if (options_.once) {
          co_await checkCanaries(s);  // one cycle: judge it with a fresh answer
        } else if (!checkingCanaries_) {
          checkingCanaries_ = true;
          asio::co_spawn(io_, checkCanaries(s), [this](std::exception_ptr e) {
            checkingCanaries_ = false;
            if (e) failWith(e, "the fail-safe's canary check failed");
          });
        }
        engine_->resumeReverting(s, [this](const std::string& c) { return coordinator_->ownsConnector(c); },
                                 [this](const std::string& c) {
                                   return coordinator_->ownsHousekeeping() &&
                                          !coordinator_->connectorHeldByAnyone(c, Clock::now());
                                 });
        if (options_.once) {
          engine_->setPausedSenders(co_await pausedSenders(
              *s, *store_, Clock::now(), [this](const std::string& c) { return coordinator_->ownsConnector(c); },
              coordinator_->ownsHousekeeping()));
        } else {
          // The pauses recorded so far apply at once; reading what the platforms sent and bounced
          // (a day of activity after a start, a slow platform's pages) goes on in the background:
          // it must not hold up any connector's listing.
          engine_->setPausedSenders(storedPauses(*store_, Clock::now()));
          if (!guardingSenders_) {
            guardingSenders_ = true;
            asio::co_spawn(io_, guardSendersInBackground(s), [this](std::exception_ptr e) {
              guardingSenders_ = false;
              if (e) failWith(e, "sender protection failed");
            });
          }
        }
        int errorsBefore = connectorErrors_;
        for (auto& c : s->connectors)
          if (coordinator_->ownsConnector(c->name())) startListing(s, c);
        // The notifications of this tick's holds go out as soon as its work is done; a long one
        // (a bulk enrollment) goes on in the background while the next tick lists again.
        while (!engine_->idle() && !stopping_ &&
               (options_.once || std::chrono::steady_clock::now() - tickStart < s->config.poll_interval))
          co_await sleepFor(std::chrono::milliseconds(20));
        OutboxStats ob;
        if (options_.once) refreshLeases();  // no renewal loop in a single run: renewed before its housekeeping
        if (coordinator_->ownsHousekeeping()) {  // one instance of those sharing a database
          if (options_.once) {
            housekeepingNow_ = true;
            ob = co_await housekeeping(s);
          } else if (!housekeepingNow_) {
            // In the background: re-checks (SMTP probes with no deadline of their own) and a
            // notification backlog (a slow Slack, a bulk hold's thousand messages) must not hold
            // up the next tick's listings, or a 2-minute email goes out undecided.
            housekeepingNow_ = true;  // never given up for fairness halfway (a drain's messages)
            asio::co_spawn(io_, housekeeping(s), [this](std::exception_ptr e, OutboxStats done) {
              lastHousekeeping_ = done;
              if (e) failWith(e, "housekeeping failed");
            });
          }
          if (!options_.once) ob = std::exchange(lastHousekeeping_, OutboxStats{});
        }
        metrics::instruments().cycle_duration.get().observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - tickStart).count());
        CycleStats st = engine_->takeStats();
        st.connector_errors = connectorErrors_ - errorsBefore;
        const std::string alarm = failsafe_->active()            ? "FAIL-SAFE ON (safetynet failsafe status): "
                                  : !failsafe_->ownDnsEvidence().empty() ? "DNS NOT TRUSTED (canaries fail): "
                                                                       : "";
        std::string text = alarm + "cycle " + std::to_string(n) + ": " + st.summary() + "; " + std::to_string(ob.sent) +
                           " notifications sent; " + std::to_string(engine_->backlog()) + " queued";
        if (coordinator_->shared()) text += "; " + coordinator_->describe();
        // The same one-line summary as GET /readyz, then the cycle.
        systemd::status(admin::readiness(health_, store_.get(), Clock::now()).summary + " | " + text);
        (st.decided || ob.sent || st.connector_errors ? log()->info(text) : log()->debug(text));
        if (options_.once && st.connector_errors) exit_ = 1;
      } catch (...) {
        failWith(std::current_exception(), "cycle " + std::to_string(n) + " failed");
      }
      if (options_.once || stopping_ || (options_.stop_when && options_.stop_when(*store_))) break;
      const auto spent = std::chrono::steady_clock::now() - tickStart;
      wake_.expires_after(spent < s->config.poll_interval ? s->config.poll_interval - spent : std::chrono::milliseconds(0));
      co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    // In-flight work finishes its current step (every step is durable) within the grace period,
    // and the notifications it queued go out; emails not yet taken are listed again next start.
    engine_->stop();
    while (!workersDone_ || listing_ || housekeepingNow_ || guardingSenders_) co_await sleepFor(std::chrono::milliseconds(20));
    if (stopping_ && coordinator_->ownsHousekeeping()) {
      std::string failure;
      try {
        co_await drainOutbox(*services_, *store_, Clock::now());
      } catch (const std::exception& e) {
        failure = e.what();
      }
      if (!failure.empty()) log()->warn("last notifications before stopping: {}", failure);
    }
    // The others take this instance's work over at once, not after its leases run out.
    std::string released;
    try {
      coordinator_->releaseAll();
    } catch (const std::exception& e) {
      released = e.what();
    }
    if (!released.empty()) log()->warn("leases not given up (they run out in {}): {}",
                                        formatDuration(services_->config.store.lease), released);
  }

  // Several instances on one database: the leases are renewed every third of store.lease, apart
  // from the tick (a long tick must not let them run out), and what this instance holds decides
  // which connectors it lists and whether it does the housekeeping.
  // One round of the housekeeping (the instance holding it): re-checks, Slack actions a dead
  // instance left, the outbox, retention. Its own failures are logged here, as a tick's were: the
  // next round tries again; a full store stops acting, as anywhere.
  Task<OutboxStats> housekeeping(std::shared_ptr<Services> s) {
    struct Done {
      bool& flag;
      ~Done() { flag = false; }
    } done{housekeepingNow_};
    OutboxStats ob;
    try {
      co_await runRechecks(*s, *store_, Clock::now());
      // Several instances: Slack actions an instance was carrying out when it died (begun more
      // than two leases ago) are finished here.
      if (coordinator_->shared() && slackActions_)
        co_await slackActions_->resumeInterrupted(Clock::now() - 2 * coordinator_->lease());
      ob = co_await drainOutbox(*s, *store_, Clock::now());
      // Retention: a bounded batch of old rows per round, so the database stops growing.
      if (int pruned = store_->prune(s->config.retention, Clock::now(), kPruneRowsPerTick); pruned > 0)
        log()->debug("retention: {} old rows pruned", pruned);
    } catch (...) {
      failWith(std::current_exception(), "housekeeping failed");
    }
    co_return ob;
  }

  Task<void> guardSendersInBackground(std::shared_ptr<Services> s) {
    auto paused = co_await pausedSenders(
        *s, *store_, Clock::now(), [this](const std::string& c) { return coordinator_->ownsConnector(c); },
        coordinator_->ownsHousekeeping());
    if (!stopping_) engine_->setPausedSenders(std::move(paused));
  }

  Task<void> leaseLoop() {
    while (!stopping_) {
      co_await sleepFor(coordinator_->lease() / 3);  // the lease it was started with (a reload does not change it)
      if (!stopping_) refreshLeases();
    }
  }

  void refreshLeases() {
    std::vector<std::string> names;
    for (const auto& c : services_->connectors) names.push_back(c->name());
    try {
      // Busy units are never given up for fairness: a connector being listed or with emails in
      // hand here (their stops must not be carried out twice), the housekeeping while it runs.
      coordinator_->refresh(names, Clock::now(), [this](const std::string& unit) {
        if (unit == Coordinator::kHousekeeping) return housekeepingNow_;
        const std::string name = unit.substr(unit.find(':') + 1);
        return listingNow_.count(name) > 0 || engine_->busyWith(name);
      });
    } catch (const std::exception& e) {
      log()->error("leases not renewed: {} (the work they hold stops when they run out)", e.what());
    }
    std::set<std::string> elsewhere;
    for (const auto& n : names)
      if (!coordinator_->ownsConnector(n)) elsewhere.insert(n);
    health_.setListedElsewhere(std::move(elsewhere));
  }

  Task<void> checkCanaries(std::shared_ptr<Services> s) {
    std::string distrust;
    std::exception_ptr failed;
    try {
      distrust = co_await failsafe_->checkCanaries(*s, Clock::now());
    } catch (...) {
      // The verdict could not be recorded (the store refused): it applies all the same, and the
      // failure is reported as any round's.
      failed = std::current_exception();
      distrust = failsafe_->lastCanaryEvidence();
    }
    services_->pipeline->setDnsDistrust(distrust);  // the running services (a reload may have swapped them)
    if (s != services_) s->pipeline->setDnsDistrust(distrust);
    if (failed) std::rethrow_exception(failed);
  }

  // Whether a small write goes through again (after the state directory was full).
  bool roomInStateDir(Services&) {
    try {
      store_->putConnectorState("_health", "room_probe", std::to_string(toMillis(Clock::now())));
    } catch (const StoreError&) {
      return false;
    }
    engine_->storeHasRoom();
    return true;
  }

  // Lists one connector in the background, unless its previous listing is still running.
  void startListing(const std::shared_ptr<Services>& s, const ConnectorPtr& c) {
    if (!listingNow_.insert(c->name()).second) return;
    lastListingStart_[c->name()] = std::chrono::steady_clock::now();
    ++listing_;
    engine_->listingStarted();
    // Its own count and message: the health state (GET /readyz) learns how this one ended.
    auto errors = std::make_shared<int>(0);
    auto error = std::make_shared<std::string>();
    asio::co_spawn(io_, pollConnector(*engine_, s, *c, Clock::now(), *errors, error.get()),
                   [this, s, c, errors, error](std::exception_ptr e) {  // s, c: kept alive until the listing ends
                     listingNow_.erase(c->name());
                     --listing_;
                     connectorErrors_ += *errors;
                     if (e) failWith(e, "listing " + c->name() + " failed");
                     if (e || *errors) {
                       health_.pollFailed(c->name(), Clock::now(), error->empty() ? "the listing failed" : *error);
                       listingFailedHere(c->name());
                     } else {
                       health_.pollSucceeded(c->name(), Clock::now());
                       coordinator_->listedFine(c->name());
                     }
                     // A webhook came while it ran: what it announced may be newer than this listing.
                     if (nudged_.count(c->name())) listSoon(c->name());
                   });
  }

  // Several instances: a connector whose listings keep failing here (a route, a proxy or a
  // credential broken on this machine only) is given up to another instance for a while
  // (Coordinator::stepBack), unless stops of its emails are still under way here.
  void listingFailedHere(const std::string& name) {
    if (!coordinator_->shared()) return;
    std::string failure;
    try {
      if (coordinator_->listingFailed(name, Clock::now(), engine_->busyWith(name)))
        refreshLeases();  // /readyz: listed by another instance from now on
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (!failure.empty()) log()->warn("{}: could not give the connector up to another instance: {}", name, failure);
  }

  // POST /webhooks/{name} (admin/webhooks.hpp): a delivery whose signature verifies lists that
  // connector at once; the poll stays the safety net for deliveries that never come.
  admin::WebhookOutcome webhook(const std::string& name, const AdminHttpRequest& r) {
    const ConnectorConfig* cc = nullptr;
    for (const auto& c : services_->config.connectors)
      if (c.name == name && !c.webhook_secret.empty()) cc = &c;
    if (!cc) return {404, "no connector named \"" + name + "\" takes webhooks (connectors[].webhook_secret)"};
    metrics::Instruments& m = metrics::instruments();
    if (auto why = admin::verifyWebhook(cc->type, cc->webhook_secret, r)) {
      m.webhooks.with({name, "rejected"}).inc();
      // Said at most once a minute per connector: anyone can post here, the log must not flood.
      auto& last = lastWebhookWarning_[name];
      const auto now = std::chrono::steady_clock::now();
      if (last == std::chrono::steady_clock::time_point{} || now - last > std::chrono::minutes(1)) {
        last = now;
        log()->warn("webhook for {} refused: {} (safetynet_webhooks_total counts them)", name, *why);
      }
      return {401, *why};
    }
    m.webhooks.with({name, "accepted"}).inc();
    // Only the instance that lists the connector lists it early; the others leave it to the poll.
    if (!stopping_ && coordinator_->ownsConnector(name) && nudged_.insert(name).second && !listingNow_.count(name))
      listSoon(name);
    return {};
  }

  // Lists a nudged connector as soon as kWebhookListingGap has passed since its last listing began,
  // unless a listing runs then (its end calls this again).
  void listSoon(const std::string& name) { asio::co_spawn(io_, listAfterGap(name), asio::detached); }

  Task<void> listAfterGap(std::string name) {
    const auto since = std::chrono::steady_clock::now() - lastListingStart_[name];
    if (since < kWebhookListingGap)
      co_await sleepFor(std::chrono::duration_cast<std::chrono::milliseconds>(kWebhookListingGap - since));
    if (stopping_ || listingNow_.count(name) || !nudged_.erase(name) || !coordinator_->ownsConnector(name)) co_return;
    auto s = services_;
    for (const auto& c : s->connectors)
      if (c->name() == name) startListing(s, c);
  }

  // A round that failed (a tick, the housekeeping, a background task): logged, and the next round
  // tries again; a full store stops acting until there is room, as anywhere; a single run (--once)
  // exits 1. (A catch (...) calls it: the handlers cannot co_await, and need not.)
  void failWith(std::exception_ptr e, const std::string& what) {
    std::string why = "an unknown error";
    try {
      std::rethrow_exception(e);
    } catch (const StoreFullError& ex) {
      engine_->markStoreFull(ex.what());
      why = ex.what();
    } catch (const std::exception& ex) {
      why = ex.what();
    } catch (...) {
    }
    log()->error("{}: {}", what, why);
    if (options_.once) exit_ = 1;
  }

  Task<void> sleepFor(std::chrono::milliseconds d) {
    asio::steady_timer t(io_, d);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  }

  void waitForSignal() {
    signals_.async_wait([this](boost::system::error_code ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        reload();  // says why in the log when it is refused
        waitForSignal();
        return;
      }
      log()->info("signal {}: stopping (grace {})", sig, formatDuration(services_->config.shutdown_grace));
      systemd::stopping();
      stopping_ = true;
      if (slackActions_) slackActions_->stop();
      if (adminServer_) adminServer_->stop();
      wake_.cancel();
      grace_.expires_after(services_->config.shutdown_grace);
      grace_.async_wait([this](boost::system::error_code e) {
        if (e) return;
        log()->warn("grace period over: abandoning in-flight work (it resumes on the next start)");
        finish();
      });
    });
  }

  // SIGHUP and POST /api/v1/reload: nullopt when reloaded, else why not (the old config is kept).
  std::optional<std::string> reload() {
    systemd::reloading();
    auto result = loadConfigFile(options_.config_path);
    if (!result.ok()) {
      std::string why;
      for (const auto& e : result.errors) {
        log()->error("reload refused: {}", e.message);
        why += (why.empty() ? "" : "; ") + e.message;
      }
      if (result.errors.empty()) why = "the configuration could not be read";
      systemd::status("reload refused: the running configuration is kept");
      systemd::ready();
      return why;
    }
    if (result.config->state_dir != services_->config.state_dir)
      log()->warn("state_dir changed: takes effect on restart only");
    try {
      Config c = *result.config;
      c.state_dir = services_->config.state_dir;
      services_ = buildServices(io_.get_executor(), c, *store_, options_.overrides, true, true, services_.get());
      bounce::activeRules();  // parsed now, as at start
      touchConnectorMetrics();
      initLogging(c.log_level);
      watchConnectors();
      const auto& was = adminApiConfig_;
      const auto& now = c.admin_api;
      if (now.enabled != was.enabled || now.host != was.host || now.port != was.port ||
          now.tls_cert_file != was.tls_cert_file || now.tls_key_file != was.tls_key_file)
        log()->warn("admin_api: a new address or certificate takes effect on restart only (the tokens are reloaded)");
      if (adminApi_) adminApi_->setTokens(now.token, now.read_token);
      log()->info("configuration and lists reloaded from {}", options_.config_path);
    } catch (const std::exception& e) {
      log()->error("reload refused: {}", e.what());
      systemd::ready();
      return std::string(e.what());
    }
    systemd::ready();
    return std::nullopt;
  }

  // The connectors whose polls GET /readyz judges: those configured now.
  void watchConnectors() {
    std::vector<std::string> names;
    for (const auto& c : services_->connectors) names.push_back(c->name());
    health_.setConnectors(names, services_->config.poll_interval);
  }

  // The admin HTTP API (admin_api), on this io_context, for the process's life (not for --once).
  void startAdminApi() {
    adminApiConfig_ = services_->config.admin_api;
    const auto& a = adminApiConfig_;
    if (!a.enabled || options_.once) return;
    admin::ApiHooks hooks;
    hooks.readiness = [this] { return admin::readiness(health_, store_.get(), Clock::now()); };
    hooks.reload = [this] { return reload(); };
    hooks.metrics = [] { return metrics::renderPrometheusText(); };
    hooks.webhook = [this](const std::string& name, const AdminHttpRequest& r) { return webhook(name, r); };
    adminApi_ = std::make_unique<admin::AdminApi>(*store_, a.token, a.read_token, std::move(hooks));
    AdminServerOptions o;
    o.host = a.host;
    o.port = static_cast<unsigned short>(a.port);
    o.tls_cert_file = a.tls_cert_file;
    o.tls_key_file = a.tls_key_file;
    adminServer_ = std::make_unique<AdminServer>(io_.get_executor(), o,
                                                 [api = adminApi_.get()](const AdminHttpRequest& r) { return api->handle(r); });
    log()->info("admin API on {}://{}:{}", adminServer_->tls() ? "https" : "http", a.host, adminServer_->port());
  }

  // The buttons on held emails (notify.slack.actions): a Socket Mode link for the process's life.
  void startSlackActions() {
    const auto& slack = services_->config.notify.slack;
    if (!slack.enabled || !slack.actions) return;
    slackActions_ = std::make_unique<SlackActions>(io_.get_executor(), *store_, [this] { return services_; });
    asio::co_spawn(io_, slackActions_->run(!coordinator_->shared()), [this](std::exception_ptr e) {
      if (e) failWith(e, "the Slack buttons (Socket Mode) failed");
    });
  }

  void touchConnectorMetrics() {
    std::vector<std::string> names;
    for (const auto& c : services_->connectors) {
      metrics::touchConnector(c->name());
      names.push_back(c->name());
    }
    metrics::retainConnectors(names);  // a reload that removed one: its series go
  }

  // GET /metrics (on the event loop, like everything here): what is cheaper to read now than to
  // keep up to date. One indexed count in the store and two stat() calls.
  void scrapeGauges() {
    metrics::Instruments& m = metrics::instruments();
    m.queue_length.get().set(static_cast<double>(engine_->backlog()));
    m.failsafe_active.get().set(failsafe_->active() ? 1 : 0);
    m.dns_distrusted.get().set(failsafe_->ownDnsEvidence().empty() ? 0 : 1);
    double bytes = 0;
    const std::filesystem::path db = std::filesystem::path(services_->config.state_dir) / "safetynet.db";
    for (const auto& f : {db, std::filesystem::path(db.string() + "-wal")}) {
      std::error_code ec;
      const auto size = std::filesystem::file_size(f, ec);
      if (!ec) bytes += static_cast<double>(size);
    }
    m.store_size.get().set(bytes);
    try {
      const OutboxBacklog ob = store_->outboxBacklog();
      m.outbox_pending.get().set(static_cast<double>(ob.pending));
      m.outbox_oldest_age.get().set(
          ob.oldest ? std::max(0.0, std::chrono::duration<double>(Clock::now() - *ob.oldest).count()) : 0.0);
    } catch (const std::exception& e) {
      log()->warn("metrics: the outbox could not be read: {}", e.what());
    }
  }

  void startWatchdog() {
    auto interval = systemd::watchdogInterval();
    if (!interval) return;
    watchdog_.expires_after(*interval);
    watchdog_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      systemd::watchdog();  // only sent while the event loop turns
      startWatchdog();
    });
  }

  void finish() {
    boost::system::error_code ignored;
    signals_.cancel(ignored);
    wake_.cancel();
    grace_.cancel();
    watchdog_.cancel();
    if (adminServer_) adminServer_->stop();
    io_.stop();
  }

  asio::io_context& io_;
  DaemonOptions options_;
  StorePtr store_;
  bool housekeepingNow_ = false;
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<DecisionEngine> engine_;
  std::unique_ptr<Failsafe> failsafe_;
  std::shared_ptr<Services> services_;
  std::unique_ptr<SlackActions> slackActions_;
  admin::HealthState health_;
  AdminApiConfig adminApiConfig_;  // as started: a reload changes only the tokens
  std::unique_ptr<admin::AdminApi> adminApi_;
  std::unique_ptr<AdminServer> adminServer_;
  std::set<std::string> listingNow_;  // connectors whose listing is running
  std::set<std::string> nudged_;      // connectors a webhook asked to list, not listed since
  std::map<std::string, std::chrono::steady_clock::time_point> lastListingStart_, lastWebhookWarning_;
  int listing_ = 0, connectorErrors_ = 0;
  bool workersDone_ = false, checkingCanaries_ = false, guardingSenders_ = false;
  OutboxStats lastHousekeeping_;  // the last background round's notifications, for the cycle line
  asio::steady_timer wake_, grace_, watchdog_;
  asio::signal_set signals_;
  bool stopping_ = false;
  int exit_ = 0;
  metrics::Registry::Hook metricsHook_;  // last: gone first, before what it reads
};

}  // namespace

// The io_context whose shutdown() (protected in Asio) can be called before the daemon goes: work
// abandoned after the grace period is a coroutine frame still queued on it, and destroying that
// frame runs destructors that touch the daemon (housekeeping's flag). Shut down first, the frames
// go while the daemon is alive; its timers and sockets are destroyed after, as Asio allows.
struct DaemonIoContext : asio::io_context {
  using asio::io_context::shutdown;
};

int runDaemon(const Config& config, const DaemonOptions& options) {
  initLogging(config.log_level);
  try {
    DaemonIoContext io;
    Daemon d(io, config, options);
    struct ShutDownFirst {
      DaemonIoContext& io;
      ~ShutDownFirst() { io.shutdown(); }
    } shutDownFirst{io};  // declared last: its destructor runs before the daemon's
    return d.run();
  } catch (const std::exception& e) {
    logger("daemon")->critical("cannot start: {}", e.what());
    return 1;
  }
}

}  // namespace safetynet
