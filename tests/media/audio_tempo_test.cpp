// AudioTrack off 1× keeps the pitch (graders listen to answers at 1.5–2×) and stays with the
// clock: a tone read like a device callback, ~10 ms at a time, sounds at its own frequency,
// and a change of tone at a known time is heard when the clock gets there.
#include "media/audio_track.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "generated_media.h"
#include "temp_dir.h"

namespace exam::media {
namespace {

using namespace std::chrono_literals;

constexpr int kRate = 48000;
constexpr double kLowHz = 440;
constexpr double kHighHz = 1000;
constexpr double kChangeS = 3.0;  // the tone goes from kLowHz to kHighHz here

// Power of `hz` in samples [from, from + n) (Goertzel).
double Power(const std::vector<float>& x, size_t from, size_t n, double hz) {
  const double k = 2 * std::cos(2 * M_PI * hz / kRate);
  double s1 = 0, s2 = 0;
  for (size_t i = from; i < from + n && i < x.size(); ++i) {
    const double s0 = x[i] + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - k * s1 * s2;
}

class AudioTempoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (std::system("ffmpeg -version >/dev/null 2>&1") != 0) GTEST_SKIP() << "the ffmpeg command is not installed";
    path_ = (dir_.path() / "tones.wav").string();
    ASSERT_TRUE(testing::RunFfmpeg("-f lavfi -i sine=frequency=440:sample_rate=48000:duration=3 -f lavfi -i "
                                   "sine=frequency=1000:sample_rate=48000:duration=3 -filter_complex "
                                   "\"[0:a][1:a]concat=n=2:v=0:a=1\" -c:a pcm_s16le " + path_,
                                   &why))
        << why;
  }

  // What the device would play from `start_us` at `step`, 480 frames (10 ms) a call, with
  // the position advanced as the playback group does; the first channel.
  std::vector<float> Play(double step, double start_us, double seconds) {
    std::string error;
    AudioTrack track(LocalFileSource::Open(path_, &error), {});
    EXPECT_TRUE(track.WaitBuffered(static_cast<Micros>(start_us), 10s)) << track.Error();
    std::vector<float> heard;
    std::vector<float> block(480 * 2);
    double pos = start_us;
    while (heard.size() < static_cast<size_t>(seconds * kRate)) {
      // The worker keeps 1.5 s ahead of a real device; the test reads faster than real time.
      const double ahead = std::min(pos + 480 * step * 1e6 / kRate + 300'000, 5'900'000.0);
      EXPECT_TRUE(track.WaitBuffered(static_cast<Micros>(ahead), 10s));
      track.ReadAt(pos, step, 480, block.data());
      for (int i = 0; i < 480; ++i) heard.push_back(block[static_cast<size_t>(i) * 2]);
      pos += 480 * step * 1e6 / kRate;
    }
    return heard;
  }

  testing::TempDir dir_;
  std::string path_;
};

// Output time (s) where the high tone takes over, from 10 ms windows 1 ms apart.
double ChangeAt(const std::vector<float>& x) {
  const size_t n = 480;
  for (size_t from = 0; from + n < x.size(); from += 48)
    if (Power(x, from, n, kHighHz) > Power(x, from, n, kLowHz) && Power(x, from, n, kHighHz) > 1.0)
      return static_cast<double>(from + n / 2) / kRate;
  return -1;
}

void ExpectPitchAndPlace(const std::vector<float>& heard, double step, double start_s) {
  // Well before the change: the 440 Hz tone, not 440 × step as stepping would make it.
  const size_t from = static_cast<size_t>(0.2 * kRate);
  const size_t n = static_cast<size_t>(0.5 * kRate);
  const double kept = Power(heard, from, n, kLowHz);
  const double raised = Power(heard, from, n, kLowHz * step);
  EXPECT_GT(kept, 20 * raised) << "step " << step << ": 440 Hz " << kept << ", " << kLowHz * step << " Hz " << raised;
  // The change is heard when the clock reaches it, within EBU R37's tighter side (±40 ms).
  const double expected = (kChangeS - start_s) / step;
  EXPECT_NEAR(ChangeAt(heard), expected, 0.040) << "step " << step;
}

TEST_F(AudioTempoTest, TwiceAsFastKeepsThePitchAndFollowsTheClock) {
  ExpectPitchAndPlace(Play(2.0, 0, 2.2), 2.0, 0);
}

TEST_F(AudioTempoTest, OneAndAHalfKeepsThePitchAndFollowsTheClock) {
  ExpectPitchAndPlace(Play(1.5, 0, 2.6), 1.5, 0);
}

TEST_F(AudioTempoTest, AfterASeekTheSoundStartsWhereTheClockIs) {
  ExpectPitchAndPlace(Play(2.0, 1'000'000, 1.4), 2.0, 1.0);
}

TEST_F(AudioTempoTest, TheEndsOfTheRangeKeepThePitchAndFollowTheClock) {
  ExpectPitchAndPlace(Play(4.0, 0, 1.2), 4.0, 0);
  ExpectPitchAndPlace(Play(0.5, 2'000'000, 2.4), 0.5, 2.0);
}

}  // namespace
}  // namespace exam::media
