#pragma once
// Timing rules of one exam (defaults from the candidate manuals, configurable per exam)
// and the pure functions that apply them. Both the backend and the console use these, so
// a countdown on screen and a refusal from the backend agree.
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/stage.h"

namespace exam::core {

using Duration = std::chrono::milliseconds;
using TimePoint = std::chrono::time_point<std::chrono::system_clock, Duration>;

inline TimePoint FromUnixMillis(int64_t ms) { return TimePoint(Duration(ms)); }
inline int64_t ToUnixMillis(TimePoint t) { return t.time_since_epoch().count(); }

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

struct ExamRules {
  Duration face_login_opens_before = minutes(60);
  Duration enter_opens_before = minutes(15);
  // Interview: start + 2 min; test: at the start. See DefaultRules().
  Duration entry_closes_after = minutes(2);
  Duration waiting_room = minutes(30);
  Duration appeal_sla_before_start = hours(2);
  Duration appeal_sla_during_exam = minutes(30);
  int face_failures_before_appeal = 3;
  int interruptions_allowed = 1;
  Duration interruption_resume_limit = minutes(2);
  Duration upload_resume_deadline = hours(2);
  Duration face_check_cancel_wait = minutes(1);
  bool rerecord_allowed = false;
};

ExamRules DefaultRules(ExamKind kind);

struct QuestionSpec {
  Duration reading_time{0};
  Duration answer_time = minutes(5);
};

struct ExamPlan {
  ExamKind kind = ExamKind::kInterview;
  TimePoint start;
  std::vector<QuestionSpec> questions;
  ExamRules rules;

  TimePoint FaceLoginOpensAt() const { return start - rules.face_login_opens_before; }
  TimePoint EnterOpensAt() const { return start - rules.enter_opens_before; }
  TimePoint EntryClosesAt() const { return start + rules.entry_closes_after; }
  TimePoint WaitingRoomOpensAt() const { return start - rules.waiting_room; }
  // Sum of every question's reading and answer time.
  Duration TotalQuestionTime() const;
};

// When a manual-review appeal must be decided: filed + 2 h before the start, filed + 30 min
// once the exam has started; an appeal filed before the start keeps the earlier of
// filed + 2 h and start + 30 min, so it cannot outlive the in-exam SLA.
TimePoint AppealDeadline(TimePoint filed_at, TimePoint exam_start, const ExamRules& rules);

// Whether an appeal decided at `decided_at` met its deadline (a decision exactly at the
// deadline counts as in time).
inline bool WithinSla(TimePoint decided_at, TimePoint deadline) { return decided_at <= deadline; }

// Resume deadline of an upload whose session ended at `ended_at`, plus any extension.
TimePoint UploadResumeDeadline(TimePoint ended_at, const ExamRules& rules, Duration extension = Duration(0));

}  // namespace exam::core
