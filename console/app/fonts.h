#pragma once
// The console's fonts: Noto Sans CJK SC for Latin and Chinese text, plus a large face for
// figures. The atlas holds the common simplified set and every UI string; names arriving
// from the backend that use rarer characters are added by rebuilding the atlas.
#include <imgui.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace exam::app {

class FontLibrary {
 public:
  static constexpr const char* kDefaultPath = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";

  // Reads the collection and builds the atlas. False with a message when the font is missing.
  bool Load(const std::string& path, float pixel_size, std::string* error);

  // Notes characters of `text` the atlas lacks; true when a Rebuild() would add some.
  bool Want(std::string_view text);
  bool rebuild_needed() const { return rebuild_needed_; }
  // Rebuilds the atlas with every wanted character. Between frames only; the caller
  // recreates the GL font texture afterwards.
  void Rebuild();

  ImFont* regular() const { return regular_; }
  ImFont* large() const { return large_; }
  int face_index() const { return face_; }

 private:
  void Build();

  std::vector<unsigned char> data_;
  int face_ = 0;
  float size_ = 16.0f;
  ImVector<ImWchar> ranges_;
  std::set<ImWchar> extra_;  // characters added for backend data
  std::set<ImWchar> tried_;  // characters asked for (some may not exist in the font at all)
  bool rebuild_needed_ = false;
  ImFont* regular_ = nullptr;
  ImFont* large_ = nullptr;
};

}  // namespace exam::app
