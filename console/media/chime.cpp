#include "media/chime.h"

#include <portaudio.h>

#include <algorithm>
#include <cmath>

namespace exam::media {

namespace {
constexpr double kRate = 44100.0;
constexpr double kPi = 3.14159265358979323846;
// 880 Hz then 1175 Hz, 120 ms each, with a short fade so it does not click.
constexpr int kToneSamples = static_cast<int>(kRate * 0.12);
constexpr int kTotal = 2 * kToneSamples;

float Sample(int i) {
  const double f = i < kToneSamples ? 880.0 : 1174.66;
  const int k = i % kToneSamples;
  const double fade = std::min(1.0, std::min(k, kToneSamples - k) / (kRate * 0.01));
  return static_cast<float>(0.25 * fade * std::sin(2.0 * kPi * f * i / kRate));
}
}  // namespace

struct Chime::Impl {
  PaStream* stream = nullptr;
  std::atomic<int> position{kTotal};  // kTotal: silent

  static int Callback(const void*, void* out, unsigned long frames, const PaStreamCallbackTimeInfo*,
                      PaStreamCallbackFlags, void* user) {
    auto* self = static_cast<Impl*>(user);
    auto* dst = static_cast<float*>(out);
    int pos = self->position.load(std::memory_order_relaxed);
    for (unsigned long i = 0; i < frames; ++i) dst[i] = pos < kTotal ? Sample(pos++) : 0.0f;
    self->position.store(pos, std::memory_order_relaxed);
    return paContinue;
  }
};

std::unique_ptr<Chime> Chime::Open(std::string* error) {
  if (Pa_Initialize() != paNoError) {
    *error = "cannot initialise PortAudio";
    return nullptr;
  }
  auto impl = std::make_unique<Impl>();
  PaError e = Pa_OpenDefaultStream(&impl->stream, 0, 1, paFloat32, kRate, paFramesPerBufferUnspecified,
                                   &Impl::Callback, impl.get());
  if (e == paNoError) e = Pa_StartStream(impl->stream);
  if (e != paNoError) {
    *error = Pa_GetErrorText(e);
    if (impl->stream) Pa_CloseStream(impl->stream);
    Pa_Terminate();
    return nullptr;
  }
  return std::unique_ptr<Chime>(new Chime(std::move(impl)));
}

Chime::Chime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Chime::~Chime() {
  Pa_StopStream(impl_->stream);
  Pa_CloseStream(impl_->stream);
  Pa_Terminate();
}

void Chime::Play() { impl_->position.store(0, std::memory_order_relaxed); }

}  // namespace exam::media
