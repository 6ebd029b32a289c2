#pragma once
// The appeals workspace of support staff (人工审核): the queue of open manual-review appeals
// of one exam, least time left first and coloured by how much of the SLA is gone, with live
// countdowns, filters and today's SLA figures; and the review of one appeal — registration
// photo, ID card front and back and handheld-ID photo side by side (zoom and pan), the
// failed live captures, the deadline — with approve / reject and a reason. Decisions go
// through the outbox and show pending → confirmed / failed with the backend's words.
//
// The panel owns its AppealFeed (made on first use from the client): the feed lists,
// fetches and decodes the photos, and keeps the reviewer's lease on the open appeal.
#include <imgui.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "net/appeal_feed.h"
#include "render/image_texture.h"
#include "ui/panel.h"

namespace exam::ui {

class AppealsPanel : public Panel {
 public:
  AppealsPanel() : Panel("appeals", str::kAppealsWorkspace) {}
  ~AppealsPanel() override;
  // Gives the lease back and frees the photo textures while the backend and GL still exist.
  void Stop() override;
  bool InViewMenu() const override { return false; }

 protected:
  void DrawContent(UiContext& ctx) override;
  void Place(const UiContext& ctx) override;
  bool Visible(const UiContext& ctx) const override { return ctx.workspace == "appeals"; }
  ImGuiWindowFlags Flags() const override;
  // In the background the feed stops polling; it resumes when the workspace is shown.
  void Hidden(UiContext& ctx) override;
  bool Closable() const override { return false; }

 private:
  // Zoom and pan of one photo on screen.
  struct PhotoView {
    float zoom = 1.0f;
    ImVec2 pan{0, 0};
  };
  // A photo's texture and the pixels it was made from (kept so a new buffer is noticed).
  struct PhotoTexture {
    render::ImageTexture texture;
    std::shared_ptr<const std::vector<uint8_t>> source;
    bool failed = false;
  };
  struct ActionSummary {
    int64_t action_id = 0;
    int state = -1;  // local::ActionState
    std::string label;
    std::string error;
  };
  // A decision waiting for the feed to finish a lease call (BeginDecision said busy).
  struct PendingDecision {
    int64_t appeal_id = 0;
    bool approve = false;
    std::string reason;
    int frames_left = 0;
  };

  void EnsureFeed(UiContext& ctx);
  void DrawToolbar(UiContext& ctx);
  void DrawSummary(const net::AppealQueue& queue, const core::AppealSlaStats& sla, ImFont* large);
  void DrawQueue(UiContext& ctx, const net::AppealQueue& queue);
  void DrawReview(UiContext& ctx, const net::AppealReview* review, int64_t now_ms);
  void DrawReviewHeader(UiContext& ctx, const net::AppealReview& review, int64_t now_ms);
  void DrawLease(const net::AppealReview& review);
  void DrawPhotos(const net::AppealReview& review, float height);
  void DrawPhoto(const char* key, const Text& title, const net::AppealPhoto& photo, ImVec2 size);
  void DrawCaptures(const net::AppealReview& review, float height);
  void DrawDecision(UiContext& ctx, const net::AppealReview& review);
  void DrawActionState(int64_t appeal_id, bool detailed);
  void HandleKeys(UiContext& ctx, const net::AppealQueue& queue, const net::AppealReview* review);
  void Decide(UiContext& ctx, const net::AppealReview& review, bool approve);
  void Submit(UiContext& ctx, const net::AppealReview& review, bool approve, const std::string& reason);
  void RefreshOutboxCache(const UiContext& ctx, const net::AppealReview* review);
  void Select(int64_t appeal_id, bool by_user);
  void SelectNext(const net::AppealQueue& queue, const std::string& me);
  const render::ImageTexture* TextureFor(const char* key, const net::AppealPhoto& photo);

  std::unique_ptr<net::AppealFeed> feed_;
  uint64_t glyphs_seen_version_ = 0;
  int64_t exam_id_ = 0;
  int64_t room_id_ = 0;
  net::AppealPhase phase_ = net::AppealPhase::kAll;
  bool mine_only_ = false;

  int64_t selected_ = 0;
  bool auto_selected_ = false;
  bool user_closed_ = false;  // Esc: no appeal is opened for the user until they pick one
  bool scroll_to_selected_ = false;
  bool next_requested_ = false;  // the Next button, answered with the keys
  int last_drawn_frame_ = -10;   // ImGui frame of the last draw: a gap means the workspace was entered

  char reason_[512] = "";
  int template_ = -1;
  bool focus_reason_ = false;
  std::string decide_error_;
  PendingDecision pending_;

  float decision_h_ = 0.0f;    // height of the decision block last frame
  int enlarged_capture_ = -1;  // the capture shown large (popup)
  int64_t textures_for_ = 0;  // the appeal the textures and views below belong to
  std::unordered_map<std::string, PhotoTexture> textures_;
  std::unordered_map<std::string, PhotoView> views_;

  uint64_t outbox_seen_version_ = UINT64_MAX;
  std::unordered_map<int64_t, ActionSummary> action_by_appeal_;
  int64_t handled_failure_ = 0;  // the refused decision already answered with a reload
  int64_t handled_confirm_ = 0;  // the confirmed decision already answered with a refresh
};

}  // namespace exam::ui
