#pragma once
// The daemon's wiring: services built from a Config, one poll cycle, the outbox, the main loop.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "safetynet/bounce/incident.hpp"
#include "safetynet/config/config.hpp"
#include "safetynet/connector/connector.hpp"
#include "safetynet/net/dns.hpp"
#include "safetynet/notify/notifier.hpp"
#include "safetynet/pipeline/pipeline.hpp"
#include "safetynet/store/store.hpp"

namespace safetynet {

struct AdminLists;
class Failsafe;
namespace checks {
struct SmtpSessionCounts;
}

// What the outbox remembers of posts that may be in flight (src/app/outbox.cpp), by row, with the
// row's attempt count: the rows this process left in "sending" after its own post, and the rows
// another life of the daemon (or another instance) left there that this process has made wait.
// Such a row's stored search time was reckoned before a post that may have gone out later, so it
// is looked for no sooner than the in-flight wait after this process first sees that attempt. A
// row posted again by someone else since carries another attempt count: it is not this process's.
// Rebuilt empty with the Services (a reload): this process's own rows then wait once more.
struct OutboxInFlight {
  std::map<long long, int> own;
  std::map<long long, int> waited;
};

// Everything a cycle uses, rebuilt on SIGHUP from the new config (the store is kept).
struct Services {
  Config config;
  PolicyPtr policy;
  std::shared_ptr<const AdminLists> lists;
  DnsResolverPtr dns;
  std::shared_ptr<Pipeline> pipeline;
  std::vector<ConnectorPtr> connectors;
  std::map<std::string, NotifierPtr> notifiers;  // by kind
  OutboxInFlight outbox_in_flight;
  // The SMTP sessions open (checks/smtp_probe_check.hpp): carried into a reload's services.
  std::shared_ptr<checks::SmtpSessionCounts> smtp_sessions;
};

// Lets tests and the demo swap a part (a fixture resolver instead of c-ares).
struct ServiceOverrides {
  DnsResolverPtr dns;
};

// Throws std::runtime_error with a clear message when something cannot be set up.
// network=false: `check --offline`; smtp=false: `check --no-smtp`.
// `previous`: the running services a reload replaces, still finishing their work: the new ones
// share their SMTP session counts (the probe limits hold across the swap) and start with their
// DNS distrust (until the next canary check, which sets it on both).
std::shared_ptr<Services> buildServices(asio::any_io_executor ex, const Config& config, Store& store,
                                        const ServiceOverrides& overrides, bool network = true, bool smtp = true,
                                        const Services* previous = nullptr);

struct CycleStats {
  int listed = 0, decided = 0, allowed = 0, reverted = 0, revert_failed = 0, too_late = 0, resumed = 0,
      already_decided = 0, connector_errors = 0,
      let_go = 0,   // risky, but let go by the fail-safe
      shadowed = 0,  // would have been held; shadow mode changed nothing
      changed = 0;   // a stop found the email changed at the platform since: decided again
  std::string summary() const;
};

Task<CycleStats> runCycle(Services& s, Store& store, TimePoint now);

// Sender protection (src/app/sender_guard.cpp): reads what the connectors sent and bounced since
// the last call, records it, and pauses every mailbox whose bounce rate over the last 24 h is
// above senders.pause_bounce_rate with at least senders.min_sends sends (the admin channel is
// told). Returns the mailboxes paused now (lower-case), with their state.
// Several instances on one database (src/app/coordinator.hpp): each reads the activity of the
// connectors it lists (`reads`; empty: all), and only the one holding the housekeeping decides
// pauses (`decide`), so that a mailbox is paused, and its admins told, once; the others take the
// pauses from the store.
// The pauses the store holds now (recorded by guardSenders, here or on another instance).
std::map<std::string, SenderState> storedPauses(Store& store, TimePoint now);
Task<std::map<std::string, SenderState>> guardSenders(Services& s, Store& store, TimePoint now,
                                                      const std::function<bool(const std::string&)>& reads = {},
                                                      bool decide = true);
// One mailbox's sends and bounces over the last 24 h, or since an admin released it (or its last
// pause began), whichever is later: what sender protection judges.
struct SenderCounts {
  int sends = 0, bounces = 0;
  TimePoint from{};
};
SenderCounts senderCounts(Store& store, const std::string& mailbox, TimePoint now);
// The decision for one mailbox's numbers: a new pause state, or nullopt (pure; tested alone).
std::optional<SenderState> pauseDecision(const std::optional<SenderState>& current, const std::string& mailbox, int sends,
                                         int bounces, const SendersConfig& config, TimePoint now);

// Checks again the recipients held as `unknown` whose recheck_after has passed, and tells the rep
// the outcome (the email stays a draft: the rep decides to send it again). Returns how many ran.
Task<int> runRechecks(Services& s, Store& store, TimePoint now);

struct OutboxStats {
  int sent = 0, retried = 0, dead = 0, recovered = 0,
      routed = 0;  // "route" rows split into one row per notifier
};
// Also queues the admins' daily digest when one is due (notify.email.digest).
Task<OutboxStats> drainOutbox(Services& s, Store& store, TimePoint now);

// Notification routing (src/app/notify_route.cpp, notify.route). A notification for the outbox:
// kind "slack" while email is not configured (as before), else "route", which drainOutbox splits
// into one row per notifier with routeNotification (pure: tested alone).
OutboxMessage outboxNote(const Services& s, const std::string& dedupe_key, nlohmann::json payload);
OutboxMessage outboxNote(const Config& config, const std::string& dedupe_key, nlohmann::json payload);
// The admins' message of a suspected provider incident (bounces.incident_after,
// provider_incident_ratio), for the daemon and `bounce import` alike.
OutboxMessage bounceIncidentNote(const Config& config, const bounce::BounceIncident& incident);
std::vector<OutboxMessage> routeNotification(const Services& s, const OutboxMessage& m, TimePoint now);
// slack_then_email: the email row that replaces a Slack row whose rep has no Slack user.
OutboxMessage emailInstead(const OutboxMessage& m);
// Never nothing: a row its notifier has nowhere to send for good (a Slack row with no DM and no
// channel, an email row with no rep address and no admin_to) becomes a row of the other notifier
// (the channel, admin_to), saying why; none when there is no other, or it is itself such a row.
std::optional<OutboxMessage> otherwiseInstead(const Services& s, const OutboxMessage& m, const std::string& error);
// An email refused for good (5xx): the word to the admins (their Slack channel, else admin_to
// unless that is what failed); none for such a word itself.
std::optional<OutboxMessage> undeliveredNotice(const Services& s, const OutboxMessage& m, const std::string& destination,
                                               const std::string& error);
// The digest of the 24 h before `now`: counts per reason, rep and connector, the risky emails
// not stopped, the paused senders.
nlohmann::json digestPayload(Store& store, TimePoint now);
// Enqueues the digest when digest: daily and 24 h have passed since the last one (the time kept
// in the store with it, so a restart neither repeats nor skips it). Returns whether it did.
bool queueDigestIfDue(const Services& s, Store& store, TimePoint now);

struct DaemonOptions {
  std::string config_path;
  bool once = false;
  ServiceOverrides overrides;
  // `safetynet demo`: asked after every tick; true ends the loop as --once would.
  std::function<bool(Store&)> stop_when;
};

// The main loop: cycles every poll_interval until SIGTERM/SIGINT (grace period, then exit 0);
// SIGHUP reloads config and lists (a bad config is refused and the old one kept). Returns the exit code.
int runDaemon(const Config& config, const DaemonOptions& options);

}  // namespace safetynet
