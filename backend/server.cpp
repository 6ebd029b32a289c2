#include "backend/server.h"

#include "backend/store/recording_store.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <condition_variable>
#include <fstream>
#include <sstream>
#include <thread>

#include "backend/demo_seed.h"
#include "backend/log.h"
#include "backend/services/request_checks.h"
#include "backend/services/services.h"

namespace exam::backend {

struct ExamServer::Impl {
  ServerOptions options;
  std::unique_ptr<BackendContext> ctx;
  std::vector<std::unique_ptr<grpc::Service>> services;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  DemoInfo demo;
  std::thread ticker;
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  bool shut_down = false;
};

namespace {

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

}  // namespace

ExamServer::ExamServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ExamServer::~ExamServer() { Shutdown(); }

std::unique_ptr<ExamServer> ExamServer::Start(const ServerOptions& options, std::string* error) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  try {
    impl->ctx = std::make_unique<BackendContext>(options.db_path, options.time_scale, options.token_ttl,
                                                 options.media_dir.empty() ? options.db_path + ".media" : options.media_dir);
    store::RecordingStore media_check(impl->ctx->media_dir);  // fails here, not at the first upload
    impl->demo = SeedOrLoadDemo(*impl->ctx, options);
  } catch (const std::exception& e) {
    if (error) *error = e.what();
    return nullptr;
  }

  std::shared_ptr<grpc::ServerCredentials> creds;
  if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    grpc::SslServerCredentialsOptions ssl;
    grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
    if (!ReadFile(options.tls_key_file, &pair.private_key) || !ReadFile(options.tls_cert_file, &pair.cert_chain)) {
      if (error) *error = "cannot read TLS certificate or key";
      return nullptr;
    }
    ssl.pem_key_cert_pairs.push_back(std::move(pair));
    creds = grpc::SslServerCredentials(ssl);
  } else {
    creds = grpc::InsecureServerCredentials();
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, creds, &impl->port);
  // A bigger request is refused by gRPC with RESOURCE_EXHAUSTED before it is parsed; the
  // connection and the server carry on. Field caps (request_checks.h) sit below this so that
  // an oversized photo or snapshot gets a message naming the field instead.
  builder.SetMaxReceiveMessageSize(static_cast<int>(kMaxRequestBytes));
  // Consoles ping every few seconds while a call is open, to notice a connection that died
  // without a reset; by default a server answers pings that come more often than every
  // 5 minutes while it sends nothing with GOAWAY. Accept them down to once a second.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 1000);
  auto& ctx = *impl->ctx;
  for (auto* make : {&MakeAuthService, &MakeExamService, &MakeEventService, &MakeLiveService, &MakeHelpService,
                     &MakeAppealService, &MakeReviewService, &MakeUploadService, &MakeAuditService,
                     &MakeCandidateService}) {
    impl->services.push_back(make(ctx));
    builder.RegisterService(impl->services.back().get());
  }
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<AuthInterceptorFactory>());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  impl->server = builder.BuildAndStart();
  if (!impl->server || impl->port == 0) {
    if (error) *error = "cannot listen on " + options.listen;
    return nullptr;
  }

  Impl* raw = impl.get();
  raw->ticker = std::thread([raw] {
    std::unique_lock lock(raw->mu);
    while (!raw->stopping) {
      raw->cv.wait_for(lock, raw->options.tick_interval, [raw] { return raw->stopping; });
      if (raw->stopping) break;
      lock.unlock();
      try {
        TickSessions(*raw->ctx);
      } catch (const std::exception& e) {
        Log("error", "tick failed", {{"error", e.what()}});
      }
      lock.lock();
    }
  });
  Log("info", "examd serving",
      {{"listen", options.listen}, {"port", std::to_string(raw->port)}, {"db", options.db_path},
       {"tls", options.tls_cert_file.empty() ? "off" : "on"}, {"time_scale", std::to_string(options.time_scale)},
       {"exam_id", std::to_string(raw->demo.exam_id)}, {"candidates", std::to_string(raw->demo.registration_nos.size())}});
  return std::unique_ptr<ExamServer>(new ExamServer(std::move(impl)));
}

void ExamServer::Shutdown() {
  if (!impl_) return;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->shut_down) return;
    impl_->shut_down = true;
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  // Ends Subscribe loops so the server's shutdown does not wait for their deadline.
  impl_->ctx->hub.Close();
  impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  impl_->server->Wait();
  if (impl_->ticker.joinable()) impl_->ticker.join();
  Log("info", "examd stopped", {{"port", std::to_string(impl_->port)}});
}

int ExamServer::port() const { return impl_->port; }
std::string ExamServer::address() const { return "127.0.0.1:" + std::to_string(impl_->port); }
const Clock& ExamServer::clock() const { return impl_->ctx->clock; }
Clock& ExamServer::clock() { return impl_->ctx->clock; }
const DemoInfo& ExamServer::demo() const { return impl_->demo; }

}  // namespace exam::backend
