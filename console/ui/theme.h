#pragma once
// Colours and style of the console: one dark theme tuned for long shifts, and the colours
// that carry meaning (connection state, stages, attention).
#include <imgui.h>

#include "core/stage.h"
#include "net/backend_client.h"

namespace exam::ui::theme {

// The "online" green is also what the screenshot test looks for in the status bar.
inline constexpr ImU32 kOnline = IM_COL32(46, 194, 107, 255);
inline constexpr ImU32 kWarning = IM_COL32(240, 173, 58, 255);
inline constexpr ImU32 kDanger = IM_COL32(235, 87, 87, 255);
inline constexpr ImU32 kAccent = IM_COL32(77, 156, 245, 255);
inline constexpr ImU32 kMuted = IM_COL32(139, 148, 158, 255);
inline constexpr ImU32 kText = IM_COL32(222, 226, 231, 255);
inline constexpr ImU32 kPanelBg = IM_COL32(24, 28, 34, 255);
inline constexpr ImU32 kTileBg = IM_COL32(32, 37, 45, 255);
inline constexpr ImU32 kStatusBarBg = IM_COL32(17, 20, 25, 255);

ImU32 StageColor(core::Stage stage);
ImU32 StateColor(net::ConnectionState state);
inline ImVec4 ToVec4(ImU32 c) { return ImGui::ColorConvertU32ToFloat4(c); }

// Installs the console's style into the current ImGui context.
void Apply(float scale);

}  // namespace exam::ui::theme
