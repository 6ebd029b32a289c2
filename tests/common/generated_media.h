#pragma once
// Test recordings made with the ffmpeg CLI once per build and shared by the many test
// processes CTest starts: a set is made in a private folder and renamed into place, so a
// process either finds the finished set or makes its own and drops it when another process
// won the race.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "temp_dir.h"

namespace exam::testing {

// Runs `ffmpeg … args` quietly; false with the command in *why when it fails.
inline bool RunFfmpeg(const std::string& args, std::string* why) {
  const std::string cmd = "ffmpeg -nostdin -hide_banner -loglevel error -y " + args + " 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    *why = "ffmpeg failed: " + cmd;
    return false;
  }
  return true;
}

class GeneratedMediaSet {
 public:
  // `shared`: where the finished set lives (EXAM_TEST_MEDIA_DIR); `name`: its folder name
  // while it is being made.
  GeneratedMediaSet(std::filesystem::path shared, const std::string& name)
      : shared_(std::move(shared)), ready_(std::filesystem::exists(shared_ / "complete")) {
    dir_ = ready_ ? shared_ : work_.path() / name;
    std::filesystem::create_directories(dir_);
  }

  // ffmpeg is there to make the set (or the set is already made).
  bool Usable(std::string* why) const {
    if (ready_ || std::system("ffmpeg -version >/dev/null 2>&1") == 0) return true;
    *why = "the ffmpeg command is not installed";
    return false;
  }
  // The shared set is complete: read it, make nothing.
  bool ready() const { return ready_; }
  std::string File(const std::string& name) const { return (dir_ / name).string(); }

  // Marks the set complete and moves it into place; true also when another process put
  // its copy there first. The caller then opens the set again to point at the shared copy.
  bool Publish(std::string* why) {
    std::ofstream(dir_ / "complete").close();
    std::error_code ec;
    std::filesystem::create_directories(shared_.parent_path(), ec);
    std::filesystem::rename(dir_, shared_, ec);
    if (ec && !std::filesystem::exists(shared_ / "complete")) {
      *why = "cannot move the test recordings to " + shared_.string() + ": " + ec.message();
      return false;
    }
    return true;
  }

 private:
  std::filesystem::path shared_;
  bool ready_;
  TempDir work_;
  std::filesystem::path dir_;
};

}  // namespace exam::testing
