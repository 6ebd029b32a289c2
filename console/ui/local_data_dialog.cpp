#include "ui/local_data_dialog.h"

#include "store/local_data.h"
#include "ui/theme.h"
#include "ui/widgets.h"

namespace exam::ui {

void LocalDataDialog::Place(const UiContext& ctx) {
  const ImVec2 center(ctx.work_pos.x + ctx.work_size.x * 0.5f, ctx.work_pos.y + ctx.work_size.y * 0.4f);
  ImGui::SetNextWindowPos(center, ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
  ImGui::SetNextWindowFocus();
}

ImGuiWindowFlags LocalDataDialog::Flags() const {
  return ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoSavedSettings;
}

void LocalDataDialog::Hidden(UiContext&) {
  // Measured afresh, and asked to confirm afresh, each time it opens.
  surveyed_ = false;
  confirming_ = false;
  discard_undelivered_ = false;
}

void LocalDataDialog::DrawContent(UiContext& ctx) {
  local::LocalData* data = ctx.local_data;
  if (data == nullptr) {
    TextColored(theme::kMuted, Tr(str::kLocalDataNoOutbox));
    return;
  }
  const local::LocalDataStatus st = data->Status();
  const bool working = st.phase == local::LocalDataPhase::kSurveying || st.phase == local::LocalDataPhase::kWiping;
  // A survey when the dialog opens and again when the signed-in user changed under it.
  if ((!surveyed_ || !st.figures_known) && !working) surveyed_ = data->Survey() || surveyed_;
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape), false) && !confirming_) set_open(false);

  TextUnformatted(Tr(str::kLocalDataIntro));
  const local::LocalDataFigures& f = st.figures;
  const float wrap = ImGui::GetFontSize() * 34.0f;
  if (ImGui::BeginTable("##local_data", 3, ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_SizingFixedFit)) {
    ImGui::TableSetupColumn(Tr(str::kLocalDataWhat));
    ImGui::TableSetupColumn(Tr(str::kLocalDataWhere), ImGuiTableColumnFlags_WidthFixed, wrap * 0.7f);
    ImGui::TableSetupColumn(Tr(str::kLocalDataSize));
    ImGui::TableHeadersRow();
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    if (f.store_path.empty()) {
      TextColored(theme::kMuted, Tr(str::kLocalDataNoOutbox));
    } else {
      TextUnformatted(Format(str::kLocalDataOutbox, f.actions, f.undelivered));
    }
    ImGui::TableNextColumn();
    ImGui::PushTextWrapPos(0.0f);
    TextColored(theme::kMuted, f.store_path);
    ImGui::PopTextWrapPos();
    ImGui::TableNextColumn();
    if (!f.store_path.empty()) TextUnformatted(FormatBytes(f.store_bytes));

    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    if (!f.cache_error.empty()) {
      TextColored(theme::kWarning, Format(str::kLocalDataCacheOff, f.cache_error.c_str()));
    } else {
      TextUnformatted(Format(str::kLocalDataCache, static_cast<long long>(f.cache_blocks)));
    }
    ImGui::TableNextColumn();
    ImGui::PushTextWrapPos(0.0f);
    TextColored(theme::kMuted, f.cache_folder);
    ImGui::PopTextWrapPos();
    ImGui::TableNextColumn();
    if (st.figures_known) TextUnformatted(FormatBytes(f.cache_bytes));
    ImGui::EndTable();
  }
  ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + wrap);
  TextColored(theme::kMuted, Tr(str::kLocalDataPolicy));
  ImGui::PopTextWrapPos();
  ImGui::Spacing();

  if (f.undelivered > 0) {
    ImGui::Checkbox(Format(str::kLocalDataDiscard, f.undelivered).c_str(), &discard_undelivered_);
    if (!discard_undelivered_) TextColored(theme::kMuted, Tr(str::kLocalDataKeepsUndelivered));
  } else {
    discard_undelivered_ = false;
  }

  if (confirming_) {
    TextColored(theme::kDanger, Tr(str::kLocalDataConfirm));
    ImGui::PushStyleColor(ImGuiCol_Button, theme::kDanger);
    // No key for this one: a destructive step is a deliberate click.
    const bool wipe = ImGui::Button(Label(str::kLocalDataWipeNow, "wipe_now").c_str());
    ImGui::PopStyleColor();
    ImGui::SameLine();
    const bool cancel =
        ImGui::Button(Label(str::kLocalDataCancel, "wipe_cancel").c_str()) || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape), false);
    if (wipe && data->Wipe(discard_undelivered_)) confirming_ = false;
    if (cancel) confirming_ = false;
  } else {
    ImGui::BeginDisabled(working);
    if (ImGui::Button(Label(str::kLocalDataWipe, "wipe").c_str())) confirming_ = true;
    ImGui::SameLine();
    if (ImGui::Button(Label(str::kLocalDataRefresh, "refresh").c_str())) data->Survey();
    ImGui::EndDisabled();
    ImGui::SameLine();
    if (ImGui::Button(Label(str::kLocalDataClose, "close").c_str())) set_open(false);
  }

  switch (st.phase) {
    case local::LocalDataPhase::kSurveying: TextColored(theme::kMuted, Tr(str::kLocalDataSurveying)); break;
    case local::LocalDataPhase::kWiping: TextColored(theme::kWarning, Tr(str::kLocalDataWiping)); break;
    case local::LocalDataPhase::kFailed: TextColored(theme::kDanger, Format(str::kLocalDataFailed, st.error.c_str())); break;
    case local::LocalDataPhase::kIdle:
    case local::LocalDataPhase::kDone: break;
  }
  if (st.wiped && st.phase != local::LocalDataPhase::kWiping) {
    const local::LocalDataWipe& w = st.last_wipe;
    TextColored(theme::kOnline, Format(str::kLocalDataWiped, w.actions_removed, FormatBytes(w.cache_bytes_removed).c_str(),
                                       FormatBytes(w.store_bytes_after).c_str()));
  }
}

}  // namespace exam::ui
