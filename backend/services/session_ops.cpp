#include "backend/services/session_ops.h"

#include "backend/store/proctoring_repository.h"
#include "backend/store/upload_repository.h"

namespace exam::backend {

ExamPlanCache& PlanCache() {
  // Never destroyed: a backend's ticker thread may still be reading it while the process
  // runs its exit handlers (an in-process server that is not shut down, as the fuzz target
  // keeps one); a destroyed map there was a use-after-free found by fuzz_backend_rpcs.
  static ExamPlanCache* cache = new ExamPlanCache;
  return *cache;
}

const store::ExamRecord& ExamPlanCache::Get(store::Database& db, int64_t exam_id) {
  std::lock_guard lock(mu_);
  const auto key = std::make_pair(db.instance_id(), exam_id);
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  auto rec = store::ExamRepository(db).GetExam(exam_id);
  if (!rec) Refuse(grpc::StatusCode::NOT_FOUND, "no such exam");
  return cache_.emplace(key, std::move(*rec)).first->second;
}

void EmitUploadChange(BackendContext& ctx, WriteScope& w, int64_t session_id, int64_t file_id,
                      const std::string& detail, bool recount) {
  store::ExamRepository sessions(w.db());
  auto session = sessions.GetSession(session_id);
  if (!session) return;
  if (recount) {
    const int pending = store::UploadRepository(w.db()).CountUnfinished(session_id);
    if (pending != session->pending_uploads) {
      session->pending_uploads = pending;
      sessions.SaveSession(*session, w.now_ms());
    }
  }
  w.Emit(ctx.SessionEvent(*session, exam::v1::EVENT_KIND_UPLOAD_PROGRESS, detail, w.now(), file_id));
}

grpc::StatusCode CodeFor(core::Refusal r) {
  switch (r) {
    case core::Refusal::kNone: return grpc::StatusCode::OK;
    case core::Refusal::kTooEarly:
    case core::Refusal::kRetryTooSoon: return grpc::StatusCode::FAILED_PRECONDITION;
    case core::Refusal::kEnded:
    case core::Refusal::kEntryClosed: return grpc::StatusCode::FAILED_PRECONDITION;
    default: return grpc::StatusCode::FAILED_PRECONDITION;
  }
}

int SaveAndEmitSessionChange(BackendContext& ctx, WriteScope& w, const core::SessionState& before,
                             store::SessionRow& row, const std::string& detail) {
  store::ExamRepository(w.db()).SaveSession(row, w.now_ms());
  const auto& s = row.state;
  int n = 0;
  auto emit = [&](exam::v1::EventKind kind, const std::string& d) {
    w.Emit(ctx.SessionEvent(row, kind, d, w.now()));
    ++n;
  };
  if (!before.interruption_started_at && s.interruption_started_at) emit(exam::v1::EVENT_KIND_INTERRUPTION_STARTED, detail);
  if (before.interruption_started_at && !s.interruption_started_at && !s.Ended())
    emit(exam::v1::EVENT_KIND_INTERRUPTION_ENDED, detail);
  if (before.stage != s.stage) {
    if (s.Ended())
      emit(exam::v1::EVENT_KIND_SESSION_ENDED, std::string(core::OutcomeNameEn(s.outcome)));
    else
      emit(exam::v1::EVENT_KIND_STAGE_CHANGED, std::string(core::StageNameEn(s.stage)));
  } else if (before.current_question != s.current_question) {
    emit(exam::v1::EVENT_KIND_STAGE_CHANGED, "question " + std::to_string(s.current_question));
  }
  return n;
}

int64_t RaiseAlert(BackendContext& ctx, WriteScope& w, store::SessionRow& row, exam::v1::AlertKind kind,
                   const std::string& detail) {
  const int64_t id = store::ProctoringRepository(w.db()).RaiseAlert(row.id, static_cast<int>(kind), detail, w.now_ms());
  row.open_alerts += 1;
  exam::v1::Event e = ctx.SessionEvent(row, exam::v1::EVENT_KIND_ALERT_RAISED, detail, w.now(), id);
  auto* a = e.mutable_alert();
  a->set_id(id);
  a->set_session_id(row.id);
  a->set_kind(kind);
  a->set_detail(detail);
  *a->mutable_raised_at() = ToTimestamp(w.now());
  w.Emit(std::move(e));
  return id;
}

int64_t QueueStaffMessage(WriteScope& w, int64_t session_id, const std::string& kind, const std::string& text,
                          int64_t ref_id) {
  return store::ProctoringRepository(w.db()).QueueStaffMessage(session_id, kind, text, ref_id, w.now_ms());
}

}  // namespace exam::backend
