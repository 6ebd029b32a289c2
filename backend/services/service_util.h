#pragma once
// Small pieces every service handler uses: authorization at the top, one place that turns
// exceptions into statuses, refusal that rolls a transaction back, and idempotent replay.
#include <google/protobuf/util/time_util.h>

#include "backend/services/backend_context.h"
#include "backend/services/request_checks.h"
#include "backend/store/event_log.h"

namespace exam::backend {

// Thrown inside BackendContext::Write to roll back and answer with `status`.
struct Refused {
  grpc::Status status;
};

[[noreturn]] inline void Refuse(grpc::StatusCode code, std::string message) {
  throw Refused{grpc::Status(code, std::move(message))};
}

// Runs a handler body, mapping Refused and store errors to statuses.
template <class F>
grpc::Status Guard(F&& body) {
  try {
    return body();
  } catch (const Refused& r) {
    return r.status;
  } catch (const std::exception& e) {
    return Internal(e);
  }
}

#define EXAM_AUTHORIZE(ctx, context, who)                              \
  Principal who;                                                       \
  if (auto _auth = (ctx).Authorize((context), &(who)); !_auth.ok()) { \
    return _auth;                                                      \
  }

// Inside a write: replays the stored response for (actor, key) or runs body and stores
// its response. An empty key is refused for staff calls (every decision must be
// retry-safe); devices may omit it.
template <class F>
grpc::Status RunBody(F&& body) {
  if constexpr (std::is_void_v<decltype(body())>) {
    body();
    return grpc::Status::OK;
  } else {
    return body();
  }
}

// Only successful answers are stored: a refused call can be retried with the same key once
// its precondition holds.
template <class Resp, class F>
grpc::Status Idempotent(WriteScope& w, const Principal& who, const std::string& key, const std::string& method,
                        Resp* resp, F&& body, bool* replayed = nullptr) {
  if (key.empty()) {
    if (who.Staff()) Refuse(grpc::StatusCode::INVALID_ARGUMENT, "idempotency_key is required");
    return RunBody(body);
  }
  if (key.size() > 128) Refuse(grpc::StatusCode::INVALID_ARGUMENT, "idempotency_key longer than 128 characters");
  store::IdempotencyStore idem(w.db());
  bool mismatch = false;
  if (auto stored = idem.Find(who.Actor(), key, method, &mismatch)) {
    resp->ParseFromString(*stored);
    if (replayed) *replayed = true;
    return grpc::Status::OK;
  }
  if (mismatch) Refuse(grpc::StatusCode::INVALID_ARGUMENT, "idempotency_key already used for another call");
  grpc::Status status = RunBody(body);
  if (status.ok()) idem.Store(who.Actor(), key, method, resp->SerializeAsString(), w.now_ms());
  return status;
}

inline google::protobuf::Timestamp ToTimestamp(core::TimePoint t) {
  return google::protobuf::util::TimeUtil::MillisecondsToTimestamp(core::ToUnixMillis(t));
}
inline google::protobuf::Timestamp MsToTimestamp(int64_t ms) {
  return google::protobuf::util::TimeUtil::MillisecondsToTimestamp(ms);
}

}  // namespace exam::backend
