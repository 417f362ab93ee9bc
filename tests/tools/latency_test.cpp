// LatencySummary against numpy.percentile (default method "linear") on
// hand-picked samples. Every expected value below was computed by numpy 2.4
// and checked by hand from the definition in tools/latency.h
// (h = q/100 * (n-1), linear between the neighbouring sorted samples):
//
//   >>> a = [0.113, 0.587, 0.249, 1.902, 0.331, 0.298, 0.264, 0.711, 0.402, 12.5, 0.276]
//   >>> [float(np.percentile(a, q)) for q in (0, 10, 25, 50, 75, 90, 99, 100)]
//   [0.113, 0.249, 0.27, 0.331, 0.649, 1.902, 11.440200000000004, 12.5]
//   >>> float(np.mean(a))
//   1.603
//   >>> [float(np.percentile([2.0, 8.0], q)) for q in (50, 90, 99)]
//   [5.0, 7.4, 7.9399999999999995]
//   >>> [float(np.percentile([3.0, 3.0, 3.0, 9.0], q)) for q in (50, 90, 99)]
//   [3.0, 7.200000000000001, 8.819999999999999]
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "aegisrt/tools/latency.h"

namespace aegisrt::tools {
namespace {

constexpr double kTol = 1e-12;

TEST(LatencySummary, MatchesNumpyPercentileOnElevenSamplesWithAnOutlier) {
  const std::vector<double> a{0.113, 0.587, 0.249, 1.902, 0.331, 0.298, 0.264, 0.711, 0.402, 12.5, 0.276};
  const LatencySummary s = summarize_latencies(a);
  EXPECT_EQ(s.count, 11u);
  EXPECT_NEAR(s.min_ms, 0.113, kTol);
  EXPECT_NEAR(s.max_ms, 12.5, kTol);
  EXPECT_NEAR(s.mean_ms, 1.603, kTol);
  EXPECT_NEAR(s.p50_ms, 0.331, kTol);
  EXPECT_NEAR(s.p90_ms, 1.902, kTol);
  EXPECT_NEAR(s.p99_ms, 11.4402, kTol);  // 1.902 + 0.9 * (12.5 - 1.902)

  std::vector<double> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_NEAR(percentile(sorted, 0), 0.113, kTol);
  EXPECT_NEAR(percentile(sorted, 10), 0.249, kTol);
  EXPECT_NEAR(percentile(sorted, 25), 0.27, kTol);   // halfway between 0.264 and 0.276
  EXPECT_NEAR(percentile(sorted, 75), 0.649, kTol);  // halfway between 0.587 and 0.711
  EXPECT_NEAR(percentile(sorted, 100), 12.5, kTol);
  // q outside [0, 100] is clamped.
  EXPECT_NEAR(percentile(sorted, -5), 0.113, kTol);
  EXPECT_NEAR(percentile(sorted, 250), 12.5, kTol);
}

TEST(LatencySummary, MatchesNumpyPercentileOnTwoSamplesAndOnTies) {
  auto s = summarize_latencies({8.0, 2.0});
  EXPECT_NEAR(s.p50_ms, 5.0, kTol);
  EXPECT_NEAR(s.p90_ms, 7.4, kTol);
  EXPECT_NEAR(s.p99_ms, 7.94, kTol);
  EXPECT_NEAR(s.mean_ms, 5.0, kTol);

  s = summarize_latencies({3.0, 9.0, 3.0, 3.0});
  EXPECT_NEAR(s.p50_ms, 3.0, kTol);
  EXPECT_NEAR(s.p90_ms, 7.2, kTol);
  EXPECT_NEAR(s.p99_ms, 8.82, kTol);
  EXPECT_NEAR(s.mean_ms, 4.5, kTol);
}

TEST(LatencySummary, DurationsAreSummarisedInMilliseconds) {
  using std::chrono::microseconds;
  const std::vector<Duration> d{microseconds(8000), microseconds(2000)};
  const LatencySummary s = summarize_durations(d);
  EXPECT_EQ(s.count, 2u);
  EXPECT_NEAR(s.min_ms, 2.0, kTol);
  EXPECT_NEAR(s.p90_ms, 7.4, kTol);
  EXPECT_NEAR(s.max_ms, 8.0, kTol);
}

TEST(LatencySummary, NoSamplesGiveZeros) {
  const LatencySummary s = summarize_latencies({});
  EXPECT_EQ(s.count, 0u);
  EXPECT_DOUBLE_EQ(s.p50_ms, 0.0);
  EXPECT_DOUBLE_EQ(s.max_ms, 0.0);
  EXPECT_EQ(summarize_durations({}).count, 0u);
  EXPECT_DOUBLE_EQ(percentile({}, 50.0), 0.0);
}

}  // namespace
}  // namespace aegisrt::tools
