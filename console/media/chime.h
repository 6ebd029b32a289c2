#pragma once
// A short two-tone chime through PortAudio, for notices that must not be missed (a raised
// hand, an in-exam appeal). Play() only flips an atomic; the audio callback renders the
// tone on PortAudio's thread, so the UI never waits on the audio device.
#include <atomic>
#include <memory>
#include <string>

namespace exam::media {

class Chime {
 public:
  // Opens the default output device; nullptr with *error when there is none (headless).
  static std::unique_ptr<Chime> Open(std::string* error);
  ~Chime();
  Chime(const Chime&) = delete;
  Chime& operator=(const Chime&) = delete;

  void Play();

  struct Impl;

 private:
  explicit Chime(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace exam::media
