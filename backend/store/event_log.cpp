#include "backend/store/event_log.h"

#include <google/protobuf/util/time_util.h>
#include <openssl/evp.h>

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

namespace {

void PutU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

// sha256(prev || id || time || each text field with its length): lengths keep field
// boundaries unambiguous, so moving bytes between fields changes the hash.
std::string ChainHash(const std::string& prev, int64_t id, int64_t time_ms, const std::string& actor,
                      const std::string& action, const std::string& target, const std::string& before,
                      const std::string& after) {
  std::string bytes = prev;
  PutU64(bytes, static_cast<uint64_t>(id));
  PutU64(bytes, static_cast<uint64_t>(time_ms));
  for (const std::string* field : {&actor, &action, &target, &before, &after}) {
    PutU64(bytes, field->size());
    bytes += *field;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &n, EVP_sha256(), nullptr) != 1)
    throw StoreError("sha256 failed");
  return std::string(reinterpret_cast<const char*>(digest), n);
}

std::string Hex(const std::string& bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

}  // namespace

int64_t AuditLog::Append(int64_t time_ms, const std::string& actor, const std::string& action,
                         const std::string& target, const std::string& before, const std::string& after) {
  auto head = db_.Prepare("SELECT last_hash FROM audit_chain WHERE singleton=1");
  if (!head.Step()) throw StoreError("audit chain head missing");
  const std::string prev = head.Blob(0);
  auto next = db_.Prepare("SELECT COALESCE(MAX(id), 0) + 1 FROM audit");
  next.Step();
  const int64_t id = next.Int(0);
  const std::string hash = ChainHash(prev, id, time_ms, actor, action, target, before, after);
  db_.Prepare("INSERT INTO audit(id, time, actor, action, target, before, after, hash) VALUES(?,?,?,?,?,?,?,?)")
      .Bind(1, id)
      .Bind(2, time_ms)
      .Bind(3, actor)
      .Bind(4, action)
      .Bind(5, target)
      .Bind(6, before)
      .Bind(7, after)
      .BindBlob(8, hash)
      .Run();
  db_.Prepare("UPDATE audit_chain SET last_id=?, last_hash=? WHERE singleton=1").Bind(1, id).BindBlob(2, hash).Run();
  return id;
}

AuditVerification AuditLog::Verify(Database& db) {
  AuditVerification v;
  auto fail = [&](int64_t id, std::string problem) {
    v.ok = false;
    v.bad_id = id;
    v.problem = std::move(problem);
    return v;
  };
  auto head = db.Prepare("SELECT start_id, last_id, last_hash FROM audit_chain WHERE singleton=1");
  if (!head.Step()) return fail(0, "the audit chain's head row is missing");
  v.start_id = head.Int(0);
  const int64_t last_id = head.Int(1);
  const std::string last_hash = head.Blob(2);

  std::string prev(32, '\0');
  int64_t expected = v.start_id;
  auto st =
      db.Prepare("SELECT id, time, actor, action, target, before, after, hash FROM audit WHERE id>=? ORDER BY id");
  st.Bind(1, v.start_id);
  while (st.Step()) {
    const int64_t id = st.Int(0);
    if (id != expected) return fail(expected, "audit row " + std::to_string(expected) + " is missing");
    const std::string want = ChainHash(prev, id, st.Int(1), st.Text(2), st.Text(3), st.Text(4), st.Text(5), st.Text(6));
    if (st.IsNull(7) || st.Blob(7) != want)
      return fail(id, "audit row " + std::to_string(id) + " does not match its hash: changed after it was written");
    prev = want;
    ++expected;
    ++v.rows_checked;
  }
  // Rows cut off the end leave no gap behind them; the head remembers where the end was.
  if (expected - 1 != last_id || prev != last_hash)
    return fail(expected, "audit rows after " + std::to_string(expected - 1) + " are missing (the head is row " +
                              std::to_string(last_id) + ")");
  v.head_hex = Hex(prev);
  return v;
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
