#pragma once
// The review workspace (评审回放, F6): graders pick a finished session by draw number and
// watch its screen, camera and evidence-phone recordings in sync (one PlaybackGroup), jump
// question by question on the timeline, score it and leave notes. Recordings are read over
// ReviewService.ReadMedia through the local block cache; decoding runs on the tracks'
// workers and the panel only uploads the newest picture of each track.
#include <imgui.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/audio_analysis.h"
#include "core/review_timeline.h"
#include "media/clip_export.h"
#include "media/local_review.h"
#include "media/playback_group.h"
#include "net/review_feed.h"
#include "render/yuv_video.h"
#include "ui/panel.h"
#include "ui/review_timeline_view.h"
#include "ui/score_sheet_view.h"

namespace exam::local {
class MediaBlockStore;
}

namespace exam::ui {

class ReviewPanel : public Panel {
 public:
  ReviewPanel();
  ~ReviewPanel() override;
  bool InViewMenu() const override { return false; }
  void Stop() override;

 protected:
  void DrawContent(UiContext& ctx) override;
  void Hidden(UiContext& ctx) override;
  void Place(const UiContext& ctx) override;
  bool Visible(const UiContext& ctx) const override { return ctx.workspace == "review"; }
  ImGuiWindowFlags Flags() const override;
  bool Closable() const override { return false; }

 private:
  using SourceOpener = std::function<std::shared_ptr<media::ByteSource>()>;
  // One recording on screen: its Track row, its index in the group, its textures.
  struct TrackView {
    exam::v1::Track track;
    SourceOpener open;  // a new reader of the recording (playback, export, analysis)
    int index = -1;
    render::YuvTextures textures;
    const media::VideoFrame* uploaded = nullptr;  // picture in the textures
    std::shared_ptr<const media::VideoFrame> keep;  // keeps `uploaded` alive
  };
  // The open session's player.
  struct Player {
    int64_t session_id = 0;
    std::string track_ids;  // what it was built from: rebuilt when the backend lists others
    core::Micros origin_utc_us = 0;
    core::Micros end_us = 0;
    bool started = false;  // sought to the first question
    std::unique_ptr<media::PlaybackGroup> group;
    std::vector<TrackView> tracks;
  };

  void EnsureStarted(UiContext& ctx);
  void PickDefaultExam(const UiContext& ctx);
  void DrawSessionList(UiContext& ctx, const net::ReviewQueueView& queue);
  void SyncPlayer(UiContext& ctx, const net::ReviewSessionView& session);
  void BuildPlayer(UiContext& ctx, int64_t session_id, const std::string& ids,
                   std::vector<std::pair<exam::v1::Track, SourceOpener>> tracks,
                   const std::vector<exam::v1::Marker>& markers);
  void DrawVideos(ImVec2 size);
  void DrawTransport(const std::vector<core::QuestionSegment>& questions);
  void HandleKeys(const std::vector<core::QuestionSegment>& questions);
  void ClosePlayer();
  void DrawClipExport(UiContext& ctx, const std::vector<core::QuestionSegment>& questions);
  void StartExport(UiContext& ctx);
  void JoinExport();

  std::unique_ptr<net::ReviewQueueFeed> queue_feed_;
  std::unique_ptr<net::ReviewSessionFeed> session_feed_;
  std::shared_ptr<local::MediaBlockStore> blocks_;
  std::string blocks_error_;
  render::YuvRenderer renderer_;
  std::string renderer_error_;
  bool renderer_tried_ = false;
  int64_t exam_id_ = 0;
  int64_t session_id_ = 0;
  int32_t draw_number_ = 0;
  std::unique_ptr<Player> player_;
  ReviewTimelineView timeline_;
  ScoreSheetView sheet_;
  bool want_note_focus_ = false;
  exam::v1::TrackKind enlarged_kind_ = exam::v1::TRACK_KIND_SCREEN;  // the big video
  std::vector<core::QuestionSegment> questions_;  // of the open session, for the clip presets
  std::vector<core::TimelineMarker> flags_;       // alerts, help, violations (session time)
  std::vector<std::string> flag_details_;         // same order

  // Evidence clip: the range (session time) and the export running on its own thread.
  core::Micros clip_in_us_ = -1;
  core::Micros clip_out_us_ = -1;
  char clip_folder_[512] = {0};
  struct ExportJob {
    std::thread thread;
    std::atomic<float> progress{0.0f};
    std::atomic<bool> done{false};
    std::atomic<bool> cancel{false};
    media::ClipResult result;  // read once done
  };
  std::unique_ptr<ExportJob> export_;

  // Sound analysis of the open session, on its own thread: the camera's loudness for the
  // waveform lane and "skip quiet", and the evidence phone's offset found by matching its
  // sound against the camera's.
  struct AnalysisJob {
    std::thread thread;
    std::atomic<bool> done{false};
    int64_t session_id = 0;
    std::vector<core::LoudnessWindow> loudness;  // camera, session-time windows
    std::vector<core::TimeRange> quiet;          // session time
    std::optional<core::AudioOffset> offset;
    core::Micros suggested_skew_us = 0;
    std::string error;
    std::vector<std::shared_ptr<media::ByteSource>> sources;  // cancelled when the session closes
  };
  std::unique_ptr<AnalysisJob> analysis_;
  void StartAnalysis(UiContext& ctx);
  void JoinAnalysis();
  void DrawFlagWalk(UiContext& ctx);
  void DrawOnline(UiContext& ctx);
  void DrawOffline(UiContext& ctx);
  void DrawPlayerArea(UiContext& ctx, float width, const std::vector<exam::v1::Marker>& markers,
                      const std::vector<exam::v1::Annotation>& annotations);

  // Offline review (--review): the files loaded and checked on a worker.
  struct OfflineJob {
    std::thread thread;
    std::atomic<bool> done{false};
    media::LocalReview review;
  };
  std::unique_ptr<OfflineJob> offline_;
  bool offline_built_ = false;
  std::vector<exam::v1::Marker> offline_markers_;
};

}  // namespace exam::ui
