#pragma once
// The console's own SQLite file: the outbox of staff actions. One file per staff account
// and backend, one connection, every use under one lock: the console writes a few rows a
// second at most, and a single connection keeps the sender thread and the UI thread
// trivially consistent.
#include <memory>

#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>

#include "store/sqlite_db.h"

namespace exam::local {

using LocalStoreError = sqlite::Error;
using Statement = sqlite::Statement;

class LocalStore {
 public:
  // Opens (creating it and its folder) the file, turns on WAL and a busy timeout, and
  // applies the schema migrations. Throws LocalStoreError.
  explicit LocalStore(std::string path);
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
  Statement Prepare(std::string_view sql) { return conn_->Prepare(sql); }
  void Exec(std::string_view sql);
  int Changes() const { return conn_->Changes(); }
  int64_t LastInsertId() const { return conn_->LastInsertId(); }
  // Rewrites the file without the pages of deleted rows and empties the write-ahead log,
  // so what was deleted is no longer readable in the files. Throws LocalStoreError.
  void Compact();
  // Bytes of the file and its write-ahead log on disk.
  int64_t FileBytes() const;

 private:
  std::string path_;
  std::unique_ptr<sqlite::Connection> conn_;  // opened after the folder exists
  std::recursive_mutex mutex_;
};

}  // namespace exam::local
