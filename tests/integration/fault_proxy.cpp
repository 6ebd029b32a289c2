#include "fault_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

namespace exam::testing {
namespace {

constexpr size_t kChunk = 64 * 1024;

void SetNonBlocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK); }

sockaddr_in Loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// Reads what `fd` has into `out` (which the caller keeps empty until it is written on);
// false on end of stream or a hard error.
bool ReadInto(int fd, std::string& out) {
  char buf[kChunk];
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  if (n > 0) {
    out.append(buf, static_cast<size_t>(n));
    return true;
  }
  if (n == 0) return false;
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

// Writes as much of `data` as `fd` takes now; false on a hard error.
bool WriteFrom(int fd, std::string& data, std::atomic<uint64_t>& counter) {
  if (data.empty()) return true;
  const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
  if (n > 0) {
    data.erase(0, static_cast<size_t>(n));
    counter.fetch_add(static_cast<uint64_t>(n));
    return true;
  }
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
}

}  // namespace

FaultProxy::FaultProxy(int target_port) : target_port_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = Loopback(0);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 64) != 0)
    throw std::runtime_error("fault proxy: cannot listen on loopback");
  socklen_t len = sizeof a;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  SetNonBlocking(listen_fd_);
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("fault proxy: no pipe");
  thread_ = std::thread([this] { Loop(); });
}

FaultProxy::~FaultProxy() { Stop(); }

void FaultProxy::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
    cv_.notify_all();
  }
  (void)!::write(wake_[1], "s", 1);
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void FaultProxy::OnLoop(std::function<void()> fn) {
  std::unique_lock lock(mu_);
  if (stop_) return;
  commands_.push_back(std::move(fn));
  const uint64_t ticket = ++commands_queued_;
  (void)!::write(wake_[1], "c", 1);
  cv_.wait(lock, [&] { return commands_done_ >= ticket || stop_; });
}

void FaultProxy::DropAll() {
  OnLoop([this] {
    for (auto& p : pairs_) Close(p, /*reset=*/true);
    pairs_.clear();
    open_ = 0;
  });
}

void FaultProxy::Stall(bool on) {
  OnLoop([this, on] { stalled_ = on; });
}

void FaultProxy::HalfOpenAll() {
  OnLoop([this] {
    for (auto& p : pairs_) p.frozen = true;
  });
}

void FaultProxy::BlackHole(bool on) {
  OnLoop([this, on] {
    black_hole_ = on;
    if (on) return;
    // The path is back: what the black-holed connections sent so far is still in their
    // receive buffers and goes upstream once they are connected.
    for (auto it = pairs_.begin(); it != pairs_.end();) {
      if (it->upstream < 0 && !ConnectUpstream(*it)) {
        Close(*it, /*reset=*/true);
        it = pairs_.erase(it);
      } else {
        ++it;
      }
    }
    open_ = pairs_.size();
  });
}

void FaultProxy::SetTarget(int port) {
  OnLoop([this, port] { target_port_ = port; });
}

void FaultProxy::Reset(int fd) {
  if (fd < 0) return;
  // Linger 0: close sends RST, as a crashed peer or a middlebox dropping state does.
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

void FaultProxy::Close(Pair& p, bool reset) {
  if (reset) {
    Reset(p.client);
    Reset(p.upstream);
  } else {
    if (p.client >= 0) ::close(p.client);
    if (p.upstream >= 0) ::close(p.upstream);
  }
  p.client = p.upstream = -1;
}

bool FaultProxy::ConnectUpstream(Pair& p) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  // A blocking connect on loopback answers at once: connected, or refused when no backend
  // listens (it was killed), which the client then sees as a reset.
  sockaddr_in a = Loopback(target_port_);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return false;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  SetNonBlocking(fd);
  p.upstream = fd;
  return true;
}

void FaultProxy::Accept() {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    accepted_.fetch_add(1);
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    Pair p;
    p.client = fd;
    if (!black_hole_ && !ConnectUpstream(p)) {
      Reset(fd);
      continue;
    }
    pairs_.push_back(std::move(p));
    open_ = pairs_.size();
  }
}

bool FaultProxy::Pump(Pair& p, short client_events, short upstream_events) {
  const short readable = POLLIN | POLLHUP | POLLERR;
  if ((client_events & readable) && p.to_upstream.empty() && !ReadInto(p.client, p.to_upstream)) return false;
  if ((upstream_events & readable) && p.to_client.empty() && !ReadInto(p.upstream, p.to_client)) return false;
  if (!WriteFrom(p.upstream, p.to_upstream, bytes_up_)) return false;
  if (!WriteFrom(p.client, p.to_client, bytes_down_)) return false;
  return true;
}

void FaultProxy::Loop() {
  std::vector<pollfd> fds;
  for (;;) {
    fds.clear();
    fds.push_back({wake_[0], POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    for (const auto& p : pairs_) {
      // A stalled, frozen or black-holed connection is left out of the poll set altogether: nothing
      // is read or written, and its hang-ups do not spin the loop.
      const bool idle = stalled_ || p.upstream < 0 || p.frozen;
      const short c = static_cast<short>((p.to_upstream.empty() ? POLLIN : 0) | (p.to_client.empty() ? 0 : POLLOUT));
      const short u = static_cast<short>((p.to_client.empty() ? POLLIN : 0) | (p.to_upstream.empty() ? 0 : POLLOUT));
      fds.push_back({idle ? -1 : p.client, c, 0});
      fds.push_back({idle ? -1 : p.upstream, u, 0});
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents) {
      char drain[64];
      while (::read(wake_[0], drain, sizeof drain) > 0) {
      }
      std::vector<std::function<void()>> commands;
      {
        std::lock_guard lock(mu_);
        if (stop_) break;
        commands.swap(commands_);
      }
      for (auto& c : commands) c();
      std::lock_guard lock(mu_);
      commands_done_ += commands.size();
      cv_.notify_all();
      continue;  // the commands may have changed the connections: poll them afresh
    }
    // Pairs first (their indexes match `fds`), then new connections.
    std::vector<Pair> kept;
    kept.reserve(pairs_.size());
    for (size_t i = 0; i < pairs_.size(); ++i) {
      Pair& p = pairs_[i];
      const short c = fds[2 + 2 * i].revents;
      const short u = fds[3 + 2 * i].revents;
      if ((c || u) && !Pump(p, c, u)) {
        Close(p, /*reset=*/false);
        continue;
      }
      kept.push_back(std::move(p));
    }
    pairs_.swap(kept);
    open_ = pairs_.size();
    if (fds[1].revents) Accept();
  }
  for (auto& p : pairs_) Close(p, /*reset=*/true);
  pairs_.clear();
  open_ = 0;
  std::lock_guard lock(mu_);
  commands_done_ = commands_queued_;
  cv_.notify_all();
}

}  // namespace exam::testing
