// Bad input against a real backend on loopback: negative sizes and offsets, dates in 1970
// and 2100, enum values the contract does not define, empty required fields, texts and
// payloads over their caps, and a message over the server's receive limit. Each case must
// be refused with the expected code and a message naming the field and what is accepted;
// after each, nothing was written and a normal call still succeeds. The table of cases and
// outcomes is printed for the hardening report.
#include <google/protobuf/util/time_util.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "backend_db.h"
#include "backend_fixture.h"
#include "exam/v1/review.grpc.pb.h"
#include "exam/v1/upload.grpc.pb.h"

namespace exam::testing {
namespace {

namespace v1 = exam::v1;
using google::protobuf::util::TimeUtil;
using grpc::StatusCode;

constexpr int64_t kMiB = 1024 * 1024;

// Tables a refused call could have written to (the event log and alerts are left out: the
// backend's ticker may add to them at any time).
constexpr const char* kWrittenTables[] = {"annotations",     "appeals",      "audit",         "face_captures",
                                          "help_messages",   "help_requests", "idempotency",  "proctor_actions",
                                          "scores",          "staff_messages", "upload_files", "upload_history",
                                          "devices"};

struct Case {
  std::string rpc;
  std::string mutation;
  StatusCode want;
  std::vector<std::string> words;  // each must appear in the status message
  std::function<grpc::Status()> call;
};

std::string CodeName(StatusCode c) {
  switch (c) {
    case StatusCode::OK: return "OK";
    case StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case StatusCode::NOT_FOUND: return "NOT_FOUND";
    case StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    case StatusCode::INTERNAL: return "INTERNAL";
    default: return "code " + std::to_string(static_cast<int>(c));
  }
}

class InputLimitsTest : public BackendFixture {
 protected:
  // Rows in the tables a call could write to, from the backend's SQLite file.
  std::map<std::string, int64_t> RowCounts() {
    std::map<std::string, int64_t> out;
    for (const char* table : kWrittenTables) {
      const auto rows = QueryDb(options_.db_path, std::string("SELECT COUNT(*) FROM ") + table);
      if (!rows.empty()) out[table] = std::stoll(rows[0][0]);
    }
    return out;
  }

  template <class Resp, class Stub, class Req>
  grpc::Status Unary(grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*), Stub& stub,
                     const std::string& token, const Req& req) {
    Resp resp;
    auto ctx = Ctx(token);
    return (stub.*method)(ctx.get(), req, &resp);
  }

  // Reads a server stream to its end; the refusals come before the first message.
  template <class Msg, class Reader>
  static grpc::Status Drain(Reader reader) {
    Msg m;
    while (reader->Read(&m)) {
    }
    return reader->Finish();
  }

  static google::protobuf::Timestamp At(int64_t seconds) {
    google::protobuf::Timestamp t;
    t.set_seconds(seconds);
    return t;
  }
};

TEST_F(InputLimitsTest, AbsurdRequestsAreRefusedClearlyAndTheBackendKeepsServing) {
  const std::string admin = Login("admin"), support = Login("support1"), grader = Login("grader1");
  const Device d = JoinCandidate(0);
  auto channel = Channel();
  auto live = v1::LiveService::NewStub(channel);
  auto review = v1::ReviewService::NewStub(channel);
  auto help = v1::HelpService::NewStub(channel);
  auto appeals = v1::AppealService::NewStub(channel);
  auto uploads = v1::UploadService::NewStub(channel);
  auto candidate = v1::CandidateService::NewStub(channel);
  auto exams = v1::ExamService::NewStub(channel);
  auto audit = v1::AuditService::NewStub(channel);
  auto events = v1::EventService::NewStub(channel);

  // Valid requests, each case changes one thing.
  auto action = [&] {
    v1::ProctorActionRequest r;
    r.set_idempotency_key(Key());
    r.set_session_id(d.session_id);
    r.set_kind(v1::PROCTOR_ACTION_KIND_MESSAGE);
    r.set_text("请保持摄像头对准面部");
    return r;
  };
  auto violation = [&] {
    v1::ProctorActionRequest r = action();
    r.set_kind(v1::PROCTOR_ACTION_KIND_RECORD_VIOLATION);
    r.set_category(v1::VIOLATION_CATEGORY_EARPHONES);
    r.set_text("earphones visible");
    return r;
  };
  auto do_action = [&](const v1::ProctorActionRequest& r) {
    return Unary(&v1::LiveService::Stub::ProctorAction, *live, admin, r);
  };
  auto read_media = [&](int64_t track, int64_t offset, int64_t length) {
    v1::ReadMediaRequest r;
    r.set_track_id(track);
    r.set_offset(offset);
    r.set_length(length);
    auto ctx = Ctx(grader);
    return Drain<v1::MediaChunk>(review->ReadMedia(ctx.get(), r));
  };
  auto annotation = [&] {
    v1::AddAnnotationRequest r;
    r.set_idempotency_key(Key());
    r.set_session_id(d.session_id);
    *r.mutable_at() = TimeUtil::GetCurrentTime();
    r.set_text("answer starts late");
    return r;
  };
  auto do_annotation = [&](const v1::AddAnnotationRequest& r) {
    return Unary(&v1::ReviewService::Stub::AddAnnotation, *review, grader, r);
  };
  auto score = [&] {
    v1::SubmitScoreRequest r;
    r.set_idempotency_key(Key());
    r.set_session_id(d.session_id);
    r.set_question(1);
    r.set_score(5);
    return r;
  };
  auto do_score = [&](const v1::SubmitScoreRequest& r) {
    return Unary(&v1::ReviewService::Stub::SubmitScore, *review, grader, r);
  };
  auto begin = [&] {
    v1::BeginUploadRequest r;
    r.set_name("camera-0.mp4");
    r.set_kind(v1::TRACK_KIND_CAMERA);
    r.set_size(1000);
    r.set_sha256(Sha256Hex("x"));
    return r;
  };
  auto do_begin = [&](const v1::BeginUploadRequest& r) {
    return Unary(&v1::CandidateService::Stub::BeginUpload, *candidate, d.token, r);
  };
  auto chunk = [&](int64_t offset, const std::string& data) {
    v1::UploadChunkRequest r;
    r.set_file_id(1);
    r.set_offset(offset);
    r.set_data(data);
    r.set_checksum(Sha256Hex(data));
    return Unary(&v1::CandidateService::Stub::UploadChunk, *candidate, d.token, r);
  };
  auto decide = [&](int decision, const std::string& reason) {
    v1::DecideAppealRequest r;
    r.set_idempotency_key(Key());
    r.set_appeal_id(1);
    r.set_expected_version(1);
    r.set_decision(static_cast<v1::AppealDecision>(decision));
    r.set_reason(reason);
    return Unary(&v1::AppealService::Stub::DecideAppeal, *appeals, support, r);
  };
  auto extend = [&](int64_t ms) {
    v1::ExtendDeadlineRequest r;
    r.set_idempotency_key(Key());
    r.set_file_id(1);
    *r.mutable_extension() = TimeUtil::MillisecondsToDuration(ms);
    r.set_reason("phone offline");
    return Unary(&v1::UploadService::Stub::ExtendDeadline, *uploads, support, r);
  };
  auto push_with_capture_time = [&](int64_t seconds) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + d.token);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::PushMediaResponse resp;
    auto writer = candidate->PushMedia(&ctx, &resp);
    v1::PushMediaRequest r;
    r.set_track(v1::TRACK_KIND_CAMERA);
    r.set_quality(v1::QUALITY_TILE);
    auto* p = r.mutable_packet();
    auto* par = p->mutable_parameters();
    par->set_codec("h264");
    par->set_width(320);
    par->set_height(180);
    par->set_time_base_num(1);
    par->set_time_base_den(90000);
    p->set_keyframe(true);
    p->set_data("not really h264");
    *p->mutable_captured_at() = At(seconds);
    writer->Write(r);
    writer->WritesDone();
    return writer->Finish();
  };
  const std::string cjk_4000 = [] {
    std::string s;
    for (int i = 0; i < 4000; ++i) s += "\u8b66";  // 警: three bytes in UTF-8
    return s;
  }();

  const auto kInvalid = StatusCode::INVALID_ARGUMENT;
  std::vector<Case> cases = {
      // Negative sizes, offsets, counters and ids.
      {"ReviewService.ReadMedia", "offset = -5", kInvalid, {"offset must be ≥ 0", "got -5"},
       [&] { return read_media(1, -5, 10); }},
      {"ReviewService.ReadMedia", "length = -1", kInvalid, {"length must be ≥ 0", "got -1"},
       [&] { return read_media(1, 0, -1); }},
      {"ReviewService.ReadMedia", "track_id = 0", kInvalid, {"track_id must be ≥ 1", "got 0"},
       [&] { return read_media(0, 0, 10); }},
      {"CandidateService.BeginUpload", "size = -1", kInvalid, {"size must be 1..", "got -1"},
       [&] {
         auto r = begin();
         r.set_size(-1);
         return do_begin(r);
       }},
      {"CandidateService.UploadChunk", "offset = -5", kInvalid, {"offset must be 0..", "got -5"},
       [&] { return chunk(-5, "abc"); }},
      {"CandidateService.Heartbeat", "after_message_id = -1", kInvalid, {"after_message_id must be ≥ 0"},
       [&] {
         v1::HeartbeatRequest r;
         r.set_after_message_id(-1);
         return Unary(&v1::CandidateService::Stub::Heartbeat, *candidate, d.token, r);
       }},
      {"CandidateService.ReportQuestion", "question = 0", kInvalid, {"question must be 1..1000", "got 0"},
       [&] {
         v1::ReportQuestionRequest r;
         r.set_idempotency_key(Key());
         r.set_question(0);
         return Unary(&v1::CandidateService::Stub::ReportQuestion, *candidate, d.token, r);
       }},
      {"ReviewService.SubmitScore", "question = -1", kInvalid, {"question must be 1..1000", "got -1"},
       [&] {
         auto r = score();
         r.set_question(-1);
         return do_score(r);
       }},
      {"ExamService.ListSessions", "exam_id = -1", kInvalid, {"exam_id must be ≥ 1", "got -1"},
       [&] {
         v1::ListSessionsRequest r;
         r.set_exam_id(-1);
         return Unary(&v1::ExamService::Stub::ListSessions, *exams, admin, r);
       }},
      {"AuditService.ListAudit", "limit = -1", kInvalid, {"limit must be ≥ 0", "got -1"},
       [&] {
         v1::ListAuditRequest r;
         r.set_limit(-1);
         return Unary(&v1::AuditService::Stub::ListAudit, *audit, admin, r);
       }},
      {"EventService.Subscribe", "since_seq = -1", kInvalid, {"since_seq must be ≥ 0"},
       [&] {
         v1::SubscribeRequest r;
         r.set_since_seq(-1);
         auto ctx = Ctx(admin);
         return Drain<v1::EventEnvelope>(events->Subscribe(ctx.get(), r));
       }},
      {"UploadService.ExtendDeadline", "extension = -5 min", kInvalid, {"extension must be between", "got -5 min"},
       [&] { return extend(-5 * 60'000); }},
      {"UploadService.ExtendDeadline", "extension = 1000 days", kInvalid, {"extension", "720 h", "24000 h"},
       [&] { return extend(int64_t{1000} * 24 * 3'600'000); }},
      {"ReviewService.SubmitScore", "score = NaN", kInvalid, {"score must be a number"},
       [&] {
         auto r = score();
         r.set_score(std::numeric_limits<double>::quiet_NaN());
         return do_score(r);
       }},
      {"CandidateService.ReportFaceCheck", "similarity = NaN", kInvalid, {"similarity must be a number"},
       [&] {
         v1::ReportFaceCheckRequest r;
         r.set_idempotency_key(Key());
         r.set_similarity(std::numeric_limits<double>::quiet_NaN());
         return Unary(&v1::CandidateService::Stub::ReportFaceCheck, *candidate, d.token, r);
       }},

      // Dates in 1970 and 2100.
      {"ReviewService.AddAnnotation", "at = 1970-01-01", kInvalid, {"at 1970-01-01", "outside 2000..2099"},
       [&] {
         auto r = annotation();
         *r.mutable_at() = At(0);
         return do_annotation(r);
       }},
      {"ReviewService.AddAnnotation", "at = 2100-01-01", kInvalid, {"at 2100-01-01", "outside 2000..2099"},
       [&] {
         auto r = annotation();
         *r.mutable_at() = At(4102444800);
         return do_annotation(r);
       }},
      {"ReviewService.AddAnnotation", "at with nanos = -1", kInvalid, {"at is not a valid timestamp"},
       [&] {
         auto r = annotation();
         r.mutable_at()->set_nanos(-1);
         return do_annotation(r);
       }},
      {"HelpService.ListHelpRequests", "resolved_since = 1970-01-01", kInvalid, {"resolved_since 1970-01-01"},
       [&] {
         v1::ListHelpRequestsRequest r;
         *r.mutable_resolved_since() = At(0);
         return Unary(&v1::HelpService::Stub::ListHelpRequests, *help, support, r);
       }},
      {"CandidateService.PushMedia", "packet.captured_at = 2100-06-01", kInvalid,
       {"packet.captured_at 2100-06-01", "outside 2000..2099"}, [&] { return push_with_capture_time(4115491200); }},

      // Enum values the contract does not define, and UNSPECIFIED where a value is required.
      {"LiveService.ProctorAction", "category = 99", kInvalid, {"unknown category 99", "ViolationCategory accepts 1..10"},
       [&] {
         auto r = violation();
         r.set_category(static_cast<v1::ViolationCategory>(99));
         return do_action(r);
       }},
      {"LiveService.ProctorAction", "category = UNSPECIFIED (violation)", kInvalid, {"category is required"},
       [&] {
         auto r = violation();
         r.set_category(v1::VIOLATION_CATEGORY_UNSPECIFIED);
         return do_action(r);
       }},
      {"LiveService.ProctorAction", "kind = 999", kInvalid, {"unknown kind 999", "ProctorActionKind"},
       [&] {
         auto r = action();
         r.set_kind(static_cast<v1::ProctorActionKind>(999));
         return do_action(r);
       }},
      {"AppealService.DecideAppeal", "decision = 999", kInvalid, {"unknown decision 999", "AppealDecision accepts 1..2"},
       [&] { return decide(999, "x"); }},
      {"CandidateService.ReportStage", "stage = 999", kInvalid, {"unknown stage 999"},
       [&] {
         v1::ReportStageRequest r;
         r.set_idempotency_key(Key());
         r.set_stage(static_cast<v1::Stage>(999));
         return Unary(&v1::CandidateService::Stub::ReportStage, *candidate, d.token, r);
       }},
      {"CandidateService.Join", "device = 999", kInvalid, {"unknown device 999", "DeviceKind"},
       [&] {
         v1::JoinRequest r;
         r.set_exam_id(server_->demo().exam_id);
         r.set_registration_no(server_->demo().registration_nos.at(1));
         r.set_access_code(server_->demo().access_code);
         r.set_device(static_cast<v1::DeviceKind>(999));
         return Unary(&v1::CandidateService::Stub::Join, *candidate, std::string(), r);
       }},
      {"CandidateService.BeginUpload", "kind = 999", kInvalid, {"unknown kind 999", "TrackKind"},
       [&] {
         auto r = begin();
         r.set_kind(static_cast<v1::TrackKind>(999));
         return do_begin(r);
       }},
      {"LiveService.WatchMedia", "track = 999", kInvalid, {"unknown track 999"},
       [&] {
         v1::WatchMediaRequest r;
         r.set_session_id(d.session_id);
         r.set_track(static_cast<v1::TrackKind>(999));
         auto ctx = Ctx(admin);
         return Drain<v1::MediaPacket>(live->WatchMedia(ctx.get(), r));
       }},

      // Empty required fields.
      {"LiveService.ProctorAction", "session_id = 0", kInvalid, {"session_id must be ≥ 1", "got 0"},
       [&] {
         auto r = action();
         r.set_session_id(0);
         return do_action(r);
       }},
      {"ReviewService.AddAnnotation", "at unset", kInvalid, {"at is required"},
       [&] {
         auto r = annotation();
         r.clear_at();
         return do_annotation(r);
       }},
      {"HelpService.PostHelpMessage", "text = \"\"", kInvalid, {"text is required"},
       [&] {
         v1::PostHelpMessageRequest r;
         r.set_idempotency_key(Key());
         r.set_help_id(1);
         return Unary(&v1::HelpService::Stub::PostHelpMessage, *help, support, r);
       }},
      {"HelpService.ResolveHelp", "category = \"\"", kInvalid, {"category is required"},
       [&] {
         v1::ResolveHelpRequest r;
         r.set_idempotency_key(Key());
         r.set_help_id(1);
         return Unary(&v1::HelpService::Stub::ResolveHelp, *help, support, r);
       }},
      {"CandidateService.FileAppeal", "id_front = \"\"", kInvalid, {"id_front is required"},
       [&] {
         v1::FileAppealRequest r;
         r.set_idempotency_key(Key());
         r.set_id_back("back");
         r.set_handheld_id("handheld");
         return Unary(&v1::CandidateService::Stub::FileAppeal, *candidate, d.token, r);
       }},

      // Texts over their caps (counted in characters).
      {"LiveService.ProctorAction", "text = 70000 characters", kInvalid, {"text is 70000 characters; at most 4000"},
       [&] {
         auto r = action();
         r.set_text(std::string(70000, 'x'));
         return do_action(r);
       }},
      {"LiveService.ProctorAction", "text = 4001 CJK characters", kInvalid, {"text is 4001 characters; at most 4000"},
       [&] {
         auto r = action();
         r.set_text(cjk_4000 + "\u8b66");
         return do_action(r);
       }},
      {"CandidateService.RaiseHelp", "text = 5000 characters", kInvalid, {"text is 5000 characters; at most 4000"},
       [&] {
         v1::RaiseHelpRequest r;
         r.set_idempotency_key(Key());
         r.set_text(std::string(5000, 'h'));
         return Unary(&v1::CandidateService::Stub::RaiseHelp, *candidate, d.token, r);
       }},
      {"AppealService.DecideAppeal", "reason = 3000 characters", kInvalid, {"reason is 3000 characters; at most 2000"},
       [&] { return decide(v1::APPEAL_DECISION_REJECT, std::string(3000, 'r')); }},
      {"UploadService.NoteContact", "note = 2000 characters", kInvalid, {"note is 2000 characters; at most 1000"},
       [&] {
         v1::UploadActionRequest r;
         r.set_idempotency_key(Key());
         r.set_file_id(1);
         r.set_note(std::string(2000, 'n'));
         return Unary(&v1::UploadService::Stub::NoteContact, *uploads, support, r);
       }},
      {"ReviewService.SubmitScore", "comment = 5000 characters", kInvalid, {"comment is 5000 characters; at most 4000"},
       [&] {
         auto r = score();
         r.set_comment(std::string(5000, 'c'));
         return do_score(r);
       }},

      // Payloads over their field caps, and a message over the server's limit.
      {"LiveService.ProctorAction", "snapshot = 9 MiB", kInvalid, {"snapshot is 9437184 bytes; at most 8 MiB"},
       [&] {
         auto r = violation();
         r.set_snapshot(std::string(9 * kMiB, '\xff'));
         return do_action(r);
       }},
      {"CandidateService.UploadChunk", "data = 5 MiB", kInvalid, {"data is 5242880 bytes; at most"},
       [&] { return chunk(0, std::string(5 * kMiB, 'u')); }},
      {"CandidateService.FileAppeal", "handheld_id = 5 MiB", kInvalid, {"handheld_id is 5242880 bytes; at most 4 MiB"},
       [&] {
         v1::FileAppealRequest r;
         r.set_idempotency_key(Key());
         r.set_id_front("front");
         r.set_id_back("back");
         r.set_handheld_id(std::string(5 * kMiB, 'p'));
         return Unary(&v1::CandidateService::Stub::FileAppeal, *candidate, d.token, r);
       }},
      {"LiveService.ProctorAction", "whole message 17 MiB (snapshot)", StatusCode::RESOURCE_EXHAUSTED,
       {"larger than max"},
       [&] {
         auto r = violation();
         r.set_snapshot(std::string(17 * kMiB, '\xff'));
         return do_action(r);
       }},

      // At the caps: accepted.
      {"LiveService.ProctorAction", "text = 4000 CJK characters (12000 bytes)", StatusCode::OK, {},
       [&] {
         auto r = action();
         r.set_text(cjk_4000);
         return do_action(r);
       }},
      {"LiveService.ProctorAction", "snapshot = 8 MiB exactly", StatusCode::OK, {},
       [&] {
         auto r = violation();
         r.set_snapshot(std::string(8 * kMiB, '\xff'));
         return do_action(r);
       }},
  };

  std::printf("\n%-3s %-34s %-42s %-19s %-19s %s\n", "#", "RPC", "request", "expected", "got", "message");
  int n = 0, failed = 0;
  for (const auto& c : cases) {
    ++n;
    const auto before = RowCounts();
    const grpc::Status got = c.call();
    const auto after = RowCounts();
    bool pass = got.error_code() == c.want;
    EXPECT_EQ(got.error_code(), c.want) << c.rpc << " " << c.mutation << ": " << got.error_message();
    for (const auto& w : c.words) {
      const bool found = got.error_message().find(w) != std::string::npos;
      pass = pass && found;
      EXPECT_TRUE(found) << c.rpc << " " << c.mutation << ": \"" << w << "\" not in \"" << got.error_message() << "\"";
    }
    if (c.want != StatusCode::OK) {
      const bool unchanged = before == after;
      pass = pass && unchanged;
      EXPECT_TRUE(unchanged) << c.rpc << " " << c.mutation << ": a refused call wrote rows";
    }
    // The backend still serves, reads and writes, on the same channel.
    const grpc::Status normal = do_action(action());
    pass = pass && normal.ok();
    EXPECT_TRUE(normal.ok()) << "after " << c.rpc << " " << c.mutation << ": " << normal.error_message();
    if (!pass) ++failed;
    std::string message = got.error_message();
    if (message.size() > 90) message = message.substr(0, 87) + "...";
    std::printf("%-3d %-34s %-42s %-19s %-19s %s%s\n", n, c.rpc.c_str(), c.mutation.c_str(), CodeName(c.want).c_str(),
                CodeName(got.error_code()).c_str(), message.c_str(), pass ? "" : "   <-- FAILED");
  }
  std::printf("%d cases, %d failed; after each: no rows written by a refused call, a normal call succeeded\n\n", n,
              failed);

  // The candidate's session still reads back as it was joined.
  v1::GetSessionRequest gs;
  gs.set_session_id(d.session_id);
  v1::Session s;
  auto ctx = Ctx(admin);
  ASSERT_TRUE(exams->GetSession(ctx.get(), gs, &s).ok());
  EXPECT_EQ(s.id(), d.session_id);
}

}  // namespace
}  // namespace exam::testing
