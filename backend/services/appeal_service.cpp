#include "backend/services/session_ops.h"
#include "backend/services/services.h"
#include "backend/store/appeal_repository.h"
#include "exam/v1/appeal.grpc.pb.h"

namespace exam::backend {
namespace {

namespace v1 = exam::v1;
using grpc::StatusCode;

// A lease long enough to look at four photos, renewed by the console while the review is open.
constexpr int64_t kLeaseMs = 5 * 60 * 1000;

std::string AppealJson(const v1::Appeal& a) {
  return "{\"state\":" + std::to_string(a.state()) + ",\"version\":" + std::to_string(a.version()) +
         ",\"claimed_by\":\"" + a.claimed_by() + "\",\"decided_by\":\"" + a.decided_by() + "\"}";
}

class AppealServiceImpl final : public v1::AppealService::Service {
 public:
  explicit AppealServiceImpl(BackendContext& ctx) : ctx_(ctx) {}

  grpc::Status ListAppeals(grpc::ServerContext* context, const v1::ListAppealsRequest* req,
                           v1::ListAppealsResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    if (auto s = RequestChecks().OptionalId("exam_id", req->exam_id()).status(); !s.ok()) return s;
    return Guard([&] {
      std::lock_guard lock(ctx_.db.mutex());
      const int64_t now = core::ToUnixMillis(ctx_.clock.Now());
      for (auto& a : store::AppealRepository(ctx_.db).List(req->exam_id(), req->open_only(), now))
        *resp->add_appeals() = std::move(a);
      return grpc::Status::OK;
    });
  }

  grpc::Status GetAppeal(grpc::ServerContext* context, const v1::GetAppealRequest* req, v1::Appeal* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    if (auto s = RequestChecks().Id("appeal_id", req->appeal_id()).status(); !s.ok()) return s;
    return Guard([&] {
      std::lock_guard lock(ctx_.db.mutex());
      *resp = Fetch(ctx_.db, req->appeal_id(), core::ToUnixMillis(ctx_.clock.Now()), true);
      return grpc::Status::OK;
    });
  }

  grpc::Status ClaimAppeal(grpc::ServerContext* context, const v1::ClaimAppealRequest* req, v1::Appeal* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    if (auto s = RequestChecks().Id("appeal_id", req->appeal_id()).status(); !s.ok()) return s;
    return Guard([&] {
      return ctx_.Write([&](WriteScope& w) {
        // Claims renew leases, so they are not replayed: each one must extend the lease.
        v1::Appeal a = Fetch(w.db(), req->appeal_id(), w.now_ms(), false);
        if (a.state() != v1::APPEAL_STATE_OPEN)
          Refuse(StatusCode::FAILED_PRECONDITION, "appeal already decided by " + a.decided_by());
        if (!a.claimed_by().empty() && a.claimed_by() != who.user->display_name)
          Refuse(StatusCode::ABORTED, "appeal is being reviewed by " + a.claimed_by());
        store::AppealRepository(w.db()).Claim(a.id(), who.user->display_name, w.now_ms() + kLeaseMs);
        *resp = Fetch(w.db(), a.id(), w.now_ms(), false);
        EmitUpdate(w, *resp, "claimed");
        return grpc::Status::OK;
      });
    });
  }

  grpc::Status ReleaseAppeal(grpc::ServerContext* context, const v1::ReleaseAppealRequest* req,
                             v1::Appeal* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    if (auto s = RequestChecks().Id("appeal_id", req->appeal_id()).status(); !s.ok()) return s;
    return Guard([&] {
      return ctx_.Write([&](WriteScope& w) {
        v1::Appeal a = Fetch(w.db(), req->appeal_id(), w.now_ms(), false);
        if (a.claimed_by() == who.user->display_name) {
          store::AppealRepository(w.db()).Release(a.id());
          a = Fetch(w.db(), a.id(), w.now_ms(), false);
          EmitUpdate(w, a, "released");
        }
        *resp = a;
        return grpc::Status::OK;
      });
    });
  }

  grpc::Status DecideAppeal(grpc::ServerContext* context, const v1::DecideAppealRequest* req,
                            v1::Appeal* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    RequestChecks check;
    check.Id("appeal_id", req->appeal_id())
        .Range("expected_version", req->expected_version(), 0)
        .Enum("decision", req->decision(), v1::AppealDecision_descriptor(), Need::kRequired)
        .Rule(req->decision() != v1::APPEAL_DECISION_REJECT || !req->reason().empty(), "a rejection needs a reason")
        .Text("reason", req->reason(), kMaxReasonChars);
    if (!check.ok()) return check.status();
    return Guard([&] {
      return ctx_.Write([&](WriteScope& w) {
        return Idempotent(w, who, req->idempotency_key(), "DecideAppeal", resp, [&] {
          v1::Appeal a = Fetch(w.db(), req->appeal_id(), w.now_ms(), false);
          if (a.state() != v1::APPEAL_STATE_OPEN)
            Refuse(StatusCode::FAILED_PRECONDITION,
                   "appeal already " + std::string(a.state() == v1::APPEAL_STATE_APPROVED ? "approved" : "rejected") +
                       " by " + a.decided_by());
          if (req->expected_version() != a.version())
            Refuse(StatusCode::ABORTED, "appeal changed since you opened it (version " +
                                            std::to_string(req->expected_version()) + ", now " +
                                            std::to_string(a.version()) + "); reload it");
          if (!a.claimed_by().empty() && a.claimed_by() != who.user->display_name)
            Refuse(StatusCode::ABORTED, "appeal is being reviewed by " + a.claimed_by());
          const bool approve = req->decision() == v1::APPEAL_DECISION_APPROVE;
          store::AppealRepository(w.db()).Decide(a.id(), approve, who.user->display_name, w.now_ms(), req->reason());
          auto row = store::ExamRepository(w.db()).GetSession(a.session_id());
          const auto& exam = PlanCache().Get(w.db(), row->exam_id);
          const auto before = row->state;
          core::SessionMachine(exam.plan).AppealDecided(row->state, approve, w.now());
          SaveAndEmitSessionChange(ctx_, w, before, *row);
          QueueStaffMessage(w, row->id, approve ? "appeal-approved" : "appeal-rejected", req->reason(), a.id());
          *resp = Fetch(w.db(), a.id(), w.now_ms(), false);
          store::AuditLog(w.db()).Append(w.now_ms(), who.Actor(), "appeal.decide", "appeal/" + std::to_string(a.id()),
                                         AppealJson(a), AppealJson(*resp));
          EmitUpdate(w, *resp, approve ? "approved" : "rejected");
          return grpc::Status::OK;
        });
      });
    });
  }

 private:
  static v1::Appeal Fetch(store::Database& db, int64_t id, int64_t now_ms, bool with_photos) {
    auto a = store::AppealRepository(db).Get(id, now_ms, with_photos);
    if (!a) Refuse(StatusCode::NOT_FOUND, "no such appeal");
    return std::move(*a);
  }

  void EmitUpdate(WriteScope& w, const v1::Appeal& a, const std::string& detail) {
    v1::Event e;
    e.set_kind(v1::EVENT_KIND_APPEAL_UPDATED);
    e.set_exam_id(a.exam_id());
    e.set_room_id(a.room_id());
    e.set_session_id(a.session_id());
    e.set_ref_id(a.id());
    e.set_detail(detail);
    w.Emit(std::move(e));
  }

  BackendContext& ctx_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeAppealService(BackendContext& ctx) { return std::make_unique<AppealServiceImpl>(ctx); }

}  // namespace exam::backend
