#include "backend/services/service_util.h"
#include "backend/services/services.h"
#include "exam/v1/event.grpc.pb.h"

namespace exam::backend {
namespace {

constexpr auto kHeartbeatEvery = std::chrono::seconds(2);
constexpr size_t kBatch = 512;

class EventServiceImpl final : public exam::v1::EventService::Service {
 public:
  explicit EventServiceImpl(BackendContext& ctx) : ctx_(ctx) {}

  grpc::Status Subscribe(grpc::ServerContext* context, const exam::v1::SubscribeRequest* req,
                         grpc::ServerWriter<exam::v1::EventEnvelope>* writer) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    RequestChecks check;
    check.Range("since_seq", req->since_seq(), 0)
        .OptionalId("exam_id", req->exam_id())
        .Count("room_ids", req->room_ids_size(), 1000);
    for (int64_t room : req->room_ids()) check.Id("room_ids[]", room);
    if (!check.ok()) return check.status();
    const int64_t head = ctx_.hub.Head();
    if (req->since_seq() > head)
      return grpc::Status(grpc::StatusCode::OUT_OF_RANGE,
                          "since_seq " + std::to_string(req->since_seq()) + " is ahead of the log head " +
                              std::to_string(head) + " (was the backend's database replaced?)");
    std::set<int64_t> rooms(req->room_ids().begin(), req->room_ids().end());
    auto visible = [&](const exam::v1::Event& e) {
      if (req->exam_id() != 0 && e.exam_id() != req->exam_id()) return false;
      if (e.room_id() != 0) {
        if (!rooms.empty() && !rooms.count(e.room_id())) return false;
        if (!who.MaySeeRoom(e.room_id())) return false;
      }
      return true;
    };
    const bool redact = who.RedactIdentity();
    int64_t cursor = req->since_seq();
    auto last_write = std::chrono::steady_clock::now();
    exam::v1::EventEnvelope envelope;

    auto send = [&](const exam::v1::Event& e) -> bool {
      cursor = e.seq();
      if (!visible(e)) return true;
      envelope.Clear();
      *envelope.mutable_event() = e;
      if (redact && envelope.event().has_session()) {
        envelope.mutable_event()->mutable_session()->clear_candidate_name();
        envelope.mutable_event()->mutable_session()->clear_registration_no();
      }
      last_write = std::chrono::steady_clock::now();
      return writer->Write(envelope);
    };

    while (!context->IsCancelled() && !ctx_.hub.closed()) {
      bool too_old = false;
      auto batch = ctx_.hub.After(cursor, kBatch, &too_old);
      if (too_old) {
        // Behind the in-memory window: catch up from the log on disk.
        for (const auto& e : ctx_.events.ReadSince(cursor, static_cast<int>(kBatch)))
          if (!send(e)) return grpc::Status::OK;
        continue;
      }
      for (const auto& e : batch)
        if (!send(*e)) return grpc::Status::OK;
      if (!batch.empty()) continue;
      if (std::chrono::steady_clock::now() - last_write >= kHeartbeatEvery) {
        envelope.Clear();
        envelope.mutable_heartbeat()->set_head_seq(cursor);
        *envelope.mutable_heartbeat()->mutable_now() = ToTimestamp(ctx_.clock.Now());
        last_write = std::chrono::steady_clock::now();
        if (!writer->Write(envelope)) return grpc::Status::OK;
      }
      ctx_.hub.WaitAfter(cursor, std::chrono::milliseconds(250));
    }
    if (ctx_.hub.closed()) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "backend shutting down");
    return grpc::Status::OK;
  }

 private:
  BackendContext& ctx_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeEventService(BackendContext& ctx) { return std::make_unique<EventServiceImpl>(ctx); }

}  // namespace exam::backend
