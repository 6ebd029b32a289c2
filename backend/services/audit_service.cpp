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
    // Above the cap is served capped (the contract says so); below zero is a client bug.
    RequestChecks check;
    check.Range("after_id", req->after_id(), 0)
        .Range("limit", req->limit(), 0)
        .Text("target_prefix", req->target_prefix(), kMaxLabelChars);
    if (!check.ok()) return check.status();
    const int limit = req->limit() <= 0 ? 100 : std::min(req->limit(), 1000);
    return Guard([&] {
      std::lock_guard lock(ctx_.db.mutex());
      for (auto& e : store::AuditLog(ctx_.db).List(req->after_id(), req->target_prefix(), limit))
        *resp->add_entries() = std::move(e);
      return grpc::Status::OK;
    });
  }

 private:
  BackendContext& ctx_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeAuditService(BackendContext& ctx) { return std::make_unique<AuditServiceImpl>(ctx); }

}  // namespace exam::backend
