#include "backend/services/session_ops.h"
#include "backend/services/services.h"
#include "backend/store/upload_repository.h"
#include "exam/v1/review.grpc.pb.h"

namespace exam::backend {
namespace {

namespace v1 = exam::v1;
using grpc::StatusCode;

class ReviewServiceImpl final : public v1::ReviewService::Service {
 public:
  explicit ReviewServiceImpl(BackendContext& ctx) : ctx_(ctx) {}

  grpc::Status ListReviewSessions(grpc::ServerContext* context, const v1::ListReviewSessionsRequest* req,
                                  v1::ListReviewSessionsResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    return Guard([&] {
      std::lock_guard lock(ctx_.db.mutex());
      for (const auto& s : store::ExamRepository(ctx_.db).ListReviewSessions(req->exam_id())) {
        auto* r = resp->add_sessions();
        r->set_session_id(s.id);
        r->set_draw_number(static_cast<int32_t>(s.draw_number));
        r->set_exam_id(s.exam_id);
        r->set_incomplete(s.pending_uploads > 0);
      }
      return grpc::Status::OK;
    });
  }

  grpc::Status ListTracks(grpc::ServerContext* context, const v1::ListTracksRequest* req,
                          v1::ListTracksResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    return Guard([&] {
      std::lock_guard lock(ctx_.db.mutex());
      // Recordings arrive through resumable uploads; what is not in yet is listed as missing
      // so the reviewer knows a gap is a missing file, not a quiet candidate.
      for (const auto& row : store::UploadRepository(ctx_.db).ListForSession(req->session_id())) {
        const auto& f = row.proto;
        if (f.state() == v1::UPLOAD_STATE_COMPLETE) continue;
        auto* m = resp->add_missing();
        m->set_kind(f.kind());
        m->set_device(f.device());
        m->set_state(f.state());
        m->set_committed(f.committed());
        m->set_size(f.size());
        m->set_abnormal_reason(f.abnormal_reason());
      }
      return grpc::Status::OK;
    });
  }

  grpc::Status ListMarkers(grpc::ServerContext* context, const v1::ListMarkersRequest* req,
                           v1::ListMarkersResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    return Guard([&] {
      for (const auto& e : ctx_.events.ReadSession(req->session_id())) {
        v1::Marker m;
        *m.mutable_time() = e.time();
        switch (e.kind()) {
          case v1::EVENT_KIND_QUESTION_SHOWN:
            m.set_kind(v1::MARKER_KIND_QUESTION_SHOWN);
            m.set_question(std::atoi(e.detail().c_str()));
            break;
          case v1::EVENT_KIND_ANSWER_COMPLETE:
            m.set_kind(v1::MARKER_KIND_ANSWER_COMPLETE);
            m.set_question(std::atoi(e.detail().c_str()));
            break;
          case v1::EVENT_KIND_ALERT_RAISED:
          case v1::EVENT_KIND_INTERRUPTION_STARTED:
          case v1::EVENT_KIND_HELP_RAISED:
          case v1::EVENT_KIND_VIOLATION_RECORDED:
            m.set_kind(v1::MARKER_KIND_FLAG);
            // Help text may carry identity; graders get the kind only.
            m.set_detail(v1::EventKind_Name(e.kind()));
            break;
          default:
            continue;
        }
        *resp->add_markers() = std::move(m);
      }
      return grpc::Status::OK;
    });
  }

  grpc::Status ReadMedia(grpc::ServerContext* context, const v1::ReadMediaRequest* req,
                         grpc::ServerWriter<v1::MediaChunk>*) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    return grpc::Status(StatusCode::NOT_FOUND, "no recording with track id " + std::to_string(req->track_id()));
  }

  grpc::Status SubmitScore(grpc::ServerContext* context, const v1::SubmitScoreRequest*, v1::SubmitScoreResponse*) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    return grpc::Status(StatusCode::UNIMPLEMENTED, "scoring is not part of this backend version yet");
  }

  grpc::Status AddAnnotation(grpc::ServerContext* context, const v1::AddAnnotationRequest*,
                             v1::AddAnnotationResponse*) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    return grpc::Status(StatusCode::UNIMPLEMENTED, "annotations are not part of this backend version yet");
  }

 private:
  BackendContext& ctx_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeReviewService(BackendContext& ctx) { return std::make_unique<ReviewServiceImpl>(ctx); }

}  // namespace exam::backend
