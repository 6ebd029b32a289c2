#include "ui/live_wall_panel.h"

#include <GLFW/glfw3.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "ui/theme.h"
#include "ui/widgets.h"

namespace exam::ui {

namespace v1 = exam::v1;
using google::protobuf::util::TimeUtil;
using Steady = std::chrono::steady_clock;

namespace {

constexpr float kVideoAspect = 16.0f / 9.0f;
// No picture for this long while the stream should be playing: the tile says so and the
// session counts as needing attention.
constexpr auto kStaleAfter = std::chrono::seconds(4);

const v1::TrackKind kFocusTracks[] = {v1::TRACK_KIND_CAMERA, v1::TRACK_KIND_SCREEN, v1::TRACK_KIND_EVIDENCE};

net::LiveStreamKey CameraKey(int64_t session_id, v1::Quality quality = v1::QUALITY_TILE) {
  return net::LiveStreamKey{session_id, v1::TRACK_KIND_CAMERA, quality};
}

bool EvidenceLost(const v1::Session& s) {
  for (const auto& d : s.devices())
    if (d.kind() == v1::DEVICE_KIND_EVIDENCE_PHONE) return !d.online();
  return false;
}

bool Streaming(const v1::Session& s) {
  return s.stage() != v1::STAGE_ENDED && s.stage() != v1::STAGE_UNSPECIFIED;
}

// A small label with a coloured background at *x on the line at y; advances *x.
void TileBadge(ImDrawList* dl, float* x, float y, float max_x, const std::string& text, ImU32 bg) {
  const ImVec2 size = ImGui::CalcTextSize(text.c_str());
  const float w = size.x + 8;
  if (*x + w > max_x) return;
  dl->AddRectFilled(ImVec2(*x, y), ImVec2(*x + w, y + size.y + 2), bg, 3.0f);
  dl->AddText(ImVec2(*x + 4, y + 1), IM_COL32(255, 255, 255, 255), text.c_str());
  *x += w + 3;
}

}  // namespace

// ---- packets to decoders ------------------------------------------------------------------

void LiveWallPanel::PoolSink::Map(const net::LiveStreamKey& key, media::LiveDecoderPool::StreamId id) {
  std::lock_guard lock(mu_);
  ids_[key] = id;
}

void LiveWallPanel::PoolSink::Unmap(const net::LiveStreamKey& key) {
  std::lock_guard lock(mu_);
  ids_.erase(key);
}

media::LiveDecoderPool::StreamId LiveWallPanel::PoolSink::Find(const net::LiveStreamKey& key) {
  std::lock_guard lock(mu_);
  auto it = ids_.find(key);
  return it == ids_.end() ? 0 : it->second;
}

void LiveWallPanel::PoolSink::OnParameters(const net::LiveStreamKey& key, const v1::CodecParameters& p) {
  const auto id = Find(key);
  if (id == 0 || pool_ == nullptr) return;
  media::StreamParameters out;
  out.codec = p.codec();
  out.width = p.width();
  out.height = p.height();
  out.extradata = p.extradata();
  out.time_base_num = p.time_base_num();
  out.time_base_den = p.time_base_den();
  pool_->SetParameters(id, std::move(out));
}

void LiveWallPanel::PoolSink::OnPacket(const net::LiveStreamKey& key, const v1::MediaPacket& p) {
  const auto id = Find(key);
  if (id == 0 || pool_ == nullptr) return;
  media::EncodedPacket out;
  out.data = p.data();
  out.pts = p.pts();
  out.dts = p.dts();
  out.keyframe = p.keyframe();
  pool_->Push(id, std::move(out));
}

// ---- panel ----------------------------------------------------------------------------

LiveWallPanel::LiveWallPanel() : Panel("live", str::kLiveWorkspace) {}

LiveWallPanel::~LiveWallPanel() {
  // Stop() ran while GL was current; anything left belongs to a context that is gone.
  if (feed_) feed_->Stop();
  if (pool_) pool_->Stop();
  for (auto& [id, tile] : tiles_) tile.textures.Abandon();
  for (auto& [track, tile] : full_) tile.textures.Abandon();
  renderer_.Abandon();
}

void LiveWallPanel::Stop() {
  if (feed_) feed_->Stop();  // no sink call after this
  if (pool_) pool_->Stop();
  for (auto& [id, tile] : tiles_) tile.textures.Reset();
  tiles_.clear();
  for (auto& [track, tile] : full_) tile.textures.Reset();
  full_.clear();
  full_session_ = 0;
  focus_view_.Stop();
  renderer_.Reset();
  feed_.reset();
  sink_.Attach(nullptr);
  pool_.reset();
}

void LiveWallPanel::Place(const UiContext& ctx) {
  ImGui::SetNextWindowPos(ctx.work_pos);
  ImGui::SetNextWindowSize(ctx.work_size);
}

ImGuiWindowFlags LiveWallPanel::Flags() const {
  // The wall takes the arrow keys for its own focus. No window background: the frame is
  // cleared to the panel colour anyway, and a full-window quad under 64 tiles is ~5 ms of
  // pixel work a frame for a software renderer (llvmpipe under Xvfb, remote desktops).
  return ImGuiWindowFlags_NoBackground | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
         ImGuiWindowFlags_NoBringToFrontOnFocus | ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoNav |
         ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse;
}

void LiveWallPanel::EnsureStarted(UiContext& ctx) {
  if (!pool_) {
    media::LiveDecoderPool::Options options;
    options.threads = 2;
    // A new picture is a reason to draw a frame; the UI thread waits for events otherwise.
    options.on_frame = [ready = ctx.video_frame_ready](media::LiveDecoderPool::StreamId) {
      if (ready) ready();
      else glfwPostEmptyEvent();
    };
    pool_ = std::make_unique<media::LiveDecoderPool>(options);
    sink_.Attach(pool_.get());
  }
  if (!feed_ && ctx.client != nullptr) feed_ = std::make_unique<net::LiveFeed>(*ctx.client, sink_);
  if (!renderer_tried_) {
    renderer_tried_ = true;
    if (!renderer_.Init(&renderer_error_)) std::fprintf(stderr, "exam-console: %s\n", renderer_error_.c_str());
  }
}

void LiveWallPanel::Hidden(UiContext&) {
  // Another workspace is in front: keep the streams open but decode keyframes only, and
  // drop the enlarged full-size stream, until the wall is shown again.
  if (!pool_ || (full_.empty() && std::none_of(tiles_.begin(), tiles_.end(), [](const auto& t) { return t.second.visible; })))
    return;
  std::vector<int64_t> wanted;
  for (const auto& [id, tile] : tiles_) wanted.push_back(id);
  SyncStreams(wanted, {}, 0);
}

void LiveWallPanel::SyncStreams(const std::vector<int64_t>& wanted, const std::vector<int64_t>& visible,
                                int64_t full_session) {
  const std::set<int64_t> want(wanted.begin(), wanted.end());
  const std::set<int64_t> vis(visible.begin(), visible.end());
  std::vector<net::LiveStreamKey> keys;
  keys.reserve(wanted.size());
  for (int64_t id : wanted) {
    Tile& t = tiles_[id];
    if (t.stream == 0) {
      t.stream = pool_->Open(media::DecodePolicy::kKeyframesOnly);
      sink_.Map(CameraKey(id), t.stream);
    }
    const bool now_visible = vis.count(id) > 0;
    if (now_visible != t.visible) {
      t.visible = now_visible;
      pool_->SetPolicy(t.stream, now_visible ? media::DecodePolicy::kFull : media::DecodePolicy::kKeyframesOnly);
    }
    keys.push_back(CameraKey(id));
  }
  // The focused candidate's camera, screen and evidence at full size; the camera's tile
  // stream stays as the fallback until the full one has a picture.
  if (full_session != full_session_) {
    for (auto& [track, tile] : full_) {
      sink_.Unmap(net::LiveStreamKey{full_session_, track, v1::QUALITY_FULL});
      pool_->Close(tile.stream);
      tile.textures.Reset();
    }
    full_.clear();
    full_session_ = full_session;
    if (full_session != 0)
      for (auto track : kFocusTracks) {
        Tile& t = full_[track];
        t.stream = pool_->Open(media::DecodePolicy::kFull);
        t.visible = true;
        sink_.Map(net::LiveStreamKey{full_session, track, v1::QUALITY_FULL}, t.stream);
      }
  }
  if (full_session != 0)
    for (auto track : kFocusTracks) keys.push_back(net::LiveStreamKey{full_session, track, v1::QUALITY_FULL});
  if (feed_) feed_->Want(keys);
  for (auto it = tiles_.begin(); it != tiles_.end();) {
    if (want.count(it->first)) {
      ++it;
      continue;
    }
    sink_.Unmap(CameraKey(it->first));
    pool_->Close(it->second.stream);
    it->second.textures.Reset();
    it = tiles_.erase(it);
  }
}

void LiveWallPanel::UploadIfNew(Tile& t) {
  if (t.stream == 0 || !renderer_.ready() || pool_->FrameVersion(t.stream) == t.uploaded_version) return;
  auto frame = pool_->LatestFrame(t.stream);
  if (!frame) return;
  render::YuvPlanesView view;
  view.width = frame->width;
  view.height = frame->height;
  for (int i = 0; i < 3; ++i) {
    view.data[i] = frame->Plane(i);
    view.linesize[i] = frame->linesize[i];
  }
  view.bt709 = frame->color_space == media::ColorSpace::kBt709;
  view.full_range = frame->color_range == media::ColorRange::kFull;
  t.textures.Upload(view);
  t.uploaded_version = frame->version;
}

void LiveWallPanel::DrawToolbar(UiContext& ctx, const std::vector<const v1::Room*>& rooms) {
  auto room_button = [&](const char* label, int64_t id) {
    const bool selected = room_id_ == id;
    if (selected) ImGui::PushStyleColor(ImGuiCol_Button, theme::ToVec4(theme::kAccent));
    if (ImGui::Button(label)) room_id_ = id;
    if (selected) ImGui::PopStyleColor();
    ImGui::SameLine();
  };
  room_button(Label(str::kLiveAllRooms, "room_all").c_str(), 0);
  for (size_t i = 0; i < rooms.size(); ++i) {
    const std::string label = std::to_string(i + 1) + " " + rooms[i]->name() + "###room" + std::to_string(rooms[i]->id());
    room_button(label.c_str(), rooms[i]->id());
  }
  VerticalRule();
  ImGui::SameLine();
  TextUnformatted(Tr(str::kLiveGrid));
  ImGui::SameLine();
  ImGui::SetNextItemWidth(90);
  const std::string preview = fixed_side_ == 0 ? Tr(str::kLiveGridAuto) : std::to_string(fixed_side_) + "×" + std::to_string(fixed_side_);
  if (ImGui::BeginCombo("##grid", preview.c_str())) {
    if (ImGui::Selectable(Tr(str::kLiveGridAuto), fixed_side_ == 0)) fixed_side_ = 0, page_ = 0;
    for (int n = 2; n <= 8; ++n) {
      const std::string item = std::to_string(n) + "×" + std::to_string(n);
      if (ImGui::Selectable(item.c_str(), fixed_side_ == n)) fixed_side_ = n, page_ = 0;
    }
    ImGui::EndCombo();
  }
}

void LiveWallPanel::HandleKeys(UiContext& ctx, const std::vector<int64_t>& order, int columns, int per_page) {
  if (!ImGui::IsWindowFocused(ImGuiFocusedFlags_RootAndChildWindows) || ImGui::GetIO().WantTextInput) return;
  if (order.empty()) return;
  auto it = std::find(order.begin(), order.end(), focus_session_);
  int index = it == order.end() ? -1 : static_cast<int>(it - order.begin());
  const int n = static_cast<int>(order.size());
  auto pressed = [](ImGuiKey key) { return ImGui::IsKeyPressed(ImGui::GetKeyIndex(key)); };
  int next = index;
  if (pressed(ImGuiKey_RightArrow)) next = index < 0 ? 0 : std::min(n - 1, index + 1);
  if (pressed(ImGuiKey_LeftArrow)) next = index < 0 ? 0 : std::max(0, index - 1);
  if (pressed(ImGuiKey_DownArrow)) next = index < 0 ? 0 : std::min(n - 1, index + columns);
  if (pressed(ImGuiKey_UpArrow)) next = index < 0 ? 0 : std::max(0, index - columns);
  if (next != index && next >= 0) {
    focus_session_ = order[static_cast<size_t>(next)];
    page_ = next / per_page;  // the focus stays on screen
  }
  if ((pressed(ImGuiKey_Enter) || pressed(ImGuiKey_KeyPadEnter)) && focus_session_ != 0) enlarged_ = !enlarged_;
  if (pressed(ImGuiKey_Escape)) enlarged_ = false;
  // A: acknowledge the focused candidate's oldest open alert (through the outbox).
  if (ImGui::IsKeyPressed(GLFW_KEY_A, false) && focus_session_ != 0 && ctx.snapshot)
    if (const auto* s = ctx.snapshot->FindSession(focus_session_)) focus_view_.AcknowledgeOldest(ctx, *s);
  // H: take the focused candidate's raised hand on the help desk, where it opens selected.
  if (ImGui::IsKeyPressed(GLFW_KEY_H, false) && focus_session_ != 0 && ctx.snapshot) {
    const auto* s = ctx.snapshot->FindSession(focus_session_);
    if (s != nullptr && s->open_help() > 0) {
      ctx.focus_help_session = focus_session_;
      ctx.workspace = "help";
    }
  }
  const int pages = (n + per_page - 1) / per_page;
  const int page = std::clamp(page_ + (pressed(ImGuiKey_PageDown) ? 1 : 0) - (pressed(ImGuiKey_PageUp) ? 1 : 0), 0, pages - 1);
  if (page != page_) {
    page_ = page;
    focus_session_ = order[static_cast<size_t>(page * per_page)];
  }
}

void LiveWallPanel::HandleRoomKeys() {
  if (!ImGui::IsWindowFocused(ImGuiFocusedFlags_RootAndChildWindows) || ImGui::GetIO().WantTextInput) return;
  // Number keys pick a room (1 = the first room); 0 = every room.
  for (int k = 0; k <= 9; ++k)
    if (ImGui::IsKeyPressed(GLFW_KEY_0 + k, false)) room_index_ = k;
}

void LiveWallPanel::DrawContent(UiContext& ctx) {
  EnsureStarted(ctx);
  renderer_.BeginFrame();
  const auto* snap = ctx.snapshot.get();
  if (snap == nullptr || !snap->loaded) {
    TextColored(theme::kMuted, Tr(str::kLiveLoading));
    SyncStreams({}, {}, 0);
    focus_view_.Follow(ctx, nullptr);
    return;
  }

  // Rooms; the number keys pressed last frame pick one.
  HandleRoomKeys();
  std::vector<const v1::Room*> rooms;
  if (snap->rooms)
    for (const auto& r : *snap->rooms) rooms.push_back(&r);
  if (room_index_ >= 0) {
    if (room_index_ == 0) room_id_ = 0;
    else if (static_cast<size_t>(room_index_) <= rooms.size()) room_id_ = rooms[static_cast<size_t>(room_index_ - 1)]->id();
    room_index_ = -1;
    page_ = 0;
  }
  DrawToolbar(ctx, rooms);

  // Sessions of the room, by draw number, then most urgent first.
  std::vector<const v1::Session*> sessions;
  for (const auto& s : snap->sessions)
    if (room_id_ == 0 || s->room_id() == room_id_) sessions.push_back(s.get());
  std::stable_sort(sessions.begin(), sessions.end(), [](const v1::Session* a, const v1::Session* b) {
    const int da = a->draw_number() > 0 ? a->draw_number() : 1 << 30, db = b->draw_number() > 0 ? b->draw_number() : 1 << 30;
    return da != db ? da < db : a->id() < b->id();
  });
  const auto now = Steady::now();
  if (feed_) feed_status_ = feed_->Statuses();
  std::vector<core::AttentionInput> inputs;
  std::unordered_map<int64_t, const v1::Session*> by_id;
  for (const auto* s : sessions) {
    by_id[s->id()] = s;
    core::AttentionInput in;
    in.session_id = s->id();
    in.open_help = s->open_help();
    in.open_alerts = s->open_alerts();
    in.interrupted = s->has_interruption_started_at();
    in.appeal_pending = s->appeal_pending();
    if (auto it = tiles_.find(s->id()); it != tiles_.end() && pool_ && Streaming(*s)) {
      const auto st = pool_->Stats(it->second.stream);
      in.stream_stale = st.frames_decoded > 0 && now - st.last_frame_at > kStaleAfter && it->second.visible;
    }
    inputs.push_back(in);
  }
  const std::vector<int64_t> order = order_.Update(inputs);

  ImGui::SameLine();
  VerticalRule();
  ImGui::SameLine();
  TextColored(theme::kMuted, Tr(str::kLiveAttentionFirst));

  const ImVec2 area_pos = ImGui::GetCursorScreenPos();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float hint_h = ImGui::GetTextLineHeightWithSpacing();
  const ImVec2 area_size(avail.x, std::max(0.0f, avail.y - hint_h));
  ImDrawList* dl = ImGui::GetWindowDrawList();

  if (order.empty()) {
    TextColored(theme::kMuted, Tr(str::kLiveNoSessions));
    SyncStreams({}, {}, 0);
    focus_view_.Follow(ctx, nullptr);
    return;
  }
  if (focus_session_ == 0 || !by_id.count(focus_session_)) focus_session_ = order.front();
  if (ctx.workspace == "live:focus") {
    // The first candidate in attention order who is answering (on camera, screen and phone);
    // until there is one the wall shows.
    for (int64_t id : order)
      if (by_id[id]->stage() == v1::STAGE_ANSWERING) {
        focus_session_ = id;
        ctx.workspace = "live";
        enlarged_ = true;
        break;
      }
  }
  focus_view_.Follow(ctx, by_id[focus_session_]);

  const core::GridLayout grid =
      core::ComputeGrid(static_cast<int>(order.size()), area_size.x, area_size.y, kVideoAspect, 4.0f, fixed_side_);
  const int per_page = std::max(1, grid.per_page);
  const int pages = (static_cast<int>(order.size()) + per_page - 1) / per_page;
  page_ = std::clamp(page_, 0, pages - 1);

  std::vector<int64_t> wanted, visible;
  for (int64_t id : order)
    if (Streaming(*by_id[id])) wanted.push_back(id);
  if (enlarged_) {
    if (Streaming(*by_id[focus_session_])) visible.push_back(focus_session_);
  } else {
    for (int i = page_ * per_page; i < std::min<int>(static_cast<int>(order.size()), (page_ + 1) * per_page); ++i)
      if (Streaming(*by_id[order[static_cast<size_t>(i)]])) visible.push_back(order[static_cast<size_t>(i)]);
  }
  const int64_t full_session = enlarged_ && Streaming(*by_id[focus_session_]) ? focus_session_ : 0;
  SyncStreams(wanted, visible, full_session);

  // New pictures of visible tiles only.
  for (int64_t id : visible) UploadIfNew(tiles_[id]);
  for (auto& [track, tile] : full_) UploadIfNew(tile);

  if (enlarged_) {
    if (!focus_view_.Draw(ctx, *by_id[focus_session_], area_pos, area_size, *this)) enlarged_ = false;
  } else {
    for (int slot = 0; slot < per_page; ++slot) {
      const int i = page_ * per_page + slot;
      if (i >= static_cast<int>(order.size())) break;
      const ImVec2 p0(area_pos.x + grid.TileX(slot), area_pos.y + grid.TileY(slot));
      const ImVec2 p1(p0.x + grid.tile_w, p0.y + grid.tile_h);
      const int64_t id = order[static_cast<size_t>(i)];
      ImGui::PushID(static_cast<int>(id));
      ImGui::SetCursorScreenPos(p0);
      ImGui::InvisibleButton("tile", ImVec2(std::max(1.0f, grid.tile_w), std::max(1.0f, grid.tile_h)));
      if (ImGui::IsItemClicked()) focus_session_ = id;
      if (ImGui::IsItemHovered() && ImGui::IsMouseDoubleClicked(0)) {
        focus_session_ = id;
        enlarged_ = true;
      }
      ImGui::PopID();
      DrawTile(ctx, dl, *by_id[id], p0, p1, id == focus_session_, false);
    }
  }
  last_columns_ = std::max(1, grid.columns);

  // Footer: page, stream counts, keys.
  ImGui::SetCursorScreenPos(ImVec2(area_pos.x, area_pos.y + area_size.y + 2));
  if (pages > 1) {
    TextColored(theme::kText, Format(str::kLivePage, page_ + 1, pages));
    ImGui::SameLine();
  }
  TextColored(theme::kMuted, Format(str::kLiveStreams, static_cast<int>(wanted.size()), static_cast<int>(visible.size())));
  ImGui::SameLine();
  if (!enlarged_) TextColored(theme::kMuted, Tr(str::kLiveHint));
  if (!renderer_error_.empty()) {
    ImGui::SameLine();
    TextColored(theme::kDanger, std::string(Tr(str::kLiveShaderError)) + ": " + renderer_error_);
  }
  HandleKeys(ctx, order, last_columns_, per_page);
}

std::string LiveWallPanel::WhyNoPicture(const Tile* tile, const net::LiveStreamKey& key, bool detail) const {
  if (tile == nullptr || !pool_) return Tr(str::kLiveConnecting);
  const auto st = pool_->Stats(tile->stream);
  const auto now = Steady::now();
  if (st.frames_decoded > 0 && now - st.last_frame_at > kStaleAfter)
    return Format(str::kLiveNoVideo, static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(now - st.last_frame_at).count()));
  if (st.frames_decoded > 0) return {};
  if (auto fs = feed_status_.find(key); fs != feed_status_.end() && !fs->second.last_error.empty())
    return std::string(Tr(str::kLiveNoStream)) + (detail ? "\n" + fs->second.last_error : "");
  if (!st.last_error.empty()) return std::string(Tr(str::kLiveDecodeError)) + (detail ? "\n" + st.last_error : "");
  return Tr(str::kLiveConnecting);
}

void LiveWallPanel::DrawTrack(ImDrawList* dl, const v1::Session& s, v1::TrackKind track, ImVec2 p0, ImVec2 p1) {
  const float w = p1.x - p0.x, h = p1.y - p0.y;
  if (w < 8 || h < 8) return;
  std::string why;
  const Tile* shown = nullptr;
  if (!Streaming(s)) {
    why = s.stage() == v1::STAGE_ENDED ? Tr(str::kLiveEnded) : Tr(str::kLiveNoStream);
  } else {
    auto f = full_session_ == s.id() ? full_.find(track) : full_.end();
    const Tile* full = f == full_.end() ? nullptr : &f->second;
    if (full != nullptr && full->textures.valid()) shown = full;
    // The camera's small tile picture stands in until the full-size one arrives.
    if (shown == nullptr && track == v1::TRACK_KIND_CAMERA)
      if (auto t = tiles_.find(s.id()); t != tiles_.end() && t->second.textures.valid()) shown = &t->second;
    if (shown != nullptr) renderer_.Draw(dl, p0, p1, shown->textures);
    why = WhyNoPicture(full, net::LiveStreamKey{s.id(), track, v1::QUALITY_FULL}, true);
    if (shown != nullptr && shown != full && why == Tr(str::kLiveConnecting)) why.clear();
  }
  if (why.empty()) return;
  const ImVec2 ts = ImGui::CalcTextSize(why.c_str(), nullptr, false, w - 8);
  const ImVec2 tp(p0.x + (w - ts.x) / 2, p0.y + (h - ts.y) / 2);
  if (shown != nullptr) dl->AddRectFilled(ImVec2(tp.x - 4, tp.y - 2), ImVec2(tp.x + ts.x + 4, tp.y + ts.y + 2), IM_COL32(0, 0, 0, 170), 3);
  dl->PushClipRect(p0, p1, true);
  dl->AddText(nullptr, 0.0f, tp, theme::kMuted, why.c_str(), nullptr, w - 8);
  dl->PopClipRect();
}

std::shared_ptr<const media::VideoFrame> LiveWallPanel::LatestFrame(int64_t session_id, v1::TrackKind track) {
  if (!pool_) return nullptr;
  if (full_session_ == session_id)
    if (auto f = full_.find(track); f != full_.end())
      if (auto frame = pool_->LatestFrame(f->second.stream)) return frame;
  if (track == v1::TRACK_KIND_CAMERA)
    if (auto t = tiles_.find(session_id); t != tiles_.end()) return pool_->LatestFrame(t->second.stream);
  return nullptr;
}

void LiveWallPanel::DrawTile(UiContext& ctx, ImDrawList* dl, const v1::Session& s, ImVec2 p0, ImVec2 p1, bool focused,
                             bool large) {
  const float w = p1.x - p0.x, h = p1.y - p0.y;
  if (w < 8 || h < 8) return;
  const auto it = tiles_.find(s.id());
  const Tile* tile = it == tiles_.end() ? nullptr : &it->second;
  // Under a picture the background would only cost fill (all of it, on a software rasterizer).
  if (tile == nullptr || !tile->textures.valid()) dl->AddRectFilled(p0, p1, theme::kTileBg);
  const float line = ImGui::GetTextLineHeight();

  // Video, or why there is none.
  std::string why;
  if (!Streaming(s)) {
    why = s.stage() == v1::STAGE_ENDED ? Tr(str::kLiveEnded) : Tr(str::kLiveNoStream);
  } else if (tile != nullptr && pool_) {
    if (auto f = full_.find(v1::TRACK_KIND_CAMERA); large && full_session_ == s.id() && f != full_.end() && f->second.textures.valid())
      renderer_.Draw(dl, p0, p1, f->second.textures);
    else if (tile->textures.valid()) renderer_.Draw(dl, p0, p1, tile->textures);
    // The reason in detail only where it fits; small tiles say it in one line.
    why = WhyNoPicture(tile, CameraKey(s.id()), h > line * 6);
  }
  if (!why.empty()) {
    const ImVec2 ts = ImGui::CalcTextSize(why.c_str(), nullptr, false, w - 8);
    const ImVec2 tp(p0.x + (w - ts.x) / 2, p0.y + (h - ts.y) / 2);
    if (tile != nullptr && tile->textures.valid()) dl->AddRectFilled(ImVec2(tp.x - 4, tp.y - 2), ImVec2(tp.x + ts.x + 4, tp.y + ts.y + 2), IM_COL32(0, 0, 0, 170), 3);
    dl->PushClipRect(p0, p1, true);
    dl->AddText(nullptr, 0.0f, tp, theme::kMuted, why.c_str(), nullptr, w - 8);
    dl->PopClipRect();
  }

  dl->PushClipRect(p0, p1, true);
  // Top line: draw number and stage on a dark strip.
  dl->AddRectFilled(p0, ImVec2(p1.x, p0.y + line + 4), IM_COL32(0, 0, 0, 150));
  const std::string number = s.draw_number() > 0 ? Format(str::kLiveDrawNo, s.draw_number()) : Tr(str::kLiveNotDrawn);
  dl->AddText(ImVec2(p0.x + 4, p0.y + 2), theme::kText, number.c_str());
  const float stage_x = p0.x + 8 + ImGui::CalcTextSize(number.c_str()).x;
  const core::Stage stage = static_cast<core::Stage>(s.stage());
  const std::string stage_name(StageName(stage));
  // Question k/n and its countdown, right-aligned, while answering.
  std::string q;
  if (s.stage() == v1::STAGE_ANSWERING && s.current_question() > 0) {
    int total = 0;
    if (ctx.snapshot)
      if (const auto* exam = ctx.snapshot->FindExam(s.exam_id())) total = exam->questions_size();
    q = Format(str::kLiveQuestion, s.current_question(), total);
    if (s.has_question_deadline() && ctx.backend_now_ms > 0)
      q += " " + FormatDuration(TimeUtil::TimestampToMilliseconds(s.question_deadline()) - ctx.backend_now_ms);
  }
  const float qw = q.empty() ? 0.0f : ImGui::CalcTextSize(q.c_str()).x;
  dl->AddCircleFilled(ImVec2(stage_x + 4, p0.y + 2 + line / 2), 3.5f, theme::StageColor(stage));
  // On a narrow tile the stage keeps its coloured dot and gives its name's room to the question.
  if (stage_x + 11 + ImGui::CalcTextSize(stage_name.c_str()).x + 6 + qw <= p1.x - 4)
    dl->AddText(ImVec2(stage_x + 11, p0.y + 2), theme::StageColor(stage), stage_name.c_str());
  if (!q.empty() && stage_x + 11 + qw <= p1.x - 4) dl->AddText(ImVec2(p1.x - qw - 4, p0.y + 2), theme::kText, q.c_str());

  // Badges along the bottom, most urgent first.
  float bx = p0.x + 3;
  const float by = p1.y - line - 5;
  if (s.open_help() > 0) TileBadge(dl, &bx, by, p1.x, Tr(str::kLiveBadgeHelp), theme::kDanger);
  if (s.has_interruption_started_at())
    TileBadge(dl, &bx, by, p1.x, Format(str::kLiveBadgeInterrupted, std::max(1, s.interruptions())), theme::kDanger);
  if (s.open_alerts() > 0) TileBadge(dl, &bx, by, p1.x, Format(str::kLiveBadgeAlerts, s.open_alerts()), theme::kWarning);
  if (s.appeal_pending()) TileBadge(dl, &bx, by, p1.x, Tr(str::kLiveBadgeAppeal), theme::kAccent);
  if (Streaming(s) && EvidenceLost(s)) TileBadge(dl, &bx, by, p1.x, Tr(str::kLiveBadgeEvidenceLost), theme::kWarning);
  if (!s.has_interruption_started_at() && s.interruptions() > 0)
    TileBadge(dl, &bx, by, p1.x, Format(str::kLiveBadgeInterruptions, s.interruptions()), IM_COL32(90, 96, 105, 255));
  if (s.pending_uploads() > 0 && s.stage() == v1::STAGE_ENDED)
    TileBadge(dl, &bx, by, p1.x, Format(str::kLiveBadgeUploadLag, s.pending_uploads()), IM_COL32(90, 96, 105, 255));
  dl->PopClipRect();

  const ImU32 border = focused ? theme::kAccent : (s.open_help() > 0 ? theme::kDanger : IM_COL32(60, 66, 76, 255));
  dl->AddRect(p0, p1, border, 0.0f, 0, focused ? (large ? 3.0f : 2.0f) : 1.0f);
}

}  // namespace exam::ui
