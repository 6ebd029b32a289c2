#include "backend/services/session_ops.h"
#include "backend/services/services.h"
#include "backend/store/appeal_repository.h"
#include "backend/store/upload_repository.h"

namespace exam::backend {

namespace {

// An upload with no chunk for this long (backend time) is interrupted (断点): the device
// resumes from the committed offset when it comes back.
constexpr core::Duration kUploadQuietLimit = core::minutes(2);

// Sessions changed per transaction: a burst (every latecomer forfeits at entry close) is
// committed, and its events published, in slices rather than one long transaction.
constexpr size_t kSessionsPerTransaction = 64;

}  // namespace

namespace {

// Files still "recording" once their session ended wait for upload; files quiet for too
// long are interrupted. Both in slices, like the session rules.
void TickUploads(BackendContext& ctx) {
  namespace v1 = exam::v1;
  for (;;) {
    const size_t changed = ctx.Write([&](WriteScope& w) {
      store::UploadRepository repo(w.db());
      auto recorded = repo.RecordingOfEndedSessions(static_cast<int>(kSessionsPerTransaction));
      auto quiet = repo.QuietUploads(w.now_ms() - kUploadQuietLimit.count(), static_cast<int>(kSessionsPerTransaction));
      for (const int64_t id : recorded) {
        auto row = repo.Get(id);
        if (!row || !repo.Apply(id, row->proto.version(), {v1::UPLOAD_STATE_PENDING, row->proto.committed(), std::nullopt, 0}))
          continue;
        repo.AddHistory(id, w.now_ms(), "pending", "backend", "session ended");
        EmitUploadChange(ctx, w, row->proto.session_id(), id, "UPLOAD_STATE_PENDING", false);
      }
      for (const int64_t id : quiet) {
        auto row = repo.Get(id);
        if (!row || !repo.Apply(id, row->proto.version(),
                                {v1::UPLOAD_STATE_INTERRUPTED, row->proto.committed(), std::nullopt, 0}))
          continue;
        repo.AddHistory(id, w.now_ms(), "interrupted", "backend",
                        "no data for " + std::to_string(kUploadQuietLimit.count() / 60000) + " min at " +
                            std::to_string(row->proto.committed()) + "/" + std::to_string(row->proto.size()));
        EmitUploadChange(ctx, w, row->proto.session_id(), id, "UPLOAD_STATE_INTERRUPTED", false);
      }
      return recorded.size() + quiet.size();
    });
    if (changed < kSessionsPerTransaction) break;
  }
}

// Appeals with under 5 minutes left escalate, and breached ones are announced, once each,
// so every console can alert on them without polling the queue.
void TickAppeals(BackendContext& ctx) {
  namespace v1 = exam::v1;
  ctx.Write([&](WriteScope& w) {
    store::ExamRepository sessions(w.db());
    const int64_t under = std::chrono::duration_cast<core::Duration>(core::minutes(5)).count();
    for (const auto& e : store::AppealRepository(w.db()).TakeEscalations(w.now_ms(), under, 256)) {
      auto row = sessions.GetSession(e.session_id);
      if (!row) continue;
      w.Emit(ctx.SessionEvent(*row, v1::EVENT_KIND_APPEAL_UPDATED, e.level == 2 ? "breached" : "escalated", w.now(),
                              e.appeal_id));
    }
  });
}

}  // namespace

void TickSessions(BackendContext& ctx) {
  namespace v1 = exam::v1;
  std::vector<int64_t> exam_ids;
  {
    std::lock_guard lock(ctx.db.mutex());
    exam_ids = store::ExamRepository(ctx.db).ExamIds();
  }
  for (const int64_t exam_id : exam_ids) {
    for (;;) {
      const size_t changed = ctx.Write([&](WriteScope& w) {
        store::ExamRepository repo(w.db());
        const auto& exam = PlanCache().Get(w.db(), exam_id);
        core::SessionMachine machine(exam.plan);
        size_t n = 0;
        for (auto& row : repo.ListSessionsDue(exam_id, exam.plan, w.now_ms())) {
          const auto before = row.state;
          if (!machine.Tick(row.state, w.now())) continue;
          SaveAndEmitSessionChange(ctx, w, before, row);
          if (row.state.Ended())
            QueueStaffMessage(w, row.id, "ended", std::string(core::OutcomeNameEn(row.state.outcome)), 0);
          if (++n == kSessionsPerTransaction) break;
        }
        return n;
      });
      if (changed < kSessionsPerTransaction) break;
    }
  }
  ctx.Write([&](WriteScope& w) {
    store::ExamRepository repo(w.db());
    for (const auto& [device, seen_ms] : ctx.presence.TakeDirty()) repo.TouchDevice(device.first, device.second, seen_ms);
  });
  // A device is offline after 30 backend seconds without a heartbeat, but never sooner than
  // 10 real seconds, so fast demo clocks do not make devices flap.
  const auto quiet = std::max<core::Duration>(core::seconds(30),
      std::chrono::duration_cast<core::Duration>(std::chrono::duration<double>(10.0 * ctx.clock.time_scale())));
  for (;;) {
    const size_t marked = ctx.Write([&](WriteScope& w) {
      store::ExamRepository repo(w.db());
      const int64_t cutoff = w.now_ms() - quiet.count();
      size_t n = 0;
      for (const auto& [session_id, device] : repo.StaleOnlineDevices(cutoff)) {
        if (n == kSessionsPerTransaction) break;
        if (ctx.presence.LastSeen({session_id, device}) >= cutoff) continue;
        auto row = repo.GetSession(session_id);
        if (!row) continue;
        ++n;
        repo.UpsertDevice(session_id, device, "", false, cutoff);
        if (!row->state.Ended() && device == v1::DEVICE_KIND_EVIDENCE_PHONE) {
          RaiseAlert(ctx, w, *row, v1::ALERT_KIND_EVIDENCE_LOST, "evidence phone stopped reporting");
          repo.SaveSession(*row, w.now_ms());
        }
        w.Emit(ctx.SessionEvent(*row, v1::EVENT_KIND_DEVICE_CHANGED,
                                std::string(v1::DeviceKind_Name(static_cast<v1::DeviceKind>(device))) + " offline",
                                w.now()));
      }
      return n;
    });
    if (marked < kSessionsPerTransaction) break;
  }
  TickUploads(ctx);
  TickAppeals(ctx);
}

}  // namespace exam::backend
