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
      mix[std::string("=> ") + std::string(core::OutcomeNameEn(p.expected_outcome))]++;
    }
    for (const char* k : {"on time", "late", "no show", "stalls", "appeal", "face retry", "face cancel", "help before",
                          "help during", "interrupted once", "interrupted twice", "resumed too late", "upload pending"})
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
  }
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

}  // namespace
}  // namespace exam::sim
