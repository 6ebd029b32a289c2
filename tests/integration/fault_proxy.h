#pragma once
// A loopback TCP proxy that sits between the console and the backend and breaks the path
// on command: resets every connection, stalls them (sockets open, no byte moves: what a
// dead NAT entry or a pulled cable looks like to both ends), black-holes new connections
// (accepted, never answered), or sends new connections to another backend port. One poll
// thread owns every socket; the controls run on that thread and return once applied, so a
// test knows exactly which connections a fault caught.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace exam::testing {

class FaultProxy {
 public:
  // Listens on 127.0.0.1 (any free port) and forwards to 127.0.0.1:`target_port`.
  explicit FaultProxy(int target_port);
  ~FaultProxy();  // Stop()s
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // Resets (RST) every open connection, both sides.
  void DropAll();
  // While on, no byte is read or written on any connection, old or new; sockets stay open,
  // so only deadlines and idle timeouts can tell the connection is dead.
  void Stall(bool on);
  // Freezes every open connection for good, as when the backend's side forgot them (a
  // restarted middlebox, a peer that vanished without a reset): nothing more moves on them
  // and they stay open. New connections are not affected.
  void HalfOpenAll();
  // While on, new connections are accepted and then ignored (no upstream connection, no
  // reads). Turning it off connects those still open upstream and forwards what they sent,
  // as a path that comes back would. Connections made before are not affected.
  void BlackHole(bool on);
  // Where new connections go from now on (a backend restarted on another port).
  void SetTarget(int port);
  // Closes everything and joins the thread. Idempotent.
  void Stop();

  uint64_t accepted() const { return accepted_.load(); }
  uint64_t bytes_up() const { return bytes_up_.load(); }      // client → backend
  uint64_t bytes_down() const { return bytes_down_.load(); }  // backend → client
  size_t open_connections() const { return open_.load(); }

 private:
  struct Pair {
    int client = -1;
    int upstream = -1;  // -1 while black-holed
    bool frozen = false;  // HalfOpenAll()
    std::string to_upstream;
    std::string to_client;
  };

  void Loop();
  // Runs `fn` on the poll thread and waits until it ran.
  void OnLoop(std::function<void()> fn);
  void Accept();
  bool ConnectUpstream(Pair& p);
  // Moves bytes between the two sides of `p`; false when the pair is finished.
  bool Pump(Pair& p, short client_events, short upstream_events);
  static void Reset(int fd);
  void Close(Pair& p, bool reset);

  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  int port_ = 0;
  std::thread thread_;

  // Owned by the poll thread.
  std::vector<Pair> pairs_;
  int target_port_;
  bool stalled_ = false;
  bool black_hole_ = false;

  // Commands for the poll thread.
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::function<void()>> commands_;
  uint64_t commands_done_ = 0;
  uint64_t commands_queued_ = 0;
  bool stop_ = false;

  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> bytes_up_{0};
  std::atomic<uint64_t> bytes_down_{0};
  std::atomic<size_t> open_{0};
};

}  // namespace exam::testing
