#include "net/help_feed.h"

#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cmath>
#include <ctime>

#include "exam/v1/help.grpc.pb.h"
#include "net/backend_client.h"

namespace exam::net {

namespace v1 = exam::v1;
using google::protobuf::util::TimeUtil;

namespace {

int64_t Ms(const google::protobuf::Timestamp& t) { return TimeUtil::TimestampToMilliseconds(t); }

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Nearest-rank percentile of sorted samples (the same method as the appeal SLA figures).
int64_t NearestRank(const std::vector<int64_t>& sorted, double p) {
  const auto n = static_cast<double>(sorted.size());
  const auto rank = static_cast<size_t>(std::max(1.0, std::ceil(p * n)));
  return sorted[std::min(rank, sorted.size()) - 1];
}

}  // namespace

int64_t HelpDayStartMs(int64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm local{};
  localtime_r(&t, &local);
  local.tm_hour = local.tm_min = local.tm_sec = 0;
  local.tm_isdst = -1;  // let mktime decide across a DST change
  return static_cast<int64_t>(std::mktime(&local)) * 1000;
}

std::optional<int64_t> FirstResponseMs(const v1::HelpRequest& r) {
  if (!r.has_first_response_at() || !r.has_raised_at()) return std::nullopt;
  return std::max<int64_t>(0, Ms(r.first_response_at()) - Ms(r.raised_at()));
}

HelpStats ComputeHelpStats(const std::vector<v1::HelpRequest>& requests, int64_t day_start_ms) {
  HelpStats s;
  std::vector<int64_t> samples;
  for (const auto& r : requests) {
    const bool raised_today = r.has_raised_at() && Ms(r.raised_at()) >= day_start_ms;
    if (raised_today) ++s.raised_today;
    if (r.state() == v1::HELP_STATE_RESOLVED) {
      if (r.has_resolved_at() && Ms(r.resolved_at()) >= day_start_ms) ++s.resolved_today;
    } else {
      ++s.open;
      if (r.claimed_by().empty()) ++s.unclaimed;
      if (!r.has_first_response_at()) ++s.unanswered;
    }
    if (raised_today)
      if (auto ms = FirstResponseMs(r)) samples.push_back(*ms);
  }
  s.responded_today = static_cast<int>(samples.size());
  if (!samples.empty()) {
    std::sort(samples.begin(), samples.end());
    s.median_first_response_ms = NearestRank(samples, 0.5);
    s.p90_first_response_ms = NearestRank(samples, 0.9);
  }
  return s;
}

const v1::HelpRequest* HelpView::Find(int64_t help_id) const {
  for (const auto& r : open)
    if (r.id() == help_id) return &r;
  for (const auto& r : resolved_today)
    if (r.id() == help_id) return &r;
  return nullptr;
}

HelpFeed::HelpFeed(BackendClient& client, Options options)
    : HelpFeed(
          client.Channel(), [&client] { return client.AccessToken(); }, [&client] { return client.BackendNowUnixMs(); },
          std::move(options)) {}

HelpFeed::HelpFeed(std::shared_ptr<grpc::Channel> channel, std::function<std::string()> access_token,
                   std::function<int64_t()> backend_now_ms, Options options)
    : channel_(std::move(channel)),
      access_token_(std::move(access_token)),
      backend_now_ms_(std::move(backend_now_ms)),
      options_(std::move(options)),
      thread_([this] { Run(); }) {}

HelpFeed::~HelpFeed() { Stop(); }

void HelpFeed::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    if (in_flight_ != nullptr) in_flight_->TryCancel();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void HelpFeed::Watch(int64_t exam_id) {
  {
    std::lock_guard lock(mu_);
    if (exam_id_ == exam_id) return;
    exam_id_ = exam_id;
    refresh_ = true;
  }
  wake_.notify_all();
}

void HelpFeed::RefreshNow() {
  {
    std::lock_guard lock(mu_);
    refresh_ = true;
  }
  wake_.notify_all();
}

std::shared_ptr<const HelpView> HelpFeed::View() const {
  std::lock_guard lock(mu_);
  return view_;
}

void HelpFeed::Publish(const std::function<void(HelpView&)>& change) {
  {
    std::lock_guard lock(mu_);
    auto next = std::make_shared<HelpView>(*view_);
    change(*next);
    ++next->version;
    view_ = std::move(next);
  }
  if (options_.on_change) options_.on_change();
}

void HelpFeed::Run() {
  auto stub = v1::HelpService::NewStub(channel_);
  for (;;) {
    int64_t exam_id = 0;
    {
      std::unique_lock lock(mu_);
      // Periodic refresh: a timed wait is the schedule here, and any request cuts it short.
      wake_.wait_for(lock, options_.refresh_every, [&] { return stop_ || refresh_; });
      if (stop_) return;
      refresh_ = false;
      exam_id = exam_id_;
    }
    if (exam_id == 0) continue;
    const std::string token = access_token_ ? access_token_() : std::string();
    if (token.empty()) {
      Publish([&](HelpView& v) {
        if (v.exam_id != exam_id) {
          v = HelpView{};
          v.exam_id = exam_id;
        }
        v.error = "not signed in";
        v.error_code = static_cast<int>(grpc::StatusCode::UNAUTHENTICATED);
      });
      continue;
    }
    // "Loading" matters until the first answer; the periodic refreshes after it publish
    // only their result, so an idle desk does not wake the UI twice per poll.
    const auto shown = View();
    if (shown->exam_id != exam_id || !shown->loaded)
      Publish([&](HelpView& v) {
        if (v.exam_id != exam_id) {  // another exam: nothing of the old one stays on screen
          v = HelpView{};
          v.exam_id = exam_id;
        }
        v.loading = true;
      });

    // Open ones and today's resolved ones (they carry the figures), not every closed thread.
    v1::ListHelpRequestsRequest req;
    req.set_exam_id(exam_id);
    req.set_unresolved_only(false);
    {
      int64_t now = backend_now_ms_ ? backend_now_ms_() : 0;
      if (now == 0) now = SystemNowMs();
      *req.mutable_resolved_since() = google::protobuf::util::TimeUtil::MillisecondsToTimestamp(HelpDayStartMs(now));
    }
    v1::ListHelpRequestsResponse resp;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + options_.call_timeout);
    context.AddMetadata("authorization", "Bearer " + token);
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
      in_flight_ = &context;
    }
    const grpc::Status status = stub->ListHelpRequests(&context, req, &resp);
    {
      std::lock_guard lock(mu_);
      in_flight_ = nullptr;
      if (stop_) return;
    }

    int64_t now = backend_now_ms_ ? backend_now_ms_() : 0;
    if (now == 0) now = SystemNowMs();
    const int64_t day_start = HelpDayStartMs(now);
    std::vector<v1::HelpRequest> open, resolved;
    std::vector<v1::HelpRequest> all;
    if (status.ok()) {
      all.assign(std::make_move_iterator(resp.mutable_requests()->begin()),
                 std::make_move_iterator(resp.mutable_requests()->end()));
      for (const auto& r : all) {
        if (r.state() != v1::HELP_STATE_RESOLVED) open.push_back(r);
        else if (r.has_resolved_at() && Ms(r.resolved_at()) >= day_start) resolved.push_back(r);
      }
    }
    Publish([&](HelpView& v) {
      v.loading = false;
      if (v.exam_id != exam_id) return;
      if (!status.ok()) {
        v.error = status.error_message().empty() ? "cannot reach the backend" : status.error_message();
        v.error_code = static_cast<int>(status.error_code());
        return;
      }
      v.error.clear();
      v.error_code = 0;
      v.loaded = true;
      v.stats = ComputeHelpStats(all, day_start);
      v.open = std::move(open);
      v.resolved_today = std::move(resolved);
      v.day_start_ms = day_start;
      v.fetched_at_backend_ms = now;
      v.fetched_at = std::chrono::steady_clock::now();
    });
  }
}

}  // namespace exam::net
