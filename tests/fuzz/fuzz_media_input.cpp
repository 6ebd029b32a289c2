// libFuzzer target: the review player's demux/decode path on arbitrary bytes. A recording
// that is corrupt, truncated or not media at all must end in an error string, never in a
// crash (DESIGN.md, "Reliability and security").
//
// Every input goes through MediaInput::Open and a packet loop decoded with libavcodec on
// this thread (single-threaded decoders): that is the same demuxer and decoders the player
// uses, at thousands of inputs a second. Inputs whose size is a multiple of 8 also go
// through a TrackDecoder (its keyframe scan, rotation and window logic) with a short
// WaitFrameAt; it runs on its own worker thread, so only a share of the inputs pays for it.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
}

#include "media/byte_source.h"
#include "media/media_input.h"
#include "media/track_decoder.h"

namespace {

// The fuzz input as a recording: the seam the demuxer reads through.
class MemorySource : public exam::media::ByteSource {
 public:
  MemorySource(const uint8_t* data, size_t size) : bytes_(reinterpret_cast<const char*>(data), size) {}
  int64_t Size(std::string*) override { return static_cast<int64_t>(bytes_.size()); }
  exam::media::ByteRead Read(int64_t offset, int64_t length) override {
    if (cancelled()) return exam::media::ByteRead::Failure("cancelled", true);
    exam::media::ByteRead r;
    if (offset < 0 || length < 0) return exam::media::ByteRead::Failure("bad range");
    const auto size = static_cast<int64_t>(bytes_.size());
    if (offset >= size) return r;
    r.data = bytes_.substr(static_cast<size_t>(offset), static_cast<size_t>(std::min(length, size - offset)));
    return r;
  }
  std::string Describe() const override { return "fuzz input"; }

 private:
  const std::string bytes_;
};

// Bounds per input: a few packets and frames reach every parser and decoder entry point;
// more only slows the fuzzer down.
constexpr int kMaxPackets = 64;
constexpr int kMaxFrames = 8;

void DecodePackets(exam::media::MediaInput& input) {
  AVFormatContext* fmt = input.format();
  const unsigned n = fmt->nb_streams;
  // One decoder per stream the player could show or play (video, audio).
  std::unique_ptr<AVCodecContext*[]> decs(new AVCodecContext*[n]());
  for (unsigned i = 0; i < n; ++i) {
    const AVCodecParameters* par = fmt->streams[i]->codecpar;
    if (par->codec_type != AVMEDIA_TYPE_VIDEO && par->codec_type != AVMEDIA_TYPE_AUDIO) continue;
    const AVCodec* codec = avcodec_find_decoder(par->codec_id);
    if (!codec) continue;
    AVCodecContext* dec = avcodec_alloc_context3(codec);
    if (!dec) continue;
    avcodec_parameters_to_context(dec, par);
    dec->thread_count = 1;
    dec->pkt_timebase = fmt->streams[i]->time_base;
    if (avcodec_open2(dec, codec, nullptr) < 0) {
      avcodec_free_context(&dec);
      continue;
    }
    decs[i] = dec;
  }
  AVPacket* pkt = av_packet_alloc();
  AVFrame* frame = av_frame_alloc();
  int frames = 0;
  for (int p = 0; p < kMaxPackets && frames < kMaxFrames; ++p) {
    if (av_read_frame(fmt, pkt) < 0) break;
    if (pkt->stream_index >= 0 && static_cast<unsigned>(pkt->stream_index) < n && decs[pkt->stream_index]) {
      AVCodecContext* dec = decs[pkt->stream_index];
      if (avcodec_send_packet(dec, pkt) >= 0) {
        while (avcodec_receive_frame(dec, frame) >= 0) ++frames;
      }
    }
    av_packet_unref(pkt);
  }
  // Drain, as the player does at the end of a recording.
  for (unsigned i = 0; i < n; ++i) {
    if (!decs[i]) continue;
    if (avcodec_send_packet(decs[i], nullptr) >= 0)
      while (avcodec_receive_frame(decs[i], frame) >= 0) ++frames;
    avcodec_free_context(&decs[i]);
  }
  av_frame_free(&frame);
  av_packet_free(&pkt);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  av_log_set_level(AV_LOG_QUIET);  // FFmpeg's complaints about broken input are the point
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string error;
  auto input = exam::media::MediaInput::Open(std::make_shared<MemorySource>(data, size), &error);
  if (!input) {
    if (error.empty()) __builtin_trap();  // a failed open must say why
  } else {
    DecodePackets(*input);
    input.reset();
  }

  if (size % 8 == 0) {
    exam::media::TrackDecoder::Options options;
    options.decoder_threads = 1;
    options.frames_behind = 4;
    options.frames_ahead = 2;
    options.frames_behind_long_gop = 4;
    exam::media::TrackDecoder track(std::make_shared<MemorySource>(data, size), options);
    (void)track.WaitFrameAt(0, std::chrono::milliseconds(20));
    if (track.State() == exam::media::TrackState::kFailed && track.Error().empty()) __builtin_trap();
  }
  return 0;
}
