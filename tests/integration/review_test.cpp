// Review of finished sessions against a real examd on loopback: the demo's finished sitting
// with recordings synthesized at test time, ranged reads, markers, scores and notes, blind
// review and who may review. And the synthesized recordings themselves, checked with the
// ffmpeg command-line tools.
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <cstring>
#include <tuple>

#include "backend/media/recording_synth.h"
#include "backend_fixture.h"
#include "exam/v1/review.grpc.pb.h"

namespace exam::testing {
namespace {

namespace v1 = exam::v1;
using google::protobuf::util::TimeUtil;
using grpc::StatusCode;

// --- the ffmpeg tools ------------------------------------------------------------------------

std::string RunTool(const std::string& command) {
  std::string out;
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return out;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  ::pclose(pipe);
  return out;
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

// `key=value` pairs of ffprobe's flat output for one stream (v:0, a:0).
std::map<std::string, std::string> Probe(const std::string& path, const std::string& stream) {
  const std::string out = RunTool("ffprobe -v error -select_streams " + stream +
                              " -show_entries stream=codec_name,width,height,r_frame_rate,sample_rate,channels:"
                              "stream_side_data=rotation -of flat=s=_ " + Quote(path));
  std::map<std::string, std::string> fields;
  size_t at = 0;
  while (at < out.size()) {
    const size_t end = out.find('\n', at);
    const std::string line = out.substr(at, end == std::string::npos ? std::string::npos : end - at);
    at = end == std::string::npos ? out.size() : end + 1;
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '"') value = value.substr(1, value.size() - 2);
    // Keep the last component: streams_stream_0_codec_name → codec_name.
    for (const char* name : {"codec_name", "width", "height", "r_frame_rate", "sample_rate", "channels", "rotation"})
      if (key.size() >= std::strlen(name) && key.compare(key.size() - std::strlen(name), std::string::npos, name) == 0)
        fields[name] = value;
  }
  return fields;
}

// Keyframe times of the video, in seconds.
std::vector<double> KeyframeTimes(const std::string& path) {
  const std::string out = RunTool("ffprobe -v error -select_streams v:0 -skip_frame nokey -show_entries frame=pts_time "
                              "-of csv=p=0 " + Quote(path));
  std::vector<double> times;
  size_t at = 0;
  while (at < out.size()) {
    times.push_back(std::atof(out.c_str() + at));
    const size_t end = out.find('\n', at);
    if (end == std::string::npos) break;
    at = end + 1;
    while (at < out.size() && (out[at] == '\n' || out[at] == ',')) ++at;
  }
  return times;
}

constexpr int kProbeRate = 8000;

// The decoded audio, mono at kProbeRate, from the file's time 0.
std::vector<float> DecodeAudio(const std::string& path) {
  const std::string raw =
      RunTool("ffmpeg -v error -i " + Quote(path) + " -vn -f f32le -ac 1 -ar " + std::to_string(kProbeRate) + " -");
  std::vector<float> samples(raw.size() / sizeof(float));
  std::memcpy(samples.data(), raw.data(), samples.size() * sizeof(float));
  return samples;
}

// Loudness in dBFS of [from_ms, to_ms) of a track.
double LoudnessDb(const std::vector<float>& audio, int64_t from_ms, int64_t to_ms) {
  const int64_t a = std::max<int64_t>(0, from_ms * kProbeRate / 1000);
  const int64_t b = std::min<int64_t>(static_cast<int64_t>(audio.size()), to_ms * kProbeRate / 1000);
  if (b <= a) return -200;
  double sum = 0;
  for (int64_t i = a; i < b; ++i) sum += static_cast<double>(audio[static_cast<size_t>(i)]) * audio[static_cast<size_t>(i)];
  return 10 * std::log10(sum / static_cast<double>(b - a) + 1e-20);
}

// Where (ms into `late`) the sound at the start of `early` is heard: the lag maximising the
// correlation of the two loudness envelopes, in 5 ms steps.
int64_t AudioLagMs(const std::vector<float>& early, const std::vector<float>& late, int64_t max_lag_ms) {
  constexpr int kStep = kProbeRate / 200;
  auto envelope = [](const std::vector<float>& x) {
    std::vector<double> e;
    for (size_t i = 0; i + kStep <= x.size(); i += kStep) {
      double s = 0;
      for (size_t k = i; k < i + kStep; ++k) s += static_cast<double>(x[k]) * x[k];
      e.push_back(std::sqrt(s / kStep));
    }
    return e;
  };
  const auto a = envelope(early), b = envelope(late);
  double best = -1;
  int64_t best_lag = 0;
  for (int64_t lag = 0; lag <= max_lag_ms / 5; ++lag) {
    double s = 0;
    for (size_t i = 0; i < a.size() && i + static_cast<size_t>(lag) < b.size(); ++i) s += a[i] * b[i + static_cast<size_t>(lag)];
    if (s > best) {
      best = s;
      best_lag = lag;
    }
  }
  return best_lag * 5;
}

// --- the synthesizer on its own ---------------------------------------------------------------

class RecordingSynthTest : public ::testing::Test {
 protected:
  TempDir dir_;
};

TEST_F(RecordingSynthTest, TracksHaveTheirCodecsSizesRatesKeyframesRotationAndAudiblePhrases) {
  media::RecordingPlan plan;
  plan.seed = 7;
  plan.questions = 2;
  plan.duration_s = 16;
  plan.utc_start_ms = 1780000000000;
  plan.evidence_gop_s = 10;
  plan.evidence_portrait = true;
  const auto files = media::SynthesizeRecordings(plan, dir_.path() / "rec");
  ASSERT_EQ(files.size(), 3u);
  std::map<int, media::SynthesizedFile> by_kind;
  for (const auto& f : files) by_kind[f.kind] = f;
  const auto& screen = by_kind.at(v1::TRACK_KIND_SCREEN);
  const auto& camera = by_kind.at(v1::TRACK_KIND_CAMERA);
  const auto& evidence = by_kind.at(v1::TRACK_KIND_EVIDENCE);

  auto sv = Probe(screen.path, "v:0");
  EXPECT_EQ(sv["codec_name"], "h264");
  EXPECT_EQ(sv["width"], "1920");
  EXPECT_EQ(sv["height"], "1080");
  EXPECT_EQ(sv["r_frame_rate"], std::to_string(plan.screen_fps) + "/1");
  EXPECT_TRUE(Probe(screen.path, "a:0").empty()) << "the screen recording has no sound of its own";

  auto cv = Probe(camera.path, "v:0"), ca = Probe(camera.path, "a:0");
  EXPECT_EQ(cv["codec_name"], "h264");
  EXPECT_EQ(cv["width"], "1280");
  EXPECT_EQ(cv["height"], "720");
  EXPECT_EQ(cv["r_frame_rate"], "25/1");
  EXPECT_EQ(ca["codec_name"], "aac");
  EXPECT_EQ(ca["sample_rate"], "48000");

  auto ev = Probe(evidence.path, "v:0"), ea = Probe(evidence.path, "a:0");
  EXPECT_EQ(ev["codec_name"], "h264");
  EXPECT_EQ(ev["width"], "1280");  // coded landscape, shown upright through the display matrix
  EXPECT_EQ(ev["height"], "720");
  EXPECT_EQ(ev["rotation"], "-90");
  EXPECT_EQ(ea["codec_name"], "aac");
  // Players that honour the matrix show a portrait picture.
  const std::string shown = RunTool("ffmpeg -v error -i " + Quote(evidence.path.string()) +
                                " -frames:v 1 -f rawvideo -pix_fmt gray - | wc -c");
  EXPECT_EQ(std::atol(shown.c_str()), 720L * 1280L);

  // Keyframes: every 2 s on the laptop, every evidence_gop_s on the phone.
  EXPECT_EQ(KeyframeTimes(camera.path), (std::vector<double>{0, 2, 4, 6, 8, 10, 12, 14}));
  EXPECT_EQ(KeyframeTimes(screen.path), (std::vector<double>{0, 2, 4, 6, 8, 10, 12, 14}));
  const auto phone_keys = KeyframeTimes(evidence.path);
  ASSERT_GE(phone_keys.size(), 2u);
  EXPECT_DOUBLE_EQ(phone_keys[1] - phone_keys[0], plan.evidence_gop_s);

  // "该题回答完毕" is heard just before each ANSWER_COMPLETE and the room is quiet after it.
  const auto timeline = media::PlanTimeline(plan);
  ASSERT_EQ(timeline.questions.size(), 2u);
  const auto cam_audio = DecodeAudio(camera.path);
  const auto ev_audio = DecodeAudio(evidence.path);
  const int64_t ev_true_start = camera.utc_start_ms - plan.evidence_lead_ms;  // what the test knows as truth
  for (const auto& q : timeline.questions) {
    const double phrase = LoudnessDb(cam_audio, q.complete_ms - 800, q.complete_ms);
    const double after = LoudnessDb(cam_audio, q.complete_ms + 200, q.complete_ms + 1200);
    EXPECT_GT(phrase, -35) << "question " << q.question;
    EXPECT_GT(phrase - after, 20) << "question " << q.question;
    const int64_t on_phone = camera.utc_start_ms + q.complete_ms - ev_true_start;
    EXPECT_GT(LoudnessDb(ev_audio, on_phone - 800, on_phone) - LoudnessDb(ev_audio, on_phone + 200, on_phone + 1200), 10)
        << "the phone hears the phrase too, question " << q.question;
  }

  // The phone's stated start is off by the planned offset; its sound tells the truth.
  EXPECT_EQ(evidence.utc_start_ms - ev_true_start, plan.evidence_clock_offset_ms);
  const int64_t lag = AudioLagMs(cam_audio, ev_audio, plan.evidence_lead_ms + 1000);
  const int64_t estimated_true_start = camera.utc_start_ms - lag;
  EXPECT_NEAR(static_cast<double>(evidence.utc_start_ms - estimated_true_start), plan.evidence_clock_offset_ms, 20);
}

TEST_F(RecordingSynthTest, AnInterruptionSplitsEveryTrackInTwo) {
  media::RecordingPlan plan;
  plan.questions = 2;
  plan.duration_s = 12;
  plan.utc_start_ms = 1780000000000;
  plan.screen_width = 640;
  plan.screen_height = 360;
  plan.camera_width = plan.evidence_width = 320;
  plan.camera_height = plan.evidence_height = 180;
  plan.interruption_at_s = 5;
  plan.interruption_s = 3;
  plan.evidence_clock_offset_ms = -280;  // a phone clock running behind
  const auto files = media::SynthesizeRecordings(plan, dir_.path() / "rec");
  ASSERT_EQ(files.size(), 6u);
  std::map<std::pair<int, int>, media::SynthesizedFile> by_track;
  for (const auto& f : files) by_track[{f.kind, f.segment}] = f;
  {
    // The first part of the phone's recording still lines up with the camera by its sound,
    // and its file says how far off its clock was.
    const auto& camera = by_track.at({v1::TRACK_KIND_CAMERA, 0});
    const auto& evidence = by_track.at({v1::TRACK_KIND_EVIDENCE, 0});
    const int64_t lag = AudioLagMs(DecodeAudio(camera.path), DecodeAudio(evidence.path), plan.evidence_lead_ms + 1000);
    EXPECT_NEAR(static_cast<double>(evidence.utc_start_ms - (camera.utc_start_ms - lag)), -280, 20);
    const std::string tags = RunTool("ffprobe -v error -show_entries format_tags=comment -of csv=p=0 " +
                                     Quote(evidence.path.string()));
    EXPECT_NE(tags.find("-280 ms"), std::string::npos) << tags;
  }
  for (const auto& f : files) {
    SCOPED_TRACE(f.path.string());
    EXPECT_TRUE(std::filesystem::exists(f.path));
    if (f.kind == v1::TRACK_KIND_EVIDENCE) continue;
    EXPECT_EQ(f.utc_start_ms, plan.utc_start_ms + (f.segment == 0 ? 0 : 8000));
    EXPECT_EQ(f.duration_ms, f.segment == 0 ? 5000 : 4000);
  }
  const auto timeline = media::PlanTimeline(plan);
  int interruptions = 0;
  for (const auto& flag : timeline.flags)
    if (flag.kind == media::FlagTiming::Kind::kInterruptionStarted) {
      EXPECT_EQ(flag.at_ms, 5000);
      ++interruptions;
    }
  EXPECT_EQ(interruptions, 1);
  // A cancelled synthesis leaves nothing behind.
  std::atomic<bool> cancel{true};
  EXPECT_THROW(media::SynthesizeRecordings(plan, dir_.path() / "cancelled", &cancel), media::SynthesisCancelled);
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path() / "cancelled"));
}

// --- review against a real backend -----------------------------------------------------------

class ReviewTest : public BackendFixture {
 protected:
  void Configure(backend::ServerOptions& o) override {
    o.demo_review_sessions = 3;
    o.demo_review_seconds = 16;
    // Shared by the test processes of one build: the first one synthesizes, later ones reuse.
    ::setenv("EXAM_DEMO_RECORDINGS_CACHE", EXAM_REVIEW_TEST_CACHE, 1);
  }

  v1::ReviewService::Stub& Review() {
    if (!review_) review_ = v1::ReviewService::NewStub(Channel());
    return *review_;
  }

  std::string Grader() {
    if (grader_.empty()) grader_ = Login("grader1");
    return grader_;
  }

  // Waits until every session of the finished sitting has its recordings.
  std::vector<v1::ReviewSession> ReadySessions() {
    v1::ListReviewSessionsRequest req;
    req.set_exam_id(server_->demo().review_exam_id);
    v1::ListReviewSessionsResponse resp;
    const bool ready = WaitFor(
        [&] {
          resp.Clear();
          auto ctx = Ctx(Grader());
          if (!Review().ListReviewSessions(ctx.get(), req, &resp).ok()) return false;
          if (resp.sessions_size() != 3) return false;
          for (const auto& s : resp.sessions())
            if (s.incomplete() || s.track_count() == 0) return false;
          return true;
        },
        std::chrono::seconds(90));
    EXPECT_TRUE(ready) << "demo recordings not ready: " << resp.ShortDebugString();
    return {resp.sessions().begin(), resp.sessions().end()};
  }

  v1::ListTracksResponse Tracks(int64_t session_id) {
    v1::ListTracksRequest req;
    req.set_session_id(session_id);
    v1::ListTracksResponse resp;
    auto ctx = Ctx(Grader());
    auto s = Review().ListTracks(ctx.get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  // Reads [offset, offset + length) and checks the chunks follow each other.
  grpc::Status Read(int64_t track, int64_t offset, int64_t length, std::string* out, int64_t* file_size = nullptr,
                    const std::string& token = {}) {
    v1::ReadMediaRequest req;
    req.set_track_id(track);
    req.set_offset(offset);
    req.set_length(length);
    auto ctx = Ctx(token.empty() ? Grader() : token, std::chrono::seconds(30));
    auto reader = Review().ReadMedia(ctx.get(), req);
    v1::MediaChunk chunk;
    int64_t next = offset;
    while (reader->Read(&chunk)) {
      EXPECT_EQ(chunk.offset(), next);
      EXPECT_LE(chunk.data().size(), 256u * 1024u);
      EXPECT_GT(chunk.data().size(), 0u);
      next += static_cast<int64_t>(chunk.data().size());
      if (out) *out += chunk.data();
      if (file_size) *file_size = chunk.file_size();
    }
    return reader->Finish();
  }

  v1::ListMarkersResponse Markers(int64_t session_id) {
    v1::ListMarkersRequest req;
    req.set_session_id(session_id);
    v1::ListMarkersResponse resp;
    auto ctx = Ctx(Grader());
    EXPECT_TRUE(Review().ListMarkers(ctx.get(), req, &resp).ok());
    return resp;
  }

  std::unique_ptr<v1::ReviewService::Stub> review_;
  std::string grader_;
};

int64_t Ms(const google::protobuf::Timestamp& t) { return TimeUtil::TimestampToMilliseconds(t); }

TEST_F(ReviewTest, TracksMatchTheirFilesAndArbitraryRangesReassembleByteExact) {
  const auto sessions = ReadySessions();
  ASSERT_EQ(sessions.size(), 3u);
  std::mt19937 rng(42);
  int segmented = 0;
  for (const auto& s : sessions) {
    const auto resp = Tracks(s.session_id());
    EXPECT_EQ(resp.tracks_size(), s.track_count());
    EXPECT_EQ(resp.missing_size(), 0);
    std::set<v1::TrackKind> kinds;
    for (const auto& t : resp.tracks()) {
      SCOPED_TRACE("track " + std::to_string(t.id()));
      kinds.insert(t.kind());
      EXPECT_EQ(t.codec(), "h264");
      EXPECT_EQ(t.container(), "mp4");
      EXPECT_GT(TimeUtil::DurationToMilliseconds(t.duration()), 0);
      if (t.segment() > 0) ++segmented;
      // The file on disk is what the row says.
      const auto path = std::filesystem::path(options_.db_path + ".media") / "recordings" /
                        std::to_string(s.session_id()) /
                        ((t.kind() == v1::TRACK_KIND_SCREEN ? "screen-" : t.kind() == v1::TRACK_KIND_CAMERA ? "camera-" : "evidence-") +
                         std::to_string(t.segment()) + ".mp4");
      ASSERT_EQ(static_cast<int64_t>(std::filesystem::file_size(path)), t.size());
      // Random ranges, from the start, each where the last ended, reassemble the whole file.
      std::string whole;
      int64_t at = 0, file_size = 0;
      while (at < t.size()) {
        const int64_t length = std::uniform_int_distribution<int64_t>(1, 700 * 1024)(rng);
        std::string part;
        auto status = Read(t.id(), at, length, &part, &file_size);
        ASSERT_TRUE(status.ok()) << status.error_message();
        EXPECT_EQ(static_cast<int64_t>(part.size()), std::min(length, t.size() - at));
        whole += part;
        at += static_cast<int64_t>(part.size());
      }
      EXPECT_EQ(file_size, t.size());
      EXPECT_EQ(Sha256Hex(whole), t.sha256());
      // Length 0 reads to the end.
      std::string tail;
      ASSERT_TRUE(Read(t.id(), t.size() - 1000, 0, &tail).ok());
      EXPECT_EQ(tail, whole.substr(whole.size() - 1000));
    }
    EXPECT_EQ(kinds, (std::set<v1::TrackKind>{v1::TRACK_KIND_CAMERA, v1::TRACK_KIND_SCREEN, v1::TRACK_KIND_EVIDENCE}));
  }
  EXPECT_EQ(segmented, 3) << "the interrupted session has a second part of each track";
}

TEST_F(ReviewTest, RangesPastTheEndAndUnknownTracksAreRefused) {
  const auto sessions = ReadySessions();
  ASSERT_FALSE(sessions.empty());
  const auto tracks = Tracks(sessions[0].session_id());
  ASSERT_GT(tracks.tracks_size(), 0);
  const auto& t = tracks.tracks(0);
  std::string data;
  EXPECT_EQ(Read(t.id(), t.size(), 10, &data).error_code(), StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(Read(t.id(), t.size() + 5000, 0, &data).error_code(), StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(Read(t.id(), -1, 10, &data).error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Read(t.id(), 0, -1, &data).error_code(), StatusCode::INVALID_ARGUMENT);
  auto unknown = Read(987654, 0, 10, &data);
  EXPECT_EQ(unknown.error_code(), StatusCode::NOT_FOUND);
  EXPECT_NE(unknown.error_message().find("987654"), std::string::npos) << unknown.error_message();
  EXPECT_TRUE(data.empty());
  // A range running past the end is cut at the end.
  ASSERT_TRUE(Read(t.id(), t.size() - 10, 1000, &data).ok());
  EXPECT_EQ(data.size(), 10u);
}

TEST_F(ReviewTest, MarkersAreInOrderAndThePhraseIsHeardBeforeEachAnswerComplete) {
  const auto sessions = ReadySessions();
  for (const auto& s : sessions) {
    SCOPED_TRACE("draw " + std::to_string(s.draw_number()));
    const auto markers = Markers(s.session_id());
    std::vector<v1::Marker> shown, complete;
    int flags = 0;
    for (int i = 0; i < markers.markers_size(); ++i) {
      const auto& m = markers.markers(i);
      if (i > 0) {
        EXPECT_LE(Ms(markers.markers(i - 1).time()), Ms(m.time()));
      }
      if (m.kind() == v1::MARKER_KIND_QUESTION_SHOWN) shown.push_back(m);
      if (m.kind() == v1::MARKER_KIND_ANSWER_COMPLETE) complete.push_back(m);
      if (m.kind() == v1::MARKER_KIND_FLAG) ++flags;
    }
    ASSERT_EQ(shown.size(), 3u);
    ASSERT_EQ(complete.size(), 3u);
    EXPECT_GE(flags, 3) << "an alert, a help request and a violation";
    for (size_t q = 0; q < 3; ++q) {
      EXPECT_EQ(shown[q].question(), static_cast<int>(q + 1));
      EXPECT_EQ(complete[q].question(), static_cast<int>(q + 1));
      EXPECT_LT(Ms(shown[q].time()), Ms(complete[q].time()));
      if (q + 1 < 3) {
        EXPECT_LT(Ms(complete[q].time()), Ms(shown[q + 1].time()));
      }
    }

    // The camera's sound at each ANSWER_COMPLETE: the phrase just before, quiet after. The
    // recording is fetched through ReadMedia, as the console would.
    const auto tracks = Tracks(s.session_id());
    for (const auto& t : tracks.tracks()) {
      if (t.kind() != v1::TRACK_KIND_CAMERA) continue;
      std::string bytes;
      for (int64_t at = 0; at < t.size(); at += 16 * 1024 * 1024) ASSERT_TRUE(Read(t.id(), at, 0, &bytes).ok());
      const auto file = dir_.path() / ("camera-" + std::to_string(t.id()) + ".mp4");
      std::FILE* f = std::fopen(file.c_str(), "wb");
      ASSERT_TRUE(f);
      std::fwrite(bytes.data(), 1, bytes.size(), f);
      std::fclose(f);
      const auto audio = DecodeAudio(file.string());
      const int64_t begin = Ms(t.utc_start()), end = begin + TimeUtil::DurationToMilliseconds(t.duration());
      for (const auto& m : complete) {
        const int64_t at = Ms(m.time());
        if (at < begin || at > end) continue;  // in the other part of an interrupted recording
        EXPECT_GT(LoudnessDb(audio, at - begin - 800, at - begin) - LoudnessDb(audio, at - begin + 200, at - begin + 1200), 20)
            << "question " << m.question() << " in segment " << t.segment();
      }
    }
  }
}

TEST_F(ReviewTest, ScoresAndNotesAreIdempotentAuditedAndSurviveARestart) {
  const auto sessions = ReadySessions();
  ASSERT_FALSE(sessions.empty());
  const int64_t session = sessions[0].session_id();

  v1::SubmitScoreRequest score;
  score.set_idempotency_key("score-1");
  score.set_session_id(session);
  score.set_question(2);
  score.set_score(41.5);
  score.set_comment("思路清晰 clear reasoning");
  v1::SubmitScoreResponse first, again;
  {
    auto ctx = Ctx(Grader());
    auto s = Review().SubmitScore(ctx.get(), score, &first);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_FALSE(first.replayed());
  }
  {
    auto ctx = Ctx(Grader());
    ASSERT_TRUE(Review().SubmitScore(ctx.get(), score, &again).ok());
    EXPECT_TRUE(again.replayed());
    EXPECT_EQ(again.score_id(), first.score_id());
  }
  // Scoring the question again replaces the grader's score under the same id.
  score.set_idempotency_key("score-2");
  score.set_score(44);
  v1::SubmitScoreResponse changed;
  {
    auto ctx = Ctx(Grader());
    ASSERT_TRUE(Review().SubmitScore(ctx.get(), score, &changed).ok());
    EXPECT_FALSE(changed.replayed());
    EXPECT_EQ(changed.score_id(), first.score_id());
  }
  // Off the score sheet.
  for (auto [question, points, why] : {std::tuple{2, 50.5, "above the maximum"}, std::tuple{2, 10.25, "not a half step"},
                                       std::tuple{4, 1.0, "no such question"}, std::tuple{1, -1.0, "negative"}}) {
    v1::SubmitScoreRequest bad = score;
    bad.set_idempotency_key(std::string("bad-") + why);
    bad.set_question(question);
    bad.set_score(points);
    v1::SubmitScoreResponse r;
    auto ctx = Ctx(Grader());
    EXPECT_EQ(Review().SubmitScore(ctx.get(), bad, &r).error_code(), StatusCode::INVALID_ARGUMENT) << why;
  }
  {
    v1::SubmitScoreRequest no_key = score;
    no_key.clear_idempotency_key();
    v1::SubmitScoreResponse r;
    auto ctx = Ctx(Grader());
    EXPECT_EQ(Review().SubmitScore(ctx.get(), no_key, &r).error_code(), StatusCode::INVALID_ARGUMENT);
  }
  // A session still running is not reviewed.
  {
    auto running = JoinCandidate(0);
    v1::SubmitScoreRequest live = score;
    live.set_idempotency_key("live");
    live.set_session_id(running.session_id);
    v1::SubmitScoreResponse r;
    auto ctx = Ctx(Grader());
    EXPECT_EQ(Review().SubmitScore(ctx.get(), live, &r).error_code(), StatusCode::NOT_FOUND);
  }

  v1::AddAnnotationRequest note;
  note.set_idempotency_key("note-1");
  note.set_session_id(session);
  *note.mutable_at() = TimeUtil::MillisecondsToTimestamp(Ms(Markers(session).markers(0).time()) + 1500);
  note.set_text("背景有人说话 another voice in the room");
  v1::AddAnnotationResponse n1, n2;
  {
    auto ctx = Ctx(Grader());
    ASSERT_TRUE(Review().AddAnnotation(ctx.get(), note, &n1).ok());
    EXPECT_FALSE(n1.replayed());
  }
  {
    auto ctx = Ctx(Grader());
    ASSERT_TRUE(Review().AddAnnotation(ctx.get(), note, &n2).ok());
    EXPECT_TRUE(n2.replayed());
    EXPECT_EQ(n2.annotation_id(), n1.annotation_id());
  }

  // The audit has the score's before and after, and the note.
  {
    auto audit = v1::AuditService::NewStub(Channel());
    v1::ListAuditRequest req;
    req.set_target_prefix("session/" + std::to_string(session));
    v1::ListAuditResponse entries;
    auto ctx = Ctx(Login("admin"));
    ASSERT_TRUE(audit->ListAudit(ctx.get(), req, &entries).ok());
    std::vector<v1::AuditEntry> scores;
    int notes = 0;
    for (const auto& e : entries.entries()) {
      if (e.action() == "review.score") scores.push_back(e);
      if (e.action() == "review.annotate") ++notes;
    }
    ASSERT_EQ(scores.size(), 2u) << "the replay is not audited again";
    EXPECT_EQ(scores[0].before(), "{}");
    EXPECT_NE(scores[0].after().find("41.5"), std::string::npos) << scores[0].after();
    EXPECT_NE(scores[1].before().find("41.5"), std::string::npos) << scores[1].before();
    EXPECT_NE(scores[1].after().find("44"), std::string::npos) << scores[1].after();
    EXPECT_EQ(scores[1].actor(), "grader1");
    EXPECT_EQ(notes, 1);
  }

  StopServer();
  StartServer();
  grader_.clear();
  review_.reset();
  {
    v1::ListScoresRequest req;
    req.set_session_id(session);
    v1::ListScoresResponse resp;
    auto ctx = Ctx(Grader());
    ASSERT_TRUE(Review().ListScores(ctx.get(), req, &resp).ok());
    ASSERT_EQ(resp.scores_size(), 1);
    EXPECT_EQ(resp.scores(0).score_id(), first.score_id());
    EXPECT_EQ(resp.scores(0).question(), 2);
    EXPECT_DOUBLE_EQ(resp.scores(0).score(), 44);
    EXPECT_EQ(resp.scores(0).grader(), "grader1");
    EXPECT_EQ(resp.scores(0).comment(), score.comment());
  }
  {
    v1::ListAnnotationsRequest req;
    req.set_session_id(session);
    v1::ListAnnotationsResponse resp;
    auto ctx = Ctx(Grader());
    ASSERT_TRUE(Review().ListAnnotations(ctx.get(), req, &resp).ok());
    ASSERT_EQ(resp.annotations_size(), 1);
    EXPECT_EQ(resp.annotations(0).annotation_id(), n1.annotation_id());
    EXPECT_EQ(Ms(resp.annotations(0).at()), Ms(note.at()));
    EXPECT_EQ(resp.annotations(0).text(), note.text());
    EXPECT_EQ(resp.annotations(0).author(), "grader1");
  }
  // A retry after the restart still replays.
  score.set_idempotency_key("score-1");
  v1::SubmitScoreResponse after_restart;
  auto ctx = Ctx(Grader());
  ASSERT_TRUE(Review().SubmitScore(ctx.get(), score, &after_restart).ok());
  EXPECT_TRUE(after_restart.replayed());
  EXPECT_EQ(after_restart.score_id(), first.score_id());
}

TEST_F(ReviewTest, GradersSeeDrawNumbersNeverIdentitiesAndProctorsDoNotReview) {
  const auto sessions = ReadySessions();
  ASSERT_EQ(sessions.size(), 3u);
  // What identifies the candidates, as an admin sees it.
  std::vector<std::string> identities;
  {
    auto exams = v1::ExamService::NewStub(Channel());
    v1::ListSessionsRequest req;
    req.set_exam_id(server_->demo().review_exam_id);
    v1::ListSessionsResponse resp;
    auto ctx = Ctx(Login("admin"));
    ASSERT_TRUE(exams->ListSessions(ctx.get(), req, &resp).ok());
    ASSERT_EQ(resp.sessions_size(), 3);
    for (const auto& s : resp.sessions()) {
      ASSERT_FALSE(s.candidate_name().empty());
      identities.push_back(s.candidate_name());
      identities.push_back(s.registration_no());
    }
  }
  std::set<int> draws;
  std::string everything;  // every byte a grader receives
  for (const auto& s : sessions) {
    draws.insert(s.draw_number());
    everything += s.SerializeAsString();
    everything += Tracks(s.session_id()).SerializeAsString();
    everything += Markers(s.session_id()).SerializeAsString();
  }
  EXPECT_EQ(draws, (std::set<int>{1, 2, 3}));
  {
    v1::GetRubricRequest req;
    req.set_exam_id(server_->demo().review_exam_id);
    v1::Rubric rubric;
    auto ctx = Ctx(Grader());
    ASSERT_TRUE(Review().GetRubric(ctx.get(), req, &rubric).ok());
    ASSERT_EQ(rubric.items_size(), 3);
    EXPECT_DOUBLE_EQ(rubric.items(1).max_score(), 50);
    EXPECT_DOUBLE_EQ(rubric.items(1).step(), 0.5);
    EXPECT_DOUBLE_EQ(rubric.total(), 100);
    everything += rubric.SerializeAsString();
  }
  for (const auto& id : identities) EXPECT_EQ(everything.find(id), std::string::npos) << "a grader received " << id;

  // Proctors watch their rooms live; reviewing recordings is not theirs, nor support's.
  const auto tracks = Tracks(sessions[0].session_id());
  ASSERT_GT(tracks.tracks_size(), 0);
  for (const char* user : {"proctor1", "support1"}) {
    SCOPED_TRACE(user);
    const std::string token = Login(user);
    v1::ListReviewSessionsRequest list;
    list.set_exam_id(server_->demo().review_exam_id);
    v1::ListReviewSessionsResponse sessions_resp;
    auto c1 = Ctx(token);
    EXPECT_EQ(Review().ListReviewSessions(c1.get(), list, &sessions_resp).error_code(), StatusCode::PERMISSION_DENIED);
    std::string data;
    EXPECT_EQ(Read(tracks.tracks(0).id(), 0, 100, &data, nullptr, token).error_code(), StatusCode::PERMISSION_DENIED);
    EXPECT_TRUE(data.empty());
    v1::SubmitScoreRequest score;
    score.set_idempotency_key("p");
    score.set_session_id(sessions[0].session_id());
    score.set_question(1);
    score.set_score(1);
    v1::SubmitScoreResponse r;
    auto c2 = Ctx(token);
    EXPECT_EQ(Review().SubmitScore(c2.get(), score, &r).error_code(), StatusCode::PERMISSION_DENIED);
  }
  // An admin may review (and sees every grader's scores).
  std::string data;
  EXPECT_TRUE(Read(tracks.tracks(0).id(), 0, 100, &data, nullptr, Login("admin")).ok());
  EXPECT_EQ(data.size(), 100u);
}

}  // namespace
}  // namespace exam::testing
