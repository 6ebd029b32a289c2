#pragma once
// The console's own SQLite file: the outbox of staff actions today; annotation drafts,
// settings and the media block index later. One file per staff account and backend, one
// connection, every use under one lock: the console writes a few rows a second at most,
// and a single connection keeps the sender thread and the UI thread trivially consistent.
#include <sqlite3.h>

#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>

namespace exam::local {

class LocalStoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One prepared statement; bind indexes start at 1, columns at 0.
class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int index, int64_t v);
  Statement& Bind(int index, int v) { return Bind(index, static_cast<int64_t>(v)); }
  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  Statement& BindBlob(int index, std::string_view bytes);

  // Advances; true while a row is available.
  bool Step();
  // Runs to completion (for statements without rows).
  void Run();

  int64_t Int(int col) const;
  std::string Text(int col) const;
  std::string Blob(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class LocalStore {
 public:
  // Opens (creating it and its folder) the file, turns on WAL and a busy timeout, and
  // applies the schema migrations. Throws LocalStoreError.
  explicit LocalStore(std::string path);
  ~LocalStore();
  LocalStore(const LocalStore&) = delete;
  LocalStore& operator=(const LocalStore&) = delete;

  // `$XDG_DATA_HOME` (or `~/.local/share`) + `/exam-console/<user>@<host_port>.sqlite`, with
  // both names reduced to characters that are safe in a file name.
  static std::string DefaultPath(std::string_view username, std::string_view backend_address);

  const std::string& path() const { return path_; }
  int SchemaVersion();

  // Hold this while preparing, stepping and reading statements; it is recursive so that a
  // caller holding it may call the helpers below.
  std::unique_lock<std::recursive_mutex> Lock() { return std::unique_lock(mutex_); }
  Statement Prepare(std::string_view sql) { return Statement(db_, sql); }
  void Exec(std::string_view sql);
  int Changes() const { return sqlite3_changes(db_); }
  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }

 private:
  void Migrate();

  std::string path_;
  sqlite3* db_ = nullptr;
  std::recursive_mutex mutex_;
};

}  // namespace exam::local
