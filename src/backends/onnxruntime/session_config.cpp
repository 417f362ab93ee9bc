// Backend options -> ORT session options and execution providers (see session_config.h).
#include "backends/onnxruntime/session_config.h"

#include <charconv>
#include <memory>

#include "aegisrt/backend/backend_options.h"
#include "aegisrt/cache/artifact_cache.h"
#include "backends/onnxruntime/ort_common.h"

namespace aegisrt::ort {

namespace {

constexpr std::string_view kKnownKeys =
    "provider, intra_op_threads, inter_op_threads, graph_optimization, optimized_model_path, "
    "calibration_table, openvino_device_type, tf32, cuda_graph, trt_<option>, cuda_<option>";

// The shared reader (aegisrt/backend/backend_options.h): one message shape.
const BackendOptionReader& reader() {
  static const BackendOptionReader r("onnx", kKnownKeys);
  return r;
}

Error bad_value(std::string_view key, std::string_view value, std::string_view allowed) {
  return reader().bad_value(key, value, allowed);
}

Result<int> parse_threads(std::string_view key, std::string_view value) {
  return reader().integer(key, value, 0, 4096, "an integer thread count in [0, 4096] (0 = ORT's default)");
}

// What to install: for a provider the library lacks, a build that has it; for
// one present but failing to start, what it loads at run time.
std::string install_hint(Provider p, bool present) {
  if (present) {
    switch (p) {
      case Provider::Cuda:
        return "its runtime needs an NVIDIA driver (libcuda.so.1) and the CUDA 13 libraries "
               "(libcudart, libcublas, libcublasLt, libcurand; cuDNN 9 for convolutions) on the "
               "library path (ldconfig or LD_LIBRARY_PATH, e.g. /usr/local/cuda/lib64)";
      case Provider::TensorRT:
        return "its runtime needs the CUDA provider's libraries plus TensorRT 10 (libnvinfer, "
               "libnvonnxparser) and cuDNN 9 on the library path";
      case Provider::OpenVINO: return "its runtime needs the OpenVINO libraries on the library path";
      case Provider::Cpu: break;
    }
    return {};
  }
  switch (p) {
    case Provider::Cuda:
      return "install the onnxruntime-gpu wheel (same version) and point ONNXRuntime_ROOT at its "
             "libraries (scripts/deps/20-onnxruntime.sh with "
             "AEGISRT_ORT_CAPI_DIR=<site-packages>/onnxruntime/capi)";
    case Provider::TensorRT:
      return "install the onnxruntime-gpu wheel (same version) and TensorRT 10, and point "
             "ONNXRuntime_ROOT at the wheel's libraries";
    case Provider::OpenVINO:
      return "install the onnxruntime-openvino wheel and the OpenVINO runtime, and point "
             "ONNXRuntime_ROOT at its libraries";
    case Provider::Cpu: break;
  }
  return "the CPU provider is always built in";
}

std::string available_list() {
  std::string s;
  try {
    for (const auto& p : Ort::GetAvailableProviders()) {
      if (!s.empty()) s += ", ";
      s += our_provider_name(p);
    }
  } catch (const Ort::Exception&) {
    s = "unknown";
  }
  return s;
}

Error unsupported_provider(Provider p, std::string_view detail, bool present) {
  return Error(ErrorCode::Unsupported,
               "execution provider '" + std::string(to_string(p)) + "' (" +
                   std::string(ort_provider_name(to_string(p))) + ") " + std::string(detail) +
                   " in ONNX Runtime " + OrtGetApiBase()->GetVersionString() + " (available: " +
                   available_list() + "); " + install_hint(p, present));
}

// Owns ORT's V2 provider-option structs (CUDA, TensorRT).
template <typename T, void (*Release)(T*)>
struct OptionsDeleter {
  void operator()(T* p) const noexcept {
    if (p != nullptr) Release(p);
  }
};

void release_cuda(OrtCUDAProviderOptionsV2* p) { Ort::GetApi().ReleaseCUDAProviderOptions(p); }
void release_trt(OrtTensorRTProviderOptionsV2* p) { Ort::GetApi().ReleaseTensorRTProviderOptions(p); }
using CudaOptions = std::unique_ptr<OrtCUDAProviderOptionsV2,
                                    OptionsDeleter<OrtCUDAProviderOptionsV2, release_cuda>>;
using TrtOptions = std::unique_ptr<OrtTensorRTProviderOptionsV2,
                                   OptionsDeleter<OrtTensorRTProviderOptionsV2, release_trt>>;

struct KeyValues {
  std::vector<std::string> keys, values;
  void add(std::string k, std::string v) {
    keys.push_back(std::move(k));
    values.push_back(std::move(v));
  }
  std::vector<const char*> key_ptrs() const {
    std::vector<const char*> v;
    for (const auto& k : keys) v.push_back(k.c_str());
    return v;
  }
  std::vector<const char*> value_ptrs() const {
    std::vector<const char*> v;
    for (const auto& x : values) v.push_back(x.c_str());
    return v;
  }
};

Result<CudaOptions> cuda_options(const SessionConfig& config) {
  const OrtApi& api = Ort::GetApi();
  OrtCUDAProviderOptionsV2* raw = nullptr;
  if (OrtStatus* s = api.CreateCUDAProviderOptions(&raw)) {
    return status_to_error(s, "creating CUDA provider options");
  }
  CudaOptions opts(raw);
  KeyValues kv;
  for (auto& [k, v] : cuda_provider_options(config)) kv.add(std::move(k), std::move(v));
  const auto keys = kv.key_ptrs();
  const auto values = kv.value_ptrs();
  if (OrtStatus* s = api.UpdateCUDAProviderOptions(opts.get(), keys.data(), values.data(), keys.size())) {
    return status_to_error(s, "configuring the CUDA provider");
  }
  return opts;
}

Result<TrtOptions> trt_options(const SessionConfig& config, const LoadOptions& options) {
  const OrtApi& api = Ort::GetApi();
  OrtTensorRTProviderOptionsV2* raw = nullptr;
  if (OrtStatus* s = api.CreateTensorRTProviderOptions(&raw)) {
    return status_to_error(s, "creating TensorRT provider options");
  }
  TrtOptions opts(raw);
  KeyValues kv;
  kv.add("device_id", std::to_string(config.device_id));
  // ORT's TensorRT provider deserialises every engine it finds there: the
  // folder must be ours (0700, see docs/CACHE.md "Trust").
  const auto cache_dir = options.cache_dir.empty() ? default_cache_dir("tensorrt") : options.cache_dir;
  if (auto made = ensure_private_dir(cache_dir); !made.ok()) {
    return std::move(made).error().with_context("the TensorRT engine cache directory");
  }
  kv.add("trt_engine_cache_enable", "1");
  kv.add("trt_engine_cache_path", cache_dir.string());
  kv.add("trt_timing_cache_enable", "1");
  kv.add("trt_timing_cache_path", cache_dir.string());
  if (!options.variant.empty()) {
    kv.add("trt_engine_cache_prefix",
           options.variant + "_" + std::string(aegisrt::to_string(options.precision)));
  }
  if (options.precision == Precision::FP16 || options.precision == Precision::INT8) {
    kv.add("trt_fp16_enable", "1");  // int8 falls back to fp16 for layers without scales
  }
  if (options.precision == Precision::INT8) {
    kv.add("trt_int8_enable", "1");
    if (!config.calibration_table.empty()) {
      kv.add("trt_int8_calibration_table_name", config.calibration_table);
    }
  }
  for (const auto& [k, v] : config.trt_options) kv.add(k, v);  // explicit keys win (last)
  const auto keys = kv.key_ptrs();
  const auto values = kv.value_ptrs();
  if (OrtStatus* s = api.UpdateTensorRTProviderOptions(opts.get(), keys.data(), values.data(), keys.size())) {
    return status_to_error(s, "configuring the TensorRT provider");
  }
  return opts;
}

}  // namespace

std::string_view to_string(Provider p) noexcept {
  switch (p) {
    case Provider::Cpu: return "cpu";
    case Provider::Cuda: return "cuda";
    case Provider::TensorRT: return "tensorrt";
    case Provider::OpenVINO: return "openvino";
  }
  return "unknown";
}

std::vector<std::pair<std::string, std::string>> cuda_provider_options(const SessionConfig& config) {
  std::vector<std::pair<std::string, std::string>> kv;
  kv.emplace_back("device_id", std::to_string(config.device_id));
  // ORT's CUDA provider allows TF32 unless told otherwise; fp32 means fp32.
  kv.emplace_back("use_tf32", config.tf32 ? "1" : "0");
  if (config.cuda_graph) kv.emplace_back("enable_cuda_graph", "1");
  for (const auto& [k, v] : config.cuda_options) kv.emplace_back(k, v);
  return kv;
}

namespace {

/// What the backend options say, each option checked on its own.
struct ReadOptions {
  SessionConfig config;
  bool provider_given = false;
  bool tf32_given = false;
  bool cuda_graph_given = false;
};

Result<ReadOptions> read_options(const LoadOptions& options) {
  ReadOptions r;
  SessionConfig& c = r.config;
  for (const auto& [key, value] : options.backend_options) {
    if (key == "provider") {
      r.provider_given = true;
      if (value == "cpu") c.provider = Provider::Cpu;
      else if (value == "cuda") c.provider = Provider::Cuda;
      else if (value == "tensorrt") c.provider = Provider::TensorRT;
      else if (value == "openvino") c.provider = Provider::OpenVINO;
      else return bad_value(key, value, "one of cpu, cuda, tensorrt, openvino");
    } else if (key == "intra_op_threads") {
      AEGIS_ASSIGN_OR_RETURN(c.intra_op_threads, parse_threads(key, value));
    } else if (key == "inter_op_threads") {
      AEGIS_ASSIGN_OR_RETURN(c.inter_op_threads, parse_threads(key, value));
    } else if (key == "graph_optimization") {
      if (value == "disable") c.optimization = ORT_DISABLE_ALL;
      else if (value == "basic") c.optimization = ORT_ENABLE_BASIC;
      else if (value == "extended") c.optimization = ORT_ENABLE_EXTENDED;
      else if (value == "all") c.optimization = ORT_ENABLE_ALL;
      else return bad_value(key, value, "one of disable, basic, extended, all");
      c.optimization_name = value;
    } else if (key == "optimized_model_path") {
      if (value.empty()) return bad_value(key, value, "a file path");
      c.optimized_model_path = value;
    } else if (key == "calibration_table") {
      if (value.empty()) return bad_value(key, value, "a calibration table file name");
      c.calibration_table = value;
    } else if (key == "openvino_device_type") {
      if (value.empty()) return bad_value(key, value, "an OpenVINO device type (CPU, GPU, NPU)");
      c.openvino_device_type = value;
    } else if (key == "tf32") {
      if (value == "1") c.tf32 = true;
      else if (value == "0") c.tf32 = false;
      else return bad_value(key, value, "0 (float32 computes in float32, the default) or 1 (TF32 tensor cores)");
      r.tf32_given = true;
    } else if (key == "cuda_graph") {  // before the cuda_<option> pass-through
      if (value == "1") c.cuda_graph = true;
      else if (value == "0") c.cuda_graph = false;
      else return bad_value(key, value, "0 (no CUDA graph, the default) or 1 (capture once, replay per run)");
      r.cuda_graph_given = true;
    } else if (key.starts_with("trt_") && key.size() > 4) {
      c.trt_options.emplace_back(key, value);
    } else if (key.starts_with("cuda_") && key.size() > 5) {
      c.cuda_options.emplace_back(key.substr(5), value);
    } else {
      return reader().unknown(key);
    }
  }
  return r;
}

/// The options against each other and the requested precision.
Result<void> check_combination(const SessionConfig& c, const LoadOptions& options, bool tf32_given,
                               bool cuda_graph_given) {
  if (!c.trt_options.empty() && c.provider != Provider::TensorRT) {
    return Error(ErrorCode::InvalidArgument, "backend option '" + c.trt_options.front().first +
                                                 "' applies to provider tensorrt only (provider is '" +
                                                 std::string(to_string(c.provider)) + "')");
  }
  if (!c.cuda_options.empty() && c.provider != Provider::Cuda && c.provider != Provider::TensorRT) {
    return Error(ErrorCode::InvalidArgument, "backend option 'cuda_" + c.cuda_options.front().first +
                                                 "' applies to providers cuda/tensorrt only "
                                                 "(provider is '" +
                                                 std::string(to_string(c.provider)) + "')");
  }
  if (tf32_given && !c.uses_cuda()) {
    return Error(ErrorCode::InvalidArgument,
                 "backend option 'tf32' applies to providers cuda/tensorrt only (provider is '" +
                     std::string(to_string(c.provider)) + "')");
  }
  // cuda_graph=1 is the CUDA provider's only: with tensorrt the TensorRT
  // provider runs the graph (its own trt_cuda_graph_enable), elsewhere there is
  // no CUDA stream to capture.
  if (cuda_graph_given && c.provider != Provider::Cuda) {
    return Error(ErrorCode::InvalidArgument,
                 "backend option 'cuda_graph' applies to provider cuda only (provider is '" +
                     std::string(to_string(c.provider)) + "')");
  }
  for (const auto& [k, v] : c.cuda_options) {
    if (k == "use_tf32") {
      return Error(ErrorCode::InvalidArgument,
                   "backend option 'cuda_use_tf32' is set through backend option 'tf32' (0 or 1)");
    }
    if (k == "enable_cuda_graph") {
      // Raw, the provider option alone fails at Run (host-bound outputs, new
      // addresses per call): cuda_graph=1 also makes the binding graph-safe.
      return Error(ErrorCode::InvalidArgument,
                   "backend option 'cuda_enable_cuda_graph' is set through backend option 'cuda_graph' "
                   "(0 or 1), which also binds inputs and outputs at fixed device addresses");
    }
  }
  if (!c.calibration_table.empty() &&
      (c.provider != Provider::TensorRT || options.precision != Precision::INT8)) {
    return Error(ErrorCode::InvalidArgument,
                 "backend option 'calibration_table' applies to provider tensorrt with precision "
                 "int8 only");
  }
  // Only the TensorRT provider builds at a chosen precision; the CPU, CUDA and
  // OpenVINO providers run the model at the precision stored in the .onnx file
  // (an fp16 or Q/DQ model runs as such with precision fp32, the default).
  // Asking them for fp16/int8 would silently run fp32, so it is refused.
  if (options.precision != Precision::FP32 && c.provider != Provider::TensorRT) {
    return Error(ErrorCode::Unsupported,
                 "backend 'onnx' with provider '" + std::string(to_string(c.provider)) +
                     "' cannot run at precision " + std::string(aegisrt::to_string(options.precision)) +
                     ": it runs the model at the precision stored in the .onnx file and supports "
                     "precision fp32 only (give an fp16 or quantised .onnx with precision fp32, or use "
                     "provider tensorrt, backend tensorrt or tvm for fp16/int8 builds)");
  }
  if (!c.optimized_model_path.empty() &&
      (c.provider == Provider::TensorRT || c.provider == Provider::OpenVINO)) {
    return Error(ErrorCode::InvalidArgument,
                 "backend option 'optimized_model_path' is not supported with provider '" +
                     std::string(to_string(c.provider)) +
                     "' (its compiled nodes cannot be saved; TensorRT caches engines in cache_dir)");
  }
  return {};
}

}  // namespace

Result<SessionConfig> parse_session_config(const LoadOptions& options) {
  AEGIS_ASSIGN_OR_RETURN(ReadOptions r, read_options(options));
  SessionConfig& c = r.config;
  const bool provider_given = r.provider_given;
  if (!provider_given && options.device.kind == DeviceKind::CUDA) c.provider = Provider::Cuda;
  if (options.device.kind == DeviceKind::CUDA) {
    if (!c.uses_cuda()) {
      return Error(ErrorCode::InvalidArgument,
                   "device " + aegisrt::to_string(options.device) + " needs provider cuda or "
                   "tensorrt, but backend option 'provider' is '" + std::string(to_string(c.provider)) + "'");
    }
    c.device_id = options.device.index;
  }
  AEGIS_TRY(check_combination(c, options, r.tf32_given, r.cuda_graph_given));
  return c;
}

bool provider_available(Provider provider) {
  if (provider == Provider::Cpu) return true;
  const auto wanted = ort_provider_name(to_string(provider));
  try {
    for (const auto& p : Ort::GetAvailableProviders())
      if (p == wanted) return true;
  } catch (const Ort::Exception&) {
    return false;
  }
  return false;
}

Result<Ort::SessionOptions> make_session_options(const SessionConfig& config,
                                                 const LoadOptions& options) {
  Ort::SessionOptions so;
  try {
    if (config.intra_op_threads >= 0) so.SetIntraOpNumThreads(config.intra_op_threads);
    if (config.inter_op_threads >= 0) so.SetInterOpNumThreads(config.inter_op_threads);
    if (config.optimization) so.SetGraphOptimizationLevel(*config.optimization);
  } catch (const Ort::Exception& e) {
    return to_error(e, "setting ONNX Runtime session options");
  }
  if (config.provider == Provider::Cpu) return so;
  if (!provider_available(config.provider)) {
    return unsupported_provider(config.provider, "is not available", false);
  }
  // Failures to initialise a present provider (missing CUDA/cuDNN/TensorRT
  // libraries, no device) are Unsupported too: the model is fine, the machine
  // lacks what the provider needs.
  auto unsupported = [&](const Error& e) {
    return unsupported_provider(config.provider, "failed to initialise (" + e.message() + ")", true);
  };
  try {
    switch (config.provider) {
      case Provider::Cpu: break;
      case Provider::Cuda: {
        auto cuda = cuda_options(config);
        if (!cuda.ok()) {
          if (cuda.error().code() == ErrorCode::InvalidArgument) return cuda.error();
          return unsupported(cuda.error());
        }
        so.AppendExecutionProvider_CUDA_V2(**cuda);
        break;
      }
      case Provider::TensorRT: {
        auto trt = trt_options(config, options);
        if (!trt.ok()) {
          const auto code = trt.error().code();
          if (code == ErrorCode::InvalidArgument || code == ErrorCode::IoError) return trt.error();
          return unsupported(trt.error());
        }
        so.AppendExecutionProvider_TensorRT_V2(**trt);
        // CUDA runs what TensorRT cannot (standard ORT practice).
        auto cuda = cuda_options(config);
        if (!cuda.ok()) return unsupported(cuda.error());
        so.AppendExecutionProvider_CUDA_V2(**cuda);
        break;
      }
      case Provider::OpenVINO:
        so.AppendExecutionProvider_OpenVINO_V2({{"device_type", config.openvino_device_type}});
        break;
    }
  } catch (const Ort::Exception& e) {
    const Error err = to_error(e, "appending the execution provider");
    if (err.code() == ErrorCode::InvalidArgument) return err;  // a bad trt_/cuda_ option
    return unsupported(err);
  }
  return so;
}

}  // namespace aegisrt::ort
