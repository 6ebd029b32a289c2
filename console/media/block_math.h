#pragma once
// Block arithmetic of the recording cache, pure and header-only: which fixed-size blocks
// a byte range touches, how long each block is (the last one is short), and which part of
// a block a read takes. Kept apart so it can be tested without files or threads.
#include <algorithm>
#include <cstdint>

namespace exam::media {

struct BlockSpan {
  int64_t first = 0;  // first block index
  int64_t count = 0;  // 0 when the range is empty or starts at/after the end
};

// Number of blocks of a file of `file_size` bytes.
inline int64_t BlockCount(int64_t file_size, int64_t block_size) {
  return file_size <= 0 ? 0 : (file_size + block_size - 1) / block_size;
}

inline int64_t BlockOf(int64_t offset, int64_t block_size) { return offset / block_size; }
inline int64_t BlockStart(int64_t block, int64_t block_size) { return block * block_size; }

// Bytes in `block` (short for the last one, 0 past the end).
inline int64_t BlockLength(int64_t block, int64_t block_size, int64_t file_size) {
  const int64_t start = BlockStart(block, block_size);
  if (block < 0 || start >= file_size) return 0;
  return std::min(block_size, file_size - start);
}

// Blocks touched by reading `length` bytes at `offset`, clipped to the file.
inline BlockSpan BlocksForRange(int64_t offset, int64_t length, int64_t block_size, int64_t file_size) {
  if (offset < 0 || length <= 0 || offset >= file_size) return {};
  const int64_t end = std::min(file_size, offset + length);  // exclusive
  const int64_t first = BlockOf(offset, block_size);
  return {first, BlockOf(end - 1, block_size) - first + 1};
}

// The part of `block` that a read of [offset, offset+length) takes: offset within the block
// and bytes. {0, 0} when they do not meet.
struct BlockSlice {
  int64_t offset_in_block = 0;
  int64_t length = 0;
};
inline BlockSlice SliceOfBlock(int64_t block, int64_t offset, int64_t length, int64_t block_size, int64_t file_size) {
  const int64_t bstart = BlockStart(block, block_size);
  const int64_t bend = bstart + BlockLength(block, block_size, file_size);
  const int64_t from = std::max(offset, bstart);
  const int64_t to = std::min(offset + length, bend);
  if (to <= from) return {};
  return {from - bstart, to - from};
}

}  // namespace exam::media
