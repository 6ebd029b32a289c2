#include "app/console_app.h"

#include <GLFW/glfw3.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>
#include <imgui_internal.h>  // ErrorCheckEndFrameRecover

#include <algorithm>
#include <chrono>
#include <vector>
#include <cstdio>
#include <functional>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "app/action_outbox.h"
#include "app/embedded_backend.h"
#include "app/fonts.h"
#include "net/backend_client.h"
#include "net/notice_tracker.h"
#ifdef EXAM_CONSOLE_HAS_AUDIO
#include "media/chime.h"
#endif
#include "net/upload_monitor.h"
#include "render/framebuffer_capture.h"
#include "ui/panel_registry.h"
#include "ui/theme.h"

namespace exam::app {
namespace {

// Input arrived at this time (glfwGetTime); ImGui needs a few frames after input to settle
// hover states and animations, after that the loop idles.
double g_last_input = 0.0;

void NoteInput() { g_last_input = glfwGetTime(); }

void InstallInputHooks(GLFWwindow* window) {
  // Installed before ImGui's backend, which chains to them.
  glfwSetCursorPosCallback(window, [](GLFWwindow*, double, double) { NoteInput(); });
  glfwSetMouseButtonCallback(window, [](GLFWwindow*, int, int, int) { NoteInput(); });
  glfwSetScrollCallback(window, [](GLFWwindow*, double, double) { NoteInput(); });
  glfwSetKeyCallback(window, [](GLFWwindow*, int, int, int, int) { NoteInput(); });
  glfwSetCharCallback(window, [](GLFWwindow*, unsigned int) { NoteInput(); });
  glfwSetWindowSizeCallback(window, [](GLFWwindow*, int, int) { NoteInput(); });
  glfwSetWindowFocusCallback(window, [](GLFWwindow*, int) { NoteInput(); });
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buf;
  buf << in.rdbuf();
  *out = buf.str();
  return true;
}

// Characters of backend data the font atlas may lack (candidate names are the usual case).
void WantGlyphs(FontLibrary& fonts, const net::DirectorySnapshot& snap, const net::ConnectionStatus& status) {
  fonts.Want(status.display_name);
  fonts.Want(status.message);
  if (snap.exams) {
    for (const auto& e : *snap.exams) fonts.Want(e.title());
  }
  if (snap.rooms) {
    for (const auto& r : *snap.rooms) fonts.Want(r.name());
  }
  for (const auto& s : snap.sessions) fonts.Want(s->candidate_name());
}

// What --screenshot waits for before counting frames.
struct ScreenshotPlan {
  enum class Phase { kWaitOnline, kDelay, kCount, kDone } phase = Phase::kWaitOnline;
  double phase_started = 0.0;
  int frames_left = 0;
};

}  // namespace

int RunConsole(const Options& opt) {
  ui::SetLang(opt.lang);
  std::string error;

  // --- backend ------------------------------------------------------------------------
  std::unique_ptr<EmbeddedBackend> embedded;
  net::ClientOptions client_options;
  if (opt.backend.empty()) {
    EmbeddedBackend::Options demo;
    demo.time_scale = opt.time_scale;
    demo.candidates = opt.candidates;
    demo.seed = opt.seed;
    demo.simulate = opt.simulate;
    embedded = EmbeddedBackend::Start(demo, &error);
    if (!embedded) {
      std::fprintf(stderr, "exam-console: cannot start the demo backend: %s\n", error.c_str());
      return 1;
    }
    std::fprintf(stderr, "exam-console: demo backend on %s (time ×%g)\n", embedded->address().c_str(), opt.time_scale);
    client_options.address = embedded->address();
    client_options.username = embedded->username();
    client_options.password = embedded->password();
  } else {
    client_options.address = opt.backend;
    // A username without a password only prefills the login form.
    if (!opt.password.empty()) {
      client_options.username = opt.user;
      client_options.password = opt.password;
    }
  }
  if (!opt.ca_file.empty() && !ReadFile(opt.ca_file, &client_options.ca_pem)) {
    std::fprintf(stderr, "exam-console: cannot read CA file %s\n", opt.ca_file.c_str());
    return 1;
  }

  // --- window -------------------------------------------------------------------------
  glfwSetErrorCallback([](int code, const char* text) { std::fprintf(stderr, "GLFW error %d: %s\n", code, text); });
  if (!glfwInit()) {
    std::fprintf(stderr, "exam-console: cannot open a window (no display? try xvfb-run)\n");
    return 1;
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
  GLFWwindow* window = glfwCreateWindow(opt.width, opt.height, "考试监控台 · Exam Console", nullptr, nullptr);
  if (window == nullptr) {
    std::fprintf(stderr, "exam-console: cannot create an OpenGL 3.3 core window\n");
    glfwTerminate();
    return 1;
  }
  glfwMakeContextCurrent(window);
  const bool screenshot_mode = !opt.screenshot.empty();
  glfwSwapInterval(screenshot_mode ? 0 : 1);
  InstallInputHooks(window);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // the layout is fixed by the panels, nothing to remember
  io.ConfigWindowsMoveFromTitleBarOnly = true;
  float scale = 1.0f;
  glfwGetWindowContentScale(window, &scale, nullptr);
  if (scale < 1.0f) scale = 1.0f;
  ui::theme::Apply(scale);

  FontLibrary fonts;
  if (!fonts.Load(FontLibrary::kDefaultPath, 16.0f * scale, &error)) {
    std::fprintf(stderr, "exam-console: %s\n", error.c_str());
    ImGui::DestroyContext();
    glfwDestroyWindow(window);
    glfwTerminate();
    return 1;
  }
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  ImGui_ImplOpenGL3_Init("#version 330 core");

  // --- client and panels ----------------------------------------------------------------
  client_options.on_change = [] { glfwPostEmptyEvent(); };
  net::BackendClient client(client_options);
  client.Start();
  ui::PanelRegistry panels(client_options.username.empty() ? opt.user : client_options.username);
  ui::UiContext ctx;
  ctx.client = &client;
  ctx.workspace = opt.workspace;

  // --- the outbox of staff actions and the feeds that poll on their own threads ---
  // The demo's store is temporary like its database; a real backend's store persists, so
  // actions not yet delivered are sent at the next start.
  ActionOutbox actions(client, opt.store, opt.store.empty() && embedded != nullptr);
  net::UploadMonitor::Options monitor_options;
  monitor_options.on_change = [] { glfwPostEmptyEvent(); };
  net::UploadMonitor uploads(client, monitor_options);
  ctx.uploads = &uploads;
  net::NoticeTracker notices;
  ctx.notices = &notices;
  ctx.want_glyphs = [&fonts](std::string_view text) { fonts.Want(text); };
  std::function<void()> chime;
#ifdef EXAM_CONSOLE_HAS_AUDIO
  std::unique_ptr<media::Chime> chime_device;
  if (opt.audio) {
    std::string audio_error;
    chime_device = media::Chime::Open(&audio_error);
    if (chime_device) chime = [&] { chime_device->Play(); };
    else std::fprintf(stderr, "exam-console: audio off: %s\n", audio_error.c_str());
  }
#else
  if (opt.audio) std::fprintf(stderr, "exam-console: audio off: built without PortAudio\n");
#endif

  ScreenshotPlan shot;
  shot.phase_started = glfwGetTime();
  int exit_code = 0;
  uint64_t glyphs_seen_version = 0;
  std::string frame_error;
  std::vector<double> frame_ms;

  while (!glfwWindowShouldClose(window)) {
    // --- wait for something to do ---
    if (screenshot_mode && shot.phase == ScreenshotPlan::Phase::kCount) {
      glfwPollEvents();
    } else if (glfwGetTime() - g_last_input < 0.5) {
      glfwPollEvents();
    } else {
      // Woken by input or by the client (glfwPostEmptyEvent); 4 Hz keeps countdowns ticking.
      const bool iconified = glfwGetWindowAttrib(window, GLFW_ICONIFIED) != 0;
      glfwWaitEventsTimeout(iconified ? 1.0 : (screenshot_mode ? 0.05 : 0.25));
    }

    // --- read the network side once per frame ---
    ctx.snapshot = client.Snapshot();
    ctx.status = client.Status();
    ctx.backend_now_ms = ctx.status.backend_now_unix_ms;
    ctx.large_font = fonts.large();
    // New events since the last frame, for the notices (a local read of the client's history).
    if (ctx.status.last_seq > notices.last_seq()) {
      const auto missing = static_cast<size_t>(std::min<int64_t>(ctx.status.last_seq - notices.last_seq(), 500));
      const bool initial = notices.last_seq() == 0;  // the backlog at sign-in is not news
      if (notices.Ingest(client.RecentEvents(missing), ctx.snapshot.get()) > 0 && chime && !initial) chime();
    }
    actions.Follow(ctx.status);
    ctx.outbox = actions.outbox();
    ctx.outbox_version = actions.version();
    if (!actions.error().empty()) frame_error = actions.error();

    if (ctx.snapshot->version != glyphs_seen_version) {
      glyphs_seen_version = ctx.snapshot->version;
      WantGlyphs(fonts, *ctx.snapshot, ctx.status);
    }
    if (fonts.rebuild_needed()) {
      fonts.Rebuild();
      ImGui_ImplOpenGL3_DestroyFontsTexture();
      ImGui_ImplOpenGL3_CreateFontsTexture();
      ctx.large_font = fonts.large();
    }

    // --- build the frame; one exception costs one frame, not the console ---
    const auto frame_begin = std::chrono::steady_clock::now();
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    ImGui::NewFrame();
    try {
      if (io.KeyCtrl && ImGui::IsKeyPressed(GLFW_KEY_Q)) ctx.quit_requested = true;
      panels.DrawFrame(ctx);
      if (!frame_error.empty()) {
        ImGui::GetForegroundDrawList()->AddText(ImVec2(8, io.DisplaySize.y - 2 * ImGui::GetFrameHeight() - 8),
                                                ui::theme::kDanger, frame_error.c_str());
      }
    } catch (const std::exception& e) {
      ImGui::ErrorCheckEndFrameRecover(nullptr);
      frame_error = std::string(ui::Tr(ui::str::kError)) + ": " + e.what();
      std::fprintf(stderr, "exam-console: frame failed: %s\n", e.what());
    }
    ImGui::Render();

    int fb_w = 0;
    int fb_h = 0;
    glfwGetFramebufferSize(window, &fb_w, &fb_h);
    glViewport(0, 0, fb_w, fb_h);
    const ImVec4 clear = ui::theme::ToVec4(ui::theme::kClearColor);
    glClearColor(clear.x, clear.y, clear.z, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    // Time to build and submit the frame (not the wait for input or vsync).
    if (opt.frame_stats) frame_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - frame_begin).count());

    if (screenshot_mode) {
      const double now = glfwGetTime();
      const bool online = ctx.status.state == net::ConnectionState::kOnline && ctx.snapshot->loaded;
      switch (shot.phase) {
        case ScreenshotPlan::Phase::kWaitOnline:
          if (online || now - shot.phase_started > opt.online_timeout_s) {
            if (!online) std::fprintf(stderr, "exam-console: not online after %.0f s; capturing anyway\n", opt.online_timeout_s);
            shot.phase = ScreenshotPlan::Phase::kDelay;
            shot.phase_started = now;
          }
          break;
        case ScreenshotPlan::Phase::kDelay:
          if (now - shot.phase_started >= opt.delay_s) {
            shot.phase = ScreenshotPlan::Phase::kCount;
            shot.frames_left = opt.frames;
          }
          break;
        case ScreenshotPlan::Phase::kCount:
          if (--shot.frames_left <= 0) {
            if (render::WriteFramebufferPng(opt.screenshot, fb_w, fb_h, &error)) {
              std::fprintf(stderr, "exam-console: wrote %s (%dx%d, %s)\n", opt.screenshot.c_str(), fb_w, fb_h,
                           std::string(net::ConnectionStateName(ctx.status.state)).c_str());
            } else {
              std::fprintf(stderr, "exam-console: screenshot failed: %s\n", error.c_str());
              exit_code = 1;
            }
            shot.phase = ScreenshotPlan::Phase::kDone;
          }
          break;
        case ScreenshotPlan::Phase::kDone:
          break;
      }
    }
    glfwSwapBuffers(window);
    if (ctx.quit_requested || shot.phase == ScreenshotPlan::Phase::kDone) break;
  }

  // The network threads first: they post to GLFW and talk to the embedded backend.
  panels.StopAll();
  uploads.Stop();
  actions.Close();
  client.Stop();
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  embedded.reset();
  if (opt.frame_stats && !frame_ms.empty()) {
    // Skip the first frames: font atlas and first loads are not the steady state.
    std::vector<double> steady(frame_ms.begin() + static_cast<long>(std::min<size_t>(frame_ms.size() / 10, 30)), frame_ms.end());
    std::sort(steady.begin(), steady.end());
    auto pct = [&](double p) { return steady[std::min(steady.size() - 1, static_cast<size_t>(p * static_cast<double>(steady.size())))]; };
    std::fprintf(stderr, "exam-console: frame time over %zu frames (%s): p50 %.2f ms  p99 %.2f ms  max %.2f ms\n",
                 steady.size(), opt.workspace.c_str(), pct(0.5), pct(0.99), steady.back());
  }
  return exit_code;
}

}  // namespace exam::app
