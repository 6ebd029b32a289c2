#pragma once
// The mutable directory behind the snapshots: the last full load plus every event applied
// since, in seq order. Not thread-safe; BackendClient guards it with its model lock.
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "net/directory_snapshot.h"

namespace exam::net {

class DirectoryModel {
 public:
  enum class Applied { kApplied, kDuplicate };

  // Replaces everything with a fresh load; events with seq <= as_of_seq are then ignored.
  void Reset(std::vector<exam::v1::Exam> exams, std::vector<exam::v1::Room> rooms,
             std::vector<exam::v1::Session> sessions, int64_t as_of_seq);

  // Applies one event unless its seq was already seen. Events that concern a session but
  // carry no session payload (help, alert, appeal) add the session id to *refresh so the
  // caller can fetch it again.
  Applied Apply(const exam::v1::Event& event, std::vector<int64_t>* refresh);

  // Replaces a session unless the model already holds a newer version of it.
  bool Upsert(const exam::v1::Session& session);

  int64_t last_seq() const { return last_seq_; }
  bool loaded() const { return loaded_; }
  size_t session_count() const { return sessions_.size(); }

  std::shared_ptr<const DirectorySnapshot> Build(uint64_t version) const;

 private:
  bool loaded_ = false;
  int64_t last_seq_ = 0;
  std::shared_ptr<const std::vector<exam::v1::Exam>> exams_ =
      std::make_shared<const std::vector<exam::v1::Exam>>();
  std::shared_ptr<const std::vector<exam::v1::Room>> rooms_ =
      std::make_shared<const std::vector<exam::v1::Room>>();
  std::map<int64_t, SessionPtr> sessions_;
};

// True for event kinds whose payload is the session after the change.
bool EventCarriesSession(exam::v1::EventKind kind);

}  // namespace exam::net
