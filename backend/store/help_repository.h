#pragma once
// Help requests and their message threads. The caller holds the database lock (or a
// transaction); nothing here checks permissions or state transitions.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backend/store/database.h"
#include "exam/v1/help.pb.h"

namespace exam::store {

// Just enough of a help request to check who owns it and whether it is still open.
struct HelpOwner {
  int64_t session_id = 0;
  int state = 0;  // exam.v1.HelpState
};

class HelpRepository {
 public:
  explicit HelpRepository(Database& db) : db_(db) {}

  // A new open request; returns its id.
  int64_t Create(int64_t session_id, int stage, int64_t now_ms);
  // The request with its room, draw number and messages; nullopt when unknown.
  std::optional<exam::v1::HelpRequest> Get(int64_t help_id);
  std::optional<HelpOwner> FindOwner(int64_t help_id);
  // exam_id 0: every exam. Oldest first.
  // `resolved_since_ms`: resolved requests only from then on (0: all).
  std::vector<exam::v1::HelpRequest> List(int64_t exam_id, bool unresolved_only, int64_t resolved_since_ms = 0);

  // author is empty for candidate messages.
  void AddMessage(int64_t help_id, int64_t now_ms, bool from_candidate, const std::string& author,
                  const std::string& text);
  void Claim(int64_t help_id, const std::string& by);
  // A staff reply: records the first response time and claims the request if unclaimed.
  void NoteStaffReply(int64_t help_id, int64_t now_ms, const std::string& by);
  void Resolve(int64_t help_id, int64_t now_ms, const std::string& category);

 private:
  Database& db_;
};

}  // namespace exam::store
