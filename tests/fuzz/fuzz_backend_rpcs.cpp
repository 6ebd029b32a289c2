// libFuzzer target: every request handler of the backend on arbitrary request bytes.
// One ExamServer runs in-process for the whole run (demo seed, database in a temp folder,
// loopback port). Per input, byte 0 picks a method of a service in package exam.v1 (found
// in the descriptor pool, so a new RPC is fuzzed without touching this file) and whether
// the call carries the admin's token; the remaining bytes go on the wire as the serialized
// request. The server must answer with a status — any code — and keep serving: a
// follow-up ExamService.GetClock must succeed.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>

#include "backend/server.h"
#include "exam/v1/auth.grpc.pb.h"
#include "exam/v1/exam.grpc.pb.h"

namespace {

namespace pb = google::protobuf;

struct Method {
  std::string path;  // "/exam.v1.ExamService/GetClock"
  bool streaming = false;
};

std::unique_ptr<exam::backend::ExamServer> g_server;
std::shared_ptr<grpc::Channel> g_channel;
std::unique_ptr<grpc::GenericStub> g_generic;
std::unique_ptr<exam::v1::ExamService::Stub> g_exam;
std::vector<Method> g_methods;
// The fuzzed calls' token, and the probe's own session: a fuzzed Logout revokes only the
// former (which is then renewed), never the probe's.
std::string g_token;
std::string g_probe_token;
std::string g_dir;

constexpr auto kDeadline = std::chrono::milliseconds(200);
// Status codes of the fuzzed calls, printed at exit: how many inputs got past parsing and
// authorisation, and how many ran into the deadline (slow handlers under the sanitizers).
uint64_t g_codes[17] = {};
std::string g_sample[17];  // the first message seen with each code

// Every .proto of the API; a file the binary does not link is simply skipped.
const char* const kProtoFiles[] = {
    "exam/v1/appeal.proto", "exam/v1/audit.proto", "exam/v1/auth.proto",   "exam/v1/candidate.proto",
    "exam/v1/clip.proto",   "exam/v1/common.proto", "exam/v1/event.proto", "exam/v1/exam.proto",
    "exam/v1/help.proto",   "exam/v1/live.proto",   "exam/v1/review.proto", "exam/v1/upload.proto",
};

void CollectMethods() {
  const pb::DescriptorPool* pool = pb::DescriptorPool::generated_pool();
  for (const char* name : kProtoFiles) {
    const pb::FileDescriptor* file = pool->FindFileByName(name);
    if (!file || file->package() != "exam.v1") continue;
    for (int s = 0; s < file->service_count(); ++s) {
      const pb::ServiceDescriptor* service = file->service(s);
      for (int m = 0; m < service->method_count(); ++m) {
        const pb::MethodDescriptor* method = service->method(m);
        g_methods.push_back({"/" + service->full_name() + "/" + method->name(),
                             method->client_streaming() || method->server_streaming()});
      }
    }
  }
}

bool Wait(grpc::CompletionQueue& cq, void* tag) {
  void* got = nullptr;
  bool ok = false;
  // The call's deadline ends every operation; this bound only guards against a lost tag.
  const auto limit = std::chrono::system_clock::now() + std::chrono::seconds(10);
  if (cq.AsyncNext(&got, &ok, limit) != grpc::CompletionQueue::GOT_EVENT) abort();
  if (got != tag) abort();
  return ok;
}

// One call, unary or streaming alike: send the request, read at most one answer, and for
// streams cancel after it (a stream that stays open is normal, not a failure).
grpc::Status Call(const Method& method, const uint8_t* data, size_t size, bool with_token) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kDeadline);
  if (with_token) ctx.AddMetadata("authorization", "Bearer " + g_token);
  grpc::CompletionQueue cq;
  auto call = g_generic->PrepareCall(&ctx, method.path, &cq);
  grpc::Status status;
  int tag = 0;
  call->StartCall(&tag);
  if (Wait(cq, &tag)) {
    grpc::Slice slice(data, size);
    grpc::ByteBuffer request(&slice, 1);
    call->Write(request, &tag);
    if (Wait(cq, &tag)) {
      call->WritesDone(&tag);
      if (Wait(cq, &tag)) {
        grpc::ByteBuffer response;
        call->Read(&response, &tag);
        Wait(cq, &tag);
      }
    }
  }
  if (method.streaming) ctx.TryCancel();
  call->Finish(&status, &tag);
  Wait(cq, &tag);
  cq.Shutdown();
  void* ignored;
  bool ok;
  while (cq.Next(&ignored, &ok)) {
  }
  return status;
}

std::string LoginAdmin() {
  auto auth = exam::v1::AuthService::NewStub(g_channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  exam::v1::LoginRequest req;
  req.set_username("admin");
  req.set_password(g_server->demo().demo_password);
  exam::v1::LoginResponse resp;
  if (auto status = auth->Login(&ctx, req, &resp); !status.ok()) {
    fprintf(stderr, "admin login failed: %s\n", status.error_message().c_str());
    abort();
  }
  return resp.token();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char tmpl[] = "/tmp/exam-fuzz-examd-XXXXXX";
  if (!mkdtemp(tmpl)) abort();
  g_dir = tmpl;
  exam::backend::ServerOptions options;
  options.db_path = g_dir + "/examd.db";
  options.listen = "127.0.0.1:0";
  options.demo_candidates = 8;
  options.demo_rooms = 2;
  // One short reviewed session: ReviewService has something to serve without the demo
  // synthesizing minutes of video under the sanitizers.
  options.demo_review_sessions = 1;
  options.demo_review_seconds = 4;
  std::string error;
  g_server = exam::backend::ExamServer::Start(options, &error);
  if (!g_server) {
    fprintf(stderr, "cannot start examd: %s\n", error.c_str());
    abort();
  }
  g_channel = grpc::CreateChannel(g_server->address(), grpc::InsecureChannelCredentials());
  g_generic = std::make_unique<grpc::GenericStub>(g_channel);
  g_exam = exam::v1::ExamService::NewStub(g_channel);

  g_token = LoginAdmin();
  g_probe_token = LoginAdmin();

  CollectMethods();
  if (g_methods.empty()) {
    fprintf(stderr, "no exam.v1 services in the descriptor pool\n");
    abort();
  }
  fprintf(stderr, "fuzzing %zu methods on %s\n", g_methods.size(), g_server->address().c_str());
  // libFuzzer ends the process with exit() from inside its loop, so the server is never
  // shut down in order; only its temp folder is removed.
  atexit([] {
    fprintf(stderr, "status codes of fuzzed calls:");
    for (int c = 0; c < 17; ++c)
      if (g_codes[c]) fprintf(stderr, " %d:%llu", c, static_cast<unsigned long long>(g_codes[c]));
    fprintf(stderr, "\n");
    for (int c = 1; c < 17; ++c)
      if (g_codes[c]) fprintf(stderr, "  first %d: %s\n", c, g_sample[c].c_str());
    std::error_code ec;
    std::filesystem::remove_all(g_dir, ec);
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t pick = data[0] % (2 * g_methods.size());
  const Method& method = g_methods[pick % g_methods.size()];
  const bool with_token = pick < g_methods.size();
  const grpc::Status status = Call(method, data + 1, size - 1, with_token);
  const unsigned code = std::min<unsigned>(static_cast<unsigned>(status.error_code()), 16);
  if (g_codes[code]++ == 0) g_sample[code] = method.path + ": " + status.error_message();
  if (with_token && method.path == "/exam.v1.AuthService/Logout") g_token = LoginAdmin();

  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  ctx.AddMetadata("authorization", "Bearer " + g_probe_token);
  exam::v1::ClockReading clock;
  const grpc::Status probe = g_exam->GetClock(&ctx, exam::v1::GetClockRequest{}, &clock);
  if (!probe.ok()) {
    fprintf(stderr, "examd stopped serving after %s: %d %s\n", method.path.c_str(), probe.error_code(),
            probe.error_message().c_str());
    abort();
  }
  return 0;
}
