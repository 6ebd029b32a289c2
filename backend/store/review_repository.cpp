#include "backend/store/review_repository.h"

namespace exam::store {
namespace {

constexpr const char* kRecordingColumns =
    "id, session_id, kind, segment, codec, container, duration_ms, utc_start_ms, size, sha256, path";

RecordingRow ReadRecording(Statement& st) {
  RecordingRow r;
  r.id = st.Int(0);
  r.session_id = st.Int(1);
  r.kind = static_cast<int>(st.Int(2));
  r.segment = static_cast<int>(st.Int(3));
  r.codec = st.Text(4);
  r.container = st.Text(5);
  r.duration_ms = st.Int(6);
  r.utc_start_ms = st.Int(7);
  r.size = st.Int(8);
  r.sha256 = st.Text(9);
  r.path = st.Text(10);
  return r;
}

ScoreRow ReadScore(Statement& st) {
  ScoreRow r;
  r.id = st.Int(0);
  r.session_id = st.Int(1);
  r.question = static_cast<int>(st.Int(2));
  r.grader = st.Text(3);
  r.score = st.Real(4);
  r.comment = st.Text(5);
  r.scored_at_ms = st.Int(6);
  return r;
}

}  // namespace

int64_t ReviewRepository::PutRecording(const RecordingRow& r, int64_t now_ms) {
  db_.Prepare(
         "INSERT INTO recordings(session_id, kind, segment, codec, container, duration_ms, utc_start_ms, size, "
         "sha256, path, created_at) VALUES(?,?,?,?,?,?,?,?,?,?,?) "
         "ON CONFLICT(session_id, kind, segment) DO UPDATE SET codec=excluded.codec, container=excluded.container, "
         "duration_ms=excluded.duration_ms, utc_start_ms=excluded.utc_start_ms, size=excluded.size, "
         "sha256=excluded.sha256, path=excluded.path")
      .Bind(1, r.session_id)
      .Bind(2, static_cast<int64_t>(r.kind))
      .Bind(3, static_cast<int64_t>(r.segment))
      .Bind(4, r.codec)
      .Bind(5, r.container)
      .Bind(6, r.duration_ms)
      .Bind(7, r.utc_start_ms)
      .Bind(8, r.size)
      .Bind(9, r.sha256)
      .Bind(10, r.path)
      .Bind(11, now_ms)
      .Run();
  auto st = db_.Prepare("SELECT id FROM recordings WHERE session_id=? AND kind=? AND segment=?");
  st.Bind(1, r.session_id).Bind(2, static_cast<int64_t>(r.kind)).Bind(3, static_cast<int64_t>(r.segment));
  st.Step();
  return st.Int(0);
}

std::optional<RecordingRow> ReviewRepository::GetRecording(int64_t id) {
  auto st = db_.Prepare(std::string("SELECT ") + kRecordingColumns + " FROM recordings WHERE id=?");
  st.Bind(1, id);
  if (!st.Step()) return std::nullopt;
  return ReadRecording(st);
}

std::vector<RecordingRow> ReviewRepository::ListRecordings(int64_t session_id) {
  auto st = db_.Prepare(std::string("SELECT ") + kRecordingColumns +
                        " FROM recordings WHERE session_id=? ORDER BY kind, segment");
  st.Bind(1, session_id);
  std::vector<RecordingRow> out;
  while (st.Step()) out.push_back(ReadRecording(st));
  return out;
}

int ReviewRepository::CountRecordings(int64_t session_id) {
  auto st = db_.Prepare("SELECT COUNT(*) FROM recordings WHERE session_id=?");
  st.Bind(1, session_id);
  st.Step();
  return static_cast<int>(st.Int(0));
}

void ReviewRepository::SetRubricItem(int64_t exam_id, const RubricItemRow& item) {
  db_.Prepare(
         "INSERT INTO rubric_items(exam_id, question, max_score, step) VALUES(?,?,?,?) "
         "ON CONFLICT(exam_id, question) DO UPDATE SET max_score=excluded.max_score, step=excluded.step")
      .Bind(1, exam_id)
      .Bind(2, static_cast<int64_t>(item.question))
      .Bind(3, item.max_score)
      .Bind(4, item.step)
      .Run();
}

std::vector<RubricItemRow> ReviewRepository::Rubric(int64_t exam_id) {
  auto st = db_.Prepare("SELECT question, max_score, step FROM rubric_items WHERE exam_id=? ORDER BY question");
  st.Bind(1, exam_id);
  std::vector<RubricItemRow> out;
  while (st.Step()) out.push_back({static_cast<int>(st.Int(0)), st.Real(1), st.Real(2)});
  return out;
}

ScoreRow ReviewRepository::PutScore(const ScoreRow& row, std::optional<ScoreRow>* before) {
  constexpr const char* kFind =
      "SELECT id, session_id, question, grader, score, comment, scored_at FROM scores "
      "WHERE session_id=? AND question=? AND grader=?";
  auto find = [&] {
    auto st = db_.Prepare(kFind);
    st.Bind(1, row.session_id).Bind(2, static_cast<int64_t>(row.question)).Bind(3, row.grader);
    return st.Step() ? std::optional<ScoreRow>(ReadScore(st)) : std::nullopt;
  };
  if (before) *before = find();
  db_.Prepare(
         "INSERT INTO scores(session_id, question, grader, score, comment, scored_at) VALUES(?,?,?,?,?,?) "
         "ON CONFLICT(session_id, question, grader) DO UPDATE SET score=excluded.score, comment=excluded.comment, "
         "scored_at=excluded.scored_at")
      .Bind(1, row.session_id)
      .Bind(2, static_cast<int64_t>(row.question))
      .Bind(3, row.grader)
      .Bind(4, row.score)
      .Bind(5, row.comment)
      .Bind(6, row.scored_at_ms)
      .Run();
  return *find();
}

std::vector<ScoreRow> ReviewRepository::ListScores(int64_t session_id, const std::string& grader) {
  auto st = db_.Prepare(
      "SELECT id, session_id, question, grader, score, comment, scored_at FROM scores "
      "WHERE session_id=? AND (?='' OR grader=?) ORDER BY question, grader");
  st.Bind(1, session_id).Bind(2, grader).Bind(3, grader);
  std::vector<ScoreRow> out;
  while (st.Step()) out.push_back(ReadScore(st));
  return out;
}

int64_t ReviewRepository::AddAnnotation(const AnnotationRow& row) {
  db_.Prepare("INSERT INTO annotations(session_id, at_ms, text, author, created_at) VALUES(?,?,?,?,?)")
      .Bind(1, row.session_id)
      .Bind(2, row.at_ms)
      .Bind(3, row.text)
      .Bind(4, row.author)
      .Bind(5, row.created_at_ms)
      .Run();
  return db_.LastInsertId();
}

std::vector<AnnotationRow> ReviewRepository::ListAnnotations(int64_t session_id) {
  auto st = db_.Prepare(
      "SELECT id, session_id, at_ms, text, author, created_at FROM annotations WHERE session_id=? "
      "ORDER BY at_ms, id");
  st.Bind(1, session_id);
  std::vector<AnnotationRow> out;
  while (st.Step())
    out.push_back({st.Int(0), st.Int(1), st.Int(2), st.Text(3), st.Text(4), st.Int(5)});
  return out;
}

void ReviewRepository::PutDemoPlan(int64_t session_id, const std::string& plan) {
  db_.Prepare("INSERT OR REPLACE INTO demo_recording_plans(session_id, plan) VALUES(?,?)")
      .Bind(1, session_id)
      .Bind(2, plan)
      .Run();
}

std::vector<std::pair<int64_t, std::string>> ReviewRepository::DemoPlans() {
  auto st = db_.Prepare("SELECT session_id, plan FROM demo_recording_plans ORDER BY session_id");
  std::vector<std::pair<int64_t, std::string>> out;
  while (st.Step()) out.emplace_back(st.Int(0), st.Text(1));
  return out;
}

void ReviewRepository::RemoveDemoPlan(int64_t session_id) {
  db_.Prepare("DELETE FROM demo_recording_plans WHERE session_id=?").Bind(1, session_id).Run();
}

}  // namespace exam::store
