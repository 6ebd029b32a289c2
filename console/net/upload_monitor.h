#pragma once
// Keeps support's view of one exam's uploads fresh: lists the files (and the history of the
// file being looked at) on its own thread, every few seconds and at once when asked, and
// publishes immutable snapshots. The UI only reads snapshots; nothing here blocks it.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "exam/v1/upload.pb.h"

namespace exam::net {

class BackendClient;

struct UploadsView {
  int64_t exam_id = 0;
  bool loaded = false;        // at least one answer for this exam
  bool loading = false;       // a call is in flight
  std::string error;          // last failure (the files shown are from the last success)
  std::vector<exam::v1::UploadFile> files;
  int64_t fetched_at_backend_ms = 0;  // backend clock when the list was fetched
  std::chrono::steady_clock::time_point fetched_at{};
  uint64_t version = 0;       // grows with every published change

  // The selected file with its history, once fetched.
  int64_t selected_file_id = 0;
  bool selected_loaded = false;
  exam::v1::UploadFile selected;
};

class UploadMonitor {
 public:
  struct Options {
    std::chrono::milliseconds refresh_every{2000};
    std::chrono::milliseconds call_timeout{5000};
    // Called on the monitor's thread after each published change; must be cheap.
    std::function<void()> on_change;
  };

  UploadMonitor(BackendClient& client, Options options);
  ~UploadMonitor();  // Stop()s
  UploadMonitor(const UploadMonitor&) = delete;
  UploadMonitor& operator=(const UploadMonitor&) = delete;

  // Which exam to follow (0: none; the thread idles).
  void Watch(int64_t exam_id);
  // Which file's history to fetch along with the list (0: none).
  void Select(int64_t file_id);
  // Fetch now rather than at the next period (after an action was confirmed, say).
  void RefreshNow();
  void Stop();

  std::shared_ptr<const UploadsView> View() const;

 private:
  void Run();
  void Publish(const std::function<void(UploadsView&)>& change);

  BackendClient& client_;
  Options options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool refresh_ = false;
  int64_t exam_id_ = 0;
  int64_t file_id_ = 0;
  std::shared_ptr<const UploadsView> view_ = std::make_shared<UploadsView>();
  std::thread thread_;
};

}  // namespace exam::net
