#include "core/exam_rules.h"

#include <algorithm>

namespace exam::core {

ExamRules DefaultRules(ExamKind kind) {
  ExamRules r;
  // Interviews let latecomers in for two minutes; tests close entry at the start.
  r.entry_closes_after = kind == ExamKind::kTest ? Duration(0) : Duration(minutes(2));
  return r;
}

Duration ExamPlan::TotalQuestionTime() const {
  Duration total{0};
  for (const auto& q : questions) total += q.reading_time + q.answer_time;
  return total;
}

TimePoint AppealDeadline(TimePoint filed_at, TimePoint exam_start, const ExamRules& rules) {
  if (filed_at >= exam_start) return filed_at + rules.appeal_sla_during_exam;
  return std::min(filed_at + rules.appeal_sla_before_start, exam_start + rules.appeal_sla_during_exam);
}

TimePoint UploadResumeDeadline(TimePoint ended_at, const ExamRules& rules, Duration extension) {
  return ended_at + rules.upload_resume_deadline + extension;
}

}  // namespace exam::core
