// Runs a loaded backend on prepared inputs N times and summarises latency; the
// engine room of `aegisrt exec` and `compare`, kept in the tools library so it
// is unit-testable with MockBackend.
#pragma once

#include <cstddef>
#include <vector>

#include "aegisrt/backend/runtime_backend.h"
#include "aegisrt/core/result.h"
#include "aegisrt/core/types.h"
#include "aegisrt/tools/latency.h"

namespace aegisrt::io {

struct RunOptions {
  int iterations = 1;  // timed runs, >= 1
  int warmup = 0;      // untimed runs before them, >= 0
};

struct RunReport {
  std::vector<Tensor> outputs;  // from the last iteration, named
  std::vector<Duration> latencies;
  tools::LatencySummary stats;  // of `latencies`
};

/// Executes `backend` (already loaded). InvalidArgument for iterations < 1 or
/// warmup < 0; the first failing execute()'s error otherwise.
Result<RunReport> run_model(RuntimeBackend& backend, const std::vector<NamedTensorView>& inputs,
                            const RunOptions& options = {});

}  // namespace aegisrt::io
