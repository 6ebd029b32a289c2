#include "net/review_feed.h"

#include <grpcpp/channel.h>

#include "net/backend_client.h"

namespace exam::net {

namespace v1 = exam::v1;

namespace {

// One more call of a fetch: the first call's context is spent, so each further one gets its
// own with the same deadline and token.
std::unique_ptr<grpc::ClientContext> NextContext(const grpc::ClientContext& first, const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(first.deadline());
  ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

template <class T>
std::vector<T> Take(google::protobuf::RepeatedPtrField<T>* field) {
  return std::vector<T>(std::make_move_iterator(field->begin()), std::make_move_iterator(field->end()));
}

}  // namespace

ReviewQueueFeed::ReviewQueueFeed(BackendClient& client, Options options)
    : PollingFeed([&client] { return client.AccessToken(); }, std::move(options)),
      stub_(v1::ReviewService::NewStub(client.Channel())) {
  Start();
}

ReviewQueueFeed::~ReviewQueueFeed() { Stop(); }

grpc::Status ReviewQueueFeed::Fetch(grpc::ClientContext& context, int64_t exam_id, ReviewQueueView& fresh) {
  v1::ListReviewSessionsRequest req;
  req.set_exam_id(exam_id);
  v1::ListReviewSessionsResponse resp;
  grpc::Status status = stub_->ListReviewSessions(&context, req, &resp);
  if (!status.ok()) return status;
  fresh.sessions = Take(resp.mutable_sessions());
  v1::GetRubricRequest rreq;
  rreq.set_exam_id(exam_id);
  auto ctx = NextContext(context, AccessToken());
  const grpc::Status rs = stub_->GetRubric(ctx.get(), rreq, &fresh.rubric);
  if (!rs.ok()) fresh.rubric_error = rs.error_message();
  return grpc::Status::OK;
}

ReviewSessionFeed::ReviewSessionFeed(BackendClient& client, Options options)
    : PollingFeed([&client] { return client.AccessToken(); }, std::move(options)),
      stub_(v1::ReviewService::NewStub(client.Channel())) {
  Start();
}

ReviewSessionFeed::~ReviewSessionFeed() { Stop(); }

grpc::Status ReviewSessionFeed::Fetch(grpc::ClientContext& context, int64_t session_id, ReviewSessionView& fresh) {
  v1::ListTracksRequest treq;
  treq.set_session_id(session_id);
  v1::ListTracksResponse tracks;
  grpc::Status status = stub_->ListTracks(&context, treq, &tracks);
  if (!status.ok()) return status;
  fresh.tracks = Take(tracks.mutable_tracks());
  fresh.missing = Take(tracks.mutable_missing());
  const std::string token = AccessToken();
  {
    v1::ListMarkersRequest req;
    req.set_session_id(session_id);
    v1::ListMarkersResponse resp;
    auto ctx = NextContext(context, token);
    if (status = stub_->ListMarkers(ctx.get(), req, &resp); !status.ok()) return status;
    fresh.markers = Take(resp.mutable_markers());
  }
  {
    v1::ListScoresRequest req;
    req.set_session_id(session_id);
    v1::ListScoresResponse resp;
    auto ctx = NextContext(context, token);
    if (status = stub_->ListScores(ctx.get(), req, &resp); !status.ok()) return status;
    fresh.scores = Take(resp.mutable_scores());
  }
  {
    v1::ListAnnotationsRequest req;
    req.set_session_id(session_id);
    v1::ListAnnotationsResponse resp;
    auto ctx = NextContext(context, token);
    if (status = stub_->ListAnnotations(ctx.get(), req, &resp); !status.ok()) return status;
    fresh.annotations = Take(resp.mutable_annotations());
  }
  return grpc::Status::OK;
}

}  // namespace exam::net
