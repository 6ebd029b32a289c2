#pragma once
// Audio analysis for review, pure C++ on mono float PCM: loudness windows for the waveform
// lane, quiet stretches for "skip quiet" (跳过静音), and the offset between two recordings of
// the same room (the evidence phone vs the laptop camera) by cross-correlating their
// loudness envelopes.
#include <cstdint>
#include <optional>
#include <vector>

#include "core/review_timeline.h"

namespace exam::core {

struct LoudnessWindow {
  Micros start_us = 0;
  float rms = 0.0f;   // linear, full scale = 1
  float peak = 0.0f;  // max |sample|
  float RmsDb() const;  // dBFS, floored at -120
};

// Consecutive windows of `window_us` over the samples (the last one may be shorter).
std::vector<LoudnessWindow> LoudnessWindows(const std::vector<float>& mono, int sample_rate, Micros window_us);

// Stretches at least `min_duration_us` long whose windows are all below `threshold_db`.
std::vector<TimeRange> QuietRanges(const std::vector<LoudnessWindow>& windows, Micros window_us, float threshold_db,
                                   Micros min_duration_us);

// Where "skip quiet" jumps from t: the end of the quiet stretch containing t, if any.
std::optional<Micros> SkipQuietTarget(const std::vector<TimeRange>& quiet, Micros t);

struct AudioOffset {
  // How much later the same sound appears in `other` than in `reference`, in track time:
  // reference_us + offset_us = other_us. Subtract it from the other track's start (a skew)
  // to line the two up.
  Micros offset_us = 0;
  // Normalised correlation at the best lag, in [-1, 1]; ~1 for a clean match.
  double correlation = 0.0;
  // 0..1: how much the best lag stands out against the best lag away from it (a flat,
  // ambiguous correlation, e.g. silence or a steady hum, gives ~0).
  double confidence = 0.0;
};

struct AudioOffsetOptions {
  // The search covers expected ± max_lag: start from what the tracks' UTC starts say
  // (see ExpectedAudioOffset) and look for the clock error around it.
  Micros expected_offset_us = 0;
  Micros max_lag_us = 2 * kMicrosPerSecond;  // search range, both ways
  int envelope_rate = 1000;                  // envelope samples per second (1 ms resolution)
  Micros max_analysed_us = 120 * kMicrosPerSecond;  // bounds the work on long recordings
};

// Cross-correlates the two signals' loudness envelopes (mean-removed, normalised) over the
// lag range; refines the peak to below one envelope sample. nullopt when either signal is
// too short for the lag range or silent.
std::optional<AudioOffset> EstimateAudioOffset(const std::vector<float>& reference, int reference_rate,
                                               const std::vector<float>& other, int other_rate,
                                               const AudioOffsetOptions& options = {});

// The audio offset the tracks' placements imply (the same sound at session time s is at
// track time s - start in each).
Micros ExpectedAudioOffset(const TrackPlacement& reference, const TrackPlacement& other, Micros session_origin_utc_us);

// The skew that makes `other` line up with `reference` given a measured audio offset: its
// current skew plus whatever the measurement says the placements still get wrong.
Micros SkewForAudioOffset(const TrackPlacement& reference, const TrackPlacement& other, Micros session_origin_utc_us,
                          Micros measured_offset_us);

}  // namespace exam::core
