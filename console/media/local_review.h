#pragma once
// Offline review (离线评审, --review PATH…): an exported evidence clip (its folder or its
// manifest.json) or plain media files opened as one session, no backend needed. Each file
// is checked against the manifest's sha256 — a mismatch is shown as tampering — and placed
// on the session's time line by the manifest's UTC start, else by the container's
// creation_time, else at 0. Loading reads and hashes whole files: call it off the UI thread.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/review_timeline.h"
#include "exam/v1/clip.pb.h"
#include "exam/v1/common.pb.h"

namespace exam::media {

struct LocalTrack {
  std::string path;
  exam::v1::TrackKind kind = exam::v1::TRACK_KIND_CAMERA;
  core::TrackPlacement placement;  // utc_start_us 0 when nothing says when it started
  std::string sha256;              // of the file as it is now
  std::string expected_sha256;     // from the manifest; empty without one
  bool tampered = false;           // the file is not the one the manifest lists
  std::string error;               // cannot be read (the others still play)
};

struct LocalReview {
  std::optional<exam::v1::ClipManifest> manifest;
  std::string manifest_path;
  std::vector<LocalTrack> tracks;
  // Markers of the manifest in UTC microseconds (the clip's start + offset).
  struct Marker {
    core::MarkerKind kind = core::MarkerKind::kFlag;
    core::Micros utc_us = 0;
    int question = 0;
    std::string detail;
  };
  std::vector<Marker> markers;
  std::vector<std::string> missing;  // files the manifest lists that are not there
  std::string error;                 // nothing could be opened at all
};

// What the paths hold: one clip folder or manifest, or any number of media files.
LocalReview LoadLocalReview(const std::vector<std::string>& paths);

// A track kind from a file name ("screen-0.mp4", "evidence.mov", "phone.mp4"); camera when
// the name says nothing.
exam::v1::TrackKind GuessTrackKind(const std::string& file_name);

}  // namespace exam::media
