#include "net/live_feed.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "exam/v1/live.grpc.pb.h"
#include "net/backend_client.h"
#include "net/backoff.h"

namespace exam::net {

namespace v1 = exam::v1;
using Steady = std::chrono::steady_clock;

// One WatchMedia call. Deleted by the feed's thread once OnDone ran.
class LiveFeed::Reader : public grpc::ClientReadReactor<v1::MediaPacket> {
 public:
  Reader(LiveFeed* feed, const LiveStreamKey& key, v1::LiveService::Stub* stub, const std::string& token)
      : feed_(feed), key_(key) {
    if (!token.empty()) ctx_.AddMetadata("authorization", "Bearer " + token);
    request_.set_session_id(key.session_id);
    request_.set_track(key.track);
    request_.set_quality(key.quality);
    last_message_.store(Steady::now().time_since_epoch().count());
    stub->async()->WatchMedia(&ctx_, &request_, this);
    StartRead(&packet_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    last_message_.store(Steady::now().time_since_epoch().count());
    messages_.fetch_add(1);
    if (packet_.has_parameters()) feed_->sink_.OnParameters(key_, packet_.parameters());
    if (!packet_.data().empty()) feed_->sink_.OnPacket(key_, packet_);
    StartRead(&packet_);
  }

  void OnDone(const grpc::Status& s) override {
    std::lock_guard lock(feed_->mu_);
    status_ = s;
    done_ = true;
    feed_->wake_.notify_all();
  }

  void Cancel() { ctx_.TryCancel(); }
  bool done() const { return done_; }  // under feed->mu_
  const grpc::Status& status() const { return status_; }
  uint64_t messages() const { return messages_.load(); }
  Steady::time_point last_message() const { return Steady::time_point(Steady::duration(last_message_.load())); }

 private:
  LiveFeed* feed_;
  LiveStreamKey key_;
  grpc::ClientContext ctx_;
  v1::WatchMediaRequest request_;
  v1::MediaPacket packet_;
  std::atomic<Steady::rep> last_message_{0};
  std::atomic<uint64_t> messages_{0};
  bool done_ = false;
  grpc::Status status_;
};

struct LiveFeed::Slot {
  std::unique_ptr<Reader> reader;  // null between calls
  bool cancelled = false;          // Cancel() sent to the current reader
  Backoff backoff;
  Steady::time_point retry_at{};
  LiveStreamStatus status;
  uint64_t counted = 0;  // messages of finished calls already in status.messages
  Slot(Options o) : backoff(o.backoff_initial, o.backoff_max) {}
};

LiveFeed::LiveFeed(BackendClient& client, LiveMediaSink& sink, Options options)
    : client_(client), sink_(sink), options_(options), thread_([this] { Run(); }) {}

LiveFeed::~LiveFeed() { Stop(); }

void LiveFeed::Want(std::vector<LiveStreamKey> keys) {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  std::lock_guard lock(mu_);
  if (keys == wanted_) return;
  wanted_ = std::move(keys);
  wake_.notify_all();
}

void LiveFeed::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
    wake_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

std::map<LiveStreamKey, LiveStreamStatus> LiveFeed::Statuses() const {
  std::lock_guard lock(mu_);
  std::map<LiveStreamKey, LiveStreamStatus> out;
  for (const auto& [key, slot] : slots_) {
    LiveStreamStatus s = slot->status;
    if (slot->reader) {
      const uint64_t m = slot->reader->messages();
      s.messages = slot->counted + m;
      s.connected = m > 0 && !slot->reader->done();
      if (m > 0) s.last_message_at = slot->reader->last_message();
    }
    out[key] = s;
  }
  return out;
}

void LiveFeed::Run() {
  std::unique_ptr<v1::LiveService::Stub> stub;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_lock lock(mu_);
  for (;;) {
    const auto now = Steady::now();
    const std::set<LiveStreamKey> wanted(wanted_.begin(), wanted_.end());
    // gRPC calls are started and cancelled outside the lock: their reactions take it.
    std::vector<Reader*> to_cancel;
    std::vector<LiveStreamKey> to_open;
    // Finish calls that ended; cancel unwanted or silent ones.
    for (auto it = slots_.begin(); it != slots_.end();) {
      Slot& slot = *it->second;
      const bool want = !stop_ && wanted.count(it->first);
      if (slot.reader && slot.reader->done()) {
        const uint64_t m = slot.reader->messages();
        slot.counted += m;
        slot.status.messages = slot.counted;
        slot.status.connected = false;
        if (m > 0) {
          slot.status.last_message_at = slot.reader->last_message();
          slot.backoff.Reset();
        }
        const auto& st = slot.reader->status();
        // A call we cancelled keeps the reason we had (idle); others say how they ended.
        if (!slot.cancelled)
          slot.status.last_error = st.ok() ? "stream ended" : st.error_message().empty() ? "stream failed" : st.error_message();
        slot.reader.reset();
        slot.cancelled = false;
        slot.retry_at = now + slot.backoff.Next();
      } else if (slot.reader && !slot.cancelled &&
                 (!want || now - slot.reader->last_message() > options_.idle_timeout)) {
        if (want) {
          char quiet[48];
          std::snprintf(quiet, sizeof quiet, "no media for %.1f s", options_.idle_timeout.count() / 1000.0);
          slot.status.last_error = quiet;
        }
        to_cancel.push_back(slot.reader.get());
        slot.cancelled = true;
      }
      if (!want && !slot.reader) it = slots_.erase(it);
      else ++it;
    }
    if (stop_ && slots_.empty()) break;

    // Open calls that are wanted and due.
    if (!stop_) {
      std::shared_ptr<grpc::Channel> current = client_.Channel();
      if (current != channel) {
        channel = current;
        stub = channel ? v1::LiveService::NewStub(channel) : nullptr;
      }
      const std::string token = client_.AccessToken();
      for (const auto& key : wanted) {
        auto& slot = slots_[key];
        if (!slot) slot = std::make_unique<Slot>(options_);
        if (slot->reader || now < slot->retry_at) continue;
        if (!stub || token.empty()) {
          slot->status.last_error = "not signed in";
          slot->retry_at = now + std::chrono::milliseconds(250);
          continue;
        }
        to_open.push_back(key);
      }
      if (!to_cancel.empty() || !to_open.empty()) {
        lock.unlock();
        for (Reader* r : to_cancel) r->Cancel();
        std::vector<std::unique_ptr<Reader>> opened;
        for (const auto& key : to_open) opened.push_back(std::make_unique<Reader>(this, key, stub.get(), token));
        lock.lock();
        for (size_t i = 0; i < to_open.size(); ++i) {
          auto& slot = slots_[to_open[i]];  // only this thread erases slots
          slot->reader = std::move(opened[i]);
          ++slot->status.calls;
        }
        continue;  // look again: a call may have ended meanwhile
      }
    } else if (!to_cancel.empty()) {
      lock.unlock();
      for (Reader* r : to_cancel) r->Cancel();
      lock.lock();
      continue;
    }

    // Sleep until something changes, a retry is due, or the idle check.
    auto until = now + std::chrono::seconds(1);
    for (const auto& [key, slot] : slots_)
      if (!slot->reader && slot->retry_at > now) until = std::min(until, slot->retry_at);
    wake_.wait_until(lock, until);
  }
}

}  // namespace exam::net
