// Runs a loaded backend on prepared inputs N times and summarises latency; the
// engine room of `aegisrt exec` and `compare`, kept in the library so it is
// unit-testable with MockBackend.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "aegisrt/backend/runtime_backend.h"
#include "aegisrt/core/result.h"
#include "aegisrt/core/types.h"

namespace aegisrt::io {

struct LatencyStats {
  std::size_t iterations = 0;
  double min_ms = 0;
  double p50_ms = 0;
  double p90_ms = 0;
  double mean_ms = 0;
  double max_ms = 0;
};

/// Nearest-rank percentiles over the samples; all zero for none.
LatencyStats summarize_latencies(std::span<const Duration> samples);

struct RunOptions {
  int iterations = 1;  // timed runs, >= 1
  int warmup = 0;      // untimed runs before them, >= 0
};

struct RunReport {
  std::vector<Tensor> outputs;  // from the last iteration, named
  std::vector<Duration> latencies;
  LatencyStats stats;
};

/// Executes `backend` (already loaded). InvalidArgument for iterations < 1 or
/// warmup < 0; the first failing execute()'s error otherwise.
Result<RunReport> run_model(RuntimeBackend& backend, const std::vector<NamedTensorView>& inputs,
                            const RunOptions& options = {});

}  // namespace aegisrt::io
