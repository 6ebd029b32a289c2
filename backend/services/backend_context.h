#pragma once
// What every gRPC service of the backend shares: the store with its repositories, the
// event hub that fans committed events out to subscribers, the clock and authorization.
#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backend/clock.h"
#include "backend/store/database.h"
#include "backend/store/event_log.h"
#include "backend/store/exam_repository.h"
#include "backend/store/user_repository.h"
#include "exam/v1/common.pb.h"
#include "exam/v1/event.pb.h"

namespace exam::backend {

// Committed events in memory for fast fan-out; older ones are read back from the log.
class EventHub {
 public:
  explicit EventHub(size_t capacity = 200000) : capacity_(capacity) {}
  // Called with the store lock held, in seq order, right after COMMIT.
  void Publish(std::vector<std::shared_ptr<const exam::v1::Event>> events);
  void SetHead(int64_t head);
  int64_t Head() const;
  // Events with seq > after, at most max. *too_old when the hub no longer holds seq after+1.
  std::vector<std::shared_ptr<const exam::v1::Event>> After(int64_t after, size_t max, bool* too_old) const;
  // Waits until an event after `after` exists, `timeout` passes or Close() is called.
  void WaitAfter(int64_t after, std::chrono::milliseconds timeout) const;
  void Close();
  bool closed() const;

 private:
  size_t capacity_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::deque<std::shared_ptr<const exam::v1::Event>> ring_;
  int64_t head_ = 0;
  bool closed_ = false;
};

// Last heartbeat of every device, kept in memory: heartbeats are the most frequent call
// (two devices per candidate every few seconds) and must not each cost a write
// transaction. The ticker flushes them to the store in one batch now and then.
class DevicePresence {
 public:
  using Key = std::pair<int64_t, int>;  // session id, DeviceKind
  void Seen(Key device, int64_t now_ms);
  // Entries seen since the last call, cleared.
  std::map<Key, int64_t> TakeDirty();
  // Last heartbeat in memory, 0 when none since start.
  int64_t LastSeen(Key device) const;

 private:
  mutable std::mutex mu_;
  std::map<Key, int64_t> last_seen_;
  std::map<Key, int64_t> dirty_;
};

// The caller of an RPC, from its token.
struct Principal {
  std::optional<store::UserRecord> user;  // staff
  int64_t session_id = 0;                 // candidate device
  int device = 0;
  bool Staff() const { return user.has_value(); }
  bool Has(exam::v1::Role r) const { return user && user->HasRole(r); }
  bool Admin() const { return Has(exam::v1::ROLE_ADMIN); }
  // Graders never see identities.
  bool RedactIdentity() const { return !Admin() && !Has(exam::v1::ROLE_SUPPORT) && !Has(exam::v1::ROLE_PROCTOR); }
  // A proctor (not admin) sees only assigned rooms.
  bool MaySeeRoom(int64_t room_id) const;
  std::string Actor() const;
};

// Collects what one write transaction emits.
class WriteScope {
 public:
  WriteScope(store::Database& db, store::EventLog& log, const Clock& clock) : db_(db), log_(log), clock_(clock) {}
  store::Database& db() { return db_; }
  core::TimePoint now() const { return now_; }
  int64_t now_ms() const { return core::ToUnixMillis(now_); }
  // Appends to the log now (seq assigned); published after COMMIT.
  const exam::v1::Event& Emit(exam::v1::Event event);
  std::vector<std::shared_ptr<const exam::v1::Event>>& emitted() { return emitted_; }

 private:
  store::Database& db_;
  store::EventLog& log_;
  const Clock& clock_;
  core::TimePoint now_ = clock_.Now();
  std::vector<std::shared_ptr<const exam::v1::Event>> emitted_;
};

class BackendContext {
 public:
  BackendContext(const std::string& db_path, double time_scale, std::chrono::seconds token_ttl,
                 std::string media_dir);

  store::Database db;
  Clock clock;
  store::EventLog events{db};
  EventHub hub;
  DevicePresence presence;
  std::chrono::seconds token_ttl;
  // Uploaded recordings live under here (see store::RecordingStore).
  std::string media_dir;

  // Runs `body` in one transaction; on success commits and publishes its events in order.
  // On an exception rolls back and rethrows. Returns what body returns.
  template <class F>
  auto Write(F&& body) -> decltype(body(std::declval<WriteScope&>())) {
    store::Transaction tx(db);
    WriteScope scope(db, events, clock);
    try {
      if constexpr (std::is_void_v<decltype(body(scope))>) {
        body(scope);
        tx.Commit();
        hub.Publish(std::move(scope.emitted()));
      } else {
        auto result = body(scope);
        tx.Commit();
        hub.Publish(std::move(scope.emitted()));
        return result;
      }
    } catch (...) {
      events.Reload();
      throw;
    }
  }

  // Checks the caller's token against the policy for the RPC being served (the method name
  // comes from AuthInterceptor). Fills *who on success.
  grpc::Status Authorize(const grpc::ServerContext* context, Principal* who);
  void ForgetToken(const std::string& token);

  // Session event helpers: emits kind with the session snapshot after the change.
  exam::v1::Event SessionEvent(const store::SessionRow& row, exam::v1::EventKind kind, const std::string& detail,
                               core::TimePoint now, int64_t ref_id = 0);

 private:
  std::mutex token_mu_;
  struct CachedToken {
    Principal who;
    int64_t expires_at_ms;
  };
  std::map<std::string, CachedToken> token_cache_;
};

// Access rule of one RPC: which roles may call it. Public RPCs need no token.
struct AccessRule {
  bool is_public = false;
  bool candidate = false;          // a device token may call it
  std::vector<exam::v1::Role> roles;  // staff roles that may call it (admin always may)
};
// The full table, by "/package.Service/Method". A method missing here is denied.
const std::map<std::string, AccessRule>& AccessPolicy();

// Installs the served method's name as trusted metadata for Authorize().
class AuthInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override;
};

// Converts store / rule failures into statuses with a clear message.
grpc::Status Internal(const std::exception& e);

std::string TokenFromMetadata(const grpc::ServerContext* context);

}  // namespace exam::backend
