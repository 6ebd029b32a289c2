#pragma once
// Support's appeal desk (人工审核) for one exam: lists every appeal of the exam (decided ones
// too, for the SLA figures) on its own thread, every few seconds and at once when asked;
// fetches the appeal under review with its photos and decodes them off the UI thread; and
// keeps the reviewer's lease on that appeal: claimed when it is opened, renewed well before
// it runs out while it stays on screen, released when the reviewer moves on.
//
// Lease calls are made directly from the feed's thread: they are not decisions, and queued
// in the outbox they would pile up behind each other. Decisions go through the outbox; the
// feed only says which version to decide on (BeginDecision) and then leaves the lease to the
// decision, which drops it on the backend.
//
// Everything the UI reads is an immutable snapshot (View()); no call here blocks.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/appeal_sla.h"
#include "exam/v1/appeal.pb.h"

namespace exam::net {

class BackendClient;

// One photo of an appeal, decoded on the feed's thread. RGBA8, rows top to bottom.
struct AppealPhoto {
  size_t bytes = 0;  // size of the encoded image the backend sent; 0: none was sent
  int width = 0;
  int height = 0;
  std::shared_ptr<const std::vector<uint8_t>> rgba;  // null until decoded, or when it could not be
  std::string error;                                 // why it could not be decoded

  bool present() const { return bytes > 0; }
  bool decoded() const { return rgba != nullptr; }
};

// Decodes JPEG/PNG `bytes` into *out (width, height, rgba), or sets out->error. Runs on the
// feed's thread; must not touch GL or ImGui.
using PhotoDecoder = std::function<void(std::string_view bytes, AppealPhoto* out)>;

// Where the reviewer's lease on the open appeal stands.
enum class LeaseState {
  kNone,         // nothing open
  kClaiming,     // the first claim is in flight
  kHeld,         // ours; renewed while the review stays on screen
  kHeldByOther,  // refused: another staff member holds it (lease_holder says who); claimed
                 // as soon as the list shows it free
  kHandedOver,   // a decision went to the outbox with our version: no renewal, no release
  kPaused,       // not on screen for a while: released, claimed again once shown
  kClosed,       // decided: nothing to hold
  kError,        // the claim failed for another reason (lease_message); retried with the list
};

std::string_view LeaseStateName(LeaseState state);

// The appeal under review.
struct AppealReview {
  int64_t appeal_id = 0;
  bool loaded = false;  // details (photos, captures) fetched
  std::string error;    // last failure to fetch them
  // Metadata kept fresh from the lease answers and the list; photo and capture bytes are
  // cleared here (they live decoded in the fields below).
  exam::v1::Appeal appeal;
  AppealPhoto registration_photo;
  AppealPhoto id_front;
  AppealPhoto id_back;
  AppealPhoto handheld_id;
  std::vector<AppealPhoto> captures;  // same order as appeal.captures()

  LeaseState lease = LeaseState::kNone;
  std::string lease_holder;      // who holds it when it is not us
  std::string lease_message;     // the backend's words when a lease call was refused or failed
  int64_t lease_expires_ms = 0;  // backend clock; 0 when we hold none
  int renewals = 0;              // successful renewals since it was opened
};

struct AppealsView {
  int64_t exam_id = 0;
  bool loaded = false;   // at least one list answer for this exam
  bool loading = false;  // a list call is in flight
  std::string error;     // last list failure (the appeals shown are from the last success)
  // Every appeal of the exam, decided ones too, earliest deadline first; no photos.
  std::vector<exam::v1::Appeal> appeals;
  int64_t fetched_at_backend_ms = 0;
  uint64_t version = 0;  // grows with every published change
  // The appeal open for review; null when none.
  std::shared_ptr<const AppealReview> review;
};

// What BeginDecision found.
enum class DecisionGate {
  kReady,    // decide with *expected_version; the lease is now left to the decision
  kBusy,     // a lease call is in flight: ask again next frame
  kNotHeld,  // we do not hold the lease (someone else does, or it lapsed)
  kNotOpen,  // that appeal is not the one under review
};

class AppealFeed {
 public:
  struct Options {
    std::chrono::milliseconds refresh_every{2000};
    std::chrono::milliseconds call_timeout{5000};
    // A held lease is renewed once this fraction of it has passed (backend clock, or real
    // time scaled by the backend's time scale, whichever comes first).
    double renew_after = 0.4;
    // An open review nobody looked at (no Open() call) for this long gives its lease back,
    // so a reviewer who switched workspaces does not hold the appeal; 0: never.
    std::chrono::milliseconds release_unseen_after{20000};
    // Decodes the photos; null: photos are not decoded (their sizes are still reported).
    PhotoDecoder decode;
    // Called after each published change (on the feed's thread; on the caller's for
    // BeginDecision); must be cheap and thread-safe.
    std::function<void()> on_change;
  };

  AppealFeed(BackendClient& client, Options options);
  ~AppealFeed();  // Stop()s
  AppealFeed(const AppealFeed&) = delete;
  AppealFeed& operator=(const AppealFeed&) = delete;

  // Which exam's appeals to list (0: none).
  void Watch(int64_t exam_id);
  // The appeal on screen for review (0: none). Call it every frame the review is shown:
  // a different id releases the previous lease (unless a decision took it over) and claims
  // this one; the same id only notes that the review is still being looked at.
  void Open(int64_t appeal_id);
  void Close() { Open(0); }
  // Claims the open appeal again and fetches it afresh (after a decision was refused, or to
  // try a lease held by someone else again).
  void Reload();
  // List now rather than at the next period (after a decision was confirmed, say).
  void RefreshNow();
  // Before enqueuing a decision on `appeal_id`: the version to send, given the version the
  // reviewer saw. Our own renewals bump the version without changing what was seen, so
  // they are accounted for; anything else that changed makes the decision stale, as it
  // should. On kReady the lease is handed over to the decision (no renewal, no release).
  DecisionGate BeginDecision(int64_t appeal_id, int64_t seen_version, int64_t* expected_version);
  // Gives the lease back (when held) and joins the thread. Idempotent.
  void Stop();

  std::shared_ptr<const AppealsView> View() const;

 private:
  void Run();
  void Publish(const std::function<void(AppealsView&)>& change);
  void PublishReview(const std::function<void(AppealReview&)>& change);

  BackendClient& client_;
  Options options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool refresh_ = false;
  bool reload_ = false;
  int64_t exam_id_ = 0;
  int64_t wanted_appeal_ = 0;
  std::chrono::steady_clock::time_point last_seen_{};
  // The lease as the UI thread may look at it (BeginDecision); written by the feed's thread.
  int64_t lease_appeal_ = 0;
  LeaseState lease_state_ = LeaseState::kNone;
  bool lease_call_in_flight_ = false;
  int64_t content_version_ = 0;  // version when the reviewer's content was last fetched
  int64_t lease_version_ = 0;    // version after our own last lease call
  std::shared_ptr<const AppealsView> view_ = std::make_shared<AppealsView>();
  std::thread thread_;
};

// ---- the queue as support sees it: plain data, no UI ---------------------------------------

// Whether an appeal was filed once the exam had started (30 min SLA) rather than before (2 h).
bool FiledDuringExam(const exam::v1::Appeal& appeal);

enum class AppealPhase { kAll, kPreExam, kInExam };

struct AppealQueueQuery {
  int64_t room_id = 0;  // 0: every room
  AppealPhase phase = AppealPhase::kAll;
  bool mine_only = false;  // only appeals whose lease `me` holds
  std::string_view me;     // the signed-in staff member's display name
};

struct AppealQueueRow {
  const exam::v1::Appeal* appeal = nullptr;  // points into the list the queue was built from
  core::AppealUrgency urgency = core::AppealUrgency::kComfortable;
  int64_t left_ms = 0;  // negative once breached
  bool in_exam = false;
};

struct AppealQueue {
  std::vector<AppealQueueRow> rows;  // open appeals matching the query, least time left first
  int open = 0;                      // over every open appeal, before the query
  int breached = 0;
  int mine = 0;
};

AppealQueue BuildAppealQueue(const std::vector<exam::v1::Appeal>& appeals, int64_t now_ms,
                             const AppealQueueQuery& query);

// The SLA figures over the appeals filed on the (local) day that contains `now_ms`.
core::AppealSlaStats AppealSlaToday(const std::vector<exam::v1::Appeal>& appeals, int64_t now_ms);
// Local midnight at or before `unix_ms`.
int64_t LocalDayStartMs(int64_t unix_ms);

}  // namespace exam::net
