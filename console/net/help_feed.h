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

#include "exam/v1/help.pb.h"

namespace grpc {
class Channel;
class ClientContext;
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

struct HelpView {
  int64_t exam_id = 0;
  bool loaded = false;   // at least one answer for this exam
  bool loading = false;  // a call is in flight
  std::string error;     // last failure (what is shown is from the last success)
  int error_code = 0;    // its gRPC status code (PERMISSION_DENIED: the role may not list)
  // Open and claimed requests, oldest first — the order they were raised in, as the
  // backend lists them; never re-sorted, so a raised hand keeps its place.
  std::vector<exam::v1::HelpRequest> open;
  // Requests resolved since the day started, oldest raised first.
  std::vector<exam::v1::HelpRequest> resolved_today;
  HelpStats stats;
  int64_t day_start_ms = 0;
  int64_t fetched_at_backend_ms = 0;  // backend clock when the list was fetched
  std::chrono::steady_clock::time_point fetched_at{};
  uint64_t version = 0;  // grows with every published change

  // The request with this id among `open` and `resolved_today`; null when not listed.
  const exam::v1::HelpRequest* Find(int64_t help_id) const;
};

class HelpFeed {
 public:
  struct Options {
    std::chrono::milliseconds refresh_every{2000};
    std::chrono::milliseconds call_timeout{5000};
    // Called on the feed's thread after each published change; must be cheap.
    std::function<void()> on_change;
  };

  // Uses the client's channel, token and backend clock; the client must outlive the feed.
  HelpFeed(BackendClient& client, Options options);
  // For callers without a BackendClient: `access_token` (empty while signed out) and
  // `backend_now_ms` (0 while unknown: the local clock is used) are called on the feed's
  // thread.
  HelpFeed(std::shared_ptr<grpc::Channel> channel, std::function<std::string()> access_token,
           std::function<int64_t()> backend_now_ms, Options options);
  ~HelpFeed();  // Stop()s
  HelpFeed(const HelpFeed&) = delete;
  HelpFeed& operator=(const HelpFeed&) = delete;

  // Which exam to follow (0: none; the thread idles).
  void Watch(int64_t exam_id);
  // Fetch now rather than at the next period (a request was raised, an action confirmed).
  void RefreshNow();
  // Cancels the call in flight and joins the thread. Idempotent.
  void Stop();

  std::shared_ptr<const HelpView> View() const;

 private:
  void Run();
  void Publish(const std::function<void(HelpView&)>& change);

  std::shared_ptr<grpc::Channel> channel_;
  std::function<std::string()> access_token_;
  std::function<int64_t()> backend_now_ms_;
  Options options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool refresh_ = false;
  int64_t exam_id_ = 0;
  grpc::ClientContext* in_flight_ = nullptr;  // the call to cancel on Stop()
  std::shared_ptr<const HelpView> view_ = std::make_shared<HelpView>();
  std::thread thread_;
};

}  // namespace exam::net
