#pragma once
// Notices that must not be missed, over whatever workspace is open: one card each with
// what happened, to whom and how long ago, "Open" (goes to the workspace that handles it)
// and "Dismiss". Help cards stay until someone claims the request.
#include "ui/panel.h"

namespace exam::ui {

class NoticeOverlay : public Panel {
 public:
  NoticeOverlay() : Panel("notices", str::kNoticeHelp) {}
  bool InViewMenu() const override { return false; }

 protected:
  void DrawContent(UiContext& ctx) override;
  bool Visible(const UiContext& ctx) const override;
  void Place(const UiContext& ctx) override;
  ImGuiWindowFlags Flags() const override;
  bool Closable() const override { return false; }

 private:
  bool expanded_ = false;  // the user opened the list from the collapsed line
};

}  // namespace exam::ui
