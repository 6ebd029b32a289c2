// The wall's "needs attention first" order: scores, hysteresis, stable ties.
#include "core/attention.h"

#include <gtest/gtest.h>

namespace exam::core {
namespace {

AttentionInput Calm(int64_t id) { return AttentionInput{.session_id = id}; }

TEST(AttentionScore, HelpOutranksInterruptionOutranksAlertOutranksAppealOutranksStale) {
  const int help = AttentionScore({.open_help = 1});
  const int interrupted = AttentionScore({.interrupted = true});
  const int alert = AttentionScore({.open_alerts = 1});
  const int appeal = AttentionScore({.appeal_pending = true});
  const int stale = AttentionScore({.stream_stale = true});
  EXPECT_GT(help, interrupted);
  EXPECT_GT(interrupted, alert);
  EXPECT_GT(alert, appeal);
  EXPECT_GT(appeal, stale);
  EXPECT_GT(stale, 0);
  EXPECT_EQ(AttentionScore(Calm(1)), 0);
}

TEST(AttentionScore, MoreAlertsCountUpToACap) {
  EXPECT_GT(AttentionScore({.open_alerts = 2}), AttentionScore({.open_alerts = 1}));
  EXPECT_EQ(AttentionScore({.open_alerts = 4}), AttentionScore({.open_alerts = 40}));
}

TEST(AttentionOrder, CalmSessionsKeepTheGivenOrder) {
  AttentionOrder order;
  EXPECT_EQ(order.Update({Calm(3), Calm(1), Calm(2)}), (std::vector<int64_t>{3, 1, 2}));
  // Given in another order later: ties keep the previous order.
  EXPECT_EQ(order.Update({Calm(1), Calm(2), Calm(3)}), (std::vector<int64_t>{3, 1, 2}));
}

TEST(AttentionOrder, NeedsAttentionFirst) {
  AttentionOrder order;
  order.Update({Calm(1), Calm(2), Calm(3), Calm(4)});
  auto s3 = Calm(3);
  s3.open_help = 1;
  auto s4 = Calm(4);
  s4.open_alerts = 1;
  EXPECT_EQ(order.Update({Calm(1), Calm(2), s3, s4}), (std::vector<int64_t>{3, 4, 1, 2}));
  // Help resolved: 3 falls behind the alert, and keeps its place ahead of the calm ones it
  // was already ahead of (ties keep the previous order: no tile jumps without a reason).
  s3.open_help = 0;
  EXPECT_EQ(order.Update({Calm(1), Calm(2), s3, s4}), (std::vector<int64_t>{4, 3, 1, 2}));
}

TEST(AttentionOrder, SmallChangesDoNotMoveATile) {
  AttentionOrder order(/*margin=*/15);
  auto a = Calm(1), b = Calm(2);
  a.open_alerts = 1;  // 40
  b.open_alerts = 2;  // 50
  EXPECT_EQ(order.Update({a, b}), (std::vector<int64_t>{2, 1}));
  // a: 40 -> 50 (change of 10, within the margin): stays placed at 40, stays second.
  a.open_alerts = 2;
  EXPECT_EQ(order.Update({a, b}), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(order.PlacedScore(1), 40);
  // a: 40 -> 60 (change of 20): moves, and now outranks b.
  a.open_alerts = 3;
  EXPECT_EQ(order.Update({a, b}), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(order.PlacedScore(1), 60);
  // b: 50 -> 60: within the margin, b stays behind a even though the scores are equal now.
  b.open_alerts = 3;
  EXPECT_EQ(order.Update({a, b}), (std::vector<int64_t>{1, 2}));
}

TEST(AttentionOrder, AStaleStreamAloneMovesATileAtTheDefaultMargin) {
  AttentionOrder order;
  auto a = Calm(1), b = Calm(2);
  order.Update({a, b});
  b.stream_stale = true;
  EXPECT_EQ(order.Update({a, b}), (std::vector<int64_t>{2, 1}));
}

TEST(AttentionOrder, SessionsComeAndGo) {
  AttentionOrder order;
  order.Update({Calm(1), Calm(2), Calm(3)});
  auto s5 = Calm(5);
  s5.appeal_pending = true;
  EXPECT_EQ(order.Update({Calm(1), Calm(3), Calm(4), s5}), (std::vector<int64_t>{5, 1, 3, 4}));
  EXPECT_EQ(order.PlacedScore(2), 0);
}

TEST(ComputeGrid, AutoPicksTheLargestTiles) {
  // 4 tiles of 16:9 in a 16:9 area: 2 x 2.
  auto g = ComputeGrid(4, 1600, 900, 16.0f / 9.0f, 0);
  EXPECT_EQ(g.columns, 2);
  EXPECT_EQ(g.rows, 2);
  EXPECT_FLOAT_EQ(g.tile_w, 800);
  EXPECT_FLOAT_EQ(g.tile_h, 450);
  // 64 tiles: 8 x 8.
  g = ComputeGrid(64, 1600, 900, 16.0f / 9.0f, 0);
  EXPECT_EQ(g.columns, 8);
  EXPECT_EQ(g.rows, 8);
  // A very wide area puts them in one row.
  g = ComputeGrid(3, 3000, 200, 16.0f / 9.0f, 0);
  EXPECT_EQ(g.columns, 3);
  EXPECT_EQ(g.rows, 1);
  // A tall one in one column.
  g = ComputeGrid(3, 300, 2000, 16.0f / 9.0f, 0);
  EXPECT_EQ(g.columns, 1);
  EXPECT_EQ(g.rows, 3);
}

TEST(ComputeGrid, TilesFitWithGapsAndAreCentred) {
  for (int count : {1, 2, 5, 7, 12, 30, 64}) {
    const float w = 1280, h = 700, gap = 6;
    auto g = ComputeGrid(count, w, h, 16.0f / 9.0f, gap);
    ASSERT_GT(g.columns, 0) << count;
    EXPECT_GE(g.per_page, count);
    const int last = count - 1;
    EXPECT_LE(g.TileX(g.columns - 1) + g.tile_w, w + 0.5f) << count;
    EXPECT_LE(g.TileY(last) + g.tile_h, h + 0.5f) << count;
    EXPECT_GE(g.origin_x, 0);
    EXPECT_EQ(g.origin_y, 0);  // top-aligned under the toolbar
    EXPECT_NEAR(g.tile_w / g.tile_h, 16.0f / 9.0f, 0.05f) << count;
  }
}

TEST(ComputeGrid, FixedSidePagesTheRest) {
  auto g = ComputeGrid(64, 1600, 900, 16.0f / 9.0f, 4, 3);
  EXPECT_EQ(g.columns, 3);
  EXPECT_EQ(g.rows, 3);
  EXPECT_EQ(g.per_page, 9);
  EXPECT_FLOAT_EQ(g.TileX(4), g.origin_x + g.tile_w + 4);
  EXPECT_FLOAT_EQ(g.TileY(4), g.origin_y + g.tile_h + 4);
}

TEST(ComputeGrid, EmptyInputsGiveAnEmptyGrid) {
  EXPECT_EQ(ComputeGrid(0, 100, 100).columns, 0);
  EXPECT_EQ(ComputeGrid(4, 0, 100).columns, 0);
}

}  // namespace
}  // namespace exam::core
