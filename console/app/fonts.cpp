#include "app/fonts.h"

#include <imgui_internal.h>  // ImTextCharFromUtf8

#include <cstdio>
#include <fstream>
#include <iterator>

#include "app/font_faces.h"
#include "ui/strings.h"

namespace exam::app {

bool FontLibrary::Load(const std::string& path, float pixel_size, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "font not found: " + path +
             " — the console needs Noto Sans CJK for Chinese text (Debian/Ubuntu: apt install fonts-noto-cjk)";
    return false;
  }
  data_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (data_.size() < 1024) {
    *error = "font file is truncated: " + path;
    return false;
  }
  // The collection holds JP, KR, SC, TC and HK faces (SC is index 2 in Debian's file);
  // look it up by name so another packaging order still gets simplified Chinese glyph shapes.
  face_ = FindFaceByFamily(data_, "Noto Sans CJK SC");
  if (face_ < 0) face_ = 0;  // a single-face file (e.g. NotoSansSC-Regular.otf)
  size_ = pixel_size;
  Build();
  return regular_ != nullptr;
}

bool FontLibrary::Want(std::string_view text) {
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    unsigned int c = 0;
    const int n = ImTextCharFromUtf8(&c, p, end);
    if (n <= 0) break;
    p += n;
    if (c < 0x80 || c > 0xFFFF) continue;
    const auto w = static_cast<ImWchar>(c);
    if (regular_->FindGlyphNoFallback(w) != nullptr) continue;
    if (tried_.insert(w).second) {
      extra_.insert(w);
      rebuild_needed_ = true;
    }
  }
  return rebuild_needed_;
}

void FontLibrary::Rebuild() { Build(); }

void FontLibrary::Build() {
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();

  ImFontGlyphRangesBuilder builder;
  builder.AddRanges(io.Fonts->GetGlyphRangesChineseSimplifiedCommon());
  ui::ForEachUiString([&](const char* s) { builder.AddText(s); });
  builder.AddText("×—…·←→↑↓▲▼●○✓✗");
  for (ImWchar c : extra_) builder.AddChar(c);
  ranges_.clear();
  builder.BuildRanges(&ranges_);

  ImFontConfig cfg;
  cfg.FontDataOwnedByAtlas = false;  // data_ outlives the atlas and is reused by rebuilds
  cfg.FontNo = face_;
  cfg.OversampleH = 2;
  cfg.OversampleV = 1;
  std::snprintf(cfg.Name, sizeof cfg.Name, "Noto Sans CJK SC %.0fpx", size_);
  regular_ = io.Fonts->AddFontFromMemoryTTF(data_.data(), static_cast<int>(data_.size()), size_, &cfg, ranges_.Data);

  // Figures only (KPI tiles): Latin range keeps this face small.
  static const ImWchar kLatin[] = {0x0020, 0x00FF, 0};
  ImFontConfig big = cfg;
  std::snprintf(big.Name, sizeof big.Name, "Noto Sans CJK SC %.0fpx", size_ * 1.6f);
  large_ = io.Fonts->AddFontFromMemoryTTF(data_.data(), static_cast<int>(data_.size()), size_ * 1.6f, &big, kLatin);

  io.Fonts->Build();
  io.FontDefault = regular_;
  rebuild_needed_ = false;
}

}  // namespace exam::app
