#include "media/block_math.h"

#include <gtest/gtest.h>

namespace exam::media {
namespace {

constexpr int64_t kB = 256 * 1024;

TEST(BlockMath, CountsAndShortLastBlock) {
  EXPECT_EQ(BlockCount(0, kB), 0);
  EXPECT_EQ(BlockCount(1, kB), 1);
  EXPECT_EQ(BlockCount(kB, kB), 1);
  EXPECT_EQ(BlockCount(kB + 1, kB), 2);
  const int64_t size = 3 * kB + 100;
  EXPECT_EQ(BlockLength(0, kB, size), kB);
  EXPECT_EQ(BlockLength(3, kB, size), 100);
  EXPECT_EQ(BlockLength(4, kB, size), 0);
  EXPECT_EQ(BlockLength(-1, kB, size), 0);
  EXPECT_EQ(BlockOf(kB - 1, kB), 0);
  EXPECT_EQ(BlockOf(kB, kB), 1);
}

TEST(BlockMath, RangesSpanningBlocksAreClippedToTheFile) {
  const int64_t size = 3 * kB + 100;
  auto one = BlocksForRange(10, 20, kB, size);
  EXPECT_EQ(one.first, 0);
  EXPECT_EQ(one.count, 1);
  auto edge = BlocksForRange(kB - 1, 2, kB, size);  // last byte of 0, first of 1
  EXPECT_EQ(edge.first, 0);
  EXPECT_EQ(edge.count, 2);
  auto exact = BlocksForRange(kB, kB, kB, size);  // exactly block 1
  EXPECT_EQ(exact.first, 1);
  EXPECT_EQ(exact.count, 1);
  auto tail = BlocksForRange(2 * kB + 5, 10 * kB, kB, size);  // runs past the end
  EXPECT_EQ(tail.first, 2);
  EXPECT_EQ(tail.count, 2);
  EXPECT_EQ(BlocksForRange(size, 10, kB, size).count, 0);  // at the end
  EXPECT_EQ(BlocksForRange(0, 0, kB, size).count, 0);
  EXPECT_EQ(BlocksForRange(-5, 10, kB, size).count, 0);
}

TEST(BlockMath, SlicesOfEachBlockReassembleTheRange) {
  const int64_t size = 3 * kB + 100;
  const int64_t offset = kB - 7, length = kB + 50;
  auto span = BlocksForRange(offset, length, kB, size);
  ASSERT_EQ(span.count, 3);
  int64_t total = 0;
  auto s0 = SliceOfBlock(span.first, offset, length, kB, size);
  EXPECT_EQ(s0.offset_in_block, kB - 7);
  EXPECT_EQ(s0.length, 7);
  auto s1 = SliceOfBlock(span.first + 1, offset, length, kB, size);
  EXPECT_EQ(s1.offset_in_block, 0);
  EXPECT_EQ(s1.length, kB);
  auto s2 = SliceOfBlock(span.first + 2, offset, length, kB, size);
  EXPECT_EQ(s2.offset_in_block, 0);
  EXPECT_EQ(s2.length, 43);
  total = s0.length + s1.length + s2.length;
  EXPECT_EQ(total, length);
  // The partial last block: a read past the end gets what there is.
  auto last = SliceOfBlock(3, 3 * kB + 90, 1000, kB, size);
  EXPECT_EQ(last.offset_in_block, 90);
  EXPECT_EQ(last.length, 10);
  EXPECT_EQ(SliceOfBlock(0, 2 * kB, 10, kB, size).length, 0);  // does not meet
}

}  // namespace
}  // namespace exam::media
