// Failed sign-ins are limited per username and client address, so a password cannot be
// guessed at the speed of the network.
#include "backend_fixture.h"

namespace exam::testing {
namespace {

namespace v1 = exam::v1;
using grpc::StatusCode;

class LoginLimitTest : public BackendFixture {
 protected:
  void Configure(backend::ServerOptions& o) override { o.demo_review_sessions = 0; }

  grpc::Status Attempt(const std::string& user, const std::string& password) {
    auto stub = v1::AuthService::NewStub(Channel());
    v1::LoginRequest req;
    req.set_username(user);
    req.set_password(password);
    v1::LoginResponse resp;
    auto ctx = Ctx("");
    return stub->Login(ctx.get(), req, &resp);
  }
};

TEST_F(LoginLimitTest, SixthFailureInAMinuteIsRefusedEvenWithTheRightPassword) {
  for (int i = 0; i < 5; ++i) {
    const auto s = Attempt("proctor1", "guess" + std::to_string(i));
    ASSERT_EQ(s.error_code(), StatusCode::UNAUTHENTICATED) << "attempt " << i + 1 << ": " << s.error_message();
  }
  const auto refused = Attempt("proctor1", "demo");
  ASSERT_EQ(refused.error_code(), StatusCode::RESOURCE_EXHAUSTED) << refused.error_message();
  // "too many attempts, try again in N s" with N within the minute.
  const std::string prefix = "too many attempts, try again in ";
  ASSERT_EQ(refused.error_message().rfind(prefix, 0), 0u) << refused.error_message();
  const int seconds = std::stoi(refused.error_message().substr(prefix.size()));
  EXPECT_GE(seconds, 1);
  EXPECT_LE(seconds, 60);
  EXPECT_EQ(refused.error_message().substr(refused.error_message().size() - 2), " s");

  // Other users from the same address are not locked out with it.
  EXPECT_TRUE(Attempt("proctor2", "demo").ok());
}

TEST_F(LoginLimitTest, UnknownUsernamesAreLimitedAlike) {
  for (int i = 0; i < 5; ++i) ASSERT_EQ(Attempt("nobody", "x").error_code(), StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Attempt("nobody", "x").error_code(), StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(LoginLimitTest, SuccessfulSignInClearsTheCount) {
  for (int i = 0; i < 4; ++i) ASSERT_EQ(Attempt("support1", "typo").error_code(), StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(Attempt("support1", "demo").ok());
  for (int i = 0; i < 4; ++i) {
    const auto s = Attempt("support1", "typo");
    EXPECT_EQ(s.error_code(), StatusCode::UNAUTHENTICATED) << "attempt " << i + 1 << ": " << s.error_message();
  }
  EXPECT_TRUE(Attempt("support1", "demo").ok());
}

}  // namespace
}  // namespace exam::testing
