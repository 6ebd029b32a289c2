#include "backend/media/live_loop.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libavutil/opt.h>
}

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "exam/v1/live.pb.h"

namespace exam::media {
namespace {

constexpr int kLoopSeconds = 4;
constexpr int kTimeBaseDen = 90000;

void Fill(uint8_t* const planes[3], const int linesize[3], int x0, int y0, int x1, int y1, uint8_t y, uint8_t u,
          uint8_t v) {
  x0 = std::max(0, x0) & ~1;
  y0 = std::max(0, y0) & ~1;
  x1 &= ~1;
  y1 &= ~1;
  if (x1 <= x0 || y1 <= y0) return;
  for (int row = y0; row < y1; ++row) std::memset(planes[0] + row * linesize[0] + x0, y, static_cast<size_t>(x1 - x0));
  for (int row = y0 / 2; row < y1 / 2; ++row) {
    std::memset(planes[1] + row * linesize[1] + x0 / 2, u, static_cast<size_t>((x1 - x0) / 2));
    std::memset(planes[2] + row * linesize[2] + x0 / 2, v, static_cast<size_t>((x1 - x0) / 2));
  }
}

// A triangle wave over the loop: 0 -> span -> 0, so the motion loops without a jump.
int Sweep(int index, int frames, int span) {
  const int half = std::max(1, frames / 2);
  const int k = index % frames;
  const int t = k <= half ? k : frames - k;
  return span * t / half;
}

struct Encoder {
  AVCodecContext* ctx = nullptr;
  AVFrame* frame = nullptr;
  AVPacket* packet = nullptr;
  ~Encoder() {
    av_packet_free(&packet);
    av_frame_free(&frame);
    avcodec_free_context(&ctx);
  }
};

// SPS and PPS NAL units (with their start codes) of an Annex B keyframe.
std::string ParameterSets(const std::string& annexb) {
  std::string out;
  const auto* p = reinterpret_cast<const uint8_t*>(annexb.data());
  const size_t n = annexb.size();
  std::vector<std::pair<size_t, size_t>> nals;  // (start code offset, payload offset)
  for (size_t i = 0; i + 3 <= n; ++i) {
    if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1) {
      const size_t sc = (i > 0 && p[i - 1] == 0) ? i - 1 : i;
      nals.emplace_back(sc, i + 3);
      i += 2;
    }
  }
  for (size_t k = 0; k < nals.size(); ++k) {
    const size_t end = k + 1 < nals.size() ? nals[k + 1].first : n;
    if (nals[k].second >= n) continue;
    const int type = p[nals[k].second] & 0x1f;
    if (type == 7 || type == 8) {
      out.append("\x00\x00\x00\x01", 4);
      out.append(annexb, nals[k].second, end - nals[k].second);
    }
  }
  return out;
}

std::unique_ptr<LiveLoop> Encode(LoopTrack track, LoopQuality quality) {
  auto loop = std::make_unique<LiveLoop>();
  loop->track = track;
  loop->quality = quality;
  LoopFormat(track, quality, &loop->width, &loop->height, &loop->fps);
  loop->keyint = loop->fps;
  loop->time_base_num = 1;
  loop->time_base_den = kTimeBaseDen;
  loop->frame_duration = kTimeBaseDen / loop->fps;

  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  if (!codec) throw std::runtime_error("libavcodec has no libx264 encoder");
  Encoder enc;
  enc.ctx = avcodec_alloc_context3(codec);
  enc.frame = av_frame_alloc();
  enc.packet = av_packet_alloc();
  if (!enc.ctx || !enc.frame || !enc.packet) throw std::runtime_error("out of memory setting up the encoder");
  AVCodecContext* c = enc.ctx;
  c->width = loop->width;
  c->height = loop->height;
  c->pix_fmt = AV_PIX_FMT_YUV420P;
  c->time_base = AVRational{1, loop->fps};
  c->framerate = AVRational{loop->fps, 1};
  c->gop_size = loop->keyint;
  c->keyint_min = loop->keyint;
  c->max_b_frames = 0;
  c->thread_count = 1;
  c->color_range = AVCOL_RANGE_MPEG;
  c->colorspace = AVCOL_SPC_SMPTE170M;
  // No AV_CODEC_FLAG_GLOBAL_HEADER: headers stay in the stream, in front of every IDR.
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "preset", "ultrafast", 0);
  av_dict_set(&opts, "tune", "zerolatency", 0);
  av_dict_set(&opts, "crf", track == LoopTrack::kScreen ? "30" : "28", 0);
  av_dict_set(&opts, "x264-params", "scenecut=0:repeat-headers=1:open-gop=0:log=-1", 0);
  const int rc = avcodec_open2(c, codec, &opts);
  av_dict_free(&opts);
  if (rc < 0) throw std::runtime_error("cannot open libx264");

  enc.frame->format = AV_PIX_FMT_YUV420P;
  enc.frame->width = loop->width;
  enc.frame->height = loop->height;
  if (av_frame_get_buffer(enc.frame, 0) < 0) throw std::runtime_error("cannot allocate a frame");

  const int frames = loop->fps * kLoopSeconds;
  auto drain = [&]() {
    while (true) {
      const int r = avcodec_receive_packet(c, enc.packet);
      if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return;
      if (r < 0) throw std::runtime_error("libx264 failed to encode");
      LoopPacket p;
      p.data.assign(reinterpret_cast<const char*>(enc.packet->data), static_cast<size_t>(enc.packet->size));
      p.pts = enc.packet->pts * loop->frame_duration;
      p.keyframe = (enc.packet->flags & AV_PKT_FLAG_KEY) != 0;
      loop->packets.push_back(std::move(p));
      av_packet_unref(enc.packet);
    }
  };
  for (int i = 0; i < frames; ++i) {
    if (av_frame_make_writable(enc.frame) < 0) throw std::runtime_error("frame not writable");
    DrawPatternFrame(track, loop->width, loop->height, i, enc.frame->data, enc.frame->linesize);
    enc.frame->pts = i;
    // Keyframes exactly once a second, whatever x264 would decide itself.
    enc.frame->pict_type = i % loop->keyint == 0 ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    if (avcodec_send_frame(c, enc.frame) < 0) throw std::runtime_error("libx264 refused a frame");
    drain();
  }
  if (avcodec_send_frame(c, nullptr) < 0) throw std::runtime_error("libx264 refused to flush");
  drain();
  if (loop->packets.size() != static_cast<size_t>(frames) || !loop->packets.front().keyframe)
    throw std::runtime_error("libx264 produced an unexpected packet sequence");
  loop->extradata = ParameterSets(loop->packets.front().data);
  if (loop->extradata.empty()) throw std::runtime_error("no SPS/PPS in front of the first keyframe");
  return loop;
}

}  // namespace

const char* LoopTrackName(LoopTrack track) {
  switch (track) {
    case LoopTrack::kCamera: return "camera";
    case LoopTrack::kScreen: return "screen";
    case LoopTrack::kEvidence: return "evidence";
  }
  return "?";
}

KeyColour KeyColourOf(LoopTrack track) {
  switch (track) {
    case LoopTrack::kCamera: return {81, 90, 240, 255, 0, 0};
    case LoopTrack::kScreen: return {41, 240, 110, 0, 0, 255};
    case LoopTrack::kEvidence: return {145, 54, 34, 0, 255, 0};
  }
  return {16, 128, 128, 0, 0, 0};
}

void LoopFormat(LoopTrack track, LoopQuality quality, int* width, int* height, int* fps) {
  const bool full = quality == LoopQuality::kFull;
  switch (track) {
    case LoopTrack::kCamera:
    case LoopTrack::kEvidence:
      *width = full ? 640 : 320;
      *height = full ? 360 : 180;
      *fps = 15;
      return;
    case LoopTrack::kScreen:
      *width = full ? 1280 : 320;
      *height = full ? 720 : 180;
      *fps = 5;
      return;
  }
}

void DrawPatternFrame(LoopTrack track, int w, int h, int index, uint8_t* const planes[3], const int linesize[3]) {
  int lw = 0, lh = 0, fps = 15;
  LoopFormat(track, LoopQuality::kTile, &lw, &lh, &fps);
  const int frames = fps * kLoopSeconds;
  switch (track) {
    case LoopTrack::kCamera: {
      // A dim room, a lighter "head" that sways, a white square crossing below.
      Fill(planes, linesize, 0, 0, w, h, 96, 124, 134);
      const int head = h / 3;
      const int hx = w / 2 - head / 2 + Sweep(index, frames, w / 8) - w / 16;
      Fill(planes, linesize, hx, h / 3, hx + head, h / 3 + head, 150, 112, 150);
      const int side = h / 6;
      const int x = Sweep(index, frames, w - side);
      Fill(planes, linesize, x, h - side - h / 16, x + side, h - h / 16, 235, 128, 128);
      break;
    }
    case LoopTrack::kScreen: {
      // A white page with static grey "text" lines; only a small cursor moves.
      Fill(planes, linesize, 0, 0, w, h, 220, 128, 128);
      const int line = std::max(2, h / 60);
      for (int y = h / 3; y + line < h - h / 10; y += line * 4)
        Fill(planes, linesize, w / 3, y, w - w / 10 - (y * 7 % (w / 4)), y + line, 90, 128, 128);
      const int cursor = std::max(4, w / 40);
      const int cx = w / 3 + Sweep(index, frames, w / 2);
      Fill(planes, linesize, cx, h / 2, cx + cursor, h / 2 + cursor * 2, 16, 128, 128);
      break;
    }
    case LoopTrack::kEvidence: {
      // The room from behind: dark walls, a desk, a bright bar sweeping across.
      Fill(planes, linesize, 0, 0, w, h, 70, 130, 126);
      Fill(planes, linesize, 0, h * 2 / 3, w, h, 120, 110, 140);
      const int bar = std::max(4, w / 20);
      const int x = Sweep(index, frames, w - bar);
      Fill(planes, linesize, x, h / 3, x + bar, h, 200, 128, 128);
      break;
    }
  }
  const KeyColour k = KeyColourOf(track);
  Fill(planes, linesize, 0, 0, KeyBlockWidth(w), KeyBlockHeight(h), k.y, k.u, k.v);
}

const LiveLoop& GetLiveLoop(LoopTrack track, LoopQuality quality) {
  static std::array<std::once_flag, 6> once;
  static std::array<std::unique_ptr<LiveLoop>, 6> loops;
  const size_t i = static_cast<size_t>(track) * 2 + (quality == LoopQuality::kFull ? 1 : 0);
  std::call_once(once[i], [&] { loops[i] = Encode(track, quality); });
  return *loops[i];
}

void FillLoopPacket(const LiveLoop& loop, int64_t frame, bool with_parameters, exam::v1::MediaPacket* packet) {
  if (with_parameters) {
    auto* p = packet->mutable_parameters();
    p->set_codec("h264");
    p->set_width(loop.width);
    p->set_height(loop.height);
    p->set_extradata(loop.extradata);
    p->set_time_base_num(loop.time_base_num);
    p->set_time_base_den(loop.time_base_den);
  }
  const LoopPacket& lp = loop.packets[static_cast<size_t>(frame % static_cast<int64_t>(loop.packets.size()))];
  packet->set_pts(frame * loop.frame_duration);
  packet->set_dts(frame * loop.frame_duration);
  packet->set_keyframe(lp.keyframe);
  packet->set_data(lp.data);
}

}  // namespace exam::media
