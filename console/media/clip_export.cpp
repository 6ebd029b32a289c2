#include "media/clip_export.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/mathematics.h>
}

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "media/media_input.h"

namespace exam::media {

namespace v1 = exam::v1;
namespace fs = std::filesystem;
using core::Micros;
using google::protobuf::util::TimeUtil;

namespace {

std::string KindSlug(v1::TrackKind kind) {
  switch (kind) {
    case v1::TRACK_KIND_SCREEN: return "screen";
    case v1::TRACK_KIND_EVIDENCE: return "evidence";
    case v1::TRACK_KIND_SECOND_CAMERA: return "second-camera";
    default: return "camera";
  }
}

struct OutputFree {
  void operator()(AVFormatContext* f) const {
    if (f == nullptr) return;
    if (f->pb != nullptr && !(f->oformat->flags & AVFMT_NOFILE)) avio_closep(&f->pb);
    avformat_free_context(f);
  }
};
struct PacketFree {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};

// Copies the packets of one recording that cover [t0, t1) of its own time (microseconds from
// its first frame), starting on the video keyframe at or before t0. Fills the file's offsets
// relative to the recording's time 0; returns why it failed, empty when it did not.
std::string Cut(MediaInput& in, Micros t0, Micros t1, const std::string& path, Micros* first_us, Micros* last_us,
                const std::atomic<bool>* cancel) {
  AVFormatContext* ifmt = in.format();
  const int video = av_find_best_stream(ifmt, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  // Track time 0 is the first video frame, as the player counts it (AV_TIME_BASE is µs).
  Micros origin = ifmt->start_time == AV_NOPTS_VALUE ? 0 : ifmt->start_time;
  if (video >= 0 && ifmt->streams[video]->start_time != AV_NOPTS_VALUE)
    origin = av_rescale_q(ifmt->streams[video]->start_time, ifmt->streams[video]->time_base, AV_TIME_BASE_Q);

  AVFormatContext* raw = nullptr;
  if (int rc = avformat_alloc_output_context2(&raw, nullptr, nullptr, path.c_str()); rc < 0 || raw == nullptr)
    return "cannot make " + path + ": " + AvErrorText(rc);
  std::unique_ptr<AVFormatContext, OutputFree> out(raw);
  std::vector<int> map(ifmt->nb_streams, -1);
  for (unsigned i = 0; i < ifmt->nb_streams; ++i) {
    AVStream* is = ifmt->streams[i];
    if (is->codecpar->codec_type != AVMEDIA_TYPE_VIDEO && is->codecpar->codec_type != AVMEDIA_TYPE_AUDIO) continue;
    AVStream* os = avformat_new_stream(out.get(), nullptr);
    if (os == nullptr || avcodec_parameters_copy(os->codecpar, is->codecpar) < 0) return "cannot copy a stream's parameters";
    os->codecpar->codec_tag = 0;  // the output container picks its own tag
    os->time_base = is->time_base;
    // Phones record sideways and say so in the display matrix: the clip must too.
    size_t size = 0;
    if (const uint8_t* m = av_stream_get_side_data(is, AV_PKT_DATA_DISPLAYMATRIX, &size); m != nullptr && size > 0)
      if (uint8_t* copy = av_stream_new_side_data(os, AV_PKT_DATA_DISPLAYMATRIX, size)) std::copy(m, m + size, copy);
    map[i] = os->index;
  }
  if (!(out->oformat->flags & AVFMT_NOFILE))
    if (int rc = avio_open(&out->pb, path.c_str(), AVIO_FLAG_WRITE); rc < 0) return "cannot write " + path + ": " + AvErrorText(rc);
  if (int rc = avformat_write_header(out.get(), nullptr); rc < 0) return "cannot start " + path + ": " + AvErrorText(rc);

  std::unique_ptr<AVPacket, PacketFree> pkt(av_packet_alloc());
  // The video keyframe at or before t0. Seeking is exact in MP4 and approximate in streams
  // without an index (MPEG-TS): when the first keyframe after a seek is past t0, seek
  // further back, and at last read from the start.
  const Micros targets[] = {t0, t0 - 5'000'000, t0 - 30'000'000, INT64_MIN};
  bool found = false;
  for (Micros target : targets) {
    if (target == INT64_MIN || target <= 0) {
      if (av_seek_frame(ifmt, -1, 0, AVSEEK_FLAG_BYTE) < 0) av_seek_frame(ifmt, -1, origin, AVSEEK_FLAG_BACKWARD);
      target = INT64_MIN;
    } else if (av_seek_frame(ifmt, -1, origin + target, AVSEEK_FLAG_BACKWARD) < 0) {
      continue;
    }
    for (;;) {
      if (cancel != nullptr && cancel->load()) return "cancelled";
      const int rc = av_read_frame(ifmt, pkt.get());
      if (rc < 0) break;
      const int si = pkt->stream_index;
      if ((si == video || video < 0) && (pkt->flags & AV_PKT_FLAG_KEY) && pkt->pts != AV_NOPTS_VALUE) break;
      av_packet_unref(pkt.get());
    }
    if (pkt->size == 0 && pkt->data == nullptr) continue;  // nothing found after this seek
    const Micros kf = av_rescale_q(pkt->pts, ifmt->streams[pkt->stream_index]->time_base, AV_TIME_BASE_Q) - origin;
    if (kf <= t0 || target == INT64_MIN) {
      found = true;
      break;
    }
    av_packet_unref(pkt.get());
  }
  if (!found) return "no keyframe in the range";

  bool started = false;
  bool have_packet = true;  // the keyframe found above comes first
  Micros base_dts_us = 0;   // subtracted from every timestamp: the file starts at 0
  *first_us = 0;
  *last_us = 0;
  for (;;) {
    if (cancel != nullptr && cancel->load()) return "cancelled";
    if (!have_packet) {
      const int rc = av_read_frame(ifmt, pkt.get());
      if (rc == AVERROR_EOF) break;
      if (rc < 0) return "reading the recording failed: " + in.Describe(rc);
    }
    have_packet = false;
    const int si = pkt->stream_index;
    AVStream* is = ifmt->streams[si];
    if (si >= static_cast<int>(map.size()) || map[si] < 0 || pkt->pts == AV_NOPTS_VALUE) {
      av_packet_unref(pkt.get());
      continue;
    }
    const Micros pts_us = av_rescale_q(pkt->pts, is->time_base, AV_TIME_BASE_Q) - origin;
    const bool is_video = si == video || video < 0;
    if (!started) {
      started = true;
      const int64_t dts = pkt->dts == AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
      base_dts_us = av_rescale_q(dts, is->time_base, AV_TIME_BASE_Q);
      *first_us = pts_us;
    }
    if (pts_us >= t1) {
      av_packet_unref(pkt.get());
      if (is_video) break;
      continue;
    }
    if (pts_us < *first_us) {  // sound from before the keyframe
      av_packet_unref(pkt.get());
      continue;
    }
    *last_us = std::max(*last_us, pts_us + av_rescale_q(pkt->duration, is->time_base, AV_TIME_BASE_Q));
    AVStream* os = out->streams[map[si]];
    const int64_t shift = av_rescale_q(base_dts_us, AV_TIME_BASE_Q, os->time_base);
    av_packet_rescale_ts(pkt.get(), is->time_base, os->time_base);
    pkt->pts -= shift;
    if (pkt->dts != AV_NOPTS_VALUE) pkt->dts -= shift;
    pkt->stream_index = map[si];
    pkt->pos = -1;
    if (int wrc = av_interleaved_write_frame(out.get(), pkt.get()); wrc < 0) return "writing " + path + " failed: " + AvErrorText(wrc);
  }
  if (!started) return "no keyframe in the range";
  if (int rc = av_write_trailer(out.get()); rc < 0) return "finishing " + path + " failed: " + AvErrorText(rc);
  return {};
}

}  // namespace

std::string FileSha256(const std::string& path, std::string* error) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    if (error) *error = "cannot read " + path;
    return {};
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 16);
  while (f) {
    f.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (f.gcount() > 0) EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(f.gcount()));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  std::string hex;
  char two[3];
  for (unsigned i = 0; i < len; ++i) {
    std::snprintf(two, sizeof two, "%02x", md[i]);
    hex += two;
  }
  return hex;
}

ClipResult ExportClip(const ClipRequest& request, const std::function<void(float)>& progress,
                      const std::atomic<bool>* cancel) {
  ClipResult result;
  if (request.end_utc_us <= request.start_utc_us) {
    result.error = "the clip's end must come after its start";
    return result;
  }
  std::error_code ec;
  fs::create_directories(request.folder, ec);
  if (ec) {
    result.error = "cannot make the folder " + request.folder + ": " + ec.message();
    return result;
  }
  auto& m = result.manifest;
  m.set_version(1);
  m.set_session_id(request.session_id);
  m.set_draw_number(request.draw_number);
  *m.mutable_start() = TimeUtil::MicrosecondsToTimestamp(request.start_utc_us);
  *m.mutable_end() = TimeUtil::MicrosecondsToTimestamp(request.end_utc_us);
  m.set_exported_by(request.exported_by);
  for (const auto& marker : request.markers)
    if (marker.offset_us() >= 0 && marker.offset_us() <= request.end_utc_us - request.start_utc_us) *m.add_markers() = marker;
  *m.mutable_exported_at() = TimeUtil::GetCurrentTime();

  for (size_t i = 0; i < request.sources.size(); ++i) {
    if (progress) progress(static_cast<float>(i) / static_cast<float>(request.sources.size()));
    const auto& src = request.sources[i];
    const std::string name = KindSlug(src.kind) + "-" + std::to_string(src.segment);
    // Where the range falls in this recording's own time.
    const Micros stated_start = src.placement.utc_start_us + src.placement.skew_us;
    const Micros t0 = std::max<Micros>(0, request.start_utc_us - stated_start);
    const Micros t1 = request.end_utc_us - stated_start;
    if (t1 <= 0 || (src.placement.duration_us > 0 && t0 >= src.placement.duration_us)) {
      result.skipped.push_back(name + ": not recording during the range");
      continue;
    }
    std::string error;
    auto in = MediaInput::Open(src.source, &error);
    if (!in) {
      result.skipped.push_back(name + ": " + error);
      continue;
    }
    const std::string ext = std::string(in->format()->iformat->name).find("mp4") != std::string::npos ? ".mp4" : ".mkv";
    const std::string path = (fs::path(request.folder) / (name + ext)).string();
    Micros first = 0, last = 0;
    error = Cut(*in, t0, t1, path, &first, &last, cancel);
    if (!error.empty()) {
      fs::remove(path, ec);
      if (cancel != nullptr && cancel->load()) {
        result.error = "cancelled";
        return result;
      }
      result.skipped.push_back(name + ": " + error);
      continue;
    }
    auto* f = m.add_files();
    f->set_kind(src.kind);
    f->set_track_id(src.track_id);
    f->set_source_sha256(src.source_sha256);
    f->set_file(fs::path(path).filename().string());
    f->set_sha256(FileSha256(path, &error));
    f->set_bytes(static_cast<int64_t>(fs::file_size(path, ec)));
    *f->mutable_utc_start() = TimeUtil::MicrosecondsToTimestamp(stated_start + first);
    f->set_skew_us(src.placement.skew_us);
    f->set_offset_us(stated_start + first - request.start_utc_us);
    f->set_duration_us(last - first);
    f->set_stream_copy(true);
  }
  if (progress) progress(1.0f);
  if (m.files_size() == 0) {
    result.error = "no recording covers the range";
    for (const auto& s : result.skipped) result.error += "; " + s;
    return result;
  }
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(m, &json, options);
  result.manifest_path = (fs::path(request.folder) / "manifest.json").string();
  std::ofstream out(result.manifest_path, std::ios::binary | std::ios::trunc);
  out << json;
  if (!out) result.error = "cannot write " + result.manifest_path;
  return result;
}

}  // namespace exam::media
