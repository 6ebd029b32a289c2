// Violation snapshots: a decoded live picture (YUV 4:2:0 planes with padded lines, odd
// sizes included) encoded to JPEG, decoded back with FFmpeg's MJPEG decoder to check its
// size and colour.
#include <gtest/gtest.h>

extern "C" {
#include <libavcodec/avcodec.h>
}

#include <cstdlib>

#include "media/frame_snapshot.h"

namespace exam::media {
namespace {

VideoFrame Solid(int w, int h, uint8_t y, uint8_t u, uint8_t v) {
  VideoFrame f;
  f.width = w;
  f.height = h;
  f.linesize[0] = w + 5;
  f.linesize[1] = f.linesize[2] = ChromaWidth(w) + 9;
  f.planes[0].assign(static_cast<size_t>(f.linesize[0]) * h, y);
  f.planes[1].assign(static_cast<size_t>(f.linesize[1]) * ChromaHeight(h), u);
  f.planes[2].assign(static_cast<size_t>(f.linesize[2]) * ChromaHeight(h), v);
  return f;
}

struct Decoded {
  int width = 0, height = 0;
  int y = -1, u = -1, v = -1;  // centre sample of each plane
};

Decoded DecodeJpeg(const std::string& bytes) {
  Decoded out;
  const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_MJPEG);
  AVCodecContext* ctx = avcodec_alloc_context3(codec);
  if (avcodec_open2(ctx, codec, nullptr) < 0) return out;
  AVPacket* pkt = av_packet_alloc();
  pkt->data = reinterpret_cast<uint8_t*>(const_cast<char*>(bytes.data()));
  pkt->size = static_cast<int>(bytes.size());
  AVFrame* frame = av_frame_alloc();
  if (avcodec_send_packet(ctx, pkt) >= 0 && avcodec_receive_frame(ctx, frame) >= 0) {
    out.width = frame->width;
    out.height = frame->height;
    out.y = frame->data[0][(frame->height / 2) * frame->linesize[0] + frame->width / 2];
    out.u = frame->data[1][(frame->height / 4) * frame->linesize[1] + frame->width / 4];
    out.v = frame->data[2][(frame->height / 4) * frame->linesize[2] + frame->width / 4];
  }
  av_frame_free(&frame);
  av_packet_free(&pkt);
  avcodec_free_context(&ctx);
  return out;
}

TEST(FrameSnapshotTest, APictureBecomesAJpegOfTheSameSizeAndColour) {
  for (auto [w, h] : {std::pair{640, 360}, std::pair{321, 179}, std::pair{17, 9}}) {
    const auto jpeg = EncodeJpeg(Solid(w, h, 81, 90, 240));  // BT.601 red
    ASSERT_FALSE(jpeg.bytes.empty()) << jpeg.error;
    ASSERT_GE(jpeg.bytes.size(), 4u);
    EXPECT_EQ(static_cast<uint8_t>(jpeg.bytes[0]), 0xFF);  // SOI
    EXPECT_EQ(static_cast<uint8_t>(jpeg.bytes[1]), 0xD8);
    const auto d = DecodeJpeg(jpeg.bytes);
    EXPECT_EQ(d.width, w);
    EXPECT_EQ(d.height, h);
    EXPECT_LE(std::abs(d.y - 81), 3) << w << "x" << h;
    EXPECT_LE(std::abs(d.u - 90), 3);
    EXPECT_LE(std::abs(d.v - 240), 3);
  }
}

TEST(FrameSnapshotTest, NoPictureIsAnErrorNotACrash) {
  VideoFrame empty;
  const auto jpeg = EncodeJpeg(empty);
  EXPECT_TRUE(jpeg.bytes.empty());
  EXPECT_FALSE(jpeg.error.empty());
}

}  // namespace
}  // namespace exam::media
