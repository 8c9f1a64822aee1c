// PostgreSQL driver of the Store (libpq): several safetynet instances on one database
// (notes/product.md, "Scale"). Statements arrive in the Store's SQL (`?N` parameters) and are sent
// with typed parameters ($N: text or int8), results read as text. The schema version is a row of
// safetynet_schema, read and written under a transaction-scoped advisory lock so that instances
// starting together migrate once.
#include <libpq-fe.h>

#include <cstdlib>
#include <vector>

#include "safetynet/store/store.hpp"
#include "store/sql_db.hpp"

namespace safetynet::store {

namespace {

constexpr Oid kText = 25, kInt8 = 20;
// The advisory lock key of schema migrations: any constant no other lock of the database uses.
constexpr long long kMigrationLock = 0x5afe7e7;

// `?N` -> `$N`; a bare `?` is one more than the highest number so far (SQLite's rule). Quoted
// strings are left alone.
std::string numbered(const std::string& sql) {
  std::string out;
  out.reserve(sql.size() + 8);
  int highest = 0;
  bool quoted = false;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'') quoted = !quoted;
    if (quoted || c != '?') {
      out += c;
      continue;
    }
    size_t j = i + 1;
    while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9') ++j;
    const int n = j > i + 1 ? std::atoi(sql.substr(i + 1, j - i - 1).c_str()) : highest + 1;
    highest = std::max(highest, n);
    out += "$" + std::to_string(n);
    i = j - 1;
  }
  return out;
}

// PostgreSQL refuses text that is not UTF-8 (SQLSTATE 22021) and cuts it at a NUL byte; SQLite
// stores any bytes. The words of remote servers (SMTP replies, bounce texts) reach the store
// verbatim: invalid sequences become U+FFFD and NULs go, so that a decision is never refused for
// a server's bytes.
std::string validUtf8(const std::string& in) {
  std::string out;
  out.reserve(in.size());
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const size_t n = in.size();
  for (size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    bool ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) ok = (p[i + k] & 0xc0) == 0x80;
    if (ok && len > 1) {  // no overlong forms, surrogates or code points past U+10FFFF
      unsigned cp = c & (0xff >> (len + 1));
      for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (p[i + k] & 0x3f);
      ok = cp >= (len == 2 ? 0x80u : len == 3 ? 0x800u : 0x10000u) && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
    }
    if (!ok) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    if (c != 0) out.append(in, i, len);
    i += len;
  }
  return out;
}

std::string errorOf(PGconn* c, const PGresult* r) {
  std::string m = r ? PQresultErrorMessage(r) : "";
  if (m.empty()) m = PQerrorMessage(c);
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

// A failed result as the Store's error: a full disk (SQLSTATE class 53, insufficient resources:
// disk_full 53100) is StoreFullError, as SQLite's SQLITE_FULL is.
[[noreturn]] void failed(PGconn* c, PGresult* r, const std::string& what) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const std::string message = "postgresql: " + what + ": " + errorOf(c, r);
  const bool full = state && std::string(state) == "53100";
  PQclear(r);
  if (full) throw StoreFullError(message);
  throw StoreError(message);
}

class PostgresDb;

class PgStmt final : public SqlStmt {
 public:
  PgStmt(PostgresDb& db, std::string sql) : db_(db), sql_(numbered(sql)) {}
  ~PgStmt() override { PQclear(result_); }
  PgStmt(const PgStmt&) = delete;
  PgStmt& operator=(const PgStmt&) = delete;

  void bind(int i, const std::string& v) override { slot(i) = Param{validUtf8(v), kText, false}; }
  void bind(int i, long long v) override { slot(i) = Param{std::to_string(v), kInt8, false}; }
  void bindNull(int i) override { slot(i) = Param{"", 0, true}; }
  bool step() override;
  bool isNull(int col) const override { return PQgetisnull(result_, row_, col) != 0; }
  std::string text(int col) const override {
    return std::string(PQgetvalue(result_, row_, col), static_cast<size_t>(PQgetlength(result_, row_, col)));
  }
  long long integer(int col) const override { return std::strtoll(PQgetvalue(result_, row_, col), nullptr, 10); }

 private:
  struct Param {
    std::string value;
    Oid type = 0;
    bool null = true;
  };
  Param& slot(int i) {
    if (static_cast<size_t>(i) > params_.size()) params_.resize(static_cast<size_t>(i));
    return params_[static_cast<size_t>(i) - 1];
  }

  PostgresDb& db_;
  std::string sql_;
  std::vector<Param> params_;
  PGresult* result_ = nullptr;
  int row_ = -1, rows_ = 0;
  bool ran_ = false;
  friend class PostgresDb;
};

class PostgresDb final : public SqlDb {
 public:
  explicit PostgresDb(const std::string& conninfo) : conn_(connect(conninfo)) {
    if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
      // libpq's message names the host and the reason, never the password.
      std::string msg = conn_ ? errorOf(conn_, nullptr) : "out of memory";
      PQfinish(conn_);
      throw StoreError("cannot connect to PostgreSQL: " + msg);
    }
    // ON CONFLICT DO NOTHING and friends say nothing worth logging.
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
    exec("SET TIME ZONE 'UTC'");
  }
  ~PostgresDb() override { PQfinish(conn_); }

  // The admin's connection string, with timeouts of our own unless it sets them: every call runs
  // on the daemon's one event-loop thread, so a database host that vanishes (a failover without a
  // reset) must fail a call within seconds, not block the heartbeat and everything else for the
  // kernel's minutes. A string libpq cannot parse is reported without its text (it may hold the
  // password).
  static PGconn* connect(const std::string& conninfo) {
    char* parseError = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &parseError);
    if (!parsed) {
      PQfreemem(parseError);
      throw StoreError("cannot connect to PostgreSQL: store.conninfo is not a connection string libpq can read "
                       "(key=value pairs or a postgresql:// URI; quote values with spaces, percent-encode URIs)");
    }
    PQconninfoFree(parsed);
    const char* keys[] = {"connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
                          "tcp_user_timeout", "options", "dbname", nullptr};
    const char* values[] = {"10", "1", "10", "5", "3", "15000", "-c statement_timeout=15000", conninfo.c_str(), nullptr};
    return PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  }

  Dialect dialect() const override { return Dialect::Postgres; }
  std::unique_ptr<SqlStmt> prepare(const std::string& sql) override { return std::make_unique<PgStmt>(*this, sql); }
  void exec(const std::string& sql) override {
    reconnectIfLost();
    PGresult* r = PQexec(conn_, sql.c_str());
    const auto st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) failed(conn_, r, "exec");
    changes_ = std::atoll(PQcmdTuples(r));
    PQclear(r);
  }
  void begin() override {
    exec("BEGIN");
    inTransaction_ = true;
  }
  void commit() override {
    exec("COMMIT");  // still in the transaction until it is committed: a lost connection fails it
    inTransaction_ = false;
  }
  void rollback() noexcept override {
    inTransaction_ = false;
    PQclear(PQexec(conn_, "ROLLBACK"));
  }
  long long changes() const override { return changes_; }
  long long schemaVersion(bool locked) override {
    if (!locked) {
      PgStmt exists(*this, "SELECT to_regclass('safetynet_schema') IS NOT NULL");
      exists.step();
      if (exists.text(0) != "t") return 0;
    } else {
      exec("SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLock) + ")");
      exec("CREATE TABLE IF NOT EXISTS safetynet_schema (version BIGINT NOT NULL)");
    }
    PgStmt s(*this, "SELECT coalesce(max(version), 0) FROM safetynet_schema");
    s.step();
    return s.integer(0);
  }
  void setSchemaVersion(long long v) override {
    exec("DELETE FROM safetynet_schema");
    exec("INSERT INTO safetynet_schema(version) VALUES(" + std::to_string(v) + ")");
  }

  PGresult* run(const std::string& sql, const std::vector<PgStmt::Param>& params) {
    reconnectIfLost();
    std::vector<const char*> values;
    std::vector<Oid> types;
    for (const auto& p : params) {
      values.push_back(p.null ? nullptr : p.value.c_str());
      types.push_back(p.type);
    }
    PGresult* r = PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), types.data(), values.data(),
                               nullptr, nullptr, 0);
    const auto st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) failed(conn_, r, "statement");
    changes_ = std::atoll(PQcmdTuples(r));
    return r;
  }

 private:
  // A connection that dropped (the server restarted, a failover) is opened again before the next
  // statement, unless a transaction was open on it: that one is lost and its caller gets the error.
  void reconnectIfLost() {
    if (PQstatus(conn_) == CONNECTION_OK) return;
    if (inTransaction_) throw StoreError("postgresql: the connection was lost during a transaction");
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) throw StoreError("postgresql: connection lost: " + errorOf(conn_, nullptr));
    exec("SET TIME ZONE 'UTC'");
  }

  PGconn* conn_;
  long long changes_ = 0;
  bool inTransaction_ = false;
};

bool PgStmt::step() {
  if (!ran_) {
    ran_ = true;
    result_ = db_.run(sql_, params_);
    rows_ = PQntuples(result_);
  }
  return ++row_ < rows_;
}

}  // namespace

std::unique_ptr<SqlDb> openPostgresDb(const std::string& conninfo) { return std::make_unique<PostgresDb>(conninfo); }

}  // namespace safetynet::store
