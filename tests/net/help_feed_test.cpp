// HelpFeed and the help desk's actions against a real ExamServer on loopback (SQLite in a
// temp dir): candidates raise help through CandidateService as their laptops do, support
// consoles claim, reply and resolve through a real local::Outbox delivered by OutboxSender,
// and the feed shows what happened. Tests wait on the feed's, the sender's and the client's
// change callbacks with a deadline, never on time.
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <random>

#include "backend/server.h"
#include "store/action_methods.h"
#include "temp_dir.h"
#include "exam/v1/candidate.grpc.pb.h"
#include "exam/v1/help.pb.h"
#include "net/backend_client.h"
#include "net/help_feed.h"
#include "staff_console.h"
#include "net/outbox_sender.h"
#include "store/local_store.h"
#include "store/outbox.h"

namespace exam::net {
namespace {

namespace v1 = exam::v1;
using google::protobuf::util::TimeUtil;
using local::ActionState;
using namespace std::chrono_literals;


using exam::testing::Changes;

// One staff member's console with the help feed — what the help desk panel sits on.
struct StaffConsole : exam::testing::StaffConsole {
  StaffConsole(const std::string& address, const std::string& user, const std::string& store_path, Changes& changes)
      : exam::testing::StaffConsole(address, user, store_path, changes) {
    HelpFeed::Options fo;
    fo.on_change = changes.Callback();
    feed = std::make_unique<HelpFeed>(*client, fo);
  }
  ~StaffConsole() override { feed.reset(); }
  std::shared_ptr<const HelpView> View() const { return feed->Current(); }
  // The request as the feed shows it now (a copy; empty when not listed).
  v1::HelpRequest Shown(int64_t help_id) const {
    const auto* r = feed->Current()->Find(help_id);
    return r ? *r : v1::HelpRequest();
  }

  std::unique_ptr<HelpFeed> feed;
};

class HelpFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    backend::ServerOptions options;
    options.db_path = dir_.File("exam.db");
    options.listen = "127.0.0.1:0";
    options.seed_demo = true;
    options.demo_candidates = 8;
    options.demo_rooms = 2;  // candidates 0–3 in the first room, 4–7 in the second
    std::string error;
    server_ = backend::ExamServer::Start(options, &error);
    ASSERT_NE(server_, nullptr) << error;
    cand_ = v1::CandidateService::NewStub(grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    consoles_.clear();
    if (server_) server_->Shutdown();
  }

  StaffConsole& Console(const std::string& user) {
    consoles_.push_back(std::make_unique<StaffConsole>(server_->address(), user,
                                                      dir_.File(user + "-" + std::to_string(consoles_.size()) + ".sqlite"),
                                                      changes_));
    StaffConsole& c = *consoles_.back();
    EXPECT_TRUE(changes_.Await([&] { return c.Ready(); })) << c.client->Status().message;
    c.feed->Follow(server_->demo().exam_id);
    return c;
  }

  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
    ctx->set_deadline(std::chrono::system_clock::now() + 5s);
    return ctx;
  }

  // Candidate `index`'s laptop joins; returns its token.
  std::string Join(int index) {
    v1::JoinRequest req;
    req.set_exam_id(server_->demo().exam_id);
    req.set_registration_no(server_->demo().registration_nos.at(static_cast<size_t>(index)));
    req.set_access_code(server_->demo().access_code);
    req.set_device(v1::DEVICE_KIND_LAPTOP);
    req.set_device_model("Lenovo ThinkPad X1");
    v1::JoinResponse resp;
    auto ctx = Ctx("");
    const grpc::Status s = cand_->Join(ctx.get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.token();
  }

  // The candidate presses 求助; returns the help request's id.
  int64_t RaiseHelp(const std::string& token, const std::string& text) {
    v1::RaiseHelpRequest req;
    req.set_idempotency_key("raise-" + std::to_string(++keys_));
    req.set_text(text);
    v1::RaiseHelpResponse resp;
    auto ctx = Ctx(token);
    const grpc::Status s = cand_->RaiseHelp(ctx.get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.help_id();
  }

  grpc::Status SendHelpMessage(const std::string& token, int64_t help_id, const std::string& text) {
    v1::SendHelpMessageRequest req;
    req.set_idempotency_key("msg-" + std::to_string(++keys_));
    req.set_help_id(help_id);
    req.set_text(text);
    v1::SendHelpMessageResponse resp;
    auto ctx = Ctx(token);
    return cand_->SendHelpMessage(ctx.get(), req, &resp);
  }

  // What the candidate's device receives on its next heartbeat.
  std::vector<v1::StaffMessage> StaffMessages(const std::string& token) {
    v1::HeartbeatResponse hb;
    auto ctx = Ctx(token);
    const grpc::Status s = cand_->Heartbeat(ctx.get(), v1::HeartbeatRequest(), &hb);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {hb.messages().begin(), hb.messages().end()};
  }

  // Enqueues a help action as the panel does and waits until the outbox has its outcome.
  local::OutboxAction Act(StaffConsole& c, const char* method, const google::protobuf::Message& request, int64_t help_id) {
    const int64_t id = c.outbox->Enqueue(method, request, method, "help:" + std::to_string(help_id));
    EXPECT_TRUE(changes_.Await([&] { return c.Row(id).finished(); })) << method;
    return c.Row(id);
  }
  local::OutboxAction Claim(StaffConsole& c, int64_t help_id) {
    v1::ClaimHelpRequest req;
    req.set_help_id(help_id);
    return Act(c, local::method::kClaimHelp, req, help_id);
  }
  local::OutboxAction Reply(StaffConsole& c, int64_t help_id, const std::string& text) {
    v1::PostHelpMessageRequest req;
    req.set_help_id(help_id);
    req.set_text(text);
    return Act(c, local::method::kPostHelpMessage, req, help_id);
  }
  local::OutboxAction Resolve(StaffConsole& c, int64_t help_id, const std::string& category) {
    v1::ResolveHelpRequest req;
    req.set_help_id(help_id);
    req.set_category(category);
    return Act(c, local::method::kResolveHelp, req, help_id);
  }

  // Asks the feed to fetch now (as the panel does on a help event or a confirmed action)
  // and waits until what it shows satisfies `done`.
  bool Refreshed(StaffConsole& c, const std::function<bool(const HelpView&)>& done) {
    c.feed->RefreshNow();
    return changes_.Await([&] {
      const auto v = c.View();
      return v->loaded && done(*v);
    });
  }

  static std::vector<int64_t> Ids(const std::vector<v1::HelpRequest>& requests) {
    std::vector<int64_t> ids;
    for (const auto& r : requests) ids.push_back(r.id());
    return ids;
  }

  exam::testing::TempDir dir_;
  std::unique_ptr<backend::ExamServer> server_;
  std::unique_ptr<v1::CandidateService::Stub> cand_;
  Changes changes_;
  std::vector<std::unique_ptr<StaffConsole>> consoles_;
  int keys_ = 0;
};

TEST_F(HelpFeedTest, ListsOpenRequestsInTheOrderTheyWereRaised) {
  // Raised out of session order, a few backend seconds apart.
  const std::string c5 = Join(5), c1 = Join(1), c3 = Join(3);
  const int64_t first = RaiseHelp(c5, "摄像头无法打开");
  server_->clock().Advance(core::seconds(5));
  const int64_t second = RaiseHelp(c1, "题目视频加载不出来");
  server_->clock().Advance(core::seconds(5));
  const int64_t third = RaiseHelp(c3, "网络不稳定，页面卡住");

  StaffConsole& support = Console("support1");
  ASSERT_TRUE(changes_.Await([&] { return support.View()->loaded && support.View()->open.size() == 3; }))
      << support.View()->error;
  auto view = support.View();
  EXPECT_EQ(Ids(view->open), (std::vector<int64_t>{first, second, third}));
  EXPECT_EQ(view->key, server_->demo().exam_id);
  EXPECT_TRUE(view->error.empty());
  EXPECT_TRUE(view->resolved_today.empty());
  const auto& head = view->open.front();
  EXPECT_EQ(head.state(), v1::HELP_STATE_OPEN);
  EXPECT_TRUE(head.claimed_by().empty());
  EXPECT_GT(head.session_id(), 0);
  EXPECT_GT(head.room_id(), 0);
  EXPECT_EQ(head.draw_number(), 0) << "no draw yet: the hand went up before the draw stage";
  ASSERT_EQ(head.messages_size(), 1);
  EXPECT_TRUE(head.messages(0).from_candidate());
  EXPECT_EQ(head.messages(0).text(), "摄像头无法打开");
  EXPECT_EQ(view->stats.open, 3);
  EXPECT_EQ(view->stats.unclaimed, 3);
  EXPECT_EQ(view->stats.unanswered, 3);
  EXPECT_FALSE(view->stats.median_first_response_ms.has_value());

  // A later hand goes to the back of the queue, and the first three keep their places even
  // after the head is claimed and answered.
  ASSERT_EQ(Claim(support, second).state, ActionState::kConfirmed);
  ASSERT_EQ(Reply(support, second, "请点击左上角的刷新按钮").state, ActionState::kConfirmed);
  const int64_t fourth = RaiseHelp(Join(6), "录制画面卡顿");
  ASSERT_TRUE(Refreshed(support, [&](const HelpView& v) { return v.open.size() == 4; }));
  view = support.View();
  EXPECT_EQ(Ids(view->open), (std::vector<int64_t>{first, second, third, fourth}));
  EXPECT_EQ(view->open[1].state(), v1::HELP_STATE_CLAIMED);
  EXPECT_EQ(view->stats.unclaimed, 3);
  EXPECT_EQ(view->stats.unanswered, 3);
}

TEST_F(HelpFeedTest, ClaimReplyAndResolveThroughTheOutboxReachTheCandidateAndTheFigures) {
  const std::string laptop = Join(2);
  const int64_t help = RaiseHelp(laptop, "题目视频加载不出来");
  StaffConsole& support = Console("support1");
  ASSERT_TRUE(changes_.Await([&] { return support.View()->loaded && support.View()->open.size() == 1; }));

  // Claim: confirmed, and the feed shows who holds it.
  auto claim = Claim(support, help);
  ASSERT_EQ(claim.state, ActionState::kConfirmed) << claim.error_message;
  ASSERT_TRUE(Refreshed(support, [&](const HelpView& v) { return v.Find(help) && !v.Find(help)->claimed_by().empty(); }));
  EXPECT_EQ(support.Shown(help).claimed_by(), "技术支持 王工");
  EXPECT_EQ(support.Shown(help).state(), v1::HELP_STATE_CLAIMED);
  EXPECT_FALSE(support.Shown(help).has_first_response_at()) << "a claim is not an answer";

  // The reply 42 backend seconds after the hand went up: the first response.
  server_->clock().Advance(core::seconds(42));
  const std::string text = "题目没有加载出来时，请点击页面左上角的【刷新】按钮重新获取题目。";
  auto reply = Reply(support, help, text);
  ASSERT_EQ(reply.state, ActionState::kConfirmed) << reply.error_message;
  v1::HelpRequest answered;
  ASSERT_TRUE(answered.ParseFromString(reply.response));
  EXPECT_TRUE(answered.has_first_response_at());
  ASSERT_TRUE(Refreshed(support, [&](const HelpView& v) { return v.Find(help) && v.Find(help)->has_first_response_at(); }));
  const auto first_response = FirstResponseMs(support.Shown(help));
  ASSERT_TRUE(first_response.has_value());
  EXPECT_GE(*first_response, 42000);
  EXPECT_LT(*first_response, 42000 + 15000);
  EXPECT_EQ(support.View()->stats.unanswered, 0);

  // The candidate's laptop gets the reply on its heartbeat, tied to the request.
  const auto messages = StaffMessages(laptop);
  const auto it = std::find_if(messages.begin(), messages.end(), [](const auto& m) { return m.kind() == "help-reply"; });
  ASSERT_NE(it, messages.end());
  EXPECT_EQ(it->text(), text);
  EXPECT_EQ(it->ref_id(), help);

  // The candidate answers; it appears at the bottom of the thread.
  ASSERT_TRUE(SendHelpMessage(laptop, help, "可以了，谢谢").ok());
  ASSERT_TRUE(Refreshed(support, [&](const HelpView& v) { return v.Find(help) && v.Find(help)->messages_size() == 3; }));
  {
    const auto shown = support.Shown(help);
    EXPECT_TRUE(shown.messages(0).from_candidate());
    EXPECT_FALSE(shown.messages(1).from_candidate());
    EXPECT_EQ(shown.messages(1).author(), "技术支持 王工");
    EXPECT_EQ(shown.messages(1).text(), text);
    EXPECT_TRUE(shown.messages(2).from_candidate());
    EXPECT_EQ(shown.messages(2).text(), "可以了，谢谢");
  }

  // Resolve: out of the queue, into today's resolved list with its category and figures.
  auto resolve = Resolve(support, help, "question-not-loaded");
  ASSERT_EQ(resolve.state, ActionState::kConfirmed) << resolve.error_message;
  ASSERT_TRUE(Refreshed(support, [&](const HelpView& v) { return v.open.empty() && v.resolved_today.size() == 1; }));
  const auto view = support.View();
  const auto& done = view->resolved_today.front();
  EXPECT_EQ(done.id(), help);
  EXPECT_EQ(done.state(), v1::HELP_STATE_RESOLVED);
  EXPECT_EQ(done.category(), "question-not-loaded");
  EXPECT_TRUE(done.has_first_response_at());
  EXPECT_EQ(view->stats.open, 0);
  EXPECT_EQ(view->stats.resolved_today, 1);
  EXPECT_EQ(view->stats.responded_today, 1);
  EXPECT_EQ(view->stats.median_first_response_ms, first_response);
  EXPECT_EQ(view->stats.p90_first_response_ms, first_response);

  // A resolved request takes no more messages, and the refusal says why.
  auto late = Reply(support, help, "还需要帮助吗？");
  EXPECT_EQ(late.state, ActionState::kFailed);
  EXPECT_NE(late.error_message.find("resolved"), std::string::npos) << late.error_message;
}

TEST_F(HelpFeedTest, ASecondStaffMembersClaimFailsWithTheBackendsMessage) {
  const int64_t help = RaiseHelp(Join(0), "佐证手机扫码失败");
  StaffConsole& wang = Console("support1");
  StaffConsole& zhao = Console("support2");
  ASSERT_TRUE(changes_.Await([&] { return zhao.View()->loaded && zhao.View()->open.size() == 1; }));

  ASSERT_EQ(Claim(wang, help).state, ActionState::kConfirmed);
  const auto lost = Claim(zhao, help);
  EXPECT_EQ(lost.state, ActionState::kFailed);
  EXPECT_EQ(lost.error_code, static_cast<int>(grpc::StatusCode::ABORTED));
  EXPECT_NE(lost.error_message.find("技术支持 王工"), std::string::npos) << lost.error_message;
  // The loser's desk shows who has it.
  ASSERT_TRUE(Refreshed(zhao, [&](const HelpView& v) { return v.Find(help) && !v.Find(help)->claimed_by().empty(); }));
  EXPECT_EQ(zhao.Shown(help).claimed_by(), "技术支持 王工");
  // Claiming again is harmless for the holder.
  EXPECT_EQ(Claim(wang, help).state, ActionState::kConfirmed);
}

TEST_F(HelpFeedTest, ProctorsFollowTheirRoomButTheBackendRefusesTheirClaims) {
  const int64_t in_room = RaiseHelp(Join(1), "摄像头无法打开");       // first room: proctor1's
  const int64_t elsewhere = RaiseHelp(Join(6), "录制画面卡顿");      // second room
  StaffConsole& support = Console("support1");
  ASSERT_TRUE(changes_.Await([&] { return support.View()->open.size() == 2; }));
  StaffConsole& proctor = Console("proctor1");
  ASSERT_TRUE(changes_.Await([&] { return proctor.View()->loaded; })) << proctor.View()->error;
  EXPECT_EQ(Ids(proctor.View()->open), (std::vector<int64_t>{in_room}));
  EXPECT_EQ(proctor.View()->Find(elsewhere), nullptr);
  const auto refused = Claim(proctor, in_room);
  EXPECT_EQ(refused.state, ActionState::kFailed);
  EXPECT_EQ(refused.error_code, static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
}

TEST_F(HelpFeedTest, AGradersFeedShowsTheRefusalInsteadOfAQueue) {
  RaiseHelp(Join(0), "考试附件打不开");
  StaffConsole& grader = Console("grader1");
  ASSERT_TRUE(changes_.Await([&] { return !grader.View()->error.empty(); }));
  const auto view = grader.View();
  EXPECT_FALSE(view->loaded);
  EXPECT_TRUE(view->open.empty());
  EXPECT_EQ(view->error_code, static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
}

TEST_F(HelpFeedTest, StopsAtOnceAndPublishesNothingAfterwards) {
  StaffConsole& support = Console("support1");
  ASSERT_TRUE(changes_.Await([&] { return support.View()->loaded; }));
  const auto started = std::chrono::steady_clock::now();
  support.feed->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  const uint64_t version = support.View()->version;
  support.feed->RefreshNow();
  support.feed->Follow(server_->demo().exam_id + 1);
  EXPECT_EQ(support.View()->version, version);
  support.feed->Stop();  // idempotent
}

// The figures on their own: nearest-rank percentiles over today's answered requests.
v1::HelpRequest Sample(int64_t id, int64_t raised_ms, std::optional<int64_t> first_response_after_ms,
                       v1::HelpState state, int64_t resolved_ms = 0, const std::string& holder = "") {
  v1::HelpRequest r;
  r.set_id(id);
  r.set_state(state);
  r.set_claimed_by(holder);
  *r.mutable_raised_at() = TimeUtil::MillisecondsToTimestamp(raised_ms);
  if (first_response_after_ms)
    *r.mutable_first_response_at() = TimeUtil::MillisecondsToTimestamp(raised_ms + *first_response_after_ms);
  if (resolved_ms) *r.mutable_resolved_at() = TimeUtil::MillisecondsToTimestamp(resolved_ms);
  return r;
}

TEST(HelpStatsTest, MedianAndP90OfTodaysFirstResponsesByNearestRank) {
  const int64_t day = HelpDayStartMs(TimeUtil::TimestampToMilliseconds(TimeUtil::GetCurrentTime()));
  std::vector<v1::HelpRequest> requests;
  // Ten answered today after 10 s, 20 s, … 100 s, all resolved today.
  for (int i = 1; i <= 10; ++i)
    requests.push_back(Sample(i, day + 3600000 + i * 60000, i * 10000, v1::HELP_STATE_RESOLVED, day + 7200000, "王工"));
  // Yesterday's, answered slowly and resolved yesterday: in none of today's figures.
  requests.push_back(Sample(11, day - 3600000, 900000, v1::HELP_STATE_RESOLVED, day - 60000, "王工"));
  // Open: one unclaimed and unanswered, one claimed and unanswered, one answered.
  requests.push_back(Sample(12, day + 8000000, std::nullopt, v1::HELP_STATE_OPEN));
  requests.push_back(Sample(13, day + 8100000, std::nullopt, v1::HELP_STATE_CLAIMED, 0, "赵工"));
  requests.push_back(Sample(14, day + 8200000, 5000, v1::HELP_STATE_CLAIMED, 0, "赵工"));

  const HelpStats s = ComputeHelpStats(requests, day);
  EXPECT_EQ(s.raised_today, 13);
  EXPECT_EQ(s.open, 3);
  EXPECT_EQ(s.unclaimed, 1);
  EXPECT_EQ(s.unanswered, 2);
  EXPECT_EQ(s.resolved_today, 10);
  EXPECT_EQ(s.responded_today, 11);  // 5 s, 10 s … 100 s
  EXPECT_EQ(s.median_first_response_ms, 50000);  // rank ceil(0.5 × 11) = 6
  EXPECT_EQ(s.p90_first_response_ms, 90000);     // rank ceil(0.9 × 11) = 10

  EXPECT_FALSE(ComputeHelpStats({}, day).median_first_response_ms.has_value());
  EXPECT_EQ(FirstResponseMs(requests[0]), 10000);
  EXPECT_FALSE(FirstResponseMs(requests[11]).has_value());
}

TEST(HelpStatsTest, TheDayStartsAtLocalMidnight) {
  const int64_t now = TimeUtil::TimestampToMilliseconds(TimeUtil::GetCurrentTime());
  const int64_t day = HelpDayStartMs(now);
  EXPECT_LE(day, now);
  EXPECT_GT(day, now - 25 * 3600000LL);
  EXPECT_EQ(HelpDayStartMs(day), day);
  EXPECT_EQ(HelpDayStartMs(day + 3600000), day);
  std::time_t t = static_cast<std::time_t>(day / 1000);
  std::tm local{};
  localtime_r(&t, &local);
  EXPECT_EQ(local.tm_hour, 0);
  EXPECT_EQ(local.tm_min, 0);
}

}  // namespace
}  // namespace exam::net
