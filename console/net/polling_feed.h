#pragma once
// The skeleton of a view the console keeps fresh by asking the backend again and again:
// one thread per feed that fetches the thing it follows (an exam, a session) every few
// seconds and at once when asked, and publishes immutable views for the UI to read once a
// frame. The UI never waits: Follow() and RefreshNow() only note the wish and wake the thread.
//
// A subclass says what one fetch is (Fetch) and calls Start() at the end of its constructor
// (the thread must not call Fetch on a half-built object); its destructor calls Stop().
#include <grpcpp/client_context.h>
#include <grpcpp/support/status.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace exam::net {

// Fields a polled view carries besides its content.
struct PolledViewHeader {
  int64_t key = 0;       // what is followed (0: nothing)
  bool loaded = false;   // at least one answer for this key
  bool loading = false;  // a first call for this key is in flight
  std::string error;     // last failure (the content shown is from the last success)
  int error_code = 0;    // its gRPC status code
  std::chrono::steady_clock::time_point fetched_at{};
  uint64_t version = 0;  // grows with every published change
};

struct PollingFeedOptions {
  std::chrono::milliseconds refresh_every{2000};
  std::chrono::milliseconds call_timeout{5000};
  // Called on the feed's thread after each published change; must be cheap.
  std::function<void()> on_change;
};

// View derives from PolledViewHeader and is copyable.
template <class View>
class PollingFeed {
 public:
  using Options = PollingFeedOptions;

  PollingFeed(const PollingFeed&) = delete;
  PollingFeed& operator=(const PollingFeed&) = delete;
  virtual ~PollingFeed() { Stop(); }

  // What to follow (0: nothing; the thread idles). A new key drops the old content at once,
  // so nothing of the previous one stays on screen.
  void Follow(int64_t key) {
    {
      std::lock_guard lock(mu_);
      if (key_ == key || stop_) return;  // a stopped feed publishes nothing more
      key_ = key;
      refresh_ = true;
      // The old content goes now, not when the thread gets to it.
      auto next = std::make_shared<View>(*view_);
      Rekey(*next, key);
      next->loading = key != 0;
      ++next->version;
      view_ = std::move(next);
    }
    wake_.notify_all();
  }
  // Fetch now rather than at the next period.
  void RefreshNow() {
    {
      std::lock_guard lock(mu_);
      refresh_ = true;
    }
    wake_.notify_all();
  }
  // Cancels the call in flight and joins the thread. Idempotent.
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      if (in_flight_ != nullptr) in_flight_->TryCancel();
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  std::shared_ptr<const View> Current() const {
    std::lock_guard lock(mu_);
    return view_;
  }

 protected:
  // `access_token` is called on the feed's thread; empty while signed out.
  PollingFeed(std::function<std::string()> access_token, Options options)
      : access_token_(std::move(access_token)), options_(std::move(options)) {}

  void Start() { thread_ = std::thread([this] { Run(); }); }
  // The current bearer token, for a Fetch that makes more than one call.
  std::string AccessToken() const { return access_token_ ? access_token_() : std::string(); }

  // One call for `key` (context has its deadline and token); fills `fresh`, whose header
  // the base keeps. Runs on the feed's thread.
  virtual grpc::Status Fetch(grpc::ClientContext& context, int64_t key, View& fresh) = 0;

 private:
  void Publish(const std::function<void(View&)>& change) {
    {
      std::lock_guard lock(mu_);
      auto next = std::make_shared<View>(*view_);
      change(*next);
      ++next->version;
      view_ = std::move(next);
    }
    if (options_.on_change) options_.on_change();
  }

  // Makes `v` a view of `key`, emptied when it was of another one.
  static void Rekey(View& v, int64_t key) {
    if (v.key == key) return;
    const uint64_t version = v.version;
    v = View{};
    v.key = key;
    v.version = version;
  }

  void Run() {
    for (;;) {
      int64_t key = 0;
      {
        std::unique_lock lock(mu_);
        // Periodic refresh: a timed wait is the schedule here, and any request cuts it short.
        wake_.wait_for(lock, options_.refresh_every, [&] { return stop_ || refresh_; });
        if (stop_) return;
        refresh_ = false;
        key = key_;
      }
      if (key == 0) {
        if (Current()->key != 0) Publish([](View& v) { Rekey(v, 0); });
        continue;
      }
      const std::string token = AccessToken();
      if (token.empty()) {
        Publish([&](View& v) {
          Rekey(v, key);
          v.error = "not signed in";
          v.error_code = static_cast<int>(grpc::StatusCode::UNAUTHENTICATED);
        });
        continue;
      }
      // "Loading" matters until the first answer; later refreshes publish only their
      // result, so an idle view does not wake the UI twice per poll.
      const auto shown = Current();
      if (shown->key != key || !shown->loaded)
        Publish([&](View& v) {
          Rekey(v, key);
          v.loading = true;
        });

      View fresh;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + options_.call_timeout);
      context.AddMetadata("authorization", "Bearer " + token);
      {
        std::lock_guard lock(mu_);
        if (stop_) return;
        in_flight_ = &context;
      }
      const grpc::Status status = Fetch(context, key, fresh);
      {
        std::lock_guard lock(mu_);
        in_flight_ = nullptr;
        if (stop_) return;
      }
      Publish([&](View& v) {
        if (v.key != key) return;  // followed something else meanwhile
        v.loading = false;
        if (!status.ok()) {
          v.error = status.error_message().empty() ? "cannot reach the backend" : status.error_message();
          v.error_code = static_cast<int>(status.error_code());
          return;
        }
        PolledViewHeader header = v;
        v = std::move(fresh);
        static_cast<PolledViewHeader&>(v) = header;
        v.error.clear();
        v.error_code = 0;
        v.loaded = true;
        v.fetched_at = std::chrono::steady_clock::now();
      });
    }
  }

  std::function<std::string()> access_token_;
  Options options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool refresh_ = false;
  int64_t key_ = 0;
  grpc::ClientContext* in_flight_ = nullptr;  // the call to cancel on Stop()
  std::shared_ptr<const View> view_ = std::make_shared<View>();
  std::thread thread_;
};

}  // namespace exam::net
