#pragma once
// The demo exam the console shows out of the box and the simulator drives, and an earlier
// sitting of it whose sessions have ended, with recordings for review.
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "backend/server.h"
#include "backend/services/backend_context.h"

namespace exam::backend {

// Creates the demo exam, rooms, candidates and staff when the store has no users yet;
// otherwise reads back what an earlier run created. Deterministic names for a count.
// With options.demo_review_sessions > 0 it also creates a finished sitting: sessions that
// ended, their question and flag events at the times the recordings show them, the score
// sheet, and a recording plan per session for DemoRecordingWorker.
DemoInfo SeedOrLoadDemo(BackendContext& ctx, const ServerOptions& options);

// Makes the finished sitting's recordings on one background thread, session by session, and
// registers each session's files as its tracks once all are written.
//
// Synthesis costs CPU (tens of seconds per session on one core, at lowered priority), so it
// starts on the first Request() — the first review call — not with the server: test servers
// and a proctor's live wall never pay for it. Results are kept in a cache folder keyed by
// the recording plan and reused by later runs: $EXAM_DEMO_RECORDINGS_CACHE, else
// $XDG_CACHE_HOME/exam-console/demo-recordings, else ~/.cache/..., else the media folder.
class DemoRecordingWorker {
 public:
  explicit DemoRecordingWorker(BackendContext& ctx);
  // Cancels synthesis in progress (its partial files are removed) and waits for the thread.
  ~DemoRecordingWorker();
  DemoRecordingWorker(const DemoRecordingWorker&) = delete;
  DemoRecordingWorker& operator=(const DemoRecordingWorker&) = delete;

  // Starts the thread the first time there are plans without recordings; cheap afterwards.
  void Request();
  // Sessions whose recordings are still to be made. Caller may hold the store lock.
  std::set<int64_t> PendingSessions();

 private:
  void Run();
  void MakeRecordings(int64_t session_id, const std::string& plan_text);

  BackendContext& ctx_;
  std::once_flag started_;
  std::atomic<bool> cancel_{false};
  std::thread thread_;
};

}  // namespace exam::backend
