#pragma once
// The little the Store needs of a SQL database, so that one Store (sql_store.cpp) runs on SQLite
// (sqlite_db.cpp, one file beside the daemon) and PostgreSQL (postgres_db.cpp, shared by several
// instances). Statements are written once, in the SQL both understand: numbered parameters `?N`
// (or `?` in order), `INSERT ... ON CONFLICT`, row values; where the dialects differ (JSON, dates)
// the Store asks dialect().
#include <memory>
#include <string>

namespace safetynet::store {

enum class Dialect { Sqlite, Postgres };

// One prepared statement: bind parameters (1-based), then step() through its rows.
class SqlStmt {
 public:
  virtual ~SqlStmt() = default;
  virtual void bind(int i, const std::string& v) = 0;
  virtual void bind(int i, long long v) = 0;
  virtual void bindNull(int i) = 0;
  // true while there is a row; the first call runs the statement.
  virtual bool step() = 0;
  virtual bool isNull(int col) const = 0;
  virtual std::string text(int col) const = 0;
  virtual long long integer(int col) const = 0;
};

class SqlDb {
 public:
  virtual ~SqlDb() = default;
  virtual Dialect dialect() const = 0;
  virtual std::unique_ptr<SqlStmt> prepare(const std::string& sql) = 0;
  // Statements without parameters (a migration's script may hold several).
  virtual void exec(const std::string& sql) = 0;
  // A write transaction: begin() takes the database's write lock (SQLite: BEGIN IMMEDIATE) or
  // opens a transaction (PostgreSQL); the thread that began it owns the connection until
  // commit() or rollback().
  virtual void begin() = 0;
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;
  // Rows the last INSERT, UPDATE or DELETE changed.
  virtual long long changes() const = 0;
  // The schema version the migrations reached (0: none), and setting it inside their transaction.
  // `locked`: inside the migrations' write transaction, serialised with other instances
  // (PostgreSQL: an advisory lock, the version table made if missing); unlocked it is a plain read,
  // so that opening an up-to-date store (every command) takes no write lock.
  virtual long long schemaVersion(bool locked) = 0;
  virtual void setSchemaVersion(long long v) = 0;
};

std::unique_ptr<SqlDb> openSqliteDb(const std::string& path);
std::unique_ptr<SqlDb> openPostgresDb(const std::string& conninfo);

}  // namespace safetynet::store
