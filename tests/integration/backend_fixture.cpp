#include "backend_fixture.h"

#include <google/protobuf/util/time_util.h>
#include <openssl/evp.h>

#include <random>
#include <thread>

namespace exam::testing {

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

std::string Sha256Hex(std::string_view data) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), d, &n, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    out += kHex[d[i] >> 4];
    out += kHex[d[i] & 15];
  }
  return out;
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

void BackendFixture::SetUp() {
  options_.db_path = (dir_.path() / "examd.db").string();
  options_.listen = "127.0.0.1:0";
  options_.demo_candidates = 8;
  options_.demo_rooms = 2;
  options_.demo_start_in = core::minutes(20);
  Configure(options_);
  StartServer();
}

void BackendFixture::TearDown() { StopServer(); }

void BackendFixture::StartServer() {
  std::string error;
  server_ = backend::ExamServer::Start(options_, &error);
  ASSERT_TRUE(server_) << error;
}

void BackendFixture::StopServer() {
  if (server_) server_->Shutdown();
  server_.reset();
}

std::shared_ptr<grpc::Channel> BackendFixture::Channel() {
  return grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
}

std::string BackendFixture::Login(const std::string& user, const std::string& password) {
  auto stub = exam::v1::AuthService::NewStub(Channel());
  grpc::ClientContext ctx;
  exam::v1::LoginRequest req;
  req.set_username(user);
  req.set_password(password);
  exam::v1::LoginResponse resp;
  auto status = stub->Login(&ctx, req, &resp);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return resp.token();
}

std::unique_ptr<grpc::ClientContext> BackendFixture::Ctx(const std::string& token, std::chrono::seconds deadline) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() + deadline);
  return ctx;
}

BackendFixture::Device BackendFixture::JoinCandidate(int index, exam::v1::DeviceKind device) {
  auto stub = exam::v1::CandidateService::NewStub(Channel());
  exam::v1::JoinRequest req;
  req.set_exam_id(server_->demo().exam_id);
  req.set_registration_no(server_->demo().registration_nos.at(static_cast<size_t>(index)));
  req.set_access_code(server_->demo().access_code);
  req.set_device(device);
  req.set_device_model(device == exam::v1::DEVICE_KIND_LAPTOP ? "Lenovo ThinkPad X1" : "Xiaomi MI 5");
  exam::v1::JoinResponse resp;
  auto ctx = Ctx("");
  auto status = stub->Join(ctx.get(), req, &resp);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return Device{resp.token(), resp.session().id(), resp.exam()};
}

grpc::Status BackendFixture::ReportStage(const Device& d, exam::v1::Stage stage, exam::v1::Session* out) {
  auto stub = exam::v1::CandidateService::NewStub(Channel());
  exam::v1::ReportStageRequest req;
  req.set_idempotency_key(Key());
  req.set_stage(stage);
  exam::v1::Session resp;
  auto ctx = Ctx(d.token);
  auto status = stub->ReportStage(ctx.get(), req, &resp);
  if (out) *out = resp;
  return status;
}

void BackendFixture::Advance(const Device& d, exam::v1::Stage stage) {
  auto stub = exam::v1::CandidateService::NewStub(Channel());
  for (int s = exam::v1::STAGE_DEVICE_CHECK; s <= stage; ++s) {
    if (s == exam::v1::STAGE_EVIDENCE_BINDING) {
      exam::v1::ReportFaceCheckRequest fc;
      fc.set_idempotency_key(Key());
      fc.set_passed(true);
      fc.set_similarity(0.93);
      exam::v1::FaceCheckResponse fr;
      auto ctx = Ctx(d.token);
      ASSERT_TRUE(stub->ReportFaceCheck(ctx.get(), fc, &fr).ok());
    }
    auto status = ReportStage(d, static_cast<exam::v1::Stage>(s));
    ASSERT_TRUE(status.ok()) << "stage " << s << ": " << status.error_message();
  }
}

void BackendFixture::AdvanceClockTo(core::TimePoint t) {
  const auto now = server_->clock().Now();
  if (t > now) server_->clock().Advance(std::chrono::duration_cast<core::Duration>(t - now));
}

core::TimePoint BackendFixture::ExamStart(const Device& d) const {
  return core::FromUnixMillis(google::protobuf::util::TimeUtil::TimestampToMilliseconds(d.exam.start_time()));
}

void BackendFixture::StartAnswering(const Device& d) {
  Advance(d, exam::v1::STAGE_READ_ATTACHMENTS);
  AdvanceClockTo(ExamStart(d) - core::minutes(10));  // entry opens
  ASSERT_TRUE(ReportStage(d, exam::v1::STAGE_ENTER).ok());
  ASSERT_TRUE(ReportStage(d, exam::v1::STAGE_DEVICE_CONFIRM).ok());
  AdvanceClockTo(ExamStart(d));
  ASSERT_TRUE(ReportStage(d, exam::v1::STAGE_ANSWERING).ok());
}

}  // namespace exam::testing
