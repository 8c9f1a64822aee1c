// SQLite driver of the Store: WAL journal, synchronous=FULL (a decision that returned is on disk),
// the schema version in PRAGMA user_version.
#include <sqlite3.h>

#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "safetynet/store/store.hpp"
#include "store/sql_db.hpp"

namespace safetynet::store {

namespace {

// A full disk (ENOSPC, or the file system's quota) is its own error: the daemon stops acting and
// waits for room instead of failing email after email.
[[noreturn]] void failed(int rc, const std::string& message) {
  if ((rc & 0xff) == SQLITE_FULL) throw StoreFullError("sqlite: the state directory is full (" + message + ")");
  throw StoreError("sqlite: " + message);
}

// Prepared statements kept for reuse: the store runs the same few dozen statements all day (a
// warm decision is four reads), and preparing one each time was most of SQLite's share of a
// decision (its parser, docs/benchmarks.md). A statement is reset, its bindings cleared, when it
// goes back; one in use (a query inside another's loop) is never handed out twice.
class StatementPool {
 public:
  explicit StatementPool(sqlite3* db) : db_(db) {}
  ~StatementPool() {
    for (auto& [sql, idle] : idle_)
      for (auto* s : idle) sqlite3_finalize(s);
  }
  sqlite3_stmt* take(const std::string& sql) {
    {
      std::lock_guard lock(mu_);
      if (auto it = idle_.find(sql); it != idle_.end() && !it->second.empty()) {
        sqlite3_stmt* s = it->second.back();
        it->second.pop_back();
        return s;
      }
    }
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
      sqlite3_finalize(s);
      throw StoreError(std::string("sqlite prepare: ") + sqlite3_errmsg(db_));
    }
    if (!s) throw StoreError("sqlite prepare: no statement in \"" + sql + "\"");  // blank or a comment
    return s;
  }
  // From a destructor: never throws; a statement it cannot keep is finalized.
  void give(const std::string& sql, sqlite3_stmt* s) noexcept {
    sqlite3_reset(s);  // ends its read, whatever its last step said (that was reported then)
    sqlite3_clear_bindings(s);
    try {
      keep(sql, s);
    } catch (...) {
      sqlite3_finalize(s);
    }
  }

 private:
  void keep(const std::string& sql, sqlite3_stmt* s) {
    std::lock_guard lock(mu_);
    // Bounded: statements built with a varying number of parameters are few, but not kept forever.
    auto it = idle_.find(sql);
    if (it == idle_.end() && idle_.size() >= kStatements) {
      sqlite3_finalize(s);
      return;
    }
    auto& idle = it == idle_.end() ? idle_[sql] : it->second;
    if (idle.size() >= kIdlePerStatement) {
      sqlite3_finalize(s);
      return;
    }
    idle.push_back(s);
  }

  static constexpr size_t kIdlePerStatement = 4;
  static constexpr size_t kStatements = 512;
  sqlite3* db_;
  std::mutex mu_;
  std::unordered_map<std::string, std::vector<sqlite3_stmt*>> idle_;
};

class SqliteStmt final : public SqlStmt {
 public:
  SqliteStmt(sqlite3* db, StatementPool& pool, std::string sql)
      : db_(db), pool_(pool), sql_(std::move(sql)), s_(pool_.take(sql_)) {}
  ~SqliteStmt() override { pool_.give(sql_, s_); }
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;

  void bind(int i, const std::string& v) override {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void bind(int i, long long v) override { sqlite3_bind_int64(s_, i, v); }
  void bindNull(int i) override { sqlite3_bind_null(s_, i); }
  bool step() override {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    failed(rc, sqlite3_errmsg(db_));
  }
  bool isNull(int col) const override { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::string text(int col) const override {
    auto p = sqlite3_column_text(s_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(s_, col)) : std::string();
  }
  long long integer(int col) const override { return sqlite3_column_int64(s_, col); }

 private:
  sqlite3* db_;
  StatementPool& pool_;
  std::string sql_;
  sqlite3_stmt* s_ = nullptr;
};

class SqliteDb final : public SqlDb {
 public:
  explicit SqliteDb(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        nullptr) != SQLITE_OK) {
      std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw StoreError("cannot open " + path + ": " + msg);
    }
    try {
      pool_ = std::make_unique<StatementPool>(db_);
      sqlite3_busy_timeout(db_, 5000);
      exec("PRAGMA journal_mode=WAL");
      exec("PRAGMA synchronous=FULL");
      exec("PRAGMA foreign_keys=ON");
    } catch (...) {  // the destructor does not run for a constructor that throws
      pool_.reset();
      sqlite3_close(db_);
      throw;
    }
  }
  ~SqliteDb() override {
    pool_.reset();  // its statements first: a connection with statements left does not close
    sqlite3_close(db_);
  }

  Dialect dialect() const override { return Dialect::Sqlite; }
  std::unique_ptr<SqlStmt> prepare(const std::string& sql) override {
    return std::make_unique<SqliteStmt>(db_, *pool_, sql);
  }
  void exec(const std::string& sql) override {
    char* err = nullptr;
    if (int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err); rc != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      failed(rc, msg);
    }
  }
  void begin() override { exec("BEGIN IMMEDIATE"); }
  void commit() override { exec("COMMIT"); }
  void rollback() noexcept override { sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); }
  long long changes() const override { return sqlite3_changes(db_); }
  long long schemaVersion(bool) override {
    SqliteStmt v(db_, *pool_, "PRAGMA user_version");
    v.step();
    return v.integer(0);
  }
  void setSchemaVersion(long long v) override { exec("PRAGMA user_version=" + std::to_string(v)); }

 private:
  sqlite3* db_ = nullptr;
  std::unique_ptr<StatementPool> pool_;
};

}  // namespace

std::unique_ptr<SqlDb> openSqliteDb(const std::string& path) { return std::make_unique<SqliteDb>(path); }

}  // namespace safetynet::store
