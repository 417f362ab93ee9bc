// build_tensorrt_engine(): ONNX -> nvonnxparser -> IBuilder -> serialised
// engine, published through the ArtifactCache. Precision paths per version:
//  * 8.6 / 10.x, float32 model: BuilderFlag::kFP16 / kINT8 (+ entropy calibrator);
//  * 10.x, fp16 or Q/DQ model: strongly typed network (kSTRONGLY_TYPED);
//  * 11.x: every network is strongly typed: the model carries its precision.
// What path a request takes is decided by plan_engine_build() (tested in CI).
#include <NvOnnxParser.h>
#include "aegisrt/core/file_util.h"
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <span>
#include <unistd.h>

#include "aegisrt/trt_plan/engine_builder.h"
#include "aegisrt/cache/artifact_cache.h"
#include "aegisrt/cuda/device_info.h"
#include "aegisrt/cuda/tensor_ops.h"
#include "cuda/cuda_check.h"
#include "trt_compat.h"

namespace aegisrt::trt {
namespace {

Result<std::string> read_optional_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::string();
  // TensorRT deserialises these (timing / calibration caches): ours only.
  AEGIS_TRY(check_trusted_file(path, "TensorRT cache file"));
  return aegisrt::read_file(path, "TensorRT cache file", std::uint64_t{1} << 32);
}

/// Creates the folder, then core's write_file_atomic (a temporary unique per
/// process and thread, renamed over `path`), so readers never see half a file.
Result<void> write_cache_file(const std::filesystem::path& path, const void* data, std::size_t size) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  return aegisrt::write_file_atomic(path, std::span<const std::byte>(static_cast<const std::byte*>(data), size));
}

#if NV_TENSORRT_MAJOR < 11
AEGIS_TRT_ALLOW_DEPRECATED_BEGIN
/// Entropy calibrator fed by a CalibrationBatchFn (our vision pre-processing).
/// Batches are copied to a device tensor that stays alive until the next call.
class EntropyCalibrator final : public nvinfer1::IInt8EntropyCalibrator2 {
 public:
  EntropyCalibrator(const CalibrationSource& source, std::string input, Shape batch_shape, int device,
                    std::filesystem::path cache_file)
      : source_(source),
        input_(std::move(input)),
        batch_shape_(std::move(batch_shape)),
        device_(device),
        cache_file_(std::move(cache_file)) {}

  // Explicit-batch networks carry the batch in the input dims.
  int32_t getBatchSize() const noexcept override { return 1; }

  bool getBatch(void* bindings[], char const* names[], int32_t nb_bindings) noexcept override {
    try {
      if (!source_.next_batch) return false;
      if (source_.max_batches > 0 && batches_ >= source_.max_batches) return false;
      auto next = source_.next_batch();
      if (!next.ok()) {
        error_ = next.error().to_string();
        return false;
      }
      if (!next.value().has_value()) return false;
      Tensor& host = *next.value();
      if (host.dtype() != DType::Float32 || host.shape() != batch_shape_) {
        error_ = "calibration batch " + std::to_string(batches_) + " has " +
                 std::string(dtype_name(host.dtype())) + " " + shape_to_string(host.shape()) +
                 ", expected float32 " + shape_to_string(batch_shape_);
        return false;
      }
      auto dev = cuda::copy_to_device(host.view(), device_, input_);
      if (!dev.ok()) {
        error_ = dev.error().to_string();
        return false;
      }
      current_ = std::move(dev).value();
      for (int32_t i = 0; i < nb_bindings; ++i) {
        if (names[i] != nullptr && input_ == names[i]) bindings[i] = current_.data();
      }
      ++batches_;
      return true;
    } catch (...) {  // NOLINT: nothing may escape into TensorRT
      error_ = "exception while producing a calibration batch";
      return false;
    }
  }

  void const* readCalibrationCache(std::size_t& length) noexcept override {
    length = 0;
    try {
      auto data = read_optional_file(cache_file_);
      if (!data.ok() || data.value().empty()) return nullptr;
      cache_ = std::move(data).value();
      length = cache_.size();
      spdlog::info("using int8 calibration cache {}", cache_file_.string());
      return cache_.data();
    } catch (...) {  // NOLINT
      return nullptr;
    }
  }

  void writeCalibrationCache(void const* ptr, std::size_t length) noexcept override {
    try {
      if (auto r = write_cache_file(cache_file_, ptr, length); !r.ok()) {
        spdlog::warn("could not write calibration cache: {}", r.error().to_string());
      }
    } catch (...) {  // NOLINT
    }
  }

  [[nodiscard]] const std::string& error() const noexcept { return error_; }
  [[nodiscard]] std::size_t batches() const noexcept { return batches_; }

 private:
  const CalibrationSource& source_;
  std::string input_;
  Shape batch_shape_;
  int device_;
  std::filesystem::path cache_file_;
  Tensor current_;
  std::string cache_;
  std::string error_;
  std::size_t batches_ = 0;
};
AEGIS_TRT_ALLOW_DEPRECATED_END
#endif

/// The TensorRT objects of one build. Members are destroyed in reverse order:
/// the timing cache and config before the parser, network and builder, the
/// logger they all report to last.
struct BuildSession {
  explicit BuildSession(std::string m) : model(std::move(m)) {}
  std::string model;  // the ONNX file, for messages
  TrtLogger logger;
  TrtPtr<nvinfer1::IBuilder> builder;
  TrtPtr<nvinfer1::INetworkDefinition> network;
  TrtPtr<nvonnxparser::IParser> parser;
  TrtPtr<nvinfer1::IBuilderConfig> config;
  TrtPtr<nvinfer1::ITimingCache> timing;

  /// `what`, with what TensorRT logged since the last call, classified by `stage`.
  Error fail(TrtStage stage, std::string_view what) {
    const auto logged = logger.sink().take_errors();
    return make_trt_error(stage, what, logged, "model " + model);
  }
};

/// Builder, network (typed as the plan says) and the ONNX model parsed into it.
Result<void> parse_network(BuildSession& b, [[maybe_unused]] const EngineBuildSpec& spec) {
  b.builder.reset(nvinfer1::createInferBuilder(b.logger));
  if (!b.builder) return b.fail(TrtStage::CreateRuntime, "createInferBuilder failed");

  std::uint32_t network_flags = 0;
#if NV_TENSORRT_MAJOR < 10
  network_flags |= 1U << static_cast<std::uint32_t>(nvinfer1::NetworkDefinitionCreationFlag::kEXPLICIT_BATCH);
#elif NV_TENSORRT_MAJOR == 10
  if (spec.plan.typing == NetworkTyping::Strong) {
    network_flags |= 1U << static_cast<std::uint32_t>(nvinfer1::NetworkDefinitionCreationFlag::kSTRONGLY_TYPED);
  }
#endif  // 11.x: strongly typed is the only mode; no flag needed
  b.network.reset(b.builder->createNetworkV2(network_flags));
  if (!b.network) return b.fail(TrtStage::Build, "createNetworkV2 failed");

  b.parser.reset(nvonnxparser::createParser(*b.network, b.logger));
  if (!b.parser) return b.fail(TrtStage::Parse, "createParser failed");
  if (!b.parser->parseFromFile(b.model.c_str(), static_cast<int>(nvinfer1::ILogger::Severity::kWARNING))) {
    for (int i = 0; i < b.parser->getNbErrors(); ++i) {
      const auto* e = b.parser->getError(i);
      if (e != nullptr) b.logger.sink().record(TrtSeverity::Error, e->desc());
    }
    return b.fail(TrtStage::Parse, "nvonnxparser could not parse " + b.model);
  }
  return {};
}

/// The builder config: workspace, precision flags (before 11.x) and the one
/// optimisation profile, returned (owned by the builder) for calibration.
Result<nvinfer1::IOptimizationProfile*> configure_build(BuildSession& b, const EngineBuildOptions& options,
                                                        const EngineBuildSpec& spec) {
  b.config.reset(b.builder->createBuilderConfig());
  if (!b.config) return b.fail(TrtStage::Build, "createBuilderConfig failed");
  b.config->setMemoryPoolLimit(nvinfer1::MemoryPoolType::kWORKSPACE, options.workspace_bytes);

#if NV_TENSORRT_MAJOR < 11
  AEGIS_TRT_ALLOW_DEPRECATED_BEGIN
  if (spec.plan.fp16_flag) b.config->setFlag(nvinfer1::BuilderFlag::kFP16);
  if (spec.plan.int8_flag) b.config->setFlag(nvinfer1::BuilderFlag::kINT8);
  AEGIS_TRT_ALLOW_DEPRECATED_END
#else
  if (spec.plan.fp16_flag || spec.plan.int8_flag || spec.plan.needs_calibrator) {
    return Error(ErrorCode::Internal, "plan asks for builder precision flags on TensorRT 11");
  }
#endif

  nvinfer1::IOptimizationProfile* profile = b.builder->createOptimizationProfile();  // owned by the builder
  if (profile == nullptr) return b.fail(TrtStage::Build, "createOptimizationProfile failed");
  for (const auto& p : spec.profiles) {
    AEGIS_ASSIGN_OR_RETURN(auto mn, to_dims(p.min, "input '" + p.name + "'"));
    AEGIS_ASSIGN_OR_RETURN(auto op, to_dims(p.opt, "input '" + p.name + "'"));
    AEGIS_ASSIGN_OR_RETURN(auto mx, to_dims(p.max, "input '" + p.name + "'"));
    if (!profile->setDimensions(p.name.c_str(), nvinfer1::OptProfileSelector::kMIN, mn) ||
        !profile->setDimensions(p.name.c_str(), nvinfer1::OptProfileSelector::kOPT, op) ||
        !profile->setDimensions(p.name.c_str(), nvinfer1::OptProfileSelector::kMAX, mx)) {
      return b.fail(TrtStage::Build, "optimisation profile for input '" + p.name + "' rejected");
    }
  }
  if (b.config->addOptimizationProfile(profile) < 0) {
    return b.fail(TrtStage::Build, "addOptimizationProfile failed");
  }
  return profile;
}

#if NV_TENSORRT_MAJOR < 11  // 11.x builds have no calibrator
/// The calibration input's opt shape (empty when no profile names it).
Shape calibration_shape_of(const EngineBuildSpec& spec) {
  Shape shape;
  for (const auto& p : spec.profiles) {
    if (p.name == spec.calibration_input) shape = p.opt;
  }
  return shape;
}
#endif

/// Timing cache beside the engines: later builds on this GPU/version reuse
/// tactics. An unusable or refused one is dropped with a warning.
Result<void> attach_timing_cache(BuildSession& b, const EngineBuildSpec& spec) {
  AEGIS_ASSIGN_OR_RETURN(std::string timing_blob, read_optional_file(spec.timing_cache_path));
  b.timing.reset(b.config->createTimingCache(timing_blob.data(), timing_blob.size()));
  if (!b.timing && !timing_blob.empty()) {
    spdlog::warn("ignoring unusable TensorRT timing cache {}", spec.timing_cache_path.string());
    b.logger.sink().clear();
    b.timing.reset(b.config->createTimingCache(nullptr, 0));
  }
  if (b.timing && !b.config->setTimingCache(*b.timing, /*ignoreMismatch=*/false)) {
    spdlog::warn("TensorRT refused timing cache {}; building without it", spec.timing_cache_path.string());
    b.logger.sink().clear();
  }
  return {};
}

/// The serialised plan to request.output_path (the cache publishes it), then
/// the timing cache (best effort).
Result<void> save_build(BuildSession& b, const nvinfer1::IHostMemory& plan, const EngineBuildSpec& spec,
                        const BuildRequest& request) {
  {
    std::ofstream out(request.output_path, std::ios::binary | std::ios::trunc);
    if (!out) return Error(ErrorCode::IoError, "cannot write engine to " + request.output_path.string());
    out.write(static_cast<const char*>(plan.data()), static_cast<std::streamsize>(plan.size()));
    out.flush();
    if (!out) return Error(ErrorCode::IoError, "cannot write engine to " + request.output_path.string());
  }
  if (b.timing) {
    TrtPtr<nvinfer1::IHostMemory> blob(b.timing->serialize());
    if (blob && blob->size() > 0) {
      if (auto r = write_cache_file(spec.timing_cache_path, blob->data(), blob->size()); !r.ok()) {
        spdlog::warn("could not save the TensorRT timing cache: {}", r.error().to_string());
      }
    }
  }
  return {};
}

/// The nvinfer1 part of a build: writes the plan to request.output_path.
Result<BuildOutput> run_builder(const EngineBuildOptions& options, const EngineBuildSpec& spec,
                                const BuildRequest& request) {
  // The cuda layer checks the device and makes it current for the whole build.
  AEGIS_TRY(cuda::detail::check_device(options.device, "TensorRT engine build"));
  const cuda::detail::DeviceGuard guard(options.device);
  AEGIS_TRY(guard.status());
  BuildSession b(options.onnx_model.string());

  request.progress("parse", 0.0);
  AEGIS_TRY(parse_network(b, spec));
  request.progress("parse", 1.0);
  AEGIS_ASSIGN_OR_RETURN(nvinfer1::IOptimizationProfile* profile, configure_build(b, options, spec));

#if NV_TENSORRT_MAJOR < 11
  AEGIS_TRT_ALLOW_DEPRECATED_BEGIN
  std::optional<EntropyCalibrator> calibrator;  // alive until the build is done
  if (spec.plan.needs_calibrator) {
    calibrator.emplace(options.calibration, spec.calibration_input, calibration_shape_of(spec), options.device,
                       spec.calibration_cache_path);
    b.config->setInt8Calibrator(&*calibrator);
    if (!b.config->setCalibrationProfile(profile)) {
      return b.fail(TrtStage::Calibrate, "setCalibrationProfile failed");
    }
  }
  AEGIS_TRT_ALLOW_DEPRECATED_END
#else
  (void)profile;
#endif
  AEGIS_TRY(attach_timing_cache(b, spec));

  request.progress("build", -1.0);
  const auto t0 = std::chrono::steady_clock::now();
  TrtPtr<nvinfer1::IHostMemory> plan(b.builder->buildSerializedNetwork(*b.network, *b.config));
#if NV_TENSORRT_MAJOR < 11
  if (calibrator && !calibrator->error().empty()) {
    return Error(ErrorCode::InvalidArgument, "int8 calibration failed: " + calibrator->error(), "model " + b.model);
  }
#endif
  if (!plan || plan->size() == 0) return b.fail(TrtStage::Build, "buildSerializedNetwork failed for " + b.model);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  request.progress("build", 1.0);

  request.progress("serialize", 0.0);
  AEGIS_TRY(save_build(b, *plan, spec, request));
  request.progress("serialize", 1.0);

  BuildOutput out;
  out.extra["precision_plan"] = spec.plan.summary;
  out.extra["tensorrt_build_seconds"] = std::to_string(seconds);
  out.extra["tensorrt_header_version"] = header_version().to_string();
  return out;
}

}  // namespace

bool tensorrt_compiled_in() noexcept { return true; }

Result<EngineBuildResult> build_tensorrt_engine(const EngineBuildOptions& options,
                                                const ProgressFn& progress) {
  AEGIS_ASSIGN_OR_RETURN(auto model, onnx::summarize_onnx_file(options.onnx_model));
  AEGIS_ASSIGN_OR_RETURN(auto gpu, gpu_identity(options.device));
  AEGIS_ASSIGN_OR_RETURN(auto spec, plan_engine_build(options, model, library_version(), gpu));
  // Every file the parser reads (ONNX external data) is part of the key.
  AEGIS_ASSIGN_OR_RETURN(spec.key.extra_sources, onnx::onnx_external_data_files(options.onnx_model));
  spdlog::info("TensorRT engine plan for {}: {}", options.onnx_model.string(), spec.plan.summary);

  ArtifactCache cache(spec.cache_dir);
  BuilderFn builder = [&](const BuildRequest& request) -> Result<BuildOutput> {
    return run_builder(options, spec, request);
  };
  AEGIS_ASSIGN_OR_RETURN(auto cached, cache.get_or_build(spec.key, spec.env, builder, progress));
  if (!cached.build_reason.empty()) {
    spdlog::info("TensorRT engine {} rebuilt: {}", cached.artifact_path.string(), cached.build_reason);
  }
  if (!cached.warning.empty()) spdlog::warn("{}", cached.warning);
  EngineBuildResult result;
  result.engine_path = cached.artifact_path;
  result.spec = std::move(spec);
  result.cache = std::move(cached);
  return result;
}

}  // namespace aegisrt::trt
