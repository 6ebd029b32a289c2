#include "backend/services/session_ops.h"
#include "backend/services/services.h"
#include "exam/v1/appeal.grpc.pb.h"

namespace exam::backend {
namespace {

namespace v1 = exam::v1;
using grpc::StatusCode;

// A lease long enough to look at four photos, renewed by the console while the review is open.
constexpr int64_t kLeaseMs = 5 * 60 * 1000;

constexpr const char* kAppealColumns =
    "a.id, a.session_id, s.exam_id, s.room_id, s.candidate_name, a.stage, a.filed_at, a.deadline, e.start_time, "
    "a.state, a.version, a.claimed_by, a.lease_expires_at, a.decided_by, a.decided_at, a.reason";
constexpr const char* kAppealJoin =
    " FROM appeals a JOIN sessions s ON s.id=a.session_id JOIN exams e ON e.id=s.exam_id ";

v1::Appeal ReadAppeal(const store::Statement& st, int64_t now_ms) {
  v1::Appeal a;
  a.set_id(st.Int(0));
  a.set_session_id(st.Int(1));
  a.set_exam_id(st.Int(2));
  a.set_room_id(st.Int(3));
  a.set_candidate_name(st.Text(4));
  a.set_stage(static_cast<v1::Stage>(st.Int(5)));
  *a.mutable_filed_at() = MsToTimestamp(st.Int(6));
  *a.mutable_deadline() = MsToTimestamp(st.Int(7));
  *a.mutable_exam_start() = MsToTimestamp(st.Int(8));
  a.set_state(static_cast<v1::AppealState>(st.Int(9)));
  a.set_version(st.Int(10));
  // An expired lease is as good as none.
  if (!st.IsNull(12) && st.Int(12) > now_ms) {
    a.set_claimed_by(st.Text(11));
    *a.mutable_lease_expires_at() = MsToTimestamp(st.Int(12));
  }
  a.set_decided_by(st.Text(13));
  if (!st.IsNull(14)) *a.mutable_decided_at() = MsToTimestamp(st.Int(14));
  a.set_reason(st.Text(15));
  return a;
}

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
    return Guard([&] {
      std::lock_guard lock(ctx_.db.mutex());
      auto st = ctx_.db.Prepare(std::string("SELECT ") + kAppealColumns + kAppealJoin +
                                "WHERE (?=0 OR s.exam_id=?) AND (?=0 OR a.state=1) ORDER BY a.deadline, a.id");
      st.Bind(1, req->exam_id()).Bind(2, req->exam_id()).Bind(3, req->open_only() ? 1 : 0);
      const int64_t now = core::ToUnixMillis(ctx_.clock.Now());
      while (st.Step()) *resp->add_appeals() = ReadAppeal(st, now);
      return grpc::Status::OK;
    });
  }

  grpc::Status GetAppeal(grpc::ServerContext* context, const v1::GetAppealRequest* req, v1::Appeal* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    return Guard([&] {
      std::lock_guard lock(ctx_.db.mutex());
      *resp = Fetch(ctx_.db, req->appeal_id(), core::ToUnixMillis(ctx_.clock.Now()), true);
      return grpc::Status::OK;
    });
  }

  grpc::Status ClaimAppeal(grpc::ServerContext* context, const v1::ClaimAppealRequest* req, v1::Appeal* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    return Guard([&] {
      return ctx_.Write([&](WriteScope& w) {
        // Claims renew leases, so they are not replayed: each one must extend the lease.
        v1::Appeal a = Fetch(w.db(), req->appeal_id(), w.now_ms(), false);
        if (a.state() != v1::APPEAL_STATE_OPEN)
          Refuse(StatusCode::FAILED_PRECONDITION, "appeal already decided by " + a.decided_by());
        if (!a.claimed_by().empty() && a.claimed_by() != who.user->display_name)
          Refuse(StatusCode::ABORTED, "appeal is being reviewed by " + a.claimed_by());
        w.db()
            .Prepare("UPDATE appeals SET claimed_by=?, lease_expires_at=?, version=version+1 WHERE id=?")
            .Bind(1, who.user->display_name)
            .Bind(2, w.now_ms() + kLeaseMs)
            .Bind(3, a.id())
            .Run();
        *resp = Fetch(w.db(), a.id(), w.now_ms(), false);
        EmitUpdate(w, *resp, "claimed");
        return grpc::Status::OK;
      });
    });
  }

  grpc::Status ReleaseAppeal(grpc::ServerContext* context, const v1::ReleaseAppealRequest* req,
                             v1::Appeal* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    return Guard([&] {
      return ctx_.Write([&](WriteScope& w) {
        v1::Appeal a = Fetch(w.db(), req->appeal_id(), w.now_ms(), false);
        if (a.claimed_by() == who.user->display_name) {
          w.db()
              .Prepare("UPDATE appeals SET claimed_by='', lease_expires_at=NULL, version=version+1 WHERE id=?")
              .Bind(1, a.id())
              .Run();
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
    if (req->decision() != v1::APPEAL_DECISION_APPROVE && req->decision() != v1::APPEAL_DECISION_REJECT)
      return grpc::Status(StatusCode::INVALID_ARGUMENT, "decision must be approve or reject");
    if (req->decision() == v1::APPEAL_DECISION_REJECT && req->reason().empty())
      return grpc::Status(StatusCode::INVALID_ARGUMENT, "a rejection needs a reason");
    if (req->reason().size() > 2000) return grpc::Status(StatusCode::INVALID_ARGUMENT, "reason longer than 2000 bytes");
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
          w.db()
              .Prepare(
                  "UPDATE appeals SET state=?, decided_by=?, decided_at=?, reason=?, claimed_by='', "
                  "lease_expires_at=NULL, version=version+1 WHERE id=?")
              .Bind(1, approve ? 2 : 3)
              .Bind(2, who.user->display_name)
              .Bind(3, w.now_ms())
              .Bind(4, req->reason())
              .Bind(5, a.id())
              .Run();
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
    auto st = db.Prepare(std::string("SELECT ") + kAppealColumns + kAppealJoin + "WHERE a.id=?");
    st.Bind(1, id);
    if (!st.Step()) Refuse(StatusCode::NOT_FOUND, "no such appeal");
    v1::Appeal a = ReadAppeal(st, now_ms);
    auto caps = db.Prepare(std::string("SELECT time, similarity") + (with_photos ? ", image" : "") +
                           " FROM face_captures WHERE session_id=? AND passed=0 ORDER BY time");
    caps.Bind(1, a.session_id());
    while (caps.Step()) {
      auto* c = a.add_captures();
      *c->mutable_time() = MsToTimestamp(caps.Int(0));
      c->set_similarity(caps.Real(1));
      if (with_photos) c->set_image(caps.Blob(2));
    }
    if (with_photos) {
      auto ph = db.Prepare("SELECT id_front, id_back, handheld_id FROM appeals WHERE id=?");
      ph.Bind(1, id);
      if (ph.Step()) {
        a.set_id_front(ph.Blob(0));
        a.set_id_back(ph.Blob(1));
        a.set_handheld_id(ph.Blob(2));
      }
      auto reg = db.Prepare("SELECT registration_photo FROM sessions WHERE id=?");
      reg.Bind(1, a.session_id());
      if (reg.Step()) a.set_registration_photo(reg.Blob(0));
    }
    return a;
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
