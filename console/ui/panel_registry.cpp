#include "ui/panel_registry.h"

#include <GLFW/glfw3.h>  // key codes: ImGui 1.86 indexes keys by the backend's codes

#include <algorithm>

#include "ui/event_log_panel.h"
#include "ui/login_panel.h"
#include "ui/overview_panel.h"
#include "ui/status_bar.h"
#include "ui/uploads_panel.h"

namespace exam::ui {

PanelRegistry::PanelRegistry(std::string username) {
  // Drawing order: background panels first, the login form last so it sits on top.
  panels_.push_back(std::make_unique<OverviewPanel>());
  panels_.push_back(std::make_unique<UploadsPanel>());
  panels_.push_back(std::make_unique<EventLogPanel>());
  panels_.push_back(std::make_unique<StatusBar>());
  panels_.push_back(std::make_unique<LoginPanel>(std::move(username)));
}

Panel* PanelRegistry::Find(const std::string& id) const {
  for (const auto& p : panels_) {
    if (p->id() == id) return p.get();
  }
  return nullptr;
}

void PanelRegistry::DrawMainMenu(UiContext& ctx) {
  if (!ImGui::BeginMainMenuBar()) return;
  if (ImGui::BeginMenu(Label(str::kMenuFile, "menu_file").c_str())) {
    if (ImGui::MenuItem(Tr(str::kQuit), "Ctrl+Q")) ctx.quit_requested = true;
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu(Label(str::kMenuView, "menu_view").c_str())) {
    // Workspaces fill the work area one at a time.
    if (ImGui::MenuItem(Tr(str::kOverview), "F1", ctx.workspace == "overview")) ctx.workspace = "overview";
    if (ImGui::MenuItem(Tr(str::kUploads), "F2", ctx.workspace == "uploads")) ctx.workspace = "uploads";
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

void PanelRegistry::DrawFrame(UiContext& ctx) {
  if (ImGui::IsKeyPressed(GLFW_KEY_F1, false)) ctx.workspace = "overview";
  if (ImGui::IsKeyPressed(GLFW_KEY_F2, false)) ctx.workspace = "uploads";
  DrawMainMenu(ctx);
  Layout(ctx, ImGui::GetFrameHeight());
  for (const auto& p : panels_) p->Draw(ctx);
}

}  // namespace exam::ui
