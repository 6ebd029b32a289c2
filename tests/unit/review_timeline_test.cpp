#include "core/review_timeline.h"

#include <gtest/gtest.h>

namespace exam::core {
namespace {

constexpr Micros kS = kMicrosPerSecond;
constexpr Micros kOrigin = 1'700'000'000 * kS;  // session start, UTC

TEST(ReviewTimeline, SessionAndTrackTimeMapThroughUtcStartAndSkew) {
  TrackPlacement camera{kOrigin + 5 * kS, 600 * kS, 0};
  EXPECT_EQ(TrackStartInSession(camera, kOrigin), 5 * kS);
  EXPECT_EQ(SessionToTrack(camera, kOrigin, 65 * kS), 60 * kS);
  EXPECT_EQ(TrackToSession(camera, kOrigin, 60 * kS), 65 * kS);

  // The phone's clock runs 1.2 s behind: its recording really began 1.2 s after it says.
  TrackPlacement phone{kOrigin + 3 * kS, 600 * kS, 1'200'000};
  EXPECT_EQ(TrackStartInSession(phone, kOrigin), 4'200'000);
  EXPECT_EQ(SessionToTrack(phone, kOrigin, 10 * kS), 5'800'000);
  for (Micros t : {Micros{0}, 7 * kS, Micros{123456789}}) EXPECT_EQ(TrackToSession(phone, kOrigin, SessionToTrack(phone, kOrigin, t)), t);
}

TEST(ReviewTimeline, CoverageSaysNoRecordingBeforeAfterAndInGaps) {
  TrackTimeline phone(TrackPlacement{kOrigin + 10 * kS, 100 * kS, 0}, kOrigin);
  auto before = phone.At(5 * kS);
  EXPECT_FALSE(before.recorded);
  ASSERT_TRUE(before.next_recorded_us);
  EXPECT_EQ(*before.next_recorded_us, 10 * kS);
  auto inside = phone.At(30 * kS);
  EXPECT_TRUE(inside.recorded);
  EXPECT_EQ(inside.track_us, 20 * kS);
  auto after = phone.At(110 * kS);
  EXPECT_FALSE(after.recorded);
  EXPECT_FALSE(after.next_recorded_us);

  // An interrupted recording (录制中断): frames for 0–40 s and 70–100 s of track time.
  phone.SetRecordedTrackRanges({{70 * kS, 100 * kS}, {0, 40 * kS}});
  auto gap = phone.At(60 * kS);  // track 50 s
  EXPECT_FALSE(gap.recorded);
  ASSERT_TRUE(gap.next_recorded_us);
  EXPECT_EQ(*gap.next_recorded_us, 80 * kS);
  EXPECT_TRUE(phone.At(80 * kS).recorded);
  EXPECT_FALSE(phone.At(50 * kS).recorded);  // exactly the end is outside
  EXPECT_TRUE(phone.At(50 * kS - 1).recorded);

  phone.SetSkew(2 * kS);
  auto ranges = phone.RecordedSessionRanges();
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0], (TimeRange{12 * kS, 52 * kS}));
  EXPECT_EQ(ranges[1], (TimeRange{82 * kS, 112 * kS}));
}

TEST(ReviewTimeline, RecordedRangesFromFramesSplitOnHoles) {
  const Micros f = 40'000;
  std::vector<Micros> frames;
  for (int i = 0; i < 50; ++i) frames.push_back(i * f);            // 0 – 2 s
  for (int i = 0; i < 25; ++i) frames.push_back(5 * kS + i * f);   // 5 – 6 s
  auto r = RecordedRangesFromFrames(frames, f, 200'000);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0], (TimeRange{0, 2 * kS}));
  EXPECT_EQ(r[1], (TimeRange{5 * kS, 6 * kS}));
  // A hole below the threshold (a dropped frame) does not split.
  EXPECT_EQ(RecordedRangesFromFrames({0, f, 3 * f, 4 * f}, f, 200'000).size(), 1u);
  EXPECT_TRUE(RecordedRangesFromFrames({}, f, 1).empty());
}

std::vector<TimelineMarker> TwoQuestions() {
  return {
      {MarkerKind::kQuestionShown, 100 * kS, 1},
      {MarkerKind::kAnswerComplete, 380 * kS, 1},  // "该题回答完毕"
      {MarkerKind::kFlag, 200 * kS, 0},
      {MarkerKind::kQuestionShown, 400 * kS, 2},
      // Question 2 never got its answer-complete marker.
  };
}

TEST(ReviewTimeline, QuestionSegmentsFromShownAndAnswerCompleteMarkers) {
  auto segs = QuestionSegments(TwoQuestions(), 700 * kS);
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_EQ(segs[0], (QuestionSegment{1, 100 * kS, 380 * kS, 380 * kS}));
  EXPECT_EQ(segs[1], (QuestionSegment{2, 400 * kS, std::nullopt, 700 * kS}));
  EXPECT_EQ(QuestionAt(segs, 150 * kS)->question, 1);
  EXPECT_FALSE(QuestionAt(segs, 390 * kS));  // between the answer and the next question
  EXPECT_EQ(QuestionAt(segs, 400 * kS)->question, 2);
  EXPECT_FALSE(QuestionAt(segs, 50 * kS));
}

TEST(ReviewTimeline, QuestionSegmentsTolerateOddMarkers) {
  std::vector<TimelineMarker> m = {
      {MarkerKind::kAnswerComplete, 50 * kS, 3},   // no question 3 shown: ignored
      {MarkerKind::kQuestionShown, 100 * kS, 1},
      {MarkerKind::kQuestionShown, 120 * kS, 1},   // shown twice: the first counts
      {MarkerKind::kQuestionShown, 200 * kS, 2},
      {MarkerKind::kAnswerComplete, 250 * kS, 1},  // late: after question 2 began
  };
  auto segs = QuestionSegments(m, 300 * kS);
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_EQ(segs[0].shown_us, 100 * kS);
  EXPECT_EQ(segs[0].end_us, 200 * kS);
  EXPECT_EQ(segs[1].end_us, 300 * kS);
}

TEST(ReviewTimeline, NextAndPreviousQuestionNavigateLikeAPlayer) {
  auto segs = QuestionSegments(TwoQuestions(), 700 * kS);
  EXPECT_EQ(NextQuestionStart(segs, 0), 100 * kS);
  EXPECT_EQ(NextQuestionStart(segs, 100 * kS), 400 * kS);
  EXPECT_FALSE(NextQuestionStart(segs, 400 * kS));
  // Well into question 2: back to its start.
  EXPECT_EQ(PreviousQuestionStart(segs, 450 * kS), 400 * kS);
  // Just after question 2 began: to question 1.
  EXPECT_EQ(PreviousQuestionStart(segs, 401 * kS), 100 * kS);
  // In the first question's first seconds there is nothing before: its start.
  EXPECT_EQ(PreviousQuestionStart(segs, 101 * kS), 100 * kS);
  EXPECT_FALSE(PreviousQuestionStart(segs, 50 * kS));
}

TEST(ReviewTimeline, FlagMarkerNavigation) {
  auto m = TwoQuestions();
  m.push_back({MarkerKind::kFlag, 500 * kS, 0});
  EXPECT_EQ(NextMarker(m, MarkerKind::kFlag, 0), 200 * kS);
  EXPECT_EQ(NextMarker(m, MarkerKind::kFlag, 200 * kS), 500 * kS);
  EXPECT_FALSE(NextMarker(m, MarkerKind::kFlag, 500 * kS));
  EXPECT_EQ(PreviousMarker(m, MarkerKind::kFlag, 500 * kS), 200 * kS);
  EXPECT_FALSE(PreviousMarker(m, MarkerKind::kFlag, 200 * kS));
  EXPECT_EQ(NextMarker(m, MarkerKind::kAnswerComplete, 0), 380 * kS);
}

}  // namespace
}  // namespace exam::core
