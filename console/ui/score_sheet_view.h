#pragma once
// The grader's score sheet (评分表) and notes (批注) for one session. Scores and notes go
// through the outbox with their own idempotency keys: what was typed is kept in the local
// store until the backend confirmed it, and each row shows pending → confirmed / failed.
// Blind: nothing here knows the candidate beyond the session id and draw number.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/review_timeline.h"
#include "exam/v1/review.pb.h"
#include "net/review_feed.h"
#include "ui/ui_context.h"

namespace exam::ui {

class ScoreSheetView {
 public:
  // Draws the sheet for `session_id`; `playhead_utc_us` is where a new note goes. Returns
  // the session time of a note the grader clicked (to seek there), or -1.
  core::Micros Draw(UiContext& ctx, int64_t session_id, const exam::v1::Rubric& rubric,
                    const net::ReviewSessionView& session, core::Micros origin_utc_us, core::Micros playhead_us);
  // M: the note field takes the keyboard at the next draw.
  void FocusNote() { focus_note_ = true; }

 private:
  struct Draft {
    float score = 0.0f;
    char comment[256] = {0};
    bool touched = false;  // typed into since the last save (else follows the stored score)
  };
  struct ActionRow {
    int state = -1;  // local::ActionState
    std::string label;
    std::string error;
    std::string request;
  };
  void Reload(UiContext& ctx, int64_t session_id, const exam::v1::Rubric& rubric);

  int64_t session_id_ = 0;
  uint64_t seen_outbox_version_ = UINT64_MAX;
  int seen_rubric_items_ = -1;
  std::map<int, Draft> drafts_;                // by question
  std::map<int, ActionRow> score_actions_;     // newest per question
  std::vector<ActionRow> note_actions_;        // unconfirmed notes, newest first
  char note_[512] = {0};
  bool focus_note_ = false;
};

}  // namespace exam::ui
