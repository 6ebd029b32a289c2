#include "core/upload_rules.h"

#include <algorithm>
#include <cmath>

namespace exam::core {

std::string_view UploadUrgencyName(UploadUrgency u) {
  switch (u) {
    case UploadUrgency::kAbnormal: return "abnormal";
    case UploadUrgency::kLate: return "late";
    case UploadUrgency::kStuck: return "stuck";
    case UploadUrgency::kOffline: return "offline";
    case UploadUrgency::kWaiting: return "waiting";
    case UploadUrgency::kOnTrack: return "on-track";
    case UploadUrgency::kComplete: return "complete";
  }
  return "?";
}

UploadOutlook AssessUpload(const UploadFacts& f, TimePoint now, const UploadRiskRules& rules) {
  UploadOutlook out;
  const int64_t remaining = std::max<int64_t>(0, f.size - f.committed);
  out.fraction = f.size > 0 ? std::clamp(static_cast<double>(f.committed) / static_cast<double>(f.size), 0.0, 1.0) : 0.0;
  if (f.deadline) out.time_left = *f.deadline - now;
  if (f.state == UploadState::kComplete) {
    out.urgency = UploadUrgency::kComplete;
    out.eta = Duration(0);
    return out;
  }
  if (f.state == UploadState::kAbnormal) {
    out.urgency = UploadUrgency::kAbnormal;
    return out;
  }
  if (f.rate_bytes_per_s >= rules.min_rate_bytes_per_s) {
    out.eta = Duration(static_cast<int64_t>(std::ceil(static_cast<double>(remaining) / f.rate_bytes_per_s * 1000.0)));
    out.projected_finish = now + *out.eta;
  }
  const bool started = f.committed > 0 || f.state == UploadState::kUploading || f.state == UploadState::kInterrupted;
  // Progress is measured from the last committed byte, or from the announcement when none
  // came yet, so a file that never moves becomes stuck too.
  const std::optional<TimePoint> since = f.last_progress_at ? f.last_progress_at : f.created_at;
  const bool quiet = since && now - *since >= rules.stuck_after;

  if (f.deadline) {
    if (now >= *f.deadline) {
      out.urgency = UploadUrgency::kLate;
      return out;
    }
    // Progressing too slowly to make it. Without a rate, lateness is judged by the other
    // groups (a stalled file is stuck or offline, which says more about what to do).
    if (out.projected_finish && *out.projected_finish > *f.deadline && f.state != UploadState::kRecording) {
      out.urgency = UploadUrgency::kLate;
      return out;
    }
  }
  if (f.state == UploadState::kRecording) {
    out.urgency = UploadUrgency::kWaiting;
    return out;
  }
  if (!f.device_online) {
    out.urgency = UploadUrgency::kOffline;
    return out;
  }
  if (quiet) {
    out.urgency = UploadUrgency::kStuck;
    return out;
  }
  out.urgency = started ? UploadUrgency::kOnTrack : UploadUrgency::kWaiting;
  return out;
}

size_t TrimmedCharCount(std::string_view text) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  size_t n = 0;
  for (unsigned char c : text)
    if ((c & 0xC0) != 0x80) ++n;  // count lead bytes only
  return n;
}

ExtensionVerdict CheckDeadlineExtension(UploadState state, Duration already_extended, Duration requested,
                                        std::string_view reason, const ExtensionRules& rules) {
  auto refuse = [](std::string m) { return ExtensionVerdict{false, std::move(m)}; };
  if (state == UploadState::kComplete) return refuse("the file is already complete");
  if (state == UploadState::kAbnormal) return refuse("the file is abnormal and cannot resume");
  if (requested <= Duration(0)) return refuse("the extension must be positive");
  if (requested > rules.max_step)
    return refuse("one extension may add at most " + std::to_string(rules.max_step.count() / 60000) + " min");
  if (already_extended + requested > rules.max_total)
    return refuse("the deadline may move at most " + std::to_string(rules.max_total.count() / 60000) +
                  " min in all; " + std::to_string(std::max<int64_t>(0, (rules.max_total - already_extended).count()) / 60000) +
                  " min left");
  if (TrimmedCharCount(reason) < rules.min_reason_chars) return refuse("a reason is required");
  return {true, {}};
}

}  // namespace exam::core
