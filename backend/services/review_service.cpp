#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <filesystem>

#include "backend/demo_seed.h"
#include "backend/services/session_ops.h"
#include "backend/services/services.h"
#include "backend/store/review_repository.h"
#include "backend/store/upload_repository.h"
#include "exam/v1/review.grpc.pb.h"

namespace exam::backend {
namespace {

namespace v1 = exam::v1;
using grpc::StatusCode;

// One ReadMedia call sends at most this much; the client asks again from where it stopped.
// Keeps one slow reader from pinning a handler thread for a whole recording.
constexpr int64_t kMaxReadLength = 16 * 1024 * 1024;
// Chunks stay well under gRPC's default 4 MiB message limit and small enough that the
// first bytes of a range reach the player quickly.
constexpr int64_t kChunkBytes = 256 * 1024;
// Every question is worth this much when the exam has no score sheet of its own.
constexpr double kDefaultMaxScore = 10;
// Bounds no exam comes near, checked before the rubric is read (which then says what the
// question really accepts).
constexpr int64_t kMaxQuestions = 1000;
constexpr double kMaxScore = 1e6;

std::string ScoreJson(const store::ScoreRow& s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", s.score);
  return std::string("{\"question\":") + std::to_string(s.question) + ",\"score\":" + buf + ",\"comment_bytes\":" +
         std::to_string(s.comment.size()) + "}";
}

// Reviewers may open sessions that reached review (ended, answered at least one question).
// Proctors do not review: they watch their rooms live, and a recording of a room they are
// not assigned to is none of their business; the access policy admits graders and admins.
std::optional<store::SessionRow> ReviewableSession(store::Database& db, int64_t session_id) {
  auto row = store::ExamRepository(db).GetSession(session_id);
  if (!row || !row->state.Ended()) return std::nullopt;
  return row;
}

class ReviewServiceImpl final : public v1::ReviewService::Service {
 public:
  explicit ReviewServiceImpl(BackendContext& ctx) : ctx_(ctx), demo_recordings_(ctx) {}

  grpc::Status ListReviewSessions(grpc::ServerContext* context, const v1::ListReviewSessionsRequest* req,
                                  v1::ListReviewSessionsResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    if (auto s = RequestChecks().OptionalId("exam_id", req->exam_id()).status(); !s.ok()) return s;
    demo_recordings_.Request();
    return Guard([&] {
      std::lock_guard lock(ctx_.db.mutex());
      store::ReviewRepository review(ctx_.db);
      const auto pending_demo = demo_recordings_.PendingSessions();
      for (const auto& s : store::ExamRepository(ctx_.db).ListReviewSessions(req->exam_id())) {
        auto* r = resp->add_sessions();
        r->set_session_id(s.id);
        r->set_draw_number(static_cast<int32_t>(s.draw_number));
        r->set_exam_id(s.exam_id);
        r->set_track_count(review.CountRecordings(s.id));
        r->set_incomplete(s.pending_uploads > 0 || pending_demo.count(s.id) > 0);
      }
      return grpc::Status::OK;
    });
  }

  grpc::Status ListTracks(grpc::ServerContext* context, const v1::ListTracksRequest* req,
                          v1::ListTracksResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    if (auto s = RequestChecks().Id("session_id", req->session_id()).status(); !s.ok()) return s;
    demo_recordings_.Request();
    return Guard([&] {
      std::lock_guard lock(ctx_.db.mutex());
      if (!store::ExamRepository(ctx_.db).GetSession(req->session_id()))
        return grpc::Status(StatusCode::NOT_FOUND, "no session " + std::to_string(req->session_id()));
      for (const auto& r : store::ReviewRepository(ctx_.db).ListRecordings(req->session_id())) {
        auto* t = resp->add_tracks();
        t->set_id(r.id);
        t->set_session_id(r.session_id);
        t->set_kind(static_cast<v1::TrackKind>(r.kind));
        t->set_codec(r.codec);
        t->set_container(r.container);
        *t->mutable_duration() = google::protobuf::util::TimeUtil::MillisecondsToDuration(r.duration_ms);
        *t->mutable_utc_start() = MsToTimestamp(r.utc_start_ms);
        t->set_size(r.size);
        t->set_sha256(r.sha256);
        t->set_segment(r.segment);
      }
      // Recordings arrive through resumable uploads; what is not in yet is listed as missing
      // so the reviewer knows a gap is a missing file, not a quiet candidate.
      for (const auto& row : store::UploadRepository(ctx_.db).ListForSession(req->session_id())) {
        const auto& f = row.proto;
        if (f.state() == v1::UPLOAD_STATE_COMPLETE) continue;
        auto* m = resp->add_missing();
        m->set_kind(f.kind());
        m->set_device(f.device());
        m->set_state(f.state());
        m->set_committed(f.committed());
        m->set_size(f.size());
        m->set_abnormal_reason(f.abnormal_reason());
      }
      // Demo recordings still being made read like uploads still arriving.
      if (demo_recordings_.PendingSessions().count(req->session_id())) {
        for (auto [kind, device] : {std::pair{v1::TRACK_KIND_SCREEN, v1::DEVICE_KIND_LAPTOP},
                                    std::pair{v1::TRACK_KIND_CAMERA, v1::DEVICE_KIND_LAPTOP},
                                    std::pair{v1::TRACK_KIND_EVIDENCE, v1::DEVICE_KIND_EVIDENCE_PHONE}}) {
          bool have = false;
          for (const auto& t : resp->tracks()) have = have || t.kind() == kind;
          if (have) continue;
          auto* m = resp->add_missing();
          m->set_kind(kind);
          m->set_device(device);
          m->set_state(v1::UPLOAD_STATE_UPLOADING);
        }
      }
      return grpc::Status::OK;
    });
  }

  grpc::Status ListMarkers(grpc::ServerContext* context, const v1::ListMarkersRequest* req,
                           v1::ListMarkersResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    if (auto s = RequestChecks().Id("session_id", req->session_id()).status(); !s.ok()) return s;
    return Guard([&] {
      for (const auto& e : ctx_.events.ReadSession(req->session_id())) {
        v1::Marker m;
        *m.mutable_time() = e.time();
        switch (e.kind()) {
          case v1::EVENT_KIND_QUESTION_SHOWN:
            m.set_kind(v1::MARKER_KIND_QUESTION_SHOWN);
            m.set_question(std::atoi(e.detail().c_str()));
            break;
          case v1::EVENT_KIND_ANSWER_COMPLETE:
            m.set_kind(v1::MARKER_KIND_ANSWER_COMPLETE);
            m.set_question(std::atoi(e.detail().c_str()));
            break;
          case v1::EVENT_KIND_ALERT_RAISED:
          case v1::EVENT_KIND_INTERRUPTION_STARTED:
          case v1::EVENT_KIND_HELP_RAISED:
          case v1::EVENT_KIND_VIOLATION_RECORDED:
            m.set_kind(v1::MARKER_KIND_FLAG);
            // Help text may carry identity; graders get the kind only.
            m.set_detail(v1::EventKind_Name(e.kind()));
            break;
          default:
            continue;
        }
        *resp->add_markers() = std::move(m);
      }
      // The log is in commit order; a device reporting late can commit an earlier moment
      // after a later one, and the timeline wants time order.
      std::stable_sort(resp->mutable_markers()->begin(), resp->mutable_markers()->end(),
                       [](const v1::Marker& a, const v1::Marker& b) {
                         return google::protobuf::util::TimeUtil::TimestampToMilliseconds(a.time()) <
                                google::protobuf::util::TimeUtil::TimestampToMilliseconds(b.time());
                       });
      return grpc::Status::OK;
    });
  }

  grpc::Status ReadMedia(grpc::ServerContext* context, const v1::ReadMediaRequest* req,
                         grpc::ServerWriter<v1::MediaChunk>* writer) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    // Past the end of the file is OUT_OF_RANGE below, once the file's size is known; a
    // negative offset or length is wrong for every file.
    RequestChecks check;
    check.Id("track_id", req->track_id()).Range("offset", req->offset(), 0).Range("length", req->length(), 0);
    if (!check.ok()) return check.status();
    std::optional<store::RecordingRow> track;
    grpc::Status found = Guard([&] {
      std::lock_guard lock(ctx_.db.mutex());
      track = store::ReviewRepository(ctx_.db).GetRecording(req->track_id());
      return grpc::Status::OK;
    });
    if (!found.ok()) return found;
    if (!track) return grpc::Status(StatusCode::NOT_FOUND, "no recording with track id " + std::to_string(req->track_id()));
    if (req->offset() >= track->size)
      return grpc::Status(StatusCode::OUT_OF_RANGE, "offset " + std::to_string(req->offset()) + " is past the end of track " +
                                                        std::to_string(track->id) + " (" + std::to_string(track->size) +
                                                        " bytes)");
    const std::filesystem::path path = std::filesystem::path(ctx_.media_dir) / track->path;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return grpc::Status(StatusCode::DATA_LOSS, "the file of track " + std::to_string(track->id) + " is missing on the server");
    struct FdCloser {
      int fd;
      ~FdCloser() { ::close(fd); }
    } closer{fd};

    const int64_t wanted = req->length() == 0 ? track->size - req->offset() : req->length();
    const int64_t end = std::min({track->size, req->offset() + wanted, req->offset() + kMaxReadLength});
    std::string buffer;
    v1::MediaChunk chunk;
    chunk.set_file_size(track->size);
    for (int64_t at = req->offset(); at < end;) {
      if (context->IsCancelled()) return grpc::Status(StatusCode::CANCELLED, "reader went away");
      const int64_t n = std::min(kChunkBytes, end - at);
      buffer.resize(static_cast<size_t>(n));
      int64_t got = 0;
      while (got < n) {
        const ssize_t r = ::pread(fd, buffer.data() + got, static_cast<size_t>(n - got), static_cast<off_t>(at + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0)
          return grpc::Status(StatusCode::DATA_LOSS, "the file of track " + std::to_string(track->id) +
                                                         " is shorter on the server than recorded");
        got += r;
      }
      chunk.set_offset(at);
      chunk.set_data(buffer);
      if (!writer->Write(chunk)) return grpc::Status(StatusCode::CANCELLED, "reader went away");
      at += n;
    }
    return grpc::Status::OK;
  }

  grpc::Status SubmitScore(grpc::ServerContext* context, const v1::SubmitScoreRequest* req,
                           v1::SubmitScoreResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    // The rubric's own range and steps are checked against the exam below.
    RequestChecks check;
    check.Id("session_id", req->session_id())
        .Range("question", req->question(), 1, kMaxQuestions)
        .Number("score", req->score(), -kMaxScore, kMaxScore)
        .Text("comment", req->comment(), kMaxMessageChars);
    if (!check.ok()) return check.status();
    return Guard([&] {
      return ctx_.Write([&](WriteScope& w) {
        bool replayed = false;
        auto status = Idempotent(
            w, who, req->idempotency_key(), "SubmitScore", resp,
            [&] {
              auto row = ReviewableSession(w.db(), req->session_id());
              if (!row) Refuse(StatusCode::NOT_FOUND, "no finished session " + std::to_string(req->session_id()) + " to score");
              const auto rubric = RubricOf(w.db(), row->exam_id);
              const v1::RubricItem* item = nullptr;
              for (const auto& i : rubric.items())
                if (i.question() == req->question()) item = &i;
              if (!item)
                Refuse(StatusCode::INVALID_ARGUMENT, "the exam has no question " + std::to_string(req->question()));
              if (req->score() < 0 || req->score() > item->max_score())
                Refuse(StatusCode::INVALID_ARGUMENT, "question " + std::to_string(req->question()) + " is scored 0 to " +
                                                         FormatScore(item->max_score()));
              if (item->step() > 0) {
                const double steps = req->score() / item->step();
                if (std::fabs(steps - std::round(steps)) > 1e-6)
                  Refuse(StatusCode::INVALID_ARGUMENT, "question " + std::to_string(req->question()) + " is scored in steps of " +
                                                           FormatScore(item->step()));
              }
              store::ScoreRow score;
              score.session_id = row->id;
              score.question = req->question();
              score.grader = who.Actor();
              score.score = req->score();
              score.comment = req->comment();
              score.scored_at_ms = w.now_ms();
              std::optional<store::ScoreRow> before;
              const auto stored = store::ReviewRepository(w.db()).PutScore(score, &before);
              resp->set_score_id(stored.id);
              store::AuditLog(w.db()).Append(w.now_ms(), who.Actor(), "review.score", "session/" + std::to_string(row->id),
                                             before ? ScoreJson(*before) : "{}", ScoreJson(stored));
            },
            &replayed);
        resp->set_replayed(replayed);
        return status;
      });
    });
  }

  grpc::Status AddAnnotation(grpc::ServerContext* context, const v1::AddAnnotationRequest* req,
                             v1::AddAnnotationResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    RequestChecks check;
    check.Id("session_id", req->session_id())
        .Time("at", req->has_at(), req->at(), Need::kRequired)
        .Text("text", req->text(), kMaxMessageChars, Need::kRequired);
    if (!check.ok()) return check.status();
    return Guard([&] {
      return ctx_.Write([&](WriteScope& w) {
        bool replayed = false;
        auto status = Idempotent(
            w, who, req->idempotency_key(), "AddAnnotation", resp,
            [&] {
              auto row = ReviewableSession(w.db(), req->session_id());
              if (!row) Refuse(StatusCode::NOT_FOUND, "no finished session " + std::to_string(req->session_id()) + " to annotate");
              store::AnnotationRow note;
              note.session_id = row->id;
              note.at_ms = google::protobuf::util::TimeUtil::TimestampToMilliseconds(req->at());
              note.text = req->text();
              note.author = who.Actor();
              note.created_at_ms = w.now_ms();
              const int64_t id = store::ReviewRepository(w.db()).AddAnnotation(note);
              resp->set_annotation_id(id);
              // The note's text may quote what the candidate said; the audit keeps where and
              // how long, the note itself stays in the review store.
              store::AuditLog(w.db()).Append(w.now_ms(), who.Actor(), "review.annotate", "session/" + std::to_string(row->id),
                                             "{}",
                                             "{\"annotation_id\":" + std::to_string(id) + ",\"at_ms\":" +
                                                 std::to_string(note.at_ms) + ",\"text_bytes\":" +
                                                 std::to_string(note.text.size()) + "}");
            },
            &replayed);
        resp->set_replayed(replayed);
        return status;
      });
    });
  }

  grpc::Status ListScores(grpc::ServerContext* context, const v1::ListScoresRequest* req,
                          v1::ListScoresResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    if (auto s = RequestChecks().Id("session_id", req->session_id()).status(); !s.ok()) return s;
    return Guard([&] {
      std::lock_guard lock(ctx_.db.mutex());
      // Graders score independently: each sees only their own scores until an admin
      // collects them.
      for (const auto& s : store::ReviewRepository(ctx_.db).ListScores(req->session_id(), who.Admin() ? "" : who.Actor())) {
        auto* out = resp->add_scores();
        out->set_score_id(s.id);
        out->set_session_id(s.session_id);
        out->set_question(s.question);
        out->set_score(s.score);
        out->set_comment(s.comment);
        out->set_grader(s.grader);
        *out->mutable_scored_at() = MsToTimestamp(s.scored_at_ms);
      }
      return grpc::Status::OK;
    });
  }

  grpc::Status ListAnnotations(grpc::ServerContext* context, const v1::ListAnnotationsRequest* req,
                               v1::ListAnnotationsResponse* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    if (auto s = RequestChecks().Id("session_id", req->session_id()).status(); !s.ok()) return s;
    return Guard([&] {
      std::lock_guard lock(ctx_.db.mutex());
      for (const auto& a : store::ReviewRepository(ctx_.db).ListAnnotations(req->session_id())) {
        auto* out = resp->add_annotations();
        out->set_annotation_id(a.id);
        out->set_session_id(a.session_id);
        *out->mutable_at() = MsToTimestamp(a.at_ms);
        out->set_text(a.text);
        out->set_author(a.author);
        *out->mutable_created_at() = MsToTimestamp(a.created_at_ms);
      }
      return grpc::Status::OK;
    });
  }

  grpc::Status GetRubric(grpc::ServerContext* context, const v1::GetRubricRequest* req, v1::Rubric* resp) override {
    EXAM_AUTHORIZE(ctx_, context, who);
    if (auto s = RequestChecks().Id("exam_id", req->exam_id()).status(); !s.ok()) return s;
    return Guard([&] {
      std::lock_guard lock(ctx_.db.mutex());
      if (!store::ExamRepository(ctx_.db).GetExam(req->exam_id()))
        return grpc::Status(StatusCode::NOT_FOUND, "no exam " + std::to_string(req->exam_id()));
      *resp = RubricOf(ctx_.db, req->exam_id());
      return grpc::Status::OK;
    });
  }

 private:
  static std::string FormatScore(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
  }

  // The exam's questions with their maximum: from its score sheet, or the default for a
  // question the sheet does not list.
  static v1::Rubric RubricOf(store::Database& db, int64_t exam_id) {
    v1::Rubric rubric;
    rubric.set_exam_id(exam_id);
    auto exam = store::ExamRepository(db).GetExam(exam_id);
    if (!exam) return rubric;
    const auto sheet = store::ReviewRepository(db).Rubric(exam_id);
    double total = 0;
    for (const auto& q : exam->proto.questions()) {
      auto* item = rubric.add_items();
      item->set_question(q.index());
      item->set_title(q.title());
      item->set_max_score(kDefaultMaxScore);
      for (const auto& s : sheet)
        if (s.question == q.index()) {
          item->set_max_score(s.max_score);
          item->set_step(s.step);
        }
      total += item->max_score();
    }
    rubric.set_total(total);
    return rubric;
  }

  BackendContext& ctx_;
  DemoRecordingWorker demo_recordings_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeReviewService(BackendContext& ctx) { return std::make_unique<ReviewServiceImpl>(ctx); }

}  // namespace exam::backend
