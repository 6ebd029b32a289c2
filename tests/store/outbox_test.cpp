// The local store and its outbox on real SQLite files in a temp dir: keys, transitions,
// order, what survives a restart, and what the UI reads.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "exam/v1/appeal.pb.h"
#include "store/action_methods.h"
#include "temp_dir.h"
#include "exam/v1/live.pb.h"
#include "store/local_store.h"
#include "store/outbox.h"

namespace exam::local {
namespace {

namespace v1 = exam::v1;


v1::ClaimAppealRequest Claim(int64_t appeal_id) {
  v1::ClaimAppealRequest r;
  r.set_appeal_id(appeal_id);
  return r;
}

v1::DecideAppealRequest Approve(int64_t appeal_id, int64_t version) {
  v1::DecideAppealRequest r;
  r.set_appeal_id(appeal_id);
  r.set_expected_version(version);
  r.set_decision(v1::APPEAL_DECISION_APPROVE);
  r.set_reason("照片与证件一致 photo matches ID");
  return r;
}

bool IsHexKey(const std::string& key) {
  return key.size() == 32 && key.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Sets or unsets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    value ? ::setenv(name, value, 1) : ::unsetenv(name);
  }
  ~ScopedEnv() { old_ ? ::setenv(name_, old_->c_str(), 1) : ::unsetenv(name_); }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(LocalStoreTest, CreatesItsFolderInWalModeWithTheCurrentSchema) {
  exam::testing::TempDir dir;
  const std::string path = dir.File("staff/console.sqlite");
  LocalStore store(path);
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(store.SchemaVersion(), 1);
  auto lock = store.Lock();
  auto mode = store.Prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.Step());
  EXPECT_EQ(mode.Text(0), "wal");
}

TEST(LocalStoreTest, RefusesAFileWrittenByANewerConsole) {
  exam::testing::TempDir dir;
  const std::string path = dir.File("console.sqlite");
  { LocalStore(path).Exec("PRAGMA user_version=99"); }
  EXPECT_THROW(LocalStore{path}, LocalStoreError);
}

TEST(LocalStoreTest, DefaultPathFollowsXdgAndKeepsNamesApart) {
  {
    ScopedEnv xdg("XDG_DATA_HOME", "/srv/xdg");
    EXPECT_EQ(LocalStore::DefaultPath("support1", "127.0.0.1:50051"),
              "/srv/xdg/exam-console/support1@127.0.0.1_50051.sqlite");
    // Names can't escape the folder or hide the file, and two Chinese names stay apart.
    const std::filesystem::path evil = LocalStore::DefaultPath("../../etc/passwd", "exam.example.org:443");
    EXPECT_EQ(evil.parent_path(), "/srv/xdg/exam-console");
    EXPECT_NE(evil.filename().string()[0], '.');
    EXPECT_NE(LocalStore::DefaultPath("张三", "h:1"), LocalStore::DefaultPath("李四", "h:1"));
  }
  {
    ScopedEnv xdg("XDG_DATA_HOME", "relative/ignored");
    ScopedEnv home("HOME", "/home/wang");
    EXPECT_EQ(LocalStore::DefaultPath("proctor1", "10.0.0.5:7443"),
              "/home/wang/.local/share/exam-console/proctor1@10.0.0.5_7443.sqlite");
  }
}

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open(OutboxOptions options = {}) {
    outbox_.reset();
    store_.reset();
    store_ = std::make_unique<LocalStore>(dir_.File("console.sqlite"));
    outbox_ = std::make_unique<Outbox>(*store_, options);
  }

  OutboxAction Row(int64_t id) {
    auto a = outbox_->Get(id);
    EXPECT_TRUE(a.has_value()) << "no action " << id;
    return a.value_or(OutboxAction{});
  }

  exam::testing::TempDir dir_;
  std::unique_ptr<LocalStore> store_;
  std::unique_ptr<Outbox> outbox_;
};

TEST_F(OutboxTest, EnqueueStoresTheRequestWithAFreshIdempotencyKey) {
  v1::DecideAppealRequest request = Approve(7, 3);
  request.set_idempotency_key("set-by-caller");
  const int64_t id = outbox_->Enqueue(local::method::kDecideAppeal, request, "批准申诉 #7 / Approve appeal 7", "appeal:7");

  const OutboxAction a = Row(id);
  EXPECT_TRUE(IsHexKey(a.idempotency_key)) << a.idempotency_key;
  EXPECT_EQ(a.method, local::method::kDecideAppeal);
  EXPECT_EQ(a.label, "批准申诉 #7 / Approve appeal 7");
  EXPECT_EQ(a.target, "appeal:7");
  EXPECT_EQ(a.state, ActionState::kPending);
  EXPECT_EQ(a.attempts, 0);
  EXPECT_EQ(a.error_code, 0);
  EXPECT_GT(a.created_unix_ms, 0);

  // What goes on the wire is the caller's request with the outbox's key in it.
  v1::DecideAppealRequest stored;
  ASSERT_TRUE(stored.ParseFromString(a.request));
  EXPECT_EQ(stored.idempotency_key(), a.idempotency_key);
  stored.set_idempotency_key(request.idempotency_key());
  EXPECT_EQ(stored.SerializeAsString(), request.SerializeAsString());
  EXPECT_EQ(request.idempotency_key(), "set-by-caller");  // the caller's copy is untouched

  // The same decision made twice is two actions.
  const int64_t again = outbox_->Enqueue(local::method::kDecideAppeal, request, "批准申诉 #7 / Approve appeal 7", "appeal:7");
  EXPECT_NE(Row(again).idempotency_key, a.idempotency_key);
}

TEST_F(OutboxTest, RefusesMessagesWithoutAKeyAndRequestsForAnotherMethod) {
  v1::GetAppealRequest read;  // a read: no idempotency_key
  read.set_appeal_id(7);
  EXPECT_THROW(outbox_->Enqueue("/exam.v1.AppealService/GetAppeal", read, "read", "appeal:7"), std::invalid_argument);
  EXPECT_THROW(outbox_->Enqueue(local::method::kClaimAppeal, Approve(7, 1), "wrong pair", "appeal:7"), std::invalid_argument);
  EXPECT_THROW(outbox_->Enqueue("/exam.v1.AppealService/Approve", Approve(7, 1), "no such", "appeal:7"),
               std::invalid_argument);
  EXPECT_THROW(outbox_->Enqueue("DecideAppeal", Approve(7, 1), "not a full name", "appeal:7"), std::invalid_argument);
  EXPECT_TRUE(outbox_->Recent(10).empty());
}

TEST_F(OutboxTest, StateTransitionsHappenOnlyFromTheExpectedState) {
  const int64_t id = outbox_->Enqueue(local::method::kDecideAppeal, Approve(7, 3), "approve", "appeal:7");
  EXPECT_FALSE(outbox_->MarkConfirmed(id, "x"));  // not sent yet
  EXPECT_FALSE(outbox_->MarkFailed(id, 9, "x"));

  ASSERT_TRUE(outbox_->MarkSending(id));
  EXPECT_FALSE(outbox_->MarkSending(id));
  EXPECT_EQ(Row(id).state, ActionState::kSending);
  EXPECT_EQ(Row(id).attempts, 1);

  // A transient failure: pending again, with the error for the UI, not due until later.
  const int64_t now = UnixNowMs();
  ASSERT_TRUE(outbox_->MarkRetry(id, 14, "backend unavailable", now + 60'000));
  OutboxAction a = Row(id);
  EXPECT_EQ(a.state, ActionState::kPending);
  EXPECT_EQ(a.error_code, 14);
  EXPECT_EQ(a.error_message, "backend unavailable");
  int64_t next_due = 0;
  EXPECT_FALSE(outbox_->NextDue(now, &next_due));
  EXPECT_EQ(next_due, now + 60'000);
  auto due = outbox_->NextDue(now + 60'000);
  ASSERT_TRUE(due);
  EXPECT_EQ(due->id, id);

  ASSERT_TRUE(outbox_->MarkSending(id));
  v1::Appeal response;
  response.set_id(7);
  response.set_state(v1::APPEAL_STATE_APPROVED);
  ASSERT_TRUE(outbox_->MarkConfirmed(id, response.SerializeAsString()));
  a = Row(id);
  EXPECT_EQ(a.state, ActionState::kConfirmed);
  EXPECT_EQ(a.attempts, 2);
  EXPECT_EQ(a.response, response.SerializeAsString());
  EXPECT_EQ(a.error_code, 0);
  EXPECT_TRUE(a.error_message.empty());
  EXPECT_TRUE(a.finished());
  EXPECT_FALSE(outbox_->MarkFailed(id, 9, "too late"));
  EXPECT_FALSE(outbox_->MarkRetry(id, 14, "too late", 0));

  const int64_t refused = outbox_->Enqueue(local::method::kDecideAppeal, Approve(8, 3), "approve", "appeal:8");
  ASSERT_TRUE(outbox_->MarkSending(refused));
  ASSERT_TRUE(outbox_->MarkFailed(refused, 9, "appeal already approved by 技术支持 王工"));
  a = Row(refused);
  EXPECT_EQ(a.state, ActionState::kFailed);
  EXPECT_EQ(a.error_code, 9);
  EXPECT_EQ(a.error_message, "appeal already approved by 技术支持 王工");
  EXPECT_EQ(ActionStateName(a.state), "failed");
}

TEST_F(OutboxTest, ActionsGoOutOneAtATimeInTheOrderTheyWereMade) {
  const int64_t claim = outbox_->Enqueue(local::method::kClaimAppeal, Claim(7), "claim", "appeal:7");
  const int64_t decide = outbox_->Enqueue(local::method::kDecideAppeal, Approve(7, 2), "approve", "appeal:7");
  const int64_t now = UnixNowMs();

  ASSERT_EQ(outbox_->NextDue(now)->id, claim);
  ASSERT_TRUE(outbox_->MarkSending(claim));
  int64_t next_due = 0;
  EXPECT_FALSE(outbox_->NextDue(now, &next_due));  // one call in flight at a time
  EXPECT_EQ(next_due, std::numeric_limits<int64_t>::max());

  // The claim backs off; the decision must not overtake it.
  ASSERT_TRUE(outbox_->MarkRetry(claim, 14, "unavailable", now + 500));
  EXPECT_FALSE(outbox_->NextDue(now));
  ASSERT_EQ(outbox_->NextDue(now + 500)->id, claim);
  ASSERT_TRUE(outbox_->MarkSending(claim));
  ASSERT_TRUE(outbox_->MarkFailed(claim, 10, "already taken by 技术支持 赵工"));

  // A refused action does not hold up the next one.
  ASSERT_EQ(outbox_->NextDue(now)->id, decide);
  ASSERT_TRUE(outbox_->MarkSending(decide));
  ASSERT_TRUE(outbox_->MarkConfirmed(decide, ""));
  EXPECT_FALSE(outbox_->NextDue(now, &next_due));
  EXPECT_EQ(next_due, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(outbox_->Unfinished(), 0u);
}

TEST_F(OutboxTest, ReopeningKeepsUnfinishedActionsWithTheirKeys) {
  const int64_t pending = outbox_->Enqueue(local::method::kClaimAppeal, Claim(7), "claim 7", "appeal:7");
  const int64_t in_flight = outbox_->Enqueue(local::method::kClaimAppeal, Claim(8), "claim 8", "appeal:8");
  const int64_t done = outbox_->Enqueue(local::method::kClaimAppeal, Claim(9), "claim 9", "appeal:9");
  for (int64_t id : {done, in_flight}) ASSERT_TRUE(outbox_->MarkSending(id));
  ASSERT_TRUE(outbox_->MarkConfirmed(done, "answer"));
  const OutboxAction before_pending = Row(pending), before_in_flight = Row(in_flight);

  Open();  // the console restarts

  const OutboxAction p = Row(pending), f = Row(in_flight), d = Row(done);
  EXPECT_EQ(p.state, ActionState::kPending);
  EXPECT_EQ(p.idempotency_key, before_pending.idempotency_key);
  EXPECT_EQ(p.request, before_pending.request);
  // The call in flight at exit may or may not have reached the backend: it goes out again,
  // at once, with the same key (the backend answers a repeat with its first answer).
  EXPECT_EQ(f.state, ActionState::kPending);
  EXPECT_EQ(f.idempotency_key, before_in_flight.idempotency_key);
  EXPECT_EQ(f.request, before_in_flight.request);
  EXPECT_EQ(f.attempts, 1);
  EXPECT_EQ(d.state, ActionState::kConfirmed);
  EXPECT_EQ(d.response, "answer");
  EXPECT_EQ(outbox_->Unfinished(), 2u);
  EXPECT_EQ(outbox_->NextDue(UnixNowMs())->id, pending);
}

TEST_F(OutboxTest, RecentAndForTargetGiveTheUiItsRows) {
  const int64_t a = outbox_->Enqueue(local::method::kClaimAppeal, Claim(7), "认领申诉 #7 / Claim appeal 7", "appeal:7");
  const int64_t b = outbox_->Enqueue(local::method::kClaimAppeal, Claim(12), "认领申诉 #12 / Claim appeal 12", "appeal:12");
  const int64_t c = outbox_->Enqueue(local::method::kDecideAppeal, Approve(7, 2), "批准申诉 #7 / Approve appeal 7", "appeal:7");

  const auto recent = outbox_->Recent(2);
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0].id, c);
  EXPECT_EQ(recent[1].id, b);
  EXPECT_EQ(outbox_->Recent(10).size(), 3u);

  const auto seven = outbox_->ForTarget("appeal:7");
  ASSERT_EQ(seven.size(), 2u);
  EXPECT_EQ(seven[0].id, c);
  EXPECT_EQ(seven[1].id, a);
  EXPECT_EQ(seven[1].label, "认领申诉 #7 / Claim appeal 7");
  EXPECT_TRUE(outbox_->ForTarget("upload:12").empty());
}

TEST_F(OutboxTest, OldConfirmedActionsArePrunedAtOpenOthersStay) {
  const int64_t old_done = outbox_->Enqueue(local::method::kClaimAppeal, Claim(7), "claim 7", "appeal:7");
  const int64_t new_done = outbox_->Enqueue(local::method::kClaimAppeal, Claim(8), "claim 8", "appeal:8");
  const int64_t old_failed = outbox_->Enqueue(local::method::kClaimAppeal, Claim(9), "claim 9", "appeal:9");
  const int64_t old_pending = outbox_->Enqueue(local::method::kClaimAppeal, Claim(10), "claim 10", "appeal:10");
  for (int64_t id : {old_done, new_done, old_failed}) ASSERT_TRUE(outbox_->MarkSending(id));
  ASSERT_TRUE(outbox_->MarkConfirmed(old_done, ""));
  ASSERT_TRUE(outbox_->MarkConfirmed(new_done, ""));
  ASSERT_TRUE(outbox_->MarkFailed(old_failed, 9, "refused"));
  {
    // Eight days pass for all but one of them.
    auto lock = store_->Lock();
    auto st = store_->Prepare("UPDATE outbox SET updated_at = updated_at - ? WHERE id != ?");
    st.Bind(1, int64_t{8} * 24 * 3600 * 1000).Bind(2, new_done).Run();
  }

  Open();  // keeps a week by default

  EXPECT_FALSE(outbox_->Get(old_done));
  EXPECT_TRUE(outbox_->Get(new_done));
  EXPECT_TRUE(outbox_->Get(old_failed));   // the user still has to see what was refused
  EXPECT_TRUE(outbox_->Get(old_pending));  // and nothing unsent is ever dropped
  EXPECT_EQ(outbox_->PruneConfirmed(UnixNowMs() + 1), 1);
  EXPECT_FALSE(outbox_->Get(new_done));
}

TEST_F(OutboxTest, ConcurrentEnqueuesWhileSendingAllLandWithDistinctKeys) {
  std::atomic<int> notified{0};
  outbox_->SetEnqueueListener([&] { notified++; });
  constexpr int kThreads = 4, kEach = 50;
  std::atomic<bool> producing{true};
  // A sender-like thread drains what is due while the UI-like threads enqueue.
  std::thread sender([&] {
    for (;;) {
      auto due = outbox_->NextDue(UnixNowMs());
      if (!due) {
        if (!producing.load() && outbox_->Unfinished() == 0) return;
        std::this_thread::yield();
        continue;
      }
      ASSERT_TRUE(outbox_->MarkSending(due->id));
      ASSERT_TRUE(outbox_->MarkConfirmed(due->id, due->idempotency_key));
    }
  });
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) outbox_->Enqueue(local::method::kClaimAppeal, Claim(t * 1000 + i), "claim", "appeal:x");
    });
  }
  for (auto& p : producers) p.join();
  producing = false;
  sender.join();

  const auto all = outbox_->Recent(1000);
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
  std::set<std::string> keys;
  for (const auto& a : all) {
    EXPECT_EQ(a.state, ActionState::kConfirmed);
    EXPECT_EQ(a.response, a.idempotency_key);
    keys.insert(a.idempotency_key);
  }
  EXPECT_EQ(keys.size(), all.size());
  EXPECT_EQ(notified.load(), kThreads * kEach);
}

}  // namespace
}  // namespace exam::local
