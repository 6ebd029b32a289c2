#pragma once
// A still of a live picture for the record (违规截图): a proctor recording a violation attaches
// the frame on screen, encoded as JPEG with libavcodec's MJPEG encoder straight from the
// decoder's YUV 4:2:0 planes (no colour conversion, so it costs a few milliseconds on the
// caller's thread at 1280×720).
#include <string>

#include "media/live_decoder_pool.h"

namespace exam::media {

struct JpegResult {
  std::string bytes;  // the JPEG file; empty on failure
  std::string error;  // why it failed
};

// `quality`: 2 (best) .. 31 (smallest), libavcodec's qscale.
JpegResult EncodeJpeg(const VideoFrame& frame, int quality = 4);

}  // namespace exam::media
