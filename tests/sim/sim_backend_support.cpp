#include "sim_backend_support.h"

#include <iostream>

#include "exam/v1/auth.grpc.pb.h"

namespace exam::testing {

namespace v1 = exam::v1;
using namespace std::chrono_literals;

bool PollUntil(const std::function<bool()>& done, std::chrono::milliseconds limit, std::chrono::milliseconds every) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(every);
  }
  return true;
}

std::unique_ptr<grpc::ClientContext> StaffContext(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + 10s);
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

// --- DemoBackend ---------------------------------------------------------------------------

DemoBackend::DemoBackend(int candidates, double time_scale, core::Duration start_in, std::chrono::milliseconds tick) {
  options_.db_path = (dir_.path() / "exam.db").string();
  options_.media_dir = (dir_.path() / "media").string();
  if (tick.count() > 0) options_.tick_interval = tick;
  options_.listen = "127.0.0.1:0";
  options_.seed_demo = true;
  options_.demo_candidates = candidates;
  options_.demo_start_in = start_in;
  options_.time_scale = time_scale;
}

DemoBackend::~DemoBackend() { Shutdown(); }

::testing::AssertionResult DemoBackend::Open() {
  std::string err;
  server_ = backend::ExamServer::Start(options_, &err);
  if (!server_) return ::testing::AssertionFailure() << "backend did not start: " << err;
  channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
  admin_token_.clear();
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult DemoBackend::Start() {
  auto started = Open();
  if (started && static_cast<int>(demo().registration_nos.size()) != options_.demo_candidates)
    return ::testing::AssertionFailure() << "demo seeded " << demo().registration_nos.size() << " candidates";
  return started;
}

::testing::AssertionResult DemoBackend::Restart() {
  server_->Shutdown();
  const core::TimePoint stopped_at = server_->clock().Now();
  Shutdown();
  auto started = Open();
  if (!started) return started;
  const core::Duration behind = stopped_at - server_->clock().Now();
  if (behind > core::Duration::zero()) server_->clock().Advance(behind);
  return started;
}

void DemoBackend::Shutdown() {
  if (server_) server_->Shutdown();
  server_.reset();
  channel_.reset();
  admin_token_.clear();
}

const std::string& DemoBackend::admin_token() {
  if (admin_token_.empty()) {
    v1::LoginRequest req;
    req.set_username("admin");
    req.set_password(demo().demo_password);
    v1::LoginResponse resp;
    const auto status = v1::AuthService::NewStub(channel_)->Login(StaffContext("").get(), req, &resp);
    EXPECT_TRUE(status.ok()) << "admin login: " << status.error_message();
    admin_token_ = resp.token();
  }
  return admin_token_;
}

sim::SimulatorOptions DemoBackend::SimulatorFor(uint64_t seed, int worker_threads) const {
  sim::SimulatorOptions o;
  o.address = server_->address();
  o.exam_id = demo().exam_id;
  o.access_code = demo().access_code;
  o.registration_nos = demo().registration_nos;
  o.seed = seed;
  o.time_scale = options_.time_scale;
  o.worker_threads = worker_threads;
  o.upload_speedup = 30;
  // Live media costs CPU at real time whatever the time scale; only tests that watch it
  // turn it on.
  o.live_media = false;
  // One write per line: workers log at the same time.
  if (std::getenv("SIM_TEST_VERBOSE")) o.log = [](const std::string& s) { std::cerr << (s + "\n"); };
  return o;
}

std::vector<v1::Session> DemoBackend::Sessions() {
  v1::ListSessionsRequest req;
  req.set_exam_id(demo().exam_id);
  v1::ListSessionsResponse resp;
  const auto status = v1::ExamService::NewStub(channel_)->ListSessions(StaffContext(admin_token()).get(), req, &resp);
  EXPECT_TRUE(status.ok()) << "ListSessions: " << status.error_message();
  return {resp.sessions().begin(), resp.sessions().end()};
}

std::vector<v1::Appeal> DemoBackend::Appeals() {
  v1::ListAppealsRequest req;
  req.set_exam_id(demo().exam_id);
  v1::ListAppealsResponse resp;
  const auto status = v1::AppealService::NewStub(channel_)->ListAppeals(StaffContext(admin_token()).get(), req, &resp);
  EXPECT_TRUE(status.ok()) << "ListAppeals: " << status.error_message();
  return {resp.appeals().begin(), resp.appeals().end()};
}

std::vector<v1::HelpRequest> DemoBackend::HelpRequests() {
  v1::ListHelpRequestsRequest req;
  req.set_exam_id(demo().exam_id);
  v1::ListHelpRequestsResponse resp;
  const auto status =
      v1::HelpService::NewStub(channel_)->ListHelpRequests(StaffContext(admin_token()).get(), req, &resp);
  EXPECT_TRUE(status.ok()) << "ListHelpRequests: " << status.error_message();
  return {resp.requests().begin(), resp.requests().end()};
}

std::vector<v1::UploadFile> DemoBackend::Uploads(bool incomplete_only) {
  v1::ListUploadsRequest req;
  req.set_exam_id(demo().exam_id);
  req.set_incomplete_only(incomplete_only);
  v1::ListUploadsResponse resp;
  const auto status = v1::UploadService::NewStub(channel_)->ListUploads(StaffContext(admin_token()).get(), req, &resp);
  EXPECT_TRUE(status.ok()) << "ListUploads: " << status.error_message();
  return {resp.files().begin(), resp.files().end()};
}

v1::UploadFile DemoBackend::Upload(int64_t file_id) {
  v1::GetUploadRequest req;
  req.set_file_id(file_id);
  v1::UploadFile resp;
  const auto status = v1::UploadService::NewStub(channel_)->GetUpload(StaffContext(admin_token()).get(), req, &resp);
  EXPECT_TRUE(status.ok()) << "GetUpload " << file_id << ": " << status.error_message();
  return resp;
}

v1::Exam DemoBackend::Exam() {
  v1::ListExamsResponse resp;
  const auto status =
      v1::ExamService::NewStub(channel_)->ListExams(StaffContext(admin_token()).get(), v1::ListExamsRequest(), &resp);
  EXPECT_TRUE(status.ok()) << "ListExams: " << status.error_message();
  for (const auto& e : resp.exams())
    if (e.id() == demo().exam_id) return e;
  ADD_FAILURE() << "exam " << demo().exam_id << " not listed";
  return {};
}

// --- StaffDesk -----------------------------------------------------------------------------

StaffDesk::StaffDesk(DemoBackend& backend, StaffPolicy policy)
    : appeals_(v1::AppealService::NewStub(backend.channel())),
      help_(v1::HelpService::NewStub(backend.channel())),
      exams_(v1::ExamService::NewStub(backend.channel())),
      live_(v1::LiveService::NewStub(backend.channel())),
      token_(backend.admin_token()),
      exam_id_(backend.demo().exam_id),
      policy_(std::move(policy)),
      thread_([this] { Loop(); }) {}

StaffDesk::~StaffDesk() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void StaffDesk::Loop() {
  std::unique_lock lk(mu_);
  while (!stop_) {
    lk.unlock();
    Round();
    lk.lock();
    // Staff look again every 50 ms; stopping interrupts the pause.
    cv_.wait_for(lk, 50ms, [this] { return stop_; });
  }
}

std::map<int64_t, v1::Session> StaffDesk::SessionsById() {
  v1::ListSessionsRequest req;
  req.set_exam_id(exam_id_);
  v1::ListSessionsResponse resp;
  std::map<int64_t, v1::Session> out;
  if (exams_->ListSessions(StaffContext(token_).get(), req, &resp).ok())
    for (const auto& s : resp.sessions()) out[s.id()] = s;
  return out;
}

void StaffDesk::Round() {
  const bool needs_sessions = !policy_.reject_appeals.empty() || !policy_.terminate_when_answering.empty();
  const auto sessions = needs_sessions ? SessionsById() : std::map<int64_t, v1::Session>{};

  v1::ListAppealsRequest lr;
  lr.set_exam_id(exam_id_);
  lr.set_open_only(true);
  v1::ListAppealsResponse appeals;
  if (appeals_->ListAppeals(StaffContext(token_).get(), lr, &appeals).ok()) {
    for (const auto& a : appeals.appeals()) {
      v1::ClaimAppealRequest cr;
      cr.set_idempotency_key("claim-" + std::to_string(a.id()) + "-" + std::to_string(++key_));
      cr.set_appeal_id(a.id());
      v1::Appeal claimed;
      if (!appeals_->ClaimAppeal(StaffContext(token_).get(), cr, &claimed).ok()) continue;
      const auto it = sessions.find(a.session_id());
      const bool reject = it != sessions.end() && policy_.reject_appeals.count(it->second.registration_no());
      v1::DecideAppealRequest dr;
      dr.set_idempotency_key("decide-" + std::to_string(a.id()));
      dr.set_appeal_id(a.id());
      dr.set_expected_version(claimed.version());
      dr.set_decision(reject ? v1::APPEAL_DECISION_REJECT : v1::APPEAL_DECISION_APPROVE);
      if (reject) dr.set_reason("手持证件照与报名照片不符 (handheld ID does not match the registration photo)");
      v1::Appeal decided;
      if (appeals_->DecideAppeal(StaffContext(token_).get(), dr, &decided).ok()) ++(reject ? rejected_ : approved_);
    }
  }

  v1::ListHelpRequestsRequest hr;
  hr.set_exam_id(exam_id_);
  hr.set_unresolved_only(true);
  v1::ListHelpRequestsResponse helps;
  if (help_->ListHelpRequests(StaffContext(token_).get(), hr, &helps).ok()) {
    for (const auto& h : helps.requests()) {
      if (answered_help_.count(h.id())) continue;
      v1::PostHelpMessageRequest pr;
      pr.set_idempotency_key("help-" + std::to_string(h.id()));
      pr.set_help_id(h.id());
      pr.set_text("请关闭其他程序后刷新页面");
      v1::HelpRequest out;
      if (help_->PostHelpMessage(StaffContext(token_).get(), pr, &out).ok()) {
        answered_help_.insert(h.id());
        ++help_answered_;
      }
    }
  }

  for (const auto& [id, s] : sessions) {
    if (s.stage() != v1::STAGE_ANSWERING || terminated_sessions_.count(id) ||
        !policy_.terminate_when_answering.count(s.registration_no()))
      continue;
    v1::ProctorActionRequest req;
    req.set_idempotency_key("terminate-" + std::to_string(id));
    req.set_session_id(id);
    req.set_kind(v1::PROCTOR_ACTION_KIND_TERMINATE);
    req.set_text("考场内出现他人声音 (another voice in the room)");
    v1::ProctorActionResponse resp;
    if (live_->ProctorAction(StaffContext(token_).get(), req, &resp).ok()) {
      terminated_sessions_.insert(id);
      ++terminated_;
    }
  }
}

}  // namespace exam::testing

namespace exam::testing {

// --- UploadDesk ----------------------------------------------------------------------------

UploadDesk::UploadDesk(DemoBackend& backend, UploadPolicy policy)
    : uploads_(v1::UploadService::NewStub(backend.channel())),
      token_(backend.admin_token()),
      exam_id_(backend.demo().exam_id),
      policy_(std::move(policy)),
      thread_([this] { Loop(); }) {}

UploadDesk::~UploadDesk() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::string UploadDesk::last_error() const {
  std::lock_guard lk(mu_);
  return last_error_;
}

void UploadDesk::Loop() {
  std::unique_lock lk(mu_);
  while (!stop_) {
    lk.unlock();
    Round();
    lk.lock();
    cv_.wait_for(lk, 30ms, [this] { return stop_; });
  }
}

void UploadDesk::Round() {
  v1::ListUploadsRequest lr;
  lr.set_exam_id(exam_id_);
  lr.set_incomplete_only(true);
  v1::ListUploadsResponse files;
  if (!uploads_->ListUploads(StaffContext(token_).get(), lr, &files).ok()) return;
  auto failed = [this](const char* what, const v1::UploadFile& f, const grpc::Status& st) {
    std::lock_guard lk(mu_);
    last_error_ = std::string(what) + " " + f.name() + ": " + st.error_message();
  };
  for (const auto& f : files.files()) {
    if (f.state() == v1::UPLOAD_STATE_INTERRUPTED && policy_.recall_when_interrupted.count(f.name()) &&
        !recalled_.count(f.id())) {
      v1::UploadActionRequest req;
      req.set_idempotency_key("recall-" + std::to_string(f.id()));
      req.set_file_id(f.id());
      req.set_note("电话联系考生，请重新打开客户端继续上传 (called the candidate: reopen the app and resume)");
      v1::UploadFile out;
      const auto st = uploads_->RequestRecall(StaffContext(token_).get(), req, &out);
      if (st.ok()) {
        recalled_.insert(f.id());
        ++recalls_;
      } else {
        failed("RequestRecall", f, st);
      }
    }
    if (f.state() == v1::UPLOAD_STATE_ABNORMAL && policy_.rerecord_when_abnormal.count(f.name()) &&
        !rerecorded_.count(f.id())) {
      v1::UploadActionRequest req;
      req.set_idempotency_key("rerecord-" + std::to_string(f.id()));
      req.set_file_id(f.id());
      req.set_note("录制失败，允许重新录制 (recording failed on the device; re-record allowed)");
      req.set_allow_rerecord(true);
      v1::UploadFile out;
      const auto st = uploads_->MarkAbnormal(StaffContext(token_).get(), req, &out);
      if (st.ok()) {
        rerecorded_.insert(f.id());
        ++rerecords_allowed_;
      } else {
        failed("MarkAbnormal", f, st);
      }
    }
  }
}

}  // namespace exam::testing
