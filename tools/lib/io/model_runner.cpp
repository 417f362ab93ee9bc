// Repeated execution with latency statistics for `aegisrt exec` / `compare`.
#include "aegisrt/io/model_runner.h"

#include <algorithm>
#include <cmath>

namespace aegisrt::io {

LatencyStats summarize_latencies(std::span<const Duration> samples) {
  LatencyStats s;
  s.iterations = samples.size();
  if (samples.empty()) return s;
  std::vector<double> ms;
  ms.reserve(samples.size());
  for (auto d : samples) ms.push_back(to_ms(d));
  std::sort(ms.begin(), ms.end());
  // Nearest rank: the smallest sample with at least p% of samples <= it.
  auto rank = [&](double p) {
    const auto k = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(ms.size())));
    return ms[std::clamp<std::size_t>(k, 1, ms.size()) - 1];
  };
  s.min_ms = ms.front();
  s.max_ms = ms.back();
  s.p50_ms = rank(50);
  s.p90_ms = rank(90);
  double sum = 0;
  for (double v : ms) sum += v;
  s.mean_ms = sum / static_cast<double>(ms.size());
  return s;
}

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
  report.stats = summarize_latencies(report.latencies);
  return report;
}

}  // namespace aegisrt::io
