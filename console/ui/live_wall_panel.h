#pragma once
// The live wall of proctors (监考墙): one tile per candidate of a room with the laptop
// camera's live video and what needs attention (help, alerts, appeal, interruption,
// evidence camera lost, uploads pending), most urgent first. Video streams are opened by a
// LiveFeed on its own threads and decoded by a LiveDecoderPool; the panel only uploads new
// pictures of visible tiles and draws. Tiles off screen decode keyframes only.
#include <imgui.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/attention.h"
#include "ui/candidate_focus_view.h"
#include "media/live_decoder_pool.h"
#include "net/live_feed.h"
#include "render/yuv_video.h"
#include "ui/panel.h"

namespace exam::ui {

class LiveWallPanel : public Panel, private CandidateFocusView::VideoSource {
 public:
  LiveWallPanel();
  ~LiveWallPanel() override;
  bool InViewMenu() const override { return false; }
  // Closes the streams, joins the decoders and frees the textures (GL still current).
  void Stop() override;

 protected:
  void DrawContent(UiContext& ctx) override;
  void Hidden(UiContext& ctx) override;
  void Place(const UiContext& ctx) override;
  bool Visible(const UiContext& ctx) const override {
    return ctx.workspace == "live" || ctx.workspace == "live:focus";
  }
  ImGuiWindowFlags Flags() const override;
  bool Closable() const override { return false; }

 private:
  // Hands the feed's packets to the pool (on gRPC threads).
  class PoolSink : public net::LiveMediaSink {
   public:
    void Attach(media::LiveDecoderPool* pool) { pool_ = pool; }
    void Map(const net::LiveStreamKey& key, media::LiveDecoderPool::StreamId id);
    void Unmap(const net::LiveStreamKey& key);
    void OnParameters(const net::LiveStreamKey& key, const exam::v1::CodecParameters& p) override;
    void OnPacket(const net::LiveStreamKey& key, const exam::v1::MediaPacket& p) override;

   private:
    media::LiveDecoderPool::StreamId Find(const net::LiveStreamKey& key);
    std::mutex mu_;
    std::map<net::LiveStreamKey, media::LiveDecoderPool::StreamId> ids_;
    media::LiveDecoderPool* pool_ = nullptr;
  };

  struct Tile {
    media::LiveDecoderPool::StreamId stream = 0;
    render::YuvTextures textures;
    uint64_t uploaded_version = 0;
    bool visible = false;
  };

  void EnsureStarted(UiContext& ctx);
  void DrawToolbar(UiContext& ctx, const std::vector<const exam::v1::Room*>& rooms);
  void SyncStreams(const std::vector<int64_t>& wanted, const std::vector<int64_t>& visible, int64_t full_session);
  void UploadIfNew(Tile& t);
  void DrawTile(UiContext& ctx, ImDrawList* dl, const exam::v1::Session& s, ImVec2 p0, ImVec2 p1, bool focused,
                bool large);
  void HandleKeys(UiContext& ctx, const std::vector<int64_t>& order, int columns, int per_page);
  void HandleRoomKeys();
  // CandidateFocusView::VideoSource
  void DrawTrack(ImDrawList* dl, const exam::v1::Session& s, exam::v1::TrackKind track, ImVec2 p0, ImVec2 p1) override;
  std::shared_ptr<const media::VideoFrame> LatestFrame(int64_t session_id, exam::v1::TrackKind track) override;
  // Why a stream shows no picture ("connecting", "no video 12 s", the error), or empty.
  std::string WhyNoPicture(const Tile* tile, const net::LiveStreamKey& key, bool detail) const;

  std::unique_ptr<media::LiveDecoderPool> pool_;
  PoolSink sink_;
  std::unique_ptr<net::LiveFeed> feed_;
  render::YuvRenderer renderer_;
  std::string renderer_error_;
  bool renderer_tried_ = false;
  std::unordered_map<int64_t, Tile> tiles_;  // by session id
  // The focused candidate's full-size streams (QUALITY_FULL: camera, screen, evidence),
  // open while the focus view is.
  int64_t full_session_ = 0;
  std::map<exam::v1::TrackKind, Tile> full_;
  CandidateFocusView focus_view_;
  std::map<net::LiveStreamKey, net::LiveStreamStatus> feed_status_;
  core::AttentionOrder order_;
  int64_t room_id_ = 0;     // 0: every room the proctor sees
  int room_index_ = -1;     // set by the number keys
  int fixed_side_ = 0;      // 0: auto grid; n: n x n with pages
  int page_ = 0;
  int64_t focus_session_ = 0;
  bool enlarged_ = false;
  int last_columns_ = 1;
};

}  // namespace exam::ui
