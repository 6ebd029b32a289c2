#include "ui/help_desk_panel.h"

#include "ui/widgets.h"

namespace exam::ui {

void HelpDeskPanel::Place(const UiContext& ctx) {
  ImGui::SetNextWindowPos(ctx.work_pos);
  ImGui::SetNextWindowSize(ctx.work_size);
}

ImGuiWindowFlags HelpDeskPanel::Flags() const {
  return ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
         ImGuiWindowFlags_NoBringToFrontOnFocus | ImGuiWindowFlags_NoTitleBar;
}

void HelpDeskPanel::DrawContent(UiContext& ctx) { TextUnformatted(Tr(title())); }

}  // namespace exam::ui
