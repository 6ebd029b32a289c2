#include "backend/sim/live_pusher.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <vector>

namespace exam::sim {
namespace {

namespace v1 = ::exam::v1;
using SteadyClock = std::chrono::steady_clock;

v1::TrackKind ProtoTrack(media::LoopTrack t) {
  switch (t) {
    case media::LoopTrack::kCamera: return v1::TRACK_KIND_CAMERA;
    case media::LoopTrack::kScreen: return v1::TRACK_KIND_SCREEN;
    case media::LoopTrack::kEvidence: return v1::TRACK_KIND_EVIDENCE;
  }
  return v1::TRACK_KIND_UNSPECIFIED;
}

// Behind by more than this, a stream skips ahead to the next keyframe instead of bursting.
constexpr auto kMaxLag = std::chrono::seconds(1);
constexpr auto kRetryAfter = std::chrono::seconds(2);

}  // namespace

struct LivePusher::Stream {
  Key key;
  Spec spec;
  const media::LiveLoop* tile = nullptr;
  const media::LiveLoop* full = nullptr;
  std::unique_ptr<grpc::ClientContext> ctx;
  std::unique_ptr<grpc::ClientWriter<v1::PushMediaRequest>> writer;
  v1::PushMediaResponse resp;
  bool open = false;
  bool dead = false;  // refused for good
  SteadyClock::time_point retry_at{};
  SteadyClock::time_point t0{};  // when frame 0 of this stream was due
  int64_t frame = 0;             // next frame of this stream (0-based since t0)
  int64_t base = 0;              // loop frame of this stream's frame 0 (keeps pts rising across reopenings)
  bool need_parameters = true;
  SteadyClock::duration period{};
  SteadyClock::time_point Due() const { return t0 + period * frame; }
};

LivePusher::LivePusher(std::shared_ptr<grpc::Channel> channel, std::function<core::TimePoint()> now)
    : stub_(v1::CandidateService::NewStub(std::move(channel))), now_(std::move(now)) {
  thread_ = std::thread([this] { Loop(); });
}

LivePusher::~LivePusher() { Shutdown(); }

void LivePusher::Want(Key key, const std::string& token, int offset_frames) {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    auto [it, added] = wanted_.try_emplace(key, Spec{token, offset_frames});
    if (!added) it->second.token = token;
    changed_ = true;
  }
  cv_.notify_all();
}

void LivePusher::Drop(Key key) {
  {
    std::lock_guard lock(mu_);
    if (!wanted_.erase(key)) return;
    changed_ = true;
  }
  cv_.notify_all();
}

int LivePusher::active_streams() const { return active_.load(); }

void LivePusher::Shutdown() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    wanted_.clear();
  }
  cv_.notify_all();
  {
    // A write blocked on flow control ends when its call is cancelled.
    std::lock_guard lock(cancel_mu_);
    for (auto& [key, s] : streams_)
      if (s->ctx) s->ctx->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

void LivePusher::Open(Stream& s) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer " + s.spec.token);
  s.resp.Clear();
  {
    std::lock_guard lock(cancel_mu_);
    s.ctx = std::move(ctx);
  }
  s.writer = stub_->PushMedia(s.ctx.get(), &s.resp);
  s.open = true;
  s.need_parameters = true;
  // Start on a keyframe, right now.
  const int keyint = s.tile->keyint;
  const int64_t next = s.base + s.frame;
  s.base = (next + keyint - 1) / keyint * keyint;
  s.frame = 0;
  s.t0 = SteadyClock::now();
  streams_opened_.fetch_add(1);
  active_.fetch_add(1);
}

void LivePusher::Close(Stream& s, bool cancel) {
  if (!s.open) return;
  if (cancel) s.ctx->TryCancel();
  else s.writer->WritesDone();
  const grpc::Status st = s.writer->Finish();
  (void)st;
  {
    std::lock_guard lock(cancel_mu_);
    s.writer.reset();
    s.ctx.reset();
  }
  s.open = false;
  active_.fetch_sub(1);
}

// Writes every frame due by `now` (both qualities). Returns false when the stream failed.
bool LivePusher::SendDue(Stream& s, SteadyClock::time_point now) {
  const int keyint = s.tile->keyint;
  if (now - s.Due() > kMaxLag) {
    // Fell behind (a busy machine): jump to the next keyframe after now.
    const int64_t due_frames = (now - s.t0) / s.period;
    const int64_t abs = s.base + due_frames;
    const int64_t key = (abs + keyint - 1) / keyint * keyint;
    s.frame = key - s.base;
  }
  v1::PushMediaRequest req;
  req.set_track(ProtoTrack(s.key.second));
  while (s.Due() <= now) {
    const int64_t abs = s.base + s.frame;
    const auto captured = google::protobuf::util::TimeUtil::MillisecondsToTimestamp(core::ToUnixMillis(now_()));
    for (const media::LiveLoop* loop : {s.tile, s.full}) {
      v1::MediaPacket* m = req.mutable_packet();
      m->Clear();
      media::FillLoopPacket(*loop, abs, s.need_parameters, m);
      *m->mutable_captured_at() = captured;
      req.set_quality(loop == s.tile ? v1::QUALITY_TILE : v1::QUALITY_FULL);
      if (!s.writer->Write(req)) return false;
      packets_.fetch_add(1);
    }
    s.need_parameters = false;
    ++s.frame;
  }
  return true;
}

void LivePusher::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (changed_) {
      changed_ = false;
      const auto wanted = wanted_;
      lock.unlock();
      for (auto it = streams_.begin(); it != streams_.end();) {
        if (wanted.count(it->first)) {
          ++it;
          continue;
        }
        Close(*it->second, false);
        resume_at_[it->first] = it->second->base + it->second->frame;
        std::lock_guard cl(cancel_mu_);
        it = streams_.erase(it);
      }
      for (const auto& [key, spec] : wanted) {
        auto it = streams_.find(key);
        if (it != streams_.end()) {
          it->second->spec.token = spec.token;
          continue;
        }
        auto s = std::make_unique<Stream>();
        s->key = key;
        s->spec = spec;
        try {
          s->tile = &media::GetLiveLoop(key.second, media::LoopQuality::kTile);
          s->full = &media::GetLiveLoop(key.second, media::LoopQuality::kFull);
        } catch (const std::exception&) {
          errors_.fetch_add(1);
          s->dead = true;
        }
        if (s->tile) {
          s->period = std::chrono::duration_cast<SteadyClock::duration>(std::chrono::seconds(1)) / s->tile->fps;
          const int64_t n = static_cast<int64_t>(s->tile->packets.size());
          auto resume = resume_at_.find(key);
          s->base = resume != resume_at_.end() ? resume->second : ((spec.offset_frames % n) + n) % n;
        }
        std::lock_guard cl(cancel_mu_);
        streams_.emplace(key, std::move(s));
      }
      lock.lock();
      continue;
    }
    lock.unlock();
    auto now = SteadyClock::now();
    auto next = now + std::chrono::milliseconds(200);
    for (auto& [key, sp] : streams_) {
      Stream& s = *sp;
      if (s.dead) continue;
      if (!s.open) {
        if (s.retry_at > now) {
          next = std::min(next, s.retry_at);
          continue;
        }
        Open(s);
      }
      if (!SendDue(s, SteadyClock::now())) {
        s.writer->WritesDone();
        const grpc::Status st = s.writer->Finish();
        {
          std::lock_guard cl(cancel_mu_);
          s.writer.reset();
          s.ctx.reset();
        }
        s.open = false;
        active_.fetch_sub(1);
        errors_.fetch_add(1);
        switch (st.error_code()) {
          case grpc::StatusCode::UNIMPLEMENTED:
          case grpc::StatusCode::INVALID_ARGUMENT:
          case grpc::StatusCode::PERMISSION_DENIED:
          case grpc::StatusCode::FAILED_PRECONDITION:
          case grpc::StatusCode::NOT_FOUND:
            s.dead = true;
            break;
          default:
            s.retry_at = SteadyClock::now() + kRetryAfter;
            next = std::min(next, s.retry_at);
            break;
        }
        continue;
      }
      next = std::min(next, s.Due());
    }
    lock.lock();
    if (stop_ || changed_) continue;
    cv_.wait_until(lock, next, [this] { return stop_ || changed_; });
  }
  lock.unlock();
  for (auto& [key, s] : streams_) Close(*s, true);
  std::lock_guard cl(cancel_mu_);
  streams_.clear();
}

}  // namespace exam::sim
