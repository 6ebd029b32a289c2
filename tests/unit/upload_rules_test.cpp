// ETA, at-risk grouping and deadline extension rules for recordings still on devices.
#include "core/upload_rules.h"

#include <gtest/gtest.h>

namespace exam::core {
namespace {

const TimePoint kNow = FromUnixMillis(1'800'000'000'000);

UploadFacts Uploading(int64_t size, int64_t committed, double rate, Duration deadline_in) {
  UploadFacts f;
  f.state = UploadState::kUploading;
  f.size = size;
  f.committed = committed;
  f.rate_bytes_per_s = rate;
  f.last_progress_at = kNow - seconds(5);
  f.deadline = kNow + deadline_in;
  return f;
}

TEST(UploadRules, EtaFromRecentRate) {
  auto o = AssessUpload(Uploading(100'000'000, 40'000'000, 1'000'000, hours(1)), kNow);
  ASSERT_TRUE(o.eta.has_value());
  EXPECT_EQ(*o.eta, seconds(60));
  EXPECT_EQ(*o.projected_finish, kNow + seconds(60));
  EXPECT_EQ(o.urgency, UploadUrgency::kOnTrack);
  EXPECT_DOUBLE_EQ(o.fraction, 0.4);
  EXPECT_EQ(*o.time_left, hours(1));
}

TEST(UploadRules, ProjectedFinishAfterDeadlineIsLate) {
  // 60 MB left at 10 kB/s is 6000 s; the deadline is 1 h away.
  auto o = AssessUpload(Uploading(100'000'000, 40'000'000, 10'000, hours(1)), kNow);
  EXPECT_EQ(o.urgency, UploadUrgency::kLate);
  // Exactly at the deadline still makes it.
  o = AssessUpload(Uploading(100'000'000, 40'000'000, 10'000, seconds(6000)), kNow);
  EXPECT_EQ(o.urgency, UploadUrgency::kOnTrack);
  o = AssessUpload(Uploading(100'000'000, 40'000'000, 10'000, seconds(5999)), kNow);
  EXPECT_EQ(o.urgency, UploadUrgency::kLate);
}

TEST(UploadRules, DeadlinePassedIsLateWhateverTheState) {
  auto f = Uploading(100, 10, 0, -seconds(1));
  f.state = UploadState::kPending;
  EXPECT_EQ(AssessUpload(f, kNow).urgency, UploadUrgency::kLate);
  f.device_online = false;
  EXPECT_EQ(AssessUpload(f, kNow).urgency, UploadUrgency::kLate);
}

TEST(UploadRules, NoProgressForTenMinutesIsStuckUnlessOffline) {
  auto f = Uploading(100, 10, 0, hours(1));
  f.last_progress_at = kNow - minutes(10) + seconds(1);
  EXPECT_EQ(AssessUpload(f, kNow).urgency, UploadUrgency::kOnTrack);
  f.last_progress_at = kNow - minutes(10);
  EXPECT_EQ(AssessUpload(f, kNow).urgency, UploadUrgency::kStuck);
  EXPECT_FALSE(AssessUpload(f, kNow).eta.has_value());  // no rate, no ETA
  f.device_online = false;
  EXPECT_EQ(AssessUpload(f, kNow).urgency, UploadUrgency::kOffline);
}

TEST(UploadRules, AnnouncedButNeverStartedBecomesStuck) {
  UploadFacts f;
  f.state = UploadState::kPending;
  f.size = 100;
  f.created_at = kNow - minutes(3);
  f.deadline = kNow + hours(1);
  EXPECT_EQ(AssessUpload(f, kNow).urgency, UploadUrgency::kWaiting);
  f.created_at = kNow - minutes(11);
  EXPECT_EQ(AssessUpload(f, kNow).urgency, UploadUrgency::kStuck);
}

TEST(UploadRules, RecordingWithoutDeadlineWaits) {
  UploadFacts f;
  f.state = UploadState::kRecording;
  f.size = 100;
  f.created_at = kNow - hours(1);
  auto o = AssessUpload(f, kNow);
  EXPECT_EQ(o.urgency, UploadUrgency::kWaiting);
  EXPECT_FALSE(o.time_left.has_value());
}

TEST(UploadRules, CompleteAndAbnormal) {
  auto f = Uploading(100, 100, 0, -hours(1));
  f.state = UploadState::kComplete;
  EXPECT_EQ(AssessUpload(f, kNow).urgency, UploadUrgency::kComplete);
  f.state = UploadState::kAbnormal;
  EXPECT_EQ(AssessUpload(f, kNow).urgency, UploadUrgency::kAbnormal);
}

TEST(UploadRules, TinyRateGivesNoEta) {
  auto o = AssessUpload(Uploading(100, 10, 0.5, hours(1)), kNow);
  EXPECT_FALSE(o.eta.has_value());
}

TEST(DeadlineExtension, NeedsReasonAndPositiveBoundedStep) {
  EXPECT_TRUE(CheckDeadlineExtension(UploadState::kInterrupted, Duration(0), minutes(30), "phone offline").ok);
  EXPECT_TRUE(CheckDeadlineExtension(UploadState::kPending, Duration(0), minutes(30), "断网").ok);
  EXPECT_FALSE(CheckDeadlineExtension(UploadState::kPending, Duration(0), minutes(30), "断").ok);
  EXPECT_FALSE(CheckDeadlineExtension(UploadState::kPending, Duration(0), minutes(30), "   ").ok);
  EXPECT_FALSE(CheckDeadlineExtension(UploadState::kPending, Duration(0), Duration(0), "reason").ok);
  EXPECT_FALSE(CheckDeadlineExtension(UploadState::kPending, Duration(0), -minutes(5), "reason").ok);
  EXPECT_TRUE(CheckDeadlineExtension(UploadState::kPending, Duration(0), hours(12), "reason").ok);
  EXPECT_FALSE(CheckDeadlineExtension(UploadState::kPending, Duration(0), hours(12) + seconds(1), "reason").ok);
}

TEST(DeadlineExtension, TotalIsCapped) {
  EXPECT_TRUE(CheckDeadlineExtension(UploadState::kUploading, hours(12), hours(12), "reason").ok);
  auto v = CheckDeadlineExtension(UploadState::kUploading, hours(20), hours(5), "reason");
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.message.find("240 min left"), std::string::npos) << v.message;
}

TEST(DeadlineExtension, NotForFinishedFiles) {
  EXPECT_FALSE(CheckDeadlineExtension(UploadState::kComplete, Duration(0), minutes(30), "reason").ok);
  EXPECT_FALSE(CheckDeadlineExtension(UploadState::kAbnormal, Duration(0), minutes(30), "reason").ok);
}

}  // namespace
}  // namespace exam::core
