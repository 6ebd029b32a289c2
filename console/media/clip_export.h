#pragma once
// Evidence clip export (导出证据片段): a range of session time cut out of every recording
// that covers it, one file per recording, plus manifest.json (exam.v1.ClipManifest) with the
// session, the range, each file's offset and sha256. Packets are copied as recorded
// (FFmpeg stream copy through the same AVIO as playback, so remote recordings are read
// through the block cache); a cut starts on the keyframe at or before the range, and the
// manifest says by how much the file begins early. Runs on the caller's thread: call it from
// a worker, never the UI thread.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/review_timeline.h"
#include "exam/v1/clip.pb.h"
#include "media/byte_source.h"

namespace exam::media {

struct ClipSource {
  exam::v1::TrackKind kind = exam::v1::TRACK_KIND_CAMERA;
  int64_t track_id = 0;
  int segment = 0;
  std::string source_sha256;
  core::TrackPlacement placement;  // stated UTC start, duration, the reviewer's skew
  std::shared_ptr<ByteSource> source;
};

struct ClipRequest {
  int64_t session_id = 0;
  int32_t draw_number = 0;
  core::Micros start_utc_us = 0;  // the range, on the session's clock
  core::Micros end_utc_us = 0;
  std::string folder;             // created when missing; existing clip files are replaced
  std::string exported_by;
  std::vector<ClipSource> sources;
  std::vector<exam::v1::ClipMarker> markers;  // offset_us relative to start_utc_us; those outside are dropped
};

struct ClipResult {
  exam::v1::ClipManifest manifest;
  std::string manifest_path;
  std::string error;                // the export as a whole failed (folder, nothing to cut)
  std::vector<std::string> skipped;  // per recording: why it has no file (not in range, unreadable)
  bool ok() const { return error.empty(); }
};

// `progress` (0..1) is called between recordings; `cancel` stops between packets.
ClipResult ExportClip(const ClipRequest& request, const std::function<void(float)>& progress = {},
                      const std::atomic<bool>* cancel = nullptr);

// Hex sha256 of a file; empty with *error when it cannot be read.
std::string FileSha256(const std::string& path, std::string* error);

}  // namespace exam::media
