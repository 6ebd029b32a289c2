#pragma once
// An FFmpeg demuxer reading a recording through a ByteSource (custom AVIOContext), so the
// same code plays a local file, a cached remote recording or a damaged one. Whatever the
// source answers — an error, fewer bytes, nothing — becomes an AVERROR for FFmpeg and a
// readable reason here, never a crash.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "media/byte_source.h"

struct AVFormatContext;
struct AVIOContext;

namespace exam::media {

// The largest picture the review player decodes: 8192 on a side (the texture size OpenGL
// drivers commonly allow) and no more than 8K's area (DCI 8K, 35 megapixels; one such
// frame is 53 MB in 4:2:0 and the player keeps dozens around the playhead). Larger
// pictures are refused with their size instead of allocating gigabytes.
constexpr int kMaxPictureSide = 8192;
constexpr int64_t kMaxPicturePixels = int64_t{8192} * 4320;

class MediaInput {
 public:
  // Opens the container and reads stream information. nullptr with *error naming the
  // recording and the reason ("empty file (0 bytes)", "not a recording FFmpeg can read",
  // "the recording ends before its index (moov) — the upload is incomplete").
  // `abort`, when given, makes every blocking FFmpeg call on this input give up once it
  // is set (closing a player while a slow open is on its way); it must outlive the input.
  static std::unique_ptr<MediaInput> Open(std::shared_ptr<ByteSource> source, std::string* error,
                                          const std::atomic<bool>* abort = nullptr);
  ~MediaInput();
  MediaInput(const MediaInput&) = delete;
  MediaInput& operator=(const MediaInput&) = delete;

  AVFormatContext* format() const { return format_; }
  ByteSource& source() const { return *source_; }
  // The source's reason behind the last AVERROR(EIO), if any.
  std::string LastIoError() const;
  // `av_err` as text, with the source's reason when it caused it.
  std::string Describe(int av_err) const;
  // Makes blocking FFmpeg calls on this input return AVERROR_EXIT (a newer request came).
  void SetInterrupt(bool on) { interrupt_.store(on); }

  // The AVIO callbacks, public for the C trampolines and for tests of hostile answers.
  int ReadPacket(uint8_t* buf, int size);
  int64_t Seek(int64_t offset, int whence);

 private:
  explicit MediaInput(std::shared_ptr<ByteSource> source) : source_(std::move(source)) {}
  static int InterruptCallback(void* opaque);

  std::shared_ptr<ByteSource> source_;
  AVIOContext* avio_ = nullptr;
  AVFormatContext* format_ = nullptr;
  int64_t position_ = 0;
  int64_t size_ = -1;
  std::atomic<bool> interrupt_{false};
  const std::atomic<bool>* abort_ = nullptr;
  mutable std::mutex error_mu_;
  std::string last_io_error_;
};

// FFmpeg's text for an AVERROR code.
std::string AvErrorText(int av_err);

}  // namespace exam::media
