#pragma once
// Rules for recordings still on candidates' devices after the exam: whether a file will make
// its resume deadline, and which deadline extensions support may grant. The backend refuses
// extensions with the same function the console uses to grey out the button, and the uploads
// panel groups files by the same assessment the tests check.
#include <optional>
#include <string>
#include <string_view>

#include "core/exam_rules.h"

namespace exam::core {

// Mirrors exam.v1.UploadState (same numbers).
enum class UploadState {
  kUnspecified = 0,
  kRecording = 1,    // still being recorded
  kPending = 2,      // recorded, upload not started
  kUploading = 3,    // bytes arriving
  kInterrupted = 4,  // stopped part-way; can resume
  kComplete = 5,     // all bytes in, sha256 verified
  kAbnormal = 6,     // recording failed; cannot resume
};

// What support should look at first; the order is the panel's grouping order.
enum class UploadUrgency {
  kAbnormal,  // recording failed: needs a re-record decision or a note
  kLate,      // deadline passed, or the projected finish falls after it
  kStuck,     // device online but no progress for `stuck_after`
  kOffline,   // the device holding the file is offline
  kWaiting,   // not started yet / recording, nothing wrong so far
  kOnTrack,   // progressing, projected to finish in time
  kComplete,
};

std::string_view UploadUrgencyName(UploadUrgency u);

struct UploadFacts {
  UploadState state = UploadState::kPending;
  int64_t size = 0;
  int64_t committed = 0;
  // Recent rate in bytes per backend second; 0 when unknown or idle.
  double rate_bytes_per_s = 0;
  std::optional<TimePoint> last_progress_at;
  std::optional<TimePoint> created_at;
  // Unset while the session still runs (the deadline counts from its end).
  std::optional<TimePoint> deadline;
  bool device_online = true;
};

struct UploadRiskRules {
  // No committed byte for this long while the device is online means stuck.
  Duration stuck_after = minutes(10);
  // A rate below this (bytes/s) is treated as no rate at all for the ETA.
  double min_rate_bytes_per_s = 1.0;
};

struct UploadOutlook {
  UploadUrgency urgency = UploadUrgency::kWaiting;
  // Time to finish at the recent rate; unset when there is no usable rate.
  std::optional<Duration> eta;
  std::optional<TimePoint> projected_finish;
  // Deadline minus now (negative once passed); unset without a deadline.
  std::optional<Duration> time_left;
  double fraction = 0;  // committed / size, 0..1
};

UploadOutlook AssessUpload(const UploadFacts& file, TimePoint now, const UploadRiskRules& rules = {});

// Deadline extensions: support may move a file's resume deadline, with a reason, in steps of
// at most `max_step`, up to `max_total` beyond the exam's rule; never for a file that is
// complete or abnormal (nothing left to wait for).
struct ExtensionRules {
  Duration max_step = hours(12);
  Duration max_total = hours(24);
  size_t min_reason_chars = 2;  // characters, not bytes: "断网" is a reason
};

struct ExtensionVerdict {
  bool ok = false;
  std::string message;  // English, for the status text; empty when ok
};

ExtensionVerdict CheckDeadlineExtension(UploadState state, Duration already_extended, Duration requested,
                                        std::string_view reason, const ExtensionRules& rules = {});

// UTF-8 code points in `text` after trimming ASCII whitespace.
size_t TrimmedCharCount(std::string_view text);

}  // namespace exam::core
