// TensorRTBackend: deserialises an engine (or builds one from ONNX through the
// artefact cache), binds I/O tensors by name and runs enqueueV3 on a
// CudaStream. Works with TensorRT 8.6, 10.x and 11.x headers. Every CUDA
// resource and error goes through the cuda layer (CudaStream, tensor_ops,
// DeviceGuard, check_device); this file calls no CUDA runtime function itself.
#include "aegisrt/backends/tensorrt/tensorrt_backend.h"
#include "aegisrt/backend/registry.h"
#include "aegisrt/core/file_util.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <optional>
#include <utility>

#include "aegisrt/trt_plan/engine_builder.h"
#include "aegisrt/trt_plan/engine_file.h"
#include "aegisrt/cuda/cuda_stream.h"
#include "aegisrt/cuda/device_info.h"
#include "aegisrt/cuda/tensor_ops.h"
#include "cuda/cuda_check.h"
#include "trt_compat.h"

namespace aegisrt {
namespace trt {
namespace {

struct IoTensor {
  TensorDesc desc;  // engine shape, kDynamicDim for dynamic dims
  Shape profile_max;  // inputs: profile 0's max shape (static dims copied)
};

Result<std::string> read_file(const std::filesystem::path& path) {
  // core's read_file, not istreambuf_iterator (g++ -O3 -Wnull-dereference false positive).
  return aegisrt::read_file(path, "TensorRT engine", std::uint64_t{1} << 34);
}

std::span<const std::byte> as_bytes_of(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

class TensorRTBackend final : public RuntimeBackend {
 public:
  TensorRTBackend() = default;
  ~TensorRTBackend() override { release(); }
  TensorRTBackend(const TensorRTBackend&) = delete;
  TensorRTBackend& operator=(const TensorRTBackend&) = delete;

  [[nodiscard]] std::string_view name() const noexcept override { return "tensorrt"; }

  [[nodiscard]] BackendCapabilities capabilities() const override {
    BackendCapabilities c;
    c.dtypes = {DType::Float32, DType::Float16, DType::Int8, DType::UInt8, DType::Int32, DType::Bool};
#if NV_TENSORRT_MAJOR >= 10
    c.dtypes.push_back(DType::BFloat16);
    c.dtypes.push_back(DType::Int64);
#endif
    c.devices = {DeviceKind::CUDA};
    c.host_inputs = true;
    c.device_inputs = true;
    c.device_outputs = true;
    c.async = false;
    c.dynamic_shapes = true;
    c.thread_safe_execute = false;  // one IExecutionContext: the base class serialises
    c.max_batch = max_batch_;
    return c;
  }

 protected:
  Result<void> do_load(const LoadOptions& options) override;
  Result<ExecutionResult> do_execute(const ExecutionRequest& request) override;
  void do_unload() noexcept override { release(); }
  [[nodiscard]] std::vector<TensorDesc> do_input_specs() const override { return descs(inputs_); }
  [[nodiscard]] std::vector<TensorDesc> do_output_specs() const override { return descs(outputs_); }
  [[nodiscard]] Result<std::size_t> do_estimate_memory() const override { return device_memory_; }

 private:
  static std::vector<TensorDesc> descs(const std::vector<IoTensor>& v) {
    std::vector<TensorDesc> out;
    out.reserve(v.size());
    for (const auto& t : v) out.push_back(t.desc);
    return out;
  }

  /// Context before engine before runtime; then the stream. Idempotent.
  /// The engine's device is current while its objects are destroyed.
  void release() noexcept {
    if (context_ || engine_ || runtime_) {
      const cuda::detail::DeviceGuard guard(device_);  // best effort: on failure the current device stays
      context_.reset();
      engine_.reset();
      runtime_.reset();
    }
    stream_.reset();
    inputs_.clear();
    outputs_.clear();
    device_memory_ = 0;
    max_batch_ = 0;
  }

  Error trt_error(TrtStage stage, std::string_view what, std::string_view context) {
    const auto logged = logger_.sink().take_errors();
    return make_trt_error(stage, what, logged, context);
  }

  Result<std::filesystem::path> engine_for(const LoadOptions& options, const std::string& bytes);
  Result<void> read_io();

  TrtLogger logger_;  // declared first: outlives every TensorRT object below
  TrtPtr<nvinfer1::IRuntime> runtime_;
  TrtPtr<nvinfer1::ICudaEngine> engine_;
  TrtPtr<nvinfer1::IExecutionContext> context_;
  std::optional<cuda::CudaStream> stream_;
  std::vector<IoTensor> inputs_;
  std::vector<IoTensor> outputs_;
  int device_ = 0;
  std::size_t device_memory_ = 0;
  std::int64_t max_batch_ = 0;
  std::string what_;  // the engine file, for messages
};

Result<std::filesystem::path> TensorRTBackend::engine_for(const LoadOptions& options,
                                                          const std::string& bytes) {
  const auto& path = options.artifact_path;
  if (path.extension() != ".onnx" && !onnx::looks_like_onnx(as_bytes_of(bytes))) return path;
  // An ONNX model: find or build its engine in the artefact cache.
  AEGIS_ASSIGN_OR_RETURN(auto build_options, engine_build_options_from(options));
  AEGIS_ASSIGN_OR_RETURN(auto built, build_tensorrt_engine(build_options));
  if (!built.cache.build_reason.empty()) {
    spdlog::info("TensorRT engine {} built ({})", built.engine_path.string(), built.cache.build_reason);
  }
  return built.engine_path;
}

Result<void> TensorRTBackend::do_load(const LoadOptions& options) {
  release();
  if (options.device.kind != DeviceKind::CUDA) {
    return Error(ErrorCode::InvalidArgument,
                 "TensorRT runs on CUDA devices only; got device '" + to_string(options.device) + "'");
  }
  device_ = options.device.index;
  // InvalidArgument for a device that does not exist, CudaError when there is none at all.
  AEGIS_TRY(cuda::detail::check_device(device_, "TensorRT"));
  const cuda::detail::DeviceGuard guard(device_);  // the engine and context live on device_
  AEGIS_TRY(guard.status());

  AEGIS_ASSIGN_OR_RETURN(std::string first_bytes, read_file(options.artifact_path));
  AEGIS_ASSIGN_OR_RETURN(auto engine_path, engine_for(options, first_bytes));
  // An engine is deserialised (TensorRT may run host code embedded in it):
  // only one that is ours, with its sidecar and folder, gets that far.
  AEGIS_TRY(check_trusted_artifact(engine_path, "TensorRT engine"));
  std::string plan;
  if (engine_path == options.artifact_path) {
    plan = std::move(first_bytes);
  } else {
    AEGIS_ASSIGN_OR_RETURN(plan, read_file(engine_path));
  }
  what_ = "engine " + engine_path.string();
  AEGIS_TRY(precheck_engine_bytes(as_bytes_of(plan), what_));

  const TrtVersion runtime_version = library_version();
  AEGIS_ASSIGN_OR_RETURN(auto gpu, gpu_identity(device_));
  // A sidecar (written by the artefact cache) lets us say "Stale" precisely
  // instead of relying on TensorRT's deserialisation messages.
  const auto sidecar = std::filesystem::path(engine_path.string() + ".json");
  std::error_code ec;
  if (std::filesystem::is_regular_file(sidecar, ec)) {
    auto md = ArtifactMetadata::read(sidecar);
    if (md.ok()) {
      AEGIS_TRY(check_engine_metadata(md.value(), runtime_version, gpu, what_));
    } else {
      spdlog::warn("ignoring unreadable sidecar {}: {}", sidecar.string(), md.error().to_string());
    }
  }

  logger_.sink().clear();
  runtime_.reset(nvinfer1::createInferRuntime(logger_));
  if (!runtime_) return trt_error(TrtStage::CreateRuntime, "createInferRuntime failed", what_);
  engine_.reset(runtime_->deserializeCudaEngine(plan.data(), plan.size()));
  if (!engine_) {
    auto e = trt_error(TrtStage::Deserialize, "TensorRT could not deserialise " + what_, what_);
    release();
    return e;
  }
  context_.reset(engine_->createExecutionContext());
  if (!context_) {
    auto e = trt_error(TrtStage::CreateContext, "createExecutionContext failed", what_);
    release();
    return e;
  }
  if (auto r = read_io(); !r.ok()) {
    release();
    return r.error();
  }
  auto stream = cuda::CudaStream::create(device_);
  if (!stream.ok()) {
    release();
    return stream.error();
  }
  stream_.emplace(std::move(stream).value());
  spdlog::debug("TensorRT {} loaded {} ({} inputs, {} outputs, {} bytes device memory)",
                runtime_version.to_string(), engine_path.string(), inputs_.size(), outputs_.size(),
                device_memory_);
  return {};
}

Result<void> TensorRTBackend::read_io() {
  const int n = engine_->getNbIOTensors();
  std::size_t io_bytes = 0;
  for (int i = 0; i < n; ++i) {
    const char* tname = engine_->getIOTensorName(i);
    if (tname == nullptr) return Error(ErrorCode::Internal, "engine I/O tensor " + std::to_string(i) + " has no name");
    const std::string name(tname);
    const auto trt_type = engine_->getTensorDataType(tname);
    const auto dtype = to_dtype(trt_type);
    if (!dtype) {
      return Error(ErrorCode::Unsupported, "tensor '" + name + "' has " + trt_dtype_name(trt_type) +
                                               ", which AegisRT cannot bind", what_);
    }
    if (engine_->getTensorFormat(tname) != nvinfer1::TensorFormat::kLINEAR) {
      return Error(ErrorCode::Unsupported,
                   "tensor '" + name + "' uses a vectorised TensorRT format; AegisRT binds linear "
                   "(row-major) tensors only: build the engine without I/O format constraints",
                   what_);
    }
    IoTensor t;
    t.desc = TensorDesc{name, to_shape(engine_->getTensorShape(tname)), *dtype};
    const bool is_input = engine_->getTensorIOMode(tname) == nvinfer1::TensorIOMode::kINPUT;
    t.profile_max = t.desc.shape;
    if (is_input && t.desc.is_dynamic() && engine_->getNbOptimizationProfiles() > 0) {
      t.profile_max =
          to_shape(engine_->getProfileShape(tname, 0, nvinfer1::OptProfileSelector::kMAX));
      if (!t.profile_max.empty()) max_batch_ = std::max(max_batch_, t.profile_max.front());
    }
    if (is_input) {
      bool all_static = true;
      for (auto d : t.profile_max) all_static = all_static && d >= 0;
      if (all_static) {
        io_bytes += static_cast<std::size_t>(shape_element_count(t.profile_max)) * dtype_size(*dtype);
      }
      inputs_.push_back(std::move(t));
    } else {
      outputs_.push_back(std::move(t));
    }
  }
  if (inputs_.empty() || outputs_.empty()) {
    return Error(ErrorCode::Unsupported, "engine has " + std::to_string(inputs_.size()) + " inputs and " +
                                             std::to_string(outputs_.size()) + " outputs; need at least one of each",
                 what_);
  }
#if NV_TENSORRT_MAJOR >= 10
  const auto scratch = engine_->getDeviceMemorySizeV2();
  device_memory_ = scratch > 0 ? static_cast<std::size_t>(scratch) : 0;
#else
  device_memory_ = engine_->getDeviceMemorySize();
#endif
  device_memory_ += io_bytes;  // outputs are sized per call; inputs at the profile max
  return {};
}

Result<ExecutionResult> TensorRTBackend::do_execute(const ExecutionRequest& request) {
  if (!context_ || !stream_) return Error(ErrorCode::FailedPrecondition, "TensorRT backend has no engine loaded");
  // The caller's stream when given (ExecutionContext passes its own), else ours.
  cuda::CudaStream* stream = request.stream != nullptr ? request.stream : &*stream_;
  logger_.sink().clear();
  const cuda::detail::DeviceGuard guard(device_);
  AEGIS_TRY(guard.status());

  std::vector<Tensor> device_inputs;  // keeps copies alive until the stream is done
  device_inputs.reserve(request.inputs.size());
  for (std::size_t i = 0; i < request.inputs.size(); ++i) {
    const auto& in = request.inputs[i];
    const std::string& tname = inputs_[i].desc.name;
    AEGIS_ASSIGN_OR_RETURN(auto dims, to_dims(in.view.shape(), "input '" + tname + "'"));
    if (!context_->setInputShape(tname.c_str(), dims)) {
      return trt_error(TrtStage::SetShape,
                       "input '" + tname + "' shape " + shape_to_string(in.view.shape()) +
                           " rejected by the engine",
                       what_);
    }
    const void* address = in.view.data();
    if (!in.view.location().is_device() || in.view.location().device_id != device_) {
      AEGIS_ASSIGN_OR_RETURN(auto copy, cuda::copy_to_device(in.view, device_, tname, stream));
      address = copy.data();
      device_inputs.push_back(std::move(copy));
    }
    if (!context_->setInputTensorAddress(tname.c_str(), address)) {
      return trt_error(TrtStage::SetShape, "binding input '" + tname + "' failed", what_);
    }
  }
  if (!context_->allInputDimensionsSpecified()) {
    return trt_error(TrtStage::SetShape, "not every input shape is specified", what_);
  }

  std::vector<Tensor> outputs;
  outputs.reserve(outputs_.size());
  for (const auto& out : outputs_) {
    const std::string& tname = out.desc.name;
    const Shape shape = to_shape(context_->getTensorShape(tname.c_str()));
    for (auto d : shape) {
      if (d < 0) {
        return Error(ErrorCode::Unsupported,
                     "output '" + tname + "' has a data-dependent shape " + shape_to_string(shape) +
                         "; AegisRT's TensorRT backend needs output shapes known from input shapes",
                     what_);
      }
    }
    AEGIS_ASSIGN_OR_RETURN(auto t, cuda::allocate_device_tensor(shape, out.desc.dtype, device_, tname));
    if (!context_->setTensorAddress(tname.c_str(), t.data())) {
      return trt_error(TrtStage::SetShape, "binding output '" + tname + "' failed", what_);
    }
    outputs.push_back(std::move(t));
  }

  if (!context_->enqueueV3(stream->native())) {
    return trt_error(TrtStage::Enqueue, "enqueueV3 failed", what_);
  }
  if (auto s = stream->synchronize(); !s.ok()) {
    return s.error().with_context("synchronising after enqueueV3 on " + what_);
  }
  if (logger_.sink().error_count() > 0) {
    return trt_error(TrtStage::Enqueue, "TensorRT reported errors during inference", what_);
  }

  ExecutionResult result;
  result.outputs.reserve(outputs.size());
  for (auto& t : outputs) {
    if (request.output_placement == OutputPlacement::Device) {
      result.outputs.push_back(std::move(t));
      continue;
    }
    AEGIS_ASSIGN_OR_RETURN(auto host, cuda::copy_to_host(t.view(), t.name(), stream));
    result.outputs.push_back(std::move(host));
  }
  return result;
}

}  // namespace
}  // namespace trt

std::unique_ptr<RuntimeBackend> make_tensorrt_backend() { return std::make_unique<trt::TensorRTBackend>(); }

std::string tensorrt_version() { return trt::library_version().to_string(); }

// Called by the generated register_builtin_backends() (cmake/AegisBackends.cmake).
void register_tensorrt_backend(BackendRegistry& registry);
void register_tensorrt_backend(BackendRegistry& registry) {
  (void)registry.add({"tensorrt", "NVIDIA TensorRT (native engines)", tensorrt_version()},
                     [] { return make_tensorrt_backend(); });
}

}  // namespace aegisrt
