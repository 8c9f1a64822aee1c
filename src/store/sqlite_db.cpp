// SQLite driver of the Store: WAL journal, synchronous=FULL (a decision that returned is on disk),
// the schema version in PRAGMA user_version.
#include <sqlite3.h>

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

class SqliteStmt final : public SqlStmt {
 public:
  SqliteStmt(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr) != SQLITE_OK)
      throw StoreError(std::string("sqlite prepare: ") + sqlite3_errmsg(db));
  }
  ~SqliteStmt() override { sqlite3_finalize(s_); }
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
      sqlite3_busy_timeout(db_, 5000);
      exec("PRAGMA journal_mode=WAL");
      exec("PRAGMA synchronous=FULL");
      exec("PRAGMA foreign_keys=ON");
    } catch (...) {  // the destructor does not run for a constructor that throws
      sqlite3_close(db_);
      throw;
    }
  }
  ~SqliteDb() override { sqlite3_close(db_); }

  Dialect dialect() const override { return Dialect::Sqlite; }
  std::unique_ptr<SqlStmt> prepare(const std::string& sql) override { return std::make_unique<SqliteStmt>(db_, sql); }
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
    SqliteStmt v(db_, "PRAGMA user_version");
    v.step();
    return v.integer(0);
  }
  void setSchemaVersion(long long v) override { exec("PRAGMA user_version=" + std::to_string(v)); }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace

std::unique_ptr<SqlDb> openSqliteDb(const std::string& path) { return std::make_unique<SqliteDb>(path); }

}  // namespace safetynet::store
