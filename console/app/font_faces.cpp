#include "app/font_faces.h"

#include <stb_truetype.h>

namespace exam::app {
namespace {

// Name table strings on the Windows platform are UTF-16BE; families here are ASCII.
bool EqualsUtf16Be(const char* name, int length, const std::string& ascii) {
  if (name == nullptr || length != static_cast<int>(ascii.size()) * 2) return false;
  for (size_t i = 0; i < ascii.size(); ++i) {
    if (name[2 * i] != 0 || name[2 * i + 1] != ascii[i]) return false;
  }
  return true;
}

}  // namespace

int FindFaceByFamily(const std::vector<unsigned char>& data, const std::string& family) {
  const int faces = stbtt_GetNumberOfFonts(data.data());
  for (int i = 0; i < faces; ++i) {
    const int offset = stbtt_GetFontOffsetForIndex(data.data(), i);
    stbtt_fontinfo info;
    if (offset < 0 || stbtt_InitFont(&info, data.data(), offset) == 0) continue;
    int length = 0;
    // platform 3 (Windows), encoding 1 (Unicode BMP), language 0x409 (en-US), name 1 (family)
    const char* name = stbtt_GetFontNameString(&info, &length, 3, 1, 0x409, 1);
    if (EqualsUtf16Be(name, length, family)) return i;
  }
  return -1;
}

}  // namespace exam::app
