#pragma once
// Support's upload recovery workspace: every recording of the exam that is not in yet,
// grouped by what needs doing first (at risk of the deadline, stuck, device offline,
// abnormal), with progress, rate, ETA and deadline countdown per file, the file's history,
// and the recovery actions (recall, extend the deadline, mark abnormal / allow a re-record,
// note a contact), each sent through the outbox and shown pending → confirmed / failed.
#include <imgui.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "net/upload_board.h"
#include "net/upload_monitor.h"
#include "ui/panel.h"

namespace exam::ui {

class UploadsPanel : public Panel {
 public:
  UploadsPanel() : Panel("uploads", str::kUploads) {}
  bool InViewMenu() const override { return false; }

 protected:
  void DrawContent(UiContext& ctx) override;
  void Place(const UiContext& ctx) override;
  bool Visible(const UiContext& ctx) const override { return ctx.workspace == "uploads"; }
  ImGuiWindowFlags Flags() const override;
  // In the background the feed stops polling; it resumes when the workspace is shown.
  void Hidden(UiContext& ctx) override;
  bool Closable() const override { return false; }

 private:
  enum class Dialog { kNone, kExtend, kAbnormal, kContact };

  void DrawToolbar(UiContext& ctx);
  void DrawSummary(const net::UploadCounts& counts);
  void DrawTable(UiContext& ctx, const net::UploadBoard& board);
  void DrawRow(UiContext& ctx, const net::UploadBoardRow& row);
  void DrawDetail(UiContext& ctx, const exam::v1::UploadFile* file);
  void DrawDialog(UiContext& ctx, const exam::v1::UploadFile& file);
  void HandleKeys(UiContext& ctx, const net::UploadBoard& board);
  void Enqueue(UiContext& ctx, const char* method, const google::protobuf::Message& request, const std::string& label,
               int64_t file_id);
  // The newest outbox action on a file, as a short coloured status; empty when none.
  void DrawActionState(const UiContext& ctx, int64_t file_id);
  void RefreshOutboxCache(const UiContext& ctx);
  bool RerecordPermitted(const UiContext& ctx) const;

  int64_t exam_id_ = 0;
  int64_t room_id_ = 0;
  char search_[64] = "";
  bool include_complete_ = false;
  bool focus_search_ = false;
  int64_t selected_file_ = 0;
  bool auto_selected_ = false;
  bool scroll_to_selected_ = false;
  Dialog dialog_ = Dialog::kNone;
  bool dialog_opened_ = false;
  int extend_minutes_ = 30;
  char reason_[256] = "";
  bool allow_rerecord_ = false;
  std::string dialog_error_;

  struct ActionSummary {
    int state = -1;  // local::ActionState, -1 none
    std::string label;
    std::string error;
  };
  uint64_t outbox_seen_version_ = UINT64_MAX;
  std::unordered_map<int64_t, ActionSummary> action_by_file_;
  std::shared_ptr<const net::UploadsView> confirmed_refresh_view_;
};

}  // namespace exam::ui
