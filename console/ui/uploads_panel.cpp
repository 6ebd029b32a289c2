#include "ui/uploads_panel.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "exam/v1/upload.pb.h"
#include "store/action_methods.h"
#include "store/outbox.h"
#include "ui/theme.h"
#include "ui/widgets.h"

namespace exam::ui {

namespace v1 = exam::v1;
using google::protobuf::util::TimeUtil;

namespace {

std::string FormatRate(double bytes_per_s) {
  if (bytes_per_s <= 0) return "—";
  return FormatBytes(static_cast<int64_t>(bytes_per_s)) + "/s";
}

const Text& UrgencyText(core::UploadUrgency u) {
  switch (u) {
    case core::UploadUrgency::kLate: return str::kGroupLate;
    case core::UploadUrgency::kStuck: return str::kGroupStuck;
    case core::UploadUrgency::kOffline: return str::kGroupOffline;
    case core::UploadUrgency::kAbnormal: return str::kGroupAbnormal;
    case core::UploadUrgency::kWaiting: return str::kGroupWaiting;
    case core::UploadUrgency::kOnTrack: return str::kGroupOnTrack;
    case core::UploadUrgency::kComplete: return str::kGroupComplete;
  }
  return str::kGroupWaiting;
}

ImU32 UrgencyColor(core::UploadUrgency u) {
  switch (u) {
    case core::UploadUrgency::kLate:
    case core::UploadUrgency::kAbnormal: return theme::kDanger;
    case core::UploadUrgency::kStuck:
    case core::UploadUrgency::kOffline: return theme::kWarning;
    case core::UploadUrgency::kOnTrack:
    case core::UploadUrgency::kComplete: return theme::kOnline;
    case core::UploadUrgency::kWaiting: return theme::kMuted;
  }
  return theme::kMuted;
}

const Text& StateText(v1::UploadState s) {
  switch (s) {
    case v1::UPLOAD_STATE_RECORDING: return str::kUpRecording;
    case v1::UPLOAD_STATE_UPLOADING: return str::kUpUploading;
    case v1::UPLOAD_STATE_INTERRUPTED: return str::kUpInterrupted;
    case v1::UPLOAD_STATE_COMPLETE: return str::kUpComplete;
    case v1::UPLOAD_STATE_ABNORMAL: return str::kUpAbnormal;
    default: return str::kUpPending;
  }
}

const Text& DeviceText(v1::DeviceKind d) {
  switch (d) {
    case v1::DEVICE_KIND_EVIDENCE_PHONE: return str::kPhone;
    case v1::DEVICE_KIND_SECOND_CAMERA: return str::kSecondCamera;
    default: return str::kLaptop;
  }
}

std::string Key(const char* what, int64_t file_id) { return std::string(what) + ":" + std::to_string(file_id); }

}  // namespace

void UploadsPanel::Place(const UiContext& ctx) {
  ImGui::SetNextWindowPos(ctx.work_pos);
  ImGui::SetNextWindowSize(ctx.work_size);
}

ImGuiWindowFlags UploadsPanel::Flags() const {
  return ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
         ImGuiWindowFlags_NoBringToFrontOnFocus | ImGuiWindowFlags_NoTitleBar;
}

bool UploadsPanel::RerecordPermitted(const UiContext& ctx) const {
  const auto* exam = ctx.snapshot ? ctx.snapshot->FindExam(exam_id_) : nullptr;
  return exam != nullptr && exam->rules().rerecord_allowed();
}

void UploadsPanel::RefreshOutboxCache(const UiContext& ctx) {
  if (ctx.outbox == nullptr || ctx.outbox_version == outbox_seen_version_) return;
  outbox_seen_version_ = ctx.outbox_version;
  action_by_file_.clear();
  // Newest first: the first action seen for a file is the one to show.
  for (const auto& a : ctx.outbox->Recent(200)) {
    if (a.target.rfind("upload:", 0) != 0) continue;
    const int64_t id = std::strtoll(a.target.c_str() + 7, nullptr, 10);
    if (action_by_file_.count(id)) continue;
    action_by_file_[id] = ActionSummary{static_cast<int>(a.state), a.label, a.error_message};
  }
  if (ctx.uploads) ctx.uploads->RefreshNow();  // a confirmed action changed the file
}

void UploadsPanel::DrawContent(UiContext& ctx) {
  const bool support = std::any_of(ctx.status.roles.begin(), ctx.status.roles.end(), [](v1::Role r) {
    return r == v1::ROLE_SUPPORT || r == v1::ROLE_ADMIN;
  });
  if (!support) {
    TextUnformatted(Tr(str::kUploadsForSupport));
    return;
  }
  if (ctx.uploads == nullptr) return;
  // Follow the first exam unless one was picked.
  if (exam_id_ == 0 && ctx.snapshot && ctx.snapshot->exams && !ctx.snapshot->exams->empty())
    exam_id_ = ctx.snapshot->exams->front().id();
  ctx.uploads->Watch(exam_id_);
  ctx.uploads->Select(selected_file_);
  RefreshOutboxCache(ctx);

  DrawToolbar(ctx);
  const auto view = ctx.uploads->View();
  if (!view->loaded) {
    ImGui::Spacing();
    if (!view->error.empty()) TextColored(theme::kDanger, std::string(Tr(str::kError)) + ": " + view->error);
    else TextColored(theme::kMuted, Tr(str::kLoadingUploads));
    return;
  }
  net::UploadBoardQuery query;
  query.search = search_;
  query.include_complete = include_complete_;
  query.room_id = room_id_;
  const int64_t now = ctx.backend_now_ms != 0 ? ctx.backend_now_ms : view->fetched_at_backend_ms;
  const net::UploadBoard board = net::BuildUploadBoard(view->files, now, query);
  DrawSummary(board.counts);
  if (!view->error.empty()) TextColored(theme::kWarning, std::string(Tr(str::kError)) + ": " + view->error);
  // Open on the most urgent file, so its history and actions are in view at once.
  // A file chosen for the user (not by them) follows the top of the list as it changes.
  const bool selected_listed = std::any_of(board.rows.begin(), board.rows.end(),
                                           [&](const auto& r) { return r.file->id() == selected_file_; });
  if ((selected_file_ == 0 || (auto_selected_ && !selected_listed)) && !board.rows.empty()) {
    selected_file_ = board.rows.front().file->id();
    auto_selected_ = true;
  }
  HandleKeys(ctx, board);

  const float detail_w = std::clamp(ImGui::GetContentRegionAvail().x * 0.32f, 280.0f, 460.0f);
  ImGui::BeginChild("uploads_table_area", ImVec2(ImGui::GetContentRegionAvail().x - detail_w - 8.0f, 0));
  if (board.rows.empty()) {
    ImGui::Spacing();
    TextUnformatted(Tr(str::kNoUploads));
    TextColored(theme::kMuted, Tr(str::kNoUploadsHint));
  } else {
    DrawTable(ctx, board);
  }
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("uploads_detail", ImVec2(0, 0), true);
  const v1::UploadFile* selected = nullptr;
  for (const auto& f : view->files)
    if (f.id() == selected_file_) selected = &f;
  if (selected && view->selected_loaded && view->selected.id() == selected_file_) selected = &view->selected;
  DrawDetail(ctx, selected);
  ImGui::EndChild();
}

void UploadsPanel::DrawToolbar(UiContext& ctx) {
  if (ExamAndRoomPicker(ctx, "uploads", &exam_id_, &room_id_)) selected_file_ = 0;
  ImGui::SameLine();
  ImGui::SetNextItemWidth(240.0f);
  if (focus_search_) {
    ImGui::SetKeyboardFocusHere();
    focus_search_ = false;
  }
  ImGui::InputTextWithHint("##upload_search", Tr(str::kUploadSearch), search_, sizeof search_);
  ImGui::SameLine();
  ImGui::Checkbox(Label(str::kShowComplete, "show_complete").c_str(), &include_complete_);
  ImGui::SameLine();
  TextColored(theme::kMuted, Tr(str::kUploadKeys));
}

void UploadsPanel::DrawSummary(const net::UploadCounts& c) {
  char line[256];
  std::snprintf(line, sizeof line, Tr(str::kUploadsSummary), c.complete, c.files, c.late, c.abnormal, c.stuck, c.offline);
  // The normal font: the large one only carries the glyphs of headline numbers.
  TextColored(c.late + c.abnormal > 0 ? theme::kDanger : (c.stuck + c.offline > 0 ? theme::kWarning : theme::kOnline), line);
  char people[128];
  std::snprintf(people, sizeof people, Tr(str::kUploadsCandidates), c.candidates_incomplete);
  TextColored(theme::kMuted, people);
}

void UploadsPanel::HandleKeys(UiContext& ctx, const net::UploadBoard& board) {
  if (ImGui::GetIO().KeyCtrl && ImGui::IsKeyPressed('F', false)) focus_search_ = true;
  if (ImGui::GetIO().WantTextInput || dialog_ != Dialog::kNone || board.rows.empty()) return;
  if (!ImGui::IsWindowFocused(ImGuiFocusedFlags_RootAndChildWindows)) return;
  auto it = std::find_if(board.rows.begin(), board.rows.end(), [&](const auto& r) { return r.file->id() == selected_file_; });
  const int index = it == board.rows.end() ? -1 : static_cast<int>(it - board.rows.begin());
  const int count = static_cast<int>(board.rows.size());
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_DownArrow))) {
    selected_file_ = board.rows[std::min(count - 1, index + 1)].file->id();
    scroll_to_selected_ = true;
    auto_selected_ = false;
  }
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_UpArrow))) {
    selected_file_ = board.rows[std::max(0, index - 1)].file->id();
    scroll_to_selected_ = true;
    auto_selected_ = false;
  }
  if (index < 0) return;
  const auto& file = *board.rows[index].file;
  if (ImGui::IsKeyPressed('R', false) && file.state() != v1::UPLOAD_STATE_COMPLETE &&
      file.state() != v1::UPLOAD_STATE_ABNORMAL) {
    v1::UploadActionRequest req;
    req.set_file_id(file.id());
    Enqueue(ctx, local::method::kRequestRecall, req,
            std::string(Tr(str::kRecall)) + " #" + std::to_string(file.draw_number()) + " " + file.name(), file.id());
  }
  if (ImGui::IsKeyPressed('E', false)) {
    dialog_ = Dialog::kExtend;
    dialog_opened_ = false;
  }
}

void UploadsPanel::DrawTable(UiContext& ctx, const net::UploadBoard& board) {
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersOuter | ImGuiTableFlags_BordersInnerV |
                                ImGuiTableFlags_ScrollY | ImGuiTableFlags_Resizable | ImGuiTableFlags_SizingFixedFit;
  if (!ImGui::BeginTable("uploads_table", 9, flags)) return;
  ImGui::TableSetupScrollFreeze(2, 1);
  ImGui::TableSetupColumn(Tr(str::kDrawNo));
  ImGui::TableSetupColumn(Tr(str::kName));
  ImGui::TableSetupColumn(Tr(str::kDevice));
  ImGui::TableSetupColumn(Tr(str::kProgress), ImGuiTableColumnFlags_WidthStretch);
  // Fixed widths that fit "1:52:43" and "overdue 0:12:04", whatever the first rows held.
  const float digits = ImGui::CalcTextSize("00:00:00").x + 8.0f;
  ImGui::TableSetupColumn(Tr(str::kRate), ImGuiTableColumnFlags_WidthFixed, digits);
  ImGui::TableSetupColumn(Tr(str::kEta), ImGuiTableColumnFlags_WidthFixed, digits);
  ImGui::TableSetupColumn(Tr(str::kDeadline), ImGuiTableColumnFlags_WidthFixed, digits * 1.6f);
  ImGui::TableSetupColumn(Tr(str::kState));
  ImGui::TableSetupColumn(Tr(str::kAction));
  ImGui::TableHeadersRow();
  core::UploadUrgency group = core::UploadUrgency::kComplete;
  bool first = true;
  for (const auto& row : board.rows) {
    if (first || row.outlook.urgency != group) {
      group = row.outlook.urgency;
      first = false;
      int n = 0;
      for (const auto& r : board.rows) n += r.outlook.urgency == group;
      ImGui::TableNextRow();
      ImGui::TableSetColumnIndex(0);
      char head[128];
      std::snprintf(head, sizeof head, "%s (%d)", Tr(UrgencyText(group)), n);
      StatusDot(UrgencyColor(group));
      ImGui::SameLine();
      TextColored(UrgencyColor(group), head);
    }
    DrawRow(ctx, row);
  }
  ImGui::EndTable();
}

void UploadsPanel::DrawRow(UiContext& ctx, const net::UploadBoardRow& row) {
  const auto& f = *row.file;
  ImGui::PushID(static_cast<int>(f.id()));
  ImGui::TableNextRow();
  ImGui::TableSetColumnIndex(0);
  const bool selected = f.id() == selected_file_;
  char draw[16];
  std::snprintf(draw, sizeof draw, "%d", f.draw_number());
  if (ImGui::Selectable(draw, selected, ImGuiSelectableFlags_SpanAllColumns | ImGuiSelectableFlags_AllowItemOverlap)) {
    selected_file_ = f.id();
    auto_selected_ = false;
  }
  if (selected && scroll_to_selected_) {
    ImGui::SetScrollHereY();
    scroll_to_selected_ = false;
  }
  ImGui::TableSetColumnIndex(1);
  TextUnformatted(f.candidate_name());
  ImGui::TableSetColumnIndex(2);
  TextUnformatted(std::string(Tr(DeviceText(f.device()))) + (f.device_model().empty() ? "" : " · " + f.device_model()));
  if (!f.device_online()) {
    ImGui::SameLine();
    Badge(Tr(str::kOffline), theme::kWarning, IM_COL32(20, 20, 20, 255));
  }
  ImGui::TableSetColumnIndex(3);
  const std::string progress = FormatBytes(f.committed()) + " / " + FormatBytes(f.size());
  ImGui::PushStyleColor(ImGuiCol_PlotHistogram, theme::ToVec4(UrgencyColor(row.outlook.urgency)));
  ImGui::ProgressBar(static_cast<float>(row.outlook.fraction), ImVec2(-1, 0), progress.c_str());
  ImGui::PopStyleColor();
  ImGui::TableSetColumnIndex(4);
  TextUnformatted(FormatRate(f.rate()));
  ImGui::TableSetColumnIndex(5);
  TextUnformatted(row.outlook.eta ? FormatDuration(row.outlook.eta->count()) : "—");
  ImGui::TableSetColumnIndex(6);
  if (!row.outlook.time_left) {
    TextColored(theme::kMuted, Tr(str::kNotEnded));
  } else {
    const int64_t left = row.outlook.time_left->count();
    const bool late = row.outlook.urgency == core::UploadUrgency::kLate;
    TextColored(left < 0 ? theme::kDanger : (late ? theme::kWarning : theme::kText),
                left < 0 ? std::string(Tr(str::kOverdue)) + " " + FormatDuration(-left) : FormatDuration(left));
  }
  ImGui::TableSetColumnIndex(7);
  TextColored(f.state() == v1::UPLOAD_STATE_ABNORMAL ? theme::kDanger : theme::kText, Tr(StateText(f.state())));
  if (f.recall_requested()) {
    ImGui::SameLine();
    Badge(Tr(str::kRecallOutstanding), theme::kAccent);
  }
  ImGui::TableSetColumnIndex(8);
  DrawActionState(ctx, f.id());
  ImGui::PopID();
}

void UploadsPanel::DrawActionState(const UiContext&, int64_t file_id) {
  auto it = action_by_file_.find(file_id);
  if (it == action_by_file_.end()) return;
  ActionStateText(it->second.state, it->second.label, it->second.error);
}

void UploadsPanel::Enqueue(UiContext& ctx, const char* method, const google::protobuf::Message& request,
                           const std::string& label, int64_t file_id) {
  if (ctx.outbox == nullptr) return;
  try {
    ctx.outbox->Enqueue(method, request, label, Key("upload", file_id));
  } catch (const std::exception& e) {  // a local store failure: the action was not taken
    action_by_file_[file_id] = ActionSummary{static_cast<int>(local::ActionState::kFailed), label, e.what()};
    return;
  }
  outbox_seen_version_ = UINT64_MAX;  // show "pending" at once
}

void UploadsPanel::DrawDetail(UiContext& ctx, const v1::UploadFile* f) {
  if (f == nullptr) {
    TextColored(theme::kMuted, Tr(str::kSelectFile));
    return;
  }
  const auto outlook = core::AssessUpload(net::FactsOf(*f), core::FromUnixMillis(ctx.backend_now_ms));
  char head[160];
  std::snprintf(head, sizeof head, "#%d  %s", f->draw_number(), f->candidate_name().c_str());
  TextUnformatted(head);
  TextUnformatted(f->name());
  TextColored(theme::kMuted, std::string(Tr(DeviceText(f->device()))) + " · " + f->device_model() + " · " +
                                 Tr(f->device_online() ? str::kStateOnline : str::kOffline));
  Badge(Tr(UrgencyText(outlook.urgency)), UrgencyColor(outlook.urgency));
  ImGui::SameLine();
  TextUnformatted(Tr(StateText(f->state())));
  if (!f->abnormal_reason().empty()) TextColored(theme::kDanger, f->abnormal_reason());
  ImGui::PushStyleColor(ImGuiCol_PlotHistogram, theme::ToVec4(UrgencyColor(outlook.urgency)));
  ImGui::ProgressBar(static_cast<float>(outlook.fraction), ImVec2(-1, 0),
                     (FormatBytes(f->committed()) + " / " + FormatBytes(f->size())).c_str());
  ImGui::PopStyleColor();
  if (f->has_last_progress_at())
    TextUnformatted(std::string(Tr(str::kLastProgress)) + " " +
                    FormatClock(TimeUtil::TimestampToMilliseconds(f->last_progress_at())) + "  ·  " +
                    Tr(str::kRate) + " " + FormatRate(f->rate()) +
                    (outlook.eta ? std::string("  ·  ") + Tr(str::kEta) + " " + FormatDuration(outlook.eta->count()) : ""));
  if (f->has_deadline())
    TextUnformatted(std::string(Tr(str::kDeadline)) + " " + FormatClock(TimeUtil::TimestampToMilliseconds(f->deadline())) +
                    (f->has_deadline_extension() ? "  (+" + FormatDuration(TimeUtil::DurationToMilliseconds(f->deadline_extension())) + ")" : ""));
  ImGui::Separator();

  // Actions; each goes through the outbox.
  const bool finished = f->state() == v1::UPLOAD_STATE_COMPLETE;
  const bool abnormal = f->state() == v1::UPLOAD_STATE_ABNORMAL;
  ImGui::BeginDisabled(finished || abnormal);
  if (ImGui::Button(Label(str::kRecall, "recall").c_str())) {
    v1::UploadActionRequest req;
    req.set_file_id(f->id());
    Enqueue(ctx, local::method::kRequestRecall, req,
            std::string(Tr(str::kRecall)) + " #" + std::to_string(f->draw_number()) + " " + f->name(), f->id());
  }
  ImGui::SameLine();
  if (ImGui::Button(Label(str::kExtend, "extend").c_str())) {
    dialog_ = Dialog::kExtend;
    dialog_opened_ = false;
  }
  ImGui::EndDisabled();
  ImGui::BeginDisabled(finished || (abnormal && (f->rerecord_allowed() || !RerecordPermitted(ctx))));
  if (ImGui::Button(Label(str::kMarkAbnormal, "abnormal").c_str())) {
    dialog_ = Dialog::kAbnormal;
    dialog_opened_ = false;
  }
  ImGui::EndDisabled();
  ImGui::SameLine();
  if (ImGui::Button(Label(str::kNoteContact, "contact").c_str())) {
    dialog_ = Dialog::kContact;
    dialog_opened_ = false;
  }
  DrawActionState(ctx, f->id());
  DrawDialog(ctx, *f);

  ImGui::Separator();
  TextUnformatted(Tr(str::kHistory));
  for (auto it = f->history().rbegin(); it != f->history().rend(); ++it) {
    TextColored(theme::kMuted, FormatClock(TimeUtil::TimestampToMilliseconds(it->at())));
    ImGui::SameLine();
    TextUnformatted(it->kind() + "  " + it->actor());
    if (!it->detail().empty()) {
      ImGui::Indent();
      ImGui::PushTextWrapPos(0.0f);
      TextColored(theme::kMuted, it->detail());
      ImGui::PopTextWrapPos();
      ImGui::Unindent();
    }
  }
}

void UploadsPanel::DrawDialog(UiContext& ctx, const v1::UploadFile& f) {
  if (dialog_ == Dialog::kNone) return;
  const char* popup = "##upload_action";
  if (!dialog_opened_) {
    ImGui::OpenPopup(popup);
    dialog_opened_ = true;
    reason_[0] = '\0';
    allow_rerecord_ = false;
    dialog_error_.clear();
  }
  if (!ImGui::BeginPopupModal(popup, nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    dialog_ = Dialog::kNone;
    return;
  }
  const Text& title = dialog_ == Dialog::kExtend ? str::kExtend : dialog_ == Dialog::kAbnormal ? str::kMarkAbnormal : str::kNoteContact;
  TextUnformatted(std::string(Tr(title)) + " · #" + std::to_string(f.draw_number()) + " " + f.name());
  if (dialog_ == Dialog::kExtend) {
    for (int m : {30, 60, 120, 240}) {
      char b[32];
      std::snprintf(b, sizeof b, "+%d %s", m, Tr(str::kMinutes));
      if (ImGui::RadioButton(b, extend_minutes_ == m)) extend_minutes_ = m;
      ImGui::SameLine();
    }
    ImGui::NewLine();
  }
  if (ImGui::IsWindowAppearing()) ImGui::SetKeyboardFocusHere();
  ImGui::InputTextWithHint("##reason", Tr(dialog_ == Dialog::kExtend ? str::kReason : str::kNote), reason_, sizeof reason_);
  if (dialog_ == Dialog::kAbnormal) {
    const bool permitted = RerecordPermitted(ctx);
    ImGui::BeginDisabled(!permitted);
    ImGui::Checkbox(Label(str::kAllowRerecord, "rerecord").c_str(), &allow_rerecord_);
    ImGui::EndDisabled();
    if (!permitted) TextColored(theme::kMuted, Tr(str::kRerecordNotPermitted));
  }
  // The same rule the backend applies, so a refusal is seen before sending.
  std::string problem;
  if (core::TrimmedCharCount(reason_) < 2) problem = Tr(str::kReasonRequired);
  if (dialog_ == Dialog::kExtend && problem.empty()) {
    const auto v = core::CheckDeadlineExtension(static_cast<core::UploadState>(f.state()),
                                                core::Duration(TimeUtil::DurationToMilliseconds(f.deadline_extension())),
                                                core::minutes(extend_minutes_), reason_);
    if (!v.ok) problem = v.message;
  }
  if (!problem.empty()) TextColored(theme::kWarning, problem);
  ImGui::BeginDisabled(!problem.empty());
  const bool submit = ImGui::Button(Label(str::kSend, "submit").c_str()) ||
                      (problem.empty() && ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Enter)));
  ImGui::EndDisabled();
  ImGui::SameLine();
  const bool cancel = ImGui::Button(Label(str::kCancel, "cancel").c_str()) || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape));
  if (submit && problem.empty()) {
    const std::string who = " #" + std::to_string(f.draw_number()) + " " + f.name();
    if (dialog_ == Dialog::kExtend) {
      v1::ExtendDeadlineRequest req;
      req.set_file_id(f.id());
      *req.mutable_extension() = TimeUtil::MillisecondsToDuration(int64_t{extend_minutes_} * 60000);
      req.set_reason(reason_);
      Enqueue(ctx, local::method::kExtendDeadline, req, std::string(Tr(str::kExtend)) + who, f.id());
    } else {
      v1::UploadActionRequest req;
      req.set_file_id(f.id());
      req.set_note(reason_);
      req.set_allow_rerecord(dialog_ == Dialog::kAbnormal && allow_rerecord_);
      if (dialog_ == Dialog::kAbnormal)
        Enqueue(ctx, local::method::kMarkAbnormal, req, std::string(Tr(str::kMarkAbnormal)) + who, f.id());
      else
        Enqueue(ctx, local::method::kNoteContact, req, std::string(Tr(str::kNoteContact)) + who, f.id());
    }
  }
  if (submit || cancel) {
    dialog_ = Dialog::kNone;
    ImGui::CloseCurrentPopup();
  }
  ImGui::EndPopup();
}

void UploadsPanel::Hidden(UiContext& ctx) { if (ctx.uploads) ctx.uploads->Watch(0); }

}  // namespace exam::ui
