#pragma once
// Command line of exam-console.
#include <cstdint>
#include <string>
#include <vector>

#include "ui/strings.h"

namespace exam::app {

struct Options {
  // Empty: start the embedded demo backend and simulator.
  std::string backend;
  std::string user;
  std::string password;
  std::string ca_file;  // PEM roots for TLS to the backend

  std::string screenshot;  // write a PNG after `frames` frames and exit
  int frames = 60;
  double online_timeout_s = 60.0;  // screenshot: longest wait for the client to be online
  double delay_s = 0.0;            // screenshot: extra wait once online, so the demo moves

  ui::Lang lang = ui::Lang::kZh;
  std::string workspace = "overview";
  bool open_local_data = false;  // File ▸ Local data… open from the start (screenshots)
  bool audio = false;  // chime on notices (raised hands, in-exam appeals)
  bool frame_stats = false;  // print frame time, event-to-screen and decode figures at exit
  // Benchmarks: leave this many seconds after first being online (0: never), and switch to
  // `switch_workspace` `switch_after_s` seconds after being online (a normal run otherwise:
  // no --screenshot, so redraws are paced as for a person).
  double exit_after_s = 0.0;
  double stats_after_s = 0.0;  // --frame-stats starts counting this long after being online
  double switch_after_s = 0.0;
  std::string switch_workspace;
  // Redraw pacing: frames woken only by new video pictures at most video_fps a second
  // (the tiles' streams are 15 fps); any frame at most max_fps a second (0: the monitor's
  // refresh rate, 60 when unknown). Input and backend events draw at the next frame slot.
  double video_fps = 30.0;
  double max_fps = 0.0;
  std::string store;  // local SQLite store; empty: the default for the user and backend
  int width = 1600;
  int height = 900;

  // Embedded demo only.
  double time_scale = 10.0;
  int candidates = 48;
  uint64_t seed = 1;
  bool simulate = true;
  int review_seconds = 200;

  // Offline review: clip folders, manifests or media files to open without a backend.
  std::vector<std::string> review;
};

enum class ParseResult { kRun, kHelp, kError };

ParseResult ParseOptions(int argc, char** argv, Options* options, std::string* error);
const char* Usage();

}  // namespace exam::app
