#pragma once
// Candidate simulator: drives N candidates through a real exam over the public
// exam.v1.CandidateService, each with a laptop and an evidence phone (some with a second
// camera), and after the end uploads every device's recordings the way they go in a real
// exam (see UploadCase). It is a genuine gRPC client of the backend, so it serves as the
// demo's population and as a load generator.
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
  // Synthetic recording sizes (bytes per file, before per-candidate variation) and the
  // largest chunk (at most 1 MiB is sent). Devices upload at their planned bandwidth, which
  // is relative to upload_file_bytes (see CandidatePlan::laptop_upload_s).
  int64_t upload_file_bytes = 24 * 1024;
  int upload_chunk_bytes = 8 * 1024;
  // Divides every upload-phase duration (transfer times, pauses, offline spells, re-recording)
  // and multiplies every bandwidth. Only 1 keeps the planned shape against the 2 h resume
  // deadline (slow uploads miss it); tests about other things raise it to finish sooner.
  double upload_speedup = 1.0;
  // Live media: while answering, each laptop pushes its camera and screen and each evidence
  // phone its camera through PushMedia (pre-encoded H.264 loops at real time, tile and full
  // quality); stops at the end or during a recording interruption. Tests that do not watch
  // turn it off.
  bool live_media = true;
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
  int64_t recalls_handled = 0;        // recalls that resumed a parked, stuck or paused file

  // The upload mix (see UploadCase).
  int64_t second_cameras = 0;         // second cameras signed in
  int64_t uploads_begun = 0;          // files announced (BeginUpload accepted), abnormal ones included
  int64_t slow_uploads = 0;           // files announced by a device too slow to make the deadline
  int64_t uploads_late = 0;           // files completed after their resume deadline
  int64_t uploads_paused = 0;         // pauses taken mid-file by plan
  int64_t uploads_resumed = 0;        // resumes from the backend's committed offset after a pause or offline spell
  int64_t devices_offline = 0;        // devices that went offline mid-upload by plan
  int64_t devices_back = 0;           // ... and came back
  int64_t uploads_stuck = 0;          // files that stopped progressing (every chunk fails)
  int64_t stuck_chunks_refused = 0;   // their refused chunks (expected; not in rpc_errors)
  int64_t uploads_unstuck = 0;        // stuck files a recall got going again
  int64_t uploads_abnormal = 0;       // files announced with recording_failed
  int64_t rerecords = 0;              // re-recordings made after a "rerecord" message
  int64_t rerecords_completed = 0;    // re-recorded files committed
  int64_t uploads_expired = 0;        // files given up at the resume deadline (parked, stuck, never re-recorded)
  int64_t uploads_refused = 0;        // files given up because the backend refused them

  // Live media (SimulatorOptions::live_media).
  int64_t live_streams_opened = 0;    // PushMedia streams opened (reopenings included)
  int64_t live_streams_active = 0;    // open now
  int64_t live_packets = 0;           // packets written (both qualities)
  int64_t live_errors = 0;            // streams that failed
};

enum class Attendance {
  kOnTime,              // arrives between face-login opening and the start
  kLate,                // arrives after entry has closed (forfeits)
  kStallsBeforeEnter,   // arrives, but never reaches the waiting room (forfeits)
  kNoShow,              // never signs in (forfeits)
};

enum class FaceAttempt { kPass, kFail, kCancel };

// A recorded file, by the track it holds.
enum class Track { kCamera, kScreen, kEvidence, kSecondCamera };

// What goes wrong, if anything, with a candidate's uploads after the exam: the mix support
// staff see. Each case is about one file (UploadPlan::track).
enum class UploadCase {
  kNormal,        // every file at its device's pace, done well within the confirmation window
  kLeftPending,   // the phone pushes one chunk of its recording, then waits for a recall
  kSlow,          // the phone's uplink is so slow that its file's projected finish falls after the deadline
  kPauses,        // the file stops mid-way for a few minutes (once or twice), then resumes from
                  // the committed offset (GetUploadStatus)
  kPhoneOffline,  // the evidence phone goes offline mid-file (no heartbeats, no chunks) for ~40
                  // minutes, comes back and finishes
  kStuck,         // the device stays online but every chunk of the file fails its checksum from
                  // some offset on; a recall (the candidate restarts the app) gets it going again
  kAbnormal,      // the recording failed: announced with recording_failed and never pushed; on a
                  // "rerecord" message the device re-records and uploads "<name>-rerecord.mp4"
};

struct UploadPlan {
  UploadCase kind = UploadCase::kNormal;
  Track track = Track::kEvidence;   // the file the case is about
  double at_fraction = 0.3;         // where in that file it pauses, goes offline, gets stuck or is left
  std::vector<int64_t> pauses_s;    // kPauses: each pause's length in backend seconds (the second
                                    // comes 0.3 of the file after the first)
  int64_t offline_s = 0;            // kPhoneOffline: backend seconds offline
  std::string failure;              // kAbnormal: why the recording failed
  int64_t rerecord_s = 0;           // kAbnormal: backend seconds to re-record once allowed
};

const char* TrackName(Track t);
const char* UploadCaseName(UploadCase c);

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

  // Uploads after the end. Each device has a bandwidth: one file of
  // SimulatorOptions::upload_file_bytes takes it this many backend seconds.
  int64_t laptop_upload_s = 300;
  int64_t phone_upload_s = 900;
  int64_t second_camera_upload_s = 900;
  // 二机位: a second camera joins with the phone and uploads its own file.
  bool has_second_camera = false;
  std::string second_camera_model;
  UploadPlan upload;
  bool phone_upload_left_pending = false;  // same as upload.kind == UploadCase::kLeftPending

  // Outcome the plan leads to when appeals are approved and no proctor intervenes.
  core::Outcome expected_outcome = core::Outcome::kCompleted;

  // One line describing the plan, for logs and tests.
  std::string Describe() const;
};

// Plans for a seed: pure function, deterministic. Candidate i's plan depends only on the
// seed, i and registration_nos[i].
//
// The upload mix is dealt per block of kUploadBlock consecutive candidates (a function of
// the seed and the block alone): in every full block, candidates who arrive on time and
// file no appeal (so they record without anyone's help) get each non-normal UploadCase
// kUploadCaseQuota times and a second camera kSecondCamerasPerBlock times. So any population
// of at least kUploadBlock candidates shows every case.
inline constexpr int kUploadBlock = 30;
inline constexpr int kSecondCamerasPerBlock = 2;
int UploadCaseQuota(UploadCase c);  // per block
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
