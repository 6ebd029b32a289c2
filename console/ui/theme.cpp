#include "ui/theme.h"

namespace exam::ui::theme {

ImU32 StageColor(core::Stage stage) {
  switch (stage) {
    case core::Stage::kDeviceCheck: return IM_COL32(98, 114, 164, 255);
    case core::Stage::kFaceLogin: return IM_COL32(86, 148, 214, 255);
    case core::Stage::kEvidenceBinding: return IM_COL32(64, 168, 184, 255);
    case core::Stage::kDraw: return IM_COL32(122, 170, 104, 255);
    case core::Stage::kReadAttachments: return IM_COL32(178, 164, 88, 255);
    case core::Stage::kEnter: return IM_COL32(212, 146, 76, 255);
    case core::Stage::kDeviceConfirm: return IM_COL32(164, 118, 206, 255);
    case core::Stage::kAnswering: return IM_COL32(64, 186, 132, 255);
    case core::Stage::kEnded: return IM_COL32(112, 122, 136, 255);
    case core::Stage::kUnspecified: break;
  }
  return IM_COL32(70, 76, 86, 255);
}

ImU32 StateColor(net::ConnectionState state) {
  switch (state) {
    case net::ConnectionState::kOnline: return kOnline;
    case net::ConnectionState::kConnecting:
    case net::ConnectionState::kLoggingIn:
    case net::ConnectionState::kLoading: return kAccent;
    case net::ConnectionState::kReconnecting: return kWarning;
    case net::ConnectionState::kAuthFailed: return kDanger;
    case net::ConnectionState::kSignedOut:
    case net::ConnectionState::kStopped: break;
  }
  return kMuted;
}

void Apply(float scale) {
  ImGuiStyle& style = ImGui::GetStyle();
  ImGui::StyleColorsDark(&style);
  style.WindowPadding = ImVec2(12, 10);
  style.FramePadding = ImVec2(8, 4);
  style.CellPadding = ImVec2(8, 3);
  style.ItemSpacing = ImVec2(8, 6);
  style.ItemInnerSpacing = ImVec2(6, 4);
  style.ScrollbarSize = 12;
  style.GrabMinSize = 10;
  style.WindowBorderSize = 1;
  style.ChildBorderSize = 1;
  style.PopupBorderSize = 1;
  style.FrameBorderSize = 0;
  style.WindowRounding = 4;
  style.ChildRounding = 4;
  style.FrameRounding = 3;
  style.PopupRounding = 4;
  style.ScrollbarRounding = 6;
  style.GrabRounding = 3;
  style.TabRounding = 3;
  style.WindowTitleAlign = ImVec2(0.0f, 0.5f);

  ImVec4* c = style.Colors;
  c[ImGuiCol_Text] = ToVec4(kText);
  c[ImGuiCol_TextDisabled] = ToVec4(kMuted);
  c[ImGuiCol_WindowBg] = ToVec4(kPanelBg);
  c[ImGuiCol_ChildBg] = ImVec4(0, 0, 0, 0);
  c[ImGuiCol_PopupBg] = ImVec4(0.11f, 0.12f, 0.15f, 0.98f);
  c[ImGuiCol_Border] = ImVec4(0.22f, 0.25f, 0.29f, 1.00f);
  c[ImGuiCol_FrameBg] = ImVec4(0.14f, 0.16f, 0.19f, 1.00f);
  c[ImGuiCol_FrameBgHovered] = ImVec4(0.18f, 0.21f, 0.25f, 1.00f);
  c[ImGuiCol_FrameBgActive] = ImVec4(0.21f, 0.25f, 0.30f, 1.00f);
  c[ImGuiCol_TitleBg] = ImVec4(0.09f, 0.10f, 0.13f, 1.00f);
  c[ImGuiCol_TitleBgActive] = ImVec4(0.11f, 0.13f, 0.16f, 1.00f);
  c[ImGuiCol_TitleBgCollapsed] = c[ImGuiCol_TitleBg];
  c[ImGuiCol_MenuBarBg] = ImVec4(0.09f, 0.10f, 0.13f, 1.00f);
  c[ImGuiCol_ScrollbarBg] = ImVec4(0, 0, 0, 0);
  c[ImGuiCol_ScrollbarGrab] = ImVec4(0.26f, 0.29f, 0.34f, 1.00f);
  c[ImGuiCol_Header] = ImVec4(0.18f, 0.33f, 0.52f, 0.55f);
  c[ImGuiCol_HeaderHovered] = ImVec4(0.22f, 0.40f, 0.62f, 0.65f);
  c[ImGuiCol_HeaderActive] = ImVec4(0.24f, 0.45f, 0.70f, 0.80f);
  c[ImGuiCol_Button] = ImVec4(0.19f, 0.38f, 0.62f, 1.00f);
  c[ImGuiCol_ButtonHovered] = ImVec4(0.23f, 0.45f, 0.72f, 1.00f);
  c[ImGuiCol_ButtonActive] = ImVec4(0.17f, 0.33f, 0.55f, 1.00f);
  c[ImGuiCol_CheckMark] = ToVec4(kAccent);
  c[ImGuiCol_Separator] = c[ImGuiCol_Border];
  c[ImGuiCol_TableHeaderBg] = ImVec4(0.13f, 0.15f, 0.18f, 1.00f);
  c[ImGuiCol_TableBorderStrong] = ImVec4(0.22f, 0.25f, 0.29f, 1.00f);
  c[ImGuiCol_TableBorderLight] = ImVec4(0.18f, 0.20f, 0.24f, 1.00f);
  c[ImGuiCol_TableRowBg] = ImVec4(0, 0, 0, 0);
  c[ImGuiCol_TableRowBgAlt] = ImVec4(1.0f, 1.0f, 1.0f, 0.025f);
  c[ImGuiCol_TextSelectedBg] = ImVec4(0.24f, 0.45f, 0.70f, 0.45f);
  c[ImGuiCol_ModalWindowDimBg] = ImVec4(0.03f, 0.04f, 0.05f, 0.60f);
  style.ScaleAllSizes(scale);
}

}  // namespace exam::ui::theme
