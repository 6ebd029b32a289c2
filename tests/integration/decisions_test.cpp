#include <google/protobuf/util/time_util.h>

#include "backend_fixture.h"

namespace exam::testing {
namespace {

namespace v1 = exam::v1;
using google::protobuf::util::TimeUtil;
using grpc::StatusCode;

class DecisionsTest : public BackendFixture {
 protected:
  // Candidate `index` fails three face checks and files an appeal; returns the appeal id.
  int64_t FileAppeal(int index, Device* device_out = nullptr) {
    auto d = JoinCandidate(index);
    Advance(d, v1::STAGE_DEVICE_CHECK);
    EXPECT_TRUE(ReportStage(d, v1::STAGE_FACE_LOGIN).ok());
    auto stub = v1::CandidateService::NewStub(Channel());
    for (int i = 0; i < 3; ++i) {
      v1::ReportFaceCheckRequest fc;
      fc.set_idempotency_key(Key());
      fc.set_similarity(0.41 + 0.01 * i);
      fc.set_capture("capture-bytes");
      v1::FaceCheckResponse fr;
      auto ctx = Ctx(d.token);
      EXPECT_TRUE(stub->ReportFaceCheck(ctx.get(), fc, &fr).ok());
      EXPECT_EQ(fr.appeal_required(), i == 2);
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
    if (device_out) *device_out = d;
    return resp.appeal_id();
  }

  grpc::Status Claim(const std::string& token, int64_t id, v1::Appeal* out) {
    auto stub = v1::AppealService::NewStub(Channel());
    v1::ClaimAppealRequest req;
    req.set_idempotency_key(Key());
    req.set_appeal_id(id);
    auto ctx = Ctx(token);
    return stub->ClaimAppeal(ctx.get(), req, out);
  }

  grpc::Status Decide(const std::string& token, int64_t id, int64_t version, v1::AppealDecision d,
                      const std::string& key, v1::Appeal* out, const std::string& reason = "photo matches ID") {
    auto stub = v1::AppealService::NewStub(Channel());
    v1::DecideAppealRequest req;
    req.set_idempotency_key(key);
    req.set_appeal_id(id);
    req.set_expected_version(version);
    req.set_decision(d);
    req.set_reason(reason);
    auto ctx = Ctx(token);
    return stub->DecideAppeal(ctx.get(), req, out);
  }
};

TEST_F(DecisionsTest, TwoStaffClaimingOneAppealOnlyOneWinsUntilTheLeaseExpires) {
  const int64_t id = FileAppeal(0);
  const std::string a = Login("support1"), b = Login("support2");
  v1::Appeal first, second;
  ASSERT_TRUE(Claim(a, id, &first).ok());
  EXPECT_EQ(first.claimed_by(), "技术支持 王工");
  auto status = Claim(b, id, &second);
  EXPECT_EQ(status.error_code(), StatusCode::ABORTED);
  EXPECT_NE(status.error_message().find("技术支持 王工"), std::string::npos);

  // The lease runs out (backend clock), and the other staff member can take it.
  server_->clock().Advance(core::minutes(6));
  ASSERT_TRUE(Claim(b, id, &second).ok());
  EXPECT_EQ(second.claimed_by(), "技术支持 赵工");
}

TEST_F(DecisionsTest, StaleVersionIsRefusedAndRetryWithSameKeyIsAcceptedOnce) {
  Device device;
  const int64_t id = FileAppeal(1, &device);
  const std::string a = Login("support1");
  v1::Appeal claimed;
  ASSERT_TRUE(Claim(a, id, &claimed).ok());

  v1::Appeal out;
  auto stale = Decide(a, id, claimed.version() - 1, v1::APPEAL_DECISION_APPROVE, "decide-1", &out);
  EXPECT_EQ(stale.error_code(), StatusCode::ABORTED);

  v1::Appeal decided, replay;
  ASSERT_TRUE(Decide(a, id, claimed.version(), v1::APPEAL_DECISION_APPROVE, "decide-2", &decided).ok());
  EXPECT_EQ(decided.state(), v1::APPEAL_STATE_APPROVED);
  // A retry of the same decision (network lost the answer) returns the same answer.
  ASSERT_TRUE(Decide(a, id, claimed.version(), v1::APPEAL_DECISION_APPROVE, "decide-2", &replay).ok());
  EXPECT_EQ(replay.SerializeAsString(), decided.SerializeAsString());

  // A second, different decision is refused with who decided.
  const std::string b = Login("support2");
  auto again = Decide(b, id, decided.version(), v1::APPEAL_DECISION_REJECT, "decide-3", &out, "blurred");
  EXPECT_EQ(again.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(again.error_message().find("already approved"), std::string::npos);

  // Exactly one audit row for the decision, with actor and before/after.
  auto audit = v1::AuditService::NewStub(Channel());
  v1::ListAuditRequest areq;
  areq.set_target_prefix("appeal/" + std::to_string(id));
  v1::ListAuditResponse entries;
  auto actx = Ctx(Login("admin"));
  ASSERT_TRUE(audit->ListAudit(actx.get(), areq, &entries).ok());
  ASSERT_EQ(entries.entries_size(), 1);
  EXPECT_EQ(entries.entries(0).actor(), "support1");
  EXPECT_EQ(entries.entries(0).action(), "appeal.decide");
  EXPECT_NE(entries.entries(0).before().find("\"state\":1"), std::string::npos);
  EXPECT_NE(entries.entries(0).after().find("\"state\":2"), std::string::npos);

  // The candidate hears of it on the next heartbeat and may continue.
  auto cand = v1::CandidateService::NewStub(Channel());
  v1::HeartbeatResponse hb;
  auto hctx = Ctx(device.token);
  ASSERT_TRUE(cand->Heartbeat(hctx.get(), v1::HeartbeatRequest(), &hb).ok());
  bool approved = false;
  for (const auto& m : hb.messages()) approved = approved || m.kind() == "appeal-approved";
  EXPECT_TRUE(approved);
  EXPECT_TRUE(ReportStage(device, v1::STAGE_EVIDENCE_BINDING).ok());
}

TEST_F(DecisionsTest, RejectionNeedsAReasonAndEndsTheSession) {
  Device device;
  const int64_t id = FileAppeal(2, &device);
  const std::string a = Login("support1");
  v1::Appeal claimed, out;
  ASSERT_TRUE(Claim(a, id, &claimed).ok());
  EXPECT_EQ(Decide(a, id, claimed.version(), v1::APPEAL_DECISION_REJECT, "r1", &out, "").error_code(),
            StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(Decide(a, id, claimed.version(), v1::APPEAL_DECISION_REJECT, "r2", &out, "not the same person").ok());
  auto status = ReportStage(device, v1::STAGE_EVIDENCE_BINDING);
  EXPECT_EQ(status.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("ended"), std::string::npos);
  auto exams = v1::ExamService::NewStub(Channel());
  v1::GetSessionRequest req;
  req.set_session_id(device.session_id);
  v1::Session s;
  auto ctx = Ctx(Login("admin"));
  ASSERT_TRUE(exams->GetSession(ctx.get(), req, &s).ok());
  EXPECT_EQ(s.outcome(), v1::OUTCOME_IDENTITY_REJECTED);
}

TEST_F(DecisionsTest, DecisionsWithoutIdempotencyKeyAreRefused) {
  const int64_t id = FileAppeal(3);
  v1::Appeal out;
  EXPECT_EQ(Decide(Login("support1"), id, 1, v1::APPEAL_DECISION_APPROVE, "", &out).error_code(),
            StatusCode::INVALID_ARGUMENT);
}

TEST_F(DecisionsTest, ProctorActionRetriesReplayTheFirstAnswer) {
  auto d = JoinCandidate(0);  // room 1, proctor1's room
  const std::string token = Login("proctor1");
  auto live = v1::LiveService::NewStub(Channel());
  v1::ProctorActionRequest req;
  req.set_idempotency_key("warn-once");
  req.set_session_id(d.session_id);
  req.set_kind(v1::PROCTOR_ACTION_KIND_WARN);
  req.set_text("请保持面部在画面中 Keep your face in view");
  v1::ProctorActionResponse first, second;
  auto c1 = Ctx(token);
  ASSERT_TRUE(live->ProctorAction(c1.get(), req, &first).ok());
  EXPECT_FALSE(first.replayed());
  auto c2 = Ctx(token);
  ASSERT_TRUE(live->ProctorAction(c2.get(), req, &second).ok());
  EXPECT_EQ(second.action_id(), first.action_id());
  EXPECT_TRUE(second.replayed());

  // The candidate got exactly one warning.
  auto cand = v1::CandidateService::NewStub(Channel());
  v1::HeartbeatResponse hb;
  auto hctx = Ctx(d.token);
  ASSERT_TRUE(cand->Heartbeat(hctx.get(), v1::HeartbeatRequest(), &hb).ok());
  int warnings = 0;
  for (const auto& m : hb.messages()) warnings += m.kind() == "warning";
  EXPECT_EQ(warnings, 1);

  // Terminating needs a reason; with one, the session ends and a second attempt is refused.
  v1::ProctorActionRequest end;
  end.set_idempotency_key("end-1");
  end.set_session_id(d.session_id);
  end.set_kind(v1::PROCTOR_ACTION_KIND_TERMINATE);
  v1::ProctorActionResponse r;
  auto c3 = Ctx(token);
  EXPECT_EQ(live->ProctorAction(c3.get(), end, &r).error_code(), StatusCode::INVALID_ARGUMENT);
  end.set_text("second person in the room");
  auto c4 = Ctx(token);
  ASSERT_TRUE(live->ProctorAction(c4.get(), end, &r).ok());
  end.set_idempotency_key("end-2");
  auto c5 = Ctx(token);
  EXPECT_EQ(live->ProctorAction(c5.get(), end, &r).error_code(), StatusCode::FAILED_PRECONDITION);
}

TEST_F(DecisionsTest, ProctorCannotActOnAnotherRoom) {
  auto d = JoinCandidate(7);  // last candidate: room 2
  auto live = v1::LiveService::NewStub(Channel());
  v1::ProctorActionRequest req;
  req.set_idempotency_key("m1");
  req.set_session_id(d.session_id);
  req.set_kind(v1::PROCTOR_ACTION_KIND_MESSAGE);
  req.set_text("hello");
  v1::ProctorActionResponse resp;
  auto ctx = Ctx(Login("proctor1"));
  EXPECT_EQ(live->ProctorAction(ctx.get(), req, &resp).error_code(), StatusCode::NOT_FOUND);
}

TEST_F(DecisionsTest, HelpRequestsKeepTheirOrderAndOneStaffHoldsEach) {
  auto cand = v1::CandidateService::NewStub(Channel());
  std::vector<int64_t> ids;
  for (int i = 0; i < 3; ++i) {
    auto d = JoinCandidate(i);
    v1::RaiseHelpRequest req;
    req.set_idempotency_key(Key());
    req.set_text("题目没有加载 question not loaded");
    v1::RaiseHelpResponse resp;
    auto ctx = Ctx(d.token);
    ASSERT_TRUE(cand->RaiseHelp(ctx.get(), req, &resp).ok());
    ids.push_back(resp.help_id());
    server_->clock().Advance(core::seconds(5));
  }
  auto help = v1::HelpService::NewStub(Channel());
  const std::string a = Login("support1"), b = Login("support2");
  v1::ListHelpRequestsRequest lreq;
  lreq.set_unresolved_only(true);
  v1::ListHelpRequestsResponse list;
  auto lctx = Ctx(a);
  ASSERT_TRUE(help->ListHelpRequests(lctx.get(), lreq, &list).ok());
  ASSERT_EQ(list.requests_size(), 3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(list.requests(i).id(), ids[static_cast<size_t>(i)]);

  v1::ClaimHelpRequest claim;
  claim.set_idempotency_key("c1");
  claim.set_help_id(ids[0]);
  v1::HelpRequest h;
  auto c1 = Ctx(a);
  ASSERT_TRUE(help->ClaimHelp(c1.get(), claim, &h).ok());
  claim.set_idempotency_key("c2");
  auto c2 = Ctx(b);
  EXPECT_EQ(help->ClaimHelp(c2.get(), claim, &h).error_code(), StatusCode::ABORTED);

  v1::PostHelpMessageRequest msg;
  msg.set_idempotency_key("m1");
  msg.set_help_id(ids[0]);
  msg.set_text("请点击刷新按钮 Please press refresh");
  auto c3 = Ctx(a);
  ASSERT_TRUE(help->PostHelpMessage(c3.get(), msg, &h).ok());
  EXPECT_TRUE(h.has_first_response_at());
  // The other staff member can neither answer nor close a request someone holds.
  msg.set_idempotency_key("m-other");
  auto c3b = Ctx(b);
  auto other = help->PostHelpMessage(c3b.get(), msg, &h);
  EXPECT_EQ(other.error_code(), StatusCode::ABORTED);
  EXPECT_NE(other.error_message().find("held by"), std::string::npos) << other.error_message();
  v1::ResolveHelpRequest steal;
  steal.set_idempotency_key("r-other");
  steal.set_help_id(ids[0]);
  steal.set_category("network");
  auto c3c = Ctx(b);
  EXPECT_EQ(help->ResolveHelp(c3c.get(), steal, &h).error_code(), StatusCode::ABORTED);
  ASSERT_EQ(h.messages_size(), 2);
  EXPECT_FALSE(h.messages(1).from_candidate());

  v1::ResolveHelpRequest resolve;
  resolve.set_idempotency_key("r1");
  resolve.set_help_id(ids[0]);
  resolve.set_category("question-not-loaded");
  auto c4 = Ctx(a);
  ASSERT_TRUE(help->ResolveHelp(c4.get(), resolve, &h).ok());
  EXPECT_EQ(h.state(), v1::HELP_STATE_RESOLVED);
  v1::ListHelpRequestsResponse after;
  auto c5 = Ctx(a);
  ASSERT_TRUE(help->ListHelpRequests(c5.get(), lreq, &after).ok());
  EXPECT_EQ(after.requests_size(), 2);

  // A desk showing "today" asks for the open ones and those resolved since a time.
  v1::ListHelpRequestsRequest since;
  *since.mutable_resolved_since() = h.resolved_at();
  v1::ListHelpRequestsResponse with_resolved, without;
  auto c6 = Ctx(a);
  ASSERT_TRUE(help->ListHelpRequests(c6.get(), since, &with_resolved).ok());
  EXPECT_EQ(with_resolved.requests_size(), 3);
  *since.mutable_resolved_since() = google::protobuf::util::TimeUtil::MillisecondsToTimestamp(
      google::protobuf::util::TimeUtil::TimestampToMilliseconds(h.resolved_at()) + 1);
  auto c7 = Ctx(a);
  ASSERT_TRUE(help->ListHelpRequests(c7.get(), since, &without).ok());
  EXPECT_EQ(without.requests_size(), 2);
}

}  // namespace
}  // namespace exam::testing
