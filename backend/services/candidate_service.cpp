#include "backend/services/media_relay.h"
#include "backend/services/session_ops.h"
#include "backend/services/services.h"
#include "backend/services/upload_intake.h"
#include "exam/v1/candidate.grpc.pb.h"
#include "backend/store/appeal_repository.h"
#include "backend/store/help_repository.h"
#include "backend/store/proctoring_repository.h"
#include "exam/v1/help.pb.h"

namespace exam::backend {
namespace {

namespace v1 = exam::v1;
using grpc::StatusCode;

class CandidateServiceImpl final : public v1::CandidateService::Service {
 public:
  explicit CandidateServiceImpl(BackendContext& ctx) : ctx_(ctx), uploads_(ctx) {}

  grpc::Status Join(grpc::ServerContext* context, const v1::JoinRequest* req, v1::JoinResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    RequestChecks check;
    check.Id("exam_id", req->exam_id())
        .Text("registration_no", req->registration_no(), kMaxRegistrationChars, Need::kRequired)
        .Text("access_code", req->access_code(), kMaxRegistrationChars)
        .Enum("device", req->device(), v1::DeviceKind_descriptor(), Need::kRequired)
        .Text("device_model", req->device_model(), kMaxLabelChars);
    if (!check.ok()) return check.status();
    return Guard([&] {
      return ctx_.Write([&](WriteScope& w) {
        store::ExamRepository repo(w.db());
        const auto& exam = PlanCache().Get(w.db(), req->exam_id());
        auto row = repo.FindSession(req->exam_id(), req->registration_no());
        // One message for both cases so registration numbers cannot be probed.
        if (!row || req->access_code() != exam.access_code)
          Refuse(StatusCode::UNAUTHENTICATED, "unknown registration number or wrong access code");
        repo.UpsertDevice(row->id, req->device(), req->device_model(), true, w.now_ms());
        const int64_t expires_ms = w.now_ms() + std::chrono::duration_cast<std::chrono::milliseconds>(
                                                    std::chrono::hours(24)).count();
        resp->set_token(store::UserRepository(w.db()).IssueDeviceToken(row->id, req->device(), expires_ms));
        w.Emit(ctx_.SessionEvent(*row, v1::EVENT_KIND_DEVICE_CHANGED,
                                 std::string(v1::DeviceKind_Name(req->device())) + " online", w.now()));
        *resp->mutable_session() = repo.ToProto(*row, false);
        *resp->mutable_exam() = exam.proto;
        return grpc::Status::OK;
      });
    });
  }

  grpc::Status ReportStage(grpc::ServerContext* context, const v1::ReportStageRequest* req,
                           v1::Session* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    RequestChecks check;
    check.Enum("stage", req->stage(), v1::Stage_descriptor(), Need::kRequired)
        .Rule(core::IsValidStage(req->stage()) && req->stage() != v1::STAGE_ENDED,
              "stage must be one of the first eight stages (a session ends by the rules or by staff)");
    if (!check.ok()) return check.status();
    return Guard([&] {
      return ctx_.Write([&](WriteScope& w) {
        return Idempotent(w, who, req->idempotency_key(), "ReportStage", resp, [&] {
          auto [row, exam] = Load(w, who);
          core::SessionMachine machine(exam.plan);
          const auto before = row.state;
          auto verdict = machine.AdvanceStage(row.state, static_cast<core::Stage>(req->stage()), w.now());
          if (verdict.ok() && row.state.stage == core::Stage::kDraw && row.draw_number == 0)
            row.draw_number = NextDrawNumber(w, row.exam_id);
          SaveAndEmitSessionChange(ctx_, w, before, row);
          *resp = store::ExamRepository(w.db()).ToProto(row, false);
          if (!verdict.ok()) return grpc::Status(CodeFor(verdict.refusal), verdict.message);
          return grpc::Status::OK;
        });
      });
    });
  }

  grpc::Status ReportFaceCheck(grpc::ServerContext* context, const v1::ReportFaceCheckRequest* req,
                               v1::FaceCheckResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    RequestChecks check;
    check.Number("similarity", req->similarity(), 0, 1).Bytes("capture", req->capture(), kMaxPhotoBytes);
    if (!check.ok()) return check.status();
    return Guard([&] {
      return ctx_.Write([&](WriteScope& w) {
        return Idempotent(w, who, req->idempotency_key(), "ReportFaceCheck", resp, [&] {
          auto [row, exam] = Load(w, who);
          core::SessionMachine machine(exam.plan);
          auto result = machine.FaceCheck(row.state, req->passed(), req->cancelled(), w.now());
          if (!result.verdict.ok()) return grpc::Status(CodeFor(result.verdict.refusal), result.verdict.message);
          if (!req->cancelled()) {
            store::AppealRepository(w.db()).AddFaceCapture(row.id, w.now_ms(), req->similarity(), req->passed(),
                                                           req->capture());
          }
          if (result.appeal_required && row.state.face_failures == exam.plan.rules.face_failures_before_appeal)
            RaiseAlert(ctx_, w, row, v1::ALERT_KIND_FACE_CHECK_FAILED,
                       std::to_string(row.state.face_failures) + " failed face checks");
          store::ExamRepository(w.db()).SaveSession(row, w.now_ms());
          w.Emit(ctx_.SessionEvent(row, v1::EVENT_KIND_FACE_CHECK,
                                   req->cancelled() ? "cancelled" : (req->passed() ? "passed" : "failed"), w.now()));
          resp->set_failures(row.state.face_failures);
          resp->set_appeal_required(result.appeal_required);
          if (row.state.face_retry_not_before) *resp->mutable_retry_not_before() = ToTimestamp(*row.state.face_retry_not_before);
          *resp->mutable_session() = store::ExamRepository(w.db()).ToProto(row, false);
          return grpc::Status::OK;
        });
      });
    });
  }

  grpc::Status FileAppeal(grpc::ServerContext* context, const v1::FileAppealRequest* req,
                          v1::FileAppealResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    // Three photos at their cap stay under the server's message limit.
    static_assert(3 * kMaxPhotoBytes < kMaxRequestBytes);
    RequestChecks check;
    check.Bytes("id_front", req->id_front(), kMaxPhotoBytes, Need::kRequired)
        .Bytes("id_back", req->id_back(), kMaxPhotoBytes, Need::kRequired)
        .Bytes("handheld_id", req->handheld_id(), kMaxPhotoBytes, Need::kRequired);
    if (!check.ok()) return check.status();
    return Guard([&] {
      return ctx_.Write([&](WriteScope& w) {
        return Idempotent(w, who, req->idempotency_key(), "FileAppeal", resp, [&] {
          auto [row, exam] = Load(w, who);
          if (row.state.Ended()) Refuse(StatusCode::FAILED_PRECONDITION, "the session has ended");
          if (row.state.appeal_pending) Refuse(StatusCode::ALREADY_EXISTS, "an appeal is already being reviewed");
          if (row.state.face_failures < exam.plan.rules.face_failures_before_appeal)
            Refuse(StatusCode::FAILED_PRECONDITION, "an appeal needs " +
                                                        std::to_string(exam.plan.rules.face_failures_before_appeal) +
                                                        " failed face checks first");
          const auto deadline = core::AppealDeadline(w.now(), exam.plan.start, exam.plan.rules);
          store::NewAppeal appeal;
          appeal.session_id = row.id;
          appeal.stage = static_cast<int>(row.state.stage);
          appeal.filed_at_ms = w.now_ms();
          appeal.deadline_ms = core::ToUnixMillis(deadline);
          appeal.id_front = req->id_front();
          appeal.id_back = req->id_back();
          appeal.handheld_id = req->handheld_id();
          const int64_t appeal_id = store::AppealRepository(w.db()).Create(appeal);
          row.state.appeal_pending = true;
          store::ExamRepository(w.db()).SaveSession(row, w.now_ms());
          w.Emit(ctx_.SessionEvent(row, v1::EVENT_KIND_APPEAL_FILED, std::to_string(core::ToUnixMillis(deadline)),
                                   w.now(), appeal_id));
          resp->set_appeal_id(appeal_id);
          *resp->mutable_deadline() = ToTimestamp(deadline);
        });
      });
    });
  }

  grpc::Status RaiseHelp(grpc::ServerContext* context, const v1::RaiseHelpRequest* req,
                         v1::RaiseHelpResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    if (auto s = RequestChecks().Text("text", req->text(), kMaxMessageChars).status(); !s.ok()) return s;
    return Guard([&] {
      return ctx_.Write([&](WriteScope& w) {
        return Idempotent(w, who, req->idempotency_key(), "RaiseHelp", resp, [&] {
          auto [row, exam] = Load(w, who);
          const int64_t help_id =
              store::HelpRepository(w.db()).Create(row.id, static_cast<int>(row.state.stage), w.now_ms());
          AddHelpMessage(w, help_id, req->text());
          row.open_help += 1;
          store::ExamRepository(w.db()).SaveSession(row, w.now_ms());
          w.Emit(ctx_.SessionEvent(row, v1::EVENT_KIND_HELP_RAISED, req->text().substr(0, 200), w.now(), help_id));
          resp->set_help_id(help_id);
        });
      });
    });
  }

  grpc::Status SendHelpMessage(grpc::ServerContext* context, const v1::SendHelpMessageRequest* req,
                               v1::SendHelpMessageResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    RequestChecks check;
    check.Id("help_id", req->help_id()).Text("text", req->text(), kMaxMessageChars, Need::kRequired);
    if (!check.ok()) return check.status();
    return Guard([&] {
      return ctx_.Write([&](WriteScope& w) {
        return Idempotent(w, who, req->idempotency_key(), "SendHelpMessage", resp, [&] {
          auto help = store::HelpRepository(w.db()).FindOwner(req->help_id());
          if (!help || help->session_id != who.session_id) Refuse(StatusCode::NOT_FOUND, "no such help request");
          if (help->state == v1::HELP_STATE_RESOLVED) Refuse(StatusCode::FAILED_PRECONDITION, "help request resolved");
          AddHelpMessage(w, req->help_id(), req->text());
          auto [row, exam] = Load(w, who);
          w.Emit(ctx_.SessionEvent(row, v1::EVENT_KIND_HELP_UPDATED, "candidate-message", w.now(), req->help_id()));
        });
      });
    });
  }

  grpc::Status ReportInterruption(grpc::ServerContext* context, const v1::ReportInterruptionRequest* req,
                                  v1::Session* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    return Guard([&] {
      return ctx_.Write([&](WriteScope& w) {
        return Idempotent(w, who, req->idempotency_key(), "ReportInterruption", resp, [&] {
          auto [row, exam] = Load(w, who);
          core::SessionMachine machine(exam.plan);
          const auto before = row.state;
          auto verdict = req->started() ? machine.InterruptionStarted(row.state, w.now())
                                        : machine.InterruptionEnded(row.state, w.now());
          if (req->started() && verdict.ok())
            RaiseAlert(ctx_, w, row, v1::ALERT_KIND_INTERRUPTION,
                       row.state.Ended() ? "second interruption: exam ended early"
                                         : "recording interrupted (" + std::to_string(row.state.interruptions) + ")");
          SaveAndEmitSessionChange(ctx_, w, before, row);
          *resp = store::ExamRepository(w.db()).ToProto(row, false);
          if (!verdict.ok()) return grpc::Status(CodeFor(verdict.refusal), verdict.message);
          return grpc::Status::OK;
        });
      });
    });
  }

  grpc::Status ReportQuestion(grpc::ServerContext* context, const v1::ReportQuestionRequest* req,
                              v1::Session* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    // Which questions the exam has is the session machine's rule; this only keeps absurd
    // numbers out of the event log.
    if (auto s = RequestChecks().Range("question", req->question(), 1, kMaxQuestions).status(); !s.ok()) return s;
    return Guard([&] {
      return ctx_.Write([&](WriteScope& w) {
        return Idempotent(w, who, req->idempotency_key(), "ReportQuestion", resp, [&] {
          auto [row, exam] = Load(w, who);
          core::SessionMachine machine(exam.plan);
          // Apply the countdown first so a report right after a deadline sees the new question.
          const auto before = row.state;
          machine.Tick(row.state, w.now());
          auto verdict = machine.QuestionReport(row.state, req->question(), req->answer_complete(), w.now());
          SaveAndEmitSessionChange(ctx_, w, before, row);
          if (verdict.ok())
            w.Emit(ctx_.SessionEvent(row,
                                     req->answer_complete() ? v1::EVENT_KIND_ANSWER_COMPLETE : v1::EVENT_KIND_QUESTION_SHOWN,
                                     std::to_string(req->question()), w.now()));
          *resp = store::ExamRepository(w.db()).ToProto(row, false);
          if (!verdict.ok()) return grpc::Status(CodeFor(verdict.refusal), verdict.message);
          return grpc::Status::OK;
        });
      });
    });
  }

  grpc::Status Heartbeat(grpc::ServerContext* context, const v1::HeartbeatRequest* req,
                         v1::HeartbeatResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    if (auto s = RequestChecks().Range("after_message_id", req->after_message_id(), 0).status(); !s.ok()) return s;
    return Guard([&] {
      const core::TimePoint now = ctx_.clock.Now();
      ctx_.presence.Seen({who.session_id, who.device}, core::ToUnixMillis(now));
      bool online = false;
      {
        // The common case reads only: the device is known online and its heartbeat time
        // lives in DevicePresence until the ticker flushes it.
        std::lock_guard lock(ctx_.db.mutex());
        store::ExamRepository repo(ctx_.db);
        for (const auto& d : repo.ListDevices(who.session_id))
          if (d.kind() == who.device) online = d.online();
        if (online) return FillHeartbeat(ctx_.db, who, req, now, resp);
      }
      return ctx_.Write([&](WriteScope& w) {
        store::ExamRepository repo(w.db());
        auto row = repo.GetSession(who.session_id);
        if (!row) Refuse(StatusCode::NOT_FOUND, "session gone");
        repo.UpsertDevice(row->id, who.device, "", true, w.now_ms());
        w.Emit(ctx_.SessionEvent(*row, v1::EVENT_KIND_DEVICE_CHANGED,
                                 std::string(v1::DeviceKind_Name(static_cast<v1::DeviceKind>(who.device))) + " online",
                                 w.now()));
        return FillHeartbeat(w.db(), who, req, w.now(), resp);
      });
    });
  }

  // One call carries one device's live stream of a track, both qualities interleaved (or
  // one call per quality). Each quality's first packet carries its codec parameters.
  grpc::Status PushMedia(grpc::ServerContext* context, grpc::ServerReader<v1::PushMediaRequest>* reader,
                         v1::PushMediaResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    auto status = Guard([&] {
      std::lock_guard lock(ctx_.db.mutex());
      auto row = store::ExamRepository(ctx_.db).GetSession(who.session_id);
      if (!row) return grpc::Status(StatusCode::NOT_FOUND, "no such session");
      if (row->state.Ended()) return grpc::Status(StatusCode::FAILED_PRECONDITION, "the session has ended");
      return grpc::Status::OK;
    });
    if (!status.ok()) return status;
    auto allowed = [&](v1::TrackKind t) {
      switch (who.device) {
        case v1::DEVICE_KIND_LAPTOP: return t == v1::TRACK_KIND_CAMERA || t == v1::TRACK_KIND_SCREEN;
        case v1::DEVICE_KIND_EVIDENCE_PHONE: return t == v1::TRACK_KIND_EVIDENCE;
        case v1::DEVICE_KIND_SECOND_CAMERA: return t == v1::TRACK_KIND_SECOND_CAMERA;
        default: return false;
      }
    };
    struct Claim {
      std::shared_ptr<MediaRelay::Channel> channel;
      uint64_t id = 0;
    };
    std::map<MediaRelay::Key, Claim> claims;
    auto release = [&] {
      for (auto& [key, c] : claims)
        if (c.channel) c.channel->Release(c.id);
    };
    int64_t accepted = 0;
    v1::PushMediaRequest req;
    while (reader->Read(&req)) {
      if (auto s = RequestChecks().Enum("track", req.track(), v1::TrackKind_descriptor(), Need::kRequired).status();
          !s.ok()) {
        release();
        return s;
      }
      if (!allowed(req.track())) {
        release();
        return grpc::Status(StatusCode::INVALID_ARGUMENT, "this device does not record that track");
      }
      if (req.quality() != v1::QUALITY_TILE && req.quality() != v1::QUALITY_FULL) {
        release();
        return grpc::Status(StatusCode::INVALID_ARGUMENT, "quality must be QUALITY_TILE or QUALITY_FULL");
      }
      if (auto s = CheckPacket(req.packet()); !s.ok()) {
        release();
        return s;
      }
      const MediaRelay::Key key{who.session_id, req.track(), req.quality()};
      auto& claim = claims[key];
      if (!claim.channel) {
        if (!req.packet().has_parameters() || req.packet().parameters().codec().empty()) {
          release();
          return grpc::Status(StatusCode::INVALID_ARGUMENT, "the first packet of a stream carries its codec parameters");
        }
        claim.channel = relay_->Get(key);
        claim.id = claim.channel->Claim();
      }
      if (claim.channel->Publish(claim.id, req.packet())) ++accepted;
    }
    release();
    resp->set_packets(accepted);
    return grpc::Status::OK;
  }

  grpc::Status BeginUpload(grpc::ServerContext* context, const v1::BeginUploadRequest* req,
                           v1::UploadStatus* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    return uploads_.Begin(who, *req, resp);
  }
  grpc::Status UploadChunk(grpc::ServerContext* context, const v1::UploadChunkRequest* req,
                           v1::UploadStatus* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    return uploads_.Chunk(who, *req, resp);
  }
  grpc::Status GetUploadStatus(grpc::ServerContext* context, const v1::GetUploadStatusRequest* req,
                               v1::UploadStatus* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    if (auto s = RequestChecks().Id("file_id", req->file_id()).status(); !s.ok()) return s;
    return uploads_.Status(who, req->file_id(), resp);
  }
  grpc::Status CommitUpload(grpc::ServerContext* context, const v1::CommitUploadRequest* req,
                            v1::UploadStatus* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    if (auto s = RequestChecks().Id("file_id", req->file_id()).status(); !s.ok()) return s;
    return uploads_.Commit(who, req->file_id(), resp);
  }

 private:
  // Registration numbers and access codes are short codes; anything longer is not one.
  static constexpr int64_t kMaxRegistrationChars = 64;
  static constexpr int64_t kMaxQuestions = 1000;
  // Coded picture sizes beyond 16K and clock rates beyond 1 GHz are no camera's.
  static constexpr int64_t kMaxDimension = 16384;
  static constexpr int64_t kMaxTimeBase = 1'000'000'000;

  // One live packet: its payload size, capture time and (when present) decoder set-up.
  // pts/dts are the device's own counters and may be anything, so they are not checked.
  static grpc::Status CheckPacket(const v1::MediaPacket& p) {
    RequestChecks check;
    check.Bytes("packet.data", p.data(), kMaxLivePacketBytes)
        .Time("packet.captured_at", p.has_captured_at(), p.captured_at(), Need::kOptional);
    if (p.has_parameters()) {
      const auto& par = p.parameters();
      check.Text("packet.parameters.codec", par.codec(), 32)
          .Range("packet.parameters.width", par.width(), 0, kMaxDimension)
          .Range("packet.parameters.height", par.height(), 0, kMaxDimension)
          .Bytes("packet.parameters.extradata", par.extradata(), 1 << 20)
          .Range("packet.parameters.time_base_num", par.time_base_num(), 0, kMaxTimeBase)
          .Range("packet.parameters.time_base_den", par.time_base_den(), 0, kMaxTimeBase);
    }
    return check.status();
  }

  std::pair<store::SessionRow, const store::ExamRecord&> Load(WriteScope& w, const Principal& who) {
    auto row = store::ExamRepository(w.db()).GetSession(who.session_id);
    if (!row) Refuse(StatusCode::NOT_FOUND, "session gone");
    const auto& exam = PlanCache().Get(w.db(), row->exam_id);
    return {std::move(*row), exam};
  }

  grpc::Status FillHeartbeat(store::Database& db, const Principal& who, const v1::HeartbeatRequest* req,
                             core::TimePoint now, v1::HeartbeatResponse* resp) {
    store::ExamRepository repo(db);
    auto row = repo.GetSession(who.session_id);
    if (!row) Refuse(StatusCode::NOT_FOUND, "session gone");
    for (auto& m : store::ProctoringRepository(db).StaffMessagesAfter(row->id, req->after_message_id(), 100))
      *resp->add_messages() = std::move(m);
    *resp->mutable_session() = repo.ToProto(*row, false);
    *resp->mutable_now() = ToTimestamp(now);
    return grpc::Status::OK;
  }

  int NextDrawNumber(WriteScope& w, int64_t exam_id) {
    return store::ExamRepository(w.db()).NextDrawNumber(exam_id);
  }

  void AddHelpMessage(WriteScope& w, int64_t help_id, const std::string& text) {
    store::HelpRepository(w.db()).AddMessage(help_id, w.now_ms(), true, "", text);
  }

  BackendContext& ctx_;
  UploadIntake uploads_;
  std::shared_ptr<MediaRelay> relay_ = MediaRelay::For(ctx_);  // after ctx_: initialised from it
};

}  // namespace

std::unique_ptr<grpc::Service> MakeCandidateService(BackendContext& ctx) {
  return std::make_unique<CandidateServiceImpl>(ctx);
}

}  // namespace exam::backend
