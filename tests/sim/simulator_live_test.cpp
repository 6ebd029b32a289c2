// Live media of simulated candidates: with live_media on, a proctor's WatchMedia of a
// candidate who is answering receives the device's packets, starting with parameters and a
// keyframe; streams stop when the sessions end.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdlib>
#include <iostream>
#include <mutex>
#include <thread>

#include "backend/sim/simulator.h"
#include "media_watcher.h"
#include "sim_backend_support.h"

namespace exam::sim {
namespace {

namespace v1 = exam::v1;
using namespace std::chrono_literals;
using exam::testing::DemoBackend;
using exam::testing::PollUntil;
using exam::testing::StaffDesk;

bool Ended(const v1::Session& s) {
  return s.stage() == v1::STAGE_ENDED ||
         (s.outcome() != v1::OUTCOME_UNSPECIFIED && s.outcome() != v1::OUTCOME_IN_PROGRESS);
}

// Reads a WatchMedia call on its own thread.
using exam::testing::MediaWatcher;

TEST(SimulatorLive, AProctorWatchesASimulatedCandidateWhileAnswering) {
  DemoBackend backend(6, 60, core::minutes(10));
  ASSERT_TRUE(backend.Start());
  auto o = backend.SimulatorFor(5, 2);
  o.live_media = true;
  CandidateSimulator sim(o);
  StaffDesk desk(backend);
  sim.Start();

  v1::Session answering;
  ASSERT_TRUE(PollUntil(
      [&] {
        for (const auto& s : backend.Sessions())
          if (s.stage() == v1::STAGE_ANSWERING && !Ended(s)) {
            answering = s;
            return true;
          }
        return false;
      },
      90s, 100ms))
      << "nobody reached answering";

  MediaWatcher camera(backend.channel(), backend.admin_token(), answering.id(), v1::TRACK_KIND_CAMERA);
  MediaWatcher screen(backend.channel(), backend.admin_token(), answering.id(), v1::TRACK_KIND_SCREEN);
  // 15 fps camera, 5 fps screen: a second of each, in real time.
  ASSERT_TRUE(PollUntil([&] { return camera.packets().size() >= 15 && screen.packets().size() >= 5; }, 10s))
      << "camera " << camera.packets().size() << ", screen " << screen.packets().size() << " packets";
  for (const MediaWatcher* w : {&camera, &screen}) {
    const auto packets = w->packets();
    ASSERT_TRUE(packets.front().has_parameters());
    EXPECT_EQ(packets.front().parameters().codec(), "h264");
    EXPECT_EQ(packets.front().parameters().width(), 320);
    EXPECT_TRUE(packets.front().keyframe());
    EXPECT_TRUE(packets.front().has_captured_at());
    for (size_t i = 1; i < packets.size(); ++i) EXPECT_GT(packets[i].pts(), packets[i - 1].pts());
  }
  EXPECT_GT(sim.Stats().live_packets, 0);

  // When every session has ended, nothing is pushed any more.
  ASSERT_TRUE(PollUntil(
      [&] {
        for (const auto& s : backend.Sessions())
          if (!Ended(s)) return false;
        return true;
      },
      120s, 200ms));
  EXPECT_TRUE(PollUntil([&] { return sim.Stats().live_streams_active == 0; }, 10s))
      << sim.Stats().live_streams_active << " streams still open";
  const auto st = sim.Stats();
  std::cerr << "live: " << st.live_streams_opened << " streams, " << st.live_packets << " packets, "
            << st.live_errors << " failed\n";
  sim.Stop();
}

TEST(SimulatorLive, StopIsPromptWhileDevicesPush) {
  DemoBackend backend(4, 60, core::minutes(5));
  ASSERT_TRUE(backend.Start());
  auto o = backend.SimulatorFor(9, 2);
  o.live_media = true;
  CandidateSimulator sim(o);
  StaffDesk desk(backend);
  sim.Start();
  ASSERT_TRUE(PollUntil([&] { return sim.Stats().live_streams_active >= 2 && sim.Stats().live_packets > 30; }, 90s))
      << "no device went live";
  const auto t0 = std::chrono::steady_clock::now();
  sim.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_EQ(sim.Stats().live_streams_active, 0);
}

// Measures the CPU that 64 candidates' live pushing (and its relay) costs, against the same
// exam without it. Opt-in (SIM_LIVE_BENCH=1): it takes about a minute.
TEST(SimulatorLive, CostOfSixtyFourCandidatesPushing) {
  if (!std::getenv("SIM_LIVE_BENCH")) GTEST_SKIP() << "set SIM_LIVE_BENCH=1 to measure";
  auto cpu_s = [] {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  };
  for (bool live : {false, true}) {
    DemoBackend backend(64, 10, core::minutes(3));
    ASSERT_TRUE(backend.Start());
    auto o = backend.SimulatorFor(7, 2);
    o.live_media = live;
    CandidateSimulator sim(o);
    StaffDesk desk(backend);
    sim.Start();
    ASSERT_TRUE(PollUntil(
        [&] {
          int n = 0;
          for (const auto& s : backend.Sessions()) n += s.stage() == v1::STAGE_ANSWERING;
          return n >= 40;
        },
        120s, 200ms));
    const double c0 = cpu_s();
    const auto t0 = std::chrono::steady_clock::now();
    const auto p0 = sim.Stats().live_packets;
    PollUntil([] { return false; }, 10s, 500ms);  // a fixed window to measure over
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = cpu_s() - c0;
    const auto st = sim.Stats();
    std::cerr << (live ? "live media on: " : "live media off: ") << cpu / wall * 100 << "% of one core over "
              << wall << " s; " << st.live_streams_active << " streams open, "
              << (st.live_packets - p0) / wall << " packets/s\n";
    sim.Stop();
  }
}

}  // namespace
}  // namespace exam::sim
