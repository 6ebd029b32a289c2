#include "backend/store/event_log.h"

#include <google/protobuf/util/time_util.h>

namespace exam::store {

EventLog::EventLog(Database& db) : db_(db) { Reload(); }

void EventLog::Reload() {
  std::lock_guard lock(db_.mutex());
  auto st = db_.Prepare("SELECT COALESCE(MAX(seq), 0) FROM events");
  st.Step();
  head_ = st.Int(0);
}

void EventLog::Append(exam::v1::Event& event) {
  event.set_seq(head_ + 1);
  db_.Prepare("INSERT INTO events(seq, time, kind, exam_id, room_id, session_id, body) VALUES(?,?,?,?,?,?,?)")
      .Bind(1, event.seq())
      .Bind(2, event.time().seconds() * 1000 + event.time().nanos() / 1000000)
      .Bind(3, static_cast<int>(event.kind()))
      .Bind(4, event.exam_id())
      .Bind(5, event.room_id())
      .Bind(6, event.session_id())
      .BindBlob(7, event.SerializeAsString())
      .Run();
  head_ = event.seq();
}

std::vector<exam::v1::Event> EventLog::ReadSince(int64_t since, int limit) {
  std::lock_guard lock(db_.mutex());
  std::vector<exam::v1::Event> out;
  auto st = db_.Prepare("SELECT body FROM events WHERE seq>? ORDER BY seq LIMIT ?");
  st.Bind(1, since).Bind(2, limit);
  while (st.Step()) {
    exam::v1::Event e;
    if (e.ParseFromString(st.Blob(0))) out.push_back(std::move(e));
  }
  return out;
}

std::vector<exam::v1::Event> EventLog::ReadSession(int64_t session_id) {
  std::lock_guard lock(db_.mutex());
  std::vector<exam::v1::Event> out;
  auto st = db_.Prepare("SELECT body FROM events WHERE session_id=? ORDER BY seq");
  st.Bind(1, session_id);
  while (st.Step()) {
    exam::v1::Event e;
    if (e.ParseFromString(st.Blob(0))) out.push_back(std::move(e));
  }
  return out;
}

int64_t EventLog::LastTimeMs(Database& db) {
  auto st = db.Prepare("SELECT COALESCE(MAX(time), 0) FROM events");
  st.Step();
  return st.Int(0);
}

int64_t AuditLog::Append(int64_t time_ms, const std::string& actor, const std::string& action,
                         const std::string& target, const std::string& before, const std::string& after) {
  db_.Prepare("INSERT INTO audit(time, actor, action, target, before, after) VALUES(?,?,?,?,?,?)")
      .Bind(1, time_ms)
      .Bind(2, actor)
      .Bind(3, action)
      .Bind(4, target)
      .Bind(5, before)
      .Bind(6, after)
      .Run();
  return db_.LastInsertId();
}

std::vector<exam::v1::AuditEntry> AuditLog::List(int64_t after_id, const std::string& target_prefix, int limit) {
  std::vector<exam::v1::AuditEntry> out;
  auto st = db_.Prepare(
      "SELECT id, time, actor, action, target, before, after FROM audit WHERE id>? AND substr(target, 1, ?)=? "
      "ORDER BY id LIMIT ?");
  st.Bind(1, after_id)
      .Bind(2, static_cast<int64_t>(target_prefix.size()))
      .Bind(3, target_prefix)
      .Bind(4, limit);
  while (st.Step()) {
    exam::v1::AuditEntry e;
    e.set_id(st.Int(0));
    *e.mutable_time() = google::protobuf::util::TimeUtil::MillisecondsToTimestamp(st.Int(1));
    e.set_actor(st.Text(2));
    e.set_action(st.Text(3));
    e.set_target(st.Text(4));
    e.set_before(st.Text(5));
    e.set_after(st.Text(6));
    out.push_back(std::move(e));
  }
  return out;
}

std::optional<std::string> IdempotencyStore::Find(const std::string& actor, const std::string& key,
                                                  const std::string& method, bool* method_mismatch) {
  auto st = db_.Prepare("SELECT method, response FROM idempotency WHERE actor=? AND key=?");
  st.Bind(1, actor).Bind(2, key);
  if (!st.Step()) return std::nullopt;
  if (st.Text(0) != method) {
    if (method_mismatch) *method_mismatch = true;
    return std::nullopt;
  }
  return st.Blob(1);
}

void IdempotencyStore::Store(const std::string& actor, const std::string& key, const std::string& method,
                             const std::string& response, int64_t now_ms) {
  db_.Prepare("INSERT INTO idempotency(actor, key, method, response, created_at) VALUES(?,?,?,?,?)")
      .Bind(1, actor)
      .Bind(2, key)
      .Bind(3, method)
      .BindBlob(4, response)
      .Bind(5, now_ms)
      .Run();
}

}  // namespace exam::store
