#pragma once
// The demo exam the console shows out of the box and the simulator drives.
#include "backend/server.h"
#include "backend/services/backend_context.h"

namespace exam::backend {

// Creates the demo exam, rooms, candidates and staff when the store has no users yet;
// otherwise reads back what an earlier run created. Deterministic names for a count.
DemoInfo SeedOrLoadDemo(BackendContext& ctx, const ServerOptions& options);

}  // namespace exam::backend
