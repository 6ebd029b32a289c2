#pragma once
// Still images on screen: decoding JPEG/PNG bytes to RGBA (any thread, no GL) and one RGBA
// texture that ImGui can draw (main thread only, with the GL context current). The appeal
// photos go through both: decoded by the appeal feed's thread, uploaded here by the UI.
#include <imgui.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace exam::render {

struct DecodedImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgba;  // width * height * 4, rows top to bottom
};

// Decodes anything stb_image reads (JPEG, PNG, BMP, GIF's first frame, ...) into RGBA8.
// Images longer than `max_side` on either side are shrunk by whole-pixel averaging so a
// phone photo does not become a 48 MB texture. Thread-safe; never touches GL. Returns false
// with a short reason in *error for empty, truncated or unknown data.
bool DecodeImage(std::string_view bytes, DecodedImage* out, std::string* error, int max_side = 2048);

// One RGBA8 texture, linear filtering, clamped edges. Move-only; frees its GL name.
class ImageTexture {
 public:
  ImageTexture() = default;
  ~ImageTexture();
  ImageTexture(ImageTexture&& other) noexcept;
  ImageTexture& operator=(ImageTexture&& other) noexcept;
  ImageTexture(const ImageTexture&) = delete;
  ImageTexture& operator=(const ImageTexture&) = delete;

  // Replaces the pixels (reusing the GL storage when the size is unchanged). Leaves the GL
  // texture binding and unpack state as it found them. False when GL refused (size above
  // GL_MAX_TEXTURE_SIZE, or no pixels).
  bool Upload(const uint8_t* rgba, int width, int height);
  // Deletes the GL texture.
  void Reset();
  // Forgets the GL name without deleting it: for when the context that owned it is gone
  // (its objects went with it) and no GL call may be made.
  void Abandon();

  bool valid() const { return name_ != 0; }
  int width() const { return width_; }
  int height() const { return height_; }
  ImTextureID id() const { return reinterpret_cast<ImTextureID>(static_cast<intptr_t>(name_)); }

 private:
  unsigned int name_ = 0;
  int width_ = 0;
  int height_ = 0;
};

}  // namespace exam::render
