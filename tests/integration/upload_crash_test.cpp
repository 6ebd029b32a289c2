// Kills the real examd binary with SIGKILL again and again while two devices of one candidate
// upload, restarts it on the same database and port, and checks that every upload resumes
// from a committed offset the disk really holds and ends with the announced sha256.
//
// usage: integration_upload_crash_test EXAMD_BINARY
#include <signal.h>

#include <atomic>
#include <fstream>
#include <random>
#include <thread>

#include "backend/store/database.h"
#include "backend_fixture.h"
#include "examd_process.h"

namespace exam::testing {
namespace {

namespace v1 = exam::v1;
std::string g_examd;

struct UploadJob {
  std::string name;
  v1::DeviceKind device;
  v1::TrackKind kind;
  std::string content;
  std::string token;
  int64_t file_id = 0;
  std::atomic<int64_t> committed{0};
  std::atomic<bool> done{false};
  std::string error;
};

// Uploads one file to the end, riding out the backend's deaths: a failed call waits for the
// channel (wait_for_ready) and asks where the file stands before going on.
void RunUpload(std::shared_ptr<grpc::Channel> channel, UploadJob* job, const std::atomic<bool>* give_up) {
  auto stub = v1::CandidateService::NewStub(channel);
  auto ctx = [&] {
    auto c = std::make_unique<grpc::ClientContext>();
    c->AddMetadata("authorization", "Bearer " + job->token);
    c->set_wait_for_ready(true);
    c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return c;
  };
  const int64_t size = static_cast<int64_t>(job->content.size());
  constexpr int64_t kChunk = 128 * 1024;
  bool need_status = true;
  while (!*give_up) {
    v1::UploadStatus st;
    if (job->file_id == 0) {
      v1::BeginUploadRequest req;
      req.set_name(job->name);
      req.set_kind(job->kind);
      req.set_size(size);
      req.set_sha256(Sha256Hex(job->content));
      if (!stub->BeginUpload(ctx().get(), req, &st).ok()) continue;
      job->file_id = st.file_id();
      job->committed = st.committed();
      need_status = false;
    } else if (need_status) {
      v1::GetUploadStatusRequest req;
      req.set_file_id(job->file_id);
      if (!stub->GetUploadStatus(ctx().get(), req, &st).ok()) continue;
      // The backend may only ever be behind what we sent, never ahead of it.
      if (st.committed() > size) job->error = "committed beyond the size";
      job->committed = st.committed();
      need_status = false;
    }
    if (job->committed < size) {
      v1::UploadChunkRequest req;
      req.set_file_id(job->file_id);
      req.set_offset(job->committed);
      req.set_data(job->content.substr(static_cast<size_t>(job->committed),
                                       static_cast<size_t>(std::min(kChunk, size - job->committed))));
      req.set_checksum(Sha256Hex(req.data()));
      if (!stub->UploadChunk(ctx().get(), req, &st).ok()) {
        need_status = true;
        continue;
      }
      job->committed = st.committed();
      continue;
    }
    v1::CommitUploadRequest req;
    req.set_file_id(job->file_id);
    auto s = stub->CommitUpload(ctx().get(), req, &st);
    if (s.ok() && st.complete()) {
      job->done = true;
      return;
    }
    if (s.error_code() == grpc::StatusCode::DATA_LOSS) job->error = "sha256 mismatch after a crash: " + s.error_message();
    need_status = true;
  }
}

TEST(UploadCrash, SigkillAtAnyPointLosesAndCorruptsNothing) {
  ASSERT_FALSE(g_examd.empty());
  TempDir dir;
  const std::string db = (dir.path() / "examd.db").string();
  // Seed the demo exam in-process so we know who the candidates are.
  backend::DemoInfo demo;
  {
    backend::ServerOptions o;
    o.db_path = db;
    o.demo_candidates = 4;
    std::string error;
    auto server = backend::ExamServer::Start(o, &error);
    ASSERT_TRUE(server) << error;
    demo = server->demo();
    server->Shutdown();
  }
  ExamdProcess examd(g_examd, db, (dir.path() / "examd.log").string());
  const int port = examd.Start(0);
  ASSERT_GT(port, 0) << "examd did not start";
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());

  std::vector<std::unique_ptr<UploadJob>> jobs;
  auto add = [&](const char* name, v1::DeviceKind device, v1::TrackKind kind, size_t bytes, uint32_t seed) {
    auto job = std::make_unique<UploadJob>();
    job->name = name;
    job->device = device;
    job->kind = kind;
    job->content = RandomBytes(bytes, seed);
    auto stub = v1::CandidateService::NewStub(channel);
    v1::JoinRequest req;
    req.set_exam_id(demo.exam_id);
    req.set_registration_no(demo.registration_nos[0]);
    req.set_access_code(demo.access_code);
    req.set_device(device);
    v1::JoinResponse resp;
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->Join(&ctx, req, &resp).ok());
    job->token = resp.token();
    jobs.push_back(std::move(job));
  };
  add("camera.mp4", v1::DEVICE_KIND_LAPTOP, v1::TRACK_KIND_CAMERA, 6 << 20, 1);
  add("evidence.mp4", v1::DEVICE_KIND_EVIDENCE_PHONE, v1::TRACK_KIND_EVIDENCE, 5 << 20, 2);

  std::atomic<bool> give_up{false};
  std::vector<std::thread> uploaders;
  for (auto& j : jobs) uploaders.emplace_back(RunUpload, channel, j.get(), &give_up);

  // Kill whenever the uploads have moved on by a random amount: during chunks, between
  // them, during commits. Each restart comes back on the same port and database.
  std::mt19937 rng(7);
  int kills = 0;
  auto total = [&] {
    int64_t n = 0;
    for (auto& j : jobs) n += j->committed;
    return n;
  };
  auto all_done = [&] { return std::all_of(jobs.begin(), jobs.end(), [](auto& j) { return j->done.load(); }); };
  while (!all_done() && kills < 6) {
    const int64_t target = total() + std::uniform_int_distribution<int64_t>(256 << 10, 2 << 20)(rng);
    if (!WaitFor([&] { return total() >= target || all_done(); }, std::chrono::seconds(60))) break;
    if (all_done()) break;
    examd.Kill(SIGKILL);
    ++kills;
    ASSERT_EQ(examd.Start(port), port) << "examd did not come back on its port";
  }
  const bool finished = WaitFor(all_done, std::chrono::seconds(120));
  give_up = true;
  for (auto& t : uploaders) t.join();
  ASSERT_TRUE(finished) << "uploads did not finish after " << kills << " kills";
  EXPECT_GE(kills, 3) << "the uploads finished before enough kills: make the files bigger";

  for (auto& j : jobs) {
    EXPECT_EQ(j->error, "") << j->name;
    // The stored file is exactly what the device had.
    bool found = false;
    for (const auto& e : std::filesystem::directory_iterator(db + ".media/complete")) {
      if (e.path().filename().string().find(j->name) == std::string::npos) continue;
      std::ifstream in(e.path(), std::ios::binary);
      const std::string stored{std::istreambuf_iterator<char>(in), {}};
      EXPECT_EQ(stored.size(), j->content.size()) << j->name;
      EXPECT_EQ(Sha256Hex(stored), Sha256Hex(j->content)) << j->name;
      found = true;
    }
    EXPECT_TRUE(found) << j->name;
  }
  examd.Kill(SIGTERM);
  exam::store::Database check(db);
  EXPECT_EQ(check.IntegrityCheck(), "ok");
  std::cout << "uploads survived " << kills << " SIGKILLs\n";
}

}  // namespace
}  // namespace exam::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc > 1) exam::testing::g_examd = argv[1];
  return RUN_ALL_TESTS();
}
