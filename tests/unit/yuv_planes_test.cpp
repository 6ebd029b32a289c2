// Plane sizes of YUV 4:2:0 pictures, odd sizes included.
#include "render/yuv_planes.h"

#include <gtest/gtest.h>

namespace exam::render {
namespace {

TEST(Yuv420PlaneSizes, EvenSizesHalveChroma) {
  const auto p = Yuv420PlaneSizes(320, 180);
  EXPECT_EQ(p[0], (PlaneSize{320, 180}));
  EXPECT_EQ(p[1], (PlaneSize{160, 90}));
  EXPECT_EQ(p[2], (PlaneSize{160, 90}));
}

TEST(Yuv420PlaneSizes, OddSizesRoundChromaUp) {
  const auto p = Yuv420PlaneSizes(321, 181);
  EXPECT_EQ(p[0], (PlaneSize{321, 181}));
  EXPECT_EQ(p[1], (PlaneSize{161, 91}));
  EXPECT_EQ(p[2], (PlaneSize{161, 91}));
  EXPECT_EQ(Yuv420PlaneSizes(1, 1)[1], (PlaneSize{1, 1}));
  EXPECT_EQ(Yuv420PlaneSizes(3, 2)[2], (PlaneSize{2, 1}));
}

TEST(Yuv420PlaneSizes, EmptyPictureHasNoPlanes) {
  EXPECT_EQ(Yuv420PlaneSizes(0, 10)[0], (PlaneSize{0, 0}));
  EXPECT_EQ(Yuv420PlaneSizes(10, -1)[1], (PlaneSize{0, 0}));
}

TEST(UnpackRowLength, ZeroWhenTight) {
  EXPECT_EQ(UnpackRowLength(320, 320), 0);
  EXPECT_EQ(UnpackRowLength(384, 321), 384);
}

}  // namespace
}  // namespace exam::render
