#pragma once
// The focus view of one candidate (考生详情), opened from the live wall with Enter: camera,
// screen and evidence phone at full size side by side, the session's event history, and what
// a proctor does about it — acknowledge alerts, send a message or a formal warning, record a
// violation with a snapshot of the live picture, end the exam (two steps, reason required).
// Every action goes through the outbox with its own idempotency key and shows pending →
// confirmed / failed. The history comes from a SessionHistoryFeed on its own thread; the
// pictures come from the wall, which owns the streams and decoders.
#include <imgui.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "exam/v1/exam.pb.h"
#include "exam/v1/live.pb.h"
#include "media/live_decoder_pool.h"
#include "net/session_history_feed.h"
#include "store/action_methods.h"
#include "store/outbox.h"
#include "ui/ui_context.h"

namespace exam::ui {

class CandidateFocusView {
 public:
  // What the view needs of the wall's video: drawing a track's newest picture (or why
  // there is none) and the picture itself for a snapshot.
  class VideoSource {
   public:
    virtual ~VideoSource() = default;
    virtual void DrawTrack(ImDrawList* dl, const exam::v1::Session& s, exam::v1::TrackKind track, ImVec2 p0,
                           ImVec2 p1) = 0;
    // Null while the track has shown nothing yet.
    virtual std::shared_ptr<const media::VideoFrame> LatestFrame(int64_t session_id, exam::v1::TrackKind track) = 0;
  };

  CandidateFocusView() = default;
  ~CandidateFocusView();
  CandidateFocusView(const CandidateFocusView&) = delete;
  CandidateFocusView& operator=(const CandidateFocusView&) = delete;

  // Every frame the wall is shown, with the focused candidate (0: none), whether the focus
  // view is open or not: the history follows the focus so A works on the wall too.
  void Follow(UiContext& ctx, const exam::v1::Session* s);
  // Draws the view into the rectangle. Returns false when the proctor asked to go back.
  bool Draw(UiContext& ctx, const exam::v1::Session& s, ImVec2 pos, ImVec2 size, VideoSource& video);
  // A: acknowledges the oldest open alert of the followed session. False when there is none
  // known (or no outbox).
  bool AcknowledgeOldest(UiContext& ctx, const exam::v1::Session& s);
  void Stop();

  // Shown as the open alerts of the session: the feed's open ones less those with an
  // acknowledgement already in the outbox (pending or confirmed).
  std::vector<const exam::v1::AlertRecord*> OpenAlerts() const;

 private:
  struct ActionRow {
    int64_t id = 0;
    int state = 0;  // local::ActionState
    std::string label;
    std::string error;
    int64_t created_unix_ms = 0;
    int64_t alert_id = 0;  // for acknowledgements
  };

  void ReloadActions(UiContext& ctx);
  void Enqueue(UiContext& ctx, const exam::v1::Session& s, exam::v1::ProctorActionRequest req, const std::string& label);
  void TakeSnapshot(const exam::v1::Session& s, VideoSource& video);

  void DrawHeader(UiContext& ctx, const exam::v1::Session& s, bool* back);
  void DrawVideos(const exam::v1::Session& s, ImVec2 pos, ImVec2 size, VideoSource& video);
  void DrawHistory(UiContext& ctx);
  void DrawActions(UiContext& ctx, const exam::v1::Session& s, VideoSource& video);
  void DrawEndExamPopup(UiContext& ctx, const exam::v1::Session& s);

  std::unique_ptr<net::SessionHistoryFeed> feed_;
  std::shared_ptr<const net::SessionHistoryView> history_ = std::make_shared<net::SessionHistoryView>();
  int64_t session_id_ = 0;
  const void* seen_session_ = nullptr;  // the Session object last seen: a new one means it changed
  uint64_t seen_outbox_version_ = UINT64_MAX;
  std::vector<ActionRow> actions_;  // newest first
  size_t glyphs_seen_events_ = 0;

  // Forms.
  std::string message_;
  int category_ = 0;  // exam.v1.ViolationCategory
  std::string note_;
  exam::v1::TrackKind snapshot_track_ = exam::v1::TRACK_KIND_CAMERA;
  std::string snapshot_jpeg_;
  std::string snapshot_info_;
  std::string snapshot_error_;
  std::string end_reason_;
  bool open_end_popup_ = false;
  bool focus_message_ = false;
  bool focus_note_ = false;
};

}  // namespace exam::ui
