// Authorisation as the backend enforces it: every RPC of every exam.v1 service, discovered
// from the generated descriptors (so a new RPC cannot slip through without a rule here), is
// called by every kind of caller; proctors are confined to their rooms; graders never see who
// a candidate is.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor_database.h>
#include <grpcpp/generic/generic_stub.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>

#include "backend/services/backend_context.h"
#include "backend_db.h"
#include "backend_fixture.h"
#include "exam/v1/review.grpc.pb.h"
#include "exam/v1/upload.grpc.pb.h"

namespace exam::testing {
namespace {

namespace v1 = exam::v1;
using grpc::StatusCode;

// Callers, as bits so a rule is a set of them.
enum Caller : unsigned {
  kProctorA = 1u << 0,  // proctor1, room 1
  kProctorB = 1u << 1,  // proctor2, room 2
  kGrader = 1u << 2,
  kSupport = 1u << 3,
  kAdmin = 1u << 4,
  kExpired = 1u << 5,  // an admin token past its lifetime
  kNoToken = 1u << 6,
  kDevice = 1u << 7,  // a candidate device token from Join
};
constexpr unsigned kAllCallers = 0xffu;
constexpr unsigned kStaff = kProctorA | kProctorB | kGrader | kSupport | kAdmin;
constexpr unsigned kProctors = kProctorA | kProctorB;

const char* CallerName(unsigned c) {
  switch (c) {
    case kProctorA: return "proctor of room A";
    case kProctorB: return "proctor of room B";
    case kGrader: return "grader";
    case kSupport: return "support";
    case kAdmin: return "admin";
    case kExpired: return "expired token";
    case kNoToken: return "no token";
    case kDevice: return "candidate device";
  }
  return "?";
}

// Who may call what. Written out by hand rather than derived from backend::AccessPolicy(),
// so a change to the policy has to be made twice, on purpose.
std::map<std::string, unsigned> ExpectedRules() {
  std::map<std::string, unsigned> r;
  auto add = [&](const std::string& service, std::initializer_list<const char*> methods, unsigned who) {
    for (const char* m : methods) r["/exam.v1." + service + "/" + m] = who;
  };
  add("AuthService", {"Login"}, kAllCallers);
  add("AuthService", {"Logout", "WhoAmI"}, kStaff);
  add("ExamService", {"ListExams", "ListRooms", "ListSessions", "GetSession", "GetClock"}, kStaff);
  add("EventService", {"Subscribe"}, kStaff);
  add("LiveService", {"WatchMedia", "ProctorAction"}, kProctors | kAdmin);
  add("LiveService", {"ListAlerts", "GetSessionHistory"}, kProctors | kSupport | kAdmin);
  add("HelpService", {"ListHelpRequests"}, kProctors | kSupport | kAdmin);
  add("HelpService", {"ClaimHelp", "PostHelpMessage", "ResolveHelp"}, kSupport | kAdmin);
  add("AppealService", {"ListAppeals", "GetAppeal", "ClaimAppeal", "ReleaseAppeal", "DecideAppeal"}, kSupport | kAdmin);
  add("ReviewService",
      {"ListReviewSessions", "ListTracks", "ListMarkers", "ReadMedia", "SubmitScore", "AddAnnotation", "ListScores",
       "ListAnnotations", "GetRubric"},
      kGrader | kAdmin);
  add("UploadService", {"ListUploads", "GetUpload", "RequestRecall", "ExtendDeadline", "MarkAbnormal", "NoteContact"},
      kSupport | kAdmin);
  add("AuditService", {"ListAudit"}, kAdmin);
  add("CandidateService", {"Join"}, kAllCallers);
  // Device RPCs act on the caller's own session: staff, administrators included, have none.
  add("CandidateService",
      {"ReportStage", "ReportFaceCheck", "FileAppeal", "RaiseHelp", "SendHelpMessage", "ReportInterruption",
       "ReportQuestion", "Heartbeat", "PushMedia", "BeginUpload", "UploadChunk", "GetUploadStatus", "CommitUpload"},
      kDevice);
  return r;
}

struct Method {
  std::string path;  // "/exam.v1.Service/Method"
  bool server_streaming = false;
  bool client_streaming = false;
};

// Every RPC of every service in package exam.v1 linked into this binary. The server under
// test is linked in too, so whatever it can serve is listed here.
std::vector<Method> AllExamMethods() {
  std::vector<std::string> files;
  google::protobuf::DescriptorPool::internal_generated_database()->FindAllFileNames(&files);
  std::vector<Method> out;
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const auto& name : files) {
    const auto* file = pool->FindFileByName(name);
    if (!file || file->package() != "exam.v1") continue;
    for (int s = 0; s < file->service_count(); ++s) {
      const auto* service = file->service(s);
      for (int m = 0; m < service->method_count(); ++m) {
        const auto* method = service->method(m);
        out.push_back(Method{"/" + service->full_name() + "/" + method->name(), method->server_streaming(),
                             method->client_streaming()});
      }
    }
  }
  return out;
}

grpc::ByteBuffer ToBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

// One call of any shape through the generic stub: sends `request` as the only message, reads
// the first answer and, for a stream, cancels after it.
class OneCall : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  struct Result {
    grpc::Status status;
    bool got_message = false;
    std::string first_message;
  };

  static Result Run(const std::shared_ptr<grpc::Channel>& channel, const Method& method, const std::string& token,
                    const std::string& request) {
    grpc::GenericStub stub(channel);
    OneCall call(method.server_streaming);
    if (!token.empty()) call.ctx_.AddMetadata("authorization", "Bearer " + token);
    call.ctx_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    call.request_ = ToBuffer(request);
    stub.PrepareBidiStreamingCall(&call.ctx_, method.path, grpc::StubOptions(), &call);
    call.StartWriteLast(&call.request_, grpc::WriteOptions());
    call.StartRead(&call.response_);
    call.StartCall();
    std::unique_lock lock(call.mu_);
    call.cv_.wait(lock, [&] { return call.done_; });
    return call.result_;
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;
    {
      std::lock_guard lock(mu_);
      result_.got_message = true;
      result_.first_message = FromBuffer(response_);
    }
    if (stream_) ctx_.TryCancel();
  }
  void OnDone(const grpc::Status& status) override {
    std::lock_guard lock(mu_);
    result_.status = status;
    done_ = true;
    cv_.notify_all();
  }

 private:
  explicit OneCall(bool stream) : stream_(stream) {}
  bool stream_;
  grpc::ClientContext ctx_;
  grpc::ByteBuffer request_, response_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  Result result_;
};

bool Denied(const grpc::Status& s) {
  return s.error_code() == StatusCode::PERMISSION_DENIED || s.error_code() == StatusCode::UNAUTHENTICATED;
}

class AuthzMatrixTest : public BackendFixture {
 protected:
  void Configure(backend::ServerOptions& o) override {
    // No earlier sitting: ReviewService would start synthesizing its recordings.
    o.demo_review_sessions = 0;
  }
};

TEST_F(AuthzMatrixTest, EveryRpcHasARuleAndEveryCallerGetsIt) {
  const auto methods = AllExamMethods();
  const auto rules = ExpectedRules();
  // Sanity: the descriptors were found at all (ten services in the contract).
  std::set<std::string> services;
  for (const auto& m : methods) services.insert(m.path.substr(0, m.path.rfind('/')));
  ASSERT_GE(services.size(), 10u) << "exam.v1 services not linked into the test";

  std::set<std::string> seen;
  for (const auto& m : methods) {
    seen.insert(m.path);
    EXPECT_TRUE(rules.count(m.path)) << "new RPC without a rule: " << m.path
                                     << " (add it to ExpectedRules() and to backend::AccessPolicy())";
    EXPECT_TRUE(backend::AccessPolicy().count(m.path)) << "no access rule in the backend for " << m.path;
  }
  for (const auto& [path, who] : rules)
    EXPECT_TRUE(seen.count(path)) << "rule for an RPC the contract no longer has: " << path;

  // An admin token that has outlived its lifetime: sign in on a server whose tokens live 0 s,
  // then serve the same database with the normal lifetime again.
  StopServer();
  const auto ttl = options_.token_ttl;
  options_.token_ttl = std::chrono::seconds(0);
  StartServer();
  const std::string expired = Login("admin");
  ASSERT_FALSE(expired.empty());
  StopServer();
  options_.token_ttl = ttl;
  StartServer();

  std::map<unsigned, std::string> tokens = {
      {kProctorA, Login("proctor1")}, {kProctorB, Login("proctor2")}, {kGrader, Login("grader1")},
      {kSupport, Login("support1")},  {kAdmin, Login("admin")},       {kExpired, expired},
      {kNoToken, ""},                 {kDevice, JoinCandidate(0).token},
  };
  for (const auto& [c, t] : tokens) {
    if (c != kNoToken) {
      ASSERT_FALSE(t.empty()) << CallerName(c);
    }
  }

  // Empty requests except where an empty one would itself be refused as unauthenticated.
  v1::LoginRequest login;
  login.set_username("support2");
  login.set_password("demo");
  const std::map<std::string, std::string> requests = {{"/exam.v1.AuthService/Login", login.SerializeAsString()}};

  // Logout revokes the token it is called with, so it goes last.
  auto ordered = methods;
  std::stable_partition(ordered.begin(), ordered.end(),
                        [](const Method& m) { return m.path != "/exam.v1.AuthService/Logout"; });

  auto channel = Channel();
  int calls = 0;
  for (const auto& m : ordered) {
    auto rule = rules.find(m.path);
    if (rule == rules.end()) continue;
    auto req = requests.count(m.path) ? requests.at(m.path) : std::string();
    for (const auto& [caller, token] : tokens) {
      const auto result = OneCall::Run(channel, m, token, req);
      ++calls;
      const bool allowed = (rule->second & caller) != 0;
      const std::string what = m.path + " by " + CallerName(caller) + ": " +
                               std::to_string(result.status.error_code()) + " " + result.status.error_message();
      if (allowed) {
        EXPECT_TRUE(result.got_message || !Denied(result.status)) << "refused but should be allowed: " << what;
      } else {
        EXPECT_FALSE(result.got_message) << "answered but should be denied: " << what;
        // No token or an expired one: sign in again; a valid one with the wrong role: no.
        const auto want = (caller == kNoToken || caller == kExpired) ? StatusCode::UNAUTHENTICATED
                                                                     : StatusCode::PERMISSION_DENIED;
        EXPECT_EQ(result.status.error_code(), want) << "should be denied: " << what;
      }
    }
  }
  EXPECT_EQ(calls, static_cast<int>(rules.size() * tokens.size()));
}

TEST_F(AuthzMatrixTest, ProctorOfAnotherRoomCannotReachASession) {
  auto auth = v1::AuthService::NewStub(Channel());
  v1::LoginResponse p1, p2;
  for (auto [user, out] : {std::pair{"proctor1", &p1}, std::pair{"proctor2", &p2}}) {
    grpc::ClientContext ctx;
    v1::LoginRequest req;
    req.set_username(user);
    req.set_password("demo");
    ASSERT_TRUE(auth->Login(&ctx, req, out).ok());
  }
  ASSERT_EQ(p1.user().room_ids_size(), 1);
  ASSERT_EQ(p2.user().room_ids_size(), 1);
  const int64_t room_a = p1.user().room_ids(0);
  ASSERT_NE(room_a, p2.user().room_ids(0));

  // A session in room A, as the admin sees it.
  auto exams = v1::ExamService::NewStub(Channel());
  v1::ListSessionsRequest list;
  list.set_exam_id(server_->demo().exam_id);
  v1::ListSessionsResponse all;
  auto admin = Ctx(Login("admin"));
  ASSERT_TRUE(exams->ListSessions(admin.get(), list, &all).ok());
  int64_t session = 0;
  for (const auto& s : all.sessions())
    if (s.room_id() == room_a) session = s.id();
  ASSERT_NE(session, 0);

  auto refused = [](const grpc::Status& s) { return s.error_code() == StatusCode::NOT_FOUND || Denied(s); };
  auto live = v1::LiveService::NewStub(Channel());
  for (const auto& [token, own] : {std::pair{p1.token(), true}, std::pair{p2.token(), false}}) {
    SCOPED_TRACE(own ? "proctor of room A" : "proctor of room B");
    v1::GetSessionRequest get;
    get.set_session_id(session);
    v1::Session s;
    auto c1 = Ctx(token);
    const auto st1 = exams->GetSession(c1.get(), get, &s);
    if (own) {
      EXPECT_TRUE(st1.ok()) << st1.error_message();
    } else {
      EXPECT_TRUE(refused(st1)) << st1.error_code();
      EXPECT_EQ(s.id(), 0);
    }

    v1::GetSessionHistoryRequest hist;
    hist.set_session_id(session);
    v1::SessionHistory h;
    auto c2 = Ctx(token);
    const auto st2 = live->GetSessionHistory(c2.get(), hist, &h);
    if (own) {
      EXPECT_TRUE(st2.ok()) << st2.error_message();
    } else {
      EXPECT_TRUE(refused(st2)) << st2.error_code();
      EXPECT_EQ(h.events_size(), 0);
    }

    v1::ProctorActionRequest act;
    act.set_idempotency_key(Key());
    act.set_session_id(session);
    act.set_kind(v1::PROCTOR_ACTION_KIND_MESSAGE);
    act.set_text("please face the camera");
    v1::ProctorActionResponse ar;
    auto c3 = Ctx(token);
    const auto st3 = live->ProctorAction(c3.get(), act, &ar);
    if (own) {
      EXPECT_TRUE(st3.ok()) << st3.error_message();
    } else {
      EXPECT_TRUE(refused(st3)) << st3.error_code();
    }

    // Nobody pushes video here, so the proctor's own stream stays open until its deadline;
    // the other room's is refused at once.
    v1::WatchMediaRequest watch;
    watch.set_session_id(session);
    watch.set_track(v1::TRACK_KIND_CAMERA);
    auto c4 = Ctx(token, std::chrono::seconds(1));
    auto reader = live->WatchMedia(c4.get(), watch);
    v1::MediaPacket packet;
    EXPECT_FALSE(reader->Read(&packet));
    const auto st4 = reader->Finish();
    if (own) {
      EXPECT_EQ(st4.error_code(), StatusCode::DEADLINE_EXCEEDED) << st4.error_message();
    } else {
      EXPECT_TRUE(refused(st4)) << st4.error_code();
    }
  }
}

// The grader's view never carries a candidate's name, ID number, registration number or
// registration photo. The identities are read straight from the database and looked for in
// the raw bytes of every answer, so a new field that leaks one is caught too.
class BlindReviewTest : public BackendFixture {
 protected:
  void Configure(backend::ServerOptions& o) override {
    o.demo_review_sessions = 2;
    o.demo_review_seconds = 4;
  }

  struct Identities {
    std::vector<std::string> secrets;  // names, ID numbers, registration numbers, photos
    int photos = 0;
  };
  Identities ReadIdentities() {
    Identities out;
    for (const auto& row :
         QueryDb(options_.db_path, "SELECT candidate_name, id_number, registration_no, registration_photo FROM sessions")) {
      for (size_t c = 0; c < row.size(); ++c) {
        if (row[c].empty()) continue;
        out.secrets.push_back(row[c]);
        if (c == 3) ++out.photos;
      }
    }
    return out;
  }

  // Returns the secrets found in `bytes`, for the message.
  static std::string Leaks(const Identities& ids, const std::string& bytes) {
    std::string found;
    for (const auto& s : ids.secrets)
      if (bytes.find(s) != std::string::npos) found += (s.size() > 40 ? "<photo bytes>" : s) + " ";
    return found;
  }
};

TEST_F(BlindReviewTest, GraderAnswersCarryNoIdentity) {
  const auto ids = ReadIdentities();
  ASSERT_GE(ids.secrets.size(), 8u * 3);
  const auto device = JoinCandidate(1);  // emits session events carrying the session
  ASSERT_FALSE(device.token.empty());

  const std::string grader = Login("grader1");
  const std::string admin = Login("admin");
  auto exams = v1::ExamService::NewStub(Channel());
  auto review = v1::ReviewService::NewStub(Channel());
  const int64_t review_exam = server_->demo().review_exam_id;
  ASSERT_NE(review_exam, 0);

  int checked = 0;
  auto check = [&](const std::string& what, const google::protobuf::Message& m) {
    ++checked;
    const auto leaks = Leaks(ids, m.SerializeAsString());
    EXPECT_TRUE(leaks.empty()) << what << " shows a grader: " << leaks;
  };

  // The same calls as an admin do show identities: the search itself works.
  {
    v1::ListSessionsRequest req;
    req.set_exam_id(server_->demo().exam_id);
    v1::ListSessionsResponse resp;
    auto ctx = Ctx(admin);
    ASSERT_TRUE(exams->ListSessions(ctx.get(), req, &resp).ok());
    EXPECT_FALSE(Leaks(ids, resp.SerializeAsString()).empty()) << "admin sees no names: the check is blind";
  }

  std::vector<int64_t> session_ids;
  for (int64_t exam_id : {server_->demo().exam_id, review_exam}) {
    v1::ListSessionsRequest req;
    req.set_exam_id(exam_id);
    v1::ListSessionsResponse resp;
    auto ctx = Ctx(grader);
    ASSERT_TRUE(exams->ListSessions(ctx.get(), req, &resp).ok());
    ASSERT_GT(resp.sessions_size(), 0);
    check("ExamService.ListSessions", resp);
    for (const auto& s : resp.sessions()) session_ids.push_back(s.id());
  }
  for (int64_t id : session_ids) {
    v1::GetSessionRequest req;
    req.set_session_id(id);
    v1::Session resp;
    auto ctx = Ctx(grader);
    ASSERT_TRUE(exams->GetSession(ctx.get(), req, &resp).ok());
    check("ExamService.GetSession", resp);
  }

  // The event stream from the start of the log, up to the first heartbeat (caught up).
  {
    auto events = v1::EventService::NewStub(Channel());
    auto ctx = Ctx(grader, std::chrono::seconds(15));
    auto reader = events->Subscribe(ctx.get(), v1::SubscribeRequest());
    v1::EventEnvelope env;
    int with_session = 0;
    while (reader->Read(&env)) {
      if (env.has_heartbeat()) break;
      if (env.event().has_session()) ++with_session;
      check("EventService.Subscribe", env);
    }
    ctx->TryCancel();
    reader->Finish();
    EXPECT_GT(with_session, 0) << "no session events to check";
  }

  {
    v1::ListReviewSessionsRequest req;
    req.set_exam_id(review_exam);
    v1::ListReviewSessionsResponse resp;
    auto ctx = Ctx(grader);
    ASSERT_TRUE(review->ListReviewSessions(ctx.get(), req, &resp).ok());
    ASSERT_GT(resp.sessions_size(), 0);
    check("ReviewService.ListReviewSessions", resp);
    for (const auto& s : resp.sessions()) {
      // Everything a grader reads about one session.
      auto ask = [&](const char* name, auto call, auto request, auto answer) {
        request.set_session_id(s.session_id());
        auto c = Ctx(grader);
        ASSERT_TRUE(((*review).*call)(c.get(), request, &answer).ok()) << name;
        check(name, answer);
      };
      ask("ReviewService.ListTracks", &v1::ReviewService::Stub::ListTracks, v1::ListTracksRequest(),
          v1::ListTracksResponse());
      ask("ReviewService.ListMarkers", &v1::ReviewService::Stub::ListMarkers, v1::ListMarkersRequest(),
          v1::ListMarkersResponse());
      ask("ReviewService.ListScores", &v1::ReviewService::Stub::ListScores, v1::ListScoresRequest(),
          v1::ListScoresResponse());
      ask("ReviewService.ListAnnotations", &v1::ReviewService::Stub::ListAnnotations, v1::ListAnnotationsRequest(),
          v1::ListAnnotationsResponse());
    }
    v1::GetRubricRequest rr;
    rr.set_exam_id(review_exam);
    v1::Rubric rubric;
    auto c = Ctx(grader);
    ASSERT_TRUE(review->GetRubric(c.get(), rr, &rubric).ok());
    check("ReviewService.GetRubric", rubric);
  }
  EXPECT_GT(checked, 10);
}

}  // namespace
}  // namespace exam::testing
