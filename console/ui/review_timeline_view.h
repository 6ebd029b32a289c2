#pragma once
// The review player's timeline (回放时间轴): one lane per recording with its gaps, a lane of
// question segments (question k shown → "该题回答完毕"), a lane of events (alerts,
// interruptions, help, violations) and a lane of the reviewers' notes, under a time ruler
// with the playhead. The wheel zooms around the mouse, a right-drag pans, a left click or
// drag moves the playhead (the player previews while dragging). Draws only; the panel owns
// what it shows.
#include <imgui.h>

#include <optional>
#include <string>
#include <vector>

#include "core/audio_analysis.h"
#include "core/review_timeline.h"

namespace exam::ui {

struct TimelineLane {
  std::string label;
  std::vector<core::TimeRange> recorded;  // session time; empty with `missing` for none
  bool failed = false;                    // the recording cannot be played
};

struct TimelinePoint {
  core::Micros at_us = 0;
  std::string tooltip;
  ImU32 color = 0;
};

struct TimelineModel {
  core::Micros end_us = 0;  // session length
  std::vector<TimelineLane> tracks;
  std::vector<core::QuestionSegment> questions;
  std::vector<TimelinePoint> events;
  std::vector<TimelinePoint> notes;
  core::Micros playhead_us = 0;
  std::optional<core::TimeRange> selection;  // the clip's in and out
  // The heard track's loudness (dBFS per window, session time), for the sound lane.
  const std::vector<core::LoudnessWindow>* loudness = nullptr;
  core::Micros loudness_window_us = 0;
};

class ReviewTimelineView {
 public:
  // Draws into the rest of the current window's width, `height` high. Returns the session
  // time the user put the playhead at this frame, if they did.
  std::optional<core::Micros> Draw(const TimelineModel& model, float height);
  // Shows the whole session again (a new session was opened).
  void Reset() { view_start_us_ = 0, view_span_us_ = 0; }

 private:
  core::Micros view_start_us_ = 0;
  core::Micros view_span_us_ = 0;  // 0: the whole session
  bool dragging_playhead_ = false;
};

}  // namespace exam::ui
