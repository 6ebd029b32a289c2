#pragma once
// Live media relay: what candidate devices push (CandidateService.PushMedia) fans out to the
// proctors watching (LiveService.WatchMedia), one channel per (session, track, quality).
//
// A channel keeps the current codec parameters and a bounded window of recent packets that
// always begins on a keyframe (the current GOP, and the previous one while it fits), so a
// watcher that joins starts on the latest keyframe, never mid-GOP. Watchers hold only a
// cursor into the window: one that falls behind its start (slow network, slow console)
// skips to the latest keyframe instead of queueing, so memory stays bounded whatever the
// watchers do. When the pusher goes away the channel stays; watchers simply receive
// nothing until a device pushes again (its stream starts with parameters and a keyframe).
#include <atomic>
#include <condition_variable>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "exam/v1/live.pb.h"

namespace exam::backend {

class BackendContext;

class MediaRelay {
 public:
  struct Key {
    int64_t session_id = 0;
    int track = 0;    // exam::v1::TrackKind
    int quality = 0;  // exam::v1::Quality
    bool operator<(const Key& o) const {
      return std::tie(session_id, track, quality) < std::tie(o.session_id, o.track, o.quality);
    }
  };

  // Bounds of one channel's window.
  static constexpr size_t kMaxWindowPackets = 600;
  static constexpr size_t kMaxWindowBytes = 8u << 20;

  class Channel;

  // The relay of a backend; services of one backend share it (it lives as long as one of
  // them holds it).
  static std::shared_ptr<MediaRelay> For(const BackendContext& ctx);

  // The channel for key, created on first use.
  std::shared_ptr<Channel> Get(const Key& key);

  // Ends every wait (shutdown).
  void Close();
  bool closed() const;

  class Channel {
   public:
    // A pusher claims the channel (the latest claim wins; packets of an older pusher are
    // ignored). A claim, or new parameters, start a new stream: the window is cleared and
    // waits for a keyframe, and watchers receive the parameters again on it.
    uint64_t Claim();
    // Adds a packet of pusher `id`. Returns false when `id` no longer owns the channel.
    bool Publish(uint64_t id, const exam::v1::MediaPacket& packet);
    // The pusher's stream ended (watchers stay and wait).
    void Release(uint64_t id);

    // Watcher side. A cursor starts at 0 ("not started").
    struct Cursor {
      uint64_t next_seq = 0;         // 0: start at the latest keyframe
      uint64_t parameters_sent = 0;  // generation of the parameters last sent
    };
    // Fills *out with the next packet for cursor (parameters attached when they are new to
    // it) and advances it; waits until `deadline` for one. Returns false on timeout or close.
    bool Next(Cursor& cursor, exam::v1::MediaPacket* out, std::chrono::steady_clock::time_point deadline);

    // For tests and stats.
    size_t window_packets() const;
    int64_t skipped() const;

   private:
    friend class MediaRelay;
    explicit Channel(MediaRelay* relay) : relay_(relay) {}
    struct Entry {
      uint64_t seq;
      std::shared_ptr<const exam::v1::MediaPacket> packet;  // without parameters
    };
    void TrimLocked();

    MediaRelay* relay_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    uint64_t owner_ = 0;
    uint64_t claims_ = 0;
    std::shared_ptr<const exam::v1::CodecParameters> parameters_;
    uint64_t generation_ = 0;  // bumped when parameters change
    std::deque<Entry> window_;  // front is a keyframe (when not empty)
    size_t window_bytes_ = 0;
    uint64_t next_seq_ = 1;
    uint64_t last_key_seq_ = 0;  // seq of the latest keyframe in the window (0: none)
    bool waiting_for_key_ = true;
    int64_t skipped_ = 0;
  };

 private:
  std::mutex mu_;
  std::map<Key, std::shared_ptr<Channel>> channels_;
  std::atomic<bool> closed_{false};
};

}  // namespace exam::backend
