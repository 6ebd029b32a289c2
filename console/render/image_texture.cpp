#include "render/image_texture.h"

#include <GL/gl.h>
#include <stb_image.h>

#include <algorithm>
#include <climits>
#include <utility>

namespace exam::render {

bool DecodeImage(std::string_view bytes, DecodedImage* out, std::string* error, int max_side) {
  auto fail = [&](const std::string& why) {
    if (error) *error = why;
    return false;
  };
  if (bytes.empty()) return fail("no image data");
  if (bytes.size() > static_cast<size_t>(INT_MAX)) return fail("image too large");
  int w = 0, h = 0, channels = 0;
  stbi_uc* px = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), static_cast<int>(bytes.size()),
                                      &w, &h, &channels, 4);
  if (px == nullptr) {
    const char* why = stbi_failure_reason();
    return fail(std::string("cannot decode image: ") + (why ? why : "unknown format"));
  }
  if (w <= 0 || h <= 0) {
    stbi_image_free(px);
    return fail("empty image");
  }
  // Shrink by a whole factor (box average) until it fits: cheap, and enough for a photo.
  const int factor = max_side > 0 ? std::max(1, (std::max(w, h) + max_side - 1) / max_side) : 1;
  const int ow = std::max(1, w / factor), oh = std::max(1, h / factor);
  out->width = ow;
  out->height = oh;
  out->rgba.assign(static_cast<size_t>(ow) * static_cast<size_t>(oh) * 4, 0);
  if (factor == 1) {
    std::copy_n(px, out->rgba.size(), out->rgba.begin());
  } else {
    const size_t stride = static_cast<size_t>(w) * 4;
    for (int y = 0; y < oh; ++y) {
      for (int x = 0; x < ow; ++x) {
        unsigned sum[4] = {0, 0, 0, 0};
        for (int dy = 0; dy < factor; ++dy) {
          const stbi_uc* row = px + static_cast<size_t>(y * factor + dy) * stride + static_cast<size_t>(x * factor) * 4;
          for (int dx = 0; dx < factor; ++dx)
            for (int c = 0; c < 4; ++c) sum[c] += row[dx * 4 + c];
        }
        const unsigned n = static_cast<unsigned>(factor * factor);
        uint8_t* dst = &out->rgba[(static_cast<size_t>(y) * ow + x) * 4];
        for (int c = 0; c < 4; ++c) dst[c] = static_cast<uint8_t>(sum[c] / n);
      }
    }
  }
  stbi_image_free(px);
  return true;
}

ImageTexture::~ImageTexture() { Reset(); }

ImageTexture::ImageTexture(ImageTexture&& other) noexcept
    : name_(std::exchange(other.name_, 0)),
      width_(std::exchange(other.width_, 0)),
      height_(std::exchange(other.height_, 0)) {}

ImageTexture& ImageTexture::operator=(ImageTexture&& other) noexcept {
  if (this != &other) {
    Reset();
    name_ = std::exchange(other.name_, 0);
    width_ = std::exchange(other.width_, 0);
    height_ = std::exchange(other.height_, 0);
  }
  return *this;
}

bool ImageTexture::Upload(const uint8_t* rgba, int width, int height) {
  if (rgba == nullptr || width <= 0 || height <= 0) return false;
  GLint max_size = 0;
  glGetIntegerv(GL_MAX_TEXTURE_SIZE, &max_size);
  if (max_size > 0 && (width > max_size || height > max_size)) return false;

  GLint previous = 0, alignment = 4, row_length = 0;
  glGetIntegerv(GL_TEXTURE_BINDING_2D, &previous);
  glGetIntegerv(GL_UNPACK_ALIGNMENT, &alignment);
  glGetIntegerv(GL_UNPACK_ROW_LENGTH, &row_length);
  if (name_ == 0) {
    GLuint name = 0;
    glGenTextures(1, &name);
    name_ = name;
    width_ = height_ = 0;
  }
  // Errors left by earlier calls would be taken for ours (bounded: a lost context repeats one).
  for (int i = 0; i < 8 && glGetError() != GL_NO_ERROR; ++i) {
  }
  glBindTexture(GL_TEXTURE_2D, name_);
  glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
  glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
  if (width == width_ && height == height_) {
    glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, width, height, GL_RGBA, GL_UNSIGNED_BYTE, rgba);
  } else {
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, width, height, 0, GL_RGBA, GL_UNSIGNED_BYTE, rgba);
  }
  const bool ok = glGetError() == GL_NO_ERROR;
  glPixelStorei(GL_UNPACK_ALIGNMENT, alignment);
  glPixelStorei(GL_UNPACK_ROW_LENGTH, row_length);
  glBindTexture(GL_TEXTURE_2D, static_cast<GLuint>(previous));
  if (!ok) {
    Reset();
    return false;
  }
  width_ = width;
  height_ = height;
  return true;
}

void ImageTexture::Reset() {
  if (name_ != 0) {
    const GLuint name = name_;
    glDeleteTextures(1, &name);
  }
  Abandon();
}

void ImageTexture::Abandon() {
  name_ = 0;
  width_ = height_ = 0;
}

}  // namespace exam::render
