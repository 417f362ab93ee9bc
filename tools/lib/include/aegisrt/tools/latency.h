// LatencySummary: the one summary of latency samples that every report uses
// (`aegisrt exec`, `aegisrt bench`, the benchmark programs), so the same
// samples give the same numbers everywhere.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "aegisrt/core/types.h"

namespace aegisrt::tools {

/// Summary of latency samples, in milliseconds; all zero for no samples.
/// Percentiles are numpy.percentile's default ("linear", method 7 of Hyndman
/// and Fan): for ascending samples x[0..n-1], the q-th percentile is read at
/// position h = q/100 * (n - 1) and interpolated linearly between
/// x[floor(h)] and x[floor(h) + 1]. So p50 of {1, 2, 3, 4} is 2.5 and p90 of
/// {1, 2, 3, 4, 5} is 4.6.
struct LatencySummary {
  std::size_t count = 0;
  double min_ms = 0.0;
  double mean_ms = 0.0;
  double p50_ms = 0.0;
  double p90_ms = 0.0;
  double p99_ms = 0.0;
  double max_ms = 0.0;
};

/// The q-th percentile (q in [0, 100], clamped) of ascending `sorted`, by the
/// definition above; 0 for no samples.
double percentile(std::span<const double> sorted, double q) noexcept;

/// Summary of samples in milliseconds (any order).
LatencySummary summarize_latencies(std::vector<double> samples_ms);
/// Summary of durations (any order), converted to milliseconds.
LatencySummary summarize_durations(std::span<const Duration> samples);

}  // namespace aegisrt::tools
