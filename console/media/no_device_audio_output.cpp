// Built when PortAudio is not available: review plays silently on the null output.
#include "media/audio_output.h"

namespace exam::media {

std::unique_ptr<AudioOutput> OpenDeviceAudioOutput(int, int, std::string* error) {
  if (error) *error = "this console was built without PortAudio";
  return nullptr;
}

}  // namespace exam::media
