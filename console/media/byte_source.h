#pragma once
// Where the review player's bytes come from: a recording on local disk, a recording on the
// backend read in ranges (ReviewService.ReadMedia), or either behind the block cache. The
// demuxer reads through this seam only, so a slow or failing source shows up as a clear
// error string and never as a crash.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace exam::media {

struct ByteRead {
  std::string data;   // fewer bytes than asked only at the end of the file
  std::string error;  // empty on success
  bool cancelled = false;
  bool ok() const { return error.empty(); }
  static ByteRead Failure(std::string why, bool cancelled = false) {
    ByteRead r;
    r.error = std::move(why);
    r.cancelled = cancelled;
    return r;
  }
};

class ByteSource {
 public:
  virtual ~ByteSource() = default;

  // Total size in bytes, or -1 with *error.
  virtual int64_t Size(std::string* error) = 0;
  // Up to `length` bytes at `offset`. Thread-safe: several demuxers of one recording read
  // at once. Reading at or past the end returns no bytes and no error.
  virtual ByteRead Read(int64_t offset, int64_t length) = 0;
  // What this is, for error messages ("recording 12 on examd", a path).
  virtual std::string Describe() const = 0;

  // Makes reads in flight return soon and later reads fail as cancelled until Resume() —
  // for closing a player while a slow range is on its way.
  void Cancel() {
    cancelled_.store(true);
    OnCancel();
  }
  void Resume() {
    cancelled_.store(false);
    OnResume();
  }
  bool cancelled() const { return cancelled_.load(); }

 protected:
  // Sources with a call in flight abort it here (any thread).
  virtual void OnCancel() {}
  virtual void OnResume() {}

 private:
  std::atomic<bool> cancelled_{false};
};

// A recording on local disk, read with pread (no shared file position, so reads from
// several threads do not disturb each other).
class LocalFileSource : public ByteSource {
 public:
  // nullptr with *error when the file cannot be opened.
  static std::unique_ptr<LocalFileSource> Open(const std::string& path, std::string* error);
  ~LocalFileSource() override;

  int64_t Size(std::string* error) override;
  ByteRead Read(int64_t offset, int64_t length) override;
  std::string Describe() const override { return path_; }

 private:
  LocalFileSource(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_ = -1;
};

}  // namespace exam::media
