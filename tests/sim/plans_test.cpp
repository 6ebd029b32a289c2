// MakePlans: deterministic, seed-dependent, and a realistic mix of behaviours.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "backend/sim/blobs.h"
#include "backend/sim/simulator.h"

namespace exam::sim {
namespace {

std::vector<std::string> Regs(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "2026%06d", i + 1);
    out.push_back(buf);
  }
  return out;
}

TEST(MakePlans, SameSeedSamePlans) {
  const auto regs = Regs(200);
  const auto a = MakePlans(regs, 42), b = MakePlans(regs, 42);
  ASSERT_EQ(a.size(), regs.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].Describe(), b[i].Describe());
    EXPECT_EQ(a[i].registration_no, regs[i]);
    EXPECT_EQ(a[i].index, static_cast<int>(i));
  }
}

TEST(MakePlans, AnotherSeedOtherPlans) {
  const auto regs = Regs(200);
  const auto a = MakePlans(regs, 1), b = MakePlans(regs, 2);
  int differ = 0;
  for (size_t i = 0; i < a.size(); ++i) differ += a[i].Describe() != b[i].Describe();
  EXPECT_GT(differ, 150);
}

TEST(MakePlans, CandidatePlanDoesNotDependOnPopulation) {
  const auto small = MakePlans(Regs(10), 9), large = MakePlans(Regs(500), 9);
  for (size_t i = 0; i < small.size(); ++i) EXPECT_EQ(small[i].Describe(), large[i].Describe());
}

TEST(MakePlans, MixContainsEveryBehaviour) {
  for (uint64_t seed : {1, 2, 3, 12345}) {
    std::map<std::string, int> mix;
    for (const auto& p : MakePlans(Regs(200), seed)) {
      if (p.attendance == Attendance::kOnTime) mix["on time"]++;
      if (p.attendance == Attendance::kLate) mix["late"]++;
      if (p.attendance == Attendance::kNoShow) mix["no show"]++;
      if (p.attendance == Attendance::kStallsBeforeEnter) mix["stalls"]++;
      if (p.files_appeal) mix["appeal"]++;
      if (!p.files_appeal && std::count(p.face_attempts.begin(), p.face_attempts.end(), FaceAttempt::kFail) > 0)
        mix["face retry"]++;
      if (std::count(p.face_attempts.begin(), p.face_attempts.end(), FaceAttempt::kCancel) > 0) mix["face cancel"]++;
      if (p.raises_help) mix[p.help_at_s < 0 ? "help before" : "help during"]++;
      if (p.interruptions.size() == 1 && p.interruptions[0].length_s <= 120) mix["interrupted once"]++;
      if (p.interruptions.size() == 2) mix["interrupted twice"]++;
      if (p.interruptions.size() == 1 && p.interruptions[0].length_s > 120) mix["resumed too late"]++;
      if (p.phone_upload_left_pending) mix["upload pending"]++;
      mix[std::string("upload ") + UploadCaseName(p.upload.kind)]++;
      if (p.has_second_camera) mix["second camera"]++;
      mix[std::string("=> ") + std::string(core::OutcomeNameEn(p.expected_outcome))]++;
    }
    for (const char* k : {"on time", "late", "no show", "stalls", "appeal", "face retry", "face cancel", "help before",
                          "help during", "interrupted once", "interrupted twice", "resumed too late", "upload pending",
                          "upload slow", "upload pauses", "upload phone offline", "upload stuck", "upload abnormal",
                          "second camera"})
      EXPECT_GT(mix[k], 0) << "seed " << seed << " has no '" << k << "'";
    // Most candidates complete; most pass the face check first time.
    EXPECT_GT(mix["=> " + std::string(core::OutcomeNameEn(core::Outcome::kCompleted))], 130) << "seed " << seed;
    EXPECT_LT(mix["appeal"], 40);
  }
}

TEST(MakePlans, ExpectedOutcomeFollowsBehaviour) {
  for (const auto& p : MakePlans(Regs(1000), 7)) {
    SCOPED_TRACE(p.Describe());
    if (p.attendance != Attendance::kOnTime) {
      EXPECT_EQ(p.expected_outcome, core::Outcome::kForfeited);
      EXPECT_FALSE(p.files_appeal);  // an approved appeal would excuse the late entry
      EXPECT_TRUE(p.interruptions.empty());
    } else if (p.interruptions.size() >= 2 || (p.interruptions.size() == 1 && p.interruptions[0].length_s > 120)) {
      EXPECT_EQ(p.expected_outcome, core::Outcome::kEndedEarly);
    } else {
      EXPECT_EQ(p.expected_outcome, core::Outcome::kCompleted);
    }
    EXPECT_FALSE(p.laptop_model.empty());
    EXPECT_FALSE(p.phone_model.empty());
    if (p.attendance == Attendance::kStallsBeforeEnter) {
      EXPECT_TRUE(p.stall_at == core::Stage::kEnter || p.stall_at == core::Stage::kDeviceConfirm);
    }
    for (const auto& i : p.interruptions) {
      EXPECT_GT(i.at_fraction, 0.0);
      EXPECT_LT(i.at_fraction, 0.75);
    }
    // Upload cases and second cameras go to candidates who record without anyone's help.
    if (p.upload.kind != UploadCase::kNormal || p.has_second_camera) {
      EXPECT_EQ(p.attendance, Attendance::kOnTime);
      EXPECT_FALSE(p.files_appeal);
    }
    EXPECT_FALSE(p.second_camera_model.empty());
    EXPECT_EQ(p.phone_upload_left_pending, p.upload.kind == UploadCase::kLeftPending);
  }
}

std::map<UploadCase, int> UploadCases(const std::vector<CandidatePlan>& plans, int* second_cameras) {
  std::map<UploadCase, int> out;
  *second_cameras = 0;
  for (const auto& p : plans) {
    out[p.upload.kind]++;
    *second_cameras += p.has_second_camera;
  }
  return out;
}

constexpr UploadCase kSpecialCases[] = {UploadCase::kLeftPending, UploadCase::kSlow,  UploadCase::kPauses,
                                        UploadCase::kPhoneOffline, UploadCase::kStuck, UploadCase::kAbnormal};

// The demo always shows every upload case: any population of 30 or more holds each.
TEST(MakePlans, EveryUploadCaseFromThirtyCandidates) {
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    for (int n : {30, 31, 44, 48, 60, 97}) {
      int cameras = 0;
      auto cases = UploadCases(MakePlans(Regs(n), seed), &cameras);
      for (UploadCase c : kSpecialCases)
        EXPECT_GE(cases[c], UploadCaseQuota(c)) << "seed " << seed << ", " << n << " candidates: no '" << UploadCaseName(c) << "'";
      EXPECT_GE(cameras, kSecondCamerasPerBlock) << "seed " << seed << ", " << n << " candidates";
    }
  }
}

// Small fractions: each case a few per cent, most candidates upload normally.
TEST(MakePlans, UploadMixProportions) {
  for (uint64_t seed : {1, 7, 99}) {
    const auto plans = MakePlans(Regs(3000), seed);
    int cameras = 0;
    auto cases = UploadCases(plans, &cameras);
    const double n = static_cast<double>(plans.size());
    for (UploadCase c : kSpecialCases) {
      const double want = UploadCaseQuota(c) / static_cast<double>(kUploadBlock);
      EXPECT_NEAR(cases[c] / n, want, 0.002) << UploadCaseName(c);
      EXPECT_LE(cases[c] / n, 0.07) << UploadCaseName(c);
    }
    EXPECT_NEAR(cameras / n, kSecondCamerasPerBlock / static_cast<double>(kUploadBlock), 0.002);
    EXPECT_GT(cases[UploadCase::kNormal] / n, 0.7);
  }
}

// Durations against the exam's rules (2 h resume deadline, confirmation 30-60 min after the
// end, the backend's 2 min quiet limit, the console's 10 min "stuck" threshold).
TEST(MakePlans, UploadTimingsFitTheRules) {
  int rerecord_tracks[3] = {0, 0, 0};
  for (const auto& p : MakePlans(Regs(2000), 5)) {
    SCOPED_TRACE(p.Describe());
    EXPECT_GE(p.laptop_upload_s, 60);
    EXPECT_LE(2 * p.laptop_upload_s, 30 * 60);  // two files on the laptop
    EXPECT_LE(p.second_camera_upload_s, 30 * 60);
    const UploadPlan& u = p.upload;
    switch (u.kind) {
      case UploadCase::kSlow:
        EXPECT_EQ(u.track, Track::kEvidence);
        EXPECT_GT(p.phone_upload_s, 2 * 3600 + 5 * 60);  // a nominal file alone takes past the deadline
        EXPECT_LT(p.phone_upload_s, 3 * 3600);
        break;
      case UploadCase::kPauses:
        ASSERT_FALSE(u.pauses_s.empty());
        EXPECT_LE(u.pauses_s.size(), 2u);
        for (int64_t s : u.pauses_s) {
          EXPECT_GT(s, 2 * 60);  // long enough for the backend to call it interrupted
          EXPECT_LT(s, 10 * 60);  // short enough not to look stuck
        }
        break;
      case UploadCase::kPhoneOffline:
        EXPECT_EQ(u.track, Track::kEvidence);
        EXPECT_GE(u.offline_s, 35 * 60);
        EXPECT_LE(u.offline_s, 45 * 60);
        break;
      case UploadCase::kAbnormal:
        EXPECT_FALSE(u.failure.empty());
        EXPECT_GT(u.rerecord_s, 0);
        rerecord_tracks[static_cast<int>(u.track)]++;
        break;
      case UploadCase::kLeftPending: EXPECT_EQ(u.track, Track::kEvidence); break;
      default:
        EXPECT_LE(p.phone_upload_s, 30 * 60);
        break;
    }
    if (u.kind != UploadCase::kNormal) {
      EXPECT_GT(u.at_fraction, 0.0);
      EXPECT_LT(u.at_fraction, 0.6);
      EXPECT_NE(u.track, Track::kSecondCamera);
    }
  }
  // Mostly the phone's recording fails (storage full), sometimes the laptop's.
  EXPECT_GT(rerecord_tracks[static_cast<int>(Track::kEvidence)], rerecord_tracks[static_cast<int>(Track::kCamera)]);
  EXPECT_GT(rerecord_tracks[static_cast<int>(Track::kCamera)] + rerecord_tracks[static_cast<int>(Track::kScreen)], 0);
}

TEST(Blobs, PhotosArePngs) {
  for (PhotoKind k : {PhotoKind::kIdFront, PhotoKind::kIdBack, PhotoKind::kHandheldId, PhotoKind::kFaceCapture}) {
    const std::string png = MakePhoto(k, 5);
    ASSERT_GT(png.size(), 100u);
    EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
    EXPECT_EQ(png.substr(12, 4), "IHDR");
    EXPECT_EQ(png.substr(png.size() - 8, 4), "IEND");
    EXPECT_EQ(MakePhoto(k, 5), png);
    EXPECT_NE(MakePhoto(k, 6), png);
  }
}

TEST(Blobs, Sha256) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(PseudoRandomBytes(1000, 3), PseudoRandomBytes(1000, 3));
  EXPECT_EQ(PseudoRandomBytes(13, 3).size(), 13u);
}

// Recordings are read a chunk at a time at any offset; the pieces make the whole, whose
// sha256 is computed without holding it.
TEST(Blobs, RecordingsReadAtAnyOffset) {
  const int64_t size = 200 * 1024 + 13;
  const std::string whole = RecordingBytes(42, 0, static_cast<size_t>(size));
  std::string pieces;
  for (int64_t off = 0; off < size; off += 777)
    pieces += RecordingBytes(42, off, static_cast<size_t>(std::min<int64_t>(777, size - off)));
  EXPECT_EQ(pieces, whole);
  EXPECT_EQ(RecordingSha256(42, size), Sha256Hex(whole));
  EXPECT_EQ(RecordingSha256(42, 0), Sha256Hex(""));
  EXPECT_NE(RecordingBytes(43, 0, 64), RecordingBytes(42, 0, 64));
}

}  // namespace
}  // namespace exam::sim
