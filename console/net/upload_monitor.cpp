#include "net/upload_monitor.h"

#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include "exam/v1/upload.grpc.pb.h"
#include "net/backend_client.h"

namespace exam::net {

namespace v1 = exam::v1;

UploadMonitor::UploadMonitor(BackendClient& client, Options options)
    : client_(client), options_(std::move(options)), thread_([this] { Run(); }) {}

UploadMonitor::~UploadMonitor() { Stop(); }

void UploadMonitor::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void UploadMonitor::Watch(int64_t exam_id) {
  {
    std::lock_guard lock(mu_);
    if (exam_id_ == exam_id) return;
    exam_id_ = exam_id;
    refresh_ = true;
  }
  wake_.notify_all();
}

void UploadMonitor::Select(int64_t file_id) {
  {
    std::lock_guard lock(mu_);
    if (file_id_ == file_id) return;
    file_id_ = file_id;
    refresh_ = true;
  }
  wake_.notify_all();
}

void UploadMonitor::RefreshNow() {
  {
    std::lock_guard lock(mu_);
    refresh_ = true;
  }
  wake_.notify_all();
}

std::shared_ptr<const UploadsView> UploadMonitor::View() const {
  std::lock_guard lock(mu_);
  return view_;
}

void UploadMonitor::Publish(const std::function<void(UploadsView&)>& change) {
  {
    std::lock_guard lock(mu_);
    auto next = std::make_shared<UploadsView>(*view_);
    change(*next);
    ++next->version;
    view_ = std::move(next);
  }
  if (options_.on_change) options_.on_change();
}

void UploadMonitor::Run() {
  auto channel = client_.Channel();
  auto stub = v1::UploadService::NewStub(channel);
  for (;;) {
    int64_t exam_id = 0, file_id = 0;
    {
      std::unique_lock lock(mu_);
      // Periodic refresh: a timed wait is the schedule here, and any request cuts it short.
      wake_.wait_for(lock, options_.refresh_every, [&] { return stop_ || refresh_; });
      if (stop_) return;
      refresh_ = false;
      exam_id = exam_id_;
      file_id = file_id_;
    }
    if (exam_id == 0) continue;
    const std::string token = client_.AccessToken();
    if (token.empty()) {
      Publish([&](UploadsView& v) { v.error = "not signed in"; });
      continue;
    }
    auto context = [&] {
      auto c = std::make_unique<grpc::ClientContext>();
      c->set_deadline(std::chrono::system_clock::now() + options_.call_timeout);
      c->AddMetadata("authorization", "Bearer " + token);
      return c;
    };
    Publish([&](UploadsView& v) {
      if (v.exam_id != exam_id) {  // another exam: nothing of the old one stays on screen
        v = UploadsView{};
        v.exam_id = exam_id;
      }
      v.loading = true;
    });
    v1::ListUploadsRequest req;
    req.set_exam_id(exam_id);
    v1::ListUploadsResponse resp;
    const grpc::Status status = stub->ListUploads(context().get(), req, &resp);
    v1::UploadFile detail;
    grpc::Status detail_status = grpc::Status::OK;
    if (status.ok() && file_id != 0) {
      v1::GetUploadRequest get;
      get.set_file_id(file_id);
      detail_status = stub->GetUpload(context().get(), get, &detail);
    }
    const int64_t backend_now = client_.BackendNowUnixMs();
    Publish([&](UploadsView& v) {
      v.loading = false;
      if (v.exam_id != exam_id) return;
      if (!status.ok()) {
        v.error = status.error_message().empty() ? "cannot reach the backend" : status.error_message();
        return;
      }
      v.error.clear();
      v.loaded = true;
      v.files.assign(resp.files().begin(), resp.files().end());
      v.fetched_at_backend_ms = backend_now;
      v.fetched_at = std::chrono::steady_clock::now();
      v.selected_file_id = file_id;
      v.selected_loaded = file_id != 0 && detail_status.ok();
      if (v.selected_loaded) v.selected = std::move(detail);
    });
  }
}

}  // namespace exam::net
