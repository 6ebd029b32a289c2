#include "examd_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "backend_fixture.h"

namespace exam::testing {

bool SeedDemoDatabase(const std::string& db, int candidates, int rooms, backend::DemoInfo* demo, std::string* error) {
  backend::ServerOptions o;
  o.db_path = db;
  o.demo_candidates = candidates;
  o.demo_rooms = rooms;
  o.demo_review_sessions = 0;
  auto server = backend::ExamServer::Start(o, error);
  if (!server) return false;
  if (demo != nullptr) *demo = server->demo();
  server->Shutdown();
  return true;
}

int ExamdProcess::Start(int port, const std::vector<std::string>& extra) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(log_, ec);
  const std::streamoff log_offset = ec ? 0 : static_cast<std::streamoff>(size);
  std::vector<std::string> args = {binary_, "--db", db_, "--listen", "127.0.0.1:" + std::to_string(port)};
  args.insert(args.end(), extra.begin(), extra.end());
  pid_ = fork();
  if (pid_ == 0) {
    const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(binary_.c_str(), argv.data());
    _exit(127);
  }
  int found = 0;
  // The child logs its port once it serves: that line is what we wait for.
  WaitFor([&] {
    std::ifstream in(log_);
    in.seekg(log_offset);
    std::string line;
    static const std::regex re(R"(msg="examd serving".* port=(\d+))");
    std::smatch m;
    while (std::getline(in, line))
      if (std::regex_search(line, m, re)) found = std::stoi(m[1]);
    return found != 0 || waitpid(pid_, nullptr, WNOHANG) != 0;
  }, std::chrono::seconds(30));
  return found;
}

void ExamdProcess::Kill(int sig) {
  if (pid_ <= 0) return;
  ::kill(pid_, sig);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

long ExamdProcess::PeakRssKb() const {
  if (pid_ <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string key;
  long value = 0;
  while (in >> key) {
    if (key == "VmHWM:") {
      in >> value;
      return value;
    }
    in.ignore(1 << 16, '\n');
  }
  return 0;
}

}  // namespace exam::testing
