// Repeated execution with latency statistics for `aegisrt exec` / `compare`.
#include "aegisrt/io/model_runner.h"

#include <string>
#include <utility>

namespace aegisrt::io {

Result<RunReport> run_model(RuntimeBackend& backend, const std::vector<NamedTensorView>& inputs,
                            const RunOptions& options) {
  if (options.iterations < 1) {
    return Error(ErrorCode::InvalidArgument,
                 "iterations must be at least 1 (got " + std::to_string(options.iterations) + ")");
  }
  if (options.warmup < 0) {
    return Error(ErrorCode::InvalidArgument,
                 "warmup must not be negative (got " + std::to_string(options.warmup) + ")");
  }
  ExecutionRequest request;
  request.inputs = inputs;
  for (int i = 0; i < options.warmup; ++i) {
    auto r = backend.execute(request);
    if (!r.ok()) return std::move(r).error().with_context("warm-up run " + std::to_string(i + 1));
  }
  RunReport report;
  report.latencies.reserve(static_cast<std::size_t>(options.iterations));
  for (int i = 0; i < options.iterations; ++i) {
    auto r = backend.execute(request);
    if (!r.ok()) return std::move(r).error().with_context("run " + std::to_string(i + 1));
    report.latencies.push_back(r->latency);
    if (i + 1 == options.iterations) report.outputs = std::move(r->outputs);
  }
  report.stats = tools::summarize_durations(report.latencies);
  return report;
}

}  // namespace aegisrt::io
