#include "core/review_timeline.h"

#include <algorithm>

namespace exam::core {

Micros TrackStartInSession(const TrackPlacement& track, Micros origin) {
  return track.utc_start_us + track.skew_us - origin;
}

Micros SessionToTrack(const TrackPlacement& track, Micros origin, Micros session_us) {
  return session_us - TrackStartInSession(track, origin);
}

Micros TrackToSession(const TrackPlacement& track, Micros origin, Micros track_us) {
  return track_us + TrackStartInSession(track, origin);
}

namespace {
// Sorts and merges touching or overlapping ranges; drops empty ones.
std::vector<TimeRange> Normalise(std::vector<TimeRange> ranges) {
  ranges.erase(std::remove_if(ranges.begin(), ranges.end(), [](const TimeRange& r) { return r.end_us <= r.start_us; }),
               ranges.end());
  std::sort(ranges.begin(), ranges.end(), [](const TimeRange& a, const TimeRange& b) { return a.start_us < b.start_us; });
  std::vector<TimeRange> out;
  for (const auto& r : ranges) {
    if (!out.empty() && r.start_us <= out.back().end_us)
      out.back().end_us = std::max(out.back().end_us, r.end_us);
    else
      out.push_back(r);
  }
  return out;
}
}  // namespace

TrackTimeline::TrackTimeline(TrackPlacement placement, Micros origin) : placement_(placement), origin_utc_us_(origin) {
  if (placement_.duration_us > 0) track_ranges_.push_back({0, placement_.duration_us});
}

void TrackTimeline::SetRecordedTrackRanges(std::vector<TimeRange> track_ranges) {
  track_ranges_ = Normalise(std::move(track_ranges));
}

void TrackTimeline::SetSkew(Micros skew_us) { placement_.skew_us = skew_us; }

std::vector<TimeRange> TrackTimeline::RecordedSessionRanges() const {
  const Micros shift = TrackStartInSession(placement_, origin_utc_us_);
  std::vector<TimeRange> out;
  out.reserve(track_ranges_.size());
  for (const auto& r : track_ranges_) out.push_back({r.start_us + shift, r.end_us + shift});
  return out;
}

TrackCoverage TrackTimeline::At(Micros session_us) const {
  TrackCoverage c;
  const Micros track_us = SessionToTrack(placement_, origin_utc_us_, session_us);
  // First range ending after t: either contains t or is the next one.
  auto it = std::upper_bound(track_ranges_.begin(), track_ranges_.end(), track_us,
                             [](Micros t, const TimeRange& r) { return t < r.end_us; });
  if (it == track_ranges_.end()) return c;
  if (it->Contains(track_us)) {
    c.recorded = true;
    c.track_us = track_us;
    return c;
  }
  c.next_recorded_us = TrackToSession(placement_, origin_utc_us_, it->start_us);
  return c;
}

std::vector<TimeRange> RecordedRangesFromFrames(const std::vector<Micros>& frames, Micros frame_us, Micros max_gap_us) {
  std::vector<TimeRange> out;
  for (const Micros f : frames) {
    if (!out.empty() && f - out.back().end_us <= max_gap_us)
      out.back().end_us = std::max(out.back().end_us, f + frame_us);
    else
      out.push_back({f, f + frame_us});
  }
  return out;
}

std::vector<QuestionSegment> QuestionSegments(std::vector<TimelineMarker> markers, Micros session_end_us) {
  std::stable_sort(markers.begin(), markers.end(),
                   [](const TimelineMarker& a, const TimelineMarker& b) { return a.session_us < b.session_us; });
  std::vector<QuestionSegment> segs;
  for (const auto& m : markers) {
    if (m.kind == MarkerKind::kQuestionShown) {
      const bool seen = std::any_of(segs.begin(), segs.end(), [&](const QuestionSegment& s) { return s.question == m.question; });
      if (!seen) segs.push_back({m.question, m.session_us, std::nullopt, session_end_us});
    } else if (m.kind == MarkerKind::kAnswerComplete) {
      for (auto& s : segs) {
        if (s.question == m.question && !s.answered_us && m.session_us >= s.shown_us) s.answered_us = m.session_us;
      }
    }
  }
  for (size_t i = 0; i < segs.size(); ++i) {
    const Micros next = i + 1 < segs.size() ? segs[i + 1].shown_us : session_end_us;
    // An answer-complete marker after the next question was shown is a late report: the
    // segment still stops where the next question starts.
    segs[i].end_us = segs[i].answered_us ? std::min(*segs[i].answered_us, next) : next;
    segs[i].end_us = std::max(segs[i].end_us, segs[i].shown_us);
  }
  return segs;
}

std::optional<QuestionSegment> QuestionAt(const std::vector<QuestionSegment>& segments, Micros t) {
  for (const auto& s : segments)
    if (t >= s.shown_us && t < s.end_us) return s;
  return std::nullopt;
}

std::optional<Micros> NextQuestionStart(const std::vector<QuestionSegment>& segments, Micros t) {
  for (const auto& s : segments)
    if (s.shown_us > t) return s.shown_us;
  return std::nullopt;
}

std::optional<Micros> PreviousQuestionStart(const std::vector<QuestionSegment>& segments, Micros t, Micros window) {
  std::optional<Micros> current, before;
  for (const auto& s : segments) {
    if (s.shown_us > t) break;
    before = current;
    current = s.shown_us;
  }
  if (!current) return std::nullopt;
  if (t - *current > window) return current;
  return before ? before : current;
}

std::optional<Micros> NextMarker(const std::vector<TimelineMarker>& markers, MarkerKind kind, Micros t) {
  std::optional<Micros> best;
  for (const auto& m : markers)
    if (m.kind == kind && m.session_us > t && (!best || m.session_us < *best)) best = m.session_us;
  return best;
}

std::optional<Micros> PreviousMarker(const std::vector<TimelineMarker>& markers, MarkerKind kind, Micros t) {
  std::optional<Micros> best;
  for (const auto& m : markers)
    if (m.kind == kind && m.session_us < t && (!best || m.session_us > *best)) best = m.session_us;
  return best;
}

}  // namespace exam::core
