#include "media/audio_output.h"

#include <chrono>
#include <vector>

namespace exam::media {

bool NullAudioOutput::Start(AudioRenderer render, std::string* error) {
  std::lock_guard lock(mu_);
  if (running_) {
    if (error) *error = "the audio output is already started";
    return false;
  }
  render_ = std::move(render);
  running_ = true;
  if (pace_ == Pace::kManual) return true;
  thread_ = std::thread([this] {
    using Clock = std::chrono::steady_clock;
    std::vector<float> scratch;
    const auto start = Clock::now();
    uint64_t done = 0;
    std::unique_lock lock(mu_);
    while (running_) {
      cv_.wait_for(lock, std::chrono::milliseconds(10));
      if (!running_) break;
      // Render what real time says is due: the clock follows the wall, not the wakeups.
      const auto due = static_cast<uint64_t>(std::chrono::duration<double>(Clock::now() - start).count() * rate_);
      if (due <= done) continue;
      const int frames = static_cast<int>(std::min<uint64_t>(due - done, static_cast<uint64_t>(rate_)));
      scratch.resize(static_cast<size_t>(frames) * channels_);
      auto render = render_;
      lock.unlock();
      render(scratch.data(), frames);
      rendered_ += static_cast<uint64_t>(frames);
      lock.lock();
      done += static_cast<uint64_t>(frames);
    }
  });
  return true;
}

void NullAudioOutput::Stop() {
  {
    std::lock_guard lock(mu_);
    running_ = false;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void NullAudioOutput::Advance(int frames, std::vector<float>* rendered) {
  AudioRenderer render;
  {
    std::lock_guard lock(mu_);
    if (!running_) return;
    render = render_;
  }
  std::vector<float> scratch(static_cast<size_t>(frames) * channels_);
  render(scratch.data(), frames);
  rendered_ += static_cast<uint64_t>(frames);
  if (rendered) *rendered = std::move(scratch);
}

}  // namespace exam::media
