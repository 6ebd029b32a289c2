#include "net/review_media_source.h"

#include <grpcpp/grpcpp.h>

#include "exam/v1/review.grpc.pb.h"

namespace exam::net {

namespace v1 = exam::v1;

struct ReviewMediaSource::Stub {
  std::unique_ptr<v1::ReviewService::Stub> review;
};

namespace {
std::string CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::NOT_FOUND: return "not found";
    case grpc::StatusCode::PERMISSION_DENIED: return "permission denied";
    case grpc::StatusCode::UNAUTHENTICATED: return "not signed in";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "timed out";
    case grpc::StatusCode::UNAVAILABLE: return "backend unavailable";
    case grpc::StatusCode::CANCELLED: return "cancelled";
    case grpc::StatusCode::OUT_OF_RANGE: return "out of range";
    case grpc::StatusCode::DATA_LOSS: return "data loss";
    default: return "error " + std::to_string(static_cast<int>(code));
  }
}
}  // namespace

ReviewMediaSource::ReviewMediaSource(std::shared_ptr<grpc::Channel> channel, std::function<std::string()> access_token,
                                     int64_t track_id, int64_t known_size, Options options)
    : stub_(std::make_unique<Stub>()),
      access_token_(std::move(access_token)),
      track_id_(track_id),
      options_(options),
      size_(known_size) {
  stub_->review = v1::ReviewService::NewStub(channel);
}

ReviewMediaSource::~ReviewMediaSource() = default;

std::string ReviewMediaSource::Describe() const { return "recording " + std::to_string(track_id_) + " on the backend"; }

uint64_t ReviewMediaSource::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

uint64_t ReviewMediaSource::bytes_received() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

void ReviewMediaSource::OnCancel() {
  std::lock_guard lock(mu_);
  for (auto* ctx : in_flight_) ctx->TryCancel();
}

std::string ReviewMediaSource::Call(int64_t offset, int64_t length, std::string* out) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + options_.call_timeout);  // gRPC wants system_clock
  const std::string token = access_token_ ? access_token_() : std::string();
  if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
  {
    std::lock_guard lock(mu_);
    if (cancelled()) return "reading " + Describe() + " was cancelled";
    in_flight_.insert(&ctx);
    ++calls_;
  }
  v1::ReadMediaRequest req;
  req.set_track_id(track_id_);
  req.set_offset(offset);
  req.set_length(length);
  auto reader = stub_->review->ReadMedia(&ctx, req);
  v1::MediaChunk chunk;
  std::string problem;
  int64_t expected = offset;
  while (reader->Read(&chunk)) {
    if (!problem.empty()) continue;  // drain, then report the first problem
    if (chunk.file_size() > 0) {
      std::lock_guard lock(mu_);
      if (size_ >= 0 && size_ != chunk.file_size())
        problem = Describe() + " changed size on the backend (" + std::to_string(size_) + " → " +
                  std::to_string(chunk.file_size()) + " bytes)";
      else
        size_ = chunk.file_size();
    }
    if (!problem.empty()) {
      ctx.TryCancel();
      continue;
    }
    if (chunk.offset() != expected) {
      problem = Describe() + ": the backend sent bytes for offset " + std::to_string(chunk.offset()) + " where " +
                std::to_string(expected) + " was due";
      ctx.TryCancel();
      continue;
    }
    // More than asked for is cut off rather than trusted.
    const int64_t room = length > 0 ? offset + length - expected : static_cast<int64_t>(chunk.data().size());
    const auto take = static_cast<size_t>(std::max<int64_t>(0, std::min<int64_t>(room, static_cast<int64_t>(chunk.data().size()))));
    out->append(chunk.data(), 0, take);
    expected += static_cast<int64_t>(take);
  }
  const grpc::Status status = reader->Finish();
  {
    std::lock_guard lock(mu_);
    in_flight_.erase(&ctx);
    bytes_ += static_cast<uint64_t>(expected - offset);
  }
  if (!problem.empty()) return problem;
  if (!status.ok()) {
    if (status.error_code() == grpc::StatusCode::OUT_OF_RANGE) return {};  // at or past the end: no bytes
    if (cancelled()) return "reading " + Describe() + " was cancelled";
    return "reading " + Describe() + " failed (" + CodeName(status.error_code()) + "): " + status.error_message();
  }
  return {};
}

int64_t ReviewMediaSource::Size(std::string* error) {
  {
    std::lock_guard lock(mu_);
    if (size_ >= 0) return size_;
  }
  // The first chunk of any answer carries the size; ask for one byte.
  std::string ignored;
  const std::string problem = Call(0, 1, &ignored);
  std::lock_guard lock(mu_);
  if (size_ >= 0) return size_;
  if (error) *error = problem.empty() ? Describe() + ": the backend did not say how large it is" : problem;
  return -1;
}

media::ByteRead ReviewMediaSource::Read(int64_t offset, int64_t length) {
  if (cancelled()) return media::ByteRead::Failure("reading " + Describe() + " was cancelled", true);
  if (offset < 0 || length < 0) return media::ByteRead::Failure("bad range for " + Describe());
  std::string error;
  const int64_t size = Size(&error);
  if (size < 0) return media::ByteRead::Failure(error);
  media::ByteRead r;
  const int64_t want = std::max<int64_t>(0, std::min(length, size - offset));
  while (static_cast<int64_t>(r.data.size()) < want) {
    const auto before = r.data.size();
    const std::string problem = Call(offset + static_cast<int64_t>(before), want - static_cast<int64_t>(before), &r.data);
    if (!problem.empty()) return media::ByteRead::Failure(problem, cancelled());
    // The server may cap an answer; ask again from where it stopped, but not forever.
    if (r.data.size() == before)
      return media::ByteRead::Failure(Describe() + ": the backend answered no bytes at offset " +
                                      std::to_string(offset + static_cast<int64_t>(before)) + " of " +
                                      std::to_string(size));
  }
  return r;
}

}  // namespace exam::net
