#include "backend/services/service_util.h"
#include "backend/services/services.h"
#include "exam/v1/auth.grpc.pb.h"

#include <deque>
#include <mutex>
#include <unordered_map>

namespace exam::backend {
namespace {

// Failed sign-ins per username and client address: after kMaxFailures within kWindow the
// next attempts are refused, right password or not, until the oldest failure leaves the
// window. Real time, not the backend clock (which the demo may speed up). Keyed by the
// address without its port, which changes with every connection.
class LoginThrottle {
 public:
  static constexpr int kMaxFailures = 5;
  static constexpr std::chrono::seconds kWindow{60};
  using Clock = std::chrono::steady_clock;

  // Seconds until another attempt is allowed; 0 when allowed now.
  int64_t RetryAfterSeconds(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = failures_.find(key);
    if (it == failures_.end()) return 0;
    Expire(it->second, Clock::now());
    if (static_cast<int>(it->second.size()) < kMaxFailures) return 0;
    const auto wait = it->second.front() + kWindow - Clock::now();
    return std::max<int64_t>(1, std::chrono::ceil<std::chrono::seconds>(wait).count());
  }
  void Failed(const std::string& key) {
    std::lock_guard lock(mu_);
    const auto now = Clock::now();
    // Bounded memory under a spray of usernames: forget whatever has left the window.
    if (failures_.size() > 100000) {
      for (auto it = failures_.begin(); it != failures_.end();) {
        Expire(it->second, now);
        it = it->second.empty() ? failures_.erase(it) : std::next(it);
      }
    }
    auto& times = failures_[key];
    times.push_back(now);
    while (static_cast<int>(times.size()) > kMaxFailures) times.pop_front();
  }
  void Succeeded(const std::string& key) {
    std::lock_guard lock(mu_);
    failures_.erase(key);
  }

  static std::string Key(const std::string& username, const std::string& peer) {
    // "ipv4:127.0.0.1:53012", "ipv6:[::1]:53012": drop the port.
    const auto colon = peer.rfind(':');
    const auto first = peer.find(':');
    const std::string host = colon != std::string::npos && colon != first ? peer.substr(0, colon) : peer;
    return username + '\n' + host;
  }

 private:
  static void Expire(std::deque<Clock::time_point>& times, Clock::time_point now) {
    while (!times.empty() && times.front() + kWindow <= now) times.pop_front();
  }
  std::mutex mu_;
  std::unordered_map<std::string, std::deque<Clock::time_point>> failures_;
};

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
    RequestChecks check;
    check.Text("username", req->username(), 128, Need::kRequired).Text("password", req->password(), 1024);
    if (!check.ok()) return check.status();
    const std::string throttle_key = LoginThrottle::Key(req->username(), context->peer());
    if (const int64_t wait = throttle_.RetryAfterSeconds(throttle_key); wait > 0)
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          "too many attempts, try again in " + std::to_string(wait) + " s");
    return Guard([&] {
      store::UserRepository::Credentials credentials;
      {
        std::lock_guard lock(ctx_.db.mutex());
        credentials = store::UserRepository(ctx_.db).FindCredentials(req->username());
      }
      if (!store::UserRepository::PasswordMatches(credentials, req->password())) {
        throttle_.Failed(throttle_key);
        return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "wrong username or password");
      }
      throttle_.Succeeded(throttle_key);
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
  LoginThrottle throttle_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeAuthService(BackendContext& ctx) { return std::make_unique<AuthServiceImpl>(ctx); }

}  // namespace exam::backend
