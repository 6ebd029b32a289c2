#pragma once
// Delivers the outbox (store/outbox.h): one worker thread takes the oldest due action,
// sends its stored bytes with gRPC's generic API under the current bearer token, and
// records the outcome. Transient failures go back to pending with the same idempotency key
// and an exponential backoff; refusals become failed with the backend's message. Nothing
// here runs on the caller's thread: Enqueue on the Outbox wakes the worker.
#include <grpcpp/support/status_code_enum.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace grpc {
class Channel;
}

namespace exam::local {
class Outbox;
}

namespace exam::net {

class BackendClient;

// What an answer means for an action.
enum class OutboxOutcome {
  kConfirmed,   // OK
  kRetry,       // the backend was away, slow, overloaded, or the transport broke
  kAwaitToken,  // UNAUTHENTICATED: send again once a new token is there
  kFailed,      // refused on its merits (precondition, argument, permission, lost a race)
};

OutboxOutcome ClassifyOutboxStatus(grpc::StatusCode code);

// The most a request may weigh: the contract's receive limit (examd refuses more with
// RESOURCE_EXHAUSTED, which is otherwise a transient "busy" to be retried). A bigger action
// fails at once, unsent, instead of being retried for ever.
inline constexpr size_t kMaxActionRequestBytes = 16 * 1024 * 1024;

struct OutboxSenderOptions {
  // Deadline of one call. Calls wait for the channel to connect (wait_for_ready), so an
  // action made while offline goes out as soon as the backend is back within this.
  std::chrono::milliseconds call_timeout{10000};
  // Delays between attempts: initial, doubling up to max, with jitter.
  std::chrono::milliseconds backoff_initial{250};
  std::chrono::milliseconds backoff_max{10000};
  // INTERNAL and UNKNOWN may be a broken connection or a bug on the backend: after this
  // many attempts the action fails with the message instead of retrying forever.
  int max_server_error_attempts = 5;
  // Called on the worker thread after every state change of an action. Must be cheap and
  // thread-safe (glfwPostEmptyEvent).
  std::function<void()> on_change;
  // Called on the worker thread when the backend refused the token, so the owner can sign
  // in again; the action waits for a different token.
  std::function<void()> on_unauthenticated;
};

// The outbox (and the client, for the second constructor) must outlive the sender.
class OutboxSender {
 public:
  // `access_token` returns the current bearer token, empty while signed out; it is called
  // on the worker thread.
  OutboxSender(local::Outbox& outbox, std::shared_ptr<grpc::Channel> channel, std::function<std::string()> access_token,
               OutboxSenderOptions options = {});
  // Uses the client's channel and token; a refused token makes the client reconnect, which
  // signs in again.
  OutboxSender(local::Outbox& outbox, BackendClient& client, OutboxSenderOptions options = {});
  ~OutboxSender();  // Stop()s
  OutboxSender(const OutboxSender&) = delete;
  OutboxSender& operator=(const OutboxSender&) = delete;

  void Start();
  // Cancels the call in flight (its action stays pending, to be sent again with its key)
  // and joins the worker. Idempotent.
  void Stop();
  // Looks at the outbox and the token again now (new token, or an action enqueued on
  // another Outbox object over the same file).
  void Wake();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace exam::net
