#include "core/audio_analysis.h"

#include <algorithm>
#include <cmath>

namespace exam::core {

float LoudnessWindow::RmsDb() const { return rms > 1e-6f ? 20.0f * std::log10(rms) : -120.0f; }

std::vector<LoudnessWindow> LoudnessWindows(const std::vector<float>& mono, int sample_rate, Micros window_us) {
  std::vector<LoudnessWindow> out;
  if (sample_rate <= 0 || window_us <= 0) return out;
  const size_t per = std::max<size_t>(1, static_cast<size_t>(static_cast<double>(sample_rate) * window_us / kMicrosPerSecond));
  for (size_t start = 0, k = 0; start < mono.size(); start += per, ++k) {
    const size_t end = std::min(mono.size(), start + per);
    double sum = 0.0;
    float peak = 0.0f;
    for (size_t i = start; i < end; ++i) {
      sum += static_cast<double>(mono[i]) * mono[i];
      peak = std::max(peak, std::fabs(mono[i]));
    }
    LoudnessWindow w;
    w.start_us = static_cast<Micros>(static_cast<double>(start) * kMicrosPerSecond / sample_rate);
    w.rms = static_cast<float>(std::sqrt(sum / static_cast<double>(end - start)));
    w.peak = peak;
    out.push_back(w);
  }
  return out;
}

std::vector<TimeRange> QuietRanges(const std::vector<LoudnessWindow>& windows, Micros window_us, float threshold_db,
                                   Micros min_duration_us) {
  std::vector<TimeRange> out;
  std::optional<TimeRange> run;
  auto close = [&] {
    if (run && run->Duration() >= min_duration_us) out.push_back(*run);
    run.reset();
  };
  for (const auto& w : windows) {
    if (w.RmsDb() < threshold_db) {
      if (run)
        run->end_us = w.start_us + window_us;
      else
        run = TimeRange{w.start_us, w.start_us + window_us};
    } else {
      close();
    }
  }
  close();
  return out;
}

std::optional<Micros> SkipQuietTarget(const std::vector<TimeRange>& quiet, Micros t) {
  for (const auto& r : quiet)
    if (r.Contains(t)) return r.end_us;
  return std::nullopt;
}

namespace {

// Mean |x| per envelope sample, over at most max_samples input samples.
std::vector<double> Envelope(const std::vector<float>& x, int rate, int envelope_rate, size_t max_out) {
  std::vector<double> env;
  if (rate <= 0 || envelope_rate <= 0) return env;
  const double per = static_cast<double>(rate) / envelope_rate;
  const size_t n = std::min(max_out, static_cast<size_t>(static_cast<double>(x.size()) / per));
  env.resize(n);
  for (size_t k = 0; k < n; ++k) {
    const auto a = static_cast<size_t>(std::llround(k * per));
    const auto b = std::min(x.size(), static_cast<size_t>(std::llround((k + 1) * per)));
    double s = 0.0;
    for (size_t i = a; i < b; ++i) s += std::fabs(x[i]);
    env[k] = b > a ? s / static_cast<double>(b - a) : 0.0;
  }
  return env;
}

// Normalised cross-correlation of a[i] and b[i + lag] over their overlap, with each side's
// mean over the overlap removed (prefix sums keep the means O(1) per lag).
double Ncc(const std::vector<double>& a, const std::vector<double>& b, const std::vector<double>& pa,
           const std::vector<double>& pa2, const std::vector<double>& pb, const std::vector<double>& pb2, long lag,
           size_t min_overlap) {
  const long i0 = std::max(0L, -lag);
  const long i1 = std::min(static_cast<long>(a.size()), static_cast<long>(b.size()) - lag);
  if (i1 - i0 < static_cast<long>(min_overlap)) return -2.0;
  const double n = static_cast<double>(i1 - i0);
  const double sa = pa[i1] - pa[i0], sa2 = pa2[i1] - pa2[i0];
  const double sb = pb[i1 + lag] - pb[i0 + lag], sb2 = pb2[i1 + lag] - pb2[i0 + lag];
  double sab = 0.0;
  const double* pb0 = b.data() + lag;
  for (long i = i0; i < i1; ++i) sab += a[i] * pb0[i];
  const double cov = sab - sa * sb / n;
  const double va = sa2 - sa * sa / n, vb = sb2 - sb * sb / n;
  if (va <= 1e-12 || vb <= 1e-12) return -2.0;
  return cov / std::sqrt(va * vb);
}

std::vector<double> Prefix(const std::vector<double>& v, bool squared) {
  std::vector<double> p(v.size() + 1, 0.0);
  for (size_t i = 0; i < v.size(); ++i) p[i + 1] = p[i] + (squared ? v[i] * v[i] : v[i]);
  return p;
}

}  // namespace

std::optional<AudioOffset> EstimateAudioOffset(const std::vector<float>& reference, int reference_rate,
                                               const std::vector<float>& other, int other_rate,
                                               const AudioOffsetOptions& o) {
  const size_t max_env = static_cast<size_t>(o.max_analysed_us * o.envelope_rate / kMicrosPerSecond);
  const auto a = Envelope(reference, reference_rate, o.envelope_rate, max_env);
  const auto b = Envelope(other, other_rate, o.envelope_rate, max_env);
  const long max_lag = static_cast<long>(o.max_lag_us * o.envelope_rate / kMicrosPerSecond);
  const long center = static_cast<long>(o.expected_offset_us * o.envelope_rate / kMicrosPerSecond);
  // Demand an overlap of at least the lag range so that edge lags are not judged on a sliver.
  const size_t min_overlap = static_cast<size_t>(std::max<long>(max_lag, o.envelope_rate / 2));
  if (a.size() < min_overlap || b.size() < min_overlap) return std::nullopt;
  const auto pa = Prefix(a, false), pa2 = Prefix(a, true), pb = Prefix(b, false), pb2 = Prefix(b, true);

  std::vector<double> c(static_cast<size_t>(2 * max_lag + 1), -2.0);
  long best = 0;
  double best_c = -2.0;
  for (long lag = -max_lag; lag <= max_lag; ++lag) {
    const double v = Ncc(a, b, pa, pa2, pb, pb2, center + lag, min_overlap);
    c[static_cast<size_t>(lag + max_lag)] = v;
    if (v > best_c) {
      best_c = v;
      best = lag;
    }
  }
  if (best_c <= -1.5) return std::nullopt;  // silent or too short everywhere

  // Parabolic interpolation around the peak for sub-sample precision.
  double frac = 0.0;
  if (best > -max_lag && best < max_lag) {
    const double y0 = c[static_cast<size_t>(best - 1 + max_lag)], y1 = best_c, y2 = c[static_cast<size_t>(best + 1 + max_lag)];
    const double d = y0 - 2 * y1 + y2;
    if (y0 > -1.5 && y2 > -1.5 && d < 0) frac = std::clamp(0.5 * (y0 - y2) / d, -0.5, 0.5);
  }
  // The runner-up: the best correlation at least 250 ms away from the peak.
  const long away = std::max<long>(1, o.envelope_rate / 4);
  double second = -1.0;
  for (long lag = -max_lag; lag <= max_lag; ++lag)
    if (std::labs(lag - best) >= away) second = std::max(second, c[static_cast<size_t>(lag + max_lag)]);

  AudioOffset r;
  r.offset_us =
      static_cast<Micros>(std::llround((static_cast<double>(center + best) + frac) * kMicrosPerSecond / o.envelope_rate));
  r.correlation = best_c;
  const double peak = std::clamp(best_c, 0.0, 1.0);
  r.confidence = peak > 0 ? std::clamp((peak - std::max(second, 0.0)) / peak, 0.0, 1.0) * peak : 0.0;
  return r;
}

Micros ExpectedAudioOffset(const TrackPlacement& reference, const TrackPlacement& other, Micros origin) {
  return TrackStartInSession(reference, origin) - TrackStartInSession(other, origin);
}

Micros SkewForAudioOffset(const TrackPlacement& reference, const TrackPlacement& other, Micros origin, Micros measured) {
  // A sound later in `other` than the placements predict means it really started earlier.
  return other.skew_us - (measured - ExpectedAudioOffset(reference, other, origin));
}

}  // namespace exam::core
