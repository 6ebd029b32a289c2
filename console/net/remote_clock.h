#pragma once
// The backend's clock as seen from here. Demo backends run faster than real time
// (time_scale backend seconds per real second), so a reading is kept as an anchor on the
// local steady clock and projected forward with the scale.
#include <algorithm>
#include <chrono>
#include <cstdint>

namespace exam::net {

class RemoteClock {
 public:
  using Steady = std::chrono::steady_clock;

  bool known() const { return known_; }
  double time_scale() const { return scale_; }

  // A reading of the backend clock taken (about) at local time `at`.
  void Anchor(int64_t backend_unix_ms, double time_scale, Steady::time_point at = Steady::now()) {
    backend_ms_ = backend_unix_ms;
    scale_ = time_scale > 0 ? time_scale : 1.0;
    anchor_ = at;
    known_ = true;
  }
  // Re-anchors with a new reading, keeping the scale (heartbeats carry no scale).
  void Reanchor(int64_t backend_unix_ms, Steady::time_point at = Steady::now()) {
    if (known_) Anchor(backend_unix_ms, scale_, at);
  }

  // Backend now, in unix milliseconds (0 while unknown).
  int64_t NowUnixMs(Steady::time_point at = Steady::now()) const {
    if (!known_) return 0;
    const double real_ms = std::chrono::duration<double, std::milli>(at - anchor_).count();
    return backend_ms_ + static_cast<int64_t>(real_ms * scale_);
  }

  // How long ago (in real milliseconds) something stamped `backend_unix_ms` happened.
  double RealAgeMs(int64_t backend_unix_ms, Steady::time_point at = Steady::now()) const {
    if (!known_) return -1.0;
    // The anchor trails the backend by up to one round trip, so a fresh event can look a
    // millisecond "from the future"; that is estimation error, not negative lag.
    return std::max(0.0, static_cast<double>(NowUnixMs(at) - backend_unix_ms) / scale_);
  }

 private:
  bool known_ = false;
  int64_t backend_ms_ = 0;
  double scale_ = 1.0;
  Steady::time_point anchor_{};
};

}  // namespace exam::net
