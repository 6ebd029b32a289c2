#pragma once
// Identity appeals and the face captures they are judged on. The caller holds the
// database lock (or a transaction); leases and decisions are checked by the service.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backend/store/database.h"
#include "exam/v1/appeal.pb.h"

namespace exam::store {

struct NewAppeal {
  int64_t session_id = 0;
  int stage = 0;  // core::Stage when filed
  int64_t filed_at_ms = 0;
  int64_t deadline_ms = 0;
  std::string id_front;
  std::string id_back;
  std::string handheld_id;
};

class AppealRepository {
 public:
  explicit AppealRepository(Database& db) : db_(db) {}

  // A new open appeal; returns its id.
  int64_t Create(const NewAppeal& appeal);
  // The appeal with its failed captures; `with_photos` adds the capture images, the ID
  // photos and the registration photo. A lease that expired by `now_ms` reads as none.
  std::optional<exam::v1::Appeal> Get(int64_t appeal_id, int64_t now_ms, bool with_photos);
  // exam_id 0: every exam. Earliest deadline first, without captures or photos.
  std::vector<exam::v1::Appeal> List(int64_t exam_id, bool open_only, int64_t now_ms);

  void Claim(int64_t appeal_id, const std::string& by, int64_t lease_expires_ms);
  void Release(int64_t appeal_id);
  // Records the decision and drops any lease.
  void Decide(int64_t appeal_id, bool approve, const std::string& by, int64_t now_ms, const std::string& reason);

  // Open appeals that reached a new escalation level by `now_ms`: 1 when less than
  // `escalate_under_ms` is left, 2 once the deadline passed. Marks them so each level is
  // announced once. Returns (appeal id, session id, level).
  struct Escalation {
    int64_t appeal_id;
    int64_t session_id;
    int level;
  };
  std::vector<Escalation> TakeEscalations(int64_t now_ms, int64_t escalate_under_ms, int limit);

  void AddFaceCapture(int64_t session_id, int64_t time_ms, double similarity, bool passed, const std::string& image);

 private:
  Database& db_;
};

}  // namespace exam::store
