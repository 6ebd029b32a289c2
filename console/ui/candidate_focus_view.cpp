#include "ui/candidate_focus_view.h"

#include <GLFW/glfw3.h>  // glfwPostEmptyEvent: wake the frame loop when the history changed
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "media/frame_snapshot.h"
#include "ui/theme.h"
#include "ui/widgets.h"

namespace exam::ui {

namespace v1 = exam::v1;
using google::protobuf::util::TimeUtil;

namespace {

constexpr float kGap = 8.0f;

std::string Target(int64_t session_id) { return "session:" + std::to_string(session_id); }

std::string DrawNumberText(const v1::Session& s) {
  if (s.draw_number() <= 0) return Tr(str::kLiveNotDrawn);
  const std::string buf = Format(str::kLiveDrawNo, s.draw_number());
  return buf;
}

const char* TrackName(v1::TrackKind track) {
  switch (track) {
    case v1::TRACK_KIND_SCREEN: return Tr(str::kFocusScreen);
    case v1::TRACK_KIND_EVIDENCE: return Tr(str::kFocusEvidence);
    default: return Tr(str::kFocusCamera);
  }
}

const char* AlertKindName(int kind) {
  switch (kind) {
    case v1::ALERT_KIND_INTERRUPTION: return Tr(str::kAlertInterruption);
    case v1::ALERT_KIND_EVIDENCE_LOST: return Tr(str::kAlertEvidenceLost);
    case v1::ALERT_KIND_FACE_CHECK_FAILED: return Tr(str::kAlertFaceCheck);
    case v1::ALERT_KIND_SUSPECTED_VIOLATION: return Tr(str::kAlertSuspected);
    case v1::ALERT_KIND_LATE: return Tr(str::kAlertLate);
    default: return Tr(str::kAlerts);
  }
}

// The violation categories of the candidate manuals, in the order a proctor meets them.
struct CategoryLabel {
  v1::ViolationCategory category;
  const Text* text;
};
const CategoryLabel kCategories[] = {
    {v1::VIOLATION_CATEGORY_SECOND_SCREEN, &str::kVioSecondScreen},
    {v1::VIOLATION_CATEGORY_SCREEN_SWITCH, &str::kVioScreenSwitch},
    {v1::VIOLATION_CATEGORY_LEFT_SEAT, &str::kVioLeftSeat},
    {v1::VIOLATION_CATEGORY_OTHER_VOICES, &str::kVioOtherVoices},
    {v1::VIOLATION_CATEGORY_EARPHONES, &str::kVioEarphones},
    {v1::VIOLATION_CATEGORY_FACE_COVERED, &str::kVioFaceCovered},
    {v1::VIOLATION_CATEGORY_MASK, &str::kVioMask},
    {v1::VIOLATION_CATEGORY_FILTER, &str::kVioFilter},
    {v1::VIOLATION_CATEGORY_IDENTITY_REVEALED, &str::kVioIdentity},
    {v1::VIOLATION_CATEGORY_OTHER, &str::kVioOther},
};

const char* CategoryName(int category) {
  for (const auto& c : kCategories)
    if (c.category == category) return Tr(*c.text);
  return "—";
}

bool Alarming(v1::EventKind kind) {
  return kind == v1::EVENT_KIND_ALERT_RAISED || kind == v1::EVENT_KIND_INTERRUPTION_STARTED ||
         kind == v1::EVENT_KIND_HELP_RAISED || kind == v1::EVENT_KIND_VIOLATION_RECORDED ||
         kind == v1::EVENT_KIND_SESSION_ENDED;
}

// What the history shows after the event's kind.
std::string EventDetail(const v1::Event& e) {
  switch (e.kind()) {
    case v1::EVENT_KIND_ALERT_RAISED: {
      std::string out = AlertKindName(e.alert().kind());
      if (!e.alert().detail().empty()) out += " · " + e.alert().detail();
      return out;
    }
    case v1::EVENT_KIND_VIOLATION_RECORDED: {
      v1::ViolationCategory c = v1::VIOLATION_CATEGORY_UNSPECIFIED;
      if (v1::ViolationCategory_Parse(e.detail(), &c)) return CategoryName(c);
      return e.detail();
    }
    case v1::EVENT_KIND_DEVICE_CHANGED: {
      // "DEVICE_KIND_EVIDENCE_PHONE offline": the device in words, the state as it is.
      const auto space = e.detail().find(' ');
      v1::DeviceKind d = v1::DEVICE_KIND_UNSPECIFIED;
      if (space != std::string::npos && v1::DeviceKind_Parse(e.detail().substr(0, space), &d)) {
        const char* name = d == v1::DEVICE_KIND_LAPTOP ? Tr(str::kLaptop)
                           : d == v1::DEVICE_KIND_EVIDENCE_PHONE ? Tr(str::kPhone)
                                                                 : Tr(str::kSecondCamera);
        return std::string(name) + e.detail().substr(space);
      }
      return e.detail();
    }
    default: return e.detail();
  }
}

}  // namespace

CandidateFocusView::~CandidateFocusView() { Stop(); }

void CandidateFocusView::Stop() {
  if (feed_) feed_->Stop();
  feed_.reset();
}

void CandidateFocusView::Follow(UiContext& ctx, const v1::Session* s) {
  if (!feed_ && ctx.client != nullptr) {
    net::SessionHistoryFeed::Options options;
    options.refresh_every = std::chrono::seconds(5);
    options.on_change = [] { glfwPostEmptyEvent(); };
    feed_ = std::make_unique<net::SessionHistoryFeed>(*ctx.client, options);
  }
  const int64_t id = s != nullptr ? s->id() : 0;
  if (id != session_id_) {
    session_id_ = id;
    seen_session_ = s;
    seen_outbox_version_ = UINT64_MAX;
    glyphs_seen_events_ = 0;
    // Forms belong to one candidate: nothing typed for one goes to another.
    message_.clear();
    note_.clear();
    category_ = 0;
    snapshot_jpeg_.clear();
    snapshot_info_.clear();
    snapshot_error_.clear();
    end_reason_.clear();
    if (feed_) feed_->Follow(id);
  } else if (s != seen_session_) {
    // The session changed (a new alert, a stage): its history did too.
    seen_session_ = s;
    if (feed_) feed_->RefreshNow();
  }
  if (feed_) history_ = feed_->Current();
  if (ctx.outbox_version != seen_outbox_version_) {
    const bool first = seen_outbox_version_ == UINT64_MAX;
    seen_outbox_version_ = ctx.outbox_version;
    ReloadActions(ctx);
    // A confirmed action changed the history (an acknowledgement, a violation).
    if (!first && feed_) feed_->RefreshNow();
  }
  if (history_->key == session_id_ && ctx.want_glyphs) {
    for (size_t i = glyphs_seen_events_; i < history_->events.size(); ++i) ctx.want_glyphs(history_->events[i].detail());
    glyphs_seen_events_ = history_->events.size();
  }
}

void CandidateFocusView::ReloadActions(UiContext& ctx) {
  actions_.clear();
  if (ctx.outbox == nullptr || session_id_ == 0) return;
  for (const auto& a : ctx.outbox->ForTarget(Target(session_id_))) {
    ActionRow row;
    row.id = a.id;
    row.state = static_cast<int>(a.state);
    row.label = a.label;
    row.error = a.error_message;
    row.created_unix_ms = a.created_unix_ms;
    v1::ProctorActionRequest req;
    if (req.ParseFromString(a.request) && req.kind() == v1::PROCTOR_ACTION_KIND_ACKNOWLEDGE) row.alert_id = req.alert_id();
    actions_.push_back(std::move(row));
  }
  std::sort(actions_.begin(), actions_.end(), [](const ActionRow& a, const ActionRow& b) { return a.id > b.id; });
}

std::vector<const v1::AlertRecord*> CandidateFocusView::OpenAlerts() const {
  std::vector<const v1::AlertRecord*> out;
  if (history_->key != session_id_) return out;
  for (const auto* a : history_->OpenAlerts()) {
    const bool acting = std::any_of(actions_.begin(), actions_.end(), [&](const ActionRow& r) {
      return r.alert_id == a->id() && r.state != static_cast<int>(local::ActionState::kFailed);
    });
    if (!acting) out.push_back(a);
  }
  return out;
}

void CandidateFocusView::Enqueue(UiContext& ctx, const v1::Session& s, v1::ProctorActionRequest req,
                                 const std::string& label) {
  if (ctx.outbox == nullptr) return;
  req.set_session_id(s.id());
  ctx.outbox->Enqueue(local::method::kProctorAction, req, label + " · " + DrawNumberText(s), Target(s.id()));
}

bool CandidateFocusView::AcknowledgeOldest(UiContext& ctx, const v1::Session& s) {
  if (s.id() != session_id_) return false;
  const auto open = OpenAlerts();
  if (open.empty() || ctx.outbox == nullptr) return false;
  v1::ProctorActionRequest req;
  req.set_kind(v1::PROCTOR_ACTION_KIND_ACKNOWLEDGE);
  req.set_alert_id(open.front()->id());
  Enqueue(ctx, s, req, std::string(Tr(str::kActAck)) + " " + AlertKindName(open.front()->kind()));
  return true;
}

void CandidateFocusView::TakeSnapshot(const v1::Session& s, VideoSource& video) {
  snapshot_jpeg_.clear();
  snapshot_info_.clear();
  snapshot_error_.clear();
  auto frame = video.LatestFrame(s.id(), snapshot_track_);
  if (!frame) {
    snapshot_error_ = Tr(str::kFocusNoSnapshot);
    return;
  }
  auto jpeg = media::EncodeJpeg(*frame);
  if (jpeg.bytes.empty()) {
    snapshot_error_ = jpeg.error;
    return;
  }
  const std::string buf = Format(str::kFocusSnapshotTaken, TrackName(snapshot_track_), frame->width, frame->height, static_cast<int>((jpeg.bytes.size() + 1023) / 1024));
  snapshot_info_ = buf;
  snapshot_jpeg_ = std::move(jpeg.bytes);
}

bool CandidateFocusView::Draw(UiContext& ctx, const v1::Session& s, ImVec2 pos, ImVec2 size, VideoSource& video) {
  bool back = false;
  ImGui::SetCursorScreenPos(pos);
  ImGui::BeginChild("##focus", size, false, ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
  DrawHeader(ctx, s, &back);

  const ImVec2 videos_pos = ImGui::GetCursorScreenPos();
  const float line = ImGui::GetTextLineHeightWithSpacing();
  const float cell_w = (size.x - 2 * kGap) / 3;
  const float videos_h = std::min(size.y * 0.48f, cell_w * 9.0f / 16.0f + line);
  DrawVideos(s, videos_pos, ImVec2(size.x, videos_h), video);
  ImGui::SetCursorScreenPos(ImVec2(videos_pos.x, videos_pos.y + videos_h + kGap));

  const float rest_h = std::max(60.0f, ImGui::GetContentRegionAvail().y);
  const float history_w = std::floor(size.x * 0.5f);
  ImGui::BeginChild("##history", ImVec2(history_w, rest_h), true);
  DrawHistory(ctx);
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("##actions", ImVec2(0, rest_h), true);
  DrawActions(ctx, s, video);
  ImGui::EndChild();
  DrawEndExamPopup(ctx, s);
  ImGui::EndChild();

  // M and V go to the forms; the wall keeps Esc, arrows, A and H.
  if (ImGui::IsWindowFocused(ImGuiFocusedFlags_RootAndChildWindows) && !ImGui::GetIO().WantTextInput &&
      !ImGui::IsPopupOpen("##end_exam")) {
    if (ImGui::IsKeyPressed(GLFW_KEY_M, false)) focus_message_ = true;
    if (ImGui::IsKeyPressed(GLFW_KEY_V, false)) {
      focus_note_ = true;
      if (snapshot_jpeg_.empty()) TakeSnapshot(s, video);
    }
  }
  return !back;
}

void CandidateFocusView::DrawHeader(UiContext& ctx, const v1::Session& s, bool* back) {
  if (ImGui::Button(Label(str::kFocusBack, "focus_back").c_str())) *back = true;
  ImGui::SameLine();
  TextUnformatted(DrawNumberText(s));
  ImGui::SameLine();
  StageLabel(static_cast<core::Stage>(s.stage()));
  if (s.stage() == v1::STAGE_ANSWERING && s.current_question() > 0) {
    int total = 0;
    if (ctx.snapshot)
      if (const auto* exam = ctx.snapshot->FindExam(s.exam_id())) total = exam->questions_size();
    const std::string buf = Format(str::kLiveQuestion, s.current_question(), total);
    std::string q = buf;
    if (s.has_question_deadline() && ctx.backend_now_ms > 0)
      q += " " + FormatDuration(TimeUtil::TimestampToMilliseconds(s.question_deadline()) - ctx.backend_now_ms);
    ImGui::SameLine();
    TextUnformatted(q);
  }
  if (s.open_help() > 0) {
    ImGui::SameLine();
    Badge(Tr(str::kLiveBadgeHelp), theme::kDanger);
  }
  if (s.has_interruption_started_at()) {
    ImGui::SameLine();
    Badge(Format(str::kLiveBadgeInterrupted, std::max(1, s.interruptions())), theme::kDanger);
  }
  if (s.open_alerts() > 0) {
    ImGui::SameLine();
    Badge(Format(str::kLiveBadgeAlerts, s.open_alerts()), theme::kWarning);
  }
  if (s.appeal_pending()) {
    ImGui::SameLine();
    Badge(Tr(str::kLiveBadgeAppeal), theme::kAccent);
  }
  ImGui::SameLine();
  TextColored(theme::kMuted, Tr(str::kFocusHint));
}

void CandidateFocusView::DrawVideos(const v1::Session& s, ImVec2 pos, ImVec2 size, VideoSource& video) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float line = ImGui::GetTextLineHeightWithSpacing();
  const float cell_w = (size.x - 2 * kGap) / 3;
  const v1::TrackKind tracks[] = {v1::TRACK_KIND_CAMERA, v1::TRACK_KIND_SCREEN, v1::TRACK_KIND_EVIDENCE};
  for (int i = 0; i < 3; ++i) {
    const float x = pos.x + i * (cell_w + kGap);
    std::string label = TrackName(tracks[i]);
    auto frame = video.LatestFrame(s.id(), tracks[i]);
    float aspect = 16.0f / 9.0f;
    if (frame && frame->width > 0 && frame->height > 0) {
      aspect = static_cast<float>(frame->width) / static_cast<float>(frame->height);
      label += "  " + std::to_string(frame->width) + "×" + std::to_string(frame->height);
    }
    dl->AddText(ImVec2(x, pos.y), theme::kMuted, label.c_str());
    ImVec2 p0(x, pos.y + line), p1(x + cell_w, pos.y + size.y);
    dl->AddRectFilled(p0, p1, IM_COL32(20, 23, 28, 255));
    FitAspect(&p0, &p1, aspect);
    video.DrawTrack(dl, s, tracks[i], p0, p1);
  }
}

void CandidateFocusView::DrawHistory(UiContext&) {
  TextUnformatted(Tr(str::kFocusHistory));
  ImGui::Separator();
  const auto& h = *history_;
  if (h.key != session_id_ || (!h.loaded && h.error.empty())) {
    TextColored(theme::kMuted, Tr(str::kFocusHistoryLoading));
    return;
  }
  if (!h.error.empty()) {
    const std::string buf = Format(str::kFocusHistoryError, h.error.c_str());
    TextColored(theme::kDanger, buf);
    if (!h.loaded) return;
  }
  if (h.events.empty()) {
    TextColored(theme::kMuted, Tr(str::kFocusHistoryEmpty));
    return;
  }
  if (!ImGui::BeginTable("##events", 3, ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingFixedFit))
    return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn(Tr(str::kTime));
  ImGui::TableSetupColumn(Tr(str::kKind));
  ImGui::TableSetupColumn(Tr(str::kDetail), ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableHeadersRow();
  // Newest first: what just happened is what the proctor looks for.
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(h.events.size()));
  while (clipper.Step()) {
    for (int row = clipper.DisplayStart; row < clipper.DisplayEnd; ++row) {
      const auto& e = h.events[h.events.size() - 1 - static_cast<size_t>(row)];
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      TextColored(theme::kMuted, FormatClock(TimeUtil::TimestampToMilliseconds(e.time())));
      ImGui::TableNextColumn();
      TextColored(Alarming(e.kind()) ? theme::kWarning : theme::kText, EventKindName(e.kind()));
      ImGui::TableNextColumn();
      TextUnformatted(EventDetail(e));
    }
  }
  ImGui::EndTable();
}

void CandidateFocusView::DrawActions(UiContext& ctx, const v1::Session& s, VideoSource& video) {
  const bool ended = s.stage() == v1::STAGE_ENDED;
  const bool can_act = ctx.outbox != nullptr;

  // Open alerts, each with its acknowledgement.
  const auto open = OpenAlerts();
  TextUnformatted(std::string(Tr(str::kFocusAlerts)) + " (" + std::to_string(open.size()) + ")");
  if (open.empty()) TextColored(theme::kMuted, Tr(str::kFocusNoAlerts));
  for (const auto* a : open) {
    ImGui::PushID(static_cast<int>(a->id()));
    TextColored(theme::kMuted, FormatClock(TimeUtil::TimestampToMilliseconds(a->raised_at())));
    ImGui::SameLine();
    TextColored(theme::kWarning, AlertKindName(a->kind()));
    if (!a->detail().empty()) {
      ImGui::SameLine();
      TextUnformatted(a->detail());
    }
    ImGui::SameLine();
    ImGui::BeginDisabled(!can_act);
    if (ImGui::SmallButton(Tr(str::kFocusAck))) {
      v1::ProctorActionRequest req;
      req.set_kind(v1::PROCTOR_ACTION_KIND_ACKNOWLEDGE);
      req.set_alert_id(a->id());
      Enqueue(ctx, s, req, std::string(Tr(str::kActAck)) + " " + AlertKindName(a->kind()));
    }
    ImGui::EndDisabled();
    ImGui::PopID();
  }
  ImGui::Separator();

  // Message or formal warning.
  TextUnformatted(Tr(str::kFocusMessage));
  char message[512];
  std::snprintf(message, sizeof message, "%s", message_.c_str());
  if (focus_message_) {
    ImGui::SetKeyboardFocusHere();
    focus_message_ = false;
  }
  ImGui::SetNextItemWidth(-1);
  const bool enter = ImGui::InputTextWithHint("##focus_message", Tr(str::kFocusMessageHint), message, sizeof message,
                                              ImGuiInputTextFlags_EnterReturnsTrue);
  message_ = message;
  ImGui::BeginDisabled(!can_act || ended || message_.empty());
  auto send = [&](v1::ProctorActionKind kind, const Text& label) {
    v1::ProctorActionRequest req;
    req.set_kind(kind);
    req.set_text(message_);
    Enqueue(ctx, s, req, Tr(label));
    message_.clear();
  };
  if (ImGui::Button(Tr(str::kFocusSendMessage)) || (enter && !message_.empty() && can_act && !ended))
    send(v1::PROCTOR_ACTION_KIND_MESSAGE, str::kActMessage);
  ImGui::SameLine();
  ImGui::PushStyleColor(ImGuiCol_Button, theme::ToVec4(IM_COL32(150, 105, 30, 255)));
  if (ImGui::Button(Tr(str::kFocusSendWarning))) send(v1::PROCTOR_ACTION_KIND_WARN, str::kActWarn);
  ImGui::PopStyleColor();
  ImGui::EndDisabled();
  ImGui::Separator();

  // Violation: category, note, snapshot of the live picture.
  TextUnformatted(Tr(str::kFocusViolation));
  ImGui::SetNextItemWidth(200);
  if (ImGui::BeginCombo(Tr(str::kFocusCategory), category_ == 0 ? "—" : CategoryName(category_))) {
    for (const auto& c : kCategories)
      if (ImGui::Selectable(Tr(*c.text), category_ == c.category)) category_ = c.category;
    ImGui::EndCombo();
  }
  char note[512];
  std::snprintf(note, sizeof note, "%s", note_.c_str());
  if (focus_note_) {
    ImGui::SetKeyboardFocusHere();
    focus_note_ = false;
  }
  ImGui::SetNextItemWidth(-1);
  ImGui::InputTextWithHint("##focus_note", Tr(str::kFocusNote), note, sizeof note);
  note_ = note;
  const v1::TrackKind tracks[] = {v1::TRACK_KIND_CAMERA, v1::TRACK_KIND_SCREEN, v1::TRACK_KIND_EVIDENCE};
  for (auto t : tracks) {
    if (ImGui::RadioButton(TrackName(t), snapshot_track_ == t)) snapshot_track_ = t;
    ImGui::SameLine();
  }
  if (ImGui::SmallButton(Tr(str::kFocusTakeSnapshot))) TakeSnapshot(s, video);
  if (!snapshot_info_.empty()) TextColored(theme::kOnline, snapshot_info_);
  if (!snapshot_error_.empty()) TextColored(theme::kDanger, snapshot_error_);
  const bool note_missing = category_ == v1::VIOLATION_CATEGORY_OTHER && note_.empty();
  if (note_missing) TextColored(theme::kMuted, Tr(str::kFocusNoteRequired));
  ImGui::BeginDisabled(!can_act || category_ == 0 || note_missing);
  if (ImGui::Button(Tr(str::kFocusRecord))) {
    // Without a picture taken on purpose, the one on screen now goes with the record.
    if (snapshot_jpeg_.empty()) TakeSnapshot(s, video);
    v1::ProctorActionRequest req;
    req.set_kind(v1::PROCTOR_ACTION_KIND_RECORD_VIOLATION);
    req.set_category(static_cast<v1::ViolationCategory>(category_));
    req.set_text(note_);
    req.set_snapshot(snapshot_jpeg_);
    Enqueue(ctx, s, req, std::string(Tr(str::kActViolation)) + " " + CategoryName(category_));
    category_ = 0;
    note_.clear();
    snapshot_jpeg_.clear();
    snapshot_info_.clear();
  }
  ImGui::EndDisabled();
  ImGui::Separator();

  // Ending the exam: a button that only opens the confirmation.
  ImGui::BeginDisabled(!can_act || ended);
  ImGui::PushStyleColor(ImGuiCol_Button, theme::ToVec4(IM_COL32(160, 50, 50, 255)));
  if (ImGui::Button(Tr(str::kFocusEndExam))) open_end_popup_ = true;
  ImGui::PopStyleColor();
  ImGui::EndDisabled();
  if (ended) {
    ImGui::SameLine();
    TextColored(theme::kMuted, Tr(str::kFocusEnded));
  }
  ImGui::Separator();

  // What this proctor did to this candidate, newest first, with where it stands.
  TextUnformatted(Tr(str::kFocusActions));
  if (actions_.empty()) TextColored(theme::kMuted, Tr(str::kFocusNoActions));
  for (const auto& a : actions_) {
    ImGui::PushID(static_cast<int>(a.id));
    TextColored(theme::kMuted, FormatClock(a.created_unix_ms));
    ImGui::SameLine();
    TextUnformatted(a.label);
    ImGui::SameLine();
    ActionStateText(a.state, a.label, a.error);
    if (a.state == static_cast<int>(local::ActionState::kFailed) && !a.error.empty()) {
      ImGui::SameLine();
      TextColored(theme::kDanger, a.error);
    }
    ImGui::PopID();
  }
}

void CandidateFocusView::DrawEndExamPopup(UiContext& ctx, const v1::Session& s) {
  if (open_end_popup_) {
    ImGui::OpenPopup("##end_exam");
    open_end_popup_ = false;
  }
  if (!ImGui::BeginPopupModal("##end_exam", nullptr, ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoTitleBar))
    return;
  TextColored(theme::kDanger, std::string(Tr(str::kFocusEndTitle)) + " · " + DrawNumberText(s));
  TextUnformatted(Tr(str::kFocusEndWarning));
  char reason[512];
  std::snprintf(reason, sizeof reason, "%s", end_reason_.c_str());
  if (ImGui::IsWindowAppearing()) ImGui::SetKeyboardFocusHere();
  ImGui::SetNextItemWidth(420);
  ImGui::InputTextWithHint("##end_reason", Tr(str::kFocusEndReason), reason, sizeof reason);
  end_reason_ = reason;
  ImGui::BeginDisabled(end_reason_.empty());
  ImGui::PushStyleColor(ImGuiCol_Button, theme::ToVec4(IM_COL32(160, 50, 50, 255)));
  if (ImGui::Button(Tr(str::kFocusEndConfirm))) {
    v1::ProctorActionRequest req;
    req.set_kind(v1::PROCTOR_ACTION_KIND_TERMINATE);
    req.set_text(end_reason_);
    Enqueue(ctx, s, req, Tr(str::kActEnd));
    end_reason_.clear();
    ImGui::CloseCurrentPopup();
  }
  ImGui::PopStyleColor();
  ImGui::EndDisabled();
  ImGui::SameLine();
  if (ImGui::Button(Tr(str::kFocusCancel)) || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape))) {
    end_reason_.clear();
    ImGui::CloseCurrentPopup();
  }
  ImGui::EndPopup();
}

}  // namespace exam::ui
