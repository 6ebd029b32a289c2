#include "app/options.h"

#include "ui/panel_registry.h"

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace exam::app {
namespace {

bool ParseNumber(const char* text, double* out) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (end == text || *end != '\0') return false;
  *out = v;
  return true;
}

}  // namespace

const char* Usage() {
  return "usage: exam-console [options]\n"
         "\n"
         "Without --backend, starts a demo backend with simulated candidates on loopback\n"
         "and signs in as the demo administrator.\n"
         "\n"
         "  --backend HOST:PORT   connect to a running exam backend (examd)\n"
         "  --user NAME           staff username (asked for when missing)\n"
         "  --password TEXT       staff password\n"
         "  --ca FILE             PEM root certificates for TLS to the backend\n"
         "  --lang zh|en          interface language (default zh)\n"
         "  --size WxH            window size (default 1600x900)\n"
         "  --screenshot FILE     render, write a PNG of the window and exit\n"
         "  --frames N            frames to render before the screenshot (default 60)\n"
         "  --online-timeout S    screenshot: wait at most S seconds to be online (default 60)\n"
         "  --delay S             screenshot: wait S more seconds once online (default 0)\n"
         "  --time-scale X        demo: backend seconds per real second (default 10)\n"
         "  --candidates N        demo: number of candidates (default 48)\n"
         "  --review-seconds N    demo: length of the finished sitting's recordings (default 200)\n"
         "  --review PATH...      offline review of a clip folder, its manifest.json or media files (no backend)\n"
         "  --seed N              demo: simulator seed (default 1)\n"
         "  --no-simulator        demo: start the backend without simulated candidates\n"
         "  --frame-stats         print frame times, event-to-screen latency and live decode\n"
         "                        counters at exit (benchmarks)\n"
         "  --exit-after S        exit S seconds after first being online (benchmarks)\n"
         "  --stats-after S       --frame-stats counts from S seconds after being online\n"
         "  --switch-workspace S:NAME  switch to workspace NAME S seconds after being online\n"
         "  --video-fps N         redraws for new video pictures alone, at most N/s (default 30)\n"
         "  --max-fps N           any redraw at most N/s (default: the monitor's refresh, or 60)\n"
         "  --audio               chime when a hand is raised or an in-exam appeal arrives\n"
         "  --workspace NAME      first workspace: overview, uploads, appeals, help, live, review (F1–F6), live:focus\n"
         "  --local-data          open File > Local data (what this computer keeps; wipe it)\n"
         "  --store FILE          local store (outbox of actions); default under\n"
         "                        $XDG_DATA_HOME/exam-console/, a temporary file for the demo\n"
         "  --help                show this text\n";
}

ParseResult ParseOptions(int argc, char** argv, Options* o, std::string* error) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&](const char** out) {
      if (i + 1 >= argc) {
        *error = std::string(arg) + " needs a value";
        return false;
      }
      *out = argv[++i];
      return true;
    };
    auto number = [&](double* out) {
      const char* v = nullptr;
      if (!value(&v)) return false;
      if (!ParseNumber(v, out)) {
        *error = std::string(arg) + ": not a number: " + v;
        return false;
      }
      return true;
    };
    const char* v = nullptr;
    double d = 0;
    if (arg == "--help" || arg == "-h") return ParseResult::kHelp;
    if (arg == "--backend") {
      if (!value(&v)) return ParseResult::kError;
      o->backend = v;
    } else if (arg == "--user") {
      if (!value(&v)) return ParseResult::kError;
      o->user = v;
    } else if (arg == "--password") {
      if (!value(&v)) return ParseResult::kError;
      o->password = v;
    } else if (arg == "--ca") {
      if (!value(&v)) return ParseResult::kError;
      o->ca_file = v;
    } else if (arg == "--lang") {
      if (!value(&v)) return ParseResult::kError;
      const std::string_view lang = v;
      if (lang == "zh") {
        o->lang = ui::Lang::kZh;
      } else if (lang == "en") {
        o->lang = ui::Lang::kEn;
      } else {
        *error = "--lang must be zh or en";
        return ParseResult::kError;
      }
    } else if (arg == "--size") {
      if (!value(&v)) return ParseResult::kError;
      if (std::sscanf(v, "%dx%d", &o->width, &o->height) != 2 || o->width < 320 || o->height < 240) {
        *error = "--size must look like 1600x900";
        return ParseResult::kError;
      }
    } else if (arg == "--screenshot") {
      if (!value(&v)) return ParseResult::kError;
      o->screenshot = v;
    } else if (arg == "--frames") {
      if (!number(&d)) return ParseResult::kError;
      o->frames = static_cast<int>(d);
    } else if (arg == "--online-timeout") {
      if (!number(&o->online_timeout_s)) return ParseResult::kError;
    } else if (arg == "--delay") {
      if (!number(&o->delay_s)) return ParseResult::kError;
    } else if (arg == "--time-scale") {
      if (!number(&o->time_scale)) return ParseResult::kError;
      if (o->time_scale <= 0) {
        *error = "--time-scale must be positive";
        return ParseResult::kError;
      }
    } else if (arg == "--candidates") {
      if (!number(&d)) return ParseResult::kError;
      o->candidates = static_cast<int>(d);
    } else if (arg == "--seed") {
      if (!number(&d)) return ParseResult::kError;
      o->seed = static_cast<uint64_t>(d);
    } else if (arg == "--local-data") {
      o->open_local_data = true;
    } else if (arg == "--no-simulator") {
      o->simulate = false;
    } else if (arg == "--frame-stats") {
      o->frame_stats = true;
    } else if (arg == "--exit-after") {
      if (!number(&o->exit_after_s)) return ParseResult::kError;
    } else if (arg == "--stats-after") {
      if (!number(&o->stats_after_s)) return ParseResult::kError;
    } else if (arg == "--switch-workspace") {
      if (!value(&v)) return ParseResult::kError;
      const std::string_view spec = v;
      const size_t colon = spec.find(':');
      const std::string seconds(spec.substr(0, colon == std::string_view::npos ? 0 : colon));
      o->switch_workspace = colon == std::string_view::npos ? "" : std::string(spec.substr(colon + 1));
      if (!ParseNumber(seconds.c_str(), &o->switch_after_s) || o->switch_after_s < 0 || !ui::IsWorkspace(o->switch_workspace)) {
        *error = "--switch-workspace must look like 60:overview";
        return ParseResult::kError;
      }
    } else if (arg == "--video-fps") {
      if (!number(&o->video_fps)) return ParseResult::kError;
      if (o->video_fps <= 0) {
        *error = "--video-fps must be positive";
        return ParseResult::kError;
      }
    } else if (arg == "--max-fps") {
      if (!number(&o->max_fps)) return ParseResult::kError;
      if (o->max_fps < 0) {
        *error = "--max-fps must not be negative";
        return ParseResult::kError;
      }
    } else if (arg == "--audio") {
      o->audio = true;
    } else if (arg == "--workspace") {
      const char* v = nullptr;
      if (!value(&v)) return ParseResult::kError;
      o->workspace = v;
      if (!ui::IsWorkspace(o->workspace)) {
        *error = "--workspace must be overview, uploads, appeals, help, live, live:focus or review";
        return ParseResult::kError;
      }
    } else if (arg == "--review") {
      // Every following argument up to the next option is a path.
      while (i + 1 < argc && std::string_view(argv[i + 1]).rfind("--", 0) != 0) o->review.emplace_back(argv[++i]);
      if (o->review.empty()) {
        *error = "--review needs a clip folder, its manifest.json or media files";
        return ParseResult::kError;
      }
    } else if (arg == "--review-seconds") {
      if (!number(&d)) return ParseResult::kError;
      o->review_seconds = static_cast<int>(d);
    } else if (arg == "--store") {
      const char* v = nullptr;
      if (!value(&v)) return ParseResult::kError;
      o->store = v;
    } else {
      *error = "unknown option " + std::string(arg);
      return ParseResult::kError;
    }
  }
  if (o->frames < 1) o->frames = 1;
  return ParseResult::kRun;
}

}  // namespace exam::app
