#include "app/console_app.h"

#include <GLFW/glfw3.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>
#include <imgui_internal.h>  // ErrorCheckEndFrameRecover

#include <algorithm>
#include <atomic>
#include <chrono>
#include <vector>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <sys/resource.h>
#include <unistd.h>

#include "app/action_outbox.h"
#include "app/embedded_backend.h"
#include "app/fonts.h"
#include "net/backend_client.h"
#include "net/notice_tracker.h"
#ifdef EXAM_CONSOLE_HAS_AUDIO
#include "media/chime.h"
#endif
#include "media/live_decoder_pool.h"
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

using Steady = std::chrono::steady_clock;

int64_t SteadyNs() { return std::chrono::duration_cast<std::chrono::nanoseconds>(Steady::now().time_since_epoch()).count(); }

// Why the UI should draw again, set from other threads. A flag that is already up does not
// post again, so a burst (800 pictures a second on a full wall, thousands of events) costs
// one wake-up per frame, not one per picture or event.
struct WakeReasons {
  // The backend client changed something (event, status): when the first change since the
  // last frame arrived (steady ns, 0: none), for the event-to-screen figure.
  std::atomic<int64_t> change_since_ns{0};
  // A decoder published a picture meant for the screen.
  std::atomic<bool> video{false};
  // Wake-ups posted from here. Other parts of the console post bare ones (feeds of the
  // appeals and help desk panels, the outbox): a wake-up while this count stood still was
  // theirs, and counts as a change.
  std::atomic<uint64_t> posts{0};

  void Change() {
    int64_t none = 0;
    change_since_ns.compare_exchange_strong(none, SteadyNs());
    if (none == 0) Post();
  }
  void Video() {
    if (!video.exchange(true)) Post();
  }
  void Post() {
    posts.fetch_add(1);
    glfwPostEmptyEvent();
  }
};

// What the UI shows of the client's state: a change that leaves this alone (a heartbeat
// re-anchoring the clock, say) waits for the next one-second tick instead of a frame now.
struct ShownState {
  uint64_t snapshot_version = 0;
  uint64_t uploads_version = 0;
  net::ConnectionState state = net::ConnectionState::kSignedOut;
  std::string message;
  std::string display_name;
  int64_t last_seq = 0;
  uint64_t events_received = 0;
  int reconnects = 0;
  size_t roles = 0;
  bool clock_known = false;

  static ShownState Of(const net::DirectorySnapshot& snap, const net::ConnectionStatus& st, uint64_t uploads_version) {
    ShownState s;
    s.snapshot_version = snap.version;
    s.uploads_version = uploads_version;
    s.state = st.state;
    s.message = st.message;
    s.display_name = st.display_name;
    s.last_seq = st.last_seq;
    s.events_received = st.events_received;
    s.reconnects = st.reconnects;
    s.roles = st.roles.size();
    s.clock_known = st.clock_known;
    return s;
  }
  bool operator==(const ShownState& o) const {
    return snapshot_version == o.snapshot_version && uploads_version == o.uploads_version && state == o.state &&
           message == o.message && display_name == o.display_name && last_seq == o.last_seq &&
           events_received == o.events_received && reconnects == o.reconnects && roles == o.roles &&
           clock_known == o.clock_known;
  }
};

// Percentiles of a sample, sorted in place.
struct Percentiles {
  double p50 = 0, p99 = 0, max = 0;
  size_t n = 0;
};
Percentiles Summarize(std::vector<double>& v) {
  Percentiles p;
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))]; };
  p.p50 = at(0.5);
  p.p99 = at(0.99);
  p.max = v.back();
  p.n = v.size();
  return p;
}

// CPU time of the whole process (every thread: decoders, gRPC, the GL rasterizer's).
double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// A field of /proc/self/status in MB (VmRSS, VmHWM); 0 when unknown.
double StatusMb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string key = std::string(field) + ":";
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return std::strtod(line.c_str() + key.size(), nullptr) / 1024.0;
  return 0;
}

// What --frame-stats collects for one workspace phase of a run.
struct PhaseStats {
  std::vector<double> build_ms;  // NewFrame .. RenderDrawData (UI thread CPU)
  std::vector<double> frame_ms;  // NewFrame .. glFinish (with the GL rasterizer's work)
  std::vector<double> event_ms;  // first change arriving in the client .. its frame on screen
  double started = 0, ended = 0;  // glfwGetTime
  double cpu_at_start = 0, cpu_at_end = 0;
  double rss_end_mb = 0, rss_peak_mb = 0;
  media::DecodeTotals decode_at_start;
  media::DecodeTotals decode_at_end;

  void Begin(double now) {
    started = now;
    cpu_at_start = ProcessCpuSeconds();
    decode_at_start = media::LiveDecoderPool::ProcessTotals();
  }
  void End(double now) {
    ended = now;
    cpu_at_end = ProcessCpuSeconds();
    decode_at_end = media::LiveDecoderPool::ProcessTotals();
    rss_end_mb = StatusMb("VmRSS");
    rss_peak_mb = StatusMb("VmHWM");
  }
};

void PrintPhase(const std::string& workspace, PhaseStats& p) {
  // Skip the first frames: font atlas and first loads are not the steady state.
  const size_t skip = std::min<size_t>(p.build_ms.size() / 10, 30);
  std::vector<double> build(p.build_ms.begin() + static_cast<long>(skip), p.build_ms.end());
  std::vector<double> frame(p.frame_ms.begin() + static_cast<long>(skip), p.frame_ms.end());
  const Percentiles b = Summarize(build), f = Summarize(frame), e = Summarize(p.event_ms);
  size_t over_16 = 0, over_33 = 0;
  for (double ms : frame) {
    over_16 += ms > 1000.0 / 60 ? 1 : 0;
    over_33 += ms > 1000.0 / 30 ? 1 : 0;
  }
  const double secs = p.ended - p.started;
  const double cpu = secs > 0 ? (p.cpu_at_end - p.cpu_at_start) / secs * 100 : 0;
  const long cores = std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
  std::fprintf(stderr, "exam-console: phase %s cpu: %.1f %% of one core (%.1f %% of %ld cores), RSS %.0f MB, peak %.0f MB\n",
               workspace.c_str(), cpu, cpu / static_cast<double>(cores), cores, p.rss_end_mb, p.rss_peak_mb);
  // Kept as it was so that older scripts still find "frame time over".
  std::fprintf(stderr, "exam-console: frame time over %zu frames (%s): p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", b.n,
               workspace.c_str(), b.p50, b.p99, b.max);
  std::fprintf(stderr,
               "exam-console: phase %s: %.1f s, %zu frames (%.1f/s); frame built and drawn p50 %.2f p99 %.2f max %.2f ms, "
               "%zu over 16.7 ms, %zu over 33 ms; event to screen p50 %.2f p99 %.2f max %.2f ms over %zu\n",
               workspace.c_str(), secs, p.frame_ms.size(), secs > 0 ? static_cast<double>(p.frame_ms.size()) / secs : 0.0,
               f.p50, f.p99, f.max, over_16, over_33, e.p50, e.p99, e.max, e.n);
  const auto& a = p.decode_at_start;
  const auto& z = p.decode_at_end;
  std::fprintf(stderr,
               "exam-console: phase %s decode: received %llu, decoded %llu; visible received %llu, decoded %llu; "
               "dropped %llu, errors %llu; decoder busy %.2f s\n",
               workspace.c_str(), static_cast<unsigned long long>(z.packets_received - a.packets_received),
               static_cast<unsigned long long>(z.frames_decoded - a.frames_decoded),
               static_cast<unsigned long long>(z.visible_received - a.visible_received),
               static_cast<unsigned long long>(z.visible_decoded - a.visible_decoded),
               static_cast<unsigned long long>(z.packets_dropped - a.packets_dropped),
               static_cast<unsigned long long>(z.errors - a.errors), z.decode_seconds - a.decode_seconds);
}

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
  // Offline review (--review) opens local files: no backend, no sign-in.
  const bool offline = !opt.review.empty();
  if (offline) {
    std::fprintf(stderr, "exam-console: offline review of %zu path(s)\n", opt.review.size());
    // The client is never started; it only needs a well-formed address for its channel.
    client_options.address = "127.0.0.1:1";
  } else if (opt.backend.empty()) {
    EmbeddedBackend::Options demo;
    demo.review_seconds = opt.review_seconds;
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
  // Pacing (see Options): vsync alone is not enough, some drivers (Mesa's software
  // rasterizer under Xvfb, for one) return from SwapBuffers at once.
  double max_fps = opt.max_fps;
  if (max_fps <= 0) {
    const GLFWvidmode* mode = glfwGetPrimaryMonitor() ? glfwGetVideoMode(glfwGetPrimaryMonitor()) : nullptr;
    max_fps = mode != nullptr && mode->refreshRate >= 30 ? mode->refreshRate : 60;
  }
  const double min_frame_s = 1.0 / max_fps;
  const double min_video_frame_s = std::max(min_frame_s, 1.0 / opt.video_fps);
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
  WakeReasons wake;
  client_options.on_change = [&wake] { wake.Change(); };
  net::BackendClient client(client_options);
  if (!offline) client.Start();
  ui::PanelRegistry panels(client_options.username.empty() ? opt.user : client_options.username);
  ui::UiContext ctx;
  ctx.client = &client;
  ctx.workspace = offline ? "review" : opt.workspace;
  ctx.offline_review = opt.review;
  if (opt.open_local_data) panels.OpenLocalData();

  // --- the outbox of staff actions and the feeds that poll on their own threads ---
  // The demo's store is temporary like its database; a real backend's store persists, so
  // actions not yet delivered are sent at the next start.
  local::LocalData local_data(local::MediaBlockStore::DefaultFolder(), [&wake] { wake.Change(); });
  ctx.local_data = &local_data;
  ActionOutbox actions(client, opt.store, opt.store.empty() && embedded != nullptr, &local_data);
  net::UploadMonitor::Options monitor_options;
  monitor_options.on_change = [&wake] { wake.Change(); };
  net::UploadMonitor uploads(client, monitor_options);
  ctx.uploads = &uploads;
  net::NoticeTracker notices;
  ctx.notices = &notices;
  ctx.want_glyphs = [&fonts](std::string_view text) { fonts.Want(text); };
  ctx.video_frame_ready = [&wake] { wake.Video(); };
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
  // --frame-stats: one entry per workspace phase, in order.
  std::vector<std::pair<std::string, PhaseStats>> phases;
  auto phase = [&]() -> PhaseStats& {
    if (phases.empty() || phases.back().first != ctx.workspace) {
      const double now = glfwGetTime();
      if (!phases.empty()) phases.back().second.End(now);
      phases.emplace_back(ctx.workspace, PhaseStats{});
      phases.back().second.Begin(now);
    }
    return phases.back().second;
  };
  bool recording = false;  // --frame-stats: online and past --stats-after
  double online_at = -1;  // glfwGetTime when first online (benchmark schedule)
  bool switched = false;
  double last_frame_at = -1.0;
  ShownState shown;  // as of the last frame
  uint64_t posts_seen = 0;  // WakeReasons::posts when GLFW last took its events

  while (!glfwWindowShouldClose(window)) {
    // --- wait for something to do ---
    // Input and backend changes draw at the next frame slot (max_fps), new video pictures
    // alone at video_fps, and a tick keeps countdowns moving; in between the thread sleeps.
    // (ctx still holds the last frame's status and backend time here.)
    bool poked = false;  // woken by someone else's post (see WakeReasons::posts)
    for (;;) {
      const double now = glfwGetTime();
      const bool iconified = glfwGetWindowAttrib(window, GLFW_ICONIFIED) != 0;
      const bool video = wake.video.load();
      bool change = wake.change_since_ns.load() != 0;
      if (change && !screenshot_mode && ctx.snapshot) {
        // Reading resets the client's notice, so a later change wakes the loop again.
        const auto snap = client.Snapshot();
        const auto view = uploads.View();
        if (ShownState::Of(*snap, client.Status(), view ? view->version : 0) == shown) {
          wake.change_since_ns.store(0);
          change = false;
        }
      }
      double due = last_frame_at + (iconified ? 1.0 : (screenshot_mode ? 0.05 : 0.25));
      // Online, what moves by itself is countdowns and ages in whole seconds: one frame
      // just after each second of the backend's clock (an idle console costs ~0 CPU).
      // Waiting for the backend, 4 Hz turns the spinner.
      if (!iconified && !screenshot_mode && ctx.status.state == net::ConnectionState::kOnline &&
          ctx.backend_now_ms > 0)
        due = last_frame_at + static_cast<double>(1000 - ctx.backend_now_ms % 1000) / 1000.0 /
                                  std::max(1.0, ctx.status.time_scale) + 0.002;
      if (now - g_last_input < 0.5 || change || poked) due = std::min(due, last_frame_at + min_frame_s);
      if (video && !iconified) due = std::min(due, last_frame_at + min_video_frame_s);
      if (screenshot_mode && shot.phase == ScreenshotPlan::Phase::kCount) due = now;
      if (due <= now) {
        posts_seen = wake.posts.load();
        glfwPollEvents();
        break;
      }
      // Woken early by input or a post (glfwPostEmptyEvent), then due is worked out again.
      // Every post queued so far is taken by this wait.
      glfwWaitEventsTimeout(due - now);
      if (glfwWindowShouldClose(window)) break;
      const uint64_t posts = wake.posts.load();
      if (glfwGetTime() < due - 0.001 && posts == posts_seen && glfwGetTime() - g_last_input >= 0.5) poked = true;
      posts_seen = posts;
    }
    last_frame_at = glfwGetTime();
    // Taken before reading: a picture or change arriving from here on wakes the next frame.
    wake.video.store(false);
    const int64_t change_since_ns = wake.change_since_ns.exchange(0);

    // --- read the network side once per frame ---
    ctx.snapshot = client.Snapshot();
    ctx.status = client.Status();
    {
      const auto view = uploads.View();
      shown = ShownState::Of(*ctx.snapshot, ctx.status, view ? view->version : 0);
    }
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
    ctx.outbox_version = actions.version() + local_data.wipes();
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
    const auto frame_begin = Steady::now();
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
    // The panel colour: a workspace that draws no window background of its own (the live
    // wall) then looks like every other one.
    const ImVec4 clear = ui::theme::ToVec4(ui::theme::kPanelBg);
    glClearColor(clear.x, clear.y, clear.z, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    // Time to build and submit the frame (not the wait for input or vsync).
    if (recording) phase().build_ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - frame_begin).count());

    if (screenshot_mode) {
      const double now = glfwGetTime();
      // Offline review has nothing to wait for: its delay starts at once.
      const bool online = offline || (ctx.status.state == net::ConnectionState::kOnline && ctx.snapshot->loaded);
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
    if (recording) {
      // The frame's time includes the drawing itself (glFinish: a software rasterizer does
      // it all here) but not a wait for vertical blank in SwapBuffers.
      glFinish();
      PhaseStats& p = phase();
      p.frame_ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - frame_begin).count());
    }
    glfwSwapBuffers(window);
    // On screen: the change that woke this frame has been shown.
    if (recording && change_since_ns != 0)
      phase().event_ms.push_back(static_cast<double>(SteadyNs() - change_since_ns) / 1e6);
    // Benchmark schedule, counted from the first frame online.
    if (online_at < 0 && ctx.status.state == net::ConnectionState::kOnline && ctx.snapshot->loaded) online_at = glfwGetTime();
    if (online_at >= 0) {
      const double since = glfwGetTime() - online_at;
      if (opt.frame_stats && !recording && since >= opt.stats_after_s) {
        recording = true;
        phase();
      }
      if (!switched && !opt.switch_workspace.empty() && since >= opt.switch_after_s) {
        switched = true;
        ctx.workspace = opt.switch_workspace;
      }
      if (opt.exit_after_s > 0 && since >= opt.exit_after_s) break;
    }
    if (ctx.quit_requested || shot.phase == ScreenshotPlan::Phase::kDone) break;
  }
  if (!phases.empty()) phases.back().second.End(glfwGetTime());

  // The network threads first: they post to GLFW and talk to the embedded backend.
  panels.StopAll();
  uploads.Stop();
  actions.Close();
  local_data.Join();
  client.Stop();
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  embedded.reset();
  if (opt.frame_stats)
    for (auto& [workspace, p] : phases) PrintPhase(workspace, p);
  return exit_code;
}

}  // namespace exam::app
