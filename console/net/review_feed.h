#pragma once
// What the review workspace (评审回放) reads from the backend, each on its own thread:
// the finished sessions of an exam with its score sheet (ReviewQueueFeed), and one
// session's recordings, markers, scores and notes (ReviewSessionFeed). Graders see draw
// numbers only; the backend enforces it. Scores and notes are sent through the outbox.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "exam/v1/review.grpc.pb.h"
#include "net/polling_feed.h"

namespace exam::net {

class BackendClient;

struct ReviewQueueView : PolledViewHeader {
  std::vector<exam::v1::ReviewSession> sessions;  // by draw number
  exam::v1::Rubric rubric;
  std::string rubric_error;  // the score sheet could not be read (sessions still listed)
};

struct ReviewSessionView : PolledViewHeader {
  std::vector<exam::v1::Track> tracks;
  std::vector<exam::v1::MissingRecording> missing;
  std::vector<exam::v1::Marker> markers;        // by time
  std::vector<exam::v1::Score> scores;          // the caller's
  std::vector<exam::v1::Annotation> annotations;  // by time
};

class ReviewQueueFeed final : public PollingFeed<ReviewQueueView> {
 public:
  ReviewQueueFeed(BackendClient& client, Options options);
  ~ReviewQueueFeed() override;

 protected:
  grpc::Status Fetch(grpc::ClientContext& context, int64_t exam_id, ReviewQueueView& fresh) override;

 private:
  std::unique_ptr<exam::v1::ReviewService::Stub> stub_;
};

class ReviewSessionFeed final : public PollingFeed<ReviewSessionView> {
 public:
  ReviewSessionFeed(BackendClient& client, Options options);
  ~ReviewSessionFeed() override;

 protected:
  grpc::Status Fetch(grpc::ClientContext& context, int64_t session_id, ReviewSessionView& fresh) override;

 private:
  std::unique_ptr<exam::v1::ReviewService::Stub> stub_;
};

}  // namespace exam::net
