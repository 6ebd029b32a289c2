#include "backend/services/session_ops.h"
#include "backend/services/services.h"
#include "backend/store/upload_repository.h"
#include "exam/v1/upload.grpc.pb.h"

namespace exam::backend {
namespace {

namespace v1 = exam::v1;
using grpc::StatusCode;

class UploadServiceImpl final : public v1::UploadService::Service {
 public:
  explicit UploadServiceImpl(BackendContext& ctx) : ctx_(ctx) {}

  grpc::Status ListUploads(grpc::ServerContext* context, const v1::ListUploadsRequest* req,
                           v1::ListUploadsResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    return Guard([&] {
      std::lock_guard lock(ctx_.db.mutex());
      for (auto& row : store::UploadRepository(ctx_.db).List(req->exam_id(), req->incomplete_only())) {
        auto* f = resp->add_files();
        *f = std::move(row.proto);
        if (row.session_ended_at_ms) {
          const auto& exam = PlanCache().Get(ctx_.db, row.exam_id);
          *f->mutable_deadline() = ToTimestamp(core::UploadResumeDeadline(
              core::FromUnixMillis(*row.session_ended_at_ms), exam.plan.rules, core::Duration(row.deadline_extension_ms)));
        }
      }
      return grpc::Status::OK;
    });
  }

  grpc::Status RequestRecall(grpc::ServerContext* context, const v1::UploadActionRequest*, v1::UploadFile*) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    return NotYet();
  }
  grpc::Status ExtendDeadline(grpc::ServerContext* context, const v1::ExtendDeadlineRequest*, v1::UploadFile*) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    return NotYet();
  }
  grpc::Status MarkAbnormal(grpc::ServerContext* context, const v1::UploadActionRequest*, v1::UploadFile*) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    return NotYet();
  }
  grpc::Status NoteContact(grpc::ServerContext* context, const v1::UploadActionRequest*, v1::UploadFile*) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    return NotYet();
  }

 private:
  static grpc::Status NotYet() {
    return grpc::Status(StatusCode::UNIMPLEMENTED, "upload recovery actions are not part of this backend version yet");
  }
  BackendContext& ctx_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeUploadService(BackendContext& ctx) { return std::make_unique<UploadServiceImpl>(ctx); }

}  // namespace exam::backend
