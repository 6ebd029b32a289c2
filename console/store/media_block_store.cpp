#include "store/media_block_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "store/user_dirs.h"

namespace exam::local {
namespace {

// Append only, as the local store's migrations.
const std::vector<const char*> kMigrations = {R"SQL(
CREATE TABLE media_cache_meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE media_blocks(
  recording TEXT NOT NULL,
  block INTEGER NOT NULL,
  slot INTEGER NOT NULL UNIQUE,
  length INTEGER NOT NULL,
  last_used INTEGER NOT NULL,
  PRIMARY KEY(recording, block));
)SQL"};

}  // namespace

std::string MediaBlockStore::Key(const std::string& recording, int64_t block) {
  return recording + '\n' + std::to_string(block);
}

MediaBlockStore::MediaBlockStore(MediaBlockStoreOptions options) : options_(std::move(options)) {
  std::error_code ec;
  std::filesystem::create_directories(options_.folder, ec);
  const auto folder = std::filesystem::path(options_.folder);
  db_ = std::make_unique<sqlite::Connection>((folder / "media_blocks.sqlite").string(), kMigrations,
                                             sqlite::ConnectionOptions{2000, false, "media cache"});
  const auto data_path = (folder / "media_blocks.dat").string();
  fd_ = ::open(data_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) throw sqlite::Error("cannot open media cache data " + data_path + ": " + std::strerror(errno));
  Load();
}

MediaBlockStore::~MediaBlockStore() {
  try {
    std::lock_guard lock(mu_);
    SaveRecencyLocked();
  } catch (const std::exception&) {
    // Recency is a hint; losing it on a failing disk only changes what is evicted first.
  }
  if (fd_ >= 0) ::close(fd_);
}

void MediaBlockStore::Reset() {
  db_->Exec("DELETE FROM media_blocks; DELETE FROM media_cache_meta;");
  if (::ftruncate(fd_, 0) != 0) {
    // A data file that cannot shrink still works: slots are overwritten.
  }
  auto st = db_->Prepare("INSERT INTO media_cache_meta(key, value) VALUES('block_size', ?)");
  st.Bind(1, options_.block_size).Run();
}

void MediaBlockStore::Load() {
  std::lock_guard lock(mu_);
  int64_t stored_block_size = 0;
  {
    auto st = db_->Prepare("SELECT value FROM media_cache_meta WHERE key='block_size'");
    if (st.Step()) stored_block_size = st.Int(0);
  }
  if (stored_block_size != options_.block_size) Reset();

  const off_t file_size = ::lseek(fd_, 0, SEEK_END);
  std::vector<bool> used;
  auto st = db_->Prepare("SELECT recording, block, slot, length, last_used FROM media_blocks");
  std::vector<std::pair<std::string, int64_t>> broken;
  while (st.Step()) {
    Entry e;
    const std::string recording = st.Text(0);
    const int64_t block = st.Int(1);
    e.slot = st.Int(2);
    e.length = st.Int(3);
    e.last_used = st.Int(4);
    // A row whose bytes are not all in the data file (the file was truncated or replaced)
    // is forgotten rather than served short.
    if (e.slot < 0 || e.length <= 0 || e.length > options_.block_size ||
        e.slot * options_.block_size + e.length > static_cast<int64_t>(file_size)) {
      broken.emplace_back(recording, block);
      continue;
    }
    if (static_cast<size_t>(e.slot) >= used.size()) used.resize(static_cast<size_t>(e.slot) + 1, false);
    used[static_cast<size_t>(e.slot)] = true;
    clock_ = std::max(clock_, e.last_used);
    bytes_ += e.length;
    entries_.emplace(Key(recording, block), e);
  }
  for (const auto& [recording, block] : broken) {
    auto del = db_->Prepare("DELETE FROM media_blocks WHERE recording=? AND block=?");
    del.Bind(1, recording).Bind(2, block).Run();
  }
  next_slot_ = static_cast<int64_t>(used.size());
  for (size_t i = 0; i < used.size(); ++i)
    if (!used[i]) free_slots_.push_back(static_cast<int64_t>(i));
  while (bytes_ > options_.budget_bytes && !entries_.empty()) EvictOneLocked();
}

std::optional<std::string> MediaBlockStore::Get(const std::string& recording, int64_t block) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(Key(recording, block));
  if (it == entries_.end()) {
    ++stats_.misses;
    return std::nullopt;
  }
  std::string data(static_cast<size_t>(it->second.length), '\0');
  // Read under the lock: an eviction could otherwise hand the slot to another block mid-read.
  size_t got = 0;
  while (got < data.size()) {
    const ssize_t n = ::pread(fd_, data.data() + got, data.size() - got,
                              static_cast<off_t>(it->second.slot * options_.block_size + static_cast<int64_t>(got)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  if (got != data.size()) {  // the data file shrank under us: treat as a miss
    ++stats_.misses;
    return std::nullopt;
  }
  it->second.last_used = ++clock_;
  it->second.dirty = true;
  ++stats_.hits;
  return data;
}

bool MediaBlockStore::Contains(const std::string& recording, int64_t block) const {
  std::lock_guard lock(mu_);
  return entries_.count(Key(recording, block)) != 0;
}

void MediaBlockStore::EvictOneLocked() {
  auto victim = entries_.end();
  for (auto it = entries_.begin(); it != entries_.end(); ++it)
    if (victim == entries_.end() || it->second.last_used < victim->second.last_used) victim = it;
  if (victim == entries_.end()) return;
  const auto nl = victim->first.find('\n');
  auto del = db_->Prepare("DELETE FROM media_blocks WHERE recording=? AND block=?");
  del.Bind(1, std::string_view(victim->first).substr(0, nl))
      .Bind(2, static_cast<int64_t>(std::stoll(victim->first.substr(nl + 1))))
      .Run();
  free_slots_.push_back(victim->second.slot);
  bytes_ -= victim->second.length;
  ++stats_.evictions;
  entries_.erase(victim);
}

void MediaBlockStore::SaveRecencyLocked() {
  bool any = false;
  for (auto& [key, e] : entries_) any = any || e.dirty;
  if (!any) return;
  db_->Exec("BEGIN");
  try {
    for (auto& [key, e] : entries_) {
      if (!e.dirty) continue;
      auto st = db_->Prepare("UPDATE media_blocks SET last_used=? WHERE slot=?");
      st.Bind(1, e.last_used).Bind(2, e.slot).Run();
      e.dirty = false;
    }
    db_->Exec("COMMIT");
  } catch (...) {
    db_->Exec("ROLLBACK");
    throw;
  }
}

void MediaBlockStore::Put(const std::string& recording, int64_t block, std::string_view data) {
  if (data.empty() || static_cast<int64_t>(data.size()) > options_.block_size) return;
  std::lock_guard lock(mu_);
  const std::string key = Key(recording, block);
  if (auto it = entries_.find(key); it != entries_.end()) {
    free_slots_.push_back(it->second.slot);
    bytes_ -= it->second.length;
    entries_.erase(it);
    auto del = db_->Prepare("DELETE FROM media_blocks WHERE recording=? AND block=?");
    del.Bind(1, recording).Bind(2, block).Run();
  }
  while (!entries_.empty() && bytes_ + static_cast<int64_t>(data.size()) > options_.budget_bytes) EvictOneLocked();
  int64_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = next_slot_++;
  }
  // Data first, index row second: a crash in between leaves an unindexed slot, never a row
  // pointing at bytes that were not written.
  size_t put = 0;
  while (put < data.size()) {
    const ssize_t n = ::pwrite(fd_, data.data() + put, data.size() - put,
                               static_cast<off_t>(slot * options_.block_size + static_cast<int64_t>(put)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      free_slots_.push_back(slot);
      throw sqlite::Error(std::string("cannot write media cache data: ") + std::strerror(errno));
    }
    put += static_cast<size_t>(n);
  }
  Entry e{slot, static_cast<int64_t>(data.size()), ++clock_, false};
  SaveRecencyLocked();
  auto ins = db_->Prepare("INSERT INTO media_blocks(recording, block, slot, length, last_used) VALUES(?,?,?,?,?)");
  ins.Bind(1, recording).Bind(2, block).Bind(3, slot).Bind(4, e.length).Bind(5, e.last_used).Run();
  entries_.emplace(key, e);
  bytes_ += e.length;
}

void MediaBlockStore::Drop(const std::string& recording) {
  std::lock_guard lock(mu_);
  const std::string prefix = recording + '\n';
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->first.compare(0, prefix.size(), prefix) == 0) {
      free_slots_.push_back(it->second.slot);
      bytes_ -= it->second.length;
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  auto del = db_->Prepare("DELETE FROM media_blocks WHERE recording=?");
  del.Bind(1, recording).Run();
}

int64_t MediaBlockStore::Clear() {
  std::lock_guard lock(mu_);
  const int64_t removed = bytes_;
  entries_.clear();
  free_slots_.clear();
  next_slot_ = 0;
  bytes_ = 0;
  Reset();
  // Deleted rows name recordings (sha256s); VACUUM rewrites the index without them and the
  // checkpoint empties the write-ahead log that still holds the old pages.
  db_->Exec("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;");
  return removed;
}

std::string MediaBlockStore::DefaultFolder() {
  if (const auto cache = XdgBaseDir("XDG_CACHE_HOME", ".cache")) return (*cache / "exam-console" / "media-blocks").string();
  return (std::filesystem::temp_directory_path() / "exam-console-media-blocks").string();
}

MediaBlockStoreStats MediaBlockStore::Stats() const {
  std::lock_guard lock(mu_);
  MediaBlockStoreStats s = stats_;
  s.blocks = static_cast<int64_t>(entries_.size());
  s.bytes = bytes_;
  return s;
}

}  // namespace exam::local
