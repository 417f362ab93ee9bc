// The one latency summary (numpy.percentile's linear interpolation).
#include "aegisrt/tools/latency.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace aegisrt::tools {

double percentile(std::span<const double> sorted, double q) noexcept {
  if (sorted.empty()) return 0.0;
  q = std::clamp(q, 0.0, 100.0);
  const double pos = q / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

LatencySummary summarize_latencies(std::vector<double> samples) {
  LatencySummary s;
  s.count = samples.size();
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  s.min_ms = samples.front();
  s.max_ms = samples.back();
  s.mean_ms = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(samples.size());
  s.p50_ms = percentile(samples, 50.0);
  s.p90_ms = percentile(samples, 90.0);
  s.p99_ms = percentile(samples, 99.0);
  return s;
}

LatencySummary summarize_durations(std::span<const Duration> samples) {
  std::vector<double> ms;
  ms.reserve(samples.size());
  for (const Duration d : samples) ms.push_back(to_ms(d));
  return summarize_latencies(std::move(ms));
}

}  // namespace aegisrt::tools
