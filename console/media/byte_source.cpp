#include "media/byte_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace exam::media {

std::unique_ptr<LocalFileSource> LocalFileSource::Open(const std::string& path, std::string* error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (error) *error = "cannot open " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<LocalFileSource>(new LocalFileSource(path, fd));
}

LocalFileSource::~LocalFileSource() {
  if (fd_ >= 0) ::close(fd_);
}

int64_t LocalFileSource::Size(std::string* error) {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    if (error) *error = "cannot stat " + path_ + ": " + std::strerror(errno);
    return -1;
  }
  return static_cast<int64_t>(st.st_size);
}

ByteRead LocalFileSource::Read(int64_t offset, int64_t length) {
  if (cancelled()) return ByteRead::Failure("reading " + path_ + " was cancelled", true);
  if (offset < 0 || length < 0) return ByteRead::Failure("bad range for " + path_);
  ByteRead r;
  r.data.resize(static_cast<size_t>(length));
  size_t got = 0;
  while (got < r.data.size()) {
    const ssize_t n = ::pread(fd_, r.data.data() + got, r.data.size() - got, static_cast<off_t>(offset) + static_cast<off_t>(got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ByteRead::Failure("cannot read " + path_ + ": " + std::strerror(errno));
    }
    if (n == 0) break;  // end of file
    got += static_cast<size_t>(n);
  }
  r.data.resize(got);
  return r;
}

}  // namespace exam::media
