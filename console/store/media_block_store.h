#pragma once
// The review player's local block cache on disk (录像块缓存): fixed-size blocks of
// recordings in one data file, indexed by a small SQLite file next to it, evicted least
// recently used once a byte budget is reached. A grader reopening a session, or seeking
// back, reads from here instead of the backend. The cache is a cache: a missing, damaged or
// foreign file is rebuilt empty rather than failing playback.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/sqlite_db.h"

namespace exam::local {

struct MediaBlockStoreOptions {
  std::string folder;                   // holds media_blocks.sqlite and media_blocks.dat
  int64_t block_size = 256 * 1024;      // bytes per block
  int64_t budget_bytes = 512ll << 20;   // data kept before the least recently used go
};

struct MediaBlockStoreStats {
  int64_t blocks = 0;
  int64_t bytes = 0;
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;
};

class MediaBlockStore {
 public:
  // Opens or creates the cache in options.folder. Throws sqlite::Error when the folder is
  // unusable. A cache written with another block size is emptied.
  explicit MediaBlockStore(MediaBlockStoreOptions options);
  ~MediaBlockStore();  // saves recency of blocks read since the last write
  MediaBlockStore(const MediaBlockStore&) = delete;
  MediaBlockStore& operator=(const MediaBlockStore&) = delete;

  int64_t block_size() const { return options_.block_size; }

  // The block's bytes, when cached (and marks it recently used).
  std::optional<std::string> Get(const std::string& recording, int64_t block);
  bool Contains(const std::string& recording, int64_t block) const;
  // Stores a block (at most block_size bytes), evicting the least recently used ones to
  // stay within the budget. Replaces an existing copy.
  void Put(const std::string& recording, int64_t block, std::string_view data);
  // Forgets every block of a recording (e.g. its sha256 changed).
  void Drop(const std::string& recording);
  // Forgets every block, truncates the data file to nothing and compacts the index, so no
  // recording stays on this computer (the console's "wipe local data"). Readers playing at
  // the time just fetch from the backend again. Returns the bytes of recordings removed.
  // Throws sqlite::Error when the index cannot be written.
  int64_t Clear();

  // `$XDG_CACHE_HOME` (or `~/.cache`) + `/exam-console/media-blocks`.
  static std::string DefaultFolder();

  MediaBlockStoreStats Stats() const;

 private:
  struct Entry {
    int64_t slot = 0;
    int64_t length = 0;
    int64_t last_used = 0;
    bool dirty = false;  // last_used not yet written
  };
  static std::string Key(const std::string& recording, int64_t block);
  void Load();
  void Reset();
  void EvictOneLocked();
  void SaveRecencyLocked();

  MediaBlockStoreOptions options_;
  std::unique_ptr<sqlite::Connection> db_;
  int fd_ = -1;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // Key() -> entry
  std::vector<int64_t> free_slots_;
  int64_t next_slot_ = 0;
  int64_t clock_ = 0;  // recency counter
  int64_t bytes_ = 0;
  mutable MediaBlockStoreStats stats_;
};

}  // namespace exam::local
