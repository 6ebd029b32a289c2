#pragma once
// The focus view's history of one candidate's session (考生事件记录): its events (stage
// changes, alerts, help, interruptions, messages, violations) and its alerts with their
// acknowledgements, fetched with LiveService.GetSessionHistory on the feed's own thread.
// The wall follows the focused candidate, so A can acknowledge an alert without a wait.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "exam/v1/live.grpc.pb.h"
#include "net/polling_feed.h"

namespace grpc {
class Channel;
}

namespace exam::net {

class BackendClient;

struct SessionHistoryView : PolledViewHeader {
  std::vector<exam::v1::Event> events;       // oldest first
  std::vector<exam::v1::AlertRecord> alerts;  // oldest first

  // Alerts nobody acknowledged yet, oldest first.
  std::vector<const exam::v1::AlertRecord*> OpenAlerts() const;
};

class SessionHistoryFeed final : public PollingFeed<SessionHistoryView> {
 public:
  // Uses the client's channel and token; the client must outlive the feed.
  SessionHistoryFeed(BackendClient& client, Options options);
  SessionHistoryFeed(std::shared_ptr<grpc::Channel> channel, std::function<std::string()> access_token,
                     Options options);
  ~SessionHistoryFeed() override;

 protected:
  grpc::Status Fetch(grpc::ClientContext& context, int64_t session_id, SessionHistoryView& fresh) override;

 private:
  std::unique_ptr<exam::v1::LiveService::Stub> stub_;
};

}  // namespace exam::net
