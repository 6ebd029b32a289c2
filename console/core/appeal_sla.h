#pragma once
// How urgent an open appeal is and how the desk did against its SLA: the queue colours and
// the SLA panel both come from here, so the tests pin what support staff see.
#include <optional>
#include <vector>

#include "core/exam_rules.h"

namespace exam::core {

enum class AppealUrgency {
  kComfortable,  // more than half of the SLA left
  kHalf,         // less than half left
  kCritical,     // less than 10 % left, or under 5 minutes (escalates)
  kBreached,     // deadline passed, still open
};

// `filed_at` .. `deadline` is the whole SLA; `now` may be anywhere.
AppealUrgency AppealUrgencyAt(TimePoint filed_at, TimePoint deadline, TimePoint now);
// Whether an open appeal must be escalated: less than `escalate_under` left (default 5 min)
// and not yet breached.
bool AppealEscalates(TimePoint deadline, TimePoint now, Duration escalate_under = minutes(5));

struct AppealOutcomeSample {
  TimePoint filed_at;
  TimePoint deadline;
  std::optional<TimePoint> decided_at;  // unset while open
};

struct AppealSlaStats {
  int decided = 0;
  int decided_in_time = 0;
  int open = 0;
  int open_breached = 0;
  // decided_in_time / decided, 0..1; unset when nothing was decided.
  std::optional<double> within_sla;
  std::optional<Duration> median_time_to_decision;
  std::optional<Duration> p90_time_to_decision;
};

// Statistics over appeals filed in [day_start, day_start + 24 h) — "today" for the panel.
// Percentiles use the nearest-rank method.
AppealSlaStats ComputeAppealSla(const std::vector<AppealOutcomeSample>& appeals, TimePoint day_start, TimePoint now);

}  // namespace exam::core
