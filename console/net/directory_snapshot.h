#pragma once
// What the console knows about exams, rooms and sessions at one moment. Built by the
// network side, read by the UI once per frame; never changed after it is published, so the
// UI can hold it for a whole frame without locks.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/stage.h"
#include "exam/v1/event.pb.h"
#include "exam/v1/exam.pb.h"

namespace exam::net {

using SessionPtr = std::shared_ptr<const exam::v1::Session>;

// Candidates per stage, indexed by the stage's wire value (0 = unspecified .. 9 = ended).
using StageCounts = std::array<int, core::kStageCount + 1>;

// Per-room numbers shown in the overview.
struct RoomSummary {
  int64_t room_id = 0;
  int64_t exam_id = 0;
  std::string name;
  int sessions = 0;
  StageCounts by_stage{};
  int open_help = 0;        // open help requests (求助)
  int open_alerts = 0;      // unacknowledged alerts
  int appeals_pending = 0;  // manual-review appeals (人工审核) undecided
  int interrupted = 0;      // recordings interrupted right now
  int devices_offline = 0;  // sessions with at least one known device offline
};

struct DirectorySnapshot {
  // Increases with every publish; lets a reader tell whether anything changed.
  uint64_t version = 0;
  // Last event applied (0 before the first).
  int64_t last_seq = 0;
  std::shared_ptr<const std::vector<exam::v1::Exam>> exams;
  std::shared_ptr<const std::vector<exam::v1::Room>> rooms;
  // Sorted by session id; see FindSession().
  std::vector<SessionPtr> sessions;
  // Same order as *rooms; a room with no visible sessions still appears.
  std::vector<RoomSummary> room_summaries;
  // Over every visible session.
  StageCounts by_stage{};
  int open_help = 0;
  int open_alerts = 0;
  int appeals_pending = 0;
  int interrupted = 0;
  // True once the first full load (exams, rooms, sessions) completed.
  bool loaded = false;

  const exam::v1::Session* FindSession(int64_t id) const;
  const exam::v1::Room* FindRoom(int64_t id) const;
  const exam::v1::Exam* FindExam(int64_t id) const;
};

// One event as the UI's event log shows it (the session payload is not kept).
struct EventRecord {
  int64_t seq = 0;
  int64_t time_unix_ms = 0;  // backend clock
  exam::v1::EventKind kind = exam::v1::EVENT_KIND_UNSPECIFIED;
  int64_t exam_id = 0;
  int64_t room_id = 0;
  int64_t session_id = 0;
  int64_t ref_id = 0;
  int32_t draw_number = 0;  // from the session payload when present
  core::Stage stage = core::Stage::kUnspecified;
  std::string detail;
};

}  // namespace exam::net
