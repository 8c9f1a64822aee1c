#pragma once
// Durable state behind one interface (SQLite, or PostgreSQL for several instances): emails seen, the
// decision audit log, the verdict cache, the notification outbox and connector state.
// Calls are synchronous and short (one small transaction each); see docs/architecture.md.
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "safetynet/config/config.hpp"
#include "safetynet/core/task.hpp"

namespace safetynet {

// Where an email stands. Terminal: allowed, reverted, revert_failed, too_late, shadow (would have
// been held; shadow mode changed nothing and told nobody).
enum class EmailState { Allowed, Reverting, Reverted, RevertFailed, TooLate, Shadow };
std::string toString(EmailState s);
std::optional<EmailState> emailStateFrom(std::string_view s);

struct EmailDecision {
  std::string key;  // ScheduledEmail::key(): connector|id|scheduled ms|recipients
  std::string connector;
  std::string email_id;
  TimePoint scheduled_at{};
  EmailState state = EmailState::Allowed;
  std::string verdict;  // allow | revert
  std::string reason;   // empty when allowed
  std::string evidence;
  std::string next_step;
  std::string subject;
  std::string sender;
  nlohmann::json rep = nlohmann::json::object();
  nlohmann::json recipients = nlohmann::json::array();  // per recipient: address, verdict, reason, signals
  nlohmann::json email = nlohmann::json::object();       // the ScheduledEmail, to resume an action after a crash
  int attempts = 0;
  std::string detail;  // last action outcome in words
  // Time left before the send when the email was decided (the audit log's margin_s).
  std::optional<std::chrono::milliseconds> margin;
  // Why the fail-safe let a risky email go (empty: it did not): an audit event "failsafe".
  std::string failsafe;
  // The sending mailbox is paused (an enforced hold), whatever reason a recipient gives: a hold
  // the fail-safe never lets go and a too-late check acts on. Not stored: judged when decided.
  bool sender_paused = false;
  TimePoint decided_at{};
  TimePoint updated_at{};
};

// The detail that opens a stop not carried out because the email had changed at the platform
// since its decision (the rep's edit): that version held nothing, and its email is decided again
// under its new key (the engine, src/app/engine.cpp).
inline const std::string kChangedSinceDecided = "changed on ";
inline bool supersededStop(const EmailDecision& d) {
  return d.state == EmailState::Allowed && d.verdict == "revert" && d.detail.rfind(kChangedSinceDecided, 0) == 0;
}

struct OutboxMessage {
  long long id = 0;
  std::string dedupe_key;   // unique: a message is enqueued once
  std::string kind;         // "slack"
  nlohmann::json payload;
  std::string state;        // pending | sending | sent | dead
  int attempts = 0;
  TimePoint next_attempt_at{};
  std::string last_error;
  std::string sent_ref;     // e.g. Slack channel + ts
};

struct OutboxBacklog {
  long long pending = 0;
  std::optional<TimePoint> oldest;  // none when nothing waits
};

struct CachedVerdict {
  std::string address;  // canonical
  std::string verdict;
  std::string reason;
  nlohmann::json signals = nlohmann::json::array();
  TimePoint expires_at{};
};

struct AuditEvent {
  long long id = 0;
  TimePoint at{};
  std::string email_key;
  std::string event;
  nlohmann::json detail;
};

// A recipient held as `unknown`, to be checked again after recheck_after (product.md step 7).
struct Recheck {
  std::string address;    // as written in the email
  std::string email_key;  // the decision that held it
  TimePoint due_at{};
  int attempts = 0;
  nlohmann::json context = nlohmann::json::object();  // what the rep's message needs
};

// An email a connector keeps track of between polls (Close: from its sweep and event log).
struct TrackedEmail {
  std::string connector;
  std::string email_id;
  TimePoint scheduled_at{};
  nlohmann::json data;  // the platform's object, as last read
};

// One bounce (or complaint) of one recipient, from `bounce import` or a connector.
struct BounceEvent {
  std::string key;      // one event per (source message, recipient): importing twice changes nothing
  std::string address;  // lower-case
  std::string reason;   // Sisimai's vocabulary
  bool hard = false;
  std::string status, reply_code, diagnostic;
  std::string source;  // "import: FILE", "connector: NAME"
  std::string sender;  // the sending mailbox, when known
  TimePoint at{};
  // The site (registrable domain) of the host whose reply it was, when that is not the recipient's
  // own domain: "" when the bounce names no host (docs/bounces.md, "A relay's incident").
  std::string answered_by;
};

// Where an address (or "@domain") stands after its bounces: what the bounce history check reads.
struct Standing {
  std::string subject;  // an address, or "@domain" for domain-wide failures (hostunknown, notaccept)
  std::string state;    // hard | complained | soft_hold | soft_permanent | watch (soft bounces counted)
  TimePoint since{};    // when this state began
  std::optional<TimePoint> until;  // end of a soft hold; none: until an admin clears it
  int soft_count = 0;   // soft bounces counted towards the next hold
  int holds = 0;        // soft holds so far (each longer than the last)
  std::string reason;   // the last bounce's reason
  std::string evidence; // in words, for the rep and the admin
};

// A sending mailbox's standing (sender protection, config.senders).
struct SenderState {
  std::string mailbox;     // lower-case
  std::string state;       // paused | active
  TimePoint since{};       // when the pause began, or when an admin released it
  std::optional<TimePoint> until;  // end of the pause
  int pauses = 0;          // pauses so far: each one longer
  std::string evidence;
};

// A release ("send anyway"): the address is allowed by the checks until `until` (OVERRIDDEN).
struct Override {
  std::string address;  // canonical: lower-case local@ascii-domain
  std::string who;      // who released it (an admin's login, a Slack user's email)
  std::string why;
  TimePoint created{};
  TimePoint until{};
};

// A person's action on a held email (the Slack buttons), recorded before it is carried out so
// that a double click or a replayed envelope does nothing twice. key: decision key + "|" + action.
struct ActionRecord {
  std::string key;
  std::string decision_key;
  std::string action;  // release | keep | keep_suppress
  std::string who;
  std::string state;   // started | done | failed
  std::string detail;
  TimePoint created{};
  TimePoint updated{};
};

// One page of the decision log (the admin API's GET /api/v1/decisions, `safetynet decisions`):
// newest first, by (decided_at, key) descending; `after` continues strictly below a position, so a
// page never repeats or skips a row while new decisions arrive (they sort above the first page).
struct DecisionQuery {
  TimePoint since{};
  std::string verdict, reason, connector;  // empty: any
  std::string rep;  // the sending mailbox, the rep's id or name on the platform (case-insensitive); empty: any
  std::string address;  // part of a recipient's address (case-insensitive): the dashboard's search; empty: any
  std::optional<std::pair<TimePoint, std::string>> after;  // (decided_at, key) of the last row seen
  int limit = 100;
};

// Held emails (verdict revert) counted per UTC day and reason: the dashboard's chart.
struct HoldCount {
  std::string day;  // 2026-11-30
  std::string reason;
  int count = 0;
};

// Work one instance does at a time when several share a PostgreSQL database (notes/product.md,
// "Scale"): a connector's listing ("connector:NAME"), the housekeeping, and each instance's own
// heartbeat ("instance:ID"). Held by `holder` until `until`, renewed while it works.
struct Lease {
  std::string unit;
  std::string holder;
  TimePoint until{};
};

class Store {
 public:
  virtual ~Store() = default;

  virtual std::optional<EmailDecision> findDecision(const std::string& key) = 0;
  // First write of a decision; also appends audit events "decided" (+ "revert_started"), and
  // enqueues `notify` in the same transaction (an email found too late is told to the admins).
  // false, writing nothing, when a decision with this key is recorded already (another instance
  // sharing the database decided it first): the caller must not act on it.
  virtual bool recordDecision(const EmailDecision& d,
                              const std::optional<OutboxMessage>& notify = std::nullopt) = 0;
  // Moves an email that is being stopped ("reverting", the only state not settled) to a new state,
  // with an audit event and, in the same transaction, an optional notification: either both happen
  // or neither does. false, writing nothing, when the email is no longer reverting: another
  // instance sharing the database settled it (its late, failed attempt must not undo a confirmed
  // stop). Throws StoreError when no decision has this key.
  virtual bool transition(const std::string& key, EmailState to, const std::string& detail, int attempts,
                          const std::optional<OutboxMessage>& notify, const std::vector<Recheck>& rechecks = {}) = 0;
  virtual std::vector<EmailDecision> decisionsSince(TimePoint since) = 0;
  virtual std::vector<EmailDecision> decisionsInState(EmailState state) = 0;
  // The newest decision about one platform email (by decided_at, then key), whatever its key: an
  // email edited since (recipients, send time) is decided again under a new key.
  virtual std::optional<EmailDecision> latestDecisionOf(const std::string& connector, const std::string& email_id) = 0;
  virtual std::vector<EmailDecision> decisionsPage(const DecisionQuery& q) = 0;
  // Decided at or after `since`, by day then reason.
  virtual std::vector<HoldCount> holdsPerDay(TimePoint since) = 0;
  virtual std::vector<AuditEvent> auditFor(const std::string& key) = 0;
  // An audit line about something other than an email (key "failsafe": tripped, resumed), with an
  // optional notification and state keys of `states.owner` in the same transaction: a crash cannot
  // keep a state change (the fail-safe tripped) and lose the alert that tells of it.
  struct StateWrites {
    std::string owner;
    std::vector<std::pair<std::string, std::string>> values;
  };
  virtual void audit(const std::string& key, const std::string& event, const nlohmann::json& detail,
                     const std::optional<OutboxMessage>& notify = std::nullopt, const StateWrites& states = {}) = 0;

  virtual std::optional<CachedVerdict> cachedVerdict(const std::string& address, TimePoint now) = 0;
  virtual void cacheVerdict(const CachedVerdict& v) = 0;
  // Drops the cached verdicts of an address (canonical), or of every address at "@domain" (its
  // A-labels): what they say was checked before something now known (a bounce) said otherwise.
  virtual void forgetVerdicts(const std::string& address_or_domain) = 0;

  // Outbox: pending or sending messages whose next attempt is due, or further ahead of `now` than
  // kOutboxMaxRetryDelay: set before the clock went back, they would wait for it to catch up.
  virtual std::vector<OutboxMessage> dueOutbox(TimePoint now, int limit) = 0;
  // A message about to be posted to `ref`: "sending", one more attempt; due again (to be looked
  // for at `ref` first) no sooner than `search_after`, should the process die before the answer.
  virtual void outboxSending(long long id, const std::string& ref, TimePoint search_after) = 0;
  virtual void outboxSent(long long id, const std::string& ref) = 0;
  // state: pending (try afresh), sending (outcome unknown: look before resending) or dead.
  virtual void outboxRetry(long long id, TimePoint next, const std::string& error, const std::string& state) = 0;
  // A try that found no destination for now (the rep's DM out of reach): counted as an attempt,
  // pending again at `next`.
  virtual void outboxUnrouted(long long id, TimePoint next, const std::string& error) = 0;
  virtual std::vector<OutboxMessage> allOutbox() = 0;
  // The notifications about one decision (dedupe keys "notify|KEY...", "too_late|KEY...",
  // "recheck|KEY|..."), oldest first.
  virtual std::vector<OutboxMessage> outboxFor(const std::string& decision_key) = 0;
  // Settles a message (state sent or dead, with its ref or error) and enqueues `next` in the same
  // transaction: a message routed to its notifiers (one per notifier), handed to another (Slack has
  // no user for the rep: email), or given up with a word to the admins. Replayed: nothing twice.
  virtual void outboxSettle(long long id, const std::string& state, const std::string& ref_or_error,
                            const std::vector<OutboxMessage>& next) = 0;
  // The admins' daily digest: enqueued with the time it was made, in one transaction, so that a
  // restart neither loses nor repeats it. lastDigestAt: that time, if any.
  virtual void enqueueDigest(const OutboxMessage& m, TimePoint at) = 0;
  virtual std::optional<TimePoint> lastDigestAt() = 0;
  // Notifications waiting (pending or sending) and when the oldest of them was queued: the
  // metrics safetynet_outbox_pending and safetynet_outbox_oldest_age_seconds, read at each scrape.
  virtual OutboxBacklog outboxBacklog() = 0;

  // Re-checks scheduled by transition(); finishing one records the outcome (audit), and either
  // schedules it again (`next_due`) or closes it, with an optional notification, in one transaction.
  virtual std::vector<Recheck> dueRechecks(TimePoint now, int limit) = 0;
  virtual void finishRecheck(const Recheck& r, const std::string& outcome, std::optional<TimePoint> next_due,
                             const std::optional<OutboxMessage>& notify) = 0;

  // Facts about a recipient domain (catch-all, provider), with an expiry.
  virtual std::optional<std::string> domainFact(const std::string& domain, const std::string& fact, TimePoint now) = 0;
  virtual void putDomainFact(const std::string& domain, const std::string& fact, const std::string& value,
                             TimePoint expires) = 0;

  // Bounce history. recordBounce writes the event and the subject's new standing (if any) in one
  // transaction; it returns false, writing nothing, when the event's key was recorded before.
  virtual bool recordBounce(const BounceEvent& e, const std::optional<Standing>& standing) = 0;
  // The same, the standing decided inside the transaction, after the event is written, by
  // `decide` reading this store (the subject's standing, the address's earlier bounces, the
  // domain's other dead addresses), with every other writer of the `locks` subjects waiting (in
  // that order: a domain's "@acme.test" before an address): two bounces of one address, or of two
  // addresses at one dead domain, recorded at once (two instances, or the daemon and `safetynet
  // bounce import`) both count.
  virtual bool recordBounceDeciding(const BounceEvent& e, const std::vector<std::string>& locks,
                                    const std::function<std::optional<Standing>()>& decide) = 0;
  virtual std::vector<BounceEvent> bouncesFor(const std::string& address, TimePoint since) = 0;
  // The different addresses at `domain` ("acme.test") with a bounce of one of `reasons` at or
  // after `since` and at or before `until`.
  virtual std::vector<std::string> addressesBouncedAt(const std::string& domain, const std::vector<std::string>& reasons,
                                                      TimePoint since = TimePoint{}, TimePoint until = TimePoint::max()) = 0;
  // Every bounce of one of `reasons` at any domain from `since` to `until` (both included), by
  // time, as (address, at): a provider's incident counts the domains whose mail it runs, window by
  // window.
  virtual std::vector<std::pair<std::string, TimePoint>> bouncesBetween(const std::vector<std::string>& reasons,
                                                                        TimePoint since, TimePoint until) = 0;
  // The same, of the bounces a host under `site` answered (BounceEvent::answered_by): a relay's
  // incident counts the domains it answered for. None for "".
  virtual std::vector<std::pair<std::string, TimePoint>> bouncesAnsweredBy(const std::string& site,
                                                                           const std::vector<std::string>& reasons,
                                                                           TimePoint since, TimePoint until) = 0;
  // Inside recordBounceDeciding's `decide` only (its transaction): another subject's standing
  // rewritten after taking its lock, and the admins' notification queued with it. A suspected
  // provider incident rewrites the hard bounces recorded before it tripped.
  virtual void lockSubject(const std::string& subject) = 0;
  // The same lock, only if no other transaction holds it: false then, and nothing waited for.
  virtual bool tryLockSubject(const std::string& subject) = 0;
  virtual void putStandingInTransaction(const Standing& s) = 0;
  virtual void enqueueInTransaction(const OutboxMessage& m) = 0;
  virtual std::optional<Standing> standing(const std::string& subject) = 0;
  virtual std::vector<Standing> standings() = 0;
  // An admin lifts a suppression or hold; the event stays in the history, with an audit line.
  virtual bool clearStanding(const std::string& subject, const std::string& by) = 0;

  // Sender protection: sends reported by the connectors (idempotent by key), bounce counts by
  // sending mailbox, and each mailbox's pause. putSender writes the state and its admin
  // notification in one transaction.
  virtual bool recordSend(const std::string& key, const std::string& mailbox, TimePoint at) = 0;
  virtual int sendsFrom(const std::string& mailbox, TimePoint since) = 0;
  virtual int bouncesFrom(const std::string& mailbox, TimePoint since) = 0;
  virtual std::vector<std::string> sendersActiveSince(TimePoint since) = 0;
  virtual std::optional<SenderState> sender(const std::string& mailbox) = 0;
  virtual void putSender(const SenderState& s, const std::optional<OutboxMessage>& notify) = 0;
  virtual std::vector<SenderState> senders() = 0;
  virtual bool releaseSender(const std::string& mailbox, const std::string& by, TimePoint now) = 0;

  // Overrides (releases). putOverride adds one, or replaces the address's current one (audit
  // "added" under "override|ADDRESS", naming the one it replaced); activeOverride ignores an
  // expired one; removeOverride audits "removed" and says whether there was an active one. Expired
  // overrides are deleted by prune(), each with an audit line "expired".
  virtual void putOverride(const Override& o) = 0;
  virtual std::optional<Override> activeOverride(const std::string& address, TimePoint now) = 0;
  virtual std::vector<Override> activeOverrides(TimePoint now) = 0;
  virtual bool removeOverride(const std::string& address, const std::string& by, TimePoint now) = 0;

  // Actions on held emails. beginAction records one as "started" with an audit line on its
  // decision ("<action>_started"), or returns false, writing nothing, when its key is recorded
  // already. finishAction settles it (done | failed) with an audit line ("<action>_done"...).
  virtual bool beginAction(const ActionRecord& a) = 0;
  virtual void finishAction(const std::string& key, const std::string& state, const nlohmann::json& detail) = 0;
  virtual std::optional<ActionRecord> findAction(const std::string& key) = 0;
  // The actions in `state` ("started": cut short by a crash, to finish at the next start), oldest first.
  virtual std::vector<ActionRecord> actionsInState(const std::string& state) = 0;
  // An address (or "@domain") suppressed by a person (Keep held and suppress): standing
  // "suppressed" (SUPPRESSED) until `safetynet suppressions clear`; audited under "bounce|SUBJECT".
  virtual void suppress(const std::string& subject, const std::string& by, const std::string& evidence, TimePoint now) = 0;

  virtual std::optional<std::string> connectorState(const std::string& connector, const std::string& key) = 0;
  // Every key of `connector` with its value, by key (the fail-safe's day counts, one key per
  // instance sharing the database).
  virtual std::vector<std::pair<std::string, std::string>> connectorStates(const std::string& connector) = 0;
  virtual void putConnectorState(const std::string& connector, const std::string& key, const std::string& value) = 0;
  // Several keys in one transaction: all are written or none (OAuth tokens that belong together).
  virtual void putConnectorStates(const std::string& connector,
                                  const std::vector<std::pair<std::string, std::string>>& values) = 0;

  // Deletes at most about `max_rows` rows older than the retention times (decided emails with their
  // audit lines, sent or dead notifications, bounce events, sends, expired cache rows and domain
  // facts, finished re-checks), oldest first, each batch its own short transaction. Emails still
  // being acted on and the bounce standings are never pruned. Returns how many rows went.
  virtual int prune(const RetentionConfig& r, TimePoint now, int max_rows) = 0;

  // Leases. tryLease takes `unit` for `holder` until `until`, or renews it: when nobody holds it,
  // its holder's time ran out (until < now), or `holder` holds it already; one statement, so two
  // instances asking at once cannot both get it. Returns whether `holder` holds it now.
  // releaseLease gives it up (a clean stop, more than a fair share): another may take it at once.
  virtual bool tryLease(const std::string& unit, const std::string& holder, TimePoint now, TimePoint until) = 0;
  virtual void releaseLease(const std::string& unit, const std::string& holder) = 0;
  virtual std::vector<Lease> leases() = 0;
  // The time leases are reckoned in, given `local` (this machine's now): for a database several
  // instances share, the database server's clock, since their machines' clocks may disagree by
  // more than a lease (a fast one would take a live instance's units, a slow one's would outlive
  // it); for a store of one machine, `local`.
  virtual TimePoint leaseNow(TimePoint local) { return local; }

  virtual void upsertTracked(const TrackedEmail& e) = 0;
  virtual void removeTracked(const std::string& connector, const std::string& email_id) = 0;
  virtual std::vector<TrackedEmail> trackedBetween(const std::string& connector, TimePoint from, TimePoint to) = 0;
  virtual void forgetTrackedBefore(const std::string& connector, TimePoint before) = 0;
};

using StorePtr = std::unique_ptr<Store>;

// The outbox's longest wait between two tries of a message (its backoff's cap, a server's
// Retry-After included).
constexpr std::chrono::milliseconds kOutboxMaxRetryDelay = std::chrono::hours(1);

// Opens (creating if needed) state_dir/safetynet.db in WAL mode and applies pending migrations.
// Throws StoreError with a clear message when the directory or database cannot be used.
// `clock`: where the times written into rows come from (tests and the retention benchmark simulate
// months); empty: the system clock.
using StoreClock = std::function<TimePoint()>;
StorePtr openSqliteStore(const std::string& state_dir, StoreClock clock = {});
// The store the configuration names (store.backend): SQLite in state_dir, or PostgreSQL.
StorePtr openStore(const Config& config, StoreClock clock = {});

// The same Store on PostgreSQL (libpq connection string: "host=... dbname=... user=..." or a
// postgresql:// URI), shared by several instances: migrations run once, under a lock.
StorePtr openPostgresStore(const std::string& conninfo, StoreClock clock = {});

struct StoreError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// No room left in the state directory: nothing was written (the transaction rolled back).
struct StoreFullError : StoreError {
  using StoreError::StoreError;
};

}  // namespace safetynet
