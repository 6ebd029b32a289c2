#pragma once
// The durable outbox of staff actions (approve an appeal, recall an upload, warn a
// candidate, ...). An action is written here first, with an idempotency key made once;
// a sender thread (net/outbox_sender.h) delivers it and records the outcome, retrying with
// the same key so the backend applies it once however often it is sent. Rows outlive the
// console: what was pending or in flight at exit is sent again at the next start.
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace google::protobuf {
class Message;
}

namespace exam::local {

class LocalStore;

enum class ActionState {
  kPending = 0,    // waiting to be sent (first time, or again after a transient failure)
  kSending = 1,    // a call is in flight
  kConfirmed = 2,  // the backend answered OK; the response is stored
  kFailed = 3,     // the backend refused it; the error says why
};

std::string_view ActionStateName(ActionState state);

// One action as the UI and the sender see it: a plain copy of its row.
struct OutboxAction {
  int64_t id = 0;
  std::string idempotency_key;  // 32 hex digits
  std::string method;           // full gRPC name, "/exam.v1.AppealService/DecideAppeal"
  std::string request;          // serialized request, idempotency_key included
  std::string label;            // for people: "批准申诉 #7 / Approve appeal 7"
  std::string target;           // what it acts on, for per-row state: "appeal:7"
  int64_t created_unix_ms = 0;
  ActionState state = ActionState::kPending;
  int attempts = 0;                // calls started
  int64_t not_before_unix_ms = 0;  // pending after a failure: not sent again before this
  int error_code = 0;              // gRPC status of the last failed attempt, 0 when none
  std::string error_message;       // the server's message (or the transport's)
  std::string response;            // serialized response once confirmed
  int64_t updated_unix_ms = 0;

  bool finished() const { return state == ActionState::kConfirmed || state == ActionState::kFailed; }
};

struct OutboxOptions {
  // Confirmed actions are kept this long for the UI's "confirmed" marks (an exam day), then
  // pruned at open: the backend has them, and their notes name candidates.
  std::chrono::hours keep_confirmed{24};
};

// What Outbox::Wipe removed.
struct OutboxWipe {
  int finished = 0;     // confirmed or failed
  int undelivered = 0;  // pending or sending, only when asked to
};

int64_t UnixNowMs();

class Outbox {
 public:
  // Rows left in kSending by a console that stopped mid-call become pending again (their
  // fate is unknown; the key makes resending safe) and are due at once.
  explicit Outbox(LocalStore& store, OutboxOptions options = {});

  // Stores an action and returns its id. Sets the request's `idempotency_key` to a fresh
  // random key. Throws std::invalid_argument when `method` is not a known gRPC method taking
  // this message type, or the message has no string `idempotency_key` field (every action
  // RPC has one; without it a retry could apply the action twice).
  int64_t Enqueue(std::string_view method, const google::protobuf::Message& request, std::string_view label,
                  std::string_view target);

  std::optional<OutboxAction> Get(int64_t id);
  // Newest first.
  std::vector<OutboxAction> Recent(size_t max);
  std::vector<OutboxAction> ForTarget(std::string_view target);
  // Pending or sending.
  size_t Unfinished();

  // ---- for the sender ----------------------------------------------------------------
  // Actions go out one at a time in the order they were enqueued, so a decision never
  // overtakes the claim before it. Returns the oldest unfinished action when it is pending
  // and due at `now_ms`; otherwise nothing, with *next_due_ms set to when the oldest is due
  // (INT64_MAX when there is nothing to send or a call is in flight).
  std::optional<OutboxAction> NextDue(int64_t now_ms, int64_t* next_due_ms = nullptr);
  // Each returns false (changing nothing) when the row is not in the state it expects:
  // pending → sending (counts an attempt),
  bool MarkSending(int64_t id);
  // sending → confirmed; the request keeps no pictures or other bytes fields from then on
  // (a violation's snapshot is the backend's now; the views only read ids and texts),
  bool MarkConfirmed(int64_t id, std::string_view response);
  // sending → pending, due again at `not_before_ms`, with the error for the UI,
  bool MarkRetry(int64_t id, int error_code, std::string_view message, int64_t not_before_ms);
  // sending → failed.
  bool MarkFailed(int64_t id, int error_code, std::string_view message);

  // Deletes confirmed actions last updated before `before_ms`; returns how many.
  int PruneConfirmed(int64_t before_ms);
  // Deletes every finished action, and the undelivered ones too when `discard_undelivered`
  // (they then never reach the backend), then compacts the file so nothing deleted can be
  // read back from it. Throws LocalStoreError.
  OutboxWipe Wipe(bool discard_undelivered);

  // Called after every Enqueue (on the enqueuing thread), so the sender wakes at once.
  void SetEnqueueListener(std::function<void()> listener);

 private:
  LocalStore& store_;
  std::mutex listener_mu_;
  std::function<void()> listener_;
};

}  // namespace exam::local
