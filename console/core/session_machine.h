#pragma once
// The state machine of one candidate's session: stage order, time windows, face checks,
// interruptions and question countdowns. Pure: the caller passes `now` and stores the state.
#include <optional>
#include <string>

#include "core/exam_rules.h"

namespace exam::core {

struct SessionState {
  Stage stage = Stage::kUnspecified;
  Outcome outcome = Outcome::kInProgress;
  int current_question = 0;  // 1-based; 0 before answering
  std::optional<TimePoint> question_deadline;
  std::optional<TimePoint> answering_started_at;
  int interruptions = 0;
  std::optional<TimePoint> interruption_started_at;
  int face_failures = 0;
  bool identity_confirmed = false;  // a passed face check or an approved appeal
  bool appeal_pending = false;
  std::optional<TimePoint> face_retry_not_before;
  std::optional<TimePoint> ended_at;

  bool Ended() const { return stage == Stage::kEnded; }
};

// Why a request was refused. kNone means it was accepted.
enum class Refusal {
  kNone,
  kEnded,            // the session is over
  kOutOfOrder,       // not the next stage
  kTooEarly,         // the window has not opened
  kEntryClosed,      // too late: the session is forfeited
  kIdentityPending,  // face login not passed (or appeal undecided)
  kRetryTooSoon,     // within the wait after a cancelled face check
  kNotAnswering,     // question reports outside the answering stage
  kWrongQuestion,    // question out of order
  kNoInterruption,   // resume without an interruption in progress
  kAlreadyInterrupted,
};

struct Verdict {
  Refusal refusal = Refusal::kNone;
  std::string message;  // human-readable, English
  bool ok() const { return refusal == Refusal::kNone; }
};

struct FaceCheckResult {
  Verdict verdict;
  bool appeal_required = false;
};

class SessionMachine {
 public:
  explicit SessionMachine(const ExamPlan& plan) : plan_(plan) {}

  // Moves to `to`, which must be the next stage and inside its time window. A report that
  // comes after entry closed forfeits the session (and is refused).
  Verdict AdvanceStage(SessionState& s, Stage to, TimePoint now) const;

  // Records a face check during face login.
  FaceCheckResult FaceCheck(SessionState& s, bool passed, bool cancelled, TimePoint now) const;

  // An appeal was decided: approval confirms identity; rejection ends the session.
  void AppealDecided(SessionState& s, bool approved, TimePoint now) const;

  // A recording stopped. The first (up to interruptions_allowed) may resume; one more ends
  // the exam early.
  Verdict InterruptionStarted(SessionState& s, TimePoint now) const;
  // The recording resumed. Later than interruption_resume_limit ends the exam early.
  Verdict InterruptionEnded(SessionState& s, TimePoint now) const;

  // A question appeared (answer_complete=false) or "该题回答完毕" was said.
  Verdict QuestionReport(SessionState& s, int question, bool answer_complete, TimePoint now) const;

  // A proctor ended the exam.
  void Terminate(SessionState& s, TimePoint now) const;

  // Applies what time alone decides: forfeits after entry closes, question auto-advance,
  // completion after the last question, an interruption that ran past its limit.
  // Returns true when anything changed.
  bool Tick(SessionState& s, TimePoint now) const;

  // When question `index` (1-based) ends for a session that started answering at `begin`.
  TimePoint QuestionDeadline(TimePoint begin, int index) const;

  const ExamPlan& plan() const { return plan_; }

 private:
  void End(SessionState& s, Outcome outcome, TimePoint now) const;
  const ExamPlan& plan_;
};

std::string_view RefusalName(Refusal r);

}  // namespace exam::core
