// examd: the reference exam backend. Serves the contract in proto/exam/v1 from a SQLite
// file and, with --simulate, drives a demo exam with simulated candidates.
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>

#include "backend/log.h"
#include "backend/server.h"
#include "backend/sim/simulator.h"
#include "backend/store/event_log.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

void Usage() {
  std::cerr << "usage: examd --db PATH [--listen ADDR] [--simulate N --seed S --time-scale X --no-live-media] [--rooms M]\n"
               "             [--start-in MINUTES] [--tls-cert PEM --tls-key PEM] [--media-dir DIR]\n"
               "       examd --verify-audit --db PATH\n"
               "  --db PATH          SQLite file (created with migrations when missing)\n"
               "  --listen ADDR      host:port to serve on (default 127.0.0.1:50051)\n"
               "  --simulate N       seed a demo exam with N candidates and run the candidate simulator\n"
               "  --seed S           simulator seed (default 1): the same seed plays the same exam\n"
               "  --no-live-media    simulated devices do not push live camera/screen/evidence streams\n"
               "  --time-scale X     backend seconds per real second (default 1)\n"
               "  --rooms M          rooms for the demo exam (default one per 40 candidates)\n"
               "  --start-in MIN     demo exam starts MIN backend minutes after seeding (default 20)\n"
               "  --media-dir DIR    uploaded recordings (default: next to the database, PATH.media)\n"
               "  --verify-audit     check the audit trail's hash chain and exit: 0 intact, 1 broken\n"
               "                     (with the first bad row), 2 when the database cannot be read\n";
}

// Opening the store applies pending migrations, so a database from before the chain gets
// one that starts now (older rows are not covered) and verifies as intact.
int VerifyAudit(const std::string& db_path) {
  if (!std::filesystem::exists(db_path)) {
    std::cerr << "examd: no database at " << db_path << "\n";
    return 2;
  }
  try {
    exam::store::Database db(db_path);
    std::lock_guard lock(db.mutex());
    const auto v = exam::store::AuditLog::Verify(db);
    if (!v.ok) {
      std::cout << "audit chain broken at row " << v.bad_id << ": " << v.problem << "\n";
      return 1;
    }
    std::cout << "audit chain intact: " << v.rows_checked << " rows from row " << v.start_id << ", head " << v.head_hex
              << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "examd: cannot read " << db_path << ": " << e.what() << "\n";
    return 2;
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace exam;
  backend::ServerOptions opts;
  opts.listen = "127.0.0.1:50051";
  opts.seed_demo = false;
  int simulate = 0;
  uint64_t seed = 1;
  bool live_media = true;
  bool verify_audit = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "examd: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    try {
      if (a == "--db") opts.db_path = value();
      else if (a == "--media-dir") opts.media_dir = value();
      else if (a == "--listen") opts.listen = value();
      else if (a == "--simulate") simulate = std::stoi(value());
      else if (a == "--seed") seed = std::stoull(value());
      else if (a == "--no-live-media") live_media = false;
      else if (a == "--verify-audit") verify_audit = true;
      else if (a == "--time-scale") opts.time_scale = std::stod(value());
      else if (a == "--rooms") opts.demo_rooms = std::stoi(value());
      else if (a == "--start-in") opts.demo_start_in = core::minutes(std::stoi(value()));
      else if (a == "--tls-cert") opts.tls_cert_file = value();
      else if (a == "--tls-key") opts.tls_key_file = value();
      else if (a == "--help" || a == "-h") {
        Usage();
        return 0;
      } else {
        std::cerr << "examd: unknown option " << a << "\n";
        Usage();
        return 2;
      }
    } catch (const std::exception&) {
      std::cerr << "examd: bad value for " << a << "\n";
      return 2;
    }
  }
  if (opts.db_path.empty()) {
    Usage();
    return 2;
  }
  if (verify_audit) return VerifyAudit(opts.db_path);
  if (opts.time_scale <= 0 || opts.time_scale > 1000) {
    std::cerr << "examd: --time-scale must be within (0, 1000]\n";
    return 2;
  }
  if (simulate > 0) {
    opts.seed_demo = true;
    opts.demo_candidates = simulate;
  }

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

  std::string error;
  auto server = backend::ExamServer::Start(opts, &error);
  if (!server) {
    backend::Log("error", "examd failed to start", {{"error", error}});
    return 1;
  }
  std::unique_ptr<sim::CandidateSimulator> simulator;
  if (simulate > 0) {
    sim::SimulatorOptions so;
    so.address = server->address();
    so.exam_id = server->demo().exam_id;
    so.access_code = server->demo().access_code;
    so.registration_nos = server->demo().registration_nos;
    so.seed = seed;
    so.time_scale = opts.time_scale;
    so.live_media = live_media;
    simulator = std::make_unique<sim::CandidateSimulator>(so);
    simulator->Start();
    backend::Log("info", "simulator started", {{"candidates", std::to_string(so.registration_nos.size())},
                                               {"seed", std::to_string(seed)}});
  }
  // Signal handlers may only set a flag; the main thread polls it.
  while (!g_stop) {
    struct timespec ts {0, 100 * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
  backend::Log("info", "examd shutting down", {});
  if (simulator) simulator->Stop();
  server->Shutdown();
  return 0;
}
