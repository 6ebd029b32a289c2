#pragma once
// What proctors see and do during a session: alerts, recorded proctor actions, and the
// messages queued for the candidate's devices. The caller holds the database lock (or a
// transaction); the session's open_alerts counter lives with the session and is kept by
// the service.
#include <cstdint>
#include <string>
#include <vector>

#include "backend/store/database.h"
#include "exam/v1/candidate.pb.h"
#include "exam/v1/live.pb.h"

namespace exam::store {

struct AlertListRow {
  exam::v1::AlertRecord proto;
  int64_t room_id = 0;  // for the caller's room filter
};

struct NewProctorAction {
  int64_t session_id = 0;
  std::string actor;
  int kind = 0;      // exam.v1.ProctorActionKind
  int category = 0;  // exam.v1.ViolationCategory
  std::string text;
  std::string snapshot;
  int64_t time_ms = 0;
};

class ProctoringRepository {
 public:
  explicit ProctoringRepository(Database& db) : db_(db) {}

  // Returns the alert id.
  int64_t RaiseAlert(int64_t session_id, int kind, const std::string& detail, int64_t now_ms);
  // False when the alert is unknown, belongs to another session, or was acknowledged already.
  bool AcknowledgeAlert(int64_t alert_id, int64_t session_id, const std::string& actor, int64_t now_ms);
  // exam_id 0: every exam; session_id 0: every session. Oldest first.
  std::vector<AlertListRow> ListAlerts(int64_t exam_id, bool open_only, int64_t session_id = 0);

  // Returns the action id.
  int64_t RecordAction(const NewProctorAction& action);

  // Returns the message id.
  int64_t QueueStaffMessage(int64_t session_id, const std::string& kind, const std::string& text, int64_t ref_id,
                            int64_t now_ms);
  // Messages for a session with id > after_id, oldest first, at most `limit`.
  std::vector<exam::v1::StaffMessage> StaffMessagesAfter(int64_t session_id, int64_t after_id, int limit);

 private:
  Database& db_;
};

}  // namespace exam::store
