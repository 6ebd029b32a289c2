#pragma once
// Recordings the review player must survive, made at test time with the ffmpeg CLI once per
// build (in EXAM_TEST_MEDIA_DIR, shared by the test processes CTest starts): an mp4 cut
// before its index, an empty file, files whose extension lies, HEVC and VP9 instead of
// H.264, variable frame rate, B-frames reordered in MPEG-TS, pictures too large to show
// (from the start or from midway), sound only, and two MPEG-TS pieces joined so that the timestamps start over.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "generated_media.h"
#include "temp_dir.h"

namespace exam::testing {

class BadMedia {
 public:
  // Generated once; nullptr (with the reason) when ffmpeg is missing or fails.
  static const BadMedia* Get(std::string* why) {
    static std::string error;
    static std::unique_ptr<BadMedia> media = Make(&error);
    if (!media && why) *why = error;
    return media.get();
  }

  std::string good;          // 320x240, 25 fps, 4 s, -g 25, AAC; its moov at the end (no faststart)
  std::string no_moov;       // `good` cut where its moov atom begins
  std::string no_moov_half;  // `good` cut in the middle of its media data
  std::string moov_cut;      // a faststart copy of `good` cut in the middle of its moov
  std::string empty;         // zero bytes
  std::string mp4_as_mkv;    // `good`, named .mkv
  std::string ts_as_mp4;     // an MPEG-TS (320x240, 25 fps, 4 s, -g 25), named .mp4
  std::string hevc;          // 320x240, 25 fps, 2 s, libx265 in mp4 (absent without libx265)
  std::string vp9;           // 320x240, 25 fps, 2 s, libvpx-vp9 in webm (absent without it)
  std::string vfr;           // 75 frames at 25, then 10, then 50 fps (see VfrPts)
  std::string bframes;       // 320x240, 25 fps, 6 s, -g 50, 3 B-frames with pyramid, MPEG-TS
  std::string wide_ok;       // 8192x64: the largest side the player takes
  std::string wide;          // 8200x64: over the side limit
  std::string huge;          // 6400x6400 (41 megapixels): over the area limit
  std::string grows;         // MPEG-TS: 2 s of 320x240, then 1 s of 8200x64 (a new SPS midway)
  std::string audio_only;    // AAC sound, 3 s, no picture (.m4a)
  std::string jump;          // two 3 s MPEG-TS pieces joined with cat: the second starts over

  static constexpr int kFrameUs = 40000;

  // The presentation times of `vfr`, in µs from its first picture.
  static std::vector<int64_t> VfrPts() {
    std::vector<int64_t> pts;
    for (int n = 0; n < 75; ++n)
      pts.push_back(n < 25 ? n * 40'000 : n < 50 ? 1'000'000 + (n - 25) * 100'000 : 3'500'000 + (n - 50) * 20'000);
    return pts;
  }

  static bool HasEncoder(const std::string& name) {
    const std::string cmd = "ffmpeg -hide_banner -encoders 2>/dev/null | grep -q ' " + name + " '";
    return std::system(cmd.c_str()) == 0;
  }

  // Where the top-level ISO BMFF box `type` starts in `path`, or -1.
  static int64_t BoxOffset(const std::string& path, const std::string& type) {
    std::ifstream in(path, std::ios::binary);
    const auto size = static_cast<int64_t>(std::filesystem::file_size(path));
    int64_t at = 0;
    while (at + 8 <= size) {
      unsigned char h[16] = {0};
      in.seekg(at);
      in.read(reinterpret_cast<char*>(h), 16);
      uint64_t box = (uint64_t{h[0]} << 24) | (uint64_t{h[1]} << 16) | (uint64_t{h[2]} << 8) | h[3];
      if (std::string(reinterpret_cast<char*>(h + 4), 4) == type) return at;
      if (box == 1) {
        box = 0;
        for (int i = 8; i < 16; ++i) box = (box << 8) | h[i];
      }
      if (box < 8) return -1;
      at += static_cast<int64_t>(box);
    }
    return -1;
  }

 private:
  static std::unique_ptr<BadMedia> Make(std::string* why) {
#ifdef EXAM_TEST_MEDIA_DIR
    GeneratedMediaSet dir(EXAM_TEST_MEDIA_DIR, "bad-media");
#else
    static TempDir scratch;
    GeneratedMediaSet dir(scratch.path() / "bad-media", "bad-media");
#endif
    if (!dir.Usable(why)) return nullptr;
    auto file = [&](const char* name) { return dir.File(name); };
    auto m = std::make_unique<BadMedia>();
    m->good = file("good.mp4");
    m->no_moov = file("no_moov.mp4");
    m->no_moov_half = file("no_moov_half.mp4");
    m->moov_cut = file("moov_cut.mp4");
    m->empty = file("empty.mp4");
    m->mp4_as_mkv = file("really_mp4.mkv");
    m->ts_as_mp4 = file("really_ts.mp4");
    m->hevc = file("hevc.mp4");
    m->vp9 = file("vp9.webm");
    m->vfr = file("vfr.mp4");
    m->bframes = file("bframes.ts");
    m->wide_ok = file("wide_8192.mp4");
    m->wide = file("wide_8200.mp4");
    m->huge = file("huge_6400.mp4");
    m->grows = file("grows_to_8200.ts");
    m->audio_only = file("audio_only.m4a");
    m->jump = file("jump.ts");
    if (dir.ready()) return m;

    const std::string src = "-f lavfi -i testsrc2=size=320x240:rate=25 ";
    const std::string x264 = " -c:v libx264 -preset superfast -pix_fmt yuv420p ";
    if (!RunFfmpeg(src + "-f lavfi -i sine=frequency=440:sample_rate=48000 -t 4" + x264 + "-g 25 -c:a aac -b:a 48k " + m->good,
             why))
      return nullptr;
    const int64_t moov = BoxOffset(m->good, "moov");
    const int64_t mdat = BoxOffset(m->good, "mdat");
    if (moov <= 0 || mdat <= 0 || moov < mdat) {
      *why = "ffmpeg put the moov of " + m->good + " first: cannot make an mp4 without one";
      return nullptr;
    }
    std::filesystem::copy_file(m->good, m->no_moov);
    std::filesystem::resize_file(m->no_moov, static_cast<uintmax_t>(moov));
    std::filesystem::copy_file(m->good, m->no_moov_half);
    std::filesystem::resize_file(m->no_moov_half, static_cast<uintmax_t>(mdat + (moov - mdat) / 2));
    if (!RunFfmpeg("-i " + m->good + " -c copy -movflags +faststart " + m->moov_cut, why)) return nullptr;
    const int64_t front_moov = BoxOffset(m->moov_cut, "moov");
    const int64_t front_mdat = BoxOffset(m->moov_cut, "mdat");
    if (front_moov <= 0 || front_mdat < front_moov) {
      *why = "ffmpeg did not put the moov of " + m->moov_cut + " first";
      return nullptr;
    }
    std::filesystem::resize_file(m->moov_cut, static_cast<uintmax_t>(front_moov + (front_mdat - front_moov) / 2));
    std::ofstream(m->empty).close();
    std::filesystem::copy_file(m->good, m->mp4_as_mkv);
    if (!RunFfmpeg(src + "-t 4" + x264 + "-g 25 -f mpegts " + m->ts_as_mp4, why)) return nullptr;
    // Missing encoders leave the file absent; those tests skip and say why.
    if (HasEncoder("libx265") &&
        !RunFfmpeg(src + "-t 2 -c:v libx265 -preset ultrafast -x265-params log-level=error:keyint=25 -pix_fmt yuv420p " +
                 m->hevc,
             why))
      return nullptr;
    if (HasEncoder("libvpx-vp9") &&
        !RunFfmpeg(src + "-t 2 -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -g 25 -pix_fmt yuv420p " + m->vp9, why))
      return nullptr;
    // Millisecond timestamps set frame by frame; -r 1000 with vfr only sets the encoder's
    // time base (without it x264 rounds them to 1/25 s).
    if (!RunFfmpeg(src + "-frames:v 75 -vf \"settb=1/1000,setpts='if(lt(N,25),N*40,if(lt(N,50),1000+(N-25)*100,3500+(N-50)*20))'\" "
                   "-fps_mode vfr -r 1000" + x264 + "-g 25 -bf 0 -video_track_timescale 1000 " + m->vfr,
             why))
      return nullptr;
    if (!RunFfmpeg(src + "-t 6" + x264 + "-g 50 -bf 3 -x264-params b-pyramid=normal:scenecut=0 -f mpegts " + m->bframes, why))
      return nullptr;
    if (!RunFfmpeg("-f lavfi -i testsrc2=size=8192x64:rate=25 -t 1" + x264 + "-g 25 " + m->wide_ok, why)) return nullptr;
    if (!RunFfmpeg("-f lavfi -i testsrc2=size=8200x64:rate=25 -t 1" + x264 + "-g 25 " + m->wide, why)) return nullptr;
    if (!RunFfmpeg("-f lavfi -i color=c=blue:size=6400x6400:rate=25 -frames:v 2" + x264 + m->huge, why)) return nullptr;
    {
      // The header (the first SPS) says 320x240; the pictures after 2 s are too large.
      const std::string small = file("grows_a.ts"), large = file("grows_b.ts");
      if (!RunFfmpeg(src + "-t 2" + x264 + "-g 25 -bf 0 -f mpegts " + small, why)) return nullptr;
      if (!RunFfmpeg("-f lavfi -i testsrc2=size=8200x64:rate=25 -t 1" + x264 + "-g 25 -bf 0 -output_ts_offset 2 -f mpegts " +
                   large,
               why))
        return nullptr;
      std::ofstream out(m->grows, std::ios::binary);
      for (const std::string& piece : {small, large}) {
        std::ifstream in(piece, std::ios::binary);
        out << in.rdbuf();
      }
    }
    if (!RunFfmpeg("-f lavfi -i sine=frequency=330:sample_rate=48000 -t 3 -c:a aac -b:a 48k " + m->audio_only, why))
      return nullptr;
    // Two pieces with the same timestamps (each starts at 1.4 s, MPEG-TS's default), the
    // second a different picture: joined, the timestamps go back 3 s in the middle.
    const std::string a = file("piece_a.ts"), b = file("piece_b.ts");
    if (!RunFfmpeg(src + "-f lavfi -i sine=frequency=440:sample_rate=48000 -t 3" + x264 +
                 "-g 25 -bf 0 -c:a aac -b:a 48k -f mpegts " + a,
             why))
      return nullptr;
    if (!RunFfmpeg("-f lavfi -i smptebars=size=320x240:rate=25 -f lavfi -i sine=frequency=660:sample_rate=48000 -t 3" + x264 +
                 "-g 25 -bf 0 -c:a aac -b:a 48k -f mpegts " + b,
             why))
      return nullptr;
    {
      std::ofstream out(m->jump, std::ios::binary);
      for (const std::string& piece : {a, b}) {
        std::ifstream in(piece, std::ios::binary);
        out << in.rdbuf();
      }
    }
    if (!dir.Publish(why)) return nullptr;
    // Point at the shared copy (ours, or the one another process put there first).
    return Make(why);
  }
};

}  // namespace exam::testing
