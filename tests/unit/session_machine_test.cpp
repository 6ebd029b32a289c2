#include <gtest/gtest.h>

#include "core/session_machine.h"

namespace exam::core {
namespace {

const TimePoint kStart = FromUnixMillis(1'780'000'000'000);
constexpr Duration kMs{1};

ExamPlan MakePlan(ExamKind kind = ExamKind::kInterview) {
  ExamPlan plan;
  plan.kind = kind;
  plan.start = kStart;
  plan.rules = DefaultRules(kind);
  plan.questions = {{Duration(0), minutes(5)}, {Duration(0), minutes(5)}};
  return plan;
}

// Drives a session to `target` with every step at its earliest legal time.
SessionState ReachStage(const SessionMachine& m, Stage target, TimePoint at) {
  SessionState s;
  for (Stage st = Stage::kDeviceCheck; static_cast<int>(st) <= static_cast<int>(target); st = NextStage(st)) {
    if (st == Stage::kEvidenceBinding) EXPECT_TRUE(m.FaceCheck(s, true, false, at).verdict.ok());
    EXPECT_TRUE(m.AdvanceStage(s, st, at).ok()) << StageNameEn(st);
    if (st == Stage::kEnded || st == target) break;
  }
  return s;
}

class SessionMachineTest : public ::testing::Test {
 protected:
  ExamPlan plan = MakePlan();
  SessionMachine m{plan};
};

TEST_F(SessionMachineTest, StagesMustComeInOrder) {
  SessionState s;
  EXPECT_EQ(m.AdvanceStage(s, Stage::kFaceLogin, kStart - minutes(30)).refusal, Refusal::kOutOfOrder);
  EXPECT_TRUE(m.AdvanceStage(s, Stage::kDeviceCheck, kStart - minutes(30)).ok());
  EXPECT_EQ(m.AdvanceStage(s, Stage::kDraw, kStart - minutes(30)).refusal, Refusal::kOutOfOrder);
  // Repeating the current stage is harmless (a retried report).
  EXPECT_TRUE(m.AdvanceStage(s, Stage::kDeviceCheck, kStart - minutes(30)).ok());
  EXPECT_EQ(s.stage, Stage::kDeviceCheck);
}

TEST_F(SessionMachineTest, FaceLoginOpensSixtyMinutesBeforeStart) {
  SessionState s;
  ASSERT_TRUE(m.AdvanceStage(s, Stage::kDeviceCheck, kStart - hours(2)).ok());
  EXPECT_EQ(m.AdvanceStage(s, Stage::kFaceLogin, kStart - minutes(60) - kMs).refusal, Refusal::kTooEarly);
  EXPECT_TRUE(m.AdvanceStage(s, Stage::kFaceLogin, kStart - minutes(60)).ok());
}

TEST_F(SessionMachineTest, EvidenceBindingNeedsAPassedFaceCheck) {
  SessionState s = ReachStage(m, Stage::kFaceLogin, kStart - minutes(40));
  EXPECT_EQ(m.AdvanceStage(s, Stage::kEvidenceBinding, kStart - minutes(40)).refusal, Refusal::kIdentityPending);
  EXPECT_TRUE(m.FaceCheck(s, true, false, kStart - minutes(40)).verdict.ok());
  EXPECT_TRUE(m.AdvanceStage(s, Stage::kEvidenceBinding, kStart - minutes(40)).ok());
}

TEST_F(SessionMachineTest, EnterActivatesFifteenMinutesBeforeStart) {
  SessionState s = ReachStage(m, Stage::kReadAttachments, kStart - minutes(40));
  EXPECT_EQ(m.AdvanceStage(s, Stage::kEnter, kStart - minutes(15) - kMs).refusal, Refusal::kTooEarly);
  EXPECT_TRUE(m.AdvanceStage(s, Stage::kEnter, kStart - minutes(15)).ok());
}

TEST_F(SessionMachineTest, InterviewEntryClosesTwoMinutesAfterStart) {
  SessionState on_time = ReachStage(m, Stage::kReadAttachments, kStart - minutes(40));
  EXPECT_TRUE(m.AdvanceStage(on_time, Stage::kEnter, kStart + minutes(2)).ok());

  SessionState late = ReachStage(m, Stage::kReadAttachments, kStart - minutes(40));
  EXPECT_EQ(m.AdvanceStage(late, Stage::kEnter, kStart + minutes(2) + kMs).refusal, Refusal::kEntryClosed);
  EXPECT_EQ(late.stage, Stage::kEnded);
  EXPECT_EQ(late.outcome, Outcome::kForfeited);
}

TEST(SessionMachineTestKind, TestEntryClosesAtStart) {
  const ExamPlan plan = MakePlan(ExamKind::kTest);
  SessionMachine m(plan);
  SessionState s = ReachStage(m, Stage::kReadAttachments, kStart - minutes(40));
  EXPECT_TRUE(m.AdvanceStage(s, Stage::kEnter, kStart).ok());
  SessionState late = ReachStage(m, Stage::kReadAttachments, kStart - minutes(40));
  EXPECT_EQ(m.AdvanceStage(late, Stage::kEnter, kStart + kMs).refusal, Refusal::kEntryClosed);
  EXPECT_EQ(late.outcome, Outcome::kForfeited);
}

TEST_F(SessionMachineTest, NotInTheWaitingRoomWhenEntryClosesForfeits) {
  SessionState s = ReachStage(m, Stage::kEnter, kStart - minutes(10));
  EXPECT_FALSE(m.Tick(s, kStart + minutes(2)));
  EXPECT_TRUE(m.Tick(s, kStart + minutes(2) + kMs));
  EXPECT_EQ(s.outcome, Outcome::kForfeited);
  EXPECT_EQ(*s.ended_at, kStart + minutes(2));

  SessionState waiting = ReachStage(m, Stage::kDeviceConfirm, kStart - minutes(10));
  EXPECT_FALSE(m.Tick(waiting, kStart + minutes(5)));
  EXPECT_EQ(waiting.outcome, Outcome::kInProgress);
}

TEST_F(SessionMachineTest, AnsweringStartsAtTheStartAndQuestionsAutoAdvance) {
  SessionState s = ReachStage(m, Stage::kDeviceConfirm, kStart - minutes(10));
  EXPECT_EQ(m.AdvanceStage(s, Stage::kAnswering, kStart - kMs).refusal, Refusal::kTooEarly);
  ASSERT_TRUE(m.AdvanceStage(s, Stage::kAnswering, kStart).ok());
  EXPECT_EQ(s.current_question, 1);
  EXPECT_EQ(*s.question_deadline, kStart + minutes(5));
  // No early finish: nothing moves before the countdown ends.
  EXPECT_FALSE(m.Tick(s, kStart + minutes(5) - kMs));
  EXPECT_TRUE(m.Tick(s, kStart + minutes(5)));
  EXPECT_EQ(s.current_question, 2);
  EXPECT_EQ(*s.question_deadline, kStart + minutes(10));
  EXPECT_TRUE(m.Tick(s, kStart + minutes(10)));
  EXPECT_EQ(s.stage, Stage::kEnded);
  EXPECT_EQ(s.outcome, Outcome::kCompleted);
  EXPECT_EQ(*s.ended_at, kStart + minutes(10));
}

TEST_F(SessionMachineTest, QuestionReportsFollowTheOrder) {
  SessionState s = ReachStage(m, Stage::kDeviceConfirm, kStart - minutes(10));
  EXPECT_EQ(m.QuestionReport(s, 1, false, kStart).refusal, Refusal::kNotAnswering);
  ASSERT_TRUE(m.AdvanceStage(s, Stage::kAnswering, kStart).ok());
  EXPECT_TRUE(m.QuestionReport(s, 1, false, kStart).ok());
  EXPECT_EQ(m.QuestionReport(s, 2, false, kStart).refusal, Refusal::kWrongQuestion);
  EXPECT_TRUE(m.QuestionReport(s, 1, true, kStart + minutes(4)).ok());
  m.Tick(s, kStart + minutes(5));
  // "该题回答完毕" for question 1 arriving just after the auto-advance is still accepted.
  EXPECT_TRUE(m.QuestionReport(s, 1, true, kStart + minutes(5)).ok());
  EXPECT_EQ(m.QuestionReport(s, 1, false, kStart + minutes(5)).refusal, Refusal::kWrongQuestion);
}

TEST_F(SessionMachineTest, ThreeFailedFaceChecksRequireAnAppeal) {
  SessionState s = ReachStage(m, Stage::kFaceLogin, kStart - minutes(50));
  EXPECT_FALSE(m.FaceCheck(s, false, false, kStart - minutes(50)).appeal_required);
  EXPECT_FALSE(m.FaceCheck(s, false, false, kStart - minutes(49)).appeal_required);
  EXPECT_TRUE(m.FaceCheck(s, false, false, kStart - minutes(48)).appeal_required);
  EXPECT_EQ(s.face_failures, 3);
  s.appeal_pending = true;
  EXPECT_EQ(m.FaceCheck(s, true, false, kStart - minutes(47)).verdict.refusal, Refusal::kIdentityPending);
}

TEST_F(SessionMachineTest, CancelledFaceCheckWaitsOneMinute) {
  SessionState s = ReachStage(m, Stage::kFaceLogin, kStart - minutes(50));
  const TimePoint t = kStart - minutes(50);
  EXPECT_TRUE(m.FaceCheck(s, false, true, t).verdict.ok());
  EXPECT_EQ(s.face_failures, 0);
  EXPECT_EQ(m.FaceCheck(s, true, false, t + minutes(1) - kMs).verdict.refusal, Refusal::kRetryTooSoon);
  EXPECT_TRUE(m.FaceCheck(s, true, false, t + minutes(1)).verdict.ok());
}

TEST_F(SessionMachineTest, ApprovedAppealConfirmsIdentityAndExcusesLateEntry) {
  SessionState s = ReachStage(m, Stage::kFaceLogin, kStart - minutes(50));
  for (int i = 0; i < 3; ++i) m.FaceCheck(s, false, false, kStart - minutes(50));
  s.appeal_pending = true;
  // A pending appeal does not forfeit the candidate.
  EXPECT_FALSE(m.Tick(s, kStart + minutes(10)));
  m.AppealDecided(s, true, kStart + minutes(10));
  EXPECT_TRUE(s.identity_confirmed);
  for (Stage st : {Stage::kEvidenceBinding, Stage::kDraw, Stage::kReadAttachments, Stage::kEnter, Stage::kDeviceConfirm})
    EXPECT_TRUE(m.AdvanceStage(s, st, kStart + minutes(11)).ok()) << StageNameEn(st);
}

TEST_F(SessionMachineTest, RejectedAppealEndsTheSession) {
  SessionState s = ReachStage(m, Stage::kFaceLogin, kStart - minutes(50));
  s.appeal_pending = true;
  m.AppealDecided(s, false, kStart - minutes(20));
  EXPECT_EQ(s.stage, Stage::kEnded);
  EXPECT_EQ(s.outcome, Outcome::kIdentityRejected);
}

TEST_F(SessionMachineTest, OneInterruptionMayResumeWithinTwoMinutes) {
  SessionState s = ReachStage(m, Stage::kDeviceConfirm, kStart - minutes(10));
  ASSERT_TRUE(m.AdvanceStage(s, Stage::kAnswering, kStart).ok());
  ASSERT_TRUE(m.InterruptionStarted(s, kStart + minutes(1)).ok());
  EXPECT_FALSE(m.Tick(s, kStart + minutes(3)));  // exactly 2:00 is still allowed
  EXPECT_TRUE(m.InterruptionEnded(s, kStart + minutes(3)).ok());
  EXPECT_EQ(s.outcome, Outcome::kInProgress);
  EXPECT_EQ(s.interruptions, 1);
}

TEST_F(SessionMachineTest, ResumingAtTwoMinutesOneSecondEndsTheExamEarly) {
  SessionState s = ReachStage(m, Stage::kDeviceConfirm, kStart - minutes(10));
  ASSERT_TRUE(m.AdvanceStage(s, Stage::kAnswering, kStart).ok());
  ASSERT_TRUE(m.InterruptionStarted(s, kStart + minutes(1)).ok());
  EXPECT_EQ(m.InterruptionEnded(s, kStart + minutes(3) + seconds(1)).refusal, Refusal::kEnded);
  EXPECT_EQ(s.outcome, Outcome::kEndedEarly);
}

TEST_F(SessionMachineTest, AnInterruptionThatNeverResumesEndsTheExamAtTheLimit) {
  SessionState s = ReachStage(m, Stage::kDeviceConfirm, kStart - minutes(10));
  ASSERT_TRUE(m.AdvanceStage(s, Stage::kAnswering, kStart).ok());
  ASSERT_TRUE(m.InterruptionStarted(s, kStart + minutes(1)).ok());
  EXPECT_TRUE(m.Tick(s, kStart + minutes(3) + kMs));
  EXPECT_EQ(s.outcome, Outcome::kEndedEarly);
  EXPECT_EQ(*s.ended_at, kStart + minutes(3));
}

TEST_F(SessionMachineTest, ASecondInterruptionEndsTheExamEarly) {
  SessionState s = ReachStage(m, Stage::kDeviceConfirm, kStart - minutes(10));
  ASSERT_TRUE(m.AdvanceStage(s, Stage::kAnswering, kStart).ok());
  ASSERT_TRUE(m.InterruptionStarted(s, kStart + minutes(1)).ok());
  ASSERT_TRUE(m.InterruptionEnded(s, kStart + minutes(1) + seconds(30)).ok());
  ASSERT_TRUE(m.InterruptionStarted(s, kStart + minutes(2)).ok());
  EXPECT_EQ(s.stage, Stage::kEnded);
  EXPECT_EQ(s.outcome, Outcome::kEndedEarly);
  EXPECT_EQ(s.interruptions, 2);
}

TEST_F(SessionMachineTest, TerminationEndsOnceAndEndedSessionsRefuseEverything) {
  SessionState s = ReachStage(m, Stage::kDeviceConfirm, kStart - minutes(10));
  m.Terminate(s, kStart - minutes(5));
  EXPECT_EQ(s.outcome, Outcome::kTerminated);
  m.Terminate(s, kStart);
  EXPECT_EQ(*s.ended_at, kStart - minutes(5));
  EXPECT_EQ(m.AdvanceStage(s, Stage::kAnswering, kStart).refusal, Refusal::kEnded);
  EXPECT_EQ(m.InterruptionStarted(s, kStart).refusal, Refusal::kEnded);
  EXPECT_FALSE(m.Tick(s, kStart + hours(1)));
}

}  // namespace
}  // namespace exam::core
