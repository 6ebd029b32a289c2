#pragma once
// The proctor's overview: where every candidate is in the exam, room by room, and who
// needs attention (help, alerts, appeals, interrupted recordings).
#include <imgui.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "ui/panel.h"

namespace exam::ui {

class OverviewPanel : public Panel {
 public:
  OverviewPanel() : Panel("overview", str::kOverview) {}
  bool InViewMenu() const override { return false; }

 protected:
  void DrawContent(UiContext& ctx) override;
  void Place(const UiContext& ctx) override;
  ImGuiWindowFlags Flags() const override;
  bool Closable() const override { return false; }
  bool Visible(const UiContext& ctx) const override { return ctx.workspace == "overview"; }

 private:
  enum Column : ImGuiID {
    kColDraw, kColName, kColRegNo, kColRoom, kColStage, kColQuestion, kColRemaining,
    kColInterruptions, kColHelp, kColAlerts, kColAppeal, kColDevices, kColumnCount
  };

  void DrawWaiting(const UiContext& ctx);
  void DrawHeader(const UiContext& ctx);
  void DrawKpis(const UiContext& ctx);
  void DrawStagePipeline(const UiContext& ctx);
  void DrawRooms(UiContext& ctx);
  void DrawAttention(const UiContext& ctx);
  void DrawSessions(UiContext& ctx);
  void DrawSessionRow(const UiContext& ctx, const exam::v1::Session& s);
  // Filters and sorts the visible sessions when the snapshot, filter, room or sort changed.
  void UpdateRows(const UiContext& ctx);

  ImGuiTextFilter filter_;
  // Rows point into rows_snapshot_, which they keep alive.
  std::shared_ptr<const net::DirectorySnapshot> rows_snapshot_;
  std::vector<const exam::v1::Session*> rows_;
  std::string rows_filter_;
  int64_t rows_room_ = -1;
  ImGuiID sort_column_ = kColRoom;
  bool sort_descending_ = false;
  bool sort_dirty_ = true;
  std::unordered_map<int64_t, std::string> room_names_;
  std::unordered_map<int64_t, int> question_counts_;  // by exam id
};

}  // namespace exam::ui
