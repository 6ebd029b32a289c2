#pragma once
// Thin RAII layer over one SQLite connection in WAL mode. The backend serialises writes
// through Database::mutex(); reads take the same lock (one connection), which is plenty for
// one node and keeps transactions simple. A PostgreSQL store would replace the
// repositories, not this class's callers.
#include "store/sqlite_db.h"

#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace exam::store {

using StoreError = sqlite::Error;
using Statement = sqlite::Statement;

class Database {
 public:
  // Opens (creating) the file, turns on WAL and foreign keys, and applies migrations.
  explicit Database(const std::string& path);
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void Exec(std::string_view sql);
  Statement Prepare(std::string_view sql) { return conn_.Prepare(sql); }
  int64_t LastInsertId() const { return conn_.LastInsertId(); }
  int Changes() const { return conn_.Changes(); }
  int SchemaVersion();
  // "ok" when PRAGMA integrity_check passes.
  std::string IntegrityCheck();

  std::recursive_mutex& mutex() { return mutex_; }
  // Unique per Database object in this process, so process-wide caches keyed by it never
  // mix up two stores (tests start several servers in one process, each with exam 1).
  uint64_t instance_id() const { return instance_id_; }
  sqlite3* raw() { return conn_.get(); }

 private:
  sqlite::Connection conn_;
  std::recursive_mutex mutex_;
  uint64_t instance_id_;
};

// BEGIN IMMEDIATE on construction; ROLLBACK unless Commit() was called. Holds the lock.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  void Commit();
  Database& db() { return db_; }

 private:
  Database& db_;
  std::unique_lock<std::recursive_mutex> lock_;
  bool done_ = false;
};

}  // namespace exam::store
