// The outbox delivered by OutboxSender to a real ExamServer on loopback (SQLite in a temp
// dir): confirmations carry the backend's answer, refusals its message, actions made while
// the backend is away go out when it is back, and a restarted console resends what was in
// flight with its original key so the backend applies it once. Tests wait on the sender's
// and the client's change callbacks, never on time.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "backend_fixture.h"
#include "net/backend_client.h"
#include "net/outbox_sender.h"
#include "store/action_methods.h"
#include "store/local_store.h"
#include "store/outbox.h"

namespace exam::testing {
namespace {

namespace v1 = exam::v1;
using local::ActionState;
using local::OutboxAction;
using namespace std::chrono_literals;

TEST(OutboxClassifyTest, TransientFailuresRetryRefusalsFail) {
  using grpc::StatusCode;
  using net::OutboxOutcome;
  EXPECT_EQ(net::ClassifyOutboxStatus(StatusCode::OK), OutboxOutcome::kConfirmed);
  for (auto code : {StatusCode::UNAVAILABLE, StatusCode::DEADLINE_EXCEEDED, StatusCode::RESOURCE_EXHAUSTED,
                    StatusCode::INTERNAL, StatusCode::UNKNOWN, StatusCode::CANCELLED})
    EXPECT_EQ(net::ClassifyOutboxStatus(code), OutboxOutcome::kRetry) << code;
  EXPECT_EQ(net::ClassifyOutboxStatus(StatusCode::UNAUTHENTICATED), OutboxOutcome::kAwaitToken);
  for (auto code : {StatusCode::FAILED_PRECONDITION, StatusCode::INVALID_ARGUMENT, StatusCode::PERMISSION_DENIED,
                    StatusCode::NOT_FOUND, StatusCode::ALREADY_EXISTS, StatusCode::ABORTED, StatusCode::UNIMPLEMENTED})
    EXPECT_EQ(net::ClassifyOutboxStatus(code), OutboxOutcome::kFailed) << code;
}

class OutboxDeliveryTest : public BackendFixture {
 protected:
  void SetUp() override {
    BackendFixture::SetUp();
    OpenConsoleStore();
  }
  void TearDown() override {
    CloseConsole();
    BackendFixture::TearDown();
  }

  // ---- the console side ------------------------------------------------------------------
  void OpenConsoleStore() {
    store_ = std::make_unique<local::LocalStore>((dir_.path() / "console" / "support.sqlite").string());
    outbox_ = std::make_unique<local::Outbox>(*store_);
  }
  // Stops everything and closes the file, as quitting the console does.
  void CloseConsole() {
    sender_.reset();
    client_.reset();
    outbox_.reset();
    store_.reset();
  }
  void StartClient(const std::string& user) {
    net::ClientOptions o;
    o.address = server_->address();
    o.username = user;
    o.password = "demo";
    o.call_timeout = 2s;
    o.backoff_max = 500ms;
    o.on_change = [this] { Changed(); };
    client_ = std::make_unique<net::BackendClient>(o);
    client_->Start();
    // Snapshot() re-arms the client's notification, as the UI's frame loop does.
    ASSERT_TRUE(Await([&] {
      client_->Snapshot();
      return !client_->AccessToken().empty();
    })) << client_->Status().message;
  }
  void StartSender(net::OutboxSenderOptions o = {}) {
    o.on_change = [this] { Changed(); };
    sender_ = std::make_unique<net::OutboxSender>(*outbox_, *client_, o);
    sender_->Start();
  }

  void Changed() {
    std::lock_guard lock(mu_);
    changes_++;
    cv_.notify_all();
  }
  // Waits until `done` holds, looking again after each change callback.
  bool Await(const std::function<bool()>& done, std::chrono::milliseconds timeout = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(mu_);
    while (!done()) {
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) return done();
    }
    return true;
  }
  OutboxAction Row(int64_t id) { return outbox_->Get(id).value_or(OutboxAction{}); }
  bool Finished(int64_t id) { return Row(id).finished(); }

  template <class Response>
  Response Answer(int64_t id) {
    Response r;
    const OutboxAction a = Row(id);
    EXPECT_EQ(a.state, ActionState::kConfirmed) << a.label << ": " << a.error_message;
    EXPECT_TRUE(r.ParseFromString(a.response));
    return r;
  }

  // ---- the backend side --------------------------------------------------------------------
  // Candidate `index` fails three face checks and files an appeal; returns its id.
  int64_t FileAppeal(int index) {
    auto d = JoinCandidate(index);
    Advance(d, v1::STAGE_DEVICE_CHECK);
    EXPECT_TRUE(ReportStage(d, v1::STAGE_FACE_LOGIN).ok());
    auto stub = v1::CandidateService::NewStub(Channel());
    for (int i = 0; i < 3; ++i) {
      v1::ReportFaceCheckRequest fc;
      fc.set_idempotency_key(Key());
      fc.set_similarity(0.41);
      fc.set_capture("capture-bytes");
      v1::FaceCheckResponse fr;
      auto ctx = Ctx(d.token);
      EXPECT_TRUE(stub->ReportFaceCheck(ctx.get(), fc, &fr).ok());
    }
    v1::FileAppealRequest req;
    req.set_idempotency_key(Key());
    req.set_id_front("front");
    req.set_id_back("back");
    req.set_handheld_id("handheld");
    v1::FileAppealResponse resp;
    auto ctx = Ctx(d.token);
    auto status = stub->FileAppeal(ctx.get(), req, &resp);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return resp.appeal_id();
  }

  std::vector<v1::AuditEntry> Audit(const std::string& target_prefix) {
    auto audit = v1::AuditService::NewStub(Channel());
    v1::ListAuditRequest req;
    req.set_target_prefix(target_prefix);
    v1::ListAuditResponse resp;
    auto ctx = Ctx(Login("admin"));
    EXPECT_TRUE(audit->ListAudit(ctx.get(), req, &resp).ok());
    return {resp.entries().begin(), resp.entries().end()};
  }

  // The staff messages a candidate's laptop receives, by kind.
  std::map<std::string, int> StaffMessages(const Device& d) {
    auto cand = v1::CandidateService::NewStub(Channel());
    v1::HeartbeatResponse hb;
    auto ctx = Ctx(d.token);
    EXPECT_TRUE(cand->Heartbeat(ctx.get(), v1::HeartbeatRequest(), &hb).ok());
    std::map<std::string, int> kinds;
    for (const auto& m : hb.messages()) kinds[m.kind()]++;
    return kinds;
  }

  static v1::ProctorActionRequest Warn(int64_t session_id, const std::string& text) {
    v1::ProctorActionRequest r;
    r.set_session_id(session_id);
    r.set_kind(v1::PROCTOR_ACTION_KIND_WARN);
    r.set_text(text);
    return r;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  int changes_ = 0;
  std::unique_ptr<local::LocalStore> store_;
  std::unique_ptr<local::Outbox> outbox_;
  std::unique_ptr<net::BackendClient> client_;
  std::unique_ptr<net::OutboxSender> sender_;
};

TEST_F(OutboxDeliveryTest, AppealClaimAndDecisionAreConfirmedAndARepeatDecisionIsRefused) {
  const int64_t appeal = FileAppeal(0);
  const std::string target = "appeal:" + std::to_string(appeal);
  StartClient("support1");
  StartSender();

  v1::ClaimAppealRequest claim;
  claim.set_appeal_id(appeal);
  const int64_t claim_id = outbox_->Enqueue(local::method::kClaimAppeal, claim, "认领申诉 / Claim appeal", target);
  ASSERT_TRUE(Await([&] { return Finished(claim_id); })) << ActionStateName(Row(claim_id).state);
  const auto claimed = Answer<v1::Appeal>(claim_id);
  EXPECT_EQ(claimed.claimed_by(), "技术支持 王工");

  v1::DecideAppealRequest decide;
  decide.set_appeal_id(appeal);
  decide.set_expected_version(claimed.version());
  decide.set_decision(v1::APPEAL_DECISION_APPROVE);
  decide.set_reason("照片与证件一致 photo matches ID");
  const int64_t decide_id = outbox_->Enqueue(local::method::kDecideAppeal, decide, "批准申诉 / Approve appeal", target);
  ASSERT_TRUE(Await([&] { return Finished(decide_id); }));
  const auto decided = Answer<v1::Appeal>(decide_id);
  EXPECT_EQ(decided.state(), v1::APPEAL_STATE_APPROVED);
  EXPECT_EQ(Row(decide_id).attempts, 1);

  // Deciding it again (another click on a stale screen) is refused with the backend's words.
  decide.set_expected_version(decided.version());
  decide.set_decision(v1::APPEAL_DECISION_REJECT);
  decide.set_reason("模糊 blurred");
  const int64_t again = outbox_->Enqueue(local::method::kDecideAppeal, decide, "驳回申诉 / Reject appeal", target);
  ASSERT_TRUE(Await([&] { return Finished(again); }));
  const OutboxAction refused = Row(again);
  EXPECT_EQ(refused.state, ActionState::kFailed);
  EXPECT_EQ(refused.error_code, static_cast<int>(grpc::StatusCode::FAILED_PRECONDITION));
  EXPECT_NE(refused.error_message.find("already approved"), std::string::npos) << refused.error_message;
  EXPECT_EQ(refused.attempts, 1);  // a refusal is not retried

  const auto rows = outbox_->ForTarget(target);
  ASSERT_EQ(rows.size(), 3u);
  const auto audit = Audit("appeal/" + std::to_string(appeal));
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].action(), "appeal.decide");
  EXPECT_EQ(audit[0].actor(), "support1");
}

TEST_F(OutboxDeliveryTest, HelpClaimAndResolveMadeBackToBackGoOutInOrder) {
  auto d = JoinCandidate(1);
  auto cand = v1::CandidateService::NewStub(Channel());
  v1::RaiseHelpRequest raise;
  raise.set_idempotency_key(Key());
  raise.set_text("摄像头打不开 camera won't open");
  v1::RaiseHelpResponse raised;
  auto ctx = Ctx(d.token);
  ASSERT_TRUE(cand->RaiseHelp(ctx.get(), raise, &raised).ok());
  const std::string target = "help:" + std::to_string(raised.help_id());

  StartClient("support1");
  StartSender();
  v1::ClaimHelpRequest claim;
  claim.set_help_id(raised.help_id());
  v1::ResolveHelpRequest resolve;
  resolve.set_help_id(raised.help_id());
  resolve.set_category("camera");
  const int64_t claim_id = outbox_->Enqueue(local::method::kClaimHelp, claim, "接手求助 / Take help request", target);
  const int64_t resolve_id = outbox_->Enqueue(local::method::kResolveHelp, resolve, "求助已解决 / Resolve help request", target);
  ASSERT_TRUE(Await([&] { return Finished(claim_id) && Finished(resolve_id); }));

  const auto claimed = Answer<v1::HelpRequest>(claim_id);
  EXPECT_EQ(claimed.state(), v1::HELP_STATE_CLAIMED);
  const auto resolved = Answer<v1::HelpRequest>(resolve_id);
  EXPECT_EQ(resolved.state(), v1::HELP_STATE_RESOLVED);
  EXPECT_EQ(resolved.claimed_by(), "技术支持 王工");  // the resolve saw the claim: it went first
  EXPECT_EQ(resolved.category(), "camera");
  EXPECT_GT(resolved.version(), claimed.version());
}

TEST_F(OutboxDeliveryTest, AWarningMadeWhileTheBackendIsDownIsDeliveredWhenItIsBack) {
  auto d = JoinCandidate(0);  // room 1: proctor1's
  StartClient("proctor1");
  net::OutboxSenderOptions o;
  o.call_timeout = 1s;
  o.backoff_initial = 100ms;
  o.backoff_max = 500ms;
  StartSender(o);

  const int port = server_->port();
  StopServer();
  const int64_t id = outbox_->Enqueue(local::method::kProctorAction, Warn(d.session_id, "请保持面部在画面中 Keep your face in view"),
                                      "警告 / Warn", "session:" + std::to_string(d.session_id));
  // Tried and kept, not failed: the UI shows it as pending with why.
  ASSERT_TRUE(Await([&] {
    const OutboxAction a = Row(id);
    return a.state == ActionState::kPending && a.attempts >= 2;
  })) << ActionStateName(Row(id).state);
  const OutboxAction waiting = Row(id);
  EXPECT_TRUE(waiting.error_code == static_cast<int>(grpc::StatusCode::UNAVAILABLE) ||
              waiting.error_code == static_cast<int>(grpc::StatusCode::DEADLINE_EXCEEDED))
      << waiting.error_code << " " << waiting.error_message;

  // The backend comes back on the same port and database.
  options_.listen = "127.0.0.1:" + std::to_string(port);
  StartServer();
  ASSERT_TRUE(Await([&] { return Finished(id); }, 30s)) << Row(id).error_message;
  const auto answer = Answer<v1::ProctorActionResponse>(id);
  EXPECT_GT(answer.action_id(), 0);
  EXPECT_FALSE(answer.replayed());
  EXPECT_EQ(StaffMessages(d)["warning"], 1);
}

TEST_F(OutboxDeliveryTest, AnActionOverTheBackendsMessageLimitFailsUnsentAndTheNextOneStillGoesOut) {
  auto d = JoinCandidate(0);
  StartClient("proctor1");
  StartSender({});
  // A violation whose picture alone is over 16 MiB: examd would answer RESOURCE_EXHAUSTED,
  // which for a normal call means "busy, try again" — for this one, for ever.
  v1::ProctorActionRequest huge;
  huge.set_session_id(d.session_id);
  huge.set_kind(v1::PROCTOR_ACTION_KIND_RECORD_VIOLATION);
  huge.set_category(v1::VIOLATION_CATEGORY_OTHER);
  huge.set_text("oversized snapshot");
  huge.set_snapshot(std::string(net::kMaxActionRequestBytes + 1, 'j'));
  const int64_t too_big = outbox_->Enqueue(local::method::kProctorAction, huge, "违规 / Violation", "session:1");
  const int64_t next = outbox_->Enqueue(local::method::kProctorAction, Warn(d.session_id, "after the big one"), "警告 / Warn",
                                        "session:" + std::to_string(d.session_id));
  ASSERT_TRUE(Await([&] { return Finished(too_big) && Finished(next); }, 30s));
  const OutboxAction failed = Row(too_big);
  EXPECT_EQ(failed.state, ActionState::kFailed);
  EXPECT_EQ(failed.attempts, 1);
  EXPECT_EQ(failed.error_code, static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_NE(failed.error_message.find("at most 16 MiB"), std::string::npos) << failed.error_message;
  EXPECT_EQ(Row(next).state, ActionState::kConfirmed) << Row(next).error_message;
  EXPECT_EQ(StaffMessages(d)["warning"], 1);
}

TEST_F(OutboxDeliveryTest, ARestartedConsoleResendsWhatWasInFlightWithItsKeyAndTheBackendAppliesItOnce) {
  auto d = JoinCandidate(0);
  const std::string target = "session:" + std::to_string(d.session_id);
  // The first console enqueues a warning and a message; the warning's call reaches the
  // backend, and the console dies before it reads the answer.
  const int64_t warn =
      outbox_->Enqueue(local::method::kProctorAction, Warn(d.session_id, "请摘下耳机 Take off your earphones"), "警告 / Warn", target);
  v1::ProctorActionRequest message = Warn(d.session_id, "稍后联系你 We will call you shortly");
  message.set_kind(v1::PROCTOR_ACTION_KIND_MESSAGE);
  const int64_t note = outbox_->Enqueue(local::method::kProctorAction, message, "消息 / Message", target);
  ASSERT_TRUE(outbox_->MarkSending(warn));
  const OutboxAction in_flight = Row(warn);
  v1::ProctorActionRequest sent;
  ASSERT_TRUE(sent.ParseFromString(in_flight.request));
  auto live = v1::LiveService::NewStub(Channel());
  v1::ProctorActionResponse first;
  auto ctx = Ctx(Login("proctor1"));
  ASSERT_TRUE(live->ProctorAction(ctx.get(), sent, &first).ok());
  CloseConsole();

  // The next start sends both; the warning with its original key.
  OpenConsoleStore();
  EXPECT_EQ(Row(warn).state, ActionState::kPending);
  EXPECT_EQ(Row(warn).idempotency_key, in_flight.idempotency_key);
  StartClient("proctor1");
  StartSender();
  ASSERT_TRUE(Await([&] { return Finished(warn) && Finished(note); }));
  const auto replay = Answer<v1::ProctorActionResponse>(warn);
  EXPECT_TRUE(replay.replayed());
  EXPECT_EQ(replay.action_id(), first.action_id());
  EXPECT_FALSE(Answer<v1::ProctorActionResponse>(note).replayed());
  EXPECT_EQ(Row(warn).attempts, 2);

  // Applied once: one warning reached the candidate, one audit row for it.
  const auto kinds = StaffMessages(d);
  EXPECT_EQ(kinds.at("warning"), 1);
  EXPECT_EQ(kinds.at("message"), 1);
  int warns = 0;
  for (const auto& e : Audit("session/" + std::to_string(d.session_id))) warns += e.action() == "candidate.warn";
  EXPECT_EQ(warns, 1);
}

TEST_F(OutboxDeliveryTest, ARefusedTokenWaitsForANewSignInThenSends) {
  auto d = JoinCandidate(0);
  std::mutex token_mu;
  std::string token = "expired-token";
  bool asked_to_sign_in = false;
  net::OutboxSenderOptions o;
  o.on_change = [this] { Changed(); };
  o.on_unauthenticated = [&] {
    {
      std::lock_guard lock(token_mu);
      asked_to_sign_in = true;
    }
    Changed();
  };
  sender_ = std::make_unique<net::OutboxSender>(
      *outbox_, Channel(),
      [&] {
        std::lock_guard lock(token_mu);
        return token;
      },
      o);
  sender_->Start();

  const int64_t id = outbox_->Enqueue(local::method::kProctorAction, Warn(d.session_id, "请调整摄像头 Adjust your camera"),
                                      "警告 / Warn", "session:" + std::to_string(d.session_id));
  ASSERT_TRUE(Await([&] {
    std::lock_guard lock(token_mu);
    return asked_to_sign_in && Row(id).state == ActionState::kPending;
  }));
  EXPECT_EQ(Row(id).error_code, static_cast<int>(grpc::StatusCode::UNAUTHENTICATED));
  EXPECT_EQ(Row(id).attempts, 1);

  const std::string fresh = Login("proctor1");
  {
    std::lock_guard lock(token_mu);
    token = fresh;
  }
  sender_->Wake();
  ASSERT_TRUE(Await([&] { return Finished(id); }));
  EXPECT_GT(Answer<v1::ProctorActionResponse>(id).action_id(), 0);
  EXPECT_EQ(Row(id).attempts, 2);
  sender_.reset();  // before the token it reads goes out of scope
}

TEST_F(OutboxDeliveryTest, StopCancelsTheCallInFlightAndKeepsTheActionForTheNextStart) {
  auto channel = Channel();
  StopServer();  // the call will wait for a backend that does not come
  net::OutboxSenderOptions o;
  o.call_timeout = 60s;
  o.on_change = [this] { Changed(); };
  sender_ = std::make_unique<net::OutboxSender>(
      *outbox_, channel, [] { return std::string("token"); }, o);
  sender_->Start();
  const int64_t id = outbox_->Enqueue(local::method::kProctorAction, Warn(1, "hello"), "警告 / Warn", "session:1");
  ASSERT_TRUE(Await([&] { return Row(id).state == ActionState::kSending; }));

  const auto before = std::chrono::steady_clock::now();
  sender_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 5s);
  const OutboxAction a = Row(id);
  EXPECT_EQ(a.state, ActionState::kPending);
  EXPECT_EQ(a.error_code, static_cast<int>(grpc::StatusCode::CANCELLED));
}

}  // namespace
}  // namespace exam::testing
