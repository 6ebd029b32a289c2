#pragma once
// Live media of simulated devices: every pushed track replays its pre-encoded loop
// (backend/media/live_loop.h) at real time through CandidateService.PushMedia, one client
// stream per device track carrying both simulcast qualities (tile and full).
//
// Candidates only say what should be pushed (Want / Drop); one thread of its own opens,
// feeds and closes the streams, so a candidate's step never waits on media. A failed stream
// is reopened after a pause (starting again with parameters and a keyframe) until the
// candidate drops it; a stream refused for good (unimplemented, invalid) is not retried.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "backend/media/live_loop.h"
#include "core/exam_rules.h"
#include "exam/v1/candidate.grpc.pb.h"

namespace exam::sim {

class LivePusher {
 public:
  // `now`: the device's clock, for captured_at.
  LivePusher(std::shared_ptr<grpc::Channel> channel, std::function<core::TimePoint()> now);
  ~LivePusher();
  LivePusher(const LivePusher&) = delete;
  LivePusher& operator=(const LivePusher&) = delete;

  // A device's track, by (candidate index, track).
  using Key = std::pair<int, media::LoopTrack>;
  // Push `track` with the device's token, starting `offset_frames` into the loop (rounded
  // down to a keyframe). Calling again only updates the token (a device that signed in again).
  void Want(Key key, const std::string& token, int offset_frames);
  // Stop pushing (closes the stream politely).
  void Drop(Key key);
  // Cancels every stream and ends the thread.
  void Shutdown();

  int64_t packets() const { return packets_.load(); }
  int64_t streams_opened() const { return streams_opened_.load(); }
  int64_t errors() const { return errors_.load(); }
  int active_streams() const;

 private:
  struct Spec {
    std::string token;
    int offset_frames = 0;
  };
  struct Stream;
  void Loop();
  void Open(Stream& s);
  void Close(Stream& s, bool cancel);
  bool SendDue(Stream& s, std::chrono::steady_clock::time_point now);

  std::unique_ptr<exam::v1::CandidateService::Stub> stub_;
  std::function<core::TimePoint()> now_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<Key, Spec> wanted_;
  bool changed_ = false;
  bool stop_ = false;
  std::map<Key, std::unique_ptr<Stream>> streams_;  // the pusher thread's own
  std::map<Key, int64_t> resume_at_;  // loop frame a dropped track resumes from (pts keep rising)
  std::atomic<int> active_{0};
  std::atomic<int64_t> packets_{0}, streams_opened_{0}, errors_{0};
  std::mutex cancel_mu_;  // guards contexts being cancelled from Shutdown
  std::thread thread_;
};

}  // namespace exam::sim
