#include "ui/help_desk_panel.h"

#include <GLFW/glfw3.h>  // glfwPostEmptyEvent: wake the frame loop when the feed changed

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/upload_rules.h"  // TrimmedCharCount
#include "exam/v1/event.pb.h"
#include "store/action_methods.h"
#include "store/outbox.h"
#include "ui/theme.h"
#include "ui/widgets.h"

namespace exam::ui {

namespace v1 = exam::v1;
using google::protobuf::util::TimeUtil;

namespace {

// A raised hand without a reply turns amber, then red: time to first response is what the
// desk is measured by.
constexpr int64_t kReplySoonMs = 2 * 60 * 1000;
constexpr int64_t kReplyLateMs = 5 * 60 * 1000;

// Resolution categories: the wire value the backend stores, the name shown, and the quick
// reply that answers it (from what the candidate manuals tell candidates to do).
struct Category {
  const char* wire;
  Text name;
  const Text* reply;
};
const Category kCategories[] = {
    {"network", str::kHelpCatNetwork, &str::kHelpQrNetwork},
    {"question-not-loaded", str::kHelpCatQuestion, &str::kHelpQrQuestion},
    {"device-switch", str::kHelpCatDevice, &str::kHelpQrDevice},
    {"upload-failed", str::kHelpCatUpload, &str::kHelpQrUpload},
    {"face-check", str::kHelpCatFace, &str::kHelpQrFace},
    {"other", str::kHelpCatOther, nullptr},
};
constexpr int kCategoryCount = static_cast<int>(sizeof kCategories / sizeof kCategories[0]);
constexpr int kOtherCategory = kCategoryCount - 1;

const char* CategoryName(const std::string& wire) {
  for (const auto& c : kCategories)
    if (wire == c.wire) return Tr(c.name);
  return wire.c_str();
}

// A first guess at the category from what the candidate wrote, so K rarely needs the combo.
int GuessCategory(const std::string& text) {
  auto has = [&](const char* word) { return text.find(word) != std::string::npos; };
  if (has("人脸") || has("face")) return 4;
  if (has("上传") || has("upload")) return 3;
  if (has("题目") || has("加载") || has("question")) return 1;
  if (has("网络") || has("断网") || has("卡住") || has("卡顿") || has("network")) return 0;
  if (has("摄像头") || has("麦克风") || has("手机") || has("设备") || has("扫码") || has("声音") || has("camera"))
    return 2;
  return kOtherCategory;
}

int64_t Ms(const google::protobuf::Timestamp& t) { return TimeUtil::TimestampToMilliseconds(t); }

const Text& StateText(v1::HelpState s) {
  switch (s) {
    case v1::HELP_STATE_CLAIMED: return str::kHelpStateClaimed;
    case v1::HELP_STATE_RESOLVED: return str::kHelpStateResolved;
    default: return str::kHelpStateOpen;
  }
}

ImU32 WaitColor(const v1::HelpRequest& r, int64_t waited_ms) {
  if (r.has_first_response_at()) return theme::kText;
  if (waited_ms >= kReplyLateMs) return theme::kDanger;
  if (waited_ms >= kReplySoonMs) return theme::kWarning;
  return theme::kText;
}

// A fixed column at least `em` font sizes wide, and never narrower than its heading.
void SetupFixedColumn(const Text& heading, float em) {
  const float w = std::max(ImGui::GetFontSize() * em, ImGui::CalcTextSize(Tr(heading)).x + 4.0f);
  ImGui::TableSetupColumn(Tr(heading), ImGuiTableColumnFlags_WidthFixed, w);
}

std::string Printf(const char* format, const char* a) {
  char buf[256];
  std::snprintf(buf, sizeof buf, format, a);
  return buf;
}

}  // namespace

HelpDeskPanel::~HelpDeskPanel() { Stop(); }

void HelpDeskPanel::Stop() {
  if (feed_) feed_->Stop();
}

void HelpDeskPanel::Place(const UiContext& ctx) {
  ImGui::SetNextWindowPos(ctx.work_pos);
  ImGui::SetNextWindowSize(ctx.work_size);
}

ImGuiWindowFlags HelpDeskPanel::Flags() const {
  return ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
         ImGuiWindowFlags_NoBringToFrontOnFocus | ImGuiWindowFlags_NoTitleBar;
}

void HelpDeskPanel::EnsureFeed(UiContext& ctx) {
  if (feed_ || ctx.client == nullptr) return;
  // The app stops panels (Stop) before GLFW goes away, so the feed may wake the frame loop.
  net::HelpFeed::Options options;
  options.on_change = [] { glfwPostEmptyEvent(); };
  feed_ = std::make_unique<net::HelpFeed>(*ctx.client, options);
}

// A help event in the change feed means the list changed: fetch now instead of at the next
// period, so a raised hand shows within a frame or two of the event.
void HelpDeskPanel::FollowEvents(UiContext& ctx) {
  if (!ctx.snapshot || ctx.snapshot->last_seq == events_seen_seq_) return;
  const int64_t seen = events_seen_seq_;
  events_seen_seq_ = ctx.snapshot->last_seq;
  if (seen < 0) return;  // the first look: the feed's first fetch covers it
  for (const auto& e : ctx.client->RecentEvents(64)) {
    if (e.seq <= seen) continue;
    if (e.kind != v1::EVENT_KIND_HELP_RAISED && e.kind != v1::EVENT_KIND_HELP_UPDATED) continue;
    if (e.exam_id != 0 && e.exam_id != exam_id_) continue;
    feed_->RefreshNow();
    return;
  }
}

void HelpDeskPanel::RefreshOutboxCache(UiContext& ctx) {
  if (ctx.outbox == nullptr || ctx.outbox_version == outbox_seen_version_) return;
  outbox_seen_version_ = ctx.outbox_version;
  actions_by_help_.clear();
  bool confirmed_news = false;
  // Newest first.
  for (const auto& a : ctx.outbox->Recent(200)) {
    if (a.target.rfind("help:", 0) != 0) continue;
    const int64_t id = std::strtoll(a.target.c_str() + 5, nullptr, 10);
    ActionSummary s{static_cast<int>(a.state), a.method, a.label, a.error_message, {}};
    if (a.method == local::method::kPostHelpMessage) {
      v1::PostHelpMessageRequest req;
      if (req.ParseFromString(a.request)) s.reply_text = req.text();
    }
    auto& list = actions_by_help_[id];
    if (list.size() < 8) list.push_back(std::move(s));
    if (a.state == local::ActionState::kConfirmed) {
      v1::HelpRequest answer;
      if (answer.ParseFromString(a.response) && answer.id() == id) {
        auto it = confirmed_.find(id);
        if (it == confirmed_.end() || it->second.version() < answer.version()) {
          confirmed_[id] = std::move(answer);
          confirmed_news = true;
        }
      }
    }
  }
  if (confirmed_news && feed_) feed_->RefreshNow();  // a confirmed action changed the request
}

const v1::HelpRequest& HelpDeskPanel::Freshest(const v1::HelpRequest& r) const {
  auto it = confirmed_.find(r.id());
  return it != confirmed_.end() && it->second.version() > r.version() ? it->second : r;
}

bool HelpDeskPanel::Mine(const UiContext& ctx, const v1::HelpRequest& r) const {
  return !r.claimed_by().empty() && r.claimed_by() == ctx.status.display_name;
}

std::string HelpDeskPanel::Who(const UiContext& ctx, const v1::HelpRequest& r) const {
  // Before the draw (抽签) a candidate has no number yet; the name is what staff go by.
  std::string who = r.draw_number() > 0 ? "#" + std::to_string(r.draw_number()) : std::string();
  const auto* s = ctx.snapshot ? ctx.snapshot->FindSession(r.session_id()) : nullptr;
  if (s && !s->candidate_name().empty()) who += (who.empty() ? "" : " ") + s->candidate_name();
  return who.empty() ? "—" : who;
}

int HelpDeskPanel::CategoryOf(const v1::HelpRequest& r) {
  auto it = category_by_help_.find(r.id());
  if (it != category_by_help_.end()) return it->second;
  std::string said;
  for (const auto& m : r.messages())
    if (m.from_candidate()) said += m.text() + "\n";
  const int guess = GuessCategory(said);
  category_by_help_[r.id()] = guess;
  return guess;
}

std::vector<HelpDeskPanel::Row> HelpDeskPanel::BuildRows(UiContext& ctx, const net::HelpView& view,
                                                         int counts[3]) const {
  std::vector<Row> rows;
  counts[0] = counts[1] = counts[2] = 0;
  int order = 0;
  for (const auto& listed : view.open) {
    ++order;
    const auto& r = Freshest(listed);
    if (r.state() == v1::HELP_STATE_RESOLVED) continue;  // resolved here; the next fetch drops it
    if (room_id_ != 0 && r.room_id() != room_id_) continue;
    const bool mine = Mine(ctx, r), unclaimed = r.claimed_by().empty();
    ++counts[0];
    counts[1] += mine;
    counts[2] += unclaimed;
    if ((filter_ == Filter::kMine && !mine) || (filter_ == Filter::kUnclaimed && !unclaimed)) continue;
    rows.push_back(Row{&r, order});
  }
  return rows;
}

void HelpDeskPanel::DrawContent(UiContext& ctx) {
  const auto has = [&](v1::Role role) {
    return std::find(ctx.status.roles.begin(), ctx.status.roles.end(), role) != ctx.status.roles.end();
  };
  const Access access = has(v1::ROLE_SUPPORT) || has(v1::ROLE_ADMIN) ? Access::kAct
                        : has(v1::ROLE_PROCTOR)                       ? Access::kReadOnly
                                                                      : Access::kNone;
  if (access == Access::kNone) {
    if (ctx.status.state != net::ConnectionState::kOnline) TextColored(theme::kMuted, Tr(str::kWaitingForBackend));
    else TextUnformatted(Tr(str::kHelpForStaff));
    return;
  }
  EnsureFeed(ctx);
  if (!feed_) return;
  // Follow the first exam unless one was picked.
  if (exam_id_ == 0 && ctx.snapshot && ctx.snapshot->exams && !ctx.snapshot->exams->empty())
    exam_id_ = ctx.snapshot->exams->front().id();
  feed_->Follow(exam_id_);
  FollowEvents(ctx);
  RefreshOutboxCache(ctx);

  const auto view = feed_->Current();
  if (view->version != glyphs_seen_version_ && ctx.want_glyphs) {
    // Conversation text comes from candidates and staff: make sure its characters are drawn.
    glyphs_seen_version_ = view->version;
    for (const auto* list : {&view->open, &view->resolved_today})
      for (const auto& r : *list)
        for (const auto& m : r.messages()) ctx.want_glyphs(m.text());
  }
  if (ctx.focus_help_session != 0 && view->loaded) {  // H on the live wall
    for (const auto& r : view->open)
      if (r.session_id() == ctx.focus_help_session) ctx.focus_help_id = r.id();
    ctx.focus_help_session = 0;
  }
  if (ctx.focus_help_id != 0) {  // "Open" on a notice
    selected_ = ctx.focus_help_id;
    auto_selected_ = false;
    scroll_to_selected_ = true;
    ctx.focus_help_id = 0;
  }
  int counts[3];
  const std::vector<Row> rows = BuildRows(ctx, *view, counts);
  DrawToolbar(ctx, counts, access == Access::kAct);
  if (access == Access::kReadOnly) TextColored(theme::kWarning, Tr(str::kHelpProctorNote));
  if (!view->loaded) {
    ImGui::Spacing();
    if (!view->error.empty()) TextColored(theme::kDanger, std::string(Tr(str::kError)) + ": " + view->error);
    else TextColored(theme::kMuted, Tr(str::kHelpLoading));
    return;
  }
  DrawFigures(*view);
  if (!view->error.empty()) TextColored(theme::kWarning, std::string(Tr(str::kError)) + ": " + view->error);

  // Open on the oldest request so its conversation is in view at once; a request chosen for
  // the user (not by them) follows the head of the queue as requests are resolved.
  const bool listed = std::any_of(rows.begin(), rows.end(), [&](const Row& r) { return r.request->id() == selected_; });
  if ((selected_ == 0 || (auto_selected_ && !listed)) && !rows.empty()) {
    selected_ = rows.front().request->id();
    auto_selected_ = true;
  }
  const v1::HelpRequest* selected = nullptr;
  for (const auto& r : rows)
    if (r.request->id() == selected_) selected = r.request;
  if (selected == nullptr && selected_ != 0) {
    if (const auto* r = view->Find(selected_)) selected = &Freshest(*r);
    else if (auto it = confirmed_.find(selected_); it != confirmed_.end()) selected = &it->second;
  }
  HandleKeys(ctx, rows, selected, access);

  const float detail_w = std::clamp(ImGui::GetContentRegionAvail().x * 0.42f, 360.0f, 720.0f);
  ImGui::BeginChild("help_queue_area", ImVec2(ImGui::GetContentRegionAvail().x - detail_w - 8.0f, 0));
  const float resolved_h = show_resolved_ ? std::min(240.0f, ImGui::GetContentRegionAvail().y * 0.4f) : 0.0f;
  const float queue_h = ImGui::GetContentRegionAvail().y - resolved_h - ImGui::GetFrameHeightWithSpacing() - 4.0f;
  if (view->open.empty()) {
    ImGui::BeginChild("help_queue_empty", ImVec2(0, queue_h));
    ImGui::Spacing();
    TextUnformatted(Tr(str::kHelpNoOpen));
    TextColored(theme::kMuted, Tr(str::kHelpNoOpenHint));
    ImGui::EndChild();
  } else if (rows.empty()) {
    ImGui::BeginChild("help_queue_empty", ImVec2(0, queue_h));
    ImGui::Spacing();
    TextUnformatted(Tr(str::kHelpNoMatch));
    ImGui::EndChild();
  } else {
    DrawQueue(ctx, *view, rows, queue_h);
  }
  DrawResolvedToday(ctx, *view);
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("help_detail", ImVec2(0, 0), true);
  DrawDetail(ctx, selected, access);
  ImGui::EndChild();
}

void HelpDeskPanel::DrawToolbar(UiContext& ctx, const int counts[3], bool act) {
  if (ExamAndRoomPicker(ctx, "help", &exam_id_, &room_id_)) selected_ = 0;
  const struct {
    Filter filter;
    const Text* text;
    const char* id;
  } filters[] = {{Filter::kAll, &str::kHelpFilterAll, "all"},
                 {Filter::kMine, &str::kHelpFilterMine, "mine"},
                 {Filter::kUnclaimed, &str::kHelpFilterUnclaimed, "unclaimed"}};
  for (int i = 0; i < 3; ++i) {
    ImGui::SameLine();
    char label[96];
    std::snprintf(label, sizeof label, "%s (%d)###help_filter_%s", Tr(*filters[i].text), counts[i], filters[i].id);
    if (ImGui::RadioButton(label, filter_ == filters[i].filter)) filter_ = filters[i].filter;
  }
  if (act) {  // proctors only follow the queue: the action keys would do nothing for them
    ImGui::SameLine();
    TextColored(theme::kMuted, Tr(str::kHelpKeys));
  }
}

void HelpDeskPanel::DrawFigures(const net::HelpView& view) {
  const auto& s = view.stats;
  char line[256];
  std::snprintf(line, sizeof line, Tr(str::kHelpSummary), s.open, s.unclaimed, s.unanswered);
  TextColored(s.unanswered > 0 ? theme::kWarning : (s.open > 0 ? theme::kText : theme::kOnline), line);
  ImGui::SameLine(0, 24);
  if (s.median_first_response_ms) {
    std::snprintf(line, sizeof line, Tr(str::kHelpTodayLine), s.raised_today, s.resolved_today,
                  FormatDuration(*s.median_first_response_ms).c_str(), FormatDuration(*s.p90_first_response_ms).c_str(),
                  s.responded_today);
  } else {
    std::snprintf(line, sizeof line, Tr(str::kHelpNoFigures), s.raised_today, s.resolved_today);
  }
  TextColored(theme::kMuted, line);
}

void HelpDeskPanel::HandleKeys(UiContext& ctx, const std::vector<Row>& rows, const v1::HelpRequest* selected,
                               Access access) {
  if (ImGui::GetIO().WantTextInput) return;
  if (!ImGui::IsWindowFocused(ImGuiFocusedFlags_RootAndChildWindows)) return;
  if (!rows.empty()) {
    auto it = std::find_if(rows.begin(), rows.end(), [&](const Row& r) { return r.request->id() == selected_; });
    const int index = it == rows.end() ? -1 : static_cast<int>(it - rows.begin());
    const int count = static_cast<int>(rows.size());
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_DownArrow))) {
      selected_ = rows[std::min(count - 1, index + 1)].request->id();
      scroll_to_selected_ = true;
      auto_selected_ = false;
    }
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_UpArrow))) {
      selected_ = rows[std::max(0, index - 1)].request->id();
      scroll_to_selected_ = true;
      auto_selected_ = false;
    }
  }
  if (selected == nullptr || access != Access::kAct || selected->state() == v1::HELP_STATE_RESOLVED) return;
  const bool held_by_other = !selected->claimed_by().empty() && !Mine(ctx, *selected);
  if (ImGui::IsKeyPressed('C', false) && selected->claimed_by().empty()) Claim(ctx, *selected);
  if (ImGui::IsKeyPressed('K', false) && !held_by_other) Resolve(ctx, *selected);
}

void HelpDeskPanel::DrawQueue(UiContext& ctx, const net::HelpView& view, const std::vector<Row>& rows, float height) {
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersOuter | ImGuiTableFlags_BordersInnerV |
                                ImGuiTableFlags_ScrollY | ImGuiTableFlags_Resizable | ImGuiTableFlags_SizingFixedFit;
  if (!ImGui::BeginTable("help_queue", 9, flags, ImVec2(0, height))) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  // Initial widths: the clipper lays out one row on the first frame, too little to fit to.
  SetupFixedColumn(str::kHelpColOrder, 2.0f);
  SetupFixedColumn(str::kHelpColWaiting, 4.5f);
  SetupFixedColumn(str::kDrawNo, 3.5f);
  SetupFixedColumn(str::kName, 5.0f);
  SetupFixedColumn(str::kStage, 7.5f);
  SetupFixedColumn(str::kRoom, 8.5f);
  ImGui::TableSetupColumn(Tr(str::kHelpColHolder), ImGuiTableColumnFlags_WidthStretch);
  SetupFixedColumn(str::kHelpColFirstResponse, 4.5f);
  SetupFixedColumn(str::kAction, 4.0f);
  ImGui::TableHeadersRow();
  const int64_t now = ctx.backend_now_ms != 0 ? ctx.backend_now_ms : view.fetched_at_backend_ms;
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(rows.size()));
  // Keep the selected row in the clipper's range so "scroll to it" can reach it.
  int selected_index = -1;
  for (size_t i = 0; i < rows.size(); ++i)
    if (rows[i].request->id() == selected_) selected_index = static_cast<int>(i);
  if (scroll_to_selected_ && selected_index >= 0) clipper.ForceDisplayRangeByIndices(selected_index, selected_index + 1);
  while (clipper.Step()) {
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
      const auto& r = *rows[static_cast<size_t>(i)].request;
      ImGui::PushID(static_cast<int>(r.id()));
      ImGui::TableNextRow();
      ImGui::TableSetColumnIndex(0);
      const bool selected = r.id() == selected_;
      char order[16];
      std::snprintf(order, sizeof order, "%d", rows[static_cast<size_t>(i)].order);
      if (ImGui::Selectable(order, selected, ImGuiSelectableFlags_SpanAllColumns | ImGuiSelectableFlags_AllowItemOverlap)) {
        selected_ = r.id();
        auto_selected_ = false;
      }
      if (selected && scroll_to_selected_) {
        ImGui::SetScrollHereY();
        scroll_to_selected_ = false;
      }
      ImGui::TableSetColumnIndex(1);
      const int64_t waited = r.has_raised_at() ? std::max<int64_t>(0, now - Ms(r.raised_at())) : 0;
      const ImU32 wait_color = WaitColor(r, waited);
      if (!r.has_first_response_at()) {
        StatusDot(wait_color == theme::kText ? theme::kAccent : wait_color);
        ImGui::SameLine(0, 6);
      }
      TextColored(wait_color, FormatDuration(waited));
      ImGui::TableSetColumnIndex(2);
      if (r.draw_number() > 0) TextUnformatted(std::to_string(r.draw_number()));
      else TextColored(theme::kMuted, "—");
      ImGui::TableSetColumnIndex(3);
      const auto* session = ctx.snapshot ? ctx.snapshot->FindSession(r.session_id()) : nullptr;
      TextUnformatted(session ? session->candidate_name() : std::string("—"));
      ImGui::TableSetColumnIndex(4);
      StageLabel(static_cast<core::Stage>(session ? session->stage() : r.stage()));
      ImGui::TableSetColumnIndex(5);
      const auto* room = ctx.snapshot ? ctx.snapshot->FindRoom(r.room_id()) : nullptr;
      TextUnformatted(room ? room->name() : std::to_string(r.room_id()));
      ImGui::TableSetColumnIndex(6);
      if (r.claimed_by().empty()) TextColored(theme::kMuted, Tr(str::kHelpNobody));
      else TextColored(Mine(ctx, r) ? theme::kOnline : theme::kText, r.claimed_by() + (Mine(ctx, r) ? Tr(str::kHelpMeSuffix) : ""));
      ImGui::TableSetColumnIndex(7);
      if (auto ms = net::FirstResponseMs(r)) TextUnformatted(FormatDuration(*ms));
      else TextColored(theme::kMuted, "—");
      ImGui::TableSetColumnIndex(8);
      DrawActionState(r.id());
      ImGui::PopID();
    }
  }
  ImGui::EndTable();
}

void HelpDeskPanel::DrawResolvedToday(UiContext& ctx, const net::HelpView& view) {
  char head[96];
  std::snprintf(head, sizeof head, Tr(str::kHelpResolvedToday), static_cast<int>(view.resolved_today.size()));
  if (ImGui::ArrowButton("##help_resolved_toggle", show_resolved_ ? ImGuiDir_Down : ImGuiDir_Right))
    show_resolved_ = !show_resolved_;
  ImGui::SameLine();
  ImGui::AlignTextToFramePadding();
  TextUnformatted(head);
  if (!show_resolved_ || view.resolved_today.empty()) return;
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersOuter | ImGuiTableFlags_ScrollY |
                                ImGuiTableFlags_SizingFixedFit;
  if (!ImGui::BeginTable("help_resolved", 6, flags, ImVec2(0, ImGui::GetContentRegionAvail().y))) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  SetupFixedColumn(str::kDrawNo, 3.5f);
  SetupFixedColumn(str::kName, 5.0f);
  SetupFixedColumn(str::kHelpColCategory, 6.0f);
  SetupFixedColumn(str::kHelpColFirstResponse, 4.5f);
  SetupFixedColumn(str::kHelpColResolvedAt, 4.5f);
  ImGui::TableSetupColumn(Tr(str::kHelpColHolder), ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableHeadersRow();
  // Newest resolution on top: this list is a record, not a queue.
  for (auto it = view.resolved_today.rbegin(); it != view.resolved_today.rend(); ++it) {
    const auto& r = *it;
    if (room_id_ != 0 && r.room_id() != room_id_) continue;
    ImGui::PushID(static_cast<int>(r.id()));
    ImGui::TableNextRow();
    ImGui::TableSetColumnIndex(0);
    if (ImGui::Selectable(r.draw_number() > 0 ? std::to_string(r.draw_number()).c_str() : "—", r.id() == selected_,
                          ImGuiSelectableFlags_SpanAllColumns)) {
      selected_ = r.id();
      auto_selected_ = false;
    }
    ImGui::TableSetColumnIndex(1);
    const auto* session = ctx.snapshot ? ctx.snapshot->FindSession(r.session_id()) : nullptr;
    TextUnformatted(session ? session->candidate_name() : std::string("—"));
    ImGui::TableSetColumnIndex(2);
    TextUnformatted(CategoryName(r.category()));
    ImGui::TableSetColumnIndex(3);
    if (auto ms = net::FirstResponseMs(r)) TextUnformatted(FormatDuration(*ms));
    else TextColored(theme::kMuted, "—");
    ImGui::TableSetColumnIndex(4);
    TextUnformatted(r.has_resolved_at() ? FormatClock(Ms(r.resolved_at())) : std::string("—"));
    ImGui::TableSetColumnIndex(5);
    TextUnformatted(r.claimed_by());
    ImGui::PopID();
  }
  ImGui::EndTable();
}

void HelpDeskPanel::DrawDetail(UiContext& ctx, const v1::HelpRequest* request, Access access) {
  if (request == nullptr) {
    TextColored(theme::kMuted, Tr(str::kHelpSelect));
    return;
  }
  const auto& r = *request;
  const auto* session = ctx.snapshot ? ctx.snapshot->FindSession(r.session_id()) : nullptr;
  const auto* room = ctx.snapshot ? ctx.snapshot->FindRoom(r.room_id()) : nullptr;
  const int64_t now = ctx.backend_now_ms;
  const bool resolved = r.state() == v1::HELP_STATE_RESOLVED;

  // Who and where.
  TextUnformatted(Who(ctx, r));
  ImGui::SameLine();
  Badge(Tr(StateText(r.state())), resolved ? theme::kOnline : (r.claimed_by().empty() ? theme::kWarning : theme::kAccent),
        IM_COL32(20, 20, 20, 255));
  if (room) {
    ImGui::SameLine();
    TextColored(theme::kMuted, room->name());
  }
  if (session) {
    ImGui::SameLine();
    StageLabel(static_cast<core::Stage>(session->stage()));
  }
  if (!r.claimed_by().empty()) {
    ImGui::SameLine(0, 12);
    TextColored(Mine(ctx, r) ? theme::kOnline : theme::kAccent,
                r.claimed_by() + (Mine(ctx, r) ? Tr(str::kHelpMeSuffix) : ""));
  }
  std::string when = std::string(Tr(str::kHelpRaisedAt)) + " " + (r.has_raised_at() ? FormatClock(Ms(r.raised_at())) : "—") +
                     "  ·  " + Tr(str::kHelpRaisedStage) + " " + std::string(StageName(static_cast<core::Stage>(r.stage())));
  TextColored(theme::kMuted, when);
  if (auto ms = net::FirstResponseMs(r)) {
    TextColored(theme::kOnline, Printf(Tr(str::kHelpFirstReplyAfter), FormatDuration(*ms).c_str()));
  } else if (!resolved && r.has_raised_at() && now != 0) {
    const int64_t waited = std::max<int64_t>(0, now - Ms(r.raised_at()));
    TextColored(WaitColor(r, waited) == theme::kText ? theme::kAccent : WaitColor(r, waited),
                Printf(Tr(str::kHelpWaitingNoReply), FormatDuration(waited).c_str()));
  }
  if (resolved) {
    ImGui::SameLine(0, 16);
    TextColored(theme::kOnline, Printf(Tr(str::kHelpResolvedAs), CategoryName(r.category())));
  }

  ImGui::Separator();

  // The thread fills what the working area at the bottom leaves: the actions, the quick
  // replies and the reply box sit together under the conversation.
  const bool act = access == Access::kAct && !resolved;
  const bool held_by_other = !r.claimed_by().empty() && !Mine(ctx, r);
  int failures = 0;
  if (auto it = actions_by_help_.find(r.id()); it != actions_by_help_.end())
    for (const auto& a : it->second) {
      if (static_cast<local::ActionState>(a.state) == local::ActionState::kConfirmed) break;
      failures += static_cast<local::ActionState>(a.state) == local::ActionState::kFailed;
    }
  failures = std::min(failures, 2);
  // What is under the thread was measured last frame; the first frame estimates it.
  const float line = ImGui::GetTextLineHeightWithSpacing(), frame = ImGui::GetFrameHeightWithSpacing();
  const float estimate = (act ? 3.0f * frame + line + 12.0f + (held_by_other ? line : 0.0f) : 0.0f) +
                         static_cast<float>(failures) * line;
  DrawThread(ctx, r, ImGui::GetContentRegionAvail().y - (bottom_h_ > 0.0f ? bottom_h_ : estimate));
  const float bottom_top = ImGui::GetCursorPosY();
  struct MeasureBottom {
    float& out;
    float top;
    ~MeasureBottom() { out = ImGui::GetCursorPosY() - top; }
  } measure{bottom_h_, bottom_top};

  // Failures since the last confirmed action say why (someone else claimed it, it was
  // resolved meanwhile); a later success makes them history.
  if (auto it = actions_by_help_.find(r.id()); it != actions_by_help_.end()) {
    int shown = 0;
    for (const auto& a : it->second) {
      if (static_cast<local::ActionState>(a.state) == local::ActionState::kConfirmed) break;
      if (static_cast<local::ActionState>(a.state) != local::ActionState::kFailed || shown == 2) continue;
      ++shown;
      TextColored(theme::kDanger, std::string(Tr(str::kActionFailed)) + " · " + a.label + ": " + a.error);
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", a.error.c_str());
    }
  }
  if (!act) return;
  ImGui::Separator();
  // Actions: claim, resolve with a category; all through the outbox.
  ImGui::BeginDisabled(!r.claimed_by().empty());
  if (ImGui::Button(Label(str::kHelpClaim, "help_claim").c_str())) Claim(ctx, r);
  ImGui::EndDisabled();
  ImGui::SameLine();
  ImGui::BeginDisabled(held_by_other);
  const int category = CategoryOf(r);
  ImGui::SetNextItemWidth(std::max(150.0f, ImGui::GetFontSize() * 8.0f));
  if (ImGui::BeginCombo("##help_category", Tr(kCategories[category].name))) {
    for (int i = 0; i < kCategoryCount; ++i)
      if (ImGui::Selectable(Tr(kCategories[i].name), i == category)) category_by_help_[r.id()] = i;
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  if (ImGui::Button(Label(str::kHelpResolve, "help_resolve").c_str())) Resolve(ctx, r);
  ImGui::EndDisabled();
  if (auto it = actions_by_help_.find(r.id()); it != actions_by_help_.end() && !it->second.empty()) {
    ImGui::SameLine();
    DrawActionState(r.id());
  }
  if (held_by_other) TextColored(theme::kWarning, Printf(Tr(str::kHelpHeldByOther), r.claimed_by().c_str()));
  DrawComposer(ctx, r, !held_by_other);
}

void HelpDeskPanel::DrawThread(UiContext& ctx, const v1::HelpRequest& r, float height) {
  ImGui::BeginChild("help_thread", ImVec2(0, std::max(height, 80.0f)), false);
  const float indent = std::min(48.0f, ImGui::GetContentRegionAvail().x * 0.1f);
  int lines = 0;
  if (r.messages().empty()) TextColored(theme::kMuted, Tr(str::kHelpNoMessages));
  for (const auto& m : r.messages()) {
    ++lines;
    ImGui::PushID(lines);
    if (!m.from_candidate()) ImGui::Indent(indent);
    TextColored(theme::kMuted, m.has_time() ? FormatClock(Ms(m.time())) : std::string());
    ImGui::SameLine();
    if (m.from_candidate()) TextColored(theme::kWarning, std::string(Tr(str::kHelpCandidate)) + " " + Who(ctx, r));
    else TextColored(theme::kAccent, m.author());
    ImGui::PushTextWrapPos(0.0f);
    TextUnformatted(m.text());
    ImGui::PopTextWrapPos();
    if (!m.from_candidate()) ImGui::Unindent(indent);
    ImGui::Spacing();
    ImGui::PopID();
  }
  // Replies on their way: shown at once, muted, with their state (the feed brings them in
  // for real once the backend has them).
  if (auto it = actions_by_help_.find(r.id()); it != actions_by_help_.end()) {
    for (auto a = it->second.rbegin(); a != it->second.rend(); ++a) {
      const auto state = static_cast<local::ActionState>(a->state);
      if (a->method != local::method::kPostHelpMessage || state == local::ActionState::kConfirmed) continue;
      ++lines;
      ImGui::Indent(indent);
      const bool failed = state == local::ActionState::kFailed;
      TextColored(failed ? theme::kDanger : theme::kMuted,
                  Tr(failed ? str::kActionFailed
                            : state == local::ActionState::kSending ? str::kActionSending : str::kActionPending));
      ImGui::PushTextWrapPos(0.0f);
      TextColored(theme::kMuted, a->reply_text);
      ImGui::PopTextWrapPos();
      ImGui::Unindent(indent);
      ImGui::Spacing();
    }
  }
  // Newest at the bottom: follow it when the request changes or a message arrives.
  if (r.id() != thread_seen_id_ || lines != thread_seen_lines_) {
    thread_seen_id_ = r.id();
    thread_seen_lines_ = lines;
    ImGui::SetScrollHereY(1.0f);
  }
  ImGui::EndChild();
}

void HelpDeskPanel::DrawComposer(UiContext& ctx, const v1::HelpRequest& r, bool enabled) {
  if (reply_for_ != r.id()) {  // a half-written reply stays with its request
    if (reply_for_ != 0) {
      if (reply_[0] != '\0') drafts_[reply_for_] = reply_;
      else drafts_.erase(reply_for_);
    }
    auto draft = drafts_.find(r.id());
    std::snprintf(reply_, sizeof reply_, "%s", draft != drafts_.end() ? draft->second.c_str() : "");
    reply_for_ = r.id();
  }
  ImGui::BeginDisabled(!enabled);
  TextColored(theme::kMuted, Tr(str::kHelpQuickReplies));
  // Quick replies fill the input (the text can be adapted before Enter) and preset the
  // resolution category to the problem they answer.
  const float right = ImGui::GetWindowContentRegionMax().x;
  auto quick = [&](const Text& label, const Text& text, int category, const char* id) {
    const std::string l = Label(label, id);
    const float w = ImGui::CalcTextSize(Tr(label)).x + ImGui::GetStyle().FramePadding.x * 2.0f;
    const float x = ImGui::GetItemRectMax().x - ImGui::GetWindowPos().x + ImGui::GetStyle().ItemSpacing.x;
    if (std::strcmp(id, "qr_ack") != 0 && x + w <= right) ImGui::SameLine();
    if (ImGui::SmallButton(l.c_str())) {
      std::snprintf(reply_, sizeof reply_, "%s", Tr(text));
      focus_reply_ = true;
      if (category >= 0) category_by_help_[r.id()] = category;
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", Tr(text));
  };
  quick(str::kHelpQrAckLabel, str::kHelpQrAck, -1, "qr_ack");
  for (int i = 0; i < kCategoryCount; ++i)
    if (kCategories[i].reply) quick(kCategories[i].name, *kCategories[i].reply, i, kCategories[i].wire);

  const float send_w = ImGui::CalcTextSize(Tr(str::kHelpSendReply)).x + ImGui::GetStyle().FramePadding.x * 2.0f;
  ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x - send_w - ImGui::GetStyle().ItemSpacing.x);
  if (focus_reply_ && enabled) {
    ImGui::SetKeyboardFocusHere();
    focus_reply_ = false;
  }
  const bool enter = ImGui::InputTextWithHint("##help_reply", Tr(str::kHelpReplyHint), reply_, sizeof reply_,
                                              ImGuiInputTextFlags_EnterReturnsTrue);
  ImGui::SameLine();
  const bool empty = core::TrimmedCharCount(reply_) == 0;
  ImGui::BeginDisabled(empty);
  const bool click = ImGui::Button(Label(str::kHelpSendReply, "help_send").c_str());
  ImGui::EndDisabled();
  ImGui::EndDisabled();
  if (enabled && (enter || click) && !empty) {
    SendReply(ctx, r);
    focus_reply_ = true;  // keep typing: the conversation usually goes on
  }
}

void HelpDeskPanel::DrawActionState(int64_t help_id) const {
  auto it = actions_by_help_.find(help_id);
  if (it == actions_by_help_.end() || it->second.empty()) return;
  const auto& a = it->second.front();
  ActionStateText(a.state, a.label, a.error);
}

void HelpDeskPanel::Claim(UiContext& ctx, const v1::HelpRequest& r) {
  v1::ClaimHelpRequest req;
  req.set_help_id(r.id());
  Enqueue(ctx, local::method::kClaimHelp, req, std::string(Tr(str::kHelpClaimLabel)) + " " + Who(ctx, r), r.id());
  auto_selected_ = false;
}

void HelpDeskPanel::SendReply(UiContext& ctx, const v1::HelpRequest& r) {
  v1::PostHelpMessageRequest req;
  req.set_help_id(r.id());
  req.set_text(reply_);
  Enqueue(ctx, local::method::kPostHelpMessage, req, std::string(Tr(str::kHelpReplyLabel)) + " " + Who(ctx, r), r.id());
  reply_[0] = '\0';
  drafts_.erase(r.id());
  auto_selected_ = false;
}

void HelpDeskPanel::Resolve(UiContext& ctx, const v1::HelpRequest& r) {
  const int category = CategoryOf(r);
  v1::ResolveHelpRequest req;
  req.set_help_id(r.id());
  req.set_category(kCategories[category].wire);
  Enqueue(ctx, local::method::kResolveHelp, req,
          std::string(Tr(str::kHelpResolveLabel)) + " " + Who(ctx, r) + " · " + Tr(kCategories[category].name), r.id());
  auto_selected_ = false;
}

void HelpDeskPanel::Enqueue(UiContext& ctx, const char* method, const google::protobuf::Message& request,
                            const std::string& label, int64_t help_id) {
  if (ctx.outbox == nullptr) return;
  try {
    ctx.outbox->Enqueue(method, request, label, "help:" + std::to_string(help_id));
  } catch (const std::exception& e) {  // a local store failure: the action was not taken
    actions_by_help_[help_id].insert(actions_by_help_[help_id].begin(),
                                     ActionSummary{static_cast<int>(local::ActionState::kFailed), method, label, e.what(), {}});
    return;
  }
  outbox_seen_version_ = UINT64_MAX;  // show "pending" at once
}

void HelpDeskPanel::Hidden(UiContext& ctx) { if (feed_) feed_->Follow(0); }

}  // namespace exam::ui
