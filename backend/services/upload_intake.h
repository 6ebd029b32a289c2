#pragma once
// The device side of resumable uploads (续传): announce a file, write chunks at offsets with a
// checksum each, ask how far it got, commit with the whole-file sha256. Chunk bytes are
// written and flushed outside the database lock; only the committed offset goes through a
// (short) transaction, after the bytes are on disk. So a crash at any point leaves the
// committed offset no further than the durable bytes, and the device resumes from there.
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "backend/services/backend_context.h"
#include "backend/store/recording_store.h"
#include "backend/store/upload_repository.h"
#include "exam/v1/candidate.pb.h"

namespace exam::backend {

class UploadIntake {
 public:
  explicit UploadIntake(BackendContext& ctx);

  grpc::Status Begin(const Principal& who, const exam::v1::BeginUploadRequest& req, exam::v1::UploadStatus* out);
  grpc::Status Chunk(const Principal& who, const exam::v1::UploadChunkRequest& req, exam::v1::UploadStatus* out);
  grpc::Status Status(const Principal& who, int64_t file_id, exam::v1::UploadStatus* out);
  grpc::Status Commit(const Principal& who, int64_t file_id, exam::v1::UploadStatus* out);

  // Largest chunk accepted (gRPC's default message limit is 4 MiB with framing).
  static constexpr int64_t kMaxChunkBytes = 4 * 1024 * 1024 - 64 * 1024;
  static constexpr int64_t kMaxFileBytes = int64_t{64} << 30;

 private:
  // What one file needs in memory: a lock so its chunks apply one at a time, and the rate
  // window and last progress event (both only to keep the event log and the rate sensible).
  struct Live {
    std::mutex mu;
    int64_t window_start_ms = 0;
    int64_t window_start_bytes = 0;
    std::chrono::steady_clock::time_point last_event{};
  };
  std::shared_ptr<Live> LiveFor(int64_t file_id);
  // Loads the file and checks that this device announced it.
  store::UploadRow Load(const Principal& who, int64_t file_id);
  // Takes the file's lock (so its chunks apply one at a time) and reads the row under it.
  store::UploadRow LockAndReload(Live& live, int64_t file_id, std::unique_lock<std::mutex>* lock);
  // Brings the committed offset down to what is on disk, should the disk have lost bytes.
  void Reconcile(store::UploadRow& row);
  // Emits the progress event (with the session, whose pending count may have changed).
  void EmitProgress(WriteScope& w, const store::UploadRow& row, exam::v1::UploadState state, int64_t committed,
                    bool update_session_count);

  BackendContext& ctx_;
  store::RecordingStore disk_;
  std::mutex live_mu_;
  std::unordered_map<int64_t, std::shared_ptr<Live>> live_;
};

}  // namespace exam::backend
