#pragma once
// Recordings for the review player's tests, made at test time with the ffmpeg CLI once per
// build (in EXAM_TEST_MEDIA_DIR, so that the many test processes CTest starts share them): a laptop camera (720p, 2 s GOP, B-frames, a 440 Hz tone), an evidence phone
// (360p, one keyframe every 30 s, MPEG-TS so its index must be scanned), a sideways phone
// clip, a 4:2:2 clip, a truncated copy, a zero-byte file and a file that is no media at all.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "generated_media.h"
#include "temp_dir.h"

namespace exam::testing {

class ReviewMedia {
 public:
  // Generated once; nullptr (with the reason) when ffmpeg is missing or fails.
  static const ReviewMedia* Get(std::string* why) {
    static std::string error;
    static std::unique_ptr<ReviewMedia> media = Make(&error);
    if (!media && why) *why = error;
    return media.get();
  }

  std::string camera;     // 1280x720, 25 fps, 10 s, -g 50, 2 B-frames, AAC 48 kHz, faststart mp4
  std::string phone;      // 640x360, 25 fps, 40 s, keyframes at 0 and 30 s, MPEG-TS with audio
  std::string sideways;   // 320x240 mp4 whose display matrix says "turn 90° clockwise"
  std::string yuv422;     // 320x240 4:2:2 H.264 (High 4:2:2), 1 s
  std::string truncated;  // the camera recording cut at 45 % of its bytes
  std::string empty;      // zero bytes
  std::string garbage;    // 64 KiB of text, not media
  // The same room heard by two microphones: pink noise with an irregular loudness, the
  // second copy 350 ms later, at 8 kHz instead of 16 kHz.
  std::string room_camera;
  std::string room_phone;
  static constexpr int kRoomDelayUs = 350000;

  static constexpr int kFrameUs = 40000;

 private:
  static std::unique_ptr<ReviewMedia> Make(std::string* why) {
#ifdef EXAM_TEST_MEDIA_DIR
    GeneratedMediaSet dir(EXAM_TEST_MEDIA_DIR, "recordings");
#else
    static TempDir scratch;
    GeneratedMediaSet dir(scratch.path() / "recordings", "recordings");
#endif
    if (!dir.Usable(why)) return nullptr;
    auto m = std::make_unique<ReviewMedia>();
    m->camera = dir.File("camera.mp4");
    m->phone = dir.File("phone.ts");
    m->sideways = dir.File("sideways.mp4");
    m->yuv422 = dir.File("yuv422.mp4");
    m->truncated = dir.File("camera_truncated.mp4");
    m->empty = dir.File("empty.mp4");
    m->garbage = dir.File("garbage.mp4");
    m->room_camera = dir.File("room_camera.m4a");
    m->room_phone = dir.File("room_phone.m4a");
    if (dir.ready()) return m;
    const std::string x264 = " -c:v libx264 -preset superfast -pix_fmt yuv420p ";
    if (!RunFfmpeg("-f lavfi -i testsrc2=size=1280x720:rate=25 -f lavfi -i sine=frequency=440:sample_rate=48000 -t 10" + x264 +
                 "-g 50 -bf 2 -x264-params scenecut=0 -c:a aac -b:a 64k -movflags +faststart " + m->camera,
             why))
      return nullptr;
    if (!RunFfmpeg("-f lavfi -i testsrc2=size=640x360:rate=25 -f lavfi -i sine=frequency=300:sample_rate=16000 -t 40" + x264 +
                 "-bf 0 -x264-params keyint=750:min-keyint=750:scenecut=0 -c:a aac -b:a 32k -f mpegts " + m->phone,
             why))
      return nullptr;
    const std::string upright = dir.File("upright.mp4");
    if (!RunFfmpeg("-f lavfi -i testsrc2=size=320x240:rate=25 -t 1" + x264 + "-g 25 " + upright, why)) return nullptr;
    if (!RunFfmpeg("-i " + upright + " -c copy -metadata:s:v:0 rotate=90 " + m->sideways, why)) return nullptr;
    if (!RunFfmpeg("-f lavfi -i testsrc2=size=320x240:rate=25 -t 1 -c:v libx264 -preset superfast -pix_fmt yuv422p -g 25 " +
                 m->yuv422,
             why))
      return nullptr;
    const std::string room =
        "-f lavfi -i anoisesrc=d=12:c=pink:r=16000:a=0.5:s=42 -af "
        "\"volume='0.05+0.95*pow(abs(sin(5.1*t)*sin(1.7*t+sin(0.9*t))),2)':eval=frame";
    if (!RunFfmpeg(room + "\" -c:a aac -b:a 48k " + m->room_camera, why)) return nullptr;
    if (!RunFfmpeg(room + ",adelay=350\" -ar 8000 -c:a aac -b:a 32k " + m->room_phone, why)) return nullptr;
    const auto size = std::filesystem::file_size(m->camera);
    std::filesystem::copy_file(m->camera, m->truncated);
    std::filesystem::resize_file(m->truncated, size * 45 / 100);
    std::ofstream(m->empty).close();
    std::ofstream garbage(m->garbage);
    for (int i = 0; i < 2048; ++i) garbage << "this is not a recording, line " << i << "\n";
    garbage.close();
    if (!dir.Publish(why)) return nullptr;
    // Point at the shared copy (ours, or the one another process put there first).
    auto shared = Make(why);
    return shared;
  }
};

}  // namespace exam::testing
