#pragma once
// "Needs attention first" (优先关注) for the proctors' wall: a score per candidate from
// what is going on in the session, an order over the wall that moves a tile only when its
// score really changed (so tiles do not dance while a proctor is looking), and the grid the
// tiles are laid out in. Pure functions and values: no GL, no ImGui, no gRPC.
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace exam::core {

// What the score is made of, per session.
struct AttentionInput {
  int64_t session_id = 0;
  int open_help = 0;            // help requests (求助) not yet resolved
  int open_alerts = 0;          // alerts nobody acknowledged
  bool interrupted = false;     // a recording interruption is in progress
  bool appeal_pending = false;  // a manual-review appeal (人工审核) is undecided
  bool stream_stale = false;    // live video stopped arriving
};

// Points per cause. A raised hand outranks everything: someone is waiting on us.
struct AttentionWeights {
  int help = 100;
  int interrupted = 80;      // the 2-minute resume window is running
  int first_alert = 40;
  int more_alerts = 10;      // each further alert, up to max_alerts in all
  int max_alerts = 4;
  int appeal = 30;
  int stale = 20;
};

int AttentionScore(const AttentionInput& in, const AttentionWeights& w = {});

// The wall's order: highest score first. A session keeps the score it was placed with
// until its live score differs from it by more than `margin`; equal placed scores keep
// their previous relative order; newcomers join after their equals in the order given.
class AttentionOrder {
 public:
  explicit AttentionOrder(int margin = 15, AttentionWeights weights = {}) : margin_(margin), weights_(weights) {}

  // `sessions` in the fallback order (e.g. by draw number). Returns session ids.
  const std::vector<int64_t>& Update(const std::vector<AttentionInput>& sessions);
  const std::vector<int64_t>& order() const { return order_; }
  // The score a session is currently placed with (0 for unknown ids).
  int PlacedScore(int64_t session_id) const;

 private:
  int margin_;
  AttentionWeights weights_;
  std::vector<int64_t> order_;
  std::unordered_map<int64_t, int> placed_;
};

// ---- tile grid ------------------------------------------------------------------------

struct GridLayout {
  int columns = 0;
  int rows = 0;
  int per_page = 0;     // tiles shown at once (columns * rows)
  float tile_w = 0;     // each tile keeps the video's aspect ratio
  float tile_h = 0;
  float origin_x = 0;   // offset of the first tile: the grid is centred across, top-aligned
  float origin_y = 0;
  float gap = 0;

  // Top-left corner of the tile at `slot` (0-based, row-major) relative to the area.
  float TileX(int slot) const { return origin_x + static_cast<float>(slot % (columns > 0 ? columns : 1)) * (tile_w + gap); }
  float TileY(int slot) const { return origin_y + static_cast<float>(slot / (columns > 0 ? columns : 1)) * (tile_h + gap); }
};

// Lays `count` tiles of aspect `aspect` (w/h) into width x height with `gap` between them.
// fixed_side 0: columns chosen to make tiles as large as possible (all tiles visible);
// fixed_side n (2..8): an n x n grid, count beyond n*n goes to further pages.
GridLayout ComputeGrid(int count, float width, float height, float aspect = 16.0f / 9.0f, float gap = 4.0f,
                       int fixed_side = 0);

}  // namespace exam::core
