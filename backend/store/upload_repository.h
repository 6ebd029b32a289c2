#pragma once
// Recording files that devices upload after the exam. The caller holds the database lock
// (or a transaction).
#include <cstdint>
#include <optional>
#include <vector>

#include "backend/store/database.h"
#include "exam/v1/upload.pb.h"

namespace exam::store {

// A file as stored, plus what the service needs to work out its resume deadline (which
// depends on the exam's rules, not on this table).
struct UploadRow {
  exam::v1::UploadFile proto;  // everything except the deadline
  int64_t exam_id = 0;
  std::optional<int64_t> session_ended_at_ms;
  int64_t deadline_extension_ms = 0;
};

class UploadRepository {
 public:
  explicit UploadRepository(Database& db) : db_(db) {}

  // Files of an exam by session, device and id; `incomplete_only` leaves out finished ones.
  std::vector<UploadRow> List(int64_t exam_id, bool incomplete_only);

 private:
  Database& db_;
};

}  // namespace exam::store
