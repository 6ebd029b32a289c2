#pragma once
// Reconnect delays: start small, double up to a cap, with jitter so that many consoles
// dropped by one backend restart do not all come back in the same millisecond.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace exam::net {

class Backoff {
 public:
  using ms = std::chrono::milliseconds;

  Backoff(ms initial = ms(250), ms max = ms(5000), double jitter = 0.2, uint32_t seed = std::random_device{}())
      : initial_(initial), max_(max), jitter_(jitter), next_(initial), rng_(seed) {}

  // The delay before the next attempt; each call doubles the following one.
  ms Next() {
    const ms base = next_;
    next_ = std::min(max_, next_ * 2);
    std::uniform_real_distribution<double> spread(1.0 - jitter_, 1.0 + jitter_);
    return ms(static_cast<int64_t>(static_cast<double>(base.count()) * spread(rng_)));
  }
  // After a success the next failure starts small again.
  void Reset() { next_ = initial_; }

 private:
  ms initial_;
  ms max_;
  double jitter_;
  ms next_;
  std::mt19937 rng_;
};

}  // namespace exam::net
