#pragma once
// One staff member's console for tests against a real backend: a signed-in BackendClient,
// a local store with its outbox and the sender delivering it — what the panels sit on —
// and Changes, which wakes a waiting test whenever one of the console's threads reports
// something (the tests wait on conditions, never on time).
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "net/backend_client.h"
#include "net/outbox_sender.h"
#include "store/local_store.h"
#include "store/outbox.h"

namespace exam::testing {

class Changes {
 public:
  void Notify() {
    std::lock_guard lock(mu_);
    ++count_;
    cv_.notify_all();
  }
  // Waits until `done` holds, looking again after each change (and every `poll` at least,
  // for conditions no callback announces); false at the deadline.
  bool Await(const std::function<bool()>& done, std::chrono::milliseconds timeout = std::chrono::seconds(20),
             std::chrono::milliseconds poll = std::chrono::seconds(1)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(mu_);
    while (!done()) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return done();
      cv_.wait_until(lock, std::min(deadline, now + poll));
    }
    return true;
  }
  std::function<void()> Callback() {
    return [this] { Notify(); };
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t count_ = 0;
};

struct StaffConsole {
  StaffConsole(const std::string& address, const std::string& user, const std::string& store_path, Changes& changes) {
    net::ClientOptions o;
    o.address = address;
    o.username = user;
    o.password = "demo";
    o.call_timeout = std::chrono::seconds(2);
    o.backoff_max = std::chrono::milliseconds(500);
    o.on_change = changes.Callback();
    client = std::make_unique<net::BackendClient>(o);
    client->Start();
    store = std::make_unique<local::LocalStore>(store_path);
    outbox = std::make_unique<local::Outbox>(*store);
    net::OutboxSenderOptions so;
    so.on_change = changes.Callback();
    sender = std::make_unique<net::OutboxSender>(*outbox, *client, so);
    sender->Start();
  }
  virtual ~StaffConsole() {
    sender.reset();
    client.reset();
    outbox.reset();
    store.reset();
  }
  // Signed in, with the directory loaded (Snapshot() re-arms the client's notification).
  bool Ready() {
    const auto snap = client->Snapshot();
    return !client->AccessToken().empty() && snap->loaded;
  }
  local::OutboxAction Row(int64_t id) { return outbox->Get(id).value_or(local::OutboxAction{}); }
  bool Confirmed(int64_t id) { return Row(id).state == local::ActionState::kConfirmed; }

  std::unique_ptr<net::BackendClient> client;
  std::unique_ptr<local::LocalStore> store;
  std::unique_ptr<local::Outbox> outbox;
  std::unique_ptr<net::OutboxSender> sender;
};

}  // namespace exam::testing
