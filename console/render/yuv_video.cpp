#include "render/yuv_video.h"

#define GL_GLEXT_PROTOTYPES
#include <GL/gl.h>
#include <GL/glext.h>

#include <cstring>
#include <utility>

namespace exam::render {

// ---- plane textures -------------------------------------------------------------------

YuvTextures::~YuvTextures() { Reset(); }

YuvTextures::YuvTextures(YuvTextures&& o) noexcept { *this = std::move(o); }

YuvTextures& YuvTextures::operator=(YuvTextures&& o) noexcept {
  if (this != &o) {
    Reset();
    for (int i = 0; i < 3; ++i) tex_[i] = std::exchange(o.tex_[i], 0);
    pbo_ = std::exchange(o.pbo_, 0);
    width_ = std::exchange(o.width_, 0);
    height_ = std::exchange(o.height_, 0);
    pbo_size_ = std::exchange(o.pbo_size_, 0);
    bt709_ = o.bt709_;
    full_range_ = o.full_range_;
  }
  return *this;
}

void YuvTextures::Reset() {
  if (tex_[0] != 0) glDeleteTextures(3, tex_);
  if (pbo_ != 0) glDeleteBuffers(1, &pbo_);
  Abandon();
}

void YuvTextures::Abandon() {
  tex_[0] = tex_[1] = tex_[2] = 0;
  pbo_ = 0;
  width_ = height_ = 0;
  pbo_size_ = 0;
}

bool YuvTextures::Upload(const YuvPlanesView& in) {
  if (in.width <= 0 || in.height <= 0) return false;
  const auto sizes = Yuv420PlaneSizes(in.width, in.height);
  for (int i = 0; i < 3; ++i)
    if (in.data[i] == nullptr || in.linesize[i] < sizes[i].width) return false;

  GLint last_texture = 0, last_pbo = 0, last_align = 0, last_row = 0;
  glGetIntegerv(GL_TEXTURE_BINDING_2D, &last_texture);
  glGetIntegerv(GL_PIXEL_UNPACK_BUFFER_BINDING, &last_pbo);
  glGetIntegerv(GL_UNPACK_ALIGNMENT, &last_align);
  glGetIntegerv(GL_UNPACK_ROW_LENGTH, &last_row);

  const bool resize = tex_[0] == 0 || in.width != width_ || in.height != height_;
  if (tex_[0] == 0) glGenTextures(3, tex_);
  if (pbo_ == 0) glGenBuffers(1, &pbo_);

  // One buffer holds the three planes as they come (with their line sizes), so the copy is
  // three memcpy and GL reads rows through GL_UNPACK_ROW_LENGTH.
  size_t offsets[3];
  size_t total = 0;
  for (int i = 0; i < 3; ++i) {
    offsets[i] = total;
    total += static_cast<size_t>(in.linesize[i]) * static_cast<size_t>(sizes[i].height);
  }
  glBindBuffer(GL_PIXEL_UNPACK_BUFFER, pbo_);
  // Orphan the previous storage: the driver may still be reading it for the last upload.
  glBufferData(GL_PIXEL_UNPACK_BUFFER, static_cast<GLsizeiptr>(total), nullptr, GL_STREAM_DRAW);
  pbo_size_ = total;
  void* mapped = glMapBufferRange(GL_PIXEL_UNPACK_BUFFER, 0, static_cast<GLsizeiptr>(total),
                                  GL_MAP_WRITE_BIT | GL_MAP_INVALIDATE_BUFFER_BIT);
  bool ok = mapped != nullptr;
  if (ok) {
    for (int i = 0; i < 3; ++i)
      std::memcpy(static_cast<uint8_t*>(mapped) + offsets[i], in.data[i],
                  static_cast<size_t>(in.linesize[i]) * static_cast<size_t>(sizes[i].height));
    ok = glUnmapBuffer(GL_PIXEL_UNPACK_BUFFER) == GL_TRUE;
  }
  if (ok) {
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    for (int i = 0; i < 3; ++i) {
      glBindTexture(GL_TEXTURE_2D, tex_[i]);
      glPixelStorei(GL_UNPACK_ROW_LENGTH, UnpackRowLength(in.linesize[i], sizes[i].width));
      const void* offset = reinterpret_cast<const void*>(offsets[i]);
      if (resize) {
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
        glTexImage2D(GL_TEXTURE_2D, 0, GL_R8, sizes[i].width, sizes[i].height, 0, GL_RED, GL_UNSIGNED_BYTE, offset);
      } else {
        glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, sizes[i].width, sizes[i].height, GL_RED, GL_UNSIGNED_BYTE, offset);
      }
    }
    ok = glGetError() == GL_NO_ERROR;
  }
  glBindBuffer(GL_PIXEL_UNPACK_BUFFER, static_cast<GLuint>(last_pbo));
  glBindTexture(GL_TEXTURE_2D, static_cast<GLuint>(last_texture));
  glPixelStorei(GL_UNPACK_ALIGNMENT, last_align);
  glPixelStorei(GL_UNPACK_ROW_LENGTH, last_row);
  if (ok) {
    width_ = in.width;
    height_ = in.height;
    bt709_ = in.bt709;
    full_range_ = in.full_range;
  } else {
    width_ = height_ = 0;  // drawn as "no video" until a good upload
  }
  return ok;
}

// ---- the program ----------------------------------------------------------------------

namespace {

GLuint Compile(GLenum kind, const char* source, std::string* error) {
  GLuint shader = glCreateShader(kind);
  glShaderSource(shader, 1, &source, nullptr);
  glCompileShader(shader);
  GLint ok = 0;
  glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
  if (!ok) {
    char log[1024] = {0};
    glGetShaderInfoLog(shader, sizeof log, nullptr, log);
    if (error) *error = std::string(kind == GL_VERTEX_SHADER ? "video.vert: " : "yuv420p.frag: ") + log;
    glDeleteShader(shader);
    return 0;
  }
  return shader;
}

}  // namespace

YuvRenderer::~YuvRenderer() { Reset(); }

bool YuvRenderer::Init(std::string* error) {
  if (program_ != 0) return true;
  GLuint vs = Compile(GL_VERTEX_SHADER, VideoVertexShaderSource(), error);
  if (vs == 0) return false;
  GLuint fs = Compile(GL_FRAGMENT_SHADER, Yuv420pFragmentShaderSource(), error);
  if (fs == 0) {
    glDeleteShader(vs);
    return false;
  }
  GLuint program = glCreateProgram();
  glAttachShader(program, vs);
  glAttachShader(program, fs);
  glLinkProgram(program);
  glDeleteShader(vs);
  glDeleteShader(fs);
  GLint ok = 0;
  glGetProgramiv(program, GL_LINK_STATUS, &ok);
  if (!ok) {
    char log[1024] = {0};
    glGetProgramInfoLog(program, sizeof log, nullptr, log);
    if (error) *error = std::string("video program: ") + log;
    glDeleteProgram(program);
    return false;
  }
  program_ = program;
  loc_rect_ = glGetUniformLocation(program, "u_rect");
  loc_quarter_turns_ = glGetUniformLocation(program, "u_quarter_turns");
  loc_y_ = glGetUniformLocation(program, "u_y");
  loc_u_ = glGetUniformLocation(program, "u_u");
  loc_v_ = glGetUniformLocation(program, "u_v");
  loc_bt709_ = glGetUniformLocation(program, "u_bt709");
  loc_full_ = glGetUniformLocation(program, "u_full_range");
  loc_alpha_ = glGetUniformLocation(program, "u_alpha");
  loc_chroma_scale_ = glGetUniformLocation(program, "u_chroma_scale");
  glGenVertexArrays(1, &vao_);  // core profile draws need a VAO, even an empty one
  return true;
}

void YuvRenderer::Reset() {
  if (program_ != 0) glDeleteProgram(program_);
  if (vao_ != 0) glDeleteVertexArrays(1, &vao_);
  Abandon();
}

void YuvRenderer::Abandon() {
  program_ = 0;
  vao_ = 0;
  draws_.clear();
}

void YuvRenderer::Draw(ImDrawList* list, ImVec2 p0, ImVec2 p1, const YuvTextures& t, float alpha, int quarter_turns) {
  if (program_ == 0 || !t.valid()) return;
  draws_.push_back(DrawRecord{this, p0, p1, {t.texture(0), t.texture(1), t.texture(2)}, t.width(), t.height(),
                              t.bt709(), t.full_range(), alpha, ((quarter_turns % 4) + 4) % 4});
  list->AddCallback(&YuvRenderer::Callback, &draws_.back());
  // ImGui's OpenGL3 backend sets its program, buffers and blend state up again after this.
  list->AddCallback(ImDrawCallback_ResetRenderState, nullptr);
}

void YuvRenderer::Callback(const ImDrawList* list, const ImDrawCmd* cmd) {
  const auto* r = static_cast<const DrawRecord*>(cmd->UserCallbackData);
  r->renderer->Execute(*r, cmd);
}

void YuvRenderer::Execute(const DrawRecord& r, const ImDrawCmd* cmd) {
  const ImDrawData* dd = ImGui::GetDrawData();
  if (dd == nullptr || dd->DisplaySize.x <= 0 || dd->DisplaySize.y <= 0) return;
  const ImVec2 pos = dd->DisplayPos, size = dd->DisplaySize, scale = dd->FramebufferScale;
  const float fb_h = size.y * scale.y;
  // The command's clip rectangle, as the backend would set it (GL's y goes up).
  const ImVec4 c = cmd->ClipRect;
  const float cx0 = (c.x - pos.x) * scale.x, cy0 = (c.y - pos.y) * scale.y;
  const float cx1 = (c.z - pos.x) * scale.x, cy1 = (c.w - pos.y) * scale.y;
  if (cx1 <= cx0 || cy1 <= cy0) return;
  glScissor(static_cast<GLint>(cx0), static_cast<GLint>(fb_h - cy1), static_cast<GLsizei>(cx1 - cx0),
            static_cast<GLsizei>(cy1 - cy0));

  auto ndc_x = [&](float x) { return (x - pos.x) / size.x * 2.0f - 1.0f; };
  auto ndc_y = [&](float y) { return 1.0f - (y - pos.y) / size.y * 2.0f; };
  glUseProgram(program_);
  // Corner (0,0) is the picture's first row: put it at the top of the rectangle.
  glUniform4f(loc_rect_, ndc_x(r.p0.x), ndc_y(r.p0.y), ndc_x(r.p1.x), ndc_y(r.p1.y));
  glUniform1i(loc_quarter_turns_, r.quarter_turns);
  glUniform1i(loc_y_, 0);
  glUniform1i(loc_u_, 1);
  glUniform1i(loc_v_, 2);
  glUniform1i(loc_bt709_, r.bt709 ? 1 : 0);
  glUniform1i(loc_full_, r.full_range ? 1 : 0);
  glUniform1f(loc_alpha_, r.alpha);
  const auto sizes = Yuv420PlaneSizes(r.width, r.height);
  glUniform2f(loc_chroma_scale_, static_cast<float>(r.width) / 2.0f / static_cast<float>(sizes[1].width),
              static_cast<float>(r.height) / 2.0f / static_cast<float>(sizes[1].height));
  for (int i = 0; i < 3; ++i) {
    glActiveTexture(GL_TEXTURE0 + i);
    glBindTexture(GL_TEXTURE_2D, r.tex[i]);
  }
  glBindVertexArray(vao_);
  // An opaque picture needs no blending: without it the rasterizer skips reading what is
  // underneath, and a software one (llvmpipe) can drop what was queued under it.
  if (r.alpha >= 1.0f) glDisable(GL_BLEND);
  glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
  // The backend binds textures on unit 0 only and does not reselect it.
  glActiveTexture(GL_TEXTURE0);
}

}  // namespace exam::render
