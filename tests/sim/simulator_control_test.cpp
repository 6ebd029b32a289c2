// The simulator's own behaviour against the real backend: stopping, refusing to go on with
// a wrong access code or without a backend, and many candidates on few threads.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <iostream>
#include <map>

#include "backend/sim/simulator.h"
#include "sim_backend_support.h"

namespace exam::sim {
namespace {

namespace v1 = exam::v1;
using namespace std::chrono_literals;
using exam::testing::DemoBackend;
using exam::testing::PollUntil;

// A loopback port nothing listens on: bound, then released.
int ClosedLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

TEST(SimulatorControl, StopIsPrompt) {
  DemoBackend backend(300, 1);  // real time: nothing ends for half an hour
  ASSERT_TRUE(backend.Start());
  auto sim = std::make_unique<CandidateSimulator>(backend.SimulatorFor(5));
  sim->Start();
  ASSERT_TRUE(PollUntil([&] { return sim->Stats().joined > 100; }, 20s)) << sim->Stats().joined;
  EXPECT_FALSE(sim->Finished());
  const auto t0 = std::chrono::steady_clock::now();
  sim->Stop();
  sim.reset();
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, 2s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
}

TEST(SimulatorControl, WrongAccessCodeEndsEveryone) {
  DemoBackend backend(50, 1);
  ASSERT_TRUE(backend.Start());
  auto o = backend.SimulatorFor(1);
  o.access_code = "wrong";
  CandidateSimulator sim(o);
  sim.Start();
  ASSERT_TRUE(PollUntil([&] { return sim.Finished(); }, 20s));
  const auto st = sim.Stats();
  EXPECT_EQ(st.joined, 0);
  EXPECT_GT(st.failed, 0);
  EXPECT_EQ(st.rpc_errors, st.failed);  // one refused sign-in per candidate who tried, no retries
  for (const auto& s : backend.Sessions()) EXPECT_EQ(s.devices_size(), 0) << s.registration_no();
}

TEST(SimulatorControl, UnreachableBackendDoesNotHang) {
  const int port = ClosedLoopbackPort();
  ASSERT_NE(port, 0);
  SimulatorOptions o;
  o.address = "127.0.0.1:" + std::to_string(port);
  o.exam_id = 1;
  o.access_code = "x";
  o.registration_nos = {"A1", "A2", "A3"};
  o.rpc_timeout_ms = 200;
  CandidateSimulator sim(o);
  sim.Start();
  ASSERT_TRUE(PollUntil([&] { return sim.Stats().rpc_errors > 0; }, 20s));
  const auto t0 = std::chrono::steady_clock::now();
  sim.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_EQ(sim.Stats().joined, 0);
}

// Many candidates on two workers: everyone who is due signs in and moves on. (The
// 2,000-candidate figure is measured by tests/bench/event_fanout_bench.cpp.)
TEST(SimulatorControl, ThreeHundredCandidatesOnTwoWorkers) {
  DemoBackend backend(300, 60);
  ASSERT_TRUE(backend.Start());
  auto o = backend.SimulatorFor(77, 2);
  CandidateSimulator sim(o);
  int due = 0;
  for (const auto& p : sim.Plans())
    due += p.attendance == Attendance::kOnTime || p.attendance == Attendance::kStallsBeforeEnter;
  const auto t0 = std::chrono::steady_clock::now();
  sim.Start();
  EXPECT_TRUE(PollUntil([&] { return sim.Stats().joined == due; }, 30s)) << sim.Stats().joined << " of " << due;
  const auto all_joined = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(PollUntil([&] { return sim.Stats().stage_reports > 2 * due; }, 30s)) << sim.Stats().stage_reports;
  const auto st = sim.Stats();
  sim.Stop();
  std::map<std::string, const CandidatePlan*> plans;
  for (const auto& p : sim.Plans()) plans[p.registration_no] = &p;
  int due_signed_in = 0, past_face_login = 0;
  for (const auto& s : backend.Sessions()) {
    const Attendance a = plans.at(s.registration_no())->attendance;
    if (a == Attendance::kOnTime || a == Attendance::kStallsBeforeEnter) due_signed_in += s.devices_size() > 0;
    if (a == Attendance::kNoShow) {
      EXPECT_EQ(s.devices_size(), 0) << s.registration_no();
    }
    past_face_login += s.stage() > v1::STAGE_FACE_LOGIN;
  }
  EXPECT_EQ(due_signed_in, due);
  EXPECT_GT(past_face_login, 0);
  EXPECT_EQ(st.rpc_errors, 0);
  EXPECT_EQ(st.failed, 0);
  std::cerr << "300 candidates: " << due << " due joined in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(all_joined).count() << " ms; stage reports "
            << st.stage_reports << ", heartbeats " << st.heartbeats << ", past face login " << past_face_login << "\n";
}

}  // namespace
}  // namespace exam::sim
