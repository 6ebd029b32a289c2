#pragma once
// Video on screen without swscale: the Y, U and V planes of each decoded picture go into
// three GL_R8 textures (streamed through a pixel buffer object), and shaders/yuv420p.frag
// converts to RGB while ImGui draws, through an ImDrawList callback. Main thread only, with
// the GL context current.
#include <imgui.h>

#include <cstdint>
#include <deque>
#include <string>

#include "render/yuv_planes.h"

namespace exam::render {

// A decoded picture as the textures need it (borrowed pointers, valid during Upload()).
struct YuvPlanesView {
  int width = 0;
  int height = 0;
  const uint8_t* data[3] = {nullptr, nullptr, nullptr};
  int linesize[3] = {0, 0, 0};
  bool bt709 = false;
  bool full_range = false;
};

// Three plane textures and their upload buffer, for one stream. Move-only.
class YuvTextures {
 public:
  YuvTextures() = default;
  ~YuvTextures();
  YuvTextures(YuvTextures&& other) noexcept;
  YuvTextures& operator=(YuvTextures&& other) noexcept;
  YuvTextures(const YuvTextures&) = delete;
  YuvTextures& operator=(const YuvTextures&) = delete;

  // Copies the planes into the textures (reallocating them when the size changed). Leaves
  // the texture, buffer and unpack state as it found them. False when GL refused.
  bool Upload(const YuvPlanesView& planes);
  void Reset();
  // Forgets the GL names without deleting them (the context is gone).
  void Abandon();

  bool valid() const { return tex_[0] != 0 && width_ > 0; }
  int width() const { return width_; }
  int height() const { return height_; }
  unsigned texture(int plane) const { return tex_[plane]; }
  bool bt709() const { return bt709_; }
  bool full_range() const { return full_range_; }

 private:
  unsigned tex_[3] = {0, 0, 0};
  unsigned pbo_ = 0;
  int width_ = 0;
  int height_ = 0;
  size_t pbo_size_ = 0;
  bool bt709_ = false;
  bool full_range_ = false;
};

// The shader program and the draw-list glue. One per window.
class YuvRenderer {
 public:
  YuvRenderer() = default;
  ~YuvRenderer();
  YuvRenderer(const YuvRenderer&) = delete;
  YuvRenderer& operator=(const YuvRenderer&) = delete;

  // Compiles the shaders (embedded from shaders/ at build time). False with the compiler's
  // log in *error when the driver refused them.
  bool Init(std::string* error);
  bool ready() const { return program_ != 0; }
  // Call once per frame before queuing draws: the previous frame's draw records go.
  void BeginFrame() { draws_.clear(); }
  // Queues the picture into `list` filling [p0, p1]; ImGui's GL backend runs it in order
  // with the rest of the list and its own state is restored right after.
  // `quarter_turns` (0..3) turns the picture clockwise: [p0, p1] is the turned picture's box.
  void Draw(ImDrawList* list, ImVec2 p0, ImVec2 p1, const YuvTextures& textures, float alpha = 1.0f,
            int quarter_turns = 0);
  void Reset();
  void Abandon();

  struct DrawRecord {
    YuvRenderer* renderer;
    ImVec2 p0, p1;
    unsigned tex[3];
    int width, height;
    bool bt709, full_range;
    float alpha;
    int quarter_turns;
  };

 private:
  static void Callback(const ImDrawList* list, const ImDrawCmd* cmd);
  void Execute(const DrawRecord& r, const ImDrawCmd* cmd);

  unsigned program_ = 0;
  unsigned vao_ = 0;
  int loc_rect_ = -1, loc_y_ = -1, loc_u_ = -1, loc_v_ = -1, loc_bt709_ = -1, loc_full_ = -1, loc_alpha_ = -1,
      loc_chroma_scale_ = -1, loc_quarter_turns_ = -1;
  std::deque<DrawRecord> draws_;  // stable addresses until the next BeginFrame()
};

// The shader sources compiled into the binary (from shaders/ at the repository root).
const char* VideoVertexShaderSource();
const char* Yuv420pFragmentShaderSource();

}  // namespace exam::render
