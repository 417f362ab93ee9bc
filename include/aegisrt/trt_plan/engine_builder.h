// Building TensorRT engines from ONNX and publishing them through the
// artefact cache ({engine_cache_dir}/{variant}_{precision}.engine, sidecar with
// the model's SHA-256, TensorRT version, GPU UUID and compute capability).
//
// Split in two so everything that does not need TensorRT is tested in CI:
//  * plan_engine_build() and engine_build_options_from() are pure (always
//    compiled, src/trt_plan);
//  * build_tensorrt_engine() runs nvonnxparser + IBuilder (src/backends/
//    tensorrt, only with AEGISRT_HAVE_TENSORRT). Without TensorRT it is still
//    defined and returns Unsupported, so callers (the CLI's `aegisrt build
//    --backend tensorrt`) need no #if.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "aegisrt/backend/runtime_backend.h"  // LoadOptions
#include "aegisrt/trt_plan/build_plan.h"
#include "aegisrt/onnx/onnx_summary.h"
#include "aegisrt/trt_plan/trt_version.h"
#include "aegisrt/cache/artifact_cache.h"
#include "aegisrt/core/tensor.h"

namespace aegisrt::trt {

/// Seed default for engine_cache_dir; default_cache_dir("tensorrt") keeps it
/// unless it is shared or another user's (then a per-user folder).
inline constexpr std::string_view kDefaultEngineCacheDir = "/tmp/trt_engines";
inline constexpr std::size_t kDefaultWorkspaceBytes = std::size_t{1} << 30;  // 1 GiB

/// Yields the next pre-processed float32 calibration batch for the calibrated
/// input (shape = that input's opt shape in the profile), or an empty optional
/// when the data is exhausted. src/vision's pre-processing over a folder of
/// images plugs in here (see docs/BACKENDS.md).
using CalibrationBatchFn = std::function<Result<std::optional<Tensor>>()>;

struct CalibrationSource {
  CalibrationBatchFn next_batch;
  /// Input the batches feed; empty = the model's first input.
  std::string input_name;
  /// Identifies the data (e.g. folder path and file count); part of the cache
  /// key so another data set rebuilds the engine.
  std::string dataset_id;
  /// TensorRT's calibration cache; empty = {cache_dir}/{variant}_int8.calib.
  /// An existing cache lets int8 engines be rebuilt without the data.
  std::filesystem::path cache_file;
  /// Stop after this many batches (0 = until next_batch says done).
  std::size_t max_batches = 0;
};

struct EngineBuildOptions {
  std::filesystem::path onnx_model;
  /// Cache entry name; empty = the ONNX file's stem.
  std::string variant;
  /// Empty = kDefaultEnginePrecision (fp16).
  std::optional<Precision> precision;
  /// The manifest's allowed precisions; empty = any.
  std::vector<Precision> manifest_precisions;
  ProfileRequest profile;
  /// Empty = default_cache_dir("tensorrt").
  std::filesystem::path cache_dir;
  std::size_t workspace_bytes = kDefaultWorkspaceBytes;
  int device = 0;
  CalibrationSource calibration;
};

/// Everything decided before TensorRT runs.
struct EngineBuildSpec {
  PrecisionPlan plan;
  std::vector<TensorProfile> profiles;
  ArtifactKey key;            // backend "tensorrt", extension ".engine"
  BuildEnvironment env;       // TensorRT version + GPU
  std::filesystem::path cache_dir;
  std::filesystem::path engine_path;        // {cache_dir}/{variant}_{precision}.engine
  std::filesystem::path timing_cache_path;  // beside the engines, per TensorRT version and GPU
  std::filesystem::path calibration_cache_path;  // empty unless plan.needs_calibrator
  std::string calibration_input;                 // input the calibrator feeds
};

/// Pure planning: precision path, profiles, cache key and environment.
/// `model` is the ONNX summary of options.onnx_model.
Result<EngineBuildSpec> plan_engine_build(const EngineBuildOptions& options, const onnx::OnnxSummary& model,
                                          const TrtVersion& trt, const GpuIdentity& gpu);

/// The timing cache beside the engines: "{dir}/timing_trt{version}_sm{cc}.cache".
std::filesystem::path timing_cache_path(const std::filesystem::path& cache_dir, const TrtVersion& trt,
                                        const GpuIdentity& gpu);

/// Reads the TensorRT backend's LoadOptions into build options. Known
/// backend_options keys: "workspace_mb", "min_batch", "opt_batch",
/// "max_batch", "input_sizes" ("640x640,320x320": HxW, first = opt),
/// "layout" ("nchw"|"nhwc"), "calibration_cache". Anything else is
/// InvalidArgument naming the key.
Result<EngineBuildOptions> engine_build_options_from(const LoadOptions& options);

struct EngineBuildResult {
  std::filesystem::path engine_path;
  EngineBuildSpec spec;
  CacheResult cache;  // Hit / Built / ..., with the rebuild reason
};

/// True when this build of AegisRT can build and run TensorRT engines.
bool tensorrt_compiled_in() noexcept;

/// Returns a ready engine for options.onnx_model: from the artefact cache when
/// its sidecar matches (model hash, TensorRT version, GPU UUID + compute
/// capability, build options), else parses the model with nvonnxparser, builds
/// it (reporting progress: "parse", "build", "serialize"), and publishes it
/// atomically; a rebuild's reason is logged and returned in cache.build_reason.
/// Unsupported when AegisRT was built without TensorRT.
Result<EngineBuildResult> build_tensorrt_engine(const EngineBuildOptions& options,
                                                const ProgressFn& progress = {});

}  // namespace aegisrt::trt
