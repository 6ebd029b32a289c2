// The review player's sound on the default device through PortAudio (as the notice chime).
#include <portaudio.h>

#include "media/audio_output.h"

namespace exam::media {
namespace {

class PortAudioOutput : public AudioOutput {
 public:
  PortAudioOutput(int rate, int channels) : rate_(rate), channels_(channels) {}
  ~PortAudioOutput() override {
    Stop();
    if (initialised_) Pa_Terminate();
  }

  bool Init(std::string* error) {
    if (PaError e = Pa_Initialize(); e != paNoError) {
      *error = std::string("cannot initialise PortAudio: ") + Pa_GetErrorText(e);
      return false;
    }
    initialised_ = true;
    if (Pa_GetDefaultOutputDevice() == paNoDevice) {
      *error = "no audio output device";
      return false;
    }
    return true;
  }

  bool Start(AudioRenderer render, std::string* error) override {
    render_ = std::move(render);
    PaError e = Pa_OpenDefaultStream(&stream_, 0, channels_, paFloat32, rate_, paFramesPerBufferUnspecified,
                                     &PortAudioOutput::Callback, this);
    if (e == paNoError) e = Pa_StartStream(stream_);
    if (e != paNoError) {
      *error = Pa_GetErrorText(e);
      if (stream_) Pa_CloseStream(stream_);
      stream_ = nullptr;
      return false;
    }
    if (const PaStreamInfo* info = Pa_GetStreamInfo(stream_)) latency_us_ = static_cast<int64_t>(info->outputLatency * 1e6);
    return true;
  }

  void Stop() override {
    if (!stream_) return;
    Pa_StopStream(stream_);
    Pa_CloseStream(stream_);
    stream_ = nullptr;
  }

  int sample_rate() const override { return rate_; }
  int channels() const override { return channels_; }
  int64_t latency_us() const override { return latency_us_; }

 private:
  static int Callback(const void*, void* out, unsigned long frames, const PaStreamCallbackTimeInfo*, PaStreamCallbackFlags,
                      void* user) {
    auto* self = static_cast<PortAudioOutput*>(user);
    self->render_(static_cast<float*>(out), static_cast<int>(frames));
    return paContinue;
  }

  const int rate_;
  const int channels_;
  bool initialised_ = false;
  PaStream* stream_ = nullptr;
  AudioRenderer render_;
  int64_t latency_us_ = 0;
};

}  // namespace

std::unique_ptr<AudioOutput> OpenDeviceAudioOutput(int sample_rate, int channels, std::string* error) {
  auto out = std::make_unique<PortAudioOutput>(sample_rate, channels);
  if (!out->Init(error)) return nullptr;
  return out;
}

}  // namespace exam::media
