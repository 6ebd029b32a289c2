#pragma once
// Recording files that devices upload after the exam, and each file's history. The caller
// holds the database lock (or a transaction).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backend/store/database.h"
#include "exam/v1/upload.pb.h"

namespace exam::store {

// A file as stored, plus what the service needs to work out its resume deadline (which
// depends on the exam's rules, not on this table).
struct UploadRow {
  exam::v1::UploadFile proto;  // everything except the deadline and the history
  int64_t exam_id = 0;
  std::optional<int64_t> session_ended_at_ms;
  int64_t deadline_extension_ms = 0;
  std::string stored_path;  // final file once complete
};

// The columns a state change may touch.
struct UploadChange {
  exam::v1::UploadState state;
  int64_t committed = 0;
  std::optional<int64_t> last_progress_at_ms;
  double rate = 0;
};

class UploadRepository {
 public:
  explicit UploadRepository(Database& db) : db_(db) {}

  // Files of an exam by session, device and id; `incomplete_only` leaves out finished ones.
  std::vector<UploadRow> List(int64_t exam_id, bool incomplete_only);
  std::optional<UploadRow> Get(int64_t file_id);
  // Files of one session by device and id.
  std::vector<UploadRow> ListForSession(int64_t session_id);
  std::optional<UploadRow> Find(int64_t session_id, int device, std::string_view name);

  int64_t Insert(int64_t session_id, int device, std::string_view name, int kind, exam::v1::UploadState state,
                 int64_t size, std::string_view sha256, int64_t now_ms, std::string_view abnormal_reason);

  // Moves a file on, but only from the state it was read in (`expected_version`): a chunk
  // racing a support action loses rather than overwriting it. False when the row moved.
  bool Apply(int64_t file_id, int64_t expected_version, const UploadChange& change);
  void SetStoredPath(int64_t file_id, std::string_view path);
  void SetRecall(int64_t file_id, bool requested);
  void AddExtension(int64_t file_id, int64_t extension_ms);
  void MarkAbnormal(int64_t file_id, std::string_view reason, bool rerecord_allowed);
  void BumpVersion(int64_t file_id);

  void AddHistory(int64_t file_id, int64_t at_ms, std::string_view kind, std::string_view actor,
                  std::string_view detail);
  std::vector<exam::v1::UploadHistoryEntry> History(int64_t file_id);

  // Files still uploading whose last progress is older than `cutoff_ms`.
  std::vector<int64_t> QuietUploads(int64_t cutoff_ms, int limit);
  // Files still marked recording whose session has ended.
  std::vector<int64_t> RecordingOfEndedSessions(int limit);
  // Files of a session that are neither complete nor abnormal.
  int CountUnfinished(int64_t session_id);

 private:
  std::vector<UploadRow> Query(std::string_view where, const std::function<void(Statement&)>& bind);
  Database& db_;
};

}  // namespace exam::store
