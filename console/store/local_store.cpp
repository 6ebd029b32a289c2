#include "store/local_store.h"

#include <filesystem>
#include <vector>

#include "store/user_dirs.h"

namespace exam::local {
namespace {

// Versioned migrations: entry i brings the schema from version i to i+1. Append only — a
// console updated in the middle of an exam opens the file the previous version wrote.
const std::vector<const char*> kMigrations = {R"SQL(
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

LocalStore::LocalStore(std::string path) : path_(std::move(path)) {
  std::error_code ec;
  const auto folder = std::filesystem::path(path_).parent_path();
  if (!folder.empty()) std::filesystem::create_directories(folder, ec);
  // A second console on the same account and backend shares the file; wait for it briefly
  // rather than failing a staff action. synchronous=NORMAL keeps an enqueue on the UI
  // thread free of an fsync.
  conn_ = std::make_unique<sqlite::Connection>(path_, kMigrations, sqlite::ConnectionOptions{2000, false, "local store"});
}

std::string LocalStore::DefaultPath(std::string_view username, std::string_view backend_address) {
  const std::filesystem::path base =
      XdgBaseDir("XDG_DATA_HOME", ".local/share").value_or(std::filesystem::temp_directory_path());
  return (base / "exam-console" / (FileNamePart(username) + "@" + FileNamePart(backend_address) + ".sqlite")).string();
}

void LocalStore::Exec(std::string_view sql) {
  auto lock = Lock();
  conn_->Exec(sql);
}

void LocalStore::Compact() {
  auto lock = Lock();
  conn_->Exec("PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA wal_checkpoint(TRUNCATE);");
}

int64_t LocalStore::FileBytes() const {
  int64_t total = 0;
  for (const char* suffix : {"", "-wal"}) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path_ + suffix, ec);
    if (!ec) total += static_cast<int64_t>(size);
  }
  return total;
}

int LocalStore::SchemaVersion() {
  auto lock = Lock();
  return conn_->SchemaVersion();
}

}  // namespace exam::local
