#include "store/sqlite_db.h"

namespace exam::sqlite {
namespace {

[[noreturn]] void Fail(sqlite3* db, std::string_view what) {
  throw Error(std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "no database"));
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
Statement& Statement::Bind(int i, double v) {
  if (sqlite3_bind_double(stmt_, i, v) != SQLITE_OK) Fail(db_, "bind");
  return *this;
}
Statement& Statement::Bind(int i, std::string_view v) {
  if (sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) != SQLITE_OK)
    Fail(db_, "bind");
  return *this;
}
Statement& Statement::BindBlob(int i, std::string_view v) {
  // An empty view may have a null data(); sqlite would store NULL for it.
  if (sqlite3_bind_blob(stmt_, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) != SQLITE_OK)
    Fail(db_, "bind");
  return *this;
}
Statement& Statement::BindNull(int i) {
  if (sqlite3_bind_null(stmt_, i) != SQLITE_OK) Fail(db_, "bind");
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
double Statement::Real(int c) const { return sqlite3_column_double(stmt_, c); }
std::string Statement::Text(int c) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, c))) : std::string();
}
std::string Statement::Blob(int c) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, c));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, c))) : std::string();
}
bool Statement::IsNull(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }

Connection::Connection(const std::string& path, const std::vector<const char*>& migrations,
                       const ConnectionOptions& options) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = "cannot open " + options.what + " " + path + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory");
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(msg);
  }
  try {
    sqlite3_busy_timeout(db_, options.busy_timeout_ms);
    Exec("PRAGMA journal_mode=WAL");
    Exec("PRAGMA synchronous=NORMAL");
    if (options.foreign_keys) Exec("PRAGMA foreign_keys=ON");
    Migrate(path, migrations, options.what);
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

Connection::~Connection() { sqlite3_close(db_); }

void Connection::Exec(std::string_view sql) {
  char* err = nullptr;
  const std::string s(sql);
  if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw Error("exec: " + msg);
  }
}

int Connection::SchemaVersion() {
  auto st = Prepare("PRAGMA user_version");
  st.Step();
  return static_cast<int>(st.Int(0));
}

void Connection::Migrate(const std::string& path, const std::vector<const char*>& migrations, const std::string& what) {
  // The version is read inside the write transaction: two programs opening a new file at
  // once must not both apply the same step.
  for (;;) {
    Exec("BEGIN IMMEDIATE");
    try {
      const int current = SchemaVersion();
      if (current > static_cast<int>(migrations.size()))
        throw Error(what + " " + path + " has schema version " + std::to_string(current) + ", newer than this program");
      if (current == static_cast<int>(migrations.size())) {
        Exec("COMMIT");
        return;
      }
      Exec(migrations[static_cast<size_t>(current)]);
      Exec("PRAGMA user_version=" + std::to_string(current + 1));
      Exec("COMMIT");
    } catch (...) {
      Exec("ROLLBACK");
      throw;
    }
  }
}

}  // namespace exam::sqlite
