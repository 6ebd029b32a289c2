#include "ui/review_timeline_view.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "ui/strings.h"
#include "ui/theme.h"
#include "ui/widgets.h"

namespace exam::ui {

using core::kMicrosPerSecond;
using core::Micros;

namespace {

constexpr float kLabelWidth = 92.0f;
constexpr Micros kMinSpan = 2 * kMicrosPerSecond;

std::string Clock(Micros us) {
  const int64_t s = us / kMicrosPerSecond;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  return buf;
}

// A ruler step that gives labels at least `min_px` apart.
Micros RulerStep(Micros span, float width, float min_px) {
  static const Micros steps[] = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600};
  for (Micros s : steps)
    if (width * static_cast<float>(s * kMicrosPerSecond) / static_cast<float>(span) >= min_px) return s * kMicrosPerSecond;
  return 7200 * kMicrosPerSecond;
}

}  // namespace

std::optional<Micros> ReviewTimelineView::Draw(const TimelineModel& m, float height) {
  std::optional<Micros> seek;
  const Micros end = std::max<Micros>(m.end_us, kMicrosPerSecond);
  if (view_span_us_ <= 0 || view_span_us_ > end) view_span_us_ = end;
  view_start_us_ = std::clamp<Micros>(view_start_us_, 0, end - view_span_us_);

  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  const float width = std::max(100.0f, ImGui::GetContentRegionAvail().x);
  const float lane_h = std::max(14.0f, ImGui::GetTextLineHeight() + 2);
  const float ruler_h = lane_h;
  const float x0 = p0.x + kLabelWidth, x1 = p0.x + width;
  const float area_w = x1 - x0;
  ImDrawList* dl = ImGui::GetWindowDrawList();
  auto to_x = [&](Micros t) {
    return x0 + static_cast<float>(static_cast<double>(t - view_start_us_) / static_cast<double>(view_span_us_)) * area_w;
  };
  auto to_t = [&](float x) {
    return view_start_us_ + static_cast<Micros>(static_cast<double>((x - x0) / area_w) * static_cast<double>(view_span_us_));
  };

  ImGui::InvisibleButton("##timeline", ImVec2(width, height), ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight);
  const bool hovered = ImGui::IsItemHovered();
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  dl->AddRectFilled(p0, ImVec2(x1, p0.y + height), IM_COL32(22, 26, 32, 255));
  dl->PushClipRect(p0, ImVec2(x1, p0.y + height), true);

  // Ruler.
  const Micros step = RulerStep(view_span_us_, area_w, 70.0f);
  for (Micros t = (view_start_us_ / step) * step; t <= view_start_us_ + view_span_us_; t += step) {
    const float x = to_x(t);
    if (x < x0) continue;
    dl->AddLine(ImVec2(x, p0.y + ruler_h - 4), ImVec2(x, p0.y + height), IM_COL32(48, 54, 62, 255));
    dl->AddText(ImVec2(x + 3, p0.y), theme::kMuted, Clock(t).c_str());
  }

  // Lanes: recordings, questions, events, notes.
  float y = p0.y + ruler_h;
  auto lane_label = [&](const std::string& text) {
    dl->AddText(ImVec2(p0.x + 4, y), theme::kMuted, text.c_str());
  };
  for (const auto& lane : m.tracks) {
    lane_label(lane.label);
    dl->AddRectFilled(ImVec2(x0, y + 3), ImVec2(x1, y + lane_h - 3), IM_COL32(40, 44, 52, 255));
    for (const auto& r : lane.recorded)
      dl->AddRectFilled(ImVec2(std::max(x0, to_x(r.start_us)), y + 3), ImVec2(std::min(x1, to_x(r.end_us)), y + lane_h - 3),
                        lane.failed ? theme::kDanger : IM_COL32(70, 120, 180, 255));
    y += lane_h;
  }
  lane_label(Tr(str::kRvLaneQuestions));
  for (const auto& q : m.questions) {
    const float a = std::max(x0, to_x(q.shown_us)), b = std::min(x1, to_x(q.end_us));
    if (b <= a) continue;
    const ImU32 fill = q.question % 2 ? IM_COL32(60, 110, 80, 255) : IM_COL32(50, 95, 70, 255);
    dl->AddRectFilled(ImVec2(a, y + 2), ImVec2(b, y + lane_h - 2), fill, 2.0f);
    const std::string buf = Format(str::kRvQuestionAt, q.question);
    if (b - a > ImGui::CalcTextSize(buf.c_str()).x + 6) dl->AddText(ImVec2(a + 3, y + 1), theme::kText, buf.c_str());
    // "该题回答完毕": a tick where the answer ended.
    if (q.answered_us) dl->AddLine(ImVec2(to_x(*q.answered_us), y), ImVec2(to_x(*q.answered_us), y + lane_h), theme::kOnline, 2.0f);
  }
  y += lane_h;
  std::string tooltip;
  auto points = [&](const std::vector<TimelinePoint>& pts, const Text& label) {
    lane_label(Tr(label));
    for (const auto& p : pts) {
      const float x = to_x(p.at_us);
      if (x < x0 - 5 || x > x1 + 5) continue;
      const ImVec2 c(x, y + lane_h / 2);
      dl->AddTriangleFilled(ImVec2(c.x, c.y - 5), ImVec2(c.x + 5, c.y + 4), ImVec2(c.x - 5, c.y + 4), p.color);
      if (hovered && std::fabs(mouse.x - x) < 5 && std::fabs(mouse.y - c.y) < lane_h / 2) tooltip = p.tooltip;
    }
    y += lane_h;
  };
  points(m.events, str::kRvLaneEvents);
  points(m.notes, str::kRvLaneNotes);
  // Sound: one bar per pixel column, the loudest window under it (-60 dBFS is silence).
  lane_label(Tr(str::kRvLaneSound));
  if (m.loudness != nullptr && !m.loudness->empty() && m.loudness_window_us > 0) {
    const auto& w = *m.loudness;
    for (float x = x0; x < x1; x += 1.0f) {
      const Micros a = to_t(x), b = to_t(x + 1.0f);
      size_t i = static_cast<size_t>(std::max<Micros>(0, (a - w.front().start_us) / m.loudness_window_us));
      float loudest = -120.0f;
      for (; i < w.size() && w[i].start_us < b; ++i) loudest = std::max(loudest, w[i].RmsDb());
      if (loudest <= -60.0f) continue;
      const float h = (lane_h - 2) * std::min(1.0f, (loudest + 60.0f) / 60.0f);
      dl->AddLine(ImVec2(x, y + lane_h - 1 - h), ImVec2(x, y + lane_h - 1), IM_COL32(120, 170, 220, 255));
    }
  }
  y += lane_h;

  // The clip's range, over every lane.
  if (m.selection) {
    const float a = std::max(x0, to_x(m.selection->start_us)), b = std::min(x1, to_x(m.selection->end_us));
    if (b > a) dl->AddRectFilled(ImVec2(a, p0.y + ruler_h), ImVec2(b, p0.y + height), IM_COL32(240, 173, 58, 50));
  }

  // Playhead.
  const float px = to_x(m.playhead_us);
  if (px >= x0 && px <= x1) {
    dl->AddLine(ImVec2(px, p0.y), ImVec2(px, p0.y + height), theme::kWarning, 2.0f);
    dl->AddTriangleFilled(ImVec2(px - 5, p0.y), ImVec2(px + 5, p0.y), ImVec2(px, p0.y + 7), theme::kWarning);
  }
  dl->PopClipRect();

  // Mouse: left click or drag puts the playhead there; right drag pans; the wheel zooms.
  if (ImGui::IsItemActive() && ImGui::IsMouseDown(ImGuiMouseButton_Left) && (dragging_playhead_ || mouse.x >= x0)) {
    dragging_playhead_ = true;
    seek = std::clamp<Micros>(to_t(std::clamp(mouse.x, x0, x1)), 0, end);
  }
  if (!ImGui::IsMouseDown(ImGuiMouseButton_Left)) dragging_playhead_ = false;
  if (ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Right)) {
    const float dx = ImGui::GetIO().MouseDelta.x;
    view_start_us_ -= static_cast<Micros>(static_cast<double>(dx / area_w) * static_cast<double>(view_span_us_));
  }
  if (hovered && ImGui::GetIO().MouseWheel != 0.0f && mouse.x >= x0) {
    const Micros anchor = to_t(mouse.x);
    const double factor = ImGui::GetIO().MouseWheel > 0 ? 0.8 : 1.25;
    const Micros span = std::clamp<Micros>(static_cast<Micros>(static_cast<double>(view_span_us_) * factor), kMinSpan, end);
    view_start_us_ = anchor - static_cast<Micros>(static_cast<double>(anchor - view_start_us_) * span / view_span_us_);
    view_span_us_ = span;
  }
  view_start_us_ = std::clamp<Micros>(view_start_us_, 0, end - view_span_us_);
  if (!tooltip.empty()) ImGui::SetTooltip("%s", tooltip.c_str());
  return seek;
}

}  // namespace exam::ui
