#pragma once
// A fault-injecting proxy in front of a real recording on disk: counts what is asked of it,
// can answer short, fail from some offset on, or lie about the size — the misbehaviour of
// a backend or network that a real file cannot produce on demand.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "media/byte_source.h"

namespace exam::testing {

class FaultySource : public media::ByteSource {
 public:
  explicit FaultySource(std::shared_ptr<media::ByteSource> inner) : inner_(std::move(inner)) {}

  int64_t Size(std::string* error) override {
    const int64_t s = inner_->Size(error);
    return (s >= 0 && claimed_size >= 0) ? claimed_size.load() : s;
  }
  media::ByteRead Read(int64_t offset, int64_t length) override {
    ++reads;
    if (cancelled()) return media::ByteRead::Failure("cancelled", true);
    if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
    if (fail_from >= 0 && offset + length > fail_from)
      return media::ByteRead::Failure("recording 7 on examd: connection reset by peer at byte " + std::to_string(offset));
    if (max_answer > 0 && length > max_answer) length = max_answer;
    auto r = inner_->Read(offset, length);
    bytes += r.data.size();
    return r;
  }
  std::string Describe() const override { return "recording 7 (" + inner_->Describe() + ")"; }

  std::atomic<uint64_t> reads{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<int64_t> fail_from{-1};    // reads touching this offset or later fail
  std::atomic<int64_t> max_answer{0};    // answers at most this many bytes (0: all)
  std::atomic<int64_t> claimed_size{-1}; // Size() says this instead of the truth
  std::atomic<int> delay_ms{0};          // per read, like a slow link

 private:
  std::shared_ptr<media::ByteSource> inner_;
};

inline std::shared_ptr<FaultySource> OpenFaulty(const std::string& path) {
  std::string error;
  std::shared_ptr<media::ByteSource> file = media::LocalFileSource::Open(path, &error);
  return file ? std::make_shared<FaultySource>(file) : nullptr;
}

}  // namespace exam::testing
