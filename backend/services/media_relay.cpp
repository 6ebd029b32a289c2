#include "backend/services/media_relay.h"

#include <algorithm>

namespace exam::backend {

std::shared_ptr<MediaRelay> MediaRelay::For(const BackendContext& ctx) {
  // Services get only the context; the relay hangs off its address for as long as a
  // service holds it (a later context at the same address finds the old one expired).
  static std::mutex mu;
  static std::map<const BackendContext*, std::weak_ptr<MediaRelay>> relays;
  std::lock_guard lock(mu);
  for (auto it = relays.begin(); it != relays.end();) {
    if (it->second.expired()) it = relays.erase(it);
    else ++it;
  }
  auto& slot = relays[&ctx];
  auto relay = slot.lock();
  if (!relay) {
    relay = std::make_shared<MediaRelay>();
    slot = relay;
  }
  return relay;
}

std::shared_ptr<MediaRelay::Channel> MediaRelay::Get(const Key& key) {
  std::lock_guard lock(mu_);
  auto& ch = channels_[key];
  if (!ch) ch.reset(new Channel(this));
  return ch;
}

void MediaRelay::Close() {
  closed_.store(true);
  std::lock_guard lock(mu_);
  for (auto& [key, ch] : channels_) {
    std::lock_guard chl(ch->mu_);
    ch->cv_.notify_all();
  }
}

bool MediaRelay::closed() const { return closed_.load(); }

uint64_t MediaRelay::Channel::Claim() {
  std::lock_guard lock(mu_);
  owner_ = ++claims_;
  // A new push is a new stream: it starts with parameters and a keyframe, and watchers get
  // the parameters again with it (a discontinuity: their decoder may start afresh).
  if (parameters_) ++generation_;
  window_.clear();
  window_bytes_ = 0;
  last_key_seq_ = 0;
  waiting_for_key_ = true;
  return owner_;
}

void MediaRelay::Channel::Release(uint64_t id) {
  std::lock_guard lock(mu_);
  if (owner_ == id) owner_ = 0;
}

bool MediaRelay::Channel::Publish(uint64_t id, const exam::v1::MediaPacket& packet) {
  {
    std::lock_guard lock(mu_);
    if (id != owner_) return false;
    if (packet.has_parameters()) {
      if (!parameters_ || parameters_->SerializeAsString() != packet.parameters().SerializeAsString()) {
        parameters_ = std::make_shared<const exam::v1::CodecParameters>(packet.parameters());
        ++generation_;
        window_.clear();
        window_bytes_ = 0;
        last_key_seq_ = 0;
        waiting_for_key_ = true;
      }
    }
    if (!parameters_) return true;  // nothing can be decoded without them
    if (waiting_for_key_ && !packet.keyframe()) return true;
    auto stored = std::make_shared<exam::v1::MediaPacket>(packet);
    stored->clear_parameters();
    const uint64_t seq = next_seq_++;
    if (packet.keyframe()) {
      waiting_for_key_ = false;
      last_key_seq_ = seq;
    }
    window_bytes_ += stored->data().size();
    window_.push_back(Entry{seq, std::move(stored)});
    TrimLocked();
  }
  cv_.notify_all();
  return true;
}

void MediaRelay::Channel::TrimLocked() {
  auto keyframes = [this] {
    return std::count_if(window_.begin(), window_.end(), [](const Entry& e) { return e.packet->keyframe(); });
  };
  auto drop_front_gop = [this] {
    do {
      window_bytes_ -= window_.front().packet->data().size();
      window_.pop_front();
    } while (!window_.empty() && !window_.front().packet->keyframe());
  };
  // The current GOP and the one before it, while they fit.
  if (window_.back().packet->keyframe())
    while (keyframes() > 2) drop_front_gop();
  while ((window_.size() > kMaxWindowPackets || window_bytes_ > kMaxWindowBytes) && keyframes() > 1) drop_front_gop();
  if (window_.size() > kMaxWindowPackets || window_bytes_ > kMaxWindowBytes) {
    // One GOP alone is too long (a device that never sends keyframes): start over.
    window_.clear();
    window_bytes_ = 0;
    last_key_seq_ = 0;
    waiting_for_key_ = true;
  }
}

bool MediaRelay::Channel::Next(Cursor& cursor, exam::v1::MediaPacket* out,
                               std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  while (true) {
    if (relay_->closed()) return false;
    if (parameters_ && !window_.empty() && last_key_seq_ != 0) {
      const uint64_t first = window_.front().seq;
      if (cursor.next_seq == 0 || cursor.next_seq < first) {
        // Joining, or fell out of the window: start at the latest keyframe.
        if (cursor.next_seq != 0) ++skipped_;
        cursor.next_seq = last_key_seq_;
      }
      if (cursor.next_seq < next_seq_) {
        *out = *window_[cursor.next_seq - first].packet;
        if (cursor.parameters_sent != generation_) {
          *out->mutable_parameters() = *parameters_;
          cursor.parameters_sent = generation_;
        }
        ++cursor.next_seq;
        return true;
      }
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) return false;
  }
}

size_t MediaRelay::Channel::window_packets() const {
  std::lock_guard lock(mu_);
  return window_.size();
}

int64_t MediaRelay::Channel::skipped() const {
  std::lock_guard lock(mu_);
  return skipped_;
}

}  // namespace exam::backend
