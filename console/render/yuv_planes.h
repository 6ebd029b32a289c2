#pragma once
// Sizes of the three planes of a YUV 4:2:0 picture: the arithmetic behind the plane
// textures, apart from GL so that it can be tested without a context. Chroma rounds up:
// a 321 x 181 picture has 161 x 91 chroma samples.
#include <array>

namespace exam::render {

struct PlaneSize {
  int width = 0;
  int height = 0;
  bool operator==(const PlaneSize&) const = default;
};

inline std::array<PlaneSize, 3> Yuv420PlaneSizes(int width, int height) {
  if (width <= 0 || height <= 0) return {};
  const PlaneSize chroma{(width + 1) / 2, (height + 1) / 2};
  return {PlaneSize{width, height}, chroma, chroma};
}

// GL_UNPACK_ROW_LENGTH for a plane whose rows are `linesize` bytes apart (1 byte a sample):
// 0 when the rows are tight.
inline int UnpackRowLength(int linesize, int plane_width) { return linesize == plane_width ? 0 : linesize; }

}  // namespace exam::render
