// Review player seek and step figures (prints, does not judge):
//   - exact seek latency p50/p95 on a 720p track with a 2 s GOP and on one with a 30 s GOP
//     (TrackDecoder, in process), and the same targets with
//     `ffmpeg -ss T -i FILE -frames:v 1 -f null -` (a process per seek) for a ratio;
//   - a synced seek of three tracks (2 s GOP camera, 2 s GOP screen, 30 s GOP phone);
//   - paused frame steps back and forward, at a key-repeat pace, on both tracks.
// Recordings are made with the ffmpeg CLI in a temporary folder.
//   bench_review_seek [--seconds 60] [--seeks 40] [--steps 60] [--threads 2] [--ffmpeg ffmpeg]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "media/playback_group.h"
#include "media/track_decoder.h"

namespace {

using namespace exam::media;

int g_threads = 2;  // libavcodec frame threads per track (the decoder's default)

TrackDecoder::Options DecoderOptions(int behind, int ahead) {
  TrackDecoder::Options o;
  if (behind >= 0) o.frames_behind = behind;
  if (ahead >= 0) o.frames_ahead = ahead;
  o.decoder_threads = g_threads;
  return o;
}
PlaybackGroup::Options GroupOptions() { return {0, nullptr, {}, DecoderOptions(-1, -1)}; }
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Figures {
  double p50 = 0, p95 = 0, max = 0;
};
Figures Summarise(std::vector<double> v) {
  Figures f;
  if (v.empty()) return f;
  std::sort(v.begin(), v.end());
  f.p50 = v[v.size() / 2];
  f.p95 = v[std::min(v.size() - 1, v.size() * 95 / 100)];
  f.max = v.back();
  return f;
}

bool Run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0; }

std::shared_ptr<ByteSource> File(const std::string& path) {
  std::string error;
  std::shared_ptr<ByteSource> s = LocalFileSource::Open(path, &error);
  if (!s) {
    std::fprintf(stderr, "%s\n", error.c_str());
    std::exit(1);
  }
  return s;
}

std::vector<Micros> Targets(int n, Micros duration, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Micros> t;
  for (int i = 0; i < n; ++i) t.push_back(std::uniform_int_distribution<Micros>(0, duration - 100'000)(rng));
  return t;
}

// In-process exact seeks: a fresh request each time (the window does not hold the target).
Figures SeekInProcess(const std::string& path, const std::vector<Micros>& targets, int* misses) {
  TrackDecoder track(File(path), DecoderOptions(0, 2));
  track.WaitFrameAt(0, 30s);
  std::vector<double> ms;
  for (Micros t : targets) {
    const auto t0 = Clock::now();
    auto f = track.WaitFrameAt(t, 30s);
    ms.push_back(Ms(Clock::now() - t0));
    if (!f || f->pts_us > t || t - f->pts_us >= 40'000) ++*misses;
  }
  return Summarise(ms);
}

Figures SeekWithFfmpeg(const std::string& ffmpeg, const std::string& path, const std::vector<Micros>& targets) {
  std::vector<double> ms;
  for (Micros t : targets) {
    char ss[32];
    std::snprintf(ss, sizeof ss, "%.3f", static_cast<double>(t) / 1e6);
    const auto t0 = Clock::now();
    Run(ffmpeg + " -nostdin -v error -ss " + ss + " -i " + path + " -frames:v 1 -f null -");
    ms.push_back(Ms(Clock::now() - t0));
  }
  return Summarise(ms);
}

// Paused steps at a key-repeat pace (one every 33 ms): how long until the stepped-to frame
// is on screen. Zero means it was in the window already.
Figures Steps(PlaybackGroup& group, int track, int direction, int n) {
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    const Micros before = group.Now();
    const auto t0 = Clock::now();
    bool moved = direction > 0 ? group.StepForward() : group.StepBackward();
    while (true) {
      auto p = group.Present(track);
      if ((moved || group.Now() != before) && p.exact) break;
      if (Clock::now() - t0 > 5s) break;  // counted as a 5 s step: a stuck step shows
      std::this_thread::sleep_for(200us);
      moved = moved || group.Now() != before;
    }
    ms.push_back(Ms(Clock::now() - t0));
    std::this_thread::sleep_for(33ms);
  }
  return Summarise(ms);
}

void Print(const char* what, const Figures& f) {
  std::printf("%-52s p50 %8.1f ms  p95 %8.1f ms  max %8.1f ms\n", what, f.p50, f.p95, f.max);
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = 60, seeks = 40, steps = 60;
  std::string ffmpeg = "ffmpeg";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--seconds") seconds = std::atoi(argv[i + 1]);
    else if (a == "--seeks") seeks = std::atoi(argv[i + 1]);
    else if (a == "--steps") steps = std::atoi(argv[i + 1]);
    else if (a == "--ffmpeg") ffmpeg = argv[i + 1];
    else if (a == "--threads") g_threads = std::atoi(argv[i + 1]);
  }
  const auto dir = std::filesystem::temp_directory_path() / ("review-seek-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string camera = (dir / "camera_gop2.mp4").string();
  const std::string phone = (dir / "phone_gop30.mp4").string();
  const std::string screen = (dir / "screen_gop2.mp4").string();
  const std::string len = std::to_string(seconds);
  const std::string x264 = " -c:v libx264 -preset superfast -pix_fmt yuv420p -x264-params scenecut=0 ";
  std::printf("making %d s test recordings with %s...\n", seconds, ffmpeg.c_str());
  if (!Run(ffmpeg + " -nostdin -y -f lavfi -i testsrc2=size=1280x720:rate=25 -t " + len + x264 + "-g 50 -bf 2 " + camera) ||
      !Run(ffmpeg + " -nostdin -y -f lavfi -i testsrc2=size=1280x720:rate=25 -t " + len + x264 +
           "-g 750 -keyint_min 750 -bf 0 " + phone) ||
      !Run(ffmpeg + " -nostdin -y -f lavfi -i testsrc=size=1920x1080:rate=25 -t " + len + x264 + "-g 50 " + screen)) {
    std::fprintf(stderr, "ffmpeg could not make the test recordings\n");
    return 1;
  }
  const Micros duration = static_cast<Micros>(seconds) * 1'000'000;
  const auto targets = Targets(seeks, duration, 7);
  int misses = 0;

  std::printf("\nexact seek, %d random targets in %d s (%u cores, %d decoder thread(s) per track)\n", seeks, seconds,
              std::thread::hardware_concurrency(), g_threads);
  const Figures cam = SeekInProcess(camera, targets, &misses);
  const Figures cam_ff = SeekWithFfmpeg(ffmpeg, camera, targets);
  Print("720p 2 s GOP, TrackDecoder", cam);
  Print("720p 2 s GOP, ffmpeg -ss T -i F -frames:v 1 -f null", cam_ff);
  const Figures ph = SeekInProcess(phone, targets, &misses);
  const Figures ph_ff = SeekWithFfmpeg(ffmpeg, phone, targets);
  Print("720p 30 s GOP, TrackDecoder", ph);
  Print("720p 30 s GOP, ffmpeg -ss T -i F -frames:v 1 -f null", ph_ff);
  std::printf("ratio TrackDecoder / ffmpeg (p50): 2 s GOP %.2f, 30 s GOP %.2f\n", cam.p50 / cam_ff.p50, ph.p50 / ph_ff.p50);
  std::printf("seeks that did not land on the covering frame: %d\n", misses);

  // A synced seek of three tracks, as a grader jumping on the timeline.
  {
    PlaybackGroup group(GroupOptions());
    group.AddTrack(File(camera), {0, duration, 0});
    group.AddTrack(File(screen), {0, duration, 0});
    group.AddTrack(File(phone), {0, duration, 0});
    group.WaitSettled(60s);
    std::vector<double> ms;
    for (Micros t : targets) {
      const auto t0 = Clock::now();
      group.Seek(t);
      group.WaitSettled(60s);
      ms.push_back(Ms(Clock::now() - t0));
    }
    Print("synced seek, 720p + 1080p (2 s GOP) + 720p (30 s GOP)", Summarise(ms));
  }
  {
    PlaybackGroup group(GroupOptions());
    group.AddTrack(File(camera), {0, duration, 0});
    group.AddTrack(File(screen), {0, duration, 0});
    group.WaitSettled(60s);
    std::vector<double> ms;
    for (Micros t : targets) {
      const auto t0 = Clock::now();
      group.Seek(t);
      group.WaitSettled(60s);
      ms.push_back(Ms(Clock::now() - t0));
    }
    Print("synced seek, 720p + 1080p (both 2 s GOP)", Summarise(ms));
  }

  // Paused frame steps: start just after a keyframe so stepping back crosses into the
  // previous GOP (the hard case for the 30 s phone track).
  std::printf("\npaused frame step, %d steps each way, one every 33 ms\n", steps);
  for (const auto& [label, path, key_us] : {std::tuple{"720p 2 s GOP", camera, Micros{4'000'000}},
                                             std::tuple{"720p 30 s GOP", phone, Micros{30'000'000}}}) {
    if (key_us + 2'000'000 >= duration) continue;
    PlaybackGroup group(GroupOptions());
    const int t = group.AddTrack(File(path), {0, duration, 0});
    group.Seek(key_us + 10 * 40'000);
    group.WaitSettled(60s);
    group.decoder(t).WaitIdle(60s);
    const Figures back = Steps(group, t, -1, steps);
    const Figures fwd = Steps(group, t, +1, steps);
    Print((std::string(label) + ", step back").c_str(), back);
    Print((std::string(label) + ", step forward").c_str(), fwd);
    // The very first step back after a seek, before the window behind was refilled.
    group.Seek(key_us + 40'000);
    group.WaitSettled(60s);
    const auto t0 = Clock::now();
    group.StepBackward();
    group.StepBackward();
    while (group.Now() > key_us - 40'000 || !group.Present(t).exact) {
      std::this_thread::sleep_for(200us);
      if (Clock::now() - t0 > 60s) break;
    }
    std::printf("%-52s %8.1f ms\n", (std::string(label) + ", 2 steps back over a keyframe right after a seek").c_str(),
                Ms(Clock::now() - t0));
  }
  std::filesystem::remove_all(dir);
  return misses == 0 ? 0 : 2;
}
