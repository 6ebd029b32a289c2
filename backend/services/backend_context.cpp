#include "backend/services/backend_context.h"

#include <google/protobuf/util/time_util.h>
#include <grpcpp/support/server_interceptor.h>

#include <algorithm>

namespace exam::backend {
namespace {

using google::protobuf::util::TimeUtil;
using exam::v1::Role;

constexpr const char* kMethodKey = "x-exam-served-method";

class AuthInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit AuthInterceptor(grpc::experimental::ServerRpcInfo* info) : info_(info) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(grpc::experimental::InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      auto* md = methods->GetRecvInitialMetadata();
      // A client must not be able to claim which method it is calling.
      md->erase(grpc::string_ref(kMethodKey));
      md->emplace(grpc::string_ref(kMethodKey), grpc::string_ref(info_->method()));
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ServerRpcInfo* info_;
};

AccessRule Staff(std::vector<Role> roles) { return AccessRule{false, false, std::move(roles)}; }

}  // namespace

grpc::experimental::Interceptor* AuthInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new AuthInterceptor(info);
}

const std::map<std::string, AccessRule>& AccessPolicy() {
  using exam::v1::ROLE_GRADER;
  using exam::v1::ROLE_PROCTOR;
  using exam::v1::ROLE_SUPPORT;
  static const std::map<std::string, AccessRule> policy = [] {
    const std::vector<Role> all_staff = {ROLE_PROCTOR, ROLE_GRADER, ROLE_SUPPORT};
    std::map<std::string, AccessRule> p;
    p["/exam.v1.AuthService/Login"] = AccessRule{true, false, {}};
    p["/exam.v1.AuthService/Logout"] = Staff(all_staff);
    p["/exam.v1.AuthService/WhoAmI"] = Staff(all_staff);
    for (const char* m : {"ListExams", "ListRooms", "ListSessions", "GetSession", "GetClock"})
      p[std::string("/exam.v1.ExamService/") + m] = Staff(all_staff);
    p["/exam.v1.EventService/Subscribe"] = Staff(all_staff);
    p["/exam.v1.LiveService/WatchMedia"] = Staff({ROLE_PROCTOR});
    p["/exam.v1.LiveService/ProctorAction"] = Staff({ROLE_PROCTOR});
    p["/exam.v1.LiveService/ListAlerts"] = Staff({ROLE_PROCTOR, ROLE_SUPPORT});
    p["/exam.v1.LiveService/GetSessionHistory"] = Staff({ROLE_PROCTOR, ROLE_SUPPORT});
    p["/exam.v1.HelpService/ListHelpRequests"] = Staff({ROLE_SUPPORT, ROLE_PROCTOR});
    for (const char* m : {"ClaimHelp", "PostHelpMessage", "ResolveHelp"})
      p[std::string("/exam.v1.HelpService/") + m] = Staff({ROLE_SUPPORT});
    for (const char* m : {"ListAppeals", "GetAppeal", "ClaimAppeal", "ReleaseAppeal", "DecideAppeal"})
      p[std::string("/exam.v1.AppealService/") + m] = Staff({ROLE_SUPPORT});
    for (const char* m : {"ListReviewSessions", "ListTracks", "ListMarkers", "ReadMedia", "SubmitScore", "AddAnnotation",
                          "ListScores", "ListAnnotations", "GetRubric"})
      p[std::string("/exam.v1.ReviewService/") + m] = Staff({ROLE_GRADER});
    for (const char* m : {"ListUploads", "GetUpload", "RequestRecall", "ExtendDeadline", "MarkAbnormal", "NoteContact"})
      p[std::string("/exam.v1.UploadService/") + m] = Staff({ROLE_SUPPORT});
    p["/exam.v1.AuditService/ListAudit"] = Staff({});
    p["/exam.v1.CandidateService/Join"] = AccessRule{true, false, {}};
    for (const char* m : {"ReportStage", "ReportFaceCheck", "FileAppeal", "RaiseHelp", "SendHelpMessage",
                          "ReportInterruption", "ReportQuestion", "Heartbeat", "PushMedia", "BeginUpload",
                          "UploadChunk", "GetUploadStatus", "CommitUpload"})
      p[std::string("/exam.v1.CandidateService/") + m] = AccessRule{false, true, {}};
    return p;
  }();
  return policy;
}

void EventHub::Publish(std::vector<std::shared_ptr<const exam::v1::Event>> events) {
  if (events.empty()) return;
  {
    std::lock_guard lock(mu_);
    for (auto& e : events) {
      head_ = e->seq();
      ring_.push_back(std::move(e));
    }
    while (ring_.size() > capacity_) ring_.pop_front();
  }
  cv_.notify_all();
}

void EventHub::SetHead(int64_t head) {
  std::lock_guard lock(mu_);
  head_ = head;
}

int64_t EventHub::Head() const {
  std::lock_guard lock(mu_);
  return head_;
}

std::vector<std::shared_ptr<const exam::v1::Event>> EventHub::After(int64_t after, size_t max, bool* too_old) const {
  std::vector<std::shared_ptr<const exam::v1::Event>> out;
  std::lock_guard lock(mu_);
  *too_old = false;
  if (after >= head_) return out;
  if (ring_.empty() || ring_.front()->seq() > after + 1) {
    *too_old = true;
    return out;
  }
  // seqs in the ring are consecutive, so the position is arithmetic.
  size_t i = static_cast<size_t>(after + 1 - ring_.front()->seq());
  for (; i < ring_.size() && out.size() < max; ++i) out.push_back(ring_[i]);
  return out;
}

void EventHub::WaitAfter(int64_t after, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return head_ > after || closed_; });
}

void EventHub::Close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

bool EventHub::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

void DevicePresence::Seen(Key device, int64_t now_ms) {
  std::lock_guard lock(mu_);
  last_seen_[device] = now_ms;
  dirty_[device] = now_ms;
}

std::map<DevicePresence::Key, int64_t> DevicePresence::TakeDirty() {
  std::lock_guard lock(mu_);
  std::map<Key, int64_t> out;
  out.swap(dirty_);
  return out;
}

int64_t DevicePresence::LastSeen(Key device) const {
  std::lock_guard lock(mu_);
  auto it = last_seen_.find(device);
  return it == last_seen_.end() ? 0 : it->second;
}

bool Principal::MaySeeRoom(int64_t room_id) const {
  if (!user) return false;
  if (Admin() || Has(exam::v1::ROLE_SUPPORT) || Has(exam::v1::ROLE_GRADER)) return true;
  return std::find(user->room_ids.begin(), user->room_ids.end(), room_id) != user->room_ids.end();
}

std::string Principal::Actor() const {
  if (user) return user->username;
  return "device:" + std::to_string(session_id) + "/" + std::to_string(device);
}

const exam::v1::Event& WriteScope::Emit(exam::v1::Event event) {
  if (!event.has_time()) *event.mutable_time() = TimeUtil::MillisecondsToTimestamp(now_ms());
  log_.Append(event);
  emitted_.push_back(std::make_shared<const exam::v1::Event>(std::move(event)));
  return *emitted_.back();
}

namespace {

core::TimePoint LastEventTime(store::Database& db) {
  std::lock_guard lock(db.mutex());
  return core::FromUnixMillis(store::EventLog::LastTimeMs(db));
}

}  // namespace

BackendContext::BackendContext(const std::string& db_path, double time_scale, std::chrono::seconds ttl,
                               std::string media)
    : db(db_path), clock(time_scale, LastEventTime(db)), token_ttl(ttl), media_dir(std::move(media)) {
  hub.SetHead(events.Head());
}

std::string TokenFromMetadata(const grpc::ServerContext* context) {
  const auto& md = context->client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return {};
  std::string value(it->second.data(), it->second.size());
  constexpr std::string_view kBearer = "Bearer ";
  if (value.rfind(kBearer, 0) == 0) value = value.substr(kBearer.size());
  return value;
}

grpc::Status BackendContext::Authorize(const grpc::ServerContext* context, Principal* who) {
  const auto& md = context->client_metadata();
  auto m = md.find(kMethodKey);
  if (m == md.end()) return grpc::Status(grpc::StatusCode::INTERNAL, "authorization interceptor not installed");
  const std::string method(m->second.data(), m->second.size());
  const auto& policy = AccessPolicy();
  auto rule = policy.find(method);
  if (rule == policy.end())
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "no access rule for " + method);
  if (rule->second.is_public) return grpc::Status::OK;

  const std::string token = TokenFromMetadata(context);
  if (token.empty()) return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "missing bearer token");
  const int64_t now_ms = core::ToUnixMillis(std::chrono::time_point_cast<core::Duration>(std::chrono::system_clock::now()));
  Principal p;
  bool found = false;
  {
    std::lock_guard lock(token_mu_);
    auto it = token_cache_.find(token);
    if (it != token_cache_.end() && it->second.expires_at_ms > now_ms) {
      p = it->second.who;
      found = true;
    }
  }
  if (!found) {
    std::optional<store::TokenOwner> owner;
    {
      std::lock_guard lock(db.mutex());
      owner = store::UserRepository(db).LookupToken(token, now_ms);
    }
    if (!owner) return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "token expired or revoked; sign in again");
    p.user = owner->user;
    p.session_id = owner->session_id;
    p.device = owner->device;
    std::lock_guard lock(token_mu_);
    if (token_cache_.size() > 100000) token_cache_.clear();
    token_cache_[token] = CachedToken{p, owner->expires_at_ms};
  }
  if (p.Staff()) {
    // An administrator may do what any staff role may, but is no candidate's device: the
    // device RPCs act on the caller's own session, which a staff token does not have.
    bool allowed = p.Admin() && !rule->second.candidate;
    for (auto r : rule->second.roles) allowed = allowed || p.Has(r);
    if (!allowed) return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "your role may not call " + method);
  } else if (!rule->second.candidate) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "a candidate device may not call " + method);
  }
  *who = std::move(p);
  return grpc::Status::OK;
}

void BackendContext::ForgetToken(const std::string& token) {
  std::lock_guard lock(token_mu_);
  token_cache_.erase(token);
}

exam::v1::Event BackendContext::SessionEvent(const store::SessionRow& row, exam::v1::EventKind kind,
                                             const std::string& detail, core::TimePoint now, int64_t ref_id) {
  exam::v1::Event e;
  e.set_kind(kind);
  e.set_exam_id(row.exam_id);
  e.set_room_id(row.room_id);
  e.set_session_id(row.id);
  e.set_ref_id(ref_id);
  e.set_detail(detail);
  *e.mutable_time() = TimeUtil::MillisecondsToTimestamp(core::ToUnixMillis(now));
  store::ExamRepository repo(db);
  *e.mutable_session() = repo.ToProto(row, false);
  return e;
}

grpc::Status Internal(const std::exception& e) {
  return grpc::Status(grpc::StatusCode::INTERNAL, std::string("backend error: ") + e.what());
}

}  // namespace exam::backend
