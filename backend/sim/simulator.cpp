// The candidate simulator: every candidate is a small state machine whose steps run on a
// shared pool of worker threads, woken from one timed queue. A candidate has at most one
// entry in the queue, so its steps never run concurrently and need no locking.
#include "backend/sim/simulator.h"

#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <queue>
#include <random>
#include <set>
#include <thread>
#include <unordered_set>

#include "backend/sim/blobs.h"
#include "backend/sim/live_pusher.h"
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
      uploads_unimplemented{0}, recalls_handled{0}, second_cameras{0}, uploads_begun{0}, slow_uploads{0},
      uploads_late{0}, uploads_paused{0}, uploads_resumed{0}, devices_offline{0}, devices_back{0}, uploads_stuck{0},
      stuck_chunks_refused{0}, uploads_unstuck{0}, uploads_abnormal{0}, rerecords{0}, rerecords_completed{0},
      uploads_expired{0}, uploads_refused{0};
};

// Upload pacing. A device sends one chunk about every kChunkSpacing of backend time (its
// bandwidth decides the chunk's size): half the backend's two-minute quiet limit after which
// a file counts as interrupted, and few enough calls that thousands of devices uploading at
// once stay cheap (every chunk is a durable write on the backend). A stuck device retries
// every kStuckRetry.
constexpr double kChunkSpacingS = 60;
constexpr double kStuckRetryS = 60;
constexpr int64_t kMaxChunkBytes = 1024 * 1024;

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
  std::unique_ptr<LivePusher> live;  // null when live media is off
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
      : sim_(sim),
        plan_(plan),
        rng_(Mix(sim.opt.seed ^ Mix(0xA11CEull + static_cast<uint64_t>(plan.index)))),
        upload_rng_(Mix(sim.opt.seed ^ Mix(0xF11E5ull + static_cast<uint64_t>(plan.index)))) {
    laptop_.kind = v1::DEVICE_KIND_LAPTOP;
    laptop_.model = plan.laptop_model;
    phone_.kind = v1::DEVICE_KIND_EVIDENCE_PHONE;
    phone_.model = plan.phone_model;
    second_.kind = v1::DEVICE_KIND_SECOND_CAMERA;
    second_.model = plan.second_camera_model;
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
    for (Device* d : Devices()) {
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
    kUpload,      // each device pushes its recordings at its own pace, or waits for staff
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
    // Uploads after the end.
    double bytes_per_s = 1;       // bandwidth, bytes per backend second
    RealTime upload_due = kNever; // its next upload step
    bool offline = false;         // by plan: silent (no heartbeats, no uploads) until upload_due
    bool waiting = false;         // holds only files that wait for staff (heartbeats less often)
    std::set<int64_t> acted;      // file messages (recall, rerecord) this device acted on
    bool live = false;            // pushing its live tracks
  };

  enum class StepKind { kShow, kComplete, kInterruptStart, kInterruptEnd, kEndCheck };
  struct TimedStep {
    TimePoint at;
    StepKind kind;
    int question = 0;
  };

  // One recording on one device; only that device pushes it.
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
    int refusals = 0;           // refused calls in a row
    // What the plan does to it.
    bool leave_pending = false;     // one chunk, then parked until a recall
    bool parked = false;            // deliberately left incomplete
    bool slow = false;              // its device cannot make the deadline
    bool failed_recording = false;  // announced abnormal, never pushed
    std::string failure;
    bool awaiting_rerecord = false; // abnormal: waits for support to allow a re-record
    bool rerecording = false;       // this file is a re-recording
    RealTime not_before = RealTime::min();  // re-recording: ready then
    std::vector<std::pair<int64_t, double>> pauses;  // (committed offset, backend seconds), in order
    size_t next_pause = 0;
    int64_t offline_at = -1;        // the device goes offline once this much is committed
    int64_t stuck_at = -1;          // from this offset on every chunk fails, until a recall
    bool stuck = false;
    bool resuming = false;          // the next status ends a pause or an offline spell
    int chunks_sent = 0;
    // Waits for staff (a recall, a re-record) rather than for its own device.
    bool Waiting() const { return !done && (parked || awaiting_rerecord || stuck); }
  };

  std::array<Device*, 3> Devices() { return {&laptop_, &phone_, &second_}; }

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
    if (d.waiting) real_s *= 3;
    return std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(real_s));
  }
  SteadyClock::duration RetryDelay() const {
    const int n = std::min(errors_, 5);
    return std::chrono::milliseconds(std::min(5000, 200 << n));
  }

  RealTime NextWake() {
    if (phase_ == Phase::kDone) return kNever;
    RealTime next = std::min({action_due_, help_due_, help_reply_due_});
    for (Device* d : Devices())
      if (d->active) next = std::min(next, d->next_hb);
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

  // --- live media ----------------------------------------------------------------------

  // The tracks a device pushes live.
  static std::vector<media::LoopTrack> LiveTracks(const Device& d) {
    if (d.kind == v1::DEVICE_KIND_LAPTOP) return {media::LoopTrack::kCamera, media::LoopTrack::kScreen};
    if (d.kind == v1::DEVICE_KIND_EVIDENCE_PHONE) return {media::LoopTrack::kEvidence};
    return {};
  }
  void LiveOn(Device& d) {
    if (!sim_.live || !d.joined || ended_) return;
    d.live = true;
    // Each candidate starts somewhere else in the loop, so the wall does not move in step.
    const int offset = static_cast<int>(Mix(sim_.opt.seed ^ Mix(0x11FEull + static_cast<uint64_t>(plan_.index))) % 64);
    for (media::LoopTrack t : LiveTracks(d)) sim_.live->Want({plan_.index, t}, d.token, offset);
  }
  void LiveOff(Device& d) {
    if (!sim_.live || !d.live) return;
    d.live = false;
    for (media::LoopTrack t : LiveTracks(d)) sim_.live->Drop({plan_.index, t});
  }
  void LiveOffAll() {
    for (Device* d : Devices()) LiveOff(*d);
  }

  // --- calls -------------------------------------------------------------------------

  template <typename Req, typename Resp, typename Method>
  CallResult Call(Device& dev, const char* what, Method method, const Req& req, Resp* resp, bool may_rejoin = true,
                  bool expect_failure = false) {
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
      if (expect_failure) return r;  // the plan made it fail: not an error
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
    LiveOffAll();
    for (Device* d : Devices()) d->active = false;
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
    if (dev.live) LiveOn(dev);  // signed in again: later reopenings use the new token
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
      // Every device sees the session's messages; each acts on the files it holds.
      if ((m.kind() == "recall" || m.kind() == "rerecord") && dev.acted.insert(m.id()).second) {
        if (m.kind() == "recall") Recall(m.ref_id(), dev);
        else Rerecord(m.ref_id(), dev);
      }
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

  bool EvidenceDevicesJoined() const { return phone_.joined && (second_.joined || !plan_.has_second_camera); }

  // Signs in the evidence phone and, where the candidate has one, the second camera with it
  // (二机位 is set up together with the evidence binding). False when a sign-in failed; it is
  // retried later.
  bool JoinEvidenceDevices() {
    for (Device* d : {&phone_, &second_}) {
      if (d->joined || (d == &second_ && !plan_.has_second_camera)) continue;
      if (!Join(*d)) {
        Failed(last_join_, d == &phone_ ? "Join (phone)" : "Join (second camera)");
        return false;
      }
      if (d == &second_) {
        sim_.counters.second_cameras.fetch_add(1);
        Log("second camera joined on " + second_.model);
      }
      d->active = true;
      d->next_hb = SteadyClock::now() + HeartbeatInterval(*d);
      if (ended_) return true;
    }
    return true;
  }

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
    if (cur >= v1::STAGE_EVIDENCE_BINDING && cur != v1::STAGE_ENDED && !EvidenceDevicesJoined()) {
      // Signed in again mid-exam (e.g. the simulator restarted): the phone (and the second
      // camera) rejoin first.
      if (!JoinEvidenceDevices() || ended_) return;
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
    if (next == v1::STAGE_EVIDENCE_BINDING && !EvidenceDevicesJoined()) {
      if (!JoinEvidenceDevices() || ended_) return;
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
    // The camera, the screen and the evidence phone go live with the answering.
    LiveOn(laptop_);
    LiveOn(phone_);
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
            LiveOff(laptop_);  // the laptop's streams stall with its recording
          } else {
            Log("recording resumed");
            LiveOn(laptop_);
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
          LiveOn(laptop_);
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
    LiveOffAll();
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
    if (files_.empty()) {
      Finish();
      return;
    }
    phase_ = Phase::kUpload;
    const Duration resume = exam_ ? exam().upload_resume_deadline : core::hours(2);
    upload_deadline_ = ended_at_ + resume;
    wait_until_ = AtBackend(upload_deadline_, std::chrono::milliseconds(10));
    for (Device* d : Devices()) {
      const bool holds = std::any_of(files_.begin(), files_.end(), [d](const File& f) { return f.device == d; });
      if (holds)
        d->upload_due = After(static_cast<double>(std::uniform_int_distribution<int>(5, 40)(upload_rng_)) / Speedup(),
                              false, std::chrono::milliseconds(10));
    }
    ScheduleUploads();
  }

  double Speedup() const { return std::max(1e-3, sim_.opt.upload_speedup); }

  // A recording of `size_factor` times the nominal size for `dev`.
  File NewFile(Device* dev, std::string name, v1::TrackKind kind, double size_factor) {
    File f;
    f.device = dev;
    f.name = std::move(name);
    f.kind = kind;
    f.size = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(sim_.opt.upload_file_bytes) * size_factor));
    f.content_seed = upload_rng_();
    f.sha256 = RecordingSha256(f.content_seed, f.size);
    return f;
  }

  // The recordings each device holds, with what the plan does to them. Sizes and contents
  // come from a generator of the candidate's own, so a restarted simulator announces the
  // same files.
  void PrepareUploads() {
    files_.clear();
    if (!reached_answering_) return;  // nothing was recorded
    const double nominal = static_cast<double>(std::max<int64_t>(1, sim_.opt.upload_file_bytes));
    auto bandwidth = [&](int64_t file_s) { return nominal * Speedup() / static_cast<double>(std::max<int64_t>(1, file_s)); };
    laptop_.bytes_per_s = bandwidth(plan_.laptop_upload_s);
    phone_.bytes_per_s = bandwidth(plan_.phone_upload_s);
    second_.bytes_per_s = bandwidth(plan_.second_camera_upload_s);
    std::uniform_real_distribution<double> spread(0.5, 1.5);
    const UploadPlan& up = plan_.upload;
    auto add = [&](Device* dev, const char* suffix, v1::TrackKind kind, Track track) {
      double factor = spread(upload_rng_);
      const bool planned = up.kind != UploadCase::kNormal && up.track == track;
      // A slow device's file is at least the nominal size, so that its projected finish
      // really falls after the deadline.
      if (planned && up.kind == UploadCase::kSlow) factor = 1.0 + (factor - 0.5) * 0.15;
      File f = NewFile(dev, plan_.registration_no + "-" + suffix + ".mp4", kind, factor);
      if (planned) {
        auto at = [&](double fraction) {
          return std::clamp<int64_t>(static_cast<int64_t>(static_cast<double>(f.size) * fraction), 1,
                                     std::max<int64_t>(1, f.size - 1));
        };
        switch (up.kind) {
          case UploadCase::kNormal: break;
          case UploadCase::kLeftPending: f.leave_pending = true; break;
          case UploadCase::kSlow: f.slow = true; break;
          case UploadCase::kPauses:
            for (size_t k = 0; k < up.pauses_s.size(); ++k)
              f.pauses.emplace_back(at(std::min(0.9, up.at_fraction + 0.3 * static_cast<double>(k))),
                                    static_cast<double>(up.pauses_s[k]) / Speedup());
            break;
          case UploadCase::kPhoneOffline: f.offline_at = at(up.at_fraction); break;
          case UploadCase::kStuck: f.stuck_at = at(up.at_fraction); break;
          case UploadCase::kAbnormal:
            f.failed_recording = true;
            f.failure = up.failure;
            break;
        }
      }
      files_.push_back(std::move(f));
    };
    add(&laptop_, "camera", v1::TRACK_KIND_CAMERA, Track::kCamera);
    add(&laptop_, "screen", v1::TRACK_KIND_SCREEN, Track::kScreen);
    if (phone_.joined) add(&phone_, "evidence", v1::TRACK_KIND_EVIDENCE, Track::kEvidence);
    if (second_.joined) add(&second_, "second-camera", v1::TRACK_KIND_SECOND_CAMERA, Track::kSecondCamera);
  }

  // Decides, after anything changed, which devices still push, which only wait for staff
  // and which are done, and when the candidate runs next.
  void ScheduleUploads() {
    if (phase_ != Phase::kUpload) return;
    bool own_work = false, waits = false;
    RealTime next = kNever;
    for (Device* d : Devices()) {
      // A device pushes one file at a time: a stuck one keeps being tried, and holds up the
      // files behind it, until staff help.
      const File* next_file = NextFile(*d);
      const bool stuck = next_file && next_file->stuck;
      const bool pushes = next_file != nullptr;
      own_work = own_work || (pushes && !stuck);
      bool waiting = stuck;
      for (const File& f : files_) waiting = waiting || (f.device == d && f.Waiting());
      waits = waits || waiting;
      if (pushes) {
        d->waiting = false;
        d->active = !d->offline;
        if (d->upload_due == kNever) d->upload_due = SteadyClock::now();  // nothing scheduled it: now
        next = std::min(next, d->upload_due);
      } else if (waiting) {
        d->waiting = true;  // stays online for a recall or a re-record
        d->active = true;
        d->upload_due = kNever;
      } else {
        d->waiting = false;
        d->active = false;
        d->upload_due = kNever;
      }
      if (d->active && d->next_hb == kNever) d->next_hb = SteadyClock::now() + HeartbeatInterval(*d);
    }
    if (!own_work && !waits) {
      Finish();
      return;
    }
    if (!own_work) MarkFinished();  // what is left waits for staff
    if (waits) next = std::min(next, wait_until_);
    action_due_ = next;
  }

  void UploadStep() {
    const RealTime now = SteadyClock::now();
    if (wait_until_ <= now) ExpireWaiting();
    for (Device* d : Devices()) {
      if (Stopping() || phase_ != Phase::kUpload) return;
      if (d->upload_due <= now) DeviceUploadStep(*d);
    }
    ScheduleUploads();
  }

  // The resume deadline passed: what still waits for staff is given up. Transfers in
  // progress (a slow device) go on; the backend decides whether it still takes them.
  void ExpireWaiting() {
    wait_until_ = kNever;
    for (File& f : files_) {
      if (!f.Waiting()) continue;
      Log("resume deadline passed: gives up on " + f.name);
      f.done = true;
      sim_.counters.uploads_expired.fetch_add(1);
    }
  }

  File* NextFile(Device& d) {
    for (File& f : files_)
      if (f.device == &d && !f.done && !f.parked && !f.awaiting_rerecord) return &f;
    return nullptr;
  }

  void UploadUnimplemented(const char* what) {
    sim_.counters.uploads_unimplemented.fetch_add(1);
    Log(std::string(what) + " is not implemented by the backend; upload skipped");
    for (File& x : files_) x.done = true;  // the backend cannot take any of them
    Finish();
  }

  // A failed upload call: a refusal is retried a few times (after asking where the file
  // stands), an error that cannot go away gives the file up, anything else retries later.
  void UploadFailed(Device& d, File* f, const CallResult& r, const char* what) {
    if (r.rc == Rc::kStopped) return;
    f->needs_status = f->begun;
    if (r.rc == Rc::kRetry) {
      if (errors_ > 25) {
        Abandon(std::string(what) + " keeps failing");
        return;
      }
      d.upload_due = SteadyClock::now() + RetryDelay();
      return;
    }
    if (r.rc == Rc::kFatal || ++f->refusals > 10) {
      Log(std::string("gives up on ") + f->name + ": " + what + " refused: " + r.status.error_message());
      f->done = true;
      sim_.counters.uploads_refused.fetch_add(1);
      d.upload_due = SteadyClock::now();
      return;
    }
    d.upload_due = SteadyClock::now() + RetryDelay();
  }

  // Takes the backend's word on how far a file got; true when nothing more is to be sent.
  bool TakeStatus(Device& d, File* f, const v1::UploadStatus& st) {
    f->committed = st.committed();
    if (st.complete() || st.state() == v1::UPLOAD_STATE_COMPLETE) {
      Completed(d, f);
      return true;
    }
    if (st.state() == v1::UPLOAD_STATE_ABNORMAL) {  // support marked it: wait for their word
      if (!f->awaiting_rerecord) Log(f->name + " is abnormal; waits to re-record");
      f->awaiting_rerecord = true;
      d.upload_due = SteadyClock::now();
      return true;
    }
    return false;
  }

  void Completed(Device& d, File* f) {
    f->done = true;
    auto& c = sim_.counters;
    c.uploads_completed.fetch_add(1);
    if (f->rerecording) c.rerecords_completed.fetch_add(1);
    if (BackendNow() > upload_deadline_) c.uploads_late.fetch_add(1);
    Log("uploaded " + f->name);
    d.upload_due = After(2 / Speedup(), false);  // opens the next file
  }

  // Bytes of the next chunk: about kChunkSpacingS worth at the device's bandwidth.
  int64_t ChunkBytes(const Device& d, const File& f) const {
    const int64_t cap = std::clamp<int64_t>(sim_.opt.upload_chunk_bytes, 1, kMaxChunkBytes);
    const auto n = static_cast<int64_t>(std::llround(d.bytes_per_s * kChunkSpacingS));
    return std::min(std::clamp<int64_t>(n, 1, cap), f.size - f.committed);
  }

  // One step of one device: announce, learn where to resume, push one chunk, or commit.
  void DeviceUploadStep(Device& d) {
    d.upload_due = kNever;
    if (d.offline) {  // back from an offline spell: online first, then resume
      d.offline = false;
      d.active = true;
      sim_.counters.devices_back.fetch_add(1);
      Log(d.model + " is back online");
      for (File& f : files_)
        if (f.device == &d && !f.done && f.begun) f.needs_status = f.resuming = true;
      Heartbeat(d);
      if (Stopping() || phase_ != Phase::kUpload) return;
    }
    File* f = NextFile(d);
    if (!f) return;
    const RealTime now = SteadyClock::now();
    if (f->not_before > now) {  // still re-recording
      d.upload_due = f->not_before;
      return;
    }
    auto& c = sim_.counters;
    if (!f->begun) {
      v1::BeginUploadRequest req;
      req.set_name(f->name);
      req.set_kind(f->kind);
      req.set_size(f->size);
      req.set_sha256(f->sha256);
      if (f->failed_recording) {
        req.set_recording_failed(true);
        req.set_failure(f->failure);
      }
      v1::UploadStatus st;
      CallResult r = Call(d, "BeginUpload", &v1::CandidateService::Stub::BeginUpload, req, &st);
      if (r.rc == Rc::kUnimplemented) return UploadUnimplemented("BeginUpload");
      if (r.rc != Rc::kOk) return UploadFailed(d, f, r, "BeginUpload");
      f->begun = true;
      f->refusals = 0;
      f->file_id = st.file_id();
      c.uploads_begun.fetch_add(1);
      if (f->failed_recording) {
        c.uploads_abnormal.fetch_add(1);
        Log("recording " + f->name + " failed (" + f->failure + "): announced abnormal");
        f->awaiting_rerecord = true;
        d.upload_due = now;
        return;
      }
      if (f->slow) {
        c.slow_uploads.fetch_add(1);
        Log(f->name + " goes out at " + std::to_string(d.bytes_per_s) + " B/s: too slow for the deadline");
      }
      if (TakeStatus(d, f, st)) return;
      f->needs_status = false;
    } else if (f->needs_status) {
      v1::GetUploadStatusRequest req;
      req.set_file_id(f->file_id);
      v1::UploadStatus st;
      CallResult r = Call(d, "GetUploadStatus", &v1::CandidateService::Stub::GetUploadStatus, req, &st);
      if (r.rc == Rc::kUnimplemented) return UploadUnimplemented("GetUploadStatus");
      if (r.rc != Rc::kOk) return UploadFailed(d, f, r, "GetUploadStatus");
      f->needs_status = false;
      if (f->resuming) {
        f->resuming = false;
        c.uploads_resumed.fetch_add(1);
        Log("resumes " + f->name + " at " + std::to_string(st.committed()) + "/" + std::to_string(f->size));
      }
      if (TakeStatus(d, f, st)) return;
    }
    if (f->committed >= f->size) return Commit(d, f);

    // What the plan does at this offset.
    if (f->leave_pending && f->chunks_sent >= 1) {
      f->parked = true;
      c.uploads_pending.fetch_add(1);
      Log("leaves " + f->name + " pending at " + std::to_string(f->committed) + "/" + std::to_string(f->size));
      d.upload_due = now;
      return;
    }
    if (f->next_pause < f->pauses.size() && f->committed >= f->pauses[f->next_pause].first) {
      const double pause_s = f->pauses[f->next_pause++].second;
      c.uploads_paused.fetch_add(1);
      f->needs_status = f->resuming = true;
      Log("pauses " + f->name + " at " + std::to_string(f->committed) + " for " +
          std::to_string(static_cast<int64_t>(pause_s)) + " s");
      d.upload_due = After(pause_s, false);
      return;
    }
    if (f->offline_at >= 0 && f->committed >= f->offline_at) {
      f->offline_at = -1;
      d.offline = true;
      d.active = false;
      c.devices_offline.fetch_add(1);
      Log(d.model + " goes offline with " + f->name + " at " + std::to_string(f->committed) + "/" +
          std::to_string(f->size));
      d.upload_due = After(static_cast<double>(plan_.upload.offline_s) / Speedup(), false);
      return;
    }
    if (f->stuck_at >= 0 && f->committed >= f->stuck_at && !f->stuck) {
      f->stuck = true;
      c.uploads_stuck.fetch_add(1);
      Log(f->name + " is stuck at " + std::to_string(f->committed) + ": every chunk fails its checksum");
    }

    const int64_t n = ChunkBytes(d, *f);
    v1::UploadChunkRequest req;
    req.set_file_id(f->file_id);
    req.set_offset(f->committed);
    req.set_data(RecordingBytes(f->content_seed, f->committed, static_cast<size_t>(n)));
    req.set_checksum(Sha256Hex(req.data()));
    if (f->stuck) {
      // The device reads its copy of the recording differently every time (flaky storage):
      // the bytes sent are not the bytes checksummed, and the backend refuses the chunk.
      (*req.mutable_data())[0] = static_cast<char>(req.data()[0] ^ 0x5A);
      v1::UploadStatus st;
      CallResult r = Call(d, "UploadChunk", &v1::CandidateService::Stub::UploadChunk, req, &st, true,
                          /*expect_failure=*/true);
      if (r.rc == Rc::kStopped) return;
      if (r.rc == Rc::kUnimplemented) return UploadUnimplemented("UploadChunk");
      if (r.rc == Rc::kOk) f->needs_status = true;  // taken after all: the commit will tell
      else c.stuck_chunks_refused.fetch_add(1);
      d.upload_due = After(kStuckRetryS / Speedup(), false);
      return;
    }
    v1::UploadStatus st;
    CallResult r = Call(d, "UploadChunk", &v1::CandidateService::Stub::UploadChunk, req, &st);
    if (r.rc == Rc::kUnimplemented) return UploadUnimplemented("UploadChunk");
    if (r.rc != Rc::kOk) return UploadFailed(d, f, r, "UploadChunk");
    ++f->chunks_sent;
    f->refusals = 0;
    const int64_t before = f->committed;
    if (st.state() == v1::UPLOAD_STATE_COMPLETE || st.complete()) return (void)TakeStatus(d, f, st);
    f->committed = st.committed() > 0 ? st.committed() : before + n;
    if (f->committed <= before) {  // no progress: ask where it stands next time
      f->needs_status = true;
      ++errors_;
      d.upload_due = SteadyClock::now() + RetryDelay();
      return;
    }
    if (f->committed >= f->size) return Commit(d, f);
    d.upload_due = After(static_cast<double>(n) / d.bytes_per_s, false);
  }

  void Commit(Device& d, File* f) {
    v1::CommitUploadRequest req;
    req.set_file_id(f->file_id);
    v1::UploadStatus st;
    CallResult r = Call(d, "CommitUpload", &v1::CandidateService::Stub::CommitUpload, req, &st);
    if (r.rc == Rc::kUnimplemented) return UploadUnimplemented("CommitUpload");
    if (r.rc == Rc::kOk && (st.complete() || st.state() == v1::UPLOAD_STATE_COMPLETE)) return Completed(d, f);
    if (r.rc == Rc::kOk || r.status.error_code() == grpc::StatusCode::DATA_LOSS) {
      // Not complete after all (the backend reset a file whose sha256 did not match): resume
      // from where it says.
      f->needs_status = true;
      if (++f->refusals > 3) return UploadFailed(d, f, CallResult{Rc::kFatal, core::Refusal::kNone, r.status}, "CommitUpload");
      d.upload_due = SteadyClock::now() + RetryDelay();
      return;
    }
    UploadFailed(d, f, r, "CommitUpload");
  }

  // A recall for a file this device holds: a parked file resumes, a stuck one restarts (the
  // candidate restarts the app, and the recording reads cleanly again), a paused one stops
  // pausing. Either way the device asks where the file stands and goes on from there.
  void Recall(int64_t file_id, Device& dev) {
    if (phase_ != Phase::kUpload) return;
    auto& c = sim_.counters;
    for (File& f : files_) {
      if (f.device != &dev || f.done || f.awaiting_rerecord) continue;
      if (file_id != 0 && f.file_id != file_id) {
        // A recall before the file was announced: it will be uploaded whole.
        if (f.file_id == 0 && f.leave_pending) f.leave_pending = false;
        continue;
      }
      const RealTime now = SteadyClock::now();
      if (f.parked) {
        Log("recall: resuming " + f.name);
        f.parked = false;
        f.leave_pending = false;
        c.uploads_pending.fetch_sub(1);
      } else if (f.stuck) {
        Log("recall: restarts the upload of " + f.name);
        f.stuck = false;
        f.stuck_at = -1;
        c.uploads_unstuck.fetch_add(1);
      } else if (f.resuming && !dev.offline && dev.upload_due > now && NextFile(dev) == &f) {
        Log("recall: ends the pause of " + f.name);
      } else {
        f.leave_pending = false;
        continue;  // already on its way
      }
      c.recalls_handled.fetch_add(1);
      f.needs_status = f.begun;
      dev.upload_due = now;
      action_due_ = std::min(action_due_, now);
      return;
    }
  }

  // Support allowed re-recording a file this device holds (one whose recording failed, or
  // one support marked abnormal): the candidate records it again (plan_.upload.rerecord_s),
  // and the device announces and uploads the new file as "<name>-rerecord.mp4". The old file
  // is never pushed again.
  void Rerecord(int64_t file_id, Device& dev) {
    if (phase_ != Phase::kUpload) return;
    for (File& f : files_) {
      if (f.device != &dev || f.done) continue;
      if (file_id != 0 ? f.file_id != file_id : !f.awaiting_rerecord) continue;
      if (f.parked) sim_.counters.uploads_pending.fetch_sub(1);
      f.awaiting_rerecord = f.parked = f.stuck = false;
      f.done = true;
      std::string stem = f.name;
      if (stem.size() > 4 && stem.compare(stem.size() - 4, 4, ".mp4") == 0) stem.resize(stem.size() - 4);
      std::uniform_real_distribution<double> spread(0.5, 1.5);
      File n = NewFile(&dev, stem + "-rerecord.mp4", f.kind, spread(upload_rng_));
      n.rerecording = true;
      const double takes = static_cast<double>(std::max<int64_t>(plan_.upload.rerecord_s, 60)) / Speedup();
      n.not_before = After(takes, false);
      Log("re-records " + f.name + " as " + n.name);
      sim_.counters.rerecords.fetch_add(1);
      files_.push_back(std::move(n));  // a deque: `f` stays valid
      dev.upload_due = std::min(dev.upload_due, SteadyClock::now());
      action_due_ = std::min(action_due_, dev.upload_due);
      return;
    }
  }

  // The candidate has nothing more to do.
  void Finish() {
    LiveOffAll();
    for (Device* d : Devices()) {
      d->active = false;
      d->waiting = false;
      d->upload_due = kNever;
    }
    phase_ = Phase::kDone;
    action_due_ = help_due_ = help_reply_due_ = kNever;
    MarkFinished();
  }

  Impl& sim_;
  const CandidatePlan& plan_;
  std::mt19937_64 rng_;
  std::mt19937_64 upload_rng_;  // recordings only: the same files whatever happened before
  std::shared_ptr<const ExamInfo> exam_;
  v1::Exam join_exam_;
  CallResult last_join_;

  Phase phase_ = Phase::kArrive;
  bool finished_ = false;
  Device laptop_, phone_, second_;
  v1::Session session_;
  double compress_ = 1.0;

  RealTime action_due_ = kNever;
  RealTime help_due_ = kNever;
  RealTime help_reply_due_ = kNever;

  int errors_ = 0;
  int fatal_errors_ = 0;
  int stage_refusals_ = 0;
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
  TimePoint upload_deadline_;     // the exam's resume deadline for this session's files
  RealTime wait_until_ = kNever;  // files waiting for staff are given up then
  std::deque<File> files_;
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
  if (opt.live_media) {
    // A connection of its own, so live packets never queue in front of the exam's calls.
    grpc::ChannelArguments live_args;
    live_args.SetInt("exam.sim.live_media", 1);
    live_args.SetMaxReceiveMessageSize(16 * 1024 * 1024);
    live = std::make_unique<LivePusher>(grpc::CreateCustomChannel(opt.address, creds, live_args),
                                        [this] { return clock.Now(); });
  }
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
  if (live) live->Shutdown();
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
  s.second_cameras = c.second_cameras;
  s.uploads_begun = c.uploads_begun;
  s.slow_uploads = c.slow_uploads;
  s.uploads_late = c.uploads_late;
  s.uploads_paused = c.uploads_paused;
  s.uploads_resumed = c.uploads_resumed;
  s.devices_offline = c.devices_offline;
  s.devices_back = c.devices_back;
  s.uploads_stuck = c.uploads_stuck;
  s.stuck_chunks_refused = c.stuck_chunks_refused;
  s.uploads_unstuck = c.uploads_unstuck;
  s.uploads_abnormal = c.uploads_abnormal;
  s.rerecords = c.rerecords;
  s.rerecords_completed = c.rerecords_completed;
  s.uploads_expired = c.uploads_expired;
  s.uploads_refused = c.uploads_refused;
  if (const auto& live = impl_->live) {
    s.live_streams_opened = live->streams_opened();
    s.live_streams_active = live->active_streams();
    s.live_packets = live->packets();
    s.live_errors = live->errors();
  }
  return s;
}

}  // namespace exam::sim
