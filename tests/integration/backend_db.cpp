#include "backend_db.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

namespace exam::testing {

std::vector<std::vector<std::string>> QueryDb(const std::string& db, const std::string& sql) {
  std::vector<std::vector<std::string>> rows;
  sqlite3* conn = nullptr;
  if (sqlite3_open_v2(db.c_str(), &conn, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << db << ": " << sqlite3_errmsg(conn);
    sqlite3_close(conn);
    return rows;
  }
  sqlite3_busy_timeout(conn, 5000);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(conn, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(conn);
  } else {
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        // As a blob: numbers come as their text, blobs keep their NUL bytes.
        const auto* bytes = static_cast<const char*>(sqlite3_column_blob(st, i));
        row.emplace_back(bytes ? std::string(bytes, static_cast<size_t>(sqlite3_column_bytes(st, i))) : "");
      }
      rows.push_back(std::move(row));
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(conn);
  return rows;
}

}  // namespace exam::testing
