#include "ui/score_sheet_view.h"

#include <google/protobuf/util/time_util.h>
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "store/action_methods.h"
#include "store/outbox.h"
#include "ui/theme.h"
#include "ui/widgets.h"

namespace exam::ui {

namespace v1 = exam::v1;
using google::protobuf::util::TimeUtil;

namespace {

std::string ScoreTarget(int64_t session, int question) {
  return "score:" + std::to_string(session) + ":" + std::to_string(question);
}
std::string NoteTarget(int64_t session) { return "note:" + std::to_string(session); }

float SnapToStep(float v, double max, double step) {
  if (step > 0) v = static_cast<float>(std::round(v / step) * step);
  return std::clamp(v, 0.0f, static_cast<float>(max));
}

}  // namespace

void ScoreSheetView::Reload(UiContext& ctx, int64_t session_id, const v1::Rubric& rubric) {
  score_actions_.clear();
  note_actions_.clear();
  if (ctx.outbox == nullptr) return;
  // One indexed query per question of the sheet, only when the outbox changed.
  for (const auto& item : rubric.items()) {
    const int q = item.question();
    auto rows = ctx.outbox->ForTarget(ScoreTarget(session_id, q));
    if (rows.empty()) continue;
    const auto& a = *std::max_element(rows.begin(), rows.end(), [](const auto& x, const auto& y) { return x.id < y.id; });
    score_actions_[q] = ActionRow{static_cast<int>(a.state), a.label, a.error_message, a.request};
  }
  for (const auto& a : ctx.outbox->ForTarget(NoteTarget(session_id)))
    if (a.state != local::ActionState::kConfirmed)
      note_actions_.push_back(ActionRow{static_cast<int>(a.state), a.label, a.error_message, a.request});
}

core::Micros ScoreSheetView::Draw(UiContext& ctx, int64_t session_id, const v1::Rubric& rubric,
                                  const net::ReviewSessionView& session, core::Micros origin_utc_us,
                                  core::Micros playhead_us) {
  core::Micros seek = -1;
  if (session_id != session_id_) {
    session_id_ = session_id;
    drafts_.clear();
    seen_outbox_version_ = UINT64_MAX;
    note_[0] = 0;
  }
  // Again when the sheet arrives after the session (the rubric comes with the exam's feed).
  if (ctx.outbox_version != seen_outbox_version_ || rubric.items_size() != seen_rubric_items_) {
    seen_outbox_version_ = ctx.outbox_version;
    seen_rubric_items_ = rubric.items_size();
    Reload(ctx, session_id, rubric);
  }

  // ---- score sheet ----
  TextUnformatted(Tr(str::kRvScoreSheet));
  ImGui::Separator();
  if (rubric.items_size() == 0) TextColored(theme::kMuted, Tr(str::kRvNoRubric));
  double total = 0;
  for (const auto& item : rubric.items()) {
    ImGui::PushID(item.question());
    const v1::Score* stored = nullptr;
    for (const auto& s : session.scores)
      if (s.question() == item.question()) stored = &s;
    Draft& d = drafts_[item.question()];
    if (!d.touched && stored != nullptr) {
      d.score = static_cast<float>(stored->score());
      std::snprintf(d.comment, sizeof d.comment, "%s", stored->comment().c_str());
    }
    char head[160];
    std::snprintf(head, sizeof head, "%d. %s", item.question(), item.title().c_str());
    TextUnformatted(head);
    ImGui::SameLine();
    const std::string of = Format(str::kRvScoreOf, item.max_score());
    TextColored(theme::kMuted, of);
    ImGui::SetNextItemWidth(110);
    const float speed = item.step() > 0 ? static_cast<float>(item.step()) : 0.1f;
    if (ImGui::DragFloat("##score", &d.score, speed, 0.0f, static_cast<float>(item.max_score()), "%.1f")) {
      d.score = SnapToStep(d.score, item.max_score(), item.step());
      d.touched = true;
    }
    ImGui::SameLine();
    ImGui::SetNextItemWidth(-70);
    if (ImGui::InputTextWithHint("##comment", Tr(str::kRvComment), d.comment, sizeof d.comment)) d.touched = true;
    ImGui::SameLine();
    ImGui::BeginDisabled(ctx.outbox == nullptr || !d.touched);
    if (ImGui::SmallButton(Tr(str::kRvSaveScore))) {
      v1::SubmitScoreRequest req;
      req.set_session_id(session_id);
      req.set_question(item.question());
      req.set_score(d.score);
      req.set_comment(d.comment);
      char label[96];
      std::snprintf(label, sizeof label, "%s %d: %g", Tr(str::kRvScoreLabel), item.question(), d.score);
      ctx.outbox->Enqueue(local::method::kSubmitScore, req, label, ScoreTarget(session_id, item.question()));
      d.touched = false;
    }
    ImGui::EndDisabled();
    if (auto it = score_actions_.find(item.question()); it != score_actions_.end()) {
      ActionStateText(it->second.state, it->second.label, it->second.error);
      if (it->second.state == static_cast<int>(local::ActionState::kFailed)) {
        ImGui::SameLine();
        TextColored(theme::kDanger, it->second.error);
      }
    } else if (stored != nullptr) {
      const std::string saved = Format(str::kRvSaved, stored->score());
      TextColored(theme::kOnline, saved);
    }
    total += d.score;
    ImGui::PopID();
  }
  if (rubric.items_size() > 0) {
    const std::string buf = Format(str::kRvTotal, total, rubric.total());
    TextUnformatted(buf);
  }
  ImGui::Spacing();

  // ---- notes ----
  TextUnformatted(Tr(str::kRvNotes));
  ImGui::Separator();
  if (focus_note_) {
    ImGui::SetKeyboardFocusHere();
    focus_note_ = false;
  }
  ImGui::SetNextItemWidth(-90);
  const bool enter = ImGui::InputTextWithHint("##note", Tr(str::kRvNoteHint), note_, sizeof note_,
                                              ImGuiInputTextFlags_EnterReturnsTrue);
  ImGui::SameLine();
  ImGui::BeginDisabled(ctx.outbox == nullptr || note_[0] == 0);
  if ((ImGui::SmallButton(Tr(str::kRvAddNote)) || enter) && ctx.outbox != nullptr && note_[0] != 0) {
    v1::AddAnnotationRequest req;
    req.set_session_id(session_id);
    *req.mutable_at() = TimeUtil::MicrosecondsToTimestamp(origin_utc_us + playhead_us);
    req.set_text(note_);
    const std::string label = std::string(Tr(str::kRvNoteLabel)) + " " + FormatMediaTime(playhead_us, true);
    ctx.outbox->Enqueue(local::method::kAddAnnotation, req, label, NoteTarget(session_id));
    note_[0] = 0;
  }
  ImGui::EndDisabled();
  for (const auto& a : note_actions_) {
    v1::AddAnnotationRequest req;
    if (!req.ParseFromString(a.request)) continue;
    TextColored(theme::kMuted, FormatMediaTime(TimeUtil::TimestampToMicroseconds(req.at()) - origin_utc_us, true));
    ImGui::SameLine();
    TextUnformatted(req.text());
    ImGui::SameLine();
    ActionStateText(a.state, a.label, a.error);
  }
  if (session.annotations.empty() && note_actions_.empty()) TextColored(theme::kMuted, Tr(str::kRvNoNotes));
  for (const auto& n : session.annotations) {
    ImGui::PushID(static_cast<int>(n.annotation_id()));
    const core::Micros at = TimeUtil::TimestampToMicroseconds(n.at()) - origin_utc_us;
    if (ImGui::SmallButton(FormatMediaTime(at, true).c_str())) seek = at;
    ImGui::SameLine();
    TextColored(theme::kMuted, n.author());
    ImGui::SameLine();
    ImGui::TextWrapped("%s", n.text().c_str());
    ImGui::PopID();
  }
  return seek;
}

}  // namespace exam::ui
