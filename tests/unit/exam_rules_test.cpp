#include <gtest/gtest.h>

#include "core/exam_rules.h"

namespace exam::core {
namespace {

const TimePoint kStart = FromUnixMillis(1'780'000'000'000);

TEST(AppealDeadline, BeforeStartIsTwoHoursWhenThatEndsBeforeTheExamIsHalfAnHourIn) {
  const auto rules = DefaultRules(ExamKind::kInterview);
  EXPECT_EQ(AppealDeadline(kStart - hours(3), kStart, rules), kStart - hours(1));
  EXPECT_EQ(AppealDeadline(kStart - minutes(90), kStart, rules), kStart + minutes(30));
}

TEST(AppealDeadline, PreExamAppealStillOpenAtStartKeepsTheEarlierDeadline) {
  const auto rules = DefaultRules(ExamKind::kInterview);
  // Filed 1 h before: filed + 2 h = start + 1 h, but start + 30 min is earlier.
  EXPECT_EQ(AppealDeadline(kStart - hours(1), kStart, rules), kStart + minutes(30));
  // One second before the start.
  EXPECT_EQ(AppealDeadline(kStart - seconds(1), kStart, rules), kStart + minutes(30));
}

TEST(AppealDeadline, AtAndAfterStartIsThirtyMinutes) {
  const auto rules = DefaultRules(ExamKind::kInterview);
  EXPECT_EQ(AppealDeadline(kStart, kStart, rules), kStart + minutes(30));
  EXPECT_EQ(AppealDeadline(kStart + seconds(1), kStart, rules), kStart + minutes(30) + seconds(1));
}

TEST(AppealDeadline, SlaBoundaryCountsAsInTime) {
  const auto deadline = kStart + minutes(30);
  EXPECT_TRUE(WithinSla(deadline, deadline));
  EXPECT_FALSE(WithinSla(deadline + Duration(1), deadline));
}

TEST(ExamRules, EntryClosesTwoMinutesAfterStartForInterviewsAndAtStartForTests) {
  EXPECT_EQ(DefaultRules(ExamKind::kInterview).entry_closes_after, minutes(2));
  EXPECT_EQ(DefaultRules(ExamKind::kTest).entry_closes_after, Duration(0));
}

TEST(ExamRules, UploadResumeDeadlineIsTwoHoursAfterTheEndPlusExtension) {
  const auto rules = DefaultRules(ExamKind::kTest);
  EXPECT_EQ(UploadResumeDeadline(kStart, rules), kStart + hours(2));
  EXPECT_EQ(UploadResumeDeadline(kStart, rules, minutes(30)), kStart + hours(2) + minutes(30));
}

TEST(ExamPlan, WindowsFollowTheRules) {
  ExamPlan plan;
  plan.start = kStart;
  plan.rules = DefaultRules(ExamKind::kInterview);
  plan.questions = {{Duration(0), minutes(5)}, {minutes(1), minutes(5)}};
  EXPECT_EQ(plan.FaceLoginOpensAt(), kStart - minutes(60));
  EXPECT_EQ(plan.EnterOpensAt(), kStart - minutes(15));
  EXPECT_EQ(plan.EntryClosesAt(), kStart + minutes(2));
  EXPECT_EQ(plan.WaitingRoomOpensAt(), kStart - minutes(30));
  EXPECT_EQ(plan.TotalQuestionTime(), minutes(11));
}

}  // namespace
}  // namespace exam::core
