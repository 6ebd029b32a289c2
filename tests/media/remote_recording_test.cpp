// The review player against a real backend on loopback: the demo's finished session is
// recorded by the backend's synthesizer (camera, screen, evidence phone with its own clock),
// listed by ReviewService.ListTracks, and read through ReadMedia + the block cache. The
// bytes match the track's sha256, an exact seek lands on its frame without downloading the
// recording whole, and the phone's clock error is recovered from the sound.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <atomic>
#include <thread>

#include "backend/server.h"
#include "core/audio_analysis.h"
#include "exam/v1/auth.grpc.pb.h"
#include "exam/v1/review.grpc.pb.h"
#include "media/audio_track.h"
#include "media/block_cache.h"
#include "media/track_decoder.h"
#include "net/review_media_source.h"
#include "store/media_block_store.h"
#include "temp_dir.h"

namespace exam::media {
namespace {

using namespace std::chrono_literals;
namespace v1 = exam::v1;

std::string Sha256Hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

core::Micros Micros(const google::protobuf::Timestamp& t) { return t.seconds() * 1'000'000 + t.nanos() / 1000; }

class RemoteRecordingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    backend::ServerOptions o;
    o.db_path = dir_->File("exam.db");
    o.demo_candidates = 2;
    o.demo_review_sessions = 1;
    o.demo_review_seconds = 24;
    std::string error;
    server_ = backend::ExamServer::Start(o, &error).release();
    ASSERT_TRUE(server_) << error;
    channel_ = new std::shared_ptr<grpc::Channel>(grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
    auto auth = v1::AuthService::NewStub(*channel_);
    grpc::ClientContext ctx;
    v1::LoginRequest req;
    req.set_username("grader1");
    req.set_password(server_->demo().demo_password);
    v1::LoginResponse resp;
    ASSERT_TRUE(auth->Login(&ctx, req, &resp).ok());
    token_ = new std::string(resp.token());
    // The recordings are made in the background on the first review call.
    auto review = v1::ReviewService::NewStub(*channel_);
    const auto deadline = std::chrono::steady_clock::now() + 120s;
    tracks_ = new v1::ListTracksResponse;
    while (std::chrono::steady_clock::now() < deadline) {
      grpc::ClientContext c1;
      c1.AddMetadata("authorization", "Bearer " + *token_);
      v1::ListReviewSessionsRequest lr;
      lr.set_exam_id(server_->demo().review_exam_id);
      v1::ListReviewSessionsResponse sessions;
      ASSERT_TRUE(review->ListReviewSessions(&c1, lr, &sessions).ok());
      if (!sessions.sessions().empty()) {
        grpc::ClientContext c2;
        c2.AddMetadata("authorization", "Bearer " + *token_);
        v1::ListTracksRequest tr;
        tr.set_session_id(sessions.sessions(0).session_id());
        ASSERT_TRUE(review->ListTracks(&c2, tr, tracks_).ok());
        if (tracks_->missing().empty() && tracks_->tracks_size() >= 2) break;
      }
      std::this_thread::sleep_for(200ms);
    }
    ASSERT_TRUE(tracks_->missing().empty()) << "the demo recordings were not made in time";
  }
  static void TearDownTestSuite() {
    if (server_) server_->Shutdown();
    delete server_;
    delete channel_;
    delete token_;
    delete tracks_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (!server_ || !tracks_ || !tracks_->missing().empty()) GTEST_SKIP() << "no backend with recordings";
  }

  static const v1::Track* Find(v1::TrackKind kind) {
    for (const auto& t : tracks_->tracks())
      if (t.kind() == kind) return &t;
    return nullptr;
  }
  static std::shared_ptr<net::ReviewMediaSource> Remote(const v1::Track& t, int64_t size = -1) {
    const std::string token = *token_;
    return std::make_shared<net::ReviewMediaSource>(*channel_, [token] { return token; }, t.id(), size);
  }

  static inline testing::TempDir* dir_ = new testing::TempDir;
  static inline backend::ExamServer* server_ = nullptr;
  static inline std::shared_ptr<grpc::Channel>* channel_ = nullptr;
  static inline std::string* token_ = nullptr;
  static inline v1::ListTracksResponse* tracks_ = nullptr;
};

TEST_F(RemoteRecordingTest, BytesMatchTheTrackChecksum) {
  const v1::Track* camera = Find(v1::TRACK_KIND_CAMERA);
  ASSERT_TRUE(camera);
  auto remote = Remote(*camera);  // size unknown: asked of the backend
  std::string error;
  ASSERT_EQ(remote->Size(&error), camera->size()) << error;
  std::string all;
  for (int64_t at = 0; at < camera->size(); at += 700'000) {
    auto r = remote->Read(at, 700'000);
    ASSERT_TRUE(r.ok()) << r.error;
    all += r.data;
  }
  EXPECT_EQ(Sha256Hex(all), camera->sha256());
  EXPECT_TRUE(remote->Read(camera->size(), 10).data.empty());

  auto missing = std::make_shared<net::ReviewMediaSource>(*channel_, [] { return *token_; }, 987654, -1);
  EXPECT_LT(missing->Size(&error), 0);
  EXPECT_NE(error.find("not found"), std::string::npos) << error;
  auto anonymous = std::make_shared<net::ReviewMediaSource>(*channel_, nullptr, camera->id(), camera->size());
  auto denied = anonymous->Read(0, 100);
  EXPECT_FALSE(denied.ok());
  EXPECT_NE(denied.error.find("recording " + std::to_string(camera->id())), std::string::npos) << denied.error;
}

TEST_F(RemoteRecordingTest, ExactSeeksThroughTheCache) {
  const v1::Track* camera = Find(v1::TRACK_KIND_CAMERA);
  ASSERT_TRUE(camera);
  auto remote = Remote(*camera, camera->size());
  auto store = std::make_shared<local::MediaBlockStore>(local::MediaBlockStoreOptions{dir_->File("cache"), 256 * 1024, 256 << 20});
  auto cached = std::make_shared<CachedByteSource>(remote, store, "camera:" + camera->sha256());
  const auto t0 = std::chrono::steady_clock::now();
  TrackDecoder track(cached, TrackDecoder::Options{0, 4, nullptr});
  auto first = track.WaitFrameAt(0, 20s);
  const double first_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(first) << track.Error();
  std::printf("first frame of a remote recording: %.1f ms\n", first_ms);
  auto f = track.WaitFrameAt(17'010'000, 20s);
  ASSERT_TRUE(f) << track.Error();
  EXPECT_EQ(f->pts_us, 17'000'000);
  // Each byte crossed the network at most once (the demo camera file is small, a few
  // blocks; that a long recording is not fetched whole is tested on local files).
  EXPECT_LE(remote->bytes_received(), static_cast<uint64_t>(camera->size()));
  // The evidence phone keeps a keyframe every 20 s: a frame just before one needs the
  // whole previous GOP, fetched through the cache on demand.
  const v1::Track* phone = Find(v1::TRACK_KIND_EVIDENCE);
  ASSERT_TRUE(phone);
  TrackDecoder evidence(std::make_shared<CachedByteSource>(Remote(*phone, phone->size()), store, "phone:" + phone->sha256()));
  auto g = evidence.WaitFrameAt(19'990'000, 20s);
  ASSERT_TRUE(g) << evidence.Error();
  EXPECT_EQ(g->pts_us, 19'960'000);
}

TEST_F(RemoteRecordingTest, ThePhonesClockErrorComesOutOfItsSound) {
  const v1::Track* camera = Find(v1::TRACK_KIND_CAMERA);
  const v1::Track* phone = Find(v1::TRACK_KIND_EVIDENCE);
  ASSERT_TRUE(camera && phone);
  std::string error;
  const auto a = DecodeAudioMono(Remote(*camera, camera->size()), 8000, 60'000'000, &error);
  ASSERT_FALSE(a.empty()) << error;
  const auto b = DecodeAudioMono(Remote(*phone, phone->size()), 8000, 60'000'000, &error);
  ASSERT_FALSE(b.empty()) << error;
  const core::Micros origin = Micros(camera->utc_start());
  const core::TrackPlacement cam{Micros(camera->utc_start()), 0, 0};
  const core::TrackPlacement ph{Micros(phone->utc_start()), 0, 0};
  core::AudioOffsetOptions o;
  o.expected_offset_us = core::ExpectedAudioOffset(cam, ph, origin);
  auto offset = core::EstimateAudioOffset(a, 8000, b, 8000, o);
  ASSERT_TRUE(offset);
  const core::Micros skew = core::SkewForAudioOffset(cam, ph, origin, offset->offset_us);
  std::printf("phone skew from sound: %lld us (correlation %.2f, confidence %.2f)\n", static_cast<long long>(skew),
              offset->correlation, offset->confidence);
  // The synthesizer's phone clock runs 350 ms ahead (RecordingPlan::evidence_clock_offset_ms).
  EXPECT_NEAR(static_cast<double>(skew), -350'000.0, 20'000.0);
}

// A ReviewService that answers ReadMedia badly on purpose, as a broken or hostile backend
// (or proxy) might: the real backend cannot be made to do this on demand.
class HostileReview final : public v1::ReviewService::Service {
 public:
  enum class Mode { kHonest, kWrongOffset, kOversized, kCapped, kSizeChange, kNothing, kSlow };
  std::atomic<Mode> mode{Mode::kHonest};
  std::string file = std::string(1 << 20, 'x');

  HostileReview() {
    for (size_t i = 0; i < file.size(); ++i) file[i] = static_cast<char>(i * 131 % 251);
  }

  grpc::Status ReadMedia(grpc::ServerContext* context, const v1::ReadMediaRequest* req,
                         grpc::ServerWriter<v1::MediaChunk>* writer) override {
    const auto size = static_cast<int64_t>(file.size());
    int64_t at = req->offset();
    int64_t end = req->length() == 0 ? size : std::min(size, at + req->length());
    const Mode m = mode.load();
    if (m == Mode::kNothing) return grpc::Status::OK;
    if (m == Mode::kSlow) {
      for (int i = 0; i < 100 && !context->IsCancelled(); ++i) std::this_thread::sleep_for(50ms);
      return grpc::Status(grpc::StatusCode::CANCELLED, "gave up");
    }
    if (m == Mode::kCapped) end = std::min(end, at + 1000);
    if (m == Mode::kOversized) end = std::min(size, end + 5000);
    while (at < end) {
      v1::MediaChunk c;
      const int64_t n = std::min<int64_t>(64 * 1024, end - at);
      c.set_offset(m == Mode::kWrongOffset ? at + 5 : at);
      c.set_data(file.substr(static_cast<size_t>(at), static_cast<size_t>(n)));
      c.set_file_size(m == Mode::kSizeChange ? size + 1 : size);
      if (!writer->Write(c)) break;
      at += n;
    }
    return grpc::Status::OK;
  }
};

class HostileBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder b;
    int port = 0;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(&service_);
    server_ = b.BuildAndStart();
    ASSERT_TRUE(server_);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + 2s);
  }
  std::shared_ptr<net::ReviewMediaSource> Source(int64_t known_size = -1) {
    return std::make_shared<net::ReviewMediaSource>(channel_, [] { return std::string("t"); }, 1, known_size);
  }
  HostileReview service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(HostileBackendTest, CappedAndOversizedAnswersStillGiveExactlyTheRange) {
  service_.mode = HostileReview::Mode::kCapped;
  auto capped = Source();
  auto r = capped->Read(1000, 300'000);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.data, service_.file.substr(1000, 300'000));
  EXPECT_GT(capped->calls(), 100u);  // asked again from where each answer stopped

  service_.mode = HostileReview::Mode::kOversized;
  auto oversized = Source();
  r = oversized->Read(7, 100'000);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.data, service_.file.substr(7, 100'000));
  // Past the end: no bytes, no error.
  EXPECT_TRUE(oversized->Read(static_cast<int64_t>(service_.file.size()), 10).data.empty());
}

TEST_F(HostileBackendTest, BadAnswersAreClearErrors) {
  service_.mode = HostileReview::Mode::kWrongOffset;
  auto r = Source(1 << 20)->Read(0, 1000);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("sent bytes for offset 5 where 0 was due"), std::string::npos) << r.error;

  service_.mode = HostileReview::Mode::kSizeChange;
  r = Source(1 << 20)->Read(0, 1000);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("changed size"), std::string::npos) << r.error;

  service_.mode = HostileReview::Mode::kNothing;
  r = Source(1 << 20)->Read(0, 1000);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("answered no bytes"), std::string::npos) << r.error;
  std::string error;
  EXPECT_LT(Source()->Size(&error), 0);
  EXPECT_NE(error.find("did not say how large"), std::string::npos) << error;

  // A demuxer over a source that fails says why instead of crashing.
  TrackDecoder track(Source(1 << 20));
  for (int i = 0; i < 1000 && track.State() == TrackState::kOpening; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(track.State(), TrackState::kFailed);
  EXPECT_NE(track.Error().find("answered no bytes"), std::string::npos) << track.Error();
}

TEST_F(HostileBackendTest, CancelEndsASlowReadAtOnce) {
  service_.mode = HostileReview::Mode::kSlow;
  auto slow = Source(1 << 20);
  std::thread canceller([&] {
    std::this_thread::sleep_for(200ms);
    slow->Cancel();
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto r = slow->Read(0, 1000);
  const auto waited = std::chrono::steady_clock::now() - t0;
  canceller.join();
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.cancelled) << r.error;
  EXPECT_LT(waited, 2s);
  slow->Resume();
  service_.mode = HostileReview::Mode::kHonest;
  EXPECT_TRUE(slow->Read(0, 10).ok());
}

}  // namespace
}  // namespace exam::media
