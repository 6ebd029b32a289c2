// Checks a screenshot of exam-console: a real, drawn window whose status bar says
// "online" (the green of theme::kOnline) and whose overview table has text in it.
// Exit 0 when every check passes, 1 otherwise (each failure printed).
#include <stb_image.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>

namespace {

struct Image {
  int w = 0;
  int h = 0;
  unsigned char* px = nullptr;
  const unsigned char* At(int x, int y) const { return px + (static_cast<size_t>(y) * w + x) * 3; }
};

// theme::kOnline
constexpr int kGreen[3] = {46, 194, 107};

bool NearGreen(const unsigned char* p, int tolerance) {
  return std::abs(p[0] - kGreen[0]) <= tolerance && std::abs(p[1] - kGreen[1]) <= tolerance &&
         std::abs(p[2] - kGreen[2]) <= tolerance;
}

double Luma(const unsigned char* p) { return 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]; }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: screenshot_check FILE.png\n");
    return 2;
  }
  Image img;
  int channels = 0;
  img.px = stbi_load(argv[1], &img.w, &img.h, &channels, 3);
  if (img.px == nullptr) {
    std::fprintf(stderr, "FAIL: cannot read %s: %s\n", argv[1], stbi_failure_reason());
    return 1;
  }
  int failures = 0;
  auto check = [&](bool ok, const char* what, double value) {
    std::printf("%s: %s (%.1f)\n", ok ? "ok" : "FAIL", what, value);
    if (!ok) failures++;
  };

  check(img.w >= 800 && img.h >= 600, "window at least 800x600", img.w * 1.0);

  // Not a blank or single-colour frame.
  double sum = 0;
  double sum2 = 0;
  std::set<unsigned> colours;
  for (int y = 0; y < img.h; y += 2) {
    for (int x = 0; x < img.w; x += 2) {
      const auto* p = img.At(x, y);
      const double l = Luma(p);
      sum += l;
      sum2 += l * l;
      if (colours.size() < 4096) colours.insert((p[0] << 16) | (p[1] << 8) | p[2]);
    }
  }
  const double n = static_cast<double>((img.w / 2) * (img.h / 2));
  const double stddev = std::sqrt(std::max(0.0, sum2 / n - (sum / n) * (sum / n)));
  check(stddev > 8.0, "image is not uniform (luma stddev)", stddev);
  check(colours.size() > 64, "image has many colours", static_cast<double>(colours.size()));

  // Status bar: the bottom 40 px, left third, holds the online dot and label.
  int green = 0;
  for (int y = img.h - 40; y < img.h; ++y) {
    for (int x = 0; x < img.w / 3; ++x) green += NearGreen(img.At(x, y), 14) ? 1 : 0;
  }
  check(green >= 25, "status bar shows the online green", green);

  // Overview session table (right part, upper middle): rows of light text on a dark table.
  int text = 0;
  for (int y = img.h * 25 / 100; y < img.h * 60 / 100; ++y) {
    for (int x = img.w * 32 / 100; x < img.w * 95 / 100; ++x) text += Luma(img.At(x, y)) > 150.0 ? 1 : 0;
  }
  check(text >= 1500, "overview table has text", text);

  stbi_image_free(img.px);
  std::printf(failures == 0 ? "screenshot looks right\n" : "%d check(s) failed\n", failures);
  return failures == 0 ? 0 : 1;
}
