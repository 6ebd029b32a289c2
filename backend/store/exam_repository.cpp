#include "backend/store/exam_repository.h"

#include <google/protobuf/util/time_util.h>

namespace exam::store {
namespace {

using google::protobuf::util::TimeUtil;

constexpr const char* kSessionColumns =
    "id, exam_id, room_id, registration_no, candidate_name, id_number, draw_number, stage, outcome, "
    "current_question, question_deadline, answering_started_at, interruptions, interruption_started_at, "
    "face_failures, identity_confirmed, appeal_pending, face_retry_not_before, ended_at, open_help, open_alerts, "
    "pending_uploads, version, updated_at";

std::optional<core::TimePoint> OptTime(const Statement& st, int col) {
  if (st.IsNull(col)) return std::nullopt;
  return core::FromUnixMillis(st.Int(col));
}

std::optional<int64_t> OptMs(const std::optional<core::TimePoint>& t) {
  return t ? std::optional<int64_t>(core::ToUnixMillis(*t)) : std::nullopt;
}

SessionRow ReadSession(const Statement& st) {
  SessionRow r;
  r.id = st.Int(0);
  r.exam_id = st.Int(1);
  r.room_id = st.Int(2);
  r.registration_no = st.Text(3);
  r.candidate_name = st.Text(4);
  r.id_number = st.Text(5);
  r.draw_number = static_cast<int>(st.Int(6));
  auto& s = r.state;
  s.stage = static_cast<core::Stage>(st.Int(7));
  s.outcome = static_cast<core::Outcome>(st.Int(8));
  s.current_question = static_cast<int>(st.Int(9));
  s.question_deadline = OptTime(st, 10);
  s.answering_started_at = OptTime(st, 11);
  s.interruptions = static_cast<int>(st.Int(12));
  s.interruption_started_at = OptTime(st, 13);
  s.face_failures = static_cast<int>(st.Int(14));
  s.identity_confirmed = st.Int(15) != 0;
  s.appeal_pending = st.Int(16) != 0;
  s.face_retry_not_before = OptTime(st, 17);
  s.ended_at = OptTime(st, 18);
  r.open_help = static_cast<int>(st.Int(19));
  r.open_alerts = static_cast<int>(st.Int(20));
  r.pending_uploads = static_cast<int>(st.Int(21));
  r.version = st.Int(22);
  r.updated_at_ms = st.Int(23);
  return r;
}

core::Duration FromProto(const google::protobuf::Duration& d) {
  return core::Duration(TimeUtil::DurationToMilliseconds(d));
}

}  // namespace

core::ExamPlan PlanFromProto(const exam::v1::Exam& exam) {
  core::ExamPlan plan;
  plan.kind = static_cast<core::ExamKind>(exam.kind());
  plan.start = core::FromUnixMillis(TimeUtil::TimestampToMilliseconds(exam.start_time()));
  plan.rules = core::DefaultRules(plan.kind);
  const auto& r = exam.rules();
  auto set = [](core::Duration& field, const google::protobuf::Duration& d, bool present) {
    if (present) field = FromProto(d);
  };
  set(plan.rules.face_login_opens_before, r.face_login_opens_before(), r.has_face_login_opens_before());
  set(plan.rules.enter_opens_before, r.enter_opens_before(), r.has_enter_opens_before());
  set(plan.rules.entry_closes_after, r.entry_closes_after(), r.has_entry_closes_after());
  set(plan.rules.waiting_room, r.waiting_room(), r.has_waiting_room());
  set(plan.rules.appeal_sla_before_start, r.appeal_sla_before_start(), r.has_appeal_sla_before_start());
  set(plan.rules.appeal_sla_during_exam, r.appeal_sla_during_exam(), r.has_appeal_sla_during_exam());
  set(plan.rules.interruption_resume_limit, r.interruption_resume_limit(), r.has_interruption_resume_limit());
  set(plan.rules.upload_resume_deadline, r.upload_resume_deadline(), r.has_upload_resume_deadline());
  set(plan.rules.face_check_cancel_wait, r.face_check_cancel_wait(), r.has_face_check_cancel_wait());
  if (r.face_failures_before_appeal() > 0) plan.rules.face_failures_before_appeal = r.face_failures_before_appeal();
  if (r.interruptions_allowed() > 0) plan.rules.interruptions_allowed = r.interruptions_allowed();
  plan.rules.rerecord_allowed = r.rerecord_allowed();
  for (const auto& q : exam.questions())
    plan.questions.push_back({FromProto(q.reading_time()), FromProto(q.answer_time())});
  return plan;
}

int64_t ExamRepository::CreateExam(const exam::v1::Exam& exam, const std::string& access_code) {
  exam::v1::Exam rules_only;
  *rules_only.mutable_rules() = exam.rules();
  exam::v1::Exam questions_only;
  *questions_only.mutable_questions() = exam.questions();
  db_.Prepare("INSERT INTO exams(title, kind, start_time, access_code, rules, questions) VALUES(?,?,?,?,?,?)")
      .Bind(1, exam.title())
      .Bind(2, static_cast<int>(exam.kind()))
      .Bind(3, TimeUtil::TimestampToMilliseconds(exam.start_time()))
      .Bind(4, access_code)
      .BindBlob(5, rules_only.SerializeAsString())
      .BindBlob(6, questions_only.SerializeAsString())
      .Run();
  return db_.LastInsertId();
}

int64_t ExamRepository::CreateRoom(int64_t exam_id, const std::string& name) {
  db_.Prepare("INSERT INTO rooms(exam_id, name) VALUES(?,?)").Bind(1, exam_id).Bind(2, name).Run();
  return db_.LastInsertId();
}

int64_t ExamRepository::CreateSession(int64_t exam_id, int64_t room_id, const std::string& registration_no,
                                      const std::string& name, const std::string& id_number, int64_t now_ms) {
  db_.Prepare(
         "INSERT INTO sessions(exam_id, room_id, registration_no, candidate_name, id_number, stage, outcome, "
         "updated_at) VALUES(?,?,?,?,?,?,?,?)")
      .Bind(1, exam_id)
      .Bind(2, room_id)
      .Bind(3, registration_no)
      .Bind(4, name)
      .Bind(5, id_number)
      .Bind(6, static_cast<int>(core::Stage::kUnspecified))
      .Bind(7, static_cast<int>(core::Outcome::kInProgress))
      .Bind(8, now_ms)
      .Run();
  return db_.LastInsertId();
}

std::vector<ExamRecord> ExamRepository::ListExams() {
  std::vector<ExamRecord> out;
  auto st = db_.Prepare("SELECT id, title, kind, start_time, access_code, rules, questions FROM exams ORDER BY start_time, id");
  while (st.Step()) {
    ExamRecord rec;
    rec.proto.set_id(st.Int(0));
    rec.proto.set_title(st.Text(1));
    rec.proto.set_kind(static_cast<exam::v1::ExamKind>(st.Int(2)));
    *rec.proto.mutable_start_time() = TimeUtil::MillisecondsToTimestamp(st.Int(3));
    rec.access_code = st.Text(4);
    exam::v1::Exam part;
    if (part.ParseFromString(st.Blob(5))) *rec.proto.mutable_rules() = part.rules();
    if (part.ParseFromString(st.Blob(6))) *rec.proto.mutable_questions() = part.questions();
    out.push_back(std::move(rec));
  }
  for (auto& rec : out) {
    auto c = db_.Prepare("SELECT COUNT(*) FROM sessions WHERE exam_id=?");
    c.Bind(1, rec.proto.id());
    c.Step();
    rec.proto.set_session_count(static_cast<int32_t>(c.Int(0)));
    rec.plan = PlanFromProto(rec.proto);
  }
  return out;
}

std::vector<int64_t> ExamRepository::ExamIds() {
  std::vector<int64_t> out;
  auto st = db_.Prepare("SELECT id FROM exams ORDER BY id");
  while (st.Step()) out.push_back(st.Int(0));
  return out;
}

std::optional<ExamRecord> ExamRepository::GetExam(int64_t exam_id) {
  for (auto& e : ListExams())
    if (e.proto.id() == exam_id) return std::move(e);
  return std::nullopt;
}

std::vector<exam::v1::Room> ExamRepository::ListRooms(int64_t exam_id) {
  std::vector<exam::v1::Room> out;
  auto st = db_.Prepare(
      "SELECT r.id, r.exam_id, r.name, (SELECT COUNT(*) FROM sessions s WHERE s.room_id=r.id) FROM rooms r "
      "WHERE r.exam_id=? ORDER BY r.id");
  st.Bind(1, exam_id);
  while (st.Step()) {
    exam::v1::Room room;
    room.set_id(st.Int(0));
    room.set_exam_id(st.Int(1));
    room.set_name(st.Text(2));
    room.set_session_count(static_cast<int32_t>(st.Int(3)));
    out.push_back(std::move(room));
  }
  return out;
}

std::optional<int64_t> ExamRepository::RoomExam(int64_t room_id) {
  auto st = db_.Prepare("SELECT exam_id FROM rooms WHERE id=?");
  st.Bind(1, room_id);
  if (!st.Step()) return std::nullopt;
  return st.Int(0);
}

std::optional<SessionRow> ExamRepository::GetSession(int64_t session_id) {
  auto st = db_.Prepare(std::string("SELECT ") + kSessionColumns + " FROM sessions WHERE id=?");
  st.Bind(1, session_id);
  if (!st.Step()) return std::nullopt;
  return ReadSession(st);
}

std::optional<SessionRow> ExamRepository::FindSession(int64_t exam_id, const std::string& registration_no) {
  auto st = db_.Prepare(std::string("SELECT ") + kSessionColumns + " FROM sessions WHERE exam_id=? AND registration_no=?");
  st.Bind(1, exam_id).Bind(2, registration_no);
  if (!st.Step()) return std::nullopt;
  return ReadSession(st);
}

std::vector<SessionRow> ExamRepository::ListSessions(int64_t exam_id, int64_t room_id) {
  std::vector<SessionRow> out;
  auto st = db_.Prepare(std::string("SELECT ") + kSessionColumns +
                        " FROM sessions WHERE exam_id=? AND (?=0 OR room_id=?) ORDER BY room_id, id");
  st.Bind(1, exam_id).Bind(2, room_id).Bind(3, room_id);
  while (st.Step()) out.push_back(ReadSession(st));
  return out;
}

std::vector<SessionRow> ExamRepository::ListSessionsDue(int64_t exam_id, const core::ExamPlan& plan, int64_t now_ms) {
  std::vector<SessionRow> out;
  auto st = db_.Prepare(std::string("SELECT ") + kSessionColumns +
                        " FROM sessions WHERE exam_id=? AND stage<>? AND ("
                        "(stage<? AND appeal_pending=0 AND ?>?) OR "
                        "(question_deadline IS NOT NULL AND question_deadline<=?) OR "
                        "(interruption_started_at IS NOT NULL AND interruption_started_at<?)) ORDER BY id");
  st.Bind(1, exam_id)
      .Bind(2, static_cast<int>(core::Stage::kEnded))
      .Bind(3, static_cast<int>(core::Stage::kDeviceConfirm))
      .Bind(4, now_ms)
      .Bind(5, core::ToUnixMillis(plan.EntryClosesAt()))
      .Bind(6, now_ms)
      .Bind(7, now_ms - plan.rules.interruption_resume_limit.count());
  while (st.Step()) out.push_back(ReadSession(st));
  return out;
}

std::vector<int64_t> ExamRepository::ActiveSessionIds() {
  std::vector<int64_t> out;
  auto st = db_.Prepare("SELECT id FROM sessions WHERE stage<>? ORDER BY id");
  st.Bind(1, static_cast<int>(core::Stage::kEnded));
  while (st.Step()) out.push_back(st.Int(0));
  return out;
}

std::vector<ReviewSessionRow> ExamRepository::ListReviewSessions(int64_t exam_id) {
  std::vector<ReviewSessionRow> out;
  auto st = db_.Prepare(
      "SELECT s.id, s.draw_number, s.exam_id, s.pending_uploads FROM sessions s WHERE s.exam_id=? AND s.stage=? "
      "AND s.current_question>0 ORDER BY s.draw_number, s.id");
  st.Bind(1, exam_id).Bind(2, static_cast<int>(core::Stage::kEnded));
  while (st.Step())
    out.push_back({st.Int(0), static_cast<int>(st.Int(1)), st.Int(2), static_cast<int>(st.Int(3))});
  return out;
}

int ExamRepository::NextDrawNumber(int64_t exam_id) {
  auto st = db_.Prepare("SELECT COALESCE(MAX(draw_number), 0) + 1 FROM sessions WHERE exam_id=?");
  st.Bind(1, exam_id);
  st.Step();
  return static_cast<int>(st.Int(0));
}

void ExamRepository::SaveSession(SessionRow& r, int64_t now_ms) {
  const auto& s = r.state;
  r.version += 1;
  r.updated_at_ms = now_ms;
  db_.Prepare(
         "UPDATE sessions SET draw_number=?, stage=?, outcome=?, current_question=?, question_deadline=?, "
         "answering_started_at=?, interruptions=?, interruption_started_at=?, face_failures=?, identity_confirmed=?, "
         "appeal_pending=?, face_retry_not_before=?, ended_at=?, open_help=?, open_alerts=?, pending_uploads=?, "
         "version=?, updated_at=? WHERE id=?")
      .Bind(1, r.draw_number)
      .Bind(2, static_cast<int>(s.stage))
      .Bind(3, static_cast<int>(s.outcome))
      .Bind(4, s.current_question)
      .Bind(5, OptMs(s.question_deadline))
      .Bind(6, OptMs(s.answering_started_at))
      .Bind(7, s.interruptions)
      .Bind(8, OptMs(s.interruption_started_at))
      .Bind(9, s.face_failures)
      .Bind(10, s.identity_confirmed ? 1 : 0)
      .Bind(11, s.appeal_pending ? 1 : 0)
      .Bind(12, OptMs(s.face_retry_not_before))
      .Bind(13, OptMs(s.ended_at))
      .Bind(14, r.open_help)
      .Bind(15, r.open_alerts)
      .Bind(16, r.pending_uploads)
      .Bind(17, r.version)
      .Bind(18, now_ms)
      .Bind(19, r.id)
      .Run();
}

void ExamRepository::UpsertDevice(int64_t session_id, int kind, const std::string& model, bool online,
                                  int64_t now_ms) {
  db_.Prepare(
         "INSERT INTO devices(session_id, kind, model, online, last_seen) VALUES(?,?,?,?,?) "
         "ON CONFLICT(session_id, kind) DO UPDATE SET model=CASE WHEN excluded.model='' THEN model ELSE "
         "excluded.model END, online=excluded.online, last_seen=excluded.last_seen")
      .Bind(1, session_id)
      .Bind(2, kind)
      .Bind(3, model)
      .Bind(4, online ? 1 : 0)
      .Bind(5, now_ms)
      .Run();
}

void ExamRepository::TouchDevice(int64_t session_id, int kind, int64_t seen_ms) {
  db_.Prepare("UPDATE devices SET last_seen=MAX(last_seen, ?) WHERE session_id=? AND kind=?")
      .Bind(1, seen_ms)
      .Bind(2, session_id)
      .Bind(3, kind)
      .Run();
}

std::vector<exam::v1::Device> ExamRepository::ListDevices(int64_t session_id) {
  std::vector<exam::v1::Device> out;
  auto st = db_.Prepare("SELECT kind, model, online, last_seen FROM devices WHERE session_id=? ORDER BY kind");
  st.Bind(1, session_id);
  while (st.Step()) {
    exam::v1::Device d;
    d.set_kind(static_cast<exam::v1::DeviceKind>(st.Int(0)));
    d.set_model(st.Text(1));
    d.set_online(st.Int(2) != 0);
    *d.mutable_last_seen() = TimeUtil::MillisecondsToTimestamp(st.Int(3));
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<std::pair<int64_t, int>> ExamRepository::StaleOnlineDevices(int64_t before_ms) {
  std::vector<std::pair<int64_t, int>> out;
  auto st = db_.Prepare("SELECT session_id, kind FROM devices WHERE online=1 AND last_seen<?");
  st.Bind(1, before_ms);
  while (st.Step()) out.emplace_back(st.Int(0), static_cast<int>(st.Int(1)));
  return out;
}

exam::v1::Session ExamRepository::ToProto(const SessionRow& r, bool redact_identity) {
  exam::v1::Session p;
  const auto& s = r.state;
  p.set_id(r.id);
  p.set_exam_id(r.exam_id);
  p.set_room_id(r.room_id);
  p.set_draw_number(r.draw_number);
  if (!redact_identity) {
    p.set_candidate_name(r.candidate_name);
    p.set_registration_no(r.registration_no);
  }
  p.set_stage(static_cast<exam::v1::Stage>(s.stage));
  p.set_outcome(static_cast<exam::v1::Outcome>(s.outcome));
  p.set_current_question(s.current_question);
  if (s.question_deadline)
    *p.mutable_question_deadline() = TimeUtil::MillisecondsToTimestamp(core::ToUnixMillis(*s.question_deadline));
  p.set_interruptions(s.interruptions);
  if (s.interruption_started_at)
    *p.mutable_interruption_started_at() =
        TimeUtil::MillisecondsToTimestamp(core::ToUnixMillis(*s.interruption_started_at));
  p.set_face_failures(s.face_failures);
  p.set_open_help(r.open_help);
  p.set_open_alerts(r.open_alerts);
  p.set_appeal_pending(s.appeal_pending);
  for (auto& d : ListDevices(r.id)) *p.add_devices() = std::move(d);
  if (s.ended_at) *p.mutable_ended_at() = TimeUtil::MillisecondsToTimestamp(core::ToUnixMillis(*s.ended_at));
  p.set_version(r.version);
  *p.mutable_updated_at() = TimeUtil::MillisecondsToTimestamp(r.updated_at_ms);
  p.set_pending_uploads(r.pending_uploads);
  return p;
}

void ExamRepository::SetRegistrationPhoto(int64_t session_id, const std::string& image) {
  auto st = db_.Prepare("UPDATE sessions SET registration_photo=? WHERE id=?");
  st.BindBlob(1, image).Bind(2, session_id);
  st.Run();
}

}  // namespace exam::store
