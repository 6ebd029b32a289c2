#pragma once
// A recording on the backend as a byte source for the review player: byte ranges come from
// ReviewService.ReadMedia (a stream of chunks), asked again from where the server stopped
// when it caps an answer. Every answer is checked — chunks at the wrong offset, more bytes
// than asked, a file size that changes — and turned into a clear error, never trusted.
// Meant to sit behind the block cache (media::CachedByteSource), which asks in whole
// blocks and reads ahead on its own worker.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "media/byte_source.h"

namespace grpc {
class Channel;
class ClientContext;
}  // namespace grpc

namespace exam::net {

class ReviewMediaSource : public media::ByteSource {
 public:
  struct Options {
    // Deadline of one ReadMedia call (a block cache request is a few hundred KiB).
    std::chrono::milliseconds call_timeout{15000};
  };
  // `access_token` is asked before each call (tokens are renewed on sign-in again).
  // `known_size` is Track.size from ListTracks; -1 asks the backend on first use.
  ReviewMediaSource(std::shared_ptr<grpc::Channel> channel, std::function<std::string()> access_token, int64_t track_id,
                    int64_t known_size, Options options);
  ReviewMediaSource(std::shared_ptr<grpc::Channel> channel, std::function<std::string()> access_token, int64_t track_id,
                    int64_t known_size = -1)
      : ReviewMediaSource(std::move(channel), std::move(access_token), track_id, known_size, Options{}) {}
  ~ReviewMediaSource() override;

  int64_t Size(std::string* error) override;
  media::ByteRead Read(int64_t offset, int64_t length) override;
  std::string Describe() const override;

  // Calls made and bytes received, for tests and the status line.
  uint64_t calls() const;
  uint64_t bytes_received() const;

 protected:
  void OnCancel() override;

 private:
  // One ReadMedia call appending to *out; returns the error (empty when fine).
  std::string Call(int64_t offset, int64_t length, std::string* out);

  struct Stub;
  std::unique_ptr<Stub> stub_;
  std::function<std::string()> access_token_;
  const int64_t track_id_;
  const Options options_;
  mutable std::mutex mu_;
  int64_t size_ = -1;
  std::set<grpc::ClientContext*> in_flight_;
  uint64_t calls_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace exam::net
