#pragma once
// The live wall's streams: keeps one LiveService.WatchMedia call open per stream the wall
// wants (camera tiles at QUALITY_TILE, the focus view at QUALITY_FULL), hands what arrives
// to a sink on gRPC threads, closes calls no longer wanted, and reopens a call that ended
// or went silent after a backoff. Every public method returns at once.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "exam/v1/common.pb.h"
#include "exam/v1/live.pb.h"

namespace exam::net {

class BackendClient;

struct LiveStreamKey {
  int64_t session_id = 0;
  exam::v1::TrackKind track = exam::v1::TRACK_KIND_CAMERA;
  exam::v1::Quality quality = exam::v1::QUALITY_TILE;
  auto operator<=>(const LiveStreamKey&) const = default;
};

// Receives the streams' content on gRPC threads: must be quick and thread-safe (queue
// the packet for a decoder, nothing more).
class LiveMediaSink {
 public:
  virtual ~LiveMediaSink() = default;
  // First message of every call (so again after a reconnect), and when parameters change.
  virtual void OnParameters(const LiveStreamKey& key, const exam::v1::CodecParameters& parameters) = 0;
  virtual void OnPacket(const LiveStreamKey& key, const exam::v1::MediaPacket& packet) = 0;
};

struct LiveStreamStatus {
  bool connected = false;     // a call is open and has delivered at least one message
  int calls = 0;              // calls opened so far (1 + reconnects)
  uint64_t messages = 0;      // over all calls
  std::string last_error;     // why the last call ended, when it failed
  std::chrono::steady_clock::time_point last_message_at{};
};

class LiveFeed {
 public:
  struct Options {
    std::chrono::milliseconds backoff_initial{500};
    std::chrono::milliseconds backoff_max{8000};
    // No message for this long: the call is cancelled and reopened (keyframes come every
    // second or so, so a healthy stream is never this quiet).
    std::chrono::milliseconds idle_timeout{10000};
  };

  LiveFeed(BackendClient& client, LiveMediaSink& sink) : LiveFeed(client, sink, Options{}) {}
  LiveFeed(BackendClient& client, LiveMediaSink& sink, Options options);
  ~LiveFeed();  // Stop()s
  LiveFeed(const LiveFeed&) = delete;
  LiveFeed& operator=(const LiveFeed&) = delete;

  // The streams wanted now; calls for others are cancelled. Cheap when nothing changed.
  void Want(std::vector<LiveStreamKey> keys);
  // Cancels every call and joins the thread; no sink call happens after it returns.
  void Stop();

  std::map<LiveStreamKey, LiveStreamStatus> Statuses() const;

 private:
  class Reader;
  struct Slot;
  void Run();

  BackendClient& client_;
  LiveMediaSink& sink_;
  Options options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::vector<LiveStreamKey> wanted_;
  std::map<LiveStreamKey, std::unique_ptr<Slot>> slots_;
  std::thread thread_;
};

}  // namespace exam::net
