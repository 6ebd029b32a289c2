// The live wall's focus view against a real backend on loopback: the session history it
// shows (LiveService.GetSessionHistory through SessionHistoryFeed) and the proctor actions it
// sends through the console's outbox — acknowledge, message, warning, a violation with a JPEG
// snapshot taken from a decoded picture, ending the exam. The backend's SQLite file is read
// back to check what was stored. Tests wait on change callbacks, never on time.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "backend_db.h"
#include "backend_fixture.h"
#include "media/frame_snapshot.h"
#include "net/backend_client.h"
#include "net/outbox_sender.h"
#include "net/session_history_feed.h"
#include "staff_console.h"
#include "store/action_methods.h"
#include "store/local_store.h"
#include "store/outbox.h"

namespace exam::testing {
namespace {

namespace v1 = exam::v1;
using namespace std::chrono_literals;

// A 4:2:0 picture of one colour (Y, U, V), odd sized like phone streams can be.
media::VideoFrame SolidFrame(int w, int h, uint8_t y, uint8_t u, uint8_t v) {
  media::VideoFrame f;
  f.width = w;
  f.height = h;
  const int cw = media::ChromaWidth(w), ch = media::ChromaHeight(h);
  f.linesize[0] = w + 7;  // wider than the picture, as decoders' lines are
  f.linesize[1] = f.linesize[2] = cw + 3;
  f.planes[0].assign(static_cast<size_t>(f.linesize[0]) * h, y);
  f.planes[1].assign(static_cast<size_t>(f.linesize[1]) * ch, u);
  f.planes[2].assign(static_cast<size_t>(f.linesize[2]) * ch, v);
  return f;
}

class ProctorFocusTest : public BackendFixture {
 protected:
  void TearDown() override {
    feed_.reset();
    console_.reset();
    BackendFixture::TearDown();
  }

  bool Await(const std::function<bool()>& done) { return changes_.Await(done); }

  // The console of `user`: client, outbox with its sender, and the focus view's feed.
  void StartConsole(const std::string& user) {
    console_ = std::make_unique<StaffConsole>(server_->address(), user,
                                              (dir_.path() / "console" / (user + ".sqlite")).string(), changes_);
    ASSERT_TRUE(Await([&] {
      console_->client->Snapshot();  // re-arms the notification, as the frame loop does
      return !console_->client->AccessToken().empty();
    })) << console_->client->Status().message;
    outbox_ = console_->outbox.get();
    net::SessionHistoryFeed::Options fo;
    fo.refresh_every = 60s;  // the tests ask for refreshes; the period must not be what they wait on
    fo.on_change = changes_.Callback();
    feed_ = std::make_unique<net::SessionHistoryFeed>(*console_->client, fo);
  }

  // Waits for the feed to show session `id` with `done` true of it.
  bool AwaitHistory(int64_t id, const std::function<bool(const net::SessionHistoryView&)>& done) {
    return Await([&] {
      auto v = feed_->Current();
      return v->key == id && v->loaded && done(*v);
    });
  }

  int64_t Enqueue(v1::ProctorActionRequest req, int64_t session_id) {
    req.set_session_id(session_id);
    return outbox_->Enqueue(local::method::kProctorAction, req, "focus action", "session:" + std::to_string(session_id));
  }
  bool Confirmed(int64_t id) { return console_->Confirmed(id); }

  // A candidate of room 1 (proctor1's) answering, whose recording was interrupted: one alert.
  Device InterruptedCandidate() {
    auto d = JoinCandidate(0);
    StartAnswering(d);
    auto stub = v1::CandidateService::NewStub(Channel());
    v1::ReportInterruptionRequest req;
    req.set_idempotency_key(Key());
    req.set_started(true);
    v1::Session out;
    auto ctx = Ctx(d.token);
    EXPECT_TRUE(stub->ReportInterruption(ctx.get(), req, &out).ok());
    return d;
  }

  Changes changes_;
  std::unique_ptr<StaffConsole> console_;
  local::Outbox* outbox_ = nullptr;
  std::unique_ptr<net::SessionHistoryFeed> feed_;
};

TEST_F(ProctorFocusTest, HistoryHoldsTheSessionsEventsAndAlertsAndOnlyItsRoomsProctorSeesIt) {
  const auto d = InterruptedCandidate();
  StartConsole("proctor1");
  feed_->Follow(d.session_id);
  ASSERT_TRUE(AwaitHistory(d.session_id, [](const auto& v) { return !v.alerts.empty(); }))
      << feed_->Current()->error;
  const auto v = feed_->Current();
  bool stage = false, interruption = false, alert = false;
  for (const auto& e : v->events) {
    EXPECT_EQ(e.session_id(), d.session_id);
    EXPECT_FALSE(e.has_session()) << "history events go without the session payload";
    stage |= e.kind() == v1::EVENT_KIND_STAGE_CHANGED;
    interruption |= e.kind() == v1::EVENT_KIND_INTERRUPTION_STARTED;
    alert |= e.kind() == v1::EVENT_KIND_ALERT_RAISED;
  }
  EXPECT_TRUE(stage && interruption && alert);
  for (size_t i = 1; i < v->events.size(); ++i) EXPECT_LT(v->events[i - 1].seq(), v->events[i].seq());
  ASSERT_EQ(v->OpenAlerts().size(), 1u);
  EXPECT_EQ(v->OpenAlerts()[0]->kind(), v1::ALERT_KIND_INTERRUPTION);

  // Following another candidate drops the first one's history at once.
  auto other = JoinCandidate(1);
  feed_->Follow(other.session_id);
  EXPECT_NE(feed_->Current()->key, d.session_id);
  ASSERT_TRUE(AwaitHistory(other.session_id, [](const auto&) { return true; }));
  EXPECT_TRUE(feed_->Current()->alerts.empty());

  // Room 2's proctor and a grader are refused; the same answer for "not yours" and "none".
  auto live = v1::LiveService::NewStub(Channel());
  v1::GetSessionHistoryRequest req;
  req.set_session_id(d.session_id);
  v1::SessionHistory out;
  auto c1 = Ctx(Login("proctor2"));
  EXPECT_EQ(live->GetSessionHistory(c1.get(), req, &out).error_code(), grpc::StatusCode::NOT_FOUND);
  auto c2 = Ctx(Login("grader1"));
  EXPECT_EQ(live->GetSessionHistory(c2.get(), req, &out).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  req.set_session_id(987654);
  auto c3 = Ctx(Login("proctor1"));
  EXPECT_EQ(live->GetSessionHistory(c3.get(), req, &out).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ProctorFocusTest, FocusActionsGoThroughTheOutboxAndTheBackendStoresThemOnce) {
  const auto d = InterruptedCandidate();
  StartConsole("proctor1");
  feed_->Follow(d.session_id);
  ASSERT_TRUE(AwaitHistory(d.session_id, [](const auto& v) { return !v.OpenAlerts().empty(); }));
  const int64_t alert_id = feed_->Current()->OpenAlerts()[0]->id();

  // Acknowledge, a message, and a violation with the picture on screen as JPEG.
  v1::ProctorActionRequest ack;
  ack.set_kind(v1::PROCTOR_ACTION_KIND_ACKNOWLEDGE);
  ack.set_alert_id(alert_id);
  const int64_t a1 = Enqueue(ack, d.session_id);
  v1::ProctorActionRequest msg;
  msg.set_kind(v1::PROCTOR_ACTION_KIND_MESSAGE);
  msg.set_text("请将手机放回侧后方 Put the phone back behind you");
  const int64_t a2 = Enqueue(msg, d.session_id);
  const auto jpeg = media::EncodeJpeg(SolidFrame(641, 359, 81, 90, 240));  // red
  ASSERT_FALSE(jpeg.bytes.empty()) << jpeg.error;
  v1::ProctorActionRequest violation;
  violation.set_kind(v1::PROCTOR_ACTION_KIND_RECORD_VIOLATION);
  violation.set_category(v1::VIOLATION_CATEGORY_LEFT_SEAT);
  violation.set_text("left for about a minute");
  violation.set_snapshot(jpeg.bytes);
  const int64_t a3 = Enqueue(violation, d.session_id);
  ASSERT_TRUE(Await([&] { return Confirmed(a1) && Confirmed(a2) && Confirmed(a3); }))
      << outbox_->Get(a1)->error_message << " / " << outbox_->Get(a3)->error_message;

  // The history shows them: the alert acknowledged by proctor1, the message, the violation.
  feed_->RefreshNow();
  ASSERT_TRUE(AwaitHistory(d.session_id, [&](const auto& v) {
    bool violation_seen = false;
    for (const auto& e : v.events) violation_seen |= e.kind() == v1::EVENT_KIND_VIOLATION_RECORDED;
    return violation_seen && v.OpenAlerts().empty();
  }));
  const auto v = feed_->Current();
  ASSERT_EQ(v->alerts.size(), 1u);
  EXPECT_EQ(v->alerts[0].acknowledged_by(), "proctor1");
  int messages = 0;
  for (const auto& e : v->events) {
    messages += e.kind() == v1::EVENT_KIND_PROCTOR_MESSAGE;
    if (e.kind() == v1::EVENT_KIND_VIOLATION_RECORDED) EXPECT_EQ(e.detail(), "VIOLATION_CATEGORY_LEFT_SEAT");
  }
  EXPECT_EQ(messages, 1);

  // The backend keeps the snapshot byte for byte with the violation.
  v1::ProctorActionResponse stored;
  ASSERT_TRUE(stored.ParseFromString(outbox_->Get(a3)->response));
  {
    const auto rows = QueryDb(options_.db_path, "SELECT snapshot, category FROM proctor_actions WHERE id=" +
                                                    std::to_string(stored.action_id()));
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0][0], jpeg.bytes);
    EXPECT_EQ(std::stoi(rows[0][1]), v1::VIOLATION_CATEGORY_LEFT_SEAT);
  }

  // The same action sent again with its key (a console that lost the answer) is a replay.
  v1::ProctorActionRequest again;
  ASSERT_TRUE(again.ParseFromString(outbox_->Get(a3)->request));
  v1::ProctorActionResponse replay;
  auto ctx = Ctx(Login("proctor1"));
  ASSERT_TRUE(v1::LiveService::NewStub(Channel())->ProctorAction(ctx.get(), again, &replay).ok());
  EXPECT_TRUE(replay.replayed());
  EXPECT_EQ(replay.action_id(), stored.action_id());

  // A second acknowledgement of the same alert is refused and shows as failed.
  const int64_t a4 = Enqueue(ack, d.session_id);
  ASSERT_TRUE(Await([&] { return outbox_->Get(a4)->finished(); }));
  EXPECT_EQ(outbox_->Get(a4)->state, local::ActionState::kFailed);
  EXPECT_FALSE(outbox_->Get(a4)->error_message.empty());

  // Ending the exam: the session ends and the history says so.
  v1::ProctorActionRequest end;
  end.set_kind(v1::PROCTOR_ACTION_KIND_TERMINATE);
  end.set_text("second person in the room");
  const int64_t a5 = Enqueue(end, d.session_id);
  ASSERT_TRUE(Await([&] { return Confirmed(a5); })) << outbox_->Get(a5)->error_message;
  feed_->RefreshNow();
  ASSERT_TRUE(AwaitHistory(d.session_id, [&](const auto& v) {
    for (const auto& e : v.events)
      if (e.kind() == v1::EVENT_KIND_SESSION_ENDED) return true;
    return false;
  }));
}

}  // namespace
}  // namespace exam::testing
