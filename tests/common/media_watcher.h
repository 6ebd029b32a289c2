#pragma once
// Watches one live track through LiveService.WatchMedia on its own thread and keeps every
// packet, for tests of the live media path.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "exam/v1/live.grpc.pb.h"

namespace exam::testing {

class MediaWatcher {
 public:
  MediaWatcher(std::shared_ptr<grpc::Channel> channel, const std::string& token, int64_t session,
               exam::v1::TrackKind track, exam::v1::Quality quality = exam::v1::QUALITY_TILE)
      : stub_(exam::v1::LiveService::NewStub(std::move(channel))) {
    ctx_.AddMetadata("authorization", "Bearer " + token);
    ctx_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    exam::v1::WatchMediaRequest req;
    req.set_session_id(session);
    req.set_track(track);
    req.set_quality(quality);
    reader_ = stub_->WatchMedia(&ctx_, req);
    thread_ = std::thread([this] {
      exam::v1::MediaPacket p;
      while (reader_->Read(&p)) {
        std::lock_guard lock(mu_);
        packets_.push_back(p);
      }
      auto st = reader_->Finish();
      std::lock_guard lock(mu_);
      status_ = st;
      done_ = true;
    });
  }
  ~MediaWatcher() {
    ctx_.TryCancel();
    thread_.join();
  }
  size_t count() const {
    std::lock_guard lock(mu_);
    return packets_.size();
  }
  std::vector<exam::v1::MediaPacket> packets() const {
    std::lock_guard lock(mu_);
    return packets_;
  }
  bool done() const {
    std::lock_guard lock(mu_);
    return done_;
  }
  grpc::Status status() const {
    std::lock_guard lock(mu_);
    return status_;
  }

 private:
  std::unique_ptr<exam::v1::LiveService::Stub> stub_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<exam::v1::MediaPacket>> reader_;
  mutable std::mutex mu_;
  std::vector<exam::v1::MediaPacket> packets_;
  grpc::Status status_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace exam::testing
