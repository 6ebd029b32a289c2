#include "backend/store/proctoring_repository.h"

#include <google/protobuf/util/time_util.h>

namespace exam::store {

using google::protobuf::util::TimeUtil;

int64_t ProctoringRepository::RaiseAlert(int64_t session_id, int kind, const std::string& detail, int64_t now_ms) {
  db_.Prepare("INSERT INTO alerts(session_id, kind, detail, raised_at) VALUES(?,?,?,?)")
      .Bind(1, session_id)
      .Bind(2, kind)
      .Bind(3, detail)
      .Bind(4, now_ms)
      .Run();
  return db_.LastInsertId();
}

bool ProctoringRepository::AcknowledgeAlert(int64_t alert_id, int64_t session_id, const std::string& actor,
                                            int64_t now_ms) {
  db_.Prepare(
         "UPDATE alerts SET acknowledged_by=?, acknowledged_at=? WHERE id=? AND session_id=? AND "
         "acknowledged_by IS NULL")
      .Bind(1, actor)
      .Bind(2, now_ms)
      .Bind(3, alert_id)
      .Bind(4, session_id)
      .Run();
  return db_.Changes() != 0;
}

std::vector<AlertListRow> ProctoringRepository::ListAlerts(int64_t exam_id, bool open_only, int64_t session_id) {
  std::vector<AlertListRow> out;
  auto st = db_.Prepare(
      "SELECT a.id, a.session_id, a.kind, a.detail, a.raised_at, COALESCE(a.acknowledged_by, ''), s.room_id FROM "
      "alerts a JOIN sessions s ON s.id=a.session_id WHERE (?=0 OR s.exam_id=?) AND (?=0 OR a.acknowledged_by IS "
      "NULL) AND (?=0 OR a.session_id=?) ORDER BY a.id");
  st.Bind(1, exam_id).Bind(2, exam_id).Bind(3, open_only ? 1 : 0).Bind(4, session_id).Bind(5, session_id);
  while (st.Step()) {
    AlertListRow row;
    auto* a = &row.proto;
    a->set_id(st.Int(0));
    a->set_session_id(st.Int(1));
    a->set_kind(static_cast<int32_t>(st.Int(2)));
    a->set_detail(st.Text(3));
    *a->mutable_raised_at() = TimeUtil::MillisecondsToTimestamp(st.Int(4));
    a->set_acknowledged_by(st.Text(5));
    row.room_id = st.Int(6);
    out.push_back(std::move(row));
  }
  return out;
}

int64_t ProctoringRepository::RecordAction(const NewProctorAction& n) {
  db_.Prepare(
         "INSERT INTO proctor_actions(session_id, actor, kind, category, text, snapshot, time) "
         "VALUES(?,?,?,?,?,?,?)")
      .Bind(1, n.session_id)
      .Bind(2, n.actor)
      .Bind(3, n.kind)
      .Bind(4, n.category)
      .Bind(5, n.text)
      .BindBlob(6, n.snapshot)
      .Bind(7, n.time_ms)
      .Run();
  return db_.LastInsertId();
}

int64_t ProctoringRepository::QueueStaffMessage(int64_t session_id, const std::string& kind, const std::string& text,
                                                int64_t ref_id, int64_t now_ms) {
  db_.Prepare("INSERT INTO staff_messages(session_id, kind, text, ref_id, time) VALUES(?,?,?,?,?)")
      .Bind(1, session_id)
      .Bind(2, kind)
      .Bind(3, text)
      .Bind(4, ref_id)
      .Bind(5, now_ms)
      .Run();
  return db_.LastInsertId();
}

std::vector<exam::v1::StaffMessage> ProctoringRepository::StaffMessagesAfter(int64_t session_id, int64_t after_id,
                                                                            int limit) {
  std::vector<exam::v1::StaffMessage> out;
  auto st = db_.Prepare("SELECT id, kind, text, ref_id FROM staff_messages WHERE session_id=? AND id>? ORDER BY id LIMIT ?");
  st.Bind(1, session_id).Bind(2, after_id).Bind(3, limit);
  while (st.Step()) {
    exam::v1::StaffMessage m;
    m.set_id(st.Int(0));
    m.set_kind(st.Text(1));
    m.set_text(st.Text(2));
    m.set_ref_id(st.Int(3));
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace exam::store
