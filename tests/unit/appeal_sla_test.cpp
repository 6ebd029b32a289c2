// Appeal deadlines at their boundaries, queue urgency colours and the desk's SLA figures.
#include "core/appeal_sla.h"

#include <gtest/gtest.h>

namespace exam::core {
namespace {

const TimePoint kStart = FromUnixMillis(1'800'000'000'000);

TEST(AppealDeadlineBoundaries, FiledOneSecondBeforeAndAfterTheStart) {
  const ExamRules rules;
  // One second before the start: filed + 2 h would outlive the in-exam SLA, so start + 30 min.
  EXPECT_EQ(AppealDeadline(kStart - seconds(1), kStart, rules), kStart + minutes(30));
  // One second after: filed + 30 min.
  EXPECT_EQ(AppealDeadline(kStart + seconds(1), kStart, rules), kStart + minutes(30) + seconds(1));
  // Exactly at the start counts as during the exam.
  EXPECT_EQ(AppealDeadline(kStart, kStart, rules), kStart + minutes(30));
  // Well before the start: filed + 2 h, which ends before the start + 30 min.
  EXPECT_EQ(AppealDeadline(kStart - hours(3), kStart, rules), kStart - hours(1));
  // A pre-exam appeal crossing the start keeps the earlier of the two.
  EXPECT_EQ(AppealDeadline(kStart - minutes(100), kStart, rules), kStart + minutes(20));
  EXPECT_EQ(AppealDeadline(kStart - minutes(80), kStart, rules), kStart + minutes(30));
}

TEST(AppealUrgency, ColoursByShareOfTheSlaLeft) {
  const TimePoint filed = kStart;
  const TimePoint due = kStart + minutes(120);
  EXPECT_EQ(AppealUrgencyAt(filed, due, filed), AppealUrgency::kComfortable);
  EXPECT_EQ(AppealUrgencyAt(filed, due, filed + minutes(60)), AppealUrgency::kComfortable);  // exactly half left
  EXPECT_EQ(AppealUrgencyAt(filed, due, filed + minutes(60) + seconds(1)), AppealUrgency::kHalf);
  EXPECT_EQ(AppealUrgencyAt(filed, due, due - minutes(12) - seconds(1)), AppealUrgency::kHalf);
  EXPECT_EQ(AppealUrgencyAt(filed, due, due - minutes(12)), AppealUrgency::kCritical);  // exactly 10 %
  EXPECT_EQ(AppealUrgencyAt(filed, due, due), AppealUrgency::kCritical);
  EXPECT_EQ(AppealUrgencyAt(filed, due, due + seconds(1)), AppealUrgency::kBreached);
}

TEST(AppealUrgency, UnderFiveMinutesIsCriticalEvenOnAShortSla) {
  // A 30-minute in-exam SLA: 10 % is 3 min, but 4 min left already escalates.
  const TimePoint due = kStart + minutes(30);
  EXPECT_EQ(AppealUrgencyAt(kStart, due, due - minutes(4)), AppealUrgency::kCritical);
  EXPECT_TRUE(AppealEscalates(due, due - minutes(4)));
  EXPECT_FALSE(AppealEscalates(due, due - minutes(5)));
  EXPECT_FALSE(AppealEscalates(due, due + seconds(1)));  // breached is its own state
}

TEST(AppealSla, TodaysFigures) {
  const TimePoint day = kStart - hours(10);
  std::vector<AppealOutcomeSample> a;
  // Decided after 5, 10, 20, 40 min; SLA 30 min each: three in time.
  for (int m : {5, 10, 20, 40}) a.push_back({kStart, kStart + minutes(30), kStart + minutes(m)});
  a.push_back({kStart, kStart + minutes(30), std::nullopt});  // open, breached by now
  a.push_back({kStart + minutes(50), kStart + minutes(80), std::nullopt});  // open, in time
  a.push_back({day - hours(1), day + hours(1), day});  // filed yesterday: not counted
  const auto s = ComputeAppealSla(a, day, kStart + minutes(60));
  EXPECT_EQ(s.decided, 4);
  EXPECT_EQ(s.decided_in_time, 3);
  EXPECT_DOUBLE_EQ(*s.within_sla, 0.75);
  EXPECT_EQ(*s.median_time_to_decision, minutes(10));
  EXPECT_EQ(*s.p90_time_to_decision, minutes(40));
  EXPECT_EQ(s.open, 2);
  EXPECT_EQ(s.open_breached, 1);
}

TEST(AppealSla, DecisionExactlyAtTheDeadlineIsInTime) {
  const auto s = ComputeAppealSla({{kStart, kStart + minutes(30), kStart + minutes(30)}}, kStart - hours(1), kStart);
  EXPECT_EQ(s.decided_in_time, 1);
}

TEST(AppealSla, NothingDecidedHasNoFigures) {
  const auto s = ComputeAppealSla({}, kStart, kStart);
  EXPECT_FALSE(s.within_sla.has_value());
  EXPECT_FALSE(s.median_time_to_decision.has_value());
}

}  // namespace
}  // namespace exam::core
