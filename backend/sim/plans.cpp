// Deterministic candidate plans: what each simulated candidate will do.
#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <sstream>

#include "backend/sim/simulator.h"

namespace exam::sim {
namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Uniform draws computed from the raw engine output, so a plan is the same with every
// standard library (std::uniform_*_distribution is implementation-defined).
class Draw {
 public:
  explicit Draw(uint64_t seed) : rng_(seed) {}
  double Unit() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }
  int64_t Range(int64_t lo, int64_t hi) {  // inclusive
    if (hi <= lo) return lo;
    const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
    return lo + static_cast<int64_t>(rng_() % span);
  }
  double Between(double lo, double hi) { return lo + (hi - lo) * Unit(); }
  bool Chance(double p) { return Unit() < p; }
  template <typename T, size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[static_cast<size_t>(Range(0, static_cast<int64_t>(N) - 1))];
  }

 private:
  std::mt19937_64 rng_;
};

const char* const kLaptops[] = {
    "Lenovo ThinkPad X1 Carbon", "Lenovo ThinkPad T14",  "Lenovo Xiaoxin Pro 14", "Huawei MateBook 14",
    "Huawei MateBook X Pro",     "Dell XPS 13",          "Dell Latitude 5420",    "HP EliteBook 840",
    "Apple MacBook Air M1",      "Apple MacBook Pro 14", "ASUS VivoBook 15",      "Xiaomi RedmiBook Pro 15",
    "Acer Swift 3",              "Honor MagicBook 14",
};
const char* const kPhones[] = {
    "Xiaomi MI 5",    "Xiaomi 13",        "Redmi Note 12",  "Huawei P40",  "Huawei Mate 40 Pro",
    "Honor 80",       "OPPO Reno9",       "vivo X90",       "iPhone 12",   "iPhone 14 Pro",
    "OnePlus 11",     "Samsung Galaxy S21", "realme GT Neo5",
};
// Phones people put behind them as a second camera (二机位).
const char* const kSecondCameras[] = {
    "Huawei P30", "Huawei nova 7", "Xiaomi Redmi Note 9", "iPhone 11", "OPPO A92s", "vivo Y70s", "Honor 20",
    "Samsung Galaxy A51",
};
const char* const kEvidenceFailures[] = {
    "camera stopped: storage full", "recording app killed in the background", "phone overheated: camera stopped",
};
const char* const kCameraFailures[] = {"camera disconnected during recording", "camera stopped: storage full"};
const char* const kScreenFailures[] = {"screen recording stopped: encoder error",
                                       "screen capture permission revoked"};
const char* const kHelpBefore[] = {
    "摄像头无法打开", "佐证手机扫码失败", "听不到声音，麦克风检测不通过", "考试附件打不开",
    "人脸识别一直转圈", "网络不稳定，页面卡住",
};
const char* const kHelpDuring[] = {
    "题目视频加载不出来", "录制画面卡顿", "倒计时显示异常", "手机提示存储空间不足", "屏幕共享中断了",
};

const char* AttendanceName(Attendance a) {
  switch (a) {
    case Attendance::kOnTime: return "on-time";
    case Attendance::kLate: return "late";
    case Attendance::kStallsBeforeEnter: return "stalls";
    case Attendance::kNoShow: return "no-show";
  }
  return "?";
}

// Behaviour dimensions come from a Kronecker (Weyl) sequence with a seed-chosen offset:
// still a function of (seed, i) alone, but evenly spread, so any few dozen consecutive
// candidates hold the whole mix in about its proportions.
double Weyl(uint64_t seed, int dim, size_t i) {
  static constexpr double kStep[] = {0.41421356237309515, 0.7320508075688772, 0.2360679774997898,
                                     0.6457513110645907, 0.3166247903554};  // frac(sqrt(2,3,5,7,11))
  const double offset = static_cast<double>(SplitMix64(seed * 31 + static_cast<uint64_t>(dim)) >> 11) * 0x1.0p-53;
  const double v = offset + kStep[dim] * static_cast<double>(i);
  return v - std::floor(v);
}

// Thresholds of the attendance and face dimensions (see MakePlans).
constexpr double kNoShowBelow = 0.03, kLateBelow = 0.07, kStallsBelow = 0.11;
constexpr double kAppealBelow = 0.09;

// Records without anyone's help: on time (so it answers) and files no appeal (which needs
// staff to approve it).
bool RecordsUnaided(uint64_t seed, size_t i) {
  return Weyl(seed, 0, i) >= kStallsBelow && Weyl(seed, 1, i) >= kAppealBelow;
}

// The order, within its block, in which candidate i is dealt something (salt: what).
uint64_t DealRank(uint64_t seed, uint64_t salt, size_t i) {
  return SplitMix64(seed ^ SplitMix64(salt + static_cast<uint64_t>(i) * 0x9E37ull));
}

constexpr UploadCase kDealtCases[] = {UploadCase::kLeftPending, UploadCase::kSlow,  UploadCase::kPauses,
                                      UploadCase::kPhoneOffline, UploadCase::kStuck, UploadCase::kAbnormal};

struct BlockDeal {
  std::map<size_t, UploadCase> cases;
  std::vector<size_t> second_cameras;
};

// Deals the upload cases and second cameras of block b: the candidates who record unaided,
// in a seed-chosen order, take the cases' quotas first to last.
BlockDeal DealBlock(uint64_t seed, size_t b) {
  std::vector<size_t> eligible;
  for (size_t i = b * kUploadBlock; i < (b + 1) * kUploadBlock; ++i)
    if (RecordsUnaided(seed, i)) eligible.push_back(i);
  auto ordered = [&](uint64_t salt) {
    std::vector<size_t> v = eligible;
    std::sort(v.begin(), v.end(), [&](size_t x, size_t y) {
      const uint64_t rx = DealRank(seed, salt, x), ry = DealRank(seed, salt, y);
      return rx != ry ? rx < ry : x < y;
    });
    return v;
  };
  BlockDeal deal;
  const auto by_case = ordered(0x0C45Eull);
  size_t next = 0;
  for (UploadCase c : kDealtCases)
    for (int k = 0; k < UploadCaseQuota(c) && next < by_case.size(); ++k) deal.cases[by_case[next++]] = c;
  const auto by_camera = ordered(0xCA3E7Aull);
  for (size_t k = 0; k < by_camera.size() && k < static_cast<size_t>(kSecondCamerasPerBlock); ++k)
    deal.second_cameras.push_back(by_camera[k]);
  return deal;
}

}  // namespace

const char* TrackName(Track t) {
  switch (t) {
    case Track::kCamera: return "camera";
    case Track::kScreen: return "screen";
    case Track::kEvidence: return "evidence";
    case Track::kSecondCamera: return "second-camera";
  }
  return "?";
}

const char* UploadCaseName(UploadCase c) {
  switch (c) {
    case UploadCase::kNormal: return "normal";
    case UploadCase::kLeftPending: return "left pending";
    case UploadCase::kSlow: return "slow";
    case UploadCase::kPauses: return "pauses";
    case UploadCase::kPhoneOffline: return "phone offline";
    case UploadCase::kStuck: return "stuck";
    case UploadCase::kAbnormal: return "abnormal";
  }
  return "?";
}

int UploadCaseQuota(UploadCase c) {
  switch (c) {
    case UploadCase::kNormal: return 0;
    case UploadCase::kPauses: return 2;
    default: return 1;
  }
}

std::vector<CandidatePlan> MakePlans(const std::vector<std::string>& registration_nos, uint64_t seed) {
  std::vector<CandidatePlan> plans;
  plans.reserve(registration_nos.size());
  std::map<size_t, BlockDeal> deals;  // by block, computed once each
  for (size_t i = 0; i < registration_nos.size(); ++i) {
    Draw d(SplitMix64(seed ^ SplitMix64(0xC0FFEEull + i)));
    CandidatePlan p;
    p.registration_no = registration_nos[i];
    p.index = static_cast<int>(i);
    p.laptop_model = d.Pick(kLaptops);
    p.phone_model = d.Pick(kPhones);

    // Everyone's step durations are drawn, whatever they end up doing, so that one
    // behaviour's draws never shift another's.
    p.device_check_s = d.Range(45, 240);
    p.face_gap_s = d.Range(10, 40);
    p.phone_join_s = d.Range(30, 120);
    p.room_scan_s = d.Range(40, 150);
    p.draw_s = d.Range(10, 60);
    p.read_attachments_s = d.Range(60, 300);
    p.enter_delay_s = d.Range(0, 150);
    p.confirm_s = d.Range(15, 90);
    p.answer_delay_s = d.Range(0, 15);
    p.appeal_prepare_s = d.Range(40, 150);
    p.complete_margin_s = d.Range(3, 20);
    p.arrive_before_start_s = d.Range(18 * 60, 58 * 60);
    p.late_by_s = d.Range(60, 15 * 60);

    // Which behaviours a candidate gets: see Weyl.
    const double attend = Weyl(seed, 0, i);
    const double face = Weyl(seed, 1, i);
    const double help = Weyl(seed, 2, i);
    const double interrupt = Weyl(seed, 3, i);

    if (attend < kNoShowBelow) {
      p.attendance = Attendance::kNoShow;
    } else if (attend < kLateBelow) {
      p.attendance = Attendance::kLate;
    } else if (attend < kStallsBelow) {
      p.attendance = Attendance::kStallsBeforeEnter;
      p.stall_at = d.Chance(0.7) ? core::Stage::kEnter : core::Stage::kDeviceConfirm;
    }
    const bool on_time = p.attendance == Attendance::kOnTime;

    // Face login. Only punctual candidates appeal: an approved appeal excuses a late entry,
    // which would turn a planned forfeit into an attendance.
    if (on_time && face < kAppealBelow) {
      p.files_appeal = true;
      p.face_attempts = {FaceAttempt::kFail, FaceAttempt::kFail, FaceAttempt::kFail};
    } else if (face < 0.18) {
      p.face_attempts.assign(static_cast<size_t>(d.Range(1, 2)), FaceAttempt::kFail);
      p.face_attempts.push_back(FaceAttempt::kPass);
    } else if (face < 0.23) {
      p.face_attempts = {FaceAttempt::kCancel, FaceAttempt::kPass};
    } else {
      p.face_attempts = {FaceAttempt::kPass};
    }

    // Help: punctual candidates before or during the exam; some who stall ask first.
    if ((on_time && help < 0.14) || (p.attendance == Attendance::kStallsBeforeEnter && help < 0.5)) {
      p.raises_help = true;
      const bool during = on_time && d.Chance(0.5);
      p.help_at_s = during ? d.Range(20, 240) : -d.Range(2 * 60, 12 * 60);
      p.help_text = during ? d.Pick(kHelpDuring) : d.Pick(kHelpBefore);
      p.help_replies = static_cast<int>(d.Range(1, 2));
    }

    // Recording interruptions while answering (fractions of the answering time; a plan
    // assumes answering lasts at least five backend minutes).
    if (on_time) {
      if (interrupt < 0.10) {
        p.interruptions.push_back({d.Between(0.15, 0.6), d.Range(20, 90)});
      } else if (interrupt < 0.135) {
        p.interruptions.push_back({d.Between(0.10, 0.30), d.Range(15, 60)});
        p.interruptions.push_back({d.Between(0.45, 0.70), d.Range(15, 60)});
      } else if (interrupt < 0.17) {
        p.interruptions.push_back({d.Between(0.10, 0.35), d.Range(170, 300)});
      }
    }

    // Uploads, from a draw of their own so that they never shift the behaviours above. Every
    // value is drawn, whatever the case, in a fixed order.
    Draw u(SplitMix64(seed ^ SplitMix64(0x0F11E5ull + i)));
    p.laptop_upload_s = u.Range(2 * 60, 10 * 60);   // done well within the 30-60 min confirmation
    p.phone_upload_s = u.Range(5 * 60, 30 * 60);
    p.second_camera_upload_s = u.Range(5 * 60, 25 * 60);
    const int64_t slow_upload_s = u.Range(130 * 60, 160 * 60);  // after the 2 h deadline
    p.second_camera_model = u.Pick(kSecondCameras);
    const int64_t track_pick = u.Range(0, 9);
    const double at_fraction = u.Between(0.2, 0.5);
    const int pauses = static_cast<int>(u.Range(1, 2));
    const int64_t pause1 = u.Range(3 * 60, 8 * 60), pause2 = u.Range(3 * 60, 8 * 60);  // beyond the 2 min quiet limit
    const int64_t offline_s = u.Range(35 * 60, 45 * 60);
    const int64_t rerecord_s = u.Range(3 * 60, 8 * 60);
    const std::string evidence_failure = u.Pick(kEvidenceFailures), camera_failure = u.Pick(kCameraFailures),
                      screen_failure = u.Pick(kScreenFailures);

    const size_t block = i / kUploadBlock;
    auto deal = deals.find(block);
    if (deal == deals.end()) deal = deals.emplace(block, DealBlock(seed, block)).first;
    const auto dealt = deal->second.cases.find(i);
    UploadPlan& up = p.upload;
    up.kind = dealt == deal->second.cases.end() ? UploadCase::kNormal : dealt->second;
    const Track any_track = track_pick < 4 ? Track::kEvidence : track_pick < 7 ? Track::kCamera : Track::kScreen;
    up.track = Track::kEvidence;
    up.at_fraction = at_fraction;
    switch (up.kind) {
      case UploadCase::kNormal: break;
      case UploadCase::kLeftPending: p.phone_upload_left_pending = true; break;
      case UploadCase::kSlow: p.phone_upload_s = slow_upload_s; break;
      case UploadCase::kPauses:
        up.track = any_track;
        up.pauses_s.push_back(pause1);
        if (pauses > 1) up.pauses_s.push_back(pause2);
        break;
      case UploadCase::kPhoneOffline: up.offline_s = offline_s; break;
      case UploadCase::kStuck: up.track = any_track; break;
      case UploadCase::kAbnormal:
        up.track = track_pick < 6 ? Track::kEvidence : track_pick < 8 ? Track::kCamera : Track::kScreen;
        up.failure = up.track == Track::kEvidence ? evidence_failure
                     : up.track == Track::kCamera ? camera_failure
                                                  : screen_failure;
        up.rerecord_s = rerecord_s;
        break;
    }
    const auto& cams = deal->second.second_cameras;
    p.has_second_camera = std::find(cams.begin(), cams.end(), i) != cams.end();

    if (!on_time) {
      p.expected_outcome = core::Outcome::kForfeited;
    } else if (p.interruptions.size() >= 2 || (p.interruptions.size() == 1 && p.interruptions[0].length_s > 120)) {
      p.expected_outcome = core::Outcome::kEndedEarly;
    } else {
      p.expected_outcome = core::Outcome::kCompleted;
    }
    plans.push_back(std::move(p));
  }
  return plans;
}

std::string CandidatePlan::Describe() const {
  std::ostringstream os;
  os << registration_no << ": " << AttendanceName(attendance);
  if (attendance == Attendance::kLate) os << " +" << late_by_s << "s";
  if (attendance == Attendance::kStallsBeforeEnter) os << " before " << core::StageNameEn(stall_at);
  os << ", face";
  for (FaceAttempt a : face_attempts)
    os << (a == FaceAttempt::kPass ? " pass" : a == FaceAttempt::kFail ? " fail" : " cancel");
  if (files_appeal) os << " -> appeal";
  if (raises_help) os << ", help at " << help_at_s << "s";
  for (const auto& i : interruptions) os << ", interrupted at " << i.at_fraction << " for " << i.length_s << "s";
  if (has_second_camera) os << ", second camera " << second_camera_model;
  os << ", uploads " << laptop_upload_s << "/" << phone_upload_s;
  if (has_second_camera) os << "/" << second_camera_upload_s;
  os << " s per file";
  switch (upload.kind) {
    case UploadCase::kNormal: break;
    case UploadCase::kLeftPending: os << ", phone upload left pending"; break;
    case UploadCase::kSlow: os << ", phone too slow for the deadline"; break;
    case UploadCase::kPauses:
      os << ", " << TrackName(upload.track) << " upload pauses at " << upload.at_fraction << " for";
      for (int64_t s : upload.pauses_s) os << " " << s << "s";
      break;
    case UploadCase::kPhoneOffline:
      os << ", phone offline at " << upload.at_fraction << " of its upload for " << upload.offline_s << "s";
      break;
    case UploadCase::kStuck: os << ", " << TrackName(upload.track) << " upload stuck at " << upload.at_fraction; break;
    case UploadCase::kAbnormal:
      os << ", " << TrackName(upload.track) << " recording failed (" << upload.failure << ")";
      break;
  }
  os << " => " << core::OutcomeNameEn(expected_outcome) << " [" << laptop_model << " / " << phone_model << "]";
  return os.str();
}

}  // namespace exam::sim
