#include "backend/services/service_util.h"
#include "backend/services/services.h"
#include "exam/v1/exam.grpc.pb.h"

namespace exam::backend {
namespace {

class ExamServiceImpl final : public exam::v1::ExamService::Service {
 public:
  explicit ExamServiceImpl(BackendContext& ctx) : ctx_(ctx) {}

  grpc::Status ListExams(grpc::ServerContext* context, const exam::v1::ListExamsRequest*,
                         exam::v1::ListExamsResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    return Guard([&] {
      std::lock_guard lock(ctx_.db.mutex());
      for (auto& e : store::ExamRepository(ctx_.db).ListExams()) *resp->add_exams() = std::move(e.proto);
      return grpc::Status::OK;
    });
  }

  grpc::Status ListRooms(grpc::ServerContext* context, const exam::v1::ListRoomsRequest* req,
                         exam::v1::ListRoomsResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    if (auto s = RequestChecks().OptionalId("exam_id", req->exam_id()).status(); !s.ok()) return s;
    return Guard([&] {
      std::lock_guard lock(ctx_.db.mutex());
      for (auto& r : store::ExamRepository(ctx_.db).ListRooms(req->exam_id()))
        if (who.MaySeeRoom(r.id())) *resp->add_rooms() = std::move(r);
      return grpc::Status::OK;
    });
  }

  grpc::Status ListSessions(grpc::ServerContext* context, const exam::v1::ListSessionsRequest* req,
                            exam::v1::ListSessionsResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    RequestChecks check;
    check.Id("exam_id", req->exam_id()).OptionalId("room_id", req->room_id());
    if (!check.ok()) return check.status();
    if (req->room_id() > 0 && !who.MaySeeRoom(req->room_id()))
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "room not assigned to you");
    return Guard([&] {
      // The store lock makes the snapshot and as_of_seq consistent: no write interleaves.
      std::lock_guard lock(ctx_.db.mutex());
      store::ExamRepository repo(ctx_.db);
      for (const auto& row : repo.ListSessions(req->exam_id(), req->room_id()))
        if (who.MaySeeRoom(row.room_id)) *resp->add_sessions() = repo.ToProto(row, who.RedactIdentity());
      resp->set_as_of_seq(ctx_.events.Head());
      return grpc::Status::OK;
    });
  }

  grpc::Status GetSession(grpc::ServerContext* context, const exam::v1::GetSessionRequest* req,
                          exam::v1::Session* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    if (auto s = RequestChecks().Id("session_id", req->session_id()).status(); !s.ok()) return s;
    return Guard([&] {
      std::lock_guard lock(ctx_.db.mutex());
      store::ExamRepository repo(ctx_.db);
      auto row = repo.GetSession(req->session_id());
      if (!row || !who.MaySeeRoom(row->room_id))
        return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such session");
      *resp = repo.ToProto(*row, who.RedactIdentity());
      return grpc::Status::OK;
    });
  }

  grpc::Status GetClock(grpc::ServerContext* context, const exam::v1::GetClockRequest*,
                        exam::v1::ClockReading* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    *resp->mutable_now() = ToTimestamp(ctx_.clock.Now());
    resp->set_time_scale(ctx_.clock.time_scale());
    return grpc::Status::OK;
  }

 private:
  BackendContext& ctx_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeExamService(BackendContext& ctx) { return std::make_unique<ExamServiceImpl>(ctx); }

}  // namespace exam::backend
