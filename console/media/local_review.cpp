#include "media/local_review.h"

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/parseutils.h>
}

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "media/byte_source.h"
#include "media/clip_export.h"
#include "media/media_input.h"

namespace exam::media {

namespace v1 = exam::v1;
namespace fs = std::filesystem;
using google::protobuf::util::TimeUtil;

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Opens the file to learn its duration and, when it says, its creation time.
void Probe(LocalTrack* t) {
  std::string error;
  auto source = LocalFileSource::Open(t->path, &error);
  if (!source) {
    t->error = error;
    return;
  }
  auto input = MediaInput::Open(std::move(source), &error);
  if (!input) {
    t->error = error;
    return;
  }
  AVFormatContext* f = input->format();
  if (f->duration != AV_NOPTS_VALUE) t->placement.duration_us = f->duration;  // AV_TIME_BASE is µs
  if (t->placement.utc_start_us == 0)
    if (const AVDictionaryEntry* e = av_dict_get(f->metadata, "creation_time", nullptr, 0)) {
      int64_t us = 0;
      if (av_parse_time(&us, e->value, 0) == 0) t->placement.utc_start_us = us;
    }
}

core::MarkerKind MarkerKindOf(const std::string& kind) {
  if (kind == "question_shown") return core::MarkerKind::kQuestionShown;
  if (kind == "answer_complete") return core::MarkerKind::kAnswerComplete;
  return core::MarkerKind::kFlag;
}

bool LoadManifest(const fs::path& manifest_path, LocalReview* out) {
  std::ifstream in(manifest_path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  v1::ClipManifest m;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // a newer console's manifest still opens
  if (!in || !google::protobuf::util::JsonStringToMessage(text.str(), &m, options).ok()) {
    out->error = "cannot read the clip manifest " + manifest_path.string();
    return false;
  }
  out->manifest_path = manifest_path.string();
  const fs::path folder = manifest_path.parent_path();
  const int64_t start_us = TimeUtil::TimestampToMicroseconds(m.start());
  for (const auto& f : m.files()) {
    // Only names inside the folder: a manifest must not point the console elsewhere.
    const fs::path name = fs::path(f.file()).filename();
    LocalTrack t;
    t.path = (folder / name).string();
    t.kind = f.kind();
    t.expected_sha256 = f.sha256();
    t.placement.utc_start_us = TimeUtil::TimestampToMicroseconds(f.utc_start());
    t.placement.duration_us = f.duration_us();
    if (!fs::exists(t.path)) {
      out->missing.push_back(name.string());
      continue;
    }
    out->tracks.push_back(std::move(t));
  }
  for (const auto& mk : m.markers())
    out->markers.push_back(LocalReview::Marker{MarkerKindOf(mk.kind()), start_us + mk.offset_us(), mk.question(), mk.detail()});
  out->manifest = std::move(m);
  return true;
}

}  // namespace

v1::TrackKind GuessTrackKind(const std::string& file_name) {
  const std::string n = Lower(fs::path(file_name).filename().string());
  if (n.find("screen") != std::string::npos || n.find("屏幕") != std::string::npos) return v1::TRACK_KIND_SCREEN;
  if (n.find("evidence") != std::string::npos || n.find("phone") != std::string::npos ||
      n.find("佐证") != std::string::npos)
    return v1::TRACK_KIND_EVIDENCE;
  if (n.find("second") != std::string::npos) return v1::TRACK_KIND_SECOND_CAMERA;
  return v1::TRACK_KIND_CAMERA;
}

LocalReview LoadLocalReview(const std::vector<std::string>& paths) {
  LocalReview out;
  if (paths.empty()) {
    out.error = "nothing to review: give a clip folder, its manifest.json, or media files";
    return out;
  }
  // One clip (folder or manifest), or loose files.
  if (paths.size() == 1) {
    const fs::path p = paths.front();
    std::error_code ec;
    if (fs::is_directory(p, ec) && fs::exists(p / "manifest.json")) {
      if (!LoadManifest(p / "manifest.json", &out)) return out;
    } else if (p.filename() == "manifest.json" || Lower(p.extension().string()) == ".json") {
      if (!LoadManifest(p, &out)) return out;
    }
  }
  if (!out.manifest) {
    for (const auto& path : paths) {
      LocalTrack t;
      t.path = path;
      t.kind = GuessTrackKind(path);
      if (!fs::exists(path)) t.error = "no such file";
      out.tracks.push_back(std::move(t));
    }
  }
  for (auto& t : out.tracks) {
    if (!t.error.empty()) continue;
    std::string error;
    t.sha256 = FileSha256(t.path, &error);
    if (t.sha256.empty()) {
      t.error = error;
      continue;
    }
    t.tampered = !t.expected_sha256.empty() && t.sha256 != t.expected_sha256;
    Probe(&t);
  }
  if (std::all_of(out.tracks.begin(), out.tracks.end(), [](const LocalTrack& t) { return !t.error.empty(); }) &&
      out.error.empty())
    out.error = out.tracks.empty() ? "the clip lists no files that are there" : "none of the files can be played";
  return out;
}

}  // namespace exam::media
