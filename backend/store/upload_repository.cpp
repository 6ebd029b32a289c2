#include "backend/store/upload_repository.h"

#include <google/protobuf/util/time_util.h>

namespace exam::store {

namespace v1 = exam::v1;
using google::protobuf::util::TimeUtil;

namespace {

constexpr std::string_view kSelect =
    "SELECT f.id, f.session_id, s.draw_number, s.candidate_name, f.device, COALESCE(d.model, ''), f.kind, "
    "f.state, f.size, f.committed, f.last_progress_at, s.ended_at, s.exam_id, f.deadline_extension_ms, "
    "f.recall_requested, f.version, f.name, f.sha256, COALESCE(d.online, 0), d.last_seen, f.abnormal_reason, "
    "f.rerecord_allowed, f.created_at, f.rate, s.room_id, f.stored_path FROM upload_files f JOIN sessions s ON "
    "s.id=f.session_id LEFT JOIN devices d ON d.session_id=f.session_id AND d.kind=f.device ";

UploadRow ReadRow(Statement& st) {
  UploadRow row;
  auto* f = &row.proto;
  f->set_id(st.Int(0));
  f->set_session_id(st.Int(1));
  f->set_draw_number(static_cast<int32_t>(st.Int(2)));
  f->set_candidate_name(st.Text(3));
  f->set_device(static_cast<v1::DeviceKind>(st.Int(4)));
  f->set_device_model(st.Text(5));
  f->set_kind(static_cast<v1::TrackKind>(st.Int(6)));
  f->set_state(static_cast<v1::UploadState>(st.Int(7)));
  f->set_size(st.Int(8));
  f->set_committed(st.Int(9));
  if (!st.IsNull(10)) *f->mutable_last_progress_at() = TimeUtil::MillisecondsToTimestamp(st.Int(10));
  row.session_ended_at_ms = st.OptInt(11);
  if (row.session_ended_at_ms) *f->mutable_session_ended_at() = TimeUtil::MillisecondsToTimestamp(*row.session_ended_at_ms);
  row.exam_id = st.Int(12);
  row.deadline_extension_ms = st.Int(13);
  if (row.deadline_extension_ms) *f->mutable_deadline_extension() = TimeUtil::MillisecondsToDuration(row.deadline_extension_ms);
  f->set_recall_requested(st.Int(14) != 0);
  f->set_version(st.Int(15));
  f->set_name(st.Text(16));
  f->set_sha256(st.Text(17));
  f->set_device_online(st.Int(18) != 0);
  if (!st.IsNull(19)) *f->mutable_device_last_seen() = TimeUtil::MillisecondsToTimestamp(st.Int(19));
  f->set_abnormal_reason(st.Text(20));
  f->set_rerecord_allowed(st.Int(21) != 0);
  if (st.Int(22)) *f->mutable_created_at() = TimeUtil::MillisecondsToTimestamp(st.Int(22));
  f->set_rate(st.Real(23));
  f->set_room_id(st.Int(24));
  row.stored_path = st.Text(25);
  return row;
}

}  // namespace

std::vector<UploadRow> UploadRepository::Query(std::string_view where, const std::function<void(Statement&)>& bind) {
  std::vector<UploadRow> out;
  auto st = db_.Prepare(std::string(kSelect) + std::string(where));
  bind(st);
  while (st.Step()) out.push_back(ReadRow(st));
  return out;
}

std::vector<UploadRow> UploadRepository::List(int64_t exam_id, bool incomplete_only) {
  return Query("WHERE s.exam_id=? AND (?=0 OR f.state<>5) ORDER BY f.session_id, f.device, f.id",
               [&](Statement& st) { st.Bind(1, exam_id).Bind(2, incomplete_only ? 1 : 0); });
}

std::vector<UploadRow> UploadRepository::ListForSession(int64_t session_id) {
  return Query("WHERE f.session_id=? ORDER BY f.device, f.id", [&](Statement& st) { st.Bind(1, session_id); });
}

std::optional<UploadRow> UploadRepository::Get(int64_t file_id) {
  auto rows = Query("WHERE f.id=?", [&](Statement& st) { st.Bind(1, file_id); });
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

std::optional<UploadRow> UploadRepository::Find(int64_t session_id, int device, std::string_view name) {
  auto rows = Query("WHERE f.session_id=? AND f.device=? AND f.name=?",
                    [&](Statement& st) { st.Bind(1, session_id).Bind(2, device).Bind(3, name); });
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

int64_t UploadRepository::Insert(int64_t session_id, int device, std::string_view name, int kind,
                                 v1::UploadState state, int64_t size, std::string_view sha256, int64_t now_ms,
                                 std::string_view abnormal_reason) {
  auto st = db_.Prepare(
      "INSERT INTO upload_files(session_id, device, name, kind, state, size, sha256, created_at, abnormal_reason) "
      "VALUES(?,?,?,?,?,?,?,?,?)");
  st.Bind(1, session_id).Bind(2, device).Bind(3, name).Bind(4, kind).Bind(5, static_cast<int>(state));
  st.Bind(6, size).Bind(7, sha256).Bind(8, now_ms).Bind(9, abnormal_reason);
  st.Run();
  return db_.LastInsertId();
}

bool UploadRepository::Apply(int64_t file_id, int64_t expected_version, const UploadChange& c) {
  auto st = db_.Prepare(
      "UPDATE upload_files SET state=?, committed=?, last_progress_at=COALESCE(?, last_progress_at), rate=?, "
      "recall_requested=CASE WHEN ? IN (3,5) THEN 0 ELSE recall_requested END, version=version+1 WHERE id=? AND version=?");
  st.Bind(1, static_cast<int>(c.state)).Bind(2, c.committed).Bind(3, c.last_progress_at_ms).Bind(4, c.rate);
  st.Bind(5, static_cast<int>(c.state)).Bind(6, file_id).Bind(7, expected_version);
  st.Run();
  return db_.Changes() == 1;
}

void UploadRepository::SetStoredPath(int64_t file_id, std::string_view path) {
  auto st = db_.Prepare("UPDATE upload_files SET stored_path=? WHERE id=?");
  st.Bind(1, path).Bind(2, file_id);
  st.Run();
}

void UploadRepository::SetRecall(int64_t file_id, bool requested) {
  auto st = db_.Prepare("UPDATE upload_files SET recall_requested=?, version=version+1 WHERE id=?");
  st.Bind(1, requested ? 1 : 0).Bind(2, file_id);
  st.Run();
}

void UploadRepository::AddExtension(int64_t file_id, int64_t extension_ms) {
  auto st = db_.Prepare(
      "UPDATE upload_files SET deadline_extension_ms=deadline_extension_ms+?, version=version+1 WHERE id=?");
  st.Bind(1, extension_ms).Bind(2, file_id);
  st.Run();
}

void UploadRepository::MarkAbnormal(int64_t file_id, std::string_view reason, bool rerecord_allowed) {
  auto st = db_.Prepare(
      "UPDATE upload_files SET state=6, abnormal_reason=?, rerecord_allowed=?, recall_requested=0, "
      "version=version+1 WHERE id=?");
  st.Bind(1, reason).Bind(2, rerecord_allowed ? 1 : 0).Bind(3, file_id);
  st.Run();
}

void UploadRepository::BumpVersion(int64_t file_id) {
  auto st = db_.Prepare("UPDATE upload_files SET version=version+1 WHERE id=?");
  st.Bind(1, file_id);
  st.Run();
}

void UploadRepository::AddHistory(int64_t file_id, int64_t at_ms, std::string_view kind, std::string_view actor,
                                  std::string_view detail) {
  auto st = db_.Prepare("INSERT INTO upload_history(file_id, time, kind, actor, detail) VALUES(?,?,?,?,?)");
  st.Bind(1, file_id).Bind(2, at_ms).Bind(3, kind).Bind(4, actor).Bind(5, detail);
  st.Run();
}

std::vector<v1::UploadHistoryEntry> UploadRepository::History(int64_t file_id) {
  std::vector<v1::UploadHistoryEntry> out;
  auto st = db_.Prepare("SELECT time, kind, actor, detail FROM upload_history WHERE file_id=? ORDER BY id");
  st.Bind(1, file_id);
  while (st.Step()) {
    v1::UploadHistoryEntry e;
    *e.mutable_at() = TimeUtil::MillisecondsToTimestamp(st.Int(0));
    e.set_kind(st.Text(1));
    e.set_actor(st.Text(2));
    e.set_detail(st.Text(3));
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<int64_t> UploadRepository::QuietUploads(int64_t cutoff_ms, int limit) {
  std::vector<int64_t> out;
  auto st = db_.Prepare("SELECT id FROM upload_files WHERE state=3 AND last_progress_at<? ORDER BY id LIMIT ?");
  st.Bind(1, cutoff_ms).Bind(2, limit);
  while (st.Step()) out.push_back(st.Int(0));
  return out;
}

std::vector<int64_t> UploadRepository::RecordingOfEndedSessions(int limit) {
  std::vector<int64_t> out;
  auto st = db_.Prepare(
      "SELECT f.id FROM upload_files f JOIN sessions s ON s.id=f.session_id WHERE f.state=1 AND s.ended_at IS NOT "
      "NULL ORDER BY f.id LIMIT ?");
  st.Bind(1, limit);
  while (st.Step()) out.push_back(st.Int(0));
  return out;
}

int UploadRepository::CountUnfinished(int64_t session_id) {
  auto st = db_.Prepare("SELECT COUNT(*) FROM upload_files WHERE session_id=? AND state NOT IN (5,6)");
  st.Bind(1, session_id);
  st.Step();
  return static_cast<int>(st.Int(0));
}

}  // namespace exam::store
