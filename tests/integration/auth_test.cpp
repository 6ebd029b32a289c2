#include <grpcpp/generic/generic_stub.h>

#include "backend_fixture.h"

namespace exam::testing {
namespace {

namespace v1 = exam::v1;
using grpc::StatusCode;

class AuthTest : public BackendFixture {};

TEST_F(AuthTest, LoginReturnsTokenRolesAndRooms) {
  auto stub = v1::AuthService::NewStub(Channel());
  grpc::ClientContext ctx;
  v1::LoginRequest req;
  req.set_username("proctor1");
  req.set_password("demo");
  v1::LoginResponse resp;
  ASSERT_TRUE(stub->Login(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.token().size(), 64u);
  ASSERT_EQ(resp.user().roles_size(), 1);
  EXPECT_EQ(resp.user().roles(0), v1::ROLE_PROCTOR);
  ASSERT_EQ(resp.user().room_ids_size(), 1);

  v1::StaffUser me;
  auto c2 = Ctx(resp.token());
  ASSERT_TRUE(stub->WhoAmI(c2.get(), v1::WhoAmIRequest(), &me).ok());
  EXPECT_EQ(me.username(), "proctor1");
}

TEST_F(AuthTest, WrongPasswordAndUnknownUserAreRefusedAlike) {
  auto stub = v1::AuthService::NewStub(Channel());
  for (const char* user : {"proctor1", "nobody"}) {
    grpc::ClientContext ctx;
    v1::LoginRequest req;
    req.set_username(user);
    req.set_password("wrong");
    v1::LoginResponse resp;
    auto status = stub->Login(&ctx, req, &resp);
    EXPECT_EQ(status.error_code(), StatusCode::UNAUTHENTICATED) << user;
    EXPECT_EQ(status.error_message(), "wrong username or password");
  }
}

TEST_F(AuthTest, CallsWithoutOrWithBadTokenAreUnauthenticated) {
  auto exams = v1::ExamService::NewStub(Channel());
  v1::ListExamsResponse resp;
  auto none = Ctx("");
  EXPECT_EQ(exams->ListExams(none.get(), v1::ListExamsRequest(), &resp).error_code(), StatusCode::UNAUTHENTICATED);
  auto bad = Ctx(std::string(64, 'a'));
  EXPECT_EQ(exams->ListExams(bad.get(), v1::ListExamsRequest(), &resp).error_code(), StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthTest, LogoutRevokesTheToken) {
  const std::string token = Login("support1");
  auto auth = v1::AuthService::NewStub(Channel());
  v1::StaffUser me;
  auto c1 = Ctx(token);
  ASSERT_TRUE(auth->WhoAmI(c1.get(), v1::WhoAmIRequest(), &me).ok());
  v1::LogoutResponse out;
  auto c2 = Ctx(token);
  ASSERT_TRUE(auth->Logout(c2.get(), v1::LogoutRequest(), &out).ok());
  auto c3 = Ctx(token);
  EXPECT_EQ(auth->WhoAmI(c3.get(), v1::WhoAmIRequest(), &me).error_code(), StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthTest, RolesAreEnforcedByTheBackend) {
  auto appeals = v1::AppealService::NewStub(Channel());
  v1::ListAppealsResponse list;
  for (const char* user : {"grader1", "proctor1"}) {
    auto ctx = Ctx(Login(user));
    auto status = appeals->ListAppeals(ctx.get(), v1::ListAppealsRequest(), &list);
    EXPECT_EQ(status.error_code(), StatusCode::PERMISSION_DENIED) << user;
  }
  auto support = Ctx(Login("support1"));
  EXPECT_TRUE(appeals->ListAppeals(support.get(), v1::ListAppealsRequest(), &list).ok());

  auto audit = v1::AuditService::NewStub(Channel());
  v1::ListAuditResponse entries;
  auto as_support = Ctx(Login("support1"));
  EXPECT_EQ(audit->ListAudit(as_support.get(), v1::ListAuditRequest(), &entries).error_code(),
            StatusCode::PERMISSION_DENIED);
  auto as_admin = Ctx(Login("admin"));
  EXPECT_TRUE(audit->ListAudit(as_admin.get(), v1::ListAuditRequest(), &entries).ok());

  // A device token may call only the candidate-facing service.
  const auto device = JoinCandidate(0);
  auto exams = v1::ExamService::NewStub(Channel());
  v1::ListExamsResponse ex;
  auto dev = Ctx(device.token);
  EXPECT_EQ(exams->ListExams(dev.get(), v1::ListExamsRequest(), &ex).error_code(), StatusCode::PERMISSION_DENIED);
}

TEST_F(AuthTest, ProctorSeesOnlyAssignedRoomsAndGraderSeesNoIdentity) {
  auto exams = v1::ExamService::NewStub(Channel());
  const int64_t exam_id = server_->demo().exam_id;

  v1::ListSessionsRequest req;
  req.set_exam_id(exam_id);
  v1::ListSessionsResponse admin_view, proctor_view, grader_view;
  auto a = Ctx(Login("admin"));
  ASSERT_TRUE(exams->ListSessions(a.get(), req, &admin_view).ok());
  auto p = Ctx(Login("proctor1"));
  ASSERT_TRUE(exams->ListSessions(p.get(), req, &proctor_view).ok());
  auto g = Ctx(Login("grader1"));
  ASSERT_TRUE(exams->ListSessions(g.get(), req, &grader_view).ok());

  ASSERT_EQ(admin_view.sessions_size(), 8);
  ASSERT_GT(proctor_view.sessions_size(), 0);
  ASSERT_LT(proctor_view.sessions_size(), admin_view.sessions_size());
  const int64_t room = proctor_view.sessions(0).room_id();
  for (const auto& s : proctor_view.sessions()) EXPECT_EQ(s.room_id(), room);
  EXPECT_FALSE(admin_view.sessions(0).candidate_name().empty());
  ASSERT_EQ(grader_view.sessions_size(), 8);
  for (const auto& s : grader_view.sessions()) {
    EXPECT_TRUE(s.candidate_name().empty());
    EXPECT_TRUE(s.registration_no().empty());
  }

  // Asking for the other room directly is refused.
  int64_t other_room = 0;
  for (const auto& s : admin_view.sessions())
    if (s.room_id() != room) other_room = s.room_id();
  ASSERT_NE(other_room, 0);
  req.set_room_id(other_room);
  v1::ListSessionsResponse denied;
  auto p2 = Ctx(Login("proctor1"));
  EXPECT_EQ(exams->ListSessions(p2.get(), req, &denied).error_code(), StatusCode::PERMISSION_DENIED);
}

class ExpiredTokenTest : public BackendFixture {
  void Configure(backend::ServerOptions& o) override { o.token_ttl = std::chrono::seconds(0); }
};

TEST_F(ExpiredTokenTest, ExpiredTokensAreRefused) {
  const std::string token = Login("admin");
  ASSERT_FALSE(token.empty());
  auto auth = v1::AuthService::NewStub(Channel());
  v1::StaffUser me;
  auto ctx = Ctx(token);
  auto status = auth->WhoAmI(ctx.get(), v1::WhoAmIRequest(), &me);
  EXPECT_EQ(status.error_code(), StatusCode::UNAUTHENTICATED);
  EXPECT_NE(status.error_message().find("expired"), std::string::npos);
}

TEST_F(AuthTest, HealthServiceAnswersServing) {
  // Standard grpc.health.v1 via a generic call, as stock tools do.
  grpc::GenericStub generic(Channel());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  // An empty HealthCheckRequest (service "") serialises to zero bytes.
  grpc::ByteBuffer request;
  grpc::Slice empty("");
  request = grpc::ByteBuffer(&empty, 1);
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  grpc::ByteBuffer response;
  generic.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                    [&](grpc::Status s) {
                      std::lock_guard lock(mu);
                      status = s;
                      done = true;
                      cv.notify_all();
                    });
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return done; });
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  // HealthCheckResponse{status: SERVING(1)} is field 1 varint 1.
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));
}

}  // namespace
}  // namespace exam::testing
