#pragma once
// The strip at the bottom of the window: connection state, who is signed in, the backend
// clock and how fresh the change feed is.
#include "ui/panel.h"

namespace exam::ui {

class StatusBar : public Panel {
 public:
  StatusBar() : Panel("status_bar", str::kAppTitle) {}
  bool InViewMenu() const override { return false; }
  static float Height();

 protected:
  void DrawContent(UiContext& ctx) override;
  void Place(const UiContext& ctx) override;
  ImGuiWindowFlags Flags() const override;
  bool Closable() const override { return false; }
  void PushStyle() override;
  void PopStyle() override;
};

const char* StateName(net::ConnectionState state);

}  // namespace exam::ui
