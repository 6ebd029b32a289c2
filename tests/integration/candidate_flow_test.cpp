#include <google/protobuf/util/time_util.h>

#include "backend_fixture.h"

namespace exam::testing {
namespace {

namespace v1 = exam::v1;
using google::protobuf::util::TimeUtil;
using grpc::StatusCode;

class CandidateFlowTest : public BackendFixture {
 protected:
  core::TimePoint ExamStart(const Device& d) {
    return core::FromUnixMillis(TimeUtil::TimestampToMilliseconds(d.exam.start_time()));
  }
  // Moves the backend clock to `t` (forward only).
  void AdvanceTo(core::TimePoint t) {
    const auto now = server_->clock().Now();
    if (t > now) server_->clock().Advance(std::chrono::duration_cast<core::Duration>(t - now));
  }
  int64_t FileAppealNow(const Device& d, v1::FileAppealResponse* resp) {
    auto stub = v1::CandidateService::NewStub(Channel());
    for (int i = 0; i < 3; ++i) {
      v1::ReportFaceCheckRequest fc;
      fc.set_idempotency_key(Key());
      fc.set_similarity(0.3);
      v1::FaceCheckResponse fr;
      auto ctx = Ctx(d.token);
      EXPECT_TRUE(stub->ReportFaceCheck(ctx.get(), fc, &fr).ok());
    }
    v1::FileAppealRequest req;
    req.set_idempotency_key(Key());
    req.set_id_front("f");
    req.set_id_back("b");
    req.set_handheld_id("h");
    auto ctx = Ctx(d.token);
    auto status = stub->FileAppeal(ctx.get(), req, resp);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return resp->appeal_id();
  }
};

TEST_F(CandidateFlowTest, JoinRefusesAWrongAccessCode) {
  auto stub = v1::CandidateService::NewStub(Channel());
  v1::JoinRequest req;
  req.set_exam_id(server_->demo().exam_id);
  req.set_registration_no(server_->demo().registration_nos[0]);
  req.set_access_code("WRONG");
  req.set_device(v1::DEVICE_KIND_LAPTOP);
  v1::JoinResponse resp;
  auto ctx = Ctx("");
  EXPECT_EQ(stub->Join(ctx.get(), req, &resp).error_code(), StatusCode::UNAUTHENTICATED);
}

TEST_F(CandidateFlowTest, StagesOutOfOrderOrTooEarlyAreRefusedWithTheRule) {
  auto d = JoinCandidate(0);
  v1::Session s;
  auto skip = ReportStage(d, v1::STAGE_FACE_LOGIN, &s);
  EXPECT_EQ(skip.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(skip.error_message().find("order"), std::string::npos);
  Advance(d, v1::STAGE_READ_ATTACHMENTS);
  // 20 min before the start: "Enter" activates only 15 min before.
  auto early = ReportStage(d, v1::STAGE_ENTER, &s);
  EXPECT_EQ(early.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(early.error_message().find("entry has not opened"), std::string::npos);
  AdvanceTo(ExamStart(d) - core::minutes(15));
  ASSERT_TRUE(ReportStage(d, v1::STAGE_ENTER, &s).ok());
  EXPECT_EQ(s.stage(), v1::STAGE_ENTER);
  EXPECT_GT(s.draw_number(), 0);
}

TEST_F(CandidateFlowTest, AppealFiledBeforeTheStartKeepsTheEarlierDeadline) {
  auto d = JoinCandidate(0);
  Advance(d, v1::STAGE_DEVICE_CHECK);
  ASSERT_TRUE(ReportStage(d, v1::STAGE_FACE_LOGIN).ok());
  v1::FileAppealResponse resp;
  FileAppealNow(d, &resp);
  // Filed ~20 min before the start: filed + 2 h is later than start + 30 min.
  EXPECT_EQ(TimeUtil::TimestampToMilliseconds(resp.deadline()),
            core::ToUnixMillis(ExamStart(d) + core::minutes(30)));
}

TEST_F(CandidateFlowTest, AppealFiledDuringTheExamHasThirtyMinutes) {
  auto d = JoinCandidate(1);
  Advance(d, v1::STAGE_DEVICE_CHECK);
  ASSERT_TRUE(ReportStage(d, v1::STAGE_FACE_LOGIN).ok());
  AdvanceTo(ExamStart(d) + core::seconds(1));
  const auto before = server_->clock().Now();
  v1::FileAppealResponse resp;
  FileAppealNow(d, &resp);
  const auto after = server_->clock().Now();
  const int64_t deadline = TimeUtil::TimestampToMilliseconds(resp.deadline());
  EXPECT_GE(deadline, core::ToUnixMillis(before + core::minutes(30)));
  EXPECT_LE(deadline, core::ToUnixMillis(after + core::minutes(30)));
}

TEST_F(CandidateFlowTest, AnAppealEscalatesUnderFiveMinutesAndIsAnnouncedWhenBreached) {
  auto d = JoinCandidate(1);
  Advance(d, v1::STAGE_DEVICE_CHECK);
  ASSERT_TRUE(ReportStage(d, v1::STAGE_FACE_LOGIN).ok());
  AdvanceTo(ExamStart(d) + core::seconds(1));
  v1::FileAppealResponse resp;
  const int64_t appeal = FileAppealNow(d, &resp);
  const auto deadline = core::FromUnixMillis(TimeUtil::TimestampToMilliseconds(resp.deadline()));

  // Reads the change feed from the start until `detail` shows up for this appeal.
  const std::string admin = Login("admin");
  auto seen = [&](const std::string& detail) {
    auto stub = v1::EventService::NewStub(Channel());
    auto ctx = Ctx(admin, std::chrono::seconds(10));
    v1::SubscribeRequest req;
    auto reader = stub->Subscribe(ctx.get(), req);
    v1::EventEnvelope env;
    int count = 0;
    while (reader->Read(&env)) {
      if (env.has_heartbeat()) break;  // caught up with the log
      const auto& e = env.event();
      if (e.kind() == v1::EVENT_KIND_APPEAL_UPDATED && e.ref_id() == appeal && e.detail() == detail) ++count;
    }
    ctx->TryCancel();
    return count;
  };
  EXPECT_EQ(seen("escalated"), 0);
  AdvanceTo(deadline - core::minutes(4));
  ASSERT_TRUE(WaitFor([&] { return seen("escalated") == 1; }));
  AdvanceTo(deadline + core::seconds(1));
  ASSERT_TRUE(WaitFor([&] { return seen("breached") == 1; }));
  EXPECT_EQ(seen("escalated"), 1);  // announced once, not on every tick
}

TEST_F(CandidateFlowTest, ASecondInterruptionEndsTheExamEarly) {
  auto d = JoinCandidate(2);
  Advance(d, v1::STAGE_READ_ATTACHMENTS);
  AdvanceTo(ExamStart(d) - core::minutes(10));
  ASSERT_TRUE(ReportStage(d, v1::STAGE_ENTER).ok());
  ASSERT_TRUE(ReportStage(d, v1::STAGE_DEVICE_CONFIRM).ok());
  AdvanceTo(ExamStart(d));
  ASSERT_TRUE(ReportStage(d, v1::STAGE_ANSWERING).ok());

  auto stub = v1::CandidateService::NewStub(Channel());
  auto interrupt = [&](bool started, v1::Session* s) {
    v1::ReportInterruptionRequest req;
    req.set_idempotency_key(Key());
    req.set_started(started);
    auto ctx = Ctx(d.token);
    return stub->ReportInterruption(ctx.get(), req, s);
  };
  v1::Session s;
  ASSERT_TRUE(interrupt(true, &s).ok());
  EXPECT_TRUE(s.has_interruption_started_at());
  server_->clock().Advance(core::seconds(90));
  ASSERT_TRUE(interrupt(false, &s).ok());
  EXPECT_EQ(s.outcome(), v1::OUTCOME_IN_PROGRESS);
  ASSERT_TRUE(interrupt(true, &s).ok());
  EXPECT_EQ(s.stage(), v1::STAGE_ENDED);
  EXPECT_EQ(s.outcome(), v1::OUTCOME_ENDED_EARLY);
}

TEST_F(CandidateFlowTest, TheTickerForfeitsLateCandidatesAndAdvancesQuestions) {
  auto late = JoinCandidate(3);
  Advance(late, v1::STAGE_DRAW);
  auto on_time = JoinCandidate(4);
  Advance(on_time, v1::STAGE_READ_ATTACHMENTS);
  AdvanceTo(ExamStart(on_time) - core::minutes(5));
  ASSERT_TRUE(ReportStage(on_time, v1::STAGE_ENTER).ok());
  ASSERT_TRUE(ReportStage(on_time, v1::STAGE_DEVICE_CONFIRM).ok());
  AdvanceTo(ExamStart(on_time));
  ASSERT_TRUE(ReportStage(on_time, v1::STAGE_ANSWERING).ok());
  // Past entry close and past question 1's countdown.
  AdvanceTo(ExamStart(on_time) + core::minutes(5) + core::seconds(1));

  auto exams = v1::ExamService::NewStub(Channel());
  const std::string admin = Login("admin");
  auto session = [&](int64_t id) {
    v1::GetSessionRequest req;
    req.set_session_id(id);
    v1::Session s;
    auto ctx = Ctx(admin);
    EXPECT_TRUE(exams->GetSession(ctx.get(), req, &s).ok());
    return s;
  };
  ASSERT_TRUE(WaitFor([&] { return session(late.session_id).outcome() == v1::OUTCOME_FORFEITED; }));
  ASSERT_TRUE(WaitFor([&] { return session(on_time.session_id).current_question() == 2; }));
  EXPECT_EQ(session(on_time.session_id).outcome(), v1::OUTCOME_IN_PROGRESS);
}

TEST_F(CandidateFlowTest, OversizedAndAbsurdInputIsRefused) {
  auto d = JoinCandidate(5);
  auto stub = v1::CandidateService::NewStub(Channel());
  v1::ReportFaceCheckRequest fc;
  fc.set_similarity(7.5);
  v1::FaceCheckResponse fr;
  auto c1 = Ctx(d.token);
  EXPECT_EQ(stub->ReportFaceCheck(c1.get(), fc, &fr).error_code(), StatusCode::INVALID_ARGUMENT);
  v1::Session s;
  v1::ReportStageRequest rs;
  rs.set_stage(static_cast<v1::Stage>(42));  // an enum value from a newer client
  auto c2 = Ctx(d.token);
  EXPECT_EQ(stub->ReportStage(c2.get(), rs, &s).error_code(), StatusCode::INVALID_ARGUMENT);
  v1::RaiseHelpRequest help;
  help.set_text(std::string(5000, 'x'));
  v1::RaiseHelpResponse hr;
  auto c3 = Ctx(d.token);
  EXPECT_EQ(stub->RaiseHelp(c3.get(), help, &hr).error_code(), StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace exam::testing
