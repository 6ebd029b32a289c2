// The candidate simulator: every candidate is a small state machine whose steps run on a
// shared pool of worker threads, woken from one timed queue. A candidate has at most one
// entry in the queue, so its steps never run concurrently and need no locking.
#include "backend/sim/simulator.h"

#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <queue>
#include <random>
#include <set>
#include <thread>
#include <unordered_set>

#include "backend/sim/blobs.h"
#include "core/exam_rules.h"
#include "core/session_machine.h"
#include "exam/v1/candidate.grpc.pb.h"

namespace exam::sim {
namespace {

namespace v1 = ::exam::v1;
using google::protobuf::util::TimeUtil;
using core::Duration;
using core::TimePoint;
using SteadyClock = std::chrono::steady_clock;
using RealTime = SteadyClock::time_point;
constexpr RealTime kNever = RealTime::max();

TimePoint FromProto(const google::protobuf::Timestamp& t) {
  return core::FromUnixMillis(TimeUtil::TimestampToMilliseconds(t));
}
Duration FromProto(const google::protobuf::Duration& d) { return Duration(TimeUtil::DurationToMilliseconds(d)); }
Duration Seconds(double s) { return Duration(static_cast<int64_t>(s * 1000.0)); }

uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

bool SessionEnded(const v1::Session& s) {
  return s.stage() == v1::STAGE_ENDED ||
         (s.outcome() != v1::OUTCOME_UNSPECIFIED && s.outcome() != v1::OUTCOME_IN_PROGRESS);
}

// Maps a refused call back to the rule that refused it. The backend reports refusals of
// the session machine as FAILED_PRECONDITION (or OUT_OF_RANGE) with the refusal's name
// and/or its English message; both are recognised.
core::Refusal ParseRefusal(const std::string& message) {
  std::string m = message;
  std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto has = [&m](const char* s) { return m.find(s) != std::string::npos; };
  if (has("entry-closed") || has("entry closed") || has("forfeit")) return core::Refusal::kEntryClosed;
  if (has("too-early") || has("not opened") || has("not started") || has("too early")) return core::Refusal::kTooEarly;
  if (has("identity-pending") || has("face login not passed") || has("being reviewed"))
    return core::Refusal::kIdentityPending;
  if (has("retry-too-soon") || has("wait one minute") || has("too soon")) return core::Refusal::kRetryTooSoon;
  if (has("during face login")) return core::Refusal::kOutOfOrder;
  if (has("wrong-question") || has("questions are answered in order")) return core::Refusal::kWrongQuestion;
  if (has("out-of-order") || has("in order")) return core::Refusal::kOutOfOrder;
  if (has("not-answering") || has("not answering")) return core::Refusal::kNotAnswering;
  if (has("no-interruption") || has("no interruption")) return core::Refusal::kNoInterruption;
  if (has("already-interrupted") || has("already in progress")) return core::Refusal::kAlreadyInterrupted;
  if (has("ended") || has("too late")) return core::Refusal::kEnded;
  return core::Refusal::kNone;
}

// Timing facts of the exam, from Join's Exam (defaults where a rule is unset).
struct ExamInfo {
  int64_t exam_id = 0;
  TimePoint start;
  TimePoint face_opens, enter_opens, entry_closes;
  std::vector<Duration> reading, answer;
  Duration total_answer{0};
  Duration resume_limit{0};
  Duration cancel_wait{0};
  Duration upload_resume_deadline{0};

  explicit ExamInfo(const v1::Exam& e) {
    const auto kind = e.kind() == v1::EXAM_KIND_TEST ? core::ExamKind::kTest : core::ExamKind::kInterview;
    core::ExamRules r = core::DefaultRules(kind);
    const auto& p = e.rules();
    if (p.has_face_login_opens_before()) r.face_login_opens_before = FromProto(p.face_login_opens_before());
    if (p.has_enter_opens_before()) r.enter_opens_before = FromProto(p.enter_opens_before());
    if (p.has_entry_closes_after()) r.entry_closes_after = FromProto(p.entry_closes_after());
    if (p.has_interruption_resume_limit()) r.interruption_resume_limit = FromProto(p.interruption_resume_limit());
    if (p.has_face_check_cancel_wait()) r.face_check_cancel_wait = FromProto(p.face_check_cancel_wait());
    if (p.has_upload_resume_deadline()) r.upload_resume_deadline = FromProto(p.upload_resume_deadline());
    exam_id = e.id();
    start = FromProto(e.start_time());
    face_opens = start - r.face_login_opens_before;
    enter_opens = start - r.enter_opens_before;
    entry_closes = start + r.entry_closes_after;
    for (const auto& q : e.questions()) {
      reading.push_back(FromProto(q.reading_time()));
      answer.push_back(FromProto(q.answer_time()));
      total_answer += reading.back() + answer.back();
    }
    resume_limit = r.interruption_resume_limit;
    cancel_wait = r.face_check_cancel_wait;
    upload_resume_deadline = r.upload_resume_deadline;
  }
  // End of question i (1-based) for answering that began at `begin`.
  TimePoint QuestionEnd(TimePoint begin, size_t i) const {
    TimePoint t = begin;
    for (size_t k = 0; k < i && k < answer.size(); ++k) t += reading[k] + answer[k];
    return t;
  }
};

// Backend time as seen from here: backend = b0 + scale * (real - r0), refreshed from the
// `now` of every heartbeat (taken at the midpoint of the call).
class ClockEstimate {
 public:
  explicit ClockEstimate(double scale) : scale_(scale > 0 ? scale : 1.0) {
    r0_ = SteadyClock::now();
    b0_ = std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  }
  double scale() const { return scale_; }
  bool known() const {
    std::lock_guard lk(mu_);
    return known_;
  }
  void Sample(RealTime sent, RealTime received, TimePoint backend_now) {
    const RealTime mid = sent + (received - sent) / 2;
    std::lock_guard lk(mu_);
    if (known_) {
      // Smooth small jitter; jump when the backend clock moved (tests advance it).
      const double err_ms = std::chrono::duration<double, std::milli>(backend_now - BackendAtLocked(mid)).count();
      if (std::abs(err_ms) < 2000.0) {
        const TimePoint est = BackendAtLocked(mid);
        backend_now = est + Duration(static_cast<int64_t>(err_ms * 0.25));
      }
    }
    known_ = true;
    r0_ = mid;
    b0_ = backend_now;
  }
  TimePoint Now() const { return BackendAt(SteadyClock::now()); }
  TimePoint BackendAt(RealTime r) const {
    std::lock_guard lk(mu_);
    return BackendAtLocked(r);
  }
  RealTime RealAt(TimePoint t) const {
    std::lock_guard lk(mu_);
    const double ms = std::chrono::duration<double, std::milli>(t - b0_).count() / scale_;
    const double cap = 1e12;  // ~30 years
    return r0_ + std::chrono::duration_cast<SteadyClock::duration>(
                     std::chrono::duration<double, std::milli>(std::clamp(ms, -cap, cap)));
  }
  // Real time span of a backend span.
  SteadyClock::duration RealSpan(Duration d) const {
    return std::chrono::duration_cast<SteadyClock::duration>(
        std::chrono::duration<double, std::milli>(std::chrono::duration<double, std::milli>(d).count() / scale_));
  }

 private:
  TimePoint BackendAtLocked(RealTime r) const {
    const double ms = std::chrono::duration<double, std::milli>(r - r0_).count() * scale_;
    return b0_ + Duration(static_cast<int64_t>(ms));
  }
  const double scale_;
  mutable std::mutex mu_;
  bool known_ = false;
  RealTime r0_;
  TimePoint b0_;
};

struct Counters {
  std::atomic<int64_t> joined{0}, stage_reports{0}, face_failures{0}, appeals_filed{0}, help_raised{0},
      interruptions{0}, ended_early{0}, completed{0}, forfeited{0}, rpc_errors{0}, uploads_pending{0},
      terminated{0}, identity_rejected{0}, no_shows{0}, gave_up{0}, failed{0}, refusals{0}, heartbeats{0},
      staff_messages{0}, help_messages_sent{0}, questions_reported{0}, uploads_completed{0},
      uploads_unimplemented{0}, recalls_handled{0};
};

class Candidate;

}  // namespace

struct CandidateSimulator::Impl {
  explicit Impl(SimulatorOptions o);
  ~Impl() { Stop(); }

  void Start();
  void Stop();
  void Worker();
  void Push(int index, RealTime due);
  void Log(const std::string& line) const {
    if (opt.log) opt.log(line);
  }
  // Called once by the first candidate that joined: now everyone can be scheduled.
  void OnExamKnown(const v1::Exam& exam, int bootstrap_index);
  // The bootstrapping candidate gave up before the exam was known: hand over.
  void BootstrapFailed(int index);
  std::shared_ptr<const ExamInfo> exam() const {
    std::lock_guard lk(exam_mu);
    return exam_info;
  }
  void MarkFinished() { finished_count.fetch_add(1); }

  SimulatorOptions opt;
  std::string run_id = std::to_string(std::random_device{}()) + std::to_string(std::random_device{}());
  std::vector<CandidatePlan> plans;
  ClockEstimate clock;
  Counters counters;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::CandidateService::Stub> stub;

  mutable std::mutex exam_mu;
  std::shared_ptr<const ExamInfo> exam_info;

  std::mutex q_mu;
  std::condition_variable q_cv;
  struct Item {
    RealTime due;
    uint64_t seq;
    int index;
    bool operator>(const Item& o) const { return due != o.due ? due > o.due : seq > o.seq; }
  };
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> queue;
  uint64_t seq = 0;
  bool started = false;
  std::atomic<bool> stopping{false};
  std::vector<std::thread> workers;

  std::mutex calls_mu;
  std::unordered_set<grpc::ClientContext*> calls;

  std::vector<std::unique_ptr<Candidate>> candidates;
  std::atomic<int> finished_count{0};
  int bootstrap_failures = 0;  // touched only by the one bootstrapping candidate at a time
};

namespace {

using Impl = CandidateSimulator::Impl;

// Registers a call so that Stop() can cancel it.
class InFlight {
 public:
  InFlight(Impl& sim, grpc::ClientContext* ctx) : sim_(sim), ctx_(ctx) {
    std::lock_guard lk(sim_.calls_mu);
    sim_.calls.insert(ctx_);
    if (sim_.stopping.load()) ctx_->TryCancel();
  }
  ~InFlight() {
    std::lock_guard lk(sim_.calls_mu);
    sim_.calls.erase(ctx_);
  }

 private:
  Impl& sim_;
  grpc::ClientContext* ctx_;
};

enum class Rc { kOk, kRefused, kRetry, kUnimplemented, kFatal, kStopped };

struct CallResult {
  Rc rc = Rc::kOk;
  core::Refusal refusal = core::Refusal::kNone;
  grpc::Status status;
};

class Candidate {
 public:
  Candidate(Impl& sim, const CandidatePlan& plan)
      : sim_(sim), plan_(plan), rng_(Mix(sim.opt.seed ^ Mix(0xA11CEull + static_cast<uint64_t>(plan.index)))) {
    laptop_.kind = v1::DEVICE_KIND_LAPTOP;
    laptop_.model = plan.laptop_model;
    phone_.kind = v1::DEVICE_KIND_EVIDENCE_PHONE;
    phone_.model = plan.phone_model;
  }

  bool bootstrap = false;
  bool finished() const { return finished_; }

  // Marks a candidate that will never run (no show, or nothing to run against).
  void FinishUnscheduled() {
    phase_ = Phase::kDone;
    MarkFinished();
  }

  // Sets when the candidate signs in; called before it is first queued.
  void ArriveAt(RealTime due) { action_due_ = due; }

  // When this candidate shows up, once the exam is known.
  RealTime ArrivalDue(const ExamInfo& exam) const {
    const RealTime now = SteadyClock::now();
    // Candidates already due arrive spread over a moment instead of all at once.
    const RealTime spread = now + std::chrono::milliseconds(3 * (plan_.index % 256));
    TimePoint at;
    switch (plan_.attendance) {
      case Attendance::kLate: at = exam.entry_closes + core::seconds(plan_.late_by_s); break;
      default: at = exam.start - core::seconds(plan_.arrive_before_start_s); break;
    }
    return std::max(spread, sim_.clock.RealAt(at));
  }

  // Runs whatever is due; returns when to run next (kNever: done).
  RealTime Run() {
    if (phase_ == Phase::kDone || sim_.stopping.load()) return kNever;
    RealTime now = SteadyClock::now();
    for (Device* d : {&laptop_, &phone_}) {
      if (Stopping() || phase_ == Phase::kDone) break;
      if (d->active && d->next_hb <= now) Heartbeat(*d);
    }
    now = SteadyClock::now();
    if (!Stopping() && phase_ != Phase::kDone && help_reply_due_ <= now) SendHelpReply();
    if (!Stopping() && phase_ != Phase::kDone && help_due_ <= now) RaiseHelp();
    now = SteadyClock::now();
    if (!Stopping() && phase_ != Phase::kDone && action_due_ <= now) Act();
    if (Stopping()) return kNever;
    return NextWake();
  }

 private:
  enum class Phase {
    kArrive,      // not signed in yet
    kStages,      // reporting the next stage when it is due
    kFace,        // face checks
    kAppealFile,  // preparing the appeal photos
    kAppealWait,  // appeal filed; waiting for the decision
    kStalled,     // will not report another stage; waits for the backend to end the session
    kAnswering,   // following the question timeline
    kAwaitEnd,    // last question's countdown over; waiting to see the session end
    kUpload,      // pushing recordings
    kRecallWait,  // a file left pending; the phone listens for a recall
    kDone,
  };

  struct Device {
    v1::DeviceKind kind = v1::DEVICE_KIND_UNSPECIFIED;
    std::string model;
    std::string token;
    bool joined = false;
    bool active = false;  // heartbeating
    int64_t after_message_id = 0;
    RealTime next_hb = kNever;
    RealTime last_hb = RealTime::min();
  };

  enum class StepKind { kShow, kComplete, kInterruptStart, kInterruptEnd, kEndCheck };
  struct TimedStep {
    TimePoint at;
    StepKind kind;
    int question = 0;
  };

  struct File {
    Device* device = nullptr;
    std::string name;
    v1::TrackKind kind = v1::TRACK_KIND_UNSPECIFIED;
    int64_t size = 0;
    uint64_t content_seed = 0;
    std::string sha256;
    int64_t file_id = 0;
    int64_t committed = 0;
    bool begun = false;
    bool needs_status = false;  // ask the backend how far it got before writing
    bool done = false;          // complete, or given up on
    bool leave_pending = false;
    bool parked = false;        // deliberately left incomplete
  };

  bool Stopping() const { return sim_.stopping.load(); }
  const ExamInfo& exam() const { return *exam_; }
  TimePoint BackendNow() const { return sim_.clock.Now(); }

  // Real time after `backend_s` backend seconds (scaled by the compression factor when asked),
  // but at least `min_real` from now.
  RealTime After(double backend_s, bool compressed = true,
                 SteadyClock::duration min_real = std::chrono::milliseconds(5)) const {
    const double s = compressed ? backend_s * compress_ : backend_s;
    const auto span = sim_.clock.RealSpan(Seconds(s));
    return SteadyClock::now() + std::max<SteadyClock::duration>(span, min_real);
  }
  RealTime AtBackend(TimePoint t, SteadyClock::duration min_real = std::chrono::milliseconds(5)) const {
    return std::max(sim_.clock.RealAt(t), SteadyClock::now() + min_real);
  }
  SteadyClock::duration HeartbeatInterval(const Device& d) const {
    double real_s = std::max(sim_.opt.heartbeat_backend_s / sim_.clock.scale(), sim_.opt.min_heartbeat_real_s);
    if (phase_ == Phase::kRecallWait) real_s *= 3;
    return std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(real_s));
  }
  SteadyClock::duration RetryDelay() const {
    const int n = std::min(errors_, 5);
    return std::chrono::milliseconds(std::min(5000, 200 << n));
  }

  RealTime NextWake() {
    if (phase_ == Phase::kDone) return kNever;
    RealTime next = std::min({action_due_, help_due_, help_reply_due_});
    if (laptop_.active) next = std::min(next, laptop_.next_hb);
    if (phone_.active) next = std::min(next, phone_.next_hb);
    if (next == kNever) {
      // Nothing left that could move this candidate.
      if (!finished_) Log("nothing left to wait for");
      phase_ = Phase::kDone;
      MarkFinished();
    }
    return next;
  }

  void Log(const std::string& what) const { sim_.Log(plan_.registration_no + ": " + what); }

  void MarkFinished() {
    if (finished_) return;
    finished_ = true;
    sim_.MarkFinished();
  }

  std::string NewKey() {
    return "sim-" + sim_.run_id + "-" + plan_.registration_no + "-" + std::to_string(++key_counter_);
  }

  // Asks for an early heartbeat from the laptop (to learn the session after a refusal).
  void RequestSync() {
    Device& d = laptop_.active ? laptop_ : phone_;
    if (!d.active) return;
    d.next_hb = std::min(d.next_hb, std::max(SteadyClock::now(), d.last_hb + std::chrono::milliseconds(100)));
  }

  // --- calls -------------------------------------------------------------------------

  template <typename Req, typename Resp, typename Method>
  CallResult Call(Device& dev, const char* what, Method method, const Req& req, Resp* resp, bool may_rejoin = true) {
    CallResult r;
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (Stopping()) {
        r.rc = Rc::kStopped;
        return r;
      }
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(sim_.opt.rpc_timeout_ms));
      if (!dev.token.empty()) ctx.AddMetadata("authorization", "Bearer " + dev.token);
      {
        InFlight guard(sim_, &ctx);
        r.status = ((*sim_.stub).*method)(&ctx, req, resp);
      }
      if (r.status.ok()) {
        errors_ = 0;
        r.rc = Rc::kOk;
        return r;
      }
      if (Stopping()) {
        r.rc = Rc::kStopped;
        return r;
      }
      const auto code = r.status.error_code();
      if (code == grpc::StatusCode::UNAUTHENTICATED && may_rejoin && attempt == 0 && dev.joined) {
        Log(std::string(what) + ": token refused, signing in again");
        if (Join(dev)) continue;
      }
      r.refusal = ParseRefusal(r.status.error_message());
      switch (code) {
        case grpc::StatusCode::UNIMPLEMENTED: r.rc = Rc::kUnimplemented; return r;
        case grpc::StatusCode::FAILED_PRECONDITION:
        case grpc::StatusCode::OUT_OF_RANGE:
          r.rc = Rc::kRefused;
          break;
        case grpc::StatusCode::UNAVAILABLE:
        case grpc::StatusCode::DEADLINE_EXCEEDED:
        case grpc::StatusCode::RESOURCE_EXHAUSTED:
        case grpc::StatusCode::INTERNAL:
        case grpc::StatusCode::UNKNOWN:
        case grpc::StatusCode::CANCELLED:
          r.rc = Rc::kRetry;
          break;
        case grpc::StatusCode::ABORTED:
          r.rc = r.refusal != core::Refusal::kNone ? Rc::kRefused : Rc::kRetry;
          break;
        default:
          r.rc = r.refusal != core::Refusal::kNone ? Rc::kRefused : Rc::kFatal;
          break;
      }
      if (r.rc == Rc::kRefused) {
        sim_.counters.refusals.fetch_add(1);
        if (sim_.opt.log) Log(std::string(what) + " refused: " + r.status.error_message());
      } else {
        sim_.counters.rpc_errors.fetch_add(1);
        ++errors_;
        Log(std::string(what) + " failed: " + std::to_string(static_cast<int>(code)) + " " + r.status.error_message());
      }
      return r;
    }
    return r;
  }

  // Handles a failed call of the main flow: retries later, or gives the candidate up when
  // errors persist. Returns false when the candidate is done.
  bool Failed(const CallResult& r, const char* what) {
    if (r.rc == Rc::kStopped) return false;
    if (r.rc == Rc::kFatal || r.rc == Rc::kRefused) ++fatal_errors_;
    if (errors_ > 25 || fatal_errors_ > 4 || r.rc == Rc::kUnimplemented) {
      Abandon(std::string(what) + (r.rc == Rc::kUnimplemented ? " is not implemented" : " keeps failing"));
      return false;
    }
    action_due_ = SteadyClock::now() + (r.rc == Rc::kFatal ? std::chrono::seconds(2) : RetryDelay());
    return true;
  }

  void Abandon(const std::string& why) {
    Log("gives up: " + why);
    sim_.counters.failed.fetch_add(1);
    phase_ = Phase::kDone;
    laptop_.active = phone_.active = false;
    action_due_ = help_due_ = help_reply_due_ = kNever;
    MarkFinished();
  }

  bool Join(Device& dev) {
    v1::JoinRequest req;
    req.set_exam_id(sim_.opt.exam_id);
    req.set_registration_no(plan_.registration_no);
    req.set_access_code(sim_.opt.access_code);
    req.set_device(dev.kind);
    req.set_device_model(dev.model);
    v1::JoinResponse resp;
    const std::string saved = dev.token;
    dev.token.clear();
    const RealTime sent = SteadyClock::now();
    CallResult r = Call(dev, "Join", &v1::CandidateService::Stub::Join, req, &resp, /*may_rejoin=*/false);
    if (r.rc != Rc::kOk) {
      dev.token = saved;
      last_join_ = r;
      return false;
    }
    dev.token = resp.token();
    dev.joined = true;
    if (resp.session().updated_at().seconds() > 0 && !sim_.clock.known())
      sim_.clock.Sample(sent, SteadyClock::now(), FromProto(resp.session().updated_at()));
    join_exam_ = resp.exam();
    UpdateSession(resp.session());
    return true;
  }

  // --- heartbeats and staff messages -----------------------------------------------------

  void Heartbeat(Device& dev) {
    v1::HeartbeatRequest req;
    req.set_after_message_id(dev.after_message_id);
    v1::HeartbeatResponse resp;
    const RealTime sent = SteadyClock::now();
    CallResult r = Call(dev, "Heartbeat", &v1::CandidateService::Stub::Heartbeat, req, &resp);
    const RealTime received = SteadyClock::now();
    dev.last_hb = received;
    if (r.rc != Rc::kOk) {
      if (r.rc == Rc::kStopped) return;
      dev.next_hb = received + std::max(HeartbeatInterval(dev), RetryDelay());
      if (errors_ > 25) Abandon("heartbeats keep failing");
      return;
    }
    dev.next_hb = received + HeartbeatInterval(dev);
    sim_.counters.heartbeats.fetch_add(1);
    if (resp.has_now()) sim_.clock.Sample(sent, received, FromProto(resp.now()));
    for (const auto& m : resp.messages()) dev.after_message_id = std::max(dev.after_message_id, m.id());
    if (resp.has_session()) UpdateSession(resp.session());
    for (const auto& m : resp.messages()) {
      if (handled_messages_.insert(m.id()).second) HandleMessage(m, dev);
    }
    if (phase_ == Phase::kAppealWait && !ended_) {
      if (session_.appeal_pending()) appeal_seen_pending_ = true;
      else if (appeal_seen_pending_) AppealApproved();
    }
  }

  void HandleMessage(const v1::StaffMessage& m, Device& dev) {
    sim_.counters.staff_messages.fetch_add(1);
    const std::string& kind = m.kind();
    if (kind == "terminated") {
      Log("terminated by staff: " + m.text());
      OnEnded(v1::OUTCOME_TERMINATED);
    } else if (kind == "appeal-approved") {
      if (phase_ == Phase::kAppealWait && !ended_) AppealApproved();
    } else if (kind == "appeal-rejected") {
      Log("appeal rejected: " + m.text());
      OnEnded(v1::OUTCOME_IDENTITY_REJECTED);
    } else if (kind == "help-reply") {
      if (help_replies_sent_ < plan_.help_replies && !ended_) {
        pending_reply_help_id_ = m.ref_id() != 0 ? m.ref_id() : help_id_;
        if (pending_reply_help_id_ != 0 && help_reply_due_ == kNever)
          help_reply_due_ = After(static_cast<double>(std::uniform_int_distribution<int>(15, 60)(rng_)), false,
                                  std::chrono::milliseconds(50));
      }
    } else if (kind == "recall") {
      Recall(m.ref_id());
    }
  }

  void UpdateSession(const v1::Session& s) {
    if (s.id() == 0) return;
    if (s.version() != 0 && s.version() < session_.version()) return;  // older than what we know
    session_ = s;
    if (SessionEnded(s)) OnEnded(s.outcome());
  }

  // --- main flow ---------------------------------------------------------------------------

  void Act() {
    action_due_ = kNever;
    switch (phase_) {
      case Phase::kArrive: Arrive(); break;
      case Phase::kStages: NextStage(); break;
      case Phase::kFace: FaceCheck(); break;
      case Phase::kAppealFile: FileAppeal(); break;
      case Phase::kAppealWait:
        Log("appeal never decided; leaves");
        sim_.counters.gave_up.fetch_add(1);
        Finish();
        break;
      case Phase::kAnswering: TimelineStep(); break;
      case Phase::kUpload: UploadStep(); break;
      case Phase::kRecallWait:
        Log("upload resume deadline passed without a recall");
        phase_ = Phase::kDone;
        phone_.active = false;
        break;
      case Phase::kStalled:
      case Phase::kAwaitEnd:
      case Phase::kDone:
        break;
    }
  }

  void Arrive() {
    if (!Join(laptop_)) {
      const CallResult& r = last_join_;
      if (r.rc == Rc::kRefused && (r.refusal == core::Refusal::kEntryClosed || r.refusal == core::Refusal::kEnded)) {
        // Some backends refuse a sign-in once the session is over.
        Log("sign-in refused after entry closed");
        OnEnded(v1::OUTCOME_FORFEITED);
        return;
      }
      if (r.rc == Rc::kFatal) {
        // Unknown registration number or wrong access code: retrying cannot help.
        Abandon("cannot sign in: " + r.status.error_message());
        if (bootstrap) sim_.BootstrapFailed(plan_.index);
        return;
      }
      if (!Failed(r, "Join") && bootstrap) sim_.BootstrapFailed(plan_.index);
      return;
    }
    sim_.counters.joined.fetch_add(1);
    exam_ = sim_.exam();
    if (!exam_) exam_ = std::make_shared<ExamInfo>(join_exam_);
    if (bootstrap) {
      // Learn the backend clock before anyone else is scheduled.
      if (!ended_) {
        laptop_.active = true;
        Heartbeat(laptop_);
        if (Stopping()) return;
      }
      sim_.OnExamKnown(join_exam_, plan_.index);
    }
    if (ended_) return;
    laptop_.active = true;
    if (laptop_.next_hb == kNever) laptop_.next_hb = SteadyClock::now() + HeartbeatInterval(laptop_);
    if (plan_.raises_help && session_.open_help() == 0)
      help_due_ = AtBackend(exam().start + core::seconds(plan_.help_at_s), std::chrono::milliseconds(20));
    Log("joined on " + plan_.laptop_model);
    ComputeCompression();
    phase_ = Phase::kStages;
    if (CurrentStage() >= v1::STAGE_FACE_LOGIN) {
      // The session got further before (the simulator restarted): carry on from there.
      // Whether face login was passed is not in the session; assume so and fall back to the
      // face checks if the backend says otherwise.
      Log(std::string("resumes at ") + v1::Stage_Name(CurrentStage()));
      identity_confirmed_ = true;
      if (CurrentStage() == v1::STAGE_FACE_LOGIN && session_.appeal_pending()) {
        appeal_filed_ = appeal_seen_pending_ = true;
        identity_confirmed_ = false;
        phase_ = Phase::kAppealWait;
        action_due_ = appeal_give_up_ = GiveUpOnAppeal(BackendNow());
        return;
      }
      action_due_ = After(1, false);
      return;
    }
    ScheduleNextStage();
  }

  // Squeezes the pre-exam steps when the candidate would otherwise miss the start (demos
  // start the exam minutes after seeding).
  void ComputeCompression() {
    compress_ = 1.0;
    if (plan_.attendance == Attendance::kLate) return;
    double planned = static_cast<double>(plan_.device_check_s + plan_.phone_join_s + plan_.room_scan_s + plan_.draw_s +
                                          plan_.read_attachments_s + plan_.confirm_s + 60);
    for (FaceAttempt a : plan_.face_attempts) {
      planned += static_cast<double>(plan_.face_gap_s);
      if (a == FaceAttempt::kCancel) planned += 60;
    }
    if (plan_.files_appeal) planned += static_cast<double>(plan_.appeal_prepare_s);
    const double available =
        std::chrono::duration<double>(exam().start - core::seconds(60) - BackendNow()).count();
    if (available < planned) compress_ = std::clamp(available / planned, 0.02, 1.0);
  }

  v1::Stage CurrentStage() const { return session_.stage(); }

  void ScheduleNextStage() {
    const auto next = static_cast<v1::Stage>(core::NextStage(static_cast<core::Stage>(CurrentStage())));
    const int64_t d = [&]() -> int64_t {
      switch (next) {
        case v1::STAGE_DEVICE_CHECK: return plan_.device_check_s;
        case v1::STAGE_EVIDENCE_BINDING: return phone_.joined ? plan_.room_scan_s : plan_.phone_join_s;
        case v1::STAGE_DRAW: return plan_.draw_s;
        case v1::STAGE_READ_ATTACHMENTS: return plan_.read_attachments_s;
        case v1::STAGE_DEVICE_CONFIRM: return plan_.confirm_s;
        default: return 5;
      }
    }();
    RealTime due = After(static_cast<double>(d));
    if (next == v1::STAGE_FACE_LOGIN) due = std::max(due, AtBackend(exam().face_opens + core::seconds(1)));
    if (next == v1::STAGE_ENTER)
      due = std::max(due, AtBackend(exam().enter_opens + Seconds(static_cast<double>(plan_.enter_delay_s) * compress_ + 1)));
    if (next == v1::STAGE_ANSWERING)
      due = std::max(due, AtBackend(exam().start + core::seconds(plan_.answer_delay_s + 1)));
    action_due_ = due;
  }

  void NextStage() {
    const v1::Stage cur = CurrentStage();
    const auto next = static_cast<v1::Stage>(core::NextStage(static_cast<core::Stage>(cur)));
    if (cur >= v1::STAGE_EVIDENCE_BINDING && cur != v1::STAGE_ENDED && !phone_.joined) {
      // Signed in again mid-exam (e.g. the simulator restarted): the phone rejoins first.
      if (!Join(phone_)) {
        Failed(last_join_, "Join (phone)");
        return;
      }
      phone_.active = true;
      phone_.next_hb = SteadyClock::now() + HeartbeatInterval(phone_);
      if (ended_) return;
    }
    if (cur == v1::STAGE_ANSWERING) {  // found already answering: follow the countdown from here
      StartAnswering(/*resumed=*/true);
      return;
    }
    if (cur == v1::STAGE_FACE_LOGIN && !identity_confirmed_) {
      phase_ = appeal_filed_ ? Phase::kAppealWait : Phase::kFace;
      action_due_ = appeal_filed_ ? appeal_give_up_ : After(static_cast<double>(plan_.face_gap_s));
      return;
    }
    if (plan_.attendance == Attendance::kStallsBeforeEnter && static_cast<int>(next) == static_cast<int>(plan_.stall_at)) {
      Log(std::string("stalls before ") + std::string(core::StageNameEn(plan_.stall_at)));
      phase_ = Phase::kStalled;
      return;
    }
    if (next == v1::STAGE_EVIDENCE_BINDING && !phone_.joined) {
      if (!Join(phone_)) {
        Failed(last_join_, "Join (phone)");
        return;
      }
      phone_.active = true;
      phone_.next_hb = SteadyClock::now() + HeartbeatInterval(phone_);
      if (ended_) return;
      action_due_ = After(static_cast<double>(plan_.room_scan_s));
      return;
    }
    Device& dev = next == v1::STAGE_EVIDENCE_BINDING ? phone_ : laptop_;
    if (stage_key_.empty()) stage_key_ = NewKey();
    v1::ReportStageRequest req;
    req.set_idempotency_key(stage_key_);
    req.set_stage(next);
    v1::Session resp;
    CallResult r = Call(dev, "ReportStage", &v1::CandidateService::Stub::ReportStage, req, &resp);
    if (r.rc == Rc::kOk) {
      stage_key_.clear();
      stage_refusals_ = 0;
      sim_.counters.stage_reports.fetch_add(1);
      UpdateSession(resp);
      if (ended_) return;
      if (resp.stage() != next && resp.stage() != v1::STAGE_UNSPECIFIED) {
        action_due_ = After(5, false, std::chrono::milliseconds(50));  // the backend disagrees; go on from its stage
        return;
      }
      if (resp.stage() == v1::STAGE_UNSPECIFIED) session_.set_stage(next);
      if (next == v1::STAGE_FACE_LOGIN) {
        phase_ = Phase::kFace;
        action_due_ = After(static_cast<double>(plan_.face_gap_s));
      } else if (next == v1::STAGE_ANSWERING) {
        StartAnswering(/*resumed=*/false);
      } else {
        ScheduleNextStage();
      }
      return;
    }
    if (r.rc != Rc::kRefused) {
      Failed(r, "ReportStage");
      return;
    }
    stage_key_.clear();
    if (++stage_refusals_ > 400) {
      Abandon("stage keeps being refused: " + r.status.error_message());
      return;
    }
    switch (r.refusal) {
      case core::Refusal::kTooEarly:
        action_due_ = After(10, false, std::chrono::milliseconds(100));
        break;
      case core::Refusal::kEntryClosed:
        Log("entry closed: " + r.status.error_message());
        OnEnded(v1::OUTCOME_FORFEITED);
        break;
      case core::Refusal::kIdentityPending:
        phase_ = appeal_filed_ ? Phase::kAppealWait : Phase::kFace;
        identity_confirmed_ = false;
        action_due_ = appeal_filed_ ? appeal_give_up_ : After(static_cast<double>(plan_.face_gap_s));
        RequestSync();
        break;
      default:  // ended, out of order, ...: learn the session and go on from there
        RequestSync();
        action_due_ = After(15, false, std::chrono::milliseconds(250));
        break;
    }
  }

  void FaceCheck() {
    FaceAttempt a;
    if (face_index_ < plan_.face_attempts.size()) a = plan_.face_attempts[face_index_];
    else a = plan_.files_appeal && face_index_ < 12 ? FaceAttempt::kFail : FaceAttempt::kPass;
    std::uniform_real_distribution<double> pass(0.82, 0.97), fail(0.18, 0.55);
    v1::ReportFaceCheckRequest req;
    if (face_key_.empty()) face_key_ = NewKey();
    req.set_idempotency_key(face_key_);
    req.set_passed(a == FaceAttempt::kPass);
    req.set_cancelled(a == FaceAttempt::kCancel);
    req.set_similarity(a == FaceAttempt::kPass ? pass(rng_) : a == FaceAttempt::kFail ? fail(rng_) : 0.0);
    if (a != FaceAttempt::kCancel) req.set_capture(MakePhoto(PhotoKind::kFaceCapture, rng_()));
    v1::FaceCheckResponse resp;
    CallResult r = Call(laptop_, "ReportFaceCheck", &v1::CandidateService::Stub::ReportFaceCheck, req, &resp);
    if (r.rc == Rc::kOk) {
      face_key_.clear();
      ++face_index_;
      if (resp.has_session()) UpdateSession(resp.session());
      if (ended_) return;
      if (a == FaceAttempt::kFail) sim_.counters.face_failures.fetch_add(1);
      if (resp.appeal_required()) {
        Log("face check failed " + std::to_string(resp.failures()) + " times: appeal required");
        phase_ = Phase::kAppealFile;
        action_due_ = After(static_cast<double>(plan_.appeal_prepare_s));
      } else if (a == FaceAttempt::kPass) {
        identity_confirmed_ = true;
        phase_ = Phase::kStages;
        ScheduleNextStage();
      } else if (a == FaceAttempt::kCancel && resp.has_retry_not_before()) {
        action_due_ = std::max(After(static_cast<double>(plan_.face_gap_s)),
                               AtBackend(FromProto(resp.retry_not_before()) + core::seconds(1)));
      } else {
        action_due_ = After(static_cast<double>(plan_.face_gap_s));
      }
      return;
    }
    if (r.rc != Rc::kRefused) {
      Failed(r, "ReportFaceCheck");
      return;
    }
    face_key_.clear();
    switch (r.refusal) {
      case core::Refusal::kRetryTooSoon: {
        const double wait = std::chrono::duration<double>(exam().cancel_wait).count() / 4 + 1;
        action_due_ = After(wait, false, std::chrono::milliseconds(100));
        break;
      }
      case core::Refusal::kIdentityPending:  // an appeal is under review
        appeal_filed_ = true;
        phase_ = Phase::kAppealWait;
        action_due_ = appeal_give_up_ = GiveUpOnAppeal(BackendNow());
        RequestSync();
        break;
      default:
        // Out of order or ended: go on from the session as the backend has it.
        phase_ = Phase::kStages;
        identity_confirmed_ = identity_confirmed_ || CurrentStage() > v1::STAGE_FACE_LOGIN;
        RequestSync();
        action_due_ = After(15, false, std::chrono::milliseconds(250));
        break;
    }
  }

  RealTime GiveUpOnAppeal(TimePoint deadline) const {
    const TimePoint exam_end = exam().start + exam().total_answer;
    return AtBackend(std::max(deadline, exam_end) + core::minutes(10), std::chrono::seconds(5));
  }

  void FileAppeal() {
    v1::FileAppealRequest req;
    if (appeal_key_.empty()) appeal_key_ = NewKey();
    req.set_idempotency_key(appeal_key_);
    req.set_id_front(MakePhoto(PhotoKind::kIdFront, rng_()));
    req.set_id_back(MakePhoto(PhotoKind::kIdBack, rng_()));
    req.set_handheld_id(MakePhoto(PhotoKind::kHandheldId, rng_()));
    v1::FileAppealResponse resp;
    CallResult r = Call(laptop_, "FileAppeal", &v1::CandidateService::Stub::FileAppeal, req, &resp);
    if (r.rc == Rc::kOk || (r.rc == Rc::kRefused && r.refusal == core::Refusal::kIdentityPending)) {
      appeal_key_.clear();
      if (r.rc == Rc::kOk) {
        sim_.counters.appeals_filed.fetch_add(1);
        Log("filed appeal " + std::to_string(resp.appeal_id()));
      }
      appeal_filed_ = true;
      phase_ = Phase::kAppealWait;
      const TimePoint deadline = resp.has_deadline() ? FromProto(resp.deadline()) : BackendNow() + core::hours(2);
      action_due_ = appeal_give_up_ = GiveUpOnAppeal(deadline);
      RequestSync();
      return;
    }
    if (r.rc == Rc::kRefused) {
      appeal_key_.clear();
      RequestSync();
      action_due_ = After(15, false, std::chrono::milliseconds(250));
      if (++stage_refusals_ > 50) Abandon("appeal keeps being refused: " + r.status.error_message());
      return;
    }
    Failed(r, "FileAppeal");
  }

  void AppealApproved() {
    Log("appeal approved");
    identity_confirmed_ = true;
    phase_ = Phase::kStages;
    ScheduleNextStage();
  }

  // --- answering ---------------------------------------------------------------------------

  void StartAnswering(bool resumed) {
    phase_ = Phase::kAnswering;
    reached_answering_ = true;
    const ExamInfo& e = exam();
    TimePoint begin = std::max(BackendNow(), e.start);
    if (session_.has_question_deadline() && session_.current_question() >= 1)
      begin = FromProto(session_.question_deadline()) -
              (e.QuestionEnd(TimePoint{}, static_cast<size_t>(session_.current_question())) - TimePoint{});
    answering_begin_ = begin;
    timeline_.clear();
    deferred_.clear();
    const size_t n = e.answer.size();
    for (size_t i = 1; i <= n; ++i) {
      const TimePoint qs = e.QuestionEnd(begin, i - 1), qe = e.QuestionEnd(begin, i);
      timeline_.push_back({i == 1 ? qs : qs + core::seconds(1), StepKind::kShow, static_cast<int>(i)});
      const Duration margin = std::min<Duration>(core::seconds(plan_.complete_margin_s), e.answer[i - 1] / 4);
      timeline_.push_back({qe - margin, StepKind::kComplete, static_cast<int>(i)});
    }
    // A resume meant to be in time keeps a margin of at least half a real second to the
    // limit, so a busy machine at a fast clock does not turn it into a late one.
    const Duration safety = std::min<Duration>(
        e.resume_limit / 2, std::max<Duration>(core::seconds(30), Seconds(0.5 * sim_.clock.scale())));
    for (const auto& ip : plan_.interruptions) {
      const TimePoint t = begin + Seconds(ip.at_fraction * std::chrono::duration<double>(e.total_answer).count());
      Duration length = core::seconds(ip.length_s);
      if (length <= e.resume_limit) length = std::min(length, e.resume_limit - safety);
      timeline_.push_back({t, StepKind::kInterruptStart, 0});
      timeline_.push_back({t + length, StepKind::kInterruptEnd, 0});
    }
    timeline_.push_back({e.QuestionEnd(begin, n) + core::seconds(1), StepKind::kEndCheck, 0});
    std::stable_sort(timeline_.begin(), timeline_.end(),
                     [](const TimedStep& a, const TimedStep& b) { return a.at < b.at; });
    if (resumed) {
      // Joined part-way: what already went by is not replayed.
      const TimePoint now = BackendNow();
      const int current = session_.current_question();
      std::erase_if(timeline_, [&](const TimedStep& st) {
        if (st.kind == StepKind::kShow || st.kind == StepKind::kComplete) return st.question < current;
        if (st.kind == StepKind::kEndCheck) return false;
        return st.at < now;
      });
      if (session_.has_interruption_started_at()) {  // the recording comes back now
        interrupted_ = true;
        timeline_.insert(timeline_.begin(), TimedStep{now, StepKind::kInterruptEnd, 0});
      }
    }
    step_ = 0;
    step_retries_ = 0;
    action_due_ = AtBackend(timeline_[0].at, std::chrono::milliseconds(1));
  }

  // What was due while the recording was down happens right after it resumes: the question
  // on screen is reported, and a missed "该题回答完毕" is said late (the backend accepts it
  // up to one question behind).
  void ReplayDeferred() {
    const TimePoint now = BackendNow();
    auto at = timeline_.begin() + static_cast<std::ptrdiff_t>(std::min(step_ + 1, timeline_.size()));
    for (TimedStep st : deferred_) {
      st.at = now;
      at = timeline_.insert(at, st) + 1;
    }
    deferred_.clear();
  }

  void AdvanceTimeline() {
    ++step_;
    step_retries_ = 0;
    if (step_ < timeline_.size()) action_due_ = AtBackend(timeline_[step_].at, std::chrono::milliseconds(1));
  }

  void TimelineStep() {
    if (step_ >= timeline_.size()) {
      phase_ = Phase::kAwaitEnd;
      return;
    }
    const TimedStep st = timeline_[step_];
    switch (st.kind) {
      case StepKind::kShow:
      case StepKind::kComplete: {
        const bool complete = st.kind == StepKind::kComplete;
        if (interrupted_) {
          deferred_.push_back(st);  // said once the recording is back
          AdvanceTimeline();
          return;
        }
        if (!complete && session_.current_question() > st.question) {
          AdvanceTimeline();  // the question already went by
          return;
        }
        v1::ReportQuestionRequest req;
        if (step_key_.empty()) step_key_ = NewKey();
        req.set_idempotency_key(step_key_);
        req.set_question(st.question);
        req.set_answer_complete(complete);
        v1::Session resp;
        CallResult r = Call(laptop_, "ReportQuestion", &v1::CandidateService::Stub::ReportQuestion, req, &resp);
        if (r.rc == Rc::kOk) {
          step_key_.clear();
          sim_.counters.questions_reported.fetch_add(1);
          UpdateSession(resp);
          if (!ended_) AdvanceTimeline();
          return;
        }
        if (r.rc != Rc::kRefused) {
          Failed(r, "ReportQuestion");
          return;
        }
        step_key_.clear();
        if (r.refusal == core::Refusal::kWrongQuestion && !complete && ++step_retries_ < 40) {
          // The backend has not auto-advanced yet: try again shortly.
          action_due_ = After(1, false, std::chrono::milliseconds(50));
          return;
        }
        RequestSync();
        AdvanceTimeline();
        return;
      }
      case StepKind::kInterruptStart:
      case StepKind::kInterruptEnd: {
        const bool started = st.kind == StepKind::kInterruptStart;
        if (!started && !interrupted_) {
          AdvanceTimeline();
          return;
        }
        v1::ReportInterruptionRequest req;
        if (step_key_.empty()) step_key_ = NewKey();
        req.set_idempotency_key(step_key_);
        req.set_started(started);
        v1::Session resp;
        CallResult r = Call(laptop_, "ReportInterruption", &v1::CandidateService::Stub::ReportInterruption, req, &resp);
        if (r.rc == Rc::kOk) {
          step_key_.clear();
          interrupted_ = started;
          if (started) {
            sim_.counters.interruptions.fetch_add(1);
            Log("recording interrupted");
          } else {
            Log("recording resumed");
          }
          UpdateSession(resp);
          if (ended_) return;
          if (!started) ReplayDeferred();
          AdvanceTimeline();
          return;
        }
        if (r.rc != Rc::kRefused) {
          Failed(r, "ReportInterruption");
          return;
        }
        step_key_.clear();
        if (r.refusal == core::Refusal::kAlreadyInterrupted) interrupted_ = true;
        if (r.refusal == core::Refusal::kNoInterruption) {
          interrupted_ = false;
          ReplayDeferred();
        }
        if (r.refusal == core::Refusal::kEnded) Log("resumed too late: " + r.status.error_message());
        RequestSync();
        AdvanceTimeline();
        return;
      }
      case StepKind::kEndCheck:
        phase_ = Phase::kAwaitEnd;
        RequestSync();
        return;
    }
  }

  // --- help ----------------------------------------------------------------------------------

  void RaiseHelp() {
    if (ended_ || !laptop_.joined) {
      help_due_ = ended_ ? kNever : After(10, false, std::chrono::milliseconds(100));
      return;
    }
    v1::RaiseHelpRequest req;
    if (help_key_.empty()) help_key_ = NewKey();
    req.set_idempotency_key(help_key_);
    req.set_text(plan_.help_text);
    v1::RaiseHelpResponse resp;
    CallResult r = Call(laptop_, "RaiseHelp", &v1::CandidateService::Stub::RaiseHelp, req, &resp);
    if (r.rc == Rc::kRetry && ++help_attempts_ < 10) {
      help_due_ = SteadyClock::now() + RetryDelay();
      return;
    }
    help_due_ = kNever;
    help_key_.clear();
    if (r.rc == Rc::kOk) {
      help_id_ = resp.help_id();
      sim_.counters.help_raised.fetch_add(1);
      Log("raised help " + std::to_string(help_id_) + ": " + plan_.help_text);
    }
  }

  void SendHelpReply() {
    help_reply_due_ = kNever;
    if (pending_reply_help_id_ == 0) return;
    static const char* const kReplies[] = {"好的，我试一下", "已经重新打开了，谢谢老师", "还是不行，画面一直是黑的",
                                           "可以了，谢谢", "收到"};
    v1::SendHelpMessageRequest req;
    req.set_idempotency_key(NewKey());
    req.set_help_id(pending_reply_help_id_);
    req.set_text(kReplies[std::uniform_int_distribution<int>(0, 4)(rng_)]);
    v1::SendHelpMessageResponse resp;
    CallResult r = Call(laptop_, "SendHelpMessage", &v1::CandidateService::Stub::SendHelpMessage, req, &resp);
    ++help_replies_sent_;
    if (r.rc == Rc::kOk) sim_.counters.help_messages_sent.fetch_add(1);
  }

  // --- the end and uploads ------------------------------------------------------------------

  void OnEnded(v1::Outcome outcome) {
    if (ended_) return;
    ended_ = true;
    if (session_.has_ended_at()) ended_at_ = FromProto(session_.ended_at());
    else ended_at_ = BackendNow();
    auto& c = sim_.counters;
    switch (outcome) {
      case v1::OUTCOME_COMPLETED: c.completed.fetch_add(1); break;
      case v1::OUTCOME_ENDED_EARLY: c.ended_early.fetch_add(1); break;
      case v1::OUTCOME_FORFEITED: c.forfeited.fetch_add(1); break;
      case v1::OUTCOME_TERMINATED: c.terminated.fetch_add(1); break;
      case v1::OUTCOME_IDENTITY_REJECTED: c.identity_rejected.fetch_add(1); break;
      default: break;
    }
    Log(std::string("session ended: ") + v1::Outcome_Name(outcome));
    help_due_ = help_reply_due_ = kNever;
    timeline_.clear();
    deferred_.clear();
    interrupted_ = false;
    PrepareUploads();
    if (!files_.empty()) {
      phase_ = Phase::kUpload;
      action_due_ = After(static_cast<double>(std::uniform_int_distribution<int>(5, 40)(rng_)), false,
                          std::chrono::milliseconds(10));
    } else {
      Finish();
    }
  }

  void PrepareUploads() {
    files_.clear();
    if (!reached_answering_) return;  // nothing was recorded
    std::uniform_real_distribution<double> spread(0.5, 1.5);
    auto add = [&](Device* dev, const char* suffix, v1::TrackKind kind, bool pending) {
      File f;
      f.device = dev;
      f.name = plan_.registration_no + "-" + suffix + ".mp4";
      f.kind = kind;
      f.size = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(sim_.opt.upload_file_bytes) * spread(rng_)));
      f.content_seed = rng_();
      f.leave_pending = pending;
      files_.push_back(f);
    };
    add(&laptop_, "camera", v1::TRACK_KIND_CAMERA, false);
    add(&laptop_, "screen", v1::TRACK_KIND_SCREEN, false);
    if (phone_.joined) add(&phone_, "evidence", v1::TRACK_KIND_EVIDENCE, plan_.phone_upload_left_pending);
  }

  // Handles a failed Begin/Commit: a refusal gives the file up, anything else retries later.
  // True when the caller must stop here.
  bool StopOnUploadFailure(File* f, const CallResult& r, const char* what) {
    if (r.rc == Rc::kOk) return false;
    if (r.rc == Rc::kRefused || r.rc == Rc::kFatal) {
      Log(std::string(what) + " refused: " + r.status.error_message());
      f->done = true;
      action_due_ = SteadyClock::now();
      return true;
    }
    Failed(r, what);
    return true;
  }

  // Takes the backend's word on how far a file got; true when it is already complete.
  bool TakeStatus(File* f, const v1::UploadStatus& st) {
    f->committed = st.committed();
    if (!st.complete()) return false;
    f->done = true;
    sim_.counters.uploads_completed.fetch_add(1);
    action_due_ = SteadyClock::now();
    return true;
  }

  void UploadStep() {
    File* f = nullptr;
    for (File& x : files_)
      if (!x.done && !x.parked) {
        f = &x;
        break;
      }
    if (!f) {
      Finish();
      return;
    }
    const std::string data = PseudoRandomBytes(static_cast<size_t>(f->size), f->content_seed);
    if (f->sha256.empty()) f->sha256 = Sha256Hex(data);
    auto unimplemented = [&](const char* what) {
      sim_.counters.uploads_unimplemented.fetch_add(1);
      Log(std::string(what) + " is not implemented by the backend; upload skipped");
      for (File& x : files_) x.done = true;  // the backend cannot take any of them
      Finish();
    };
    Device& dev = *f->device;
    if (!f->begun) {
      v1::BeginUploadRequest req;
      req.set_name(f->name);
      req.set_kind(f->kind);
      req.set_size(f->size);
      req.set_sha256(f->sha256);
      v1::UploadStatus st;
      CallResult r = Call(dev, "BeginUpload", &v1::CandidateService::Stub::BeginUpload, req, &st);
      if (r.rc == Rc::kUnimplemented) return unimplemented("BeginUpload");
      if (StopOnUploadFailure(f, r, "BeginUpload")) return;
      f->begun = true;
      f->file_id = st.file_id();
      if (TakeStatus(f, st)) return;
    } else if (f->needs_status) {
      v1::GetUploadStatusRequest req;
      req.set_file_id(f->file_id);
      v1::UploadStatus st;
      CallResult r = Call(dev, "GetUploadStatus", &v1::CandidateService::Stub::GetUploadStatus, req, &st);
      if (r.rc == Rc::kUnimplemented) return unimplemented("GetUploadStatus");
      if (r.rc != Rc::kOk) {
        Failed(r, "GetUploadStatus");
        return;
      }
      f->needs_status = false;
      if (TakeStatus(f, st)) return;
    }
    const int64_t chunk = std::max(1, sim_.opt.upload_chunk_bytes);
    int sent = 0;
    while (f->committed < f->size && !Stopping()) {
      if (f->leave_pending && sent >= 1) {
        f->parked = true;
        sim_.counters.uploads_pending.fetch_add(1);
        Log("leaves " + f->name + " pending at " + std::to_string(f->committed) + "/" + std::to_string(f->size));
        action_due_ = SteadyClock::now();
        return;
      }
      const int64_t n = std::min(chunk, f->size - f->committed);
      v1::UploadChunkRequest req;
      req.set_file_id(f->file_id);
      req.set_offset(f->committed);
      req.set_data(data.substr(static_cast<size_t>(f->committed), static_cast<size_t>(n)));
      req.set_checksum(Sha256Hex(req.data()));
      v1::UploadStatus st;
      CallResult r = Call(dev, "UploadChunk", &v1::CandidateService::Stub::UploadChunk, req, &st);
      if (r.rc == Rc::kUnimplemented) return unimplemented("UploadChunk");
      if (r.rc != Rc::kOk) {
        f->needs_status = true;  // learn where to resume from
        if (r.rc == Rc::kRefused && ++upload_refusals_ > 10) {
          Log("upload of " + f->name + " keeps being refused: " + r.status.error_message());
          f->done = true;
          action_due_ = SteadyClock::now();
          return;
        }
        Failed(r, "UploadChunk");
        return;
      }
      ++sent;
      const int64_t before = f->committed;
      f->committed = st.committed() > 0 ? st.committed() : before + n;
      if (f->committed <= before) {  // no progress: ask where it stands next time
        f->needs_status = true;
        action_due_ = SteadyClock::now() + RetryDelay();
        ++errors_;
        return;
      }
    }
    if (Stopping()) return;
    v1::CommitUploadRequest req;
    req.set_file_id(f->file_id);
    v1::UploadStatus st;
    CallResult r = Call(dev, "CommitUpload", &v1::CandidateService::Stub::CommitUpload, req, &st);
    if (r.rc == Rc::kUnimplemented) return unimplemented("CommitUpload");
    if (StopOnUploadFailure(f, r, "CommitUpload")) return;
    f->done = true;
    sim_.counters.uploads_completed.fetch_add(1);
    action_due_ = SteadyClock::now();
  }

  void Recall(int64_t file_id) {
    for (File& f : files_) {
      if (!f.parked || (file_id != 0 && f.file_id != file_id)) continue;
      Log("recall: resuming " + f.name);
      f.parked = false;
      f.leave_pending = false;
      f.needs_status = true;
      sim_.counters.uploads_pending.fetch_sub(1);
      sim_.counters.recalls_handled.fetch_add(1);
      phase_ = Phase::kUpload;
      action_due_ = SteadyClock::now();
      return;
    }
    for (File& f : files_)  // a recall before the file was parked: upload it whole
      if (!f.done && f.leave_pending && (file_id == 0 || f.file_id == file_id || f.file_id == 0)) f.leave_pending = false;
  }

  // The candidate has nothing more to do of its own accord.
  void Finish() {
    laptop_.active = false;
    const bool parked = std::any_of(files_.begin(), files_.end(), [](const File& f) { return f.parked && !f.done; });
    if (parked && phone_.joined && !Stopping()) {
      phase_ = Phase::kRecallWait;
      phone_.active = true;
      phone_.next_hb = std::min(phone_.next_hb, SteadyClock::now() + HeartbeatInterval(phone_));
      action_due_ = AtBackend(ended_at_ + exam().upload_resume_deadline, std::chrono::milliseconds(10));
    } else {
      phase_ = Phase::kDone;
      phone_.active = false;
      action_due_ = kNever;
    }
    help_due_ = help_reply_due_ = kNever;
    MarkFinished();
  }

  Impl& sim_;
  const CandidatePlan& plan_;
  std::mt19937_64 rng_;
  std::shared_ptr<const ExamInfo> exam_;
  v1::Exam join_exam_;
  CallResult last_join_;

  Phase phase_ = Phase::kArrive;
  bool finished_ = false;
  Device laptop_, phone_;
  v1::Session session_;
  double compress_ = 1.0;

  RealTime action_due_ = kNever;
  RealTime help_due_ = kNever;
  RealTime help_reply_due_ = kNever;

  int errors_ = 0;
  int fatal_errors_ = 0;
  int stage_refusals_ = 0;
  int upload_refusals_ = 0;
  uint64_t key_counter_ = 0;
  std::string stage_key_, face_key_, appeal_key_, step_key_, help_key_;

  size_t face_index_ = 0;
  bool identity_confirmed_ = false;
  bool appeal_filed_ = false;
  bool appeal_seen_pending_ = false;
  RealTime appeal_give_up_ = kNever;

  bool reached_answering_ = false;
  TimePoint answering_begin_;
  std::vector<TimedStep> timeline_;
  size_t step_ = 0;
  int step_retries_ = 0;
  bool interrupted_ = false;
  std::vector<TimedStep> deferred_;  // question steps that fell into an interruption

  int64_t help_id_ = 0;
  int help_attempts_ = 0;
  int help_replies_sent_ = 0;
  int64_t pending_reply_help_id_ = 0;
  std::set<int64_t> handled_messages_;

  bool ended_ = false;
  TimePoint ended_at_;
  std::vector<File> files_;
};

}  // namespace

// --- the simulator ----------------------------------------------------------------------

CandidateSimulator::Impl::Impl(SimulatorOptions o)
    : opt(std::move(o)), plans(MakePlans(opt.registration_nos, opt.seed)), clock(opt.time_scale) {
  if (opt.worker_threads < 1) opt.worker_threads = 1;
  if (opt.rpc_timeout_ms < 100) opt.rpc_timeout_ms = 100;
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (opt.tls_root_certs_pem.empty()) {
    creds = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = opt.tls_root_certs_pem;
    creds = grpc::SslCredentials(ssl);
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(16 * 1024 * 1024);
  channel = grpc::CreateCustomChannel(opt.address, creds, args);
  stub = v1::CandidateService::NewStub(channel);
  candidates.reserve(plans.size());
  for (const auto& p : plans) candidates.push_back(std::make_unique<Candidate>(*this, p));
}

void CandidateSimulator::Impl::Start() {
  std::lock_guard lk(q_mu);
  if (started || stopping.load()) return;
  started = true;
  int bootstrap = -1;
  for (size_t i = 0; i < plans.size(); ++i) {
    if (plans[i].attendance == Attendance::kNoShow) {
      counters.no_shows.fetch_add(1);
      candidates[i]->FinishUnscheduled();
    } else if (bootstrap < 0 && plans[i].attendance == Attendance::kOnTime) {
      bootstrap = static_cast<int>(i);
    }
  }
  if (bootstrap < 0)
    for (size_t i = 0; i < plans.size() && bootstrap < 0; ++i)
      if (!candidates[i]->finished()) bootstrap = static_cast<int>(i);
  if (bootstrap >= 0) {
    candidates[bootstrap]->bootstrap = true;
    candidates[bootstrap]->ArriveAt(SteadyClock::now());
    queue.push({SteadyClock::now(), ++seq, bootstrap});
  }
  Log("simulating " + std::to_string(plans.size()) + " candidates (seed " + std::to_string(opt.seed) + ")");
  for (int i = 0; i < opt.worker_threads; ++i) workers.emplace_back([this] { Worker(); });
}

void CandidateSimulator::Impl::Stop() {
  {
    std::lock_guard lk(q_mu);
    stopping.store(true);
  }
  q_cv.notify_all();
  {
    std::lock_guard lk(calls_mu);
    for (grpc::ClientContext* c : calls) c->TryCancel();
  }
  for (auto& t : workers)
    if (t.joinable()) t.join();
  workers.clear();
}

void CandidateSimulator::Impl::Push(int index, RealTime due) {
  {
    std::lock_guard lk(q_mu);
    if (stopping.load()) return;
    queue.push({due, ++seq, index});
  }
  q_cv.notify_one();
}

void CandidateSimulator::Impl::Worker() {
  std::unique_lock lk(q_mu);
  while (!stopping.load()) {
    if (queue.empty()) {
      q_cv.wait(lk);
      continue;
    }
    const Item top = queue.top();
    if (top.due > SteadyClock::now()) {
      q_cv.wait_until(lk, top.due);
      continue;
    }
    queue.pop();
    // Another worker may be needed for what is now at the top.
    if (!queue.empty()) q_cv.notify_one();
    lk.unlock();
    const RealTime next = candidates[static_cast<size_t>(top.index)]->Run();
    lk.lock();
    if (next != kNever && !stopping.load()) {
      queue.push({next, ++seq, top.index});
      q_cv.notify_one();
    }
  }
}

void CandidateSimulator::Impl::OnExamKnown(const v1::Exam& exam, int bootstrap_index) {
  std::shared_ptr<const ExamInfo> info;
  {
    std::lock_guard lk(exam_mu);
    if (exam_info) return;
    exam_info = std::make_shared<ExamInfo>(exam);
    info = exam_info;
  }
  Log("exam " + std::to_string(info->exam_id) + " starts " + TimeUtil::ToString(exam.start_time()) + " (" +
      std::to_string(info->answer.size()) + " questions)");
  std::vector<std::pair<int, RealTime>> due;
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (static_cast<int>(i) == bootstrap_index || candidates[i]->finished()) continue;
    due.emplace_back(static_cast<int>(i), candidates[i]->ArrivalDue(*info));
    candidates[i]->ArriveAt(due.back().second);
  }
  {
    std::lock_guard lk(q_mu);
    if (stopping.load()) return;
    for (const auto& [i, t] : due) queue.push({t, ++seq, i});
  }
  q_cv.notify_all();
}

void CandidateSimulator::Impl::BootstrapFailed(int index) {
  if (exam()) return;
  // A few candidates may fail for reasons of their own; when several in a row cannot sign
  // in, nobody can (wrong address or access code).
  static constexpr int kMaxBootstrapTries = 3;
  if (++bootstrap_failures < kMaxBootstrapTries)
    for (size_t i = static_cast<size_t>(index) + 1; i < candidates.size(); ++i) {
    if (candidates[i]->finished()) continue;
    candidates[i]->bootstrap = true;
      candidates[i]->ArriveAt(SteadyClock::now());
      Push(static_cast<int>(i), SteadyClock::now());
      return;
    }
  Log("no candidate could sign in; the simulation is over");
  // Nobody could sign in: every remaining candidate is over.
  for (auto& c : candidates)
    if (!c->finished()) c->FinishUnscheduled();
}

CandidateSimulator::CandidateSimulator(SimulatorOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
CandidateSimulator::~CandidateSimulator() { Stop(); }
void CandidateSimulator::Start() { impl_->Start(); }
void CandidateSimulator::Stop() { impl_->Stop(); }
bool CandidateSimulator::Finished() const {
  return impl_->finished_count.load() >= static_cast<int>(impl_->candidates.size());
}
const std::vector<CandidatePlan>& CandidateSimulator::Plans() const { return impl_->plans; }

SimulatorStats CandidateSimulator::Stats() const {
  const Counters& c = impl_->counters;
  SimulatorStats s;
  s.joined = c.joined;
  s.stage_reports = c.stage_reports;
  s.face_failures = c.face_failures;
  s.appeals_filed = c.appeals_filed;
  s.help_raised = c.help_raised;
  s.interruptions = c.interruptions;
  s.ended_early = c.ended_early;
  s.completed = c.completed;
  s.forfeited = c.forfeited;
  s.rpc_errors = c.rpc_errors;
  s.uploads_pending = c.uploads_pending;
  s.terminated = c.terminated;
  s.identity_rejected = c.identity_rejected;
  s.no_shows = c.no_shows;
  s.gave_up = c.gave_up;
  s.failed = c.failed;
  s.refusals = c.refusals;
  s.heartbeats = c.heartbeats;
  s.staff_messages = c.staff_messages;
  s.help_messages_sent = c.help_messages_sent;
  s.questions_reported = c.questions_reported;
  s.uploads_completed = c.uploads_completed;
  s.uploads_unimplemented = c.uploads_unimplemented;
  s.recalls_handled = c.recalls_handled;
  return s;
}

}  // namespace exam::sim
