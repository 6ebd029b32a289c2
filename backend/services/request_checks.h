#pragma once
// Shape checks on a request, done right after authorization and before a handler touches
// the store: enum values the contract does not define (proto3 hands them over as plain
// ints), ids, sizes and offsets out of range, timestamps outside the years an exam can take
// place in, texts and payloads too large. Each refusal is INVALID_ARGUMENT and names the
// field, what was sent and what is accepted, so whoever wrote the client can fix the call
// from the message alone. Rules that need stored state (a file's size, a question's
// maximum, the exam's timing rules) stay with the handlers.
//
//   RequestChecks check;
//   check.Id("session_id", req->session_id()).Text("text", req->text(), kMaxMessageChars);
//   if (!check.ok()) return check.status();
//
// The first failed check wins; later ones are skipped.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/duration.pb.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>

namespace exam::backend {

// What the server reads at most per message (server.cpp); gRPC itself answers a bigger
// message with RESOURCE_EXHAUSTED before any handler runs.
inline constexpr int64_t kMaxRequestBytes = 16 * 1024 * 1024;
// Per-field byte caps, each well below kMaxRequestBytes so that a payload that is merely too
// big gets a message naming the field instead of a transport-level refusal.
inline constexpr int64_t kMaxSnapshotBytes = 8 * 1024 * 1024;  // a violation's JPEG/PNG
inline constexpr int64_t kMaxPhotoBytes = 4 * 1024 * 1024;     // each appeal photo, a face capture
inline constexpr int64_t kMaxLivePacketBytes = 4 * 1024 * 1024;

// Text caps in characters (UTF-8 code points: what a person typing sees; a CJK character
// is three bytes).
inline constexpr int64_t kMaxMessageChars = 4000;  // messages, warnings, notes, comments
inline constexpr int64_t kMaxReasonChars = 2000;   // an appeal decision's reason
inline constexpr int64_t kMaxShortNoteChars = 500;  // upload reasons and notes
inline constexpr int64_t kMaxContactNoteChars = 1000;
inline constexpr int64_t kMaxLabelChars = 200;  // names, models, categories, prefixes

// Timestamps a request may carry: the contract's clock is the backend's, which the demo and
// the simulator run fast, but never by decades. A zero or far-future time is a client bug
// (an unset field read as 1970, seconds sent as milliseconds).
inline constexpr int64_t kEarliestSeconds = 946684800;  // 2000-01-01T00:00:00Z
inline constexpr int64_t kLatestSeconds = 4102444800;   // 2100-01-01T00:00:00Z, excluded

enum class Need { kOptional, kRequired };

class RequestChecks {
 public:
  bool ok() const { return message_.empty(); }
  grpc::Status status() const {
    return ok() ? grpc::Status::OK : grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message_);
  }

  // A generic rule, for what the helpers below do not cover.
  RequestChecks& Rule(bool holds, const std::string& message) {
    if (ok() && !holds) message_ = message;
    return *this;
  }

  // lo <= value <= hi.
  RequestChecks& Range(std::string_view field, int64_t value, int64_t lo,
                       int64_t hi = std::numeric_limits<int64_t>::max()) {
    if (!ok() || (value >= lo && value <= hi)) return *this;
    std::ostringstream m;
    if (hi == std::numeric_limits<int64_t>::max())
      m << field << " must be ≥ " << lo << " (got " << value << ")";
    else
      m << field << " must be " << lo << ".." << hi << " (got " << value << ")";
    message_ = m.str();
    return *this;
  }
  // A reference to a stored row: ids start at 1.
  RequestChecks& Id(std::string_view field, int64_t value) { return Range(field, value, 1); }
  // A filter where 0 means "all" (or "none").
  RequestChecks& OptionalId(std::string_view field, int64_t value) { return Range(field, value, 0); }

  // A finite number within lo..hi.
  RequestChecks& Number(std::string_view field, double value, double lo, double hi) {
    if (!ok()) return *this;
    std::ostringstream m;
    if (!std::isfinite(value))
      m << field << " must be a number (got " << value << ")";
    else if (value < lo || value > hi)
      m << field << " must be " << lo << ".." << hi << " (got " << value << ")";
    message_ = m.str();
    return *this;
  }

  // One of the values `type` defines; with kRequired not its zero (UNSPECIFIED) value.
  RequestChecks& Enum(std::string_view field, int value, const google::protobuf::EnumDescriptor* type, Need need) {
    if (!ok()) return *this;
    if (type->FindValueByNumber(value) == nullptr) {
      int lo = std::numeric_limits<int>::max(), hi = std::numeric_limits<int>::min();
      for (int i = 0; i < type->value_count(); ++i) {
        const int n = type->value(i)->number();
        if (n == 0 && need == Need::kRequired) continue;
        lo = std::min(lo, n);
        hi = std::max(hi, n);
      }
      std::ostringstream m;
      m << "unknown " << field << " " << value << " (" << type->name() << " accepts " << lo << ".." << hi << ")";
      message_ = m.str();
    } else if (value == 0 && need == Need::kRequired) {
      message_ = std::string(field) + " is required (got " + type->FindValueByNumber(0)->name() + ")";
    }
    return *this;
  }

  // A point in time within 2000..2099.
  RequestChecks& Time(std::string_view field, bool present, const google::protobuf::Timestamp& t, Need need) {
    if (!ok()) return *this;
    if (!present) {
      if (need == Need::kRequired) message_ = std::string(field) + " is required";
      return *this;
    }
    std::ostringstream m;
    if (t.nanos() < 0 || t.nanos() > 999'999'999 ||
        t.seconds() < google::protobuf::util::TimeUtil::kTimestampMinSeconds ||
        t.seconds() > google::protobuf::util::TimeUtil::kTimestampMaxSeconds)
      m << field << " is not a valid timestamp (seconds " << t.seconds() << ", nanos " << t.nanos() << ")";
    else if (t.seconds() < kEarliestSeconds || t.seconds() >= kLatestSeconds)
      m << field << " " << google::protobuf::util::TimeUtil::ToString(t) << " is outside 2000..2099";
    message_ = m.str();
    return *this;
  }

  // A length of time within lo_ms..hi_ms.
  RequestChecks& Span(std::string_view field, bool present, const google::protobuf::Duration& d, int64_t lo_ms,
                      int64_t hi_ms, Need need) {
    if (!ok()) return *this;
    if (!present) {
      if (need == Need::kRequired) message_ = std::string(field) + " is required";
      return *this;
    }
    std::ostringstream m;
    if (!(d.nanos() > -1'000'000'000 && d.nanos() < 1'000'000'000) ||
        (d.seconds() > 0 && d.nanos() < 0) || (d.seconds() < 0 && d.nanos() > 0) ||
        d.seconds() < -google::protobuf::util::TimeUtil::kDurationMaxSeconds ||
        d.seconds() > google::protobuf::util::TimeUtil::kDurationMaxSeconds) {
      m << field << " is not a valid duration (seconds " << d.seconds() << ", nanos " << d.nanos() << ")";
    } else {
      const int64_t ms = google::protobuf::util::TimeUtil::DurationToMilliseconds(d);
      if (ms < lo_ms || ms > hi_ms)
        m << field << " must be between " << FormatMs(lo_ms) << " and " << FormatMs(hi_ms) << " (got " << FormatMs(ms)
          << ")";
    }
    message_ = m.str();
    return *this;
  }

  // Free text of at most max_chars characters; with kRequired not empty.
  RequestChecks& Text(std::string_view field, std::string_view text, int64_t max_chars,
                      Need need = Need::kOptional) {
    if (!ok()) return *this;
    if (text.empty()) {
      if (need == Need::kRequired) message_ = std::string(field) + " is required";
      return *this;
    }
    if (static_cast<int64_t>(text.size()) <= max_chars) return *this;  // cannot have more characters than bytes
    int64_t chars = 0;
    for (unsigned char c : text) chars += (c & 0xC0) != 0x80;
    if (chars > max_chars)
      message_ =
          std::string(field) + " is " + std::to_string(chars) + " characters; at most " + std::to_string(max_chars);
    return *this;
  }

  // A binary payload of at most max_bytes; with kRequired not empty.
  RequestChecks& Bytes(std::string_view field, std::string_view data, int64_t max_bytes, Need need = Need::kOptional) {
    if (!ok()) return *this;
    if (data.empty()) {
      if (need == Need::kRequired) message_ = std::string(field) + " is required";
    } else if (static_cast<int64_t>(data.size()) > max_bytes) {
      message_ =
          std::string(field) + " is " + std::to_string(data.size()) + " bytes; at most " + FormatBytes(max_bytes);
    }
    return *this;
  }

  // A repeated field with at most max entries.
  RequestChecks& Count(std::string_view field, int64_t count, int64_t max) {
    if (ok() && count > max)
      message_ = std::string(field) + " has " + std::to_string(count) + " entries; at most " + std::to_string(max);
    return *this;
  }

 private:
  static std::string FormatMs(int64_t ms) {
    if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + " h";
    if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + " min";
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
    return std::to_string(ms) + " ms";
  }
  static std::string FormatBytes(int64_t n) {
    if (n % (1024 * 1024) == 0) return std::to_string(n / (1024 * 1024)) + " MiB";
    if (n % 1024 == 0) return std::to_string(n / 1024) + " KiB";
    return std::to_string(n) + " bytes";
  }

  std::string message_;
};

}  // namespace exam::backend
