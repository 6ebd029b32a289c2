// Many devices uploading recordings at once to the real examd binary over loopback.
// Prints aggregate MB/s, the same bytes copied file to file on this disk (ratio), chunk
// latency percentiles and examd's peak RSS. Every file is committed, so each one's sha256
// was verified by the backend.
//
//   bench_upload EXAMD [--devices 200] [--mb 50] [--chunk-kb 1024]
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "backend/server.h"
#include "backend_fixture.h"
#include "examd_process.h"

namespace {

namespace v1 = exam::v1;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Copies `src` to `n` files in `dir` (read, write, fdatasync each), returning MB/s: what
// the disk does for the same bytes without gRPC, hashing or a database.
double PlainCopyMBps(const std::filesystem::path& src, const std::filesystem::path& dir, int n) {
  std::vector<char> buf(1 << 20);
  int64_t bytes = 0;
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    const int in = ::open(src.c_str(), O_RDONLY);
    const auto dst = dir / ("copy-" + std::to_string(i));
    const int out = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ssize_t r;
    while ((r = ::read(in, buf.data(), buf.size())) > 0) {
      if (::write(out, buf.data(), static_cast<size_t>(r)) != r) std::perror("write");
      bytes += r;
    }
    ::fdatasync(out);
    ::close(in);
    ::close(out);
  }
  const double s = Seconds(Clock::now() - t0);
  for (int i = 0; i < n; ++i) std::filesystem::remove(dir / ("copy-" + std::to_string(i)));
  return static_cast<double>(bytes) / 1e6 / s;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace exam::testing;
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_upload EXAMD [--devices N] [--mb M] [--chunk-kb K]\n");
    return 2;
  }
  const std::string examd_bin = argv[1];
  int devices = 200, mb = 50, chunk_kb = 1024;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--devices") devices = std::stoi(argv[i + 1]);
    else if (a == "--mb") mb = std::stoi(argv[i + 1]);
    else if (a == "--chunk-kb") chunk_kb = std::stoi(argv[i + 1]);
  }
  TempDir dir;
  const std::string db = (dir.path() / "examd.db").string();
  // Two devices (laptop and evidence phone) per candidate.
  const int candidates = (devices + 1) / 2;
  exam::backend::DemoInfo demo;
  {
    exam::backend::ServerOptions o;
    o.db_path = db;
    o.demo_candidates = candidates;
    std::string error;
    auto server = exam::backend::ExamServer::Start(o, &error);
    if (!server) {
      std::fprintf(stderr, "cannot seed: %s\n", error.c_str());
      return 1;
    }
    demo = server->demo();
    server->Shutdown();
  }
  ExamdProcess examd(examd_bin, db, (dir.path() / "examd.log").string());
  const int port = examd.Start(0);
  if (port == 0) {
    std::fprintf(stderr, "examd did not start\n");
    return 1;
  }
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  auto stub = v1::CandidateService::NewStub(channel);

  // One recording's bytes, shared by every device (each stores its own copy).
  const int64_t size = int64_t{mb} << 20;
  const std::string content = RandomBytes(static_cast<size_t>(size), 42);
  const std::string file_sha = Sha256Hex(content);
  const int64_t chunk = int64_t{chunk_kb} << 10;
  std::vector<std::string> chunk_sha;
  for (int64_t off = 0; off < size; off += chunk)
    chunk_sha.push_back(Sha256Hex(std::string_view(content).substr(static_cast<size_t>(off), static_cast<size_t>(std::min(chunk, size - off)))));

  std::vector<std::string> tokens;
  for (int d = 0; d < devices; ++d) {
    v1::JoinRequest req;
    req.set_exam_id(demo.exam_id);
    req.set_registration_no(demo.registration_nos[static_cast<size_t>(d / 2)]);
    req.set_access_code(demo.access_code);
    req.set_device(d % 2 == 0 ? v1::DEVICE_KIND_LAPTOP : v1::DEVICE_KIND_EVIDENCE_PHONE);
    v1::JoinResponse resp;
    grpc::ClientContext ctx;
    if (!stub->Join(&ctx, req, &resp).ok()) {
      std::fprintf(stderr, "join failed\n");
      return 1;
    }
    tokens.push_back(resp.token());
  }

  std::vector<std::vector<double>> latencies(static_cast<size_t>(devices));
  std::atomic<int> failures{0}, completed{0};
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int d = 0; d < devices; ++d) {
    threads.emplace_back([&, d] {
      auto ctx = [&] {
        auto c = std::make_unique<grpc::ClientContext>();
        c->AddMetadata("authorization", "Bearer " + tokens[static_cast<size_t>(d)]);
        c->set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(5));
        return c;
      };
      v1::BeginUploadRequest begin;
      begin.set_name("recording-" + std::to_string(d) + ".mp4");
      begin.set_kind(d % 2 == 0 ? v1::TRACK_KIND_CAMERA : v1::TRACK_KIND_EVIDENCE);
      begin.set_size(size);
      begin.set_sha256(file_sha);
      v1::UploadStatus st;
      if (!stub->BeginUpload(ctx().get(), begin, &st).ok()) {
        ++failures;
        return;
      }
      v1::UploadChunkRequest req;
      req.set_file_id(st.file_id());
      for (int64_t off = 0, i = 0; off < size; off += chunk, ++i) {
        req.set_offset(off);
        req.set_data(content.substr(static_cast<size_t>(off), static_cast<size_t>(std::min(chunk, size - off))));
        req.set_checksum(chunk_sha[static_cast<size_t>(i)]);
        const auto c0 = Clock::now();
        const auto s = stub->UploadChunk(ctx().get(), req, &st);
        latencies[static_cast<size_t>(d)].push_back(Seconds(Clock::now() - c0) * 1000.0);
        if (!s.ok()) {
          std::fprintf(stderr, "chunk failed: %s\n", s.error_message().c_str());
          ++failures;
          return;
        }
      }
      v1::CommitUploadRequest commit;
      commit.set_file_id(st.file_id());
      if (stub->CommitUpload(ctx().get(), commit, &st).ok() && st.complete()) ++completed;
      else ++failures;
    });
  }
  for (auto& t : threads) t.join();
  const double upload_s = Seconds(Clock::now() - t0);
  const long rss_kb = examd.PeakRssKb();
  examd.Kill(SIGTERM);

  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(p * static_cast<double>(all.size())))]; };
  const double total_mb = static_cast<double>(size) * devices / 1e6;
  const double upload_mbps = total_mb / upload_s;

  // The baseline on the same disk: one source file copied once per device.
  const auto src = dir.path() / "source.bin";
  {
    std::ofstream out(src, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
  }
  const double copy_mbps = PlainCopyMBps(src, dir.path(), devices);

  std::printf("devices %d x %d MiB, chunks of %d KiB: %d complete, %d failed\n", devices, mb, chunk_kb,
              completed.load(), failures.load());
  std::printf("upload: %.0f MB in %.1f s = %.1f MB/s aggregate\n", total_mb, upload_s, upload_mbps);
  std::printf("plain file copy of the same bytes on this disk: %.1f MB/s; upload / copy = %.2f\n", copy_mbps,
              upload_mbps / copy_mbps);
  std::printf("chunk latency ms: p50 %.1f  p99 %.1f  max %.1f  (%zu chunks)\n", pct(0.50), pct(0.99),
              all.empty() ? 0.0 : all.back(), all.size());
  std::printf("examd peak RSS: %.1f MB\n", static_cast<double>(rss_kb) / 1024.0);
  return failures == 0 && completed == devices ? 0 : 1;
}
