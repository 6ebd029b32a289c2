#include "ui/login_panel.h"

#include <cstring>

#include "ui/theme.h"
#include "ui/widgets.h"

namespace exam::ui {

LoginPanel::LoginPanel(std::string username) : Panel("login", str::kLoginTitle) {
  std::strncpy(username_.data(), username.c_str(), username_.size() - 1);
}

bool LoginPanel::Visible(const UiContext& ctx) const {
  if (!ctx.offline_review.empty()) return false;  // offline review needs no sign-in
  return ctx.login_requested || ctx.status.state == net::ConnectionState::kSignedOut ||
         ctx.status.state == net::ConnectionState::kAuthFailed;
}

void LoginPanel::Place(const UiContext& ctx) {
  const ImVec2 center(ctx.work_pos.x + ctx.work_size.x * 0.5f, ctx.work_pos.y + ctx.work_size.y * 0.42f);
  ImGui::SetNextWindowPos(center, ImGuiCond_Always, ImVec2(0.5f, 0.5f));
  ImGui::SetNextWindowSize(ImVec2(420.0f, 0.0f), ImGuiCond_Always);
  ImGui::SetNextWindowFocus();
}

ImGuiWindowFlags LoginPanel::Flags() const {
  return ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoMove |
         ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_AlwaysAutoResize;
}

void LoginPanel::Submit(UiContext& ctx) {
  if (username_[0] == '\0') return;
  ctx.client->SignIn(username_.data(), password_.data());
  std::memset(password_.data(), 0, password_.size());
  ctx.login_requested = false;
  focus_pending_ = true;
}

void LoginPanel::DrawContent(UiContext& ctx) {
  const net::ConnectionStatus& st = ctx.status;
  TextColored(theme::kMuted, Tr(str::kLoginPrompt));
  ImGui::Spacing();

  const float label_w = 90.0f;
  ImGui::AlignTextToFramePadding();
  TextUnformatted(Tr(str::kServer));
  ImGui::SameLine(label_w);
  TextColored(theme::kMuted, st.address);

  const bool busy = st.state == net::ConnectionState::kConnecting || st.state == net::ConnectionState::kLoggingIn ||
                    st.state == net::ConnectionState::kLoading;
  bool submit = false;
  ImGui::AlignTextToFramePadding();
  TextUnformatted(Tr(str::kUsername));
  ImGui::SameLine(label_w);
  ImGui::SetNextItemWidth(-1);
  if (focus_pending_ && username_[0] == '\0') ImGui::SetKeyboardFocusHere();
  submit |= ImGui::InputText("##username", username_.data(), username_.size(), ImGuiInputTextFlags_EnterReturnsTrue);

  ImGui::AlignTextToFramePadding();
  TextUnformatted(Tr(str::kPassword));
  ImGui::SameLine(label_w);
  ImGui::SetNextItemWidth(-1);
  if (focus_pending_ && username_[0] != '\0') ImGui::SetKeyboardFocusHere();
  submit |= ImGui::InputText("##password", password_.data(), password_.size(),
                             ImGuiInputTextFlags_Password | ImGuiInputTextFlags_EnterReturnsTrue);
  focus_pending_ = false;

  if (st.state == net::ConnectionState::kAuthFailed && !st.message.empty()) {
    ImGui::Spacing();
    ImGui::PushStyleColor(ImGuiCol_Text, theme::kDanger);
    ImGui::PushTextWrapPos(0.0f);
    TextUnformatted(st.message);
    ImGui::PopTextWrapPos();
    ImGui::PopStyleColor();
  }

  ImGui::Spacing();
  ImGui::Separator();
  ImGui::Spacing();
  if (busy && !ctx.login_requested) {
    TextColored(theme::kAccent, Tr(str::kSigningIn));
  } else {
    const float w = 120.0f;
    ImGui::SetCursorPosX(ImGui::GetWindowContentRegionMax().x - w);
    submit |= ImGui::Button(Label(str::kSignIn, "sign_in").c_str(), ImVec2(w, 0));
    if (submit) Submit(ctx);
  }
}

}  // namespace exam::ui
