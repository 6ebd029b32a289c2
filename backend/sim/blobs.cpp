#include "backend/sim/blobs.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>

namespace exam::sim {
namespace {

const std::array<uint32_t, 256>& CrcTable() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  return table;
}

uint32_t Crc32(std::string_view data) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : data) c = CrcTable()[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t Adler32(std::string_view data) {
  uint32_t a = 1, b = 0;
  for (unsigned char c : data) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  return (b << 16) | a;
}

void PutBe32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

void Chunk(std::string& png, const char* type, const std::string& data) {
  PutBe32(png, static_cast<uint32_t>(data.size()));
  std::string body(type, 4);
  body += data;
  png += body;
  PutBe32(png, Crc32(body));
}

// zlib stream with stored (uncompressed) deflate blocks.
std::string ZlibStored(const std::string& raw) {
  std::string z = {'\x78', '\x01'};
  size_t pos = 0;
  do {
    const size_t n = std::min<size_t>(65535, raw.size() - pos);
    const bool last = pos + n == raw.size();
    z.push_back(last ? 1 : 0);
    z.push_back(static_cast<char>(n & 0xFF));
    z.push_back(static_cast<char>(n >> 8));
    z.push_back(static_cast<char>(~n & 0xFF));
    z.push_back(static_cast<char>((~n >> 8) & 0xFF));
    z.append(raw, pos, n);
    pos += n;
  } while (pos < raw.size());
  PutBe32(z, Adler32(raw));
  return z;
}

struct Rgb {
  uint8_t r, g, b;
};

}  // namespace

std::string MakePhoto(PhotoKind kind, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const bool card = kind == PhotoKind::kIdFront || kind == PhotoKind::kIdBack;
  const int w = card ? 86 : 48, h = card ? 54 : 64;
  const int tone = static_cast<int>(rng() % 40);
  const double fx = 0.5 + (static_cast<double>(rng() % 100) - 50) / 1000.0;
  std::string raw;
  raw.reserve(static_cast<size_t>(h) * (1 + 3 * w));
  for (int y = 0; y < h; ++y) {
    raw.push_back(0);  // filter: none
    for (int x = 0; x < w; ++x) {
      const double u = (x + 0.5) / w, v = (y + 0.5) / h;
      Rgb px{};
      switch (kind) {
        case PhotoKind::kIdFront: {
          px = {210, 225, 240};                                              // card
          if (u > 0.64 && u < 0.92 && v > 0.18 && v < 0.82) px = {150, 160, 175};  // portrait
          else if (u > 0.08 && u < 0.55 && (y % 9) < 2 && v > 0.15 && v < 0.85) px = {60, 60, 70};  // text lines
          break;
        }
        case PhotoKind::kIdBack: {
          px = {225, 230, 210};
          const double dx = u - 0.18, dy = v - 0.3;
          if (dx * dx + dy * dy < 0.012) px = {200, 40, 40};  // emblem
          else if (u > 0.3 && u < 0.92 && (y % 11) < 2 && v > 0.55) px = {60, 60, 70};
          break;
        }
        case PhotoKind::kRegistration: {
          px = {235, 240, 248};  // studio background
          const double dx = (u - 0.5) / 0.24, dy = (v - 0.4) / 0.27;
          if (dx * dx + dy * dy < 1.0) px = {static_cast<uint8_t>(222 - tone), 184, 154};  // face
          if (v > 0.74) px = {30, 40, 70};                                                // jacket
          break;
        }
        case PhotoKind::kHandheldId:
        case PhotoKind::kFaceCapture: {
          px = {static_cast<uint8_t>(120 + tone), static_cast<uint8_t>(130 + tone), 140};  // wall
          const double dx = (u - fx) / 0.22, dy = (v - 0.38) / 0.25;
          if (dx * dx + dy * dy < 1.0) px = {static_cast<uint8_t>(220 - tone), 180, 150};  // face
          if (v > 0.7) px = {40, 50, static_cast<uint8_t>(90 + tone)};                     // shoulders
          if (kind == PhotoKind::kHandheldId && u > 0.55 && u < 0.9 && v > 0.62 && v < 0.86) px = {210, 225, 240};
          break;
        }
      }
      const int noise = static_cast<int>(rng() % 9) - 4;
      auto add = [noise](uint8_t c) { return static_cast<char>(std::clamp(c + noise, 0, 255)); };
      raw.push_back(add(px.r));
      raw.push_back(add(px.g));
      raw.push_back(add(px.b));
    }
  }
  std::string png = "\x89PNG\r\n\x1a\n";
  std::string ihdr;
  PutBe32(ihdr, static_cast<uint32_t>(w));
  PutBe32(ihdr, static_cast<uint32_t>(h));
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB, deflate, no filter, no interlace
  Chunk(png, "IHDR", ihdr);
  Chunk(png, "IDAT", ZlibStored(raw));
  Chunk(png, "IEND", "");
  return png;
}

std::string PseudoRandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    for (size_t k = 0; k < 8 && i + k < n; ++k) out[i + k] = static_cast<char>(v >> (8 * k));
  }
  return out;
}

namespace {
uint64_t RecordingWord(uint64_t seed, uint64_t k) {
  uint64_t x = seed ^ (k * 0xD1B54A32D192ED03ull);
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
std::string HexOf(const unsigned char* md, unsigned int len) {
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[md[i] >> 4]);
    hex.push_back(kHex[md[i] & 0xF]);
  }
  return hex;
}
}  // namespace

std::string RecordingBytes(uint64_t seed, int64_t offset, size_t n) {
  std::string out(n, '\0');
  if (offset < 0) return out;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t pos = static_cast<uint64_t>(offset) + i;
    out[i] = static_cast<char>(RecordingWord(seed, pos / 8) >> (8 * (pos % 8)));
  }
  return out;
}

std::string RecordingSha256(uint64_t seed, int64_t size) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  constexpr int64_t kSlice = 64 * 1024;
  for (int64_t off = 0; off < size; off += kSlice) {
    const std::string part = RecordingBytes(seed, off, static_cast<size_t>(std::min(kSlice, size - off)));
    EVP_DigestUpdate(ctx, part.data(), part.size());
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  return HexOf(md, len);
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[md[i] >> 4]);
    hex.push_back(kHex[md[i] & 0xF]);
  }
  return hex;
}

}  // namespace exam::sim
