#include "media/media_input.h"

#include <cstring>
#include <vector>

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/error.h>
#include <libavutil/mem.h>
}

namespace exam::media {
namespace {

constexpr int kAvioBufferSize = 64 * 1024;

enum class MoovProblem { kNone, kMissing, kCut };

// An ISO BMFF file (mp4/mov/m4a) whose top-level boxes end without a whole moov: the index
// is written last by recorders that do not use faststart, so an upload cut short loses it
// (or part of it) and FFmpeg only says "Invalid data found". Walks the box headers (a few
// small reads).
MoovProblem FindMoovProblem(ByteSource& source, int64_t size) {
  int64_t at = 0;
  bool iso = false;
  for (int boxes = 0; boxes < 256 && at + 8 <= size; ++boxes) {
    const ByteRead r = source.Read(at, 16);
    if (!r.ok() || r.data.size() < 8) return MoovProblem::kNone;
    const auto* h = reinterpret_cast<const uint8_t*>(r.data.data());
    uint64_t box = (uint64_t{h[0]} << 24) | (uint64_t{h[1]} << 16) | (uint64_t{h[2]} << 8) | h[3];
    const std::string type(reinterpret_cast<const char*>(h + 4), 4);
    if (boxes == 0) iso = type == "ftyp" || type == "mdat" || type == "wide" || type == "free" || type == "skip";
    if (!iso) return MoovProblem::kNone;
    if (box == 1) {
      if (r.data.size() < 16) return type == "moov" ? MoovProblem::kCut : MoovProblem::kMissing;
      box = 0;
      for (int i = 8; i < 16; ++i) box = (box << 8) | h[i];
    } else if (box == 0) {
      // "Extends to the end of the file": a recorder stopped while writing it.
      return type == "moov" ? MoovProblem::kNone : MoovProblem::kMissing;
    }
    if (box < 8) return MoovProblem::kNone;
    // Compared without adding: hostile sizes near 2^64 must not overflow.
    const bool past_end = box > static_cast<uint64_t>(size - at);
    if (type == "moov") return past_end ? MoovProblem::kCut : MoovProblem::kNone;
    if (past_end) return MoovProblem::kMissing;  // cut inside this box, before any moov
    at += static_cast<int64_t>(box);
  }
  // Ran out of boxes without finding the index.
  return iso && at + 8 > size ? MoovProblem::kMissing : MoovProblem::kNone;
}

int ReadTrampoline(void* opaque, uint8_t* buf, int size) { return static_cast<MediaInput*>(opaque)->ReadPacket(buf, size); }
int64_t SeekTrampoline(void* opaque, int64_t offset, int whence) { return static_cast<MediaInput*>(opaque)->Seek(offset, whence); }

}  // namespace

std::string AvErrorText(int av_err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(av_err, buf, sizeof buf);
  return buf;
}

int MediaInput::InterruptCallback(void* opaque) {
  auto* self = static_cast<MediaInput*>(opaque);
  return self->interrupt_.load() || (self->abort_ && self->abort_->load()) || self->source_->cancelled() ? 1 : 0;
}

int MediaInput::ReadPacket(uint8_t* buf, int size) {
  if (size <= 0) return 0;
  if (interrupt_.load() || (abort_ && abort_->load())) return AVERROR_EXIT;
  if (size_ >= 0 && position_ >= size_) return AVERROR_EOF;
  ByteRead r = source_->Read(position_, size);
  if (!r.ok()) {
    std::lock_guard lock(error_mu_);
    last_io_error_ = r.error;
    return r.cancelled ? AVERROR_EXIT : AVERROR(EIO);
  }
  if (r.data.empty()) return AVERROR_EOF;
  // A source answering more than asked is not trusted with the caller's buffer.
  const size_t n = std::min(r.data.size(), static_cast<size_t>(size));
  std::memcpy(buf, r.data.data(), n);
  position_ += static_cast<int64_t>(n);
  return static_cast<int>(n);
}

int64_t MediaInput::Seek(int64_t offset, int whence) {
  if (whence & AVSEEK_SIZE) return size_ >= 0 ? size_ : AVERROR(ENOSYS);
  whence &= ~AVSEEK_FORCE;
  int64_t target;
  switch (whence) {
    case SEEK_SET: target = offset; break;
    case SEEK_CUR: target = position_ + offset; break;
    case SEEK_END:
      if (size_ < 0) return AVERROR(ENOSYS);
      target = size_ + offset;
      break;
    default: return AVERROR(EINVAL);
  }
  if (target < 0) return AVERROR(EINVAL);
  // Past the end is allowed (as lseek); the next read answers end of file.
  position_ = target;
  return position_;
}

std::string MediaInput::LastIoError() const {
  std::lock_guard lock(error_mu_);
  return last_io_error_;
}

std::string MediaInput::Describe(int av_err) const {
  std::string io = LastIoError();
  if (av_err == AVERROR(EIO) && !io.empty()) return io;
  std::string text = AvErrorText(av_err);
  if (!io.empty()) text += " (" + io + ")";
  return text;
}

std::unique_ptr<MediaInput> MediaInput::Open(std::shared_ptr<ByteSource> source, std::string* error,
                                             const std::atomic<bool>* abort) {
  auto in = std::unique_ptr<MediaInput>(new MediaInput(source));
  in->abort_ = abort;
  const std::string what = source->Describe();
  std::string size_error;
  in->size_ = source->Size(&size_error);
  if (in->size_ < 0) {
    *error = "cannot open " + what + ": " + size_error;
    return nullptr;
  }
  if (in->size_ == 0) {
    *error = "cannot open " + what + ": empty file (0 bytes)";
    return nullptr;
  }
  auto* buffer = static_cast<uint8_t*>(av_malloc(kAvioBufferSize));
  in->avio_ = avio_alloc_context(buffer, kAvioBufferSize, 0, in.get(), &ReadTrampoline, nullptr, &SeekTrampoline);
  if (!in->avio_) {
    av_free(buffer);
    *error = "cannot open " + what + ": out of memory";
    return nullptr;
  }
  in->format_ = avformat_alloc_context();
  in->format_->pb = in->avio_;
  in->format_->flags |= AVFMT_FLAG_CUSTOM_IO;
  in->format_->interrupt_callback = {&MediaInput::InterruptCallback, in.get()};
  // Probing reads the first seconds of the recording to learn its streams; over the
  // network every probed byte delays the first frame, and recordings describe their
  // streams early (mp4 moov, TS PAT/PMT), so a short probe is enough.
  in->format_->probesize = 2 << 20;
  in->format_->max_analyze_duration = 2 * AV_TIME_BASE;
  int rc = avformat_open_input(&in->format_, nullptr, nullptr, nullptr);
  if (rc < 0) {
    // avformat_open_input freed the context on failure (the AVIO is ours to free).
    in->format_ = nullptr;
    // mov says "Invalid data" when the moov is missing and "End of file" when it is cut.
    if ((rc == AVERROR_INVALIDDATA || rc == AVERROR_EOF) && in->LastIoError().empty()) {
      switch (FindMoovProblem(*source, in->size_)) {
        case MoovProblem::kMissing:
          *error = "cannot open " + what + ": the recording ends before its index (moov) — the upload is incomplete";
          return nullptr;
        case MoovProblem::kCut:
          *error = "cannot open " + what + ": the recording ends inside its index (moov) — the upload is incomplete";
          return nullptr;
        case MoovProblem::kNone: break;
      }
    }
    if (rc == AVERROR_EOF) {
      *error = "cannot open " + what + ": the recording ends before its header is complete (truncated upload?)";
      return nullptr;
    }
    *error = "cannot open " + what + ": " +
             (rc == AVERROR_INVALIDDATA ? "not a recording FFmpeg can read (" + in->Describe(rc) + ")" : in->Describe(rc));
    return nullptr;
  }
  // Reading stream information decodes a picture of each video stream: a hostile header
  // must not make that allocate more than the player would ever show (kMaxPicturePixels).
  std::vector<AVDictionary*> codec_options(in->format_->nb_streams, nullptr);
  for (AVDictionary*& o : codec_options) av_dict_set_int(&o, "max_pixels", kMaxPicturePixels, 0);
  rc = avformat_find_stream_info(in->format_, codec_options.empty() ? nullptr : codec_options.data());
  for (AVDictionary*& o : codec_options) av_dict_free(&o);
  if (rc < 0) {
    *error = "cannot read the streams of " + what + ": " + in->Describe(rc);
    return nullptr;
  }
  return in;
}

MediaInput::~MediaInput() {
  if (format_) avformat_close_input(&format_);
  if (avio_) {
    av_freep(&avio_->buffer);
    avio_context_free(&avio_);
  }
}

}  // namespace exam::media
