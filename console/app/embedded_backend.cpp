#include "app/embedded_backend.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#if EXAM_CONSOLE_HAS_BACKEND
#include "backend/server.h"
#endif
#if EXAM_CONSOLE_HAS_SIMULATOR
#include "backend/sim/simulator.h"
#endif

namespace exam::app {

struct EmbeddedBackend::Parts {
#if EXAM_CONSOLE_HAS_BACKEND
  std::unique_ptr<backend::ExamServer> server;
#endif
#if EXAM_CONSOLE_HAS_SIMULATOR
  std::unique_ptr<sim::CandidateSimulator> simulator;
#endif
};

namespace {

// A fresh directory per run: the demo seeds only an empty database, and an old one would
// hold an exam that already ended.
std::filesystem::path MakeDataDir(std::string* error) {
  std::error_code ec;
  std::filesystem::path base;
  if (const char* runtime = std::getenv("XDG_RUNTIME_DIR"); runtime != nullptr && *runtime != '\0') {
    base = runtime;
  } else {
    base = std::filesystem::temp_directory_path(ec);
  }
  auto dir = base / ("exam-console-demo-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir, ec);
  if (!std::filesystem::create_directories(dir, ec)) {
    *error = "cannot create " + dir.string() + ": " + ec.message();
    return {};
  }
  return dir;
}

}  // namespace

std::unique_ptr<EmbeddedBackend> EmbeddedBackend::Start(const Options& options, std::string* error) {
#if !EXAM_CONSOLE_HAS_BACKEND
  (void)options;
  *error = "this build has no embedded backend; start examd and use --backend host:port";
  return nullptr;
#else
  const auto dir = MakeDataDir(error);
  if (dir.empty()) return nullptr;
  std::unique_ptr<EmbeddedBackend> self(new EmbeddedBackend());
  self->data_dir_ = dir.string();
  self->parts_ = std::make_unique<Parts>();

  backend::ServerOptions server_options;
  server_options.db_path = (dir / "demo.db").string();
  server_options.listen = "127.0.0.1:0";
  server_options.seed_demo = true;
  server_options.demo_candidates = options.candidates;
  server_options.time_scale = options.time_scale;
  server_options.demo_review_seconds = options.review_seconds;
  self->parts_->server = backend::ExamServer::Start(server_options, error);
  if (!self->parts_->server) return nullptr;
  self->address_ = self->parts_->server->address();
  const backend::DemoInfo& demo = self->parts_->server->demo();
  self->password_ = demo.demo_password;

#if EXAM_CONSOLE_HAS_SIMULATOR
  if (options.simulate) {
    sim::SimulatorOptions sim_options;
    sim_options.address = self->address_;
    sim_options.exam_id = demo.exam_id;
    sim_options.access_code = demo.access_code;
    sim_options.registration_nos = demo.registration_nos;
    sim_options.seed = options.seed;
    sim_options.time_scale = options.time_scale;
    sim_options.worker_threads = 2;
    // EXAM_CONSOLE_SIM_LOG=1 shows what the simulated candidates do.
    if (const char* v = std::getenv("EXAM_CONSOLE_SIM_LOG"); v != nullptr && *v == '1') {
      sim_options.log = [](const std::string& line) { std::fprintf(stderr, "sim: %s\n", line.c_str()); };
    }
    self->parts_->simulator = std::make_unique<sim::CandidateSimulator>(std::move(sim_options));
    self->parts_->simulator->Start();
  }
#endif
  return self;
#endif
}

EmbeddedBackend::~EmbeddedBackend() {
  if (parts_) {
#if EXAM_CONSOLE_HAS_SIMULATOR
    if (parts_->simulator) parts_->simulator->Stop();
    parts_->simulator.reset();
#endif
#if EXAM_CONSOLE_HAS_BACKEND
    if (parts_->server) parts_->server->Shutdown();
    parts_->server.reset();
#endif
  }
  if (!data_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(data_dir_, ec);
  }
}

}  // namespace exam::app
