#pragma once
// The video of one recording in the review player (回放轨道解码): demux + decode on the
// track's own worker thread, a keyframe index built once, exact seek (the frame whose time
// covers the target, not the keyframe before it), and a window of decoded frames around
// the playhead so that stepping a frame back is instant even on a phone track with one
// keyframe every 30 s — the worker refills the window behind the playhead in the
// background.
//
// The UI never waits here: it moves the playhead and asks for the frame covering a time;
// it gets it if decoded, nothing otherwise. Errors (zero-byte, truncated, corrupt, unknown
// format, pictures over kMaxPictureSide / kMaxPicturePixels) end in the kFailed state with
// a readable reason; other tracks are not affected. A sound-only recording is kReady with
// has_video false.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/review_timeline.h"
#include "media/byte_source.h"
#include "media/live_decoder_pool.h"

namespace exam::media {

using core::Micros;

struct DecodedFrame {
  std::shared_ptr<const VideoFrame> picture;  // YUV 4:2:0; pts is in stream time base
  Micros pts_us = 0;       // track time (0 = the first frame)
  Micros duration_us = 0;
};

enum class TrackState { kOpening, kReady, kFailed };

struct Keyframe {
  Micros pts_us = 0;    // track time
  int64_t timestamp = 0;  // stream time base, what av_seek_frame wants
  int64_t pos = -1;     // byte position, when known
};

struct TrackInfo {
  bool has_video = false;
  bool has_audio = false;
  std::string codec;
  int width = 0;
  int height = 0;
  double frame_rate = 0.0;
  Micros frame_duration_us = 40000;
  Micros duration_us = 0;
  // Clockwise rotation the picture needs for display (0, 90, 180, 270), from the
  // stream's display matrix (phones record sideways and say so there).
  int rotation_degrees = 0;
  bool index_from_container = false;  // false: built by scanning packets
  size_t keyframe_count = 0;
  Micros max_keyframe_interval_us = 0;
  int audio_sample_rate = 0;
  int audio_channels = 0;
};

struct TrackDecoderStats {
  uint64_t frames_decoded = 0;
  uint64_t seeks = 0;  // demuxer repositionings
  uint64_t decode_errors = 0;
  size_t window_frames = 0;
  Micros window_first_us = 0;
  Micros window_last_us = 0;
};

class TrackDecoder {
 public:
  struct Options {
    int frames_behind = 32;  // decoded frames kept before the playhead (step back)
    int frames_ahead = 12;   // decoded ahead of it (playback, step forward)
    // Called on the worker when the window gained the frame covering the playhead or the
    // state changed; must be cheap (glfwPostEmptyEvent).
    std::function<void()> on_update;
    // Up to this many behind on tracks with long GOPs (a phone's 30 s): refilling the window
    // there means decoding from a keyframe far back, so each refill must bring many frames.
    int frames_behind_long_gop = 96;
    // libavcodec frame threads per track: two make a long seek's decode much shorter (see
    // tests/bench/review_seek_bench.cpp) at the cost of one frame of decoder delay.
    int decoder_threads = 2;
  };

  TrackDecoder(std::shared_ptr<ByteSource> source, Options options);
  explicit TrackDecoder(std::shared_ptr<ByteSource> source) : TrackDecoder(std::move(source), Options{}) {}
  ~TrackDecoder();
  TrackDecoder(const TrackDecoder&) = delete;
  TrackDecoder& operator=(const TrackDecoder&) = delete;

  TrackState State() const;
  // Why kFailed, or a non-fatal problem of a playable track (a damaged picture, an early
  // end, timestamps jumping back).
  std::string Error() const;
  TrackInfo Info() const;     // complete once kReady
  std::vector<Keyframe> Keyframes() const;

  // Where the player is, in track time. Cheap; the worker decodes toward it.
  void SetPlayhead(Micros track_us);
  Micros Playhead() const;

  // The decoded frame covering `track_us` (pts <= t < next pts), if it is in the window.
  std::optional<DecodedFrame> FrameAt(Micros track_us) const;
  // The newest decoded frame at or before `track_us` even if it does not cover it (what to
  // keep showing while the worker catches up).
  std::optional<DecodedFrame> LatestAtOrBefore(Micros track_us) const;
  // Times of the frames next to the one covering t, when the window holds them. nullopt
  // also at the track's ends (see AtFirstFrame / AtLastFrame).
  std::optional<Micros> NextFrameTime(Micros t) const;
  std::optional<Micros> PreviousFrameTime(Micros t) const;
  bool IsFirstFrame(Micros t) const;
  bool IsLastFrame(Micros t) const;
  // Where the pictures really end, once the decoder got there (earlier than Info's
  // duration for a truncated upload).
  std::optional<Micros> DecodableEnd() const;

  // Blocks until the frame covering t is decoded (moving the playhead there), the track
  // failed, or the timeout passed. For tests, benchmarks and export — never the UI thread.
  std::optional<DecodedFrame> WaitFrameAt(Micros track_us, std::chrono::milliseconds timeout);
  // Blocks until the worker has nothing left to do for the current playhead.
  bool WaitIdle(std::chrono::milliseconds timeout);

  TrackDecoderStats Stats() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace exam::media
