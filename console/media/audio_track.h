#pragma once
// The sound of one recording for review: decoded to float PCM (libswresample) at the
// output's rate on the track's own worker, kept in a short buffer around the position the
// audio device is playing. The device thread reads samples by position and never waits: a
// position not decoded yet plays as silence while the worker seeks there.
//
// Track time here has the same origin as the recording's video (its first picture), so the
// audio of a track lines up with its frames without further offsets.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/review_timeline.h"
#include "media/byte_source.h"

namespace exam::media {

using core::Micros;

class AudioTrack {
 public:
  struct Options {
    int sample_rate = 48000;  // output rate
    int channels = 2;         // output channels (1 or 2)
    Micros buffer_ahead_us = 1'500'000;
  };
  AudioTrack(std::shared_ptr<ByteSource> source, Options options);
  ~AudioTrack();
  AudioTrack(const AudioTrack&) = delete;
  AudioTrack& operator=(const AudioTrack&) = delete;

  bool failed() const;
  std::string Error() const;
  bool has_audio() const;  // false until opened, and for recordings without sound

  // Fills `frames` output frames starting at track time `start_us`, advancing by `step`
  // source frames per output frame (1 at normal speed, 2 at 2×, 0.5 to 4). Off 1× the sound
  // is time-stretched (FFmpeg's atempo) so voices keep their pitch: graders listen to
  // answers at 1.5–2×. Positions not decoded yet come out as silence. Returns how many
  // frames were real audio. Safe on the audio device's thread: it never waits for the
  // decoder. Calls for one track come from one thread at a time.
  int ReadAt(double start_us, double step, int frames, float* interleaved);
  // Tells the worker where playback will read next (seeks, and the first read after them).
  void Prefetch(Micros track_us);
  // Blocks until the samples at track_us are decoded (tests).
  bool WaitBuffered(Micros track_us, std::chrono::milliseconds timeout);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Decodes a recording's whole sound (at most `max_us`) to mono at `sample_rate`, for the
// waveform lane and for lining up tracks by their sound. Empty with *error on failure.
std::vector<float> DecodeAudioMono(std::shared_ptr<ByteSource> source, int sample_rate, Micros max_us, std::string* error);

}  // namespace exam::media
