#include "net/outbox_sender.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <limits>
#include <mutex>
#include <thread>

#include "net/backend_client.h"
#include "net/backoff.h"
#include "store/outbox.h"

namespace exam::net {
namespace {

using Steady = std::chrono::steady_clock;
using local::OutboxAction;

std::string Describe(const grpc::Status& s) {
  std::string text = s.error_message();
  if (text.empty()) text = "gRPC status " + std::to_string(static_cast<int>(s.error_code()));
  return text;
}

// A refused token makes the client reconnect, which proves its token and signs in again.
OutboxSenderOptions WithRelogin(BackendClient& client, OutboxSenderOptions options) {
  if (!options.on_unauthenticated) options.on_unauthenticated = [&client] { client.DropStream(); };
  return options;
}

}  // namespace

OutboxOutcome ClassifyOutboxStatus(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return OutboxOutcome::kConfirmed;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::CANCELLED:  // the backend shut down under the call
      return OutboxOutcome::kRetry;
    case grpc::StatusCode::UNAUTHENTICATED: return OutboxOutcome::kAwaitToken;
    default:
      // FAILED_PRECONDITION, INVALID_ARGUMENT, PERMISSION_DENIED, NOT_FOUND, ALREADY_EXISTS,
      // ABORTED (a lost claim or a stale version): sending again cannot change the answer.
      return OutboxOutcome::kFailed;
  }
}

struct OutboxSender::Impl {
  Impl(local::Outbox& o, std::shared_ptr<grpc::Channel> channel, std::function<std::string()> token,
       OutboxSenderOptions opts)
      : outbox(o),
        stub(std::move(channel)),
        access_token(std::move(token)),
        options(std::move(opts)),
        backoff(options.backoff_initial, options.backoff_max) {}

  void Run();
  // Sends one action and waits for its answer; Stop() cancels it.
  grpc::Status Send(const OutboxAction& action, const std::string& token, std::string* response);
  // Handles the answer to one attempt.
  void Record(const OutboxAction& action, const std::string& token, const grpc::Status& status,
              const std::string& response);
  // Sleeps until `deadline`, a Wake() or Stop(), whichever comes first.
  void WaitUntil(Steady::time_point deadline) {
    std::unique_lock lock(mu);
    cv.wait_until(lock, deadline, [&] { return stop_requested || wake; });
  }
  bool stopping() {
    std::lock_guard lock(mu);
    return stop_requested;
  }
  void Wake() {
    std::lock_guard lock(mu);
    wake = true;
    cv.notify_all();
  }
  void Changed() {
    if (options.on_change) options.on_change();
  }

  local::Outbox& outbox;
  grpc::GenericStub stub;
  const std::function<std::string()> access_token;
  const OutboxSenderOptions options;

  // Worker control, guarded by mu.
  std::mutex mu;
  std::condition_variable cv;
  bool stop_requested = false;
  bool wake = false;
  bool started = false;
  grpc::ClientContext* active_call = nullptr;
  std::thread worker;

  // Worker-only state.
  Backoff backoff;
  std::string rejected_token;  // the backend said UNAUTHENTICATED to it
};

grpc::Status OutboxSender::Impl::Send(const OutboxAction& action, const std::string& token, std::string* response) {
  if (action.request.size() > kMaxActionRequestBytes)
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "not sent: the action is " + std::to_string(action.request.size()) +
                            " bytes, and the backend takes at most " +
                            std::to_string(kMaxActionRequestBytes / (1024 * 1024)) + " MiB a request");
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + options.call_timeout);  // gRPC wants system_clock
  ctx.set_wait_for_ready(true);
  ctx.AddMetadata("authorization", "Bearer " + token);
  grpc::Slice slice(action.request);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer reply;
  {
    std::lock_guard lock(mu);
    if (stop_requested) return grpc::Status(grpc::StatusCode::CANCELLED, "the console is stopping");
    active_call = &ctx;
  }
  // The completion has its own lock: Stop() cancels while holding `mu`, and gRPC may run
  // the completion on the cancelling thread.
  std::mutex done_mu;
  std::condition_variable done_cv;
  bool done = false;
  grpc::Status status;
  stub.UnaryCall(&ctx, action.method, grpc::StubOptions(), &request, &reply, [&](grpc::Status s) {
    std::lock_guard lock(done_mu);
    status = std::move(s);
    done = true;
    done_cv.notify_all();
  });
  {
    std::unique_lock lock(done_mu);
    done_cv.wait(lock, [&] { return done; });
  }
  {
    std::lock_guard lock(mu);
    active_call = nullptr;
  }
  if (status.ok()) {
    grpc::Slice bytes;
    if (reply.Valid() && !reply.DumpToSingleSlice(&bytes).ok())
      return grpc::Status(grpc::StatusCode::INTERNAL, "unreadable response");
    response->assign(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
  }
  return status;
}

void OutboxSender::Impl::Record(const OutboxAction& action, const std::string& token, const grpc::Status& status,
                                const std::string& response) {
  const int code = static_cast<int>(status.error_code());
  if (stopping() && status.error_code() == grpc::StatusCode::CANCELLED) {
    // Our own cancellation: the backend may or may not have applied it, so it is sent again
    // (same key) at the next start.
    outbox.MarkRetry(action.id, code, "interrupted: the console stopped", 0);
    return;
  }
  switch (ClassifyOutboxStatus(status.error_code())) {
    case OutboxOutcome::kConfirmed:
      outbox.MarkConfirmed(action.id, response);
      backoff.Reset();
      break;
    case OutboxOutcome::kRetry: {
      const bool server_error =
          status.error_code() == grpc::StatusCode::INTERNAL || status.error_code() == grpc::StatusCode::UNKNOWN;
      if (server_error && action.attempts + 1 >= options.max_server_error_attempts) {
        outbox.MarkFailed(action.id, code, Describe(status));
        backoff.Reset();
        break;
      }
      const auto delay = backoff.Next();
      outbox.MarkRetry(action.id, code, Describe(status), local::UnixNowMs() + delay.count());
      break;
    }
    case OutboxOutcome::kAwaitToken:
      rejected_token = token;
      outbox.MarkRetry(action.id, code, Describe(status), 0);
      if (options.on_unauthenticated) options.on_unauthenticated();
      break;
    case OutboxOutcome::kFailed:
      outbox.MarkFailed(action.id, code, Describe(status));
      backoff.Reset();
      break;
  }
}

void OutboxSender::Impl::Run() {
  constexpr auto kForever = Steady::time_point::max();
  for (;;) {
    {
      std::lock_guard lock(mu);
      if (stop_requested) return;
      wake = false;  // cleared before looking, so an Enqueue from now on is not missed
    }
    try {
      const std::string token = access_token();
      if (token.empty() || token == rejected_token) {
        // Signed out, or the backend refused this token: nothing can go out. The token
        // source has no signal of its own, so look again after a short pause (and at once on
        // Wake()) while actions wait, and only on Wake() when none do.
        WaitUntil(outbox.Unfinished() > 0 ? Steady::now() + options.backoff_initial : kForever);
        continue;
      }
      const int64_t now = local::UnixNowMs();
      int64_t next_due = std::numeric_limits<int64_t>::max();
      auto action = outbox.NextDue(now, &next_due);
      if (!action) {
        WaitUntil(next_due == std::numeric_limits<int64_t>::max()
                      ? kForever
                      : Steady::now() + std::chrono::milliseconds(next_due - now));
        continue;
      }
      if (!outbox.MarkSending(action->id)) continue;
      Changed();
      std::string response;
      const grpc::Status status = Send(*action, token, &response);
      Record(*action, token, status, response);
      Changed();
    } catch (const std::exception&) {
      // The local file failed (disk full, I/O error): pause and try again; a row left in
      // "sending" is recovered when the outbox is next opened.
      WaitUntil(Steady::now() + backoff.Next());
    }
  }
}

OutboxSender::OutboxSender(local::Outbox& outbox, std::shared_ptr<grpc::Channel> channel,
                           std::function<std::string()> access_token, OutboxSenderOptions options)
    : impl_(std::make_unique<Impl>(outbox, std::move(channel), std::move(access_token), std::move(options))) {}

OutboxSender::OutboxSender(local::Outbox& outbox, BackendClient& client, OutboxSenderOptions options)
    : OutboxSender(
          outbox, client.Channel(), [&client] { return client.AccessToken(); },
          WithRelogin(client, std::move(options))) {}

OutboxSender::~OutboxSender() { Stop(); }

void OutboxSender::Start() {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->started) return;
    impl_->started = true;
  }
  impl_->outbox.SetEnqueueListener([impl = impl_.get()] { impl->Wake(); });
  impl_->worker = std::thread([impl = impl_.get()] { impl->Run(); });
}

void OutboxSender::Stop() {
  bool was_running = false;
  {
    std::lock_guard lock(impl_->mu);
    was_running = impl_->started && !impl_->stop_requested;
    impl_->stop_requested = true;
    if (impl_->active_call != nullptr) impl_->active_call->TryCancel();
    impl_->cv.notify_all();
  }
  // Outside `mu`: Enqueue calls the listener (which takes `mu`) under the outbox's lock.
  if (was_running) impl_->outbox.SetEnqueueListener(nullptr);
  if (impl_->worker.joinable()) impl_->worker.join();
}

void OutboxSender::Wake() { impl_->Wake(); }

}  // namespace exam::net
