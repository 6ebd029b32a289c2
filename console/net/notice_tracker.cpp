#include "net/notice_tracker.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>

namespace exam::net {

namespace v1 = exam::v1;

void NoticeTracker::Add(Notice n) {
  n.id = next_id_++;
  n.arrived = std::chrono::steady_clock::now();
  active_.push_front(std::move(n));
  // Bounded, but help requests are the last to go: they are what must not be missed.
  while (active_.size() > kMaxActive) {
    auto it = std::find_if(active_.rbegin(), active_.rend(), [](const Notice& x) { return x.kind != NoticeKind::kHelpRaised; });
    if (it == active_.rend()) {
      active_.pop_back();
    } else {
      active_.erase(std::next(it).base());
    }
  }
}

void NoticeTracker::RemoveWhere(NoticeKind kind, int64_t ref_id) {
  active_.erase(std::remove_if(active_.begin(), active_.end(),
                               [&](const Notice& n) { return n.kind == kind && n.ref_id == ref_id; }),
                active_.end());
}

int NoticeTracker::Ingest(const std::vector<EventRecord>& events, const DirectorySnapshot* snapshot) {
  int added = 0;
  for (const auto& e : events) {
    if (e.seq <= last_seq_) continue;
    last_seq_ = e.seq;
    Notice n;
    n.ref_id = e.ref_id;
    n.session_id = e.session_id;
    n.room_id = e.room_id;
    n.draw_number = e.draw_number;
    n.time_unix_ms = e.time_unix_ms;
    switch (e.kind) {
      case v1::EVENT_KIND_HELP_RAISED:
        n.kind = NoticeKind::kHelpRaised;
        n.detail = e.detail;
        Add(std::move(n));
        ++added;
        break;
      case v1::EVENT_KIND_HELP_UPDATED:
        // Somebody is on it: the hand is no longer unseen.
        if (e.detail == "claimed" || e.detail == "resolved") RemoveWhere(NoticeKind::kHelpRaised, e.ref_id);
        break;
      case v1::EVENT_KIND_APPEAL_FILED: {
        const v1::Exam* exam = snapshot ? snapshot->FindExam(e.exam_id) : nullptr;
        const int64_t start = exam ? google::protobuf::util::TimeUtil::TimestampToMilliseconds(exam->start_time()) : 0;
        const bool in_exam = start != 0 ? e.time_unix_ms >= start : e.stage >= core::Stage::kAnswering;
        if (!in_exam) break;
        n.kind = NoticeKind::kAppealInExam;
        Add(std::move(n));
        ++added;
        break;
      }
      case v1::EVENT_KIND_APPEAL_UPDATED:
        if (e.detail == "escalated" || e.detail == "breached") {
          RemoveWhere(NoticeKind::kAppealEscalated, e.ref_id);
          n.kind = e.detail == "escalated" ? NoticeKind::kAppealEscalated : NoticeKind::kAppealBreached;
          Add(std::move(n));
          ++added;
        } else if (e.detail == "approved" || e.detail == "rejected") {
          for (auto k : {NoticeKind::kAppealInExam, NoticeKind::kAppealEscalated, NoticeKind::kAppealBreached})
            RemoveWhere(k, e.ref_id);
        }
        break;
      default:
        break;
    }
  }
  return added;
}

void NoticeTracker::Dismiss(int64_t notice_id) {
  active_.erase(std::remove_if(active_.begin(), active_.end(), [&](const Notice& n) { return n.id == notice_id; }),
                active_.end());
}

void NoticeTracker::DismissAll() { active_.clear(); }

}  // namespace exam::net
