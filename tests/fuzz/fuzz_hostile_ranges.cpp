// libFuzzer target: the remote AVIO path with a hostile backend. The upstream source stands
// for ReviewService.ReadMedia: each of its answers (size, short reads, errors, more bytes
// than asked, cancellation) is chosen by the fuzz input. It sits under the block cache
// (CachedByteSource over a MediaBlockStore in a temp folder, with its read-ahead worker)
// and MediaInput::Open reads on top, then a few packets. Whatever the answers, the reader
// must end in an error string or a packet, never in a crash or a hang.
//
// Input layout: byte 0 = n, the length of the answer script (bytes 1..n); the rest is the
// recording. Seeds are tiny media files with a short script in front (see make_seeds.sh).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/log.h>
}

#include "media/block_cache.h"
#include "media/byte_source.h"
#include "media/media_input.h"
#include "store/media_block_store.h"

namespace {

using exam::media::ByteRead;

class HostileSource : public exam::media::ByteSource {
 public:
  HostileSource(std::string script, std::string bytes) : script_(std::move(script)), bytes_(std::move(bytes)) {}

  int64_t Size(std::string* error) override {
    const auto real = static_cast<int64_t>(bytes_.size());
    switch (Next() % 6) {
      case 0: *error = "backend: size unknown"; return -1;
      case 1: return real / 2;              // says less than there is
      case 2: return real + 1 + Next() * 4099;  // says more than there is
      case 3: return 0;
      default: return real;
    }
  }

  ByteRead Read(int64_t offset, int64_t length) override {
    if (cancelled()) return ByteRead::Failure("cancelled", true);
    const uint8_t op = Next();
    const auto size = static_cast<int64_t>(bytes_.size());
    auto slice = [&](int64_t at, int64_t len) {
      ByteRead r;
      if (at < 0 || len <= 0 || at >= size) return r;
      r.data = bytes_.substr(static_cast<size_t>(at), static_cast<size_t>(std::min(len, size - at)));
      return r;
    };
    switch (op % 10) {
      case 0: return ByteRead::Failure("backend: UNAVAILABLE");
      case 1: return ByteRead::Failure("backend: cancelled", true);
      case 2: return slice(offset, length / (2 + Next() % 8));   // short read
      case 3: return slice(offset, length + 1 + Next() * 977);   // more than asked
      case 4: return slice(offset + Next(), length);              // bytes of the wrong place
      case 5: return ByteRead{};                                  // nothing, no error
      case 6: {                                                   // garbage of the right size
        ByteRead r = slice(offset, length);
        for (auto& c : r.data) c = static_cast<char>(Next());
        return r;
      }
      case 7:
        Cancel();  // the player is closed while the range is on its way
        return ByteRead::Failure("backend: cancelled", true);
      default: return slice(offset, length);
    }
  }
  std::string Describe() const override { return "hostile backend"; }

 protected:
  void OnResume() override {}

 private:
  // The next scripted byte; once the script is used up every answer is honest (a script
  // that ran out must not turn into an endless stream of errors the cache retries).
  uint8_t Next() {
    std::lock_guard lock(mu_);
    if (at_ >= script_.size()) return 0xff;
    return static_cast<uint8_t>(script_[at_++]);
  }

  std::mutex mu_;
  const std::string script_;
  size_t at_ = 0;
  const std::string bytes_;
};

std::shared_ptr<exam::local::MediaBlockStore> g_store;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  av_log_set_level(AV_LOG_QUIET);
  char tmpl[] = "/tmp/exam-fuzz-blocks-XXXXXX";
  if (!mkdtemp(tmpl)) abort();
  static const std::string folder = tmpl;
  // Small blocks so that a few-KiB recording spans many of them (block edges, partial
  // blocks, several per fetch) and a small budget so that eviction runs too.
  exam::local::MediaBlockStoreOptions options;
  options.folder = folder;
  options.block_size = 1024;
  options.budget_bytes = 256 * 1024;
  g_store = std::make_shared<exam::local::MediaBlockStore>(options);
  atexit([] {
    g_store.reset();
    std::error_code ec;
    std::filesystem::remove_all(folder, ec);
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t n = std::min<size_t>(data[0], size - 1);
  std::string script(reinterpret_cast<const char*>(data + 1), n);
  std::string bytes(reinterpret_cast<const char*>(data + 1 + n), size - 1 - n);

  // One recording key for every input: dropping it afterwards keeps inputs independent.
  static const std::string kKey = "fuzz-recording";
  {
    auto upstream = std::make_shared<HostileSource>(std::move(script), std::move(bytes));
    exam::media::CachedByteSource::Options options;
    options.readahead_blocks = 4;
    options.max_blocks_per_fetch = 3;
    auto cached = std::make_shared<exam::media::CachedByteSource>(upstream, g_store, kKey, options);
    std::string error;
    auto input = exam::media::MediaInput::Open(cached, &error);
    if (!input) {
      if (error.empty()) __builtin_trap();  // a failed open must say why
    } else {
      AVPacket* pkt = av_packet_alloc();
      for (int i = 0; i < 32 && av_read_frame(input->format(), pkt) >= 0; ++i) av_packet_unref(pkt);
      av_packet_free(&pkt);
      // A seek back to the start, as the player's first frame does: blocks come from the
      // cache now, or from the source again where a hostile answer kept them out.
      av_seek_frame(input->format(), -1, 0, AVSEEK_FLAG_BACKWARD);
      if (av_read_frame(input->format(), pkt = av_packet_alloc()) >= 0) av_packet_unref(pkt);
      av_packet_free(&pkt);
    }
  }
  g_store->Drop(kKey);
  return 0;
}
