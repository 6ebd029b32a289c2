#include "backend/services/session_ops.h"
#include "backend/services/services.h"
#include "exam/v1/help.grpc.pb.h"

namespace exam::backend {
namespace {

namespace v1 = exam::v1;
using grpc::StatusCode;

class HelpServiceImpl final : public v1::HelpService::Service {
 public:
  explicit HelpServiceImpl(BackendContext& ctx) : ctx_(ctx) {}

  grpc::Status ListHelpRequests(grpc::ServerContext* context, const v1::ListHelpRequestsRequest* req,
                                v1::ListHelpRequestsResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    return Guard([&] {
      std::lock_guard lock(ctx_.db.mutex());
      auto st = ctx_.db.Prepare(
          "SELECT h.id FROM help_requests h JOIN sessions s ON s.id=h.session_id WHERE (?=0 OR s.exam_id=?) "
          "AND (?=0 OR h.state<>3) ORDER BY h.raised_at, h.id");
      st.Bind(1, req->exam_id()).Bind(2, req->exam_id()).Bind(3, req->unresolved_only() ? 1 : 0);
      while (st.Step()) {
        auto h = Fetch(ctx_.db, st.Int(0));
        if (who.MaySeeRoom(h.room_id())) *resp->add_requests() = std::move(h);
      }
      return grpc::Status::OK;
    });
  }

  grpc::Status ClaimHelp(grpc::ServerContext* context, const v1::ClaimHelpRequest* req, v1::HelpRequest* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    return Mutate(who, req->idempotency_key(), "ClaimHelp", req->help_id(), resp, [&](WriteScope& w, v1::HelpRequest& h) {
      if (h.state() == v1::HELP_STATE_RESOLVED) Refuse(StatusCode::FAILED_PRECONDITION, "help request already resolved");
      if (h.state() == v1::HELP_STATE_CLAIMED && h.claimed_by() != who.user->display_name)
        Refuse(StatusCode::ABORTED, "already taken by " + h.claimed_by());
      w.db()
          .Prepare("UPDATE help_requests SET state=2, claimed_by=?, version=version+1 WHERE id=?")
          .Bind(1, who.user->display_name)
          .Bind(2, h.id())
          .Run();
      return std::string("claimed");
    });
  }

  grpc::Status PostHelpMessage(grpc::ServerContext* context, const v1::PostHelpMessageRequest* req,
                               v1::HelpRequest* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    if (req->text().empty() || req->text().size() > 4000)
      return grpc::Status(StatusCode::INVALID_ARGUMENT, "text must be 1..4000 bytes");
    return Mutate(who, req->idempotency_key(), "PostHelpMessage", req->help_id(), resp,
                  [&](WriteScope& w, v1::HelpRequest& h) {
                    if (h.state() == v1::HELP_STATE_RESOLVED)
                      Refuse(StatusCode::FAILED_PRECONDITION, "help request already resolved");
                    w.db()
                        .Prepare("INSERT INTO help_messages(help_id, time, from_candidate, author, text) VALUES(?,?,0,?,?)")
                        .Bind(1, h.id())
                        .Bind(2, w.now_ms())
                        .Bind(3, who.user->display_name)
                        .Bind(4, req->text())
                        .Run();
                    w.db()
                        .Prepare(
                            "UPDATE help_requests SET first_response_at=COALESCE(first_response_at, ?), "
                            "state=CASE WHEN state=1 THEN 2 ELSE state END, claimed_by=CASE WHEN claimed_by='' THEN ? "
                            "ELSE claimed_by END, version=version+1 WHERE id=?")
                        .Bind(1, w.now_ms())
                        .Bind(2, who.user->display_name)
                        .Bind(3, h.id())
                        .Run();
                    QueueStaffMessage(w, h.session_id(), "help-reply", req->text(), h.id());
                    return std::string("staff-message");
                  });
  }

  grpc::Status ResolveHelp(grpc::ServerContext* context, const v1::ResolveHelpRequest* req,
                           v1::HelpRequest* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    if (req->category().empty()) return grpc::Status(StatusCode::INVALID_ARGUMENT, "a resolution category is required");
    return Mutate(who, req->idempotency_key(), "ResolveHelp", req->help_id(), resp, [&](WriteScope& w, v1::HelpRequest& h) {
      if (h.state() == v1::HELP_STATE_RESOLVED) Refuse(StatusCode::FAILED_PRECONDITION, "help request already resolved");
      w.db()
          .Prepare("UPDATE help_requests SET state=3, resolved_at=?, category=?, version=version+1 WHERE id=?")
          .Bind(1, w.now_ms())
          .Bind(2, req->category())
          .Bind(3, h.id())
          .Run();
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
    auto st = db.Prepare(
        "SELECT h.id, h.session_id, s.room_id, s.draw_number, h.stage, h.state, h.raised_at, h.claimed_by, "
        "h.first_response_at, h.resolved_at, h.category, h.version FROM help_requests h JOIN sessions s ON "
        "s.id=h.session_id WHERE h.id=?");
    st.Bind(1, id);
    if (!st.Step()) Refuse(StatusCode::NOT_FOUND, "no such help request");
    v1::HelpRequest h;
    h.set_id(st.Int(0));
    h.set_session_id(st.Int(1));
    h.set_room_id(st.Int(2));
    h.set_draw_number(static_cast<int32_t>(st.Int(3)));
    h.set_stage(static_cast<v1::Stage>(st.Int(4)));
    h.set_state(static_cast<v1::HelpState>(st.Int(5)));
    *h.mutable_raised_at() = MsToTimestamp(st.Int(6));
    h.set_claimed_by(st.Text(7));
    if (!st.IsNull(8)) *h.mutable_first_response_at() = MsToTimestamp(st.Int(8));
    if (!st.IsNull(9)) *h.mutable_resolved_at() = MsToTimestamp(st.Int(9));
    h.set_category(st.Text(10));
    h.set_version(st.Int(11));
    auto m = db.Prepare("SELECT time, from_candidate, author, text FROM help_messages WHERE help_id=? ORDER BY id");
    m.Bind(1, id);
    while (m.Step()) {
      auto* msg = h.add_messages();
      *msg->mutable_time() = MsToTimestamp(m.Int(0));
      msg->set_from_candidate(m.Int(1) != 0);
      msg->set_author(m.Text(2));
      msg->set_text(m.Text(3));
    }
    return h;
  }

  BackendContext& ctx_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeHelpService(BackendContext& ctx) { return std::make_unique<HelpServiceImpl>(ctx); }

}  // namespace exam::backend
