// Evidence clip export on recordings made by ffmpeg at test time: the cut starts on the
// keyframe before the range and covers it, the manifest's sha256 and sizes match the files
// written, the phone's sideways display matrix survives, recordings outside the range or
// unreadable are listed as skipped, and the manifest reads back as exam.v1.ClipManifest.
#include <gtest/gtest.h>

#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "media/clip_export.h"
#include "media/local_review.h"
#include "review_media.h"

namespace exam::testing {
namespace {

namespace v1 = exam::v1;
using core::Micros;

constexpr Micros kSecond = 1'000'000;
constexpr Micros kUtc0 = 1'790'000'000LL * kSecond;  // the camera's first frame

// What ffprobe says of a file: "key=value" lines of the first video stream and the format.
std::string Probe(const std::string& path, const std::string& entries) {
  const std::string cmd = "ffprobe -v error -select_streams v:0 -show_entries " + entries +
                          " -of default=noprint_wrappers=1 '" + path + "' 2>&1";
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[256];
    while (fgets(buf, sizeof buf, p)) out += buf;
    pclose(p);
  }
  return out;
}

double ProbeNumber(const std::string& text, const std::string& key) {
  const auto at = text.find(key + "=");
  return at == std::string::npos ? -1 : std::atof(text.c_str() + at + key.size() + 1);
}

media::ClipSource Source(const std::string& path, v1::TrackKind kind, Micros utc_start, Micros duration) {
  media::ClipSource s;
  s.kind = kind;
  s.placement.utc_start_us = utc_start;
  s.placement.duration_us = duration;
  std::string error;
  s.source = media::LocalFileSource::Open(path, &error);
  EXPECT_TRUE(s.source) << error;
  return s;
}

class ClipExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    media_ = ReviewMedia::Get(&why);
    if (media_ == nullptr) GTEST_SKIP() << why;
  }
  const ReviewMedia* media_ = nullptr;
  TempDir dir_;
};

TEST_F(ClipExportTest, ARangeIsCutOnKeyframesWithAManifestOfEveryFile) {
  media::ClipRequest req;
  req.session_id = 42;
  req.draw_number = 7;
  req.start_utc_us = kUtc0 + 3'300'000;  // between the 2 s and 4 s keyframes
  req.end_utc_us = kUtc0 + 6'100'000;
  req.folder = (dir_.path() / "clip").string();
  req.exported_by = "grader1";
  req.sources.push_back(Source(media_->camera, v1::TRACK_KIND_CAMERA, kUtc0, 10 * kSecond));
  // A phone that started 1 s later with one keyframe at 0 and 30 s: its cut starts at 0.
  auto phone = Source(media_->phone, v1::TRACK_KIND_EVIDENCE, kUtc0 + kSecond, 40 * kSecond);
  phone.placement.skew_us = -350'000;
  req.sources.push_back(phone);
  // A second part of the camera that begins after the range: nothing to cut.
  req.sources.push_back(Source(media_->camera, v1::TRACK_KIND_CAMERA, kUtc0 + 20 * kSecond, 10 * kSecond));
  req.sources.back().segment = 1;
  // A recording that is not media.
  req.sources.push_back(Source(media_->garbage, v1::TRACK_KIND_SCREEN, kUtc0, 10 * kSecond));

  const auto result = media::ExportClip(req);
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(result.manifest.files_size(), 2) << result.skipped.size();
  EXPECT_EQ(result.skipped.size(), 2u);

  const auto& cam = result.manifest.files(0);
  EXPECT_EQ(cam.kind(), v1::TRACK_KIND_CAMERA);
  EXPECT_EQ(cam.offset_us(), -1'300'000) << "starts on the keyframe at 2 s";
  EXPECT_GE(cam.offset_us() + cam.duration_us(), 6'100'000 - 3'300'000 - 40'000) << "covers the range";
  EXPECT_LE(cam.duration_us(), 4'200'000);
  const std::string cam_path = (std::filesystem::path(req.folder) / cam.file()).string();
  std::string error;
  EXPECT_EQ(cam.sha256(), media::FileSha256(cam_path, &error));
  EXPECT_EQ(cam.bytes(), static_cast<int64_t>(std::filesystem::file_size(cam_path)));
  const std::string probe = Probe(cam_path, "stream=width,height,codec_name:format=duration");
  EXPECT_NE(probe.find("codec_name=h264"), std::string::npos) << probe;
  EXPECT_EQ(ProbeNumber(probe, "width"), 1280);
  EXPECT_NEAR(ProbeNumber(probe, "duration"), cam.duration_us() / 1e6, 0.15) << probe;

  const auto& ph = result.manifest.files(1);
  EXPECT_EQ(ph.kind(), v1::TRACK_KIND_EVIDENCE);
  EXPECT_EQ(ph.skew_us(), -350'000);
  // Stated start + skew = kUtc0 + 0.65 s; its only keyframe before the range is its first frame.
  EXPECT_EQ(ph.offset_us(), 650'000 - 3'300'000);

  // The manifest on disk is the one returned, and parses back.
  std::ifstream in(result.manifest_path);
  std::stringstream json;
  json << in.rdbuf();
  v1::ClipManifest back;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json.str(), &back).ok());
  EXPECT_EQ(back.SerializeAsString(), result.manifest.SerializeAsString());
  EXPECT_EQ(back.draw_number(), 7);
}

TEST_F(ClipExportTest, ASidewaysPhoneStaysSideways) {
  media::ClipRequest req;
  req.start_utc_us = kUtc0;
  req.end_utc_us = kUtc0 + 500'000;
  req.folder = (dir_.path() / "sideways").string();
  req.sources.push_back(Source(media_->sideways, v1::TRACK_KIND_EVIDENCE, kUtc0, kSecond));
  const auto result = media::ExportClip(req);
  ASSERT_TRUE(result.ok()) << result.error;
  const std::string path = (std::filesystem::path(req.folder) / result.manifest.files(0).file()).string();
  const std::string rotation = Probe(media_->sideways, "stream_side_data=rotation");
  ASSERT_NE(rotation.find("rotation="), std::string::npos) << rotation;
  EXPECT_EQ(Probe(path, "stream_side_data=rotation"), rotation);
}

TEST_F(ClipExportTest, NothingInRangeAndBackwardsRangesAreClearErrors) {
  media::ClipRequest req;
  req.start_utc_us = kUtc0 + 100 * kSecond;
  req.end_utc_us = kUtc0 + 101 * kSecond;
  req.folder = (dir_.path() / "none").string();
  req.sources.push_back(Source(media_->camera, v1::TRACK_KIND_CAMERA, kUtc0, 10 * kSecond));
  auto result = media::ExportClip(req);
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.error.find("no recording covers the range"), std::string::npos) << result.error;
  req.end_utc_us = req.start_utc_us - 1;
  result = media::ExportClip(req);
  EXPECT_NE(result.error.find("after its start"), std::string::npos) << result.error;
}

TEST_F(ClipExportTest, AnExportedClipOpensOfflineAndAnEditedFileShowsAsTampered) {
  media::ClipRequest req;
  req.session_id = 9;
  req.draw_number = 3;
  req.start_utc_us = kUtc0 + 2'000'000;
  req.end_utc_us = kUtc0 + 5'000'000;
  req.folder = (dir_.path() / "offline").string();
  req.sources.push_back(Source(media_->camera, v1::TRACK_KIND_CAMERA, kUtc0, 10 * kSecond));
  req.sources.push_back(Source(media_->phone, v1::TRACK_KIND_EVIDENCE, kUtc0, 40 * kSecond));
  v1::ClipMarker q;
  q.set_kind("question_shown");
  q.set_offset_us(1'000'000);
  q.set_question(2);
  req.markers.push_back(q);
  q.set_offset_us(9'000'000);  // past the range: dropped
  req.markers.push_back(q);
  const auto result = media::ExportClip(req);
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(result.manifest.markers_size(), 1);

  auto review = media::LoadLocalReview({req.folder});
  ASSERT_TRUE(review.error.empty()) << review.error;
  ASSERT_TRUE(review.manifest.has_value());
  ASSERT_EQ(review.tracks.size(), 2u);
  for (const auto& t : review.tracks) {
    EXPECT_FALSE(t.tampered) << t.path;
    EXPECT_TRUE(t.error.empty()) << t.error;
    EXPECT_GT(t.placement.duration_us, 0);
  }
  EXPECT_EQ(review.tracks[0].placement.utc_start_us, kUtc0 + 2'000'000);  // the camera's 2 s keyframe
  ASSERT_EQ(review.markers.size(), 1u);
  EXPECT_EQ(review.markers[0].utc_us, kUtc0 + 3'000'000);
  EXPECT_EQ(review.markers[0].question, 2);

  // One byte changed in the camera file: shown as tampered, the phone still fine.
  {
    std::fstream f(review.tracks[0].path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(200);
    char c = 0;
    f.read(&c, 1);
    f.seekp(200);
    c = static_cast<char>(c ^ 0x5a);
    f.write(&c, 1);
  }
  std::filesystem::remove(review.tracks[1].path);
  review = media::LoadLocalReview({(std::filesystem::path(req.folder) / "manifest.json").string()});
  ASSERT_EQ(review.tracks.size(), 1u);
  EXPECT_TRUE(review.tracks[0].tampered);
  ASSERT_EQ(review.missing.size(), 1u);
}

TEST_F(ClipExportTest, LooseFilesOpenAsOneSessionWithKindsFromTheirNames) {
  auto review = media::LoadLocalReview({media_->camera, media_->phone, media_->garbage});
  ASSERT_EQ(review.tracks.size(), 3u);
  EXPECT_EQ(review.tracks[0].kind, v1::TRACK_KIND_CAMERA);
  EXPECT_EQ(review.tracks[1].kind, v1::TRACK_KIND_EVIDENCE);  // phone.ts
  EXPECT_NEAR(review.tracks[0].placement.duration_us / 1e6, 10.0, 0.2);
  EXPECT_NEAR(review.tracks[1].placement.duration_us / 1e6, 40.0, 0.3);
  EXPECT_FALSE(review.tracks[2].error.empty()) << "not media: a reason, not a crash";
  EXPECT_TRUE(review.error.empty());
  EXPECT_FALSE(media::LoadLocalReview({}).error.empty());
  EXPECT_EQ(media::GuessTrackKind("/x/screen-0.mp4"), v1::TRACK_KIND_SCREEN);
}

}  // namespace
}  // namespace exam::testing
