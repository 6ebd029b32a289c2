#include "core/session_machine.h"

#include <algorithm>

namespace exam::core {
namespace {

Verdict Refuse(Refusal r, std::string message) { return Verdict{r, std::move(message)}; }

}  // namespace

std::string_view RefusalName(Refusal r) {
  switch (r) {
    case Refusal::kNone: return "none";
    case Refusal::kEnded: return "ended";
    case Refusal::kOutOfOrder: return "out-of-order";
    case Refusal::kTooEarly: return "too-early";
    case Refusal::kEntryClosed: return "entry-closed";
    case Refusal::kIdentityPending: return "identity-pending";
    case Refusal::kRetryTooSoon: return "retry-too-soon";
    case Refusal::kNotAnswering: return "not-answering";
    case Refusal::kWrongQuestion: return "wrong-question";
    case Refusal::kNoInterruption: return "no-interruption";
    case Refusal::kAlreadyInterrupted: return "already-interrupted";
  }
  return "unknown";
}

TimePoint SessionMachine::QuestionDeadline(TimePoint begin, int index) const {
  TimePoint t = begin;
  const int n = std::min<int>(index, static_cast<int>(plan_.questions.size()));
  for (int i = 0; i < n; ++i) t += plan_.questions[i].reading_time + plan_.questions[i].answer_time;
  return t;
}

void SessionMachine::End(SessionState& s, Outcome outcome, TimePoint now) const {
  s.stage = Stage::kEnded;
  s.outcome = outcome;
  s.ended_at = now;
  s.question_deadline.reset();
  s.interruption_started_at.reset();
}

Verdict SessionMachine::AdvanceStage(SessionState& s, Stage to, TimePoint now) const {
  if (s.Ended()) return Refuse(Refusal::kEnded, "the session has ended");
  if (to == s.stage) return {};  // a repeated report is harmless
  if (to != NextStage(s.stage) || to == Stage::kEnded)
    return Refuse(Refusal::kOutOfOrder, "stages must be reached in order");

  // Appeal candidates keep their right to enter: the delay is the backend's, not theirs.
  const bool late_entry_excused = s.identity_confirmed && s.face_failures >= plan_.rules.face_failures_before_appeal;
  switch (to) {
    case Stage::kFaceLogin:
      if (now < plan_.FaceLoginOpensAt()) return Refuse(Refusal::kTooEarly, "face login has not opened yet");
      break;
    case Stage::kEvidenceBinding:
      if (!s.identity_confirmed) return Refuse(Refusal::kIdentityPending, "face login not passed");
      break;
    case Stage::kEnter:
      if (now < plan_.EnterOpensAt()) return Refuse(Refusal::kTooEarly, "entry has not opened yet");
      [[fallthrough]];
    case Stage::kDeviceConfirm:
      if (now > plan_.EntryClosesAt() && !late_entry_excused) {
        End(s, Outcome::kForfeited, now);
        return Refuse(Refusal::kEntryClosed, "entry closed: the session is forfeited");
      }
      break;
    case Stage::kAnswering: {
      if (now < plan_.start) return Refuse(Refusal::kTooEarly, "the exam has not started");
      const TimePoint begin = std::max(now, plan_.start);
      s.answering_started_at = begin;
      s.current_question = plan_.questions.empty() ? 0 : 1;
      if (!plan_.questions.empty()) s.question_deadline = QuestionDeadline(begin, 1);
      break;
    }
    default:
      break;
  }
  s.stage = to;
  return {};
}

FaceCheckResult SessionMachine::FaceCheck(SessionState& s, bool passed, bool cancelled, TimePoint now) const {
  FaceCheckResult r;
  if (s.Ended()) {
    r.verdict = Refuse(Refusal::kEnded, "the session has ended");
    return r;
  }
  if (s.stage != Stage::kFaceLogin) {
    r.verdict = Refuse(Refusal::kOutOfOrder, "face checks happen during face login");
    return r;
  }
  if (s.appeal_pending) {
    r.verdict = Refuse(Refusal::kIdentityPending, "an appeal is being reviewed");
    return r;
  }
  if (s.face_retry_not_before && now < *s.face_retry_not_before) {
    r.verdict = Refuse(Refusal::kRetryTooSoon, "wait one minute after a cancelled check");
    return r;
  }
  if (cancelled) {
    s.face_retry_not_before = now + plan_.rules.face_check_cancel_wait;
    return r;
  }
  if (passed) {
    s.identity_confirmed = true;
    return r;
  }
  ++s.face_failures;
  r.appeal_required = s.face_failures >= plan_.rules.face_failures_before_appeal;
  return r;
}

void SessionMachine::AppealDecided(SessionState& s, bool approved, TimePoint now) const {
  s.appeal_pending = false;
  if (s.Ended()) return;
  if (approved) {
    s.identity_confirmed = true;
  } else {
    End(s, Outcome::kIdentityRejected, now);
  }
}

Verdict SessionMachine::InterruptionStarted(SessionState& s, TimePoint now) const {
  if (s.Ended()) return Refuse(Refusal::kEnded, "the session has ended");
  if (s.interruption_started_at) return Refuse(Refusal::kAlreadyInterrupted, "an interruption is already in progress");
  ++s.interruptions;
  if (s.interruptions > plan_.rules.interruptions_allowed) {
    End(s, Outcome::kEndedEarly, now);
    return {};
  }
  s.interruption_started_at = now;
  return {};
}

Verdict SessionMachine::InterruptionEnded(SessionState& s, TimePoint now) const {
  if (s.Ended()) return Refuse(Refusal::kEnded, "the session has ended");
  if (!s.interruption_started_at) return Refuse(Refusal::kNoInterruption, "no interruption in progress");
  if (now - *s.interruption_started_at > plan_.rules.interruption_resume_limit) {
    End(s, Outcome::kEndedEarly, now);
    return Refuse(Refusal::kEnded, "resumed too late: the exam ended early");
  }
  s.interruption_started_at.reset();
  return {};
}

Verdict SessionMachine::QuestionReport(SessionState& s, int question, bool answer_complete, TimePoint now) const {
  if (s.Ended()) return Refuse(Refusal::kEnded, "the session has ended");
  if (s.stage != Stage::kAnswering) return Refuse(Refusal::kNotAnswering, "not answering");
  // A report may trail the auto-advance by one question (network delay), never lead it.
  if (question > s.current_question || question < s.current_question - (answer_complete ? 1 : 0) || question < 1)
    return Refuse(Refusal::kWrongQuestion, "questions are answered in order");
  return {};
}

void SessionMachine::Terminate(SessionState& s, TimePoint now) const {
  if (!s.Ended()) End(s, Outcome::kTerminated, now);
}

bool SessionMachine::Tick(SessionState& s, TimePoint now) const {
  if (s.Ended()) return false;
  bool changed = false;
  if (s.stage < Stage::kDeviceConfirm && !s.appeal_pending && now > plan_.EntryClosesAt()) {
    const bool excused = s.identity_confirmed && s.face_failures >= plan_.rules.face_failures_before_appeal;
    if (!excused) {
      End(s, Outcome::kForfeited, plan_.EntryClosesAt());
      return true;
    }
  }
  if (s.interruption_started_at && now - *s.interruption_started_at > plan_.rules.interruption_resume_limit) {
    End(s, Outcome::kEndedEarly, *s.interruption_started_at + plan_.rules.interruption_resume_limit);
    return true;
  }
  if (s.stage == Stage::kAnswering && s.question_deadline && s.answering_started_at) {
    const int n = static_cast<int>(plan_.questions.size());
    while (s.question_deadline && now >= *s.question_deadline) {
      changed = true;
      if (s.current_question >= n) {
        End(s, Outcome::kCompleted, *s.question_deadline);
        break;
      }
      ++s.current_question;
      s.question_deadline = QuestionDeadline(*s.answering_started_at, s.current_question);
    }
  }
  return changed;
}

}  // namespace exam::core
