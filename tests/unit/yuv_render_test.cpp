// The YUV path on a real GL 3.3 core context (run under Xvfb; skipped without a display):
// an odd-sized picture with padded line sizes goes through the plane textures (PBO) and
// shaders/yuv420p.frag inside an ImGui draw list, and the pixels read back are the BT.601 /
// BT.709 limited-range colours; ImGui's own drawing after the callback is intact.
#include <GLFW/glfw3.h>
#include <gtest/gtest.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>
#define GL_GLEXT_PROTOTYPES
#include <GL/gl.h>

#include <array>
#include <cmath>
#include <vector>

#include "render/yuv_video.h"

namespace exam::render {
namespace {

constexpr int kWin = 400;

std::array<int, 3> Expected(double Y, double U, double V, bool bt709) {
  const double y = (Y - 16) / 219, u = (U - 128) / 224, v = (V - 128) / 224;
  double r, g, b;
  if (bt709) r = y + 1.5748 * v, g = y - 0.187324 * u - 0.468124 * v, b = y + 1.8556 * u;
  else r = y + 1.402 * v, g = y - 0.344136 * u - 0.714136 * v, b = y + 1.772 * u;
  auto c = [](double x) { return static_cast<int>(std::lround(std::fmin(1.0, std::fmax(0.0, x)) * 255)); };
  return {c(r), c(g), c(b)};
}

class YuvRenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!glfwInit()) GTEST_SKIP() << "no display";
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
    glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
    glfwWindowHint(GLFW_VISIBLE, GLFW_FALSE);
    window_ = glfwCreateWindow(kWin, kWin, "yuv", nullptr, nullptr);
    if (window_ == nullptr) GTEST_SKIP() << "no GL 3.3 core context";
    glfwMakeContextCurrent(window_);
    ImGui::CreateContext();
    ImGui_ImplGlfw_InitForOpenGL(window_, false);
    ImGui_ImplOpenGL3_Init("#version 330 core");
  }
  void TearDown() override {
    if (window_ == nullptr) return;
    ImGui_ImplOpenGL3_Shutdown();
    ImGui_ImplGlfw_Shutdown();
    ImGui::DestroyContext();
    glfwDestroyWindow(window_);
    glfwTerminate();
  }
  std::array<int, 3> Pixel(int x, int y) {
    unsigned char px[3] = {0, 0, 0};
    int fb_w = 0, fb_h = 0;
    glfwGetFramebufferSize(window_, &fb_w, &fb_h);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadPixels(x, fb_h - 1 - y, 1, 1, GL_RGB, GL_UNSIGNED_BYTE, px);
    return {px[0], px[1], px[2]};
  }
  GLFWwindow* window_ = nullptr;
};

TEST_F(YuvRenderTest, OddPictureWithPaddedRowsComesOutInTheRightColours) {
  YuvRenderer renderer;
  std::string error;
  ASSERT_TRUE(renderer.Init(&error)) << error;
  const int w = 321, h = 181;
  const auto sizes = Yuv420PlaneSizes(w, h);
  const int ls_y = 352, ls_c = 192;  // padded like a decoder's frames
  std::vector<uint8_t> y(static_cast<size_t>(ls_y) * h), u(static_cast<size_t>(ls_c) * sizes[1].height), v(u.size());
  for (int j = 0; j < h; ++j)
    for (int i = 0; i < ls_y; ++i) y[j * ls_y + i] = i < w / 2 ? 60 : 200;
  for (int j = 0; j < sizes[1].height; ++j)
    for (int i = 0; i < ls_c; ++i) {
      u[j * ls_c + i] = i < sizes[1].width / 2 ? 100 : 150;
      v[j * ls_c + i] = i < sizes[1].width / 2 ? 180 : 90;
    }
  YuvTextures textures;
  for (bool bt709 : {false, true}) {
    YuvPlanesView view;
    view.width = w;
    view.height = h;
    view.data[0] = y.data();
    view.data[1] = u.data();
    view.data[2] = v.data();
    view.linesize[0] = ls_y;
    view.linesize[1] = view.linesize[2] = ls_c;
    view.bt709 = bt709;
    ASSERT_TRUE(textures.Upload(view));
    EXPECT_EQ(textures.width(), w);
    ImGui::GetIO().DisplaySize = ImVec2(kWin, kWin);
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    ImGui::NewFrame();
    renderer.BeginFrame();
    ImGui::SetNextWindowPos(ImVec2(0, 0));
    ImGui::SetNextWindowSize(ImVec2(kWin, kWin));
    ImGui::Begin("wall", nullptr, ImGuiWindowFlags_NoDecoration);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    renderer.Draw(dl, ImVec2(20, 20), ImVec2(20 + w, 20 + h), textures);
    dl->AddRectFilled(ImVec2(350, 20), ImVec2(390, 60), IM_COL32(255, 0, 0, 255));  // ImGui after the video
    ImGui::End();
    ImGui::Render();
    int fb_w = 0, fb_h = 0;
    glfwGetFramebufferSize(window_, &fb_w, &fb_h);
    glViewport(0, 0, fb_w, fb_h);
    glClearColor(0, 0, 0, 1);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    EXPECT_EQ(glGetError(), static_cast<GLenum>(GL_NO_ERROR));
    const auto left = Pixel(60, 100), right = Pixel(300, 100), want_l = Expected(60, 100, 180, bt709),
               want_r = Expected(200, 150, 90, bt709);
    for (int c = 0; c < 3; ++c) {
      EXPECT_NEAR(left[c], want_l[c], 2) << "bt709 " << bt709 << " channel " << c;
      EXPECT_NEAR(right[c], want_r[c], 2) << "bt709 " << bt709 << " channel " << c;
    }
    EXPECT_EQ(Pixel(370, 40), (std::array<int, 3>{255, 0, 0}));
  }
  textures.Reset();
  renderer.Reset();
}

}  // namespace
}  // namespace exam::render
