#include "net/backend_client.h"

#include <grpcpp/grpcpp.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "exam/v1/auth.grpc.pb.h"
#include "exam/v1/event.grpc.pb.h"
#include "exam/v1/exam.grpc.pb.h"
#include "net/backoff.h"
#include "net/directory_model.h"
#include "net/remote_clock.h"

namespace exam::net {
namespace {

using Steady = std::chrono::steady_clock;
namespace v1 = exam::v1;

int64_t ToUnixMs(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000 + t.nanos() / 1000000;
}

// Failures worth retrying after a pause: the backend is away, slow or restarting.
bool IsTransient(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::OK:  // a stream that ended cleanly: the server went away
      return true;
    default:
      return false;
  }
}

std::string Describe(const grpc::Status& s) {
  std::string text = s.error_message();
  if (text.empty()) text = "gRPC status " + std::to_string(static_cast<int>(s.error_code()));
  return text;
}

// Whether `address` (host:port) answers a TLS ClientHello with a TLS record. gRPC only says
// "unreachable" when a plain-text channel meets a TLS-only backend (or a TLS channel a
// backend whose certificate it does not trust), so this tells the user which it is. The
// hello offers the ECDHE suites gRPC accepts; a handshake record or an alert both mean TLS.
bool SpeaksTls(const std::string& address, std::chrono::milliseconds timeout) {
  static const unsigned char kHello[] = {
      0x16, 0x03, 0x01, 0x00, 0x66, 0x01, 0x00, 0x00, 0x62, 0x03, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0x00, 0x00,
      0x0c, 0xc0, 0x2b, 0xc0, 0x2f, 0xc0, 0x2c, 0xc0, 0x30, 0xcc, 0xa9, 0xcc, 0xa8, 0x01, 0x00, 0x00, 0x2d,  // suites
      0x00, 0x0a, 0x00, 0x08, 0x00, 0x06, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18,                              // groups
      0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,                                                                  // points
      0x00, 0x0d, 0x00, 0x0e, 0x00, 0x0c, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05, 0x03, 0x06, 0x01, 0x02, 0x01,
      0x00, 0x10, 0x00, 0x05, 0x00, 0x03, 0x02, 'h',  '2'};  // ALPN h2
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  std::string host = address.substr(0, colon);
  if (host.size() > 1 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port = address.substr(colon + 1);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || !found) return false;
  bool tls = false;
  const int fd = socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    const auto deadline = Steady::now() + timeout;
    auto wait = [&](short events) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now()).count();
      pollfd p{fd, events, 0};
      return left > 0 && poll(&p, 1, static_cast<int>(left)) == 1 && (p.revents & events);
    };
    int connected = connect(fd, found->ai_addr, found->ai_addrlen);
    if (connected != 0 && errno == EINPROGRESS && wait(POLLOUT)) {
      int err = 0;
      socklen_t len = sizeof err;
      connected = getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0 ? 0 : -1;
    }
    if (connected == 0 && send(fd, kHello, sizeof kHello, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof kHello) &&
        wait(POLLIN)) {
      unsigned char reply[2] = {0, 0};
      // 0x16: handshake, 0x15: alert; then the major version 3 of every TLS record.
      if (recv(fd, reply, sizeof reply, 0) == 2) tls = (reply[0] == 0x16 || reply[0] == 0x15) && reply[1] == 0x03;
    }
    close(fd);
  }
  freeaddrinfo(found);
  return tls;
}

}  // namespace

std::string_view ConnectionStateName(ConnectionState state) {
  switch (state) {
    case ConnectionState::kSignedOut: return "signed out";
    case ConnectionState::kConnecting: return "connecting";
    case ConnectionState::kLoggingIn: return "logging in";
    case ConnectionState::kLoading: return "loading";
    case ConnectionState::kOnline: return "online";
    case ConnectionState::kReconnecting: return "reconnecting";
    case ConnectionState::kAuthFailed: return "sign-in failed";
    case ConnectionState::kStopped: return "stopped";
  }
  return "?";
}

struct BackendClient::Impl {
  class EventReader;

  explicit Impl(ClientOptions o) : options(std::move(o)) {
    status.address = options.address;
    status.username = options.username;
    snapshot = model.Build(0);
    std::shared_ptr<grpc::ChannelCredentials> creds;
    if (options.ca_pem.empty()) {
      creds = grpc::InsecureChannelCredentials();
    } else {
      grpc::SslCredentialsOptions ssl;
      ssl.pem_root_certs = options.ca_pem;
      creds = grpc::SslCredentials(ssl);
    }
    grpc::ChannelArguments args;
    // The channel's own reconnect backoff must not outlast ours (its default grows to 2 min).
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, static_cast<int>(options.backoff_initial.count()));
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, static_cast<int>(options.backoff_initial.count()));
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, static_cast<int>(options.backoff_max.count()));
    // A connection can die without a reset (a middlebox forgets it, the peer vanishes): then
    // nothing on it ever fails, the stream just goes quiet, and the channel keeps the dead
    // transport for good, so cancelling the stream and calling again never got us out of
    // "reconnecting" (tests/integration/fault_injection_test.cpp, half-open). HTTP/2 pings
    // while calls are open let gRPC see that and dial again. The backend writes a heartbeat
    // between two pings, which keeps them within its ping policy.
    const int keepalive_ms = static_cast<int>(std::max<int64_t>(1000, options.stream_idle_timeout.count()));
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, keepalive_ms);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, std::max(1000, keepalive_ms / 2));
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
    // We send no data after a Subscribe request; gRPC would otherwise stop pinging after two.
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
    args.SetMaxReceiveMessageSize(64 << 20);
    channel = grpc::CreateCustomChannel(options.address, creds, args);
    auth = v1::AuthService::NewStub(channel);
    exams = v1::ExamService::NewStub(channel);
    events = v1::EventService::NewStub(channel);
  }

  // ---- worker ----------------------------------------------------------------------
  void Run();
  bool Connect(bool reconnecting);
  grpc::Status Login();
  grpc::Status Load();
  grpc::Status ReadClock();
  grpc::Status FollowEvents();
  void RefreshSessions();
  // Sleeps `delay` unless stopped or given new credentials first.
  void Pause(std::chrono::milliseconds delay);

  bool stopping() {
    std::lock_guard lock(mu);
    return stop_requested;
  }
  bool credentials_waiting() {
    std::lock_guard lock(mu);
    return credentials_pending;
  }
  // The worker's token, mirrored for AccessToken().
  void SetToken(std::string value) {
    token = std::move(value);
    std::lock_guard lock(status_mu);
    shared_token = token;
  }

  // Runs one unary call with a deadline (and the token); Stop() can cancel it.
  template <typename Fn>
  grpc::Status Call(bool with_token, Fn&& fn) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + options.call_timeout);  // gRPC wants system_clock
    if (with_token) ctx.AddMetadata("authorization", "Bearer " + token);
    {
      std::lock_guard lock(mu);
      if (stop_requested) return grpc::Status(grpc::StatusCode::CANCELLED, "stopping");
      active_call = &ctx;
    }
    grpc::Status s = fn(&ctx);
    std::lock_guard lock(mu);
    active_call = nullptr;
    return s;
  }

  // ---- stream callbacks (gRPC threads) ------------------------------------------------
  void OnEnvelope(const v1::EventEnvelope& envelope);

  // ---- status & snapshot ---------------------------------------------------------------
  void SetState(ConnectionState state, std::string message) {
    {
      std::lock_guard lock(status_mu);
      status.state = state;
      status.message = std::move(message);
    }
    Notify();
  }
  void PublishLocked() {
    snapshot = model.Build(++snapshot_version);
    publish_pending = false;
    last_publish = Steady::now();
  }
  void Notify() {
    if (options.on_change && !notified.exchange(true)) options.on_change();
  }

  const ClientOptions options;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::AuthService::Stub> auth;
  std::unique_ptr<v1::ExamService::Stub> exams;
  std::unique_ptr<v1::EventService::Stub> events;

  // Worker control, guarded by mu.
  std::mutex mu;
  std::condition_variable cv;
  bool stop_requested = false;
  bool credentials_pending = false;
  bool drop_requested = false;
  std::string pending_username;
  std::string pending_password;
  grpc::ClientContext* active_call = nullptr;
  std::thread worker;
  bool started = false;

  // Worker-only state.
  std::string username = options.username;
  std::string password = options.password;
  std::string token;
  bool need_full_load = true;
  bool ever_online = false;
  int relogins = 0;  // re-logins after UNAUTHENTICATED since the last authenticated success
  Backoff backoff{options.backoff_initial, options.backoff_max};

  // Status, guarded by status_mu.
  mutable std::mutex status_mu;
  ConnectionStatus status;
  RemoteClock clock;
  std::string shared_token;

  // Directory, guarded by model_mu.
  mutable std::mutex model_mu;
  DirectoryModel model;
  mutable std::shared_ptr<const DirectorySnapshot> snapshot;
  mutable bool publish_pending = false;
  mutable uint64_t snapshot_version = 0;
  mutable Steady::time_point last_publish{};
  std::vector<int64_t> refresh_ids;
  std::deque<EventRecord> history;
  // Set when a heartbeat shows a log head behind our last seq: the backend lost its log
  // (a new database), so only a full load makes the model right again.
  bool log_reset = false;

  std::atomic<bool> notified{false};
};

// Follows EventService.Subscribe with the callback API: each event is applied on the gRPC
// thread that delivered it (a short locked update), and the worker waits for OnDone.
class BackendClient::Impl::EventReader : public grpc::ClientReadReactor<v1::EventEnvelope> {
 public:
  EventReader(Impl* impl, const std::string& token, int64_t since_seq) : impl_(impl) {
    ctx_.AddMetadata("authorization", "Bearer " + token);
    request_.set_since_seq(since_seq);
    last_message_.store(Steady::now().time_since_epoch().count());
    impl_->events->async()->Subscribe(&ctx_, &request_, this);
    StartRead(&envelope_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows with the status
    last_message_.store(Steady::now().time_since_epoch().count());
    messages_.fetch_add(1);
    impl_->OnEnvelope(envelope_);
    StartRead(&envelope_);
  }

  void OnDone(const grpc::Status& s) override {
    // Notify under the lock: once the worker sees done_ it deletes this reader.
    std::lock_guard lock(impl_->mu);
    status_ = s;
    done_ = true;
    impl_->cv.notify_all();
  }

  void Cancel() { ctx_.TryCancel(); }
  bool done() const { return done_; }  // read under impl->mu
  const grpc::Status& status() const { return status_; }
  uint64_t messages() const { return messages_.load(); }
  Steady::duration SinceLastMessage() const {
    return Steady::now() - Steady::time_point(Steady::duration(last_message_.load()));
  }

 private:
  Impl* impl_;
  grpc::ClientContext ctx_;
  v1::SubscribeRequest request_;
  v1::EventEnvelope envelope_;
  std::atomic<Steady::rep> last_message_{0};
  std::atomic<uint64_t> messages_{0};
  bool done_ = false;
  grpc::Status status_;
};

void BackendClient::Impl::Pause(std::chrono::milliseconds delay) {
  std::unique_lock lock(mu);
  cv.wait_for(lock, delay, [&] { return stop_requested || credentials_pending; });
}

bool BackendClient::Impl::Connect(bool reconnecting) {
  SetState(reconnecting ? ConnectionState::kReconnecting : ConnectionState::kConnecting,
           "Connecting to " + options.address);
  const auto deadline = Steady::now() + options.call_timeout;
  for (;;) {
    auto state = channel->GetState(/*try_to_connect=*/true);
    if (state == GRPC_CHANNEL_READY) return true;
    {
      std::lock_guard lock(mu);
      if (stop_requested || credentials_pending) return false;
    }
    const auto now = Steady::now();
    if (now >= deadline) return false;
    // Short slices so Stop() is noticed promptly.
    const auto slice = std::min<Steady::duration>(deadline - now, std::chrono::milliseconds(100));
    channel->WaitForStateChange(state, std::chrono::system_clock::now() + slice);
  }
}

grpc::Status BackendClient::Impl::Login() {
  SetState(ConnectionState::kLoggingIn, "Signing in as " + username);
  v1::LoginRequest request;
  request.set_username(username);
  request.set_password(password);
  v1::LoginResponse response;
  grpc::Status s = Call(false, [&](grpc::ClientContext* ctx) { return auth->Login(ctx, request, &response); });
  if (!s.ok()) return s;
  SetToken(response.token());
  std::lock_guard lock(status_mu);
  const auto& user = response.user();
  status.username = user.username().empty() ? username : user.username();
  status.display_name = user.display_name().empty() ? status.username : user.display_name();
  status.roles.clear();
  for (int r : user.roles()) status.roles.push_back(static_cast<v1::Role>(r));
  status.room_ids.assign(user.room_ids().begin(), user.room_ids().end());
  return s;
}

grpc::Status BackendClient::Impl::ReadClock() {
  v1::ClockReading reading;
  grpc::Status s = Call(true, [&](grpc::ClientContext* ctx) {
    return exams->GetClock(ctx, v1::GetClockRequest(), &reading);
  });
  if (!s.ok()) return s;
  std::lock_guard lock(status_mu);
  clock.Anchor(ToUnixMs(reading.now()), reading.time_scale());
  status.clock_known = true;
  status.time_scale = clock.time_scale();
  return s;
}

grpc::Status BackendClient::Impl::Load() {
  SetState(ConnectionState::kLoading, "Loading exams, rooms and sessions");
  grpc::Status s = ReadClock();
  if (!s.ok()) return s;

  v1::ListExamsResponse exam_list;
  s = Call(true, [&](grpc::ClientContext* ctx) {
    return exams->ListExams(ctx, v1::ListExamsRequest(), &exam_list);
  });
  if (!s.ok()) return s;

  std::vector<v1::Exam> all_exams(exam_list.exams().begin(), exam_list.exams().end());
  std::vector<v1::Room> all_rooms;
  std::vector<v1::Session> all_sessions;
  // Subscribe from the oldest as_of_seq: events the newer lists already contain are then
  // delivered again, and the version check in DirectoryModel::Upsert ignores them.
  int64_t as_of_seq = -1;
  for (const auto& exam : all_exams) {
    v1::ListRoomsRequest rooms_request;
    rooms_request.set_exam_id(exam.id());
    v1::ListRoomsResponse rooms;
    s = Call(true, [&](grpc::ClientContext* ctx) { return exams->ListRooms(ctx, rooms_request, &rooms); });
    if (!s.ok()) return s;
    all_rooms.insert(all_rooms.end(), rooms.rooms().begin(), rooms.rooms().end());

    v1::ListSessionsRequest sessions_request;
    sessions_request.set_exam_id(exam.id());
    v1::ListSessionsResponse sessions;
    s = Call(true, [&](grpc::ClientContext* ctx) {
      return exams->ListSessions(ctx, sessions_request, &sessions);
    });
    if (!s.ok()) return s;
    all_sessions.insert(all_sessions.end(), sessions.sessions().begin(), sessions.sessions().end());
    as_of_seq = as_of_seq < 0 ? sessions.as_of_seq() : std::min(as_of_seq, sessions.as_of_seq());
  }
  if (as_of_seq < 0) as_of_seq = 0;
  {
    std::lock_guard lock(model_mu);
    model.Reset(std::move(all_exams), std::move(all_rooms), std::move(all_sessions), as_of_seq);
    refresh_ids.clear();
    log_reset = false;
    PublishLocked();
  }
  {
    std::lock_guard lock(status_mu);
    status.last_seq = as_of_seq;
  }
  Notify();
  return s;
}

void BackendClient::Impl::RefreshSessions() {
  std::vector<int64_t> ids;
  {
    std::lock_guard lock(model_mu);
    ids.swap(refresh_ids);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  for (int64_t id : ids) {
    v1::GetSessionRequest request;
    request.set_session_id(id);
    v1::Session session;
    grpc::Status s = Call(true, [&](grpc::ClientContext* ctx) { return exams->GetSession(ctx, request, &session); });
    if (!s.ok()) continue;  // the stream reports real trouble; a missed refresh is retried by the next event
    std::lock_guard lock(model_mu);
    if (model.Upsert(session)) publish_pending = true;
  }
  if (!ids.empty()) Notify();
}

void BackendClient::Impl::OnEnvelope(const v1::EventEnvelope& envelope) {
  const auto now = Steady::now();
  if (envelope.has_heartbeat()) {
    const auto& hb = envelope.heartbeat();
    bool reset = false;
    {
      std::lock_guard lock(model_mu);
      if (hb.head_seq() < model.last_seq()) reset = log_reset = true;
    }
    {
      std::lock_guard lock(status_mu);
      status.head_seq = hb.head_seq();
      if (hb.has_now()) clock.Reanchor(ToUnixMs(hb.now()), now);
    }
    if (reset) {
      std::lock_guard lock(mu);
      cv.notify_all();
    }
    Notify();
    return;
  }
  if (!envelope.has_event()) return;
  const auto& event = envelope.event();
  bool applied = false;
  int64_t last_seq = 0;
  bool wake_worker = false;
  {
    std::lock_guard lock(model_mu);
    const size_t refresh_before = refresh_ids.size();
    applied = model.Apply(event, &refresh_ids) == DirectoryModel::Applied::kApplied;
    last_seq = model.last_seq();
    if (applied) {
      EventRecord record;
      record.seq = event.seq();
      record.time_unix_ms = ToUnixMs(event.time());
      record.kind = event.kind();
      record.exam_id = event.exam_id();
      record.room_id = event.room_id();
      record.session_id = event.session_id();
      record.ref_id = event.ref_id();
      record.detail = event.detail();
      if (event.has_session()) {
        record.draw_number = event.session().draw_number();
        record.stage = static_cast<core::Stage>(event.session().stage());
        if (record.session_id == 0) record.session_id = event.session().id();
      }
      history.push_back(std::move(record));
      while (history.size() > options.event_history) history.pop_front();
      // Coalesce bursts: publish at most every few ms here; Snapshot() publishes what is
      // left, so the UI never sees a stale model.
      if (now - last_publish >= std::chrono::milliseconds(5)) {
        PublishLocked();
      } else {
        publish_pending = true;
      }
      wake_worker = refresh_ids.size() != refresh_before;
    }
  }
  {
    std::lock_guard lock(status_mu);
    status.last_seq = last_seq;
    if (applied) {
      status.events_received++;
      status.event_lag_ms = clock.RealAgeMs(ToUnixMs(event.time()), now);
    } else {
      status.duplicates_ignored++;
    }
  }
  if (wake_worker) {
    std::lock_guard lock(mu);
    cv.notify_all();
  }
  Notify();
}

grpc::Status BackendClient::Impl::FollowEvents() {
  int64_t since = 0;
  {
    std::lock_guard lock(model_mu);
    since = model.last_seq();
  }
  auto reader = std::make_unique<EventReader>(this, token, since);
  if (ever_online) {
    std::lock_guard lock(status_mu);
    status.reconnects++;
  }
  ever_online = true;
  SetState(ConnectionState::kOnline, "");
  bool got_message = false;
  bool cancelled = false;
  for (;;) {
    bool cancel = false;
    {
      std::unique_lock lock(mu);
      cv.wait_for(lock, std::chrono::milliseconds(250), [&] {
        return reader->done() || (!cancelled && (stop_requested || drop_requested || credentials_pending));
      });
      if (reader->done()) break;
      if (cancelled) continue;  // waiting for OnDone
      cancel = stop_requested || drop_requested || credentials_pending;
      drop_requested = false;
    }
    bool refresh = false;
    {
      std::lock_guard lock(model_mu);
      refresh = !refresh_ids.empty();
      if (log_reset) {
        need_full_load = true;
        cancel = true;
      }
    }
    if (!got_message && reader->messages() > 0) {
      got_message = true;
      // The backend accepted our token and the stream delivers: a later failure starts
      // its backoff small and may log in again.
      relogins = 0;
      backoff.Reset();
    }
    if (reader->SinceLastMessage() > options.stream_idle_timeout) cancel = true;
    if (cancel) {
      reader->Cancel();
      cancelled = true;
      continue;
    }
    if (refresh) RefreshSessions();
  }
  grpc::Status s = reader->status();
  if (reader->messages() > 0) {
    relogins = 0;
    backoff.Reset();
  }
  reader.reset();
  // Events that arrived just before the end may still wait for a publish.
  {
    std::lock_guard lock(model_mu);
    if (publish_pending) PublishLocked();
  }
  return s;
}

void BackendClient::Impl::Run() {
  enum class Step { kAwaitCredentials, kConnect, kLogin, kLoad, kFollow };
  // Credentials from the options sign in at once; SignIn() may replace them any time.
  Step step = username.empty() ? Step::kAwaitCredentials : Step::kConnect;
  if (step == Step::kAwaitCredentials) SetState(ConnectionState::kSignedOut, "Sign in to " + options.address);

  // What to do after UNAUTHENTICATED: log in again once, then give up with the message.
  auto on_unauthenticated = [&](const grpc::Status& s) {
    if (relogins == 0) {
      relogins++;
      SetToken("");
      return Step::kLogin;
    }
    SetState(ConnectionState::kAuthFailed, Describe(s));
    return Step::kAwaitCredentials;
  };
  auto on_transient = [&](const grpc::Status& s) {
    const auto delay = backoff.Next();
    SetState(ever_online ? ConnectionState::kReconnecting : ConnectionState::kConnecting,
             Describe(s) + " — retrying in " + std::to_string(delay.count()) + " ms");
    Pause(delay);
    return Step::kConnect;
  };

  while (!stopping()) {
    // New credentials from the login panel restart the sign-in from scratch.
    {
      std::lock_guard lock(mu);
      if (credentials_pending) {
        credentials_pending = false;
        username = pending_username;
        password = pending_password;
        token.clear();
        relogins = 0;
        need_full_load = true;
        backoff.Reset();
        std::lock_guard status_lock(status_mu);
        shared_token.clear();
        status.username = username;
        step = Step::kConnect;
      }
    }
    switch (step) {
      case Step::kAwaitCredentials: {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stop_requested || credentials_pending; });
        break;
      }
      case Step::kConnect: {
        if (Connect(ever_online)) {
          step = token.empty() ? Step::kLogin : (need_full_load ? Step::kLoad : Step::kFollow);
          // Resuming: one authenticated call proves the token and refreshes the clock.
          if (step == Step::kFollow) {
            grpc::Status s = ReadClock();
            if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
              step = on_unauthenticated(s);
            } else if (!s.ok()) {
              step = on_transient(s);
            }
          }
        } else if (!stopping() && !credentials_waiting()) {
          std::string why = options.address + " unreachable";
          if (SpeaksTls(options.address, std::chrono::milliseconds(500)))
            why = options.ca_pem.empty() ? "the backend at " + options.address +
                                               " speaks TLS: start the console with --ca <CA certificate PEM>"
                                         : "TLS handshake with " + options.address +
                                               " failed: is --ca the CA that signed the backend's certificate?";
          step = on_transient(grpc::Status(grpc::StatusCode::UNAVAILABLE, why));
        }
        break;
      }
      case Step::kLogin: {
        grpc::Status s = Login();
        if (s.ok()) {
          step = need_full_load ? Step::kLoad : Step::kFollow;
          if (step == Step::kFollow) {
            s = ReadClock();
            if (!s.ok()) step = on_transient(s);
          }
        } else if (IsTransient(s.error_code())) {
          step = on_transient(s);
        } else {
          // Wrong password, unknown user, disabled account: the user has to act.
          SetState(ConnectionState::kAuthFailed, Describe(s));
          SetToken("");
          step = Step::kAwaitCredentials;
        }
        break;
      }
      case Step::kLoad: {
        grpc::Status s = Load();
        if (s.ok()) {
          need_full_load = false;
          relogins = 0;
          backoff.Reset();
          step = Step::kFollow;
        } else if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
          step = on_unauthenticated(s);
        } else if (IsTransient(s.error_code())) {
          step = on_transient(s);
        } else {
          SetState(ConnectionState::kReconnecting, "Loading failed: " + Describe(s));
          Pause(backoff.Next());
          step = Step::kConnect;
        }
        break;
      }
      case Step::kFollow: {
        grpc::Status s = FollowEvents();
        if (stopping()) break;
        bool new_credentials = false;
        {
          std::lock_guard lock(mu);
          new_credentials = credentials_pending;
        }
        if (new_credentials) break;
        if (need_full_load) {
          step = Step::kLoad;
        } else if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
          step = on_unauthenticated(s);
        } else if (s.error_code() == grpc::StatusCode::OUT_OF_RANGE ||
                   s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
          // The backend can no longer replay from our seq: start over from its lists.
          need_full_load = true;
          step = Step::kLoad;
        } else {
          step = on_transient(s);
        }
        break;
      }
    }
  }
  SetState(ConnectionState::kStopped, "");
}

BackendClient::BackendClient(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

BackendClient::~BackendClient() { Stop(); }

void BackendClient::Start() {
  std::lock_guard lock(impl_->mu);
  if (impl_->started) return;
  impl_->started = true;
  impl_->worker = std::thread([impl = impl_.get()] { impl->Run(); });
}

void BackendClient::Stop() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stop_requested = true;
    if (impl_->active_call != nullptr) impl_->active_call->TryCancel();
    impl_->cv.notify_all();
  }
  if (impl_->worker.joinable()) impl_->worker.join();
  std::lock_guard lock(impl_->status_mu);
  impl_->status.state = ConnectionState::kStopped;
}

void BackendClient::SignIn(std::string username, std::string password) {
  std::lock_guard lock(impl_->mu);
  impl_->pending_username = std::move(username);
  impl_->pending_password = std::move(password);
  impl_->credentials_pending = true;
  if (impl_->active_call != nullptr) impl_->active_call->TryCancel();
  impl_->cv.notify_all();
}

void BackendClient::DropStream() {
  std::lock_guard lock(impl_->mu);
  impl_->drop_requested = true;
  impl_->cv.notify_all();
}

ConnectionStatus BackendClient::Status() const {
  std::lock_guard lock(impl_->status_mu);
  ConnectionStatus copy = impl_->status;
  copy.backend_now_unix_ms = impl_->clock.NowUnixMs();
  return copy;
}

std::shared_ptr<const DirectorySnapshot> BackendClient::Snapshot() const {
  impl_->notified.store(false);
  std::lock_guard lock(impl_->model_mu);
  if (impl_->publish_pending) impl_->PublishLocked();
  return impl_->snapshot;
}

std::vector<EventRecord> BackendClient::RecentEvents(size_t max) const {
  std::lock_guard lock(impl_->model_mu);
  const auto& h = impl_->history;
  const size_t n = std::min(max, h.size());
  return std::vector<EventRecord>(h.end() - static_cast<std::ptrdiff_t>(n), h.end());
}

int64_t BackendClient::BackendNowUnixMs() const {
  std::lock_guard lock(impl_->status_mu);
  return impl_->clock.NowUnixMs();
}

std::shared_ptr<grpc::Channel> BackendClient::Channel() const { return impl_->channel; }

std::string BackendClient::AccessToken() const {
  std::lock_guard lock(impl_->status_mu);
  return impl_->shared_token;
}

}  // namespace exam::net
