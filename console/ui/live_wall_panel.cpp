#include "ui/live_wall_panel.h"

#include "ui/widgets.h"

namespace exam::ui {

void LiveWallPanel::Place(const UiContext& ctx) {
  ImGui::SetNextWindowPos(ctx.work_pos);
  ImGui::SetNextWindowSize(ctx.work_size);
}

ImGuiWindowFlags LiveWallPanel::Flags() const {
  return ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
         ImGuiWindowFlags_NoBringToFrontOnFocus | ImGuiWindowFlags_NoTitleBar;
}

void LiveWallPanel::DrawContent(UiContext& ctx) { TextUnformatted(Tr(title())); }

}  // namespace exam::ui
