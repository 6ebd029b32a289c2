// Notices that must not be missed: raised hands until someone takes them, appeals filed
// during the exam, escalations and breaches; each once.
#include "net/notice_tracker.h"

#include <gtest/gtest.h>

namespace exam::net {
namespace {

namespace v1 = exam::v1;

EventRecord Ev(int64_t seq, v1::EventKind kind, int64_t ref, std::string detail = {},
               core::Stage stage = core::Stage::kAnswering) {
  EventRecord e;
  e.seq = seq;
  e.kind = kind;
  e.ref_id = ref;
  e.detail = std::move(detail);
  e.stage = stage;
  e.draw_number = static_cast<int32_t>(ref);
  return e;
}

TEST(NoticeTracker, HelpStaysUntilClaimed) {
  NoticeTracker t;
  EXPECT_EQ(t.Ingest({Ev(1, v1::EVENT_KIND_HELP_RAISED, 7, "question not loaded")}, nullptr), 1);
  EXPECT_EQ(t.Ingest({Ev(2, v1::EVENT_KIND_STAGE_CHANGED, 0), Ev(3, v1::EVENT_KIND_HELP_UPDATED, 7, "staff-message")},
                     nullptr),
            0);
  ASSERT_EQ(t.active().size(), 1u);
  EXPECT_EQ(t.active().front().kind, NoticeKind::kHelpRaised);
  t.Ingest({Ev(4, v1::EVENT_KIND_HELP_UPDATED, 7, "claimed")}, nullptr);
  EXPECT_TRUE(t.active().empty());
}

TEST(NoticeTracker, RepeatedEventsAreIgnored) {
  NoticeTracker t;
  t.Ingest({Ev(5, v1::EVENT_KIND_HELP_RAISED, 1)}, nullptr);
  EXPECT_EQ(t.Ingest({Ev(5, v1::EVENT_KIND_HELP_RAISED, 1), Ev(4, v1::EVENT_KIND_HELP_RAISED, 2)}, nullptr), 0);
  EXPECT_EQ(t.active().size(), 1u);
  EXPECT_EQ(t.last_seq(), 5);
}

TEST(NoticeTracker, OnlyInExamAppealsAndTheirEscalations) {
  NoticeTracker t;
  // Without the exam's start, the session's stage tells: before answering is pre-exam.
  EXPECT_EQ(t.Ingest({Ev(1, v1::EVENT_KIND_APPEAL_FILED, 3, "", core::Stage::kFaceLogin)}, nullptr), 0);
  EXPECT_EQ(t.Ingest({Ev(2, v1::EVENT_KIND_APPEAL_FILED, 4, "", core::Stage::kAnswering)}, nullptr), 1);
  EXPECT_EQ(t.Ingest({Ev(3, v1::EVENT_KIND_APPEAL_UPDATED, 3, "escalated")}, nullptr), 1);
  EXPECT_EQ(t.Ingest({Ev(4, v1::EVENT_KIND_APPEAL_UPDATED, 3, "breached")}, nullptr), 1);
  // The breach replaces the escalation of the same appeal.
  int escalated = 0, breached = 0;
  for (const auto& n : t.active()) {
    escalated += n.kind == NoticeKind::kAppealEscalated;
    breached += n.kind == NoticeKind::kAppealBreached;
  }
  EXPECT_EQ(escalated, 0);
  EXPECT_EQ(breached, 1);
  // Deciding clears everything about the appeal.
  t.Ingest({Ev(5, v1::EVENT_KIND_APPEAL_UPDATED, 3, "approved"), Ev(6, v1::EVENT_KIND_APPEAL_UPDATED, 4, "rejected")},
           nullptr);
  EXPECT_TRUE(t.active().empty());
}

TEST(NoticeTracker, HelpOutlivesOtherNoticesWhenFull) {
  NoticeTracker t;
  t.Ingest({Ev(1, v1::EVENT_KIND_HELP_RAISED, 1)}, nullptr);
  std::vector<EventRecord> many;
  for (int i = 0; i < 80; ++i) many.push_back(Ev(2 + i, v1::EVENT_KIND_APPEAL_UPDATED, 100 + i, "breached"));
  t.Ingest(many, nullptr);
  EXPECT_EQ(t.active().size(), 50u);
  EXPECT_EQ(t.active().back().kind, NoticeKind::kHelpRaised);
}

TEST(NoticeTracker, DismissOne) {
  NoticeTracker t;
  t.Ingest({Ev(1, v1::EVENT_KIND_HELP_RAISED, 1), Ev(2, v1::EVENT_KIND_HELP_RAISED, 2)}, nullptr);
  t.Dismiss(t.active().back().id);
  ASSERT_EQ(t.active().size(), 1u);
  EXPECT_EQ(t.active().front().ref_id, 2);
}

}  // namespace
}  // namespace exam::net
