// The review player's block cache against real recordings on disk: what it serves equals
// the file, each block is fetched from upstream once, the budget holds across a restart,
// and a misbehaving upstream gives a clear error.
#include "media/block_cache.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <random>

#include "faulty_source.h"
#include "media/track_decoder.h"
#include "review_media.h"
#include "store/media_block_store.h"
#include "temp_dir.h"

namespace exam::media {
namespace {

using testing::FaultySource;
using testing::ReviewMedia;

constexpr int64_t kBlock = 256 * 1024;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class BlockCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    media_ = ReviewMedia::Get(&why);
    if (!media_) GTEST_SKIP() << why;
  }
  std::shared_ptr<local::MediaBlockStore> Store(int64_t budget = 512ll << 20) {
    return std::make_shared<local::MediaBlockStore>(local::MediaBlockStoreOptions{dir_.File("cache"), kBlock, budget});
  }
  const ReviewMedia* media_ = nullptr;
  testing::TempDir dir_;
};

TEST_F(BlockCacheTest, ServesTheFileAndFetchesEachBlockOnce) {
  const std::string truth = Slurp(media_->camera);
  auto store = Store();
  {
    auto upstream = testing::OpenFaulty(media_->camera);
    CachedByteSource cache(upstream, store, "recording-1:sha");
    std::string error;
    ASSERT_EQ(cache.Size(&error), static_cast<int64_t>(truth.size()));
    std::string all;
    for (int64_t at = 0; at < static_cast<int64_t>(truth.size()); at += 65536) {
      auto r = cache.Read(at, 65536);
      ASSERT_TRUE(r.ok()) << r.error;
      all += r.data;
    }
    EXPECT_EQ(all, truth);
    EXPECT_EQ(upstream->bytes.load(), truth.size());  // read-ahead and demand never overlap
    // Random ranges, spanning blocks, past the end.
    std::mt19937 rng(3);
    for (int i = 0; i < 200; ++i) {
      const int64_t at = std::uniform_int_distribution<int64_t>(0, static_cast<int64_t>(truth.size()) - 1)(rng);
      const int64_t len = std::uniform_int_distribution<int64_t>(1, 3 * kBlock)(rng);
      auto r = cache.Read(at, len);
      ASSERT_TRUE(r.ok()) << r.error;
      ASSERT_EQ(r.data, truth.substr(static_cast<size_t>(at), static_cast<size_t>(len)));
    }
    EXPECT_TRUE(cache.Read(static_cast<int64_t>(truth.size()), 10).data.empty());
    EXPECT_GT(cache.Stats().block_hits, 0u);
  }
  // A second player (or a restarted console) reads from disk only.
  auto upstream = testing::OpenFaulty(media_->camera);
  CachedByteSource again(upstream, store, "recording-1:sha");
  auto r = again.Read(0, static_cast<int64_t>(truth.size()));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.data, truth);
  EXPECT_EQ(upstream->bytes.load(), 0u);
}

TEST_F(BlockCacheTest, EvictsLeastRecentlyUsedWithinTheBudgetAcrossRestarts) {
  const std::string truth = Slurp(media_->camera);
  {
    auto store = Store(4 * kBlock);
    CachedByteSource cache(testing::OpenFaulty(media_->camera), store, "rec", CachedByteSource::Options{0, 1});
    for (int64_t b = 0; b < 10; ++b) ASSERT_TRUE(cache.Read(b * kBlock, 10).ok());
    ASSERT_TRUE(cache.Read(6 * kBlock, 10).ok());  // 6 becomes the most recent
    ASSERT_TRUE(cache.Read(10 * kBlock, 10).ok());  // evicts 7, the least recent
    const auto s = store->Stats();
    EXPECT_EQ(s.blocks, 4);
    EXPECT_LE(s.bytes, 4 * kBlock);
    EXPECT_TRUE(store->Contains("rec", 6));
    EXPECT_FALSE(store->Contains("rec", 7));
  }
  auto store = Store(4 * kBlock);
  EXPECT_EQ(store->Stats().blocks, 4);
  for (int64_t b : {6, 8, 9, 10}) {
    auto data = store->Get("rec", b);
    ASSERT_TRUE(data) << b;
    EXPECT_EQ(*data, truth.substr(static_cast<size_t>(b * kBlock), static_cast<size_t>(kBlock))) << b;
  }
  store->Drop("rec");
  EXPECT_EQ(store->Stats().blocks, 0);
}

TEST_F(BlockCacheTest, ASeekFarAwayFetchesOnlyNearbyBlocks) {
  auto upstream = testing::OpenFaulty(media_->phone);  // 7 MB
  CachedByteSource cache(upstream, Store(), "phone", CachedByteSource::Options{4, 4});
  std::string error;
  const int64_t size = cache.Size(&error);
  ASSERT_TRUE(cache.Read(size - 100000, 4096).ok());
  // Demand (up to 4 blocks in one request) plus the read-ahead, never the whole file.
  EXPECT_LE(static_cast<int64_t>(upstream->bytes.load()), 8 * kBlock);
}

TEST_F(BlockCacheTest, ADecoderSeeksIntoAnUncachedRecordingWithoutDownloadingItWhole) {
  auto upstream = testing::OpenFaulty(media_->camera);
  auto cache = std::make_shared<CachedByteSource>(upstream, Store(), "camera", CachedByteSource::Options{2, 2});
  // No frames kept behind the playhead: the window would otherwise fill itself from the
  // previous GOP, which is the point of it but not of this test.
  TrackDecoder track(cache, TrackDecoder::Options{0, 2, nullptr});
  auto f = track.WaitFrameAt(8'000'000, std::chrono::seconds(20));
  ASSERT_TRUE(f) << track.Error();
  EXPECT_EQ(f->pts_us, 8'000'000);
  const auto size = std::filesystem::file_size(media_->camera);
  EXPECT_LT(upstream->bytes.load(), size / 2) << "of " << size;
}

TEST_F(BlockCacheTest, ShortAndFailingUpstreamAnswersAreClearErrors) {
  auto upstream = testing::OpenFaulty(media_->camera);
  upstream->max_answer = 1000;  // a backend capping its answers below what was asked
  CachedByteSource cache(upstream, Store(), "short", CachedByteSource::Options{0, 1});
  auto r = cache.Read(kBlock * 2, 100);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("short answer"), std::string::npos) << r.error;

  auto failing = testing::OpenFaulty(media_->camera);
  failing->fail_from = 3 * kBlock;
  CachedByteSource cache2(failing, Store(), "failing", CachedByteSource::Options{0, 1});
  EXPECT_TRUE(cache2.Read(0, 100).ok());
  auto bad = cache2.Read(3 * kBlock + 5, 100);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.error.find("connection reset"), std::string::npos) << bad.error;
}

TEST_F(BlockCacheTest, AForeignOrTruncatedCacheFileIsRebuiltNotTrusted) {
  {
    auto store = Store();
    CachedByteSource cache(testing::OpenFaulty(media_->camera), store, "rec", CachedByteSource::Options{0, 1});
    ASSERT_TRUE(cache.Read(0, 3 * kBlock).ok());
  }
  std::filesystem::resize_file(dir_.File("cache") + "/media_blocks.dat", kBlock + 10);
  auto store = Store();
  EXPECT_EQ(store->Stats().blocks, 1);  // only block 0 is still whole
  // Another block size: everything goes.
  local::MediaBlockStore other(local::MediaBlockStoreOptions{dir_.File("cache"), 64 * 1024, 1 << 20});
  EXPECT_EQ(other.Stats().blocks, 0);
}

}  // namespace
}  // namespace exam::media
