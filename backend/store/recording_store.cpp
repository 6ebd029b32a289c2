#include "backend/store/recording_store.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "backend/store/database.h"

namespace exam::store {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void Fail(const std::string& what, const fs::path& path) {
  throw StoreError(what + " " + path.string() + ": " + std::strerror(errno));
}

// Owns a POSIX file descriptor.
class Fd {
 public:
  Fd(const fs::path& path, int flags) : fd_(::open(path.c_str(), flags | O_CLOEXEC, 0640)) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

void SyncDirectory(const fs::path& dir) {
  Fd d(dir, O_RDONLY | O_DIRECTORY);
  if (!d.ok() || ::fsync(d.get()) != 0) Fail("cannot sync directory", dir);
}

// Only characters that are safe in any file system; the id keeps names unique anyway.
std::string SafeName(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, 96)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '-' || c == '_';
    out += ok ? c : '_';
  }
  return out.empty() ? "recording" : out;
}

std::string Hex(const unsigned char* digest, unsigned int len) {
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

}  // namespace

RecordingStore::RecordingStore(fs::path root) : root_(std::move(root)) {
  std::error_code ec;
  fs::create_directories(root_ / "partial", ec);
  if (!ec) fs::create_directories(root_ / "complete", ec);
  if (ec) throw StoreError("cannot create recording directory " + root_.string() + ": " + ec.message());
}

fs::path RecordingStore::PartialPath(int64_t file_id) const {
  return root_ / "partial" / (std::to_string(file_id) + ".part");
}

fs::path RecordingStore::CompletePath(int64_t file_id, std::string_view name) const {
  return root_ / "complete" / (std::to_string(file_id) + "-" + SafeName(name));
}

int64_t RecordingStore::PartialSize(int64_t file_id) const {
  std::error_code ec;
  const auto n = fs::file_size(PartialPath(file_id), ec);
  return ec ? 0 : static_cast<int64_t>(n);
}

void RecordingStore::WriteChunk(int64_t file_id, int64_t offset, std::string_view data) {
  const fs::path path = PartialPath(file_id);
  Fd fd(path, O_WRONLY | O_CREAT);
  if (!fd.ok()) Fail("cannot open", path);
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::pwrite(fd.get(), data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      Fail("cannot write", path);
    }
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(fd.get()) != 0) Fail("cannot flush", path);
}

void RecordingStore::TruncatePartial(int64_t file_id, int64_t size) {
  const fs::path path = PartialPath(file_id);
  if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0 && errno != ENOENT) Fail("cannot truncate", path);
}

std::string RecordingStore::PartialSha256(int64_t file_id, int64_t size) const {
  if (PartialSize(file_id) < size) return {};
  return FileSha256(PartialPath(file_id), size);
}

fs::path RecordingStore::Finalize(int64_t file_id, int64_t size, std::string_view name) {
  const fs::path from = PartialPath(file_id);
  const fs::path to = CompletePath(file_id, name);
  {
    Fd fd(from, O_WRONLY);
    if (!fd.ok()) Fail("cannot open", from);
    if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) Fail("cannot truncate", from);
    if (::fsync(fd.get()) != 0) Fail("cannot flush", from);
  }
  if (::rename(from.c_str(), to.c_str()) != 0) Fail("cannot move into place", from);
  SyncDirectory(to.parent_path());
  SyncDirectory(from.parent_path());
  return to;
}

std::string RecordingStore::FileSha256(const fs::path& path, int64_t limit) {
  Fd fd(path, O_RDONLY);
  if (!fd.ok()) return {};
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 20);
  int64_t left = limit < 0 ? INT64_MAX : limit;
  while (left > 0) {
    const ssize_t n = ::read(fd.get(), buf.data(), static_cast<size_t>(std::min<int64_t>(left, static_cast<int64_t>(buf.size()))));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return {};
    if (n == 0) break;
    EVP_DigestUpdate(md.get(), buf.data(), static_cast<size_t>(n));
    left -= n;
  }
  if (limit >= 0 && left > 0) return {};  // shorter than asked
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(md.get(), digest, &len);
  return Hex(digest, len);
}

}  // namespace exam::store
