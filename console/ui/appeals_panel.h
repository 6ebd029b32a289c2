#pragma once
// The appeals workspace of support staff.
#include <imgui.h>

#include "ui/panel.h"

namespace exam::ui {

class AppealsPanel : public Panel {
 public:
  AppealsPanel() : Panel("appeals", str::kAppealsWorkspace) {}
  bool InViewMenu() const override { return false; }

 protected:
  void DrawContent(UiContext& ctx) override;
  void Place(const UiContext& ctx) override;
  bool Visible(const UiContext& ctx) const override { return ctx.workspace == "appeals"; }
  ImGuiWindowFlags Flags() const override;
  bool Closable() const override { return false; }
};

}  // namespace exam::ui
