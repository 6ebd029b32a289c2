#include "core/attention.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <unordered_set>

namespace exam::core {

int AttentionScore(const AttentionInput& in, const AttentionWeights& w) {
  int score = 0;
  if (in.open_help > 0) score += w.help;
  if (in.interrupted) score += w.interrupted;
  if (in.open_alerts > 0) score += w.first_alert + w.more_alerts * (std::min(in.open_alerts, w.max_alerts) - 1);
  if (in.appeal_pending) score += w.appeal;
  if (in.stream_stale) score += w.stale;
  return score;
}

const std::vector<int64_t>& AttentionOrder::Update(const std::vector<AttentionInput>& sessions) {
  std::unordered_map<int64_t, int> live;
  live.reserve(sessions.size());
  for (const auto& s : sessions) live[s.session_id] = AttentionScore(s, weights_);

  // Previous order first (minus sessions that went away), then newcomers in input order.
  std::vector<int64_t> next;
  next.reserve(sessions.size());
  std::unordered_set<int64_t> seen;
  for (int64_t id : order_)
    if (live.count(id) && seen.insert(id).second) next.push_back(id);
  for (const auto& s : sessions)
    if (seen.insert(s.session_id).second) next.push_back(s.session_id);

  std::unordered_map<int64_t, int> placed;
  placed.reserve(next.size());
  for (int64_t id : next) {
    const int now = live[id];
    auto it = placed_.find(id);
    placed[id] = (it == placed_.end() || std::abs(now - it->second) > margin_) ? now : it->second;
  }
  std::stable_sort(next.begin(), next.end(), [&](int64_t a, int64_t b) { return placed[a] > placed[b]; });
  order_ = std::move(next);
  placed_ = std::move(placed);
  return order_;
}

int AttentionOrder::PlacedScore(int64_t session_id) const {
  auto it = placed_.find(session_id);
  return it == placed_.end() ? 0 : it->second;
}

GridLayout ComputeGrid(int count, float width, float height, float aspect, float gap, int fixed_side) {
  GridLayout g;
  g.gap = gap;
  if (count <= 0 || width <= 0 || height <= 0 || aspect <= 0) return g;
  auto fit = [&](int cols, int rows, GridLayout* out) {
    const float cell_w = (width - gap * static_cast<float>(cols - 1)) / static_cast<float>(cols);
    const float cell_h = (height - gap * static_cast<float>(rows - 1)) / static_cast<float>(rows);
    if (cell_w <= 0 || cell_h <= 0) return 0.0f;
    const float tw = std::min(cell_w, cell_h * aspect);
    out->columns = cols;
    out->rows = rows;
    out->per_page = cols * rows;
    out->tile_w = std::floor(tw);
    out->tile_h = std::floor(tw / aspect);
    return out->tile_w;
  };
  if (fixed_side > 0) {
    fit(fixed_side, fixed_side, &g);
  } else {
    float best = -1;
    for (int cols = 1; cols <= count; ++cols) {
      const int rows = (count + cols - 1) / cols;
      GridLayout candidate;
      candidate.gap = gap;
      const float w = fit(cols, rows, &candidate);
      // Strictly larger wins, so the fewest columns win ties (wider rows look calmer).
      if (w > best) {
        best = w;
        g = candidate;
      }
    }
  }
  const float used_w = static_cast<float>(g.columns) * g.tile_w + gap * static_cast<float>(std::max(0, g.columns - 1));
  // Centred across, from the top down: the wall reads like a page, right under its toolbar.
  g.origin_x = std::max(0.0f, std::floor((width - used_w) / 2));
  g.origin_y = 0;
  return g;
}

}  // namespace exam::core
