// TrackDecoder on recordings made by ffmpeg at test time: exact seeks land on the frame
// covering the target with the same picture a straight decode gives, stepping back over a
// 30 s GOP works from the window, and damaged files fail with a reason while other tracks
// play on.
#include "media/track_decoder.h"

#include <gtest/gtest.h>

#include <random>

#include "faulty_source.h"
#include "review_media.h"

namespace exam::media {
namespace {

using namespace std::chrono_literals;
using testing::ReviewMedia;

constexpr Micros kFrame = ReviewMedia::kFrameUs;

std::shared_ptr<ByteSource> File(const std::string& path) {
  std::string error;
  std::shared_ptr<ByteSource> s = LocalFileSource::Open(path, &error);
  EXPECT_TRUE(s) << error;
  return s;
}

// FNV-1a over the visible luma: identifies a picture.
uint64_t LumaHash(const VideoFrame& f) {
  uint64_t h = 1469598103934665603ull;
  for (int y = 0; y < f.height; ++y) {
    const uint8_t* row = f.Plane(0) + static_cast<size_t>(y) * f.linesize[0];
    for (int x = 0; x < f.width; ++x) h = (h ^ row[x]) * 1099511628211ull;
  }
  return h;
}

bool WaitReady(TrackDecoder& t) {
  for (int i = 0; i < 2000 && t.State() == TrackState::kOpening; ++i) std::this_thread::sleep_for(5ms);
  return t.State() == TrackState::kReady;
}

class TrackDecoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    media_ = ReviewMedia::Get(&why);
    if (!media_) GTEST_SKIP() << why;
  }
  const ReviewMedia* media_ = nullptr;
};

TEST_F(TrackDecoderTest, DescribesTheCameraRecording) {
  TrackDecoder camera(File(media_->camera));
  ASSERT_TRUE(WaitReady(camera)) << camera.Error();
  const TrackInfo info = camera.Info();
  EXPECT_TRUE(info.has_video);
  EXPECT_TRUE(info.has_audio);
  EXPECT_EQ(info.audio_sample_rate, 48000);
  EXPECT_EQ(info.codec, "h264");
  EXPECT_EQ(info.width, 1280);
  EXPECT_EQ(info.height, 720);
  EXPECT_EQ(info.frame_duration_us, kFrame);
  EXPECT_NEAR(static_cast<double>(info.duration_us), 10e6, 100e3);
  EXPECT_TRUE(info.index_from_container);  // mp4: the index is in the moov, nothing scanned
  EXPECT_EQ(info.keyframe_count, 5u);
  EXPECT_EQ(info.max_keyframe_interval_us, 2'000'000);
  EXPECT_EQ(info.rotation_degrees, 0);
}

TEST_F(TrackDecoderTest, ExactSeeksLandOnTheCoveringFrameWithTheRightPicture) {
  // The truth: every frame in order, as a straight decode gives it.
  std::vector<uint64_t> truth;
  {
    TrackDecoder straight(File(media_->camera), TrackDecoder::Options{4, 30, nullptr});
    for (int n = 0; n < 250; ++n) {
      auto f = straight.WaitFrameAt(n * kFrame, 10s);
      ASSERT_TRUE(f) << n << " " << straight.Error();
      ASSERT_EQ(f->pts_us, n * kFrame);
      truth.push_back(LumaHash(*f->picture));
    }
    EXPECT_EQ(straight.Stats().seeks, 1u) << "playing forward must not seek";
  }
  TrackDecoder camera(File(media_->camera));
  std::mt19937 rng(5);
  std::vector<Micros> targets = {9'960'000, 0, 1'999'999, 2'000'000, 4'039'999, 7'123'456, 40'000, 9'999'999};
  for (int i = 0; i < 12; ++i) targets.push_back(std::uniform_int_distribution<Micros>(0, 9'999'999)(rng));
  for (Micros t : targets) {
    auto f = camera.WaitFrameAt(t, 10s);
    ASSERT_TRUE(f) << t << " " << camera.Error();
    const int n = static_cast<int>(t / kFrame);
    EXPECT_EQ(f->pts_us, n * kFrame) << "target " << t;
    EXPECT_EQ(LumaHash(*f->picture), truth[static_cast<size_t>(n)]) << "target " << t;
    EXPECT_EQ(f->picture->width, 1280);
    EXPECT_GE(f->picture->planes[1].size(), static_cast<size_t>(f->picture->linesize[1]) * 360);
  }
  // Past the end: nothing to show (the timeline says "no recording").
  EXPECT_FALSE(camera.WaitFrameAt(12'000'000, 10s));
  EXPECT_EQ(camera.State(), TrackState::kReady);
}

TEST_F(TrackDecoderTest, StepsBackOverAThirtySecondGopFromTheWindow) {
  TrackDecoder phone(File(media_->phone), TrackDecoder::Options{32, 8, nullptr, 32});
  ASSERT_TRUE(WaitReady(phone)) << phone.Error();
  const TrackInfo info = phone.Info();
  EXPECT_FALSE(info.index_from_container);  // MPEG-TS: the index came from a packet scan
  EXPECT_EQ(info.keyframe_count, 2u);
  EXPECT_EQ(info.max_keyframe_interval_us, 30'000'000);

  // Just after the keyframe at 30 s; the frames before it need the whole previous GOP.
  Micros t = 30'000'000 + 3 * kFrame;
  auto f = phone.WaitFrameAt(t, 20s);
  ASSERT_TRUE(f) << phone.Error();
  ASSERT_EQ(f->pts_us, t);
  ASSERT_TRUE(phone.WaitIdle(20s));  // the worker filled the window behind the playhead
  int waited = 0;
  for (int step = 0; step < 60; ++step) {
    auto prev = phone.PreviousFrameTime(t);
    if (!prev) {
      ++waited;
      ASSERT_TRUE(phone.WaitIdle(20s));
      prev = phone.PreviousFrameTime(t);
    }
    ASSERT_TRUE(prev) << "step " << step;
    ASSERT_EQ(*prev, t - kFrame) << "step " << step;
    t = *prev;
    phone.SetPlayhead(t);
    auto shown = phone.FrameAt(t);  // no waiting: it is in the window already
    ASSERT_TRUE(shown) << "step " << step;
    EXPECT_EQ(shown->pts_us, t);
  }
  EXPECT_LT(t, 30'000'000);
  // 60 steps with a 32-frame window: the refill behind the playhead keeps up.
  EXPECT_LE(waited, 2);
  // And forward again over the keyframe.
  for (int step = 0; step < 10; ++step) {
    auto next = phone.NextFrameTime(t);
    if (!next) {
      ASSERT_TRUE(phone.WaitIdle(20s));
      next = phone.NextFrameTime(t);
    }
    ASSERT_TRUE(next);
    ASSERT_EQ(*next, t + kFrame);
    t = *next;
    phone.SetPlayhead(t);
  }
}

TEST_F(TrackDecoderTest, StepsBackAcrossAKeyframeOfAnMp4WithBFrames) {
  // The mp4 index holds decode times, a little before the keyframe's picture: stepping
  // back from the keyframe must still find the GOP before it.
  TrackDecoder camera(File(media_->camera), TrackDecoder::Options{8, 4, nullptr});
  Micros t = 4'000'000 + kFrame;
  ASSERT_TRUE(camera.WaitFrameAt(t, 10s));
  for (int step = 0; step < 6; ++step) {
    auto prev = camera.PreviousFrameTime(t);
    for (int i = 0; i < 3 && !prev; ++i) {
      ASSERT_FALSE(camera.IsFirstFrame(t)) << t;
      ASSERT_TRUE(camera.WaitIdle(10s));
      prev = camera.PreviousFrameTime(t);
    }
    ASSERT_TRUE(prev) << "step " << step;
    ASSERT_EQ(*prev, t - kFrame);
    t = *prev;
    camera.SetPlayhead(t);
  }
  EXPECT_EQ(t, 4'000'000 - 5 * kFrame);
}

TEST_F(TrackDecoderTest, SeeksWithinALongGopLandExactlyBothWays) {
  // Forward within one 30 s GOP the decoder carries on instead of seeking, dropping the
  // pictures in between; backward it must go back to the keyframe.
  TrackDecoder phone(File(media_->phone), TrackDecoder::Options{2, 2, nullptr});
  for (Micros t : {Micros{2'000'000}, Micros{10'813'158}, Micros{14'862'073}, Micros{29'990'000}, Micros{12'000'001},
                   Micros{31'000'000}, Micros{30'000'000}, Micros{29'999'999}}) {
    auto f = phone.WaitFrameAt(t, 20s);
    ASSERT_TRUE(f) << t << " " << phone.Error();
    EXPECT_EQ(f->pts_us, t / kFrame * kFrame) << "target " << t;
  }
}

TEST_F(TrackDecoderTest, FirstFrameHasNoPreviousAndTheStartIsReachable) {
  TrackDecoder camera(File(media_->camera));
  auto f = camera.WaitFrameAt(0, 10s);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->pts_us, 0);
  ASSERT_TRUE(camera.WaitIdle(10s));
  EXPECT_TRUE(camera.IsFirstFrame(0));
  EXPECT_FALSE(camera.PreviousFrameTime(0));
  EXPECT_EQ(camera.NextFrameTime(0), kFrame);
}

TEST_F(TrackDecoderTest, RotationFromTheDisplayMatrix) {
  TrackDecoder sideways(File(media_->sideways));
  ASSERT_TRUE(WaitReady(sideways)) << sideways.Error();
  // ffmpeg 5.1 writes `rotate=90` as a matrix turning the picture 90° counter-clockwise
  // (ffprobe: "rotation of 90.00 degrees"); ffplay undoes it with transpose=cclock, i.e.
  // 270° clockwise — the same turn the player must make.
  EXPECT_EQ(sideways.Info().rotation_degrees, 270);
}

TEST_F(TrackDecoderTest, NonYuv420PicturesAreConvertedTo420) {
  TrackDecoder clip(File(media_->yuv422));
  auto f = clip.WaitFrameAt(0, 10s);
  ASSERT_TRUE(f) << clip.Error();
  const VideoFrame& p = *f->picture;
  EXPECT_EQ(p.width, 320);
  EXPECT_EQ(p.height, 240);
  ASSERT_GE(p.planes[1].size(), static_cast<size_t>(p.linesize[1]) * ChromaHeight(240));
  ASSERT_GE(p.planes[2].size(), static_cast<size_t>(p.linesize[2]) * ChromaHeight(240));
  // testsrc2 is colourful: the chroma is not flat grey.
  int far_from_grey = 0;
  for (int x = 0; x < ChromaWidth(320); ++x) far_from_grey += std::abs(p.planes[1][static_cast<size_t>(x)] - 128) > 20;
  EXPECT_GT(far_from_grey, 0);
}

TEST_F(TrackDecoderTest, BrokenRecordingsFailWithAReasonWhileOthersPlayOn) {
  TrackDecoder camera(File(media_->camera));
  TrackDecoder empty(File(media_->empty));
  TrackDecoder garbage(File(media_->garbage));
  TrackDecoder truncated(File(media_->truncated));

  auto f = camera.WaitFrameAt(5'000'000, 10s);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->pts_us, 5'000'000);

  EXPECT_FALSE(WaitReady(empty));
  EXPECT_NE(empty.Error().find("empty file (0 bytes)"), std::string::npos) << empty.Error();
  EXPECT_FALSE(WaitReady(garbage));
  EXPECT_NE(garbage.Error().find("not a recording FFmpeg can read"), std::string::npos) << garbage.Error();

  // The truncated upload opens (its index is at the front) and plays up to the cut, then
  // says where it ends instead of freezing.
  ASSERT_TRUE(WaitReady(truncated)) << truncated.Error();
  auto early = truncated.WaitFrameAt(1'000'000, 10s);
  ASSERT_TRUE(early) << truncated.Error();
  EXPECT_FALSE(truncated.WaitFrameAt(9'000'000, 10s));
  EXPECT_NE(truncated.Error().find("ends early"), std::string::npos) << truncated.Error();

  // The camera is unaffected.
  f = camera.WaitFrameAt(6'000'000, 10s);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->pts_us, 6'000'000);

  std::string error;
  EXPECT_FALSE(LocalFileSource::Open(media_->camera + ".missing", &error));
  EXPECT_NE(error.find("No such file"), std::string::npos) << error;
}

TEST_F(TrackDecoderTest, ASourceFailingMidwayGivesItsReason) {
  auto source = testing::OpenFaulty(media_->camera);
  source->fail_from = 3'000'000;  // bytes: some seconds into the recording
  TrackDecoder camera(source);
  ASSERT_TRUE(camera.WaitFrameAt(0, 10s)) << camera.Error();
  EXPECT_FALSE(camera.WaitFrameAt(9'500'000, 10s));
  EXPECT_NE(camera.Error().find("connection reset"), std::string::npos) << camera.Error();

  // A source claiming more bytes than it has: reads past the truth end in EOF, no crash.
  auto liar = testing::OpenFaulty(media_->truncated);
  liar->claimed_size = static_cast<int64_t>(std::filesystem::file_size(media_->camera));
  TrackDecoder lied(liar);
  ASSERT_TRUE(lied.WaitFrameAt(500'000, 10s)) << lied.Error();
  EXPECT_FALSE(lied.WaitFrameAt(9'000'000, 10s));
}

}  // namespace
}  // namespace exam::media
