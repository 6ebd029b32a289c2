#pragma once
// The help workspace of support staff.
#include <imgui.h>

#include "ui/panel.h"

namespace exam::ui {

class HelpDeskPanel : public Panel {
 public:
  HelpDeskPanel() : Panel("help", str::kHelpDeskWorkspace) {}
  bool InViewMenu() const override { return false; }

 protected:
  void DrawContent(UiContext& ctx) override;
  void Place(const UiContext& ctx) override;
  bool Visible(const UiContext& ctx) const override { return ctx.workspace == "help"; }
  ImGuiWindowFlags Flags() const override;
  bool Closable() const override { return false; }
};

}  // namespace exam::ui
