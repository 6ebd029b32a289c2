#include "backend/services/session_ops.h"
#include "backend/services/services.h"
#include "backend/store/help_repository.h"
#include "exam/v1/help.grpc.pb.h"

namespace exam::backend {
namespace {

int64_t MsOf(const google::protobuf::Timestamp& t) { return google::protobuf::util::TimeUtil::TimestampToMilliseconds(t); }

namespace v1 = exam::v1;
using grpc::StatusCode;

class HelpServiceImpl final : public v1::HelpService::Service {
 public:
  explicit HelpServiceImpl(BackendContext& ctx) : ctx_(ctx) {}

  grpc::Status ListHelpRequests(grpc::ServerContext* context, const v1::ListHelpRequestsRequest* req,
                                v1::ListHelpRequestsResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    RequestChecks check;
    check.OptionalId("exam_id", req->exam_id())
        .Time("resolved_since", req->has_resolved_since(), req->resolved_since(), Need::kOptional);
    if (!check.ok()) return check.status();
    return Guard([&] {
      std::lock_guard lock(ctx_.db.mutex());
      for (auto& h : store::HelpRepository(ctx_.db).List(req->exam_id(), req->unresolved_only(),
                                                              req->has_resolved_since() ? MsOf(req->resolved_since()) : 0))
        if (who.MaySeeRoom(h.room_id())) *resp->add_requests() = std::move(h);
      return grpc::Status::OK;
    });
  }

  grpc::Status ClaimHelp(grpc::ServerContext* context, const v1::ClaimHelpRequest* req, v1::HelpRequest* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    if (auto s = RequestChecks().Id("help_id", req->help_id()).status(); !s.ok()) return s;
    return Mutate(who, req->idempotency_key(), "ClaimHelp", req->help_id(), resp, [&](WriteScope& w, v1::HelpRequest& h) {
      if (h.state() == v1::HELP_STATE_RESOLVED) Refuse(StatusCode::FAILED_PRECONDITION, "help request already resolved");
      if (h.state() == v1::HELP_STATE_CLAIMED && h.claimed_by() != who.user->display_name)
        Refuse(StatusCode::ABORTED, "already taken by " + h.claimed_by());
      store::HelpRepository(w.db()).Claim(h.id(), who.user->display_name);
      return std::string("claimed");
    });
  }

  grpc::Status PostHelpMessage(grpc::ServerContext* context, const v1::PostHelpMessageRequest* req,
                               v1::HelpRequest* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    RequestChecks check;
    check.Id("help_id", req->help_id()).Text("text", req->text(), kMaxMessageChars, Need::kRequired);
    if (!check.ok()) return check.status();
    return Mutate(who, req->idempotency_key(), "PostHelpMessage", req->help_id(), resp,
                  [&](WriteScope& w, v1::HelpRequest& h) {
                    if (h.state() == v1::HELP_STATE_RESOLVED)
                      Refuse(StatusCode::FAILED_PRECONDITION, "help request already resolved");
                    RefuseIfHeldByAnother(h, who);
                    store::HelpRepository help(w.db());
                    help.AddMessage(h.id(), w.now_ms(), false, who.user->display_name, req->text());
                    help.NoteStaffReply(h.id(), w.now_ms(), who.user->display_name);
                    QueueStaffMessage(w, h.session_id(), "help-reply", req->text(), h.id());
                    return std::string("staff-message");
                  });
  }

  grpc::Status ResolveHelp(grpc::ServerContext* context, const v1::ResolveHelpRequest* req,
                           v1::HelpRequest* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    RequestChecks check;
    check.Id("help_id", req->help_id()).Text("category", req->category(), kMaxLabelChars, Need::kRequired);
    if (!check.ok()) return check.status();
    return Mutate(who, req->idempotency_key(), "ResolveHelp", req->help_id(), resp, [&](WriteScope& w, v1::HelpRequest& h) {
      if (h.state() == v1::HELP_STATE_RESOLVED) Refuse(StatusCode::FAILED_PRECONDITION, "help request already resolved");
      RefuseIfHeldByAnother(h, who);
      store::HelpRepository(w.db()).Resolve(h.id(), w.now_ms(), req->category());
      auto row = store::ExamRepository(w.db()).GetSession(h.session_id());
      row->open_help = std::max(0, row->open_help - 1);
      store::ExamRepository(w.db()).SaveSession(*row, w.now_ms());
      store::AuditLog(w.db()).Append(w.now_ms(), who.Actor(), "help.resolve", "help/" + std::to_string(h.id()),
                                     "{\"state\":" + std::to_string(h.state()) + "}",
                                     "{\"state\":3,\"category\":\"" + req->category() + "\"}");
      return std::string("resolved");
    });
  }

 private:
  // One voice per conversation: while someone holds a request only they (or an admin)
  // answer or close it; others see who has it.
  static void RefuseIfHeldByAnother(const v1::HelpRequest& h, const Principal& who) {
    if (h.state() == v1::HELP_STATE_CLAIMED && h.claimed_by() != who.user->display_name && !who.Admin())
      Refuse(StatusCode::ABORTED, "held by " + h.claimed_by() + "; only they can answer or resolve it");
  }

  template <class F>
  grpc::Status Mutate(const Principal& who, const std::string& key, const char* method, int64_t help_id,
                      v1::HelpRequest* resp, F&& change) {
    return Guard([&] {
      return ctx_.Write([&](WriteScope& w) {
        return Idempotent(w, who, key, method, resp, [&] {
          v1::HelpRequest h = Fetch(w.db(), help_id);
          const std::string detail = change(w, h);
          *resp = Fetch(w.db(), help_id);
          auto row = store::ExamRepository(w.db()).GetSession(h.session_id());
          w.Emit(ctx_.SessionEvent(*row, v1::EVENT_KIND_HELP_UPDATED, detail, w.now(), help_id));
        });
      });
    });
  }

  static v1::HelpRequest Fetch(store::Database& db, int64_t id) {
    auto h = store::HelpRepository(db).Get(id);
    if (!h) Refuse(StatusCode::NOT_FOUND, "no such help request");
    return std::move(*h);
  }

  BackendContext& ctx_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeHelpService(BackendContext& ctx) { return std::make_unique<HelpServiceImpl>(ctx); }

}  // namespace exam::backend
