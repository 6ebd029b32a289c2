#include "backend/media/recording_synth.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
}

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <ctime>
#include <map>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace exam::media {
namespace {

// Bumped whenever the pictures or sounds change, so cached files of an older look are not
// reused under the same plan.
constexpr int kSynthVersion = 2;
constexpr int kAudioRate = 48000;
constexpr int kCamera = 1, kScreen = 2, kEvidence = 3;  // exam.v1.TrackKind

std::string AvError(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

void Check(int err, const std::string& what) {
  if (err < 0) throw std::runtime_error(what + ": " + AvError(err));
}

uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Deterministic white noise in [-1, 1).
class Noise {
 public:
  explicit Noise(uint64_t seed) : s_(Mix(seed) | 1) {}
  float Next() {
    s_ ^= s_ << 13;
    s_ ^= s_ >> 7;
    s_ ^= s_ << 17;
    return static_cast<float>(static_cast<int64_t>(s_ >> 40) - (1ll << 23)) / static_cast<float>(1 << 23);
  }

 private:
  uint64_t s_;
};

// --- speech -------------------------------------------------------------------------------

// Runs espeak-ng and returns its WAV output. Empty when it cannot run.
std::string RunEspeak(const std::string& voice, const std::string& text) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return {};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  std::vector<std::string> args = {"espeak-ng", "-v", voice, "-s", "160", "--stdout", text};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, "espeak-ng", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  std::string wav;
  if (rc == 0) {
    char buf[65536];
    for (;;) {
      const ssize_t n = ::read(out[0], buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      wav.append(buf, static_cast<size_t>(n));
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) wav.clear();
  }
  ::close(out[0]);
  return wav;
}

uint32_t Le32(const std::string& s, size_t at) {
  return static_cast<uint32_t>(static_cast<uint8_t>(s[at])) | static_cast<uint32_t>(static_cast<uint8_t>(s[at + 1])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(s[at + 2])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(s[at + 3])) << 24;
}
uint16_t Le16(const std::string& s, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(s[at]) | static_cast<uint8_t>(s[at + 1]) << 8);
}

// 16-bit PCM WAV → float samples at kAudioRate, mono, resampled with libswresample.
// espeak-ng writes to a pipe, so its RIFF and data sizes are placeholders: the data runs to
// the end of the output.
std::vector<float> DecodeWav(const std::string& wav) {
  if (wav.size() < 44 || wav.compare(0, 4, "RIFF") != 0 || wav.compare(8, 4, "WAVE") != 0)
    throw std::runtime_error("espeak-ng did not write a WAV file");
  int rate = 0, channels = 0, bits = 0;
  size_t at = 12, data = 0, data_len = 0;
  while (at + 8 <= wav.size()) {
    const uint32_t len = Le32(wav, at + 4);
    if (wav.compare(at, 4, "fmt ") == 0 && at + 24 <= wav.size()) {
      channels = Le16(wav, at + 10);
      rate = static_cast<int>(Le32(wav, at + 12));
      bits = Le16(wav, at + 22);
    } else if (wav.compare(at, 4, "data") == 0) {
      data = at + 8;
      data_len = std::min<size_t>(len, wav.size() - data);
      break;
    }
    at += 8 + len + (len & 1);
  }
  if (data == 0 || bits != 16 || channels < 1 || rate <= 0) throw std::runtime_error("unexpected WAV layout from espeak-ng");
  const int in_samples = static_cast<int>(data_len / (2 * static_cast<size_t>(channels)));

  SwrContext* swr = nullptr;
  AVChannelLayout in_layout, out_layout = AV_CHANNEL_LAYOUT_MONO;
  av_channel_layout_default(&in_layout, channels);
  Check(swr_alloc_set_opts2(&swr, &out_layout, AV_SAMPLE_FMT_FLT, kAudioRate, &in_layout, AV_SAMPLE_FMT_S16, rate, 0,
                            nullptr),
        "cannot set up the resampler");
  std::unique_ptr<SwrContext, void (*)(SwrContext*)> owner(swr, [](SwrContext* s) { swr_free(&s); });
  Check(swr_init(swr), "cannot start the resampler");
  std::vector<float> out(static_cast<size_t>(swr_get_out_samples(swr, in_samples) + 256));
  const uint8_t* in_planes[1] = {reinterpret_cast<const uint8_t*>(wav.data() + data)};
  uint8_t* out_planes[1] = {reinterpret_cast<uint8_t*>(out.data())};
  int n = swr_convert(swr, out_planes, static_cast<int>(out.size()), in_planes, in_samples);
  Check(n, "cannot resample speech");
  int total = n;
  out_planes[0] = reinterpret_cast<uint8_t*>(out.data() + total);
  n = swr_convert(swr, out_planes, static_cast<int>(out.size()) - total, nullptr, 0);  // flush
  if (n > 0) total += n;
  out.resize(static_cast<size_t>(total));
  return out;
}

// Drops leading and trailing silence, so a clip placed to end at a moment is audible up to it.
std::vector<float> TrimSilence(std::vector<float> s) {
  auto loud = [](float v) { return std::fabs(v) > 0.02f; };
  const auto first = std::find_if(s.begin(), s.end(), loud);
  const auto last = std::find_if(s.rbegin(), s.rend(), loud).base();
  if (first >= last) return {};
  return std::vector<float>(first, last);
}

// Speech clips by (voice, text), made once per synthesis.
class Voice {
 public:
  const std::vector<float>& Say(const std::string& voice, const std::string& text) {
    auto key = voice + "\n" + text;
    auto it = clips_.find(key);
    if (it != clips_.end()) return it->second;
    const std::string wav = RunEspeak(voice, text);
    if (wav.empty())
      throw std::runtime_error("espeak-ng is needed for the spoken phrases and could not be run (voice " + voice + ")");
    auto clip = TrimSilence(DecodeWav(wav));
    // espeak-ng peaks well below full scale; a normal speaking level on a laptop mic.
    float peak = 1e-6f;
    for (float v : clip) peak = std::max(peak, std::fabs(v));
    for (float& v : clip) v *= 0.5f / peak;
    return clips_.emplace(std::move(key), std::move(clip)).first->second;
  }

 private:
  std::map<std::string, std::vector<float>> clips_;
};

struct Sentence {
  const char* voice;
  const char* text;
};

// What a candidate says per question (never a name: revealing identity is a violation).
const std::vector<Sentence>& AnswerSentences(int question) {
  static const std::vector<std::vector<Sentence>> kAnswers = {
      {{"cmn", "各位老师好，我本科学的是计算机科学与技术。"},
       {"cmn", "我对分布式系统和数据库很感兴趣。"},
       {"cmn", "本科期间我参加过两个科研项目。"}},
      {{"cmn", "这个问题可以从两个方面来回答。"},
       {"cmn", "首先要保证数据的一致性。"},
       {"cmn", "其次要考虑系统的可用性和延迟。"}},
      {{"en", "I would like to continue my research on distributed systems."},
       {"en", "In my spare time I enjoy reading and running."}},
  };
  return kAnswers[static_cast<size_t>(question - 1) % kAnswers.size()];
}

constexpr Sentence kClosingPhrase = {"cmn", "该题回答完毕"};

// --- timeline -----------------------------------------------------------------------------

struct Span {
  int64_t begin_ms, end_ms;  // true time after utc_start
};

// Recorded parts of the laptop's timeline, and of the phone's (which films a little longer).
std::vector<Span> LaptopSpans(const RecordingPlan& p) {
  const int64_t end = static_cast<int64_t>(p.duration_s) * 1000;
  if (p.interruption_at_s <= 0 || p.interruption_s <= 0) return {{0, end}};
  const int64_t at = static_cast<int64_t>(p.interruption_at_s) * 1000;
  return {{0, at}, {at + static_cast<int64_t>(p.interruption_s) * 1000, end}};
}

std::vector<Span> EvidenceSpans(const RecordingPlan& p) {
  auto spans = LaptopSpans(p);
  spans.front().begin_ms -= p.evidence_lead_ms;
  spans.back().end_ms += p.evidence_lead_ms;
  return spans;
}

// --- pictures -----------------------------------------------------------------------------

struct Yuv {
  uint8_t y, u, v;
};

// Drawing on the three planes of a yuv420p picture (coordinates in luma pixels).
struct Canvas {
  uint8_t* plane[3];
  int stride[3];
  int width, height;

  void Fill(int x0, int y0, int x1, int y1, Yuv c) {
    x0 = std::clamp(x0, 0, width) & ~1;
    y0 = std::clamp(y0, 0, height) & ~1;
    x1 = std::clamp(x1, 0, width) & ~1;
    y1 = std::clamp(y1, 0, height) & ~1;
    if (x1 <= x0 || y1 <= y0) return;
    for (int r = y0; r < y1; ++r) std::memset(plane[0] + r * stride[0] + x0, c.y, static_cast<size_t>(x1 - x0));
    for (int r = y0 / 2; r < y1 / 2; ++r) {
      std::memset(plane[1] + r * stride[1] + x0 / 2, c.u, static_cast<size_t>((x1 - x0) / 2));
      std::memset(plane[2] + r * stride[2] + x0 / 2, c.v, static_cast<size_t>((x1 - x0) / 2));
    }
  }

  void Ellipse(int cx, int cy, int rx, int ry, Yuv c) {
    if (rx <= 0 || ry <= 0) return;
    for (int dy = -ry; dy < ry; dy += 2) {
      const double f = 1.0 - (dy + 1.0) * (dy + 1.0) / (static_cast<double>(ry) * ry);
      if (f <= 0) continue;
      const int half = static_cast<int>(rx * std::sqrt(f));
      Fill(cx - half, cy + dy, cx + half, cy + dy + 2, c);
    }
  }

  // Seven-segment digit, `s` pixels per segment thickness unit.
  void Digit(int x, int y, int d, int s, Yuv c) {
    static constexpr std::array<uint8_t, 10> kSegments = {0x3F, 0x06, 0x5B, 0x4F, 0x66, 0x6D, 0x7D, 0x07, 0x7F, 0x6F};
    const uint8_t m = kSegments[static_cast<size_t>(d % 10)];
    const int w = 5 * s, h = 9 * s;
    if (m & 0x01) Fill(x, y, x + w, y + s, c);                      // a
    if (m & 0x02) Fill(x + w - s, y, x + w, y + h / 2 + s / 2, c);  // b
    if (m & 0x04) Fill(x + w - s, y + h / 2, x + w, y + h, c);      // c
    if (m & 0x08) Fill(x, y + h - s, x + w, y + h, c);              // d
    if (m & 0x10) Fill(x, y + h / 2, x + s, y + h, c);              // e
    if (m & 0x20) Fill(x, y, x + s, y + h / 2 + s / 2, c);          // f
    if (m & 0x40) Fill(x, y + h / 2 - s / 2, x + w, y + h / 2 + s / 2 + (s & 1), c);  // g
  }

  // hh:mm:ss.cc of a device clock in Beijing time, on a dark plate.
  void TimeCode(int x, int y, int s, int64_t utc_ms) {
    const int64_t local = ((utc_ms + 8 * 3600 * 1000LL) % (24 * 3600 * 1000LL) + 24 * 3600 * 1000LL) % (24 * 3600 * 1000LL);
    const int digits[8] = {static_cast<int>(local / 36000000), static_cast<int>(local / 3600000 % 10),
                           static_cast<int>(local / 600000 % 6),  static_cast<int>(local / 60000 % 10),
                           static_cast<int>(local / 10000 % 6),   static_cast<int>(local / 1000 % 10),
                           static_cast<int>(local / 100 % 10),    static_cast<int>(local / 10 % 10)};
    const int advance = 7 * s;
    Fill(x - 2 * s, y - 2 * s, x + 8 * advance + 4 * s, y + 11 * s, {20, 128, 128});
    int px = x;
    for (int i = 0; i < 8; ++i) {
      Digit(px, y, digits[i], s, {225, 128, 128});
      px += advance;
      if (i == 1 || i == 3 || i == 5) {  // separators
        Fill(px - s, y + 2 * s, px, y + 3 * s, {225, 128, 128});
        Fill(px - s, y + 6 * s, px, y + 7 * s, {225, 128, 128});
        px += s;
      }
    }
  }
};

// Owned planes for pictures drawn before they are turned (portrait phone).
struct Picture {
  std::vector<uint8_t> data[3];
  Canvas canvas;
  Picture(int w, int h) {
    data[0].assign(static_cast<size_t>(w) * h, 16);
    data[1].assign(static_cast<size_t>(w / 2) * (h / 2), 128);
    data[2].assign(static_cast<size_t>(w / 2) * (h / 2), 128);
    canvas = Canvas{{data[0].data(), data[1].data(), data[2].data()}, {w, w / 2, w / 2}, w, h};
  }
};

void CopyInto(const Canvas& from, Canvas& to) {
  for (int p = 0; p < 3; ++p) {
    const int rows = p == 0 ? from.height : from.height / 2;
    const int bytes = p == 0 ? from.width : from.width / 2;
    for (int r = 0; r < rows; ++r)
      std::memcpy(to.plane[p] + r * to.stride[p], from.plane[p] + r * from.stride[p], static_cast<size_t>(bytes));
  }
}

// Stores an upright portrait picture (w×h) turned 90° counter-clockwise into a landscape
// frame (h×w): coded(x, y) = upright(w - 1 - y, x). The stream's display matrix turns it back.
void TurnCounterClockwise(const Canvas& upright, Canvas& coded) {
  for (int p = 0; p < 3; ++p) {
    const int uw = p == 0 ? upright.width : upright.width / 2;
    const int ch = p == 0 ? coded.height : coded.height / 2;
    const int cw = p == 0 ? coded.width : coded.width / 2;
    for (int y = 0; y < ch; ++y) {
      uint8_t* row = coded.plane[p] + y * coded.stride[p];
      const int ux = uw - 1 - y;
      for (int x = 0; x < cw; ++x) row[x] = upright.plane[p][x * upright.stride[p] + ux];
    }
  }
}

// --- the scene ----------------------------------------------------------------------------

// Everything that happens in the room, shared by the three tracks.
class Scene {
 public:
  Scene(const RecordingPlan& plan, const SessionTimeline& timeline) : plan_(plan), timeline_(timeline) {
    const uint64_t h = Mix(plan.seed);
    skin_ = {static_cast<uint8_t>(150 + h % 30), static_cast<uint8_t>(108 + (h >> 8) % 8), static_cast<uint8_t>(148 + (h >> 16) % 10)};
    shirt_ = {static_cast<uint8_t>(60 + (h >> 24) % 90), static_cast<uint8_t>(90 + (h >> 32) % 80), static_cast<uint8_t>(90 + (h >> 40) % 80)};
  }

  // Sound in the room at true time, covering the phone's whole span.
  void MakeRoomSound(Voice& voice) {
    const auto spans = EvidenceSpans(plan_);
    room_begin_ms_ = spans.front().begin_ms;
    const int64_t samples = (spans.back().end_ms - room_begin_ms_) * kAudioRate / 1000 + kAudioRate;
    room_.assign(static_cast<size_t>(samples), 0.0f);
    Noise pauses(plan_.seed ^ 0x5EEC4ull);
    for (const auto& q : timeline_.questions) {
      const auto& phrase = voice.Say(kClosingPhrase.voice, kClosingPhrase.text);
      const int64_t phrase_end = Sample(q.complete_ms);
      const int64_t phrase_begin = phrase_end - static_cast<int64_t>(phrase.size());
      Place(phrase, phrase_begin, phrase_end);
      // The answer: sentences with pauses from a moment after the question shows until
      // shortly before the closing phrase.
      int64_t at = Sample(q.shown_ms + 1500);
      const int64_t answer_end = phrase_begin - kAudioRate * 6 / 10;
      const auto& sentences = AnswerSentences(q.question);
      for (size_t i = 0; at < answer_end; ++i) {
        const auto& s = sentences[i % sentences.size()];
        const auto& clip = voice.Say(s.voice, s.text);
        Place(clip, at, answer_end);
        at += static_cast<int64_t>(clip.size()) + kAudioRate * (7 + static_cast<int64_t>((pauses.Next() + 1) * 5)) / 10;
      }
    }
  }

  // Camera microphone: the room, close.
  std::vector<float> CameraAudio(Span span) const { return Mic(span, 1.0f, 0.0015f, plan_.seed ^ 0xCA3ull); }
  // Phone behind the candidate: the same room, quieter and noisier.
  std::vector<float> EvidenceAudio(Span span) const { return Mic(span, 0.35f, 0.004f, plan_.seed ^ 0xE71ull); }

  // 0..1: how open the mouth is at true time t (speech loudness around t).
  double Mouth(int64_t t_ms) const {
    const int64_t c = Sample(t_ms);
    const int64_t w = kAudioRate / 50;
    double sum = 0;
    int n = 0;
    for (int64_t i = std::max<int64_t>(0, c - w); i < std::min<int64_t>(static_cast<int64_t>(room_.size()), c + w); i += 8) {
      sum += static_cast<double>(room_[static_cast<size_t>(i)]) * room_[static_cast<size_t>(i)];
      ++n;
    }
    return n ? std::min(1.0, std::sqrt(sum / n) * 6) : 0.0;
  }

  // Question on screen at true time t: 0 before the first, questions+1 after the last answer.
  int QuestionAt(int64_t t_ms, double* progress) const {
    int current = 0;
    *progress = 0;
    for (const auto& q : timeline_.questions) {
      if (t_ms >= q.shown_ms) {
        current = q.question;
        *progress = std::clamp(static_cast<double>(t_ms - q.shown_ms) / static_cast<double>(std::max<int64_t>(1, q.complete_ms - q.shown_ms)), 0.0, 1.0);
      }
    }
    if (!timeline_.questions.empty() && t_ms >= timeline_.questions.back().complete_ms + 1000) return static_cast<int>(timeline_.questions.size()) + 1;
    return current;
  }

  static Yuv QuestionColour(int q) {
    static constexpr std::array<Yuv, 5> kColours = {Yuv{90, 150, 110}, Yuv{80, 170, 120}, Yuv{110, 90, 160},
                                                   Yuv{120, 100, 100}, Yuv{70, 160, 150}};
    return kColours[static_cast<size_t>(q) % kColours.size()];
  }

  void DrawScreen(Canvas& c, int64_t t_ms) const {
    double progress = 0;
    const int q = QuestionAt(t_ms, &progress);
    const int w = c.width, h = c.height;
    c.Fill(0, 0, w, h, {230, 128, 128});
    c.Fill(0, 0, w, h / 13, QuestionColour(q));
    // The exam client's step bar: one box per question, the current one filled.
    const int n = std::max(1, plan_.questions);
    for (int i = 1; i <= n; ++i) {
      const int x = w / 20 + (i - 1) * w / 12;
      c.Fill(x, h / 40, x + w / 14, h / 40 + h / 36, i == q ? Yuv{235, 128, 128} : Yuv{150, 128, 128});
    }
    if (q >= 1 && q <= n) {
      // The question page: text lines whose layout differs per question.
      const uint64_t layout = Mix(plan_.seed * 131 + static_cast<uint64_t>(q));
      for (int line = 0; line < 9; ++line) {
        const int len = static_cast<int>(w * (0.35 + 0.5 * static_cast<double>((layout >> (line * 5)) % 32) / 32.0));
        const int y = h / 6 + line * h / 18;
        c.Fill(w / 12, y, w / 12 + len, y + h / 54, {70, 128, 128});
      }
      // Answer countdown.
      c.Fill(w / 12, h * 8 / 10, w * 11 / 12, h * 8 / 10 + h / 30, {190, 128, 128});
      c.Fill(w / 12, h * 8 / 10, w / 12 + static_cast<int>((w * 10 / 12) * (1.0 - progress)), h * 8 / 10 + h / 30,
             QuestionColour(q));
    } else {
      // Waiting before the first question, submitted after the last: one centred panel.
      c.Fill(w / 3, h / 3, w * 2 / 3, h * 2 / 3, q == 0 ? Yuv{200, 128, 128} : Yuv{170, 100, 110});
    }
    // The mouse cursor wanders over the page.
    const double s = static_cast<double>(t_ms) / 1000.0;
    const int cx = static_cast<int>(w * (0.5 + 0.4 * std::sin(s * 0.7 + static_cast<double>(plan_.seed))));
    const int cy = static_cast<int>(h * (0.5 + 0.35 * std::sin(s * 1.1)));
    c.Fill(cx, cy, cx + w / 120, cy + h / 45, {16, 128, 128});
    c.TimeCode(w - w / 4, h - h / 14, std::max(2, h / 270), plan_.utc_start_ms + t_ms);
  }

  void DrawCameraBackground(Canvas& c) const {
    const int w = c.width, h = c.height;
    for (int y = 0; y < h; y += 2) c.Fill(0, y, w, y + 2, {static_cast<uint8_t>(170 - 50 * y / h), 124, 134});
    // A bookshelf behind the candidate.
    c.Fill(w * 3 / 4, h / 8, w * 19 / 20, h * 7 / 10, {80, 120, 140});
    for (int shelf = 0; shelf < 4; ++shelf) {
      const int y = h / 8 + (shelf + 1) * h * 14 / 100;
      c.Fill(w * 3 / 4, y, w * 19 / 20, y + h / 90, {50, 124, 136});
      for (int b = 0; b < 6; ++b) {
        const uint64_t r = Mix(static_cast<uint64_t>(shelf * 16 + b) ^ plan_.seed);
        const int x = w * 3 / 4 + w / 100 + b * w / 36;
        c.Fill(x, y - h / 10 + static_cast<int>(r % 20), x + w / 48, y, {static_cast<uint8_t>(60 + r % 120), static_cast<uint8_t>(90 + (r >> 8) % 80), static_cast<uint8_t>(90 + (r >> 16) % 80)});
      }
    }
  }

  void DrawCamera(Canvas& c, int64_t t_ms) const {
    const int w = c.width, h = c.height;
    const double s = static_cast<double>(t_ms) / 1000.0;
    const int sway = static_cast<int>(w / 120.0 * std::sin(s * 2 * M_PI / 7.0));
    const int nod = static_cast<int>(h / 200.0 * std::sin(s * 2 * M_PI / 3.1));
    const int cx = w / 2 + sway, cy = h * 42 / 100 + nod;
    c.Fill(cx - w / 6, h * 72 / 100, cx + w / 6, h, shirt_);      // shoulders
    c.Fill(cx - w / 28, h * 60 / 100, cx + w / 28, h * 74 / 100, skin_);  // neck
    c.Ellipse(cx, cy - h / 18, w / 11, h / 9, {40, 128, 128});     // hair
    c.Ellipse(cx, cy, w / 13, h / 6, skin_);                      // face
    // Eyes blink every few seconds.
    const bool blink = std::fmod(s + static_cast<double>(plan_.seed % 5), 4.3) < 0.15;
    for (int side : {-1, 1})
      c.Fill(cx + side * w / 36 - w / 160, cy - h / 30, cx + side * w / 36 + w / 160, cy - h / 30 + (blink ? 2 : h / 60), {30, 128, 128});
    const int open = 2 + static_cast<int>(Mouth(t_ms) * h / 30);
    c.Ellipse(cx, cy + h / 14, w / 40, open, {50, 120, 150});
    c.TimeCode(w / 40, h - h / 12, std::max(2, h / 240), plan_.utc_start_ms + t_ms);
  }

  // The room from behind, 45° to the side; `phone_ms` is the phone's clock for the time code.
  void DrawEvidence(Canvas& c, int64_t t_ms, int64_t phone_ms) const {
    const int w = c.width, h = c.height;
    c.Fill(0, 0, w, h * 6 / 10, {150, 122, 132});          // wall
    c.Fill(0, h * 6 / 10, w, h, {95, 118, 140});           // floor
    c.Fill(w / 10, h * 55 / 100, w * 9 / 10, h * 62 / 100, {70, 115, 145});  // desk
    // The laptop's screen, lit in the colour of the question page.
    double progress = 0;
    const Yuv page = QuestionColour(QuestionAt(t_ms, &progress));
    c.Fill(w * 55 / 100, h * 32 / 100, w * 80 / 100, h * 54 / 100, {30, 128, 128});
    c.Fill(w * 56 / 100, h * 33 / 100, w * 79 / 100, h * 53 / 100, {static_cast<uint8_t>(std::min(235, page.y + 90)), page.u, page.v});
    // The candidate's back.
    const double s = static_cast<double>(t_ms) / 1000.0;
    const int sway = static_cast<int>(w / 150.0 * std::sin(s * 2 * M_PI / 7.0));
    const int cx = w * 38 / 100 + sway;
    c.Fill(cx - w / 7, h * 55 / 100, cx + w / 7, h, shirt_);
    c.Ellipse(cx, h * 45 / 100, std::min(w, h) / 8, std::min(w, h) / 7, {40, 128, 128});
    c.TimeCode(w / 40, h / 30, std::max(2, std::min(w, h) / 240), plan_.utc_start_ms + phone_ms);
  }

 private:
  int64_t Sample(int64_t t_ms) const { return (t_ms - room_begin_ms_) * kAudioRate / 1000; }

  void Place(const std::vector<float>& clip, int64_t at, int64_t end) {
    const int64_t n = std::min<int64_t>(static_cast<int64_t>(clip.size()), end - at);
    const int64_t fade = kAudioRate / 50;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t k = at + i;
      if (k < 0 || k >= static_cast<int64_t>(room_.size())) continue;
      // A clip cut short fades out instead of clicking.
      const float gain = n < static_cast<int64_t>(clip.size()) && n - i < fade ? static_cast<float>(n - i) / fade : 1.0f;
      room_[static_cast<size_t>(k)] += clip[static_cast<size_t>(i)] * gain;
    }
  }

  std::vector<float> Mic(Span span, float gain, float noise_level, uint64_t seed) const {
    Noise noise(seed + static_cast<uint64_t>(span.begin_ms));
    const int64_t first = Sample(span.begin_ms);
    std::vector<float> out(static_cast<size_t>((span.end_ms - span.begin_ms) * kAudioRate / 1000));
    for (size_t i = 0; i < out.size(); ++i) {
      const int64_t k = first + static_cast<int64_t>(i);
      const float room = k >= 0 && k < static_cast<int64_t>(room_.size()) ? room_[static_cast<size_t>(k)] : 0.0f;
      out[i] = room * gain + noise.Next() * noise_level;
    }
    return out;
  }

  const RecordingPlan& plan_;
  const SessionTimeline& timeline_;
  Yuv skin_, shirt_;
  int64_t room_begin_ms_ = 0;
  std::vector<float> room_;
};

// --- encoding -----------------------------------------------------------------------------

struct TrackSpec {
  std::filesystem::path path;
  int width, height, fps, gop_frames;
  bool audio;
  bool portrait;  // display matrix turning the coded frame 90° clockwise
  int64_t creation_utc_ms;
  std::string comment;
};

std::string Iso8601(int64_t utc_ms) {
  const std::time_t secs = static_cast<std::time_t>(utc_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(utc_ms % 1000));
  return buf;
}

// One MP4 file: H.264 video and, optionally, AAC audio, written in interleaved order.
class TrackWriter {
 public:
  explicit TrackWriter(const TrackSpec& spec) : spec_(spec) {
    Check(avformat_alloc_output_context2(&fmt_, nullptr, "mp4", spec.path.c_str()), "cannot create an MP4 muxer");
    const AVCodec* h264 = avcodec_find_encoder_by_name("libx264");
    if (!h264) throw std::runtime_error("libavcodec has no libx264 encoder");
    video_ = avcodec_alloc_context3(h264);
    video_->width = spec.width;
    video_->height = spec.height;
    video_->pix_fmt = AV_PIX_FMT_YUV420P;
    video_->time_base = AVRational{1, spec.fps};
    video_->framerate = AVRational{spec.fps, 1};
    video_->gop_size = spec.gop_frames;
    video_->keyint_min = spec.gop_frames;
    video_->max_b_frames = 0;
    // One encoder thread: the demo runs beside a live exam on a small machine.
    video_->thread_count = 1;
    video_->color_range = AVCOL_RANGE_MPEG;
    video_->colorspace = AVCOL_SPC_BT709;
    video_->color_primaries = AVCOL_PRI_BT709;
    video_->color_trc = AVCOL_TRC_BT709;
    if (fmt_->oformat->flags & AVFMT_GLOBALHEADER) video_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    av_opt_set(video_->priv_data, "preset", "ultrafast", 0);
    av_opt_set(video_->priv_data, "crf", "27", 0);
    // Keyframes exactly every gop_frames: scene cuts would add unplanned ones.
    av_opt_set(video_->priv_data, "x264-params", "scenecut=0", 0);
    Check(avcodec_open2(video_, h264, nullptr), "cannot open libx264");
    vstream_ = avformat_new_stream(fmt_, nullptr);
    Check(avcodec_parameters_from_context(vstream_->codecpar, video_), "cannot describe the video stream");
    vstream_->time_base = video_->time_base;
    vstream_->avg_frame_rate = video_->framerate;
    if (spec.portrait) {
      auto* matrix = reinterpret_cast<int32_t*>(av_stream_new_side_data(vstream_, AV_PKT_DATA_DISPLAYMATRIX, sizeof(int32_t) * 9));
      if (!matrix) throw std::runtime_error("cannot add a display matrix");
      av_display_rotation_set(matrix, 90);
    }
    if (spec.audio) {
      const AVCodec* aac = avcodec_find_encoder(AV_CODEC_ID_AAC);
      if (!aac) throw std::runtime_error("libavcodec has no AAC encoder");
      audio_ = avcodec_alloc_context3(aac);
      audio_->sample_rate = kAudioRate;
      audio_->sample_fmt = AV_SAMPLE_FMT_FLTP;
      audio_->ch_layout = AV_CHANNEL_LAYOUT_MONO;
      audio_->bit_rate = 64000;
      audio_->time_base = AVRational{1, kAudioRate};
      if (fmt_->oformat->flags & AVFMT_GLOBALHEADER) audio_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
      Check(avcodec_open2(audio_, aac, nullptr), "cannot open the AAC encoder");
      astream_ = avformat_new_stream(fmt_, nullptr);
      Check(avcodec_parameters_from_context(astream_->codecpar, audio_), "cannot describe the audio stream");
      astream_->time_base = audio_->time_base;
      aframe_ = av_frame_alloc();
      aframe_->nb_samples = audio_->frame_size;
      aframe_->format = audio_->sample_fmt;
      Check(av_channel_layout_copy(&aframe_->ch_layout, &audio_->ch_layout), "cannot set the channel layout");
      aframe_->sample_rate = kAudioRate;
      Check(av_frame_get_buffer(aframe_, 0), "cannot allocate an audio frame");
    }
    av_dict_set(&fmt_->metadata, "creation_time", Iso8601(spec.creation_utc_ms).c_str(), 0);
    if (!spec.comment.empty()) av_dict_set(&fmt_->metadata, "comment", spec.comment.c_str(), 0);
    Check(avio_open(&fmt_->pb, spec.path.c_str(), AVIO_FLAG_WRITE), "cannot create " + spec.path.string());
    AVDictionary* opts = nullptr;
    // moov first: a remote reader starts playing after a few ranged reads, not the whole file.
    av_dict_set(&opts, "movflags", "+faststart", 0);
    const int rc = avformat_write_header(fmt_, &opts);
    av_dict_free(&opts);
    Check(rc, "cannot write the MP4 header");
    vframe_ = av_frame_alloc();
    vframe_->format = AV_PIX_FMT_YUV420P;
    vframe_->width = spec.width;
    vframe_->height = spec.height;
    vframe_->color_range = AVCOL_RANGE_MPEG;
    vframe_->colorspace = AVCOL_SPC_BT709;
    Check(av_frame_get_buffer(vframe_, 0), "cannot allocate a video frame");
    packet_ = av_packet_alloc();
  }

  ~TrackWriter() {
    av_packet_free(&packet_);
    av_frame_free(&vframe_);
    av_frame_free(&aframe_);
    avcodec_free_context(&video_);
    avcodec_free_context(&audio_);
    if (fmt_) {
      if (fmt_->pb) avio_closep(&fmt_->pb);
      avformat_free_context(fmt_);
    }
  }

  // The next picture to fill.
  Canvas NextCanvas() {
    Check(av_frame_make_writable(vframe_), "cannot write a video frame");
    return Canvas{{vframe_->data[0], vframe_->data[1], vframe_->data[2]},
                  {vframe_->linesize[0], vframe_->linesize[1], vframe_->linesize[2]},
                  spec_.width,
                  spec_.height};
  }

  // Encodes the canvas as frame `index`, after the audio up to its end.
  void WriteVideo(int64_t index, const std::vector<float>* audio) {
    if (audio) WriteAudioUntil(*audio, (index + 1) * kAudioRate / spec_.fps);
    vframe_->pts = index;
    Check(avcodec_send_frame(video_, vframe_), "cannot encode video");
    Drain(video_, vstream_);
    frames_ = index + 1;
  }

  void Finish(const std::vector<float>* audio) {
    if (audio) {
      WriteAudioUntil(*audio, static_cast<int64_t>(audio->size()));
      Check(avcodec_send_frame(audio_, nullptr), "cannot flush audio");
      Drain(audio_, astream_);
    }
    Check(avcodec_send_frame(video_, nullptr), "cannot flush video");
    Drain(video_, vstream_);
    Check(av_write_trailer(fmt_), "cannot finish " + spec_.path.string());
    avio_closep(&fmt_->pb);
  }

  int64_t duration_ms() const { return frames_ * 1000 / spec_.fps; }

 private:
  void WriteAudioUntil(const std::vector<float>& audio, int64_t until) {
    until = std::min<int64_t>(until, static_cast<int64_t>(audio.size()));
    while (audio_sent_ < until) {
      Check(av_frame_make_writable(aframe_), "cannot write an audio frame");
      auto* out = reinterpret_cast<float*>(aframe_->data[0]);
      const int64_t n = std::min<int64_t>(audio_->frame_size, static_cast<int64_t>(audio.size()) - audio_sent_);
      std::memcpy(out, audio.data() + audio_sent_, static_cast<size_t>(n) * sizeof(float));
      std::fill(out + n, out + audio_->frame_size, 0.0f);
      aframe_->nb_samples = audio_->frame_size;
      aframe_->pts = audio_sent_;
      Check(avcodec_send_frame(audio_, aframe_), "cannot encode audio");
      Drain(audio_, astream_);
      audio_sent_ += audio_->frame_size;
    }
  }

  void Drain(AVCodecContext* codec, AVStream* stream) {
    for (;;) {
      const int rc = avcodec_receive_packet(codec, packet_);
      if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return;
      Check(rc, "encoder failed");
      av_packet_rescale_ts(packet_, codec->time_base, stream->time_base);
      packet_->stream_index = stream->index;
      Check(av_interleaved_write_frame(fmt_, packet_), "cannot write " + spec_.path.string());
    }
  }

  TrackSpec spec_;
  AVFormatContext* fmt_ = nullptr;
  AVCodecContext* video_ = nullptr;
  AVCodecContext* audio_ = nullptr;
  AVStream* vstream_ = nullptr;
  AVStream* astream_ = nullptr;
  AVFrame* vframe_ = nullptr;
  AVFrame* aframe_ = nullptr;
  AVPacket* packet_ = nullptr;
  int64_t audio_sent_ = 0;
  int64_t frames_ = 0;
};

void ThrowIfCancelled(const std::atomic<bool>* cancel) {
  if (cancel && cancel->load(std::memory_order_relaxed)) throw SynthesisCancelled{};
}

}  // namespace

// --- plan ---------------------------------------------------------------------------------

std::string RecordingPlan::ToText() const {
  std::ostringstream out;
  out << "seed=" << seed << " questions=" << questions << " duration_s=" << duration_s << " utc_start_ms=" << utc_start_ms
      << " screen=" << screen_width << "x" << screen_height << "@" << screen_fps << " camera=" << camera_width << "x"
      << camera_height << "@" << camera_fps << " evidence=" << evidence_width << "x" << evidence_height << "@"
      << evidence_fps << " laptop_gop_s=" << laptop_gop_s << " evidence_gop_s=" << evidence_gop_s
      << " evidence_lead_ms=" << evidence_lead_ms << " evidence_clock_offset_ms=" << evidence_clock_offset_ms
      << " evidence_portrait=" << (evidence_portrait ? 1 : 0) << " interruption_at_s=" << interruption_at_s
      << " interruption_s=" << interruption_s;
  return out.str();
}

std::optional<RecordingPlan> RecordingPlan::FromText(const std::string& text) {
  RecordingPlan p;
  std::istringstream in(text);
  std::string item;
  auto size = [](const std::string& v, int* w, int* h, int* fps) {
    return std::sscanf(v.c_str(), "%dx%d@%d", w, h, fps) == 3;
  };
  while (in >> item) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) return std::nullopt;
    const std::string k = item.substr(0, eq), v = item.substr(eq + 1);
    try {
      if (k == "seed") p.seed = std::stoull(v);
      else if (k == "questions") p.questions = std::stoi(v);
      else if (k == "duration_s") p.duration_s = std::stoi(v);
      else if (k == "utc_start_ms") p.utc_start_ms = std::stoll(v);
      else if (k == "screen") { if (!size(v, &p.screen_width, &p.screen_height, &p.screen_fps)) return std::nullopt; }
      else if (k == "camera") { if (!size(v, &p.camera_width, &p.camera_height, &p.camera_fps)) return std::nullopt; }
      else if (k == "evidence") { if (!size(v, &p.evidence_width, &p.evidence_height, &p.evidence_fps)) return std::nullopt; }
      else if (k == "laptop_gop_s") p.laptop_gop_s = std::stoi(v);
      else if (k == "evidence_gop_s") p.evidence_gop_s = std::stoi(v);
      else if (k == "evidence_lead_ms") p.evidence_lead_ms = std::stoi(v);
      else if (k == "evidence_clock_offset_ms") p.evidence_clock_offset_ms = std::stoi(v);
      else if (k == "evidence_portrait") p.evidence_portrait = v == "1";
      else if (k == "interruption_at_s") p.interruption_at_s = std::stoi(v);
      else if (k == "interruption_s") p.interruption_s = std::stoi(v);
      else return std::nullopt;
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return p;
}

std::string RecordingPlan::CacheKey() const {
  // FNV-1a over the plan text; the plan is small and the key only names a cache folder.
  uint64_t h = 1469598103934665603ull;
  for (char c : ToText() + " v" + std::to_string(kSynthVersion)) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ull;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

SessionTimeline PlanTimeline(const RecordingPlan& plan) {
  SessionTimeline t;
  const int64_t total = static_cast<int64_t>(plan.duration_s) * 1000;
  const int64_t gap_at = plan.interruption_at_s > 0 && plan.interruption_s > 0 ? plan.interruption_at_s * 1000LL : -1;
  const int64_t gap = gap_at >= 0 ? plan.interruption_s * 1000LL : 0;
  // Questions are laid out over the recorded time; the interruption pushes later moments on.
  auto real = [&](int64_t recorded) { return gap_at >= 0 && recorded >= gap_at ? recorded + gap : recorded; };
  const int64_t recorded = total - gap;
  const int64_t lead = 1000, tail = 1000;
  const int n = std::max(1, plan.questions);
  const int64_t slot = std::max<int64_t>(4000, (recorded - lead - tail) / n);
  // Quiet after each answer until the next question shows: long enough to tell silence from
  // speech around the marker.
  const int64_t quiet = std::clamp<int64_t>(slot / 10, 1500, 5000);
  for (int q = 1; q <= n; ++q) {
    const int64_t shown = lead + (q - 1) * slot;
    t.questions.push_back({q, real(shown), real(shown + slot - quiet)});
  }
  auto at = [&](int q, double fraction) {
    const auto& qt = t.questions[static_cast<size_t>(std::min(q, n) - 1)];
    return qt.shown_ms + static_cast<int64_t>(static_cast<double>(qt.complete_ms - qt.shown_ms) * fraction);
  };
  using K = FlagTiming::Kind;
  t.flags.push_back({K::kAlert, at(1, 0.45), "another voice in the room"});
  t.flags.push_back({K::kHelp, at(std::min(2, n), 0.25), "candidate asked for help"});
  t.flags.push_back({K::kViolation, at(n, 0.6), "looked away from the screen"});
  if (gap_at >= 0) {
    t.flags.push_back({K::kInterruptionStarted, gap_at, "recording interrupted"});
    t.flags.push_back({K::kInterruptionEnded, gap_at + gap, "recording resumed"});
  }
  std::stable_sort(t.flags.begin(), t.flags.end(), [](const FlagTiming& a, const FlagTiming& b) { return a.at_ms < b.at_ms; });
  t.end_ms = total;
  return t;
}

std::vector<SynthesizedFile> SynthesizeRecordings(const RecordingPlan& plan, const std::filesystem::path& dir,
                                                  const std::atomic<bool>* cancel) {
  if (plan.duration_s < 4 || plan.questions < 1) throw std::runtime_error("a recording plan needs at least 4 s and 1 question");
  for (int v : {plan.screen_width, plan.screen_height, plan.camera_width, plan.camera_height, plan.evidence_width,
                plan.evidence_height})
    if (v < 64 || v % 2) throw std::runtime_error("picture sizes must be even and at least 64 pixels");
  if (plan.screen_fps < 1 || plan.camera_fps < 1 || plan.evidence_fps < 1 || plan.laptop_gop_s < 1 || plan.evidence_gop_s < 1)
    throw std::runtime_error("frame rates and keyframe intervals must be positive");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create " + dir.string() + ": " + ec.message());

  // x264, the AAC encoder and the MP4 muxer report statistics at INFO for every file; a
  // backend making recordings in the background should not fill its log with them.
  if (av_log_get_level() > AV_LOG_WARNING) av_log_set_level(AV_LOG_WARNING);
  const SessionTimeline timeline = PlanTimeline(plan);
  Scene scene(plan, timeline);
  Voice voice;
  scene.MakeRoomSound(voice);

  std::vector<SynthesizedFile> files;
  auto remove_written = [&] {
    for (const auto& f : files) std::filesystem::remove(f.path, ec);
  };
  try {
    const auto laptop = LaptopSpans(plan);
    const auto phone = EvidenceSpans(plan);
    for (size_t seg = 0; seg < laptop.size(); ++seg) {
      // Screen: no audio (the camera's microphone records the room).
      {
        const Span span = laptop[seg];
        SynthesizedFile f{kScreen, static_cast<int>(seg), dir / ("screen-" + std::to_string(seg) + ".mp4")};
        f.utc_start_ms = plan.utc_start_ms + span.begin_ms;
        TrackWriter out({f.path, plan.screen_width, plan.screen_height, plan.screen_fps, plan.screen_fps * plan.laptop_gop_s,
                         false, false, f.utc_start_ms, ""});
        const int64_t frames = (span.end_ms - span.begin_ms) * plan.screen_fps / 1000;
        files.push_back(f);
        for (int64_t i = 0; i < frames; ++i) {
          ThrowIfCancelled(cancel);
          Canvas c = out.NextCanvas();
          scene.DrawScreen(c, span.begin_ms + i * 1000 / plan.screen_fps);
          out.WriteVideo(i, nullptr);
        }
        out.Finish(nullptr);
        files.back().duration_ms = out.duration_ms();
        files.back().width = plan.screen_width;
        files.back().height = plan.screen_height;
      }
      // Camera with the close microphone.
      {
        const Span span = laptop[seg];
        SynthesizedFile f{kCamera, static_cast<int>(seg), dir / ("camera-" + std::to_string(seg) + ".mp4")};
        f.utc_start_ms = plan.utc_start_ms + span.begin_ms;
        TrackWriter out({f.path, plan.camera_width, plan.camera_height, plan.camera_fps, plan.camera_fps * plan.laptop_gop_s,
                         true, false, f.utc_start_ms, ""});
        const auto audio = scene.CameraAudio(span);
        Picture background(plan.camera_width, plan.camera_height);
        scene.DrawCameraBackground(background.canvas);
        const int64_t frames = (span.end_ms - span.begin_ms) * plan.camera_fps / 1000;
        files.push_back(f);
        for (int64_t i = 0; i < frames; ++i) {
          ThrowIfCancelled(cancel);
          Canvas c = out.NextCanvas();
          CopyInto(background.canvas, c);
          scene.DrawCamera(c, span.begin_ms + i * 1000 / plan.camera_fps);
          out.WriteVideo(i, &audio);
        }
        out.Finish(&audio);
        files.back().duration_ms = out.duration_ms();
        files.back().width = plan.camera_width;
        files.back().height = plan.camera_height;
      }
      // Evidence phone: its own span, its own (wrong) clock, a long GOP.
      {
        const Span span = phone[seg];
        SynthesizedFile f{kEvidence, static_cast<int>(seg), dir / ("evidence-" + std::to_string(seg) + ".mp4")};
        f.utc_start_ms = plan.utc_start_ms + span.begin_ms + plan.evidence_clock_offset_ms;
        const int coded_w = plan.evidence_width, coded_h = plan.evidence_height;
        char comment[160];
        std::snprintf(comment, sizeof comment,
                      "synthetic evidence recording; device clock off by %+d ms (positive: ahead of true time)",
                      plan.evidence_clock_offset_ms);
        TrackWriter out({f.path, coded_w, coded_h, plan.evidence_fps, plan.evidence_fps * plan.evidence_gop_s, true,
                         plan.evidence_portrait, f.utc_start_ms, comment});
        const auto audio = scene.EvidenceAudio(span);
        std::optional<Picture> upright;
        if (plan.evidence_portrait) upright.emplace(coded_h, coded_w);
        const int64_t frames = (span.end_ms - span.begin_ms) * plan.evidence_fps / 1000;
        files.push_back(f);
        for (int64_t i = 0; i < frames; ++i) {
          ThrowIfCancelled(cancel);
          Canvas c = out.NextCanvas();
          const int64_t t = span.begin_ms + i * 1000 / plan.evidence_fps;
          if (upright) {
            scene.DrawEvidence(upright->canvas, t, t + plan.evidence_clock_offset_ms);
            TurnCounterClockwise(upright->canvas, c);
          } else {
            scene.DrawEvidence(c, t, t + plan.evidence_clock_offset_ms);
          }
          out.WriteVideo(i, &audio);
        }
        out.Finish(&audio);
        files.back().duration_ms = out.duration_ms();
        files.back().width = coded_w;
        files.back().height = coded_h;
      }
    }
  } catch (...) {
    remove_written();
    throw;
  }
  return files;
}

}  // namespace exam::media
