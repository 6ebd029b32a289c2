// Deterministic candidate plans: what each simulated candidate will do.
#include <cmath>
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

}  // namespace

std::vector<CandidatePlan> MakePlans(const std::vector<std::string>& registration_nos, uint64_t seed) {
  std::vector<CandidatePlan> plans;
  plans.reserve(registration_nos.size());
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

    // Which behaviours a candidate gets comes from a Kronecker (Weyl) sequence with a
    // seed-chosen offset: still a function of (seed, i) alone, but evenly spread, so any
    // few dozen consecutive candidates hold the whole mix in about its proportions.
    auto weyl = [&](int dim) {
      static constexpr double kStep[] = {0.41421356237309515, 0.7320508075688772, 0.2360679774997898,
                                         0.6457513110645907, 0.3166247903554};  // frac(sqrt(2,3,5,7,11))
      const double offset = static_cast<double>(SplitMix64(seed * 31 + static_cast<uint64_t>(dim)) >> 11) * 0x1.0p-53;
      const double v = offset + kStep[dim] * static_cast<double>(i);
      return v - std::floor(v);
    };
    const double attend = weyl(0);
    const double face = weyl(1);
    const double help = weyl(2);
    const double interrupt = weyl(3);
    const double upload = weyl(4);

    if (attend < 0.03) {
      p.attendance = Attendance::kNoShow;
    } else if (attend < 0.07) {
      p.attendance = Attendance::kLate;
    } else if (attend < 0.11) {
      p.attendance = Attendance::kStallsBeforeEnter;
      p.stall_at = d.Chance(0.7) ? core::Stage::kEnter : core::Stage::kDeviceConfirm;
    }
    const bool on_time = p.attendance == Attendance::kOnTime;

    // Face login. Only punctual candidates appeal: an approved appeal excuses a late entry,
    // which would turn a planned forfeit into an attendance.
    if (on_time && face < 0.09) {
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
      p.phone_upload_left_pending = upload < 0.10;
    }

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
  if (phone_upload_left_pending) os << ", phone upload left pending";
  os << " => " << core::OutcomeNameEn(expected_outcome) << " [" << laptop_model << " / " << phone_model << "]";
  return os.str();
}

}  // namespace exam::sim
