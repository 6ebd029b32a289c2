#pragma once
// The reference backend and the candidate simulator, run inside the console so that
// starting it without arguments shows a live demo exam.
#include <cstdint>
#include <memory>
#include <string>

namespace exam::app {

class EmbeddedBackend {
 public:
  struct Options {
    double time_scale = 10.0;  // backend seconds per real second, so the demo moves
    int candidates = 48;
    uint64_t seed = 1;
    bool simulate = true;
    int review_seconds = 200;  // length of each synthesized recording of the finished sitting
  };

  // Starts the backend on loopback with a fresh demo database, then the simulator.
  // Returns nullptr and fills *error when it cannot (or when built without the backend).
  static std::unique_ptr<EmbeddedBackend> Start(const Options& options, std::string* error);
  ~EmbeddedBackend();  // stops the simulator, then the backend, and removes the database

  const std::string& address() const { return address_; }
  // The demo's staff account.
  std::string username() const { return "admin"; }
  std::string password() const { return password_; }

  struct Parts;

 private:
  EmbeddedBackend() = default;
  std::unique_ptr<Parts> parts_;
  std::string address_;
  std::string password_;
  std::string data_dir_;
};

}  // namespace exam::app
