#include "ui/event_log_panel.h"

#include <cstdio>

#include "ui/theme.h"
#include "ui/widgets.h"

namespace exam::ui {

bool EventLogPanel::Visible(const UiContext& ctx) const { return open() && ctx.bottom_size.y > 0; }

void EventLogPanel::Place(const UiContext& ctx) {
  ImGui::SetNextWindowPos(ctx.bottom_pos);
  ImGui::SetNextWindowSize(ctx.bottom_size);
}

ImGuiWindowFlags EventLogPanel::Flags() const {
  return ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
         ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus | ImGuiWindowFlags_NoScrollbar;
}

void EventLogPanel::DrawContent(UiContext& ctx) {
  // The ring is copied only when something new arrived.
  const bool grew = ctx.status.last_seq != events_seq_;
  if (grew) {
    events_ = ctx.client->RecentEvents();
    events_seq_ = ctx.status.last_seq;
  }
  if (events_.empty()) {
    TextColored(theme::kMuted, Tr(str::kNoEvents));
    return;
  }
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_ScrollY |
                                ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_Resizable;
  if (!ImGui::BeginTable("events_table", 7, flags)) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn(Tr(str::kTime));
  ImGui::TableSetupColumn(Tr(str::kLastSeq));
  ImGui::TableSetupColumn(Tr(str::kKind), ImGuiTableColumnFlags_WidthFixed, 150.0f);
  ImGui::TableSetupColumn(Tr(str::kRoom), ImGuiTableColumnFlags_WidthFixed, 110.0f);
  ImGui::TableSetupColumn(Tr(str::kDrawNo));
  ImGui::TableSetupColumn(Tr(str::kStage), ImGuiTableColumnFlags_WidthFixed, 130.0f);
  ImGui::TableSetupColumn(Tr(str::kDetail), ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableHeadersRow();

  const auto& snap = ctx.snapshot;
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(events_.size()));
  while (clipper.Step()) {
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
      const net::EventRecord& e = events_[static_cast<size_t>(i)];
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      TextColored(theme::kMuted, FormatClock(e.time_unix_ms));
      ImGui::TableNextColumn();
      ImGui::Text("%lld", static_cast<long long>(e.seq));
      ImGui::TableNextColumn();
      const bool alarming = e.kind == exam::v1::EVENT_KIND_ALERT_RAISED ||
                            e.kind == exam::v1::EVENT_KIND_INTERRUPTION_STARTED ||
                            e.kind == exam::v1::EVENT_KIND_HELP_RAISED || e.kind == exam::v1::EVENT_KIND_APPEAL_FILED;
      TextColored(alarming ? theme::kWarning : theme::kText, EventKindName(e.kind));
      ImGui::TableNextColumn();
      const exam::v1::Room* room = snap ? snap->FindRoom(e.room_id) : nullptr;
      TextColored(theme::kMuted, room != nullptr ? room->name() : (e.room_id ? std::to_string(e.room_id) : "—"));
      ImGui::TableNextColumn();
      int draw = e.draw_number;
      if (draw == 0 && snap) {
        if (const auto* s = snap->FindSession(e.session_id)) draw = s->draw_number();
      }
      if (draw > 0) {
        ImGui::Text("%03d", draw);
      } else {
        TextColored(theme::kMuted, "—");
      }
      ImGui::TableNextColumn();
      if (e.stage != core::Stage::kUnspecified) {
        StageLabel(e.stage);
      }
      ImGui::TableNextColumn();
      TextColored(theme::kMuted, e.detail);
    }
  }
  // Keep the newest row in view unless the user scrolled up to read.
  if (grew && stick_to_bottom_) ImGui::SetScrollHereY(1.0f);
  stick_to_bottom_ = ImGui::GetScrollY() >= ImGui::GetScrollMaxY() - 1.0f;
  ImGui::EndTable();
}

}  // namespace exam::ui
