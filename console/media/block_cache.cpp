#include "media/block_cache.h"

#include <algorithm>

#include "media/block_math.h"
#include "store/media_block_store.h"

namespace exam::media {

CachedByteSource::CachedByteSource(std::shared_ptr<ByteSource> upstream, std::shared_ptr<local::MediaBlockStore> store,
                                   std::string recording_key, Options options)
    : upstream_(std::move(upstream)),
      store_(std::move(store)),
      key_(std::move(recording_key)),
      options_(options),
      block_size_(store_->block_size()) {
  worker_ = std::thread([this] { ReadAheadLoop(); });
}

CachedByteSource::~CachedByteSource() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  upstream_->Cancel();  // a read-ahead in flight returns at once
  cv_.notify_all();
  worker_.join();
}

int64_t CachedByteSource::Size(std::string* error) {
  {
    std::lock_guard lock(mu_);
    if (size_ >= 0) return size_;
  }
  const int64_t s = upstream_->Size(error);
  if (s >= 0) {
    std::lock_guard lock(mu_);
    size_ = s;
  }
  return s;
}

BlockCacheStats CachedByteSource::Stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::string CachedByteSource::Fetch(int64_t first, int64_t count, int64_t file_size, std::string* first_block_data) {
  const int64_t offset = BlockStart(first, block_size_);
  int64_t length = 0;
  for (int64_t b = first; b < first + count; ++b) length += BlockLength(b, block_size_, file_size);
  ByteRead r = upstream_->Read(offset, length);
  {
    std::lock_guard lock(mu_);
    ++stats_.upstream_reads;
    stats_.upstream_bytes += r.data.size();
  }
  if (!r.ok()) return r.error;
  // Store every whole block that came back, even when the answer was short.
  std::string cache_error;
  for (int64_t b = first; b < first + count; ++b) {
    const int64_t at = BlockStart(b, block_size_) - offset;
    const int64_t len = BlockLength(b, block_size_, file_size);
    if (at + len > static_cast<int64_t>(r.data.size())) break;
    const std::string_view block(r.data.data() + at, static_cast<size_t>(len));
    if (b == first && first_block_data) first_block_data->assign(block);
    try {
      store_->Put(key_, b, block);
    } catch (const std::exception& e) {
      cache_error = e.what();  // playback goes on uncached
    }
  }
  if (!cache_error.empty()) {
    std::lock_guard lock(mu_);
    stats_.last_error = cache_error;
  }
  if (static_cast<int64_t>(r.data.size()) < length)
    return Describe() + ": short answer from the source: asked " + std::to_string(length) + " bytes at " +
           std::to_string(offset) + ", got " + std::to_string(r.data.size()) + " of a " + std::to_string(file_size) +
           "-byte file";
  return {};
}

std::string CachedByteSource::BlockData(int64_t block, int64_t file_size, ByteRead* failure) {
  for (;;) {
    if (auto cached = store_->Get(key_, block)) {
      std::lock_guard lock(mu_);
      ++stats_.block_hits;
      return *cached;
    }
    std::unique_lock lock(mu_);
    if (in_flight_.count(block)) {
      // The read-ahead is fetching it: wait for that rather than asking twice.
      cv_.wait(lock, [&] { return !in_flight_.count(block) || cancelled(); });
      if (cancelled()) {
        *failure = ByteRead::Failure("reading " + Describe() + " was cancelled", true);
        return {};
      }
      continue;
    }
    int64_t count = 0;
    const int64_t blocks = BlockCount(file_size, block_size_);
    while (count < options_.max_blocks_per_fetch && block + count < blocks && !in_flight_.count(block + count) &&
           (count == 0 || !store_->Contains(key_, block + count)))
      ++count;
    for (int64_t b = block; b < block + count; ++b) in_flight_.insert(b);
    stats_.block_fetches += static_cast<uint64_t>(count);
    lock.unlock();
    std::string data;
    const std::string error = Fetch(block, count, file_size, &data);
    lock.lock();
    for (int64_t b = block; b < block + count; ++b) in_flight_.erase(b);
    cv_.notify_all();
    if (data.empty() && BlockLength(block, block_size_, file_size) > 0) {
      *failure = ByteRead::Failure(error.empty() ? Describe() + ": block " + std::to_string(block) + " came back empty" : error,
                                   upstream_->cancelled() || cancelled());
      return {};
    }
    return data;
  }
}

ByteRead CachedByteSource::Read(int64_t offset, int64_t length) {
  if (cancelled()) return ByteRead::Failure("reading " + Describe() + " was cancelled", true);
  if (offset < 0 || length < 0) return ByteRead::Failure("bad range for " + Describe());
  std::string error;
  const int64_t size = Size(&error);
  if (size < 0) return ByteRead::Failure(error);
  ByteRead out;
  const BlockSpan span = BlocksForRange(offset, length, block_size_, size);
  if (span.count == 0) return out;
  for (int64_t b = span.first; b < span.first + span.count; ++b) {
    ByteRead failure;
    const std::string data = BlockData(b, size, &failure);
    if (!failure.ok()) {
      // Bytes already gathered are still good; hand them back and let the next read report.
      if (!out.data.empty()) break;
      return failure;
    }
    const BlockSlice slice = SliceOfBlock(b, offset, length, block_size_, size);
    if (slice.offset_in_block + slice.length > static_cast<int64_t>(data.size())) break;
    out.data.append(data, static_cast<size_t>(slice.offset_in_block), static_cast<size_t>(slice.length));
  }
  // Read ahead from where this read ended; a seek elsewhere makes older wishes moot.
  const int64_t next = span.first + span.count;
  const int64_t blocks = BlockCount(size, block_size_);
  {
    std::lock_guard lock(mu_);
    wanted_.clear();
    for (int64_t b = next; b < std::min(blocks, next + options_.readahead_blocks); ++b)
      if (!in_flight_.count(b)) wanted_.push_back(b);
  }
  cv_.notify_all();
  return out;
}

void CachedByteSource::ReadAheadLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || (!wanted_.empty() && !cancelled()); });
    if (stop_) return;
    const int64_t size = size_;
    const int64_t first = wanted_.front();
    wanted_.pop_front();
    if (in_flight_.count(first) || store_->Contains(key_, first)) continue;
    int64_t count = 1;
    while (count < options_.max_blocks_per_fetch && !wanted_.empty() && wanted_.front() == first + count &&
           !in_flight_.count(first + count) && !store_->Contains(key_, first + count)) {
      wanted_.pop_front();
      ++count;
    }
    for (int64_t b = first; b < first + count; ++b) in_flight_.insert(b);
    stats_.readahead_blocks += static_cast<uint64_t>(count);
    lock.unlock();
    Fetch(first, count, size, nullptr);  // errors surface when a reader asks for the block
    lock.lock();
    for (int64_t b = first; b < first + count; ++b) in_flight_.erase(b);
    cv_.notify_all();
  }
}

}  // namespace exam::media
