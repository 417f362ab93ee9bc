// Pipeline benchmarking: latency percentiles, images per second, the split
// between decode / pre-process / execute / post-process, cold vs warm start,
// a JSON report and a PNG latency histogram. Used by `aegisrt bench`; part of
// the tools library (aegisrt_tools), not of libaegisrt.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aegisrt/core/result.h"
#include "aegisrt/core/types.h"
#include "aegisrt/pipeline/pipeline.h"
#include "aegisrt/tools/latency.h"
#include "aegisrt/vision/image.h"

namespace aegisrt::tools {

struct BenchOptions {
  int iterations = 100;  // timed images (the input list is cycled)
  int warmup = 10;       // untimed images before, at least 1 is always run (the cold run)
  /// 0: one image at a time (decode, pre, execute, post, next). N > 0: a
  /// helper thread decodes up to N images ahead while the current one is
  /// pre-processed, executed and post-processed (a stream's steady state).
  int prefetch = 0;
  /// 1: the given pipeline alone. N > 1: N - 1 more instances of it
  /// (Pipeline::create_instance(): one loaded model, N execution contexts),
  /// each on its own thread taking every N-th timed image; the wall-clock
  /// rate is then the N streams' combined throughput. Not combined with
  /// prefetch (each stream decodes its own images).
  int streams = 1;
  /// 1: run() per image. N > 1: Pipeline::run_batch() over N images per
  /// execute (decoded one by one first, their decode time counted per
  /// image); iterations and warmup are rounded up to whole batches and
  /// images/s is still counted per image. The model needs a dynamic batch
  /// dimension (or a fixed one equal to N). Not combined with prefetch or
  /// streams > 1.
  int batch = 1;
};

struct BenchReport {
  std::size_t distinct_images = 0;
  int iterations = 0;
  int warmup = 0;
  /// Cold start: Pipeline::create (selection + backend load) and the very
  /// first image end to end (first-run allocations, lazy initialisation).
  double load_ms = 0.0;
  double first_image_ms = 0.0;
  /// Warm: timed iterations only.
  LatencySummary total;
  LatencySummary decode;
  LatencySummary preprocess;
  LatencySummary execute;
  LatencySummary postprocess;
  int prefetch = 0;
  int streams = 1;
  int batch = 1;
  /// iterations / sum of per-image totals (stage times added up; what a
  /// one-image-at-a-time loop achieves).
  double images_per_second = 0.0;
  /// iterations / wall time of the timed loop (includes overlap when
  /// prefetching, and all streams together when streams > 1).
  double wall_images_per_second = 0.0;
  double wall_seconds = 0.0;
  double detections_per_image = 0.0;
  /// Timed images nvJPEG decoded on the GPU (FrameResult::decoded_on_gpu;
  /// PipelineInfo::decoder "nvjpeg"). --prefetch and --batch decode on the CPU.
  std::size_t gpu_decoded_images = 0;
  std::vector<double> total_samples_ms;  // per timed image, in run order
};

/// Runs `images` (files, decoded every time like a real stream) through the
/// pipeline: warmup then timed iterations. InvalidArgument for an empty list or
/// iterations < 1; the first failing image's error otherwise.
Result<BenchReport> run_bench(pipeline::Pipeline& pipeline, const std::vector<std::filesystem::path>& images,
                              const BenchOptions& options);

/// JSON text of a report plus the pipeline's description (schema "aegisrt.bench/1").
std::string bench_to_json(const BenchReport& report, const pipeline::PipelineInfo& info, int indent = 2);

/// Human-readable multi-line summary (what `aegisrt bench` prints).
std::string bench_to_text(const BenchReport& report, const pipeline::PipelineInfo& info);

/// A latency histogram as an RGB image: bars over `bins` equal-width bins
/// from min to max, p50/p90/p99 marked as vertical lines, axis labels.
/// InvalidArgument for no samples or a size under 200x150.
Result<vision::Image> draw_latency_histogram(std::span<const double> samples_ms,
                                             std::string_view title, int width = 800,
                                             int height = 480, int bins = 40);

}  // namespace aegisrt::tools
