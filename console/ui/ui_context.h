#pragma once
// What every panel gets each frame: the data to draw (read once per frame from the
// BackendClient) and the frame's layout. Panels never call the backend themselves.
#include <imgui.h>

#include <cstdint>
#include <memory>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "net/backend_client.h"
#include "net/directory_snapshot.h"

namespace exam::local {
class LocalData;
class Outbox;
}
namespace exam::net {
class NoticeTracker;
class UploadMonitor;
}

namespace exam::ui {

struct UiContext {
  // Commands only (SignIn, DropStream); reads go through the fields below.
  net::BackendClient* client = nullptr;
  std::shared_ptr<const net::DirectorySnapshot> snapshot;
  net::ConnectionStatus status;
  // Backend clock now (unix ms) for countdowns; 0 while unknown.
  int64_t backend_now_ms = 0;
  // Staff actions go here (sent by the outbox sender); null in tools without one.
  local::Outbox* outbox = nullptr;
  // Grows whenever an outbox action changed state, so panels re-read it only then.
  uint64_t outbox_version = 0;
  // What this computer keeps (outbox, recording cache): its survey, wipe and the shared
  // block cache; null in tools without one.
  local::LocalData* local_data = nullptr;
  // Support's uploads feed (polled on its own thread); null when not running.
  net::UploadMonitor* uploads = nullptr;
  // What must not be missed (raised hands, in-exam appeals, escalations), fed from the
  // change feed by the app; drawn over every workspace.
  net::NoticeTracker* notices = nullptr;
  // A notice's "Open": the request or appeal its workspace should select (0: none); the
  // workspace clears it once it has done so.
  int64_t focus_help_id = 0;
  int64_t focus_appeal_id = 0;
  // The live wall's H: the help desk selects this session's open request.
  int64_t focus_help_session = 0;
  // Text from the backend (messages, reasons) a panel is about to show: the app adds its
  // characters to the font atlas (rare Chinese characters are not in it up front).
  std::function<void(std::string_view)> want_glyphs;
  // A decoder thread published a new picture for the screen: the app paces these redraws
  // (any thread, cheap). Null: wake the UI at once.
  std::function<void()> video_frame_ready;
  // Offline review (--review PATH…): a clip folder, its manifest or media files to open in the
  // review workspace without a backend. Empty: review works against the backend.
  std::vector<std::string> offline_review;
  // Which full-size workspace fills the work area: "overview", "uploads".
  std::string workspace = "overview";
  // Room picked in the overview (0: all), shared with other panels.
  int64_t selected_room = 0;
  // Area between the menu bar and the status bar.
  ImVec2 work_pos{0, 0};
  ImVec2 work_size{0, 0};
  // Strip under the work area for the event log (zero height when it is closed).
  ImVec2 bottom_pos{0, 0};
  ImVec2 bottom_size{0, 0};
  ImFont* large_font = nullptr;
  // Set by the menu; the app leaves its loop.
  bool quit_requested = false;
  // Set by the menu: show the login panel even while signed in.
  bool login_requested = false;
};

}  // namespace exam::ui
