#pragma once
// Synthetic bytes the simulated devices send: small real PNG photos (ID card, handheld ID,
// live face captures), pseudo-random "recordings" and their sha256.
#include <cstdint>
#include <string>
#include <string_view>

namespace exam::sim {

enum class PhotoKind { kIdFront, kIdBack, kHandheldId, kFaceCapture };

// A small valid PNG (RGB, stored deflate) that looks vaguely like what it stands for.
std::string MakePhoto(PhotoKind kind, uint64_t seed);

// n deterministic pseudo-random bytes.
std::string PseudoRandomBytes(size_t n, uint64_t seed);

// Lower-case hex sha256.
std::string Sha256Hex(std::string_view data);

}  // namespace exam::sim
