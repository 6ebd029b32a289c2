#pragma once
// What the simulator tests need around a real backend: the demo exam served by an
// ExamServer on loopback with its own SQLite file (restartable on that file), an
// administrator's view of sessions and appeals, and a staff desk that decides appeals,
// answers help requests and ends chosen candidates' exams, as people at the console would.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "backend/server.h"
#include "backend/sim/simulator.h"
#include "backend_fixture.h"
#include "exam/v1/appeal.grpc.pb.h"
#include "exam/v1/exam.grpc.pb.h"
#include "exam/v1/help.grpc.pb.h"
#include "exam/v1/live.grpc.pb.h"
#include "exam/v1/upload.grpc.pb.h"

namespace exam::testing {

// Polls `done` every `every` until it holds or `limit` passes; returns whether it held.
// The condition is the synchronisation: nothing sleeps for a guessed time.
bool PollUntil(const std::function<bool()>& done, std::chrono::milliseconds limit,
               std::chrono::milliseconds every = std::chrono::milliseconds(20));

// A context with a deadline, carrying a staff token when one is given.
std::unique_ptr<grpc::ClientContext> StaffContext(const std::string& token);

// The seeded demo exam on a real ExamServer.
class DemoBackend {
 public:
  // `tick`: how often the backend applies its time-driven rules (0: the server's default).
  DemoBackend(int candidates, double time_scale, core::Duration start_in = core::minutes(16),
              std::chrono::milliseconds tick = std::chrono::milliseconds(0));
  ~DemoBackend();

  // Starts the server on a fresh database.
  ::testing::AssertionResult Start();
  // Shuts the server down and starts it again on the same SQLite file. The backend clock
  // is not persisted: a new server's clock begins at the wall clock, so under a time scale
  // it would jump back. It is moved on to where the old one stopped, as if the restart took
  // no time.
  ::testing::AssertionResult Restart();
  void Shutdown();

  backend::ExamServer& server() { return *server_; }
  const backend::DemoInfo& demo() const { return server_->demo(); }
  // Where the server keeps uploaded recordings.
  const std::string& media_dir() const { return options_.media_dir; }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  // The administrator's token for the running server (signed in on first use).
  const std::string& admin_token();

  // Simulator options for the demo exam at this backend's time scale. Uploads run 30 times
  // faster than planned (upload_speedup), so that tests not about uploads finish sooner; a
  // test about them sets it back to 1.
  sim::SimulatorOptions SimulatorFor(uint64_t seed, int worker_threads = 3) const;

  // As the administrator; an empty list (and a test failure) when the call fails.
  std::vector<exam::v1::Session> Sessions();
  std::vector<exam::v1::Appeal> Appeals();
  std::vector<exam::v1::HelpRequest> HelpRequests();
  std::vector<exam::v1::UploadFile> Uploads(bool incomplete_only = false);
  exam::v1::UploadFile Upload(int64_t file_id);  // with its history
  exam::v1::Exam Exam();

 private:
  ::testing::AssertionResult Open();

  TempDir dir_;
  backend::ServerOptions options_;
  std::unique_ptr<backend::ExamServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::string admin_token_;
};

// What the staff desk does beyond approving appeals and answering help requests.
struct StaffPolicy {
  std::set<std::string> reject_appeals;            // registration numbers whose appeal is rejected
  std::set<std::string> terminate_when_answering;  // registration numbers a proctor ends while answering
};

// Support staff and proctors at work on their own thread, signed in as the administrator:
// every open appeal is claimed and decided, every help request answered once, and the
// chosen candidates' exams are ended once they are answering. Stops at destruction.
class StaffDesk {
 public:
  StaffDesk(DemoBackend& backend, StaffPolicy policy = {});
  ~StaffDesk();
  StaffDesk(const StaffDesk&) = delete;
  StaffDesk& operator=(const StaffDesk&) = delete;

  int approved() const { return approved_; }
  int rejected() const { return rejected_; }
  int terminated() const { return terminated_; }
  int help_answered() const { return help_answered_; }

 private:
  void Loop();
  void Round();
  std::map<int64_t, exam::v1::Session> SessionsById();

  std::unique_ptr<exam::v1::AppealService::Stub> appeals_;
  std::unique_ptr<exam::v1::HelpService::Stub> help_;
  std::unique_ptr<exam::v1::ExamService::Stub> exams_;
  std::unique_ptr<exam::v1::LiveService::Stub> live_;
  std::string token_;
  int64_t exam_id_;
  StaffPolicy policy_;
  std::set<int64_t> answered_help_, terminated_sessions_;
  int key_ = 0;
  std::atomic<int> approved_{0}, rejected_{0}, terminated_{0}, help_answered_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// What support staff do about uploads.
struct UploadPolicy {
  std::set<std::string> recall_when_interrupted;  // file names recalled once the backend calls them interrupted
  std::set<std::string> rerecord_when_abnormal;   // file names support lets the candidate re-record
};

// Support staff watching the uploads list on their own thread, as the administrator: files
// named in the policy are recalled once interrupted (once each), abnormal ones are marked for
// re-recording (once each). Stops at destruction.
class UploadDesk {
 public:
  UploadDesk(DemoBackend& backend, UploadPolicy policy);
  ~UploadDesk();
  UploadDesk(const UploadDesk&) = delete;
  UploadDesk& operator=(const UploadDesk&) = delete;

  int recalls() const { return recalls_; }
  int rerecords_allowed() const { return rerecords_allowed_; }
  // The last refused action, for failure messages.
  std::string last_error() const;

 private:
  void Loop();
  void Round();

  std::unique_ptr<exam::v1::UploadService::Stub> uploads_;
  std::string token_;
  int64_t exam_id_;
  UploadPolicy policy_;
  std::set<int64_t> recalled_, rerecorded_;
  std::atomic<int> recalls_{0}, rerecords_allowed_{0};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::string last_error_;
  std::thread thread_;
};

}  // namespace exam::testing
