// The Store on a SQL database (store/sql_db.hpp): SQLite for one instance, PostgreSQL for several
// sharing one database. Versioned migrations, one short transaction per call; the statements are
// written once in the SQL both dialects read, the few that differ (JSON, dates) twice.
#include <filesystem>
#include <regex>

#include "safetynet/core/time_format.hpp"
#include "safetynet/store/store.hpp"
#include "safetynet/core/json_util.hpp"
#include "store/sql_db.hpp"

// Column lists shared by the SELECTs and the row readers below.
#define kDecisionCols                                                                                  \
  "key,connector,email_id,scheduled_at,state,verdict,reason,evidence,next_step,subject,sender,rep," \
  "recipients,email,attempts,detail,decided_at,updated_at"
#define kOutboxCols "id,dedupe_key,kind,payload,state,attempts,next_attempt_at,last_error,sent_ref"
#define kActionCols "key, decision_key, action, who, state, detail, created, updated"

namespace safetynet {

std::string toString(EmailState s) {
  switch (s) {
    case EmailState::Allowed: return "allowed";
    case EmailState::Reverting: return "reverting";
    case EmailState::Reverted: return "reverted";
    case EmailState::RevertFailed: return "revert_failed";
    case EmailState::TooLate: return "too_late";
    case EmailState::Shadow: return "shadow";
  }
  return "unknown";
}

std::optional<EmailState> emailStateFrom(std::string_view s) {
  for (auto st : {EmailState::Allowed, EmailState::Reverting, EmailState::Reverted, EmailState::RevertFailed,
                  EmailState::TooLate, EmailState::Shadow})
    if (toString(st) == s) return st;
  return std::nullopt;
}

namespace {

// Each entry moves the schema one version up. Never edit a shipped entry: append a new one.
const char* const kMigrations[] = {
    // 1: initial schema
    R"SQL(
CREATE TABLE decisions (
  key TEXT PRIMARY KEY,
  connector TEXT NOT NULL,
  email_id TEXT NOT NULL,
  scheduled_at INTEGER NOT NULL,
  state TEXT NOT NULL,
  verdict TEXT NOT NULL,
  reason TEXT NOT NULL,
  evidence TEXT NOT NULL,
  next_step TEXT NOT NULL,
  subject TEXT NOT NULL,
  sender TEXT NOT NULL,
  rep TEXT NOT NULL,
  recipients TEXT NOT NULL,
  email TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  detail TEXT NOT NULL DEFAULT '',
  decided_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX decisions_decided_at ON decisions(decided_at);
CREATE INDEX decisions_email ON decisions(connector, email_id);
CREATE TABLE audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  email_key TEXT NOT NULL,
  event TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX audit_key ON audit(email_key);
CREATE TABLE verdict_cache (
  address TEXT PRIMARY KEY,
  verdict TEXT NOT NULL,
  reason TEXT NOT NULL,
  signals TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  dedupe_key TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT NOT NULL DEFAULT '',
  sent_ref TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  sent_at INTEGER
);
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
CREATE TABLE connector_state (
  connector TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (connector, key)
);
CREATE TABLE tracked_emails (
  connector TEXT NOT NULL,
  email_id TEXT NOT NULL,
  scheduled_at INTEGER NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (connector, email_id)
);
CREATE INDEX tracked_window ON tracked_emails(connector, scheduled_at);
)SQL",
    // 2: the re-check queue of recipients held as `unknown`
    R"SQL(
CREATE TABLE rechecks (
  address TEXT NOT NULL,
  email_key TEXT NOT NULL,
  due_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  context TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  outcome TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (address, email_key)
);
CREATE INDEX rechecks_due ON rechecks(state, due_at);
)SQL",
    // 3: facts about recipient domains (catch-all, provider)
    R"SQL(
CREATE TABLE domain_facts (
  domain TEXT NOT NULL,
  fact TEXT NOT NULL,
  value TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (domain, fact)
);
)SQL",
    // 4: bounce history and where each address stands
    R"SQL(
CREATE TABLE bounces (
  key TEXT PRIMARY KEY,
  address TEXT NOT NULL,
  reason TEXT NOT NULL,
  hard INTEGER NOT NULL,
  status TEXT NOT NULL,
  reply_code TEXT NOT NULL,
  diagnostic TEXT NOT NULL,
  source TEXT NOT NULL,
  sender TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX bounces_address ON bounces(address, at);
CREATE INDEX bounces_sender ON bounces(sender, at);
CREATE TABLE standings (
  subject TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  since INTEGER NOT NULL,
  until INTEGER,
  soft_count INTEGER NOT NULL,
  holds INTEGER NOT NULL,
  reason TEXT NOT NULL,
  evidence TEXT NOT NULL
);
)SQL",
    // 5: sender protection: sends per mailbox and each mailbox's pause
    R"SQL(
CREATE TABLE sends (
  key TEXT PRIMARY KEY,
  mailbox TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX sends_mailbox ON sends(mailbox, at);
CREATE TABLE senders (
  mailbox TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  since INTEGER NOT NULL,
  until INTEGER,
  pauses INTEGER NOT NULL,
  evidence TEXT NOT NULL
);
)SQL",
    // 6: retention: the columns pruning reads by age are indexed; and the emails left "reverting",
    // asked for every poll, no longer by a scan of every decision (the retention benchmark: 19 ms
    // at 60,000 decisions, growing)
    R"SQL(
CREATE INDEX decisions_state ON decisions(state);
CREATE INDEX audit_at ON audit(at);
CREATE INDEX outbox_created ON outbox(created_at);
CREATE INDEX bounces_at ON bounces(at);
CREATE INDEX sends_at ON sends(at);
CREATE INDEX verdict_cache_expires ON verdict_cache(expires_at);
)SQL",
    // 7: overrides (releases): an address the checks allow until `until`
    R"SQL(
CREATE TABLE overrides (
  address TEXT PRIMARY KEY,
  who TEXT NOT NULL,
  why TEXT NOT NULL,
  created INTEGER NOT NULL,
  until INTEGER NOT NULL
);
CREATE INDEX overrides_until ON overrides(until);
)SQL",
    // 8: actions on held emails (the Slack buttons), one per decision and action
    R"SQL(
CREATE TABLE actions (
  key TEXT PRIMARY KEY,
  decision_key TEXT NOT NULL,
  action TEXT NOT NULL,
  who TEXT NOT NULL,
  state TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '',
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL
);
CREATE INDEX actions_decision ON actions(decision_key);
)SQL",
    // 9: work leases, for several instances on one (PostgreSQL) database
    R"SQL(
CREATE TABLE leases (
  unit TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  until INTEGER NOT NULL
);
)SQL",
    // 10: the site whose host answered each bounce, for a relay's incident (docs/bounces.md)
    R"SQL(
ALTER TABLE bounces ADD COLUMN answered_by TEXT NOT NULL DEFAULT '';
CREATE INDEX bounces_answered_by ON bounces(answered_by, at);
)SQL",
};


// The schema of a migration, as written for SQLite, in PostgreSQL's types: 64-bit integers
// (times are milliseconds), identity keys, and byte-order text (SQLite compares bytes; PostgreSQL
// the database's locale: keys and pages must sort the same on both).
std::string schemaFor(const std::string& sql, store::Dialect d) {
  if (d == store::Dialect::Sqlite) return sql;
  std::string out = std::regex_replace(sql, std::regex("INTEGER PRIMARY KEY AUTOINCREMENT"), "BIGSERIAL PRIMARY KEY");
  out = std::regex_replace(out, std::regex("\\bINTEGER\\b"), "BIGINT");
  return std::regex_replace(out, std::regex("\\bTEXT\\b"), "TEXT COLLATE \"C\"");
}

// A prepared statement of the store's database, bound fluently.
class Stmt {
 public:
  Stmt(const std::unique_ptr<store::SqlDb>& db, const std::string& sql) : s_(db->prepare(sql)) {}
  Stmt& bind(int i, const std::string& v) {
    s_->bind(i, v);
    return *this;
  }
  Stmt& bind(int i, long long v) {
    s_->bind(i, v);
    return *this;
  }
  Stmt& bind(int i, int v) { return bind(i, static_cast<long long>(v)); }
  Stmt& bindNull(int i) {
    s_->bindNull(i);
    return *this;
  }
  bool isNull(int col) const { return s_->isNull(col); }
  bool step() { return s_->step(); }  // true while there is a row
  void run() {
    while (step()) {
    }
  }
  std::string text(int col) const { return s_->text(col); }
  long long integer(int col) const { return s_->integer(col); }

 private:
  std::unique_ptr<store::SqlStmt> s_;
};

nlohmann::json parseJson(const std::string& s, nlohmann::json fallback) {
  auto j = nlohmann::json::parse(s, nullptr, false);
  return j.is_discarded() ? fallback : j;
}

// A LIKE pattern (ESCAPE '!') for the values that end with `suffix`, its wildcards escaped (a
// domain may hold '_'). LIKE, not length and substr: those count characters, C++ counts bytes.
std::string likeSuffix(const std::string& suffix) {
  std::string pattern = "%";
  for (char c : suffix) {
    if (c == '!' || c == '%' || c == '_') pattern += '!';
    pattern += c;
  }
  return pattern;
}

// The digest's bookkeeping lives in connector_state under a name no connector can have (a name
// with a space).
constexpr const char* kDigestScope = "notify digest";

class SqlStore final : public Store {
 public:
  SqlStore(std::unique_ptr<store::SqlDb> db, StoreClock clock) : clock_(std::move(clock)), db_(std::move(db)) {
    migrate();
  }

  std::optional<EmailDecision> findDecision(const std::string& key) override {
    Stmt s(db_, "SELECT " kDecisionCols " FROM decisions WHERE key=?");
    s.bind(1, key);
    if (!s.step()) return std::nullopt;
    return readDecision(s);
  }

  bool recordDecision(const EmailDecision& d, const std::optional<OutboxMessage>& notify) override {
    Tx tx(*this);
    Stmt s(db_,
           "INSERT INTO decisions(key,connector,email_id,scheduled_at,state,verdict,reason,evidence,next_step,"
           "subject,sender,rep,recipients,email,attempts,detail,decided_at,updated_at) "
           "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING");
    long long now = nowMs();
    s.bind(1, d.key).bind(2, d.connector).bind(3, d.email_id).bind(4, toMillis(d.scheduled_at))
        .bind(5, toString(d.state)).bind(6, d.verdict).bind(7, d.reason).bind(8, d.evidence).bind(9, d.next_step)
        .bind(10, d.subject).bind(11, d.sender).bind(12, jsonText(d.rep)).bind(13, jsonText(d.recipients))
        .bind(14, jsonText(d.email)).bind(15, d.attempts).bind(16, d.detail).bind(17, now).bind(18, now);
    s.run();
    if (db_->changes() == 0) return false;  // decided already (another instance): the Tx rolls back
    nlohmann::json audit = {{"verdict", d.verdict}, {"reason", d.reason}, {"evidence", d.evidence},
                            {"state", toString(d.state)}, {"recipients", d.recipients}};
    if (d.margin) audit["margin_s"] = std::chrono::duration<double>(*d.margin).count();
    appendAudit(d.key, "decided", audit);
    if (!d.failsafe.empty()) appendAudit(d.key, "failsafe", {{"reason", d.reason}, {"detail", d.failsafe}});
    if (notify) enqueue(*notify);
    tx.commit();
    return true;
  }

  bool transition(const std::string& key, EmailState to, const std::string& detail, int attempts,
                  const std::optional<OutboxMessage>& notify, const std::vector<Recheck>& rechecks) override {
    Tx tx(*this);
    Stmt s(db_, "UPDATE decisions SET state=?, detail=?, attempts=?, updated_at=? WHERE key=? AND state=?");
    s.bind(1, toString(to)).bind(2, detail).bind(3, attempts).bind(4, nowMs()).bind(5, key)
        .bind(6, toString(EmailState::Reverting));
    s.run();
    if (db_->changes() != 1) {
      if (!findDecision(key)) throw StoreError("no decision recorded for " + key);
      return false;  // settled already (the transaction ends unwritten)
    }
    appendAudit(key, toString(to), {{"detail", detail}, {"attempts", attempts}});
    if (notify) enqueue(*notify);
    for (const auto& r : rechecks) {
      Stmt q(db_, "INSERT INTO rechecks(address, email_key, due_at, attempts, context) VALUES(?,?,?,?,?) ON CONFLICT DO NOTHING");
      q.bind(1, r.address).bind(2, r.email_key).bind(3, toMillis(r.due_at)).bind(4, r.attempts).bind(5, jsonText(r.context));
      q.run();
    }
    tx.commit();
    return true;
  }

  std::vector<Recheck> dueRechecks(TimePoint now, int limit) override {
    Stmt s(db_, "SELECT address, email_key, due_at, attempts, context FROM rechecks "
                "WHERE state='pending' AND due_at<=? ORDER BY due_at LIMIT ?");
    s.bind(1, toMillis(now)).bind(2, limit);
    std::vector<Recheck> out;
    while (s.step())
      out.push_back(Recheck{s.text(0), s.text(1), fromMillis(s.integer(2)), static_cast<int>(s.integer(3)),
                            parseJson(s.text(4), nlohmann::json::object())});
    return out;
  }

  void finishRecheck(const Recheck& r, const std::string& outcome, std::optional<TimePoint> next_due,
                     const std::optional<OutboxMessage>& notify) override {
    Tx tx(*this);
    Stmt s(db_, "UPDATE rechecks SET state=?, due_at=?, attempts=attempts+1, outcome=? WHERE address=? AND email_key=?");
    s.bind(1, std::string(next_due ? "pending" : "done")).bind(2, toMillis(next_due.value_or(r.due_at)))
        .bind(3, outcome).bind(4, r.address).bind(5, r.email_key);
    s.run();
    appendAudit(r.email_key, "rechecked", {{"address", r.address}, {"outcome", outcome}, {"again", next_due.has_value()}});
    if (notify) enqueue(*notify);
    tx.commit();
  }

  std::vector<EmailDecision> decisionsSince(TimePoint since) override {
    Stmt s(db_, "SELECT " kDecisionCols " FROM decisions WHERE decided_at>=? ORDER BY decided_at, key");
    s.bind(1, toMillis(since));
    std::vector<EmailDecision> out;
    while (s.step()) out.push_back(readDecision(s));
    return out;
  }

  std::vector<EmailDecision> decisionsPage(const DecisionQuery& q) override {
    // ?n: empty filters match everything; the position (?7, ?8) only when `after` is given.
    // The JSON columns are read with each dialect's JSON functions (the email's rep, the recipients).
    const bool pg = db_->dialect() == store::Dialect::Postgres;
    const std::string userId = pg ? "(email::jsonb->>'user_id')" : "json_extract(email,'$.user_id')";
    const std::string userName = pg ? "(email::jsonb->>'user_name')" : "json_extract(email,'$.user_name')";
    const std::string recipientMatches =
        pg ? "EXISTS (SELECT 1 FROM jsonb_array_elements(recipients::jsonb) r "
             "WHERE strpos(lower(r->>'address'), lower(?10)) > 0)"
           : "EXISTS (SELECT 1 FROM json_each(recipients) WHERE instr(lower(json_extract(value,'$.address')), lower(?10)) > 0)";
    Stmt s(db_, "SELECT " kDecisionCols " FROM decisions WHERE decided_at>=?1 "
                "AND (?2='' OR verdict=?2) AND (?3='' OR reason=?3) AND (?4='' OR connector=?4) "
                "AND (?5='' OR lower(sender)=lower(?5) OR " + userId + "=?5 OR lower(" + userName + ")=lower(?5)) "
                "AND (?6=0 OR decided_at<?7 OR (decided_at=?7 AND key<?8)) "
                "AND (?10='' OR " + recipientMatches + ") ORDER BY decided_at DESC, key DESC LIMIT ?9");
    s.bind(1, toMillis(q.since)).bind(2, q.verdict).bind(3, q.reason).bind(4, q.connector).bind(5, q.rep);
    s.bind(6, q.after ? 1 : 0).bind(7, q.after ? toMillis(q.after->first) : 0LL).bind(8, q.after ? q.after->second : std::string());
    s.bind(9, q.limit).bind(10, q.address);
    std::vector<EmailDecision> out;
    while (s.step()) out.push_back(readDecision(s));
    return out;
  }

  std::vector<HoldCount> holdsPerDay(TimePoint since) override {
    const std::string day = db_->dialect() == store::Dialect::Postgres
                                ? "to_char(to_timestamp(decided_at / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
                                : "strftime('%Y-%m-%d', decided_at/1000, 'unixepoch')";
    Stmt s(db_, "SELECT " + day + " AS day, reason, count(*) FROM decisions "
                // A stop not carried out because the rep had changed the email (supersededStop) held
                // nothing: the email counts as its new version.
                "WHERE verdict='revert' AND decided_at>=? AND NOT (state='allowed' AND detail LIKE 'changed on %') "
                "GROUP BY day, reason ORDER BY day, reason");
    s.bind(1, toMillis(since));
    std::vector<HoldCount> out;
    while (s.step()) out.push_back(HoldCount{s.text(0), s.text(1), static_cast<int>(s.integer(2))});
    return out;
  }

  std::vector<EmailDecision> decisionsInState(EmailState state) override {
    Stmt s(db_, "SELECT " kDecisionCols " FROM decisions WHERE state=? ORDER BY scheduled_at, key");
    s.bind(1, toString(state));
    std::vector<EmailDecision> out;
    while (s.step()) out.push_back(readDecision(s));
    return out;
  }

  std::optional<EmailDecision> latestDecisionOf(const std::string& connector, const std::string& email_id) override {
    Stmt s(db_, "SELECT " kDecisionCols " FROM decisions WHERE connector=? AND email_id=? "
                "ORDER BY decided_at DESC, key DESC LIMIT 1");
    s.bind(1, connector).bind(2, email_id);
    if (!s.step()) return std::nullopt;
    return readDecision(s);
  }

  void audit(const std::string& key, const std::string& event, const nlohmann::json& detail,
             const std::optional<OutboxMessage>& notify, const StateWrites& states) override {
    Tx tx(*this);
    for (const auto& [k, value] : states.values) putConnectorState(states.owner, k, value);
    appendAudit(key, event, detail);
    if (notify) enqueue(*notify);
    tx.commit();
  }

  std::vector<AuditEvent> auditFor(const std::string& key) override {
    Stmt s(db_, "SELECT id, at, email_key, event, detail FROM audit WHERE email_key=? ORDER BY id");
    s.bind(1, key);
    std::vector<AuditEvent> out;
    while (s.step())
      out.push_back(AuditEvent{s.integer(0), fromMillis(s.integer(1)), s.text(2), s.text(3),
                               parseJson(s.text(4), nlohmann::json::object())});
    return out;
  }

  std::optional<CachedVerdict> cachedVerdict(const std::string& address, TimePoint now) override {
    Stmt s(db_, "SELECT address, verdict, reason, signals, expires_at FROM verdict_cache WHERE address=? AND expires_at>?");
    s.bind(1, address).bind(2, toMillis(now));
    if (!s.step()) return std::nullopt;
    return CachedVerdict{s.text(0), s.text(1), s.text(2), parseJson(s.text(3), nlohmann::json::array()),
                         fromMillis(s.integer(4))};
  }

  void cacheVerdict(const CachedVerdict& v) override {
    Stmt s(db_, "INSERT INTO verdict_cache(address, verdict, reason, signals, expires_at) VALUES(?,?,?,?,?) ON CONFLICT(address) DO UPDATE SET verdict=excluded.verdict, reason=excluded.reason, signals=excluded.signals, expires_at=excluded.expires_at");
    s.bind(1, v.address).bind(2, v.verdict).bind(3, v.reason).bind(4, jsonText(v.signals)).bind(5, toMillis(v.expires_at));
    s.run();
  }

  void forgetVerdicts(const std::string& address_or_domain) override {
    if (address_or_domain.empty()) return;
    if (address_or_domain.front() != '@') {
      Stmt s(db_, "DELETE FROM verdict_cache WHERE address=?");
      s.bind(1, address_or_domain);
      s.run();
      return;
    }
    // Every address at the domain: a suffix match (rare: a domain's bounce).
    Stmt s(db_, "DELETE FROM verdict_cache WHERE address LIKE ? ESCAPE '!'");
    s.bind(1, likeSuffix(address_or_domain));
    s.run();
  }

  std::vector<OutboxMessage> dueOutbox(TimePoint now, int limit) override {
    Stmt s(db_, "SELECT " kOutboxCols " FROM outbox WHERE state IN ('pending','sending') "
                "AND (next_attempt_at<=?1 OR next_attempt_at>?1+?3) ORDER BY next_attempt_at, id LIMIT ?2");
    s.bind(1, toMillis(now)).bind(2, limit).bind(3, static_cast<long long>(kOutboxMaxRetryDelay.count()));
    std::vector<OutboxMessage> out;
    while (s.step()) out.push_back(readOutbox(s));
    return out;
  }

  std::vector<OutboxMessage> allOutbox() override {
    Stmt s(db_, "SELECT " kOutboxCols " FROM outbox ORDER BY id");
    std::vector<OutboxMessage> out;
    while (s.step()) out.push_back(readOutbox(s));
    return out;
  }

  std::vector<OutboxMessage> outboxFor(const std::string& decision_key) override {
    Stmt s(db_, "SELECT " kOutboxCols " FROM outbox WHERE dedupe_key IN ('notify|'||?1, 'too_late|'||?1) "
                "OR substr(dedupe_key, 1, length(?1)+8)='notify|'||?1||'|' "
                "OR substr(dedupe_key, 1, length(?1)+10)='too_late|'||?1||'|' "
                "OR substr(dedupe_key, 1, length(?1)+9)='recheck|'||?1||'|' ORDER BY id");
    s.bind(1, decision_key);
    std::vector<OutboxMessage> out;
    while (s.step()) out.push_back(readOutbox(s));
    return out;
  }

  void outboxSending(long long id, const std::string& ref, TimePoint search_after) override {
    Stmt s(db_, "UPDATE outbox SET state='sending', attempts=attempts+1, sent_ref=?, next_attempt_at=? WHERE id=?");
    s.bind(1, ref).bind(2, toMillis(search_after)).bind(3, id);
    s.run();
  }

  void outboxSent(long long id, const std::string& ref) override {
    Stmt s(db_, "UPDATE outbox SET state='sent', sent_ref=?, sent_at=?, last_error='' WHERE id=?");
    s.bind(1, ref).bind(2, nowMs()).bind(3, id);
    s.run();
  }

  void outboxRetry(long long id, TimePoint next, const std::string& error, const std::string& state) override {
    Stmt s(db_, "UPDATE outbox SET state=?, next_attempt_at=?, last_error=? WHERE id=?");
    s.bind(1, state).bind(2, toMillis(next)).bind(3, error).bind(4, id);
    s.run();
  }

  void outboxUnrouted(long long id, TimePoint next, const std::string& error) override {
    Stmt s(db_, "UPDATE outbox SET state='pending', attempts=attempts+1, next_attempt_at=?, last_error=? WHERE id=?");
    s.bind(1, toMillis(next)).bind(2, error).bind(3, id);
    s.run();
  }

  void outboxSettle(long long id, const std::string& state, const std::string& ref_or_error,
                    const std::vector<OutboxMessage>& next) override {
    Tx tx(*this);
    const bool sent = state == "sent";
    Stmt s(db_, "UPDATE outbox SET state=?, sent_ref=CASE WHEN ?=1 THEN ? ELSE sent_ref END, "
                "sent_at=CASE WHEN ?=1 THEN ? ELSE sent_at END, last_error=CASE WHEN ?=1 THEN '' ELSE ? END WHERE id=?");
    s.bind(1, state).bind(2, sent ? 1 : 0).bind(3, ref_or_error).bind(4, sent ? 1 : 0).bind(5, nowMs())
        .bind(6, sent ? 1 : 0).bind(7, ref_or_error).bind(8, id);
    s.run();
    for (const auto& m : next) enqueue(m);
    tx.commit();
  }

  void enqueueDigest(const OutboxMessage& m, TimePoint at) override {
    Tx tx(*this);
    enqueue(m);
    putConnectorState(kDigestScope, "last_at", std::to_string(toMillis(at)));
    tx.commit();
  }

  std::optional<TimePoint> lastDigestAt() override {
    auto v = connectorState(kDigestScope, "last_at");
    if (!v || v->empty()) return std::nullopt;
    return fromMillis(std::stoll(*v));
  }

  OutboxBacklog outboxBacklog() override {
    // outbox_due's leading column is the state: only the waiting rows are read.
    Stmt s(db_, "SELECT count(*), min(created_at) FROM outbox WHERE state IN ('pending','sending')");
    OutboxBacklog b;
    if (s.step()) {
      b.pending = s.integer(0);
      if (b.pending > 0) b.oldest = fromMillis(s.integer(1));
    }
    return b;
  }

  std::optional<std::string> domainFact(const std::string& domain, const std::string& fact, TimePoint now) override {
    Stmt s(db_, "SELECT value FROM domain_facts WHERE domain=? AND fact=? AND expires_at>?");
    s.bind(1, domain).bind(2, fact).bind(3, toMillis(now));
    if (!s.step()) return std::nullopt;
    return s.text(0);
  }

  void putDomainFact(const std::string& domain, const std::string& fact, const std::string& value,
                     TimePoint expires) override {
    Stmt s(db_, "INSERT INTO domain_facts(domain, fact, value, expires_at) VALUES(?,?,?,?) ON CONFLICT(domain, fact) DO UPDATE SET value=excluded.value, expires_at=excluded.expires_at");
    s.bind(1, domain).bind(2, fact).bind(3, value).bind(4, toMillis(expires));
    s.run();
  }

  std::optional<std::string> connectorState(const std::string& connector, const std::string& key) override {
    Stmt s(db_, "SELECT value FROM connector_state WHERE connector=? AND key=?");
    s.bind(1, connector).bind(2, key);
    if (!s.step()) return std::nullopt;
    return s.text(0);
  }

  std::vector<std::pair<std::string, std::string>> connectorStates(const std::string& connector) override {
    Stmt s(db_, "SELECT key, value FROM connector_state WHERE connector=? ORDER BY key");
    s.bind(1, connector);
    std::vector<std::pair<std::string, std::string>> out;
    while (s.step()) out.emplace_back(s.text(0), s.text(1));
    return out;
  }

  void putConnectorState(const std::string& connector, const std::string& key, const std::string& value) override {
    Stmt s(db_, "INSERT INTO connector_state(connector, key, value, updated_at) VALUES(?,?,?,?) ON CONFLICT(connector, key) DO UPDATE SET value=excluded.value, updated_at=excluded.updated_at");
    s.bind(1, connector).bind(2, key).bind(3, value).bind(4, nowMs());
    s.run();
  }

  bool recordBounce(const BounceEvent& e, const std::optional<Standing>& st) override {
    return recordBounceDeciding(e, st ? std::vector<std::string>{st->subject} : std::vector<std::string>{}, [&st] { return st; });
  }

  bool recordBounceDeciding(const BounceEvent& e, const std::vector<std::string>& locks,
                            const std::function<std::optional<Standing>()>& decide) override {
    Tx tx(*this);
    for (const auto& subject : locks) lockStanding(subject);
    // One statement: two instances importing the same bounce at once cannot both insert it.
    Stmt s(db_,
           "INSERT INTO bounces(key, address, reason, hard, status, reply_code, diagnostic, source, sender, at, answered_by) "
           "VALUES(?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING");
    s.bind(1, e.key).bind(2, e.address).bind(3, e.reason).bind(4, e.hard ? 1 : 0).bind(5, e.status).bind(6, e.reply_code);
    s.bind(7, e.diagnostic).bind(8, e.source).bind(9, e.sender).bind(10, toMillis(e.at)).bind(11, e.answered_by);
    s.run();
    if (db_->changes() == 0) return false;  // recorded before; the Tx rolls back
    const std::optional<Standing> st = decide();
    if (st) writeStanding(*st);
    tx.commit();
    return true;
  }

  void writeStanding(const Standing& st) {
    Stmt u(db_,
           "INSERT INTO standings(subject, state, since, until, soft_count, holds, reason, evidence) VALUES(?,?,?,?,?,?,?,?) ON CONFLICT(subject) DO UPDATE SET state=excluded.state, since=excluded.since, until=excluded.until, soft_count=excluded.soft_count, holds=excluded.holds, reason=excluded.reason, evidence=excluded.evidence");
    u.bind(1, st.subject).bind(2, st.state).bind(3, toMillis(st.since));
    if (st.until) u.bind(4, toMillis(*st.until));
    else u.bindNull(4);
    u.bind(5, st.soft_count).bind(6, st.holds).bind(7, st.reason).bind(8, st.evidence);
    u.run();
  }

  void lockSubject(const std::string& subject) override { lockStanding(subject); }

  bool tryLockSubject(const std::string& subject) override {
    // SQLite: one writer at a time, the transaction holds the database.
    if (db_->dialect() != store::Dialect::Postgres || subject.empty()) return true;
    Stmt l(db_, "SELECT CASE WHEN pg_try_advisory_xact_lock(20241130, hashtext(?1)) THEN 1 ELSE 0 END");
    l.bind(1, subject);
    return l.step() && l.integer(0) == 1;
  }

  void putStandingInTransaction(const Standing& st) override { writeStanding(st); }

  void enqueueInTransaction(const OutboxMessage& m) override { enqueue(m); }

  std::vector<BounceEvent> bouncesFor(const std::string& address, TimePoint since) override {
    Stmt s(db_,
           "SELECT key, address, reason, hard, status, reply_code, diagnostic, source, sender, at, answered_by FROM bounces "
           "WHERE address=? AND at>=? ORDER BY at");
    s.bind(1, address).bind(2, toMillis(since));
    std::vector<BounceEvent> out;
    while (s.step())
      out.push_back(BounceEvent{s.text(0), s.text(1), s.text(2), s.integer(3) != 0, s.text(4), s.text(5), s.text(6),
                                s.text(7), s.text(8), fromMillis(s.integer(9)), s.text(10)});
    return out;
  }

  std::vector<std::string> addressesBouncedAt(const std::string& domain, const std::vector<std::string>& reasons,
                                              TimePoint since, TimePoint until) override {
    // Addresses are stored lower-case; a suffix match reads the whole table, which holds
    // bounces, not sends: small, and read only when a dead-domain or unknown-user bounce (the
    // incident count) arrives. LIKE, not a
    // length and substr: those count characters while C++ counts bytes, and a domain written in
    // UTF-8 (bücher.de) never matched; LIKE needs no count. Its wildcards in a domain are escaped.
    return addressesBounced(likeSuffix("@" + domain), reasons, since, until);
  }

  std::vector<std::pair<std::string, TimePoint>> bouncesBetween(const std::vector<std::string>& reasons, TimePoint since,
                                                                TimePoint until) override {
    return bouncesWhere("", reasons, since, until);
  }

  std::vector<std::pair<std::string, TimePoint>> bouncesAnsweredBy(const std::string& site, const std::vector<std::string>& reasons,
                                                                   TimePoint since, TimePoint until) override {
    if (site.empty()) return {};
    return bouncesWhere(site, reasons, since, until);
  }

  // Bounces of `reasons` in [since, until] by time, as (address, at); only those `answered_by`
  // names when it is not "".
  std::vector<std::pair<std::string, TimePoint>> bouncesWhere(const std::string& answered_by, const std::vector<std::string>& reasons,
                                                              TimePoint since, TimePoint until) {
    std::string sql = "SELECT address, at FROM bounces WHERE at>=? AND at<=?";
    if (!answered_by.empty()) sql += " AND answered_by=?";
    sql += " AND reason IN (";
    for (size_t i = 0; i < reasons.size(); ++i) sql += i ? ",?" : "?";
    sql += ") ORDER BY at, address";
    Stmt s(db_, sql.c_str());
    int n = 0;
    s.bind(++n, toMillis(since));
    s.bind(++n, toMillis(until));
    if (!answered_by.empty()) s.bind(++n, answered_by);
    for (const auto& r : reasons) s.bind(++n, r);
    std::vector<std::pair<std::string, TimePoint>> out;
    while (s.step()) out.emplace_back(s.text(0), fromMillis(s.integer(1)));
    return out;
  }

  // `pattern`: a LIKE pattern the address must match ('!' escapes).
  std::vector<std::string> addressesBounced(const std::string& pattern, const std::vector<std::string>& reasons,
                                            TimePoint since, TimePoint until) {
    std::string sql = "SELECT DISTINCT address FROM bounces WHERE address LIKE ? ESCAPE '!' AND at>=? AND at<=? AND reason IN (";
    for (size_t i = 0; i < reasons.size(); ++i) sql += i ? ",?" : "?";
    sql += ") ORDER BY address";
    Stmt s(db_, sql.c_str());
    s.bind(1, pattern).bind(2, toMillis(since)).bind(3, toMillis(until));
    for (size_t i = 0; i < reasons.size(); ++i) s.bind(static_cast<int>(i + 4), reasons[i]);
    std::vector<std::string> out;
    while (s.step()) out.push_back(s.text(0));
    return out;
  }

  static Standing standingRow(const Stmt& s) {
    Standing st;
    st.subject = s.text(0);
    st.state = s.text(1);
    st.since = fromMillis(s.integer(2));
    if (!s.isNull(3)) st.until = fromMillis(s.integer(3));
    st.soft_count = static_cast<int>(s.integer(4));
    st.holds = static_cast<int>(s.integer(5));
    st.reason = s.text(6);
    st.evidence = s.text(7);
    return st;
  }

  std::optional<Standing> standing(const std::string& subject) override {
    Stmt s(db_, "SELECT subject, state, since, until, soft_count, holds, reason, evidence FROM standings WHERE subject=?");
    s.bind(1, subject);
    if (!s.step()) return std::nullopt;
    return standingRow(s);
  }

  std::vector<Standing> standings() override {
    Stmt s(db_, "SELECT subject, state, since, until, soft_count, holds, reason, evidence FROM standings ORDER BY since DESC");
    std::vector<Standing> out;
    while (s.step()) out.push_back(standingRow(s));
    return out;
  }

  // Every writer of a subject's standing, inside its transaction: SQLite's write transaction
  // (BEGIN IMMEDIATE) already excludes every other writer. On PostgreSQL (read committed) two
  // transactions would both read the standing before either writes it: a transaction-scoped
  // advisory lock on the subject orders them (two-key form, a key space apart from the
  // migrations' one-key lock).
  void lockStanding(const std::string& subject) {
    if (db_->dialect() != store::Dialect::Postgres || subject.empty()) return;
    Stmt l(db_, "SELECT 1 FROM (SELECT pg_advisory_xact_lock(20241130, hashtext(?1))) AS locked");
    l.bind(1, subject);
    l.step();
  }

  bool clearStanding(const std::string& subject, const std::string& by) override {
    Tx tx(*this);
    lockStanding(subject);
    auto st = standing(subject);
    if (!st) return false;
    Stmt d(db_, "DELETE FROM standings WHERE subject=?");
    d.bind(1, subject);
    d.run();
    nlohmann::json detail;
    detail["by"] = by;
    detail["state"] = st->state;
    detail["evidence"] = st->evidence;
    appendAudit("bounce|" + subject, "cleared", detail);
    tx.commit();
    return true;
  }

  bool recordSend(const std::string& key, const std::string& mailbox, TimePoint at) override {
    Stmt s(db_, "INSERT INTO sends(key, mailbox, at) VALUES(?,?,?) ON CONFLICT DO NOTHING");
    s.bind(1, key).bind(2, mailbox).bind(3, toMillis(at));
    s.run();
    return db_->changes() > 0;
  }

  int sendsFrom(const std::string& mailbox, TimePoint since) override {
    Stmt s(db_, "SELECT COUNT(*) FROM sends WHERE mailbox=? AND at>=?");
    s.bind(1, mailbox).bind(2, toMillis(since));
    return s.step() ? static_cast<int>(s.integer(0)) : 0;
  }

  int bouncesFrom(const std::string& mailbox, TimePoint since) override {
    // Complaints are not bounces; deliveries and auto-replies are never recorded.
    Stmt s(db_, "SELECT COUNT(*) FROM bounces WHERE sender=? AND at>=? AND reason<>'feedback'");
    s.bind(1, mailbox).bind(2, toMillis(since));
    return s.step() ? static_cast<int>(s.integer(0)) : 0;
  }

  std::vector<std::string> sendersActiveSince(TimePoint since) override {
    Stmt s(db_, "SELECT DISTINCT mailbox FROM sends WHERE at>=? UNION SELECT mailbox FROM senders");
    s.bind(1, toMillis(since));
    std::vector<std::string> out;
    while (s.step()) out.push_back(s.text(0));
    return out;
  }

  static SenderState senderRow(const Stmt& s) {
    SenderState st;
    st.mailbox = s.text(0);
    st.state = s.text(1);
    st.since = fromMillis(s.integer(2));
    if (!s.isNull(3)) st.until = fromMillis(s.integer(3));
    st.pauses = static_cast<int>(s.integer(4));
    st.evidence = s.text(5);
    return st;
  }

  std::optional<SenderState> sender(const std::string& mailbox) override {
    Stmt s(db_, "SELECT mailbox, state, since, until, pauses, evidence FROM senders WHERE mailbox=?");
    s.bind(1, mailbox);
    if (!s.step()) return std::nullopt;
    return senderRow(s);
  }

  void putSender(const SenderState& st, const std::optional<OutboxMessage>& notify) override {
    Tx tx(*this);
    Stmt u(db_, "INSERT INTO senders(mailbox, state, since, until, pauses, evidence) VALUES(?,?,?,?,?,?) ON CONFLICT(mailbox) DO UPDATE SET state=excluded.state, since=excluded.since, until=excluded.until, pauses=excluded.pauses, evidence=excluded.evidence");
    u.bind(1, st.mailbox).bind(2, st.state).bind(3, toMillis(st.since));
    if (st.until) u.bind(4, toMillis(*st.until));
    else u.bindNull(4);
    u.bind(5, st.pauses).bind(6, st.evidence);
    u.run();
    nlohmann::json detail;
    detail["state"] = st.state;
    detail["evidence"] = st.evidence;
    appendAudit("sender|" + st.mailbox, st.state, detail);
    if (notify) enqueue(*notify);
    tx.commit();
  }

  std::vector<SenderState> senders() override {
    Stmt s(db_, "SELECT mailbox, state, since, until, pauses, evidence FROM senders ORDER BY since DESC");
    std::vector<SenderState> out;
    while (s.step()) out.push_back(senderRow(s));
    return out;
  }

  bool releaseSender(const std::string& mailbox, const std::string& by, TimePoint now) override {
    Tx tx(*this);
    auto st = sender(mailbox);
    if (!st || st->state != "paused") return false;
    // Released: counting starts again from now, and the pause count stays (the next is longer).
    Stmt u(db_, "UPDATE senders SET state='active', since=?, until=NULL, evidence=? WHERE mailbox=?");
    u.bind(1, toMillis(now)).bind(2, "released by " + by).bind(3, mailbox);
    u.run();
    nlohmann::json detail;
    detail["by"] = by;
    detail["evidence"] = st->evidence;
    appendAudit("sender|" + mailbox, "released", detail);
    tx.commit();
    return true;
  }

  void putOverride(const Override& o) override {
    Tx tx(*this);
    nlohmann::json detail = overrideJson(o);
    if (auto before = overrideRow(o.address)) detail["replaced"] = overrideJson(*before);
    Stmt s(db_, "INSERT INTO overrides(address, who, why, created, until) VALUES(?,?,?,?,?) ON CONFLICT(address) DO UPDATE SET who=excluded.who, why=excluded.why, created=excluded.created, until=excluded.until");
    s.bind(1, o.address).bind(2, o.who).bind(3, o.why).bind(4, toMillis(o.created)).bind(5, toMillis(o.until));
    s.run();
    appendAudit("override|" + o.address, "added", detail);
    tx.commit();
  }

  std::optional<Override> activeOverride(const std::string& address, TimePoint now) override {
    auto o = overrideRow(address);
    if (!o || o->until <= now) return std::nullopt;
    return o;
  }

  std::vector<Override> activeOverrides(TimePoint now) override {
    Stmt s(db_, "SELECT address, who, why, created, until FROM overrides WHERE until>? ORDER BY until, address");
    s.bind(1, toMillis(now));
    std::vector<Override> out;
    while (s.step()) out.push_back(readOverride(s));
    return out;
  }

  bool removeOverride(const std::string& address, const std::string& by, TimePoint now) override {
    Tx tx(*this);
    auto o = overrideRow(address);
    if (!o || o->until <= now) return false;
    Stmt d(db_, "DELETE FROM overrides WHERE address=?");
    d.bind(1, address);
    d.run();
    nlohmann::json detail = overrideJson(*o);
    detail["by"] = by;
    appendAudit("override|" + address, "removed", detail);
    tx.commit();
    return true;
  }

  bool beginAction(const ActionRecord& a) override {
    Tx tx(*this);
    Stmt s(db_, "INSERT INTO actions(key, decision_key, action, who, state, detail, created, updated) "
                "VALUES(?,?,?,?,'started',?,?,?) ON CONFLICT DO NOTHING");
    const long long now = nowMs();
    s.bind(1, a.key).bind(2, a.decision_key).bind(3, a.action).bind(4, a.who).bind(5, a.detail).bind(6, now).bind(7, now);
    s.run();
    if (db_->changes() == 0) return false;  // rolled back by Tx: nothing written
    nlohmann::json detail;
    detail["by"] = a.who;
    appendAudit(a.decision_key, a.action + "_started", detail);
    tx.commit();
    return true;
  }

  void finishAction(const std::string& key, const std::string& state, const nlohmann::json& detail) override {
    Tx tx(*this);
    auto a = findAction(key);
    if (!a) throw StoreError("no action recorded for " + key);
    Stmt s(db_, "UPDATE actions SET state=?, detail=?, updated=? WHERE key=?");
    s.bind(1, state).bind(2, jsonText(detail)).bind(3, nowMs()).bind(4, key);
    s.run();
    nlohmann::json audit = detail;
    audit["by"] = a->who;
    appendAudit(a->decision_key, a->action + "_" + state, audit);
    tx.commit();
  }

  std::optional<ActionRecord> findAction(const std::string& key) override {
    Stmt s(db_, "SELECT " kActionCols " FROM actions WHERE key=?");
    s.bind(1, key);
    if (!s.step()) return std::nullopt;
    return readAction(s);
  }

  std::vector<ActionRecord> actionsInState(const std::string& state) override {
    Stmt s(db_, "SELECT " kActionCols " FROM actions WHERE state=? ORDER BY created, key");
    s.bind(1, state);
    std::vector<ActionRecord> out;
    while (s.step()) out.push_back(readAction(s));
    return out;
  }

  static ActionRecord readAction(Stmt& s) {
    return ActionRecord{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5),
                        fromMillis(s.integer(6)), fromMillis(s.integer(7))};
  }

  void suppress(const std::string& subject, const std::string& by, const std::string& evidence, TimePoint now) override {
    Tx tx(*this);
    lockStanding(subject);
    Stmt u(db_, "INSERT INTO standings(subject, state, since, until, soft_count, holds, reason, evidence) VALUES(?, 'suppressed', ?, NULL, 0, 0, 'suppressed', ?) ON CONFLICT(subject) DO UPDATE SET state=excluded.state, since=excluded.since, until=excluded.until, soft_count=excluded.soft_count, holds=excluded.holds, reason=excluded.reason, evidence=excluded.evidence");
    u.bind(1, subject).bind(2, toMillis(now)).bind(3, evidence);
    u.run();
    nlohmann::json detail;
    detail["by"] = by;
    detail["evidence"] = evidence;
    appendAudit("bounce|" + subject, "suppressed", detail);
    tx.commit();
  }

  void putConnectorStates(const std::string& connector,
                          const std::vector<std::pair<std::string, std::string>>& values) override {
    Tx tx(*this);
    for (const auto& [key, value] : values) putConnectorState(connector, key, value);
    tx.commit();
  }

  int prune(const RetentionConfig& r, TimePoint now, int maxRows) override {
    const long long t = toMillis(now);
    auto ago = [t](std::chrono::milliseconds d) { return t - d.count(); };
    const long long decisionsBefore = ago(r.decisions);
    // (statement, bound) pairs; each statement deletes one batch of the oldest rows.
    struct Step {
      const char* sql;
      long long before;
    };
    const Step steps[] = {
        // Audit lines of decisions about to go, then the decisions (never one still acted on).
        {"DELETE FROM audit WHERE id IN (SELECT a.id FROM audit a JOIN decisions d ON d.key = a.email_key "
         "WHERE d.decided_at < ?1 AND d.state != 'reverting' LIMIT ?2)",
         decisionsBefore},
        {"DELETE FROM decisions WHERE key IN (SELECT key FROM decisions WHERE decided_at < ?1 AND state != 'reverting' "
         "ORDER BY decided_at LIMIT ?2)",
         decisionsBefore},
        {"DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < ?1 AND email_key NOT IN (SELECT key FROM decisions) "
         "ORDER BY at LIMIT ?2)",
         decisionsBefore},
        {"DELETE FROM rechecks WHERE (address, email_key) IN (SELECT address, email_key FROM rechecks "
         "WHERE state != 'pending' AND due_at < ?1 LIMIT ?2)",
         decisionsBefore},
        {"DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state IN ('sent', 'dead') AND created_at < ?1 "
         "ORDER BY created_at LIMIT ?2)",
         ago(r.outbox)},
        {"DELETE FROM bounces WHERE key IN (SELECT key FROM bounces WHERE at < ?1 ORDER BY at LIMIT ?2)", ago(r.bounces)},
        {"DELETE FROM sends WHERE key IN (SELECT key FROM sends WHERE at < ?1 ORDER BY at LIMIT ?2)", ago(r.sends)},
        {"DELETE FROM verdict_cache WHERE address IN (SELECT address FROM verdict_cache WHERE expires_at < ?1 LIMIT ?2)", t},
        {"DELETE FROM domain_facts WHERE (domain, fact) IN (SELECT domain, fact FROM domain_facts WHERE expires_at < ?1 LIMIT ?2)", t},
        // Leases run out within minutes and are taken again by an upsert; a row a day past its end
        // is an instance, or a step back, that is gone (a day: whatever the clocks of the machines
        // and of the database that wrote it, it is over).
        {"DELETE FROM leases WHERE unit IN (SELECT unit FROM leases WHERE until < ?1 LIMIT ?2)", ago(std::chrono::hours(24))},
    };
    constexpr int kBatch = 500;  // a few milliseconds per transaction: the event loop barely notices
    int deleted = pruneExpiredOverrides(t, std::min(kBatch, maxRows));
    for (const auto& step : steps) {
      while (deleted < maxRows) {
        Tx tx(*this);
        Stmt s(db_, step.sql);
        s.bind(1, step.before).bind(2, std::min(kBatch, maxRows - deleted));
        s.run();
        const int n = db_->changes();
        tx.commit();
        deleted += n;
        if (n == 0) break;
      }
    }
    return deleted;
  }

  bool tryLease(const std::string& unit, const std::string& holder, TimePoint now, TimePoint until) override {
    // An upsert whose update only happens for the holder or after expiry: SQLite and PostgreSQL
    // both carry it out atomically (PostgreSQL locks the conflicting row), so one asker wins.
    Stmt s(db_, "INSERT INTO leases(unit, holder, until) VALUES(?1, ?2, ?4) ON CONFLICT(unit) DO UPDATE "
                "SET holder=excluded.holder, until=excluded.until WHERE leases.holder=excluded.holder OR leases.until<?3");
    s.bind(1, unit).bind(2, holder).bind(3, toMillis(now)).bind(4, toMillis(until));
    s.run();
    return db_->changes() == 1;
  }

  void releaseLease(const std::string& unit, const std::string& holder) override {
    Stmt s(db_, "DELETE FROM leases WHERE unit=? AND holder=?");
    s.bind(1, unit).bind(2, holder);
    s.run();
  }

  TimePoint leaseNow(TimePoint local) override {
    if (db_->dialect() != store::Dialect::Postgres) return local;
    // clock_timestamp(), not now(): now() is the transaction's start.
    Stmt s(db_, "SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint");
    return s.step() ? fromMillis(s.integer(0)) : local;
  }

  std::vector<Lease> leases() override {
    Stmt s(db_, "SELECT unit, holder, until FROM leases ORDER BY unit");
    std::vector<Lease> out;
    while (s.step()) out.push_back(Lease{s.text(0), s.text(1), fromMillis(s.integer(2))});
    return out;
  }

  void upsertTracked(const TrackedEmail& e) override {
    Stmt s(db_, "INSERT INTO tracked_emails(connector, email_id, scheduled_at, data) VALUES(?,?,?,?) ON CONFLICT(connector, email_id) DO UPDATE SET scheduled_at=excluded.scheduled_at, data=excluded.data");
    s.bind(1, e.connector).bind(2, e.email_id).bind(3, toMillis(e.scheduled_at)).bind(4, jsonText(e.data));
    s.run();
  }

  void removeTracked(const std::string& connector, const std::string& email_id) override {
    Stmt s(db_, "DELETE FROM tracked_emails WHERE connector=? AND email_id=?");
    s.bind(1, connector).bind(2, email_id);
    s.run();
  }

  std::vector<TrackedEmail> trackedBetween(const std::string& connector, TimePoint from, TimePoint to) override {
    Stmt s(db_, "SELECT connector, email_id, scheduled_at, data FROM tracked_emails "
                "WHERE connector=? AND scheduled_at>=? AND scheduled_at<=? ORDER BY scheduled_at, email_id");
    s.bind(1, connector).bind(2, toMillis(from)).bind(3, toMillis(to));
    std::vector<TrackedEmail> out;
    while (s.step())
      out.push_back(TrackedEmail{s.text(0), s.text(1), fromMillis(s.integer(2)),
                                 parseJson(s.text(3), nlohmann::json::object())});
    return out;
  }

  void forgetTrackedBefore(const std::string& connector, TimePoint before) override {
    Stmt s(db_, "DELETE FROM tracked_emails WHERE connector=? AND scheduled_at<?");
    s.bind(1, connector).bind(2, toMillis(before));
    s.run();
  }

 private:
  static nlohmann::json overrideJson(const Override& o) {
    return {{"address", o.address}, {"who", o.who}, {"why", o.why}, {"created", formatIso8601(o.created)},
            {"until", formatIso8601(o.until)}};
  }

  static Override readOverride(const Stmt& s) {
    return Override{s.text(0), s.text(1), s.text(2), fromMillis(s.integer(3)), fromMillis(s.integer(4))};
  }

  std::optional<Override> overrideRow(const std::string& address) {
    Stmt s(db_, "SELECT address, who, why, created, until FROM overrides WHERE address=?");
    s.bind(1, address);
    if (!s.step()) return std::nullopt;
    return readOverride(s);
  }

  // Expired overrides go, each with an audit line saying who had released the address until when.
  int pruneExpiredOverrides(long long now, int limit) {
    Tx tx(*this);
    std::vector<Override> expired;
    {
      Stmt s(db_, "SELECT address, who, why, created, until FROM overrides WHERE until<=? ORDER BY until LIMIT ?");
      s.bind(1, now).bind(2, limit);
      while (s.step()) expired.push_back(readOverride(s));
    }
    for (const auto& o : expired) {
      Stmt d(db_, "DELETE FROM overrides WHERE address=?");
      d.bind(1, o.address);
      d.run();
      appendAudit("override|" + o.address, "expired", overrideJson(o));
    }
    tx.commit();
    return static_cast<int>(expired.size());
  }

  class Tx {
   public:
    explicit Tx(SqlStore& s) : s_(s) { s_.db_->begin(); }
    void commit() {
      s_.db_->commit();
      done_ = true;
    }
    ~Tx() {
      if (!done_) s_.db_->rollback();
    }

   private:
    SqlStore& s_;
    bool done_ = false;
  };

  void migrate() {
    // An up-to-date store is opened with a plain read (every command opens it, often while the
    // daemon writes); migrations run each in a write transaction that reads the version again
    // under it (several instances on one PostgreSQL database may start together: an advisory lock).
    const long long have = db_->schemaVersion(/*locked=*/false);
    const long long want = static_cast<long long>(std::size(kMigrations));
    if (have > want)
      throw StoreError("the database is at schema version " + std::to_string(have) + ", newer than this safetynet (" +
                       std::to_string(want) + "): refusing to touch it; run the newer version or restore a backup");
    for (long long i = have; i < want; ++i) {
      Tx tx(*this);
      if (db_->schemaVersion(/*locked=*/true) > i) continue;  // another instance applied it meanwhile
      db_->exec(schemaFor(kMigrations[i], db_->dialect()));
      db_->setSchemaVersion(i + 1);
      tx.commit();
    }
  }

  void appendAudit(const std::string& key, const std::string& event, const nlohmann::json& detail) {
    Stmt s(db_, "INSERT INTO audit(at, email_key, event, detail) VALUES(?,?,?,?)");
    s.bind(1, nowMs()).bind(2, key).bind(3, event).bind(4, jsonText(detail));
    s.run();
  }

  void enqueue(const OutboxMessage& m) {
    Stmt s(db_, "INSERT INTO outbox(dedupe_key, kind, payload, state, next_attempt_at, created_at) "
                "VALUES(?,?,?,'pending',?,?) ON CONFLICT DO NOTHING");
    s.bind(1, m.dedupe_key).bind(2, m.kind).bind(3, jsonText(m.payload)).bind(4, nowMs()).bind(5, nowMs());
    s.run();
  }

  static EmailDecision readDecision(const Stmt& s) {
    EmailDecision d;
    d.key = s.text(0);
    d.connector = s.text(1);
    d.email_id = s.text(2);
    d.scheduled_at = fromMillis(s.integer(3));
    d.state = emailStateFrom(s.text(4)).value_or(EmailState::RevertFailed);
    d.verdict = s.text(5);
    d.reason = s.text(6);
    d.evidence = s.text(7);
    d.next_step = s.text(8);
    d.subject = s.text(9);
    d.sender = s.text(10);
    d.rep = parseJson(s.text(11), nlohmann::json::object());
    d.recipients = parseJson(s.text(12), nlohmann::json::array());
    d.email = parseJson(s.text(13), nlohmann::json::object());
    d.attempts = static_cast<int>(s.integer(14));
    d.detail = s.text(15);
    d.decided_at = fromMillis(s.integer(16));
    d.updated_at = fromMillis(s.integer(17));
    return d;
  }

  static OutboxMessage readOutbox(const Stmt& s) {
    OutboxMessage m;
    m.id = s.integer(0);
    m.dedupe_key = s.text(1);
    m.kind = s.text(2);
    m.payload = parseJson(s.text(3), nlohmann::json::object());
    m.state = s.text(4);
    m.attempts = static_cast<int>(s.integer(5));
    m.next_attempt_at = fromMillis(s.integer(6));
    m.last_error = s.text(7);
    m.sent_ref = s.text(8);
    return m;
  }

  // The time written into rows (decided_at, audit times...): the system clock, or a simulated one.
  long long nowMs() const { return toMillis(clock_ ? clock_() : Clock::now()); }

  StoreClock clock_;
  std::unique_ptr<store::SqlDb> db_;
};

}  // namespace

StorePtr openSqliteStore(const std::string& state_dir, StoreClock clock) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) throw StoreError("cannot create state_dir " + state_dir + ": " + ec.message());
  return std::make_unique<SqlStore>(store::openSqliteDb((std::filesystem::path(state_dir) / "safetynet.db").string()),
                                    std::move(clock));
}

StorePtr openStore(const Config& config, StoreClock clock) {
  if (config.store.backend == "postgres") return openPostgresStore(config.store.conninfo.reveal(), std::move(clock));
  return openSqliteStore(config.state_dir, std::move(clock));
}

StorePtr openPostgresStore(const std::string& conninfo, StoreClock clock) {
  return std::make_unique<SqlStore>(store::openPostgresDb(conninfo), std::move(clock));
}

}  // namespace safetynet
