#include "backend/store/appeal_repository.h"

#include <google/protobuf/util/time_util.h>

namespace exam::store {
namespace {

using google::protobuf::util::TimeUtil;
namespace v1 = exam::v1;

constexpr const char* kAppealColumns =
    "a.id, a.session_id, s.exam_id, s.room_id, s.candidate_name, a.stage, a.filed_at, a.deadline, e.start_time, "
    "a.state, a.version, a.claimed_by, a.lease_expires_at, a.decided_by, a.decided_at, a.reason";
constexpr const char* kAppealJoin =
    " FROM appeals a JOIN sessions s ON s.id=a.session_id JOIN exams e ON e.id=s.exam_id ";

v1::Appeal ReadAppeal(const Statement& st, int64_t now_ms) {
  v1::Appeal a;
  a.set_id(st.Int(0));
  a.set_session_id(st.Int(1));
  a.set_exam_id(st.Int(2));
  a.set_room_id(st.Int(3));
  a.set_candidate_name(st.Text(4));
  a.set_stage(static_cast<v1::Stage>(st.Int(5)));
  *a.mutable_filed_at() = TimeUtil::MillisecondsToTimestamp(st.Int(6));
  *a.mutable_deadline() = TimeUtil::MillisecondsToTimestamp(st.Int(7));
  *a.mutable_exam_start() = TimeUtil::MillisecondsToTimestamp(st.Int(8));
  a.set_state(static_cast<v1::AppealState>(st.Int(9)));
  a.set_version(st.Int(10));
  // An expired lease is as good as none.
  if (!st.IsNull(12) && st.Int(12) > now_ms) {
    a.set_claimed_by(st.Text(11));
    *a.mutable_lease_expires_at() = TimeUtil::MillisecondsToTimestamp(st.Int(12));
  }
  a.set_decided_by(st.Text(13));
  if (!st.IsNull(14)) *a.mutable_decided_at() = TimeUtil::MillisecondsToTimestamp(st.Int(14));
  a.set_reason(st.Text(15));
  return a;
}

}  // namespace

int64_t AppealRepository::Create(const NewAppeal& n) {
  db_.Prepare(
         "INSERT INTO appeals(session_id, stage, filed_at, deadline, state, id_front, id_back, handheld_id) "
         "VALUES(?,?,?,?,?,?,?,?)")
      .Bind(1, n.session_id)
      .Bind(2, n.stage)
      .Bind(3, n.filed_at_ms)
      .Bind(4, n.deadline_ms)
      .Bind(5, static_cast<int>(v1::APPEAL_STATE_OPEN))
      .BindBlob(6, n.id_front)
      .BindBlob(7, n.id_back)
      .BindBlob(8, n.handheld_id)
      .Run();
  return db_.LastInsertId();
}

std::optional<v1::Appeal> AppealRepository::Get(int64_t id, int64_t now_ms, bool with_photos) {
  auto st = db_.Prepare(std::string("SELECT ") + kAppealColumns + kAppealJoin + "WHERE a.id=?");
  st.Bind(1, id);
  if (!st.Step()) return std::nullopt;
  v1::Appeal a = ReadAppeal(st, now_ms);
  auto caps = db_.Prepare(std::string("SELECT time, similarity") + (with_photos ? ", image" : "") +
                          " FROM face_captures WHERE session_id=? AND passed=0 ORDER BY time");
  caps.Bind(1, a.session_id());
  while (caps.Step()) {
    auto* c = a.add_captures();
    *c->mutable_time() = TimeUtil::MillisecondsToTimestamp(caps.Int(0));
    c->set_similarity(caps.Real(1));
    if (with_photos) c->set_image(caps.Blob(2));
  }
  if (with_photos) {
    auto ph = db_.Prepare("SELECT id_front, id_back, handheld_id FROM appeals WHERE id=?");
    ph.Bind(1, id);
    if (ph.Step()) {
      a.set_id_front(ph.Blob(0));
      a.set_id_back(ph.Blob(1));
      a.set_handheld_id(ph.Blob(2));
    }
    auto reg = db_.Prepare("SELECT registration_photo FROM sessions WHERE id=?");
    reg.Bind(1, a.session_id());
    if (reg.Step()) a.set_registration_photo(reg.Blob(0));
  }
  return a;
}

std::vector<v1::Appeal> AppealRepository::List(int64_t exam_id, bool open_only, int64_t now_ms) {
  std::vector<v1::Appeal> out;
  auto st = db_.Prepare(std::string("SELECT ") + kAppealColumns + kAppealJoin +
                        "WHERE (?=0 OR s.exam_id=?) AND (?=0 OR a.state=1) ORDER BY a.deadline, a.id");
  st.Bind(1, exam_id).Bind(2, exam_id).Bind(3, open_only ? 1 : 0);
  while (st.Step()) out.push_back(ReadAppeal(st, now_ms));
  return out;
}

void AppealRepository::Claim(int64_t appeal_id, const std::string& by, int64_t lease_expires_ms) {
  db_.Prepare("UPDATE appeals SET claimed_by=?, lease_expires_at=?, version=version+1 WHERE id=?")
      .Bind(1, by)
      .Bind(2, lease_expires_ms)
      .Bind(3, appeal_id)
      .Run();
}

void AppealRepository::Release(int64_t appeal_id) {
  db_.Prepare("UPDATE appeals SET claimed_by='', lease_expires_at=NULL, version=version+1 WHERE id=?")
      .Bind(1, appeal_id)
      .Run();
}

void AppealRepository::Decide(int64_t appeal_id, bool approve, const std::string& by, int64_t now_ms,
                              const std::string& reason) {
  db_.Prepare(
         "UPDATE appeals SET state=?, decided_by=?, decided_at=?, reason=?, claimed_by='', "
         "lease_expires_at=NULL, version=version+1 WHERE id=?")
      .Bind(1, static_cast<int>(approve ? v1::APPEAL_STATE_APPROVED : v1::APPEAL_STATE_REJECTED))
      .Bind(2, by)
      .Bind(3, now_ms)
      .Bind(4, reason)
      .Bind(5, appeal_id)
      .Run();
}

void AppealRepository::AddFaceCapture(int64_t session_id, int64_t time_ms, double similarity, bool passed,
                                      const std::string& image) {
  db_.Prepare("INSERT INTO face_captures(session_id, time, similarity, passed, image) VALUES(?,?,?,?,?)")
      .Bind(1, session_id)
      .Bind(2, time_ms)
      .Bind(3, similarity)
      .Bind(4, passed ? 1 : 0)
      .BindBlob(5, image)
      .Run();
}

std::vector<AppealRepository::Escalation> AppealRepository::TakeEscalations(int64_t now_ms, int64_t escalate_under_ms,
                                                                            int limit) {
  std::vector<Escalation> out;
  auto st = db_.Prepare(
      "SELECT id, session_id, CASE WHEN deadline < ? THEN 2 ELSE 1 END FROM appeals WHERE state=1 AND "
      "deadline - ? < ? AND escalation < CASE WHEN deadline < ? THEN 2 ELSE 1 END ORDER BY deadline LIMIT ?");
  st.Bind(1, now_ms).Bind(2, now_ms).Bind(3, escalate_under_ms).Bind(4, now_ms).Bind(5, limit);
  while (st.Step()) out.push_back({st.Int(0), st.Int(1), static_cast<int>(st.Int(2))});
  for (const auto& e : out) {
    auto up = db_.Prepare("UPDATE appeals SET escalation=? WHERE id=?");
    up.Bind(1, e.level).Bind(2, e.appeal_id);
    up.Run();
  }
  return out;
}

}  // namespace exam::store
