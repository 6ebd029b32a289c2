// Live media through the real backend on loopback: a device pushes the pre-encoded camera
// loop with CandidateService.PushMedia, proctors watch it with LiveService.WatchMedia, and
// what they receive is decoded with libavcodec.
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libavutil/mem.h>
}

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>

#include "backend/media/live_loop.h"
#include "media_watcher.h"
#include "backend/services/media_relay.h"
#include "backend_fixture.h"

namespace exam::testing {
namespace {

namespace v1 = exam::v1;
using media::LoopQuality;
using media::LoopTrack;

// A WatchMedia call read on its own thread; packets are collected for the test to inspect.
using exam::testing::MediaWatcher;

// One PushMedia call of a device: writes frames of the camera loop, both qualities.
class Pusher {
 public:
  Pusher(std::shared_ptr<grpc::Channel> channel, const std::string& token, LoopTrack track = LoopTrack::kCamera)
      : stub_(v1::CandidateService::NewStub(std::move(channel))), track_(track) {
    ctx_.AddMetadata("authorization", "Bearer " + token);
    writer_ = stub_->PushMedia(&ctx_, &resp_);
  }
  // Writes loop frames [from, to) (frame numbers keep counting across laps).
  bool Push(int64_t from, int64_t to, v1::TrackKind kind = v1::TRACK_KIND_CAMERA) {
    for (int64_t f = from; f < to; ++f)
      for (LoopQuality q : {LoopQuality::kTile, LoopQuality::kFull}) {
        const auto& loop = media::GetLiveLoop(track_, q);
        v1::PushMediaRequest req;
        req.set_track(kind);
        req.set_quality(q == LoopQuality::kTile ? v1::QUALITY_TILE : v1::QUALITY_FULL);
        media::FillLoopPacket(loop, f, !sent_parameters_[static_cast<int>(q)], req.mutable_packet());
        sent_parameters_[static_cast<int>(q)] = true;
        if (!writer_->Write(req)) return false;
      }
    return true;
  }
  grpc::Status Finish() {
    writer_->WritesDone();
    return writer_->Finish();
  }
  grpc::Status Cancel() {
    ctx_.TryCancel();
    return writer_->Finish();
  }
  const v1::PushMediaResponse& response() const { return resp_; }

 private:
  std::unique_ptr<v1::CandidateService::Stub> stub_;
  LoopTrack track_;
  grpc::ClientContext ctx_;
  v1::PushMediaResponse resp_;
  std::unique_ptr<grpc::ClientWriter<v1::PushMediaRequest>> writer_;
  bool sent_parameters_[2] = {false, false};
};

struct DecodedFrame {
  int width = 0, height = 0;
  int y = 0, u = 0, v = 0;  // at the centre of the key block
};

// Decodes packets the way the console does: parameters' extradata, then packets in order.
std::vector<DecodedFrame> Decode(const std::vector<v1::MediaPacket>& packets, std::string* error) {
  std::vector<DecodedFrame> out;
  if (packets.empty() || !packets.front().has_parameters()) {
    *error = "no parameters on the first packet";
    return out;
  }
  const auto& par = packets.front().parameters();
  const AVCodec* codec = avcodec_find_decoder_by_name(par.codec().c_str());
  AVCodecContext* c = avcodec_alloc_context3(codec);
  c->thread_count = 1;
  c->extradata = static_cast<uint8_t*>(av_mallocz(par.extradata().size() + AV_INPUT_BUFFER_PADDING_SIZE));
  std::memcpy(c->extradata, par.extradata().data(), par.extradata().size());
  c->extradata_size = static_cast<int>(par.extradata().size());
  c->time_base = AVRational{par.time_base_num(), par.time_base_den()};
  if (!codec || avcodec_open2(c, codec, nullptr) < 0) {
    *error = "cannot open decoder " + par.codec();
    avcodec_free_context(&c);
    return out;
  }
  AVPacket* pkt = av_packet_alloc();
  AVFrame* frame = av_frame_alloc();
  auto drain = [&] {
    while (avcodec_receive_frame(c, frame) == 0) {
      DecodedFrame d;
      d.width = frame->width;
      d.height = frame->height;
      const int cx = media::KeyBlockWidth(frame->width) / 2, cy = media::KeyBlockHeight(frame->height) / 2;
      d.y = frame->data[0][cy * frame->linesize[0] + cx];
      d.u = frame->data[1][(cy / 2) * frame->linesize[1] + cx / 2];
      d.v = frame->data[2][(cy / 2) * frame->linesize[2] + cx / 2];
      out.push_back(d);
      av_frame_unref(frame);
    }
  };
  for (const auto& p : packets) {
    av_new_packet(pkt, static_cast<int>(p.data().size()));
    std::memcpy(pkt->data, p.data().data(), p.data().size());
    pkt->pts = p.pts();
    pkt->dts = p.dts();
    if (p.keyframe()) pkt->flags |= AV_PKT_FLAG_KEY;
    if (avcodec_send_packet(c, pkt) < 0) *error = "decoder refused a packet";
    av_packet_unref(pkt);
    drain();
  }
  avcodec_send_packet(c, nullptr);
  drain();
  av_frame_free(&frame);
  av_packet_free(&pkt);
  avcodec_free_context(&c);
  return out;
}

class LiveMediaTest : public BackendFixture {
 protected:
  struct Candidate {
    std::string token;
    int64_t session_id = 0;
    int64_t room_id = 0;
  };
  Candidate JoinLaptop(int index, v1::DeviceKind device = v1::DEVICE_KIND_LAPTOP) {
    auto stub = v1::CandidateService::NewStub(Channel());
    v1::JoinRequest req;
    req.set_exam_id(server_->demo().exam_id);
    req.set_registration_no(server_->demo().registration_nos.at(static_cast<size_t>(index)));
    req.set_access_code(server_->demo().access_code);
    req.set_device(device);
    req.set_device_model("test device");
    v1::JoinResponse resp;
    auto ctx = Ctx("");
    auto status = stub->Join(ctx.get(), req, &resp);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return Candidate{resp.token(), resp.session().id(), resp.session().room_id()};
  }
  // The proctor assigned to `room`, and one who is not.
  std::pair<std::string, std::string> Proctors(int64_t room) {
    std::string mine, other;
    for (const char* user : {"proctor1", "proctor2"}) {
      auto stub = v1::AuthService::NewStub(Channel());
      grpc::ClientContext ctx;
      v1::LoginRequest req;
      req.set_username(user);
      req.set_password("demo");
      v1::LoginResponse resp;
      EXPECT_TRUE(stub->Login(&ctx, req, &resp).ok());
      const auto& rooms = resp.user().room_ids();
      (std::find(rooms.begin(), rooms.end(), room) != rooms.end() ? mine : other) = resp.token();
    }
    EXPECT_FALSE(mine.empty());
    EXPECT_FALSE(other.empty());
    return {mine, other};
  }
};

TEST(LiveLoopTest, LoopsHaveAKeyframeEverySecondAndTheDocumentedSizes) {
  for (LoopTrack t : {LoopTrack::kCamera, LoopTrack::kScreen, LoopTrack::kEvidence})
    for (LoopQuality q : {LoopQuality::kTile, LoopQuality::kFull}) {
      const auto& loop = media::GetLiveLoop(t, q);
      SCOPED_TRACE(std::string(media::LoopTrackName(t)) + (q == LoopQuality::kFull ? " full" : " tile"));
      EXPECT_EQ(loop.packets.size(), static_cast<size_t>(loop.fps * 4));
      EXPECT_EQ(loop.keyint, loop.fps);
      EXPECT_EQ(loop.time_base_den, 90000);
      EXPECT_FALSE(loop.extradata.empty());
      for (size_t i = 0; i < loop.packets.size(); ++i)
        EXPECT_EQ(loop.packets[i].keyframe, i % static_cast<size_t>(loop.keyint) == 0) << "packet " << i;
      if (q == LoopQuality::kTile) {
        EXPECT_EQ(loop.width, 320);
        EXPECT_EQ(loop.height, 180);
      }
    }
  EXPECT_EQ(media::GetLiveLoop(LoopTrack::kScreen, LoopQuality::kFull).width, 1280);
  EXPECT_EQ(media::GetLiveLoop(LoopTrack::kCamera, LoopQuality::kFull).width, 640);
}

// The relay's window on its own: a watcher that falls behind by more than the window skips
// to the latest keyframe instead of queueing, and memory stays bounded.
TEST(MediaRelayTest, ASlowWatcherSkipsToTheLatestKeyframe) {
  backend::MediaRelay relay;
  auto ch = relay.Get({1, v1::TRACK_KIND_CAMERA, v1::QUALITY_TILE});
  const auto& loop = media::GetLiveLoop(LoopTrack::kCamera, LoopQuality::kTile);
  const uint64_t id = ch->Claim();
  auto publish = [&](int64_t from, int64_t to) {
    for (int64_t f = from; f < to; ++f) {
      v1::MediaPacket p;
      if (f == 0) p.mutable_parameters()->set_codec("h264");
      const auto& lp = loop.packets[static_cast<size_t>(f % 60)];
      p.set_pts(f * loop.frame_duration);
      p.set_keyframe(lp.keyframe);
      p.set_data(lp.data);
      ASSERT_TRUE(ch->Publish(id, p));
    }
  };
  publish(0, 20);
  backend::MediaRelay::Channel::Cursor cursor;
  v1::MediaPacket got;
  const auto soon = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
  // Joining: the latest keyframe (frame 15), with the parameters.
  ASSERT_TRUE(ch->Next(cursor, &got, soon));
  EXPECT_EQ(got.pts(), 15 * loop.frame_duration);
  EXPECT_TRUE(got.has_parameters());
  ASSERT_TRUE(ch->Next(cursor, &got, soon));
  EXPECT_EQ(got.pts(), 16 * loop.frame_duration);
  // Three more seconds go by while this watcher sends nothing.
  publish(20, 65);
  EXPECT_LE(ch->window_packets(), 2u * 15u);  // the current GOP and the one before
  ASSERT_TRUE(ch->Next(cursor, &got, soon));
  EXPECT_TRUE(got.keyframe());
  EXPECT_EQ(got.pts(), 60 * loop.frame_duration);
  EXPECT_FALSE(got.has_parameters());  // unchanged: not sent again
  EXPECT_EQ(ch->skipped(), 1);
  // Nothing new: the call waits and says so.
  for (int64_t f = 61; f < 65; ++f) ASSERT_TRUE(ch->Next(cursor, &got, soon));
  EXPECT_FALSE(ch->Next(cursor, &got, std::chrono::steady_clock::now() + std::chrono::milliseconds(20)));
  // A pusher that lost the channel to a newer one is ignored.
  const uint64_t newer = ch->Claim();
  v1::MediaPacket stale;
  stale.set_keyframe(true);
  EXPECT_FALSE(ch->Publish(id, stale));
  ch->Release(newer);
}

TEST_F(LiveMediaTest, AProctorReceivesParametersThenAKeyframeAndThePacketsDecodeToThePattern) {
  const Candidate cand = JoinLaptop(0);
  const auto [proctor, other] = Proctors(cand.room_id);
  MediaWatcher tile(Channel(), proctor, cand.session_id, v1::TRACK_KIND_CAMERA, v1::QUALITY_TILE);
  MediaWatcher full(Channel(), proctor, cand.session_id, v1::TRACK_KIND_CAMERA, v1::QUALITY_FULL);
  Pusher push(Channel(), cand.token);
  // The first frame tells that both watchers are attached (a watcher joining later would
  // rightly start at a later keyframe).
  ASSERT_TRUE(push.Push(0, 1));
  ASSERT_TRUE(WaitFor([&] { return tile.count() >= 1 && full.count() >= 1; }));
  ASSERT_TRUE(push.Push(1, 30));
  ASSERT_TRUE(WaitFor([&] { return tile.count() >= 30 && full.count() >= 30; })) << tile.count() << " " << full.count();
  ASSERT_TRUE(push.Finish().ok());
  EXPECT_EQ(push.response().packets(), 60);

  for (auto* w : {&tile, &full}) {
    const auto packets = w->packets();
    const bool is_full = w == &full;
    SCOPED_TRACE(is_full ? "full" : "tile");
    ASSERT_TRUE(packets[0].has_parameters());
    EXPECT_EQ(packets[0].parameters().codec(), "h264");
    EXPECT_EQ(packets[0].parameters().width(), is_full ? 640 : 320);
    EXPECT_EQ(packets[0].parameters().height(), is_full ? 360 : 180);
    EXPECT_EQ(packets[0].parameters().time_base_den(), 90000);
    EXPECT_TRUE(packets[0].keyframe());
    for (size_t i = 1; i < packets.size(); ++i) EXPECT_FALSE(packets[i].has_parameters()) << i;
    for (size_t i = 0; i < packets.size(); ++i) EXPECT_EQ(packets[i].pts(), static_cast<int64_t>(i) * 6000);
    std::string error;
    const auto frames = Decode(packets, &error);
    EXPECT_TRUE(error.empty()) << error;
    ASSERT_EQ(frames.size(), 30u);
    const auto key = media::KeyColourOf(LoopTrack::kCamera);
    for (const auto& f : frames) {
      EXPECT_EQ(f.width, is_full ? 640 : 320);
      EXPECT_EQ(f.height, is_full ? 360 : 180);
      EXPECT_NEAR(f.y, key.y, 10);
      EXPECT_NEAR(f.u, key.u, 10);
      EXPECT_NEAR(f.v, key.v, 10);
      // BT.601 limited range back to RGB: the block is red.
      const double yy = 1.164 * (f.y - 16), vv = f.v - 128.0, uu = f.u - 128.0;
      const double r = yy + 1.596 * vv, g = yy - 0.392 * uu - 0.813 * vv, b = yy + 2.017 * uu;
      EXPECT_GT(r, 220);
      EXPECT_LT(g, 40);
      EXPECT_LT(b, 40);
    }
  }
  EXPECT_FALSE(tile.done()) << "the watch ends only when the watcher leaves";
}

TEST_F(LiveMediaTest, AWatcherJoiningMidStreamStartsOnTheLatestKeyframe) {
  const Candidate cand = JoinLaptop(1);
  const auto [proctor, other] = Proctors(cand.room_id);
  MediaWatcher first(Channel(), proctor, cand.session_id, v1::TRACK_KIND_CAMERA, v1::QUALITY_TILE);
  Pusher push(Channel(), cand.token);
  ASSERT_TRUE(push.Push(0, 1));
  ASSERT_TRUE(WaitFor([&] { return first.count() >= 1; }));
  ASSERT_TRUE(push.Push(1, 22));
  ASSERT_TRUE(WaitFor([&] { return first.count() >= 22; }));
  MediaWatcher late(Channel(), proctor, cand.session_id, v1::TRACK_KIND_CAMERA, v1::QUALITY_TILE);
  ASSERT_TRUE(WaitFor([&] { return late.count() >= 7; }));  // frames 15..21
  ASSERT_TRUE(push.Push(22, 40));
  ASSERT_TRUE(WaitFor([&] { return late.count() >= 25; }));
  const auto packets = late.packets();
  ASSERT_EQ(packets.size(), 25u);
  ASSERT_TRUE(packets[0].has_parameters());
  EXPECT_TRUE(packets[0].keyframe());
  EXPECT_EQ(packets[0].pts(), 15 * 6000);  // the second second's keyframe, not frame 0
  EXPECT_EQ(packets.back().pts(), 39 * 6000);
  std::string error;
  EXPECT_EQ(Decode(packets, &error).size(), 25u);
  EXPECT_TRUE(error.empty()) << error;
  push.Finish();
}

TEST_F(LiveMediaTest, OtherRoomsUnknownSessionsAndWrongTracksAreRefused) {
  const Candidate cand = JoinLaptop(0);
  const auto [proctor, other] = Proctors(cand.room_id);
  {
    MediaWatcher w(Channel(), other, cand.session_id, v1::TRACK_KIND_CAMERA, v1::QUALITY_TILE);
    ASSERT_TRUE(WaitFor([&] { return w.done(); }));
    EXPECT_EQ(w.status().error_code(), grpc::StatusCode::NOT_FOUND) << w.status().error_message();
  }
  {
    MediaWatcher w(Channel(), proctor, 987654, v1::TRACK_KIND_CAMERA, v1::QUALITY_TILE);
    ASSERT_TRUE(WaitFor([&] { return w.done(); }));
    EXPECT_EQ(w.status().error_code(), grpc::StatusCode::NOT_FOUND);
  }
  {
    MediaWatcher w(Channel(), Login("grader1"), cand.session_id, v1::TRACK_KIND_CAMERA, v1::QUALITY_TILE);
    ASSERT_TRUE(WaitFor([&] { return w.done(); }));
    EXPECT_EQ(w.status().error_code(), grpc::StatusCode::PERMISSION_DENIED) << w.status().error_message();
  }
  {
    MediaWatcher w(Channel(), proctor, cand.session_id, v1::TRACK_KIND_UNSPECIFIED, v1::QUALITY_TILE);
    ASSERT_TRUE(WaitFor([&] { return w.done(); }));
    EXPECT_EQ(w.status().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    // A laptop does not film the room from behind.
    Pusher p(Channel(), cand.token, LoopTrack::kEvidence);
    p.Push(0, 1, v1::TRACK_KIND_EVIDENCE);
    EXPECT_EQ(p.Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    // The first packet of a stream must say how to decode it.
    auto stub = v1::CandidateService::NewStub(Channel());
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + cand.token);
    v1::PushMediaResponse resp;
    auto writer = stub->PushMedia(&ctx, &resp);
    v1::PushMediaRequest req;
    req.set_track(v1::TRACK_KIND_CAMERA);
    req.set_quality(v1::QUALITY_TILE);
    req.mutable_packet()->set_keyframe(true);
    req.mutable_packet()->set_data("x");
    writer->Write(req);
    writer->WritesDone();
    EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
}

TEST_F(LiveMediaTest, ACutPushLeavesTheWatcherOpenAndANewPushResumesDelivery) {
  const Candidate cand = JoinLaptop(2);
  const auto [proctor, other] = Proctors(cand.room_id);
  MediaWatcher w(Channel(), proctor, cand.session_id, v1::TRACK_KIND_CAMERA, v1::QUALITY_TILE);
  {
    Pusher push(Channel(), cand.token);
    ASSERT_TRUE(push.Push(0, 1));
    ASSERT_TRUE(WaitFor([&] { return w.count() >= 1; }));
    ASSERT_TRUE(push.Push(1, 20));
    ASSERT_TRUE(WaitFor([&] { return w.count() >= 20; }));
    const auto st = push.Cancel();  // the device's connection drops mid-GOP
    EXPECT_EQ(st.error_code(), grpc::StatusCode::CANCELLED);
  }
  EXPECT_FALSE(w.done());
  // The device comes back: a new stream, starting with parameters and a keyframe.
  Pusher again(Channel(), cand.token);
  ASSERT_TRUE(again.Push(30, 45));
  ASSERT_TRUE(WaitFor([&] { return w.count() >= 35; })) << w.count();
  const auto packets = w.packets();
  EXPECT_EQ(packets.size(), 35u);
  EXPECT_TRUE(packets[20].keyframe());
  EXPECT_TRUE(packets[20].has_parameters()) << "a new stream: parameters again";
  EXPECT_EQ(packets[20].pts(), 30 * 6000);
  EXPECT_FALSE(w.done());
  std::string error;
  // Both halves decode as one stream (the cut lands on a keyframe).
  EXPECT_EQ(Decode(packets, &error).size(), 35u);
  EXPECT_TRUE(error.empty()) << error;
  EXPECT_TRUE(again.Finish().ok());
}

}  // namespace
}  // namespace exam::testing
