#pragma once
// Synthetic bytes the simulated devices send: small real PNG photos (ID card, handheld ID,
// live face captures), pseudo-random "recordings" and their sha256.
#include <cstdint>
#include <string>
#include <string_view>

namespace exam::sim {

// kRegistration: the passport-style photo on file from registration (plain light background).
enum class PhotoKind { kIdFront, kIdBack, kHandheldId, kFaceCapture, kRegistration };

// A small valid PNG (RGB, stored deflate) that looks vaguely like what it stands for.
std::string MakePhoto(PhotoKind kind, uint64_t seed);

// n deterministic pseudo-random bytes.
std::string PseudoRandomBytes(size_t n, uint64_t seed);

// A synthetic recording of any size, readable at any offset without holding it whole:
// bytes [offset, offset + n) of the recording `seed` (n is cut at nothing: the recording has
// no end of its own, its size is the caller's).
std::string RecordingBytes(uint64_t seed, int64_t offset, size_t n);
// Lower-case hex sha256 of the first `size` bytes of the recording `seed`.
std::string RecordingSha256(uint64_t seed, int64_t size);

// Lower-case hex sha256.
std::string Sha256Hex(std::string_view data);

}  // namespace exam::sim
