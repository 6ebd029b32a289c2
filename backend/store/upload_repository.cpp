#include "backend/store/upload_repository.h"

#include <google/protobuf/util/time_util.h>

namespace exam::store {

namespace v1 = exam::v1;
using google::protobuf::util::TimeUtil;

std::vector<UploadRow> UploadRepository::List(int64_t exam_id, bool incomplete_only) {
  std::vector<UploadRow> out;
  auto st = db_.Prepare(
      "SELECT f.id, f.session_id, s.draw_number, s.candidate_name, f.device, COALESCE(d.model, ''), f.kind, "
      "f.state, f.size, f.committed, f.last_progress_at, s.ended_at, s.exam_id, f.deadline_extension_ms, "
      "f.recall_requested, f.version FROM upload_files f JOIN sessions s ON s.id=f.session_id LEFT JOIN devices d "
      "ON d.session_id=f.session_id AND d.kind=f.device WHERE s.exam_id=? AND (?=0 OR f.state<>5) ORDER BY "
      "f.session_id, f.device, f.id");
  st.Bind(1, exam_id).Bind(2, incomplete_only ? 1 : 0);
  while (st.Step()) {
    UploadRow row;
    auto* f = &row.proto;
    f->set_id(st.Int(0));
    f->set_session_id(st.Int(1));
    f->set_draw_number(static_cast<int32_t>(st.Int(2)));
    f->set_candidate_name(st.Text(3));
    f->set_device(static_cast<v1::DeviceKind>(st.Int(4)));
    f->set_device_model(st.Text(5));
    f->set_kind(static_cast<v1::TrackKind>(st.Int(6)));
    f->set_state(static_cast<v1::UploadState>(st.Int(7)));
    f->set_size(st.Int(8));
    f->set_committed(st.Int(9));
    if (!st.IsNull(10)) *f->mutable_last_progress_at() = TimeUtil::MillisecondsToTimestamp(st.Int(10));
    row.session_ended_at_ms = st.OptInt(11);
    row.exam_id = st.Int(12);
    row.deadline_extension_ms = st.Int(13);
    f->set_recall_requested(st.Int(14) != 0);
    f->set_version(st.Int(15));
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace exam::store
