#pragma once
// A recording read through the local block cache (录像块缓存): reads are served from cached
// blocks, missing blocks are fetched from the upstream source (the backend) in whole blocks,
// and a worker reads a few blocks ahead of the last read so that playback rarely waits on
// the network. Seeking far away fetches only the blocks around the new position: a 1-hour
// recording is never downloaded whole to play a minute of it.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "media/byte_source.h"

namespace exam::local {
class MediaBlockStore;
}

namespace exam::media {

struct BlockCacheStats {
  uint64_t upstream_reads = 0;  // calls to the upstream source
  uint64_t upstream_bytes = 0;
  uint64_t block_hits = 0;      // blocks served from the cache
  uint64_t block_fetches = 0;   // blocks fetched on demand (the reader waited)
  uint64_t readahead_blocks = 0;
  std::string last_error;       // of the cache itself (disk full...), not of reads
};

class CachedByteSource : public ByteSource {
 public:
  struct Options {
    int readahead_blocks = 8;     // blocks fetched past the last read, in the background
    int max_blocks_per_fetch = 4; // blocks per upstream request
  };
  // `recording_key` names the recording in the cache; it must change when the bytes do
  // (include the sha256).
  CachedByteSource(std::shared_ptr<ByteSource> upstream, std::shared_ptr<local::MediaBlockStore> store,
                   std::string recording_key, Options options);
  CachedByteSource(std::shared_ptr<ByteSource> upstream, std::shared_ptr<local::MediaBlockStore> store,
                   std::string recording_key)
      : CachedByteSource(std::move(upstream), std::move(store), std::move(recording_key), Options{}) {}
  ~CachedByteSource() override;

  int64_t Size(std::string* error) override;
  ByteRead Read(int64_t offset, int64_t length) override;
  std::string Describe() const override { return upstream_->Describe(); }

  BlockCacheStats Stats() const;

 protected:
  void OnCancel() override {
    upstream_->Cancel();
    cv_.notify_all();
  }
  void OnResume() override { upstream_->Resume(); }

 private:
  // Fetches blocks [first, first+count) from upstream and stores them; the caller marked
  // them in flight. Returns the error, empty on success.
  std::string Fetch(int64_t first, int64_t count, int64_t file_size, std::string* first_block_data);
  void ReadAheadLoop();
  std::string BlockData(int64_t block, int64_t file_size, ByteRead* failure);

  std::shared_ptr<ByteSource> upstream_;
  std::shared_ptr<local::MediaBlockStore> store_;
  const std::string key_;
  const Options options_;
  const int64_t block_size_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  int64_t size_ = -1;
  std::set<int64_t> in_flight_;
  std::deque<int64_t> wanted_;  // read-ahead queue
  bool stop_ = false;
  BlockCacheStats stats_;
  std::thread worker_;
};

}  // namespace exam::media
