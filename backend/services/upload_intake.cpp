#include "backend/services/upload_intake.h"

#include <algorithm>

#include "backend/services/service_util.h"
#include "backend/services/session_ops.h"
#include "backend/store/exam_repository.h"
#include "backend/store/user_repository.h"  // Sha256Hex

namespace exam::backend {

namespace v1 = exam::v1;
using grpc::StatusCode;

namespace {

std::string LowerHex(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool IsSha256Hex(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

void Fill(v1::UploadStatus* out, int64_t id, int64_t committed, int64_t size, v1::UploadState state) {
  out->set_file_id(id);
  out->set_committed(committed);
  out->set_size(size);
  out->set_state(state);
  out->set_complete(state == v1::UPLOAD_STATE_COMPLETE);
}

void Fill(v1::UploadStatus* out, const store::UploadRow& row) {
  Fill(out, row.proto.id(), row.proto.committed(), row.proto.size(), row.proto.state());
}

// Progress events at most this often per file; state changes always emit.
constexpr std::chrono::seconds kProgressEventEvery{2};
// The rate is re-measured over windows of at least this much backend time.
constexpr int64_t kRateWindowMs = 2000;

}  // namespace

UploadIntake::UploadIntake(BackendContext& ctx) : ctx_(ctx), disk_(ctx.media_dir) {}

std::shared_ptr<UploadIntake::Live> UploadIntake::LiveFor(int64_t file_id) {
  std::lock_guard lock(live_mu_);
  auto& slot = live_[file_id];
  if (!slot) slot = std::make_shared<Live>();
  return slot;
}

store::UploadRow UploadIntake::Load(const Principal& who, int64_t file_id) {
  std::lock_guard lock(ctx_.db.mutex());
  auto row = store::UploadRepository(ctx_.db).Get(file_id);
  if (!row) Refuse(StatusCode::NOT_FOUND, "no such upload file " + std::to_string(file_id));
  if (row->proto.session_id() != who.session_id || row->proto.device() != who.device)
    Refuse(StatusCode::PERMISSION_DENIED, "only the device that announced a file may upload it");
  return std::move(*row);
}

store::UploadRow UploadIntake::LockAndReload(Live& live, int64_t file_id, std::unique_lock<std::mutex>* lock) {
  *lock = std::unique_lock(live.mu);
  // Read again under the file's lock: a chunk or commit before us may have moved it.
  std::lock_guard db_lock(ctx_.db.mutex());
  auto row = store::UploadRepository(ctx_.db).Get(file_id);
  if (!row) Refuse(StatusCode::NOT_FOUND, "no such upload file " + std::to_string(file_id));
  return std::move(*row);
}

void UploadIntake::Reconcile(store::UploadRow& row) {
  if (row.proto.state() == v1::UPLOAD_STATE_COMPLETE || row.proto.committed() == 0) return;
  const int64_t on_disk = disk_.PartialSize(row.proto.id());
  if (on_disk >= row.proto.committed()) return;
  ctx_.Write([&](WriteScope& w) {
    store::UploadRepository repo(w.db());
    store::UploadChange c{v1::UPLOAD_STATE_INTERRUPTED, on_disk, std::nullopt, 0};
    if (repo.Apply(row.proto.id(), row.proto.version(), c))
      repo.AddHistory(row.proto.id(), w.now_ms(), "interrupted", "backend",
                      "stored bytes lost; resuming from " + std::to_string(on_disk));
  });
  std::lock_guard lock(ctx_.db.mutex());
  row = *store::UploadRepository(ctx_.db).Get(row.proto.id());
}

void UploadIntake::EmitProgress(WriteScope& w, const store::UploadRow& row, v1::UploadState state, int64_t committed,
                                bool update_session_count) {
  EmitUploadChange(ctx_, w, row.proto.session_id(), row.proto.id(),
                   std::string(v1::UploadState_Name(state)) + " " + std::to_string(committed) + "/" +
                       std::to_string(row.proto.size()),
                   update_session_count);
}

grpc::Status UploadIntake::Begin(const Principal& who, const v1::BeginUploadRequest& req, v1::UploadStatus* out) {
  RequestChecks check;
  check.Text("name", req.name(), kMaxLabelChars, Need::kRequired)
      .Enum("kind", req.kind(), v1::TrackKind_descriptor(), Need::kRequired)
      .Range("size", req.size(), 1, kMaxFileBytes)
      .Rule(IsSha256Hex(req.sha256()), "sha256 must be 64 hex digits (got " + std::to_string(req.sha256().size()) +
                                           " characters)")
      .Text("failure", req.failure(), kMaxShortNoteChars);
  if (!check.ok()) return check.status();
  const std::string sha = LowerHex(req.sha256());
  return Guard([&] {
    return ctx_.Write([&](WriteScope& w) {
      store::UploadRepository repo(w.db());
      if (auto existing = repo.Find(who.session_id, who.device, req.name())) {
        // A device that lost our answer announces again: same file, same id.
        if (existing->proto.size() != req.size() || existing->proto.sha256() != sha)
          Refuse(StatusCode::ALREADY_EXISTS, "a different file named " + req.name() + " was already announced");
        Fill(out, *existing);
        return grpc::Status::OK;
      }
      auto session = store::ExamRepository(w.db()).GetSession(who.session_id);
      if (!session) Refuse(StatusCode::NOT_FOUND, "session gone");
      const v1::UploadState state = req.recording_failed()       ? v1::UPLOAD_STATE_ABNORMAL
                                    : session->state.Ended() ? v1::UPLOAD_STATE_PENDING
                                                             : v1::UPLOAD_STATE_RECORDING;
      const std::string failure = req.recording_failed() ? (req.failure().empty() ? "recording failed on the device"
                                                                                   : req.failure())
                                                         : "";
      const int64_t id = repo.Insert(who.session_id, who.device, req.name(), req.kind(), state, req.size(), sha,
                                     w.now_ms(), failure);
      repo.AddHistory(id, w.now_ms(), "announced", "device", std::to_string(req.size()) + " bytes");
      if (req.recording_failed()) repo.AddHistory(id, w.now_ms(), "abnormal", "device", failure);
      auto row = repo.Get(id);
      EmitProgress(w, *row, state, 0, true);
      Fill(out, *row);
      return grpc::Status::OK;
    });
  });
}

grpc::Status UploadIntake::Status(const Principal& who, int64_t file_id, v1::UploadStatus* out) {
  return Guard([&] {
    auto live = LiveFor(Load(who, file_id).proto.id());
    std::unique_lock<std::mutex> file_lock;
    auto row = LockAndReload(*live, file_id, &file_lock);
    Reconcile(row);
    Fill(out, row);
    return grpc::Status::OK;
  });
}

grpc::Status UploadIntake::Chunk(const Principal& who, const v1::UploadChunkRequest& req, v1::UploadStatus* out) {
  const auto size = static_cast<int64_t>(req.data().size());
  // Past the committed end or the file's size is OUT_OF_RANGE below, once the file is read.
  RequestChecks check;
  check.Id("file_id", req.file_id())
      .Range("offset", req.offset(), 0, kMaxFileBytes - 1)
      .Bytes("data", req.data(), kMaxChunkBytes, Need::kRequired)
      .Rule(!req.checksum().empty(), "checksum is required (hex sha256 of data)");
  if (!check.ok()) return check.status();
  // Verified before anything is touched: a corrupted chunk changes nothing.
  if (LowerHex(req.checksum()) != store::Sha256Hex(req.data()))
    return grpc::Status(StatusCode::INVALID_ARGUMENT, "chunk checksum mismatch at offset " + std::to_string(req.offset()));
  return Guard([&] {
    auto live = LiveFor(Load(who, req.file_id()).proto.id());
    std::unique_lock<std::mutex> file_lock;
    auto row = LockAndReload(*live, req.file_id(), &file_lock);
    const auto& f = row.proto;
    if (f.state() == v1::UPLOAD_STATE_ABNORMAL)
      Refuse(StatusCode::FAILED_PRECONDITION, "the file is abnormal and takes no more data");
    if (f.state() == v1::UPLOAD_STATE_COMPLETE) {
      Fill(out, row);
      return grpc::Status::OK;
    }
    if (req.offset() + size > f.size())
      Refuse(StatusCode::OUT_OF_RANGE, "chunk ends at " + std::to_string(req.offset() + size) + ", past the file size " +
                                           std::to_string(f.size()));
    Reconcile(row);
    if (req.offset() > f.committed())
      Refuse(StatusCode::OUT_OF_RANGE, "offset " + std::to_string(req.offset()) + " is beyond the committed end " +
                                           std::to_string(f.committed()) + "; resume from there");
    if (req.offset() + size <= f.committed()) {  // a retry of bytes we already hold
      Fill(out, row);
      return grpc::Status::OK;
    }
    const int64_t skip = f.committed() - req.offset();
    disk_.WriteChunk(f.id(), f.committed(), std::string_view(req.data()).substr(static_cast<size_t>(skip)));
    const int64_t committed = req.offset() + size;
    const auto steady_now = std::chrono::steady_clock::now();
    return ctx_.Write([&](WriteScope& w) {
      store::UploadRepository repo(w.db());
      const int64_t now_ms = w.now_ms();
      double rate = f.rate();
      if (live->window_start_ms == 0 || f.state() != v1::UPLOAD_STATE_UPLOADING) {
        live->window_start_ms = now_ms;
        live->window_start_bytes = f.committed();
      } else if (now_ms - live->window_start_ms >= kRateWindowMs) {
        const double measured = static_cast<double>(committed - live->window_start_bytes) * 1000.0 /
                                static_cast<double>(now_ms - live->window_start_ms);
        rate = rate > 0 ? 0.5 * rate + 0.5 * measured : measured;
        live->window_start_ms = now_ms;
        live->window_start_bytes = committed;
      }
      if (!repo.Apply(f.id(), f.version(), {v1::UPLOAD_STATE_UPLOADING, committed, now_ms, rate}))
        Refuse(StatusCode::ABORTED, "the file changed while the chunk was written; ask for its status and retry");
      const bool state_changed = f.state() != v1::UPLOAD_STATE_UPLOADING;
      if (state_changed)
        repo.AddHistory(f.id(), now_ms, f.committed() > 0 ? "resumed" : "started", "device",
                        "from " + std::to_string(f.committed()));
      if (state_changed || steady_now - live->last_event >= kProgressEventEvery) {
        live->last_event = steady_now;
        EmitProgress(w, row, v1::UPLOAD_STATE_UPLOADING, committed, false);
      }
      Fill(out, f.id(), committed, f.size(), v1::UPLOAD_STATE_UPLOADING);
      return grpc::Status::OK;
    });
  });
}

grpc::Status UploadIntake::Commit(const Principal& who, int64_t file_id, v1::UploadStatus* out) {
  return Guard([&] {
    auto live = LiveFor(Load(who, file_id).proto.id());
    std::unique_lock<std::mutex> file_lock;
    auto row = LockAndReload(*live, file_id, &file_lock);
    const auto& f = row.proto;
    if (f.state() == v1::UPLOAD_STATE_COMPLETE) {
      Fill(out, row);
      return grpc::Status::OK;
    }
    if (f.state() == v1::UPLOAD_STATE_ABNORMAL)
      Refuse(StatusCode::FAILED_PRECONDITION, "the file is abnormal and cannot be committed");
    // A crash between the rename and the database update leaves the final file in place.
    const auto final_path = disk_.CompletePath(f.id(), f.name());
    const bool already_moved = disk_.PartialSize(f.id()) == 0 && std::filesystem::exists(final_path);
    if (!already_moved) {
      Reconcile(row);
      if (f.committed() < f.size())
        Refuse(StatusCode::FAILED_PRECONDITION, std::to_string(f.committed()) + " of " + std::to_string(f.size()) +
                                                    " bytes committed; send the rest first");
    }
    const std::string sha = already_moved ? store::RecordingStore::FileSha256(final_path) : disk_.PartialSha256(f.id(), f.size());
    if (sha != f.sha256()) {
      if (!already_moved) disk_.TruncatePartial(f.id(), 0);
      ctx_.Write([&](WriteScope& w) {
        store::UploadRepository repo(w.db());
        if (!repo.Apply(f.id(), f.version(), {v1::UPLOAD_STATE_INTERRUPTED, 0, std::nullopt, 0}))
          Refuse(StatusCode::ABORTED, "the file changed during verification; retry");
        repo.AddHistory(f.id(), w.now_ms(), "interrupted", "backend", "sha256 mismatch; upload restarts from 0");
        EmitProgress(w, row, v1::UPLOAD_STATE_INTERRUPTED, 0, false);
      });
      Refuse(StatusCode::DATA_LOSS, "whole-file sha256 does not match the announced one; upload again from offset 0");
    }
    const auto path = already_moved ? final_path : disk_.Finalize(f.id(), f.size(), f.name());
    return ctx_.Write([&](WriteScope& w) {
      store::UploadRepository repo(w.db());
      if (!repo.Apply(f.id(), f.version(), {v1::UPLOAD_STATE_COMPLETE, f.size(), w.now_ms(), f.rate()}))
        Refuse(StatusCode::ABORTED, "the file changed during verification; retry");
      repo.SetStoredPath(f.id(), path.string());
      repo.AddHistory(f.id(), w.now_ms(), "complete", "device", "sha256 verified");
      EmitProgress(w, row, v1::UPLOAD_STATE_COMPLETE, f.size(), true);
      Fill(out, f.id(), f.size(), f.size(), v1::UPLOAD_STATE_COMPLETE);
      return grpc::Status::OK;
    });
  });
}

}  // namespace exam::backend
