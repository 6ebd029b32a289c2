#include "ui/overview_panel.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include "ui/theme.h"
#include "ui/widgets.h"

namespace exam::ui {
namespace {

namespace v1 = exam::v1;

int64_t ToUnixMs(const google::protobuf::Timestamp& t) { return t.seconds() * 1000 + t.nanos() / 1000000; }

core::Stage StageOf(const v1::Session& s) { return static_cast<core::Stage>(s.stage()); }

bool Interrupted(const v1::Session& s) {
  return s.has_interruption_started_at() && s.stage() != v1::STAGE_ENDED;
}

bool NeedsAttention(const v1::Session& s) {
  return s.open_help() > 0 || s.open_alerts() > 0 || s.appeal_pending() || Interrupted(s);
}

const char* DeviceName(v1::DeviceKind kind) {
  switch (kind) {
    case v1::DEVICE_KIND_LAPTOP: return Tr(str::kLaptop);
    case v1::DEVICE_KIND_EVIDENCE_PHONE: return Tr(str::kPhone);
    case v1::DEVICE_KIND_SECOND_CAMERA: return Tr(str::kSecondCamera);
    default: return "?";
  }
}

// A number that turns into a warning colour when non-zero.
void CountCell(int value, ImU32 alert_color) {
  if (value == 0) {
    TextColored(theme::kMuted, "0");
    return;
  }
  char buf[16];
  std::snprintf(buf, sizeof buf, "%d", value);
  TextColored(alert_color, buf);
}

// One KPI tile: a label and a big number.
void Tile(const char* label, int value, ImU32 accent, ImFont* large, float width, float height) {
  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(p, ImVec2(p.x + width, p.y + height), theme::kTileBg, 4.0f);
  dl->AddRectFilled(p, ImVec2(p.x + 3.0f, p.y + height), accent, 4.0f, ImDrawFlags_RoundCornersLeft);
  dl->AddText(ImVec2(p.x + 12.0f, p.y + 6.0f), theme::kMuted, label);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%d", value);
  ImFont* font = large != nullptr ? large : ImGui::GetFont();
  const float size = large != nullptr ? large->FontSize : ImGui::GetFontSize();
  dl->AddText(font, size, ImVec2(p.x + 12.0f, p.y + height - size - 6.0f), theme::kText, buf);
  ImGui::Dummy(ImVec2(width, height));
}

}  // namespace

void OverviewPanel::Place(const UiContext& ctx) {
  ImGui::SetNextWindowPos(ctx.work_pos);
  ImGui::SetNextWindowSize(ctx.work_size);
}

ImGuiWindowFlags OverviewPanel::Flags() const {
  return ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize |
         ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus |
         ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse;
}

void OverviewPanel::DrawContent(UiContext& ctx) {
  if (!ctx.snapshot || !ctx.snapshot->loaded) {
    DrawWaiting(ctx);
    return;
  }
  DrawHeader(ctx);
  DrawKpis(ctx);
  DrawStagePipeline(ctx);
  ImGui::Spacing();

  const float rooms_w = std::max(360.0f, ImGui::GetContentRegionAvail().x * 0.30f);
  ImGui::BeginChild("rooms", ImVec2(rooms_w, 0), false);
  DrawRooms(ctx);
  ImGui::Spacing();
  DrawAttention(ctx);
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("sessions", ImVec2(0, 0), false);
  DrawSessions(ctx);
  ImGui::EndChild();
}

void OverviewPanel::DrawWaiting(const UiContext& ctx) {
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const char* title = Tr(str::kWaitingForBackend);
  const ImVec2 ts = ImGui::CalcTextSize(title);
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const ImVec2 center(origin.x + avail.x * 0.5f, origin.y + avail.y * 0.42f);
  // A turning arc: the console is alive even while the backend is not there yet.
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float r = 14.0f;
  const float t = static_cast<float>(ImGui::GetTime()) * 4.0f;
  dl->PathArcTo(ImVec2(center.x, center.y - 40.0f), r, t, t + 4.2f, 32);
  dl->PathStroke(theme::StateColor(ctx.status.state), 0, 3.0f);
  ImGui::SetCursorScreenPos(ImVec2(center.x - ts.x * 0.5f, center.y));
  TextUnformatted(title);
  std::string detail = ctx.status.message.empty() ? ctx.status.address : ctx.status.message;
  const ImVec2 ds = ImGui::CalcTextSize(detail.c_str());
  ImGui::SetCursorScreenPos(ImVec2(center.x - ds.x * 0.5f, center.y + ts.y + 8.0f));
  TextColored(theme::kMuted, detail);
}

void OverviewPanel::DrawHeader(const UiContext& ctx) {
  const auto& snap = *ctx.snapshot;
  if (!snap.exams || snap.exams->empty()) {
    TextColored(theme::kMuted, Tr(str::kNoSessions));
    return;
  }
  // The console follows one sitting at a time; the earliest is the one on now.
  const v1::Exam& exam = snap.exams->front();
  TextUnformatted(exam.title());
  ImGui::SameLine(0, 10);
  Badge(exam.kind() == v1::EXAM_KIND_TEST ? Tr(str::kExamKindTest) : Tr(str::kExamKindInterview),
        IM_COL32(52, 80, 122, 255));
  ImGui::SameLine(0, 10);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%d %s", exam.questions_size(), Tr(str::kQuestions));
  TextColored(theme::kMuted, buf);
  VerticalRule();
  const int64_t start_ms = ToUnixMs(exam.start_time());
  TextColored(theme::kMuted, FormatClock(start_ms));
  if (ctx.backend_now_ms > 0) {
    ImGui::SameLine(0, 10);
    const int64_t delta = start_ms - ctx.backend_now_ms;
    if (delta > 0) {
      std::snprintf(buf, sizeof buf, "%s %s", Tr(str::kStartsIn), FormatDuration(delta).c_str());
      TextColored(theme::kAccent, buf);
    } else {
      std::snprintf(buf, sizeof buf, "%s %s", Tr(str::kStartedAgo), FormatDuration(-delta).c_str());
      TextColored(theme::kOnline, buf);
    }
  }
  ImGui::Spacing();
}

void OverviewPanel::DrawKpis(const UiContext& ctx) {
  const auto& snap = *ctx.snapshot;
  const int total = static_cast<int>(snap.sessions.size());
  struct Kpi {
    const char* label;
    int value;
    ImU32 accent;
  };
  const auto stage = [&](core::Stage s) { return snap.by_stage[static_cast<int>(s)]; };
  const Kpi kpis[] = {
      {Tr(str::kCandidates), total, theme::kAccent},
      {StageName(core::Stage::kDeviceConfirm).data(), stage(core::Stage::kDeviceConfirm),
       theme::StageColor(core::Stage::kDeviceConfirm)},
      {StageName(core::Stage::kAnswering).data(), stage(core::Stage::kAnswering),
       theme::StageColor(core::Stage::kAnswering)},
      {StageName(core::Stage::kEnded).data(), stage(core::Stage::kEnded), theme::StageColor(core::Stage::kEnded)},
      {Tr(str::kHelp), snap.open_help, snap.open_help > 0 ? theme::kWarning : theme::kMuted},
      {Tr(str::kAlerts), snap.open_alerts, snap.open_alerts > 0 ? theme::kDanger : theme::kMuted},
      {Tr(str::kAppeals), snap.appeals_pending, snap.appeals_pending > 0 ? theme::kWarning : theme::kMuted},
      {Tr(str::kInterrupted), snap.interrupted, snap.interrupted > 0 ? theme::kDanger : theme::kMuted},
  };
  const int n = static_cast<int>(std::size(kpis));
  const float spacing = ImGui::GetStyle().ItemSpacing.x;
  const float w = (ImGui::GetContentRegionAvail().x - spacing * static_cast<float>(n - 1)) / static_cast<float>(n);
  const float h = ImGui::GetTextLineHeight() + (ctx.large_font ? ctx.large_font->FontSize : 20.0f) + 16.0f;
  for (int i = 0; i < n; ++i) {
    if (i > 0) ImGui::SameLine(0, spacing);
    Tile(kpis[i].label, kpis[i].value, kpis[i].accent, ctx.large_font, w, h);
  }
  ImGui::Spacing();
}

void OverviewPanel::DrawStagePipeline(const UiContext& ctx) {
  const auto& snap = *ctx.snapshot;
  StageBar(snap.by_stage, ImVec2(ImGui::GetContentRegionAvail().x, ImGui::GetTextLineHeight() + 4.0f), true);
  // Legend in stage order; wraps when the window is narrow.
  const float right = ImGui::GetWindowContentRegionMax().x;
  char buf[64];
  for (int s = 1; s <= core::kStageCount; ++s) {
    const auto stage = static_cast<core::Stage>(s);
    std::snprintf(buf, sizeof buf, "%.*s %d", static_cast<int>(StageName(stage).size()), StageName(stage).data(),
                  snap.by_stage[s]);
    const float item_w = ImGui::GetTextLineHeight() * 0.6f + 6.0f + ImGui::CalcTextSize(buf).x;
    if (s > 1) {
      ImGui::SameLine(0, 18);
      if (ImGui::GetCursorPosX() + item_w > right) ImGui::NewLine();
    }
    StatusDot(theme::StageColor(stage));
    ImGui::SameLine(0, 6);
    TextColored(snap.by_stage[s] > 0 ? theme::kText : theme::kMuted, buf);
  }
}

void OverviewPanel::DrawRooms(UiContext& ctx) {
  const auto& snap = *ctx.snapshot;
  TextColored(theme::kMuted, Tr(str::kRooms));
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersOuterH | ImGuiTableFlags_BordersInnerH |
                                ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingFixedFit;
  // As tall as its rows, up to 40% of the column; the attention list gets the rest.
  const float row_h = ImGui::GetTextLineHeight() + ImGui::GetStyle().CellPadding.y * 2.0f;
  const float rows_h = row_h * static_cast<float>(snap.room_summaries.size() + 2) + 4.0f;
  const float table_h = std::min(rows_h, ImGui::GetContentRegionAvail().y * 0.4f);
  if (!ImGui::BeginTable("rooms_table", 6, flags, ImVec2(0, table_h))) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn(Tr(str::kRoom), ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableSetupColumn(Tr(str::kCandidates));
  ImGui::TableSetupColumn(Tr(str::kProgress), ImGuiTableColumnFlags_WidthFixed, 72.0f);
  ImGui::TableSetupColumn(Tr(str::kHelp));
  ImGui::TableSetupColumn(Tr(str::kAlerts));
  ImGui::TableSetupColumn(Tr(str::kAppeal));
  ImGui::TableHeadersRow();

  auto row = [&](int64_t room_id, const std::string& name, int sessions, const net::StageCounts& counts, int help,
                 int alerts, int appeals) {
    ImGui::PushID(static_cast<int>(room_id));
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    const bool selected = ctx.selected_room == room_id;
    if (ImGui::Selectable(name.c_str(), selected, ImGuiSelectableFlags_SpanAllColumns)) ctx.selected_room = room_id;
    ImGui::TableNextColumn();
    ImGui::Text("%d", sessions);
    ImGui::TableNextColumn();
    const float bar_h = 8.0f;
    ImGui::SetCursorPosY(ImGui::GetCursorPosY() + (ImGui::GetTextLineHeight() - bar_h) * 0.5f);
    StageBar(counts, ImVec2(ImGui::GetContentRegionAvail().x, bar_h), false);
    ImGui::TableNextColumn();
    CountCell(help, theme::kWarning);
    ImGui::TableNextColumn();
    CountCell(alerts, theme::kDanger);
    ImGui::TableNextColumn();
    CountCell(appeals, theme::kWarning);
    ImGui::PopID();
  };

  row(0, Tr(str::kAllRooms), static_cast<int>(snap.sessions.size()), snap.by_stage, snap.open_help, snap.open_alerts,
      snap.appeals_pending);
  for (const auto& room : snap.room_summaries) {
    row(room.room_id, room.name, room.sessions, room.by_stage, room.open_help, room.open_alerts,
        room.appeals_pending);
  }
  ImGui::EndTable();
}

void OverviewPanel::DrawAttention(const UiContext& ctx) {
  const auto& snap = *ctx.snapshot;
  // Most urgent first: alerts and broken recordings, then appeals on an SLA, then help.
  std::vector<std::pair<int, const v1::Session*>> urgent;
  for (const auto& s : snap.sessions) {
    if (ctx.selected_room != 0 && s->room_id() != ctx.selected_room) continue;
    if (!NeedsAttention(*s)) continue;
    const int score = (Interrupted(*s) ? 8 : 0) + (s->open_alerts() > 0 ? 4 : 0) + (s->appeal_pending() ? 2 : 0) +
                      (s->open_help() > 0 ? 1 : 0);
    urgent.emplace_back(score, s.get());
  }
  std::stable_sort(urgent.begin(), urgent.end(), [](const auto& a, const auto& b) { return a.first > b.first; });

  char buf[64];
  std::snprintf(buf, sizeof buf, "%s  %zu", Tr(str::kNeedsAttention), urgent.size());
  TextColored(urgent.empty() ? theme::kMuted : theme::kWarning, buf);
  if (urgent.empty()) {
    TextColored(theme::kMuted, Tr(str::kNobodyNeedsAttention));
    return;
  }
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersOuterH | ImGuiTableFlags_ScrollY |
                                ImGuiTableFlags_SizingFixedFit;
  if (!ImGui::BeginTable("attention_table", 3, flags)) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn(Tr(str::kDrawNo));
  ImGui::TableSetupColumn(Tr(str::kName));
  ImGui::TableSetupColumn(Tr(str::kDetail), ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableHeadersRow();
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(urgent.size()));
  while (clipper.Step()) {
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
      const v1::Session& s = *urgent[static_cast<size_t>(i)].second;
      ImGui::PushID(static_cast<int>(s.id()));
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      if (s.draw_number() > 0) {
        ImGui::Text("%03d", s.draw_number());
      } else {
        TextColored(theme::kMuted, "—");
      }
      ImGui::TableNextColumn();
      TextUnformatted(s.candidate_name().empty() ? std::string_view("—") : std::string_view(s.candidate_name()));
      ImGui::TableNextColumn();
      bool first = true;
      auto badge = [&](const std::string& text, ImU32 bg, ImU32 fg) {
        if (!first) ImGui::SameLine(0, 4);
        first = false;
        Badge(text, bg, fg);
      };
      const ImU32 white = IM_COL32(255, 255, 255, 255);
      const ImU32 dark = IM_COL32(30, 24, 10, 255);
      if (Interrupted(s)) badge(Tr(str::kInterrupted), theme::kDanger, white);
      if (s.open_alerts() > 0) badge(std::string(Tr(str::kAlerts)) + " " + std::to_string(s.open_alerts()), theme::kDanger, white);
      if (s.appeal_pending()) badge(Tr(str::kAppealPending), theme::kWarning, dark);
      if (s.open_help() > 0) badge(std::string(Tr(str::kHelp)) + " " + std::to_string(s.open_help()), theme::kWarning, dark);
      ImGui::SameLine(0, 8);
      StageLabel(StageOf(s));
      ImGui::PopID();
    }
  }
  ImGui::EndTable();
}

void OverviewPanel::UpdateRows(const UiContext& ctx) {
  const std::string filter(filter_.InputBuf);
  const bool stale = rows_snapshot_ != ctx.snapshot || filter != rows_filter_ || rows_room_ != ctx.selected_room;
  if (!stale && !sort_dirty_) return;
  if (rows_snapshot_ != ctx.snapshot) {
    room_names_.clear();
    question_counts_.clear();
    if (ctx.snapshot->rooms) {
      for (const auto& r : *ctx.snapshot->rooms) room_names_[r.id()] = r.name();
    }
    if (ctx.snapshot->exams) {
      for (const auto& e : *ctx.snapshot->exams) question_counts_[e.id()] = e.questions_size();
    }
  }
  rows_snapshot_ = ctx.snapshot;
  rows_filter_ = filter;
  rows_room_ = ctx.selected_room;
  sort_dirty_ = false;

  rows_.clear();
  char draw[16];
  for (const auto& s : rows_snapshot_->sessions) {
    if (rows_room_ != 0 && s->room_id() != rows_room_) continue;
    if (filter_.IsActive()) {
      std::snprintf(draw, sizeof draw, "%d", s->draw_number());
      if (!filter_.PassFilter(s->candidate_name().c_str()) && !filter_.PassFilter(s->registration_no().c_str()) &&
          !filter_.PassFilter(draw)) {
        continue;
      }
    }
    rows_.push_back(s.get());
  }
  using Key = std::pair<int64_t, int64_t>;
  const auto key = [this](const v1::Session* s) -> Key {
    switch (sort_column_) {
      case kColDraw: return Key{s->draw_number() == 0 ? INT32_MAX : s->draw_number(), s->id()};
      case kColStage: return Key{s->stage(), s->id()};
      case kColQuestion: return Key{s->current_question(), s->id()};
      case kColInterruptions: return Key{s->interruptions(), s->id()};
      case kColHelp: return Key{s->open_help(), s->id()};
      case kColAlerts: return Key{s->open_alerts(), s->id()};
      case kColAppeal: return Key{s->appeal_pending() ? 1 : 0, s->id()};
      case kColRemaining: return Key{ToUnixMs(s->question_deadline()), s->id()};
      default: return Key{s->room_id(), s->id()};
    }
  };
  if (sort_column_ == kColName || sort_column_ == kColRegNo) {
    const bool by_name = sort_column_ == kColName;
    std::stable_sort(rows_.begin(), rows_.end(), [&](const v1::Session* a, const v1::Session* b) {
      const std::string& x = by_name ? a->candidate_name() : a->registration_no();
      const std::string& y = by_name ? b->candidate_name() : b->registration_no();
      return sort_descending_ ? y < x : x < y;
    });
  } else {
    std::stable_sort(rows_.begin(), rows_.end(), [&](const v1::Session* a, const v1::Session* b) {
      return sort_descending_ ? key(b) < key(a) : key(a) < key(b);
    });
  }
}

void OverviewPanel::DrawSessions(UiContext& ctx) {
  ImGui::SetNextItemWidth(std::min(320.0f, ImGui::GetContentRegionAvail().x * 0.5f));
  if (ImGui::InputTextWithHint("##session_filter", Tr(str::kFilter), filter_.InputBuf, IM_ARRAYSIZE(filter_.InputBuf))) {
    filter_.Build();
  }
  UpdateRows(ctx);

  ImGui::SameLine();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%zu / %zu", rows_.size(), ctx.snapshot->sessions.size());
  const float w = ImGui::CalcTextSize(buf).x;
  ImGui::SetCursorPosX(ImGui::GetWindowContentRegionMax().x - w);
  TextColored(theme::kMuted, buf);

  if (rows_.empty()) {
    ImGui::Spacing();
    const bool none = ctx.snapshot->sessions.empty();
    TextUnformatted(Tr(none ? str::kNoSessions : str::kNoMatch));
    if (none) TextColored(theme::kMuted, Tr(str::kNoSessionsHint));
    return;
  }

  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersOuter | ImGuiTableFlags_BordersInnerV |
                                ImGuiTableFlags_ScrollY | ImGuiTableFlags_Resizable | ImGuiTableFlags_Sortable |
                                ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_Hideable;
  if (!ImGui::BeginTable("sessions_table", kColumnCount, flags)) return;
  ImGui::TableSetupScrollFreeze(2, 1);
  ImGui::TableSetupColumn(Tr(str::kDrawNo), ImGuiTableColumnFlags_None, 0.0f, kColDraw);
  ImGui::TableSetupColumn(Tr(str::kName), ImGuiTableColumnFlags_None, 0.0f, kColName);
  ImGui::TableSetupColumn(Tr(str::kRegNo), ImGuiTableColumnFlags_None, 0.0f, kColRegNo);
  ImGui::TableSetupColumn(Tr(str::kRoom), ImGuiTableColumnFlags_DefaultSort, 0.0f, kColRoom);
  ImGui::TableSetupColumn(Tr(str::kStage), ImGuiTableColumnFlags_WidthStretch, 0.0f, kColStage);
  ImGui::TableSetupColumn(Tr(str::kQuestion), ImGuiTableColumnFlags_None, 0.0f, kColQuestion);
  ImGui::TableSetupColumn(Tr(str::kRemaining), ImGuiTableColumnFlags_None, 0.0f, kColRemaining);
  ImGui::TableSetupColumn(Tr(str::kInterruptions), ImGuiTableColumnFlags_None, 0.0f, kColInterruptions);
  ImGui::TableSetupColumn(Tr(str::kHelp), ImGuiTableColumnFlags_None, 0.0f, kColHelp);
  ImGui::TableSetupColumn(Tr(str::kAlerts), ImGuiTableColumnFlags_None, 0.0f, kColAlerts);
  ImGui::TableSetupColumn(Tr(str::kAppeal), ImGuiTableColumnFlags_None, 0.0f, kColAppeal);
  ImGui::TableSetupColumn(Tr(str::kDevices), ImGuiTableColumnFlags_NoSort, 0.0f, kColDevices);
  ImGui::TableHeadersRow();

  if (ImGuiTableSortSpecs* specs = ImGui::TableGetSortSpecs(); specs != nullptr && specs->SpecsDirty) {
    if (specs->SpecsCount > 0) {
      sort_column_ = specs->Specs[0].ColumnUserID;
      sort_descending_ = specs->Specs[0].SortDirection == ImGuiSortDirection_Descending;
      sort_dirty_ = true;
    }
    specs->SpecsDirty = false;
    UpdateRows(ctx);
  }

  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(rows_.size()));
  while (clipper.Step()) {
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) DrawSessionRow(ctx, *rows_[i]);
  }
  ImGui::EndTable();
}

void OverviewPanel::DrawSessionRow(const UiContext& ctx, const v1::Session& s) {
  char buf[64];
  ImGui::PushID(static_cast<int>(s.id()));
  ImGui::TableNextRow();
  if (s.open_alerts() > 0 || Interrupted(s)) {
    ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg1, IM_COL32(235, 87, 87, 28));
  } else if (NeedsAttention(s)) {
    ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg1, IM_COL32(240, 173, 58, 22));
  }

  ImGui::TableSetColumnIndex(kColDraw);
  if (s.draw_number() > 0) {
    ImGui::Text("%03d", s.draw_number());
  } else {
    TextColored(theme::kMuted, "—");
  }

  ImGui::TableSetColumnIndex(kColName);
  TextUnformatted(s.candidate_name().empty() ? std::string_view("—") : std::string_view(s.candidate_name()));

  ImGui::TableSetColumnIndex(kColRegNo);
  TextColored(theme::kMuted, s.registration_no().empty() ? std::string_view("—") : std::string_view(s.registration_no()));

  ImGui::TableSetColumnIndex(kColRoom);
  auto room = room_names_.find(s.room_id());
  TextUnformatted(room != room_names_.end() ? room->second : std::to_string(s.room_id()));

  ImGui::TableSetColumnIndex(kColStage);
  StageLabel(StageOf(s));
  if (s.stage() == v1::STAGE_ENDED && s.outcome() != v1::OUTCOME_UNSPECIFIED) {
    ImGui::SameLine(0, 6);
    const bool good = s.outcome() == v1::OUTCOME_COMPLETED;
    TextColored(good ? theme::kMuted : theme::kWarning, OutcomeName(static_cast<core::Outcome>(s.outcome())));
  }

  ImGui::TableSetColumnIndex(kColQuestion);
  const auto qn = question_counts_.find(s.exam_id());
  if (s.current_question() > 0) {
    std::snprintf(buf, sizeof buf, "%d / %d", s.current_question(), qn != question_counts_.end() ? qn->second : 0);
    TextUnformatted(buf);
  } else {
    TextColored(theme::kMuted, "—");
  }

  ImGui::TableSetColumnIndex(kColRemaining);
  if (s.stage() == v1::STAGE_ANSWERING && s.has_question_deadline() && ctx.backend_now_ms > 0) {
    const int64_t left = std::max<int64_t>(0, ToUnixMs(s.question_deadline()) - ctx.backend_now_ms);
    TextColored(left < 30000 ? theme::kWarning : theme::kText, FormatDuration(left));
  } else {
    TextColored(theme::kMuted, "—");
  }

  ImGui::TableSetColumnIndex(kColInterruptions);
  if (Interrupted(s)) {
    Badge(Tr(str::kInterrupted), theme::kDanger);
    if (ctx.backend_now_ms > 0) {
      ImGui::SameLine(0, 4);
      TextColored(theme::kDanger, FormatDuration(ctx.backend_now_ms - ToUnixMs(s.interruption_started_at())));
    }
  } else {
    CountCell(s.interruptions(), theme::kWarning);
  }

  ImGui::TableSetColumnIndex(kColHelp);
  CountCell(s.open_help(), theme::kWarning);
  ImGui::TableSetColumnIndex(kColAlerts);
  CountCell(s.open_alerts(), theme::kDanger);

  ImGui::TableSetColumnIndex(kColAppeal);
  if (s.appeal_pending()) {
    Badge(Tr(str::kAppealPending), theme::kWarning, IM_COL32(30, 24, 10, 255));
  } else {
    TextColored(theme::kMuted, "—");
  }

  ImGui::TableSetColumnIndex(kColDevices);
  if (s.devices_size() == 0) TextColored(theme::kMuted, "—");
  for (int i = 0; i < s.devices_size(); ++i) {
    const auto& d = s.devices(i);
    if (i > 0) ImGui::SameLine(0, 4);
    StatusDot(d.online() ? theme::kOnline : theme::kDanger);
    if (ImGui::IsItemHovered()) {
      ImGui::BeginTooltip();
      ImGui::Text("%s  %s%s%s", DeviceName(d.kind()), d.model().c_str(), d.online() ? "" : "  · ",
                  d.online() ? "" : Tr(str::kOffline));
      ImGui::EndTooltip();
    }
  }
  ImGui::PopID();
}

}  // namespace exam::ui
