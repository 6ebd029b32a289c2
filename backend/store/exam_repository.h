#pragma once
// Exams, rooms, candidate sessions and their devices (one aggregate: a session's state
// is only meaningful with its exam's plan).
#include <optional>
#include <string>
#include <vector>

#include "backend/store/database.h"
#include "core/session_machine.h"
#include "exam/v1/exam.pb.h"

namespace exam::store {

struct ExamRecord {
  exam::v1::Exam proto;  // title, kind, start, questions, rules
  std::string access_code;
  core::ExamPlan plan;
};

struct SessionRow {
  int64_t id = 0;
  int64_t exam_id = 0;
  int64_t room_id = 0;
  std::string registration_no;
  std::string candidate_name;
  std::string id_number;
  int draw_number = 0;
  core::SessionState state;
  int open_help = 0;
  int open_alerts = 0;
  int pending_uploads = 0;
  int64_t version = 0;
  int64_t updated_at_ms = 0;
};

// An ended session that reached the questions, as the review list shows it.
struct ReviewSessionRow {
  int64_t id = 0;
  int draw_number = 0;
  int64_t exam_id = 0;
  int pending_uploads = 0;
};

class ExamRepository {
 public:
  explicit ExamRepository(Database& db) : db_(db) {}

  int64_t CreateExam(const exam::v1::Exam& exam, const std::string& access_code);
  int64_t CreateRoom(int64_t exam_id, const std::string& name);
  // The photo on file from registration (what appeals compare the live face with).
  void SetRegistrationPhoto(int64_t session_id, const std::string& image);
  int64_t CreateSession(int64_t exam_id, int64_t room_id, const std::string& registration_no,
                        const std::string& name, const std::string& id_number, int64_t now_ms);

  std::optional<ExamRecord> GetExam(int64_t exam_id);
  std::vector<ExamRecord> ListExams();
  std::vector<int64_t> ExamIds();
  std::vector<exam::v1::Room> ListRooms(int64_t exam_id);
  std::optional<int64_t> RoomExam(int64_t room_id);

  std::optional<SessionRow> GetSession(int64_t session_id);
  std::optional<SessionRow> FindSession(int64_t exam_id, const std::string& registration_no);
  // room_id 0: every room of the exam.
  std::vector<SessionRow> ListSessions(int64_t exam_id, int64_t room_id);
  std::vector<int64_t> ActiveSessionIds();
  // Running sessions of an exam that time alone may change at `now_ms`: not yet in the
  // waiting room after entry closed, a question countdown that ran out, or an interruption
  // past its limit. Keeps the ticker off the thousands of sessions with nothing due.
  std::vector<SessionRow> ListSessionsDue(int64_t exam_id, const core::ExamPlan& plan, int64_t now_ms);
  // Ended sessions of an exam that reached the questions, by draw number.
  std::vector<ReviewSessionRow> ListReviewSessions(int64_t exam_id);
  // The next draw number of an exam (1 for the first).
  int NextDrawNumber(int64_t exam_id);
  // Writes the row back and bumps its version.
  void SaveSession(SessionRow& row, int64_t now_ms);

  void UpsertDevice(int64_t session_id, int kind, const std::string& model, bool online, int64_t now_ms);
  // Moves last_seen forward to `seen_ms` (never back); leaves online as it is.
  void TouchDevice(int64_t session_id, int kind, int64_t seen_ms);
  std::vector<exam::v1::Device> ListDevices(int64_t session_id);
  // Devices whose last heartbeat is older than `before_ms` and still marked online.
  std::vector<std::pair<int64_t, int>> StaleOnlineDevices(int64_t before_ms);

  // The wire form. `redact_identity` blanks name and registration number (graders).
  exam::v1::Session ToProto(const SessionRow& row, bool redact_identity);

 private:
  Database& db_;
};

core::ExamPlan PlanFromProto(const exam::v1::Exam& exam);

}  // namespace exam::store
