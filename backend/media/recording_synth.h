#pragma once
// Synthesizes the recordings of one finished session, as the candidate's devices would have
// uploaded them, for the demo and for tests of the review path:
//
//   screen    1920×1080 H.264 at a few fps, MP4: a question page that changes per question,
//             a countdown bar and a moving cursor block; keyframe every `laptop_gop_s`.
//   camera    1280×720 H.264 25 fps + AAC mono 48 kHz, MP4: a face whose mouth follows the
//             speech; keyframe every `laptop_gop_s`.
//   evidence  1280×720 H.264 25 fps + AAC, MP4, from the phone behind the candidate (佐证):
//             the room, the candidate's back and the laptop screen. The phone keeps its own
//             clock: it starts filming `evidence_lead_ms` before the laptop and the utc_start
//             it states is `evidence_clock_offset_ms` ahead of the truth. Its keyframes are
//             `evidence_gop_s` apart, as phones write them.
//
// Camera and evidence audio carry the same room sound: espeak-ng reading an answer, then the
// closing phrase "该题回答完毕" ending exactly at the ANSWER_COMPLETE time, then quiet. The
// evidence hears it quieter and noisier, so the phone's true offset can be estimated by
// cross-correlating the two audio tracks.
//
// A portrait phone (`evidence_portrait`) is stored as real phones store it: 1280×720 coded
// frames holding the picture turned 90° counter-clockwise, with a display matrix on the
// stream (rotation −90°, ffprobe "rotation": -90) so players turn it upright to 720×1280.
//
// An interruption (`interruption_at_s` > 0) stops every device for `interruption_s` seconds;
// each track is then two files (segments 0 and 1), each with its own utc_start.
//
// Every picture carries a burned-in time code of its device's clock (hh:mm:ss.cc), so a
// reviewer can see tracks in or out of sync by eye. Nothing identifies a candidate.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace exam::media {

struct RecordingPlan {
  // Varies the faces, colours and answer pauses.
  uint64_t seed = 1;
  int questions = 3;
  // From the laptop's first frame to its last, the interruption included.
  int duration_s = 210;
  // The laptop's first frame, Unix ms (the laptop's clock is the backend's).
  int64_t utc_start_ms = 0;

  int screen_width = 1920, screen_height = 1080, screen_fps = 2;
  int camera_width = 1280, camera_height = 720, camera_fps = 25;
  int evidence_width = 1280, evidence_height = 720, evidence_fps = 25;
  // Keyframe intervals.
  int laptop_gop_s = 2;
  int evidence_gop_s = 20;

  // The phone starts filming this long before the laptop, and stops as long after it.
  int evidence_lead_ms = 3000;
  // The phone's clock is this far ahead (negative: behind): its stated utc_start is late by
  // this much. Also written into the file's `comment` tag, for tests of offset estimation.
  int evidence_clock_offset_ms = 350;
  bool evidence_portrait = false;

  // 0: no interruption. Otherwise recording stops this many seconds after the start...
  int interruption_at_s = 0;
  // ...for this long.
  int interruption_s = 0;

  // Round-trips through text (stored with demo sessions; also the cache key's source).
  std::string ToText() const;
  static std::optional<RecordingPlan> FromText(const std::string& text);
  // Stable name for the files this plan makes (hash of the text and the synthesizer version).
  std::string CacheKey() const;
};

// When things happen, in ms after utc_start_ms (true time = the laptop's clock).
struct QuestionTiming {
  int question = 0;          // 1-based
  int64_t shown_ms = 0;      // QUESTION_SHOWN
  int64_t complete_ms = 0;   // ANSWER_COMPLETE: "该题回答完毕" ends here
};
struct FlagTiming {
  enum class Kind { kAlert, kHelp, kViolation, kInterruptionStarted, kInterruptionEnded };
  Kind kind = Kind::kAlert;
  int64_t at_ms = 0;
  std::string detail;
};
struct SessionTimeline {
  std::vector<QuestionTiming> questions;
  std::vector<FlagTiming> flags;  // by time
  int64_t end_ms = 0;
};

// Cheap and deterministic: callers can store the events before any media exists.
SessionTimeline PlanTimeline(const RecordingPlan& plan);

struct SynthesizedFile {
  int kind = 0;      // exam.v1.TrackKind: 1 camera, 2 screen, 3 evidence
  int segment = 0;
  std::filesystem::path path;
  std::string codec = "h264";
  std::string container = "mp4";
  int64_t duration_ms = 0;
  // First frame by the device's own clock (the phone's is off, see the plan).
  int64_t utc_start_ms = 0;
  int width = 0, height = 0;  // coded size
};

// Thrown when `cancel` was set: the files written so far are removed.
struct SynthesisCancelled {};

// Writes every track of the plan into `dir` (created when missing) as
// `<kind>-<segment>.mp4` and returns them. Uses the libx264 and AAC encoders on the calling
// thread only (one encoder thread each, one track at a time), and runs espeak-ng for speech.
// Throws std::runtime_error with a clear message on failure.
std::vector<SynthesizedFile> SynthesizeRecordings(const RecordingPlan& plan, const std::filesystem::path& dir,
                                                  const std::atomic<bool>* cancel = nullptr);

}  // namespace exam::media
