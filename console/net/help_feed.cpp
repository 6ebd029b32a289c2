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
    : PollingFeed(std::move(access_token), std::move(options)),
      backend_now_ms_(std::move(backend_now_ms)),
      stub_(v1::HelpService::NewStub(channel)) {
  Start();
}

// The thread calls Fetch until it is joined: join before the stub goes.
HelpFeed::~HelpFeed() { Stop(); }

grpc::Status HelpFeed::Fetch(grpc::ClientContext& context, int64_t exam_id, HelpView& fresh) {
  int64_t now = backend_now_ms_ ? backend_now_ms_() : 0;
  if (now == 0) now = SystemNowMs();
  const int64_t day_start = HelpDayStartMs(now);
  // Open ones and today's resolved ones (they carry the figures), not every closed thread.
  v1::ListHelpRequestsRequest req;
  req.set_exam_id(exam_id);
  req.set_unresolved_only(false);
  *req.mutable_resolved_since() = TimeUtil::MillisecondsToTimestamp(day_start);
  v1::ListHelpRequestsResponse resp;
  const grpc::Status status = stub_->ListHelpRequests(&context, req, &resp);
  if (!status.ok()) return status;
  std::vector<v1::HelpRequest> all(std::make_move_iterator(resp.mutable_requests()->begin()),
                                   std::make_move_iterator(resp.mutable_requests()->end()));
  for (const auto& r : all) {
    if (r.state() != v1::HELP_STATE_RESOLVED) fresh.open.push_back(r);
    else if (r.has_resolved_at() && Ms(r.resolved_at()) >= day_start) fresh.resolved_today.push_back(r);
  }
  fresh.stats = ComputeHelpStats(all, day_start);
  fresh.day_start_ms = day_start;
  fresh.fetched_at_backend_ms = now;
  return status;
}

}  // namespace exam::net
