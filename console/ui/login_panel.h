#pragma once
// Sign-in form: shown when the console has no credentials, when the backend refused them,
// or when the user asks to sign in as someone else.
#include <array>
#include <string>

#include "ui/panel.h"

namespace exam::ui {

class LoginPanel : public Panel {
 public:
  explicit LoginPanel(std::string username = {});
  bool InViewMenu() const override { return false; }

 protected:
  void DrawContent(UiContext& ctx) override;
  bool Visible(const UiContext& ctx) const override;
  void Place(const UiContext& ctx) override;
  ImGuiWindowFlags Flags() const override;
  bool Closable() const override { return false; }

 private:
  void Submit(UiContext& ctx);

  std::array<char, 128> username_{};
  std::array<char, 128> password_{};
  bool focus_pending_ = true;
};

}  // namespace exam::ui
