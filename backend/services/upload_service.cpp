#include <google/protobuf/util/time_util.h>

#include "backend/services/session_ops.h"
#include "backend/services/services.h"
#include "backend/store/upload_repository.h"
#include "core/upload_rules.h"
#include "exam/v1/upload.grpc.pb.h"

namespace exam::backend {
namespace {

namespace v1 = exam::v1;
using google::protobuf::util::TimeUtil;
using grpc::StatusCode;

// No single extension request is longer than this; the upload rules allow far less (and
// say so), this only keeps overflowing or nonsense durations away from the arithmetic.
constexpr int64_t kMaxExtensionMs = int64_t{30} * 24 * 3600 * 1000;

// Support's view of uploads and the actions that get recordings in before the deadline.
// Every action is idempotent on its key and audited with the file before and after.
class UploadServiceImpl final : public v1::UploadService::Service {
 public:
  explicit UploadServiceImpl(BackendContext& ctx) : ctx_(ctx) {}

  grpc::Status ListUploads(grpc::ServerContext* context, const v1::ListUploadsRequest* req,
                           v1::ListUploadsResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    if (auto s = RequestChecks().OptionalId("exam_id", req->exam_id()).status(); !s.ok()) return s;
    return Guard([&] {
      std::lock_guard lock(ctx_.db.mutex());
      for (auto& row : store::UploadRepository(ctx_.db).List(req->exam_id(), req->incomplete_only()))
        *resp->add_files() = Present(ctx_.db, std::move(row));
      return grpc::Status::OK;
    });
  }

  grpc::Status GetUpload(grpc::ServerContext* context, const v1::GetUploadRequest* req, v1::UploadFile* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    if (auto s = RequestChecks().Id("file_id", req->file_id()).status(); !s.ok()) return s;
    return Guard([&] {
      std::lock_guard lock(ctx_.db.mutex());
      store::UploadRepository repo(ctx_.db);
      *resp = Present(ctx_.db, Get(repo, req->file_id()));
      for (auto& h : repo.History(req->file_id())) *resp->add_history() = std::move(h);
      return grpc::Status::OK;
    });
  }

  grpc::Status RequestRecall(grpc::ServerContext* context, const v1::UploadActionRequest* req,
                             v1::UploadFile* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    RequestChecks check;
    check.Id("file_id", req->file_id()).Text("note", req->note(), kMaxContactNoteChars);
    if (!check.ok()) return check.status();
    return Act(who, req->idempotency_key(), "RequestRecall", req->file_id(), resp,
               [&](WriteScope& w, store::UploadRepository& repo, const store::UploadRow& row) {
                 const auto state = row.proto.state();
                 if (state == v1::UPLOAD_STATE_COMPLETE) Refuse(StatusCode::FAILED_PRECONDITION, "the file is already complete");
                 if (state == v1::UPLOAD_STATE_ABNORMAL)
                   Refuse(StatusCode::FAILED_PRECONDITION, "the file is abnormal and cannot resume; allow a re-record instead");
                 repo.SetRecall(row.proto.id(), true);
                 repo.AddHistory(row.proto.id(), w.now_ms(), "recall", who.Actor(), req->note());
                 // The device learns of it on its next heartbeat.
                 QueueStaffMessage(w, row.proto.session_id(), "recall",
                                   req->note().empty() ? "请继续上传录像 / please resume the upload" : req->note(),
                                   row.proto.id());
                 return std::string("upload.recall");
               });
  }

  grpc::Status ExtendDeadline(grpc::ServerContext* context, const v1::ExtendDeadlineRequest* req,
                              v1::UploadFile* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    // The shape only: how far a deadline may move (per step and in all) and whether the
    // reason says enough are the upload rules' to answer, as FAILED_PRECONDITION.
    RequestChecks check;
    check.Id("file_id", req->file_id())
        .Span("extension", req->has_extension(), req->extension(), 1, kMaxExtensionMs, Need::kRequired)
        .Text("reason", req->reason(), kMaxShortNoteChars);
    if (!check.ok()) return check.status();
    return Act(who, req->idempotency_key(), "ExtendDeadline", req->file_id(), resp,
               [&](WriteScope& w, store::UploadRepository& repo, const store::UploadRow& row) {
                 const core::Duration extension(TimeUtil::DurationToMilliseconds(req->extension()));
                 const auto verdict = core::CheckDeadlineExtension(static_cast<core::UploadState>(row.proto.state()),
                                                                   core::Duration(row.deadline_extension_ms),
                                                                   extension, req->reason());
                 if (!verdict.ok) Refuse(StatusCode::FAILED_PRECONDITION, verdict.message);
                 repo.AddExtension(row.proto.id(), extension.count());
                 repo.AddHistory(row.proto.id(), w.now_ms(), "extended", who.Actor(),
                                 "+" + std::to_string(extension.count() / 60000) + " min: " + req->reason());
                 return std::string("upload.extend");
               });
  }

  grpc::Status MarkAbnormal(grpc::ServerContext* context, const v1::UploadActionRequest* req,
                            v1::UploadFile* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    if (core::TrimmedCharCount(req->note()) < 2)
      return grpc::Status(StatusCode::INVALID_ARGUMENT, "a note saying why the file is abnormal is required");
    RequestChecks check;
    check.Id("file_id", req->file_id()).Text("note", req->note(), kMaxShortNoteChars);
    if (!check.ok()) return check.status();
    return Act(who, req->idempotency_key(), "MarkAbnormal", req->file_id(), resp,
               [&](WriteScope& w, store::UploadRepository& repo, const store::UploadRow& row) {
                 if (row.proto.state() == v1::UPLOAD_STATE_COMPLETE)
                   Refuse(StatusCode::FAILED_PRECONDITION, "the file is complete and verified; it cannot be abnormal");
                 if (req->allow_rerecord() && !PlanCache().Get(w.db(), row.exam_id).plan.rules.rerecord_allowed)
                   Refuse(StatusCode::FAILED_PRECONDITION, "this exam does not permit re-recording");
                 const bool already = row.proto.state() == v1::UPLOAD_STATE_ABNORMAL;
                 if (already && (!req->allow_rerecord() || row.proto.rerecord_allowed()))
                   Refuse(StatusCode::FAILED_PRECONDITION, "the file is already abnormal");
                 repo.MarkAbnormal(row.proto.id(), already ? row.proto.abnormal_reason() : req->note(),
                                   req->allow_rerecord() || row.proto.rerecord_allowed());
                 if (!already) repo.AddHistory(row.proto.id(), w.now_ms(), "abnormal", who.Actor(), req->note());
                 if (req->allow_rerecord()) {
                   repo.AddHistory(row.proto.id(), w.now_ms(), "rerecord-allowed", who.Actor(), req->note());
                   QueueStaffMessage(w, row.proto.session_id(), "rerecord", "可以重新录制 / you may re-record this file",
                                     row.proto.id());
                 }
                 return std::string("upload.abnormal");
               });
  }

  grpc::Status NoteContact(grpc::ServerContext* context, const v1::UploadActionRequest* req,
                           v1::UploadFile* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    if (core::TrimmedCharCount(req->note()) < 2)
      return grpc::Status(StatusCode::INVALID_ARGUMENT, "the note of the contact is required");
    RequestChecks check;
    check.Id("file_id", req->file_id()).Text("note", req->note(), kMaxContactNoteChars);
    if (!check.ok()) return check.status();
    return Act(who, req->idempotency_key(), "NoteContact", req->file_id(), resp,
               [&](WriteScope& w, store::UploadRepository& repo, const store::UploadRow& row) {
                 repo.AddHistory(row.proto.id(), w.now_ms(), "contact", who.Actor(), req->note());
                 repo.BumpVersion(row.proto.id());
                 return std::string("upload.contact");
               });
  }

 private:
  static store::UploadRow Get(store::UploadRepository& repo, int64_t file_id) {
    auto row = repo.Get(file_id);
    if (!row) Refuse(StatusCode::NOT_FOUND, "no such upload file " + std::to_string(file_id));
    return std::move(*row);
  }

  // The file as support sees it: with its deadline worked out from the exam's rules.
  static v1::UploadFile Present(store::Database& db, store::UploadRow row) {
    v1::UploadFile f = std::move(row.proto);
    if (row.session_ended_at_ms) {
      const auto& exam = PlanCache().Get(db, row.exam_id);
      *f.mutable_deadline() = ToTimestamp(core::UploadResumeDeadline(
          core::FromUnixMillis(*row.session_ended_at_ms), exam.plan.rules, core::Duration(row.deadline_extension_ms)));
    }
    return f;
  }

  static std::string Summary(const v1::UploadFile& f) {
    return std::string(v1::UploadState_Name(f.state())) + " " + std::to_string(f.committed()) + "/" +
           std::to_string(f.size()) + (f.has_deadline() ? " deadline " + TimeUtil::ToString(f.deadline()) : "") +
           (f.recall_requested() ? " recall" : "") + (f.rerecord_allowed() ? " rerecord" : "");
  }

  // Runs one support action: idempotent on the key, audited, the file's change published.
  template <class Body>
  grpc::Status Act(const Principal& who, const std::string& key, const char* method, int64_t file_id,
                   v1::UploadFile* resp, Body&& body) {
    return Guard([&] {
      return ctx_.Write([&](WriteScope& w) {
        return Idempotent(w, who, key, method, resp, [&] {
          store::UploadRepository repo(w.db());
          auto before = Get(repo, file_id);
          const v1::UploadFile before_view = Present(w.db(), before);
          const std::string action = body(w, repo, before);
          *resp = Present(w.db(), Get(repo, file_id));
          store::AuditLog(w.db()).Append(w.now_ms(), who.Actor(), action, "upload/" + std::to_string(file_id),
                                         Summary(before_view), Summary(*resp));
          EmitUploadChange(ctx_, w, resp->session_id(), file_id, action, true);
          return grpc::Status::OK;
        });
      });
    });
  }

  BackendContext& ctx_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeUploadService(BackendContext& ctx) { return std::make_unique<UploadServiceImpl>(ctx); }

}  // namespace exam::backend
