#pragma once
// Candidate simulator: drives N candidates through a real exam over the public
// exam.v1.CandidateService, each with a laptop and an evidence phone. It is a genuine gRPC
// client of the backend, so it serves as the demo's population and as a load generator.
//
// What each candidate does is decided up front by MakePlans (pure, deterministic for a
// seed); when it happens follows the backend's clock, which may run `time_scale` times
// faster than real time. A small pool of worker threads runs every candidate's steps from
// one timed queue, so thousands of candidates fit on a couple of cores.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/stage.h"

namespace exam::sim {

struct SimulatorOptions {
  std::string address;                        // backend host:port
  int64_t exam_id = 0;
  std::string access_code;
  std::vector<std::string> registration_nos;  // one candidate each
  uint64_t seed = 1;
  double time_scale = 1.0;                    // backend seconds per real second (must match the backend's)
  int worker_threads = 4;

  // Deadline of every call, in real milliseconds.
  int rpc_timeout_ms = 10000;
  // Heartbeat period of each device in backend seconds, but never more often than
  // min_heartbeat_real_s real seconds.
  double heartbeat_backend_s = 5.0;
  double min_heartbeat_real_s = 1.0;
  // Synthetic recording sizes (bytes per file, before per-candidate variation) and chunking.
  int64_t upload_file_bytes = 24 * 1024;
  int upload_chunk_bytes = 8 * 1024;
  // PEM root certificates for TLS; empty means a plain-text channel.
  std::string tls_root_certs_pem;
  // Optional sink for one-line progress notes (called from worker threads).
  std::function<void(const std::string&)> log;
};

struct SimulatorStats {
  int64_t joined = 0;          // candidates whose laptop signed in
  int64_t stage_reports = 0;   // accepted ReportStage calls
  int64_t face_failures = 0;   // failed face checks reported
  int64_t appeals_filed = 0;
  int64_t help_raised = 0;
  int64_t interruptions = 0;   // interruptions reported (started)
  int64_t ended_early = 0;     // sessions seen ending early
  int64_t completed = 0;       // sessions seen completed
  int64_t forfeited = 0;       // sessions seen forfeited
  int64_t rpc_errors = 0;      // failed calls (transport, deadline, unexpected status)
  int64_t uploads_pending = 0; // files deliberately left incomplete and not yet recalled

  // Beyond the basics.
  int64_t terminated = 0;             // sessions ended by a proctor
  int64_t identity_rejected = 0;      // appeals rejected
  int64_t no_shows = 0;               // candidates that never joined (by plan)
  int64_t gave_up = 0;                // appeals never decided: the candidate left
  int64_t failed = 0;                 // candidates abandoned after persistent errors
  int64_t refusals = 0;               // calls refused by the exam rules
  int64_t heartbeats = 0;
  int64_t staff_messages = 0;         // staff messages received (deduplicated per candidate)
  int64_t help_messages_sent = 0;
  int64_t questions_reported = 0;     // accepted ReportQuestion calls
  int64_t uploads_completed = 0;      // files committed
  int64_t uploads_unimplemented = 0;  // upload attempts answered UNIMPLEMENTED
  int64_t recalls_handled = 0;
};

enum class Attendance {
  kOnTime,              // arrives between face-login opening and the start
  kLate,                // arrives after entry has closed (forfeits)
  kStallsBeforeEnter,   // arrives, but never reaches the waiting room (forfeits)
  kNoShow,              // never signs in (forfeits)
};

enum class FaceAttempt { kPass, kFail, kCancel };

struct InterruptionPlan {
  double at_fraction = 0.3;  // when, as a fraction of the total answering time
  int64_t length_s = 60;     // backend seconds until the recording resumes
};

struct CandidatePlan {
  std::string registration_no;
  int index = 0;
  std::string laptop_model;
  std::string phone_model;

  Attendance attendance = Attendance::kOnTime;
  int64_t arrive_before_start_s = 1800;  // on time / stalling: backend seconds before the start
  int64_t late_by_s = 0;                 // late: backend seconds after entry closed
  core::Stage stall_at = core::Stage::kUnspecified;  // stalling: the stage never reported

  // Backend seconds each step takes (compressed when the candidate is short of time).
  int64_t device_check_s = 120;
  int64_t face_gap_s = 20;         // between face-check attempts
  int64_t phone_join_s = 60;       // face login passed -> phone signed in
  int64_t room_scan_s = 60;        // phone signed in -> evidence binding reported
  int64_t draw_s = 30;
  int64_t read_attachments_s = 120;
  int64_t enter_delay_s = 30;      // after "enter" activates
  int64_t confirm_s = 45;
  int64_t answer_delay_s = 5;      // after the start
  int64_t appeal_prepare_s = 60;   // taking the ID photos

  std::vector<FaceAttempt> face_attempts{FaceAttempt::kPass};
  bool files_appeal = false;       // fails the face check until an appeal is required

  bool raises_help = false;
  int64_t help_at_s = 0;           // backend seconds relative to the start (negative: before)
  int help_replies = 1;            // how many staff replies the candidate answers
  std::string help_text;

  std::vector<InterruptionPlan> interruptions;
  int64_t complete_margin_s = 10;  // "该题回答完毕" this long before each question's deadline

  bool phone_upload_left_pending = false;

  // Outcome the plan leads to when appeals are approved and no proctor intervenes.
  core::Outcome expected_outcome = core::Outcome::kCompleted;

  // One line describing the plan, for logs and tests.
  std::string Describe() const;
};

// Plans for a seed: pure function, deterministic. Candidate i's plan depends only on the
// seed, i and registration_nos[i].
std::vector<CandidatePlan> MakePlans(const std::vector<std::string>& registration_nos, uint64_t seed);

class CandidateSimulator {
 public:
  explicit CandidateSimulator(SimulatorOptions options);
  ~CandidateSimulator();  // stops
  CandidateSimulator(const CandidateSimulator&) = delete;
  CandidateSimulator& operator=(const CandidateSimulator&) = delete;

  void Start();           // returns at once; runs on its own threads
  void Stop();            // prompt; cancels waits and in-flight calls
  bool Finished() const;  // every candidate reached an end
  SimulatorStats Stats() const;
  const std::vector<CandidatePlan>& Plans() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace exam::sim
