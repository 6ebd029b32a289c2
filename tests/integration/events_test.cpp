#include <mutex>
#include <set>
#include <thread>

#include "backend_fixture.h"

namespace exam::testing {
namespace {

namespace v1 = exam::v1;

// Reads one Subscribe stream on its own thread.
class EventReader {
 public:
  EventReader(std::shared_ptr<grpc::Channel> channel, const std::string& token, int64_t since,
              std::vector<int64_t> rooms = {})
      : stub_(v1::EventService::NewStub(channel)) {
    ctx_.AddMetadata("authorization", "Bearer " + token);
    v1::SubscribeRequest req;
    req.set_since_seq(since);
    for (auto r : rooms) req.add_room_ids(r);
    thread_ = std::thread([this, req] {
      auto reader = stub_->Subscribe(&ctx_, req);
      v1::EventEnvelope env;
      while (reader->Read(&env)) {
        std::lock_guard lock(mu_);
        if (env.has_event()) events_.push_back(env.event());
        if (env.has_heartbeat()) heartbeat_head_ = env.heartbeat().head_seq();
      }
      std::lock_guard lock(mu_);
      status_ = reader->Finish();
      finished_ = true;
    });
  }
  ~EventReader() { Cancel(); }

  void Cancel() {
    ctx_.TryCancel();
    if (thread_.joinable()) thread_.join();
  }
  std::vector<v1::Event> Events() {
    std::lock_guard lock(mu_);
    return events_;
  }
  int64_t LastSeq() {
    std::lock_guard lock(mu_);
    return events_.empty() ? 0 : events_.back().seq();
  }
  bool Finished() {
    std::lock_guard lock(mu_);
    return finished_;
  }
  grpc::Status status() {
    std::lock_guard lock(mu_);
    return status_;
  }

 private:
  std::unique_ptr<v1::EventService::Stub> stub_;
  grpc::ClientContext ctx_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<v1::Event> events_;
  int64_t heartbeat_head_ = 0;
  bool finished_ = false;
  grpc::Status status_;
};

class EventsTest : public BackendFixture {
 protected:
  // Produces a few events per candidate: join (device online), stages.
  void MakeActivity(int first, int count) {
    for (int i = first; i < first + count; ++i) {
      auto d = JoinCandidate(i);
      Advance(d, v1::STAGE_FACE_LOGIN);
    }
  }
  int64_t Head() {
    // The admin's full view: as_of_seq of a session listing is the log head.
    auto stub = v1::ExamService::NewStub(Channel());
    v1::ListSessionsRequest req;
    req.set_exam_id(server_->demo().exam_id);
    v1::ListSessionsResponse resp;
    auto ctx = Ctx(admin_);
    EXPECT_TRUE(stub->ListSessions(ctx.get(), req, &resp).ok());
    return resp.as_of_seq();
  }
  void SetUp() override {
    BackendFixture::SetUp();
    admin_ = Login("admin");
  }
  std::string admin_;
};

void ExpectContiguous(const std::vector<int64_t>& seqs, int64_t from, int64_t to) {
  ASSERT_EQ(static_cast<int64_t>(seqs.size()), to - from + 1);
  for (size_t i = 0; i < seqs.size(); ++i) ASSERT_EQ(seqs[i], from + static_cast<int64_t>(i)) << "at " << i;
}

TEST_F(EventsTest, SubscribeDeliversAGapFreeOrderedLog) {
  EventReader reader(Channel(), admin_, 0);
  MakeActivity(0, 4);
  const int64_t head = Head();
  ASSERT_GT(head, 8);
  ASSERT_TRUE(WaitFor([&] { return reader.LastSeq() >= head; }));
  std::vector<int64_t> seqs;
  for (const auto& e : reader.Events()) seqs.push_back(e.seq());
  ExpectContiguous(seqs, 1, head);
  // Stage events carry the session after the change.
  bool saw_stage = false;
  for (const auto& e : reader.Events())
    if (e.kind() == v1::EVENT_KIND_STAGE_CHANGED) {
      saw_stage = true;
      EXPECT_GT(e.session().id(), 0);
      EXPECT_NE(e.session().stage(), v1::STAGE_UNSPECIFIED);
    }
  EXPECT_TRUE(saw_stage);
}

TEST_F(EventsTest, ResumingWithSinceSeqDeliversExactlyTheMissedEvents) {
  std::vector<int64_t> seqs;
  auto first = std::make_unique<EventReader>(Channel(), admin_, 0);
  MakeActivity(0, 2);
  const int64_t mid = Head();
  ASSERT_TRUE(WaitFor([&] { return first->LastSeq() >= mid; }));
  first->Cancel();  // a forced disconnect
  for (const auto& e : first->Events()) seqs.push_back(e.seq());
  const int64_t resume_from = seqs.back();

  MakeActivity(2, 3);  // happens while disconnected
  const int64_t head = Head();
  ASSERT_GT(head, resume_from);
  EventReader second(Channel(), admin_, resume_from);
  ASSERT_TRUE(WaitFor([&] { return second.LastSeq() >= head; }));
  for (const auto& e : second.Events()) seqs.push_back(e.seq());
  ExpectContiguous(seqs, 1, head);
}

TEST_F(EventsTest, ResumingAcrossABackendRestartLosesAndRepeatsNothing) {
  std::vector<int64_t> seqs;
  {
    EventReader reader(Channel(), admin_, 0);
    MakeActivity(0, 2);
    const int64_t mid = Head();
    ASSERT_TRUE(WaitFor([&] { return reader.LastSeq() >= mid; }));
    StopServer();  // the stream ends with the server
    ASSERT_TRUE(WaitFor([&] { return reader.Finished(); }));
    for (const auto& e : reader.Events()) seqs.push_back(e.seq());
  }
  StartServer();  // same SQLite file, new port
  admin_ = Login("admin");
  MakeActivity(2, 2);
  const int64_t head = Head();
  EventReader reader(Channel(), admin_, seqs.back());
  ASSERT_TRUE(WaitFor([&] { return reader.LastSeq() >= head; }));
  for (const auto& e : reader.Events()) seqs.push_back(e.seq());
  ExpectContiguous(seqs, 1, head);
}

TEST_F(EventsTest, ProctorStreamCarriesOnlyAssignedRooms) {
  const std::string proctor = Login("proctor1");
  auto auth = v1::AuthService::NewStub(Channel());
  v1::StaffUser me;
  auto c = Ctx(proctor);
  ASSERT_TRUE(auth->WhoAmI(c.get(), v1::WhoAmIRequest(), &me).ok());
  const int64_t room = me.room_ids(0);

  EventReader proctor_reader(Channel(), proctor, 0);
  EventReader admin_reader(Channel(), admin_, 0);
  MakeActivity(0, 8);  // both rooms
  const int64_t head = Head();
  ASSERT_TRUE(WaitFor([&] { return admin_reader.LastSeq() >= head; }));
  // The proctor's stream has no marker of completion other than reaching the last
  // event of its room; wait for the count the admin stream says it should have.
  size_t expected = 0;
  for (const auto& e : admin_reader.Events())
    if (e.room_id() == room) ++expected;
  ASSERT_GT(expected, 0u);
  ASSERT_TRUE(WaitFor([&] { return proctor_reader.Events().size() >= expected; }));
  for (const auto& e : proctor_reader.Events()) EXPECT_EQ(e.room_id(), room);
  EXPECT_EQ(proctor_reader.Events().size(), expected);
}

TEST_F(EventsTest, SinceSeqAheadOfTheLogIsRefused) {
  EventReader reader(Channel(), admin_, 1'000'000);
  ASSERT_TRUE(WaitFor([&] { return reader.Finished(); }));
  EXPECT_EQ(reader.status().error_code(), grpc::StatusCode::OUT_OF_RANGE);
}

}  // namespace
}  // namespace exam::testing

namespace exam::testing {
namespace {

TEST_F(EventsTest, BackendClockDoesNotRunBackwardsAcrossARestart) {
  // Under a fast demo clock backend time runs ahead of the wall clock; a restart must
  // resume from where the log left off, or every countdown would jump back.
  server_->clock().Advance(core::hours(3));
  EventReader reader(Channel(), admin_, 0);
  MakeActivity(0, 1);
  const int64_t head = Head();
  ASSERT_TRUE(WaitFor([&] { return reader.LastSeq() >= head; }));
  // The log's last moment, not the clock read after it: under a scaled clock a loaded
  // machine's pause between the two is many backend seconds.
  const auto events = reader.Events();
  const auto& last = events.back().time();
  const auto last_event = core::TimePoint(core::Duration(last.seconds() * 1000 + last.nanos() / 1000000));
  ASSERT_GT(last_event, std::chrono::time_point_cast<core::Duration>(std::chrono::system_clock::now()) + core::hours(2));
  reader.Cancel();
  StopServer();
  StartServer();
  EXPECT_GE(server_->clock().Now(), last_event);
}

}  // namespace
}  // namespace exam::testing
