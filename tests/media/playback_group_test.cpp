// PlaybackGroup on real recordings with the null audio output driven by hand: every track's
// presented frame covers the master time at 1×, 2× and 4×, seeks and steps land on frames,
// gaps say "no recording", a broken track does not stop the others; and the sound of two
// microphones gives their offset.
#include "media/playback_group.h"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "core/audio_analysis.h"
#include "faulty_source.h"
#include "review_media.h"

namespace exam::media {
namespace {

using namespace std::chrono_literals;
using testing::ReviewMedia;

constexpr Micros kFrame = ReviewMedia::kFrameUs;
constexpr Micros kOrigin = 1'750'000'000'000'000;  // session start, UTC µs

std::shared_ptr<ByteSource> File(const std::string& path) {
  std::string error;
  std::shared_ptr<ByteSource> s = LocalFileSource::Open(path, &error);
  EXPECT_TRUE(s) << error;
  return s;
}

// Steps and, when the neighbouring frame was not decoded yet, waits for the step to
// complete (it does on a later Present, as the UI's next frame would).
Micros StepAndWait(PlaybackGroup& group, int track, int direction) {
  const Micros before = group.Now();
  if (direction > 0 ? group.StepForward() : group.StepBackward()) {
    EXPECT_TRUE(group.WaitSettled(20s));
    return group.Present(track).frame->pts_us;
  }
  for (int i = 0; i < 20000 && group.Now() == before; ++i) {
    group.Present(track);
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(group.WaitSettled(20s));
  return group.Present(track).frame->pts_us;
}

class PlaybackGroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    media_ = ReviewMedia::Get(&why);
    if (!media_) GTEST_SKIP() << why;
  }
  const ReviewMedia* media_ = nullptr;
};

TEST_F(PlaybackGroupTest, EveryTrackStaysWithinOneFrameOfTheAudioClockAt1x2x4x) {
  auto output = std::make_shared<NullAudioOutput>(NullAudioOutput::Pace::kManual, 48000, 2);
  PlaybackGroup group({kOrigin, output, {}, {}});
  // The camera starts with the session; the phone 1.5 s later by its own clock, which runs
  // 0.2 s slow (so it really started at 1.7 s).
  const int camera = group.AddTrack(File(media_->camera), {kOrigin, 10'000'000, 0});
  const int phone = group.AddTrack(File(media_->phone), {kOrigin + 1'500'000, 40'000'000, 200'000});
  group.SelectAudio(camera);
  ASSERT_TRUE(group.audio_clock());
  ASSERT_TRUE(group.audio(camera).WaitBuffered(1'000'000, 10s)) << group.audio(camera).Error();

  int audible_steps = 0, steps = 0;
  Micros session = 1'000'000;
  for (double rate : {1.0, 2.0, 4.0}) {
    group.Pause();
    group.Seek(session);
    ASSERT_TRUE(group.WaitSettled(10s));
    group.SetRate(rate);
    group.Play();
    for (int i = 0; i < 40; ++i) {
      std::vector<float> heard;
      output->Advance(960, &heard);  // 20 ms of sound
      session += static_cast<Micros>(20'000 * rate);
      // The clock is the sound that was played: exactly 20 ms × rate per step, no drift.
      ASSERT_NEAR(static_cast<double>(group.Now()), static_cast<double>(session), 2.0) << rate << " step " << i;
      ASSERT_TRUE(group.WaitSettled(10s)) << rate << " step " << i;
      for (int t : {camera, phone}) {
        const PresentedFrame p = group.Present(t);
        if (!p.recorded) continue;
        ASSERT_TRUE(p.exact && p.frame) << "track " << t << " rate " << rate << " step " << i;
        EXPECT_LE(p.frame->pts_us, p.track_us);
        EXPECT_LT(p.track_us - p.frame->pts_us, kFrame) << "track " << t << " rate " << rate;
      }
      double energy = 0;
      for (float s : heard) energy += static_cast<double>(s) * s;
      audible_steps += std::sqrt(energy / static_cast<double>(heard.size())) > 0.05;
      ++steps;
    }
  }
  // The camera's 440 Hz tone was heard (a step right after a seek may still be silent).
  EXPECT_GT(audible_steps, steps * 3 / 4);
  // The phone is mapped through its start and skew: session 3 s is its track time 1.3 s.
  group.Pause();
  group.Seek(3'000'000);
  ASSERT_TRUE(group.WaitSettled(10s));
  EXPECT_EQ(group.Present(phone).frame->pts_us, 1'280'000);
  EXPECT_EQ(group.Present(camera).frame->pts_us, 3'000'000);
}

TEST_F(PlaybackGroupTest, WithoutSoundTheWallClockDrivesPlayback) {
  auto wall = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
  PlaybackGroup group({kOrigin, nullptr, [wall] { return *wall; }, {}});
  const int camera = group.AddTrack(File(media_->camera), {kOrigin, 10'000'000, 0});
  group.Seek(2'000'000);
  group.SetRate(2.0);
  group.Play();
  EXPECT_FALSE(group.audio_clock());
  for (int i = 1; i <= 25; ++i) {
    *wall += 40ms;
    EXPECT_EQ(group.Now(), 2'000'000 + i * 80'000);
    ASSERT_TRUE(group.WaitSettled(10s));
    const auto p = group.Present(camera);
    ASSERT_TRUE(p.exact);
    EXPECT_EQ(p.frame->pts_us, 2'000'000 + i * 80'000);
  }
  group.SetRate(9.0);  // clamped
  EXPECT_EQ(group.rate(), 4.0);
  group.Pause();
  const Micros paused_at = group.Now();
  *wall += 1s;
  EXPECT_EQ(group.Now(), paused_at);
}

TEST_F(PlaybackGroupTest, SeekAndStepBothWaysOnALongGopPhone) {
  PlaybackGroup group({kOrigin, nullptr, {}, {}});
  const int phone = group.AddTrack(File(media_->phone), {kOrigin, 40'000'000, 0});
  group.Seek(30'000'000 + 2 * kFrame + 10);  // covered by the frame 2 after the keyframe
  ASSERT_TRUE(group.WaitSettled(20s));
  Micros at = group.Present(phone).frame->pts_us;
  EXPECT_EQ(at, 30'000'000 + 2 * kFrame);
  for (int i = 0; i < 8; ++i) {
    const Micros now = StepAndWait(group, phone, -1);
    ASSERT_EQ(now, at - kFrame) << "step back " << i;
    at = now;
  }
  EXPECT_LT(at, 30'000'000);  // crossed the keyframe into the previous 30 s GOP
  for (int i = 0; i < 4; ++i) {
    const Micros now = StepAndWait(group, phone, +1);
    ASSERT_EQ(now, at + kFrame) << "step forward " << i;
    at = now;
  }
  EXPECT_FALSE(group.playing());
}

TEST_F(PlaybackGroupTest, GapsSayNoRecordingAndABrokenTrackDoesNotStopTheOthers) {
  PlaybackGroup group({kOrigin, nullptr, {}, {}});
  const int camera = group.AddTrack(File(media_->camera), {kOrigin, 10'000'000, 0});
  const int late_phone = group.AddTrack(File(media_->phone), {kOrigin + 5'000'000, 40'000'000, 0});
  const int truncated = group.AddTrack(File(media_->truncated), {kOrigin, 10'000'000, 0});
  const int empty = group.AddTrack(File(media_->empty), {kOrigin, 10'000'000, 0});

  group.Seek(2'000'000);
  ASSERT_TRUE(group.WaitSettled(20s));
  auto phone = group.Present(late_phone);
  EXPECT_FALSE(phone.recorded);  // its recording starts at 5 s
  ASSERT_TRUE(phone.next_recorded_us);
  EXPECT_EQ(*phone.next_recorded_us, 5'000'000);
  EXPECT_FALSE(phone.frame);
  EXPECT_TRUE(group.Present(truncated).exact);
  EXPECT_EQ(group.Present(empty).state, TrackState::kFailed);
  EXPECT_NE(group.Present(empty).error.find("empty file"), std::string::npos);

  group.Seek(9'000'000);  // past the cut of the truncated upload
  ASSERT_TRUE(group.WaitSettled(20s));
  EXPECT_TRUE(group.Present(camera).exact);
  EXPECT_EQ(group.Present(camera).frame->pts_us, 9'000'000);
  EXPECT_TRUE(group.Present(late_phone).exact);
  const auto cut = group.Present(truncated);
  EXPECT_FALSE(cut.exact);
  EXPECT_TRUE(cut.past_end);
  EXPECT_NE(cut.error.find("ends early"), std::string::npos) << cut.error;
}

TEST_F(PlaybackGroupTest, TheRoomSoundOfTwoMicrophonesGivesTheirOffset) {
  std::string error;
  const auto camera = DecodeAudioMono(File(media_->room_camera), 8000, 60'000'000, &error);
  ASSERT_FALSE(camera.empty()) << error;
  const auto phone = DecodeAudioMono(File(media_->room_phone), 8000, 60'000'000, &error);
  ASSERT_FALSE(phone.empty()) << error;
  EXPECT_NEAR(static_cast<double>(camera.size()), 12.0 * 8000, 8000 * 0.1);
  const auto offset = core::EstimateAudioOffset(camera, 8000, phone, 8000);
  ASSERT_TRUE(offset);
  EXPECT_NEAR(static_cast<double>(offset->offset_us), ReviewMedia::kRoomDelayUs, 20'000.0);
  EXPECT_GT(offset->confidence, 0.3);
  // A recording without sound says so.
  EXPECT_TRUE(DecodeAudioMono(File(media_->sideways), 8000, 1'000'000, &error).empty());
  EXPECT_NE(error.find("no sound"), std::string::npos) << error;
}

}  // namespace
}  // namespace exam::media
