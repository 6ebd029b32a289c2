#pragma once
// Thin RAII layer over one SQLite connection in WAL mode. The backend serialises writes
// through Database::mutex(); reads take the same lock (one connection), which is plenty for
// one node and keeps transactions simple. A PostgreSQL store would replace the
// repositories, not this class's callers.
#include <sqlite3.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace exam::store {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int index, int64_t v);
  Statement& Bind(int index, int v) { return Bind(index, static_cast<int64_t>(v)); }
  Statement& Bind(int index, double v);
  Statement& Bind(int index, std::string_view v);
  Statement& Bind(int index, const char* v) { return Bind(index, std::string_view(v)); }
  Statement& BindBlob(int index, std::string_view bytes);
  Statement& BindNull(int index);
  Statement& Bind(int index, std::optional<int64_t> v) { return v ? Bind(index, *v) : BindNull(index); }

  // Advances; true while a row is available.
  bool Step();
  // Runs to completion (for statements without rows).
  void Run();

  int64_t Int(int col) const;
  double Real(int col) const;
  std::string Text(int col) const;
  std::string Blob(int col) const;
  bool IsNull(int col) const;
  std::optional<int64_t> OptInt(int col) const { return IsNull(col) ? std::nullopt : std::optional<int64_t>(Int(col)); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class Database {
 public:
  // Opens (creating) the file, turns on WAL and foreign keys, and applies migrations.
  explicit Database(const std::string& path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void Exec(std::string_view sql);
  Statement Prepare(std::string_view sql) { return Statement(db_, sql); }
  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  int SchemaVersion();
  // "ok" when PRAGMA integrity_check passes.
  std::string IntegrityCheck();

  std::recursive_mutex& mutex() { return mutex_; }
  // Unique per Database object in this process, so process-wide caches keyed by it never
  // mix up two stores (tests start several servers in one process, each with exam 1).
  uint64_t instance_id() const { return instance_id_; }
  sqlite3* raw() { return db_; }

 private:
  void Migrate();
  sqlite3* db_ = nullptr;
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
