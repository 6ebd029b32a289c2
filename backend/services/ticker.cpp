#include "backend/services/session_ops.h"
#include "backend/services/services.h"

namespace exam::backend {

void TickSessions(BackendContext& ctx) {
  namespace v1 = exam::v1;
  ctx.Write([&](WriteScope& w) {
    store::ExamRepository repo(w.db());
    for (const auto& exam_rec : repo.ListExams()) {
      const auto& exam = PlanCache().Get(w.db(), exam_rec.proto.id());
      core::SessionMachine machine(exam.plan);
      for (auto& row : repo.ListSessions(exam_rec.proto.id(), 0)) {
        if (row.state.Ended()) continue;
        const auto before = row.state;
        if (!machine.Tick(row.state, w.now())) continue;
        SaveAndEmitSessionChange(ctx, w, before, row);
        if (row.state.Ended()) QueueStaffMessage(w, row.id, "ended", std::string(core::OutcomeNameEn(row.state.outcome)), 0);
      }
    }
    // A device is offline after 30 backend seconds without a heartbeat, but never sooner than
    // 10 real seconds, so fast demo clocks do not make devices flap.
    const auto quiet = std::max<core::Duration>(core::seconds(30),
        std::chrono::duration_cast<core::Duration>(std::chrono::duration<double>(10.0 * ctx.clock.time_scale())));
    for (const auto& [session_id, device] : repo.StaleOnlineDevices(w.now_ms() - quiet.count())) {
      auto row = repo.GetSession(session_id);
      if (!row) continue;
      repo.UpsertDevice(session_id, device, "", false, w.now_ms() - quiet.count());
      if (!row->state.Ended() && device == v1::DEVICE_KIND_EVIDENCE_PHONE) {
        RaiseAlert(ctx, w, *row, v1::ALERT_KIND_EVIDENCE_LOST, "evidence phone stopped reporting");
        repo.SaveSession(*row, w.now_ms());
      }
      w.Emit(ctx.SessionEvent(*row, v1::EVENT_KIND_DEVICE_CHANGED,
                              std::string(v1::DeviceKind_Name(static_cast<v1::DeviceKind>(device))) + " offline",
                              w.now()));
    }
  });
}

}  // namespace exam::backend
