// Reads the daemon's SQLite state while it runs: read-only, two text columns per row. Tests wait
// on what the daemon has committed rather than on a sleep.
#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace safetynet::testing {

// The first two columns of every row `sql` selects (NULL reads as "").
inline std::vector<std::pair<std::string, std::string>> stateRows(const std::filesystem::path& db, const std::string& sql) {
  std::vector<std::pair<std::string, std::string>> rows;
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(h);
    throw std::runtime_error("cannot open " + db.string());
  }
  sqlite3_busy_timeout(h, 5000);
  auto column = [](sqlite3_stmt* st, int i) {
    const auto* t = sqlite3_column_text(st, i);
    return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
  };
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK)
    while (sqlite3_step(st) == SQLITE_ROW) rows.emplace_back(column(st, 0), column(st, 1));
  sqlite3_finalize(st);
  sqlite3_close(h);
  return rows;
}

}  // namespace safetynet::testing
