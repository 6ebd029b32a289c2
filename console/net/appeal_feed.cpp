#include "net/appeal_feed.h"

#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <climits>
#include <ctime>
#include <random>

#include "exam/v1/appeal.grpc.pb.h"
#include "net/backend_client.h"

namespace exam::net {

namespace v1 = exam::v1;
using google::protobuf::util::TimeUtil;
using Steady = std::chrono::steady_clock;

namespace {

// What a claim assumes when the backend clock is not known yet (the backend's default).
constexpr int64_t kAssumedLeaseMs = 5 * 60 * 1000;

int64_t Ms(const google::protobuf::Timestamp& t) { return TimeUtil::TimestampToMilliseconds(t); }

std::string NewKey() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* kHex = "0123456789abcdef";
  std::string key(32, '0');
  for (int i = 0; i < 2; ++i) {
    uint64_t v = rng();
    for (int k = 0; k < 16; ++k, v >>= 4) key[static_cast<size_t>(i * 16 + k)] = kHex[v & 15];
  }
  return key;
}

// The fields that change after filing (state, lease, decision), from a lease answer or a
// list entry, leaving the photos and captures of the detail alone.
void MergeMeta(const v1::Appeal& from, v1::Appeal* to) {
  to->set_state(from.state());
  to->set_version(from.version());
  to->set_claimed_by(from.claimed_by());
  if (from.has_lease_expires_at()) *to->mutable_lease_expires_at() = from.lease_expires_at();
  else to->clear_lease_expires_at();
  to->set_decided_by(from.decided_by());
  if (from.has_decided_at()) *to->mutable_decided_at() = from.decided_at();
  to->set_reason(from.reason());
}

// "appeal is being reviewed by 技术支持 王工" → "技术支持 王工".
std::string HolderFromMessage(const std::string& message) {
  static const std::string kBy = " by ";
  const auto at = message.rfind(kBy);
  return at == std::string::npos ? std::string() : message.substr(at + kBy.size());
}

std::string Describe(const grpc::Status& status) {
  return status.error_message().empty() ? "cannot reach the backend" : status.error_message();
}

}  // namespace

std::string_view LeaseStateName(LeaseState state) {
  switch (state) {
    case LeaseState::kNone: return "none";
    case LeaseState::kClaiming: return "claiming";
    case LeaseState::kHeld: return "held";
    case LeaseState::kHeldByOther: return "held by another";
    case LeaseState::kHandedOver: return "handed over to a decision";
    case LeaseState::kPaused: return "paused";
    case LeaseState::kClosed: return "closed";
    case LeaseState::kError: return "error";
  }
  return "?";
}

AppealFeed::AppealFeed(BackendClient& client, Options options)
    : client_(client), options_(std::move(options)), last_seen_(Steady::now()), thread_([this] { Run(); }) {}

AppealFeed::~AppealFeed() { Stop(); }

void AppealFeed::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AppealFeed::Watch(int64_t exam_id) {
  {
    std::lock_guard lock(mu_);
    if (exam_id_ == exam_id) return;
    exam_id_ = exam_id;
    refresh_ = true;
  }
  wake_.notify_all();
}

void AppealFeed::Open(int64_t appeal_id) {
  {
    std::lock_guard lock(mu_);
    last_seen_ = Steady::now();
    if (wanted_appeal_ == appeal_id) {
      // Shown again after a pause: the thread claims it back at once.
      if (lease_state_ != LeaseState::kPaused) return;
    }
    wanted_appeal_ = appeal_id;
  }
  wake_.notify_all();
}

void AppealFeed::Reload() {
  {
    std::lock_guard lock(mu_);
    reload_ = true;
  }
  wake_.notify_all();
}

void AppealFeed::RefreshNow() {
  {
    std::lock_guard lock(mu_);
    refresh_ = true;
  }
  wake_.notify_all();
}

DecisionGate AppealFeed::BeginDecision(int64_t appeal_id, int64_t seen_version, int64_t* expected_version) {
  {
    std::lock_guard lock(mu_);
    if (appeal_id == 0 || lease_appeal_ != appeal_id || wanted_appeal_ != appeal_id) return DecisionGate::kNotOpen;
    if (lease_call_in_flight_) return DecisionGate::kBusy;
    if (lease_state_ != LeaseState::kHeld) return DecisionGate::kNotHeld;
    // Seen the current content: our own renewals since then do not make it stale.
    *expected_version = seen_version >= content_version_ ? lease_version_ : seen_version;
    lease_state_ = LeaseState::kHandedOver;
  }
  PublishReview([&](AppealReview& r) {
    if (r.appeal_id == appeal_id) r.lease = LeaseState::kHandedOver;
  });
  return DecisionGate::kReady;
}

std::shared_ptr<const AppealsView> AppealFeed::View() const {
  std::lock_guard lock(mu_);
  return view_;
}

void AppealFeed::Publish(const std::function<void(AppealsView&)>& change) {
  {
    std::lock_guard lock(mu_);
    auto next = std::make_shared<AppealsView>(*view_);
    change(*next);
    ++next->version;
    view_ = std::move(next);
  }
  if (options_.on_change) options_.on_change();
}

void AppealFeed::PublishReview(const std::function<void(AppealReview&)>& change) {
  Publish([&](AppealsView& v) {
    if (!v.review) return;
    auto next = std::make_shared<AppealReview>(*v.review);
    change(*next);
    v.review = std::move(next);
  });
}

void AppealFeed::Run() {
  auto stub = v1::AppealService::NewStub(client_.Channel());
  std::string token;
  auto context = [&](std::chrono::milliseconds timeout) {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(std::chrono::system_clock::now() + timeout);
    c->AddMetadata("authorization", "Bearer " + token);
    return c;
  };

  // The thread's own view of the review; the fields under mu_ mirror what BeginDecision needs.
  int64_t current = 0;
  int64_t listed_exam = -1;
  Steady::time_point next_list = Steady::now();
  Steady::time_point renew_due = Steady::time_point::max();
  int64_t renew_due_backend = INT64_MAX;

  auto lease_state = [&] {
    std::lock_guard lock(mu_);
    return lease_state_;
  };
  // ClaimAppeal for `current`: a first claim or a renewal. Returns whether we hold it.
  auto claim = [&]() -> bool {
    bool renewal = false;
    {
      std::lock_guard lock(mu_);
      renewal = lease_appeal_ == current && lease_state_ == LeaseState::kHeld;
      lease_appeal_ = current;
      lease_call_in_flight_ = true;
    }
    v1::ClaimAppealRequest req;
    req.set_idempotency_key(NewKey());
    req.set_appeal_id(current);
    v1::Appeal resp;
    const grpc::Status status = stub->ClaimAppeal(context(options_.call_timeout).get(), req, &resp);
    const int64_t backend_now = client_.BackendNowUnixMs();
    LeaseState state;
    {
      std::lock_guard lock(mu_);
      lease_call_in_flight_ = false;
      if (status.ok()) {
        // A renewal that bumped the version by exactly one changed nothing the reviewer sees.
        if (!(renewal && resp.version() == lease_version_ + 1)) content_version_ = resp.version();
        lease_version_ = resp.version();
        lease_state_ = LeaseState::kHeld;
      } else if (status.error_code() == grpc::StatusCode::ABORTED) {
        lease_state_ = LeaseState::kHeldByOther;
      } else if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
        lease_state_ = LeaseState::kClosed;
      } else if (!renewal) {
        lease_state_ = LeaseState::kError;
      }
      // A renewal that failed in transit keeps the lease we have until it runs out.
      state = lease_state_;
    }
    renew_due = Steady::time_point::max();
    renew_due_backend = INT64_MAX;
    if (status.ok()) {
      const int64_t expires = Ms(resp.lease_expires_at());
      const int64_t total = backend_now > 0 && expires > backend_now ? expires - backend_now : kAssumedLeaseMs;
      const auto wait_backend = static_cast<int64_t>(static_cast<double>(total) * options_.renew_after);
      const double scale = std::max(1e-3, client_.Status().time_scale);
      renew_due = Steady::now() + std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(wait_backend) / scale));
      if (backend_now > 0) renew_due_backend = backend_now + wait_backend;
    } else if (renewal && state == LeaseState::kHeld) {
      renew_due = Steady::now() + std::chrono::seconds(1);  // try again soon, the lease still runs
    }
    const int64_t id = current;
    PublishReview([&](AppealReview& r) {
      if (r.appeal_id != id) return;
      r.lease = state;
      if (status.ok()) {
        MergeMeta(resp, &r.appeal);
        r.lease_holder.clear();
        r.lease_message.clear();
        r.lease_expires_ms = Ms(resp.lease_expires_at());
        if (renewal) ++r.renewals;
      } else {
        r.lease_message = Describe(status);
        if (state == LeaseState::kHeldByOther) {
          const std::string holder = HolderFromMessage(status.error_message());
          if (!holder.empty()) r.lease_holder = holder;
          r.lease_expires_ms = 0;
        }
      }
    });
    return status.ok();
  };

  // ReleaseAppeal; `after` is the lease state once it is done (set with the same lock that
  // ends the call, so BeginDecision never sees a lease that is being given back as held).
  auto release = [&](int64_t id, std::chrono::milliseconds timeout, LeaseState after) {
    {
      std::lock_guard lock(mu_);
      lease_call_in_flight_ = true;
    }
    v1::ReleaseAppealRequest req;
    req.set_idempotency_key(NewKey());
    req.set_appeal_id(id);
    v1::Appeal resp;
    const grpc::Status status = stub->ReleaseAppeal(context(timeout).get(), req, &resp);
    {
      std::lock_guard lock(mu_);
      lease_call_in_flight_ = false;
      lease_state_ = after;
      if (status.ok()) lease_version_ = resp.version();
    }
    renew_due = Steady::time_point::max();
    renew_due_backend = INT64_MAX;
    return status;
  };

  // GetAppeal with photos for `current`, decoded here so the UI only uploads pixels.
  auto fetch_detail = [&] {
    v1::GetAppealRequest req;
    req.set_appeal_id(current);
    v1::Appeal detail;
    const grpc::Status status = stub->GetAppeal(context(options_.call_timeout).get(), req, &detail);
    const int64_t id = current;
    if (!status.ok()) {
      PublishReview([&](AppealReview& r) {
        if (r.appeal_id == id) r.error = Describe(status);
      });
      return;
    }
    auto take = [&](std::string* bytes, AppealPhoto* photo) {
      photo->bytes = bytes->size();
      if (!bytes->empty() && options_.decode) options_.decode(*bytes, photo);
      bytes->clear();
      bytes->shrink_to_fit();
    };
    AppealReview got;
    take(detail.mutable_registration_photo(), &got.registration_photo);
    take(detail.mutable_id_front(), &got.id_front);
    take(detail.mutable_id_back(), &got.id_back);
    take(detail.mutable_handheld_id(), &got.handheld_id);
    for (auto& c : *detail.mutable_captures()) take(c.mutable_image(), &got.captures.emplace_back());
    {
      std::lock_guard lock(mu_);
      // Changed between the claim and this read: what is on screen now is this version.
      if (lease_appeal_ == id && detail.version() > lease_version_) content_version_ = lease_version_ = detail.version();
    }
    PublishReview([&](AppealReview& r) {
      if (r.appeal_id != id) return;
      const LeaseState lease = r.lease;
      const int64_t expires = r.lease_expires_ms;
      const int renewals = r.renewals;
      const std::string holder = detail.claimed_by().empty() ? r.lease_holder : detail.claimed_by();
      const std::string message = r.lease_message;
      const int64_t newer_version = std::max(r.appeal.version(), detail.version());
      const v1::Appeal meta = r.appeal;
      r = std::move(got);
      r.appeal_id = id;
      r.loaded = true;
      r.appeal = std::move(detail);
      // A lease answer newer than this read keeps its fields.
      if (meta.version() > r.appeal.version()) MergeMeta(meta, &r.appeal);
      r.appeal.set_version(newer_version);
      r.lease = lease;
      r.lease_expires_ms = expires;
      r.renewals = renewals;
      r.lease_holder = lease == LeaseState::kHeld ? std::string() : holder;
      r.lease_message = message;
    });
  };

  // Opens `id` for review: a fresh review, claimed, then its details.
  auto open = [&](int64_t id) {
    current = id;
    {
      std::lock_guard lock(mu_);
      lease_appeal_ = id;
      lease_state_ = id == 0 ? LeaseState::kNone : LeaseState::kClaiming;
      content_version_ = lease_version_ = 0;
    }
    Publish([&](AppealsView& v) {
      if (id == 0) {
        v.review.reset();
        return;
      }
      auto r = std::make_shared<AppealReview>();
      r->appeal_id = id;
      r->lease = LeaseState::kClaiming;
      // Whatever the list knows, so the header shows at once.
      for (const auto& a : v.appeals)
        if (a.id() == id) r->appeal = a;
      v.review = std::move(r);
    });
    if (id == 0) return;
    claim();
    fetch_detail();
  };

  for (;;) {
    int64_t exam_id = 0;
    int64_t wanted = 0;
    bool reload = false;
    bool refresh = false;
    Steady::time_point seen;
    {
      std::unique_lock lock(mu_);
      const auto until = std::min(next_list, renew_due);
      wake_.wait_until(lock, until, [&] {
        return stop_ || refresh_ || reload_ || wanted_appeal_ != current || exam_id_ != listed_exam ||
               (lease_state_ == LeaseState::kPaused && Steady::now() - last_seen_ < options_.release_unseen_after);
      });
      if (stop_) break;
      exam_id = exam_id_;
      wanted = wanted_appeal_;
      reload = reload_;
      refresh = refresh_;
      seen = last_seen_;
      reload_ = refresh_ = false;
    }
    token = client_.AccessToken();
    if (token.empty()) {
      // Nothing can be called: look again at the next period (the wait must not spin).
      Publish([&](AppealsView& v) { v.error = "not signed in"; });
      listed_exam = exam_id;
      next_list = Steady::now() + options_.refresh_every;
      renew_due = std::max(renew_due, next_list);
      continue;
    }

    // ---- the lease of the appeal under review ----
    if (wanted != current) {
      if (current != 0 && lease_state() == LeaseState::kHeld) release(current, options_.call_timeout, LeaseState::kNone);
      open(wanted);
      next_list = Steady::now();  // the list shows our claim soon
    } else if (current != 0 && reload) {
      claim();
      fetch_detail();
    } else if (current != 0) {
      const LeaseState state = lease_state();
      const auto now = Steady::now();
      const bool unseen = options_.release_unseen_after.count() > 0 && now - seen > options_.release_unseen_after;
      if (state == LeaseState::kHeld && unseen) {
        release(current, options_.call_timeout, LeaseState::kPaused);
        PublishReview([&](AppealReview& r) {
          r.lease = LeaseState::kPaused;
          r.lease_expires_ms = 0;
        });
      } else if (state == LeaseState::kPaused && !unseen) {
        claim();
      } else if (state == LeaseState::kHeld) {
        const int64_t backend_now = client_.BackendNowUnixMs();
        if (now >= renew_due || (backend_now > 0 && backend_now >= renew_due_backend)) claim();
      }
      // A renewal that fell due while the lease was not ours to renew (handed to a decision,
      // taken by a colleague) is void; left in the past it would make the wait spin.
      if (state != LeaseState::kHeld && state != LeaseState::kPaused && renew_due <= now) {
        renew_due = Steady::time_point::max();
        renew_due_backend = INT64_MAX;
      }
    }

    // ---- the list ----
    const bool exam_changed = exam_id != listed_exam;
    if (!refresh && !exam_changed && Steady::now() < next_list) continue;
    listed_exam = exam_id;
    next_list = Steady::now() + options_.refresh_every;
    if (exam_id == 0) {
      if (exam_changed) {
        Publish([&](AppealsView& v) {
          const auto review = v.review;
          v = AppealsView{};
          v.review = review;
        });
      }
      continue;
    }
    Publish([&](AppealsView& v) {
      if (v.exam_id != exam_id) {  // another exam: nothing of the old one stays on screen
        const auto review = v.review;
        v = AppealsView{};
        v.exam_id = exam_id;
        v.review = review;
      }
      v.loading = true;
    });
    v1::ListAppealsRequest req;
    req.set_exam_id(exam_id);
    v1::ListAppealsResponse resp;
    const grpc::Status status = stub->ListAppeals(context(options_.call_timeout).get(), req, &resp);
    const int64_t backend_now = client_.BackendNowUnixMs();
    Publish([&](AppealsView& v) {
      v.loading = false;
      if (v.exam_id != exam_id) return;
      if (!status.ok()) {
        v.error = Describe(status);
        return;
      }
      v.error.clear();
      v.loaded = true;
      v.appeals.assign(resp.appeals().begin(), resp.appeals().end());
      v.fetched_at_backend_ms = backend_now;
    });
    if (!status.ok() || current == 0) continue;

    // What the list says about the appeal under review: decided, taken over, or free again.
    const v1::Appeal* entry = nullptr;
    for (const auto& a : resp.appeals())
      if (a.id() == current) entry = &a;
    if (entry == nullptr) continue;
    const std::string me = client_.Status().display_name;
    LeaseState state;
    bool foreign_change = false;
    {
      std::lock_guard lock(mu_);
      if (entry->version() > lease_version_) {
        foreign_change = true;
        if (lease_state_ != LeaseState::kHandedOver) content_version_ = lease_version_ = entry->version();
      }
      if (entry->state() != v1::APPEAL_STATE_OPEN) {
        lease_state_ = LeaseState::kClosed;
      } else if (lease_state_ == LeaseState::kHeld && !me.empty() && !entry->claimed_by().empty() &&
                 entry->claimed_by() != me) {
        lease_state_ = LeaseState::kHeldByOther;  // our lease lapsed and someone took it
      }
      state = lease_state_;
    }
    if (foreign_change || state == LeaseState::kClosed || state == LeaseState::kHeldByOther) {
      PublishReview([&](AppealReview& r) {
        if (r.appeal_id != current) return;
        if (foreign_change) MergeMeta(*entry, &r.appeal);
        r.lease = state;
        if (state == LeaseState::kHeldByOther) {
          r.lease_holder = entry->claimed_by();
          r.lease_expires_ms = entry->has_lease_expires_at() ? Ms(entry->lease_expires_at()) : 0;
        } else if (state == LeaseState::kClosed) {
          r.lease_holder.clear();
          r.lease_expires_ms = 0;
        }
      });
    }
    // Someone else's lease ran out or was given back, or our claim failed in transit: try again.
    if ((state == LeaseState::kHeldByOther && entry->claimed_by().empty()) || state == LeaseState::kError) claim();
  }

  // Leaving: give the lease back so a colleague can take the appeal at once.
  if (current != 0 && lease_state() == LeaseState::kHeld) {
    token = client_.AccessToken();
    if (!token.empty())
      release(current, std::min(options_.call_timeout, std::chrono::milliseconds(2000)), LeaseState::kNone);
  }
}

// ---- the queue -------------------------------------------------------------------------------

bool FiledDuringExam(const v1::Appeal& appeal) {
  return appeal.has_exam_start() && Ms(appeal.filed_at()) >= Ms(appeal.exam_start());
}

AppealQueue BuildAppealQueue(const std::vector<v1::Appeal>& appeals, int64_t now_ms, const AppealQueueQuery& query) {
  AppealQueue q;
  const core::TimePoint now = core::FromUnixMillis(now_ms);
  for (const auto& a : appeals) {
    if (a.state() != v1::APPEAL_STATE_OPEN) continue;
    AppealQueueRow row;
    row.appeal = &a;
    row.left_ms = Ms(a.deadline()) - now_ms;
    row.urgency = core::AppealUrgencyAt(core::FromUnixMillis(Ms(a.filed_at())), core::FromUnixMillis(Ms(a.deadline())), now);
    row.in_exam = FiledDuringExam(a);
    const bool mine = !query.me.empty() && a.claimed_by() == query.me;
    ++q.open;
    q.breached += row.urgency == core::AppealUrgency::kBreached;
    q.mine += mine;
    if (query.room_id != 0 && a.room_id() != query.room_id) continue;
    if (query.phase == AppealPhase::kPreExam && row.in_exam) continue;
    if (query.phase == AppealPhase::kInExam && !row.in_exam) continue;
    if (query.mine_only && !mine) continue;
    q.rows.push_back(row);
  }
  std::stable_sort(q.rows.begin(), q.rows.end(), [](const AppealQueueRow& x, const AppealQueueRow& y) {
    if (x.left_ms != y.left_ms) return x.left_ms < y.left_ms;
    return x.appeal->id() < y.appeal->id();
  });
  return q;
}

int64_t LocalDayStartMs(int64_t unix_ms) {
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  tm.tm_isdst = -1;
  return static_cast<int64_t>(std::mktime(&tm)) * 1000;
}

core::AppealSlaStats AppealSlaToday(const std::vector<v1::Appeal>& appeals, int64_t now_ms) {
  std::vector<core::AppealOutcomeSample> samples;
  samples.reserve(appeals.size());
  for (const auto& a : appeals) {
    core::AppealOutcomeSample s;
    s.filed_at = core::FromUnixMillis(Ms(a.filed_at()));
    s.deadline = core::FromUnixMillis(Ms(a.deadline()));
    if (a.state() != v1::APPEAL_STATE_OPEN && a.has_decided_at()) s.decided_at = core::FromUnixMillis(Ms(a.decided_at()));
    samples.push_back(s);
  }
  return core::ComputeAppealSla(samples, core::FromUnixMillis(LocalDayStartMs(now_ms)), core::FromUnixMillis(now_ms));
}

}  // namespace exam::net
