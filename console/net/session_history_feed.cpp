#include "net/session_history_feed.h"

#include <grpcpp/channel.h>

#include "net/backend_client.h"

namespace exam::net {

namespace v1 = exam::v1;

std::vector<const v1::AlertRecord*> SessionHistoryView::OpenAlerts() const {
  std::vector<const v1::AlertRecord*> out;
  for (const auto& a : alerts)
    if (a.acknowledged_by().empty()) out.push_back(&a);
  return out;
}

SessionHistoryFeed::SessionHistoryFeed(BackendClient& client, Options options)
    : SessionHistoryFeed(client.Channel(), [&client] { return client.AccessToken(); }, std::move(options)) {}

SessionHistoryFeed::SessionHistoryFeed(std::shared_ptr<grpc::Channel> channel,
                                       std::function<std::string()> access_token, Options options)
    : PollingFeed(std::move(access_token), std::move(options)), stub_(v1::LiveService::NewStub(channel)) {
  Start();
}

// The thread calls Fetch until it is joined: join before the stub goes.
SessionHistoryFeed::~SessionHistoryFeed() { Stop(); }

grpc::Status SessionHistoryFeed::Fetch(grpc::ClientContext& context, int64_t session_id, SessionHistoryView& fresh) {
  v1::GetSessionHistoryRequest req;
  req.set_session_id(session_id);
  v1::SessionHistory resp;
  grpc::Status status = stub_->GetSessionHistory(&context, req, &resp);
  if (!status.ok()) return status;
  fresh.events.assign(std::make_move_iterator(resp.mutable_events()->begin()),
                      std::make_move_iterator(resp.mutable_events()->end()));
  fresh.alerts.assign(std::make_move_iterator(resp.mutable_alerts()->begin()),
                      std::make_move_iterator(resp.mutable_alerts()->end()));
  return status;
}

}  // namespace exam::net
