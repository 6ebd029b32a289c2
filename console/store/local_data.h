#pragma once
// What the console keeps on this computer, and the "wipe local data" command (清除本地数据).
// Two things hold personal data: the signed-in staff member's outbox (actions with their
// notes, kept until delivered and a day after) and the review player's block cache (pieces
// of candidates' recordings, up to its byte budget). Both are surveyed and wiped on a
// thread of their own, since both touch the disk; the UI reads Status() each frame.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/media_block_store.h"

namespace exam::local {

class LocalStore;
class Outbox;

struct LocalDataFigures {
  std::string store_path;  // empty: no outbox open (nobody signed in)
  int64_t store_bytes = 0;
  int actions = 0;      // rows in the outbox
  int undelivered = 0;  // of which pending or sending
  std::string cache_folder;
  int64_t cache_bytes = 0;  // recordings in the block cache
  int64_t cache_blocks = 0;
  std::string cache_error;  // why the cache could not be opened
};

struct LocalDataWipe {
  int actions_removed = 0;
  int undelivered_removed = 0;
  int64_t cache_bytes_removed = 0;
  int64_t store_bytes_before = 0;
  int64_t store_bytes_after = 0;
};

enum class LocalDataPhase { kIdle, kSurveying, kWiping, kDone, kFailed };

struct LocalDataStatus {
  LocalDataPhase phase = LocalDataPhase::kIdle;
  bool figures_known = false;
  LocalDataFigures figures;  // as of the last survey or wipe
  bool wiped = false;        // last_wipe is set
  LocalDataWipe last_wipe;
  std::string error;  // kFailed: what went wrong (nothing was lost: see Wipe)
};

class LocalData {
 public:
  // `on_change` is called on the worker thread when a survey or wipe ends.
  explicit LocalData(std::string cache_folder = MediaBlockStore::DefaultFolder(), std::function<void()> on_change = {});
  ~LocalData();  // Join()s
  // Waits for the survey or wipe in progress (before what on_change reaches goes away).
  void Join();
  LocalData(const LocalData&) = delete;
  LocalData& operator=(const LocalData&) = delete;

  // The recording block cache every player shares, opened at the first call; nullptr with
  // *error when its folder is unusable (playback then reads everything from the backend).
  std::shared_ptr<MediaBlockStore> MediaCache(std::string* error);
  // The signed-in staff member's store and outbox; null for both when signed out.
  void SetOutbox(std::shared_ptr<LocalStore> store, std::shared_ptr<Outbox> outbox);

  // Each starts the work on the worker thread and returns false when work is running.
  bool Survey();
  // Removes every finished action and every cached recording block, and the undelivered
  // actions only when `discard_undelivered` (otherwise they stay and are still sent), then
  // compacts both files so what was deleted cannot be read back from them.
  bool Wipe(bool discard_undelivered);

  LocalDataStatus Status() const;
  // Grows when a wipe removed actions, so views re-read the outbox.
  uint64_t wipes() const { return wipes_.load(); }

 private:
  void Work(bool wipe, bool discard_undelivered);
  bool Start(LocalDataPhase phase, bool discard_undelivered);
  LocalDataFigures Measure(const std::shared_ptr<LocalStore>& store, const std::shared_ptr<Outbox>& outbox);

  const std::string cache_folder_;
  const std::function<void()> on_change_;

  std::mutex cache_mu_;  // held while opening the cache
  std::shared_ptr<MediaBlockStore> cache_;
  std::string cache_error_;

  mutable std::mutex mu_;
  std::shared_ptr<LocalStore> store_;
  std::shared_ptr<Outbox> outbox_;
  LocalDataStatus status_;
  std::thread worker_;
  std::atomic<uint64_t> wipes_{0};
};

}  // namespace exam::local
