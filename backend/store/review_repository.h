#pragma once
// Review of finished sessions: the recordings of a session (one row per file), the exam's
// score sheet, graders' scores and reviewers' notes. Recording files live under the media
// directory; rows hold their path relative to it, so the directory can move (or become an
// object-store prefix) without touching the rows.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backend/store/database.h"

namespace exam::store {

struct RecordingRow {
  int64_t id = 0;
  int64_t session_id = 0;
  int kind = 0;     // exam.v1.TrackKind
  int segment = 0;  // part of an interrupted recording, 0 first
  std::string codec;
  std::string container;
  int64_t duration_ms = 0;
  int64_t utc_start_ms = 0;  // by the recording device's clock
  int64_t size = 0;
  std::string sha256;
  std::string path;  // relative to the media directory
};

struct RubricItemRow {
  int question = 0;
  double max_score = 0;
  double step = 0;
};

struct ScoreRow {
  int64_t id = 0;
  int64_t session_id = 0;
  int question = 0;
  std::string grader;
  double score = 0;
  std::string comment;
  int64_t scored_at_ms = 0;
};

struct AnnotationRow {
  int64_t id = 0;
  int64_t session_id = 0;
  int64_t at_ms = 0;
  std::string text;
  std::string author;
  int64_t created_at_ms = 0;
};

class ReviewRepository {
 public:
  explicit ReviewRepository(Database& db) : db_(db) {}

  // Inserts or, for the same (session, kind, segment), replaces a recording. Returns its id.
  int64_t PutRecording(const RecordingRow& row, int64_t now_ms);
  std::optional<RecordingRow> GetRecording(int64_t id);
  // By kind, then segment.
  std::vector<RecordingRow> ListRecordings(int64_t session_id);
  int CountRecordings(int64_t session_id);

  void SetRubricItem(int64_t exam_id, const RubricItemRow& item);
  std::vector<RubricItemRow> Rubric(int64_t exam_id);

  // Inserts or replaces the grader's score for (session, question); *before gets the row it
  // replaced, if any. Returns the row as stored (its id is stable across replacements).
  ScoreRow PutScore(const ScoreRow& row, std::optional<ScoreRow>* before);
  // grader empty: every grader's.
  std::vector<ScoreRow> ListScores(int64_t session_id, const std::string& grader);

  int64_t AddAnnotation(const AnnotationRow& row);
  std::vector<AnnotationRow> ListAnnotations(int64_t session_id);

  // Demo recordings still to be made: session → plan text (see media::RecordingPlan).
  void PutDemoPlan(int64_t session_id, const std::string& plan);
  std::vector<std::pair<int64_t, std::string>> DemoPlans();
  void RemoveDemoPlan(int64_t session_id);

 private:
  Database& db_;
};

}  // namespace exam::store
