// The live decoder pool on real H.264: a test pattern encoded here with libx264 (no
// B-frames, a keyframe every 25 frames, like the simulator's camera), fed through the pool.
#include <gtest/gtest.h>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
}

#include <cstdlib>
#include <string>
#include <vector>

#include "media/live_decoder_pool.h"

namespace exam::media {
namespace {

constexpr int kWidth = 320;
constexpr int kHeight = 180;
constexpr int kGop = 25;
constexpr int kFrames = 60;

// Left half and right half of the picture, flat colours in YUV (limited range).
constexpr int kLeft[3] = {60, 100, 180};
constexpr int kRight[3] = {200, 150, 90};

struct Encoded {
  StreamParameters parameters;
  std::vector<EncodedPacket> packets;
};

Encoded EncodePattern(int frames = kFrames) {
  Encoded out;
  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  if (codec == nullptr) return out;
  AVCodecContext* c = avcodec_alloc_context3(codec);
  c->width = kWidth;
  c->height = kHeight;
  c->pix_fmt = AV_PIX_FMT_YUV420P;
  c->time_base = AVRational{1, 15};
  c->framerate = AVRational{15, 1};
  c->gop_size = kGop;
  c->max_b_frames = 0;
  c->thread_count = 1;
  c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  av_opt_set(c->priv_data, "preset", "ultrafast", 0);
  av_opt_set(c->priv_data, "tune", "zerolatency", 0);
  av_opt_set(c->priv_data, "x264-params", "scenecut=0", 0);
  if (avcodec_open2(c, codec, nullptr) < 0) {
    avcodec_free_context(&c);
    return out;
  }
  out.parameters.codec = "h264";
  out.parameters.width = kWidth;
  out.parameters.height = kHeight;
  out.parameters.extradata.assign(reinterpret_cast<const char*>(c->extradata), c->extradata_size);
  out.parameters.time_base_num = 1;
  out.parameters.time_base_den = 15;

  AVFrame* f = av_frame_alloc();
  f->format = c->pix_fmt;
  f->width = kWidth;
  f->height = kHeight;
  av_frame_get_buffer(f, 0);
  AVPacket* p = av_packet_alloc();
  auto drain = [&] {
    while (avcodec_receive_packet(c, p) == 0) {
      EncodedPacket e;
      e.data.assign(reinterpret_cast<const char*>(p->data), p->size);
      e.pts = p->pts;
      e.dts = p->dts;
      e.keyframe = (p->flags & AV_PKT_FLAG_KEY) != 0;
      out.packets.push_back(std::move(e));
      av_packet_unref(p);
    }
  };
  for (int i = 0; i < frames; ++i) {
    av_frame_make_writable(f);
    for (int plane = 0; plane < 3; ++plane) {
      const int w = plane == 0 ? kWidth : kWidth / 2, h = plane == 0 ? kHeight : kHeight / 2;
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) f->data[plane][y * f->linesize[plane] + x] = static_cast<uint8_t>(x < w / 2 ? kLeft[plane] : kRight[plane]);
    }
    // A moving grey square in the bottom rows so that P-frames carry changes.
    const int sx = (i * 4) % (kWidth - 16);
    for (int y = kHeight - 20; y < kHeight - 4; ++y)
      for (int x = sx; x < sx + 16; ++x) f->data[0][y * f->linesize[0] + x] = 128;
    f->pts = i;
    avcodec_send_frame(c, f);
    drain();
  }
  avcodec_send_frame(c, nullptr);
  drain();
  av_packet_free(&p);
  av_frame_free(&f);
  avcodec_free_context(&c);
  return out;
}

LiveDecoderPool::Options Threads(int n) {
  LiveDecoderPool::Options o;
  o.threads = n;
  return o;
}

int Sample(const VideoFrame& frame, int plane, int x, int y) {
  return frame.planes[plane][static_cast<size_t>(y) * frame.linesize[plane] + x];
}

class LiveDecodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    av_log_set_level(AV_LOG_ERROR);  // x264's banner and statistics
    encoded_ = EncodePattern();
    if (encoded_.packets.empty()) GTEST_SKIP() << "libx264 encoder not available";
    ASSERT_EQ(encoded_.packets.size(), static_cast<size_t>(kFrames));
  }
  Encoded encoded_;
};

TEST_F(LiveDecodeTest, DecodesTestPatternWithKnownColours) {
  int keyframes = 0;
  for (const auto& p : encoded_.packets) keyframes += p.keyframe;
  EXPECT_EQ(keyframes, 3);
  LiveDecoderPool pool(Threads(2));
  const auto id = pool.Open();
  pool.SetParameters(id, encoded_.parameters);
  for (const auto& p : encoded_.packets) pool.Push(id, p);
  pool.Drain();
  const auto stats = pool.Stats(id);
  EXPECT_EQ(stats.packets_received, static_cast<uint64_t>(kFrames));
  EXPECT_EQ(stats.frames_decoded, static_cast<uint64_t>(kFrames));
  EXPECT_EQ(stats.errors, 0u) << stats.last_error;
  EXPECT_EQ(pool.FrameVersion(id), static_cast<uint64_t>(kFrames));
  auto frame = pool.LatestFrame(id);
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->width, kWidth);
  EXPECT_EQ(frame->height, kHeight);
  EXPECT_GE(frame->linesize[0], kWidth);
  EXPECT_GE(frame->linesize[1], ChromaWidth(kWidth));
  EXPECT_EQ(frame->planes[1].size(), static_cast<size_t>(frame->linesize[1]) * ChromaHeight(kHeight));
  EXPECT_EQ(frame->pts, kFrames - 1);
  EXPECT_EQ(frame->color_space, ColorSpace::kBt601);
  EXPECT_EQ(frame->color_range, ColorRange::kLimited);
  // A block well inside each half; x264 is lossy, flat areas come back within a few levels.
  for (int plane = 0; plane < 3; ++plane) {
    const int s = plane == 0 ? 1 : 2;
    EXPECT_NEAR(Sample(*frame, plane, 40 / s, 60 / s), kLeft[plane], 4) << "plane " << plane;
    EXPECT_NEAR(Sample(*frame, plane, 280 / s, 60 / s), kRight[plane], 4) << "plane " << plane;
  }
}

TEST_F(LiveDecodeTest, KeyframesOnlySkipsNonKeyPackets) {
  LiveDecoderPool pool(Threads(1));
  const auto id = pool.Open(DecodePolicy::kKeyframesOnly);
  pool.SetParameters(id, encoded_.parameters);
  for (const auto& p : encoded_.packets) pool.Push(id, p);
  pool.Drain();
  auto stats = pool.Stats(id);
  EXPECT_EQ(stats.frames_decoded, 3u);
  EXPECT_EQ(stats.packets_skipped, static_cast<uint64_t>(kFrames - 3));
  EXPECT_EQ(stats.errors, 0u) << stats.last_error;
  ASSERT_TRUE(pool.LatestFrame(id));
  EXPECT_EQ(pool.LatestFrame(id)->pts, 2 * kGop);

  // Back on screen: full rate again from the next keyframe (never from a P-frame whose
  // references were skipped).
  pool.SetPolicy(id, DecodePolicy::kFull);
  for (int i = 1; i < kFrames; ++i) pool.Push(id, encoded_.packets[i]);
  pool.Drain();
  stats = pool.Stats(id);
  EXPECT_EQ(stats.errors, 0u) << stats.last_error;
  EXPECT_EQ(stats.frames_decoded, 3u + (kFrames - kGop));
}

TEST_F(LiveDecodeTest, StoppedStreamDecodesNothing) {
  LiveDecoderPool pool(Threads(1));
  const auto id = pool.Open(DecodePolicy::kStopped);
  pool.SetParameters(id, encoded_.parameters);
  for (const auto& p : encoded_.packets) pool.Push(id, p);
  pool.Drain();
  const auto stats = pool.Stats(id);
  EXPECT_EQ(stats.packets_received, static_cast<uint64_t>(kFrames));
  EXPECT_EQ(stats.frames_decoded, 0u);
  EXPECT_EQ(pool.FrameVersion(id), 0u);
}

TEST_F(LiveDecodeTest, CorruptPacketIsReportedAndDecodingRecoversAtNextKeyframe) {
  LiveDecoderPool pool(Threads(1));
  const auto id = pool.Open();
  pool.SetParameters(id, encoded_.parameters);
  auto packets = encoded_.packets;
  ASSERT_FALSE(packets[5].keyframe);
  // Keep the start code and NAL header, garble the slice.
  for (size_t i = 5; i < packets[5].data.size(); ++i) packets[5].data[i] = static_cast<char>(0xff ^ (i * 37));
  for (int i = 0; i < kGop; ++i) pool.Push(id, packets[i]);
  pool.Drain();
  auto stats = pool.Stats(id);
  EXPECT_GE(stats.errors, 1u);
  EXPECT_FALSE(stats.last_error.empty());
  EXPECT_TRUE(stats.waiting_for_keyframe);
  EXPECT_EQ(stats.frames_decoded, 5u);
  const uint64_t before = pool.FrameVersion(id);

  for (int i = kGop; i < kFrames; ++i) pool.Push(id, packets[i]);
  pool.Drain();
  stats = pool.Stats(id);
  EXPECT_EQ(stats.frames_decoded, 5u + (kFrames - kGop));
  EXPECT_FALSE(stats.waiting_for_keyframe);
  EXPECT_GT(pool.FrameVersion(id), before);
  auto frame = pool.LatestFrame(id);
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->pts, kFrames - 1);
  EXPECT_NEAR(Sample(*frame, 0, 40, 60), kLeft[0], 4);
}

TEST_F(LiveDecodeTest, UnknownCodecIsReported) {
  LiveDecoderPool pool(Threads(1));
  const auto id = pool.Open();
  StreamParameters bad = encoded_.parameters;
  bad.codec = "no-such-codec";
  pool.SetParameters(id, bad);
  pool.Push(id, encoded_.packets[0]);
  pool.Drain();
  const auto stats = pool.Stats(id);
  EXPECT_GE(stats.errors, 1u);
  EXPECT_NE(stats.last_error.find("no-such-codec"), std::string::npos);
  EXPECT_EQ(stats.frames_decoded, 0u);
}

TEST_F(LiveDecodeTest, ManyStreamsOnTwoWorkers) {
  LiveDecoderPool pool(Threads(2));
  std::vector<LiveDecoderPool::StreamId> ids;
  for (int i = 0; i < 8; ++i) {
    ids.push_back(pool.Open(i % 2 ? DecodePolicy::kKeyframesOnly : DecodePolicy::kFull));
    pool.SetParameters(ids.back(), encoded_.parameters);
  }
  for (const auto& p : encoded_.packets)
    for (auto id : ids) pool.Push(id, p);
  pool.Close(ids[7]);
  pool.Drain();
  for (int i = 0; i < 7; ++i)
    EXPECT_EQ(pool.Stats(ids[i]).frames_decoded, i % 2 ? 3u : static_cast<uint64_t>(kFrames)) << i;
  EXPECT_EQ(pool.FrameVersion(ids[7]), 0u);  // closed: unknown now
}

}  // namespace
}  // namespace exam::media

// ---- LiveFeed against the real backend on loopback ------------------------------------
#ifdef EXAM_NET_TESTS_LIVE_RELAY
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "backend/server.h"
#include "exam/v1/candidate.grpc.pb.h"
#include "net/backend_client.h"
#include "net/live_feed.h"
#include "temp_dir.h"

namespace exam::media {
namespace {

namespace v1 = exam::v1;
using namespace std::chrono_literals;

bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = 15s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

// What the wall does: feed packets of one key to one pool stream.
class PoolSink : public net::LiveMediaSink {
 public:
  PoolSink(LiveDecoderPool& pool, LiveDecoderPool::StreamId id) : pool_(pool), id_(id) {}
  void OnParameters(const net::LiveStreamKey&, const v1::CodecParameters& p) override {
    StreamParameters out;
    out.codec = p.codec();
    out.width = p.width();
    out.height = p.height();
    out.extradata = p.extradata();
    out.time_base_num = p.time_base_num();
    out.time_base_den = p.time_base_den();
    pool_.SetParameters(id_, out);
    parameters_.fetch_add(1);
  }
  void OnPacket(const net::LiveStreamKey&, const v1::MediaPacket& p) override {
    pool_.Push(id_, EncodedPacket{p.data(), p.pts(), p.dts(), p.keyframe()});
  }
  std::atomic<int> parameters_{0};

 private:
  LiveDecoderPool& pool_;
  LiveDecoderPool::StreamId id_;
};

TEST_F(LiveDecodeTest, LiveFeedDecodesWhatADevicePushesThroughTheRealBackend) {
  exam::testing::TempDir dir;
  backend::ServerOptions options;
  options.db_path = dir.File("exam.db");
  options.demo_candidates = 4;
  std::string error;
  auto server = backend::ExamServer::Start(options, &error);
  ASSERT_NE(server, nullptr) << error;
  const auto demo = server->demo();

  // The candidate's laptop signs in and pushes its camera's tile stream, looping the pattern.
  auto stub = v1::CandidateService::NewStub(grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials()));
  v1::JoinRequest join;
  join.set_exam_id(demo.exam_id);
  join.set_registration_no(demo.registration_nos[0]);
  join.set_access_code(demo.access_code);
  join.set_device(v1::DEVICE_KIND_LAPTOP);
  join.set_device_model("ThinkPad X1");
  v1::JoinResponse joined;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    ASSERT_TRUE(stub->Join(&ctx, join, &joined).ok());
  }
  const int64_t session_id = joined.session().id();

  std::atomic<bool> stop_pushing{false};
  std::thread device([&] {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + joined.token());
    v1::PushMediaResponse response;
    auto writer = stub->PushMedia(&ctx, &response);
    int64_t pts = 0;
    bool first = true;
    while (!stop_pushing.load()) {
      for (const auto& p : encoded_.packets) {
        v1::PushMediaRequest req;
        req.set_track(v1::TRACK_KIND_CAMERA);
        req.set_quality(v1::QUALITY_TILE);
        if (first) {
          auto* cp = req.mutable_packet()->mutable_parameters();
          cp->set_codec(encoded_.parameters.codec);
          cp->set_width(kWidth);
          cp->set_height(kHeight);
          cp->set_extradata(encoded_.parameters.extradata);
          cp->set_time_base_num(1);
          cp->set_time_base_den(15);
          first = false;
        }
        req.mutable_packet()->set_pts(pts);
        req.mutable_packet()->set_dts(pts);
        ++pts;
        req.mutable_packet()->set_keyframe(p.keyframe);
        req.mutable_packet()->set_data(p.data);
        if (!writer->Write(req) || stop_pushing.load()) break;
        std::this_thread::sleep_for(5ms);
      }
    }
    writer->WritesDone();
    writer->Finish();
  });

  net::ClientOptions client_options;
  client_options.address = server->address();
  client_options.username = "admin";
  client_options.password = "demo";
  net::BackendClient client(client_options);
  client.Start();
  ASSERT_TRUE(WaitUntil([&] { return !client.AccessToken().empty(); })) << client.Status().message;

  LiveDecoderPool pool(Threads(1));
  const auto id = pool.Open();
  PoolSink sink(pool, id);
  net::LiveFeed feed(client, sink);
  const net::LiveStreamKey key{session_id, v1::TRACK_KIND_CAMERA, v1::QUALITY_TILE};
  feed.Want({key});

  const bool decoded = WaitUntil([&] { return pool.Stats(id).frames_decoded >= 30; });
  const auto stats = pool.Stats(id);
  const auto feed_status = feed.Statuses();
  EXPECT_TRUE(decoded) << "received " << stats.packets_received << " decoded " << stats.frames_decoded << " error "
                       << stats.last_error << " feed " << (feed_status.count(key) ? feed_status.at(key).last_error : "?");
  EXPECT_GE(sink.parameters_.load(), 1);
  EXPECT_EQ(stats.errors, 0u) << stats.last_error;
  if (auto frame = pool.LatestFrame(id)) {
    EXPECT_EQ(frame->width, kWidth);
    EXPECT_EQ(frame->height, kHeight);
    EXPECT_NEAR(Sample(*frame, 1, 20, 30), kLeft[1], 4);
    EXPECT_NEAR(Sample(*frame, 2, 140, 30), kRight[2], 4);
  } else {
    ADD_FAILURE() << "no frame";
  }
  ASSERT_TRUE(feed_status.count(key));
  EXPECT_TRUE(feed_status.at(key).connected);

  // Not wanted any more: the call ends and nothing more arrives.
  feed.Want({});
  ASSERT_TRUE(WaitUntil([&] { return feed.Statuses().empty(); }));
  const auto received = pool.Stats(id).packets_received;
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(pool.Stats(id).packets_received, received);

  stop_pushing.store(true);
  device.join();
  feed.Stop();
  client.Stop();
  server->Shutdown();
}

}  // namespace
}  // namespace exam::media
#endif  // EXAM_NET_TESTS_LIVE_RELAY
