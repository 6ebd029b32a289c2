#include "render/framebuffer_capture.h"

#define GL_GLEXT_PROTOTYPES
#include <GL/gl.h>
#include <stb_image_write.h>

#include <algorithm>
#include <string>
#include <vector>

namespace exam::render {

bool WriteFramebufferPng(const std::string& path, int width, int height, std::string* error) {
  if (width <= 0 || height <= 0) {
    if (error) *error = "empty framebuffer";
    return false;
  }
  const size_t stride = static_cast<size_t>(width) * 3;
  std::vector<unsigned char> pixels(stride * static_cast<size_t>(height));
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadBuffer(GL_BACK);
  glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE, pixels.data());
  if (const GLenum err = glGetError(); err != GL_NO_ERROR) {
    if (error) *error = "glReadPixels failed with GL error " + std::to_string(err);
    return false;
  }
  // GL rows go bottom-up; PNG rows top-down.
  std::vector<unsigned char> flipped(pixels.size());
  for (int y = 0; y < height; ++y) {
    std::copy_n(pixels.data() + static_cast<size_t>(height - 1 - y) * stride, stride,
                flipped.data() + static_cast<size_t>(y) * stride);
  }
  if (stbi_write_png(path.c_str(), width, height, 3, flipped.data(), static_cast<int>(stride)) == 0) {
    if (error) *error = "cannot write " + path;
    return false;
  }
  return true;
}

}  // namespace exam::render
