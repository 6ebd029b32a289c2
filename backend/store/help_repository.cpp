#include "backend/store/help_repository.h"

#include <google/protobuf/util/time_util.h>

namespace exam::store {
namespace {

using google::protobuf::util::TimeUtil;
namespace v1 = exam::v1;

}  // namespace

int64_t HelpRepository::Create(int64_t session_id, int stage, int64_t now_ms) {
  db_.Prepare("INSERT INTO help_requests(session_id, stage, state, raised_at) VALUES(?,?,?,?)")
      .Bind(1, session_id)
      .Bind(2, stage)
      .Bind(3, static_cast<int>(v1::HELP_STATE_OPEN))
      .Bind(4, now_ms)
      .Run();
  return db_.LastInsertId();
}

std::optional<v1::HelpRequest> HelpRepository::Get(int64_t id) {
  auto st = db_.Prepare(
      "SELECT h.id, h.session_id, s.room_id, s.draw_number, h.stage, h.state, h.raised_at, h.claimed_by, "
      "h.first_response_at, h.resolved_at, h.category, h.version FROM help_requests h JOIN sessions s ON "
      "s.id=h.session_id WHERE h.id=?");
  st.Bind(1, id);
  if (!st.Step()) return std::nullopt;
  v1::HelpRequest h;
  h.set_id(st.Int(0));
  h.set_session_id(st.Int(1));
  h.set_room_id(st.Int(2));
  h.set_draw_number(static_cast<int32_t>(st.Int(3)));
  h.set_stage(static_cast<v1::Stage>(st.Int(4)));
  h.set_state(static_cast<v1::HelpState>(st.Int(5)));
  *h.mutable_raised_at() = TimeUtil::MillisecondsToTimestamp(st.Int(6));
  h.set_claimed_by(st.Text(7));
  if (!st.IsNull(8)) *h.mutable_first_response_at() = TimeUtil::MillisecondsToTimestamp(st.Int(8));
  if (!st.IsNull(9)) *h.mutable_resolved_at() = TimeUtil::MillisecondsToTimestamp(st.Int(9));
  h.set_category(st.Text(10));
  h.set_version(st.Int(11));
  auto m = db_.Prepare("SELECT time, from_candidate, author, text FROM help_messages WHERE help_id=? ORDER BY id");
  m.Bind(1, id);
  while (m.Step()) {
    auto* msg = h.add_messages();
    *msg->mutable_time() = TimeUtil::MillisecondsToTimestamp(m.Int(0));
    msg->set_from_candidate(m.Int(1) != 0);
    msg->set_author(m.Text(2));
    msg->set_text(m.Text(3));
  }
  return h;
}

std::optional<HelpOwner> HelpRepository::FindOwner(int64_t help_id) {
  auto st = db_.Prepare("SELECT session_id, state FROM help_requests WHERE id=?");
  st.Bind(1, help_id);
  if (!st.Step()) return std::nullopt;
  return HelpOwner{st.Int(0), static_cast<int>(st.Int(1))};
}

std::vector<v1::HelpRequest> HelpRepository::List(int64_t exam_id, bool unresolved_only, int64_t resolved_since_ms) {
  std::vector<int64_t> ids;
  {
    auto st = db_.Prepare(
        "SELECT h.id FROM help_requests h JOIN sessions s ON s.id=h.session_id WHERE (?=0 OR s.exam_id=?) "
        "AND (?=0 OR h.state<>3) AND (h.state<>3 OR COALESCE(h.resolved_at, 0) >= ?) ORDER BY h.raised_at, h.id");
    st.Bind(1, exam_id).Bind(2, exam_id).Bind(3, unresolved_only ? 1 : 0).Bind(4, resolved_since_ms);
    while (st.Step()) ids.push_back(st.Int(0));
  }
  std::vector<v1::HelpRequest> out;
  out.reserve(ids.size());
  for (const int64_t id : ids)
    if (auto h = Get(id)) out.push_back(std::move(*h));
  return out;
}

void HelpRepository::AddMessage(int64_t help_id, int64_t now_ms, bool from_candidate, const std::string& author,
                                const std::string& text) {
  db_.Prepare("INSERT INTO help_messages(help_id, time, from_candidate, author, text) VALUES(?,?,?,?,?)")
      .Bind(1, help_id)
      .Bind(2, now_ms)
      .Bind(3, from_candidate ? 1 : 0)
      .Bind(4, author)
      .Bind(5, text)
      .Run();
}

void HelpRepository::Claim(int64_t help_id, const std::string& by) {
  db_.Prepare("UPDATE help_requests SET state=2, claimed_by=?, version=version+1 WHERE id=?")
      .Bind(1, by)
      .Bind(2, help_id)
      .Run();
}

void HelpRepository::NoteStaffReply(int64_t help_id, int64_t now_ms, const std::string& by) {
  db_.Prepare(
         "UPDATE help_requests SET first_response_at=COALESCE(first_response_at, ?), "
         "state=CASE WHEN state=1 THEN 2 ELSE state END, claimed_by=CASE WHEN claimed_by='' THEN ? "
         "ELSE claimed_by END, version=version+1 WHERE id=?")
      .Bind(1, now_ms)
      .Bind(2, by)
      .Bind(3, help_id)
      .Run();
}

void HelpRepository::Resolve(int64_t help_id, int64_t now_ms, const std::string& category) {
  db_.Prepare("UPDATE help_requests SET state=3, resolved_at=?, category=?, version=version+1 WHERE id=?")
      .Bind(1, now_ms)
      .Bind(2, category)
      .Bind(3, help_id)
      .Run();
}

}  // namespace exam::store
