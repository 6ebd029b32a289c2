// The live wall's decode path against FFmpeg's own: the camera tile loop that simulated
// devices push (320x180 H.264, 15 fps, a keyframe every second) fed N times through
// LiveDecoderPool with one worker, and the same bytes written to a file and decoded by
// `ffmpeg -threads 1 -i FILE -f null -`. Prints frames per second of both, by wall time and
// by CPU time, and their ratio (target: the pool at >= 0.95 of ffmpeg). Both runs are
// repeated and the best of each kept, as the machine may be shared.
//
//   bench_live_decode [--streams 64] [--laps 8] [--repeat 3] [--ffmpeg ffmpeg] [--keep FILE]
//
// --streams x --laps copies of the 60-frame loop are decoded (64 x 8 = 30,720 frames). The
// pool decodes each stream with its own decoder, as on the wall; ffmpeg decodes the
// concatenation with one decoder (each lap starts on a keyframe with SPS/PPS in front).
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern "C" {
#include <libavutil/log.h>
}

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "backend/media/live_loop.h"
#include "media/live_decoder_pool.h"

namespace {

using Clock = std::chrono::steady_clock;
using exam::media::DecodePolicy;
using exam::media::EncodedPacket;
using exam::media::LiveDecoderPool;

double Seconds(const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; }

double CpuSelf() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return Seconds(u.ru_utime) + Seconds(u.ru_stime);
}

struct Run {
  double wall_s = 1e30;
  double cpu_s = 1e30;
  uint64_t frames = 0;
};

// ffmpeg on the file, single-threaded decode; its CPU time comes from wait4().
bool RunFfmpeg(const std::string& ffmpeg, const std::string& file, Run* out) {
  const auto t0 = Clock::now();
  const pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    execlp(ffmpeg.c_str(), ffmpeg.c_str(), "-hide_banner", "-loglevel", "error", "-nostdin", "-threads", "1", "-i",
           file.c_str(), "-f", "null", "-", static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  rusage u{};
  if (wait4(pid, &status, 0, &u) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return false;
  out->wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  out->cpu_s = Seconds(u.ru_utime) + Seconds(u.ru_stime);
  return true;
}

// The pool with one worker; packets are copied as the network sink copies them. Each lap of
// every stream is queued, then drained, so that no queue overflows.
Run RunPool(const exam::media::LiveLoop& loop, int streams, int laps) {
  LiveDecoderPool::Options options;
  options.threads = 1;
  LiveDecoderPool pool(options);
  std::vector<LiveDecoderPool::StreamId> ids;
  for (int i = 0; i < streams; ++i) {
    ids.push_back(pool.Open(DecodePolicy::kFull));
    exam::media::StreamParameters p;
    p.codec = "h264";
    p.width = loop.width;
    p.height = loop.height;
    p.extradata = loop.extradata;
    p.time_base_num = loop.time_base_num;
    p.time_base_den = loop.time_base_den;
    pool.SetParameters(ids.back(), p);
  }
  const auto before = LiveDecoderPool::ProcessTotals();
  const double cpu0 = CpuSelf();
  const auto t0 = Clock::now();
  for (int lap = 0; lap < laps; ++lap) {
    for (auto id : ids) {
      for (const auto& lp : loop.packets) {
        EncodedPacket p;
        p.data = lp.data;
        p.pts = p.dts = lp.pts + loop.duration() * lap;
        p.keyframe = lp.keyframe;
        pool.Push(id, std::move(p));
      }
    }
    pool.Drain();
  }
  Run r;
  r.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  r.cpu_s = CpuSelf() - cpu0;
  r.frames = LiveDecoderPool::ProcessTotals().frames_decoded - before.frames_decoded;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int streams = 64, laps = 8, repeat = 3;
  std::string ffmpeg = "ffmpeg", keep;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--streams") streams = std::max(1, std::atoi(argv[i + 1]));
    else if (a == "--laps") laps = std::max(1, std::atoi(argv[i + 1]));
    else if (a == "--repeat") repeat = std::max(1, std::atoi(argv[i + 1]));
    else if (a == "--ffmpeg") ffmpeg = argv[i + 1];
    else if (a == "--keep") keep = argv[i + 1];
  }
  av_log_set_level(AV_LOG_ERROR);  // x264's banner and statistics
  const auto& loop = exam::media::GetLiveLoop(exam::media::LoopTrack::kCamera, exam::media::LoopQuality::kTile);
  const uint64_t expected = static_cast<uint64_t>(streams) * static_cast<uint64_t>(laps) * loop.packets.size();

  // The same bytes for ffmpeg: streams x laps copies of the loop, one after the other.
  const std::string file = keep.empty() ? "/tmp/bench_live_decode_" + std::to_string(getpid()) + ".h264" : keep;
  {
    std::ofstream out(file, std::ios::binary);
    for (uint64_t n = 0; n < static_cast<uint64_t>(streams) * static_cast<uint64_t>(laps); ++n)
      for (const auto& p : loop.packets) out.write(p.data.data(), static_cast<std::streamsize>(p.data.size()));
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", file.c_str());
      return 1;
    }
  }

  Run pool_best, ff_best;
  bool have_ffmpeg = true;
  for (int r = 0; r < repeat; ++r) {
    Run ff;
    if (have_ffmpeg && RunFfmpeg(ffmpeg, file, &ff)) {
      ff_best.wall_s = std::min(ff_best.wall_s, ff.wall_s);
      ff_best.cpu_s = std::min(ff_best.cpu_s, ff.cpu_s);
    } else {
      have_ffmpeg = false;
    }
    const Run p = RunPool(loop, streams, laps);
    if (p.frames != expected) {
      std::fprintf(stderr, "pool decoded %llu frames, expected %llu\n", static_cast<unsigned long long>(p.frames),
                   static_cast<unsigned long long>(expected));
      if (keep.empty()) std::remove(file.c_str());
      return 1;
    }
    pool_best.wall_s = std::min(pool_best.wall_s, p.wall_s);
    pool_best.cpu_s = std::min(pool_best.cpu_s, p.cpu_s);
  }
  if (keep.empty()) std::remove(file.c_str());

  const double n = static_cast<double>(expected);
  std::printf("%llu frames of %dx%d H.264 (%d streams x %d laps of %zu), best of %d\n",
              static_cast<unsigned long long>(expected), loop.width, loop.height, streams, laps, loop.packets.size(),
              repeat);
  std::printf("LiveDecoderPool (1 worker)     %8.0f fps by wall time  %8.0f fps by CPU time\n", n / pool_best.wall_s,
              n / pool_best.cpu_s);
  if (!have_ffmpeg) {
    std::printf("ffmpeg not found or failed (%s): no baseline\n", ffmpeg.c_str());
    return 0;
  }
  std::printf("ffmpeg -threads 1 -f null      %8.0f fps by wall time  %8.0f fps by CPU time\n", n / ff_best.wall_s,
              n / ff_best.cpu_s);
  std::printf("ratio pool / ffmpeg            %8.2f by wall time      %8.2f by CPU time   (target >= 0.95)\n",
              ff_best.wall_s / pool_best.wall_s, ff_best.cpu_s / pool_best.cpu_s);
  return 0;
}
