#pragma once
// The reference exam backend as a library: `examd` wraps it, the console embeds it when
// started without --backend, and integration tests start it on loopback.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend/clock.h"

namespace exam::backend {

struct ServerOptions {
  // SQLite file (created with its migrations when missing).
  std::string db_path;
  // Uploaded recordings; empty means `<db_path>.media` next to the database.
  std::string media_dir;
  // host:port; port 0 picks a free one (see ExamServer::port()).
  std::string listen = "127.0.0.1:0";
  // Seed a demo exam, rooms, candidates and staff users when the database is empty.
  bool seed_demo = true;
  int demo_candidates = 48;
  int demo_rooms = 0;  // 0: one room per 40 candidates
  // The demo exam lets support allow a re-record of an abnormal recording.
  bool demo_rerecord_allowed = true;
  // Demo exam starts this long (backend time) after seeding.
  core::Duration demo_start_in = core::minutes(20);
  // With the demo, an earlier sitting whose sessions have ended, for review: this many
  // sessions (0: none), each recorded for this long. Their recordings are synthesized in
  // the background the first time anyone calls ReviewService (see DemoRecordingWorker).
  int demo_review_sessions = 3;
  int demo_review_seconds = 200;
  // Backend seconds per real second.
  double time_scale = 1.0;
  // Staff tokens live this long (backend time is not used: tokens expire in real time).
  std::chrono::seconds token_ttl{8 * 3600};
  // TLS: PEM files; both empty means plain text.
  std::string tls_cert_file;
  std::string tls_key_file;
  // How often time-driven rules (countdowns, forfeits, interruptions) are applied.
  std::chrono::milliseconds tick_interval{200};
};

// What the demo seeding created, so the simulator and the console can use it.
struct DemoInfo {
  int64_t exam_id = 0;
  std::string access_code;
  std::vector<std::string> registration_nos;  // one per candidate, in session-id order
  // The earlier, finished sitting with sessions to review (0 when none was seeded).
  int64_t review_exam_id = 0;
  // Staff accounts, all with password "demo": admin, proctor1 (room 1), proctor2 (room 2),
  // support1, grader1.
  std::string demo_password = "demo";
};

class ExamServer {
 public:
  // Opens the store, seeds the demo when asked and the store is empty, and starts serving.
  // Returns nullptr and fills *error on failure.
  static std::unique_ptr<ExamServer> Start(const ServerOptions& options, std::string* error);
  ~ExamServer();

  // Stops accepting calls, ends open streams, waits for handlers, closes the store.
  void Shutdown();

  int port() const;
  std::string address() const;  // "127.0.0.1:<port>"
  const Clock& clock() const;
  Clock& clock();
  const DemoInfo& demo() const;

  struct Impl;

 private:
  explicit ExamServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace exam::backend
