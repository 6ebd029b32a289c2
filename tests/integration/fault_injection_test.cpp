// The console's client and outbox against the real examd binary with a fault-injecting proxy
// (fault_proxy.h) on the path between them: every connection reset, the path stalled past
// the stream's idle timeout, new connections black-holed, examd killed with SIGKILL and
// restarted on its port and database, and last a restart in the middle of heavy writing.
// Under each fault the client must say it is reconnecting (with why) and come back online,
// resume the change feed from its last seq so every event arrives once and in order, and
// the outbox must get every staff action applied exactly once. Events keep happening on the
// backend during the fault: warnings sent straight to examd, not through the proxy. At the
// end the backend's SQLite file passes PRAGMA integrity_check.
//
// Tests wait on the client's and the sender's change callbacks (and poll the backend), never
// on time; the sleeps here only hold a fault open for a while.
#include <signal.h>

#include <atomic>
#include <iostream>
#include <map>
#include <optional>
#include <thread>

#include "../net/staff_console.h"
#include "backend_db.h"
#include "backend_fixture.h"
#include "examd_process.h"
#include "fault_proxy.h"
#include "store/action_methods.h"

namespace exam::testing {
namespace {

namespace v1 = exam::v1;
using local::ActionState;
using net::ConnectionState;
using namespace std::chrono_literals;

v1::ProctorActionRequest Warn(int64_t session_id, const std::string& text) {
  v1::ProctorActionRequest r;
  r.set_session_id(session_id);
  r.set_kind(v1::PROCTOR_ACTION_KIND_WARN);
  r.set_text(text);
  return r;
}

struct StateSeen {
  ConnectionState state;
  std::string message;
};

class FaultInjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.File("examd.db");
    // Seed the demo in-process so the sessions are known, then serve the file with examd.
    std::string error;
    ASSERT_TRUE(SeedDemoDatabase(db_, 8, 2, nullptr, &error)) << error;
    for (const auto& row : QueryDb(db_, "SELECT id FROM sessions ORDER BY id")) sessions_.push_back(std::stoll(row[0]));
    ASSERT_FALSE(sessions_.empty());

    examd_ = std::make_unique<ExamdProcess>(EXAMD_BINARY, db_, dir_.File("examd.log"));
    port_ = examd_->Start(0);
    ASSERT_GT(port_, 0) << "examd did not start";
    proxy_ = std::make_unique<FaultProxy>(port_);
    // The side door: writes that make events on the backend while the console is cut off.
    direct_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port_), grpc::InsecureChannelCredentials());
    auto auth = v1::AuthService::NewStub(direct_);
    v1::LoginRequest login;
    login.set_username("admin");
    login.set_password("demo");
    v1::LoginResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 10s);
    ASSERT_TRUE(auth->Login(&ctx, login, &resp).ok());
    admin_token_ = resp.token();

    StartConsole();
  }

  void TearDown() override {
    StopConsole();
    if (proxy_) proxy_->Stop();
    if (examd_) examd_->Kill(SIGTERM);
    // Whatever the faults did, the backend's file is intact.
    if (!db_.empty() && std::filesystem::exists(db_)) {
      const auto rows = QueryDb(db_, "PRAGMA integrity_check");
      ASSERT_FALSE(rows.empty());
      EXPECT_EQ(rows[0][0], "ok");
    }
  }

  // ---- the console, through the proxy --------------------------------------------------
  void StartConsole() {
    net::ClientOptions o;
    o.address = proxy_->address();
    o.username = "admin";  // sees every room, so the whole log reaches it
    o.password = "demo";
    // Short everything so a fault is noticed and healed within seconds; the idle timeout
    // must stay above the backend's 2 s heartbeat.
    o.call_timeout = 1s;
    o.backoff_initial = 100ms;
    o.backoff_max = 400ms;
    o.stream_idle_timeout = 3500ms;
    o.event_history = 1'000'000;
    o.on_change = [this] { ClientChanged(); };
    client_ = std::make_unique<net::BackendClient>(o);
    store_ = std::make_unique<local::LocalStore>(dir_.File("console.sqlite"));
    outbox_ = std::make_unique<local::Outbox>(*store_);
    net::OutboxSenderOptions so;
    so.call_timeout = 1s;
    so.backoff_initial = 100ms;
    so.backoff_max = 400ms;
    so.on_change = changes_.Callback();
    sender_ = std::make_unique<net::OutboxSender>(*outbox_, *client_, so);
    watching_ = client_.get();
    client_->Start();
    sender_->Start();
    ASSERT_TRUE(changes_.Await([&] { return Online() && client_->Snapshot()->loaded; })) << Status().message;
    // The log is quiet now (no simulator, the exam starts in 20 minutes): everything after
    // this seq must reach the console.
    base_seq_ = Status().last_seq;
  }
  void StopConsole() {
    if (sender_) sender_->Stop();
    if (client_) client_->Stop();
    watching_ = nullptr;
    sender_.reset();
    client_.reset();
    outbox_.reset();
    store_.reset();
  }

  // The client's change callback, as the UI's frame loop would see it: re-arm (Snapshot())
  // and note every state the status goes through, so a short "reconnecting" is not missed.
  void ClientChanged() {
    net::BackendClient* client = watching_.load();
    if (client == nullptr) return;
    client->Snapshot();
    const net::ConnectionStatus s = client->Status();
    {
      std::lock_guard lock(seen_mu_);
      if (seen_.empty() || seen_.back().state != s.state || seen_.back().message != s.message)
        seen_.push_back({s.state, s.message});
    }
    changes_.Notify();
  }
  size_t SeenMark() {
    std::lock_guard lock(seen_mu_);
    return seen_.size();
  }
  // The first "reconnecting" state noted since `mark`, with its message.
  std::optional<StateSeen> ReconnectingSince(size_t mark) {
    std::lock_guard lock(seen_mu_);
    for (size_t i = mark; i < seen_.size(); ++i)
      if (seen_[i].state == ConnectionState::kReconnecting) return seen_[i];
    return std::nullopt;
  }

  net::ConnectionStatus Status() { return client_->Status(); }
  bool Online() { return client_->Status().state == ConnectionState::kOnline; }
  bool Reconnecting() {
    const auto s = client_->Status();
    return s.state == ConnectionState::kReconnecting && !s.message.empty();
  }

  // ---- writes ----------------------------------------------------------------------------
  // A warning made in the console: into the outbox, out through the proxy.
  int64_t ConsoleWarn(int i, const std::string& text) {
    const int64_t session = sessions_[static_cast<size_t>(i) % sessions_.size()];
    const int64_t id = outbox_->Enqueue(local::method::kProctorAction, Warn(session, text), "警告 / Warn",
                                        "session:" + std::to_string(session));
    console_actions_.emplace_back(id, text);
    return id;
  }
  // A warning sent straight to examd by someone else: an event the console must get.
  void DirectWarn(int i, const std::string& text) {
    auto live = v1::LiveService::NewStub(direct_);
    v1::ProctorActionRequest req = Warn(sessions_[static_cast<size_t>(i) % sessions_.size()], text);
    req.set_idempotency_key("direct-" + text);
    v1::ProctorActionResponse resp;
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + admin_token_);
    ctx.set_wait_for_ready(true);
    ctx.set_deadline(std::chrono::system_clock::now() + 20s);
    const auto s = live->ProctorAction(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    direct_texts_.push_back(text);
  }
  // ---- candidates, straight to examd ---------------------------------------------------
  // What support decides on has to come from candidates' laptops first. These go by the
  // side door too, so the console sees them only as events.
  std::unique_ptr<grpc::ClientContext> DeviceCtx(const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
    ctx->set_wait_for_ready(true);
    ctx->set_deadline(std::chrono::system_clock::now() + 10s);
    return ctx;
  }
  std::string DeviceKey() { return "device-" + std::to_string(++device_keys_); }
  // Candidate `index`'s laptop signs in; the seeded exam's code and registration numbers
  // are read from the file (the seeding server is gone). Returns the device token.
  std::string JoinLaptop(int index) {
    const auto rows = QueryDb(db_,
                            "SELECT s.exam_id, s.registration_no, e.access_code FROM sessions s "
                            "JOIN exams e ON e.id = s.exam_id ORDER BY s.id");
    EXPECT_LT(static_cast<size_t>(index), rows.size());
    if (static_cast<size_t>(index) >= rows.size()) return "";
    const auto& row = rows[static_cast<size_t>(index)];
    v1::JoinRequest req;
    req.set_exam_id(std::stoll(row[0]));
    req.set_registration_no(row[1]);
    req.set_access_code(row[2]);
    req.set_device(v1::DEVICE_KIND_LAPTOP);
    req.set_device_model("Lenovo ThinkPad X1");
    v1::JoinResponse resp;
    const auto s = v1::CandidateService::NewStub(direct_)->Join(DeviceCtx("").get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.token();
  }
  // Candidate `index` fails three face checks at face login and files an appeal.
  int64_t FileAppeal(int index) {
    const std::string token = JoinLaptop(index);
    auto cand = v1::CandidateService::NewStub(direct_);
    for (const auto stage : {v1::STAGE_DEVICE_CHECK, v1::STAGE_FACE_LOGIN}) {
      v1::ReportStageRequest req;
      req.set_idempotency_key(DeviceKey());
      req.set_stage(stage);
      v1::Session resp;
      const auto s = cand->ReportStage(DeviceCtx(token).get(), req, &resp);
      EXPECT_TRUE(s.ok()) << "stage " << stage << ": " << s.error_message();
    }
    for (int i = 0; i < 3; ++i) {
      v1::ReportFaceCheckRequest req;
      req.set_idempotency_key(DeviceKey());
      req.set_similarity(0.41);
      req.set_capture("capture-bytes");
      v1::FaceCheckResponse resp;
      const auto s = cand->ReportFaceCheck(DeviceCtx(token).get(), req, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
    v1::FileAppealRequest req;
    req.set_idempotency_key(DeviceKey());
    req.set_id_front("front");
    req.set_id_back("back");
    req.set_handheld_id("handheld");
    v1::FileAppealResponse resp;
    const auto s = cand->FileAppeal(DeviceCtx(token).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.appeal_id();
  }
  // Candidate `index` raises a hand.
  int64_t RaiseHelp(int index) {
    const std::string token = JoinLaptop(index);
    v1::RaiseHelpRequest req;
    req.set_idempotency_key(DeviceKey());
    req.set_text("摄像头打不开 camera won't open " + std::to_string(index));
    v1::RaiseHelpResponse resp;
    const auto s = v1::CandidateService::NewStub(direct_)->RaiseHelp(DeviceCtx(token).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.help_id();
  }

  bool AllConsoleActionsConfirmed() {
    for (const auto& [id, text] : console_actions_)
      if (outbox_->Get(id).value_or(local::OutboxAction{}).state != ActionState::kConfirmed) return false;
    return true;
  }
  local::OutboxAction Row(int64_t id) { return outbox_->Get(id).value_or(local::OutboxAction{}); }
  // A console action that went out and was kept for another try, not confirmed or failed.
  bool TriedAndKept(int64_t id) {
    const auto a = Row(id);
    return a.attempts >= 1 && a.state == ActionState::kPending && a.error_code != 0;
  }

  // Console actions that took more than one call (each still applied once).
  int ResentConsoleActions() {
    int n = 0;
    for (const auto& [id, text] : console_actions_) n += Row(id).attempts > 1;
    return n;
  }

  int64_t LogHead() {
    const auto rows = QueryDb(db_, "SELECT COALESCE(MAX(seq), 0) FROM events");
    return rows.empty() ? -1 : std::stoll(rows[0][0]);
  }

  // ---- what must hold after every fault -----------------------------------------------
  void ExpectHealed(int reconnects_before) {
    // The head is read again each time: the outbox's last deliveries still add events.
    ASSERT_TRUE(changes_.Await(
        [&] { return Online() && AllConsoleActionsConfirmed() && Status().last_seq >= LogHead(); }, 40s))
        << "state " << net::ConnectionStateName(Status().state) << " (" << Status().message << "), last_seq "
        << Status().last_seq << " of " << LogHead();
    EXPECT_GT(Status().reconnects, reconnects_before);
    ExpectEveryEventOnceInOrder();
    ExpectEveryDecisionAppliedOnce();
  }

  // The console's event history is the backend's log after base_seq_: each event once, in
  // seq order, nothing missing, nothing extra.
  void ExpectEveryEventOnceInOrder() {
    const auto log = QueryDb(db_, "SELECT seq, kind FROM events WHERE seq > " + std::to_string(base_seq_) + " ORDER BY seq");
    const auto seen = client_->RecentEvents();
    ASSERT_EQ(seen.size(), log.size()) << "events after seq " << base_seq_;
    for (size_t i = 0; i < seen.size(); ++i) {
      ASSERT_EQ(seen[i].seq, std::stoll(log[i][0])) << "at " << i;
      ASSERT_EQ(static_cast<int>(seen[i].kind), std::stoi(log[i][1])) << "seq " << seen[i].seq;
    }
    const auto s = Status();
    EXPECT_EQ(s.events_received, seen.size());
    EXPECT_EQ(s.duplicates_ignored, 0u);  // resumed from its own last seq: nothing came twice
    EXPECT_EQ(s.last_seq, seen.empty() ? base_seq_ : seen.back().seq);
  }

  // Every warning, from the outbox or the side door, is in the backend exactly once, each
  // with one PROCTOR_MESSAGE event and one audit row.
  void ExpectEveryDecisionAppliedOnce() {
    std::map<std::string, int> applied;
    for (const auto& row : QueryDb(db_, "SELECT text, COUNT(*) FROM proctor_actions GROUP BY text"))
      applied[row[0]] = std::stoi(row[1]);
    size_t total = 0;
    for (const auto& [id, text] : console_actions_) {
      EXPECT_EQ(applied[text], 1) << text;
      EXPECT_EQ(Row(id).state, ActionState::kConfirmed) << text << ": " << Row(id).error_message;
      ++total;
    }
    for (const auto& text : direct_texts_) {
      EXPECT_EQ(applied[text], 1) << text;
      ++total;
    }
    const auto actions = QueryDb(db_, "SELECT COUNT(*) FROM proctor_actions");
    EXPECT_EQ(std::stoul(actions[0][0]), total) << "an action was applied that nobody asked for";
    const auto events = QueryDb(db_, "SELECT COUNT(*) FROM events WHERE kind = " +
                                       std::to_string(static_cast<int>(v1::EVENT_KIND_PROCTOR_MESSAGE)));
    EXPECT_EQ(std::stoul(events[0][0]), total);
    const auto audit = QueryDb(db_, "SELECT COUNT(*) FROM audit WHERE action = 'candidate.warn'");
    EXPECT_EQ(std::stoul(audit[0][0]), total);
  }

  TempDir dir_;
  std::string db_;
  std::vector<int64_t> sessions_;
  std::unique_ptr<ExamdProcess> examd_;
  int port_ = 0;
  std::unique_ptr<FaultProxy> proxy_;
  std::shared_ptr<grpc::Channel> direct_;
  std::string admin_token_;

  Changes changes_;
  std::atomic<net::BackendClient*> watching_{nullptr};
  std::mutex seen_mu_;
  std::vector<StateSeen> seen_;
  std::unique_ptr<net::BackendClient> client_;
  std::unique_ptr<local::LocalStore> store_;
  std::unique_ptr<local::Outbox> outbox_;
  std::unique_ptr<net::OutboxSender> sender_;
  int64_t base_seq_ = 0;

  std::vector<std::pair<int64_t, std::string>> console_actions_;
  std::vector<std::string> direct_texts_;
  int device_keys_ = 0;
};

// The control: no fault, a quiet exam, long enough for several of the client's keepalive
// pings. The one connection is kept (the backend's ping policy is not tripped) and the
// client never leaves "online".
TEST_F(FaultInjectionTest, AQuietHealthyConnectionIsKept) {
  const size_t mark = SeenMark();
  std::this_thread::sleep_for(12s);
  DirectWarn(0, "after-quiet-direct");
  ConsoleWarn(1, "after-quiet-console");
  ASSERT_TRUE(changes_.Await(
      [&] { return Online() && AllConsoleActionsConfirmed() && Status().last_seq >= LogHead(); }));
  EXPECT_FALSE(ReconnectingSince(mark).has_value()) << ReconnectingSince(mark)->message;
  EXPECT_EQ(Status().reconnects, 0);
  EXPECT_EQ(proxy_->accepted(), 1u);
  ExpectEveryEventOnceInOrder();
  ExpectEveryDecisionAppliedOnce();
}

TEST_F(FaultInjectionTest, EveryConnectionResetIsRiddenOut) {
  for (int i = 0; i < 3; ++i) ConsoleWarn(i, "before-reset-" + std::to_string(i));
  ASSERT_TRUE(changes_.Await([&] { return AllConsoleActionsConfirmed(); }));
  const int reconnects = Status().reconnects;

  // Three resets in a row, each with actions queued and events made while it reconnects.
  for (int round = 0; round < 3; ++round) {
    const size_t mark = SeenMark();
    const uint64_t accepted = proxy_->accepted();
    proxy_->DropAll();
    for (int i = 0; i < 2; ++i) {
      ConsoleWarn(i, "reset" + std::to_string(round) + "-console-" + std::to_string(i));
      DirectWarn(i, "reset" + std::to_string(round) + "-direct-" + std::to_string(i));
    }
    // The loss is shown, with why, and the client comes back on a new connection.
    ASSERT_TRUE(changes_.Await([&] { return ReconnectingSince(mark).has_value(); })) << "never showed reconnecting";
    EXPECT_FALSE(ReconnectingSince(mark)->message.empty());
    ASSERT_TRUE(changes_.Await([&] { return Online() && proxy_->accepted() > accepted; }));
  }
  ExpectHealed(reconnects);
  EXPECT_GE(Status().reconnects, reconnects + 3);
  std::cout << "[ figures ] reset: events " << Status().events_received << ", decisions "
            << console_actions_.size() + direct_texts_.size() << ", reconnects " << Status().reconnects
            << ", proxy connections " << proxy_->accepted() << "\n";
}

TEST_F(FaultInjectionTest, AStalledHalfOpenConnectionIsDetectedByTheIdleTimeoutAndResumed) {
  ConsoleWarn(0, "before-stall");
  ASSERT_TRUE(changes_.Await([&] { return AllConsoleActionsConfirmed(); }));
  const int reconnects = Status().reconnects;

  // No byte moves and no socket closes: only the client's own timers can tell.
  proxy_->Stall(true);
  const uint64_t down_before = proxy_->bytes_down();
  const auto stalled_at = std::chrono::steady_clock::now();
  const int64_t queued = ConsoleWarn(1, "during-stall-console-1");
  ConsoleWarn(2, "during-stall-console-2");
  for (int i = 0; i < 3; ++i) DirectWarn(i, "during-stall-direct-" + std::to_string(i));
  ASSERT_TRUE(changes_.Await([&] { return Reconnecting(); }, 20s)) << "the dead stream was not noticed";
  // Only the client's timers tell: the idle timeout (3.5 s) counts from the last heartbeat,
  // at most 2 s before the stall, and the keepalive ping needs its own timeout to fail.
  EXPECT_GE(std::chrono::steady_clock::now() - stalled_at, 1s);
  EXPECT_FALSE(Status().message.empty());
  // The action went out, timed out and waits to be sent again with its key.
  ASSERT_TRUE(changes_.Await([&] { return TriedAndKept(queued); }));
  EXPECT_TRUE(Row(queued).error_code == static_cast<int>(grpc::StatusCode::DEADLINE_EXCEEDED) ||
              Row(queued).error_code == static_cast<int>(grpc::StatusCode::UNAVAILABLE))
      << Row(queued).error_code << " " << Row(queued).error_message;
  EXPECT_EQ(proxy_->bytes_down(), down_before) << "the stall let bytes through";
  // Hold it a little longer: still honest about being cut off.
  std::this_thread::sleep_for(1s);
  EXPECT_NE(Status().state, ConnectionState::kOnline);
  EXPECT_FALSE(AllConsoleActionsConfirmed());

  proxy_->Stall(false);
  DirectWarn(3, "after-stall-direct");
  ConsoleWarn(3, "after-stall-console");
  ExpectHealed(reconnects);
  std::cout << "[ figures ] stall: events " << Status().events_received << ", decisions "
            << console_actions_.size() + direct_texts_.size() << ", reconnects " << Status().reconnects
            << ", attempts of the queued warning " << Row(queued).attempts << "\n";
}

TEST_F(FaultInjectionTest, AConnectionLeftHalfOpenForGoodIsAbandonedForANewOne) {
  ConsoleWarn(0, "before-half-open");
  ASSERT_TRUE(changes_.Await([&] { return AllConsoleActionsConfirmed(); }));
  const int reconnects = Status().reconnects;
  const uint64_t accepted = proxy_->accepted();

  // The connection in use goes silent and never comes back, and nothing closes it; a new
  // connection would work. Only the client can get out of this, by dialling again.
  proxy_->HalfOpenAll();
  const int64_t queued = ConsoleWarn(1, "half-open-console-1");
  for (int i = 0; i < 3; ++i) DirectWarn(i, "half-open-direct-" + std::to_string(i));
  ASSERT_TRUE(changes_.Await([&] { return Reconnecting(); }, 20s)) << "the dead stream was not noticed";
  ConsoleWarn(2, "half-open-console-2");
  ExpectHealed(reconnects);
  // Its first call went into the dead connection; a later one on the new connection got it.
  EXPECT_GE(Row(queued).attempts, 2);
  EXPECT_GT(proxy_->accepted(), accepted) << "healed without a new connection?";
  std::cout << "[ figures ] half-open: events " << Status().events_received << ", decisions "
            << console_actions_.size() + direct_texts_.size() << ", reconnects " << Status().reconnects
            << ", proxy connections " << proxy_->accepted() << "\n";
}

TEST_F(FaultInjectionTest, ABlackHoledPathIsShownAsReconnectingUntilItHeals) {
  const int reconnects = Status().reconnects;
  // New connections go nowhere, and the one in use is reset: the client must dial again.
  proxy_->BlackHole(true);
  const uint64_t accepted = proxy_->accepted();
  proxy_->DropAll();
  const int64_t queued = ConsoleWarn(0, "black-hole-console-0");
  ConsoleWarn(1, "black-hole-console-1");
  for (int i = 0; i < 3; ++i) DirectWarn(i, "black-hole-direct-" + std::to_string(i));
  ASSERT_TRUE(changes_.Await([&] { return Reconnecting() && proxy_->accepted() > accepted; }, 20s))
      << net::ConnectionStateName(Status().state);
  ASSERT_TRUE(changes_.Await([&] { return TriedAndKept(queued); }));
  // A while in the black hole: the client keeps saying so and nothing is delivered.
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(Status().state, ConnectionState::kReconnecting) << Status().message;
  EXPECT_FALSE(Status().message.empty());
  EXPECT_FALSE(AllConsoleActionsConfirmed());

  proxy_->BlackHole(false);
  ConsoleWarn(2, "after-black-hole-console");
  DirectWarn(3, "after-black-hole-direct");
  ExpectHealed(reconnects);
  std::cout << "[ figures ] black hole: events " << Status().events_received << ", decisions "
            << console_actions_.size() + direct_texts_.size() << ", reconnects " << Status().reconnects
            << ", proxy connections " << proxy_->accepted() << "\n";
}

TEST_F(FaultInjectionTest, ABackendKilledWithSigkillAndRestartedLosesNothing) {
  for (int i = 0; i < 3; ++i) ConsoleWarn(i, "before-kill-" + std::to_string(i));
  const int reconnects = Status().reconnects;
  const size_t mark = SeenMark();
  // Killed with the outbox still sending: some of those may be applied with no answer read.
  examd_->Kill(SIGKILL);
  const int64_t queued = ConsoleWarn(3, "while-dead-console-3");
  ConsoleWarn(4, "while-dead-console-4");
  ASSERT_TRUE(changes_.Await([&] { return Reconnecting(); }, 20s)) << net::ConnectionStateName(Status().state);
  EXPECT_TRUE(ReconnectingSince(mark).has_value());
  // The outbox sends in order, so some earlier warning is the one being tried and kept.
  ASSERT_TRUE(changes_.Await([&] {
    for (const auto& [id, text] : console_actions_)
      if (TriedAndKept(id)) return true;
    return false;
  }));
  EXPECT_FALSE(AllConsoleActionsConfirmed());
  EXPECT_NE(Row(queued).state, ActionState::kConfirmed);
  EXPECT_NE(Row(queued).state, ActionState::kFailed) << Row(queued).error_message;

  ASSERT_EQ(examd_->Start(port_), port_) << "examd did not come back on its port";
  for (int i = 0; i < 3; ++i) DirectWarn(i, "after-restart-direct-" + std::to_string(i));
  ConsoleWarn(5, "after-restart-console");
  ExpectHealed(reconnects);

  // Once more, and this time examd comes back on another port behind the same address (the
  // proxy's new target), as a backend moved by its supervisor would.
  const int reconnects_again = Status().reconnects;
  const size_t mark_again = SeenMark();
  ConsoleWarn(6, "before-second-kill-console");
  examd_->Kill(SIGKILL);
  ConsoleWarn(7, "after-second-kill-console");
  ASSERT_TRUE(changes_.Await([&] { return ReconnectingSince(mark_again).has_value(); }, 20s));
  port_ = examd_->Start(0);
  ASSERT_GT(port_, 0) << "examd did not come back";
  proxy_->SetTarget(port_);
  direct_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port_), grpc::InsecureChannelCredentials());
  DirectWarn(8, "after-move-direct");
  ExpectHealed(reconnects_again);
  std::cout << "[ figures ] sigkill: events " << Status().events_received << ", decisions "
            << console_actions_.size() + direct_texts_.size() << ", kills 2, reconnects " << Status().reconnects
            << ", outbox actions sent more than once " << ResentConsoleActions() << "\n";
}

// Several writers hammer examd with warnings (each with its own idempotency key) while the
// console queues more through its outbox; examd is killed with SIGKILL three times mid-load
// and restarted on its port and database. Writers retry each warning with its key until it
// is OK. The console's feed must come out gap-free, in order and without repeats, every
// warning must be applied exactly once, and the file must pass integrity_check.
TEST_F(FaultInjectionTest, RestartUnderHeavyLoadLosesNoEventAndNoDecision) {
  constexpr int kWriters = 6;
  constexpr int kPerWriter = 100;
  constexpr int kConsoleWarnings = 40;
  constexpr int kKills = 3;
  const auto started = std::chrono::steady_clock::now();
  const int reconnects = Status().reconnects;

  std::atomic<int> done{0};
  std::atomic<int> retries{0};
  std::atomic<int> replayed{0};  // retries the backend had already applied: answered from the key
  std::atomic<bool> give_up{false};
  std::vector<std::string> failures(kWriters);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      auto live = v1::LiveService::NewStub(direct_);
      for (int i = 0; i < kPerWriter && !give_up; ++i) {
        v1::ProctorActionRequest req = Warn(sessions_[static_cast<size_t>(w + i) % sessions_.size()],
                                            "load-" + std::to_string(w) + "-" + std::to_string(i));
        req.set_idempotency_key("load-key-" + std::to_string(w) + "-" + std::to_string(i));
        for (int attempt = 0;; ++attempt) {
          if (give_up) return;
          v1::ProctorActionResponse resp;
          grpc::ClientContext ctx;
          ctx.AddMetadata("authorization", "Bearer " + admin_token_);
          ctx.set_wait_for_ready(true);
          ctx.set_deadline(std::chrono::system_clock::now() + 5s);
          const auto s = live->ProctorAction(&ctx, req, &resp);
          if (s.ok()) {
            replayed += resp.replayed();
            break;
          }
          // Only the backend's death may fail a call; a refusal would be a bug.
          if (s.error_code() != grpc::StatusCode::UNAVAILABLE && s.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED &&
              s.error_code() != grpc::StatusCode::CANCELLED && s.error_code() != grpc::StatusCode::INTERNAL &&
              s.error_code() != grpc::StatusCode::UNKNOWN) {
            failures[static_cast<size_t>(w)] = req.text() + ": " + std::to_string(s.error_code()) + " " + s.error_message();
            return;
          }
          retries++;
        }
        done++;
      }
    });
  }
  for (int i = 0; i < kConsoleWarnings; ++i) ConsoleWarn(i, "load-console-" + std::to_string(i));

  int kills = 0;
  constexpr int kTotal = kWriters * kPerWriter;
  for (int k = 1; k <= kKills; ++k) {
    const int target = kTotal * k / (kKills + 1);
    if (!WaitFor([&] { return done >= target; }, 60s)) break;
    examd_->Kill(SIGKILL);
    ++kills;
    ASSERT_EQ(examd_->Start(port_), port_) << "examd did not come back on its port";
  }
  const bool finished = WaitFor([&] { return done >= kTotal; }, 90s);
  give_up = !finished;
  for (auto& t : writers) t.join();
  for (const auto& f : failures) EXPECT_EQ(f, "");
  ASSERT_TRUE(finished) << done << " of " << kTotal << " warnings after " << kills << " kills";
  EXPECT_EQ(kills, kKills);
  for (int w = 0; w < kWriters; ++w)
    for (int i = 0; i < kPerWriter; ++i) direct_texts_.push_back("load-" + std::to_string(w) + "-" + std::to_string(i));

  ExpectHealed(reconnects);
  EXPECT_GE(Status().reconnects, reconnects + 1);
  const auto keys = QueryDb(db_, "SELECT COUNT(*) FROM idempotency WHERE key LIKE 'load-key-%'");
  EXPECT_EQ(std::stoi(keys[0][0]), kTotal);

  const auto s = Status();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "[ figures ] restart under load: events " << s.events_received << " (seq " << base_seq_ + 1 << ".."
            << s.last_seq << ", duplicates ignored " << s.duplicates_ignored << "), decisions "
            << kTotal + kConsoleWarnings << " (" << kTotal << " direct, " << kConsoleWarnings << " via the outbox, "
            << retries << " retried calls, " << replayed << " of them already applied and replayed, "
            << ResentConsoleActions() << " outbox actions sent more than once), kills " << kills << ", reconnects " << s.reconnects << ", "
            << seconds << " s\n";
}

// Support's decisions through the outbox under the same faults: appeal claims and decisions,
// and help-desk claims and resolves, made while the path is reset under the calls and while
// examd is killed with SIGKILL and restarted on its port and database. The outbox sends in
// order, so a claim is applied before what follows it; a decision or resolve sent again
// with its key is answered from the key, never applied (or refused as "already decided") a
// second time. A claim on an appeal is not keyed (each one renews the lease), so the
// decision is made from the version the confirmed claim answered with, as the appeals
// panel does. Each appeal ends with one decision, one audit row and one message to the
// candidate; each help request is resolved once, with one audit row.
TEST_F(FaultInjectionTest, SupportDecisionsThroughTheOutboxAreAppliedOnceAcrossResetsAndKills) {
  const auto started = std::chrono::steady_clock::now();
  std::vector<int64_t> appeals;
  std::vector<int64_t> helps;
  for (int i = 0; i < 4; ++i) appeals.push_back(FileAppeal(i));
  for (int i = 4; i < 8; ++i) helps.push_back(RaiseHelp(i));
  ASSERT_FALSE(HasFailure()) << "the candidates could not file their appeals and raise their hands";
  const int reconnects = Status().reconnects;

  std::vector<int64_t> rows;                    // every outbox row this test makes, in order
  std::map<int64_t, int64_t> appeal_claim;      // appeal → its claim's row
  std::map<int64_t, int64_t> appeal_decision;   // appeal → its decision's row
  std::map<int64_t, std::pair<int64_t, int64_t>> help_rows;  // help → (claim row, resolve row)
  const auto claim_appeal = [&](int64_t appeal) {
    v1::ClaimAppealRequest req;
    req.set_appeal_id(appeal);
    const int64_t id = outbox_->Enqueue(local::method::kClaimAppeal, req, "认领申诉 / Claim appeal", "appeal:" + std::to_string(appeal));
    rows.push_back(id);
    appeal_claim[appeal] = id;
  };
  const auto decide_appeal = [&](int64_t appeal) {
    v1::Appeal claimed;
    ASSERT_TRUE(claimed.ParseFromString(Row(appeal_claim.at(appeal)).response));
    v1::DecideAppealRequest req;
    req.set_appeal_id(appeal);
    req.set_expected_version(claimed.version());
    req.set_decision(v1::APPEAL_DECISION_APPROVE);
    req.set_reason("照片与证件一致 photo matches ID");
    const int64_t id = outbox_->Enqueue(local::method::kDecideAppeal, req, "批准申诉 / Approve appeal", "appeal:" + std::to_string(appeal));
    rows.push_back(id);
    appeal_decision[appeal] = id;
  };
  // Back to back: the resolve is queued before the claim has gone out.
  const auto claim_and_resolve_help = [&](int64_t help) {
    const std::string target = "help:" + std::to_string(help);
    v1::ClaimHelpRequest claim;
    claim.set_help_id(help);
    v1::ResolveHelpRequest resolve;
    resolve.set_help_id(help);
    resolve.set_category("camera");
    const int64_t claim_id = outbox_->Enqueue(local::method::kClaimHelp, claim, "接手求助 / Take help request", target);
    const int64_t resolve_id = outbox_->Enqueue(local::method::kResolveHelp, resolve, "求助已解决 / Resolve help request", target);
    rows.push_back(claim_id);
    rows.push_back(resolve_id);
    help_rows[help] = {claim_id, resolve_id};
  };
  // Finished (confirmed or refused), so a refusal fails the test with its message rather
  // than with a timeout.
  const auto all_finished = [&] {
    for (const int64_t id : rows)
      if (!Row(id).finished()) return false;
    return true;
  };
  const auto expect_all_confirmed = [&] {
    for (const int64_t id : rows)
      EXPECT_EQ(Row(id).state, ActionState::kConfirmed)
          << Row(id).label << " (row " << id << "): " << Row(id).error_code << " " << Row(id).error_message;
  };

  // The path stalls, the actions are made and the first goes out into the stall, and the
  // path is reset under it: the calls fail with no answer and go again, with their keys, on
  // the client's next connection. `while_held` runs while the first call is held.
  int resets = 0;
  const auto made_during_a_reset = [&](const std::function<void()>& make, const std::function<void()>& while_held) {
    const size_t mark = SeenMark();
    const uint64_t accepted = proxy_->accepted();
    const size_t first = rows.size();
    proxy_->Stall(true);
    make();
    ASSERT_TRUE(changes_.Await([&] { return Row(rows[first]).state == ActionState::kSending; }))
        << ActionStateName(Row(rows[first]).state);
    while_held();
    proxy_->DropAll();
    ++resets;
    proxy_->Stall(false);
    ASSERT_TRUE(changes_.Await([&] { return ReconnectingSince(mark).has_value(); })) << "never showed reconnecting";
    ASSERT_TRUE(changes_.Await([&] { return Online() && proxy_->accepted() > accepted && all_finished(); }, 30s))
        << net::ConnectionStateName(Status().state) << " (" << Status().message << ")";
    EXPECT_GE(Row(rows[first]).attempts, 2) << "the reset missed the call in flight";
    expect_all_confirmed();
  };
  // Some actions are made and examd is killed at once, perhaps after applying some of them
  // with no answer read; more are made while it is dead. They are tried and kept, not
  // refused, and all go out once it is back on its port and file.
  int kills = 0;
  const auto made_across_a_kill = [&](const std::function<void()>& before, const std::function<void()>& while_dead) {
    const size_t mark = SeenMark();
    before();
    examd_->Kill(SIGKILL);
    ++kills;
    while_dead();
    ASSERT_TRUE(changes_.Await([&] { return ReconnectingSince(mark).has_value(); }, 20s))
        << net::ConnectionStateName(Status().state);
    ASSERT_TRUE(changes_.Await([&] {
      for (const int64_t id : rows)
        if (TriedAndKept(id)) return true;
      return false;
    }));
    for (const int64_t id : rows)
      EXPECT_NE(Row(id).state, ActionState::kFailed) << Row(id).label << ": " << Row(id).error_message;
    ASSERT_EQ(examd_->Start(port_), port_) << "examd did not come back on its port";
    ASSERT_TRUE(changes_.Await([&] { return Online() && all_finished(); }, 30s))
        << net::ConnectionStateName(Status().state) << " (" << Status().message << ")";
    expect_all_confirmed();
  };

  // Two appeals and two help requests across resets: claims (and the help requests'
  // resolves), then the appeals' decisions.
  ASSERT_NO_FATAL_FAILURE(made_during_a_reset(
      [&] {
        for (int i = 0; i < 2; ++i) {
          claim_appeal(appeals[static_cast<size_t>(i)]);
          claim_and_resolve_help(helps[static_cast<size_t>(i)]);
        }
      },
      [] {}));
  // The first decision is also the case a kill only sometimes makes: applied, and its answer
  // lost. While its call is held in the stall, the very bytes it carries (its key too) reach
  // examd by the side door, signed in as the same user; the console's resend after the reset
  // must be answered from the key, not refused as already decided.
  v1::Appeal applied_by_the_side_door;
  ASSERT_NO_FATAL_FAILURE(made_during_a_reset(
      [&] {
        for (int i = 0; i < 2; ++i) decide_appeal(appeals[static_cast<size_t>(i)]);
      },
      [&] {
        const local::OutboxAction held = Row(appeal_decision.at(appeals[0]));
        v1::DecideAppealRequest req;
        ASSERT_TRUE(req.ParseFromString(held.request));
        ASSERT_EQ(req.idempotency_key(), held.idempotency_key);
        grpc::ClientContext ctx;
        ctx.AddMetadata("authorization", "Bearer " + admin_token_);
        ctx.set_deadline(std::chrono::system_clock::now() + 10s);
        const auto s = v1::AppealService::NewStub(direct_)->DecideAppeal(&ctx, req, &applied_by_the_side_door);
        ASSERT_TRUE(s.ok()) << s.error_message();
      }));
  {
    v1::Appeal answered;
    ASSERT_TRUE(answered.ParseFromString(Row(appeal_decision.at(appeals[0])).response));
    EXPECT_EQ(answered.version(), applied_by_the_side_door.version()) << "the resend was applied again";
    EXPECT_EQ(answered.state(), v1::APPEAL_STATE_APPROVED);
  }
  // The other two across kills, the same way.
  ASSERT_NO_FATAL_FAILURE(made_across_a_kill(
      [&] {
        claim_appeal(appeals[2]);
        claim_and_resolve_help(helps[2]);
      },
      [&] {
        claim_appeal(appeals[3]);
        claim_and_resolve_help(helps[3]);
      }));
  ASSERT_NO_FATAL_FAILURE(made_across_a_kill([&] { decide_appeal(appeals[2]); }, [&] { decide_appeal(appeals[3]); }));

  // A repeat decision from a stale screen is refused on its merits, once, not retried, and
  // changes nothing: the backend's "already decided" answer is the right one here.
  {
    v1::DecideAppealRequest again;
    again.set_appeal_id(appeals[0]);
    const auto version = QueryDb(db_, "SELECT version FROM appeals WHERE id = " + std::to_string(appeals[0]));
    ASSERT_EQ(version.size(), 1u);
    again.set_expected_version(std::stoll(version[0][0]));  // current: only the state can refuse it
    again.set_decision(v1::APPEAL_DECISION_REJECT);
    again.set_reason("模糊 blurred");
    const int64_t id =
        outbox_->Enqueue(local::method::kDecideAppeal, again, "驳回申诉 / Reject appeal", "appeal:" + std::to_string(appeals[0]));
    ASSERT_TRUE(changes_.Await([&] { return Row(id).finished(); }));
    const auto refused = Row(id);
    EXPECT_EQ(refused.state, ActionState::kFailed);
    EXPECT_EQ(refused.error_code, static_cast<int>(grpc::StatusCode::FAILED_PRECONDITION)) << refused.error_message;
    EXPECT_NE(refused.error_message.find("already approved"), std::string::npos) << refused.error_message;
    EXPECT_EQ(refused.attempts, 1);
  }

  // The console caught up with every event, nothing came twice, and no warning appeared.
  ExpectHealed(reconnects);

  // In the backend's file: each appeal decided once, by whoever claimed it, with one audit
  // row and one message to the candidate; each help request resolved once, after its claim.
  for (const int64_t appeal : appeals) {
    const std::string id = std::to_string(appeal);
    v1::Appeal claimed;
    v1::Appeal decided;
    ASSERT_TRUE(claimed.ParseFromString(Row(appeal_claim.at(appeal)).response));
    ASSERT_TRUE(decided.ParseFromString(Row(appeal_decision.at(appeal)).response));
    EXPECT_EQ(decided.state(), v1::APPEAL_STATE_APPROVED) << "appeal " << id;
    EXPECT_FALSE(claimed.claimed_by().empty());
    const auto row = QueryDb(db_, "SELECT state, decided_by FROM appeals WHERE id = " + id);
    ASSERT_EQ(row.size(), 1u);
    EXPECT_EQ(std::stoi(row[0][0]), static_cast<int>(v1::APPEAL_STATE_APPROVED)) << "appeal " << id;
    EXPECT_EQ(row[0][1], claimed.claimed_by()) << "appeal " << id;
    const auto audit =
        QueryDb(db_, "SELECT COUNT(*) FROM audit WHERE action = 'appeal.decide' AND target = 'appeal/" + id + "'");
    EXPECT_EQ(std::stoi(audit[0][0]), 1) << "appeal " << id;
    const auto told = QueryDb(db_, "SELECT COUNT(*) FROM staff_messages WHERE kind LIKE 'appeal-%' AND ref_id = " + id);
    EXPECT_EQ(std::stoi(told[0][0]), 1) << "appeal " << id;
  }
  for (const int64_t help : helps) {
    const std::string id = std::to_string(help);
    v1::HelpRequest claimed;
    v1::HelpRequest resolved;
    ASSERT_TRUE(claimed.ParseFromString(Row(help_rows.at(help).first).response));
    ASSERT_TRUE(resolved.ParseFromString(Row(help_rows.at(help).second).response));
    EXPECT_EQ(claimed.state(), v1::HELP_STATE_CLAIMED) << "help " << id;
    EXPECT_EQ(resolved.state(), v1::HELP_STATE_RESOLVED) << "help " << id;
    EXPECT_EQ(resolved.claimed_by(), claimed.claimed_by()) << "help " << id << ": the resolve did not see the claim";
    EXPECT_GT(resolved.version(), claimed.version()) << "help " << id;
    const auto row = QueryDb(db_, "SELECT state, category FROM help_requests WHERE id = " + id);
    ASSERT_EQ(row.size(), 1u);
    EXPECT_EQ(std::stoi(row[0][0]), static_cast<int>(v1::HELP_STATE_RESOLVED)) << "help " << id;
    EXPECT_EQ(row[0][1], "camera");
    const auto audit =
        QueryDb(db_, "SELECT COUNT(*) FROM audit WHERE action = 'help.resolve' AND target = 'help/" + id + "'");
    EXPECT_EQ(std::stoi(audit[0][0]), 1) << "help " << id;
  }
  // Nothing else was decided or resolved: no row for an action nobody asked for.
  EXPECT_EQ(std::stoi(QueryDb(db_, "SELECT COUNT(*) FROM audit WHERE action = 'appeal.decide'")[0][0]), 4);
  EXPECT_EQ(std::stoi(QueryDb(db_, "SELECT COUNT(*) FROM audit WHERE action = 'help.resolve'")[0][0]), 4);
  expect_all_confirmed();

  int resent = 0;
  for (const int64_t id : rows) resent += Row(id).attempts > 1;
  // An appeal claim applied, its answer lost and sent again renews the lease once more.
  int claims_renewed = 0;
  for (const auto& [appeal, id] : appeal_claim) {
    v1::Appeal claimed;
    claims_renewed += claimed.ParseFromString(Row(id).response) && claimed.version() > 2;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "[ figures ] support decisions: appeals decided " << appeals.size() << ", help resolved " << helps.size()
            << ", outbox actions " << rows.size() << " (+1 refused repeat), kills " << kills << ", resets " << resets
            << ", resent actions " << resent << " (1 of them applied by the side door first and answered from its key)"
            << ", appeal claims applied twice " << claims_renewed << ", reconnects "
            << Status().reconnects << ", " << seconds << " s\n";
}

}  // namespace
}  // namespace exam::testing
