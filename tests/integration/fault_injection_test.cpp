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
#include <sqlite3.h>

#include <atomic>
#include <iostream>
#include <map>
#include <optional>
#include <thread>

#include "../net/staff_console.h"
#include "backend_fixture.h"
#include "examd_process.h"
#include "fault_proxy.h"

namespace exam::testing {
namespace {

namespace v1 = exam::v1;
using local::ActionState;
using net::ConnectionState;
using namespace std::chrono_literals;

constexpr char kProctorAction[] = "/exam.v1.LiveService/ProctorAction";

// Rows of the backend's SQLite file as text, read on a connection of our own (WAL lets a
// reader in while examd writes).
std::vector<std::vector<std::string>> Query(const std::string& db, const std::string& sql) {
  std::vector<std::vector<std::string>> rows;
  sqlite3* conn = nullptr;
  if (sqlite3_open_v2(db.c_str(), &conn, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << db << ": " << sqlite3_errmsg(conn);
    sqlite3_close(conn);
    return rows;
  }
  sqlite3_busy_timeout(conn, 5000);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(conn, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(conn);
  } else {
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        const auto* text = sqlite3_column_text(st, i);
        row.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
      }
      rows.push_back(std::move(row));
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(conn);
  return rows;
}

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
    {
      backend::ServerOptions o;
      o.db_path = db_;
      o.demo_candidates = 8;
      o.demo_rooms = 2;
      o.demo_review_sessions = 0;
      std::string error;
      auto server = backend::ExamServer::Start(o, &error);
      ASSERT_TRUE(server) << error;
      server->Shutdown();
    }
    for (const auto& row : Query(db_, "SELECT id FROM sessions ORDER BY id")) sessions_.push_back(std::stoll(row[0]));
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
      const auto rows = Query(db_, "PRAGMA integrity_check");
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
    const int64_t id = outbox_->Enqueue(kProctorAction, Warn(session, text), "警告 / Warn",
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
    const auto rows = Query(db_, "SELECT COALESCE(MAX(seq), 0) FROM events");
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
    const auto log = Query(db_, "SELECT seq, kind FROM events WHERE seq > " + std::to_string(base_seq_) + " ORDER BY seq");
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
    for (const auto& row : Query(db_, "SELECT text, COUNT(*) FROM proctor_actions GROUP BY text"))
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
    const auto actions = Query(db_, "SELECT COUNT(*) FROM proctor_actions");
    EXPECT_EQ(std::stoul(actions[0][0]), total) << "an action was applied that nobody asked for";
    const auto events = Query(db_, "SELECT COUNT(*) FROM events WHERE kind = " +
                                       std::to_string(static_cast<int>(v1::EVENT_KIND_PROCTOR_MESSAGE)));
    EXPECT_EQ(std::stoul(events[0][0]), total);
    const auto audit = Query(db_, "SELECT COUNT(*) FROM audit WHERE action = 'candidate.warn'");
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
  const auto keys = Query(db_, "SELECT COUNT(*) FROM idempotency WHERE key LIKE 'load-key-%'");
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

}  // namespace
}  // namespace exam::testing
