// Resumable uploads against the real backend on loopback: chunks, refusals, restarts,
// concurrent devices, and support's recovery actions.
#include <google/protobuf/util/time_util.h>

#include <fstream>
#include <thread>

#include "backend_fixture.h"
#include "exam/v1/review.grpc.pb.h"
#include "exam/v1/upload.grpc.pb.h"
#include "exam/v1/audit.grpc.pb.h"

namespace exam::testing {
namespace {

namespace v1 = exam::v1;
using google::protobuf::util::TimeUtil;
using grpc::StatusCode;

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

class UploadTest : public BackendFixture {
 protected:
  v1::CandidateService::Stub& Candidate() {
    if (!candidate_) candidate_ = v1::CandidateService::NewStub(Channel());
    return *candidate_;
  }
  v1::UploadService::Stub& Support() {
    if (!support_) support_ = v1::UploadService::NewStub(Channel());
    return *support_;
  }
  void ResetStubs() {
    candidate_.reset();
    support_.reset();
  }

  grpc::Status Begin(const Device& d, const std::string& name, const std::string& content, v1::UploadStatus* st,
                     v1::TrackKind kind = v1::TRACK_KIND_CAMERA, std::string sha = {}) {
    v1::BeginUploadRequest req;
    req.set_name(name);
    req.set_kind(kind);
    req.set_size(static_cast<int64_t>(content.size()));
    req.set_sha256(sha.empty() ? Sha256Hex(content) : sha);
    auto ctx = Ctx(d.token);
    return Candidate().BeginUpload(ctx.get(), req, st);
  }
  grpc::Status Chunk(const Device& d, int64_t file_id, const std::string& content, int64_t offset, int64_t n,
                     v1::UploadStatus* st, bool corrupt = false) {
    v1::UploadChunkRequest req;
    req.set_file_id(file_id);
    req.set_offset(offset);
    req.set_data(content.substr(static_cast<size_t>(offset), static_cast<size_t>(n)));
    req.set_checksum(Sha256Hex(req.data()));
    if (corrupt) (*req.mutable_data())[0] ^= 0x5a;  // damaged in transit
    auto ctx = Ctx(d.token);
    return Candidate().UploadChunk(ctx.get(), req, st);
  }
  grpc::Status Status(const Device& d, int64_t file_id, v1::UploadStatus* st) {
    v1::GetUploadStatusRequest req;
    req.set_file_id(file_id);
    auto ctx = Ctx(d.token);
    return Candidate().GetUploadStatus(ctx.get(), req, st);
  }
  grpc::Status Commit(const Device& d, int64_t file_id, v1::UploadStatus* st) {
    v1::CommitUploadRequest req;
    req.set_file_id(file_id);
    auto ctx = Ctx(d.token);
    return Candidate().CommitUpload(ctx.get(), req, st);
  }
  // Sends everything from the committed offset on in chunks of `chunk`, then commits.
  void UploadRest(const Device& d, int64_t file_id, const std::string& content, int64_t chunk) {
    v1::UploadStatus st;
    ASSERT_TRUE(Status(d, file_id, &st).ok());
    for (int64_t off = st.committed(); off < static_cast<int64_t>(content.size());) {
      const int64_t n = std::min<int64_t>(chunk, static_cast<int64_t>(content.size()) - off);
      auto s = Chunk(d, file_id, content, off, n, &st);
      ASSERT_TRUE(s.ok()) << s.error_message();
      off = st.committed();
    }
    auto s = Commit(d, file_id, &st);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(st.complete());
  }
  v1::UploadFile GetFile(const std::string& token, int64_t file_id) {
    v1::GetUploadRequest req;
    req.set_file_id(file_id);
    v1::UploadFile f;
    auto ctx = Ctx(token);
    auto s = Support().GetUpload(ctx.get(), req, &f);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return f;
  }
  std::vector<std::string> HistoryKinds(const v1::UploadFile& f) {
    std::vector<std::string> out;
    for (const auto& h : f.history()) out.push_back(h.kind());
    return out;
  }
  void AdvanceClock(core::Duration d) { server_->clock().Advance(d); }

  std::unique_ptr<v1::CandidateService::Stub> candidate_;
  std::unique_ptr<v1::UploadService::Stub> support_;
};

TEST_F(UploadTest, ChunksInOrderLandAsOneVerifiedFile) {
  auto d = JoinCandidate(0);
  const std::string content = RandomBytes(300'000, 1);
  v1::UploadStatus st;
  ASSERT_TRUE(Begin(d, "c0-camera.mp4", content, &st).ok());
  EXPECT_EQ(st.state(), v1::UPLOAD_STATE_RECORDING);  // the session is still running
  EXPECT_EQ(st.committed(), 0);
  UploadRest(d, st.file_id(), content, 64 * 1024);

  const auto f = GetFile(Login("support1"), st.file_id());
  EXPECT_EQ(f.state(), v1::UPLOAD_STATE_COMPLETE);
  EXPECT_EQ(f.committed(), f.size());
  EXPECT_EQ(HistoryKinds(f), (std::vector<std::string>{"announced", "started", "complete"}));
  // The bytes on disk are the bytes sent.
  const auto complete_dir = std::filesystem::path(options_.db_path + ".media") / "complete";
  ASSERT_TRUE(std::filesystem::exists(complete_dir));
  int found = 0;
  for (const auto& e : std::filesystem::directory_iterator(complete_dir)) {
    ++found;
    EXPECT_EQ(Sha256Hex(ReadAll(e.path())), Sha256Hex(content));
  }
  EXPECT_EQ(found, 1);
  // Announcing again returns the same, complete file.
  v1::UploadStatus again;
  ASSERT_TRUE(Begin(d, "c0-camera.mp4", content, &again).ok());
  EXPECT_EQ(again.file_id(), st.file_id());
  EXPECT_TRUE(again.complete());
}

TEST_F(UploadTest, BadChunksAreRefusedAndDuplicatesAreHarmless) {
  auto d = JoinCandidate(0);
  const std::string content = RandomBytes(100'000, 2);
  v1::UploadStatus st;
  ASSERT_TRUE(Begin(d, "c0-screen.mp4", content, &st, v1::TRACK_KIND_SCREEN).ok());
  const int64_t id = st.file_id();

  auto s = Chunk(d, id, content, 0, 10'000, &st, /*corrupt=*/true);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("checksum"), std::string::npos) << s.error_message();
  ASSERT_TRUE(Status(d, id, &st).ok());
  EXPECT_EQ(st.committed(), 0);

  ASSERT_TRUE(Chunk(d, id, content, 0, 10'000, &st).ok());
  EXPECT_EQ(st.committed(), 10'000);
  s = Chunk(d, id, content, 20'000, 10'000, &st);  // a gap
  EXPECT_EQ(s.error_code(), StatusCode::OUT_OF_RANGE);
  EXPECT_NE(s.error_message().find("10000"), std::string::npos) << s.error_message();
  s = Chunk(d, id, content, 95'000, 5'000, &st);  // the last bytes, long before their turn
  EXPECT_EQ(s.error_code(), StatusCode::OUT_OF_RANGE);

  ASSERT_TRUE(Chunk(d, id, content, 10'000, 10'000, &st).ok());
  ASSERT_TRUE(Chunk(d, id, content, 0, 10'000, &st).ok());  // a retry of old bytes
  EXPECT_EQ(st.committed(), 20'000);
  ASSERT_TRUE(Chunk(d, id, content, 15'000, 10'000, &st).ok());  // overlaps the end
  EXPECT_EQ(st.committed(), 25'000);

  s = Commit(d, id, &st);
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  UploadRest(d, id, content, 30'000);
}

TEST_F(UploadTest, ChunkPastTheAnnouncedSizeIsOutOfRange) {
  auto d = JoinCandidate(0);
  const std::string content = RandomBytes(1000, 3);
  v1::UploadStatus st;
  // Announce 1000 bytes, then send a 2000-byte chunk.
  ASSERT_TRUE(Begin(d, "x.mp4", content, &st).ok());
  const std::string longer = content + content;
  v1::UploadChunkRequest req;
  req.set_file_id(st.file_id());
  req.set_offset(0);
  req.set_data(longer);
  req.set_checksum(Sha256Hex(longer));
  auto ctx = Ctx(d.token);
  EXPECT_EQ(Candidate().UploadChunk(ctx.get(), req, &st).error_code(), StatusCode::OUT_OF_RANGE);
}

TEST_F(UploadTest, WholeFileMismatchRestartsFromZero) {
  auto d = JoinCandidate(0);
  const std::string content = RandomBytes(50'000, 4);
  v1::UploadStatus st;
  ASSERT_TRUE(Begin(d, "bad.mp4", content, &st, v1::TRACK_KIND_CAMERA, std::string(64, 'a')).ok());
  const int64_t id = st.file_id();
  ASSERT_TRUE(Chunk(d, id, content, 0, 50'000, &st).ok());
  auto s = Commit(d, id, &st);
  EXPECT_EQ(s.error_code(), StatusCode::DATA_LOSS);
  ASSERT_TRUE(Status(d, id, &st).ok());
  EXPECT_EQ(st.committed(), 0);
  EXPECT_EQ(st.state(), v1::UPLOAD_STATE_INTERRUPTED);
}

TEST_F(UploadTest, OnlyTheAnnouncingDeviceMayPush) {
  auto laptop = JoinCandidate(0);
  auto phone = JoinCandidate(0, v1::DEVICE_KIND_EVIDENCE_PHONE);
  auto other = JoinCandidate(1);
  const std::string content = RandomBytes(1000, 5);
  v1::UploadStatus st;
  ASSERT_TRUE(Begin(laptop, "a.mp4", content, &st).ok());
  EXPECT_EQ(Chunk(phone, st.file_id(), content, 0, 1000, &st).error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Chunk(other, st.file_id(), content, 0, 1000, &st).error_code(), StatusCode::PERMISSION_DENIED);
}

TEST_F(UploadTest, TwoDevicesOfOneCandidateUploadAtOnce) {
  auto laptop = JoinCandidate(0);
  auto phone = JoinCandidate(0, v1::DEVICE_KIND_EVIDENCE_PHONE);
  const std::string a = RandomBytes(400'000, 6), b = RandomBytes(350'000, 7);
  v1::UploadStatus sa, sb;
  ASSERT_TRUE(Begin(laptop, "cam.mp4", a, &sa).ok());
  ASSERT_TRUE(Begin(phone, "evidence.mp4", b, &sb, v1::TRACK_KIND_EVIDENCE).ok());
  std::thread t1([&] { UploadRest(laptop, sa.file_id(), a, 16 * 1024); });
  std::thread t2([&] { UploadRest(phone, sb.file_id(), b, 16 * 1024); });
  t1.join();
  t2.join();
  const auto token = Login("support1");
  auto fa = GetFile(token, sa.file_id()), fb = GetFile(token, sb.file_id());
  EXPECT_EQ(fa.state(), v1::UPLOAD_STATE_COMPLETE);
  EXPECT_EQ(fb.state(), v1::UPLOAD_STATE_COMPLETE);
  EXPECT_EQ(fb.device(), v1::DEVICE_KIND_EVIDENCE_PHONE);
  EXPECT_EQ(fa.sha256(), Sha256Hex(a));
  EXPECT_EQ(fb.sha256(), Sha256Hex(b));
}

TEST_F(UploadTest, RestartMidUploadResumesFromTheCommittedOffset) {
  auto d = JoinCandidate(0);
  const std::string content = RandomBytes(200'000, 8);
  v1::UploadStatus st;
  ASSERT_TRUE(Begin(d, "r.mp4", content, &st).ok());
  const int64_t id = st.file_id();
  ASSERT_TRUE(Chunk(d, id, content, 0, 70'000, &st).ok());
  StopServer();
  ResetStubs();
  StartServer();
  ASSERT_TRUE(Status(d, id, &st).ok());
  EXPECT_EQ(st.committed(), 70'000);
  UploadRest(d, id, content, 50'000);
}

TEST_F(UploadTest, QuietUploadIsInterruptedAndResumes) {
  auto d = JoinCandidate(0);
  const std::string content = RandomBytes(20'000, 9);
  v1::UploadStatus st;
  ASSERT_TRUE(Begin(d, "q.mp4", content, &st).ok());
  const int64_t id = st.file_id();
  ASSERT_TRUE(Chunk(d, id, content, 0, 5'000, &st).ok());
  AdvanceClock(core::minutes(3));
  const auto token = Login("support1");
  ASSERT_TRUE(WaitFor([&] { return GetFile(token, id).state() == v1::UPLOAD_STATE_INTERRUPTED; }));
  ASSERT_TRUE(Chunk(d, id, content, 5'000, 5'000, &st).ok());
  auto f = GetFile(token, id);
  EXPECT_EQ(f.state(), v1::UPLOAD_STATE_UPLOADING);
  EXPECT_EQ(HistoryKinds(f), (std::vector<std::string>{"announced", "started", "interrupted", "resumed"}));
}

TEST_F(UploadTest, ReviewListsWhatIsMissing) {
  auto laptop = JoinCandidate(0);
  auto phone = JoinCandidate(0, v1::DEVICE_KIND_EVIDENCE_PHONE);
  const std::string cam = RandomBytes(3000, 11), ev = RandomBytes(5000, 12);
  v1::UploadStatus sc, se;
  ASSERT_TRUE(Begin(laptop, "cam.mp4", cam, &sc).ok());
  ASSERT_TRUE(Begin(phone, "ev.mp4", ev, &se, v1::TRACK_KIND_EVIDENCE).ok());
  UploadRest(laptop, sc.file_id(), cam, 1000);
  ASSERT_TRUE(Chunk(phone, se.file_id(), ev, 0, 2000, &se).ok());

  auto review = v1::ReviewService::NewStub(Channel());
  v1::ListTracksRequest req;
  req.set_session_id(laptop.session_id);
  v1::ListTracksResponse resp;
  auto ctx = Ctx(Login("grader1"));
  auto s = review->ListTracks(ctx.get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(resp.missing_size(), 1);  // the camera is in, the evidence is not
  EXPECT_EQ(resp.missing(0).kind(), v1::TRACK_KIND_EVIDENCE);
  EXPECT_EQ(resp.missing(0).device(), v1::DEVICE_KIND_EVIDENCE_PHONE);
  EXPECT_EQ(resp.missing(0).committed(), 2000);
  EXPECT_EQ(resp.missing(0).size(), 5000);
}

TEST_F(UploadTest, AbnormalRecordingTakesNoChunks) {
  auto d = JoinCandidate(0);
  v1::BeginUploadRequest req;
  req.set_name("broken.mp4");
  req.set_kind(v1::TRACK_KIND_CAMERA);
  req.set_size(100);
  req.set_sha256(std::string(64, '0'));
  req.set_recording_failed(true);
  req.set_failure("camera stopped: storage full");
  v1::UploadStatus st;
  auto ctx = Ctx(d.token);
  ASSERT_TRUE(Candidate().BeginUpload(ctx.get(), req, &st).ok());
  EXPECT_EQ(st.state(), v1::UPLOAD_STATE_ABNORMAL);
  const std::string content(100, 'x');
  EXPECT_EQ(Chunk(d, st.file_id(), content, 0, 100, &st).error_code(), StatusCode::FAILED_PRECONDITION);
  auto f = GetFile(Login("support1"), st.file_id());
  EXPECT_EQ(f.abnormal_reason(), "camera stopped: storage full");
}

class UploadSupportTest : public UploadTest {
 protected:
  // A file part-way through, in a session that has ended.
  void SetUp() override {
    UploadTest::SetUp();
    device_ = JoinCandidate(0);
    content_ = RandomBytes(40'000, 10);
    v1::UploadStatus st;
    ASSERT_TRUE(Begin(device_, "s.mp4", content_, &st).ok());
    file_id_ = st.file_id();
    ASSERT_TRUE(Chunk(device_, file_id_, content_, 0, 10'000, &st).ok());
    token_ = Login("support1");
  }
  grpc::Status Recall(const std::string& key, v1::UploadFile* out, const std::string& token = {}) {
    v1::UploadActionRequest req;
    req.set_idempotency_key(key);
    req.set_file_id(file_id_);
    req.set_note("called the candidate");
    auto ctx = Ctx(token.empty() ? token_ : token);
    return Support().RequestRecall(ctx.get(), req, out);
  }
  grpc::Status Extend(const std::string& key, core::Duration by, const std::string& reason, v1::UploadFile* out) {
    v1::ExtendDeadlineRequest req;
    req.set_idempotency_key(key);
    req.set_file_id(file_id_);
    *req.mutable_extension() = TimeUtil::MillisecondsToDuration(by.count());
    req.set_reason(reason);
    auto ctx = Ctx(token_);
    return Support().ExtendDeadline(ctx.get(), req, out);
  }
  grpc::Status MarkAbnormal(const std::string& key, const std::string& note, bool rerecord, v1::UploadFile* out) {
    v1::UploadActionRequest req;
    req.set_idempotency_key(key);
    req.set_file_id(file_id_);
    req.set_note(note);
    req.set_allow_rerecord(rerecord);
    auto ctx = Ctx(token_);
    return Support().MarkAbnormal(ctx.get(), req, out);
  }
  std::vector<v1::StaffMessage> DeviceMessages() {
    v1::HeartbeatRequest req;
    v1::HeartbeatResponse resp;
    auto ctx = Ctx(device_.token);
    EXPECT_TRUE(Candidate().Heartbeat(ctx.get(), req, &resp).ok());
    return {resp.messages().begin(), resp.messages().end()};
  }

  Device device_;
  std::string content_;
  int64_t file_id_ = 0;
  std::string token_;
};

TEST_F(UploadSupportTest, RecallReachesTheDeviceOnceAndIsAudited) {
  v1::UploadFile f1, f2;
  ASSERT_TRUE(Recall("recall-1", &f1).ok());
  EXPECT_TRUE(f1.recall_requested());
  ASSERT_TRUE(Recall("recall-1", &f2).ok());  // a retry of the same action
  EXPECT_EQ(f1.version(), f2.version());
  int recalls = 0;
  for (const auto& m : DeviceMessages())
    if (m.kind() == "recall" && m.ref_id() == file_id_) ++recalls;
  EXPECT_EQ(recalls, 1);
  auto f = GetFile(token_, file_id_);
  int recall_history = 0;
  for (const auto& h : f.history()) recall_history += h.kind() == "recall" && h.actor() == "support1";
  EXPECT_EQ(recall_history, 1);

  auto audit = v1::AuditService::NewStub(Channel());
  v1::ListAuditRequest areq;
  areq.set_target_prefix("upload/" + std::to_string(file_id_));
  v1::ListAuditResponse aresp;
  auto ctx = Ctx(Login("admin"));
  ASSERT_TRUE(audit->ListAudit(ctx.get(), areq, &aresp).ok());
  ASSERT_EQ(aresp.entries_size(), 1);
  EXPECT_EQ(aresp.entries(0).actor(), "support1");
  EXPECT_EQ(aresp.entries(0).action(), "upload.recall");
  EXPECT_EQ(aresp.entries(0).before().find("recall"), std::string::npos);
  EXPECT_NE(aresp.entries(0).after().find("recall"), std::string::npos);

  // Progress satisfies the recall.
  v1::UploadStatus st;
  ASSERT_TRUE(Chunk(device_, file_id_, content_, 10'000, 10'000, &st).ok());
  EXPECT_FALSE(GetFile(token_, file_id_).recall_requested());
}

TEST_F(UploadSupportTest, ProctorsAndGradersCannotAct) {
  v1::UploadFile f;
  EXPECT_EQ(Recall("p-1", &f, Login("proctor1")).error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Recall("g-1", &f, Login("grader1")).error_code(), StatusCode::PERMISSION_DENIED);
}

TEST_F(UploadSupportTest, DeadlineCountsFromTheEndAndExtendsWithAReason) {
  v1::UploadFile f;
  EXPECT_FALSE(GetFile(token_, file_id_).has_deadline());  // the session still runs
  // End the session: a second interruption ends the exam early, so use the terminate action.
  auto live = v1::LiveService::NewStub(Channel());
  v1::ProctorActionRequest end;
  end.set_idempotency_key(Key());
  end.set_session_id(device_.session_id);
  end.set_kind(v1::PROCTOR_ACTION_KIND_TERMINATE);
  end.set_text("test: end the session");
  v1::ProctorActionResponse end_resp;
  auto ctx = Ctx(Login("proctor1"));
  auto s = live->ProctorAction(ctx.get(), end, &end_resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  f = GetFile(token_, file_id_);
  ASSERT_TRUE(f.has_deadline());
  ASSERT_TRUE(f.has_session_ended_at());
  EXPECT_EQ(TimeUtil::TimestampToMilliseconds(f.deadline()) - TimeUtil::TimestampToMilliseconds(f.session_ended_at()),
            core::Duration(core::hours(2)).count());

  EXPECT_EQ(Extend("e-0", core::minutes(30), " ", &f).error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Extend("e-1", core::hours(13), "phone offline", &f).error_code(), StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(Extend("e-2", core::minutes(30), "手机断网", &f).ok());
  EXPECT_EQ(TimeUtil::TimestampToMilliseconds(f.deadline()) - TimeUtil::TimestampToMilliseconds(f.session_ended_at()),
            core::Duration(core::minutes(150)).count());
  ASSERT_TRUE(Extend("e-2", core::minutes(30), "手机断网", &f).ok());  // replayed, not applied twice
  f = GetFile(token_, file_id_);
  EXPECT_EQ(TimeUtil::DurationToMilliseconds(f.deadline_extension()), core::Duration(core::minutes(30)).count());
}

TEST_F(UploadSupportTest, MarkAbnormalStopsTheUploadAndAllowsARerecord) {
  v1::UploadFile f;
  EXPECT_EQ(MarkAbnormal("a-2", "", false, &f).error_code(), StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(MarkAbnormal("a-3", "camera froze at 10:42", false, &f).ok());
  EXPECT_EQ(f.state(), v1::UPLOAD_STATE_ABNORMAL);
  EXPECT_EQ(f.abnormal_reason(), "camera froze at 10:42");
  EXPECT_FALSE(f.rerecord_allowed());
  v1::UploadStatus st;
  EXPECT_EQ(Chunk(device_, file_id_, content_, 10'000, 10'000, &st).error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(MarkAbnormal("a-4", "again", false, &f).error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Recall("r-1", &f).error_code(), StatusCode::FAILED_PRECONDITION);
  // Later, support allows a re-record: the device is told which file.
  ASSERT_TRUE(MarkAbnormal("a-5", "candidate may record again", true, &f).ok());
  EXPECT_TRUE(f.rerecord_allowed());
  EXPECT_EQ(f.abnormal_reason(), "camera froze at 10:42");  // the first reason stays
  int rerecords = 0;
  for (const auto& m : DeviceMessages()) rerecords += m.kind() == "rerecord" && m.ref_id() == file_id_;
  EXPECT_EQ(rerecords, 1);
}

class UploadNoRerecordTest : public UploadSupportTest {
 protected:
  void Configure(backend::ServerOptions& o) override { o.demo_rerecord_allowed = false; }
};

TEST_F(UploadNoRerecordTest, RerecordNeedsTheExamsPermission) {
  v1::UploadFile f;
  EXPECT_EQ(MarkAbnormal("a-1", "camera froze", true, &f).error_code(), StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(MarkAbnormal("a-2", "camera froze", false, &f).ok());
  EXPECT_FALSE(f.rerecord_allowed());
}

}  // namespace
}  // namespace exam::testing
