// DirectoryModel without a network: applying events in seq order, ignoring replays,
// keeping the newest version of a session, and the counts the overview shows.
#include <gtest/gtest.h>

#include "net/directory_model.h"
#include "net/remote_clock.h"
#include "net/backoff.h"

namespace exam::net {
namespace {

namespace v1 = exam::v1;

v1::Session MakeSession(int64_t id, int64_t room, v1::Stage stage, int64_t version) {
  v1::Session s;
  s.set_id(id);
  s.set_exam_id(1);
  s.set_room_id(room);
  s.set_stage(stage);
  s.set_version(version);
  return s;
}

v1::Event StageEvent(int64_t seq, const v1::Session& session) {
  v1::Event e;
  e.set_seq(seq);
  e.set_kind(v1::EVENT_KIND_STAGE_CHANGED);
  e.set_session_id(session.id());
  e.set_room_id(session.room_id());
  *e.mutable_session() = session;
  return e;
}

DirectoryModel Loaded() {
  v1::Room r1;
  r1.set_id(10);
  r1.set_exam_id(1);
  r1.set_name("第 1 考场");
  v1::Room r2 = r1;
  r2.set_id(20);
  r2.set_name("第 2 考场");
  DirectoryModel model;
  model.Reset({}, {r1, r2},
              {MakeSession(1, 10, v1::STAGE_DEVICE_CHECK, 3), MakeSession(2, 10, v1::STAGE_FACE_LOGIN, 5),
               MakeSession(3, 20, v1::STAGE_UNSPECIFIED, 1)},
              100);
  return model;
}

TEST(DirectoryModel, IgnoresEventsAtOrBelowTheLoadedSeq) {
  DirectoryModel model = Loaded();
  std::vector<int64_t> refresh;
  EXPECT_EQ(model.Apply(StageEvent(100, MakeSession(1, 10, v1::STAGE_ANSWERING, 9)), &refresh),
            DirectoryModel::Applied::kDuplicate);
  EXPECT_EQ(model.Apply(StageEvent(101, MakeSession(1, 10, v1::STAGE_FACE_LOGIN, 4)), &refresh),
            DirectoryModel::Applied::kApplied);
  EXPECT_EQ(model.Apply(StageEvent(101, MakeSession(1, 10, v1::STAGE_ANSWERING, 9)), &refresh),
            DirectoryModel::Applied::kDuplicate);
  EXPECT_EQ(model.last_seq(), 101);
  EXPECT_EQ(model.Build(1)->FindSession(1)->stage(), v1::STAGE_FACE_LOGIN);
}

TEST(DirectoryModel, KeepsTheNewestVersionOfASession) {
  DirectoryModel model = Loaded();
  EXPECT_FALSE(model.Upsert(MakeSession(2, 10, v1::STAGE_DEVICE_CHECK, 4)));
  EXPECT_TRUE(model.Upsert(MakeSession(2, 10, v1::STAGE_DRAW, 6)));
  EXPECT_EQ(model.Build(1)->FindSession(2)->stage(), v1::STAGE_DRAW);
}

TEST(DirectoryModel, EventsWithoutSessionAskForARefresh) {
  DirectoryModel model = Loaded();
  std::vector<int64_t> refresh;
  v1::Event help;
  help.set_seq(101);
  help.set_kind(v1::EVENT_KIND_HELP_RAISED);
  help.set_session_id(3);
  model.Apply(help, &refresh);
  v1::Event upload;
  upload.set_seq(102);
  upload.set_kind(v1::EVENT_KIND_UPLOAD_PROGRESS);
  upload.set_session_id(2);
  upload.set_detail("100/400");
  model.Apply(upload, &refresh);
  upload.set_seq(103);
  upload.set_detail("400/400");
  model.Apply(upload, &refresh);
  EXPECT_EQ(refresh, (std::vector<int64_t>{3, 2}));
}

TEST(DirectoryModel, SnapshotCountsStagesPerRoomAndAttention) {
  DirectoryModel model = Loaded();
  v1::Session s = MakeSession(3, 20, v1::STAGE_ANSWERING, 2);
  s.set_open_help(1);
  s.set_open_alerts(2);
  s.set_appeal_pending(true);
  *s.mutable_interruption_started_at() = google::protobuf::Timestamp();
  std::vector<int64_t> refresh;
  model.Apply(StageEvent(101, s), &refresh);
  const auto snap = model.Build(7);
  EXPECT_EQ(snap->version, 7u);
  EXPECT_TRUE(snap->loaded);
  ASSERT_EQ(snap->room_summaries.size(), 2u);
  EXPECT_EQ(snap->room_summaries[0].sessions, 2);
  EXPECT_EQ(snap->room_summaries[0].by_stage[v1::STAGE_DEVICE_CHECK], 1);
  EXPECT_EQ(snap->room_summaries[0].by_stage[v1::STAGE_FACE_LOGIN], 1);
  EXPECT_EQ(snap->room_summaries[1].by_stage[v1::STAGE_ANSWERING], 1);
  EXPECT_EQ(snap->room_summaries[1].open_help, 1);
  EXPECT_EQ(snap->room_summaries[1].open_alerts, 2);
  EXPECT_EQ(snap->room_summaries[1].appeals_pending, 1);
  EXPECT_EQ(snap->room_summaries[1].interrupted, 1);
  EXPECT_EQ(snap->open_alerts, 2);
  EXPECT_EQ(snap->by_stage[v1::STAGE_ANSWERING], 1);
  EXPECT_EQ(snap->FindSession(99), nullptr);
  EXPECT_EQ(snap->FindRoom(20)->name(), "第 2 考场");
}

TEST(RemoteClock, ProjectsBackendTimeWithTheScale) {
  RemoteClock clock;
  EXPECT_FALSE(clock.known());
  const auto t0 = RemoteClock::Steady::now();
  clock.Anchor(1'000'000, 10.0, t0);
  EXPECT_EQ(clock.NowUnixMs(t0 + std::chrono::milliseconds(100)), 1'001'000);
  // An event stamped 1 backend second ago happened 100 real ms ago.
  EXPECT_DOUBLE_EQ(clock.RealAgeMs(1'000'000, t0 + std::chrono::milliseconds(100)), 100.0);
}

TEST(Backoff, DoublesToTheCapWithJitterAndResets) {
  Backoff backoff(std::chrono::milliseconds(250), std::chrono::milliseconds(5000), 0.2, 42);
  int64_t expected = 250;
  for (int i = 0; i < 8; ++i) {
    const auto d = backoff.Next().count();
    EXPECT_GE(d, static_cast<int64_t>(expected * 0.8) - 1);
    EXPECT_LE(d, static_cast<int64_t>(expected * 1.2) + 1);
    expected = std::min<int64_t>(expected * 2, 5000);
  }
  backoff.Reset();
  EXPECT_LE(backoff.Next().count(), 301);
}

}  // namespace
}  // namespace exam::net
