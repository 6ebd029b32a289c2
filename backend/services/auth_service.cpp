#include "backend/services/service_util.h"
#include "backend/services/services.h"
#include "exam/v1/auth.grpc.pb.h"

namespace exam::backend {
namespace {

void FillUser(const store::UserRecord& u, exam::v1::StaffUser* out) {
  out->set_id(u.id);
  out->set_username(u.username);
  out->set_display_name(u.display_name);
  for (int r : u.roles) out->add_roles(static_cast<exam::v1::Role>(r));
  for (int64_t room : u.room_ids) out->add_room_ids(room);
}

class AuthServiceImpl final : public exam::v1::AuthService::Service {
 public:
  explicit AuthServiceImpl(BackendContext& ctx) : ctx_(ctx) {}

  grpc::Status Login(grpc::ServerContext* context, const exam::v1::LoginRequest* req,
                     exam::v1::LoginResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    if (req->username().empty() || req->username().size() > 128 || req->password().size() > 1024)
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "username and password are required");
    return Guard([&] {
      store::UserRepository::Credentials credentials;
      {
        std::lock_guard lock(ctx_.db.mutex());
        credentials = store::UserRepository(ctx_.db).FindCredentials(req->username());
      }
      if (!store::UserRepository::PasswordMatches(credentials, req->password()))
        return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "wrong username or password");
      const auto expires = std::chrono::system_clock::now() + ctx_.token_ttl;
      const int64_t expires_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(expires.time_since_epoch()).count();
      std::optional<store::UserRecord> user;
      std::string token;
      {
        std::lock_guard lock(ctx_.db.mutex());
        store::UserRepository users(ctx_.db);
        user = users.FindById(credentials.user_id);
        if (!user) return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "wrong username or password");
        token = users.IssueStaffToken(user->id, expires_ms);
      }
      resp->set_token(token);
      *resp->mutable_expires_at() = MsToTimestamp(expires_ms);
      FillUser(*user, resp->mutable_user());
      return grpc::Status::OK;
    });
  }

  grpc::Status Logout(grpc::ServerContext* context, const exam::v1::LogoutRequest*,
                      exam::v1::LogoutResponse*) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    return Guard([&] {
      const std::string token = TokenFromMetadata(context);
      {
        std::lock_guard lock(ctx_.db.mutex());
        store::UserRepository(ctx_.db).RevokeToken(token);
      }
      ctx_.ForgetToken(token);
      return grpc::Status::OK;
    });
  }

  grpc::Status WhoAmI(grpc::ServerContext* context, const exam::v1::WhoAmIRequest*,
                      exam::v1::StaffUser* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    FillUser(*who.user, resp);
    return grpc::Status::OK;
  }

 private:
  BackendContext& ctx_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeAuthService(BackendContext& ctx) { return std::make_unique<AuthServiceImpl>(ctx); }

}  // namespace exam::backend
