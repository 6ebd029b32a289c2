#pragma once
// Where the review player's sound goes. The output calls back for samples on its own
// thread and counts what it played; that count is the playback clock when a track's sound
// is heard. The null output plays nothing but keeps the same clock, so headless runs and
// tests play exactly as a console with speakers would.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace exam::media {

// Fills `frames` interleaved frames; called on the output's thread.
using AudioRenderer = std::function<void(float* interleaved, int frames)>;

class AudioOutput {
 public:
  virtual ~AudioOutput() = default;
  // Starts calling `render`. False with *error when the device cannot be used.
  virtual bool Start(AudioRenderer render, std::string* error) = 0;
  virtual void Stop() = 0;
  virtual int sample_rate() const = 0;
  virtual int channels() const = 0;
  // How long a sample takes from render to the speaker (0 for the null output).
  virtual int64_t latency_us() const = 0;
};

// Plays nothing. Free-running, a thread renders in 10 ms steps at the real pace; manual
// (tests, exports), only Advance() renders, so the clock moves exactly as the caller says.
class NullAudioOutput : public AudioOutput {
 public:
  enum class Pace { kRealTime, kManual };
  explicit NullAudioOutput(Pace pace = Pace::kRealTime, int sample_rate = 48000, int channels = 2)
      : pace_(pace), rate_(sample_rate), channels_(channels) {}
  ~NullAudioOutput() override { Stop(); }

  bool Start(AudioRenderer render, std::string* error) override;
  void Stop() override;
  int sample_rate() const override { return rate_; }
  int channels() const override { return channels_; }
  int64_t latency_us() const override { return 0; }

  // Manual pace: renders `frames` frames now, on the caller's thread (and hands them to
  // `rendered` when given, to check what would have been heard).
  void Advance(int frames, std::vector<float>* rendered = nullptr);
  uint64_t frames_rendered() const { return rendered_.load(); }

 private:
  const Pace pace_;
  const int rate_;
  const int channels_;
  std::mutex mu_;
  std::condition_variable cv_;
  AudioRenderer render_;
  bool running_ = false;
  std::thread thread_;
  std::atomic<uint64_t> rendered_{0};
};

// The default output device through PortAudio; nullptr with *error when there is none (a
// headless machine) or when the console was built without PortAudio.
std::unique_ptr<AudioOutput> OpenDeviceAudioOutput(int sample_rate, int channels, std::string* error);

}  // namespace exam::media
