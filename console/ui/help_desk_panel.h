#pragma once
// The help desk (求助台) of support staff: every open help request of the exam in the order
// the hands went up (never re-sorted), with live waiting time, who holds it and how long
// the first reply took; the selected request's conversation with quick replies for the
// common problems; claim, reply and resolve-with-a-category, each sent through the outbox
// and shown pending → confirmed / failed. Today's median and p90 time to first response
// sit above the queue. Proctors may follow the queue; only support and admin act on it.
#include <imgui.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "exam/v1/help.pb.h"
#include "net/help_feed.h"
#include "ui/panel.h"

namespace exam::ui {

class HelpDeskPanel : public Panel {
 public:
  HelpDeskPanel() : Panel("help", str::kHelpDeskWorkspace) {}
  ~HelpDeskPanel() override;
  bool InViewMenu() const override { return false; }

 protected:
  void DrawContent(UiContext& ctx) override;
  void Place(const UiContext& ctx) override;
  bool Visible(const UiContext& ctx) const override { return ctx.workspace == "help"; }
  ImGuiWindowFlags Flags() const override;
  // In the background the feed stops polling; it resumes when the workspace is shown.
  void Hidden(UiContext& ctx) override;
  bool Closable() const override { return false; }

 private:
  enum class Filter { kAll, kMine, kUnclaimed };
  // What the user may do here, from the signed-in roles.
  enum class Access { kNone, kReadOnly, kAct };

  // One line of the queue: the freshest copy of the request and its place in raise order.
  struct Row {
    const exam::v1::HelpRequest* request = nullptr;
    int order = 0;  // 1-based position among all open requests of the exam
  };

  // The latest outbox actions on one request, newest first.
  struct ActionSummary {
    int state = -1;  // local::ActionState
    std::string method;
    std::string label;
    std::string error;
    std::string reply_text;  // PostHelpMessage: what was sent
  };

  void EnsureFeed(UiContext& ctx);
  void FollowEvents(UiContext& ctx);
  void RefreshOutboxCache(UiContext& ctx);
  // The request as the feed has it, or the newer copy a confirmed action returned.
  const exam::v1::HelpRequest& Freshest(const exam::v1::HelpRequest& request) const;
  std::vector<Row> BuildRows(UiContext& ctx, const net::HelpView& view, int counts[3]) const;

  void DrawToolbar(UiContext& ctx, const int counts[3], bool act);
  void DrawFigures(const net::HelpView& view);
  void DrawQueue(UiContext& ctx, const net::HelpView& view, const std::vector<Row>& rows, float height);
  void DrawResolvedToday(UiContext& ctx, const net::HelpView& view);
  void DrawDetail(UiContext& ctx, const exam::v1::HelpRequest* request, Access access);
  void DrawThread(UiContext& ctx, const exam::v1::HelpRequest& request, float height);
  void DrawComposer(UiContext& ctx, const exam::v1::HelpRequest& request, bool enabled);
  void DrawActionState(int64_t help_id) const;
  void HandleKeys(UiContext& ctx, const std::vector<Row>& rows, const exam::v1::HelpRequest* selected, Access access);

  void Claim(UiContext& ctx, const exam::v1::HelpRequest& request);
  void SendReply(UiContext& ctx, const exam::v1::HelpRequest& request);
  void Resolve(UiContext& ctx, const exam::v1::HelpRequest& request);
  void Enqueue(UiContext& ctx, const char* method, const google::protobuf::Message& request, const std::string& label,
               int64_t help_id);
  // "#12 张三" for labels and headings.
  std::string Who(const UiContext& ctx, const exam::v1::HelpRequest& request) const;
  bool Mine(const UiContext& ctx, const exam::v1::HelpRequest& request) const;
  int CategoryOf(const exam::v1::HelpRequest& request);

  void Stop() override;

  std::unique_ptr<net::HelpFeed> feed_;
  uint64_t glyphs_seen_version_ = 0;
  int64_t exam_id_ = 0;
  int64_t room_id_ = 0;
  Filter filter_ = Filter::kAll;
  int64_t selected_ = 0;
  bool auto_selected_ = false;
  bool scroll_to_selected_ = false;
  bool show_resolved_ = false;

  char reply_[1024] = "";
  bool focus_reply_ = false;
  int64_t reply_for_ = 0;  // the request the text in reply_ was written for
  std::unordered_map<int64_t, std::string> drafts_;  // unsent replies of the other requests
  std::unordered_map<int64_t, int> category_by_help_;  // index into the category table

  float bottom_h_ = 0.0f;  // height of what sits under the thread, measured each frame
  int64_t thread_seen_id_ = 0;
  int thread_seen_lines_ = -1;
  int64_t events_seen_seq_ = -1;

  uint64_t outbox_seen_version_ = UINT64_MAX;
  std::unordered_map<int64_t, std::vector<ActionSummary>> actions_by_help_;
  std::unordered_map<int64_t, exam::v1::HelpRequest> confirmed_;  // newest confirmed answer per request
};

}  // namespace exam::ui
