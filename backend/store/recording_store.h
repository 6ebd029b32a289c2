#pragma once
// Where uploaded recordings live on disk. A file grows as `<root>/partial/<id>.part`, each
// chunk flushed to disk before the database records it as committed (so the committed offset
// never claims bytes a crash could lose), and lands under `<root>/complete/` by rename once its
// sha256 is verified (so a complete file is never half-written). Not thread-safe per file:
// callers serialise work on one file.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace exam::store {

class RecordingStore {
 public:
  // Creates the directories when missing. Throws StoreError when it cannot.
  explicit RecordingStore(std::filesystem::path root);

  const std::filesystem::path& root() const { return root_; }

  // Bytes present in the partial file (0 when there is none).
  int64_t PartialSize(int64_t file_id) const;
  // Writes `data` at `offset` and flushes it to disk before returning.
  void WriteChunk(int64_t file_id, int64_t offset, std::string_view data);
  // Drops the partial file's bytes from `size` on (a failed verification restarts at 0).
  void TruncatePartial(int64_t file_id, int64_t size);
  // Hex sha256 of the first `size` bytes of the partial file; empty when it is shorter.
  std::string PartialSha256(int64_t file_id, int64_t size) const;
  // Trims the partial file to `size`, flushes it and renames it into place; returns the final
  // path. The rename is the commit point: after a crash either the partial or the final file
  // exists whole.
  std::filesystem::path Finalize(int64_t file_id, int64_t size, std::string_view name);
  // Final path of a file (it may not exist yet).
  std::filesystem::path CompletePath(int64_t file_id, std::string_view name) const;

  static std::string FileSha256(const std::filesystem::path& path, int64_t limit = -1);

 private:
  std::filesystem::path PartialPath(int64_t file_id) const;
  std::filesystem::path root_;
};

}  // namespace exam::store
