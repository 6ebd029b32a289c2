#pragma once
// A real ExamServer on loopback with a fresh SQLite file per test, and typed stubs that
// carry a staff or device token.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "backend/server.h"
#include "temp_dir.h"
#include "exam/v1/appeal.grpc.pb.h"
#include "exam/v1/audit.grpc.pb.h"
#include "exam/v1/auth.grpc.pb.h"
#include "exam/v1/candidate.grpc.pb.h"
#include "exam/v1/event.grpc.pb.h"
#include "exam/v1/exam.grpc.pb.h"
#include "exam/v1/help.grpc.pb.h"
#include "exam/v1/live.grpc.pb.h"

namespace exam::testing {


// Polls `done` until it holds or `timeout` passes; returns whether it held. Used instead of
// sleeping: the condition is the synchronisation.
bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Hex sha256 of `data`, and reproducible pseudo-random content for uploads.
std::string Sha256Hex(std::string_view data);
std::string RandomBytes(size_t n, uint32_t seed);

class BackendFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Starts (or restarts, on the same file) the server with `options` adjusted by Configure().
  void StartServer();
  void StopServer();
  virtual void Configure(backend::ServerOptions& options) {}

  std::shared_ptr<grpc::Channel> Channel();
  std::string Login(const std::string& user, const std::string& password = "demo");
  // A context carrying the bearer token, with a deadline.
  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token, std::chrono::seconds deadline = std::chrono::seconds(10));

  struct Device {
    std::string token;
    int64_t session_id = 0;
    exam::v1::Exam exam;
  };
  Device JoinCandidate(int index, exam::v1::DeviceKind device = exam::v1::DEVICE_KIND_LAPTOP);
  // Reports stages up to and including `stage`, passing face login with a good check.
  void Advance(const Device& d, exam::v1::Stage stage);
  grpc::Status ReportStage(const Device& d, exam::v1::Stage stage, exam::v1::Session* out = nullptr);
  // Moves the backend's clock to `t` (forward only).
  void AdvanceClockTo(core::TimePoint t);
  core::TimePoint ExamStart(const Device& d) const;
  // Takes the candidate through entry (moving the clock to the exam's start) to answering.
  void StartAnswering(const Device& d);

  TempDir dir_;
  backend::ServerOptions options_;
  std::unique_ptr<backend::ExamServer> server_;
  int key_counter_ = 0;
  std::string Key() { return "k-" + std::to_string(++key_counter_); }
};

}  // namespace exam::testing
