#include "backend/demo_seed.h"

#include <google/protobuf/util/time_util.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>

#include "backend/log.h"
#include "backend/media/recording_synth.h"
#include "backend/sim/blobs.h"
#include "backend/store/help_repository.h"
#include "backend/store/proctoring_repository.h"
#include "backend/store/recording_store.h"
#include "backend/store/review_repository.h"
#include "backend/store/user_repository.h"
#include "exam/v1/help.pb.h"
#include "exam/v1/live.pb.h"

namespace exam::backend {
namespace {

namespace v1 = exam::v1;
using google::protobuf::util::TimeUtil;

constexpr const char* kAccessCode = "EXAM-2026";
constexpr const char* kFinishedSittingTitle = "2026 年研究生复试 · 综合面试 · 第一批 (Graduate admission interview, first sitting)";

namespace fs = std::filesystem;

std::string RegistrationNo(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "2026%06d", i + 1);
  return buf;
}

std::string CandidateName(int i) {
  static constexpr std::array<const char*, 20> kSurnames = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
                                                           "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗"};
  static constexpr std::array<const char*, 16> kGiven = {"伟", "芳", "娜", "敏", "静", "磊", "洋", "艳",
                                                        "杰", "婷", "强", "军", "雪", "晨", "宇", "欣"};
  return std::string(kSurnames[i % kSurnames.size()]) + kGiven[(i / 3 + i * 7) % kGiven.size()] +
         (i % 2 ? kGiven[(i * 5 + 3) % kGiven.size()] : "");
}


const std::array<const char*, 3> kQuestionTitles = {"自我介绍 Self-introduction", "专业问题 Subject question",
                                                   "英语问答 English Q&A"};

// The score sheet: what each question is worth, and in which steps.
void SeedRubric(WriteScope& w, int64_t exam_id) {
  store::ReviewRepository review(w.db());
  review.SetRubricItem(exam_id, {1, 20, 1});
  review.SetRubricItem(exam_id, {2, 50, 0.5});
  review.SetRubricItem(exam_id, {3, 30, 1});
}

// One finished session: the rows, and the events in the order and at the times they happened.
void SeedFinishedSession(BackendContext& ctx, WriteScope& w, int64_t exam_id, int64_t room_id, int index,
                         const media::RecordingPlan& plan) {
  store::ExamRepository exams(w.db());
  char registration_no[32];
  std::snprintf(registration_no, sizeof registration_no, "2026A%05d", index + 1);
  char id_number[32];
  std::snprintf(id_number, sizeof id_number, "3201022001%04d%04d", 300 + index, 2000 + index);
  const int64_t id = exams.CreateSession(exam_id, room_id, registration_no, CandidateName(index + 100), id_number,
                                         plan.utc_start_ms - 40 * 60 * 1000);
  exams.SetRegistrationPhoto(id, sim::MakePhoto(sim::PhotoKind::kRegistration, 9000 + static_cast<uint64_t>(index)));
  auto row = *exams.GetSession(id);
  const media::SessionTimeline timeline = media::PlanTimeline(plan);
  auto at = [&](int64_t offset_ms) { return core::FromUnixMillis(plan.utc_start_ms + offset_ms); };

  // Answering from the first frame; the laptop records from there.
  row.draw_number = index + 1;
  row.state.stage = core::Stage::kAnswering;
  row.state.outcome = core::Outcome::kInProgress;
  row.state.identity_confirmed = true;
  row.state.answering_started_at = at(0);
  exams.SaveSession(row, plan.utc_start_ms);
  w.Emit(ctx.SessionEvent(row, v1::EVENT_KIND_STAGE_CHANGED, "", at(0)));

  // Question and flag events merged in time order.
  struct Moment {
    int64_t at_ms;
    int order;
    std::function<void()> emit;
  };
  std::vector<Moment> moments;
  for (const auto& q : timeline.questions) {
    moments.push_back({q.shown_ms, 0, [&, q] {
                         row.state.current_question = q.question;
                         exams.SaveSession(row, plan.utc_start_ms + q.shown_ms);
                         w.Emit(ctx.SessionEvent(row, v1::EVENT_KIND_QUESTION_SHOWN, std::to_string(q.question), at(q.shown_ms)));
                       }});
    moments.push_back({q.complete_ms, 1, [&, q] {
                         w.Emit(ctx.SessionEvent(row, v1::EVENT_KIND_ANSWER_COMPLETE, std::to_string(q.question),
                                                 at(q.complete_ms)));
                       }});
  }
  for (const auto& f : timeline.flags) {
    moments.push_back({f.at_ms, 2, [&, f] {
                         const int64_t t = plan.utc_start_ms + f.at_ms;
                         using K = media::FlagTiming::Kind;
                         switch (f.kind) {
                           case K::kAlert: {
                             store::ProctoringRepository proctoring(w.db());
                             const int64_t alert = proctoring.RaiseAlert(id, v1::ALERT_KIND_SUSPECTED_VIOLATION, f.detail, t);
                             auto e = ctx.SessionEvent(row, v1::EVENT_KIND_ALERT_RAISED, f.detail, at(f.at_ms), alert);
                             auto* a = e.mutable_alert();
                             a->set_id(alert);
                             a->set_session_id(id);
                             a->set_kind(v1::ALERT_KIND_SUSPECTED_VIOLATION);
                             a->set_detail(f.detail);
                             *a->mutable_raised_at() = e.time();
                             w.Emit(std::move(e));
                             // The proctor on duty saw to it a little later.
                             proctoring.AcknowledgeAlert(alert, id, "proctor1", t + 20000);
                             w.Emit(ctx.SessionEvent(row, v1::EVENT_KIND_ALERT_ACKNOWLEDGED, "proctor1", at(f.at_ms + 20000), alert));
                             break;
                           }
                           case K::kHelp: {
                             store::HelpRepository help(w.db());
                             const int64_t h = help.Create(id, static_cast<int>(core::Stage::kAnswering), t);
                             help.AddMessage(h, t, true, "", "摄像头画面有点卡 (the camera picture stutters)");
                             help.NoteStaffReply(h, t + 30000, "support1");
                             help.AddMessage(h, t + 30000, false, "support1", "已确认录制正常，请继续作答 (recording is fine, carry on)");
                             help.Resolve(h, t + 45000, "camera");
                             w.Emit(ctx.SessionEvent(row, v1::EVENT_KIND_HELP_RAISED, f.detail, at(f.at_ms), h));
                             w.Emit(ctx.SessionEvent(row, v1::EVENT_KIND_HELP_UPDATED, "resolved", at(f.at_ms + 45000), h));
                             break;
                           }
                           case K::kViolation: {
                             store::NewProctorAction action;
                             action.session_id = id;
                             action.actor = "proctor1";
                             action.kind = v1::PROCTOR_ACTION_KIND_RECORD_VIOLATION;
                             action.category = v1::VIOLATION_CATEGORY_LEFT_SEAT;
                             action.text = f.detail;
                             action.time_ms = t;
                             const int64_t v = store::ProctoringRepository(w.db()).RecordAction(action);
                             w.Emit(ctx.SessionEvent(row, v1::EVENT_KIND_VIOLATION_RECORDED,
                                                     v1::ViolationCategory_Name(v1::VIOLATION_CATEGORY_LEFT_SEAT), at(f.at_ms), v));
                             break;
                           }
                           case K::kInterruptionStarted:
                             row.state.interruptions = 1;
                             row.state.interruption_started_at = at(f.at_ms);
                             exams.SaveSession(row, t);
                             w.Emit(ctx.SessionEvent(row, v1::EVENT_KIND_INTERRUPTION_STARTED, f.detail, at(f.at_ms)));
                             break;
                           case K::kInterruptionEnded:
                             row.state.interruption_started_at.reset();
                             exams.SaveSession(row, t);
                             w.Emit(ctx.SessionEvent(row, v1::EVENT_KIND_INTERRUPTION_ENDED, f.detail, at(f.at_ms)));
                             break;
                         }
                       }});
  }
  std::stable_sort(moments.begin(), moments.end(),
                   [](const Moment& a, const Moment& b) { return a.at_ms != b.at_ms ? a.at_ms < b.at_ms : a.order < b.order; });
  for (auto& m : moments) m.emit();

  row.state.stage = core::Stage::kEnded;
  row.state.outcome = core::Outcome::kCompleted;
  row.state.ended_at = at(timeline.end_ms);
  exams.SaveSession(row, plan.utc_start_ms + timeline.end_ms);
  w.Emit(ctx.SessionEvent(row, v1::EVENT_KIND_STAGE_CHANGED, "", at(timeline.end_ms)));
  w.Emit(ctx.SessionEvent(row, v1::EVENT_KIND_SESSION_ENDED, std::string(core::OutcomeNameEn(row.state.outcome)),
                          at(timeline.end_ms)));
  store::ReviewRepository(w.db()).PutDemoPlan(id, plan.ToText());
}

// An earlier sitting, over before the demo exam opens: a few interviews one after another,
// one of them interrupted and resumed, one filmed by a phone held upright.
int64_t SeedFinishedSitting(BackendContext& ctx, WriteScope& w, const ServerOptions& options, int64_t live_start_ms) {
  const int n = options.demo_review_sessions;
  const int seconds = std::max(12, options.demo_review_seconds);
  const int64_t spacing_ms = (seconds + 60) * 1000LL;
  // Yesterday from 09:00 Beijing time: the same plans (and so the same cached recordings)
  // all day, whenever the demo starts.
  constexpr int64_t kDay = 24 * 3600 * 1000LL, kBeijing = 8 * 3600 * 1000LL;
  const int64_t first_start = (w.now_ms() + kBeijing) / kDay * kDay - kBeijing - kDay + 9 * 3600 * 1000LL;
  store::ExamRepository exams(w.db());
  v1::Exam exam;
  exam.set_title(kFinishedSittingTitle);
  exam.set_kind(v1::EXAM_KIND_INTERVIEW);
  // Listed with the live exam's start so that it sorts after it (exams list by start, then
  // id): consoles open the first exam they are given, and that should be the one running.
  // Its sessions keep their true times.
  *exam.mutable_start_time() = TimeUtil::MillisecondsToTimestamp(live_start_ms);
  for (int q = 0; q < 3; ++q) {
    auto* question = exam.add_questions();
    question->set_index(q + 1);
    *question->mutable_reading_time() = TimeUtil::SecondsToDuration(0);
    *question->mutable_answer_time() = TimeUtil::SecondsToDuration(seconds / 3);
    question->set_title(kQuestionTitles[static_cast<size_t>(q)]);
  }
  // Its own access code: candidates sign in by code and registration number, and the live
  // exam's candidates must find the live exam.
  const int64_t exam_id = exams.CreateExam(exam, std::string(kAccessCode) + "-A1");
  const int64_t room_id = exams.CreateRoom(exam_id, "第一批 考场 A (first sitting, room A)");
  SeedRubric(w, exam_id);
  for (int i = 0; i < n; ++i) {
    media::RecordingPlan plan;
    plan.seed = 100 + static_cast<uint64_t>(i);
    plan.questions = 3;
    plan.duration_s = seconds;
    plan.utc_start_ms = first_start + i * spacing_ms;
    if (i % 3 == 1) {
      // Interrupted just after the second question shows, resumed a little later.
      const int64_t second_shown = media::PlanTimeline(plan).questions.at(1).shown_ms;
      const int gap = std::clamp(seconds / 5, 5, 40);
      plan.duration_s = seconds + gap;
      plan.interruption_at_s = static_cast<int>((second_shown + 1000) / 1000);
      plan.interruption_s = gap;
    }
    plan.evidence_portrait = i % 3 == 2;
    // Each phone's clock is off by its own amount, ahead or behind.
    static constexpr std::array<int, 3> kPhoneClockOffsetMs = {350, -280, 520};
    plan.evidence_clock_offset_ms = kPhoneClockOffsetMs[static_cast<size_t>(i) % kPhoneClockOffsetMs.size()];
    SeedFinishedSession(ctx, w, exam_id, room_id, i, plan);
  }
  return exam_id;
}

fs::path CacheRoot(const std::string& media_dir) {
  if (const char* dir = std::getenv("EXAM_DEMO_RECORDINGS_CACHE"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "exam-console" / "demo-recordings";
  if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".cache" / "exam-console" / "demo-recordings";
  return fs::path(media_dir) / "demo-recordings-cache";
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// The demo's plans change daily (they are set on yesterday's date), so older entries and
// scratch folders of killed processes are dropped when a new entry is made.
void PruneCache(const fs::path& root, const fs::path& keep) {
  std::error_code ec;
  const auto cutoff = fs::file_time_type::clock::now() - std::chrono::hours(72);
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename() == keep || !it->is_directory(ec)) continue;
    const auto written = fs::last_write_time(it->path(), ec);
    if (!ec && written < cutoff) fs::remove_all(it->path(), ec);
  }
}

// A hard link when the cache shares the file system, else a copy.
void PlaceFile(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::remove(to, ec);
  fs::create_hard_link(from, to, ec);
  if (ec) fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}
}  // namespace

DemoInfo SeedOrLoadDemo(BackendContext& ctx, const ServerOptions& options) {
  DemoInfo info;
  const bool empty = [&] {
    std::lock_guard lock(ctx.db.mutex());
    return store::UserRepository(ctx.db).Empty();
  }();
  if (empty && options.seed_demo) {
    const int n = std::max(1, options.demo_candidates);
    const int rooms = options.demo_rooms > 0 ? options.demo_rooms : (n + 39) / 40;
    ctx.Write([&](WriteScope& w) {
      store::ExamRepository exams(w.db());
      v1::Exam exam;
      exam.set_title("2026 年研究生复试 · 综合面试 (Graduate admission interview)");
      exam.set_kind(v1::EXAM_KIND_INTERVIEW);
      exam.mutable_rules()->set_rerecord_allowed(options.demo_rerecord_allowed);
      *exam.mutable_start_time() = TimeUtil::MillisecondsToTimestamp(w.now_ms() + options.demo_start_in.count());
      for (int q = 0; q < 3; ++q) {
        auto* question = exam.add_questions();
        question->set_index(q + 1);
        *question->mutable_reading_time() = TimeUtil::SecondsToDuration(q == 1 ? 60 : 0);
        *question->mutable_answer_time() = TimeUtil::SecondsToDuration(5 * 60);
        question->set_title(kQuestionTitles[static_cast<size_t>(q)]);
      }
      info.exam_id = exams.CreateExam(exam, kAccessCode);
      std::vector<int64_t> room_ids;
      for (int r = 0; r < rooms; ++r)
        room_ids.push_back(exams.CreateRoom(info.exam_id, "第 " + std::to_string(r + 1) + " 考场 Room " + std::to_string(r + 1)));
      for (int i = 0; i < n; ++i) {
        char id_number[32];
        std::snprintf(id_number, sizeof id_number, "110101200%01d%04d%04d", i % 10, 101 + i % 1100, 1000 + i);
        const int64_t session = exams.CreateSession(info.exam_id, room_ids[static_cast<size_t>(i) * rooms / n],
                                                    RegistrationNo(i), CandidateName(i), id_number, w.now_ms());
        exams.SetRegistrationPhoto(session, sim::MakePhoto(sim::PhotoKind::kRegistration, 7000 + static_cast<uint64_t>(i)));
      }
      store::UserRepository users(w.db());
      users.Create("admin", "管理员 Admin", info.demo_password, {v1::ROLE_ADMIN}, {}, w.now_ms());
      users.Create("proctor1", "监考 张老师", info.demo_password, {v1::ROLE_PROCTOR}, {room_ids[0]}, w.now_ms());
      users.Create("proctor2", "监考 李老师", info.demo_password, {v1::ROLE_PROCTOR},
                   {room_ids[std::min<size_t>(1, room_ids.size() - 1)]}, w.now_ms());
      users.Create("support1", "技术支持 王工", info.demo_password, {v1::ROLE_SUPPORT}, {}, w.now_ms());
      users.Create("support2", "技术支持 赵工", info.demo_password, {v1::ROLE_SUPPORT}, {}, w.now_ms());
      users.Create("grader1", "评委 1 号", info.demo_password, {v1::ROLE_GRADER}, {}, w.now_ms());
      SeedRubric(w, info.exam_id);
      if (options.demo_review_sessions > 0)
        SeedFinishedSitting(ctx, w, options, TimeUtil::TimestampToMilliseconds(exam.start_time()));
    });
  }
  std::lock_guard lock(ctx.db.mutex());
  store::ExamRepository exams(ctx.db);
  auto all = exams.ListExams();
  // The live exam is the simulator's; the finished sitting (which starts earlier, so lists
  // first) is only there to be reviewed.
  info.exam_id = 0;
  bool live_found = false;
  for (const auto& e : all) {
    if (e.proto.title() == kFinishedSittingTitle) {
      info.review_exam_id = e.proto.id();
    } else if (!live_found) {
      live_found = true;
      info.exam_id = e.proto.id();
      info.access_code = e.access_code;
    }
  }
  if (live_found)
    for (const auto& s : exams.ListSessions(info.exam_id, 0)) info.registration_nos.push_back(s.registration_no);
  return info;
}

DemoRecordingWorker::DemoRecordingWorker(BackendContext& ctx) : ctx_(ctx) {}

DemoRecordingWorker::~DemoRecordingWorker() {
  cancel_ = true;
  if (thread_.joinable()) thread_.join();
}

std::set<int64_t> DemoRecordingWorker::PendingSessions() {
  std::lock_guard lock(ctx_.db.mutex());
  std::set<int64_t> out;
  for (const auto& [session, plan] : store::ReviewRepository(ctx_.db).DemoPlans()) out.insert(session);
  return out;
}

void DemoRecordingWorker::Request() {
  try {
    std::call_once(started_, [this] {
      if (PendingSessions().empty()) return;
      thread_ = std::thread([this] { Run(); });
    });
  } catch (const std::exception& e) {
    // The review call goes on without the demo recordings; the next one tries again.
    Log("error", "cannot start demo recordings", {{"error", e.what()}});
  }
}

void DemoRecordingWorker::Run() {
  // Below the exam's own work: live media, events and uploads come first.
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 10);
  std::vector<std::pair<int64_t, std::string>> plans;
  {
    std::lock_guard lock(ctx_.db.mutex());
    plans = store::ReviewRepository(ctx_.db).DemoPlans();
  }
  for (const auto& [session, plan] : plans) {
    if (cancel_) return;
    try {
      MakeRecordings(session, plan);
    } catch (const media::SynthesisCancelled&) {
      return;
    } catch (const std::exception& e) {
      Log("error", "demo recordings failed", {{"session", std::to_string(session)}, {"error", e.what()}});
    }
  }
}

void DemoRecordingWorker::MakeRecordings(int64_t session_id, const std::string& plan_text) {
  const auto plan = media::RecordingPlan::FromText(plan_text);
  if (!plan) throw std::runtime_error("unreadable recording plan: " + plan_text);
  const fs::path cache = CacheRoot(ctx_.media_dir) / plan->CacheKey();
  const fs::path manifest = cache / "tracks.txt";
  std::error_code ec;
  if (!fs::exists(manifest, ec)) {
    const auto began = std::chrono::steady_clock::now();
    const double cpu_before = ThreadCpuSeconds();
    // Written aside and renamed into place, so a cache folder is always whole; two
    // processes making the same plan at once both succeed and one result is kept.
    const fs::path scratch = cache.parent_path() / (cache.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                                                    std::to_string(::syscall(SYS_gettid)));
    fs::remove_all(scratch, ec);
    std::vector<media::SynthesizedFile> files;
    try {
      files = media::SynthesizeRecordings(*plan, scratch, &cancel_);
    } catch (...) {
      fs::remove_all(scratch, ec);
      throw;
    }
    {
      std::FILE* out = std::fopen((scratch / "tracks.txt").c_str(), "w");
      if (!out) throw std::runtime_error("cannot write " + (scratch / "tracks.txt").string());
      for (const auto& f : files)
        std::fprintf(out, "%d %d %lld %lld %s\n", f.kind, f.segment, static_cast<long long>(f.duration_ms),
                     static_cast<long long>(f.utc_start_ms), f.path.filename().c_str());
      std::fclose(out);
    }
    fs::rename(scratch, cache, ec);
    if (ec) fs::remove_all(scratch, ec);  // another process was first; its files are the same
    PruneCache(cache.parent_path(), cache.filename());
    Log("info", "demo recordings made",
        {{"session", std::to_string(session_id)},
         {"seconds", std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count())},
         {"cpu_seconds", std::to_string(ThreadCpuSeconds() - cpu_before)},
         {"cache", cache.string()}});
  }

  // Into the media folder, then registered in one transaction with the plan removed.
  const fs::path relative_dir = fs::path("recordings") / std::to_string(session_id);
  fs::create_directories(fs::path(ctx_.media_dir) / relative_dir);
  std::vector<store::RecordingRow> rows;
  std::FILE* in = std::fopen(manifest.c_str(), "r");
  if (!in) throw std::runtime_error("cannot read " + manifest.string());
  int kind = 0, segment = 0;
  long long duration = 0, utc = 0;
  char name[256];
  while (std::fscanf(in, "%d %d %lld %lld %255s", &kind, &segment, &duration, &utc, name) == 5) {
    if (cancel_) break;
    store::RecordingRow r;
    r.session_id = session_id;
    r.kind = kind;
    r.segment = segment;
    r.codec = "h264";
    r.container = "mp4";
    r.duration_ms = duration;
    r.utc_start_ms = utc;
    r.path = (relative_dir / name).string();
    const fs::path placed = fs::path(ctx_.media_dir) / r.path;
    PlaceFile(cache / name, placed);
    r.size = static_cast<int64_t>(fs::file_size(placed));
    r.sha256 = store::RecordingStore::FileSha256(placed);
    rows.push_back(std::move(r));
  }
  std::fclose(in);
  if (cancel_) throw media::SynthesisCancelled{};
  if (rows.empty()) throw std::runtime_error("no recordings listed in " + manifest.string());
  ctx_.Write([&](WriteScope& w) {
    store::ReviewRepository review(w.db());
    for (const auto& r : rows) review.PutRecording(r, w.now_ms());
    review.RemoveDemoPlan(session_id);
  });
}

}  // namespace exam::backend
