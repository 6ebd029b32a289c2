#include "backend/store/database.h"

#include <atomic>
#include <vector>

namespace exam::store {
namespace {

// Versioned migrations: entry i brings the schema from version i to i+1. Append only.
const std::vector<const char*> kMigrations = {R"SQL(
CREATE TABLE users(
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  password_salt BLOB NOT NULL,
  password_hash BLOB NOT NULL,
  password_iterations INTEGER NOT NULL,
  roles TEXT NOT NULL,
  created_at INTEGER NOT NULL);
CREATE TABLE user_rooms(user_id INTEGER NOT NULL REFERENCES users(id), room_id INTEGER NOT NULL,
  PRIMARY KEY(user_id, room_id));
CREATE TABLE tokens(
  token_hash BLOB PRIMARY KEY,
  user_id INTEGER,
  session_id INTEGER,
  device INTEGER,
  expires_at INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE exams(
  id INTEGER PRIMARY KEY,
  title TEXT NOT NULL,
  kind INTEGER NOT NULL,
  start_time INTEGER NOT NULL,
  access_code TEXT NOT NULL,
  rules BLOB NOT NULL,
  questions BLOB NOT NULL);
CREATE TABLE rooms(id INTEGER PRIMARY KEY, exam_id INTEGER NOT NULL REFERENCES exams(id), name TEXT NOT NULL);
CREATE TABLE sessions(
  id INTEGER PRIMARY KEY,
  exam_id INTEGER NOT NULL REFERENCES exams(id),
  room_id INTEGER NOT NULL REFERENCES rooms(id),
  registration_no TEXT NOT NULL,
  candidate_name TEXT NOT NULL,
  id_number TEXT NOT NULL,
  registration_photo BLOB,
  draw_number INTEGER NOT NULL DEFAULT 0,
  stage INTEGER NOT NULL,
  outcome INTEGER NOT NULL,
  current_question INTEGER NOT NULL DEFAULT 0,
  question_deadline INTEGER,
  answering_started_at INTEGER,
  interruptions INTEGER NOT NULL DEFAULT 0,
  interruption_started_at INTEGER,
  face_failures INTEGER NOT NULL DEFAULT 0,
  identity_confirmed INTEGER NOT NULL DEFAULT 0,
  appeal_pending INTEGER NOT NULL DEFAULT 0,
  face_retry_not_before INTEGER,
  ended_at INTEGER,
  open_help INTEGER NOT NULL DEFAULT 0,
  open_alerts INTEGER NOT NULL DEFAULT 0,
  pending_uploads INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL DEFAULT 1,
  updated_at INTEGER NOT NULL,
  UNIQUE(exam_id, registration_no));
CREATE INDEX sessions_room ON sessions(room_id);
CREATE TABLE devices(
  session_id INTEGER NOT NULL REFERENCES sessions(id),
  kind INTEGER NOT NULL,
  model TEXT NOT NULL,
  online INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  PRIMARY KEY(session_id, kind));
CREATE TABLE events(
  seq INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  exam_id INTEGER NOT NULL,
  room_id INTEGER NOT NULL,
  session_id INTEGER NOT NULL,
  body BLOB NOT NULL);
CREATE TABLE alerts(
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES sessions(id),
  kind INTEGER NOT NULL,
  detail TEXT NOT NULL,
  raised_at INTEGER NOT NULL,
  acknowledged_by TEXT,
  acknowledged_at INTEGER);
CREATE TABLE proctor_actions(
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES sessions(id),
  actor TEXT NOT NULL,
  kind INTEGER NOT NULL,
  category INTEGER NOT NULL DEFAULT 0,
  text TEXT NOT NULL,
  snapshot BLOB,
  time INTEGER NOT NULL);
CREATE TABLE staff_messages(
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES sessions(id),
  kind TEXT NOT NULL,
  text TEXT NOT NULL,
  ref_id INTEGER NOT NULL DEFAULT 0,
  time INTEGER NOT NULL);
CREATE INDEX staff_messages_session ON staff_messages(session_id, id);
CREATE TABLE help_requests(
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES sessions(id),
  stage INTEGER NOT NULL,
  state INTEGER NOT NULL,
  raised_at INTEGER NOT NULL,
  claimed_by TEXT NOT NULL DEFAULT '',
  first_response_at INTEGER,
  resolved_at INTEGER,
  category TEXT NOT NULL DEFAULT '',
  version INTEGER NOT NULL DEFAULT 1);
CREATE TABLE help_messages(
  id INTEGER PRIMARY KEY,
  help_id INTEGER NOT NULL REFERENCES help_requests(id),
  time INTEGER NOT NULL,
  from_candidate INTEGER NOT NULL,
  author TEXT NOT NULL,
  text TEXT NOT NULL);
CREATE TABLE appeals(
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES sessions(id),
  stage INTEGER NOT NULL,
  filed_at INTEGER NOT NULL,
  deadline INTEGER NOT NULL,
  state INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  claimed_by TEXT NOT NULL DEFAULT '',
  lease_expires_at INTEGER,
  decided_by TEXT NOT NULL DEFAULT '',
  decided_at INTEGER,
  reason TEXT NOT NULL DEFAULT '',
  id_front BLOB,
  id_back BLOB,
  handheld_id BLOB);
CREATE TABLE face_captures(
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES sessions(id),
  time INTEGER NOT NULL,
  similarity REAL NOT NULL,
  passed INTEGER NOT NULL,
  image BLOB);
CREATE TABLE upload_files(
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES sessions(id),
  device INTEGER NOT NULL,
  name TEXT NOT NULL,
  kind INTEGER NOT NULL,
  state INTEGER NOT NULL,
  size INTEGER NOT NULL,
  committed INTEGER NOT NULL DEFAULT 0,
  sha256 TEXT NOT NULL,
  last_progress_at INTEGER,
  deadline_extension_ms INTEGER NOT NULL DEFAULT 0,
  recall_requested INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL DEFAULT 1,
  UNIQUE(session_id, device, name));
CREATE TABLE audit(
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  before TEXT NOT NULL,
  after TEXT NOT NULL);
CREATE TABLE idempotency(
  actor TEXT NOT NULL,
  key TEXT NOT NULL,
  method TEXT NOT NULL,
  response BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY(actor, key));
)SQL",
// 2: resumable uploads: what support needs to see per file, and each file's history.
R"SQL(
ALTER TABLE upload_files ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE upload_files ADD COLUMN rate REAL NOT NULL DEFAULT 0;
ALTER TABLE upload_files ADD COLUMN abnormal_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE upload_files ADD COLUMN rerecord_allowed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE upload_files ADD COLUMN stored_path TEXT NOT NULL DEFAULT '';
CREATE INDEX upload_files_state ON upload_files(state, last_progress_at);
CREATE TABLE upload_history(
  id INTEGER PRIMARY KEY,
  file_id INTEGER NOT NULL REFERENCES upload_files(id),
  time INTEGER NOT NULL,
  kind TEXT NOT NULL,
  actor TEXT NOT NULL,
  detail TEXT NOT NULL);
CREATE INDEX upload_history_file ON upload_history(file_id, id);
)SQL",
// 3: appeals announce once when they get close to their deadline and once when they pass it.
R"SQL(
ALTER TABLE appeals ADD COLUMN escalation INTEGER NOT NULL DEFAULT 0;
CREATE INDEX appeals_open_deadline ON appeals(state, deadline);
)SQL",
// 4: review: recordings of sessions (one row per file; an interrupted recording has one
// per part), the score sheet of an exam, graders' scores and reviewers' notes, and the
// demo recordings still to be synthesized.
R"SQL(
CREATE TABLE recordings(
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES sessions(id),
  kind INTEGER NOT NULL,
  segment INTEGER NOT NULL DEFAULT 0,
  codec TEXT NOT NULL,
  container TEXT NOT NULL,
  duration_ms INTEGER NOT NULL,
  utc_start_ms INTEGER NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  path TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE(session_id, kind, segment));
CREATE TABLE rubric_items(
  exam_id INTEGER NOT NULL REFERENCES exams(id),
  question INTEGER NOT NULL,
  max_score REAL NOT NULL,
  step REAL NOT NULL DEFAULT 0,
  PRIMARY KEY(exam_id, question));
CREATE TABLE scores(
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES sessions(id),
  question INTEGER NOT NULL,
  grader TEXT NOT NULL,
  score REAL NOT NULL,
  comment TEXT NOT NULL,
  scored_at INTEGER NOT NULL,
  UNIQUE(session_id, question, grader));
CREATE TABLE annotations(
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES sessions(id),
  at_ms INTEGER NOT NULL,
  text TEXT NOT NULL,
  author TEXT NOT NULL,
  created_at INTEGER NOT NULL);
CREATE INDEX annotations_session ON annotations(session_id, at_ms, id);
CREATE TABLE demo_recording_plans(
  session_id INTEGER PRIMARY KEY REFERENCES sessions(id),
  plan TEXT NOT NULL);
)SQL",
// 5: the audit trail becomes append-only and hash-chained (see AuditLog). Rows written
// before this migration have no hash and are not covered: the chain starts at the first row
// after it (audit_chain.start_id). The head is kept here too, so a truncated tail is seen.
R"SQL(
ALTER TABLE audit ADD COLUMN hash BLOB;
CREATE TABLE audit_chain(
  singleton INTEGER PRIMARY KEY CHECK(singleton = 1),
  start_id INTEGER NOT NULL,
  last_id INTEGER NOT NULL,
  last_hash BLOB NOT NULL);
INSERT INTO audit_chain(singleton, start_id, last_id, last_hash)
  VALUES(1, COALESCE((SELECT MAX(id) FROM audit), 0) + 1, COALESCE((SELECT MAX(id) FROM audit), 0), zeroblob(32));
CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
)SQL"};

}  // namespace

Database::Database(const std::string& path)
    : conn_(path, kMigrations, sqlite::ConnectionOptions{5000, true, "database"}), instance_id_([] {
        static std::atomic<uint64_t> next{1};
        return next.fetch_add(1);
      }()) {}

void Database::Exec(std::string_view sql) {
  std::lock_guard lock(mutex_);
  conn_.Exec(sql);
}

int Database::SchemaVersion() {
  std::lock_guard lock(mutex_);
  return conn_.SchemaVersion();
}

std::string Database::IntegrityCheck() {
  std::lock_guard lock(mutex_);
  auto st = Prepare("PRAGMA integrity_check");
  return st.Step() ? st.Text(0) : "no answer";
}

Transaction::Transaction(Database& db) : db_(db), lock_(db.mutex()) { db_.Exec("BEGIN IMMEDIATE"); }
Transaction::~Transaction() {
  if (!done_) {
    try {
      db_.Exec("ROLLBACK");
    } catch (...) {
    }
  }
}
void Transaction::Commit() {
  db_.Exec("COMMIT");
  done_ = true;
}

}  // namespace exam::store
