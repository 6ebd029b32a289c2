// Backend fan-out benchmark: N simulated candidates (the real simulator, over loopback
// gRPC) drive an exam while S consoles subscribe to the event stream. Prints delivery
// latency (commit-side event time to receipt, in real milliseconds) p50/p99/max, events/s
// and checks that every subscriber saw a gap-free, duplicate-free log.
//
//   bench_event_fanout [--candidates 2000] [--subscribers 20] [--seconds 90] [--time-scale 20]
//                      [--heartbeat-real-s 5]
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <map>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/util/time_util.h>

#include "backend/server.h"
#include "backend/sim/simulator.h"
#include "exam/v1/auth.grpc.pb.h"
#include "exam/v1/event.grpc.pb.h"

namespace {

namespace v1 = exam::v1;
using google::protobuf::util::TimeUtil;

struct SubscriberResult {
  std::vector<double> latency_ms;
  std::map<int, std::vector<double>> latency_by_kind;
  int64_t events = 0;
  int64_t gaps = 0;
  int64_t duplicates = 0;
  int64_t last_seq = 0;
  std::string error;
};

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  int candidates = 2000, subscribers = 20, seconds = 90;
  double time_scale = 20;
  // Devices heartbeat every 5 s in the field; a faster backend clock must not multiply
  // that, or the benchmark measures a load no real exam produces.
  double heartbeat_real_s = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--candidates") candidates = std::stoi(argv[i + 1]);
    else if (a == "--subscribers") subscribers = std::stoi(argv[i + 1]);
    else if (a == "--seconds") seconds = std::stoi(argv[i + 1]);
    else if (a == "--time-scale") time_scale = std::stod(argv[i + 1]);
    else if (a == "--heartbeat-real-s") heartbeat_real_s = std::stod(argv[i + 1]);
    else {
      std::cerr << "unknown option " << a << "\n";
      return 2;
    }
  }

  std::random_device rd;
  const auto dir = std::filesystem::temp_directory_path() / ("exam-bench-" + std::to_string(rd()));
  std::filesystem::create_directories(dir);
  exam::backend::ServerOptions opts;
  opts.db_path = (dir / "bench.db").string();
  opts.demo_candidates = candidates;
  opts.time_scale = time_scale;
  // Start soon after seeding so the run covers check-in, the start and answering.
  opts.demo_start_in = exam::core::minutes(16);
  std::string error;
  auto server = exam::backend::ExamServer::Start(opts, &error);
  if (!server) {
    std::cerr << "cannot start backend: " << error << "\n";
    return 1;
  }

  auto channel = grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials());
  std::string token;
  {
    auto auth = v1::AuthService::NewStub(channel);
    grpc::ClientContext ctx;
    v1::LoginRequest req;
    req.set_username("admin");
    req.set_password("demo");
    v1::LoginResponse resp;
    if (!auth->Login(&ctx, req, &resp).ok()) {
      std::cerr << "login failed\n";
      return 1;
    }
    token = resp.token();
  }

  std::vector<SubscriberResult> results(static_cast<size_t>(subscribers));
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::thread> threads;
  const double scale = server->clock().time_scale();
  for (int s = 0; s < subscribers; ++s) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    contexts.back()->AddMetadata("authorization", "Bearer " + token);
    // Each console has its own channel, as separate processes would.
    auto own = grpc::CreateCustomChannel(server->address(), grpc::InsecureChannelCredentials(),
                                         [s] { grpc::ChannelArguments a; a.SetInt("subscriber", s); return a; }());
    threads.emplace_back([&, s, own] {
      auto& r = results[static_cast<size_t>(s)];
      auto stub = v1::EventService::NewStub(own);
      v1::SubscribeRequest req;
      auto reader = stub->Subscribe(contexts[static_cast<size_t>(s)].get(), req);
      v1::EventEnvelope env;
      while (reader->Read(&env)) {
        if (!env.has_event()) continue;
        const auto& e = env.event();
        const double lag_backend_ms = static_cast<double>(
            exam::core::ToUnixMillis(server->clock().Now()) - TimeUtil::TimestampToMilliseconds(e.time()));
        r.latency_ms.push_back(lag_backend_ms / scale);
        r.latency_by_kind[e.kind()].push_back(lag_backend_ms / scale);
        ++r.events;
        if (e.seq() <= r.last_seq) ++r.duplicates;
        else if (e.seq() != r.last_seq + 1) ++r.gaps;
        r.last_seq = std::max(r.last_seq, e.seq());
      }
      auto status = reader->Finish();
      if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED) r.error = status.error_message();
    });
  }

  exam::sim::SimulatorOptions so;
  so.address = server->address();
  so.exam_id = server->demo().exam_id;
  so.access_code = server->demo().access_code;
  so.registration_nos = server->demo().registration_nos;
  so.seed = 7;
  so.time_scale = time_scale;
  so.min_heartbeat_real_s = heartbeat_real_s;
  exam::sim::CandidateSimulator sim(so);
  const auto t0 = std::chrono::steady_clock::now();
  sim.Start();
  // The run length is the measurement window, not a synchronisation point.
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  sim.Stop();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Let every subscriber drain to the same last seq before cutting the streams.
  const auto drain_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  const auto stats = sim.Stats();
  for (;;) {
    int64_t min_seq = INT64_MAX;
    for (auto& r : results) min_seq = std::min(min_seq, r.last_seq);
    int64_t max_seq = 0;
    for (auto& r : results) max_seq = std::max(max_seq, r.last_seq);
    if (min_seq == max_seq || std::chrono::steady_clock::now() > drain_deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& c : contexts) c->TryCancel();
  for (auto& t : threads) t.join();

  std::vector<double> all;
  std::map<int, std::vector<double>> by_kind;
  for (auto& r : results)
    for (auto& [k, v] : r.latency_by_kind) by_kind[k].insert(by_kind[k].end(), v.begin(), v.end());
  int64_t delivered = 0, gaps = 0, dups = 0, last = 0;
  bool failed = false;
  for (auto& r : results) {
    all.insert(all.end(), r.latency_ms.begin(), r.latency_ms.end());
    delivered += r.events;
    gaps += r.gaps;
    dups += r.duplicates;
    last = std::max(last, r.last_seq);
    if (!r.error.empty()) {
      std::cerr << "subscriber error: " << r.error << "\n";
      failed = true;
    }
  }
  for (auto& r : results)
    if (r.last_seq != last) failed = true;
  const double p50 = Percentile(all, 0.50), p99 = Percentile(all, 0.99);
  const double max = all.empty() ? 0 : *std::max_element(all.begin(), all.end());
  std::printf("event fan-out: candidates=%d subscribers=%d time_scale=%.0f heartbeat_real_s=%.1f window_s=%.1f\n",
              candidates, subscribers, time_scale, heartbeat_real_s, elapsed);
  std::printf("  log events=%lld  produced/s=%.0f  delivered=%lld  delivered/s=%.0f\n", static_cast<long long>(last),
              static_cast<double>(last) / elapsed, static_cast<long long>(delivered),
              static_cast<double>(delivered) / elapsed);
  std::printf("  delivery latency ms: p50=%.2f p99=%.2f max=%.2f\n", p50, p99, max);
  std::printf(
      "  gaps=%lld duplicates=%lld  simulator: joined=%lld stage_reports=%lld heartbeats=%lld forfeited=%lld "
      "rpc_errors=%lld\n",
      static_cast<long long>(gaps), static_cast<long long>(dups), static_cast<long long>(stats.joined),
      static_cast<long long>(stats.stage_reports), static_cast<long long>(stats.heartbeats),
      static_cast<long long>(stats.forfeited), static_cast<long long>(stats.rpc_errors));
  std::printf("  by kind (p99 ms, count):");
  for (auto& [k, v] : by_kind)
    std::printf(" %s=%.1f/%zu", v1::EventKind_Name(static_cast<v1::EventKind>(k)).c_str() + 11, Percentile(v, 0.99),
                v.size());
  std::printf("\n");
  server->Shutdown();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (failed || gaps || dups || last == 0) {
    std::printf("FAILED: a subscriber lost, repeated or stopped short of events\n");
    return 1;
  }
  return 0;
}
