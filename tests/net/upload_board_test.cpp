// The uploads board: grouping by urgency, ordering inside a group, search and counts.
#include "net/upload_board.h"

#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

namespace exam::net {
namespace {

namespace v1 = exam::v1;
using google::protobuf::util::TimeUtil;

constexpr int64_t kNow = 1'800'000'000'000;

v1::UploadFile File(int64_t id, int draw, v1::UploadState state, int64_t committed, double rate,
                    int64_t deadline_in_ms, bool online = true, const char* name = "张三") {
  v1::UploadFile f;
  f.set_id(id);
  f.set_session_id(100 + draw);
  f.set_draw_number(draw);
  f.set_candidate_name(name);
  f.set_device_model("Xiaomi MI 5");
  f.set_state(state);
  f.set_size(1'000'000);
  f.set_committed(committed);
  f.set_rate(rate);
  f.set_device_online(online);
  *f.mutable_last_progress_at() = TimeUtil::MillisecondsToTimestamp(kNow - 1000);
  *f.mutable_deadline() = TimeUtil::MillisecondsToTimestamp(kNow + deadline_in_ms);
  return f;
}

TEST(UploadBoard, GroupsByUrgencyThenTimeLeft) {
  std::vector<v1::UploadFile> files = {
      File(1, 5, v1::UPLOAD_STATE_UPLOADING, 500'000, 10'000, 3'600'000),     // on track
      File(2, 3, v1::UPLOAD_STATE_UPLOADING, 100'000, 100, 3'600'000),        // too slow: late
      File(3, 9, v1::UPLOAD_STATE_COMPLETE, 1'000'000, 0, 3'600'000),         // complete
      File(4, 1, v1::UPLOAD_STATE_ABNORMAL, 0, 0, 3'600'000),                 // abnormal
      File(5, 2, v1::UPLOAD_STATE_INTERRUPTED, 300'000, 0, 1'800'000, false),  // offline
      File(6, 4, v1::UPLOAD_STATE_UPLOADING, 100'000, 100, 600'000),          // late, sooner
  };
  auto board = BuildUploadBoard(files, kNow, {});
  std::vector<int64_t> order;
  for (const auto& r : board.rows) order.push_back(r.file->id());
  EXPECT_EQ(order, (std::vector<int64_t>{4, 6, 2, 5, 1}));
  EXPECT_EQ(board.counts.files, 6);
  EXPECT_EQ(board.counts.complete, 1);
  EXPECT_EQ(board.counts.late, 2);
  EXPECT_EQ(board.counts.abnormal, 1);
  EXPECT_EQ(board.counts.offline, 1);
  EXPECT_EQ(board.counts.on_track, 1);
  EXPECT_EQ(board.counts.candidates, 6);
  EXPECT_EQ(board.counts.candidates_incomplete, 5);

  UploadBoardQuery all;
  all.include_complete = true;
  EXPECT_EQ(BuildUploadBoard(files, kNow, all).rows.size(), 6u);
}

TEST(UploadBoard, SearchByDrawNumberNameOrDevice) {
  std::vector<v1::UploadFile> files = {
      File(1, 12, v1::UPLOAD_STATE_UPLOADING, 1, 1000, 3'600'000, true, "王娜"),
      File(2, 21, v1::UPLOAD_STATE_UPLOADING, 1, 1000, 3'600'000, true, "Li Wei"),
  };
  files[1].set_device_model("Huawei P30");
  UploadBoardQuery q;
  q.search = "12";
  auto board = BuildUploadBoard(files, kNow, q);
  ASSERT_EQ(board.rows.size(), 1u);  // exact draw number, not a substring of 21 or 121
  EXPECT_EQ(board.rows[0].file->id(), 1);
  q.search = "王";
  EXPECT_EQ(BuildUploadBoard(files, kNow, q).rows.size(), 1u);
  q.search = "li wei";
  EXPECT_EQ(BuildUploadBoard(files, kNow, q).rows.size(), 1u);
  q.search = "huawei";
  board = BuildUploadBoard(files, kNow, q);
  ASSERT_EQ(board.rows.size(), 1u);
  EXPECT_EQ(board.rows[0].file->id(), 2);
  EXPECT_EQ(board.counts.files, 2);  // counts ignore the search

  files[0].set_room_id(1);
  files[1].set_room_id(2);
  UploadBoardQuery room;
  room.room_id = 2;
  board = BuildUploadBoard(files, kNow, room);
  ASSERT_EQ(board.rows.size(), 1u);
  EXPECT_EQ(board.rows[0].file->id(), 2);
}

TEST(UploadBoard, RunningSessionHasNoDeadlineYet) {
  auto f = File(1, 1, v1::UPLOAD_STATE_RECORDING, 0, 0, 0);
  f.clear_deadline();
  auto board = BuildUploadBoard({f}, kNow, {});
  ASSERT_EQ(board.rows.size(), 1u);
  EXPECT_EQ(board.rows[0].outlook.urgency, core::UploadUrgency::kWaiting);
  EXPECT_FALSE(board.rows[0].outlook.time_left.has_value());
}

}  // namespace
}  // namespace exam::net
