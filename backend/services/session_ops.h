#pragma once
// Session changes shared by the candidate service, proctor actions, appeal decisions and
// the ticker: load a session with its exam plan, apply a rule, save, emit what changed.
#include <map>
#include <mutex>

#include "backend/services/service_util.h"
#include "core/session_machine.h"

namespace exam::backend {

// Exams do not change once created; plans are cached to keep hot paths off the exam table.
// Keyed by the store as well: a process may run several backends (tests), each with exam 1.
class ExamPlanCache {
 public:
  const store::ExamRecord& Get(store::Database& db, int64_t exam_id);

 private:
  std::mutex mu_;
  std::map<std::pair<uint64_t, int64_t>, store::ExamRecord> cache_;
};

ExamPlanCache& PlanCache();

// Saves `row` and emits the events that the change from `before` to row.state implies:
// stage change, interruption start/end, session end. Returns how many were emitted.
int SaveAndEmitSessionChange(BackendContext& ctx, WriteScope& w, const core::SessionState& before,
                             store::SessionRow& row, const std::string& detail = {});

// Raises an alert for proctors (and bumps the session's open alert count; caller saves).
int64_t RaiseAlert(BackendContext& ctx, WriteScope& w, store::SessionRow& row, exam::v1::AlertKind kind,
                   const std::string& detail);

// Queues a message for the candidate's devices (picked up by Heartbeat).
int64_t QueueStaffMessage(WriteScope& w, int64_t session_id, const std::string& kind, const std::string& text,
                          int64_t ref_id);

// Publishes a change to one upload file (EVENT_KIND_UPLOAD_PROGRESS with the session); with
// `recount` it first brings the session's count of unfinished files up to date.
void EmitUploadChange(BackendContext& ctx, WriteScope& w, int64_t session_id, int64_t file_id,
                      const std::string& detail, bool recount);

grpc::StatusCode CodeFor(core::Refusal r);

}  // namespace exam::backend
