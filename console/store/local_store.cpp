#include "store/local_store.h"

#include <array>
#include <cstdlib>
#include <filesystem>

namespace exam::local {
namespace {

[[noreturn]] void Fail(sqlite3* db, std::string_view what) {
  throw LocalStoreError(std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "no database"));
}

// Versioned migrations: entry i brings the schema from version i to i+1. Append only — a
// console updated in the middle of an exam opens the file the previous version wrote.
constexpr std::array<const char*, 1> kMigrations = {R"SQL(
CREATE TABLE outbox(
  id INTEGER PRIMARY KEY,
  idempotency_key TEXT NOT NULL UNIQUE,
  method TEXT NOT NULL,
  request BLOB NOT NULL,
  label TEXT NOT NULL,
  target TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  state INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  not_before INTEGER NOT NULL DEFAULT 0,
  error_code INTEGER NOT NULL DEFAULT 0,
  error_message TEXT NOT NULL DEFAULT '',
  response BLOB,
  updated_at INTEGER NOT NULL);
CREATE INDEX outbox_state ON outbox(state, id);
CREATE INDEX outbox_target ON outbox(target, id);
)SQL"};

// Keeps letters, digits, '.', '_' and '-'; ':' (host:port) becomes '_'; any other byte
// becomes %XX so that two different Chinese user names never share a file.
std::string FileNamePart(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (size_t i = 0; i < s.size() && out.size() < 120; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                      c == '-' || (c == '.' && i > 0);  // no leading dot: no hidden file, no ".."
    if (safe) {
      out += static_cast<char>(c);
    } else if (c == ':') {
      out += '_';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out.empty() ? "_" : out;
}

}  // namespace

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr) != SQLITE_OK)
    Fail(db, "prepare");
}
Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::Bind(int i, int64_t v) {
  if (sqlite3_bind_int64(stmt_, i, v) != SQLITE_OK) Fail(db_, "bind");
  return *this;
}
Statement& Statement::Bind(int i, std::string_view v) {
  if (sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) != SQLITE_OK)
    Fail(db_, "bind");
  return *this;
}
Statement& Statement::BindBlob(int i, std::string_view v) {
  // An empty view may have a null data(); sqlite would store NULL for it, we want x''.
  if (sqlite3_bind_blob(stmt_, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) != SQLITE_OK)
    Fail(db_, "bind");
  return *this;
}

bool Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Fail(db_, "step");
}
void Statement::Run() {
  while (Step()) {
  }
}
int64_t Statement::Int(int c) const { return sqlite3_column_int64(stmt_, c); }
std::string Statement::Text(int c) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, c))) : std::string();
}
std::string Statement::Blob(int c) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, c));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, c))) : std::string();
}

LocalStore::LocalStore(std::string path) : path_(std::move(path)) {
  std::error_code ec;
  const auto folder = std::filesystem::path(path_).parent_path();
  if (!folder.empty()) std::filesystem::create_directories(folder, ec);
  if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = "cannot open local store " + path_ + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory");
    sqlite3_close(db_);
    db_ = nullptr;
    throw LocalStoreError(msg);
  }
  try {
    // A second console on the same account and backend shares the file; wait for it briefly
    // rather than failing a staff action.
    sqlite3_busy_timeout(db_, 2000);
    Exec("PRAGMA journal_mode=WAL");
    // NORMAL survives a console crash in WAL mode (only power loss can drop the last
    // commit) and keeps an enqueue on the UI thread free of an fsync.
    Exec("PRAGMA synchronous=NORMAL");
    Migrate();
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

LocalStore::~LocalStore() { sqlite3_close(db_); }

std::string LocalStore::DefaultPath(std::string_view username, std::string_view backend_address) {
  std::filesystem::path base;
  // The XDG spec says to ignore a relative XDG_DATA_HOME.
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && xdg[0] == '/') {
    base = xdg;
  } else if (const char* home = std::getenv("HOME"); home != nullptr && home[0] != '\0') {
    base = std::filesystem::path(home) / ".local" / "share";
  } else {
    base = std::filesystem::temp_directory_path();
  }
  return (base / "exam-console" / (FileNamePart(username) + "@" + FileNamePart(backend_address) + ".sqlite")).string();
}

void LocalStore::Exec(std::string_view sql) {
  auto lock = Lock();
  char* err = nullptr;
  const std::string s(sql);
  if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw LocalStoreError("exec: " + msg);
  }
}

int LocalStore::SchemaVersion() {
  auto lock = Lock();
  auto st = Prepare("PRAGMA user_version");
  st.Step();
  return static_cast<int>(st.Int(0));
}

void LocalStore::Migrate() {
  auto lock = Lock();
  // The version is read inside the write transaction: two consoles opening a new file at
  // once must not both apply the same step.
  for (;;) {
    Exec("BEGIN IMMEDIATE");
    try {
      const int current = SchemaVersion();
      if (current > static_cast<int>(kMigrations.size()))
        throw LocalStoreError("local store " + path_ + " has schema version " + std::to_string(current) +
                              ", newer than this console");
      if (current == static_cast<int>(kMigrations.size())) {
        Exec("COMMIT");
        return;
      }
      Exec(kMigrations[static_cast<size_t>(current)]);
      Exec("PRAGMA user_version=" + std::to_string(current + 1));
      Exec("COMMIT");
    } catch (...) {
      Exec("ROLLBACK");
      throw;
    }
  }
}

}  // namespace exam::local
