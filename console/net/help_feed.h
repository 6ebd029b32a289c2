#pragma once
// Keeps the help desk's (求助) view of one exam fresh: lists the exam's help requests with
// their conversations on its own thread, every couple of seconds and at once when asked,
// and publishes immutable snapshots — the open queue in the order the hands went up, and
// today's resolved requests for the response-time figures. The UI only reads snapshots;
// nothing here blocks it. Claims, replies and resolutions go through the outbox, not here.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "exam/v1/help.grpc.pb.h"
#include "net/polling_feed.h"

namespace grpc {
class Channel;
}  // namespace grpc

namespace exam::net {

class BackendClient;

// How the desk is doing today: how fast a raised hand got its first staff reply.
struct HelpStats {
  int raised_today = 0;     // requests raised since the day started
  int open = 0;             // open or claimed now (whenever raised)
  int unclaimed = 0;        // open and nobody holds them
  int unanswered = 0;       // open or claimed without any staff reply yet
  int resolved_today = 0;   // resolved since the day started
  int responded_today = 0;  // raised today and answered: the samples of the figures below
  // Time to first response (raised → first staff message), nearest-rank percentiles over
  // today's answered requests; unset when there are none.
  std::optional<int64_t> median_first_response_ms;
  std::optional<int64_t> p90_first_response_ms;
};

// Local midnight (the console's time zone) of the day holding `unix_ms`: where the desk's
// "today" starts.
int64_t HelpDayStartMs(int64_t unix_ms);
// Milliseconds from raised to the first staff reply; unset while there is none.
std::optional<int64_t> FirstResponseMs(const exam::v1::HelpRequest& request);
// The figures over `requests` (any order) for the day starting at `day_start_ms`.
HelpStats ComputeHelpStats(const std::vector<exam::v1::HelpRequest>& requests, int64_t day_start_ms);

struct HelpView : PolledViewHeader {  // key: the exam
  // Open and claimed requests, oldest first — the order they were raised in, as the
  // backend lists them; never re-sorted, so a raised hand keeps its place.
  std::vector<exam::v1::HelpRequest> open;
  // Requests resolved since the day started, oldest raised first.
  std::vector<exam::v1::HelpRequest> resolved_today;
  HelpStats stats;
  int64_t day_start_ms = 0;
  int64_t fetched_at_backend_ms = 0;  // backend clock when the list was fetched

  // The request with this id among `open` and `resolved_today`; null when not listed.
  const exam::v1::HelpRequest* Find(int64_t help_id) const;
};

// Follows one exam (Follow(exam_id); 0: none). Claims, replies and resolutions go through
// the outbox, not here.
class HelpFeed final : public PollingFeed<HelpView> {
 public:
  // Uses the client's channel, token and backend clock; the client must outlive the feed.
  HelpFeed(BackendClient& client, Options options);
  // For callers without a BackendClient: `access_token` (empty while signed out) and
  // `backend_now_ms` (0 while unknown: the local clock is used) are called on the feed's
  // thread.
  HelpFeed(std::shared_ptr<grpc::Channel> channel, std::function<std::string()> access_token,
           std::function<int64_t()> backend_now_ms, Options options);
  ~HelpFeed() override;

 protected:
  grpc::Status Fetch(grpc::ClientContext& context, int64_t exam_id, HelpView& fresh) override;

 private:
  std::function<int64_t()> backend_now_ms_;
  std::unique_ptr<exam::v1::HelpService::Stub> stub_;
};

}  // namespace exam::net
