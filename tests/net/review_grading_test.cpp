// A grader's review against a real backend on loopback with synthesized recordings: the
// review feeds list the finished sitting with its rubric and a session's tracks and
// markers; a score and a note go through the outbox and come back in the session feed;
// an evidence clip of question 1 is cut from the remote recordings (ReadMedia through the
// block cache) with a manifest whose sha256 match the files written.
#include <gtest/gtest.h>

#include <google/protobuf/util/time_util.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "backend_fixture.h"
#include "media/block_cache.h"
#include "media/clip_export.h"
#include "net/backend_client.h"
#include "net/outbox_sender.h"
#include "net/review_feed.h"
#include "net/review_media_source.h"
#include "store/action_methods.h"
#include "store/local_store.h"
#include "store/media_block_store.h"
#include "store/outbox.h"
#include "staff_console.h"

namespace exam::testing {
namespace {

namespace v1 = exam::v1;
using google::protobuf::util::TimeUtil;
using namespace std::chrono_literals;

class ReviewGradingTest : public BackendFixture {
 protected:
  void Configure(backend::ServerOptions& o) override {
    o.demo_review_sessions = 1;
    o.demo_review_seconds = 16;
    // Shared by the test processes of one build: the first one synthesizes, later ones reuse.
    ::setenv("EXAM_DEMO_RECORDINGS_CACHE", EXAM_NET_REVIEW_CACHE, 1);
  }
  void TearDown() override {
    session_feed_.reset();
    queue_feed_.reset();
    console_.reset();
    BackendFixture::TearDown();
  }
  // Recordings are made on the backend without an event announcing them: look again every
  // second as well as after each change.
  bool Await(const std::function<bool()>& done) { return changes_.Await(done, 60s, 1s); }

  void StartGrader() {
    console_ = std::make_unique<StaffConsole>(server_->address(), "grader1", (dir_.path() / "grader.sqlite").string(),
                                              changes_);
    ASSERT_TRUE(Await([&] {
      console_->client->Snapshot();
      return !console_->client->AccessToken().empty();
    }));
    client_ = console_->client.get();
    outbox_ = console_->outbox.get();
    net::PollingFeedOptions fo;
    fo.refresh_every = 500ms;  // recordings appear without an event: the feed polls
    fo.on_change = changes_.Callback();
    queue_feed_ = std::make_unique<net::ReviewQueueFeed>(*client_, fo);
    session_feed_ = std::make_unique<net::ReviewSessionFeed>(*client_, fo);
  }

  Changes changes_;
  std::unique_ptr<StaffConsole> console_;
  net::BackendClient* client_ = nullptr;
  local::Outbox* outbox_ = nullptr;
  std::unique_ptr<net::ReviewQueueFeed> queue_feed_;
  std::unique_ptr<net::ReviewSessionFeed> session_feed_;
};

TEST_F(ReviewGradingTest, AGraderScoresNotesAndExportsAClipOfQuestionOne) {
  StartGrader();
  const int64_t exam_id = server_->demo().review_exam_id;
  ASSERT_NE(exam_id, 0);
  queue_feed_->Follow(exam_id);
  ASSERT_TRUE(Await([&] {
    auto q = queue_feed_->Current();
    return q->key == exam_id && q->loaded && !q->sessions.empty() && q->sessions[0].track_count() >= 3;
  })) << queue_feed_->Current()->error;
  const auto queue = queue_feed_->Current();
  ASSERT_GE(queue->rubric.items_size(), 1) << queue->rubric_error;
  const auto& first = queue->sessions[0];
  EXPECT_GT(first.draw_number(), 0);

  session_feed_->Follow(first.session_id());
  ASSERT_TRUE(Await([&] {
    auto s = session_feed_->Current();
    return s->key == first.session_id() && s->loaded && s->tracks.size() >= 3 && !s->markers.empty();
  })) << session_feed_->Current()->error;
  const auto session = session_feed_->Current();

  // Score question 1 and leave a note at its start, through the outbox.
  v1::SubmitScoreRequest score;
  score.set_session_id(first.session_id());
  score.set_question(1);
  score.set_score(queue->rubric.items(0).max_score() / 2);
  score.set_comment("clear and complete");
  const int64_t s1 = outbox_->Enqueue(local::method::kSubmitScore, score, "score 1", "score:1");
  const v1::Marker* q1 = nullptr;
  const v1::Marker* a1 = nullptr;
  for (const auto& m : session->markers) {
    if (m.kind() == v1::MARKER_KIND_QUESTION_SHOWN && m.question() == 1 && q1 == nullptr) q1 = &m;
    if (m.kind() == v1::MARKER_KIND_ANSWER_COMPLETE && m.question() == 1 && a1 == nullptr) a1 = &m;
  }
  ASSERT_TRUE(q1 != nullptr && a1 != nullptr);
  v1::AddAnnotationRequest note;
  note.set_session_id(first.session_id());
  *note.mutable_at() = q1->time();
  note.set_text("looks at the phone at the start");
  const int64_t n1 = outbox_->Enqueue(local::method::kAddAnnotation, note, "note", "note:1");
  auto confirmed = [&](int64_t id) {
    auto a = outbox_->Get(id);
    return a && a->state == local::ActionState::kConfirmed;
  };
  ASSERT_TRUE(Await([&] { return confirmed(s1) && confirmed(n1); })) << outbox_->Get(s1)->error_message;
  session_feed_->RefreshNow();
  ASSERT_TRUE(Await([&] {
    auto s = session_feed_->Current();
    return s->scores.size() == 1 && s->annotations.size() == 1;
  }));
  EXPECT_DOUBLE_EQ(session_feed_->Current()->scores[0].score(), score.score());
  EXPECT_EQ(session_feed_->Current()->annotations[0].text(), note.text());

  // A clip of question 1 from the remote recordings, through the block cache.
  local::MediaBlockStoreOptions bo;
  bo.folder = (dir_.path() / "blocks").string();
  std::filesystem::create_directories(bo.folder);
  auto blocks = std::make_shared<local::MediaBlockStore>(bo);
  media::ClipRequest req;
  req.session_id = first.session_id();
  req.draw_number = first.draw_number();
  req.start_utc_us = TimeUtil::TimestampToMicroseconds(q1->time());
  req.end_utc_us = TimeUtil::TimestampToMicroseconds(a1->time()) + 500'000;
  req.folder = (dir_.path() / "clip").string();
  net::BackendClient* client = client_;
  for (const auto& t : session->tracks) {
    media::ClipSource src;
    src.kind = t.kind();
    src.track_id = t.id();
    src.segment = t.segment();
    src.source_sha256 = t.sha256();
    src.placement.utc_start_us = TimeUtil::TimestampToMicroseconds(t.utc_start());
    src.placement.duration_us = TimeUtil::DurationToMicroseconds(t.duration());
    auto remote = std::make_shared<net::ReviewMediaSource>(client->Channel(), [client] { return client->AccessToken(); },
                                                           t.id(), t.size());
    src.source = std::make_shared<media::CachedByteSource>(remote, blocks, "track-" + std::to_string(t.id()));
    req.sources.push_back(std::move(src));
  }
  const auto result = media::ExportClip(req);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.manifest.files_size(), 3);
  for (const auto& f : result.manifest.files()) {
    const auto path = std::filesystem::path(req.folder) / f.file();
    std::string error;
    EXPECT_EQ(f.sha256(), media::FileSha256(path.string(), &error)) << f.file();
    EXPECT_LE(f.offset_us(), 0) << f.file() << " starts on a keyframe at or before the range";
    EXPECT_GE(f.offset_us() + f.duration_us(), req.end_utc_us - req.start_utc_us - 600'000) << f.file();
  }
}

}  // namespace
}  // namespace exam::testing
