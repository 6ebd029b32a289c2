#pragma once
// The review player's timeline math (回放时间轴), pure C++: mapping session time to each
// recording's own time, where a recording has nothing to show ("no recording" rather than a
// frozen frame), and navigation by the per-question markers graders work with.
//
// Times are int64 microseconds. Session time is measured from the session's origin (a UTC
// instant on the backend's clock); track time is measured from a recording's first frame.
#include <cstdint>
#include <optional>
#include <vector>

namespace exam::core {

using Micros = int64_t;

constexpr Micros kMicrosPerSecond = 1'000'000;

// Where one recording sits on the session timeline. `utc_start_us` is its first frame by the
// recording device's clock; `skew_us` is added to it to correct that clock (a phone's clock
// is not the laptop's): a phone whose clock runs 0.35 s ahead states a start 0.35 s too late
// and needs a skew of -0.35 s.
struct TrackPlacement {
  Micros utc_start_us = 0;
  Micros duration_us = 0;
  Micros skew_us = 0;
};

// The track's first frame in session time.
Micros TrackStartInSession(const TrackPlacement& track, Micros session_origin_utc_us);
Micros SessionToTrack(const TrackPlacement& track, Micros session_origin_utc_us, Micros session_us);
Micros TrackToSession(const TrackPlacement& track, Micros session_origin_utc_us, Micros track_us);

// A stretch of session time. `end_us` is exclusive.
struct TimeRange {
  Micros start_us = 0;
  Micros end_us = 0;
  Micros Duration() const { return end_us - start_us; }
  bool Contains(Micros t) const { return t >= start_us && t < end_us; }
  bool operator==(const TimeRange&) const = default;
};

// What one track shows at a session time.
struct TrackCoverage {
  bool recorded = false;  // false: draw "no recording" (无录像) instead of the last frame
  Micros track_us = 0;    // the track time to present, when recorded
  // When not recorded: where the next recorded stretch begins (session time), if any.
  std::optional<Micros> next_recorded_us;
};

// A track's recorded stretches in session time, sorted and disjoint. A recording with
// holes (an interrupted and resumed recording, 录制中断) has several.
class TrackTimeline {
 public:
  TrackTimeline() = default;
  TrackTimeline(TrackPlacement placement, Micros session_origin_utc_us);
  // Recorded stretches in *track* time (from the frame index); replaces the default one
  // stretch [0, duration). Unsorted or overlapping input is normalised.
  void SetRecordedTrackRanges(std::vector<TimeRange> track_ranges);

  void SetSkew(Micros skew_us);
  const TrackPlacement& placement() const { return placement_; }
  // Recorded stretches in session time.
  std::vector<TimeRange> RecordedSessionRanges() const;
  TrackCoverage At(Micros session_us) const;

 private:
  TrackPlacement placement_;
  Micros origin_utc_us_ = 0;
  std::vector<TimeRange> track_ranges_;  // sorted, disjoint, in track time
};

// Splits sorted frame times into recorded stretches: a hole longer than `max_gap_us` between
// one frame's end and the next frame starts a new stretch. `frame_us` is one frame's
// duration (the last frame's end is its start + frame_us).
std::vector<TimeRange> RecordedRangesFromFrames(const std::vector<Micros>& sorted_frame_us, Micros frame_us,
                                                Micros max_gap_us);

// --- Question markers -------------------------------------------------------------------

enum class MarkerKind { kQuestionShown, kAnswerComplete, kFlag };

struct TimelineMarker {
  MarkerKind kind = MarkerKind::kFlag;
  Micros session_us = 0;
  int question = 0;  // for question markers
};

// One question's stretch: from "question shown" to "该题回答完毕" (answer complete), or to
// the next question / the session's end when the candidate never said it.
struct QuestionSegment {
  int question = 0;
  Micros shown_us = 0;
  std::optional<Micros> answered_us;  // when the answer-complete marker came
  Micros end_us = 0;                  // answered_us, else the next question, else session end
  bool operator==(const QuestionSegment&) const = default;
};

// Question segments in time order. Markers may come in any order; an answer-complete marker
// without its question-shown marker is ignored, a question shown twice keeps the first.
std::vector<QuestionSegment> QuestionSegments(std::vector<TimelineMarker> markers, Micros session_end_us);

// The segment containing `t` (shown <= t < end), if any.
std::optional<QuestionSegment> QuestionAt(const std::vector<QuestionSegment>& segments, Micros t);

// "Next question": the first question shown strictly after t.
std::optional<Micros> NextQuestionStart(const std::vector<QuestionSegment>& segments, Micros t);

// "Previous question", as a media player's previous-track button: within `restart_window_us`
// of a question's start (or before the first), go to the question before; further in, go
// back to the start of the current one.
std::optional<Micros> PreviousQuestionStart(const std::vector<QuestionSegment>& segments, Micros t,
                                            Micros restart_window_us = 2 * kMicrosPerSecond);

// Any marker of `kind` strictly after / before t (flags: jump between alerts).
std::optional<Micros> NextMarker(const std::vector<TimelineMarker>& markers, MarkerKind kind, Micros t);
std::optional<Micros> PreviousMarker(const std::vector<TimelineMarker>& markers, MarkerKind kind, Micros t);

}  // namespace exam::core
