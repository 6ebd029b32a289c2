#include "ui/status_bar.h"

#include <cstdio>
#include <string>

#include "ui/theme.h"
#include "ui/widgets.h"

namespace exam::ui {

const char* StateName(net::ConnectionState state) {
  switch (state) {
    case net::ConnectionState::kSignedOut: return Tr(str::kStateSignedOut);
    case net::ConnectionState::kConnecting: return Tr(str::kStateConnecting);
    case net::ConnectionState::kLoggingIn: return Tr(str::kStateLoggingIn);
    case net::ConnectionState::kLoading: return Tr(str::kStateLoading);
    case net::ConnectionState::kOnline: return Tr(str::kStateOnline);
    case net::ConnectionState::kReconnecting: return Tr(str::kStateReconnecting);
    case net::ConnectionState::kAuthFailed: return Tr(str::kStateAuthFailed);
    case net::ConnectionState::kStopped: return Tr(str::kStateStopped);
  }
  return "?";
}

float StatusBar::Height() { return ImGui::GetFrameHeight() + 8.0f; }

void StatusBar::Place(const UiContext&) {
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  ImGui::SetNextWindowPos(ImVec2(vp->Pos.x, vp->Pos.y + vp->Size.y - Height()));
  ImGui::SetNextWindowSize(ImVec2(vp->Size.x, Height()));
}

ImGuiWindowFlags StatusBar::Flags() const {
  return ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize |
         ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus | ImGuiWindowFlags_NoNav |
         ImGuiWindowFlags_NoFocusOnAppearing | ImGuiWindowFlags_NoScrollWithMouse;
}

void StatusBar::PushStyle() {
  ImGui::PushStyleVar(ImGuiStyleVar_WindowRounding, 0.0f);
  ImGui::PushStyleVar(ImGuiStyleVar_WindowBorderSize, 0.0f);
  ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(12.0f, 4.0f));
  ImGui::PushStyleColor(ImGuiCol_WindowBg, theme::kStatusBarBg);
}

void StatusBar::PopStyle() {
  ImGui::PopStyleColor();
  ImGui::PopStyleVar(3);
}

void StatusBar::DrawContent(UiContext& ctx) {
  const net::ConnectionStatus& st = ctx.status;
  ImGui::SetCursorPosY((Height() - ImGui::GetTextLineHeight()) * 0.5f);
  const ImU32 state_color = theme::StateColor(st.state);
  StatusDot(state_color, ImGui::GetTextLineHeight() * 0.32f);
  ImGui::SameLine(0, 6);
  TextColored(state_color, StateName(st.state));
  if (st.state != net::ConnectionState::kOnline && !st.message.empty()) {
    ImGui::SameLine(0, 8);
    TextColored(theme::kMuted, st.message);
  }

  if (!st.display_name.empty()) {
    VerticalRule();
    TextUnformatted(st.display_name);
    std::string roles;
    for (auto role : st.roles) {
      if (!roles.empty()) roles += " / ";
      roles += RoleName(role);
    }
    if (!roles.empty()) {
      ImGui::SameLine(0, 6);
      TextColored(theme::kMuted, roles);
    }
  }

  char buf[96];
  VerticalRule();
  TextColored(theme::kMuted, Tr(str::kBackendClock));
  ImGui::SameLine(0, 6);
  TextUnformatted(FormatClock(st.clock_known ? ctx.backend_now_ms : 0));
  if (st.clock_known && st.time_scale != 1.0) {
    ImGui::SameLine(0, 4);
    std::snprintf(buf, sizeof buf, "×%g", st.time_scale);
    TextColored(theme::kWarning, buf);
  }

  VerticalRule();
  std::snprintf(buf, sizeof buf, "%s %lld", Tr(str::kLastSeq), static_cast<long long>(st.last_seq));
  TextUnformatted(buf);

  VerticalRule();
  if (st.event_lag_ms >= 0) {
    std::snprintf(buf, sizeof buf, "%s %.0f ms", Tr(str::kLag), st.event_lag_ms);
  } else {
    std::snprintf(buf, sizeof buf, "%s — ms", Tr(str::kLag));
  }
  TextColored(st.event_lag_ms > 1000 ? theme::kWarning : theme::kText, buf);

  VerticalRule();
  std::snprintf(buf, sizeof buf, "%s %d", Tr(str::kReconnects), st.reconnects);
  TextColored(st.reconnects > 0 ? theme::kWarning : theme::kText, buf);

  VerticalRule();
  std::snprintf(buf, sizeof buf, "%s %llu", Tr(str::kEvents), static_cast<unsigned long long>(st.events_received));
  TextUnformatted(buf);

  // The backend address, right-aligned.
  const float w = ImGui::CalcTextSize(st.address.c_str()).x;
  const float right = ImGui::GetWindowContentRegionMax().x;
  ImGui::SameLine();
  if (ImGui::GetCursorPosX() + w + 20 < right) {
    ImGui::SetCursorPosX(right - w);
    TextColored(theme::kMuted, st.address);
  }
}

}  // namespace exam::ui
