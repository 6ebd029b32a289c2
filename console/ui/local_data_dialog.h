#pragma once
// File ▸ Local data… (Ctrl+Shift+Delete): what personal data this computer keeps for the
// console — the signed-in staff member's actions and the recording cache — with where and
// how much, and a wipe. Undelivered actions are kept unless the user ticks discarding
// them, so a wipe never loses a decision by accident.
#include "ui/panel.h"

namespace exam::ui {

class LocalDataDialog : public Panel {
 public:
  LocalDataDialog() : Panel("local_data", str::kLocalDataTitle) { set_open(false); }
  bool InViewMenu() const override { return false; }

 protected:
  void Place(const UiContext& ctx) override;
  ImGuiWindowFlags Flags() const override;
  void DrawContent(UiContext& ctx) override;
  void Hidden(UiContext& ctx) override;

 private:
  bool surveyed_ = false;  // asked for figures since the dialog opened
  bool confirming_ = false;
  bool discard_undelivered_ = false;
};

}  // namespace exam::ui
