// BackendClient against a real ExamServer on loopback with a SQLite file in a temp dir:
// sign-in, the directory snapshot, the change feed, resuming after the backend restarts,
// and refused credentials.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <thread>

#include "backend/server.h"
#include "temp_dir.h"
#include "exam/v1/candidate.grpc.pb.h"
#include "net/backend_client.h"

namespace exam::net {
namespace {

namespace v1 = exam::v1;
using namespace std::chrono_literals;

// Polls `done` until it holds or `timeout` passes; the tests wait on conditions, not time.
bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout = 15s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return done();
}


// A candidate's laptop, driving the backend through CandidateService so that events happen.
class CandidateDevice {
 public:
  explicit CandidateDevice(const std::string& address)
      : stub_(v1::CandidateService::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))) {}

  grpc::Status Join(const backend::DemoInfo& demo, const std::string& registration_no, v1::DeviceKind device) {
    v1::JoinRequest request;
    request.set_exam_id(demo.exam_id);
    request.set_registration_no(registration_no);
    request.set_access_code(demo.access_code);
    request.set_device(device);
    request.set_device_model(device == v1::DEVICE_KIND_LAPTOP ? "ThinkPad X1" : "Xiaomi MI 5");
    v1::JoinResponse response;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    grpc::Status s = stub_->Join(&ctx, request, &response);
    if (s.ok()) token_ = response.token();
    return s;
  }

  grpc::Status ReportStage(v1::Stage stage) {
    v1::ReportStageRequest request;
    request.set_idempotency_key("stage-" + std::to_string(stage) + "-" + token_.substr(0, 12));
    request.set_stage(stage);
    v1::Session response;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    ctx.AddMetadata("authorization", "Bearer " + token_);
    return stub_->ReportStage(&ctx, request, &response);
  }

 private:
  std::unique_ptr<v1::CandidateService::Stub> stub_;
  std::string token_;
};

class BackendClientTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer("127.0.0.1:0"); }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  void StartServer(const std::string& listen) {
    backend::ServerOptions options;
    options.db_path = dir_.File("exam.db");
    options.listen = listen;
    options.seed_demo = true;
    options.demo_candidates = 12;
    options.demo_review_sessions = 0;  // only the running exam: the counts below are its sessions
    std::string error;
    server_ = backend::ExamServer::Start(options, &error);
    ASSERT_NE(server_, nullptr) << error;
    address_ = server_->address();
    demo_ = server_->demo();
  }

  ClientOptions Options(const std::string& user = "admin", const std::string& password = "demo") const {
    ClientOptions o;
    o.address = address_;
    o.username = user;
    o.password = password;
    o.call_timeout = 2s;
    return o;
  }

  static bool Ready(const BackendClient& client) {
    return client.Status().state == ConnectionState::kOnline && client.Snapshot()->loaded;
  }

  // Every session with its version, to compare two clients' views.
  static std::map<int64_t, int64_t> Versions(const DirectorySnapshot& snap) {
    std::map<int64_t, int64_t> out;
    for (const auto& s : snap.sessions) out[s->id()] = s->version();
    return out;
  }

  exam::testing::TempDir dir_;
  std::unique_ptr<backend::ExamServer> server_;
  std::string address_;
  backend::DemoInfo demo_;
};

TEST_F(BackendClientTest, SignsInLoadsTheDirectoryAndFollowsEvents) {
  BackendClient client(Options());
  client.Start();
  ASSERT_TRUE(WaitFor([&] { return Ready(client); })) << client.Status().message;

  const ConnectionStatus status = client.Status();
  EXPECT_FALSE(status.display_name.empty());
  EXPECT_NE(std::find(status.roles.begin(), status.roles.end(), v1::ROLE_ADMIN), status.roles.end());
  EXPECT_TRUE(status.clock_known);
  EXPECT_GT(status.backend_now_unix_ms, 0);

  auto snap = client.Snapshot();
  ASSERT_TRUE(snap->exams);
  ASSERT_EQ(snap->exams->size(), 1u);
  EXPECT_EQ(snap->exams->front().id(), demo_.exam_id);
  ASSERT_EQ(snap->sessions.size(), 12u);
  int in_rooms = 0;
  for (const auto& room : snap->room_summaries) in_rooms += room.sessions;
  EXPECT_EQ(in_rooms, 12);
  int staged = 0;
  for (int c : snap->by_stage) staged += c;
  EXPECT_EQ(staged, 12);

  // Three candidates sign in their laptops; one also reports its device check.
  CandidateDevice first(address_);
  ASSERT_TRUE(first.Join(demo_, demo_.registration_nos[0], v1::DEVICE_KIND_LAPTOP).ok());
  for (int i = 1; i < 3; ++i) {
    CandidateDevice device(address_);
    ASSERT_TRUE(device.Join(demo_, demo_.registration_nos[i], v1::DEVICE_KIND_LAPTOP).ok());
  }
  ASSERT_TRUE(first.ReportStage(v1::STAGE_DEVICE_CHECK).ok());

  ASSERT_TRUE(WaitFor([&] {
    auto s = client.Snapshot();
    const auto* session = s->sessions.empty() ? nullptr : s->sessions.front().get();
    return session != nullptr && session->stage() == v1::STAGE_DEVICE_CHECK && client.Status().events_received >= 4;
  }));
  snap = client.Snapshot();
  const auto* joined = snap->sessions.front().get();
  ASSERT_GT(joined->devices_size(), 0);
  EXPECT_TRUE(joined->devices(0).online());
  EXPECT_EQ(snap->by_stage[v1::STAGE_DEVICE_CHECK], 1);

  const ConnectionStatus after = client.Status();
  EXPECT_EQ(after.last_seq, snap->last_seq);
  EXPECT_GE(after.event_lag_ms, 0.0);
  EXPECT_LT(after.event_lag_ms, 5000.0);
  EXPECT_EQ(after.duplicates_ignored, 0u);

  const auto events = client.RecentEvents();
  ASSERT_GE(events.size(), 4u);
  for (size_t i = 1; i < events.size(); ++i) EXPECT_EQ(events[i].seq, events[i - 1].seq + 1);
  EXPECT_EQ(events.back().kind, v1::EVENT_KIND_STAGE_CHANGED);
  EXPECT_EQ(events.back().stage, core::Stage::kDeviceCheck);

  client.Stop();
  EXPECT_EQ(client.Status().state, ConnectionState::kStopped);
}

TEST_F(BackendClientTest, ResumesAfterTheBackendRestartsWithoutGapsOrDuplicates) {
  BackendClient client(Options());
  client.Start();
  ASSERT_TRUE(WaitFor([&] { return Ready(client); })) << client.Status().message;

  for (int i = 0; i < 4; ++i) {
    CandidateDevice device(address_);
    ASSERT_TRUE(device.Join(demo_, demo_.registration_nos[i], v1::DEVICE_KIND_LAPTOP).ok());
  }
  ASSERT_TRUE(WaitFor([&] { return client.Status().events_received >= 4; }));
  const int64_t seq_before = client.Status().last_seq;

  // Restart the backend on the same database and port.
  const int port = server_->port();
  server_->Shutdown();
  server_.reset();
  ASSERT_TRUE(WaitFor([&] { return client.Status().state == ConnectionState::kReconnecting; }))
      << ConnectionStateName(client.Status().state);
  StartServer("127.0.0.1:" + std::to_string(port));

  // Changes made while the console was away, then after it is back.
  for (int i = 4; i < 8; ++i) {
    CandidateDevice device(address_);
    ASSERT_TRUE(device.Join(demo_, demo_.registration_nos[i], v1::DEVICE_KIND_LAPTOP).ok());
  }
  ASSERT_TRUE(WaitFor([&] { return Ready(client) && client.Status().reconnects >= 1; }, 20s))
      << client.Status().message;
  CandidateDevice late(address_);
  ASSERT_TRUE(late.Join(demo_, demo_.registration_nos[8], v1::DEVICE_KIND_LAPTOP).ok());

  // A second console that loads everything fresh is the reference.
  BackendClient reference(Options());
  reference.Start();
  ASSERT_TRUE(WaitFor([&] { return Ready(reference); }));
  const int64_t head = reference.Snapshot()->last_seq;
  ASSERT_GT(head, seq_before);
  ASSERT_TRUE(WaitFor([&] { return client.Status().last_seq >= head; }));

  const ConnectionStatus status = client.Status();
  EXPECT_EQ(status.last_seq, head);
  EXPECT_EQ(status.duplicates_ignored, 0u);
  const auto events = client.RecentEvents();
  ASSERT_FALSE(events.empty());
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_EQ(events[i].seq, events[i - 1].seq + 1) << "gap or duplicate after seq " << events[i - 1].seq;
  }
  EXPECT_EQ(events.back().seq, head);
  EXPECT_EQ(Versions(*client.Snapshot()), Versions(*reference.Snapshot()));
}

TEST_F(BackendClientTest, SignsInAgainAndReloadsWhenTheBackendLostItsDatabase) {
  BackendClient client(Options());
  client.Start();
  ASSERT_TRUE(WaitFor([&] { return Ready(client); }));
  for (int i = 0; i < 6; ++i) {
    CandidateDevice device(address_);
    ASSERT_TRUE(device.Join(demo_, demo_.registration_nos[i], v1::DEVICE_KIND_LAPTOP).ok());
  }
  ASSERT_TRUE(WaitFor([&] { return client.Status().events_received >= 6; }));

  // Same port, fresh database: our token is unknown there (UNAUTHENTICATED, so the client
  // signs in again) and our last seq is ahead of the new log (so it loads everything again).
  const int port = server_->port();
  server_->Shutdown();
  server_.reset();
  std::filesystem::remove(dir_.File("exam.db"));
  StartServer("127.0.0.1:" + std::to_string(port));

  BackendClient reference(Options());
  reference.Start();
  ASSERT_TRUE(WaitFor([&] { return Ready(reference); }));
  ASSERT_TRUE(WaitFor([&] {
    return Ready(client) && client.Status().last_seq == reference.Snapshot()->last_seq &&
           Versions(*client.Snapshot()) == Versions(*reference.Snapshot());
  }, 20s)) << client.Status().message;
}

TEST_F(BackendClientTest, DroppedStreamResumesFromTheLastSeq) {
  BackendClient client(Options());
  client.Start();
  ASSERT_TRUE(WaitFor([&] { return Ready(client); }));
  for (int round = 0; round < 3; ++round) {
    const int reconnects = client.Status().reconnects;
    client.DropStream();
    CandidateDevice device(address_);
    ASSERT_TRUE(device.Join(demo_, demo_.registration_nos[round], v1::DEVICE_KIND_EVIDENCE_PHONE).ok());
    ASSERT_TRUE(WaitFor([&] { return Ready(client) && client.Status().reconnects > reconnects; }));
  }
  ASSERT_TRUE(WaitFor([&] { return client.Status().events_received >= 3; }));
  const auto events = client.RecentEvents();
  for (size_t i = 1; i < events.size(); ++i) EXPECT_EQ(events[i].seq, events[i - 1].seq + 1);
  EXPECT_EQ(client.Status().duplicates_ignored, 0u);
}

TEST_F(BackendClientTest, WrongPasswordEndsInAuthFailedUntilNewCredentials) {
  BackendClient client(Options("admin", "not-the-password"));
  client.Start();
  ASSERT_TRUE(WaitFor([&] { return client.Status().state == ConnectionState::kAuthFailed; }))
      << ConnectionStateName(client.Status().state);
  EXPECT_FALSE(client.Status().message.empty());
  EXPECT_FALSE(client.Snapshot()->loaded);

  client.SignIn("admin", "demo");
  ASSERT_TRUE(WaitFor([&] { return Ready(client); })) << client.Status().message;
  EXPECT_EQ(client.Snapshot()->sessions.size(), 12u);
}

TEST_F(BackendClientTest, WithoutCredentialsWaitsSignedOut) {
  BackendClient client(Options("", ""));
  client.Start();
  ASSERT_TRUE(WaitFor([&] { return client.Status().state == ConnectionState::kSignedOut; }));
  client.SignIn("proctor1", "demo");
  ASSERT_TRUE(WaitFor([&] { return Ready(client); })) << client.Status().message;
  // A proctor sees only the assigned room.
  const auto snap = client.Snapshot();
  ASSERT_FALSE(snap->sessions.empty());
  for (const auto& s : snap->sessions) EXPECT_EQ(s->room_id(), snap->sessions.front()->room_id());
}

TEST_F(BackendClientTest, StopIsPromptWhileTheBackendIsUnreachable) {
  // A port nobody listens on: bind, read the port, close.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);

  ClientOptions options = Options();
  options.address = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  options.call_timeout = 10s;
  BackendClient client(options);
  client.Start();
  ASSERT_TRUE(WaitFor([&] {
    const auto state = client.Status().state;
    return state == ConnectionState::kConnecting && !client.Status().message.empty();
  }));
  const auto t0 = std::chrono::steady_clock::now();
  client.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_EQ(client.Status().state, ConnectionState::kStopped);
}

TEST_F(BackendClientTest, StopIsPromptWhileFollowingEvents) {
  BackendClient client(Options());
  client.Start();
  ASSERT_TRUE(WaitFor([&] { return Ready(client); }));
  const auto t0 = std::chrono::steady_clock::now();
  client.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
}

}  // namespace
}  // namespace exam::net
