#include "media/frame_snapshot.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
}

#include <cstring>
#include <memory>

namespace exam::media {
namespace {

struct CodecContextFree {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct FrameFree {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketFree {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};

std::string AvError(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(code, buf, sizeof buf);
  return buf;
}

}  // namespace

JpegResult EncodeJpeg(const VideoFrame& frame, int quality) {
  JpegResult out;
  if (frame.width <= 0 || frame.height <= 0 || frame.planes[0].empty()) {
    out.error = "no picture to take";
    return out;
  }
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
  if (codec == nullptr) {
    out.error = "this FFmpeg has no MJPEG encoder";
    return out;
  }
  std::unique_ptr<AVCodecContext, CodecContextFree> ctx(avcodec_alloc_context3(codec));
  ctx->width = frame.width;
  ctx->height = frame.height;
  ctx->time_base = AVRational{1, 25};
  ctx->pix_fmt = AV_PIX_FMT_YUV420P;
  ctx->color_range = frame.color_range == ColorRange::kFull ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
  ctx->colorspace = frame.color_space == ColorSpace::kBt709 ? AVCOL_SPC_BT709 : AVCOL_SPC_BT470BG;
  // Limited-range 4:2:0 is valid JPEG content but not baseline JFIF: say we mean it.
  ctx->strict_std_compliance = FF_COMPLIANCE_UNOFFICIAL;
  ctx->flags |= AV_CODEC_FLAG_QSCALE;
  ctx->global_quality = FF_QP2LAMBDA * quality;
  if (int rc = avcodec_open2(ctx.get(), codec, nullptr); rc < 0) {
    out.error = "cannot open the JPEG encoder: " + AvError(rc);
    return out;
  }
  std::unique_ptr<AVFrame, FrameFree> f(av_frame_alloc());
  f->format = AV_PIX_FMT_YUV420P;
  f->width = frame.width;
  f->height = frame.height;
  f->color_range = ctx->color_range;
  f->quality = ctx->global_quality;
  f->pts = 0;
  // The planes stay owned by the VideoFrame: the encoder only reads them.
  for (int i = 0; i < 3; ++i) {
    f->data[i] = const_cast<uint8_t*>(frame.Plane(i));
    f->linesize[i] = frame.linesize[i];
  }
  if (int rc = avcodec_send_frame(ctx.get(), f.get()); rc < 0) {
    out.error = "cannot encode the picture: " + AvError(rc);
    return out;
  }
  avcodec_send_frame(ctx.get(), nullptr);  // flush: one frame in, one packet out
  std::unique_ptr<AVPacket, PacketFree> pkt(av_packet_alloc());
  if (int rc = avcodec_receive_packet(ctx.get(), pkt.get()); rc < 0) {
    out.error = "cannot encode the picture: " + AvError(rc);
    return out;
  }
  out.bytes.assign(reinterpret_cast<const char*>(pkt->data), static_cast<size_t>(pkt->size));
  return out;
}

}  // namespace exam::media
