#include "ui/widgets.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "ui/theme.h"

namespace exam::ui {

std::string FormatClock(int64_t unix_ms) {
  if (unix_ms <= 0) return "--:--:--";
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string FormatDuration(int64_t ms) {
  int64_t s = (ms < 0 ? -ms : ms) / 1000;
  // Less than a second past zero shows as 00:00, not "-00:00".
  const bool negative = ms < 0 && s > 0;
  const int64_t h = s / 3600;
  s %= 3600;
  char buf[32];
  if (h > 0) {
    std::snprintf(buf, sizeof buf, "%s%lld:%02lld:%02lld", negative ? "-" : "", static_cast<long long>(h),
                  static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%s%02lld:%02lld", negative ? "-" : "", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  }
  return buf;
}

const char* RoleName(exam::v1::Role role) {
  switch (role) {
    case exam::v1::ROLE_PROCTOR: return Tr(str::kRoleProctor);
    case exam::v1::ROLE_GRADER: return Tr(str::kRoleGrader);
    case exam::v1::ROLE_SUPPORT: return Tr(str::kRoleSupport);
    case exam::v1::ROLE_ADMIN: return Tr(str::kRoleAdmin);
    case exam::v1::ROLE_CANDIDATE: return Tr(str::kRoleCandidate);
    default: return "?";
  }
}

const char* EventKindName(exam::v1::EventKind kind) {
  using namespace exam::v1;
  switch (kind) {
    case EVENT_KIND_STAGE_CHANGED: return Tr(str::kEvStageChanged);
    case EVENT_KIND_FACE_CHECK: return Tr(str::kEvFaceCheck);
    case EVENT_KIND_ALERT_RAISED: return Tr(str::kEvAlertRaised);
    case EVENT_KIND_ALERT_ACKNOWLEDGED: return Tr(str::kEvAlertAck);
    case EVENT_KIND_HELP_RAISED: return Tr(str::kEvHelpRaised);
    case EVENT_KIND_HELP_UPDATED: return Tr(str::kEvHelpUpdated);
    case EVENT_KIND_APPEAL_FILED: return Tr(str::kEvAppealFiled);
    case EVENT_KIND_APPEAL_UPDATED: return Tr(str::kEvAppealUpdated);
    case EVENT_KIND_INTERRUPTION_STARTED: return Tr(str::kEvInterruptionStarted);
    case EVENT_KIND_INTERRUPTION_ENDED: return Tr(str::kEvInterruptionEnded);
    case EVENT_KIND_QUESTION_SHOWN: return Tr(str::kEvQuestionShown);
    case EVENT_KIND_ANSWER_COMPLETE: return Tr(str::kEvAnswerComplete);
    case EVENT_KIND_VIOLATION_RECORDED: return Tr(str::kEvViolation);
    case EVENT_KIND_PROCTOR_MESSAGE: return Tr(str::kEvProctorMessage);
    case EVENT_KIND_SESSION_ENDED: return Tr(str::kEvSessionEnded);
    case EVENT_KIND_UPLOAD_PROGRESS: return Tr(str::kEvUploadProgress);
    case EVENT_KIND_DEVICE_CHANGED: return Tr(str::kEvDeviceChanged);
    default: return Tr(str::kEvUnknown);
  }
}

void TextUnformatted(std::string_view text) { ImGui::TextUnformatted(text.data(), text.data() + text.size()); }

void TextColored(ImU32 color, std::string_view text) {
  ImGui::PushStyleColor(ImGuiCol_Text, color);
  TextUnformatted(text);
  ImGui::PopStyleColor();
}

void StatusDot(ImU32 color, float radius) {
  const float h = ImGui::GetTextLineHeight();
  if (radius <= 0) radius = h * 0.28f;
  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImGui::GetWindowDrawList()->AddCircleFilled(ImVec2(p.x + radius, p.y + h * 0.5f), radius, color, 16);
  ImGui::Dummy(ImVec2(radius * 2.0f, h));
}

void Badge(std::string_view text, ImU32 background, ImU32 foreground) {
  const ImVec2 size = ImGui::CalcTextSize(text.data(), text.data() + text.size());
  const ImVec2 pad(5.0f, 0.0f);
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const float h = ImGui::GetTextLineHeight();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(p, ImVec2(p.x + size.x + pad.x * 2, p.y + h), background, 3.0f);
  dl->AddText(ImVec2(p.x + pad.x, p.y), foreground, text.data(), text.data() + text.size());
  ImGui::Dummy(ImVec2(size.x + pad.x * 2, h));
}

void StageLabel(core::Stage stage) {
  StatusDot(theme::StageColor(stage));
  ImGui::SameLine(0, 6);
  TextUnformatted(StageName(stage));
}

void VerticalRule() {
  ImGui::SameLine(0, 10);
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const float h = ImGui::GetTextLineHeight();
  ImGui::GetWindowDrawList()->AddLine(ImVec2(p.x, p.y + 2), ImVec2(p.x, p.y + h - 2),
                                      ImGui::GetColorU32(ImGuiCol_Border), 1.0f);
  ImGui::Dummy(ImVec2(1, h));
  ImGui::SameLine(0, 10);
}

void StageBar(const net::StageCounts& counts, ImVec2 size, bool labels) {
  int total = 0;
  for (int c : counts) total += c;
  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(p, ImVec2(p.x + size.x, p.y + size.y), IM_COL32(40, 45, 53, 255), 3.0f);
  if (total > 0) {
    float x = p.x;
    for (int s = 0; s < static_cast<int>(counts.size()); ++s) {
      if (counts[s] == 0) continue;
      const float w = size.x * static_cast<float>(counts[s]) / static_cast<float>(total);
      dl->AddRectFilled(ImVec2(x, p.y), ImVec2(x + w, p.y + size.y), theme::StageColor(static_cast<core::Stage>(s)));
      if (labels) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%d", counts[s]);
        const ImVec2 ts = ImGui::CalcTextSize(buf);
        if (ts.x + 6 < w && ts.y <= size.y) {
          dl->AddText(ImVec2(x + (w - ts.x) * 0.5f, p.y + (size.y - ts.y) * 0.5f), IM_COL32(255, 255, 255, 235), buf);
        }
      }
      x += w;
    }
  }
  ImGui::Dummy(size);
}

bool ExamAndRoomPicker(const UiContext& ctx, const char* id, int64_t* exam_id, int64_t* room_id) {
  bool changed = false;
  ImGui::PushID(id);
  ImGui::AlignTextToFramePadding();
  TextUnformatted(Tr(str::kExam));
  ImGui::SameLine();
  const auto* exam = ctx.snapshot ? ctx.snapshot->FindExam(*exam_id) : nullptr;
  ImGui::SetNextItemWidth(250.0f);
  if (ImGui::BeginCombo("##exam", exam ? exam->title().c_str() : Tr(str::kNoExam))) {
    if (ctx.snapshot && ctx.snapshot->exams)
      for (const auto& e : *ctx.snapshot->exams)
        if (ImGui::Selectable(e.title().c_str(), e.id() == *exam_id) && e.id() != *exam_id) {
          *exam_id = e.id();
          *room_id = 0;
          changed = true;
        }
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  // Support often works one room with its proctor.
  const auto* room = ctx.snapshot ? ctx.snapshot->FindRoom(*room_id) : nullptr;
  ImGui::SetNextItemWidth(170.0f);
  if (ImGui::BeginCombo("##room", room ? room->name().c_str() : Tr(str::kAllRooms))) {
    if (ImGui::Selectable(Tr(str::kAllRooms), *room_id == 0)) *room_id = 0;
    if (ctx.snapshot && ctx.snapshot->rooms)
      for (const auto& r : *ctx.snapshot->rooms)
        if (r.exam_id() == *exam_id && ImGui::Selectable(r.name().c_str(), r.id() == *room_id)) *room_id = r.id();
    ImGui::EndCombo();
  }
  ImGui::PopID();
  return changed;
}

void ActionStateText(int state, std::string_view label, std::string_view error) {
  switch (state) {
    case 0: TextColored(theme::kMuted, Tr(str::kActionPending)); break;
    case 1: TextColored(theme::kAccent, Tr(str::kActionSending)); break;
    case 2: TextColored(theme::kOnline, Tr(str::kActionConfirmed)); break;
    case 3: TextColored(theme::kDanger, Tr(str::kActionFailed)); break;
    default: return;
  }
  if (ImGui::IsItemHovered()) {
    std::string tip(label);
    if (!error.empty()) tip.append("\n").append(error);
    ImGui::SetTooltip("%s", tip.c_str());
  }
}

std::string FormatBytes(int64_t bytes) {
  char buf[32];
  const double b = static_cast<double>(bytes);
  if (b >= 1e9) std::snprintf(buf, sizeof buf, "%.2f GB", b / 1e9);
  else if (b >= 1e6) std::snprintf(buf, sizeof buf, "%.1f MB", b / 1e6);
  else if (b >= 1e3) std::snprintf(buf, sizeof buf, "%.0f kB", b / 1e3);
  else std::snprintf(buf, sizeof buf, "%" PRId64 " B", bytes);
  return buf;
}

std::string FormatMediaTime(int64_t us, bool millis) {
  if (us < 0) us = 0;
  const int64_t ms = us / 1000;
  char buf[32];
  if (millis)
    std::snprintf(buf, sizeof buf, "%02lld:%02lld.%03lld", static_cast<long long>(ms / 60000),
                  static_cast<long long>(ms / 1000 % 60), static_cast<long long>(ms % 1000));
  else
    std::snprintf(buf, sizeof buf, "%02lld:%02lld", static_cast<long long>(ms / 60000), static_cast<long long>(ms / 1000 % 60));
  return buf;
}

void FitAspect(ImVec2* p0, ImVec2* p1, float aspect) {
  const float w = p1->x - p0->x, h = p1->y - p0->y;
  if (w <= 0 || h <= 0 || aspect <= 0) return;
  float fw = w, fh = w / aspect;
  if (fh > h) fh = h, fw = h * aspect;
  const ImVec2 c((p0->x + p1->x) / 2, (p0->y + p1->y) / 2);
  *p0 = ImVec2(std::floor(c.x - fw / 2), std::floor(c.y - fh / 2));
  *p1 = ImVec2(p0->x + std::floor(fw), p0->y + std::floor(fh));
}

}  // namespace exam::ui
