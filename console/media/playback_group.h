#pragma once
// The review player's synchronised playback (同步回放): the screen, camera and evidence-phone
// recordings of one session under one master clock. The clock is the audio output's
// progress while a track's sound is heard, else the wall clock; each track shows the
// decoded frame covering the master time mapped through its UTC start and skew, or
// "no recording" where it has none.
//
// Everything here is for the UI thread and returns at once: Present() hands out the
// newest decoded frame and never waits for a decoder; seeks and steps are requests the
// track workers carry out.
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/review_timeline.h"
#include "media/audio_output.h"
#include "media/audio_track.h"
#include "media/track_decoder.h"

namespace exam::media {

struct PresentedFrame {
  TrackState state = TrackState::kOpening;
  std::string error;                   // why the track failed or what went wrong in it
  bool recorded = false;               // false: draw "no recording" (无录像) here
  std::optional<Micros> next_recorded_us;  // session time the recording resumes, if it does
  Micros track_us = 0;                 // the track time the master time maps to
  std::optional<DecodedFrame> frame;   // the newest decoded frame at or before track_us
  bool exact = false;                  // the frame covers track_us (false while catching up)
  bool past_end = false;               // the recording claims this time but has no pictures
                                       // for it (a truncated upload): see `error`
  int rotation_degrees = 0;
  bool has_video = true;  // false for a sound-only recording
};

class PlaybackGroup {
 public:
  using WallClock = std::function<std::chrono::steady_clock::time_point()>;
  struct Options {
    Micros session_origin_utc_us = 0;
    // Where sound goes; null: no sound and the wall clock.
    std::shared_ptr<AudioOutput> audio_output;
    // The wall clock (tests drive it by hand); steady_clock::now when empty.
    WallClock wall_clock;
    TrackDecoder::Options decoder;
  };

  explicit PlaybackGroup(Options options);
  ~PlaybackGroup();
  PlaybackGroup(const PlaybackGroup&) = delete;
  PlaybackGroup& operator=(const PlaybackGroup&) = delete;

  // Adds a recording; returns its index. Its decoder and sound open on their own workers.
  int AddTrack(std::shared_ptr<ByteSource> source, core::TrackPlacement placement);
  int track_count() const;
  TrackDecoder& decoder(int track);
  AudioTrack& audio(int track);
  core::TrackTimeline Timeline(int track) const;
  void SetSkew(int track, Micros skew_us);

  // Whose sound is heard, and so drives the clock; nullopt: silence, wall clock.
  void SelectAudio(std::optional<int> track);
  std::optional<int> selected_audio() const;
  bool audio_clock() const;

  void Play();
  void Pause();
  bool playing() const;
  // 0.5× to 4× (clamped).
  void SetRate(double rate);
  double rate() const;
  // Exact seek of every track to a session time.
  void Seek(Micros session_us);
  // Paused frame step along the reference track (the heard one, else the first with
  // pictures at the playhead). True when it moved now; false when the neighbouring frame
  // is still being decoded (the step happens on a later Present) or there is none.
  bool StepForward();
  bool StepBackward();

  // The master clock, in session time.
  Micros Now() const;
  // What a track shows now. Never waits.
  PresentedFrame Present(int track);
  std::vector<PresentedFrame> PresentAll();
  // Every track with a recording at Now() shows the frame covering it (or failed).
  bool Settled();
  // Blocks until Settled() (tests, benchmarks, export — not the UI thread).
  bool WaitSettled(std::chrono::milliseconds timeout);

 private:
  struct Track;
  int ReferenceTrackLocked(Micros now) const;
  bool StepLocked(int direction);
  Micros NowLocked() const;
  void SeekLocked(Micros session_us);
  void Render(float* out, int frames);

  Options options_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Track>> tracks_;
  bool playing_ = false;
  double rate_ = 1.0;
  Micros anchor_session_us_ = 0;  // where the wall clock counts from
  std::chrono::steady_clock::time_point anchor_wall_{};
  double audio_pos_us_ = 0;       // session time of the next sample to render
  uint64_t serial_ = 0;           // grows with seeks, so a render in flight is not applied twice
  std::optional<int> audio_track_;
  int pending_step_ = 0;          // a step waiting for its frame to be decoded
  bool output_started_ = false;
};

}  // namespace exam::media
