#include "ui/review_panel.h"

#include <GLFW/glfw3.h>  // glfwPostEmptyEvent: wake the frame loop when a feed or a decoder has news
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "media/audio_track.h"
#include "media/block_cache.h"
#include "media/local_review.h"
#include "net/backend_client.h"
#include "net/review_media_source.h"
#include "store/action_methods.h"
#include "store/local_data.h"
#include "store/media_block_store.h"
#include "store/outbox.h"
#include "ui/theme.h"
#include "ui/widgets.h"

namespace exam::ui {

namespace v1 = exam::v1;
using core::kMicrosPerSecond;
using core::Micros;
using google::protobuf::util::TimeUtil;

namespace {

constexpr float kListWidth = 210.0f;
constexpr float kSheetWidth = 360.0f;
constexpr float kGap = 6.0f;

// Screen first (what the candidate worked on), then the people.
const v1::TrackKind kKindOrder[] = {v1::TRACK_KIND_SCREEN, v1::TRACK_KIND_CAMERA, v1::TRACK_KIND_EVIDENCE,
                                    v1::TRACK_KIND_SECOND_CAMERA};

const char* KindName(v1::TrackKind kind) {
  switch (kind) {
    case v1::TRACK_KIND_SCREEN: return Tr(str::kRvScreen);
    case v1::TRACK_KIND_EVIDENCE: return Tr(str::kRvEvidence);
    case v1::TRACK_KIND_SECOND_CAMERA: return Tr(str::kRvSecondCamera);
    default: return Tr(str::kRvCamera);
  }
}

core::MarkerKind ToCore(v1::MarkerKind k) {
  switch (k) {
    case v1::MARKER_KIND_QUESTION_SHOWN: return core::MarkerKind::kQuestionShown;
    case v1::MARKER_KIND_ANSWER_COMPLETE: return core::MarkerKind::kAnswerComplete;
    default: return core::MarkerKind::kFlag;
  }
}

}  // namespace

ReviewPanel::ReviewPanel() : Panel("review", str::kReviewWorkspace) {}

ReviewPanel::~ReviewPanel() {
  // Stop() ran while GL was current; what is left belongs to a context that is gone.
  if (player_)
    for (auto& t : player_->tracks) t.textures.Abandon();
  renderer_.Abandon();
}

void ReviewPanel::Stop() {
  JoinExport();
  JoinAnalysis();
  if (offline_ && offline_->thread.joinable()) offline_->thread.join();
  ClosePlayer();
  if (queue_feed_) queue_feed_->Stop();
  if (session_feed_) session_feed_->Stop();
  queue_feed_.reset();
  session_feed_.reset();
  renderer_.Reset();
  blocks_.reset();
}

void ReviewPanel::Place(const UiContext& ctx) {
  ImGui::SetNextWindowPos(ctx.work_pos);
  ImGui::SetNextWindowSize(ctx.work_size);
}

ImGuiWindowFlags ReviewPanel::Flags() const {
  return ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
         ImGuiWindowFlags_NoBringToFrontOnFocus | ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoNav |
         ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse;
}

void ReviewPanel::Hidden(UiContext&) {
  // Another workspace in front: the recording stops where it is.
  if (player_ && player_->group && player_->group->playing()) player_->group->Pause();
}

void ReviewPanel::ClosePlayer() {
  JoinAnalysis();
  if (!player_) return;
  for (auto& t : player_->tracks) t.textures.Reset();
  player_->group.reset();  // joins the decoders
  player_.reset();
}

void ReviewPanel::EnsureStarted(UiContext& ctx) {
  if (!queue_feed_ && ctx.client != nullptr) {
    net::PollingFeedOptions o;
    o.refresh_every = std::chrono::seconds(10);
    o.on_change = [] { glfwPostEmptyEvent(); };
    queue_feed_ = std::make_unique<net::ReviewQueueFeed>(*ctx.client, o);
    o.refresh_every = std::chrono::seconds(5);
    session_feed_ = std::make_unique<net::ReviewSessionFeed>(*ctx.client, o);
  }
  if (!blocks_ && blocks_error_.empty() && ctx.local_data != nullptr) {
    // One cache for the console, so File ▸ Local data can measure and wipe it.
    blocks_ = ctx.local_data->MediaCache(&blocks_error_);
    // Playback works without the cache; it only reads everything from the backend.
    if (!blocks_) std::fprintf(stderr, "exam-console: media cache off: %s\n", blocks_error_.c_str());
  }
  if (!renderer_tried_) {
    renderer_tried_ = true;
    if (!renderer_.Init(&renderer_error_)) std::fprintf(stderr, "exam-console: %s\n", renderer_error_.c_str());
  }
}

void ReviewPanel::PickDefaultExam(const UiContext& ctx) {
  if (exam_id_ != 0 || !ctx.snapshot || !ctx.snapshot->exams) return;
  // The exam with the most finished sessions is the one waiting for graders.
  std::map<int64_t, int> ended;
  for (const auto& s : ctx.snapshot->sessions)
    if (s->stage() == v1::STAGE_ENDED) ++ended[s->exam_id()];
  int best = -1;
  for (const auto& e : *ctx.snapshot->exams)
    if (ended[e.id()] > best) best = ended[e.id()], exam_id_ = e.id();
}

void ReviewPanel::DrawSessionList(UiContext& ctx, const net::ReviewQueueView& queue) {
  ImGui::SetNextItemWidth(-1);
  std::string preview = "—";
  if (ctx.snapshot)
    if (const auto* e = ctx.snapshot->FindExam(exam_id_)) preview = e->title();
  if (ImGui::BeginCombo("##review_exam", preview.c_str())) {
    if (ctx.snapshot && ctx.snapshot->exams)
      for (const auto& e : *ctx.snapshot->exams)
        if (ImGui::Selectable(e.title().c_str(), e.id() == exam_id_) && e.id() != exam_id_) {
          exam_id_ = e.id();
          session_id_ = 0;
          ClosePlayer();
        }
    ImGui::EndCombo();
  }
  if (queue.key != exam_id_ || (!queue.loaded && queue.error.empty())) {
    TextColored(theme::kMuted, Tr(str::kRvLoading));
    return;
  }
  if (!queue.error.empty()) ImGui::TextColored(theme::ToVec4(theme::kDanger), "%s", queue.error.c_str());
  const std::string head = Format(str::kRvSessions, static_cast<int>(queue.sessions.size()));
  TextUnformatted(head);
  ImGui::Separator();
  if (queue.sessions.empty()) {
    ImGui::PushTextWrapPos(0);
    TextColored(theme::kMuted, Tr(str::kRvNoSessions));
    ImGui::PopTextWrapPos();
  }
  // Nothing open yet: the first session with recordings, as a grader starts at the top.
  if (session_id_ == 0)
    for (const auto& s : queue.sessions)
      if (s.track_count() > 0) {
        session_id_ = s.session_id();
        draw_number_ = s.draw_number();
        break;
      }
  ImGui::BeginChild("##review_sessions");
  for (const auto& s : queue.sessions) {
    ImGui::PushID(static_cast<int>(s.session_id()));
    const std::string label = Format(str::kLiveDrawNo, s.draw_number());
    if (ImGui::Selectable(label.c_str(), s.session_id() == session_id_, 0, ImVec2(0, 0)) && s.session_id() != session_id_) {
      session_id_ = s.session_id();
      draw_number_ = s.draw_number();
      ClosePlayer();
      timeline_.Reset();
      clip_in_us_ = clip_out_us_ = -1;
      clip_folder_[0] = 0;
    }
    ImGui::SameLine(70);
    const std::string tracks = Format(str::kRvTracks, s.track_count());
    TextColored(theme::kMuted, tracks);
    if (s.incomplete()) {
      ImGui::SameLine();
      TextColored(theme::kWarning, Tr(str::kRvIncomplete));
    }
    ImGui::PopID();
  }
  ImGui::EndChild();
}

void ReviewPanel::SyncPlayer(UiContext& ctx, const net::ReviewSessionView& session) {
  if (session.key != session_id_ || !session.loaded || ctx.client == nullptr) return;
  std::string ids;
  for (const auto& t : session.tracks) ids += std::to_string(t.id()) + ",";
  if (player_ && player_->session_id == session_id_ && player_->track_ids == ids) return;
  std::vector<std::pair<v1::Track, SourceOpener>> tracks;
  net::BackendClient* client = ctx.client;
  std::shared_ptr<local::MediaBlockStore> blocks = blocks_;
  for (const auto& t : session.tracks) {
    // Each reader its own source (playback, export and analysis read different places),
    // all through the one block cache.
    tracks.emplace_back(t, [client, blocks, t]() -> std::shared_ptr<media::ByteSource> {
      std::shared_ptr<media::ByteSource> source = std::make_shared<net::ReviewMediaSource>(
          client->Channel(), [client] { return client->AccessToken(); }, t.id(), t.size());
      if (blocks) source = std::make_shared<media::CachedByteSource>(source, blocks, "track-" + std::to_string(t.id()) + "-" + t.sha256());
      return source;
    });
  }
  BuildPlayer(ctx, session_id_, ids, std::move(tracks), session.markers);
}

void ReviewPanel::BuildPlayer(UiContext& ctx, int64_t session_id, const std::string& ids,
                              std::vector<std::pair<v1::Track, SourceOpener>> tracks,
                              const std::vector<v1::Marker>& markers) {
  ClosePlayer();
  if (tracks.empty()) return;
  std::stable_sort(tracks.begin(), tracks.end(), [](const auto& a, const auto& b) {
    auto rank = [](v1::TrackKind k) {
      return static_cast<int>(std::find(std::begin(kKindOrder), std::end(kKindOrder), k) - std::begin(kKindOrder));
    };
    return rank(a.first.kind()) != rank(b.first.kind()) ? rank(a.first.kind()) < rank(b.first.kind())
                                                        : a.first.segment() < b.first.segment();
  });
  auto p = std::make_unique<Player>();
  p->session_id = session_id;
  p->track_ids = ids;
  // Session time 0 is the first thing that happened: a recording's first frame or a marker.
  Micros origin = INT64_MAX, end = INT64_MIN;
  for (const auto& [t, open] : tracks) {
    const Micros start = TimeUtil::TimestampToMicroseconds(t.utc_start());
    origin = std::min(origin, start);
    end = std::max(end, start + TimeUtil::DurationToMicroseconds(t.duration()));
  }
  for (const auto& m : markers) {
    origin = std::min(origin, TimeUtil::TimestampToMicroseconds(m.time()));
    end = std::max(end, TimeUtil::TimestampToMicroseconds(m.time()));
  }
  p->origin_utc_us = origin;
  p->end_us = end - origin;

  media::PlaybackGroup::Options options;
  options.session_origin_utc_us = origin;
  // Sound drives the clock; without a device the null output keeps the same clock.
  options.audio_output = std::make_shared<media::NullAudioOutput>();
  options.decoder.on_update = [] { glfwPostEmptyEvent(); };
  p->group = std::make_unique<media::PlaybackGroup>(options);
  for (auto& [t, open] : tracks) {
    core::TrackPlacement placement;
    placement.utc_start_us = TimeUtil::TimestampToMicroseconds(t.utc_start());
    placement.duration_us = TimeUtil::DurationToMicroseconds(t.duration());
    TrackView view;
    view.track = t;
    view.open = open;
    view.index = p->group->AddTrack(open(), placement);
    p->tracks.push_back(std::move(view));
  }
  // The laptop camera's sound by default: it carries "该题回答完毕".
  for (const auto& t : p->tracks)
    if (t.track.kind() == v1::TRACK_KIND_CAMERA) {
      p->group->SelectAudio(t.index);
      break;
    }
  player_ = std::move(p);
  StartAnalysis(ctx);
}

void ReviewPanel::JoinAnalysis() {
  if (!analysis_) return;
  for (auto& s : analysis_->sources) s->Cancel();  // a download in progress gives up
  if (analysis_->thread.joinable()) analysis_->thread.join();
  analysis_.reset();
}

void ReviewPanel::StartAnalysis(UiContext&) {
  JoinAnalysis();
  const TrackView* camera = nullptr;
  const TrackView* evidence = nullptr;
  for (const auto& t : player_->tracks) {
    if (t.track.segment() != 0) continue;
    if (t.track.kind() == v1::TRACK_KIND_CAMERA && camera == nullptr) camera = &t;
    if (t.track.kind() == v1::TRACK_KIND_EVIDENCE && evidence == nullptr) evidence = &t;
  }
  if (camera == nullptr) return;
  analysis_ = std::make_unique<AnalysisJob>();
  AnalysisJob* job = analysis_.get();
  job->session_id = session_id_;
  auto cam_src = camera->open();
  auto ev_src = evidence != nullptr ? evidence->open() : nullptr;
  job->sources.push_back(cam_src);
  if (ev_src) job->sources.push_back(ev_src);
  const core::TrackPlacement cam_p = player_->group->Timeline(camera->index).placement();
  const core::TrackPlacement ev_p = evidence != nullptr ? player_->group->Timeline(evidence->index).placement() : core::TrackPlacement{};
  const Micros origin = player_->origin_utc_us;
  job->thread = std::thread([job, cam_src, ev_src, cam_p, ev_p, origin] {
    constexpr int kRate = 8000;                        // speech loudness needs no more
    constexpr Micros kMax = 600 * kMicrosPerSecond;    // bounds the download on long sessions
    constexpr Micros kWindow = 100'000;
    std::string error;
    const auto cam = media::DecodeAudioMono(cam_src, kRate, kMax, &error);
    if (cam.empty()) {
      job->error = error.empty() ? "no sound" : error;
    } else {
      auto windows = core::LoudnessWindows(cam, kRate, kWindow);
      const Micros start = core::TrackStartInSession(cam_p, origin);
      for (auto& w : windows) w.start_us += start;
      job->quiet = core::QuietRanges(windows, kWindow, -45.0f, 3 * kMicrosPerSecond);
      job->loudness = std::move(windows);
      if (ev_src) {
        const auto ev = media::DecodeAudioMono(ev_src, kRate, kMax, &error);
        core::AudioOffsetOptions o;
        o.expected_offset_us = core::ExpectedAudioOffset(cam_p, ev_p, origin);
        if (!ev.empty()) job->offset = core::EstimateAudioOffset(cam, kRate, ev, kRate, o);
        if (job->offset) job->suggested_skew_us = core::SkewForAudioOffset(cam_p, ev_p, origin, job->offset->offset_us);
        else job->error = ev.empty() ? error : "too short or silent";
      }
    }
    job->done = true;
    glfwPostEmptyEvent();
  });
}

void ReviewPanel::DrawFlagWalk(UiContext& ctx) {
  auto& g = *player_->group;
  const Micros now = g.Now();
  // Flag walk: every track pauses on the flagged instant; the reviewer confirms or dismisses.
  if (ImGui::SmallButton(Tr(str::kRvFlagPrev)))
    if (auto t = core::PreviousMarker(flags_, core::MarkerKind::kFlag, now - 1000)) g.Pause(), g.Seek(*t);
  ImGui::SameLine();
  if (ImGui::SmallButton(Tr(str::kRvFlagNext)))
    if (auto t = core::NextMarker(flags_, core::MarkerKind::kFlag, now + 1000)) g.Pause(), g.Seek(*t);
  for (size_t i = 0; i < flags_.size(); ++i) {
    if (std::abs(flags_[i].session_us - now) > 500'000) continue;
    ImGui::SameLine();
    const std::string buf = Format(str::kRvFlagAt, flag_details_[i].c_str());
    TextColored(theme::kWarning, buf);
    auto record = [&](const Text& verdict) {
      if (ctx.outbox == nullptr) return;
      v1::AddAnnotationRequest req;
      req.set_session_id(session_id_);
      *req.mutable_at() = TimeUtil::MicrosecondsToTimestamp(player_->origin_utc_us + flags_[i].session_us);
      req.set_text(std::string(Tr(verdict)) + " · " + flag_details_[i]);
      ctx.outbox->Enqueue(local::method::kAddAnnotation, req, Tr(verdict), "note:" + std::to_string(session_id_));
    };
    ImGui::SameLine();
    ImGui::PushID(static_cast<int>(i));
    if (ImGui::SmallButton(Tr(str::kRvFlagConfirm))) record(str::kRvFlagConfirmed);
    ImGui::SameLine();
    if (ImGui::SmallButton(Tr(str::kRvFlagDismiss))) record(str::kRvFlagDismissed);
    ImGui::PopID();
    break;
  }
  // Skip quiet, and the sound match of the phone against the camera.
  ImGui::SameLine();
  VerticalRule();
  ImGui::SameLine();
  const bool analysed = analysis_ && analysis_->done;
  ImGui::BeginDisabled(!analysed || analysis_->quiet.empty());
  if (ImGui::SmallButton(Tr(str::kRvSkipQuiet)))
    if (auto t = core::SkipQuietTarget(analysis_->quiet, now)) g.Seek(*t);
  ImGui::EndDisabled();
  ImGui::SameLine();
  if (!analysis_) return;
  if (!analysed) {
    TextColored(theme::kMuted, Tr(str::kRvAnalysing));
  } else if (analysis_->offset) {
    // The correction the sound asks for (the phone's clock error), not the raw lag, which
    // also holds the difference of the recordings' start times.
    TextColored(analysis_->offset->confidence >= 0.5 ? theme::kOnline : theme::kWarning,
                Format(str::kRvOffsetEstimate, static_cast<int>(analysis_->suggested_skew_us / 1000),
                       analysis_->offset->confidence));
    ImGui::SameLine();
    if (ImGui::SmallButton(Tr(str::kRvOffsetApply)))
      for (const auto& t : player_->tracks)
        if (t.track.kind() == v1::TRACK_KIND_EVIDENCE) g.SetSkew(t.index, analysis_->suggested_skew_us);
  } else if (!analysis_->error.empty()) {
    const std::string buf = Format(str::kRvOffsetNone, analysis_->error.c_str());
    TextColored(theme::kMuted, buf);
  }
}

void ReviewPanel::DrawVideos(ImVec2 size) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const float line = ImGui::GetTextLineHeightWithSpacing();
  // The enlarged recording on the left at half the width (the screen at first); the other
  // two stacked on the right. Clicking a small one enlarges it.
  struct Cell {
    v1::TrackKind kind;
    ImVec2 p0, p1;
  };
  v1::TrackKind small[2];
  int n = 0;
  for (v1::TrackKind k : {v1::TRACK_KIND_SCREEN, v1::TRACK_KIND_CAMERA, v1::TRACK_KIND_EVIDENCE})
    if (k != enlarged_kind_ && n < 2) small[n++] = k;
  const float left_w = std::floor(size.x * 0.5f);
  const float right_h = std::floor((size.y - kGap) / 2);
  const Cell cells[] = {
      {enlarged_kind_, origin, ImVec2(origin.x + left_w, origin.y + size.y)},
      {small[0], ImVec2(origin.x + left_w + kGap, origin.y), ImVec2(origin.x + size.x, origin.y + right_h)},
      {small[1], ImVec2(origin.x + left_w + kGap, origin.y + right_h + kGap), ImVec2(origin.x + size.x, origin.y + size.y)},
  };
  for (const auto& cell : cells) {
    if (cell.kind != enlarged_kind_) {
      ImGui::SetCursorScreenPos(cell.p0);
      ImGui::PushID(static_cast<int>(cell.kind));
      ImGui::InvisibleButton("##enlarge", ImVec2(std::max(1.0f, cell.p1.x - cell.p0.x), std::max(1.0f, cell.p1.y - cell.p0.y)));
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", Tr(str::kRvEnlarge));
      if (ImGui::IsItemClicked()) enlarged_kind_ = cell.kind;
      ImGui::PopID();
    }
    // The part of this kind's recording that covers the playhead (an interrupted recording
    // comes in several parts), else its first part to say why there is nothing.
    TrackView* shown = nullptr;
    media::PresentedFrame presented;
    for (auto& t : player_->tracks) {
      if (t.track.kind() != cell.kind) continue;
      auto p = player_->group->Present(t.index);
      if (shown == nullptr || (p.recorded && !presented.recorded)) {
        shown = &t;
        presented = std::move(p);
      }
    }
    std::string label = KindName(cell.kind);
    if (shown != nullptr && presented.frame && presented.frame->picture)
      label += "  " + shown->track.codec() + " " + std::to_string(presented.frame->picture->width) + "×" +
               std::to_string(presented.frame->picture->height);
    if (presented.rotation_degrees != 0) {
      const std::string turned = Format(str::kRvRotated, presented.rotation_degrees);
      label += std::string("  ") + turned;
    }
    dl->AddText(cell.p0, theme::kMuted, label.c_str());
    ImVec2 v0(cell.p0.x, cell.p0.y + line), v1p = cell.p1;
    dl->AddRectFilled(v0, v1p, IM_COL32(14, 16, 20, 255));
    std::string why;
    if (shown == nullptr) {
      why = Tr(str::kRvNoRecording);
    } else if (presented.state == media::TrackState::kFailed) {
      const std::string buf = Format(str::kRvFailed, presented.error.c_str());
      why = buf;
    } else if (presented.state == media::TrackState::kOpening) {
      why = Tr(str::kRvOpening);
    } else if (!presented.recorded) {
      // A gap (the recording was interrupted): say so rather than freeze the last frame.
      if (presented.next_recorded_us) {
        const std::string buf = Format(str::kRvNoRecordingUntil, FormatMediaTime(*presented.next_recorded_us, false).c_str());
        why = buf;
      } else {
        why = Tr(str::kRvNoRecording);
      }
    } else if (!presented.has_video) {
      // A sound-only recording (a phone that recorded audio, an .m4a): no picture will come,
      // so say so instead of "Decoding…" for ever.
      why = Tr(str::kRvSoundOnly);
    } else if (presented.frame && presented.frame->picture) {
      const auto& pic = presented.frame->picture;
      if (pic.get() != shown->uploaded && renderer_.ready()) {
        render::YuvPlanesView view;
        view.width = pic->width;
        view.height = pic->height;
        for (int i = 0; i < 3; ++i) {
          view.data[i] = pic->Plane(i);
          view.linesize[i] = pic->linesize[i];
        }
        view.bt709 = pic->color_space == media::ColorSpace::kBt709;
        view.full_range = pic->color_range == media::ColorRange::kFull;
        shown->textures.Upload(view);
        shown->uploaded = pic.get();
        shown->keep = pic;
      }
      // A sideways phone is shown upright: its box takes the turned picture's aspect.
      const int turns = ((presented.rotation_degrees / 90) % 4 + 4) % 4;
      const float w = static_cast<float>(pic->width), h = static_cast<float>(std::max(1, pic->height));
      FitAspect(&v0, &v1p, turns % 2 ? h / w : w / h);
      if (shown->textures.valid()) renderer_.Draw(dl, v0, v1p, shown->textures, 1.0f, turns);
      if (presented.past_end && !presented.error.empty()) {
        why = presented.error;
      } else if (!presented.error.empty()) {
        // A playable track with a problem (timestamps jumping back, damaged pictures): the
        // grader sees it while it plays, not only once the pictures run out.
        const float w = cell.p1.x - cell.p0.x - 12;
        const ImVec2 ts = ImGui::CalcTextSize(presented.error.c_str(), nullptr, false, w);
        const ImVec2 tp(cell.p0.x + 6, cell.p1.y - ts.y - 4);
        dl->AddRectFilled(ImVec2(tp.x - 3, tp.y - 2), ImVec2(tp.x + ts.x + 3, tp.y + ts.y + 2), IM_COL32(0, 0, 0, 170));
        dl->AddText(nullptr, 0.0f, tp, theme::kWarning, presented.error.c_str(), nullptr, w);
      }
    } else {
      why = Tr(str::kRvDecoding);
    }
    if (!why.empty()) {
      const float w = cell.p1.x - cell.p0.x - 12;
      const ImVec2 ts = ImGui::CalcTextSize(why.c_str(), nullptr, false, w);
      const ImVec2 tp((cell.p0.x + cell.p1.x - ts.x) / 2, (cell.p0.y + line + cell.p1.y - ts.y) / 2);
      dl->AddText(nullptr, 0.0f, tp, presented.state == media::TrackState::kFailed ? theme::kDanger : theme::kMuted,
                  why.c_str(), nullptr, w);
    }
  }
  ImGui::SetCursorScreenPos(origin);
  ImGui::Dummy(size);
}

void ReviewPanel::DrawTransport(const std::vector<core::QuestionSegment>& questions) {
  auto& g = *player_->group;
  const Micros now = g.Now();
  auto seek_to = [&](std::optional<Micros> t) {
    if (t) g.Seek(std::clamp<Micros>(*t, 0, player_->end_us));
  };
  if (ImGui::Button(Tr(str::kRvPrevQuestion))) seek_to(core::PreviousQuestionStart(questions, now));
  ImGui::SameLine();
  if (ImGui::Button("<|")) g.StepBackward();
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", Tr(str::kRvStepBack));
  ImGui::SameLine();
  if (ImGui::Button(g.playing() ? Tr(str::kRvPause) : Tr(str::kRvPlay), ImVec2(70, 0))) g.playing() ? g.Pause() : g.Play();
  ImGui::SameLine();
  if (ImGui::Button("|>")) g.StepForward();
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", Tr(str::kRvStepForward));
  ImGui::SameLine();
  if (ImGui::Button(Tr(str::kRvNextQuestion))) seek_to(core::NextQuestionStart(questions, now));
  ImGui::SameLine();
  TextUnformatted(FormatMediaTime(now, true) + " / " + FormatMediaTime(player_->end_us, false));
  if (auto q = core::QuestionAt(questions, now)) {
    ImGui::SameLine();
    const std::string buf = Format(str::kRvQuestionAt, q->question);
    TextColored(theme::kOnline, buf);
  }
  ImGui::SameLine();
  VerticalRule();
  ImGui::SameLine();
  TextUnformatted(Tr(str::kRvSpeed));
  ImGui::SameLine();
  static const double kRates[] = {0.5, 1.0, 1.5, 2.0, 4.0};
  for (double r : kRates) {
    char label[16];
    std::snprintf(label, sizeof label, "%g×", r);
    const bool on = std::abs(g.rate() - r) < 1e-6;
    if (on) ImGui::PushStyleColor(ImGuiCol_Button, theme::ToVec4(theme::kAccent));
    if (ImGui::SmallButton(label)) g.SetRate(r);
    if (on) ImGui::PopStyleColor();
    ImGui::SameLine();
  }
  VerticalRule();
  ImGui::SameLine();
  // Whose sound is heard (and so drives the clock).
  TextUnformatted(Tr(str::kRvSound));
  ImGui::SameLine();
  std::string current = Tr(str::kRvMute);
  for (const auto& t : player_->tracks)
    if (g.selected_audio() && *g.selected_audio() == t.index) current = KindName(t.track.kind());
  ImGui::SetNextItemWidth(110);
  if (ImGui::BeginCombo("##sound", current.c_str())) {
    if (ImGui::Selectable(Tr(str::kRvMute), !g.selected_audio())) g.SelectAudio(std::nullopt);
    for (const auto& t : player_->tracks) {
      if (t.track.kind() == v1::TRACK_KIND_SCREEN || t.track.segment() != 0) continue;
      if (ImGui::Selectable(KindName(t.track.kind()), g.selected_audio() && *g.selected_audio() == t.index))
        g.SelectAudio(t.index);
    }
    ImGui::EndCombo();
  }
  // The phone's clock is not the laptop's: nudge its offset in 20 ms steps.
  for (auto& t : player_->tracks) {
    if (t.track.kind() != v1::TRACK_KIND_EVIDENCE || t.track.segment() != 0) continue;
    const Micros skew = g.Timeline(t.index).placement().skew_us;
    ImGui::SameLine();
    const std::string buf = Format(str::kRvSkew, static_cast<int>(skew / 1000));
    TextColored(theme::kMuted, std::string(KindName(t.track.kind())) + " " + buf);
    ImGui::SameLine();
    ImGui::PushID(t.index);
    auto nudge = [&](Micros d) {
      for (auto& u : player_->tracks)
        if (u.track.kind() == v1::TRACK_KIND_EVIDENCE) g.SetSkew(u.index, skew + d);
    };
    if (ImGui::SmallButton("-20")) nudge(-20000);
    ImGui::SameLine();
    if (ImGui::SmallButton("+20")) nudge(20000);
    ImGui::PopID();
  }
}

void ReviewPanel::HandleKeys(const std::vector<core::QuestionSegment>& questions) {
  if (!ImGui::IsWindowFocused(ImGuiFocusedFlags_RootAndChildWindows) || ImGui::GetIO().WantTextInput) return;
  auto& g = *player_->group;
  auto pressed = [](ImGuiKey key) { return ImGui::IsKeyPressed(ImGui::GetKeyIndex(key)); };
  if (pressed(ImGuiKey_Space)) g.playing() ? g.Pause() : g.Play();
  if (pressed(ImGuiKey_LeftArrow)) g.StepBackward();
  if (pressed(ImGuiKey_RightArrow)) g.StepForward();
  const Micros now = g.Now();
  if (ImGui::IsKeyPressed(GLFW_KEY_LEFT_BRACKET))
    if (auto t = core::PreviousQuestionStart(questions, now)) g.Seek(*t);
  if (ImGui::IsKeyPressed(GLFW_KEY_RIGHT_BRACKET))
    if (auto t = core::NextQuestionStart(questions, now)) g.Seek(*t);
  if (ImGui::IsKeyPressed(GLFW_KEY_M, false)) sheet_.FocusNote();
  if (ImGui::IsKeyPressed(GLFW_KEY_I, false)) clip_in_us_ = now;
  if (ImGui::IsKeyPressed(GLFW_KEY_O, false)) clip_out_us_ = now;
}

void ReviewPanel::JoinExport() {
  if (!export_) return;
  export_->cancel = true;
  if (export_->thread.joinable()) export_->thread.join();
  export_.reset();
}

void ReviewPanel::StartExport(UiContext& ctx) {
  JoinExport();
  media::ClipRequest req;
  req.session_id = session_id_;
  req.draw_number = draw_number_;
  req.start_utc_us = player_->origin_utc_us + std::min(clip_in_us_, clip_out_us_);
  req.end_utc_us = player_->origin_utc_us + std::max(clip_in_us_, clip_out_us_);
  req.folder = clip_folder_;
  req.exported_by = ctx.status.username;
  for (const auto& t : player_->tracks) {
    media::ClipSource src;
    src.kind = t.track.kind();
    src.track_id = t.track.id();
    src.segment = t.track.segment();
    src.source_sha256 = t.track.sha256();
    src.placement = player_->group->Timeline(t.index).placement();  // with the reviewer's skew
    // Its own reader: the export must not move the player's read position.
    src.source = t.open();
    req.sources.push_back(std::move(src));
  }
  // The session's markers inside the range travel with the clip, for offline review.
  if (session_feed_)
    for (const auto& m : session_feed_->Current()->markers) {
      v1::ClipMarker cm;
      cm.set_kind(m.kind() == v1::MARKER_KIND_QUESTION_SHOWN     ? "question_shown"
                  : m.kind() == v1::MARKER_KIND_ANSWER_COMPLETE ? "answer_complete"
                                                                : "flag");
      cm.set_offset_us(TimeUtil::TimestampToMicroseconds(m.time()) - req.start_utc_us);
      cm.set_question(m.question());
      cm.set_detail(m.detail());
      req.markers.push_back(std::move(cm));
    }
  export_ = std::make_unique<ExportJob>();
  ExportJob* job = export_.get();
  job->thread = std::thread([job, req = std::move(req)] {
    job->result = media::ExportClip(req, [job](float p) {
      job->progress = p;
      glfwPostEmptyEvent();
    }, &job->cancel);
    job->done = true;
    glfwPostEmptyEvent();
  });
}

void ReviewPanel::DrawClipExport(UiContext& ctx, const std::vector<core::QuestionSegment>& questions) {
  ImGui::Spacing();
  TextUnformatted(Tr(str::kRvClip));
  ImGui::Separator();
  const Micros now = player_->group->Now();
  if (ImGui::SmallButton(Tr(str::kRvSetIn))) clip_in_us_ = now;
  ImGui::SameLine();
  TextColored(theme::kMuted, clip_in_us_ >= 0 ? FormatMediaTime(clip_in_us_, true) : "--:--");
  ImGui::SameLine();
  if (ImGui::SmallButton(Tr(str::kRvSetOut))) clip_out_us_ = now;
  ImGui::SameLine();
  TextColored(theme::kMuted, clip_out_us_ >= 0 ? FormatMediaTime(clip_out_us_, true) : "--:--");
  ImGui::SameLine();
  if (auto q = core::QuestionAt(questions, now); q && ImGui::SmallButton(Tr(str::kRvClipQuestion))) {
    clip_in_us_ = q->shown_us;
    clip_out_us_ = q->end_us;
  }
  if (clip_folder_[0] == 0) {
    const char* home = std::getenv("HOME");
    const auto base = home != nullptr ? std::filesystem::path(home) : std::filesystem::temp_directory_path();
    std::snprintf(clip_folder_, sizeof clip_folder_, "%s", (base / "exam-clips" / ("draw-" + std::to_string(draw_number_))).string().c_str());
  }
  ImGui::SetNextItemWidth(-70);
  ImGui::InputTextWithHint("##clip_folder", Tr(str::kRvClipFolder), clip_folder_, sizeof clip_folder_);
  ImGui::SameLine();
  const bool running = export_ && !export_->done;
  ImGui::BeginDisabled(running || clip_in_us_ < 0 || clip_out_us_ < 0 || clip_in_us_ == clip_out_us_ || clip_folder_[0] == 0);
  if (ImGui::SmallButton(Tr(str::kRvExport))) StartExport(ctx);
  ImGui::EndDisabled();
  if (running) {
    const std::string buf = Format(str::kRvExporting, static_cast<int>(export_->progress * 100));
    TextColored(theme::kAccent, buf);
    ImGui::SameLine();
    if (ImGui::SmallButton(Tr(str::kRvCancel))) export_->cancel = true;
  } else if (export_) {
    if (export_->thread.joinable()) export_->thread.join();
    const auto& r = export_->result;
    ImGui::PushTextWrapPos(0);
    if (r.ok()) {
      TextColored(theme::kOnline, Format(str::kRvExported, r.manifest.files_size(), r.manifest_path.c_str()));
    } else {
      TextColored(theme::kDanger, Format(str::kRvExportFailed, r.error.c_str()));
    }
    ImGui::PopTextWrapPos();
    for (const auto& why : r.skipped) TextColored(theme::kMuted, Format(str::kRvSkipped, why.c_str()));
  }
}

void ReviewPanel::DrawPlayerArea(UiContext& ctx, float width, const std::vector<v1::Marker>& session_markers,
                                 const std::vector<v1::Annotation>& annotations) {
  // Markers on the session's time line.
  std::vector<core::TimelineMarker> markers;
  TimelineModel model;
  flags_.clear();
  flag_details_.clear();
  for (const auto& m : session_markers) {
    const Micros at = TimeUtil::TimestampToMicroseconds(m.time()) - player_->origin_utc_us;
    markers.push_back(core::TimelineMarker{ToCore(m.kind()), at, m.question()});
    if (m.kind() == v1::MARKER_KIND_FLAG) {
      model.events.push_back(TimelinePoint{at, m.detail(), theme::kWarning});
      flags_.push_back(core::TimelineMarker{core::MarkerKind::kFlag, at, 0});
      flag_details_.push_back(m.detail());
    }
  }
  if (analysis_ && analysis_->done) {
    model.loudness = &analysis_->loudness;
    model.loudness_window_us = 100'000;
  }
  const auto questions = core::QuestionSegments(markers, player_->end_us);
  // A session opens on its first question: where grading starts.
  if (!player_->started) {
    player_->started = true;
    if (!questions.empty()) player_->group->Seek(questions.front().shown_us);
  }
  for (const auto& n : annotations)
    model.notes.push_back(TimelinePoint{TimeUtil::TimestampToMicroseconds(n.at()) - player_->origin_utc_us,
                                        n.author() + ": " + n.text(), theme::kAccent});
  model.end_us = player_->end_us;
  model.questions = questions;
  questions_ = questions;
  if (clip_in_us_ >= 0 && clip_out_us_ >= 0)
    model.selection = core::TimeRange{std::min(clip_in_us_, clip_out_us_), std::max(clip_in_us_, clip_out_us_)};
  model.playhead_us = player_->group->Now();
  for (v1::TrackKind kind : kKindOrder) {
    TimelineLane lane;
    lane.label = KindName(kind);
    bool any = false;
    for (const auto& t : player_->tracks) {
      if (t.track.kind() != kind) continue;
      any = true;
      auto ranges = player_->group->Timeline(t.index).RecordedSessionRanges();
      lane.recorded.insert(lane.recorded.end(), ranges.begin(), ranges.end());
      lane.failed |= player_->group->decoder(t.index).State() == media::TrackState::kFailed;
    }
    if (any) model.tracks.push_back(std::move(lane));
  }

  const float lane_h = std::max(14.0f, ImGui::GetTextLineHeight() + 2);
  const float timeline_h = lane_h * static_cast<float>(model.tracks.size() + 5);
  const float transport_h = 2 * ImGui::GetFrameHeightWithSpacing();
  const float hint_h = ImGui::GetTextLineHeightWithSpacing();
  const float videos_h = std::max(120.0f, ImGui::GetContentRegionAvail().y - timeline_h - transport_h - hint_h - 12);
  DrawVideos(ImVec2(width, videos_h));
  DrawTransport(questions);
  DrawFlagWalk(ctx);
  if (auto t = timeline_.Draw(model, timeline_h)) player_->group->Seek(*t);
  TextColored(theme::kMuted, Tr(str::kRvHint));
  HandleKeys(questions);
}

void ReviewPanel::DrawOffline(UiContext& ctx) {
  if (!offline_) {
    // Hashing and probing whole files: on a worker, the window stays live meanwhile.
    offline_ = std::make_unique<OfflineJob>();
    OfflineJob* job = offline_.get();
    job->thread = std::thread([job, paths = ctx.offline_review] {
      job->review = media::LoadLocalReview(paths);
      job->done = true;
      glfwPostEmptyEvent();
    });
  }
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  ImGui::BeginChild("##review_list", ImVec2(kListWidth, avail.y), true);
  TextUnformatted(Tr(str::kRvOffline));
  ImGui::Separator();
  if (!offline_->done) {
    TextColored(theme::kMuted, Tr(str::kRvVerifying));
    ImGui::EndChild();
    return;
  }
  if (offline_->thread.joinable()) offline_->thread.join();
  const auto& review = offline_->review;
  if (review.manifest) {
    const std::string head = Format(str::kLiveDrawNo, review.manifest->draw_number());
    TextUnformatted(head);
    TextColored(theme::kMuted, review.manifest->exported_by());
  }
  ImGui::PushTextWrapPos(0);
  for (const auto& t : review.tracks) {
    const std::string name = std::filesystem::path(t.path).filename().string();
    if (!t.error.empty()) TextColored(theme::kDanger, name + ": " + t.error);
    else if (t.tampered) TextColored(theme::kDanger, std::string(Tr(str::kRvTampered)) + ": " + name);
    else if (!t.expected_sha256.empty()) TextColored(theme::kOnline, std::string(Tr(str::kRvVerified)) + ": " + name);
    else TextUnformatted(name);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("sha256 %s", t.sha256.c_str());
  }
  for (const auto& m : review.missing) TextColored(theme::kDanger, std::string(Tr(str::kRvFileMissing)) + ": " + m);
  if (!review.error.empty()) TextColored(theme::kDanger, review.error);
  ImGui::PopTextWrapPos();
  ImGui::EndChild();
  ImGui::SameLine();

  if (!player_ && !offline_built_) {
    offline_built_ = true;
    // The files as tracks of one session; their markers as the backend would list them.
    std::vector<std::pair<v1::Track, SourceOpener>> tracks;
    std::map<int, int> segments;
    int64_t id = 0;
    for (const auto& t : review.tracks) {
      if (!t.error.empty()) continue;
      v1::Track track;
      track.set_id(++id);
      track.set_kind(t.kind);
      track.set_segment(segments[t.kind]++);
      *track.mutable_utc_start() = TimeUtil::MicrosecondsToTimestamp(t.placement.utc_start_us);
      *track.mutable_duration() = TimeUtil::MicrosecondsToDuration(t.placement.duration_us);
      track.set_sha256(t.sha256);
      const std::string path = t.path;
      tracks.emplace_back(track, [path]() -> std::shared_ptr<media::ByteSource> {
        std::string error;
        std::shared_ptr<media::ByteSource> source = media::LocalFileSource::Open(path, &error);
        return source;
      });
    }
    offline_markers_.clear();
    for (const auto& m : review.markers) {
      v1::Marker marker;
      marker.set_kind(m.kind == core::MarkerKind::kQuestionShown    ? v1::MARKER_KIND_QUESTION_SHOWN
                      : m.kind == core::MarkerKind::kAnswerComplete ? v1::MARKER_KIND_ANSWER_COMPLETE
                                                                    : v1::MARKER_KIND_FLAG);
      *marker.mutable_time() = TimeUtil::MicrosecondsToTimestamp(m.utc_us);
      marker.set_question(m.question);
      marker.set_detail(m.detail);
      offline_markers_.push_back(std::move(marker));
    }
    draw_number_ = review.manifest ? review.manifest->draw_number() : 0;
    session_id_ = review.manifest ? review.manifest->session_id() : 0;
    BuildPlayer(ctx, -1, "offline", std::move(tracks), offline_markers_);
  }
  const float center_w = std::max(200.0f, avail.x - kListWidth - kSheetWidth - 2 * ImGui::GetStyle().ItemSpacing.x);
  ImGui::BeginChild("##review_player", ImVec2(center_w, avail.y), false, ImGuiWindowFlags_NoScrollbar);
  if (player_) DrawPlayerArea(ctx, center_w, offline_markers_, {});
  else TextColored(theme::kMuted, Tr(str::kRvNoRecording));
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("##review_sheet", ImVec2(0, avail.y), true);
  ImGui::PushTextWrapPos(0);
  TextColored(theme::kMuted, Tr(str::kRvOfflineNoScores));
  ImGui::PopTextWrapPos();
  if (player_) DrawClipExport(ctx, questions_);
  ImGui::EndChild();
}

void ReviewPanel::DrawContent(UiContext& ctx) {
  if (!ctx.offline_review.empty()) {
    // Offline review: local files only, no feeds, no cache.
    if (!renderer_tried_) {
      renderer_tried_ = true;
      if (!renderer_.Init(&renderer_error_)) std::fprintf(stderr, "exam-console: %s\n", renderer_error_.c_str());
    }
    renderer_.BeginFrame();
    DrawOffline(ctx);
  } else {
    EnsureStarted(ctx);
    renderer_.BeginFrame();
    DrawOnline(ctx);
  }
  if (!renderer_error_.empty()) TextColored(theme::kDanger, renderer_error_);
  // While playing, every frame is a new picture: ask for the next one (paced by the app).
  if (player_ && player_->group->playing()) {
    if (ctx.video_frame_ready) ctx.video_frame_ready();
    else glfwPostEmptyEvent();
  }
}

void ReviewPanel::DrawOnline(UiContext& ctx) {
  PickDefaultExam(ctx);
  if (queue_feed_) queue_feed_->Follow(exam_id_);
  if (session_feed_) session_feed_->Follow(session_id_);
  const auto queue = queue_feed_ ? queue_feed_->Current() : std::make_shared<net::ReviewQueueView>();
  const auto session = session_feed_ ? session_feed_->Current() : std::make_shared<net::ReviewSessionView>();

  const ImVec2 avail = ImGui::GetContentRegionAvail();
  ImGui::BeginChild("##review_list", ImVec2(kListWidth, avail.y), true);
  DrawSessionList(ctx, *queue);
  ImGui::EndChild();
  ImGui::SameLine();

  const float center_w = std::max(200.0f, avail.x - kListWidth - kSheetWidth - 2 * ImGui::GetStyle().ItemSpacing.x);
  ImGui::BeginChild("##review_player", ImVec2(center_w, avail.y), false, ImGuiWindowFlags_NoScrollbar);
  if (session_id_ == 0) {
    TextColored(theme::kMuted, Tr(str::kRvPickSession));
  } else if (session->key != session_id_ || !session->loaded) {
    TextColored(session->error.empty() ? theme::kMuted : theme::kDanger,
                session->error.empty() ? Tr(str::kRvLoading) : session->error);
  } else {
    SyncPlayer(ctx, *session);
    for (const auto& m : session->missing) {
      const std::string buf = Format(str::kRvMissing, KindName(m.kind()), v1::UploadState_Name(m.state()).c_str(), FormatBytes(m.committed()).c_str(), FormatBytes(m.size()).c_str());
      TextColored(theme::kWarning, buf);
    }
    if (!player_) TextColored(theme::kMuted, Tr(str::kRvNoRecording));
    else DrawPlayerArea(ctx, center_w, session->markers, session->annotations);
  }
  ImGui::EndChild();
  ImGui::SameLine();

  ImGui::BeginChild("##review_sheet", ImVec2(0, avail.y), true);
  if (session_id_ != 0 && session->key == session_id_ && session->loaded) {
    const std::string head = Format(str::kLiveDrawNo, draw_number_);
    TextUnformatted(head);
    const Micros origin = player_ ? player_->origin_utc_us : 0;
    const Micros playhead = player_ ? player_->group->Now() : 0;
    const Micros seek = sheet_.Draw(ctx, session_id_, queue->rubric, *session, origin, playhead);
    if (seek >= 0 && player_) player_->group->Seek(seek);
    if (player_) DrawClipExport(ctx, questions_);
  }
  ImGui::EndChild();
}

}  // namespace exam::ui
