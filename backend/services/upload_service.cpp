#include "backend/services/session_ops.h"
#include "backend/services/services.h"
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
      auto st = ctx_.db.Prepare(
          "SELECT f.id, f.session_id, s.draw_number, s.candidate_name, f.device, COALESCE(d.model, ''), f.kind, "
          "f.state, f.size, f.committed, f.last_progress_at, s.ended_at, s.exam_id, f.deadline_extension_ms, "
          "f.recall_requested, f.version FROM upload_files f JOIN sessions s ON s.id=f.session_id LEFT JOIN devices d "
          "ON d.session_id=f.session_id AND d.kind=f.device WHERE s.exam_id=? AND (?=0 OR f.state<>5) ORDER BY "
          "f.session_id, f.device, f.id");
      st.Bind(1, req->exam_id()).Bind(2, req->incomplete_only() ? 1 : 0);
      while (st.Step()) {
        auto* f = resp->add_files();
        f->set_id(st.Int(0));
        f->set_session_id(st.Int(1));
        f->set_draw_number(static_cast<int32_t>(st.Int(2)));
        f->set_candidate_name(st.Text(3));
        f->set_device(static_cast<v1::DeviceKind>(st.Int(4)));
        f->set_device_model(st.Text(5));
        f->set_kind(static_cast<v1::TrackKind>(st.Int(6)));
        f->set_state(static_cast<v1::UploadState>(st.Int(7)));
        f->set_size(st.Int(8));
        f->set_committed(st.Int(9));
        if (!st.IsNull(10)) *f->mutable_last_progress_at() = MsToTimestamp(st.Int(10));
        if (!st.IsNull(11)) {
          const auto& exam = PlanCache().Get(ctx_.db, st.Int(12));
          *f->mutable_deadline() = ToTimestamp(core::UploadResumeDeadline(
              core::FromUnixMillis(st.Int(11)), exam.plan.rules, core::Duration(st.Int(13))));
        }
        f->set_recall_requested(st.Int(14) != 0);
        f->set_version(st.Int(15));
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
