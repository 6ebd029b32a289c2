#pragma once
// The console's connection to the exam backend. It signs in, loads the directory (exams,
// rooms, sessions), follows the change feed and keeps an immutable snapshot of it for the
// UI. All network work happens on its own threads: every public method returns at once,
// and none of them is a remote call.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "exam/v1/common.pb.h"
#include "net/directory_snapshot.h"

namespace grpc {
class Channel;
}

namespace exam::net {

enum class ConnectionState {
  kSignedOut,     // no credentials yet: waiting for SignIn()
  kConnecting,    // first connection to the backend
  kLoggingIn,     // AuthService.Login in flight
  kLoading,       // loading exams, rooms and sessions
  kOnline,        // following the change feed
  kReconnecting,  // lost the backend; backing off, then resuming from the last seq
  kAuthFailed,    // credentials refused; waiting for SignIn()
  kStopped,       // Stop() was called
};

std::string_view ConnectionStateName(ConnectionState state);

struct ClientOptions {
  std::string address;  // host:port
  std::string username;
  std::string password;
  // PEM roots for TLS; empty means a plain-text channel.
  std::string ca_pem;
  // Deadline of every unary call.
  std::chrono::milliseconds call_timeout{5000};
  // Reconnect delays: initial, doubling up to max, with jitter.
  std::chrono::milliseconds backoff_initial{250};
  std::chrono::milliseconds backoff_max{5000};
  // No event and no heartbeat for this long means the stream is dead.
  std::chrono::milliseconds stream_idle_timeout{30000};
  // How many recent events RecentEvents() keeps.
  size_t event_history = 500;
  // Called on a network thread whenever the snapshot or the status changed, at most once
  // until the next Snapshot() call. Must be cheap and thread-safe (glfwPostEmptyEvent).
  std::function<void()> on_change;
};

struct ConnectionStatus {
  ConnectionState state = ConnectionState::kSignedOut;
  // Why we are in this state (error text for AuthFailed / Reconnecting).
  std::string message;
  std::string address;
  std::string username;
  std::string display_name;
  std::vector<exam::v1::Role> roles;
  std::vector<int64_t> room_ids;
  int64_t last_seq = 0;   // last event applied
  int64_t head_seq = 0;   // newest seq in the backend's log, from heartbeats
  // Real milliseconds between an event happening on the backend and it being applied
  // here, for the latest event; negative while unknown.
  double event_lag_ms = -1.0;
  int reconnects = 0;            // streams re-established after a loss
  uint64_t events_received = 0;  // events applied
  uint64_t duplicates_ignored = 0;
  bool clock_known = false;
  int64_t backend_now_unix_ms = 0;  // backend clock now, projected from the last reading
  double time_scale = 1.0;
};

class BackendClient {
 public:
  explicit BackendClient(ClientOptions options);
  ~BackendClient();  // Stop()s
  BackendClient(const BackendClient&) = delete;
  BackendClient& operator=(const BackendClient&) = delete;

  // Starts the worker; signs in at once when the options carry a username.
  void Start();
  // Cancels calls and the stream in flight and joins the threads. Idempotent.
  void Stop();

  // New credentials (from the login panel); signs in again with them.
  void SignIn(std::string username, std::string password);

  ConnectionStatus Status() const;
  // The newest snapshot; never null (an empty, not-loaded one before the first load).
  std::shared_ptr<const DirectorySnapshot> Snapshot() const;
  // Up to `max` most recent events, oldest first.
  std::vector<EventRecord> RecentEvents(size_t max = static_cast<size_t>(-1)) const;
  // Backend clock now (unix ms), projected from the last reading; 0 while unknown.
  int64_t BackendNowUnixMs() const;

  // The channel to the backend, for other callers on their own threads (the outbox
  // sender, read calls such as ListUploads). Lives as long as this client.
  std::shared_ptr<grpc::Channel> Channel() const;
  // The bearer token of the current sign-in; empty while signed out or signing in again.
  std::string AccessToken() const;

  // Cancels the current event stream as a network failure would; the client then
  // reconnects and resumes from its last seq. For tests and the "reconnect" menu item.
  void DropStream();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace exam::net
