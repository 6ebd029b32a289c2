#pragma once
// Every panel of the console, created in one place, with the main menu and the layout.
#include <memory>
#include <string>
#include <vector>

#include "ui/panel.h"

namespace exam::ui {

// Whether `id` names a workspace: overview, uploads, appeals, help.
bool IsWorkspace(const std::string& id);

class PanelRegistry {
 public:
  // `username` prefills the login form.
  explicit PanelRegistry(std::string username);

  // Draws the menu bar, lays out the work area and draws every panel.
  void DrawFrame(UiContext& ctx);

  Panel* Find(const std::string& id) const;
  // File ▸ Local data… (also Ctrl+Shift+Delete, and --open-local-data for screenshots).
  void OpenLocalData();
  // Stops every panel's background work (before GLFW is shut down).
  void StopAll();

 private:
  void DrawMainMenu(UiContext& ctx);
  void Layout(UiContext& ctx, float menu_height) const;

  std::vector<std::unique_ptr<Panel>> panels_;
};

}  // namespace exam::ui
