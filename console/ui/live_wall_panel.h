#pragma once
// The live wall of proctors.
#include <imgui.h>

#include "ui/panel.h"

namespace exam::ui {

class LiveWallPanel : public Panel {
 public:
  LiveWallPanel() : Panel("live", str::kLiveWorkspace) {}
  bool InViewMenu() const override { return false; }

 protected:
  void DrawContent(UiContext& ctx) override;
  void Place(const UiContext& ctx) override;
  bool Visible(const UiContext& ctx) const override { return ctx.workspace == "live"; }
  ImGuiWindowFlags Flags() const override;
  bool Closable() const override { return false; }
};

}  // namespace exam::ui
