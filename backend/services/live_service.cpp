#include "backend/services/media_relay.h"
#include "backend/services/session_ops.h"
#include "backend/services/services.h"
#include "backend/store/proctoring_repository.h"
#include "exam/v1/live.grpc.pb.h"

namespace exam::backend {
namespace {

namespace v1 = exam::v1;
using grpc::StatusCode;

class LiveServiceImpl final : public v1::LiveService::Service {
 public:
  explicit LiveServiceImpl(BackendContext& ctx) : ctx_(ctx) {}

  // Parameters on the first message, then packets from the latest keyframe on, then live.
  // While the device is not pushing the stream stays open and sends nothing (the console
  // tells a stall by the time since the last packet).
  grpc::Status WatchMedia(grpc::ServerContext* context, const v1::WatchMediaRequest* req,
                          grpc::ServerWriter<v1::MediaPacket>* writer) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    RequestChecks check;
    check.Id("session_id", req->session_id())
        .Enum("track", req->track(), v1::TrackKind_descriptor(), Need::kRequired)
        .Enum("quality", req->quality(), v1::Quality_descriptor(), Need::kOptional);
    if (!check.ok()) return check.status();
    // Unspecified means the small tile stream: the cheap one.
    const v1::Quality quality = req->quality() == v1::QUALITY_FULL ? v1::QUALITY_FULL : v1::QUALITY_TILE;
    auto status = Guard([&] {
      std::lock_guard lock(ctx_.db.mutex());
      auto row = store::ExamRepository(ctx_.db).GetSession(req->session_id());
      // One answer for both, as for ProctorAction: sessions of other rooms are not probed.
      if (!row || !who.MaySeeRoom(row->room_id))
        return grpc::Status(StatusCode::NOT_FOUND, "no such session in your rooms");
      return grpc::Status::OK;
    });
    if (!status.ok()) return status;
    auto channel = relay_->Get(MediaRelay::Key{req->session_id(), req->track(), quality});
    MediaRelay::Channel::Cursor cursor;
    v1::MediaPacket packet;
    while (!context->IsCancelled() && !ctx_.hub.closed()) {
      if (!channel->Next(cursor, &packet, std::chrono::steady_clock::now() + std::chrono::milliseconds(250)))
        continue;
      if (!writer->Write(packet)) return grpc::Status::OK;
    }
    if (ctx_.hub.closed()) return grpc::Status(StatusCode::UNAVAILABLE, "backend shutting down");
    return grpc::Status::OK;
  }

  grpc::Status ProctorAction(grpc::ServerContext* context, const v1::ProctorActionRequest* req,
                             v1::ProctorActionResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    const bool violation = req->kind() == v1::PROCTOR_ACTION_KIND_RECORD_VIOLATION;
    RequestChecks check;
    check.Id("session_id", req->session_id())
        .Enum("kind", req->kind(), v1::ProctorActionKind_descriptor(), Need::kRequired)
        .Range("alert_id", req->alert_id(), req->kind() == v1::PROCTOR_ACTION_KIND_ACKNOWLEDGE ? 1 : 0)
        .Text("text", req->text(), kMaxMessageChars)
        .Rule(req->kind() != v1::PROCTOR_ACTION_KIND_TERMINATE || !req->text().empty(), "ending an exam needs a reason")
        .Rule((req->kind() != v1::PROCTOR_ACTION_KIND_MESSAGE && req->kind() != v1::PROCTOR_ACTION_KIND_WARN) ||
                  !req->text().empty(),
              "a message needs text")
        // The category is stored with every action, so an unknown one is refused whatever the kind.
        .Enum("category", req->category(), v1::ViolationCategory_descriptor(),
              violation ? Need::kRequired : Need::kOptional)
        .Bytes("snapshot", req->snapshot(), kMaxSnapshotBytes);
    if (!check.ok()) return check.status();
    return Guard([&] {
      return ctx_.Write([&](WriteScope& w) {
        bool replayed = false;
        auto status = Idempotent(
            w, who, req->idempotency_key(), "ProctorAction", resp,
            [&] {
              store::ExamRepository repo(w.db());
              auto row = repo.GetSession(req->session_id());
              if (!row || !who.MaySeeRoom(row->room_id)) Refuse(StatusCode::NOT_FOUND, "no such session in your rooms");
              const auto before = row->state;
              const std::string before_json = "{\"stage\":" + std::to_string(static_cast<int>(before.stage)) +
                                              ",\"outcome\":" + std::to_string(static_cast<int>(before.outcome)) +
                                              ",\"open_alerts\":" + std::to_string(row->open_alerts) + "}";
              std::string action;
              switch (req->kind()) {
                case v1::PROCTOR_ACTION_KIND_ACKNOWLEDGE: {
                  if (!store::ProctoringRepository(w.db()).AcknowledgeAlert(req->alert_id(), row->id, who.Actor(),
                                                                             w.now_ms()))
                    Refuse(StatusCode::FAILED_PRECONDITION, "alert already acknowledged or unknown");
                  row->open_alerts = std::max(0, row->open_alerts - 1);
                  repo.SaveSession(*row, w.now_ms());
                  w.Emit(ctx_.SessionEvent(*row, v1::EVENT_KIND_ALERT_ACKNOWLEDGED, who.Actor(), w.now(), req->alert_id()));
                  action = "alert.acknowledge";
                  break;
                }
                case v1::PROCTOR_ACTION_KIND_MESSAGE:
                case v1::PROCTOR_ACTION_KIND_WARN: {
                  const bool warn = req->kind() == v1::PROCTOR_ACTION_KIND_WARN;
                  QueueStaffMessage(w, row->id, warn ? "warning" : "message", req->text(), 0);
                  w.Emit(ctx_.SessionEvent(*row, v1::EVENT_KIND_PROCTOR_MESSAGE, warn ? "warning" : "message", w.now()));
                  action = warn ? "candidate.warn" : "candidate.message";
                  break;
                }
                case v1::PROCTOR_ACTION_KIND_RECORD_VIOLATION:
                  action = "violation.record";
                  break;
                case v1::PROCTOR_ACTION_KIND_TERMINATE: {
                  if (row->state.Ended()) Refuse(StatusCode::FAILED_PRECONDITION, "the session has already ended");
                  const auto& exam = PlanCache().Get(w.db(), row->exam_id);
                  core::SessionMachine(exam.plan).Terminate(row->state, w.now());
                  SaveAndEmitSessionChange(ctx_, w, before, *row, req->text());
                  QueueStaffMessage(w, row->id, "terminated", req->text(), 0);
                  action = "session.terminate";
                  break;
                }
                default:
                  Refuse(StatusCode::INVALID_ARGUMENT, "unknown action kind");
              }
              store::NewProctorAction record;
              record.session_id = row->id;
              record.actor = who.Actor();
              record.kind = static_cast<int>(req->kind());
              record.category = static_cast<int>(req->category());
              record.text = req->text();
              record.snapshot = req->snapshot();
              record.time_ms = w.now_ms();
              resp->set_action_id(store::ProctoringRepository(w.db()).RecordAction(record));
              if (req->kind() == v1::PROCTOR_ACTION_KIND_RECORD_VIOLATION)
                w.Emit(ctx_.SessionEvent(*row, v1::EVENT_KIND_VIOLATION_RECORDED,
                                         v1::ViolationCategory_Name(req->category()), w.now(), resp->action_id()));
              const std::string after_json = "{\"stage\":" + std::to_string(static_cast<int>(row->state.stage)) +
                                             ",\"outcome\":" + std::to_string(static_cast<int>(row->state.outcome)) +
                                             ",\"open_alerts\":" + std::to_string(row->open_alerts) + "}";
              store::AuditLog(w.db()).Append(w.now_ms(), who.Actor(), action, "session/" + std::to_string(row->id),
                                             before_json, after_json);
            },
            &replayed);
        resp->set_replayed(replayed);
        return status;
      });
    });
  }

  grpc::Status ListAlerts(grpc::ServerContext* context, const v1::ListAlertsRequest* req,
                          v1::ListAlertsResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    if (auto s = RequestChecks().OptionalId("exam_id", req->exam_id()).status(); !s.ok()) return s;
    return Guard([&] {
      std::lock_guard lock(ctx_.db.mutex());
      for (auto& row : store::ProctoringRepository(ctx_.db).ListAlerts(req->exam_id(), req->open_only())) {
        if (!who.MaySeeRoom(row.room_id)) continue;
        *resp->add_alerts() = std::move(row.proto);
      }
      return grpc::Status::OK;
    });
  }

  grpc::Status GetSessionHistory(grpc::ServerContext* context, const v1::GetSessionHistoryRequest* req,
                                 v1::SessionHistory* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    if (auto s = RequestChecks().Id("session_id", req->session_id()).status(); !s.ok()) return s;
    return Guard([&] {
      {
        std::lock_guard lock(ctx_.db.mutex());
        auto row = store::ExamRepository(ctx_.db).GetSession(req->session_id());
        // Same answer for "no such session" and "not yours": a proctor learns nothing of
        // other rooms.
        if (!row || !who.MaySeeRoom(row->room_id))
          return grpc::Status(StatusCode::NOT_FOUND, "no such session in your rooms");
        for (auto& a : store::ProctoringRepository(ctx_.db).ListAlerts(0, false, row->id))
          *resp->add_alerts() = std::move(a.proto);
      }
      resp->set_session_id(req->session_id());
      for (auto& e : ctx_.events.ReadSession(req->session_id())) {
        e.clear_session();  // the focus view has the session; the history stays small
        *resp->add_events() = std::move(e);
      }
      return grpc::Status::OK;
    });
  }

 private:
  BackendContext& ctx_;
  std::shared_ptr<MediaRelay> relay_ = MediaRelay::For(ctx_);  // after ctx_: initialised from it
};

}  // namespace

std::unique_ptr<grpc::Service> MakeLiveService(BackendContext& ctx) { return std::make_unique<LiveServiceImpl>(ctx); }

}  // namespace exam::backend
