#pragma once
// The real examd binary as a child process, for tests and benchmarks that kill it or
// measure it apart from the client. Its log (stderr) goes to a file the port is read from.
#include <sys/types.h>

#include <string>
#include <vector>

#include "backend/server.h"

namespace exam::testing {

// Seeds the demo exam (no finished sitting) into a new database file in-process and closes
// it, so that a real examd can then serve the file. False with *error when it cannot.
bool SeedDemoDatabase(const std::string& db, int candidates, int rooms, backend::DemoInfo* demo, std::string* error);

class ExamdProcess {
 public:
  ExamdProcess(std::string binary, std::string db, std::string log) : binary_(std::move(binary)), db_(std::move(db)), log_(std::move(log)) {}
  ~ExamdProcess() { Kill(9); }
  ExamdProcess(const ExamdProcess&) = delete;
  ExamdProcess& operator=(const ExamdProcess&) = delete;

  // Starts on `port` (0 = any) with `extra` arguments; returns the port it serves on once
  // its "examd serving" line appears, or 0 when it exits or does not serve within 30 s.
  int Start(int port, const std::vector<std::string>& extra = {});
  // Sends `sig` and reaps the process.
  void Kill(int sig);
  pid_t pid() const { return pid_; }
  // Peak resident set (VmHWM) in kB, read from /proc while it runs; 0 when unknown.
  long PeakRssKb() const;

 private:
  std::string binary_, db_, log_;
  pid_t pid_ = -1;
};

}  // namespace exam::testing
