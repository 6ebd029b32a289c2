#include "ui/notice_overlay.h"

#include <chrono>
#include <cstdio>

#include "net/notice_tracker.h"
#include "ui/theme.h"
#include "ui/widgets.h"

namespace exam::ui {

namespace {

constexpr int kCardsShown = 3;
constexpr float kWidth = 460.0f;

const Text& TitleOf(net::NoticeKind k) {
  switch (k) {
    case net::NoticeKind::kHelpRaised: return str::kNoticeHelp;
    case net::NoticeKind::kAppealInExam: return str::kNoticeAppealInExam;
    case net::NoticeKind::kAppealEscalated: return str::kNoticeAppealEscalated;
    case net::NoticeKind::kAppealBreached: return str::kNoticeAppealBreached;
  }
  return str::kNoticeHelp;
}

ImU32 ColourOf(net::NoticeKind k) {
  switch (k) {
    case net::NoticeKind::kHelpRaised: return theme::kAccent;
    case net::NoticeKind::kAppealInExam: return theme::kWarning;
    default: return theme::kDanger;
  }
}

}  // namespace

namespace {

// The workspace that handles a notice; while it is open its own queue shows the same thing,
// so the card would only cover it.
// At most `max` bytes, cut between characters, with an ellipsis when cut.
std::string ClipUtf8(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n) + "…";
}

const char* WorkspaceOf(net::NoticeKind k) { return k == net::NoticeKind::kHelpRaised ? "help" : "appeals"; }

}  // namespace

bool NoticeOverlay::Visible(const UiContext& ctx) const {
  if (ctx.notices == nullptr) return false;
  for (const auto& n : ctx.notices->active())
    if (ctx.workspace != WorkspaceOf(n.kind)) return true;
  return false;
}

void NoticeOverlay::Place(const UiContext& ctx) {
  // Bottom right of the work area: over the ends of long lists rather than over headers,
  // summaries and the detail panes at the top.
  ImGui::SetNextWindowPos(ImVec2(ctx.work_pos.x + ctx.work_size.x - 16.0f, ctx.work_pos.y + ctx.work_size.y - 12.0f),
                          ImGuiCond_Always, ImVec2(1.0f, 1.0f));
  ImGui::SetNextWindowSize(ImVec2(kWidth, 0.0f));
  ImGui::SetNextWindowBgAlpha(0.96f);
}

ImGuiWindowFlags NoticeOverlay::Flags() const {
  return ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoMove |
         ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoFocusOnAppearing |
         ImGuiWindowFlags_NoNav;
}

void NoticeOverlay::DrawContent(UiContext& ctx) {
  auto& tracker = *ctx.notices;
  // New notices show as cards for a minute; after that they fold into one line that opens
  // the list, so they stay visible without covering the workspace for good.
  const auto now = std::chrono::steady_clock::now();
  int fresh = 0, waiting = 0;
  for (const auto& n : tracker.active()) {
    if (ctx.workspace == WorkspaceOf(n.kind)) continue;
    ++waiting;
    if (now - n.arrived < std::chrono::seconds(60)) ++fresh;
  }
  if (fresh == 0 && !expanded_) {
    char line[96];
    std::snprintf(line, sizeof line, Tr(str::kNoticesWaiting), waiting);
    ImGui::PushStyleColor(ImGuiCol_Button, theme::ToVec4(theme::kAccent));
    if (ImGui::SmallButton(line)) expanded_ = true;
    ImGui::PopStyleColor();
    return;
  }
  if (expanded_ && ImGui::SmallButton(Label(str::kCollapse, "collapse").c_str())) expanded_ = false;
  int shown = 0;
  int64_t dismiss = 0;
  int hidden = 0;
  for (const auto& n : tracker.active()) {
    if (ctx.workspace == WorkspaceOf(n.kind)) {
      ++hidden;
      continue;
    }
    if (shown++ == kCardsShown) break;
    ImGui::PushID(static_cast<int>(n.id));
    // One compact card: a colour bar, what and who on one line, the detail and the buttons
    // on the next, so three cards cover little of the workspace under them.
    const ImVec2 top = ImGui::GetCursorScreenPos();
    ImGui::GetWindowDrawList()->AddRectFilled(top, ImVec2(top.x + 4.0f, top.y + 2.0f * ImGui::GetTextLineHeightWithSpacing()),
                                              ColourOf(n.kind));
    ImGui::Indent(10.0f);
    TextColored(ColourOf(n.kind), Tr(TitleOf(n.kind)));
    ImGui::SameLine();
    char who[160];
    const auto* room = ctx.snapshot ? ctx.snapshot->FindRoom(n.room_id) : nullptr;
    const std::string ago =
        ctx.backend_now_ms > n.time_unix_ms ? FormatDuration(ctx.backend_now_ms - n.time_unix_ms) : std::string("0:00");
    // Before the draw a candidate has no number yet: name them instead.
    const auto* session = ctx.snapshot ? ctx.snapshot->FindSession(n.session_id) : nullptr;
    const std::string person = n.draw_number > 0 ? "#" + std::to_string(n.draw_number)
                               : session          ? session->candidate_name()
                                                  : std::string("—");
    std::snprintf(who, sizeof who, "%s  %s  ·  %s %s", person.c_str(), room ? room->name().c_str() : "", ago.c_str(),
                  Tr(str::kAgo));
    TextUnformatted(who);
    const float buttons = ImGui::CalcTextSize(Tr(str::kOpen)).x + ImGui::CalcTextSize(Tr(str::kDismiss)).x +
                          4 * ImGui::GetStyle().FramePadding.x + ImGui::GetStyle().ItemSpacing.x;
    const std::string detail = ClipUtf8(n.detail, 60);
    if (ctx.want_glyphs) ctx.want_glyphs(detail);  // candidates' words: rare characters too
    TextColored(theme::kMuted, detail);
    ImGui::SameLine(ImGui::GetWindowContentRegionMax().x - buttons);
    if (ImGui::SmallButton(Label(str::kOpen, "open").c_str())) {
      ctx.workspace = WorkspaceOf(n.kind);
      (n.kind == net::NoticeKind::kHelpRaised ? ctx.focus_help_id : ctx.focus_appeal_id) = n.ref_id;
    }
    ImGui::SameLine();
    if (ImGui::SmallButton(Label(str::kDismiss, "dismiss").c_str())) dismiss = n.id;
    ImGui::Unindent(10.0f);
    ImGui::PopID();
  }
  if (dismiss != 0) tracker.Dismiss(dismiss);
  const int more = static_cast<int>(tracker.active().size()) - hidden - kCardsShown;
  if (more > 0) {
    char buf[64];
    std::snprintf(buf, sizeof buf, Tr(str::kMoreNotices), more);
    TextColored(theme::kMuted, buf);
    ImGui::SameLine();
  }
  if (tracker.active().size() > 1 && ImGui::SmallButton(Label(str::kDismissAll, "dismiss_all").c_str())) tracker.DismissAll();
}

}  // namespace exam::ui
