// The live wall's video under faults: a LiveFeed watches a candidate's camera through the
// fault-injecting proxy (fault_proxy.h) to the real examd binary, while the candidate's
// laptop keeps pushing its camera straight to examd (not through the proxy), as a device in
// the exam room would. Every connection reset, the path stalled or left half-open past the
// feed's idle timeout, and examd killed with SIGKILL and restarted on its port and database
// (the laptop joins again and pushes a new stream). Under each fault the stream's status
// must say it was cut off (a new call, why the last one ended), and once the path is back
// the wall must get a fresh stream as the relay promises: parameters first, on a keyframe,
// then the packets that follow, with the message count still rising.
//
// Tests wait on the sink's and the client's change callbacks, never on time; the sleeps
// here only hold a fault open and pace the laptop's camera at its frame rate.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <mutex>
#include <thread>

#include "../net/staff_console.h"
#include "backend/media/live_loop.h"
#include "backend_fixture.h"
#include "examd_process.h"
#include "fault_proxy.h"
#include "net/live_feed.h"

namespace exam::testing {
namespace {

namespace v1 = exam::v1;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

double Seconds(Steady::duration d) { return std::chrono::duration<double>(d).count(); }

// No callback announces a stream's status (the sink hears only media), so waits on it look
// again this often; the figures' "noticed after" are as fine as this.
constexpr auto kStatusPoll = 50ms;

// What the wall's decoder would be handed, in arrival order, so a test can see where a new
// stream started and what came first on it.
class RecordingSink : public net::LiveMediaSink {
 public:
  explicit RecordingSink(Changes& changes) : changes_(changes) {}

  struct Event {
    bool parameters = false;  // OnParameters; otherwise a packet
    bool keyframe = false;
    int64_t pts = 0;
    Steady::time_point at;
  };
  // A stream that began after a mark: whether its parameters came with a keyframe, when,
  // and how many packets followed.
  struct Restart {
    bool found = false;
    bool keyframe_first = false;
    uint64_t packets = 0;  // from its first packet on, that one included
    Steady::time_point at;
  };

  void OnParameters(const net::LiveStreamKey&, const v1::CodecParameters&) override {
    Add({true, false, 0, Steady::now()});
  }
  void OnPacket(const net::LiveStreamKey&, const v1::MediaPacket& packet) override {
    Add({false, packet.keyframe(), packet.pts(), Steady::now()});
  }

  size_t Mark() {
    std::lock_guard lock(mu_);
    return events_.size();
  }
  uint64_t packets() {
    std::lock_guard lock(mu_);
    return packets_;
  }
  uint64_t ParametersSince(size_t mark) {
    std::lock_guard lock(mu_);
    uint64_t n = 0;
    for (size_t i = mark; i < events_.size(); ++i) n += events_[i].parameters;
    return n;
  }
  // The first stream after `mark`. Packets of the call a fault cut may still come before it
  // (a call's reactions all run before its end, and the feed opens the next call only after
  // that), so the first parameters after the mark are the new call's first message.
  Restart FirstRestartSince(size_t mark) {
    std::lock_guard lock(mu_);
    Restart r;
    for (size_t i = mark; i < events_.size(); ++i) {
      if (!r.found) {
        if (!events_[i].parameters) continue;
        r.found = true;
        r.at = events_[i].at;
        r.keyframe_first = i + 1 < events_.size() && !events_[i + 1].parameters && events_[i + 1].keyframe;
        continue;
      }
      r.packets += !events_[i].parameters;
    }
    return r;
  }

 private:
  void Add(const Event& e) {
    {
      std::lock_guard lock(mu_);
      events_.push_back(e);
      packets_ += !e.parameters;
    }
    changes_.Notify();
  }

  Changes& changes_;
  std::mutex mu_;
  std::vector<Event> events_;
  uint64_t packets_ = 0;
};

// The candidate's laptop: joins, then pushes the camera's tile stream at 15 frames a second
// straight to examd. When the push breaks (examd gone) it joins again and starts a new
// stream on the next keyframe, with its parameters, as the exam client does.
class Laptop {
 public:
  Laptop(int port, backend::DemoInfo demo, Changes& changes) : demo_(std::move(demo)), changes_(changes) {
    grpc::ChannelArguments args;
    // Its own subchannel and short reconnect delays: back within a second of examd.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 300);
    stub_ = v1::CandidateService::NewStub(
        grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(), args));
    thread_ = std::thread([this] { Run(); });
  }
  ~Laptop() { Stop(); }

  void Stop() {
    stop_ = true;
    {
      std::lock_guard lock(mu_);
      if (ctx_) ctx_->TryCancel();
    }
    if (thread_.joinable()) thread_.join();
  }
  int joins() const { return joins_.load(); }
  uint64_t pushed() const { return pushed_.load(); }
  int64_t session_id() const { return session_id_.load(); }

 private:
  void Run() {
    const auto& loop = media::GetLiveLoop(media::LoopTrack::kCamera, media::LoopQuality::kTile);
    const auto frame_time = std::chrono::microseconds(1'000'000 / loop.fps);
    int64_t frame = 0;
    while (!stop_) {
      v1::JoinRequest join;
      join.set_exam_id(demo_.exam_id);
      join.set_registration_no(demo_.registration_nos.at(0));
      join.set_access_code(demo_.access_code);
      join.set_device(v1::DEVICE_KIND_LAPTOP);
      join.set_device_model("ThinkPad X1");
      v1::JoinResponse joined;
      {
        grpc::ClientContext ctx;
        ctx.set_wait_for_ready(true);  // examd may be restarting
        ctx.set_deadline(std::chrono::system_clock::now() + 2s);
        if (!stub_->Join(&ctx, join, &joined).ok()) continue;
      }
      session_id_ = joined.session().id();
      ++joins_;
      changes_.Notify();

      auto ctx = std::make_shared<grpc::ClientContext>();
      ctx->AddMetadata("authorization", "Bearer " + joined.token());
      {
        std::lock_guard lock(mu_);
        ctx_ = ctx;
      }
      v1::PushMediaResponse response;
      auto writer = stub_->PushMedia(ctx.get(), &response);
      // A new stream starts on a keyframe.
      frame = (frame + loop.keyint - 1) / loop.keyint * loop.keyint;
      bool first = true;
      auto next_at = Steady::now();
      while (!stop_) {
        v1::PushMediaRequest req;
        req.set_track(v1::TRACK_KIND_CAMERA);
        req.set_quality(v1::QUALITY_TILE);
        media::FillLoopPacket(loop, frame, first, req.mutable_packet());
        first = false;
        if (!writer->Write(req)) break;
        ++frame;
        ++pushed_;
        // The camera's frame rate.
        next_at += frame_time;
        std::this_thread::sleep_until(next_at);
      }
      if (stop_) ctx->TryCancel();
      else writer->WritesDone();
      writer->Finish();
      std::lock_guard lock(mu_);
      ctx_.reset();
    }
  }

  backend::DemoInfo demo_;
  Changes& changes_;
  std::unique_ptr<v1::CandidateService::Stub> stub_;
  std::atomic<bool> stop_{false};
  std::atomic<int> joins_{0};
  std::atomic<uint64_t> pushed_{0};
  std::atomic<int64_t> session_id_{0};
  std::mutex mu_;
  std::shared_ptr<grpc::ClientContext> ctx_;  // the push in progress, to cancel on Stop()
  std::thread thread_;
};

class LiveFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.File("examd.db");
    // Seed the demo in-process for its exam, registration numbers and access code, then
    // serve the file with examd.
    std::string error;
    ASSERT_TRUE(SeedDemoDatabase(db_, 4, 1, &demo_, &error)) << error;
    examd_ = std::make_unique<ExamdProcess>(EXAMD_BINARY, db_, dir_.File("examd.log"));
    port_ = examd_->Start(0);
    ASSERT_GT(port_, 0) << "examd did not start";
    proxy_ = std::make_unique<FaultProxy>(port_);

    laptop_ = std::make_unique<Laptop>(port_, demo_, changes_);
    ASSERT_TRUE(changes_.Await([&] { return laptop_->joins() > 0; })) << "the laptop could not join";

    // The console, through the proxy: short timers so that a fault is noticed and healed in
    // seconds (the client's idle timeout stays above the backend's 2 s heartbeat).
    net::ClientOptions o;
    o.address = proxy_->address();
    o.username = "admin";
    o.password = "demo";
    o.call_timeout = 1s;
    o.backoff_initial = 100ms;
    o.backoff_max = 400ms;
    o.stream_idle_timeout = 3500ms;
    o.on_change = changes_.Callback();
    client_ = std::make_unique<net::BackendClient>(o);
    client_->Start();
    ASSERT_TRUE(changes_.Await([&] { return !client_->AccessToken().empty(); })) << client_->Status().message;

    // The camera sends a keyframe every second, so 1.5 s of nothing is a dead call.
    net::LiveFeed::Options fo;
    fo.backoff_initial = 200ms;
    fo.backoff_max = 1000ms;
    fo.idle_timeout = 1500ms;
    sink_ = std::make_unique<RecordingSink>(changes_);
    feed_ = std::make_unique<net::LiveFeed>(*client_, *sink_, fo);
    key_ = net::LiveStreamKey{laptop_->session_id(), v1::TRACK_KIND_CAMERA, v1::QUALITY_TILE};
    feed_->Want({key_});
    // Healthy first: the tile is live and a couple of seconds of video arrived.
    ASSERT_TRUE(changes_.Await([&] { return Stream().connected && sink_->packets() >= 30; }))
        << "no live video before any fault: " << Stream().last_error;
    EXPECT_EQ(Stream().calls, 1);
    EXPECT_EQ(sink_->ParametersSince(0), 1u);
  }

  void TearDown() override {
    if (feed_) feed_->Stop();
    if (client_) client_->Stop();
    if (laptop_) laptop_->Stop();
    if (proxy_) proxy_->Stop();
    if (examd_) examd_->Kill(SIGTERM);
  }

  net::LiveStreamStatus Stream() {
    const auto all = feed_->Statuses();
    const auto it = all.find(key_);
    return it == all.end() ? net::LiveStreamStatus{} : it->second;
  }
  // Cut off, and saying so: no call delivering, a reason, and the feed has tried again.
  bool CutOffAndSaysSo(const net::LiveStreamStatus& before) {
    const auto s = Stream();
    return !s.connected && !s.last_error.empty() && s.calls > before.calls;
  }
  // Healed: a call after the fault delivers, and it began as a new stream does.
  bool Recovered(const net::LiveStreamStatus& before, size_t mark, uint64_t packets = 15) {
    const auto s = Stream();
    const auto r = sink_->FirstRestartSince(mark);
    return s.connected && s.calls > before.calls && r.found && r.packets >= packets &&
           s.messages >= before.messages + packets;
  }
  // What must hold once healed: the new stream's first message carried the parameters and
  // a keyframe, the count went on rising, and the reason the cut call ended is kept.
  void ExpectNewStream(const net::LiveStreamStatus& before, size_t mark) {
    const auto s = Stream();
    const auto r = sink_->FirstRestartSince(mark);
    ASSERT_TRUE(r.found);
    EXPECT_TRUE(r.keyframe_first) << "the new stream did not start on a keyframe";
    EXPECT_GT(s.calls, before.calls);
    EXPECT_GT(s.messages, before.messages);
    EXPECT_TRUE(s.connected);
    EXPECT_FALSE(s.last_error.empty());
    EXPECT_GT(s.last_message_at, before.last_message_at);
  }
  void Figures(const std::string& name, const net::LiveStreamStatus& before, size_t mark, Steady::time_point fault_at,
               Steady::time_point healed_at, const std::string& extra = "") {
    const auto s = Stream();
    const auto r = sink_->FirstRestartSince(mark);
    std::cout << "[ figures ] live " << name << ": calls " << before.calls << " -> " << s.calls << ", messages "
              << before.messages << " -> " << s.messages << ", keyframe-first stream after " << Seconds(r.at - fault_at)
              << " s from the fault (" << Seconds(r.at - healed_at) << " s after the path came back), last_error \""
              << s.last_error << "\"" << extra << "\n";
  }

  TempDir dir_;
  std::string db_;
  backend::DemoInfo demo_;
  std::unique_ptr<ExamdProcess> examd_;
  int port_ = 0;
  std::unique_ptr<FaultProxy> proxy_;
  Changes changes_;
  std::unique_ptr<Laptop> laptop_;
  std::unique_ptr<net::BackendClient> client_;
  std::unique_ptr<RecordingSink> sink_;
  std::unique_ptr<net::LiveFeed> feed_;
  net::LiveStreamKey key_;
};

// Three resets in a row, each while the laptop goes on filming: every time the wall's call
// fails, a new one is opened and the video comes back as a new stream.
TEST_F(LiveFaultTest, EveryConnectionResetReopensTheWatchOnAKeyframe) {
  const auto first = Stream();
  const size_t first_mark = sink_->Mark();
  const auto first_fault = Steady::now();
  double slowest = 0;
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("reset " + std::to_string(round));
    const auto before = Stream();
    const size_t mark = sink_->Mark();
    const uint64_t accepted = proxy_->accepted();
    proxy_->DropAll();
    const auto reset_at = Steady::now();
    ASSERT_TRUE(changes_.Await([&] { return Recovered(before, mark); }, 20s))
        << "calls " << Stream().calls << ", last_error " << Stream().last_error;
    ExpectNewStream(before, mark);
    slowest = std::max(slowest, Seconds(sink_->FirstRestartSince(mark).at - reset_at));
    EXPECT_GT(proxy_->accepted(), accepted) << "healed without a new connection?";
  }
  EXPECT_GE(Stream().calls, first.calls + 3);
  // One new stream per reset, each its parameters once (a call that failed before it
  // delivered anything sends none).
  EXPECT_GE(sink_->ParametersSince(first_mark), 3u);
  EXPECT_LE(sink_->ParametersSince(first_mark), static_cast<uint64_t>(Stream().calls - first.calls));
  Figures("reset x3", first, first_mark, first_fault, first_fault,
          ", slowest of the three " + std::to_string(slowest) + " s, proxy connections " +
              std::to_string(proxy_->accepted()));
}

// No byte moves and nothing closes: only the feed's idle timeout can tell. It must cancel
// the silent call, say why, and keep trying; once the path moves again, video is back.
TEST_F(LiveFaultTest, AStalledPathIsNoticedByTheIdleTimeoutAndTheWatchReopens) {
  const auto before = Stream();
  const size_t mark = sink_->Mark();
  proxy_->Stall(true);
  const auto stalled_at = Steady::now();
  ASSERT_TRUE(changes_.Await([&] { return CutOffAndSaysSo(before); }, 20s, kStatusPoll))
      << "the silent call was not noticed: calls " << Stream().calls << ", connected " << Stream().connected;
  const auto noticed_at = Steady::now();
  EXPECT_GE(noticed_at - stalled_at, 1s) << "noticed before the idle timeout could have run out";
  EXPECT_EQ(Stream().last_error.rfind("no media", 0), 0u) << Stream().last_error;
  // Hold it past two idle timeouts: still honest about being cut off, and nothing new came.
  std::this_thread::sleep_until(stalled_at + 3500ms);
  EXPECT_FALSE(Stream().connected);
  EXPECT_FALSE(sink_->FirstRestartSince(mark).found);
  const int calls_while_stalled = Stream().calls;

  proxy_->Stall(false);
  const auto healed_at = Steady::now();
  ASSERT_TRUE(changes_.Await([&] { return Recovered(before, mark); }, 20s))
      << "calls " << Stream().calls << ", last_error " << Stream().last_error;
  ExpectNewStream(before, mark);
  Figures("stall 3.5 s", before, mark, stalled_at, healed_at,
          ", noticed after " + std::to_string(Seconds(noticed_at - stalled_at)) + " s, calls while stalled " +
              std::to_string(calls_while_stalled));
}

// The connection in use freezes for good and nothing closes it; a new one would work. The
// feed's idle timeout cancels the silent calls, the client's keepalive gives up on the
// connection, and the next call goes over a new one.
TEST_F(LiveFaultTest, AConnectionLeftHalfOpenIsAbandonedAndTheWatchReopens) {
  const auto before = Stream();
  const size_t mark = sink_->Mark();
  const uint64_t accepted = proxy_->accepted();
  proxy_->HalfOpenAll();
  const auto frozen_at = Steady::now();
  ASSERT_TRUE(changes_.Await([&] { return CutOffAndSaysSo(before); }, 20s, kStatusPoll))
      << "the silent call was not noticed: calls " << Stream().calls << ", connected " << Stream().connected;
  const auto noticed_at = Steady::now();
  EXPECT_FALSE(Stream().last_error.empty());
  ASSERT_TRUE(changes_.Await([&] { return Recovered(before, mark); }, 30s))
      << "calls " << Stream().calls << ", last_error " << Stream().last_error;
  ExpectNewStream(before, mark);
  EXPECT_GT(proxy_->accepted(), accepted) << "healed without a new connection?";
  Figures("half-open", before, mark, frozen_at, frozen_at,
          ", noticed after " + std::to_string(Seconds(noticed_at - frozen_at)) + " s, proxy connections " +
              std::to_string(proxy_->accepted()));
}

// examd dies with SIGKILL: the wall's call fails, and so does every call until it is back.
// Restarted on its port and database, with an empty relay: the laptop joins again and
// pushes a new stream, and the wall's next call gets it from its parameters and keyframe.
TEST_F(LiveFaultTest, ABackendKilledWithSigkillAndRestartedIsWatchedAgain) {
  const auto before = Stream();
  const size_t mark = sink_->Mark();
  const int joins = laptop_->joins();
  examd_->Kill(SIGKILL);
  const auto killed_at = Steady::now();
  ASSERT_TRUE(changes_.Await([&] { return CutOffAndSaysSo(before); }, 20s, kStatusPoll))
      << "calls " << Stream().calls << ", connected " << Stream().connected;
  const std::string error_while_dead = Stream().last_error;
  EXPECT_FALSE(sink_->FirstRestartSince(mark).found);

  ASSERT_EQ(examd_->Start(port_), port_) << "examd did not come back on its port";
  const auto restarted_at = Steady::now();
  ASSERT_TRUE(changes_.Await([&] { return laptop_->joins() > joins; }, 20s)) << "the laptop did not join again";
  ASSERT_TRUE(changes_.Await([&] { return Recovered(before, mark); }, 30s))
      << "calls " << Stream().calls << ", last_error " << Stream().last_error;
  ExpectNewStream(before, mark);
  Figures("sigkill", before, mark, killed_at, restarted_at,
          ", error while dead \"" + error_while_dead + "\", laptop joins " + std::to_string(laptop_->joins()) +
              ", packets pushed " + std::to_string(laptop_->pushed()));
}

}  // namespace
}  // namespace exam::testing
