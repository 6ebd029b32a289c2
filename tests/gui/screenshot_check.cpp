// Checks a screenshot of exam-console: a real, drawn window whose status bar says
// "online" (the green of theme::kOnline) and whose overview table has text in it; with
// `uploads`, the uploads workspace instead, whose table must show at-risk or abnormal rows
// (theme::kDanger), stuck or offline rows (theme::kWarning) and healthy progress bars.
// Exit 0 when every check passes, 1 otherwise (each failure printed).
#include <stb_image.h>

#include <cmath>
#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <set>
#include <string>

namespace {

struct Image {
  int w = 0;
  int h = 0;
  unsigned char* px = nullptr;
  const unsigned char* At(int x, int y) const { return px + (static_cast<size_t>(y) * w + x) * 3; }
};

// theme::kOnline
constexpr int kGreen[3] = {46, 194, 107};

// theme::kDanger, theme::kWarning
constexpr int kRed[3] = {235, 87, 87};
constexpr int kAmber[3] = {240, 173, 58};

bool Near(const unsigned char* p, const int (&c)[3], int tolerance) {
  return std::abs(p[0] - c[0]) <= tolerance && std::abs(p[1] - c[1]) <= tolerance && std::abs(p[2] - c[2]) <= tolerance;
}
bool NearGreen(const unsigned char* p, int tolerance) { return Near(p, kGreen, tolerance); }

double Luma(const unsigned char* p) { return 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]; }

}  // namespace

int main(int argc, char** argv) {
  const bool uploads = argc == 3 && std::string(argv[2]) == "uploads";
  const bool appeals = argc == 3 && std::string(argv[2]) == "appeals";
  const bool wall = argc == 3 && std::string(argv[2]) == "wall";
  const bool focus = argc == 3 && std::string(argv[2]) == "focus";
  const bool review = argc == 3 && std::string(argv[2]) == "review";
  if (argc != 2 && !uploads && !appeals && !wall && !focus && !review) {
    std::fprintf(stderr, "usage: screenshot_check FILE.png [uploads|appeals|wall|focus|review]\n");
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

  if (wall) {
    // Decoded camera video in the tiles. The simulator's camera loop has a pure red key block
    // in the top-left corner of every frame, which the tile's top strip (black at alpha
    // 150/255) darkens to about (105, 0, 0); the loop's moving square is white. Counted over
    // the wall (under the toolbar, above the event log): at least 16 tiles' worth of each.
    int key = 0, white = 0;
    for (int y = img.h * 6 / 100; y < img.h * 70 / 100; ++y) {
      for (int x = 0; x < img.w; ++x) {
        const auto* p = img.At(x, y);
        key += (p[0] >= 80 && p[0] <= 135 && p[1] <= 30 && p[2] <= 30) ? 1 : 0;
        white += (p[0] >= 245 && p[1] >= 245 && p[2] >= 245) ? 1 : 0;
      }
    }
    check(key >= 16 * 250, "at least 16 tiles show the camera's red key block (under the tile strip)", key);
    check(white >= 16 * 40, "at least 16 tiles show the camera's moving white square", white);
    stbi_image_free(img.px);
    std::printf(failures == 0 ? "screenshot looks right\n" : "%d check(s) failed\n", failures);
    return failures == 0 ? 0 : 1;
  }

  if (review) {
    // The review player on question 1 of a synthesized session: the screen recording (a
    // white question page) left, camera and evidence pictures right, the current question
    // in green on the transport row, and question segments on the timeline.
    auto count = [&](int x0, int x1, int y0, int y1, auto pred) {
      int n = 0;
      for (int y = img.h * y0 / 100; y < img.h * y1 / 100; ++y)
        for (int x = img.w * x0 / 100; x < img.w * x1 / 100; ++x) n += pred(img.At(x, y)) ? 1 : 0;
      return n;
    };
    auto area = [&](int x0, int x1, int y0, int y1) { return (img.w * (x1 - x0) / 100) * (img.h * (y1 - y0) / 100); };
    const int page = count(15, 44, 12, 38, [](const unsigned char* p) { return p[0] > 235 && p[1] > 235 && p[2] > 235; });
    check(page >= area(15, 44, 12, 38) / 5, "screen recording shows its white question page", page);
    const int camera = count(51, 75, 7, 23, [](const unsigned char* p) { return Luma(p) > 80; });
    check(camera >= area(51, 75, 7, 23) / 5, "camera recording shows a picture", camera);
    const int evidence = count(51, 75, 29, 43, [](const unsigned char* p) { return Luma(p) > 80; });
    check(evidence >= area(51, 75, 29, 43) / 5, "evidence recording shows a picture", evidence);
    const int question = count(28, 46, 44, 48, [](const unsigned char* p) {
      return p[1] > 120 && p[1] > p[0] + 50 && p[1] > p[2] + 30;  // green text, antialiased
    });
    check(question >= 30, "the transport shows the current question (green)", question);
    constexpr int kSegA[3] = {60, 110, 80}, kSegB[3] = {50, 95, 70};
    const int segments = count(18, 76, 58, 68, [&](const unsigned char* p) { return Near(p, kSegA, 6) || Near(p, kSegB, 6); });
    check(segments >= 2000, "the timeline shows question segments", segments);
    stbi_image_free(img.px);
    std::printf(failures == 0 ? "screenshot looks right\n" : "%d check(s) failed\n", failures);
    return failures == 0 ? 0 : 1;
  }

  if (focus) {
    // The focus view: camera, screen and evidence side by side at full size, each loop with
    // its key colour in its top-left quarter — camera red, screen blue, evidence green — so
    // each third of the video row must show its own colour and not the others'.
    constexpr int kKeys[3][3] = {{255, 0, 0}, {0, 0, 255}, {0, 255, 0}};
    const char* names[3] = {"camera (red)", "screen (blue)", "evidence (green)"};
    int counts[3][3] = {};
    for (int y = img.h * 8 / 100; y < img.h * 45 / 100; ++y)
      for (int x = 0; x < img.w; ++x) {
        const int third = std::min(2, x * 3 / img.w);
        for (int k = 0; k < 3; ++k) counts[third][k] += Near(img.At(x, y), kKeys[k], 40) ? 1 : 0;
      }
    for (int t = 0; t < 3; ++t) {
      std::string what = std::string("third ") + std::to_string(t + 1) + " shows the " + names[t] + " key block";
      check(counts[t][t] >= 2000, what.c_str(), counts[t][t]);
      const int others = counts[t][(t + 1) % 3] + counts[t][(t + 2) % 3];
      what = std::string("third ") + std::to_string(t + 1) + " shows no other track's key colour";
      check(others < counts[t][t] / 10, what.c_str(), others);
    }
    // The event history and the actions under the videos: text on the panels' background.
    int text = 0;
    for (int y = img.h * 45 / 100; y < img.h * 65 / 100; ++y)
      for (int x = 0; x < img.w; ++x) text += Luma(img.At(x, y)) > 150 ? 1 : 0;
    check(text >= 2000, "history and actions have text under the videos", text);
    stbi_image_free(img.px);
    std::printf(failures == 0 ? "screenshot looks right\n" : "%d check(s) failed\n", failures);
    return failures == 0 ? 0 : 1;
  }

  if (appeals) {
    // The review view (right of the queue, upper half) shows the decoded ID photos large:
    // the ID card's pale blue, the red emblem of its back, and skin tones of the portraits.
    constexpr int kCard[3] = {210, 225, 240};
    constexpr int kEmblem[3] = {200, 40, 40};
    int card = 0, emblem = 0;
    for (int y = img.h * 15 / 100; y < img.h * 45 / 100; ++y) {
      for (int x = img.w * 36 / 100; x < img.w; ++x) {
        const auto* p = img.At(x, y);
        card += Near(p, kCard, 16) ? 1 : 0;
        emblem += Near(p, kEmblem, 24) ? 1 : 0;
      }
    }
    check(card >= 3000, "review shows the ID card photo large (card colour)", card);
    check(emblem >= 150, "review shows the ID card back (red emblem)", emblem);
    // The countdown to the deadline: large digits in an urgency colour left of the photos.
    int countdown = 0;
    for (int y = img.h * 8 / 100; y < img.h * 16 / 100; ++y)
      for (int x = img.w * 36 / 100; x < img.w * 50 / 100; ++x) {
        const auto* p = img.At(x, y);
        countdown += (NearGreen(p, 30) || Near(p, kAmber, 30) || Near(p, kRed, 30)) ? 1 : 0;
      }
    check(countdown >= 150, "review shows the deadline countdown", countdown);
    stbi_image_free(img.px);
    std::printf(failures == 0 ? "screenshot looks right\n" : "%d check(s) failed\n", failures);
    return failures == 0 ? 0 : 1;
  }

  if (uploads) {
    // The uploads table: left two thirds, under the toolbar and summary, above the log.
    int red = 0, amber = 0, healthy = 0;
    for (int y = img.h * 12 / 100; y < img.h * 70 / 100; ++y) {
      for (int x = 0; x < img.w * 68 / 100; ++x) {
        const auto* p = img.At(x, y);
        red += Near(p, kRed, 10) ? 1 : 0;
        amber += Near(p, kAmber, 10) ? 1 : 0;
        healthy += NearGreen(p, 10) ? 1 : 0;
      }
    }
    check(red >= 400, "uploads table shows at-risk or abnormal files (danger red)", red);
    check(amber >= 400, "uploads table shows stuck or offline files (warning amber)", amber);
    check(healthy >= 400, "uploads table shows files on track (green bars)", healthy);
    stbi_image_free(img.px);
    std::printf(failures == 0 ? "screenshot looks right\n" : "%d check(s) failed\n", failures);
    return failures == 0 ? 0 : 1;
  }

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
