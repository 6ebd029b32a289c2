#pragma once
// One SQLite connection and its prepared statements, shared by the backend's store and the
// console's local store: WAL, a busy timeout, versioned migrations applied in order, and
// errors as exceptions. Callers serialise use of a connection themselves.
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace exam::sqlite {

class Error : public std::runtime_error {
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
  Statement& Bind(int index, double v);
  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  // An empty blob is stored as x'', not NULL.
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

struct ConnectionOptions {
  int busy_timeout_ms = 5000;
  bool foreign_keys = false;
  // How errors name the file: "database", "local store".
  std::string what = "database";
};

class Connection {
 public:
  // Opens (creating) the file in WAL mode with synchronous=NORMAL (durable across program
  // crashes; only power loss can drop the last commits) and applies `migrations`: entry i
  // brings the schema from version i to i + 1. Throws Error, also for a file written by a
  // newer program.
  Connection(const std::string& path, const std::vector<const char*>& migrations, const ConnectionOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void Exec(std::string_view sql);
  Statement Prepare(std::string_view sql) { return Statement(db_, sql); }
  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  int SchemaVersion();
  sqlite3* get() { return db_; }

 private:
  void Migrate(const std::string& path, const std::vector<const char*>& migrations, const std::string& what);
  sqlite3* db_ = nullptr;
};

}  // namespace exam::sqlite
