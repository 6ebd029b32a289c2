#include "core/appeal_sla.h"

#include <algorithm>
#include <cmath>

namespace exam::core {

AppealUrgency AppealUrgencyAt(TimePoint filed_at, TimePoint deadline, TimePoint now) {
  if (now > deadline) return AppealUrgency::kBreached;
  const auto total = std::max<Duration>(Duration(1), deadline - filed_at);
  const auto left = deadline - now;
  // Integer comparisons: exactly half left is still comfortable, exactly 10 % is critical.
  if (left * 10 <= total || left < minutes(5)) return AppealUrgency::kCritical;
  if (left * 2 < total) return AppealUrgency::kHalf;
  return AppealUrgency::kComfortable;
}

bool AppealEscalates(TimePoint deadline, TimePoint now, Duration escalate_under) {
  return now <= deadline && deadline - now < escalate_under;
}

namespace {

Duration NearestRank(const std::vector<Duration>& sorted, double p) {
  const auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace

AppealSlaStats ComputeAppealSla(const std::vector<AppealOutcomeSample>& appeals, TimePoint day_start, TimePoint now) {
  AppealSlaStats s;
  const TimePoint day_end = day_start + hours(24);
  std::vector<Duration> times;
  for (const auto& a : appeals) {
    if (a.filed_at < day_start || a.filed_at >= day_end) continue;
    if (a.decided_at) {
      ++s.decided;
      if (WithinSla(*a.decided_at, a.deadline)) ++s.decided_in_time;
      times.push_back(*a.decided_at - a.filed_at);
    } else {
      ++s.open;
      if (now > a.deadline) ++s.open_breached;
    }
  }
  if (s.decided > 0) s.within_sla = static_cast<double>(s.decided_in_time) / s.decided;
  if (!times.empty()) {
    std::sort(times.begin(), times.end());
    s.median_time_to_decision = NearestRank(times, 0.5);
    s.p90_time_to_decision = NearestRank(times, 0.9);
  }
  return s;
}

}  // namespace exam::core
