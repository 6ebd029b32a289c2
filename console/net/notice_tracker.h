#pragma once
// What must not be missed, whatever workspace is open: a raised hand, an appeal filed during
// the exam, an appeal about to breach its SLA or breached. Built from the change feed; a
// help notice stays until the request is claimed or resolved (or it is dismissed), so a
// raised hand is never just a line scrolling past in the event log. No UI here.
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "net/directory_snapshot.h"

namespace exam::net {

enum class NoticeKind {
  kHelpRaised,
  kAppealInExam,   // filed once the exam had started: a 30-minute SLA
  kAppealEscalated,  // under 5 minutes left
  kAppealBreached,
};

struct Notice {
  int64_t id = 0;  // local, increasing
  NoticeKind kind = NoticeKind::kHelpRaised;
  int64_t ref_id = 0;  // help request or appeal
  int64_t session_id = 0;
  int64_t room_id = 0;
  int32_t draw_number = 0;
  int64_t time_unix_ms = 0;  // backend clock
  std::string detail;
  // When this console learned of it (for showing new notices large, then collapsing them).
  std::chrono::steady_clock::time_point arrived{};
};

class NoticeTracker {
 public:
  // `exam_start_unix_ms`: to tell in-exam appeals from pre-exam ones (0: unknown, then the
  // session's stage decides).
  // Feeds events in seq order; older or repeated seqs are ignored. Returns how many new
  // notices arrived (the caller may sound a chime).
  int Ingest(const std::vector<EventRecord>& events, const DirectorySnapshot* snapshot);
  void Dismiss(int64_t notice_id);
  void DismissAll();

  // Newest first.
  const std::deque<Notice>& active() const { return active_; }
  int64_t last_seq() const { return last_seq_; }

 private:
  void Add(Notice n);
  void RemoveWhere(NoticeKind kind, int64_t ref_id);

  std::deque<Notice> active_;
  int64_t last_seq_ = 0;
  int64_t next_id_ = 1;
  static constexpr size_t kMaxActive = 50;
};

}  // namespace exam::net
