#include "ui/panel.h"

namespace exam::ui {

void Panel::Draw(UiContext& ctx) {
  if (!Visible(ctx)) {
    Hidden(ctx);
    return;
  }
  Place(ctx);
  PushStyle();
  const std::string label = Label(title_, id_.c_str());
  // Begin() may return false (collapsed, clipped), End() is still owed.
  if (ImGui::Begin(label.c_str(), Closable() ? &open_ : nullptr, Flags())) DrawContent(ctx);
  ImGui::End();
  PopStyle();
}

}  // namespace exam::ui
