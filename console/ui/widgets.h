#pragma once
// Small drawing and formatting helpers shared by the panels.
#include <imgui.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "exam/v1/common.pb.h"
#include "net/directory_snapshot.h"
#include "ui/strings.h"
#include "ui/ui_context.h"

namespace exam::ui {

// "14:03:22" in local time.
std::string FormatClock(int64_t unix_ms);
// "05:12" or "1:05:12"; negative durations get a leading "-".
std::string FormatDuration(int64_t ms);
// A translated printf-style text filled in: Format(str::kLiveDrawNo, 12) -> "12 号".
template <class... Args>
std::string Format(const Text& text, Args... args) {
  static_assert(sizeof...(Args) > 0, "nothing to fill in: use Tr()");
  // Measured first: filled-in paths and server messages have no useful upper bound.
  const char* format = Tr(text);
  const int n = std::snprintf(nullptr, 0, format, args...);
  if (n <= 0) return {};
  std::string out(static_cast<size_t>(n), '\0');
  std::snprintf(out.data(), out.size() + 1, format, args...);
  return out;
}
// "1.5 MB", "820 kB": sizes of files and transfers.
std::string FormatBytes(int64_t bytes);
// A position in a recording, "mm:ss.mmm" (or "mm:ss" without `millis`); negatives read 00:00.
std::string FormatMediaTime(int64_t us, bool millis);
// Shrinks [*p0, *p1] to the largest centred rectangle of width/height `aspect` (whole pixels).
void FitAspect(ImVec2* p0, ImVec2* p1, float aspect);
const char* RoleName(exam::v1::Role role);
const char* EventKindName(exam::v1::EventKind kind);

void TextUnformatted(std::string_view text);
void TextColored(ImU32 color, std::string_view text);
// A filled dot on the text line.
void StatusDot(ImU32 color, float radius = 0.0f);
// A small rounded label with a coloured background.
void Badge(std::string_view text, ImU32 background, ImU32 foreground = IM_COL32(255, 255, 255, 255));
// Dot + stage name in the stage's colour.
void StageLabel(core::Stage stage);
// A thin vertical rule between items on one line.
void VerticalRule();
// Horizontal bar split by stage; with labels when `labels` and the segment fits them.
void StageBar(const net::StageCounts& counts, ImVec2 size, bool labels);

// "考试 [exam ▾] [room ▾]": the exam and room pickers every support workspace starts its
// toolbar with. Picking another exam resets the room. Returns true when the exam changed
// (the caller drops its selection); `id` keeps the widgets of panels apart.
bool ExamAndRoomPicker(const UiContext& ctx, const char* id, int64_t* exam_id, int64_t* room_id);

// Where an outbox action stands (local::ActionState as int: pending, sending, confirmed,
// failed), coloured, with the action's label and the backend's refusal on hover.
void ActionStateText(int state, std::string_view label, std::string_view error);

}  // namespace exam::ui
