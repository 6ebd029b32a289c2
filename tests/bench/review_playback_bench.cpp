// Review player playback figures (prints, does not judge):
//   1. time to the first frame of a 1-hour recording served by a real backend on loopback
//      (ReviewService.ReadMedia → ReviewMediaSource → CachedByteSource with an empty cache →
//      TrackDecoder), then an exact seek to 45:00, with the bytes fetched against the file's
//      size: playback must start without downloading the recording;
//   2. sync error of three tracks (1080p screen at a low frame rate, 720p camera with sound,
//      720p phone with a 30 s GOP) in one PlaybackGroup at 1×, 2× and 4×, the camera's sound
//      driving the clock through the null output at the real pace, presented at ~60 Hz as
//      the UI does;
//   3. the offset between the sound being played and the camera picture on screen;
//   4. CPU of that playback at 1× against three `ffmpeg -re -i FILE -f null -` run together.
// Recordings are made with the ffmpeg CLI in a temporary folder. The 1-hour file is one
// short encoded segment repeated by stream copy, so making it takes seconds, not an hour of
// encoding; its index (moov) and byte layout are those of a real hour.
//   bench_review_playback [--hour-s 3600] [--segment-s 30] [--size 1280x720] [--seek-s 2700]
//                         [--runs 3] [--play-s 10] [--ffmpeg ffmpeg]
#include <grpcpp/grpcpp.h>
#include <openssl/evp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "backend/server.h"
#include "backend/store/database.h"
#include "backend/store/review_repository.h"
#include "exam/v1/auth.grpc.pb.h"
#include "exam/v1/review.grpc.pb.h"
#include "media/audio_output.h"
#include "media/block_cache.h"
#include "media/playback_group.h"
#include "media/track_decoder.h"
#include "net/review_media_source.h"
#include "store/media_block_store.h"

namespace {

using namespace exam::media;
namespace v1 = exam::v1;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

bool Run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0; }

std::string LoadAvg() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

double CpuSeconds(int who) {
  rusage u{};
  getrusage(who, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

struct Figures {
  double p50 = 0, p99 = 0, max = 0;
  size_t n = 0;
};
Figures Summarise(std::vector<double> v) {
  Figures f;
  f.n = v.size();
  if (v.empty()) return f;
  std::sort(v.begin(), v.end());
  f.p50 = v[v.size() / 2];
  f.p99 = v[std::min(v.size() - 1, v.size() * 99 / 100)];
  f.max = v.back();
  return f;
}

std::string Sha256OfFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(in.gcount()));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx, md, &n);
  EVP_MD_CTX_free(ctx);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

// ---- 1. First frame of a remote 1-hour recording ------------------------------------------

struct RemoteTrack {
  std::unique_ptr<exam::backend::ExamServer> server;
  std::shared_ptr<grpc::Channel> channel;
  std::string token;
  v1::Track track;
};

// The backend seeds a finished demo session; the hour-long file replaces its demo plan as
// the session's camera recording (what an upload would have left in the recordings table).
// The server is restarted on the same store so it serves the row as any other.
bool ServeRecording(const fs::path& dir, const std::string& file_name, int64_t duration_ms, RemoteTrack* out) {
  exam::backend::ServerOptions o;
  o.db_path = (dir / "exam.db").string();
  o.media_dir = (dir / "media").string();
  o.demo_candidates = 2;
  o.demo_review_sessions = 1;
  o.demo_review_seconds = 12;
  std::string error;
  auto seeding = exam::backend::ExamServer::Start(o, &error);
  if (!seeding) {
    std::fprintf(stderr, "the backend did not start: %s\n", error.c_str());
    return false;
  }
  seeding->Shutdown();
  seeding.reset();
  int64_t session = 0;
  {
    exam::store::Database db(o.db_path);
    exam::store::ReviewRepository review(db);
    const auto plans = review.DemoPlans();
    if (plans.empty()) {
      std::fprintf(stderr, "the backend seeded no finished session\n");
      return false;
    }
    session = plans.front().first;
    // No synthesized recordings for this session: they would be made in the background (on
    // the same two cores) during the measurement.
    review.RemoveDemoPlan(session);
    const fs::path path = fs::path(o.media_dir) / file_name;
    exam::store::RecordingRow row;
    row.session_id = session;
    row.kind = v1::TRACK_KIND_CAMERA;
    row.codec = "h264";
    row.container = "mp4";
    row.duration_ms = duration_ms;
    row.utc_start_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count() - 2 * 3600 * 1000;
    row.size = static_cast<int64_t>(fs::file_size(path));
    row.sha256 = Sha256OfFile(path.string());
    row.path = file_name;
    review.PutRecording(row, row.utc_start_ms + 3600 * 1000);
  }
  out->server = exam::backend::ExamServer::Start(o, &error);
  if (!out->server) {
    std::fprintf(stderr, "the backend did not restart: %s\n", error.c_str());
    return false;
  }
  out->channel = grpc::CreateChannel(out->server->address(), grpc::InsecureChannelCredentials());
  {
    auto auth = v1::AuthService::NewStub(out->channel);
    grpc::ClientContext ctx;
    v1::LoginRequest req;
    req.set_username("grader1");
    req.set_password(out->server->demo().demo_password);
    v1::LoginResponse resp;
    const auto status = auth->Login(&ctx, req, &resp);
    if (!status.ok()) {
      std::fprintf(stderr, "grader1 could not sign in: %s\n", status.error_message().c_str());
      return false;
    }
    out->token = resp.token();
  }
  auto review = v1::ReviewService::NewStub(out->channel);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + out->token);
  v1::ListTracksRequest req;
  req.set_session_id(session);
  v1::ListTracksResponse resp;
  const auto t0 = Clock::now();
  const auto status = review->ListTracks(&ctx, req, &resp);
  if (!status.ok() || resp.tracks_size() != 1) {
    std::fprintf(stderr, "ListTracks: %s (%d tracks)\n", status.error_message().c_str(), resp.tracks_size());
    return false;
  }
  std::printf("ListTracks of the session (not counted below): %.1f ms\n", Ms(Clock::now() - t0));
  out->track = resp.tracks(0);
  return true;
}

struct OpenFigures {
  double first_ms = -1, seek_ms = -1;
  uint64_t first_bytes = 0, first_calls = 0, seek_bytes = 0, seek_calls = 0;
  bool seek_exact = false;
};

// Opens the recording as the player does (a new source over the console's channel, the
// block cache, a track decoder with the player's options) and waits for the first frame,
// then for the frame at `seek_us`. `cache` may hold blocks already (the warm case).
OpenFigures OpenRemote(const RemoteTrack& r, const fs::path& cache, Micros seek_us, std::string* error) {
  OpenFigures f;
  auto store = std::make_shared<exam::local::MediaBlockStore>(exam::local::MediaBlockStoreOptions{cache.string()});
  const std::string token = r.token;
  const auto t0 = Clock::now();
  auto remote = std::make_shared<exam::net::ReviewMediaSource>(r.channel, [token] { return token; }, r.track.id(),
                                                               r.track.size());
  auto cached = std::make_shared<CachedByteSource>(remote, store, "camera:" + r.track.sha256());
  TrackDecoder decoder(cached, TrackDecoder::Options{});
  auto first = decoder.WaitFrameAt(0, 30s);
  if (!first) {
    *error = "no first frame: " + decoder.Error();
    return f;
  }
  f.first_ms = Ms(Clock::now() - t0);
  f.first_bytes = remote->bytes_received();
  f.first_calls = remote->calls();
  const auto t1 = Clock::now();
  auto at = decoder.WaitFrameAt(seek_us, 30s);
  if (!at) {
    *error = "no frame at the seek target: " + decoder.Error();
    return f;
  }
  f.seek_ms = Ms(Clock::now() - t1);
  f.seek_bytes = remote->bytes_received();
  f.seek_calls = remote->calls();
  f.seek_exact = at->pts_us <= seek_us && seek_us < at->pts_us + std::max<Micros>(at->duration_us, 1);
  return f;
}

// ---- 2–4. Three tracks in one group ------------------------------------------------------

// The null output at the real pace, counting what was rendered once playback started, so
// that the sound's position is known apart from the group's own clock. Holding `mu_` over
// each render lets the bench start playback between two renders, never during one.
class CountingOutput : public AudioOutput {
 public:
  bool Start(AudioRenderer render, std::string* error) override {
    return inner_.Start(
        [this, render = std::move(render)](float* out, int frames) {
          std::lock_guard lock(mu_);
          render(out, frames);
          frames_ += static_cast<uint64_t>(frames);
          bool sound = false;
          for (int i = 0; i < frames * channels() && !sound; ++i) sound = out[i] != 0.0f;
          (sound ? audible_ : silent_) += static_cast<uint64_t>(frames);
        },
        error);
  }
  void Stop() override { inner_.Stop(); }
  int sample_rate() const override { return inner_.sample_rate(); }
  int channels() const override { return inner_.channels(); }
  int64_t latency_us() const override { return inner_.latency_us(); }

  // Runs `f` (Play) with no render in flight and restarts the counts.
  template <typename F>
  void StartCounting(F f) {
    std::lock_guard lock(mu_);
    f();
    frames_ = audible_ = silent_ = 0;
  }
  uint64_t frames() {
    std::lock_guard lock(mu_);
    return frames_;
  }
  double audible_share() {
    std::lock_guard lock(mu_);
    return audible_ + silent_ ? static_cast<double>(audible_) / static_cast<double>(audible_ + silent_) : 0.0;
  }

 private:
  NullAudioOutput inner_{NullAudioOutput::Pace::kRealTime};
  std::mutex mu_;
  uint64_t frames_ = 0, audible_ = 0, silent_ = 0;
};

struct RateFigures {
  double rate = 1;
  std::vector<std::vector<double>> raw_ms;    // per track: |clock − shown frame's time|
  std::vector<std::vector<double>> late_ms;   // per track: how far the clock is past the shown frame's end
  std::vector<double> spread_ms;              // per present: newest − oldest shown frame across tracks
  std::vector<double> av_ms;                  // sound position − camera picture time (+: sound first)
  std::vector<int> no_frame, not_exact;
  int presents = 0;
  int av_skipped = 0;  // presents with a render in the middle (see PlayAt)
  double wall_s = 0, cpu_s = 0, audible = 0;
  double late_present_ms = 0;  // the loop's own worst lateness (a busy machine shows here)
};

constexpr const char* kTrackNames[] = {"screen 1080p", "camera 720p", "phone 720p 30s GOP"};

RateFigures PlayAt(PlaybackGroup& group, CountingOutput& out, int camera, double rate, double seconds) {
  const int n = group.track_count();
  RateFigures f;
  f.rate = rate;
  f.raw_ms.resize(static_cast<size_t>(n));
  f.late_ms.resize(static_cast<size_t>(n));
  f.no_frame.assign(static_cast<size_t>(n), 0);
  f.not_exact.assign(static_cast<size_t>(n), 0);
  group.Pause();
  group.Seek(0);
  group.WaitSettled(60s);
  group.audio(camera).WaitBuffered(0, 10s);
  group.SetRate(rate);
  std::vector<exam::core::TrackPlacement> placement;
  for (int i = 0; i < n; ++i) placement.push_back(group.Timeline(i).placement());
  Micros play_from = 0;
  out.StartCounting([&] {
    group.Play();
    play_from = group.Now();
  });
  const double cpu0 = CpuSeconds(RUSAGE_SELF);
  const auto t0 = Clock::now();
  const auto tick = std::chrono::microseconds(16'667);
  auto next = t0;
  while (Clock::now() - t0 < std::chrono::duration<double>(seconds)) {
    next += tick;
    std::this_thread::sleep_until(next);
    f.late_present_ms = std::max(f.late_present_ms, Ms(Clock::now() - next));
    const uint64_t rendered = out.frames();
    const auto shown = group.PresentAll();
    // Where the sound is: what the output rendered since Play, at this rate. A render between
    // the two counts (10 ms of sound, 40 ms of session at 4x) leaves the pair ambiguous, so
    // that present is left out of the sound-to-picture figure.
    const bool sound_known = out.frames() == rendered;
    if (!sound_known) ++f.av_skipped;
    const double sound_us = static_cast<double>(play_from) + static_cast<double>(rendered) * rate * 1e6 / out.sample_rate();
    ++f.presents;
    Micros newest = INT64_MIN, oldest = INT64_MAX;
    for (int i = 0; i < n; ++i) {
      const PresentedFrame& p = shown[static_cast<size_t>(i)];
      if (!p.recorded || p.state != TrackState::kReady) continue;
      if (!p.frame) {
        ++f.no_frame[static_cast<size_t>(i)];
        continue;
      }
      if (!p.exact) ++f.not_exact[static_cast<size_t>(i)];
      const Micros frame_session = exam::core::TrackToSession(placement[static_cast<size_t>(i)], 0, p.frame->pts_us);
      const Micros clock = exam::core::TrackToSession(placement[static_cast<size_t>(i)], 0, p.track_us);
      f.raw_ms[static_cast<size_t>(i)].push_back(std::abs(static_cast<double>(clock - frame_session)) / 1000.0);
      const Micros end = frame_session + std::max<Micros>(p.frame->duration_us, 1);
      const Micros off = clock < frame_session ? frame_session - clock : (clock >= end ? clock - end : 0);
      f.late_ms[static_cast<size_t>(i)].push_back(static_cast<double>(off) / 1000.0);
      newest = std::max(newest, frame_session);
      oldest = std::min(oldest, frame_session);
      if (i == camera && sound_known) f.av_ms.push_back((sound_us - static_cast<double>(frame_session)) / 1000.0);
    }
    if (newest != INT64_MIN) f.spread_ms.push_back(static_cast<double>(newest - oldest) / 1000.0);
  }
  f.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  f.cpu_s = CpuSeconds(RUSAGE_SELF) - cpu0;
  f.audible = out.audible_share();
  group.Pause();
  return f;
}

void PrintLine(const char* what, const Figures& f) {
  std::printf("  %-34s p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms  (n=%zu)\n", what, f.p50, f.p99, f.max, f.n);
}

}  // namespace

int main(int argc, char** argv) {
  int hour_s = 3600, segment_s = 30, seek_s = 2700, runs = 3;
  double play_s = 10;
  std::string size = "1280x720", ffmpeg = "ffmpeg";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--hour-s") hour_s = std::atoi(argv[i + 1]);
    else if (a == "--segment-s") segment_s = std::atoi(argv[i + 1]);
    else if (a == "--seek-s") seek_s = std::atoi(argv[i + 1]);
    else if (a == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
    else if (a == "--play-s") play_s = std::atof(argv[i + 1]);
    else if (a == "--size") size = argv[i + 1];
    else if (a == "--ffmpeg") ffmpeg = argv[i + 1];
  }
  seek_s = std::min(seek_s, hour_s - 5);
  std::string command;
  for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);
  std::printf("command: %s\n", command.c_str());
  std::printf("load at start: %s (%u cores)\n", LoadAvg().c_str(), std::thread::hardware_concurrency());

  const fs::path dir = fs::temp_directory_path() / ("review-playback-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir / "media");
  int failures = 0;

  // ---- 1 ----
  {
    const std::string segment = (dir / "segment.mp4").string();
    const std::string hour_name = "camera-1h.mp4";
    const std::string hour = (dir / "media" / hour_name).string();
    const auto g0 = Clock::now();
    // 25 fps, a keyframe every 2 s, low bitrate, AAC: a camera recording as uploaded
    // (faststart mp4, as the recorder and the demo synthesizer write them).
    if (!Run(ffmpeg + " -nostdin -y -f lavfi -i testsrc2=size=" + size + ":rate=25 -f lavfi -i sine=frequency=440:sample_rate=48000 -t " +
             std::to_string(segment_s) +
             " -c:v libx264 -preset ultrafast -b:v 400k -g 50 -pix_fmt yuv420p -c:a aac -b:a 64k " + segment) ||
        !Run(ffmpeg + " -nostdin -y -stream_loop " + std::to_string((hour_s + segment_s - 1) / segment_s - 1) + " -i " +
             segment + " -c copy -t " + std::to_string(hour_s) + " -movflags +faststart " + hour)) {
      std::fprintf(stderr, "ffmpeg could not make the %d s recording\n", hour_s);
      return 1;
    }
    const double make_s = std::chrono::duration<double>(Clock::now() - g0).count();
    const auto file_size = static_cast<int64_t>(fs::file_size(hour));
    std::printf("\n1. first frame of a remote %d s recording (%s 25 fps, GOP 2 s, %.1f MB; made in %.1f s: a %d s segment\n"
                "   encoded with -preset ultrafast, then repeated by stream copy, faststart)\n",
                hour_s, size.c_str(), static_cast<double>(file_size) / 1e6, make_s, segment_s);
    RemoteTrack remote;
    if (!ServeRecording(dir, hour_name, int64_t{hour_s} * 1000, &remote)) return 1;
    std::printf("   backend on %s, track %lld, %lld bytes\n", remote.server->address().c_str(),
                static_cast<long long>(remote.track.id()), static_cast<long long>(remote.track.size()));
    std::printf("   load: %s\n", LoadAvg().c_str());
    const Micros seek_us = static_cast<Micros>(seek_s) * 1'000'000 + 10'000;
    std::vector<double> first_ms, seek_ms;
    for (int r = 0; r < runs + 1; ++r) {
      const bool warm = r == runs;  // the last run reopens over the cache the previous one filled
      std::string error;
      const OpenFigures f = OpenRemote(remote, dir / ("cache-" + std::to_string(warm ? r - 1 : r)), seek_us, &error);
      if (!error.empty()) {
        std::fprintf(stderr, "   %s\n", error.c_str());
        ++failures;
        break;
      }
      if (!f.seek_exact) ++failures;
      auto share = [&](uint64_t b) { return 100.0 * static_cast<double>(b) / static_cast<double>(file_size); };
      std::printf("   %s run %d: first frame %7.1f ms, %8.1f KiB in %3llu calls (%.3f %% of the file);"
                  " seek to %d:%02d %7.1f ms, %8.1f KiB in all (%.3f %%)%s\n",
                  warm ? "warm " : "empty", r + 1, f.first_ms, static_cast<double>(f.first_bytes) / 1024.0,
                  static_cast<unsigned long long>(f.first_calls), share(f.first_bytes), seek_s / 60, seek_s % 60, f.seek_ms,
                  static_cast<double>(f.seek_bytes) / 1024.0, share(f.seek_bytes), f.seek_exact ? "" : "  NOT EXACT");
      if (!warm) {
        first_ms.push_back(f.first_ms);
        seek_ms.push_back(f.seek_ms);
      }
    }
    const Figures ff = Summarise(first_ms), sf = Summarise(seek_ms);
    std::printf("   empty cache, %d runs: first frame p50 %.1f ms max %.1f ms (target <= 500 ms); seek p50 %.1f ms max %.1f ms\n",
                runs, ff.p50, ff.max, sf.p50, sf.max);
    remote.server->Shutdown();
    fs::remove(hour);
  }

  // ---- 2–4 ----
  const double media_s = std::ceil(play_s * 4 + 6);
  const std::string len = std::to_string(static_cast<int>(media_s));
  const std::string screen = (dir / "screen.mp4").string();
  const std::string camera = (dir / "camera.mp4").string();
  const std::string phone = (dir / "phone.mp4").string();
  const std::string x264 = " -c:v libx264 -preset ultrafast -pix_fmt yuv420p -x264-params scenecut=0 -movflags +faststart ";
  const auto g0 = Clock::now();
  if (!Run(ffmpeg + " -nostdin -y -f lavfi -i testsrc=size=1920x1080:rate=5 -t " + len + x264 + "-g 10 " + screen) ||
      !Run(ffmpeg + " -nostdin -y -f lavfi -i testsrc2=size=1280x720:rate=25 -f lavfi -i sine=frequency=440:sample_rate=48000 -t " +
           len + x264 + "-g 50 -c:a aac -b:a 64k " + camera) ||
      !Run(ffmpeg + " -nostdin -y -f lavfi -i testsrc2=size=1280x720:rate=25 -t " + len + x264 + "-g 750 -keyint_min 750 " +
           phone)) {
    std::fprintf(stderr, "ffmpeg could not make the three recordings\n");
    return 1;
  }
  std::printf("\n2. sync of 3 tracks, %.0f s at each rate (recordings of %s s made in %.1f s: screen 1920x1080 5 fps GOP 2 s,\n"
              "   camera 1280x720 25 fps GOP 2 s + AAC, phone 1280x720 25 fps GOP 30 s); camera sound heard on the null\n"
              "   output at the real pace; PresentAll() every 16.7 ms\n",
              play_s, len.c_str(), std::chrono::duration<double>(Clock::now() - g0).count());
  auto output = std::make_shared<CountingOutput>();
  std::vector<RateFigures> all;
  {
    PlaybackGroup group(PlaybackGroup::Options{0, output, {}, {}});
    const Micros d = static_cast<Micros>(media_s * 1e6);
    for (const std::string& path : {screen, camera, phone}) {
      std::string error;
      std::shared_ptr<ByteSource> s = LocalFileSource::Open(path, &error);
      if (!s) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 1;
      }
      group.AddTrack(s, {0, d, 0});
    }
    const int cam = 1;
    group.SelectAudio(cam);
    if (!group.audio_clock()) {
      std::fprintf(stderr, "the camera's sound did not take the clock\n");
      ++failures;
    }
    for (double rate : {1.0, 2.0, 4.0}) {
      const std::string load = LoadAvg();
      all.push_back(PlayAt(group, *output, cam, rate, play_s));
      const RateFigures& f = all.back();
      std::printf(" %.0fx: %d presents in %.1f s, load %s, audible share of the sound %.0f %%, loop's worst wake-up delay %.1f ms\n",
                  rate, f.presents, f.wall_s, load.c_str(), 100.0 * f.audible, f.late_present_ms);
      std::vector<double> all_raw, all_late;
      for (int i = 0; i < 3; ++i) {
        const auto& raw = f.raw_ms[static_cast<size_t>(i)];
        const auto& late = f.late_ms[static_cast<size_t>(i)];
        all_raw.insert(all_raw.end(), raw.begin(), raw.end());
        all_late.insert(all_late.end(), late.begin(), late.end());
        PrintLine((std::string(kTrackNames[i]) + " |clock - frame pts|").c_str(), Summarise(raw));
        PrintLine((std::string(kTrackNames[i]) + " clock outside frame").c_str(), Summarise(late));
        std::printf("  %-34s no frame %d, not the covering frame %d of %d presents\n", kTrackNames[i],
                    f.no_frame[static_cast<size_t>(i)], f.not_exact[static_cast<size_t>(i)], f.presents);
        failures += f.no_frame[static_cast<size_t>(i)] == f.presents ? 1 : 0;
      }
      PrintLine("all tracks |clock - frame pts|", Summarise(all_raw));
      PrintLine("all tracks clock outside frame", Summarise(all_late));
      PrintLine("spread of shown frames (max-min)", Summarise(f.spread_ms));
    }
  }

  std::printf("\n3. sound position - camera picture time (+: sound before picture; EBU R37 wants +40/-60 ms)\n");
  for (const auto& f : all) {
    std::vector<double> v = f.av_ms;
    Figures s = Summarise(v);
    const double lo = v.empty() ? 0 : *std::min_element(v.begin(), v.end());
    std::printf("  %.0fx: p50 %+7.1f ms  p99 %+7.1f ms  min %+7.1f ms  max %+7.1f ms (n=%zu, %d left out: a render in between)\n",
                f.rate, s.p50, s.p99, lo, s.max, s.n, f.av_skipped);
  }

  // ---- 4 ----
  {
    const RateFigures& mine = all.front();
    const double mine_pct = 100.0 * mine.cpu_s / mine.wall_s;
    const std::string t = std::to_string(static_cast<int>(std::lround(play_s)));
    const std::string one = ffmpeg + " -nostdin -v error -re -i ";
    const std::string tail = " -t " + t + " -f null - ";
    const std::string load = LoadAvg();
    const double c0 = CpuSeconds(RUSAGE_CHILDREN);
    const auto t0 = Clock::now();
    const bool ok = std::system(("(" + one + screen + tail + "& " + one + camera + tail + "& " + one + phone + tail +
                                 "& wait) >/dev/null 2>&1").c_str()) == 0;
    const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    const double ff_pct = 100.0 * (CpuSeconds(RUSAGE_CHILDREN) - c0) / wall;
    std::printf("\n4. CPU of 3-track playback at 1x (%% of one core)\n");
    std::printf("  PlaybackGroup + 60 Hz PresentAll (whole process, %.1f s): %.1f %%\n", mine.wall_s, mine_pct);
    std::printf("  3 x `%s -nostdin -v error -re -i FILE -t %s -f null -` together (%.1f s, load %s): %.1f %%%s\n",
                ffmpeg.c_str(), t.c_str(), wall, load.c_str(), ff_pct, ok ? "" : " (an ffmpeg failed)");
    std::printf("  ratio player / ffmpeg: %.2f\n", ff_pct > 0 ? mine_pct / ff_pct : 0.0);
  }
  std::printf("\nload at end: %s\n", LoadAvg().c_str());
  std::error_code ec;
  fs::remove_all(dir, ec);
  return failures == 0 ? 0 : 2;
}
