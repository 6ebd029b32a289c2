#include "net/upload_board.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <string>

namespace exam::net {

namespace v1 = exam::v1;
using google::protobuf::util::TimeUtil;

namespace {

core::TimePoint At(const google::protobuf::Timestamp& t) {
  return core::FromUnixMillis(TimeUtil::TimestampToMilliseconds(t));
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool Matches(const v1::UploadFile& f, std::string_view search) {
  if (search.empty()) return true;
  if (std::all_of(search.begin(), search.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    return std::to_string(f.draw_number()) == search || std::to_string(f.session_id()) == search;
  const std::string needle = Lower(search);
  return Lower(f.candidate_name()).find(needle) != std::string::npos ||
         Lower(f.device_model()).find(needle) != std::string::npos || Lower(f.name()).find(needle) != std::string::npos;
}

}  // namespace

core::UploadFacts FactsOf(const v1::UploadFile& f) {
  core::UploadFacts facts;
  facts.state = static_cast<core::UploadState>(f.state());
  facts.size = f.size();
  facts.committed = f.committed();
  facts.rate_bytes_per_s = f.rate();
  if (f.has_last_progress_at()) facts.last_progress_at = At(f.last_progress_at());
  if (f.has_created_at()) facts.created_at = At(f.created_at());
  if (f.has_deadline()) facts.deadline = At(f.deadline());
  facts.device_online = f.device_online();
  return facts;
}

UploadBoard BuildUploadBoard(const std::vector<v1::UploadFile>& files, int64_t now_unix_ms,
                             const UploadBoardQuery& query, const core::UploadRiskRules& rules) {
  UploadBoard board;
  const core::TimePoint now = core::FromUnixMillis(now_unix_ms);
  std::set<int64_t> sessions, incomplete;
  auto& c = board.counts;
  for (const auto& f : files) {
    UploadBoardRow row{&f, core::AssessUpload(FactsOf(f), now, rules)};
    ++c.files;
    sessions.insert(f.session_id());
    switch (row.outlook.urgency) {
      case core::UploadUrgency::kComplete: ++c.complete; break;
      case core::UploadUrgency::kLate: ++c.late; break;
      case core::UploadUrgency::kStuck: ++c.stuck; break;
      case core::UploadUrgency::kOffline: ++c.offline; break;
      case core::UploadUrgency::kAbnormal: ++c.abnormal; break;
      case core::UploadUrgency::kWaiting: ++c.waiting; break;
      case core::UploadUrgency::kOnTrack: ++c.on_track; break;
    }
    if (row.outlook.urgency != core::UploadUrgency::kComplete) incomplete.insert(f.session_id());
    if (!query.include_complete && row.outlook.urgency == core::UploadUrgency::kComplete) continue;
    if (query.room_id != 0 && f.room_id() != query.room_id) continue;
    if (!Matches(f, query.search)) continue;
    board.rows.push_back(row);
  }
  c.candidates = static_cast<int>(sessions.size());
  c.candidates_incomplete = static_cast<int>(incomplete.size());
  std::stable_sort(board.rows.begin(), board.rows.end(), [](const UploadBoardRow& a, const UploadBoardRow& b) {
    if (a.outlook.urgency != b.outlook.urgency) return a.outlook.urgency < b.outlook.urgency;
    const auto left = [](const UploadBoardRow& r) {
      return r.outlook.time_left ? r.outlook.time_left->count() : INT64_MAX;
    };
    if (left(a) != left(b)) return left(a) < left(b);
    if (a.file->draw_number() != b.file->draw_number()) return a.file->draw_number() < b.file->draw_number();
    return a.file->id() < b.file->id();
  });
  return board;
}

}  // namespace exam::net
