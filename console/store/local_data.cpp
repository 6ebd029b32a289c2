#include "store/local_data.h"

#include <exception>

#include "store/local_store.h"
#include "store/outbox.h"

namespace exam::local {

LocalData::LocalData(std::string cache_folder, std::function<void()> on_change)
    : cache_folder_(std::move(cache_folder)), on_change_(std::move(on_change)) {}

LocalData::~LocalData() { Join(); }

void LocalData::Join() {
  std::thread worker;
  {
    std::lock_guard lock(mu_);
    worker = std::move(worker_);
  }
  if (worker.joinable()) worker.join();
}

std::shared_ptr<MediaBlockStore> LocalData::MediaCache(std::string* error) {
  std::lock_guard lock(cache_mu_);
  if (!cache_ && cache_error_.empty()) {
    try {
      MediaBlockStoreOptions options;
      options.folder = cache_folder_;
      cache_ = std::make_shared<MediaBlockStore>(options);
    } catch (const std::exception& e) {
      // Tried once: a folder that is unusable now stays so for this run.
      cache_error_ = e.what();
    }
  }
  if (!cache_ && error != nullptr) *error = cache_error_;
  return cache_;
}

void LocalData::SetOutbox(std::shared_ptr<LocalStore> store, std::shared_ptr<Outbox> outbox) {
  std::lock_guard lock(mu_);
  store_ = std::move(store);
  outbox_ = std::move(outbox);
  // Figures of the previous user's file are no longer what this computer shows.
  status_.figures_known = false;
}

bool LocalData::Survey() { return Start(LocalDataPhase::kSurveying, false); }

bool LocalData::Wipe(bool discard_undelivered) { return Start(LocalDataPhase::kWiping, discard_undelivered); }

bool LocalData::Start(LocalDataPhase phase, bool discard_undelivered) {
  std::lock_guard lock(mu_);
  if (status_.phase == LocalDataPhase::kSurveying || status_.phase == LocalDataPhase::kWiping) return false;
  // The previous worker has set its final phase and is returning: joining it is immediate.
  if (worker_.joinable()) worker_.join();
  status_.phase = phase;
  status_.error.clear();
  worker_ = std::thread([this, phase, discard_undelivered] { Work(phase == LocalDataPhase::kWiping, discard_undelivered); });
  return true;
}

LocalDataStatus LocalData::Status() const {
  std::lock_guard lock(mu_);
  return status_;
}

LocalDataFigures LocalData::Measure(const std::shared_ptr<LocalStore>& store, const std::shared_ptr<Outbox>& outbox) {
  LocalDataFigures f;
  f.cache_folder = cache_folder_;
  if (store && outbox) {
    f.store_path = store->path();
    f.store_bytes = store->FileBytes();
    auto lock = store->Lock();
    auto st = store->Prepare("SELECT COUNT(*) FROM outbox");
    if (st.Step()) f.actions = static_cast<int>(st.Int(0));
    f.undelivered = static_cast<int>(outbox->Unfinished());
  }
  if (auto cache = MediaCache(&f.cache_error)) {
    const auto stats = cache->Stats();
    f.cache_bytes = stats.bytes;
    f.cache_blocks = stats.blocks;
  }
  return f;
}

void LocalData::Work(bool wipe, bool discard_undelivered) {
  std::shared_ptr<LocalStore> store;
  std::shared_ptr<Outbox> outbox;
  {
    // Copies: the user may sign out meanwhile; these keep the files open until done.
    std::lock_guard lock(mu_);
    store = store_;
    outbox = outbox_;
  }
  LocalDataWipe wiped;
  std::string error;
  LocalDataFigures figures;
  try {
    if (wipe) {
      if (store && outbox) {
        wiped.store_bytes_before = store->FileBytes();
        const OutboxWipe removed = outbox->Wipe(discard_undelivered);
        wiped.actions_removed = removed.finished + removed.undelivered;
        wiped.undelivered_removed = removed.undelivered;
        wiped.store_bytes_after = store->FileBytes();
        wipes_.fetch_add(1);
      }
      std::string cache_error;
      if (auto cache = MediaCache(&cache_error)) {
        wiped.cache_bytes_removed = cache->Clear();
      } else if (!cache_error.empty()) {
        error = "recording cache: " + cache_error;
      }
    }
    figures = Measure(store, outbox);
  } catch (const std::exception& e) {
    error = e.what();
  }
  {
    std::lock_guard lock(mu_);
    status_.phase = error.empty() ? LocalDataPhase::kDone : LocalDataPhase::kFailed;
    status_.error = error;
    if (error.empty() || wipe) {
      status_.figures = figures;
      status_.figures_known = !figures.cache_folder.empty();
    }
    if (wipe) {
      status_.wiped = true;
      status_.last_wipe = wiped;
    }
  }
  if (on_change_) on_change_();
}

}  // namespace exam::local
