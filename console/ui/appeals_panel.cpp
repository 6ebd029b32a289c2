#include "ui/appeals_panel.h"

#include <GLFW/glfw3.h>  // glfwPostEmptyEvent: wake the frame loop when the feed changed

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>

#include "core/upload_rules.h"  // TrimmedCharCount
#include "exam/v1/appeal.pb.h"
#include "net/backend_client.h"
#include "store/action_methods.h"
#include "store/outbox.h"
#include "ui/theme.h"
#include "ui/widgets.h"

namespace exam::ui {

namespace v1 = exam::v1;
using google::protobuf::util::TimeUtil;

namespace {
constexpr ImU32 kCritical = IM_COL32(247, 118, 62, 255);
constexpr ImU32 kPhotoBg = IM_COL32(16, 19, 24, 255);
constexpr ImU32 kPhotoBorder = IM_COL32(58, 66, 78, 255);
constexpr float kMaxZoom = 16.0f;

int64_t Ms(const google::protobuf::Timestamp& t) { return TimeUtil::TimestampToMilliseconds(t); }

ImU32 UrgencyColor(core::AppealUrgency u) {
  switch (u) {
    case core::AppealUrgency::kComfortable: return theme::kOnline;
    case core::AppealUrgency::kHalf: return theme::kWarning;
    case core::AppealUrgency::kCritical: return kCritical;
    case core::AppealUrgency::kBreached: return theme::kDanger;
  }
  return theme::kMuted;
}

const Text& UrgencyText(core::AppealUrgency u) {
  switch (u) {
    case core::AppealUrgency::kComfortable: return str::kApUrgComfortable;
    case core::AppealUrgency::kHalf: return str::kApUrgHalf;
    case core::AppealUrgency::kCritical: return str::kApUrgCritical;
    case core::AppealUrgency::kBreached: return str::kApUrgBreached;
  }
  return str::kApUrgComfortable;
}

core::AppealUrgency UrgencyOf(const v1::Appeal& a, int64_t now_ms) {
  return core::AppealUrgencyAt(core::FromUnixMillis(Ms(a.filed_at())), core::FromUnixMillis(Ms(a.deadline())),
                               core::FromUnixMillis(now_ms));
}

// The reason templates: what a reviewer most often writes, approve ones first.
struct ReasonTemplate {
  const Text* text;
  bool approve;
};
const ReasonTemplate kTemplates[] = {
    {&str::kApTplMatch, true},       {&str::kApTplLighting, true},   {&str::kApTplMismatch, false},
    {&str::kApTplBlurry, false},     {&str::kApTplIncomplete, false}, {&str::kApTplHandheld, false},
};

// What the backend stores and the candidate is told: both languages.
std::string TemplateReason(const Text& t) { return std::string(t.zh) + " / " + t.en; }

std::string Trimmed(const char* s) {
  std::string out(s);
  const auto first = out.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  out.erase(0, first);
  out.erase(out.find_last_not_of(" \t\r\n") + 1);
  return out;
}

std::string DrawNumber(const net::DirectorySnapshot* snap, const v1::Appeal& a) {
  const v1::Session* s = snap ? snap->FindSession(a.session_id()) : nullptr;
  if (s == nullptr || s->draw_number() <= 0) return "—";
  return std::to_string(s->draw_number());
}

std::string RoomName(const net::DirectorySnapshot* snap, int64_t room_id) {
  const v1::Room* r = snap ? snap->FindRoom(room_id) : nullptr;
  return r ? r->name() : "#" + std::to_string(room_id);
}

// A countdown: "12:34" left, or "-01:02" past the deadline.
std::string Countdown(int64_t left_ms) { return FormatDuration(left_ms); }

bool IsSupport(const UiContext& ctx) {
  return std::any_of(ctx.status.roles.begin(), ctx.status.roles.end(),
                     [](v1::Role r) { return r == v1::ROLE_SUPPORT || r == v1::ROLE_ADMIN; });
}

// Centred text in a rectangle, clipped to it.
void CenteredText(ImDrawList* dl, ImVec2 min, ImVec2 max, ImU32 color, const char* text) {
  const ImVec2 ts = ImGui::CalcTextSize(text, nullptr, false, max.x - min.x - 8.0f);
  const ImVec2 p(min.x + std::max(4.0f, (max.x - min.x - ts.x) * 0.5f), min.y + (max.y - min.y - ts.y) * 0.5f);
  const ImVec4 clip(min.x, min.y, max.x, max.y);
  dl->AddText(nullptr, 0.0f, p, color, text, nullptr, max.x - min.x - 8.0f, &clip);
}

}  // namespace

AppealsPanel::~AppealsPanel() {
  // Normally Stop() ran first; a panel torn down without it (tests, early exits) must not
  // touch GL once ImGui and its context are gone.
  const bool context_alive = ImGui::GetCurrentContext() != nullptr;
  for (auto& [key, t] : textures_) {
    if (context_alive) t.texture.Reset();
    else t.texture.Abandon();
  }
  feed_.reset();
}

void AppealsPanel::Stop() {
  for (auto& [key, t] : textures_) t.texture.Reset();
  textures_.clear();
  feed_.reset();  // gives the lease back while the backend is still there
}

void AppealsPanel::Place(const UiContext& ctx) {
  ImGui::SetNextWindowPos(ctx.work_pos);
  ImGui::SetNextWindowSize(ctx.work_size);
}

ImGuiWindowFlags AppealsPanel::Flags() const {
  return ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
         ImGuiWindowFlags_NoBringToFrontOnFocus | ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoScrollbar |
         ImGuiWindowFlags_NoScrollWithMouse;
}

void AppealsPanel::EnsureFeed(UiContext& ctx) {
  if (feed_ || ctx.client == nullptr) return;
  net::AppealFeed::Options o;
  // Decoding happens on the feed's thread; the UI only uploads the pixels.
  o.decode = [](std::string_view bytes, net::AppealPhoto* out) {
    render::DecodedImage image;
    std::string error;
    if (!render::DecodeImage(bytes, &image, &error)) {
      out->error = error;
      return;
    }
    out->width = image.width;
    out->height = image.height;
    out->rgba = std::make_shared<const std::vector<uint8_t>>(std::move(image.rgba));
  };
  // The app stops panels (Stop) before GLFW goes away, so the feed may wake the frame loop.
  o.on_change = [] { glfwPostEmptyEvent(); };
  feed_ = std::make_unique<net::AppealFeed>(*ctx.client, std::move(o));
}

void AppealsPanel::Select(int64_t appeal_id, bool by_user) {
  if (appeal_id != selected_) {
    reason_[0] = '\0';
    template_ = -1;
    decide_error_.clear();
    pending_ = PendingDecision{};
    scroll_to_selected_ = true;
  }
  selected_ = appeal_id;
  auto_selected_ = !by_user;
  if (by_user) user_closed_ = appeal_id == 0;
}

void AppealsPanel::SelectNext(const net::AppealQueue& queue, const std::string& me) {
  if (queue.rows.empty()) return;
  auto free_for_me = [&](const v1::Appeal& a) { return a.claimed_by().empty() || a.claimed_by() == me; };
  const auto it = std::find_if(queue.rows.begin(), queue.rows.end(),
                               [&](const auto& r) { return r.appeal->id() == selected_; });
  const size_t from = it == queue.rows.end() ? 0 : static_cast<size_t>(it - queue.rows.begin()) + 1;
  for (size_t k = 0; k < queue.rows.size(); ++k) {
    const auto& row = queue.rows[(from + k) % queue.rows.size()];
    if (row.appeal->id() != selected_ && free_for_me(*row.appeal)) {
      Select(row.appeal->id(), true);
      return;
    }
  }
}

void AppealsPanel::RefreshOutboxCache(const UiContext& ctx, const net::AppealReview* review) {
  if (ctx.outbox == nullptr || ctx.outbox_version == outbox_seen_version_) return;
  outbox_seen_version_ = ctx.outbox_version;
  action_by_appeal_.clear();
  // Newest first: the first decision seen for an appeal is the one to show.
  for (const auto& a : ctx.outbox->Recent(200)) {
    if (a.target.rfind("appeal:", 0) != 0 || a.method != local::method::kDecideAppeal) continue;
    const int64_t id = std::strtoll(a.target.c_str() + 7, nullptr, 10);
    if (action_by_appeal_.count(id)) continue;
    action_by_appeal_[id] = ActionSummary{a.id, static_cast<int>(a.state), a.label, a.error_message};
  }
  if (!feed_) return;
  for (const auto& [id, s] : action_by_appeal_) {
    const auto state = static_cast<local::ActionState>(s.state);
    if (state == local::ActionState::kConfirmed && s.action_id > handled_confirm_) {
      handled_confirm_ = s.action_id;
      feed_->RefreshNow();  // the queue and the SLA figures change with it
    }
    // Refused (stale version, decided meanwhile, lease lost): claim it again and read it
    // afresh, so what is on screen is what a new decision would be about.
    if (state == local::ActionState::kFailed && s.action_id > handled_failure_) {
      handled_failure_ = s.action_id;
      if (review && review->appeal_id == id) feed_->Reload();
      feed_->RefreshNow();
    }
  }
}

void AppealsPanel::DrawContent(UiContext& ctx) {
  if (!IsSupport(ctx)) {
    if (feed_) feed_->Close();
    ImGui::Spacing();
    TextUnformatted(Tr(str::kApForSupport));
    return;
  }
  EnsureFeed(ctx);
  if (!feed_) return;
  // Entering the workspace gives it the keyboard, so A / R / N / Esc work without a click.
  const int frame = ImGui::GetFrameCount();
  if (frame - last_drawn_frame_ > 1 && !ImGui::IsPopupOpen(nullptr, ImGuiPopupFlags_AnyPopupId)) ImGui::SetWindowFocus();
  last_drawn_frame_ = frame;
  if (exam_id_ == 0 && ctx.snapshot && ctx.snapshot->exams && !ctx.snapshot->exams->empty())
    exam_id_ = ctx.snapshot->exams->front().id();
  feed_->Watch(exam_id_);

  const auto view = feed_->View();
  const net::AppealReview* review = view->review && view->review->appeal_id == selected_ ? view->review.get() : nullptr;
  RefreshOutboxCache(ctx, review);
  DrawToolbar(ctx);
  if (!view->loaded) {
    feed_->Open(selected_);
    ImGui::Spacing();
    if (!view->error.empty()) TextColored(theme::kDanger, std::string(Tr(str::kError)) + ": " + view->error);
    else TextColored(theme::kMuted, Tr(str::kApLoading));
    return;
  }

  const int64_t now = ctx.backend_now_ms != 0 ? ctx.backend_now_ms : view->fetched_at_backend_ms;
  const std::string me = ctx.status.display_name;
  net::AppealQueueQuery query;
  query.room_id = room_id_;
  query.phase = phase_;
  query.mine_only = mine_only_;
  query.me = me;
  const net::AppealQueue queue = net::BuildAppealQueue(view->appeals, now, query);
  const core::AppealSlaStats sla = net::AppealSlaToday(view->appeals, now);

  if (view->version != glyphs_seen_version_ && ctx.want_glyphs) {
    // Names, lease holders and reasons come from the backend: make sure their characters are drawn.
    glyphs_seen_version_ = view->version;
    for (const auto& a : view->appeals)
      for (const auto* text : {&a.candidate_name(), &a.claimed_by(), &a.decided_by(), &a.reason()}) ctx.want_glyphs(*text);
  }
  if (ctx.focus_appeal_id != 0) {  // "Open" on a notice
    Select(ctx.focus_appeal_id, true);
    ctx.focus_appeal_id = 0;
  }
  // Open on the most urgent appeal nobody else holds, so the photos are in view at once.
  // One chosen for the user (not by them) moves on when a colleague takes it first.
  const bool taken_by_other = review && review->lease == net::LeaseState::kHeldByOther;
  if (!user_closed_ && (selected_ == 0 || (auto_selected_ && taken_by_other))) {
    for (const auto& row : queue.rows) {
      const auto& a = *row.appeal;
      if (a.id() != selected_ && (a.claimed_by().empty() || a.claimed_by() == me)) {
        Select(a.id(), false);
        break;
      }
    }
  }
  feed_->Open(selected_);
  if (!(view->review && view->review->appeal_id == selected_)) review = nullptr;

  HandleKeys(ctx, queue, review);
  if (pending_.appeal_id != 0 && review && review->appeal_id == pending_.appeal_id) {
    const PendingDecision p = pending_;
    pending_ = PendingDecision{};
    if (p.frames_left > 0) {
      Submit(ctx, *review, p.approve, p.reason);
      if (pending_.appeal_id != 0) pending_.frames_left = p.frames_left - 1;
    } else {
      decide_error_ = Tr(str::kApLeaseBusy);  // the lease call is hanging: nothing was sent
    }
  }

  const float left_w = std::clamp(ImGui::GetContentRegionAvail().x * 0.36f, 430.0f, 600.0f);
  ImGui::BeginChild("appeals_queue_area", ImVec2(left_w, 0));
  DrawSummary(queue, sla, ctx.large_font);
  if (!view->error.empty()) TextColored(theme::kWarning, std::string(Tr(str::kError)) + ": " + view->error);
  if (queue.rows.empty()) {
    ImGui::Spacing();
    if (queue.open == 0) {
      TextUnformatted(Tr(str::kApNoAppeals));
      ImGui::PushTextWrapPos(0.0f);
      TextColored(theme::kMuted, Tr(str::kApNoAppealsHint));
      ImGui::PopTextWrapPos();
    } else {
      TextUnformatted(Tr(str::kApNoMatch));
    }
  } else {
    DrawQueue(ctx, queue);
  }
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("appeals_review", ImVec2(0, 0), true, ImGuiWindowFlags_NoScrollWithMouse);
  DrawReview(ctx, review, now);
  ImGui::EndChild();
}

void AppealsPanel::DrawToolbar(UiContext& ctx) {
  if (ExamAndRoomPicker(ctx, "appeals", &exam_id_, &room_id_)) Select(0, false);
  ImGui::SameLine();
  const Text* phases[] = {&str::kApPhaseAll, &str::kApPreExam, &str::kApInExam};
  ImGui::SetNextItemWidth(150.0f);
  if (ImGui::BeginCombo("##appeal_phase", Tr(*phases[static_cast<int>(phase_)]))) {
    for (int i = 0; i < 3; ++i)
      if (ImGui::Selectable(Tr(*phases[i]), static_cast<int>(phase_) == i)) phase_ = static_cast<net::AppealPhase>(i);
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::Checkbox(Label(str::kApMine, "appeal_mine").c_str(), &mine_only_);
  ImGui::SameLine();
  TextColored(theme::kMuted, Tr(str::kApKeys));
}

void AppealsPanel::DrawSummary(const net::AppealQueue& queue, const core::AppealSlaStats& sla, ImFont* large) {
  char line[160];
  std::snprintf(line, sizeof line, Tr(str::kApCounts), queue.open, queue.breached, queue.mine);
  TextColored(queue.breached > 0 ? theme::kDanger : (queue.open > 0 ? theme::kText : theme::kOnline), line);

  // Today's SLA: three figures in the large face (Latin only: digits, '%', ':' and '-').
  const float h = (ImGui::GetTextLineHeight() * 2.0f + 14.0f) * 1.35f;
  ImGui::BeginChild("appeals_sla", ImVec2(0, h + ImGui::GetTextLineHeightWithSpacing()), true,
                    ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
  TextColored(theme::kMuted, Tr(str::kApSlaTitle));
  ImGui::SameLine();
  char decided[96];
  if (sla.decided > 0) std::snprintf(decided, sizeof decided, Tr(str::kApSlaDecided), sla.decided, sla.decided_in_time);
  else std::snprintf(decided, sizeof decided, "%s", Tr(str::kApSlaNone));
  TextColored(theme::kMuted, std::string("· ") + decided);
  struct Figure {
    const Text* label;
    std::string value;
    ImU32 color;
  };
  char pct[16] = "--";
  ImU32 pct_color = theme::kText;
  if (sla.within_sla) {
    std::snprintf(pct, sizeof pct, "%.0f%%", *sla.within_sla * 100.0);
    pct_color = *sla.within_sla >= 0.95 ? theme::kOnline : (*sla.within_sla >= 0.8 ? theme::kWarning : theme::kDanger);
  }
  const Figure figures[] = {
      {&str::kApSlaWithin, pct, pct_color},
      {&str::kApSlaMedian, sla.median_time_to_decision ? FormatDuration(sla.median_time_to_decision->count()) : "--",
       theme::kText},
      {&str::kApSlaP90, sla.p90_time_to_decision ? FormatDuration(sla.p90_time_to_decision->count()) : "--", theme::kText},
  };
  const float col_w = ImGui::GetContentRegionAvail().x / 3.0f;
  const float x0 = ImGui::GetCursorPosX();
  const float y0 = ImGui::GetCursorPosY();
  for (int i = 0; i < 3; ++i) {
    ImGui::SetCursorPos(ImVec2(x0 + col_w * static_cast<float>(i), y0));
    ImGui::BeginGroup();
    if (large) ImGui::PushFont(large);
    TextColored(figures[i].color, figures[i].value);
    if (large) ImGui::PopFont();
    TextColored(theme::kMuted, Tr(*figures[i].label));
    ImGui::EndGroup();
  }
  ImGui::EndChild();
}

void AppealsPanel::DrawQueue(UiContext& ctx, const net::AppealQueue& queue) {
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersOuter | ImGuiTableFlags_BordersInnerV |
                                ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingFixedFit;
  if (!ImGui::BeginTable("appeals_queue", 6, flags)) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn(Tr(str::kApTimeLeft));
  ImGui::TableSetupColumn(Tr(str::kDrawNo));
  ImGui::TableSetupColumn(Tr(str::kName), ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableSetupColumn(Tr(str::kRoom));
  ImGui::TableSetupColumn(Tr(str::kKind));
  ImGui::TableSetupColumn(Tr(str::kApHolder));
  ImGui::TableHeadersRow();
  const std::string me = ctx.status.display_name;
  const float row_h = ImGui::GetTextLineHeight() + ImGui::GetStyle().CellPadding.y * 2.0f;
  if (scroll_to_selected_) {
    for (size_t i = 0; i < queue.rows.size(); ++i)
      if (queue.rows[i].appeal->id() == selected_) {
        const float y = row_h * static_cast<float>(i);
        if (y < ImGui::GetScrollY() || y + row_h > ImGui::GetScrollY() + ImGui::GetWindowHeight() - 2 * row_h)
          ImGui::SetScrollY(std::max(0.0f, y - row_h * 2));
      }
    scroll_to_selected_ = false;
  }
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(queue.rows.size()), row_h);
  while (clipper.Step()) {
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
      const auto& row = queue.rows[static_cast<size_t>(i)];
      const auto& a = *row.appeal;
      ImGui::PushID(static_cast<int>(a.id()));
      ImGui::TableNextRow(ImGuiTableRowFlags_None, row_h);
      if (row.urgency == core::AppealUrgency::kBreached)
        ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg1, IM_COL32(120, 30, 30, 70));
      ImGui::TableSetColumnIndex(0);
      const bool selected = a.id() == selected_;
      StatusDot(UrgencyColor(row.urgency));
      ImGui::SameLine(0, 6);
      char left[32];
      std::snprintf(left, sizeof left, "%s##row", Countdown(row.left_ms).c_str());
      ImGui::PushStyleColor(ImGuiCol_Text, UrgencyColor(row.urgency));
      if (ImGui::Selectable(left, selected, ImGuiSelectableFlags_SpanAllColumns | ImGuiSelectableFlags_AllowItemOverlap))
        Select(a.id(), true);
      ImGui::PopStyleColor();
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", Tr(UrgencyText(row.urgency)));
      ImGui::TableSetColumnIndex(1);
      TextUnformatted(DrawNumber(ctx.snapshot.get(), a));
      ImGui::TableSetColumnIndex(2);
      TextUnformatted(a.candidate_name());
      ImGui::TableSetColumnIndex(3);
      TextUnformatted(RoomName(ctx.snapshot.get(), a.room_id()));
      ImGui::TableSetColumnIndex(4);
      if (row.in_exam) Badge(Tr(str::kApInExam), kCritical, IM_COL32(20, 20, 20, 255));
      else TextColored(theme::kMuted, Tr(str::kApPreExam));
      ImGui::TableSetColumnIndex(5);
      const auto action = action_by_appeal_.find(a.id());
      if (action != action_by_appeal_.end() &&
          static_cast<local::ActionState>(action->second.state) != local::ActionState::kFailed) {
        DrawActionState(a.id(), false);
      } else if (a.claimed_by().empty()) {
        TextColored(theme::kMuted, "—");
      } else if (a.claimed_by() == me) {
        TextColored(theme::kAccent, Tr(str::kApMe));
      } else {
        TextUnformatted(a.claimed_by());
      }
      ImGui::PopID();
    }
  }
  ImGui::EndTable();
}

void AppealsPanel::DrawReview(UiContext& ctx, const net::AppealReview* review, int64_t now_ms) {
  if (selected_ == 0) {
    ImGui::Spacing();
    TextColored(theme::kMuted, Tr(str::kApSelect));
    return;
  }
  if (review == nullptr) {
    TextColored(theme::kMuted, Tr(str::kApLoadingDetail));
    return;
  }
  // Textures and zoom belong to one appeal.
  if (textures_for_ != review->appeal_id) {
    textures_.clear();
    views_.clear();
    textures_for_ = review->appeal_id;
  }
  DrawReviewHeader(ctx, *review, now_ms);
  ImGui::Separator();
  // Photos take what the header, captures and decision leave, within reason.
  const float line = ImGui::GetTextLineHeightWithSpacing();
  const float captures_h = 80.0f + line * 2.0f + ImGui::GetStyle().ScrollbarSize + 6.0f;
  // The decision block as tall as it was last frame (it grows with a message or a failure).
  const float decision_h =
      std::max(decision_h_, ImGui::GetFrameHeightWithSpacing() * 3.0f + line * 2.0f) + ImGui::GetStyle().ItemSpacing.y * 2.0f;
  const float photos_h = std::max(160.0f, ImGui::GetContentRegionAvail().y - captures_h - decision_h);
  if (!review->loaded) {
    if (!review->error.empty()) TextColored(theme::kDanger, std::string(Tr(str::kError)) + ": " + review->error);
    else TextColored(theme::kMuted, Tr(str::kApLoadingDetail));
    ImGui::Dummy(ImVec2(1, photos_h - line));
  } else {
    DrawPhotos(*review, photos_h);
  }
  DrawCaptures(*review, captures_h);
  ImGui::Separator();
  const float decision_top = ImGui::GetCursorPosY();
  DrawDecision(ctx, *review);
  decision_h_ = ImGui::GetCursorPosY() - decision_top;
}

void AppealsPanel::DrawReviewHeader(UiContext& ctx, const net::AppealReview& review, int64_t now_ms) {
  const v1::Appeal& a = review.appeal;
  const net::DirectorySnapshot* snap = ctx.snapshot.get();
  const v1::Session* session = snap ? snap->FindSession(a.session_id()) : nullptr;
  const bool open = a.state() == v1::APPEAL_STATE_OPEN;
  const bool in_exam = net::FiledDuringExam(a);

  // First, where the eye lands: the deadline countdown, large (or the decision once made).
  ImGui::BeginGroup();
  const float block_w = 190.0f;
  if (open) {
    const int64_t left = Ms(a.deadline()) - now_ms;
    const auto urgency = UrgencyOf(a, now_ms);
    TextColored(theme::kMuted, Tr(left < 0 ? str::kApOverdueBy : str::kApDueIn));
    ImGui::SameLine();
    Badge(Tr(UrgencyText(urgency)), UrgencyColor(urgency), IM_COL32(20, 20, 20, 255));
    if (ctx.large_font) ImGui::PushFont(ctx.large_font);
    ImGui::SetWindowFontScale(ctx.large_font ? 1.4f : 2.2f);
    TextColored(UrgencyColor(urgency), FormatDuration(left < 0 ? -left : left));
    ImGui::SetWindowFontScale(1.0f);
    if (ctx.large_font) ImGui::PopFont();
  } else {
    const bool approved = a.state() == v1::APPEAL_STATE_APPROVED;
    Badge(Tr(approved ? str::kApApproved : str::kApRejected), approved ? theme::kOnline : theme::kDanger,
          IM_COL32(20, 20, 20, 255));
    TextColored(theme::kMuted, std::string(Tr(str::kApDecidedBy)) + " " + a.decided_by());
    if (a.has_decided_at()) {
      const int64_t took = Ms(a.decided_at()) - Ms(a.filed_at());
      const bool in_time = core::WithinSla(core::FromUnixMillis(Ms(a.decided_at())), core::FromUnixMillis(Ms(a.deadline())));
      TextColored(in_time ? theme::kOnline : theme::kDanger,
                  FormatClock(Ms(a.decided_at())) + "  (" + FormatDuration(took) + ")");
    }
  }
  ImGui::Dummy(ImVec2(block_w, 0));
  ImGui::EndGroup();

  // Then who, where, when, and the lease.
  ImGui::SameLine(0, 16);
  ImGui::BeginGroup();
  const std::string draw = DrawNumber(snap, a);
  TextUnformatted(a.candidate_name());
  ImGui::SameLine(0, 12);
  if (draw == "—") TextColored(theme::kMuted, std::string(Tr(str::kDrawNo)) + " " + Tr(str::kApNoDraw));
  else TextUnformatted(std::string(Tr(str::kDrawNo)) + " " + draw);
  ImGui::SameLine(0, 12);
  TextColored(theme::kMuted, RoomName(snap, a.room_id()));
  ImGui::SameLine(0, 12);
  if (in_exam) Badge(Tr(str::kApInExam), kCritical, IM_COL32(20, 20, 20, 255));
  else Badge(Tr(str::kApPreExam), theme::kAccent);
  TextColored(theme::kMuted, Tr(str::kStage));
  ImGui::SameLine();
  TextColored(theme::kMuted, Tr(str::kApStageWhenFiled));
  ImGui::SameLine();
  StageLabel(static_cast<core::Stage>(a.stage()));
  if (session != nullptr && session->stage() != a.stage()) {
    ImGui::SameLine(0, 12);
    TextColored(theme::kMuted, Tr(str::kApStageNow));
    ImGui::SameLine();
    StageLabel(static_cast<core::Stage>(session->stage()));
  }

  const int64_t start = Ms(a.exam_start());
  ImGui::SameLine(0, 16);
  std::string exam_start = std::string(Tr(str::kApExamStart)) + " " + FormatClock(start) + " (";
  exam_start += now_ms < start ? std::string(Tr(str::kStartsIn)) + " " + FormatDuration(start - now_ms)
                               : std::string(Tr(str::kStartedAgo)) + " " + FormatDuration(now_ms - start);
  TextColored(theme::kMuted, exam_start + ")");
  TextColored(theme::kMuted, std::string(Tr(str::kApFiled)) + " " + FormatClock(Ms(a.filed_at())) + "  ·  " +
                                 Tr(str::kDeadline) + " " + FormatClock(Ms(a.deadline())));
  DrawLease(review);
  ImGui::EndGroup();
  if (!open && !a.reason().empty()) {
    ImGui::PushTextWrapPos(0.0f);
    TextUnformatted(std::string(Tr(str::kReason)) + ": " + a.reason());
    ImGui::PopTextWrapPos();
  }
}

void AppealsPanel::DrawLease(const net::AppealReview& review) {
  char line[256];
  switch (review.lease) {
    case net::LeaseState::kHeld:
      std::snprintf(line, sizeof line, Tr(str::kApLeaseHeld), FormatClock(review.lease_expires_ms).c_str());
      TextColored(theme::kOnline, line);
      break;
    case net::LeaseState::kClaiming: TextColored(theme::kMuted, Tr(str::kApLeaseClaiming)); break;
    case net::LeaseState::kHeldByOther: {
      std::snprintf(line, sizeof line, Tr(str::kApLeaseOther),
                    review.lease_holder.empty() ? "?" : review.lease_holder.c_str());
      TextColored(theme::kWarning, line);
      break;
    }
    case net::LeaseState::kHandedOver: TextColored(theme::kAccent, Tr(str::kApLeaseHanded)); break;
    case net::LeaseState::kPaused: TextColored(theme::kMuted, Tr(str::kApLeasePaused)); break;
    case net::LeaseState::kClosed: TextColored(theme::kMuted, Tr(str::kApLeaseClosed)); break;
    case net::LeaseState::kError:
      TextColored(theme::kDanger, std::string(Tr(str::kApLeaseError)) + ": " + review.lease_message);
      break;
    case net::LeaseState::kNone: break;
  }
}

const render::ImageTexture* AppealsPanel::TextureFor(const char* key, const net::AppealPhoto& photo) {
  if (!photo.decoded()) return nullptr;
  PhotoTexture& t = textures_[key];
  if (t.source != photo.rgba) {
    t.source = photo.rgba;
    t.failed = !t.texture.Upload(photo.rgba->data(), photo.width, photo.height);
  }
  return t.failed || !t.texture.valid() ? nullptr : &t.texture;
}

void AppealsPanel::DrawPhotos(const net::AppealReview& review, float height) {
  const float spacing = ImGui::GetStyle().ItemSpacing.x;
  const float w = (ImGui::GetContentRegionAvail().x - spacing * 3.0f) / 4.0f;
  const ImVec2 size(std::max(80.0f, w), height);
  DrawPhoto("registration", str::kApRegPhoto, review.registration_photo, size);
  ImGui::SameLine();
  DrawPhoto("id_front", str::kApIdFront, review.id_front, size);
  ImGui::SameLine();
  DrawPhoto("id_back", str::kApIdBack, review.id_back, size);
  ImGui::SameLine();
  DrawPhoto("handheld", str::kApHandheld, review.handheld_id, size);
}

void AppealsPanel::DrawPhoto(const char* key, const Text& title, const net::AppealPhoto& photo, ImVec2 size) {
  ImGui::PushID(key);
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  const ImVec2 p1(p0.x + size.x, p0.y + size.y);
  ImGui::InvisibleButton("photo", size);
  const bool hovered = ImGui::IsItemHovered();
  const bool active = ImGui::IsItemActive();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(p0, p1, kPhotoBg, 4.0f);

  const float label_h = ImGui::GetTextLineHeightWithSpacing() + 4.0f;
  const ImVec2 area0(p0.x + 4.0f, p0.y + label_h);
  const ImVec2 area1(p1.x - 4.0f, p1.y - 4.0f);
  PhotoView& v = views_[key];
  const render::ImageTexture* tex = TextureFor(key, photo);
  if (tex != nullptr) {
    const ImVec2 area(area1.x - area0.x, area1.y - area0.y);
    const ImVec2 centre(area0.x + area.x * 0.5f, area0.y + area.y * 0.5f);
    const float fit = std::min(area.x / static_cast<float>(tex->width()), area.y / static_cast<float>(tex->height()));
    ImGuiIO& io = ImGui::GetIO();
    // Zoom about the cursor: the point under it stays under it.
    if (hovered && io.MouseWheel != 0.0f) {
      const float old_scale = fit * v.zoom;
      v.zoom = std::clamp(v.zoom * std::pow(1.2f, io.MouseWheel), 1.0f, kMaxZoom);
      const float ratio = fit * v.zoom / old_scale;
      const ImVec2 m(io.MousePos.x - centre.x, io.MousePos.y - centre.y);
      v.pan = ImVec2(m.x - (m.x - v.pan.x) * ratio, m.y - (m.y - v.pan.y) * ratio);
    }
    if (active && ImGui::IsMouseDragging(ImGuiMouseButton_Left, 0.0f)) {
      v.pan.x += io.MouseDelta.x;
      v.pan.y += io.MouseDelta.y;
    }
    if (hovered && ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left)) v = PhotoView{};
    const float scale = fit * v.zoom;
    const ImVec2 img(static_cast<float>(tex->width()) * scale, static_cast<float>(tex->height()) * scale);
    // Keep some of the image in the frame however far it is dragged.
    const float max_x = std::max(0.0f, (img.x - area.x) * 0.5f) + area.x * 0.4f;
    const float max_y = std::max(0.0f, (img.y - area.y) * 0.5f) + area.y * 0.4f;
    v.pan.x = std::clamp(v.pan.x, -max_x, max_x);
    v.pan.y = std::clamp(v.pan.y, -max_y, max_y);
    if (v.zoom <= 1.0f) v.pan = ImVec2(0, 0);
    const ImVec2 i0(centre.x + v.pan.x - img.x * 0.5f, centre.y + v.pan.y - img.y * 0.5f);
    dl->PushClipRect(area0, area1, true);
    dl->AddImage(tex->id(), i0, ImVec2(i0.x + img.x, i0.y + img.y));
    dl->PopClipRect();
    if (v.zoom > 1.0f) {
      char z[16];
      std::snprintf(z, sizeof z, "%.0f%%", v.zoom * 100.0f);
      const ImVec2 zs = ImGui::CalcTextSize(z);
      dl->AddRectFilled(ImVec2(area1.x - zs.x - 8, area1.y - zs.y - 4), area1, IM_COL32(0, 0, 0, 160), 3.0f);
      dl->AddText(ImVec2(area1.x - zs.x - 4, area1.y - zs.y - 2), theme::kText, z);
    }
    if (hovered && !active) ImGui::SetMouseCursor(v.zoom > 1.0f ? ImGuiMouseCursor_Hand : ImGuiMouseCursor_Arrow);
  } else if (!photo.present()) {
    CenteredText(dl, area0, area1, theme::kMuted, Tr(str::kApNoPhoto));
  } else if (!photo.error.empty() || photo.decoded()) {
    CenteredText(dl, area0, area1, theme::kDanger, Tr(str::kApBadPhoto));
    if (hovered && !photo.error.empty()) ImGui::SetTooltip("%s", photo.error.c_str());
  } else {
    CenteredText(dl, area0, area1, theme::kMuted, Tr(str::kApLoadingDetail));
  }
  // The title on top, with the size of what was sent.
  const ImVec4 clip(p0.x, p0.y, p1.x, p1.y);
  dl->AddText(nullptr, 0.0f, ImVec2(p0.x + 6.0f, p0.y + 3.0f), theme::kText, Tr(title), nullptr, 0.0f, &clip);
  if (photo.decoded()) {
    char dims[32];
    std::snprintf(dims, sizeof dims, "%d×%d", photo.width, photo.height);
    const ImVec2 ds = ImGui::CalcTextSize(dims);
    if (ds.x + ImGui::CalcTextSize(Tr(title)).x + 20.0f < size.x)
      dl->AddText(ImVec2(p1.x - ds.x - 6.0f, p0.y + 3.0f), theme::kMuted, dims);
  }
  dl->AddRect(p0, p1, hovered ? theme::kAccent : kPhotoBorder, 4.0f);
  ImGui::PopID();
}

void AppealsPanel::DrawCaptures(const net::AppealReview& review, float height) {
  const v1::Appeal& a = review.appeal;
  const float line = ImGui::GetTextLineHeightWithSpacing();
  TextColored(theme::kMuted, std::string(Tr(str::kApCaptures)) + " (" + Tr(str::kApSimilarity) + ")");
  ImGui::SameLine();
  TextColored(theme::kMuted, "·");
  ImGui::SameLine();
  TextColored(theme::kMuted, Tr(str::kApCaptureHint));
  const float child_h = height - line;
  ImGui::BeginChild("appeal_captures", ImVec2(0, child_h), false,
                    ImGuiWindowFlags_HorizontalScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
  if (a.captures_size() == 0) {
    TextColored(theme::kMuted, Tr(str::kApNoCaptures));
    ImGui::EndChild();
    return;
  }
  const float thumb_h = std::max(40.0f, child_h - line - ImGui::GetStyle().ScrollbarSize - 4.0f);
  int enlarge = -1;
  for (int i = 0; i < a.captures_size(); ++i) {
    const auto& c = a.captures(i);
    const net::AppealPhoto* photo =
        static_cast<size_t>(i) < review.captures.size() ? &review.captures[static_cast<size_t>(i)] : nullptr;
    if (i > 0) ImGui::SameLine(0, 12);
    ImGui::BeginGroup();
    ImGui::PushID(i);
    const std::string key = "capture" + std::to_string(i);
    const render::ImageTexture* tex = photo ? TextureFor(key.c_str(), *photo) : nullptr;
    if (tex != nullptr) {
      const float w = thumb_h * static_cast<float>(tex->width()) / static_cast<float>(tex->height());
      ImGui::Image(tex->id(), ImVec2(w, thumb_h));
      if (ImGui::IsItemHovered()) {
        ImGui::GetWindowDrawList()->AddRect(ImGui::GetItemRectMin(), ImGui::GetItemRectMax(), theme::kAccent);
        ImGui::SetMouseCursor(ImGuiMouseCursor_Hand);
      }
      if (ImGui::IsItemClicked()) enlarge = i;
    } else {
      const ImVec2 p = ImGui::GetCursorScreenPos();
      const ImVec2 q(p.x + thumb_h * 0.75f, p.y + thumb_h);
      ImGui::GetWindowDrawList()->AddRectFilled(p, q, kPhotoBg, 3.0f);
      CenteredText(ImGui::GetWindowDrawList(), p, q, theme::kMuted,
                   Tr(photo && photo->present() ? str::kApBadPhoto : str::kApNoPhoto));
      ImGui::Dummy(ImVec2(thumb_h * 0.75f, thumb_h));
    }
    char sim[16];
    std::snprintf(sim, sizeof sim, "%.0f%%", c.similarity() * 100.0);
    TextColored(c.similarity() < 0.5 ? theme::kDanger : (c.similarity() < 0.7 ? theme::kWarning : theme::kText), sim);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", Tr(str::kApSimilarity));
    ImGui::SameLine(0, 6);
    TextColored(theme::kMuted, FormatClock(Ms(c.time())));
    ImGui::PopID();
    ImGui::EndGroup();
  }
  // A capture clicked: a bigger look without leaving the review.
  if (enlarge >= 0) {
    enlarged_capture_ = enlarge;
    ImGui::OpenPopup("capture_zoom");
  }
  if (ImGui::BeginPopup("capture_zoom")) {
    const int i = enlarged_capture_;
    const std::string key = "capture" + std::to_string(i);
    const net::AppealPhoto* photo =
        i >= 0 && static_cast<size_t>(i) < review.captures.size() ? &review.captures[static_cast<size_t>(i)] : nullptr;
    const render::ImageTexture* tex = photo ? TextureFor(key.c_str(), *photo) : nullptr;
    if (tex != nullptr && i < a.captures_size()) {
      const float big = 360.0f;
      ImGui::Image(tex->id(), ImVec2(big * static_cast<float>(tex->width()) / static_cast<float>(tex->height()), big));
      char sim[96];
      std::snprintf(sim, sizeof sim, "%s %.1f%%  ·  %s", Tr(str::kApSimilarity), a.captures(i).similarity() * 100.0,
                    FormatClock(Ms(a.captures(i).time())).c_str());
      TextUnformatted(sim);
    } else {
      ImGui::CloseCurrentPopup();
    }
    ImGui::EndPopup();
  }
  ImGui::EndChild();
}

void AppealsPanel::DrawActionState(int64_t appeal_id, bool detailed) {
  auto it = action_by_appeal_.find(appeal_id);
  if (it == action_by_appeal_.end()) return;
  const auto state = static_cast<local::ActionState>(it->second.state);
  switch (state) {
    case local::ActionState::kPending:
      TextColored(theme::kMuted, Tr(detailed ? str::kApDecisionQueued : str::kActionPending));
      break;
    case local::ActionState::kSending:
      TextColored(theme::kAccent, Tr(detailed ? str::kApDecisionSending : str::kActionSending));
      break;
    case local::ActionState::kConfirmed:
      TextColored(theme::kOnline, Tr(detailed ? str::kApDecisionConfirmed : str::kActionConfirmed));
      break;
    case local::ActionState::kFailed:
      TextColored(theme::kDanger, Tr(detailed ? str::kApDecisionFailed : str::kActionFailed));
      break;
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", it->second.label.c_str());
  if (detailed) {
    ImGui::SameLine();
    TextColored(theme::kMuted, it->second.label);
    if (state == local::ActionState::kFailed && !it->second.error.empty()) {
      ImGui::PushTextWrapPos(0.0f);
      TextColored(theme::kDanger, it->second.error);
      ImGui::PopTextWrapPos();
    }
  }
}

void AppealsPanel::DrawDecision(UiContext& ctx, const net::AppealReview& review) {
  const v1::Appeal& a = review.appeal;
  const bool open = a.state() == v1::APPEAL_STATE_OPEN;
  const bool can_decide = open && review.lease == net::LeaseState::kHeld;

  // Templates: a click fills the reason, which stays editable.
  ImGui::AlignTextToFramePadding();
  TextColored(theme::kMuted, Tr(str::kApTemplates));
  ImGui::BeginDisabled(!can_decide);
  const float right = ImGui::GetWindowContentRegionMax().x;
  for (int i = 0; i < static_cast<int>(std::size(kTemplates)); ++i) {
    const char* label = Tr(*kTemplates[i].text);
    const float w = ImGui::CalcTextSize(label).x + ImGui::GetStyle().FramePadding.x * 2.0f;
    ImGui::SameLine();
    if (ImGui::GetCursorPosX() + w > right) ImGui::NewLine();
    ImGui::PushID(i);
    const bool chosen = template_ == i;
    ImGui::PushStyleColor(ImGuiCol_Button, chosen ? theme::ToVec4(kTemplates[i].approve ? theme::kOnline : theme::kDanger)
                                                  : ImGui::GetStyleColorVec4(ImGuiCol_Button));
    if (chosen) ImGui::PushStyleColor(ImGuiCol_Text, theme::ToVec4(IM_COL32(20, 20, 20, 255)));
    if (ImGui::Button(label)) {
      template_ = i;
      const std::string reason = TemplateReason(*kTemplates[i].text);
      std::snprintf(reason_, sizeof reason_, "%s", reason.c_str());
      decide_error_.clear();
    }
    if (chosen) ImGui::PopStyleColor();
    ImGui::PopStyleColor();
    ImGui::PopID();
  }
  if (focus_reason_) {
    ImGui::SetKeyboardFocusHere();
    focus_reason_ = false;
  }
  ImGui::SetNextItemWidth(-1);
  if (ImGui::InputTextWithHint("##appeal_reason", Tr(str::kApReasonHint), reason_, sizeof reason_)) {
    template_ = -1;
    for (int i = 0; i < static_cast<int>(std::size(kTemplates)); ++i)
      if (TemplateReason(*kTemplates[i].text) == reason_) template_ = i;
    decide_error_.clear();
  }

  ImGui::PushStyleColor(ImGuiCol_Button, theme::ToVec4(IM_COL32(36, 128, 74, 255)));
  ImGui::PushStyleColor(ImGuiCol_ButtonHovered, theme::ToVec4(theme::kOnline));
  if (ImGui::Button(Label(str::kApApprove, "approve").c_str(), ImVec2(150, 0))) Decide(ctx, review, true);
  ImGui::PopStyleColor(2);
  ImGui::SameLine();
  ImGui::PushStyleColor(ImGuiCol_Button, theme::ToVec4(IM_COL32(150, 48, 48, 255)));
  ImGui::PushStyleColor(ImGuiCol_ButtonHovered, theme::ToVec4(theme::kDanger));
  if (ImGui::Button(Label(str::kApReject, "reject").c_str(), ImVec2(150, 0))) Decide(ctx, review, false);
  ImGui::PopStyleColor(2);
  ImGui::EndDisabled();
  ImGui::SameLine(0, 24);
  // Same as the N key, which knows the queue: handled at the next frame's keys.
  if (ImGui::Button(Label(str::kApNext, "next").c_str())) next_requested_ = true;
  ImGui::SameLine();
  if (ImGui::Button(Label(str::kApClose, "close").c_str())) Select(0, true);
  if (open && (review.lease == net::LeaseState::kHeldByOther || review.lease == net::LeaseState::kError)) {
    ImGui::SameLine();
    if (ImGui::Button(Label(str::kApReload, "reload").c_str())) feed_->Reload();
  }
  if (!decide_error_.empty()) TextColored(theme::kWarning, decide_error_);
  DrawActionState(a.id(), true);
}

void AppealsPanel::HandleKeys(UiContext& ctx, const net::AppealQueue& queue, const net::AppealReview* review) {
  const std::string me = ctx.status.display_name;
  if (next_requested_) {
    next_requested_ = false;
    SelectNext(queue, me);
    return;
  }
  if (ImGui::GetIO().WantTextInput || ImGui::IsAnyItemActive() || ImGui::IsPopupOpen(nullptr, ImGuiPopupFlags_AnyPopupId))
    return;
  if (!ImGui::IsWindowFocused(ImGuiFocusedFlags_RootAndChildWindows)) return;
  if (ImGui::IsKeyPressed('N', false)) SelectNext(queue, me);
  else if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape), false)) Select(0, true);
  else if (review != nullptr && ImGui::IsKeyPressed('A', false)) Decide(ctx, *review, true);
  else if (review != nullptr && ImGui::IsKeyPressed('R', false)) Decide(ctx, *review, false);
}

void AppealsPanel::Decide(UiContext& ctx, const net::AppealReview& review, bool approve) {
  if (review.appeal.state() != v1::APPEAL_STATE_OPEN) return;
  std::string reason = Trimmed(reason_);
  if (reason.empty() && approve) reason = TemplateReason(str::kApTplMatch);
  if (reason.empty() || (!approve && core::TrimmedCharCount(reason) < 2)) {
    decide_error_ = Tr(str::kApRejectNeedsReason);
    focus_reason_ = true;
    return;
  }
  auto_selected_ = false;  // engaged with it: it stays on screen whatever happens next
  Submit(ctx, review, approve, reason);
  if (pending_.appeal_id != 0) pending_.frames_left = 30;
}

void AppealsPanel::Submit(UiContext& ctx, const net::AppealReview& review, bool approve, const std::string& reason) {
  const v1::Appeal& a = review.appeal;
  int64_t expected = 0;
  switch (feed_->BeginDecision(a.id(), a.version(), &expected)) {
    case net::DecisionGate::kBusy:  // a renewal is in flight: its answer decides the version
      pending_ = PendingDecision{a.id(), approve, reason, 0};
      return;
    case net::DecisionGate::kNotHeld:
      decide_error_ = Tr(str::kApNotHeld);
      if (!review.lease_message.empty()) decide_error_ += " (" + review.lease_message + ")";
      return;
    case net::DecisionGate::kNotOpen: return;
    case net::DecisionGate::kReady: break;
  }
  v1::DecideAppealRequest req;
  req.set_appeal_id(a.id());
  req.set_expected_version(expected);
  req.set_decision(approve ? v1::APPEAL_DECISION_APPROVE : v1::APPEAL_DECISION_REJECT);
  req.set_reason(reason);
  const std::string label = std::string(Tr(approve ? str::kApApproveAction : str::kApRejectAction)) + " #" +
                            std::to_string(a.id()) + " " + a.candidate_name();
  if (ctx.outbox == nullptr) {
    decide_error_ = Tr(str::kApNoOutbox);
    feed_->Reload();  // the lease went to a decision that was never sent: take it back
    return;
  }
  try {
    ctx.outbox->Enqueue(local::method::kDecideAppeal, req, label, "appeal:" + std::to_string(a.id()));
  } catch (const std::exception& e) {  // a local store failure: nothing was sent
    decide_error_ = std::string(Tr(str::kApNoOutbox)) + ": " + e.what();
    feed_->Reload();
    return;
  }
  decide_error_.clear();
  reason_[0] = '\0';
  template_ = -1;
  outbox_seen_version_ = UINT64_MAX;  // show "queued" at once
}

void AppealsPanel::Hidden(UiContext& ctx) { if (feed_) feed_->Watch(0); }

}  // namespace exam::ui
