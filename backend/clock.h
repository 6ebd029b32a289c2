#pragma once
// The backend's clock. Demos and the simulator run exams faster than real time, so every
// rule is evaluated against this clock, never against std::chrono directly.
#include <algorithm>
#include <atomic>
#include <chrono>

#include "core/exam_rules.h"

namespace exam::backend {

class Clock {
 public:
  // time_scale backend seconds pass per real second, starting from the real now, or from
  // `not_before` when that is later: a backend restarted on a store written under a fast
  // clock must not see its exam jump back in time.
  explicit Clock(double time_scale = 1.0, core::TimePoint not_before = {})
      : scale_(time_scale),
        real_base_(std::chrono::steady_clock::now()),
        backend_base_(std::max(std::chrono::time_point_cast<core::Duration>(std::chrono::system_clock::now()),
                               not_before)) {}

  core::TimePoint Now() const {
    const auto real = std::chrono::steady_clock::now() - real_base_;
    const auto scaled = std::chrono::duration_cast<core::Duration>(
        std::chrono::duration<double, std::milli>(std::chrono::duration<double, std::milli>(real).count() * scale_));
    return backend_base_ + scaled + core::Duration(skew_ms_.load(std::memory_order_relaxed));
  }
  double time_scale() const { return scale_; }
  // Real time that `backend` time corresponds to, for sleeping until a backend moment.
  std::chrono::steady_clock::duration RealUntil(core::TimePoint backend) const {
    const auto d = backend - Now();
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double, std::milli>(std::chrono::duration<double, std::milli>(d).count() / scale_));
  }
  // Moves the clock forward (tests of deadline rules).
  void Advance(core::Duration d) { skew_ms_.fetch_add(d.count(), std::memory_order_relaxed); }

 private:
  double scale_;
  std::chrono::steady_clock::time_point real_base_;
  core::TimePoint backend_base_;
  std::atomic<int64_t> skew_ms_{0};
};

}  // namespace exam::backend
