// What the console keeps on this computer, on real SQLite and data files in a temp dir: a
// confirmed action keeps no picture, and "wipe local data" leaves none of the wiped notes
// or recording bytes readable in the files (searched byte by byte, free pages and the
// write-ahead log included), while undelivered actions survive unless discarded on purpose.
#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>

#include "exam/v1/live.pb.h"
#include "store/action_methods.h"
#include "store/local_data.h"
#include "store/local_store.h"
#include "store/media_block_store.h"
#include "store/outbox.h"
#include "temp_dir.h"

namespace exam::testing {
namespace {

namespace v1 = exam::v1;
using local::ActionState;
using namespace std::chrono_literals;

// Whether any of the files starting with `path` (the file, its -wal and -shm) holds `needle`.
bool FilesContain(const std::string& path, const std::string& needle) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::ifstream in(path + suffix, std::ios::binary);
    if (!in) continue;
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(needle) != std::string::npos) return true;
  }
  return false;
}

v1::ProctorActionRequest Violation(const std::string& note, const std::string& picture) {
  v1::ProctorActionRequest r;
  r.set_session_id(7);
  r.set_kind(v1::PROCTOR_ACTION_KIND_RECORD_VIOLATION);
  r.set_category(v1::VIOLATION_CATEGORY_OTHER);
  r.set_text(note);
  r.set_snapshot(picture);
  return r;
}

// Sends one action through the sender's steps, as the backend confirming it.
void Deliver(local::Outbox& outbox, int64_t id, bool confirmed) {
  ASSERT_TRUE(outbox.MarkSending(id));
  if (confirmed) {
    ASSERT_TRUE(outbox.MarkConfirmed(id, "ok"));
  } else {
    ASSERT_TRUE(outbox.MarkFailed(id, 9, "refused"));
  }
}

// Waits for the LocalData worker to finish the work it was given.
class Waiter {
 public:
  std::function<void()> Callback() {
    return [this] {
      std::lock_guard lock(mu_);
      ++done_;
      cv_.notify_all();
    };
  }
  void WaitFor(int count) {
    std::unique_lock lock(mu_);
    ASSERT_TRUE(cv_.wait_for(lock, 30s, [&] { return done_ >= count; })) << "local data work did not finish";
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int done_ = 0;
};

class LocalDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_path_ = dir_.File("staff@backend.sqlite");
    cache_folder_ = dir_.File("media-blocks");
    store_ = std::make_shared<local::LocalStore>(store_path_);
    outbox_ = std::make_shared<local::Outbox>(*store_);
  }
  std::string CacheIndex() const { return cache_folder_ + "/media_blocks.sqlite"; }
  std::string CacheData() const { return cache_folder_ + "/media_blocks.dat"; }

  TempDir dir_;
  std::string store_path_, cache_folder_;
  std::shared_ptr<local::LocalStore> store_;
  std::shared_ptr<local::Outbox> outbox_;
};

TEST_F(LocalDataTest, AConfirmedViolationKeepsItsNoteButNotItsPicture) {
  const std::string picture = "\xff\xd8\xff\xe0 JPEG-FACE-OF-CANDIDATE-0042";
  const int64_t id = outbox_->Enqueue(local::method::kProctorAction, Violation("phone on the desk", picture), "violation", "session:7");
  // Until the backend has it, the picture must stay: a retry sends the whole request.
  v1::ProctorActionRequest pending;
  ASSERT_TRUE(pending.ParseFromString(outbox_->Get(id)->request));
  EXPECT_EQ(pending.snapshot(), picture);

  Deliver(*outbox_, id, true);
  v1::ProctorActionRequest kept;
  ASSERT_TRUE(kept.ParseFromString(outbox_->Get(id)->request));
  EXPECT_TRUE(kept.snapshot().empty());
  EXPECT_EQ(kept.text(), "phone on the desk");
  EXPECT_EQ(kept.session_id(), 7);
  EXPECT_FALSE(kept.idempotency_key().empty());
  store_->Compact();
  EXPECT_FALSE(FilesContain(store_path_, "JPEG-FACE-OF-CANDIDATE-0042"));
}

TEST_F(LocalDataTest, WipeRemovesFinishedActionsAndRecordingsButKeepsUndeliveredOnesUnlessDiscarded) {
  // Two finished actions, one undelivered; each note is a marker to search the files for.
  Deliver(*outbox_, outbox_->Enqueue(local::method::kProctorAction, Violation("NOTE-CONFIRMED-张三", ""), "a", "session:7"), true);
  Deliver(*outbox_, outbox_->Enqueue(local::method::kProctorAction, Violation("NOTE-FAILED-李四", ""), "b", "session:7"), false);
  outbox_->Enqueue(local::method::kProctorAction, Violation("NOTE-UNDELIVERED-王五", "PICTURE-UNDELIVERED"), "c", "session:7");

  Waiter waiter;
  local::LocalData data(cache_folder_, waiter.Callback());
  data.SetOutbox(store_, outbox_);
  std::string error;
  auto cache = data.MediaCache(&error);
  ASSERT_NE(cache, nullptr) << error;
  const std::string recording = "sha256-of-candidate-recording-0042";
  std::string block(cache->block_size(), 'x');
  block.replace(0, 22, "RECORDING-BYTES-MARKER");
  cache->Put(recording, 0, block);
  cache->Put(recording, 1, block.substr(0, 1000));
  ASSERT_TRUE(FilesContain(store_path_, "NOTE-CONFIRMED-张三"));
  ASSERT_TRUE(FilesContain(CacheData(), "RECORDING-BYTES-MARKER"));

  // The survey sees what is there.
  ASSERT_TRUE(data.Survey());
  waiter.WaitFor(1);
  auto st = data.Status();
  ASSERT_EQ(st.phase, local::LocalDataPhase::kDone) << st.error;
  EXPECT_EQ(st.figures.actions, 3);
  EXPECT_EQ(st.figures.undelivered, 1);
  EXPECT_EQ(st.figures.store_path, store_path_);
  EXPECT_EQ(st.figures.cache_blocks, 2);
  EXPECT_EQ(st.figures.cache_bytes, cache->block_size() + 1000);

  // A wipe keeping undelivered actions.
  const uint64_t wipes_before = data.wipes();
  ASSERT_TRUE(data.Wipe(false));
  waiter.WaitFor(2);
  st = data.Status();
  ASSERT_EQ(st.phase, local::LocalDataPhase::kDone) << st.error;
  ASSERT_TRUE(st.wiped);
  EXPECT_EQ(st.last_wipe.actions_removed, 2);
  EXPECT_EQ(st.last_wipe.undelivered_removed, 0);
  EXPECT_EQ(st.last_wipe.cache_bytes_removed, cache->block_size() + 1000);
  EXPECT_GT(data.wipes(), wipes_before);
  EXPECT_EQ(st.figures.actions, 1);
  EXPECT_EQ(st.figures.cache_blocks, 0);
  EXPECT_EQ(outbox_->Unfinished(), 1u);
  EXPECT_FALSE(FilesContain(store_path_, "NOTE-CONFIRMED-张三"));
  EXPECT_FALSE(FilesContain(store_path_, "NOTE-FAILED-李四"));
  EXPECT_TRUE(FilesContain(store_path_, "NOTE-UNDELIVERED-王五"));
  EXPECT_EQ(std::filesystem::file_size(CacheData()), 0u);
  EXPECT_FALSE(FilesContain(CacheIndex(), recording));
  EXPECT_FALSE(cache->Get(recording, 0).has_value());
  // The cache still works afterwards: a player fetching again fills it.
  cache->Put(recording, 0, "again");
  EXPECT_EQ(cache->Get(recording, 0).value_or(""), "again");

  // The undelivered action still goes out after a wipe that kept it.
  auto due = outbox_->NextDue(local::UnixNowMs());
  ASSERT_TRUE(due.has_value());
  EXPECT_EQ(due->label, "c");

  // Discarding them on purpose.
  ASSERT_TRUE(data.Wipe(true));
  waiter.WaitFor(3);
  st = data.Status();
  ASSERT_EQ(st.phase, local::LocalDataPhase::kDone) << st.error;
  EXPECT_EQ(st.last_wipe.actions_removed, 1);
  EXPECT_EQ(st.last_wipe.undelivered_removed, 1);
  EXPECT_EQ(outbox_->Unfinished(), 0u);
  EXPECT_FALSE(FilesContain(store_path_, "NOTE-UNDELIVERED-王五"));
  EXPECT_FALSE(FilesContain(store_path_, "PICTURE-UNDELIVERED"));
  EXPECT_FALSE(FilesContain(CacheData(), "again"));
}

TEST_F(LocalDataTest, ACacheWipedBeforeAnyPlayerOpenedItIsStillEmptied) {
  // A previous run left recordings in the cache folder; nobody has opened review yet.
  {
    local::MediaBlockStoreOptions o;
    o.folder = cache_folder_;
    local::MediaBlockStore earlier(o);
    earlier.Put("recording-from-yesterday", 0, std::string(4096, 'y') + "YESTERDAY-MARKER");
  }
  ASSERT_TRUE(FilesContain(CacheData(), "YESTERDAY-MARKER"));
  Waiter waiter;
  local::LocalData data(cache_folder_, waiter.Callback());  // signed out: no outbox
  ASSERT_TRUE(data.Wipe(false));
  waiter.WaitFor(1);
  const auto st = data.Status();
  ASSERT_EQ(st.phase, local::LocalDataPhase::kDone) << st.error;
  EXPECT_EQ(st.last_wipe.actions_removed, 0);
  EXPECT_EQ(st.last_wipe.cache_bytes_removed, 4096 + 16);
  EXPECT_TRUE(st.figures.store_path.empty());
  EXPECT_FALSE(FilesContain(CacheData(), "YESTERDAY-MARKER"));
  EXPECT_FALSE(FilesContain(CacheIndex(), "recording-from-yesterday"));
}

TEST_F(LocalDataTest, AnUnusableCacheFolderIsReportedAndTheOutboxIsStillWiped) {
  // A file where the cache folder should be.
  std::ofstream(cache_folder_) << "not a folder";
  Deliver(*outbox_, outbox_->Enqueue(local::method::kProctorAction, Violation("NOTE-X", ""), "a", "session:7"), true);
  Waiter waiter;
  local::LocalData data(cache_folder_, waiter.Callback());
  data.SetOutbox(store_, outbox_);
  ASSERT_TRUE(data.Wipe(false));
  waiter.WaitFor(1);
  const auto st = data.Status();
  EXPECT_EQ(st.phase, local::LocalDataPhase::kFailed);
  EXPECT_NE(st.error.find("recording cache"), std::string::npos) << st.error;
  EXPECT_EQ(st.last_wipe.actions_removed, 1);
  EXPECT_FALSE(FilesContain(store_path_, "NOTE-X"));
}

}  // namespace
}  // namespace exam::testing
