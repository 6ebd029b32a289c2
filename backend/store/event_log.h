#pragma once
// The append-only event log. Sequence numbers are assigned here, inside the writer's
// transaction, as head + 1: a rolled-back transaction leaves no hole, so the log is
// gap-free.
#include <vector>

#include "backend/store/database.h"
#include "exam/v1/audit.pb.h"
#include "exam/v1/event.pb.h"

namespace exam::store {

class EventLog {
 public:
  explicit EventLog(Database& db);
  // Assigns event.seq and stores it. Caller holds a transaction; call Committed() after
  // COMMIT (or Reload() after a rollback) so the in-memory head follows the file.
  void Append(exam::v1::Event& event);
  void Reload();
  int64_t Head() const { return head_; }
  // Events with seq > since, at most `limit`, oldest first.
  std::vector<exam::v1::Event> ReadSince(int64_t since, int limit);
  std::vector<exam::v1::Event> ReadSession(int64_t session_id);
  // Time of the newest stored event in Unix ms (0 when empty). Caller holds the lock.
  static int64_t LastTimeMs(Database& db);

 private:
  Database& db_;
  int64_t head_ = 0;
};

// What AuditLog::Verify found.
struct AuditVerification {
  bool ok = true;
  int64_t bad_id = 0;  // first row that does not verify (a missing row's id when one was deleted)
  std::string problem;
  int64_t start_id = 0;  // first chained row; older rows predate the chain and are not covered
  int64_t rows_checked = 0;
  std::string head_hex;  // hash of the newest row, to note down elsewhere
};

// Audit trail of decisions: actor, action, target, before/after (JSON).
//
// Append-only and hash-chained: row n stores sha256(hash of row n-1 || canonical bytes of
// row n), the first chained row starting from 32 zero bytes, and audit_chain keeps the newest
// id and hash. Triggers refuse UPDATE and DELETE. An edited or deleted row then breaks the
// chain for anyone with the file but without the will to recompute every later hash; to
// catch that too, keep the head hash (examd --verify-audit prints it) outside the database.
class AuditLog {
 public:
  explicit AuditLog(Database& db) : db_(db) {}
  // Caller holds a write transaction, so the chain's head cannot move under it.
  int64_t Append(int64_t time_ms, const std::string& actor, const std::string& action, const std::string& target,
                 const std::string& before, const std::string& after);
  // Walks the chain from its start. Caller holds the store lock.
  static AuditVerification Verify(Database& db);
  // Entries with id > after_id whose target starts with `target_prefix`, oldest first.
  std::vector<exam::v1::AuditEntry> List(int64_t after_id, const std::string& target_prefix, int limit);

 private:
  Database& db_;
};

// Replays of mutating calls: (actor, key) → the first response, serialized.
class IdempotencyStore {
 public:
  explicit IdempotencyStore(Database& db) : db_(db) {}
  // The stored response for (actor, key); nullopt when new. `method` must match, otherwise
  // the key was reused for another call and *method_mismatch is set.
  std::optional<std::string> Find(const std::string& actor, const std::string& key, const std::string& method,
                                  bool* method_mismatch);
  void Store(const std::string& actor, const std::string& key, const std::string& method,
             const std::string& response, int64_t now_ms);

 private:
  Database& db_;
};

}  // namespace exam::store
