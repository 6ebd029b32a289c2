#include "core/audio_analysis.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace exam::core {
namespace {

constexpr Micros kS = kMicrosPerSecond;

// Speech-like room sound: noise bursts of random length and loudness with pauses, plus a
// constant low hum both microphones hear.
std::vector<float> RoomSound(int rate, double seconds, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::uniform_real_distribution<double> len(0.05, 0.4), gap(0.05, 0.5), amp(0.1, 0.8);
  std::vector<float> x(static_cast<size_t>(rate * seconds), 0.0f);
  size_t i = 0;
  while (i < x.size()) {
    const auto on = static_cast<size_t>(len(rng) * rate);
    const float a = static_cast<float>(amp(rng));
    for (size_t k = 0; k < on && i < x.size(); ++k, ++i) x[i] = a * u(rng);
    i += static_cast<size_t>(gap(rng) * rate);
  }
  for (size_t k = 0; k < x.size(); ++k) x[k] += 0.02f * static_cast<float>(std::sin(2 * M_PI * 50.0 * k / rate));
  return x;
}

// `delay_s` later in the copy, another sample rate, quieter and with its own noise.
std::vector<float> HeardElsewhere(const std::vector<float>& x, int rate, int out_rate, double delay_s, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 0.03f);
  const size_t n = static_cast<size_t>(static_cast<double>(x.size()) * out_rate / rate);
  std::vector<float> y(n);
  for (size_t k = 0; k < n; ++k) {
    const double t = static_cast<double>(k) / out_rate - delay_s;
    const long src = std::lround(t * rate);
    const float v = (src >= 0 && src < static_cast<long>(x.size())) ? x[static_cast<size_t>(src)] : 0.0f;
    y[k] = 0.5f * v + noise(rng);
  }
  return y;
}

TEST(AudioOffset, FindsAKnownDelayWithin20Ms) {
  const auto camera = RoomSound(16000, 30.0, 7);
  for (double delay : {0.437, -1.234, 0.0, 1.9}) {
    const auto phone = HeardElsewhere(camera, 16000, 8000, delay, 11);
    auto r = EstimateAudioOffset(camera, 16000, phone, 8000);
    ASSERT_TRUE(r) << delay;
    EXPECT_NEAR(static_cast<double>(r->offset_us), delay * kS, 20'000.0) << delay;
    EXPECT_GT(r->correlation, 0.8) << delay;
    EXPECT_GT(r->confidence, 0.3) << delay;
  }
}

TEST(AudioOffset, UnrelatedOrSilentAudioGivesLowOrNoConfidence) {
  const auto a = RoomSound(8000, 20.0, 1);
  const auto b = RoomSound(8000, 20.0, 2);
  auto r = EstimateAudioOffset(a, 8000, b, 8000);
  ASSERT_TRUE(r);
  EXPECT_LT(r->confidence, 0.3);
  const std::vector<float> silence(8000 * 20, 0.0f);
  EXPECT_FALSE(EstimateAudioOffset(a, 8000, silence, 8000));
  // Shorter than the lag range: no estimate rather than a guess.
  EXPECT_FALSE(EstimateAudioOffset(std::vector<float>(8000, 0.1f), 8000, a, 8000));
}

TEST(Loudness, WindowsQuietRangesAndSkipQuiet) {
  const int rate = 8000;
  std::vector<float> x(rate * 10, 0.0f);
  // Loud 0–2 s and 6–10 s, near silence 2–6 s.
  for (size_t i = 0; i < x.size(); ++i) {
    const double t = static_cast<double>(i) / rate;
    const float a = (t < 2.0 || t >= 6.0) ? 0.5f : 0.0005f;
    x[i] = a * static_cast<float>(std::sin(2 * M_PI * 440.0 * t));
  }
  auto w = LoudnessWindows(x, rate, 100'000);
  ASSERT_EQ(w.size(), 100u);
  EXPECT_NEAR(w[0].rms, 0.5f / std::sqrt(2.0f), 0.01f);
  EXPECT_NEAR(w[0].peak, 0.5f, 0.01f);
  EXPECT_LT(w[30].RmsDb(), -60.0f);
  EXPECT_EQ(w[30].start_us, 3 * kS);
  auto quiet = QuietRanges(w, 100'000, -40.0f, kS);
  ASSERT_EQ(quiet.size(), 1u);
  EXPECT_EQ(quiet[0], (TimeRange{2 * kS, 6 * kS}));
  EXPECT_EQ(SkipQuietTarget(quiet, 3 * kS), 6 * kS);
  EXPECT_FALSE(SkipQuietTarget(quiet, 7 * kS));
  // Shorter pauses than the minimum are not skipped.
  EXPECT_TRUE(QuietRanges(w, 100'000, -40.0f, 5 * kS).empty());
  EXPECT_TRUE(LoudnessWindows({}, rate, 100'000).empty());
}

}  // namespace
}  // namespace exam::core

namespace exam::core {
namespace {

TEST(AudioOffset, SearchesAroundWhatThePlacementsSayAndGivesTheSkew) {
  constexpr Micros kOrigin = 1'700'000'000'000'000;
  // The phone started filming 3 s before the laptop; its clock runs 0.35 s ahead, so it
  // states a start 2.65 s before the laptop's.
  const TrackPlacement camera{kOrigin, 30 * kS, 0};
  const TrackPlacement phone{kOrigin - 2'650'000, 33 * kS, 0};
  const Micros expected = ExpectedAudioOffset(camera, phone, kOrigin);
  EXPECT_EQ(expected, 2'650'000);
  const auto room = RoomSound(8000, 30.0, 9);
  const auto heard = HeardElsewhere(room, 8000, 8000, 3.0, 4);  // the same sound 3 s later
  AudioOffsetOptions o;
  o.expected_offset_us = expected;
  o.max_lag_us = kS;
  auto r = EstimateAudioOffset(room, 8000, heard, 8000, o);
  ASSERT_TRUE(r);
  EXPECT_NEAR(static_cast<double>(r->offset_us), 3e6, 20'000.0);
  const Micros skew = SkewForAudioOffset(camera, phone, kOrigin, r->offset_us);
  EXPECT_NEAR(static_cast<double>(skew), -350'000.0, 20'000.0);
  // With that skew the phone's start lands where it really was: 3 s before the laptop.
  TrackPlacement fixed = phone;
  fixed.skew_us = skew;
  EXPECT_NEAR(static_cast<double>(TrackStartInSession(fixed, kOrigin)), -3e6, 20'000.0);
}

}  // namespace
}  // namespace exam::core
