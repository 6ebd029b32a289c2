// The audit trail is append-only and hash-chained: decisions made through the real RPCs
// verify with `examd --verify-audit`; a row edited or deleted by someone with the file (who
// drops the triggers first) is found, by its id.
#include <sqlite3.h>
#include <sys/wait.h>

#include <cstdio>

#include "backend_fixture.h"

#ifndef EXAMD_BINARY
#error "EXAMD_BINARY must name the examd binary"
#endif

namespace exam::testing {
namespace {

namespace v1 = exam::v1;

struct Verdict {
  int exit_code = -1;
  std::string output;
};

// Runs the real binary's verification on `db`.
Verdict VerifyAudit(const std::string& db) {
  Verdict v;
  const std::string cmd = std::string("'") + EXAMD_BINARY + "' --verify-audit --db '" + db + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return v;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) v.output.append(buf, n);
  const int status = pclose(p);
  v.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return v;
}

// Runs `sql` on the file directly, as someone with access to it would; returns the error text
// or "" on success.
std::string Tamper(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  std::string error;
  if (sqlite3_open(db.c_str(), &h) != SQLITE_OK) error = "open failed";
  char* msg = nullptr;
  if (error.empty() && sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    error = msg ? msg : "failed";
    sqlite3_free(msg);
  }
  sqlite3_close(h);
  return error;
}

class AuditChainTest : public BackendFixture {
 protected:
  void Configure(backend::ServerOptions& o) override { o.demo_review_sessions = 0; }

  // Proctor actions through LiveService, each one audit row.
  void WriteAuditedActions(int n) {
    const std::string token = Login("proctor1");
    auto exams = v1::ExamService::NewStub(Channel());
    v1::ListSessionsRequest list;
    list.set_exam_id(server_->demo().exam_id);
    v1::ListSessionsResponse sessions;
    auto c = Ctx(token);
    ASSERT_TRUE(exams->ListSessions(c.get(), list, &sessions).ok());
    ASSERT_GT(sessions.sessions_size(), 0);
    auto live = v1::LiveService::NewStub(Channel());
    for (int i = 0; i < n; ++i) {
      v1::ProctorActionRequest req;
      req.set_idempotency_key(Key());
      req.set_session_id(sessions.sessions(i % sessions.sessions_size()).id());
      req.set_kind(i % 2 ? v1::PROCTOR_ACTION_KIND_WARN : v1::PROCTOR_ACTION_KIND_MESSAGE);
      req.set_text("please keep your face in view " + std::to_string(i));
      v1::ProctorActionResponse resp;
      auto ctx = Ctx(token);
      const auto status = live->ProctorAction(ctx.get(), req, &resp);
      ASSERT_TRUE(status.ok()) << status.error_message();
    }
  }

  int AuditRows() {
    auto audit = v1::AuditService::NewStub(Channel());
    v1::ListAuditResponse resp;
    auto ctx = Ctx(Login("admin"));
    EXPECT_TRUE(audit->ListAudit(ctx.get(), v1::ListAuditRequest(), &resp).ok());
    return resp.entries_size();
  }

  // A consistent copy of the stopped server's database, to tamper with.
  std::string Copy(const std::string& name) {
    const std::string out = (dir_.path() / name).string();
    EXPECT_EQ(Tamper(options_.db_path, "VACUUM INTO '" + out + "'"), "");
    return out;
  }
};

TEST_F(AuditChainTest, IntactChainVerifies) {
  WriteAuditedActions(5);
  EXPECT_EQ(AuditRows(), 5);
  StopServer();
  const auto v = VerifyAudit(options_.db_path);
  EXPECT_EQ(v.exit_code, 0) << v.output;
  EXPECT_NE(v.output.find("intact: 5 rows"), std::string::npos) << v.output;

  // More decisions after a restart continue the same chain.
  StartServer();
  WriteAuditedActions(2);
  StopServer();
  const auto again = VerifyAudit(options_.db_path);
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("intact: 7 rows"), std::string::npos) << again.output;
}

TEST_F(AuditChainTest, TriggersRefuseUpdateAndDelete) {
  WriteAuditedActions(2);
  StopServer();
  EXPECT_NE(Tamper(options_.db_path, "UPDATE audit SET actor='admin' WHERE id=1").find("append-only"),
            std::string::npos);
  EXPECT_NE(Tamper(options_.db_path, "DELETE FROM audit WHERE id=1").find("append-only"), std::string::npos);
  EXPECT_EQ(VerifyAudit(options_.db_path).exit_code, 0);
}

TEST_F(AuditChainTest, EditedRowIsFound) {
  WriteAuditedActions(5);
  StopServer();
  const auto db = Copy("edited.db");
  ASSERT_EQ(Tamper(db, "DROP TRIGGER audit_append_only_update; UPDATE audit SET actor='someone else' WHERE id=3"), "");
  const auto v = VerifyAudit(db);
  EXPECT_EQ(v.exit_code, 1) << v.output;
  EXPECT_NE(v.output.find("broken at row 3:"), std::string::npos) << v.output;

  // Editing a row's hash to match its new content still breaks the next row.
  const auto rehashed = Copy("rehashed.db");
  ASSERT_EQ(Tamper(rehashed, "DROP TRIGGER audit_append_only_update; UPDATE audit SET hash=zeroblob(32) WHERE id=2"),
            "");
  const auto r = VerifyAudit(rehashed);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("broken at row 2:"), std::string::npos) << r.output;
}

TEST_F(AuditChainTest, DeletedRowIsFound) {
  WriteAuditedActions(5);
  StopServer();
  const auto middle = Copy("middle.db");
  ASSERT_EQ(Tamper(middle, "DROP TRIGGER audit_append_only_delete; DELETE FROM audit WHERE id=2"), "");
  const auto v = VerifyAudit(middle);
  EXPECT_EQ(v.exit_code, 1) << v.output;
  EXPECT_NE(v.output.find("broken at row 2: audit row 2 is missing"), std::string::npos) << v.output;

  // The newest row leaves no gap behind it; the chain's head remembers it.
  const auto tail = Copy("tail.db");
  ASSERT_EQ(Tamper(tail, "DROP TRIGGER audit_append_only_delete; DELETE FROM audit WHERE id=5"), "");
  const auto t = VerifyAudit(tail);
  EXPECT_EQ(t.exit_code, 1) << t.output;
  EXPECT_NE(t.output.find("broken at row 5:"), std::string::npos) << t.output;
}

// A database from before the chain: its audit rows stay as they were and the chain starts
// after them, at the migration.
TEST_F(AuditChainTest, OlderDatabaseChainsFromTheMigration) {
  WriteAuditedActions(3);
  StopServer();
  // Back to schema 4: no hash column, no head, no triggers, three unchained rows.
  ASSERT_EQ(Tamper(options_.db_path,
                   "DROP TRIGGER audit_append_only_update; DROP TRIGGER audit_append_only_delete;"
                   "DROP TABLE audit_chain; ALTER TABLE audit DROP COLUMN hash; PRAGMA user_version=4;"),
            "");
  const auto migrated = VerifyAudit(options_.db_path);
  EXPECT_EQ(migrated.exit_code, 0) << migrated.output;
  EXPECT_NE(migrated.output.find("intact: 0 rows from row 4"), std::string::npos) << migrated.output;

  StartServer();
  WriteAuditedActions(2);
  EXPECT_EQ(AuditRows(), 5);
  StopServer();
  const auto v = VerifyAudit(options_.db_path);
  EXPECT_EQ(v.exit_code, 0) << v.output;
  EXPECT_NE(v.output.find("intact: 2 rows from row 4"), std::string::npos) << v.output;
}

TEST(AuditVerifyCommandTest, MissingDatabaseIsAnErrorNotAVerdict) {
  const auto v = VerifyAudit("/nonexistent/examd.db");
  EXPECT_EQ(v.exit_code, 2) << v.output;
}

}  // namespace
}  // namespace exam::testing
