#include "ui/panel_registry.h"

#include <GLFW/glfw3.h>  // key codes: ImGui 1.86 indexes keys by the backend's codes

#include <algorithm>

#include "ui/event_log_panel.h"
#include "ui/login_panel.h"
#include "ui/overview_panel.h"
#include "ui/appeals_panel.h"
#include "ui/help_desk_panel.h"
#include "ui/live_wall_panel.h"
#include "ui/local_data_dialog.h"
#include "ui/review_panel.h"
#include "ui/notice_overlay.h"
#include "ui/status_bar.h"
#include "ui/uploads_panel.h"

namespace exam::ui {

namespace {

struct Workspace {
  const char* id;
  Text title;
  int key;  // GLFW key code
  const char* key_name;
};

const Workspace kWorkspaces[] = {
    {"overview", str::kOverview, GLFW_KEY_F1, "F1"},
    {"uploads", str::kUploads, GLFW_KEY_F2, "F2"},
    {"appeals", str::kAppealsWorkspace, GLFW_KEY_F3, "F3"},
    {"help", str::kHelpDeskWorkspace, GLFW_KEY_F4, "F4"},
    {"live", str::kLiveWorkspace, GLFW_KEY_F5, "F5"},
    {"review", str::kReviewWorkspace, GLFW_KEY_F6, "F6"},
};

}  // namespace

bool IsWorkspace(const std::string& id) {
  // The live wall with its focus view open on the candidate most in need of attention
  // (screenshots, a proctor's bookmark); the wall turns it into "live" at its first frame.
  if (id == "live:focus") return true;
  for (const auto& w : kWorkspaces)
    if (id == w.id) return true;
  return false;
}

PanelRegistry::PanelRegistry(std::string username) {
  // Drawing order: background panels first, the login form last so it sits on top.
  panels_.push_back(std::make_unique<OverviewPanel>());
  panels_.push_back(std::make_unique<UploadsPanel>());
  panels_.push_back(std::make_unique<AppealsPanel>());
  panels_.push_back(std::make_unique<HelpDeskPanel>());
  panels_.push_back(std::make_unique<LiveWallPanel>());
  panels_.push_back(std::make_unique<ReviewPanel>());
  panels_.push_back(std::make_unique<EventLogPanel>());
  panels_.push_back(std::make_unique<StatusBar>());
  panels_.push_back(std::make_unique<NoticeOverlay>());
  panels_.push_back(std::make_unique<LocalDataDialog>());
  panels_.push_back(std::make_unique<LoginPanel>(std::move(username)));
}

Panel* PanelRegistry::Find(const std::string& id) const {
  for (const auto& p : panels_) {
    if (p->id() == id) return p.get();
  }
  return nullptr;
}

void PanelRegistry::StopAll() {
  for (const auto& p : panels_) p->Stop();
}

void PanelRegistry::DrawMainMenu(UiContext& ctx) {
  if (!ImGui::BeginMainMenuBar()) return;
  if (ImGui::BeginMenu(Label(str::kMenuFile, "menu_file").c_str())) {
    if (ImGui::MenuItem(Tr(str::kLocalDataMenu), "Ctrl+Shift+Del")) OpenLocalData();
    ImGui::Separator();
    if (ImGui::MenuItem(Tr(str::kQuit), "Ctrl+Q")) ctx.quit_requested = true;
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu(Label(str::kMenuView, "menu_view").c_str())) {
    // Workspaces fill the work area one at a time.
    for (const auto& w : kWorkspaces)
      if (ImGui::MenuItem(Tr(w.title), w.key_name, ctx.workspace == w.id)) ctx.workspace = w.id;
    ImGui::Separator();
    for (const auto& p : panels_) {
      if (p->InViewMenu()) ImGui::MenuItem(Tr(p->title()), nullptr, p->open_ptr());
    }
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu(Label(str::kMenuConnection, "menu_connection").c_str())) {
    if (ImGui::MenuItem(Tr(str::kReconnectNow))) ctx.client->DropStream();
    if (ImGui::MenuItem(Tr(str::kSignInAgain))) ctx.login_requested = true;
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu(Label(str::kMenuLanguage, "menu_language").c_str())) {
    if (ImGui::MenuItem(str::kLangZh.zh, nullptr, CurrentLang() == Lang::kZh)) SetLang(Lang::kZh);
    if (ImGui::MenuItem(str::kLangEn.en, nullptr, CurrentLang() == Lang::kEn)) SetLang(Lang::kEn);
    ImGui::EndMenu();
  }
  ImGui::EndMainMenuBar();
}

void PanelRegistry::Layout(UiContext& ctx, float menu_height) const {
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  const float top = vp->Pos.y + menu_height;
  const float height = std::max(0.0f, vp->Size.y - menu_height - StatusBar::Height());
  float log_height = 0.0f;
  if (const Panel* log = Find("event_log"); log != nullptr && log->open()) {
    log_height = std::clamp(height * 0.26f, std::min(160.0f, height * 0.4f), 320.0f);
  }
  ctx.work_pos = ImVec2(vp->Pos.x, top);
  ctx.work_size = ImVec2(vp->Size.x, height - log_height);
  ctx.bottom_pos = ImVec2(vp->Pos.x, top + height - log_height);
  ctx.bottom_size = ImVec2(vp->Size.x, log_height);
}

void PanelRegistry::OpenLocalData() {
  if (Panel* dialog = Find("local_data")) dialog->set_open(true);
}

void PanelRegistry::DrawFrame(UiContext& ctx) {
  for (const auto& w : kWorkspaces)
    if (ImGui::IsKeyPressed(w.key, false)) ctx.workspace = w.id;
  const ImGuiIO& io = ImGui::GetIO();
  if (io.KeyCtrl && io.KeyShift && ImGui::IsKeyPressed(GLFW_KEY_DELETE, false)) OpenLocalData();
  DrawMainMenu(ctx);
  Layout(ctx, ImGui::GetFrameHeight());
  for (const auto& p : panels_) p->Draw(ctx);
}

}  // namespace exam::ui
