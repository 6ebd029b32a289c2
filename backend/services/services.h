#pragma once
// Every gRPC service of the backend, one file each.
#include <memory>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>

#include "backend/services/backend_context.h"

namespace exam::backend {

std::unique_ptr<grpc::Service> MakeAuthService(BackendContext& ctx);
std::unique_ptr<grpc::Service> MakeExamService(BackendContext& ctx);
std::unique_ptr<grpc::Service> MakeEventService(BackendContext& ctx);
std::unique_ptr<grpc::Service> MakeLiveService(BackendContext& ctx);
std::unique_ptr<grpc::Service> MakeHelpService(BackendContext& ctx);
std::unique_ptr<grpc::Service> MakeAppealService(BackendContext& ctx);
std::unique_ptr<grpc::Service> MakeReviewService(BackendContext& ctx);
std::unique_ptr<grpc::Service> MakeUploadService(BackendContext& ctx);
std::unique_ptr<grpc::Service> MakeAuditService(BackendContext& ctx);
std::unique_ptr<grpc::Service> MakeCandidateService(BackendContext& ctx);

// Applies time-driven rules (countdowns, forfeits, interruptions past their limit, devices
// gone quiet) to every running session. Called by the server's ticker.
void TickSessions(BackendContext& ctx);

}  // namespace exam::backend
