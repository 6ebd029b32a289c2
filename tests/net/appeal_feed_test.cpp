// AppealFeed against a real ExamServer on loopback (SQLite in a temp dir), with appeals filed
// the way candidates file them (three failed face checks, then FileAppeal through
// CandidateService): the list with deadlines, the lease taken on opening and seen by a
// second reviewer, renewed while open and given back on close, and a decision sent through
// a real outbox and sender. The tests wait on conditions with a deadline, never on time.
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <random>
#include <thread>

#include "backend/server.h"
#include "store/action_methods.h"
#include "temp_dir.h"
#include "exam/v1/appeal.grpc.pb.h"
#include "exam/v1/auth.grpc.pb.h"
#include "exam/v1/candidate.grpc.pb.h"
#include "net/appeal_feed.h"
#include "net/backend_client.h"
#include "net/outbox_sender.h"
#include "store/local_store.h"
#include "store/outbox.h"

namespace exam::net {
namespace {

namespace v1 = exam::v1;
using google::protobuf::util::TimeUtil;
using namespace std::chrono_literals;

constexpr char kSupport1[] = "技术支持 王工";

// Polls `done` until it holds or `timeout` passes; the condition is the synchronisation.
bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

int64_t Ms(const google::protobuf::Timestamp& t) { return TimeUtil::TimestampToMilliseconds(t); }


class AppealFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    backend::ServerOptions options;
    options.db_path = dir_.File("exam.db");
    options.listen = "127.0.0.1:0";
    options.demo_candidates = 8;
    options.demo_rooms = 2;
    options.demo_start_in = core::minutes(20);
    std::string error;
    server_ = backend::ExamServer::Start(options, &error);
    ASSERT_NE(server_, nullptr) << error;
    channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
  }
  void TearDown() override {
    // Feeds first (they give leases back), then what they use, then the backend.
    feeds_.clear();
    sender_.reset();
    outbox_.reset();
    store_.reset();
    clients_.clear();
    if (server_) server_->Shutdown();
  }

  // ---- the console side ----
  BackendClient& SignIn(const std::string& user) {
    ClientOptions o;
    o.address = server_->address();
    o.username = user;
    o.password = "demo";
    o.call_timeout = 2s;
    auto client = std::make_unique<BackendClient>(o);
    client->Start();
    EXPECT_TRUE(WaitFor([&] {
      const auto s = client->Status();
      return !client->AccessToken().empty() && s.clock_known && !s.display_name.empty();
    })) << client->Status().message;
    clients_.push_back(std::move(client));
    return *clients_.back();
  }

  AppealFeed& Feed(BackendClient& client, std::chrono::milliseconds release_unseen_after = 0ms) {
    AppealFeed::Options o;
    o.refresh_every = 100ms;
    o.call_timeout = 2s;
    o.release_unseen_after = release_unseen_after;
    // Stands in for the image decoder: notes the thread and the size, gives one pixel.
    o.decode = [this](std::string_view bytes, AppealPhoto* out) {
      if (std::this_thread::get_id() == test_thread_) decoded_on_caller_ = true;
      out->width = static_cast<int>(bytes.size());
      out->height = 1;
      out->rgba = std::make_shared<const std::vector<uint8_t>>(bytes.size() * 4, 0xFF);
    };
    feeds_.push_back(std::make_unique<AppealFeed>(client, o));
    feeds_.back()->Watch(server_->demo().exam_id);
    return *feeds_.back();
  }

  static std::shared_ptr<const AppealReview> Review(const AppealFeed& feed) { return feed.View()->review; }
  static LeaseState Lease(const AppealFeed& feed) {
    auto r = Review(feed);
    return r ? r->lease : LeaseState::kNone;
  }
  static const v1::Appeal* Listed(const AppealsView& view, int64_t id) {
    for (const auto& a : view.appeals)
      if (a.id() == id) return &a;
    return nullptr;
  }

  // ---- the backend side ----
  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
    auto c = std::make_unique<grpc::ClientContext>();
    if (!token.empty()) c->AddMetadata("authorization", "Bearer " + token);
    c->set_deadline(std::chrono::system_clock::now() + 5s);
    return c;
  }
  std::string Key() { return "test-key-" + std::to_string(++keys_); }

  std::string Login(const std::string& user) {
    auto stub = v1::AuthService::NewStub(channel_);
    v1::LoginRequest req;
    req.set_username(user);
    req.set_password("demo");
    v1::LoginResponse resp;
    auto ctx = Ctx("");
    EXPECT_TRUE(stub->Login(ctx.get(), req, &resp).ok());
    return resp.token();
  }

  // Candidate `index` joins, fails three face checks and files an appeal with its photos,
  // as the simulator's candidates do. Returns the appeal id.
  int64_t FileAppeal(int index) {
    auto stub = v1::CandidateService::NewStub(channel_);
    v1::JoinRequest join;
    join.set_exam_id(server_->demo().exam_id);
    join.set_registration_no(server_->demo().registration_nos.at(static_cast<size_t>(index)));
    join.set_access_code(server_->demo().access_code);
    join.set_device(v1::DEVICE_KIND_LAPTOP);
    join.set_device_model("Lenovo ThinkPad X1");
    v1::JoinResponse joined;
    auto jctx = Ctx("");
    const auto js = stub->Join(jctx.get(), join, &joined);
    EXPECT_TRUE(js.ok()) << js.error_message();
    const std::string token = joined.token();
    for (auto stage : {v1::STAGE_DEVICE_CHECK, v1::STAGE_FACE_LOGIN}) {
      v1::ReportStageRequest req;
      req.set_idempotency_key(Key());
      req.set_stage(stage);
      v1::Session s;
      auto ctx = Ctx(token);
      const auto st = stub->ReportStage(ctx.get(), req, &s);
      EXPECT_TRUE(st.ok()) << st.error_message();
    }
    for (int i = 0; i < 3; ++i) {
      v1::ReportFaceCheckRequest fc;
      fc.set_idempotency_key(Key());
      fc.set_similarity(0.31 + 0.05 * i);
      fc.set_capture("capture-" + std::to_string(i));
      v1::FaceCheckResponse fr;
      auto ctx = Ctx(token);
      EXPECT_TRUE(stub->ReportFaceCheck(ctx.get(), fc, &fr).ok());
    }
    v1::FileAppealRequest req;
    req.set_idempotency_key(Key());
    req.set_id_front("front");
    req.set_id_back("back!");
    req.set_handheld_id("handheld");
    v1::FileAppealResponse resp;
    auto ctx = Ctx(token);
    const auto status = stub->FileAppeal(ctx.get(), req, &resp);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return resp.appeal_id();
  }

  // The appeal as the backend has it now (an expired lease reads as none).
  v1::Appeal Backend(int64_t id) {
    if (admin_token_.empty()) admin_token_ = Login("admin");
    auto stub = v1::AppealService::NewStub(channel_);
    v1::GetAppealRequest req;
    req.set_appeal_id(id);
    v1::Appeal a;
    auto ctx = Ctx(admin_token_);
    EXPECT_TRUE(stub->GetAppeal(ctx.get(), req, &a).ok());
    return a;
  }

  exam::testing::TempDir dir_;
  std::unique_ptr<backend::ExamServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::vector<std::unique_ptr<BackendClient>> clients_;
  std::vector<std::unique_ptr<AppealFeed>> feeds_;
  std::unique_ptr<local::LocalStore> store_;
  std::unique_ptr<local::Outbox> outbox_;
  std::unique_ptr<OutboxSender> sender_;
  std::string admin_token_;
  int keys_ = 0;
  const std::thread::id test_thread_ = std::this_thread::get_id();
  std::atomic<bool> decoded_on_caller_{false};
};

TEST_F(AppealFeedTest, ListsEveryAppealOfTheExamWithItsDeadlineDecidedOnesToo) {
  const int64_t open_id = FileAppeal(0);
  const int64_t decided_id = FileAppeal(1);
  {
    // Someone decides the second one before the feed starts.
    const std::string token = Login("support2");
    auto stub = v1::AppealService::NewStub(channel_);
    v1::ClaimAppealRequest claim;
    claim.set_idempotency_key(Key());
    claim.set_appeal_id(decided_id);
    v1::Appeal claimed, decided;
    auto c1 = Ctx(token);
    ASSERT_TRUE(stub->ClaimAppeal(c1.get(), claim, &claimed).ok());
    v1::DecideAppealRequest decide;
    decide.set_idempotency_key(Key());
    decide.set_appeal_id(decided_id);
    decide.set_expected_version(claimed.version());
    decide.set_decision(v1::APPEAL_DECISION_APPROVE);
    decide.set_reason("证件照与本人一致 / ID matches");
    auto c2 = Ctx(token);
    ASSERT_TRUE(stub->DecideAppeal(c2.get(), decide, &decided).ok());
  }

  BackendClient& client = SignIn("support1");
  AppealFeed& feed = Feed(client);
  ASSERT_TRUE(WaitFor([&] { return feed.View()->loaded && feed.View()->appeals.size() == 2; }))
      << feed.View()->error;
  const auto view = feed.View();
  EXPECT_EQ(view->exam_id, server_->demo().exam_id);
  EXPECT_TRUE(view->error.empty());
  EXPECT_GT(view->fetched_at_backend_ms, 0);
  EXPECT_EQ(view->review, nullptr);

  const v1::Appeal* open = Listed(*view, open_id);
  const v1::Appeal* decided = Listed(*view, decided_id);
  ASSERT_NE(open, nullptr);
  ASSERT_NE(decided, nullptr);
  EXPECT_EQ(open->state(), v1::APPEAL_STATE_OPEN);
  EXPECT_EQ(decided->state(), v1::APPEAL_STATE_APPROVED);
  EXPECT_TRUE(open->registration_photo().empty() && open->id_front().empty());  // lists carry no photos
  EXPECT_FALSE(open->candidate_name().empty());                                 // support sees names
  for (const v1::Appeal* a : {open, decided}) {
    // Filed ~20 min before the start: filed + 2 h would outlive the in-exam SLA, so the
    // deadline is start + 30 min.
    const int64_t filed = Ms(a->filed_at()), start = Ms(a->exam_start());
    EXPECT_LT(filed, start);
    EXPECT_EQ(Ms(a->deadline()), std::min(filed + 2 * 3600 * 1000, start + 30 * 60 * 1000));
    EXPECT_FALSE(FiledDuringExam(*a));
  }

  // The queue holds the open one only; the SLA figures count the decided one.
  const int64_t now = view->fetched_at_backend_ms;
  const AppealQueue queue = BuildAppealQueue(view->appeals, now, AppealQueueQuery{});
  ASSERT_EQ(queue.rows.size(), 1u);
  EXPECT_EQ(queue.rows[0].appeal->id(), open_id);
  EXPECT_EQ(queue.rows[0].urgency, core::AppealUrgency::kComfortable);
  EXPECT_NEAR(static_cast<double>(queue.rows[0].left_ms), static_cast<double>(Ms(open->deadline()) - now), 1.0);
  EXPECT_EQ(queue.open, 1);
  EXPECT_EQ(queue.breached, 0);
  const core::AppealSlaStats sla = AppealSlaToday(view->appeals, now);
  EXPECT_EQ(sla.decided, 1);
  EXPECT_EQ(sla.decided_in_time, 1);
  EXPECT_EQ(sla.open, 1);
  ASSERT_TRUE(sla.within_sla.has_value());
  EXPECT_DOUBLE_EQ(*sla.within_sla, 1.0);
}

TEST_F(AppealFeedTest, OpeningClaimsItAndASecondReviewerSeesWhoHoldsItUntilItIsReleased) {
  const int64_t id = FileAppeal(0);
  BackendClient& first_client = SignIn("support1");
  AppealFeed& first = Feed(first_client);
  first.Open(id);
  ASSERT_TRUE(WaitFor([&] {
    auto r = Review(first);
    return r && r->lease == LeaseState::kHeld && r->loaded;
  })) << LeaseStateName(Lease(first));
  auto review = Review(first);
  EXPECT_EQ(review->appeal_id, id);
  EXPECT_EQ(review->appeal.claimed_by(), kSupport1);
  EXPECT_GT(review->lease_expires_ms, Ms(review->appeal.filed_at()));
  // The photos came with the detail and were decoded on the feed's thread.
  EXPECT_EQ(review->id_front.bytes, 5u);
  EXPECT_EQ(review->id_back.bytes, 5u);
  EXPECT_EQ(review->handheld_id.bytes, 8u);
  EXPECT_TRUE(review->id_front.decoded());
  EXPECT_EQ(review->id_front.width, 5);
  EXPECT_TRUE(review->registration_photo.present());  // the demo seeds one per candidate
  ASSERT_EQ(review->captures.size(), 3u);
  ASSERT_EQ(review->appeal.captures_size(), 3);
  EXPECT_NEAR(review->appeal.captures(0).similarity(), 0.31, 1e-9);
  EXPECT_TRUE(review->appeal.captures(0).image().empty());  // bytes live decoded, not twice
  EXPECT_EQ(review->captures[2].bytes, 9u);
  EXPECT_FALSE(decoded_on_caller_.load());
  EXPECT_EQ(Backend(id).claimed_by(), kSupport1);

  // A colleague sees who holds it, in the list and when trying to open it, and cannot decide.
  BackendClient& second_client = SignIn("support2");
  AppealFeed& second = Feed(second_client);
  ASSERT_TRUE(WaitFor([&] {
    const auto* a = Listed(*second.View(), id);
    return a != nullptr && a->claimed_by() == kSupport1;
  }));
  second.Open(id);
  ASSERT_TRUE(WaitFor([&] { return Lease(second) == LeaseState::kHeldByOther && Review(second)->loaded; }))
      << LeaseStateName(Lease(second));
  EXPECT_EQ(Review(second)->lease_holder, kSupport1);
  EXPECT_NE(Review(second)->lease_message.find(kSupport1), std::string::npos) << Review(second)->lease_message;
  int64_t version = 0;
  EXPECT_EQ(second.BeginDecision(id, Review(second)->appeal.version(), &version), DecisionGate::kNotHeld);
  EXPECT_EQ(Backend(id).claimed_by(), kSupport1);

  // The first closes it: the lease is given back and the colleague's open review takes it.
  first.Close();
  ASSERT_TRUE(WaitFor([&] { return Review(first) == nullptr; }));
  ASSERT_TRUE(WaitFor([&] { return Lease(second) == LeaseState::kHeld; })) << LeaseStateName(Lease(second));
  EXPECT_EQ(Backend(id).claimed_by(), "技术支持 赵工");
  EXPECT_TRUE(Review(second)->lease_holder.empty());
}

TEST_F(AppealFeedTest, TheLeaseIsRenewedWhileOpenPastItsOriginalEndAndReleasedOnClose) {
  const int64_t id = FileAppeal(0);
  BackendClient& client = SignIn("support1");
  AppealFeed& feed = Feed(client);
  feed.Open(id);
  ASSERT_TRUE(WaitFor([&] { return Lease(feed) == LeaseState::kHeld; })) << LeaseStateName(Lease(feed));
  const int64_t original_end = Review(feed)->lease_expires_ms;
  ASSERT_GT(original_end, 0);

  // 3 of the 5 lease minutes pass on the backend: the feed renews well before the end.
  server_->clock().Advance(core::minutes(3));
  ASSERT_TRUE(WaitFor([&] {
    auto r = Review(feed);
    return r->renewals >= 1 && r->lease_expires_ms > original_end;
  })) << "lease end " << Review(feed)->lease_expires_ms << " vs " << original_end;
  // Past the original end: the backend still has it as ours (an expired lease reads as none).
  server_->clock().Advance(core::minutes(3));
  ASSERT_GT(core::ToUnixMillis(server_->clock().Now()), original_end);
  const v1::Appeal held = Backend(id);
  EXPECT_EQ(held.claimed_by(), kSupport1);
  EXPECT_GT(Ms(held.lease_expires_at()), core::ToUnixMillis(server_->clock().Now()));
  EXPECT_EQ(Lease(feed), LeaseState::kHeld);

  feed.Close();
  ASSERT_TRUE(WaitFor([&] { return Backend(id).claimed_by().empty(); }));
}

TEST_F(AppealFeedTest, AReviewNobodyLooksAtGivesItsLeaseBackAndTakesItAgainWhenShown) {
  const int64_t id = FileAppeal(0);
  BackendClient& client = SignIn("support1");
  AppealFeed& feed = Feed(client, 300ms);
  feed.Open(id);
  ASSERT_TRUE(WaitFor([&] { return Lease(feed) == LeaseState::kHeld; })) << LeaseStateName(Lease(feed));
  // No Open() calls: the reviewer switched workspaces.
  ASSERT_TRUE(WaitFor([&] { return Lease(feed) == LeaseState::kPaused; })) << LeaseStateName(Lease(feed));
  EXPECT_TRUE(Backend(id).claimed_by().empty());
  ASSERT_TRUE(WaitFor([&] {
    feed.Open(id);  // on screen again, every frame
    return Lease(feed) == LeaseState::kHeld;
  })) << LeaseStateName(Lease(feed));
  EXPECT_EQ(Backend(id).claimed_by(), kSupport1);
}

TEST_F(AppealFeedTest, ADecisionThroughTheOutboxIsConfirmedAndASecondOneFailsWithTheBackendsMessage) {
  const int64_t id = FileAppeal(0);
  BackendClient& client = SignIn("support1");
  store_ = std::make_unique<local::LocalStore>(dir_.File("console/support1.sqlite"));
  outbox_ = std::make_unique<local::Outbox>(*store_);
  sender_ = std::make_unique<OutboxSender>(*outbox_, client);
  sender_->Start();
  AppealFeed& feed = Feed(client);
  feed.Open(id);
  ASSERT_TRUE(WaitFor([&] { return Lease(feed) == LeaseState::kHeld && Review(feed)->loaded; }));
  const int64_t seen = Review(feed)->appeal.version();
  const int64_t first_end = Review(feed)->lease_expires_ms;

  // The lease is renewed while the reviewer looks at the photos; that bumps the version on
  // the backend but changes nothing the reviewer saw, so the decision still goes through.
  server_->clock().Advance(core::minutes(3));
  ASSERT_TRUE(WaitFor([&] { return Review(feed)->lease_expires_ms > first_end; }));
  int64_t expected = 0;
  DecisionGate gate = DecisionGate::kBusy;
  ASSERT_TRUE(WaitFor([&] { return (gate = feed.BeginDecision(id, seen, &expected)) != DecisionGate::kBusy; }));
  ASSERT_EQ(gate, DecisionGate::kReady);
  EXPECT_GT(expected, seen);
  EXPECT_EQ(expected, Backend(id).version());
  ASSERT_TRUE(WaitFor([&] { return Lease(feed) == LeaseState::kHandedOver; }));

  v1::DecideAppealRequest approve;
  approve.set_appeal_id(id);
  approve.set_expected_version(expected);
  approve.set_decision(v1::APPEAL_DECISION_APPROVE);
  approve.set_reason("证件照与本人一致 / ID matches");
  const int64_t approved = outbox_->Enqueue(local::method::kDecideAppeal, approve, "批准申诉 / Approve appeal", "appeal:" + std::to_string(id));
  ASSERT_TRUE(WaitFor([&] { return outbox_->Get(approved).value_or(local::OutboxAction{}).finished(); }));
  const local::OutboxAction done = *outbox_->Get(approved);
  ASSERT_EQ(done.state, local::ActionState::kConfirmed) << done.error_message;
  v1::Appeal answer;
  ASSERT_TRUE(answer.ParseFromString(done.response));
  EXPECT_EQ(answer.state(), v1::APPEAL_STATE_APPROVED);
  EXPECT_EQ(answer.decided_by(), kSupport1);

  // The feed sees it decided: nothing left to hold.
  feed.RefreshNow();
  ASSERT_TRUE(WaitFor([&] {
    auto r = Review(feed);
    return r->lease == LeaseState::kClosed && r->appeal.state() == v1::APPEAL_STATE_APPROVED;
  })) << LeaseStateName(Lease(feed));
  EXPECT_EQ(Review(feed)->appeal.decided_by(), kSupport1);
  EXPECT_EQ(feed.BeginDecision(id, Review(feed)->appeal.version(), &expected), DecisionGate::kNotHeld);

  // A second decision on the same appeal fails with the backend's words.
  v1::DecideAppealRequest reject;
  reject.set_appeal_id(id);
  reject.set_expected_version(answer.version());
  reject.set_decision(v1::APPEAL_DECISION_REJECT);
  reject.set_reason("人证不符 / ID does not match");
  const int64_t rejected = outbox_->Enqueue(local::method::kDecideAppeal, reject, "驳回申诉 / Reject appeal", "appeal:" + std::to_string(id));
  ASSERT_TRUE(WaitFor([&] { return outbox_->Get(rejected).value_or(local::OutboxAction{}).finished(); }));
  const local::OutboxAction refused = *outbox_->Get(rejected);
  EXPECT_EQ(refused.state, local::ActionState::kFailed);
  EXPECT_NE(refused.error_message.find("already approved"), std::string::npos) << refused.error_message;
  EXPECT_EQ(Backend(id).state(), v1::APPEAL_STATE_APPROVED);
}

// ---- the queue, without a backend ----

v1::Appeal MakeAppeal(int64_t id, int64_t room, int64_t filed_ms, int64_t deadline_ms, int64_t start_ms,
                      const std::string& holder = "", v1::AppealState state = v1::APPEAL_STATE_OPEN) {
  v1::Appeal a;
  a.set_id(id);
  a.set_room_id(room);
  *a.mutable_filed_at() = TimeUtil::MillisecondsToTimestamp(filed_ms);
  *a.mutable_deadline() = TimeUtil::MillisecondsToTimestamp(deadline_ms);
  *a.mutable_exam_start() = TimeUtil::MillisecondsToTimestamp(start_ms);
  a.set_claimed_by(holder);
  a.set_state(state);
  return a;
}

TEST(AppealQueueTest, OpenAppealsByTimeLeftWithUrgencyCountsAndFilters) {
  constexpr int64_t kMin = 60 * 1000;
  const int64_t start = 1'700'000'000'000;
  const int64_t now = start + 40 * kMin;  // the exam has been running for 40 minutes
  std::vector<v1::Appeal> appeals = {
      // pre-exam, 2 h SLA, 100 min left: comfortable
      MakeAppeal(1, 1, start - 30 * kMin, now + 100 * kMin, start),
      // in-exam, 30 min SLA, 3 min left: critical
      MakeAppeal(2, 2, now - 27 * kMin, now + 3 * kMin, start, "技术支持 王工"),
      // in-exam, 30 min SLA, 12 min left: less than half
      MakeAppeal(3, 1, start + 22 * kMin, start + 52 * kMin, start),
      // breached
      MakeAppeal(4, 2, now - 40 * kMin, now - 10 * kMin, start),
      // decided: not in the queue
      MakeAppeal(5, 1, now - 30 * kMin, now + 60 * kMin, start, "", v1::APPEAL_STATE_REJECTED),
  };
  AppealQueueQuery all;
  all.me = "技术支持 王工";
  const AppealQueue q = BuildAppealQueue(appeals, now, all);
  ASSERT_EQ(q.rows.size(), 4u);
  EXPECT_EQ(q.rows[0].appeal->id(), 4);
  EXPECT_EQ(q.rows[0].urgency, core::AppealUrgency::kBreached);
  EXPECT_EQ(q.rows[0].left_ms, -10 * kMin);
  EXPECT_EQ(q.rows[1].appeal->id(), 2);
  EXPECT_EQ(q.rows[1].urgency, core::AppealUrgency::kCritical);
  EXPECT_EQ(q.rows[2].appeal->id(), 3);
  EXPECT_EQ(q.rows[2].urgency, core::AppealUrgency::kHalf);
  EXPECT_TRUE(q.rows[2].in_exam);
  EXPECT_EQ(q.rows[3].appeal->id(), 1);
  EXPECT_EQ(q.rows[3].urgency, core::AppealUrgency::kComfortable);
  EXPECT_FALSE(q.rows[3].in_exam);
  EXPECT_EQ(q.open, 4);
  EXPECT_EQ(q.breached, 1);
  EXPECT_EQ(q.mine, 1);

  AppealQueueQuery room1 = all;
  room1.room_id = 1;
  EXPECT_EQ(BuildAppealQueue(appeals, now, room1).rows.size(), 2u);
  AppealQueueQuery pre = all;
  pre.phase = AppealPhase::kPreExam;
  const AppealQueue pre_q = BuildAppealQueue(appeals, now, pre);
  ASSERT_EQ(pre_q.rows.size(), 1u);
  EXPECT_EQ(pre_q.rows[0].appeal->id(), 1);
  EXPECT_EQ(pre_q.open, 4);  // counts are over every open appeal
  AppealQueueQuery in_exam = all;
  in_exam.phase = AppealPhase::kInExam;
  EXPECT_EQ(BuildAppealQueue(appeals, now, in_exam).rows.size(), 3u);
  AppealQueueQuery mine = all;
  mine.mine_only = true;
  const AppealQueue mine_q = BuildAppealQueue(appeals, now, mine);
  ASSERT_EQ(mine_q.rows.size(), 1u);
  EXPECT_EQ(mine_q.rows[0].appeal->id(), 2);
  AppealQueueQuery nobody = mine;
  nobody.me = "";
  EXPECT_TRUE(BuildAppealQueue(appeals, now, nobody).rows.empty());
}

TEST(AppealQueueTest, SlaTodayCountsOnlyAppealsFiledToday) {
  constexpr int64_t kMin = 60 * 1000;
  const int64_t day = LocalDayStartMs(1'700'000'000'000);
  const int64_t now = day + 12 * 60 * kMin;
  auto decided = [&](int64_t id, int64_t filed, int64_t deadline, int64_t at) {
    v1::Appeal a = MakeAppeal(id, 1, filed, deadline, now, "", v1::APPEAL_STATE_APPROVED);
    *a.mutable_decided_at() = TimeUtil::MillisecondsToTimestamp(at);
    return a;
  };
  std::vector<v1::Appeal> appeals = {
      decided(1, now - 60 * kMin, now - 30 * kMin, now - 50 * kMin),  // 10 min, in time
      decided(2, now - 90 * kMin, now - 60 * kMin, now - 40 * kMin),  // 50 min, late
      decided(3, day - 5 * kMin, day + 25 * kMin, day + 5 * kMin),    // yesterday's
      MakeAppeal(4, 1, now - 40 * kMin, now - 10 * kMin, now),        // open, breached
  };
  const core::AppealSlaStats s = AppealSlaToday(appeals, now);
  EXPECT_EQ(s.decided, 2);
  EXPECT_EQ(s.decided_in_time, 1);
  EXPECT_EQ(s.open, 1);
  EXPECT_EQ(s.open_breached, 1);
  ASSERT_TRUE(s.median_time_to_decision.has_value());
  EXPECT_EQ(s.median_time_to_decision->count(), 10 * kMin);
  EXPECT_EQ(s.p90_time_to_decision->count(), 50 * kMin);
  EXPECT_EQ(LocalDayStartMs(now), day);
}

}  // namespace
}  // namespace exam::net
