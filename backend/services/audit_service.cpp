#include "backend/services/service_util.h"
#include "backend/services/services.h"
#include "exam/v1/audit.grpc.pb.h"

namespace exam::backend {
namespace {

namespace v1 = exam::v1;

class AuditServiceImpl final : public v1::AuditService::Service {
 public:
  explicit AuditServiceImpl(BackendContext& ctx) : ctx_(ctx) {}

  grpc::Status ListAudit(grpc::ServerContext* context, const v1::ListAuditRequest* req,
                         v1::ListAuditResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    const int limit = req->limit() <= 0 ? 100 : std::min(req->limit(), 1000);
    return Guard([&] {
      std::lock_guard lock(ctx_.db.mutex());
      auto st = ctx_.db.Prepare(
          "SELECT id, time, actor, action, target, before, after FROM audit WHERE id>? AND substr(target, 1, ?)=? "
          "ORDER BY id LIMIT ?");
      st.Bind(1, req->after_id())
          .Bind(2, static_cast<int64_t>(req->target_prefix().size()))
          .Bind(3, req->target_prefix())
          .Bind(4, limit);
      while (st.Step()) {
        auto* e = resp->add_entries();
        e->set_id(st.Int(0));
        *e->mutable_time() = MsToTimestamp(st.Int(1));
        e->set_actor(st.Text(2));
        e->set_action(st.Text(3));
        e->set_target(st.Text(4));
        e->set_before(st.Text(5));
        e->set_after(st.Text(6));
      }
      return grpc::Status::OK;
    });
  }

 private:
  BackendContext& ctx_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeAuditService(BackendContext& ctx) { return std::make_unique<AuditServiceImpl>(ctx); }

}  // namespace exam::backend
