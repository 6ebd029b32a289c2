#pragma once
// Pre-encoded H.264 loops that simulated candidate devices replay as their live streams.
//
// Each track kind (camera, screen, evidence) has a synthetic test pattern drawn straight
// into YUV420P (BT.601, limited range; no swscale): a solid key-colour block in the top-left
// quarter that tells the tracks apart, on a static background, plus moving content so that
// successive frames differ. The loops are encoded once per process with libx264 (ultrafast,
// zerolatency, no B-frames, an IDR every second) and cached.
//
// Packets are Annex B (start codes) with SPS/PPS repeated in front of every keyframe, so a
// decoder can start at any keyframe; `extradata` holds the same SPS/PPS (Annex B) for a
// decoder that wants them up front. Time base 1/90000; pts == dts (no reordering).
#include <cstdint>
#include <string>
#include <vector>

namespace exam::v1 {
class MediaPacket;
}

namespace exam::media {

enum class LoopTrack { kCamera, kScreen, kEvidence };
enum class LoopQuality { kTile, kFull };

// The key block's colour of a track: exact YUV written into the frame, and the RGB it
// stands for (BT.601 limited range).
struct KeyColour {
  uint8_t y, u, v;
  uint8_t r, g, b;
};
// Camera: red (81, 90, 240) ~ RGB(255, 0, 0). Screen: blue (41, 240, 110) ~ RGB(0, 0, 255).
// Evidence: green (145, 54, 34) ~ RGB(0, 255, 0).
KeyColour KeyColourOf(LoopTrack track);

// The key block covers x in [0, KeyBlockWidth), y in [0, KeyBlockHeight) (a quarter of each
// dimension, rounded down to even). Its centre is safely inside it after lossy coding.
inline int KeyBlockWidth(int width) { return (width / 4) & ~1; }
inline int KeyBlockHeight(int height) { return (height / 4) & ~1; }

struct LoopPacket {
  std::string data;  // Annex B
  int64_t pts = 0;   // in the loop's time base, from 0
  bool keyframe = false;
};

struct LiveLoop {
  LoopTrack track = LoopTrack::kCamera;
  LoopQuality quality = LoopQuality::kTile;
  int width = 0, height = 0;
  int fps = 15;
  int keyint = 15;  // frames between keyframes (one second)
  int time_base_num = 1, time_base_den = 90000;
  int64_t frame_duration = 6000;  // in the time base
  std::string extradata;          // SPS + PPS, Annex B
  std::vector<LoopPacket> packets;  // decode order == presentation order; packets[0] is a keyframe
  // Length of the loop in the time base (a replay adds this per lap).
  int64_t duration() const { return frame_duration * static_cast<int64_t>(packets.size()); }
};

// Size and rate of a track's stream: camera 320x180 / 640x360 at 15 fps, screen 320x180 /
// 1280x720 at 5 fps, evidence 320x180 / 640x360 at 15 fps.
void LoopFormat(LoopTrack track, LoopQuality quality, int* width, int* height, int* fps);

// The loop (4 s), encoded on first use and cached for the process; thread-safe. Throws
// std::runtime_error when the encoder is missing or fails.
const LiveLoop& GetLiveLoop(LoopTrack track, LoopQuality quality);

// Draws frame `index` of a track's pattern into YUV420P planes (for tests and the encoder).
void DrawPatternFrame(LoopTrack track, int width, int height, int index, uint8_t* const planes[3],
                      const int linesize[3]);

const char* LoopTrackName(LoopTrack track);

// Frame `frame` of a stream replaying `loop` (counted from the stream's start; the loop
// wraps) as a pushed packet: timestamps from the frame number, the loop's bytes and
// keyframe flag, and the codec parameters in front when `with_parameters` (a stream's first
// packet). Fields it does not set (captured_at) are left as they are.
void FillLoopPacket(const LiveLoop& loop, int64_t frame, bool with_parameters, exam::v1::MediaPacket* packet);

}  // namespace exam::media
