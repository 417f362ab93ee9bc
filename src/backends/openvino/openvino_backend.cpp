// OpenVinoBackend: ONNX -> ov::Model -> CompiledModel (through the artefact
// cache as an exported blob), tensor specs from the compiled model, and the
// execute() path over a pool of InferRequests.
#include "aegisrt/backends/openvino/openvino_backend.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "aegisrt/backend/memory_estimate.h"
#include "aegisrt/backend/registry.h"
#include "aegisrt/onnx/onnx_summary.h"
#include "aegisrt/core/file_util.h"
#include "backends/openvino/openvino_config.h"
#include "backends/openvino/ov_common.h"

namespace aegisrt {

namespace fs = std::filesystem;
using ov_detail::LoadConfig;

struct OpenVinoBackend::Model {
  ov::CompiledModel compiled;
  LoadConfig config;
  std::vector<TensorDesc> inputs;
  std::vector<TensorDesc> outputs;
  std::vector<ov::element::Type> input_types;
  std::vector<ov::element::Type> output_types;
  std::vector<bool> output_static;  // shape known before inference: we allocate, OpenVINO writes
  std::size_t model_bytes = 0;
  std::string cache_outcome;
  // InferRequests not in use. A call takes one (or creates one) and gives it back.
  std::mutex pool_mutex;
  std::vector<ov::InferRequest> idle;
};

namespace {

// Bumped when what we export for the same inputs changes.
constexpr const char* kBuilderId = "aegisrt-openvino/1";
// Bound for reading an exported blob (weights included).
constexpr std::uint64_t kMaxBlobBytes = 64ull << 30;

std::string join(const std::vector<std::string>& items, std::string_view sep = ", ") {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

ov::AnyMap compile_properties(const LoadConfig& c) {
  ov::AnyMap props;
  props.emplace(ov::hint::performance_mode(c.performance_hint == "throughput"
                                               ? ov::hint::PerformanceMode::THROUGHPUT
                                               : ov::hint::PerformanceMode::LATENCY));
  if (c.inference_precision == "f32") props.emplace(ov::hint::inference_precision(ov::element::f32));
  if (c.inference_precision == "f16") props.emplace(ov::hint::inference_precision(ov::element::f16));
  if (c.inference_precision == "bf16") props.emplace(ov::hint::inference_precision(ov::element::bf16));
  if (c.num_threads > 0) props.emplace(ov::inference_num_threads(c.num_threads));
  return props;
}

/// What the device is, for checks and the cache key.
struct DeviceFacts {
  std::string full_name;
  std::vector<std::string> capabilities;  // OPTIMIZATION_CAPABILITIES: FP32, BF16, FP16, INT8, ...
};

Result<DeviceFacts> query_device(ov::Core& core, const std::string& device) {
  std::vector<std::string> available;
  try {
    available = core.get_available_devices();
  } catch (const std::exception& e) {
    return ov_detail::to_error(ErrorCode::BackendError, e, "OpenVINO cannot list its devices");
  }
  DeviceFacts f;
  try {
    f.full_name = core.get_property(device, ov::device::full_name);
    f.capabilities = core.get_property(device, ov::device::capabilities);
  } catch (const std::exception& e) {
    // Unknown names, plugins that do not load (the GPU plugin without an
    // OpenCL runtime) and virtual devices without these properties end here.
    const bool listed = std::find(available.begin(), available.end(), device) != available.end();
    if (!listed) {
      return Error(ErrorCode::Unsupported, "OpenVINO device '" + device + "' is not available here; OpenVINO sees: " +
                                               (available.empty() ? std::string("none") : join(available)) + " (" +
                                               ov_detail::condense(e.what()) + ")");
    }
    return ov_detail::to_error(ErrorCode::BackendError, e, "querying OpenVINO device '" + device + "'");
  }
  return f;
}

bool has_capability(const DeviceFacts& f, std::string_view cap) {
  return std::find(f.capabilities.begin(), f.capabilities.end(), cap) != f.capabilities.end();
}

Result<void> check_precision(const LoadConfig& c, const DeviceFacts& f) {
  std::string needed;
  if (c.inference_precision == "f16") needed = "FP16";
  if (c.inference_precision == "bf16") needed = "BF16";
  if (c.precision == Precision::INT8) needed = "INT8";
  if (needed.empty() || has_capability(f, needed)) return {};
  const std::string asked = c.precision == Precision::INT8 ? std::string("int8") : c.inference_precision;
  return Error(ErrorCode::Unsupported, "OpenVINO device " + c.device + " (" + f.full_name + ") does not support " +
                                           asked + " inference: its capabilities are " + join(f.capabilities) +
                                           "; use precision fp32 on this device");
}

/// True if the model has quantized operations: ONNX QuantizeLinear becomes
/// FakeQuantize, DequantizeLinear a Convert from an 8-bit type.
bool has_quantized_ops(const ov::Model& model) {
  for (const auto& op : model.get_ordered_ops()) {
    const std::string_view type = op->get_type_name();
    if (type == "FakeQuantize") return true;
    if (type == "Convert" && op->get_input_size() == 1) {
      const auto et = op->get_input_element_type(0);
      if (et == ov::element::i8 || et == ov::element::u8) return true;
    }
  }
  return false;
}

Result<ov::CompiledModel> compile_onnx(ov::Core& core, const fs::path& onnx, const LoadConfig& c) {
  AEGIS_ASSIGN_OR_RETURN(const std::shared_ptr<ov::Model> model, ov_detail::read_onnx(onnx));
  if (c.precision == Precision::INT8 && !has_quantized_ops(*model)) {
    return Error(ErrorCode::Unsupported, "precision int8 on OpenVINO needs a Q/DQ-quantized ONNX model; '" +
                                             onnx.string() + "' has no QuantizeLinear/DequantizeLinear operations");
  }
  try {
    return core.compile_model(model, c.device, compile_properties(c));
  } catch (const std::exception& e) {
    // OpenVINO 2026.4's CPU plugin fails to fuse some elementwise chains on
    // AVX2 (16 vector registers): "Can't allocate registers for a snippet"
    // (ZoeDepth's attractor layers hit it; AVX-512 machines do not). The same
    // graph compiles, with the same arithmetic, without snippets fusion.
    if (c.device == "CPU" && std::string_view(e.what()).find("Can't allocate registers for a snippet") !=
                                 std::string_view::npos) {
      spdlog::warn("openvino: the CPU plugin cannot fuse part of '{}' on this machine (snippets: not enough "
                   "registers); compiling it with SNIPPETS_MODE=DISABLE",
                   onnx.string());
      try {
        ov::AnyMap props = compile_properties(c);
        props.emplace("SNIPPETS_MODE", std::string("DISABLE"));
        return core.compile_model(model, c.device, props);
      } catch (const std::exception& e2) {
        return ov_detail::to_error(ErrorCode::BackendError, e2,
                                   "OpenVINO cannot compile '" + onnx.string() + "' for device " + c.device +
                                       " (also tried without snippets fusion)");
      }
    }
    return ov_detail::to_error(ErrorCode::BackendError, e,
                               "OpenVINO cannot compile '" + onnx.string() + "' for device " + c.device);
  }
}

Result<ov::CompiledModel> import_blob(ov::Core& core, const fs::path& blob, const LoadConfig& c) {
  AEGIS_ASSIGN_OR_RETURN(auto file, ReadableFile::open(blob, "OpenVINO compiled-model blob"));
  if (file.size() == 0 || file.size() > kMaxBlobBytes) {
    return Error(ErrorCode::Corrupt, "OpenVINO compiled-model blob '" + blob.string() + "' has size " +
                                         std::to_string(file.size()));
  }
  try {
    // An owning tensor: OpenVINO may keep referring to the blob's memory.
    ov::Tensor bytes(ov::element::u8, ov::Shape{static_cast<std::size_t>(file.size())});
    AEGIS_TRY(file.read_exact(std::span<std::byte>(static_cast<std::byte*>(bytes.data()), bytes.get_byte_size()),
                              "OpenVINO compiled-model blob"));
    return core.import_model(bytes, c.device, compile_properties(c));
  } catch (const std::exception& e) {
    return ov_detail::to_error(ErrorCode::Corrupt, e, "OpenVINO cannot import the compiled model '" + blob.string() + "'");
  }
}

Result<void> export_blob(ov::CompiledModel& compiled, const fs::path& out) {
  std::ofstream stream(out, std::ios::binary | std::ios::trunc);
  if (!stream) return Error(ErrorCode::IoError, "cannot write OpenVINO blob '" + out.string() + "'");
  try {
    compiled.export_model(stream);
  } catch (const std::exception& e) {
    return ov_detail::to_error(ErrorCode::BackendError, e, "OpenVINO cannot export the compiled model");
  }
  stream.close();
  if (!stream) return Error(ErrorCode::IoError, "cannot write OpenVINO blob '" + out.string() + "'");
  return {};
}

/// The compiled model: from the artefact cache (import) or compiled (and
/// exported into the cache). `outcome` says which.
Result<ov::CompiledModel> obtain_compiled(ov::Core& core, const LoadOptions& options, const LoadConfig& c,
                                          const DeviceFacts& facts, std::string& outcome) {
  if (!c.cache) {
    outcome = "compiled";
    return compile_onnx(core, options.artifact_path, c);
  }
  ArtifactKey key;
  key.backend = "openvino";
  const std::string stem = options.variant.empty() ? options.artifact_path.stem().string() : options.variant;
  // One file per configuration that changes the blob, so two of them used side
  // by side do not rebuild each other's entry (the precision is in key.precision).
  key.variant = stem + "_" + ov_detail::device_file_component(c.device);
  if (c.num_threads > 0) key.variant += "_t" + std::to_string(c.num_threads);
  if (c.performance_hint != "latency") key.variant += "_" + c.performance_hint;
  key.precision = c.precision == Precision::INT8 ? std::string("int8")
                  : c.inference_precision == "f32" ? std::string("fp32")
                  : c.inference_precision == "f16" ? std::string("fp16")
                                                    : std::string("bf16");
  key.extension = ".bin";
  key.source_model = options.artifact_path;
  key.build_options = {{"device", c.device},
                       {"device_name", facts.full_name},
                       {"device_capabilities", join(facts.capabilities, " ")},
                       {"inference_precision", c.inference_precision.empty() ? "default" : c.inference_precision},
                       {"num_threads", std::to_string(c.num_threads)},
                       {"performance_hint", c.performance_hint},
                       {"builder", kBuilderId}};

  std::optional<ov::CompiledModel> built;
  BuilderFn builder = [&](const BuildRequest& req) -> Result<BuildOutput> {
    AEGIS_ASSIGN_OR_RETURN(ov::CompiledModel compiled, compile_onnx(core, req.key.source_model, c));
    AEGIS_TRY(export_blob(compiled, req.output_path));
    built = std::move(compiled);
    return BuildOutput{};
  };
  const fs::path dir = options.cache_dir.empty() ? default_cache_dir("openvino") : options.cache_dir;
  ArtifactCache cache(dir);
  AEGIS_ASSIGN_OR_RETURN(const CacheResult cached, cache.get_or_build(key, openvino_build_environment(), builder));
  outcome = std::string(to_string(cached.outcome));
  if (!cached.caching_enabled) {
    spdlog::warn("openvino: {}", cached.warning);
    std::error_code ec;
    fs::remove(cached.artifact_path, ec);  // ours, in a temporary folder
  }
  if (built) return std::move(*built);
  auto imported = import_blob(core, cached.artifact_path, c);
  if (imported.ok()) return imported;
  spdlog::warn("openvino: cached blob unusable ({}); compiling '{}' afresh", imported.error().message(),
               options.artifact_path.string());
  outcome = "compiled (cached blob unusable)";
  return compile_onnx(core, options.artifact_path, c);
}

Result<TensorDesc> describe_port(const ov::Output<const ov::Node>& port, std::size_t index, std::string_view kind,
                                 ov::element::Type& type_out) {
  TensorDesc d;
  const auto& names = port.get_names();
  if (names.empty()) {
    return Error(ErrorCode::Unsupported, std::string(kind) + " #" + std::to_string(index) + " has no name");
  }
  d.name = port.get_any_name();
  type_out = port.get_element_type();
  const auto dtype = ov_detail::from_ov(type_out);
  if (!dtype) {
    const auto named = ov_detail::as_aegis_dtype(type_out);
    const std::string type_name = named ? std::string(dtype_name(*named)) + " (OpenVINO " +
                                              type_out.get_type_name() + ")"
                                        : type_out.get_type_name();
    return Error(ErrorCode::Unsupported, std::string(kind) + " '" + d.name + "' has element type " +
                                             type_name + ", which the OpenVINO backend does not bind");
  }
  d.dtype = *dtype;
  const ov::PartialShape& ps = port.get_partial_shape();
  if (ps.rank().is_dynamic()) {
    return Error(ErrorCode::Unsupported, std::string(kind) + " '" + d.name + "' has a dynamic rank");
  }
  for (const auto& dim : ps) d.shape.push_back(dim.is_static() ? dim.get_length() : kDynamicDim);
  return d;
}

/// The compiled model's inputs and outputs, as AegisRT sees them.
struct Specs {
  std::vector<TensorDesc> inputs, outputs;
  std::vector<ov::element::Type> input_types, output_types;
};

Result<Specs> read_specs(const ov::CompiledModel& compiled) {
  Specs s;
  const auto ins = compiled.inputs();
  const auto outs = compiled.outputs();
  for (std::size_t i = 0; i < ins.size(); ++i) {
    ov::element::Type t;
    AEGIS_ASSIGN_OR_RETURN(auto d, describe_port(ins[i], i, "input", t));
    s.inputs.push_back(std::move(d));
    s.input_types.push_back(t);
  }
  for (std::size_t i = 0; i < outs.size(); ++i) {
    ov::element::Type t;
    AEGIS_ASSIGN_OR_RETURN(auto d, describe_port(outs[i], i, "output", t));
    s.outputs.push_back(std::move(d));
    s.output_types.push_back(t);
  }
  if (s.inputs.empty()) return Error(ErrorCode::Unsupported, "the model has no inputs");
  if (s.outputs.empty()) return Error(ErrorCode::Corrupt, "the model has no outputs");
  return s;
}

}  // namespace

OpenVinoBackend::OpenVinoBackend() = default;
OpenVinoBackend::~OpenVinoBackend() { do_unload(); }

BackendCapabilities OpenVinoBackend::capabilities() const {
  BackendCapabilities c;
  c.dtypes = {DType::Float32, DType::Float16, DType::BFloat16, DType::Int8,
              DType::UInt8,   DType::Int32,   DType::Int64,    DType::Bool};
  c.devices = {DeviceKind::CPU};  // OpenVINO devices (CPU, Intel GPU/NPU) hold host memory from our side
  c.host_inputs = true;
  c.device_inputs = false;
  c.device_outputs = false;
  c.async = false;
  c.dynamic_shapes = true;        // OpenVINO compiles models with dynamic dims
  c.thread_safe_execute = true;   // one InferRequest per concurrent call
  c.max_batch = 0;
  return c;
}

std::string OpenVinoBackend::active_device() const { return model_ ? model_->config.device : std::string(); }
std::string OpenVinoBackend::cache_outcome() const { return model_ ? model_->cache_outcome : std::string(); }

/// Refuses, before OpenVINO reads the model, an ONNX model whose inputs or
/// outputs this backend does not bind (element type or non-tensor value),
/// naming the tensor and its type; OpenVINO's own reader would fail on some
/// (float8 *fnuz) with a message that names neither. Files the summary cannot
/// read (or compiled blobs) fall through to OpenVINO, which reports.
// The element types this backend binds, for the shared ONNX pre-check.
static std::vector<DType> bound_dtypes() {
  std::vector<DType> out;
  for (DType t : kAllDTypes) {
    if (ov_detail::binds(t)) out.push_back(t);
  }
  return out;
}

Result<void> OpenVinoBackend::do_load(const LoadOptions& options) {
  AEGIS_ASSIGN_OR_RETURN(LoadConfig config, ov_detail::parse_load_config(options));
  if (options.artifact_path.extension() == ".onnx") {
    AEGIS_TRY(onnx::check_onnx_value_types(options.artifact_path, "OpenVINO", bound_dtypes()));
  }
  AEGIS_ASSIGN_OR_RETURN(ov::Core * core, ov_detail::core());
  AEGIS_ASSIGN_OR_RETURN(const DeviceFacts facts, query_device(*core, config.device));
  AEGIS_TRY(check_precision(config, facts));
  auto m = std::make_unique<Model>();
  m->config = std::move(config);
  AEGIS_ASSIGN_OR_RETURN(m->compiled, obtain_compiled(*core, options, m->config, facts, m->cache_outcome));
  try {
    AEGIS_ASSIGN_OR_RETURN(Specs specs, read_specs(m->compiled));
    m->inputs = std::move(specs.inputs);
    m->outputs = std::move(specs.outputs);
    m->input_types = std::move(specs.input_types);
    m->output_types = std::move(specs.output_types);
    for (const auto& d : m->outputs) m->output_static.push_back(!d.is_dynamic());
  } catch (const std::exception& e) {
    return ov_detail::to_error(ErrorCode::BackendError, e, "reading the compiled model's inputs and outputs");
  }
  std::error_code ec;
  m->model_bytes = fs::file_size(options.artifact_path, ec);
  spdlog::debug("openvino: '{}' on {} ({})", options.artifact_path.string(), m->config.device, m->cache_outcome);
  model_ = std::move(m);
  return {};
}

void OpenVinoBackend::do_unload() noexcept {
  try {
    model_.reset();
  } catch (...) {  // NOLINT(bugprone-empty-catch): unload never fails by contract
  }
}

std::vector<TensorDesc> OpenVinoBackend::do_input_specs() const {
  return model_ ? model_->inputs : std::vector<TensorDesc>{};
}
std::vector<TensorDesc> OpenVinoBackend::do_output_specs() const {
  return model_ ? model_->outputs : std::vector<TensorDesc>{};
}

Result<std::size_t> OpenVinoBackend::do_estimate_memory() const {
  if (!model_) return Error(ErrorCode::FailedPrecondition, "no model loaded");
  // Weights (about the ONNX size) plus one set of inputs and outputs: a rough
  // admission figure, not OpenVINO's exact use.
  const std::size_t bytes = estimate_io_bytes(model_->model_bytes, model_->inputs, model_->outputs);
  return bytes > 0 ? bytes : std::size_t{1};
}

namespace {

/// An InferRequest taken from the pool for one call, returned on every path out.
class RequestLease {
 public:
  RequestLease(std::mutex& mutex, std::vector<ov::InferRequest>& idle) : mutex_(mutex), idle_(idle) {}
  RequestLease(const RequestLease&) = delete;
  RequestLease& operator=(const RequestLease&) = delete;
  ~RequestLease() {
    if (!request_) return;
    try {
      std::lock_guard lock(mutex_);
      idle_.push_back(std::move(request_));
    } catch (...) {  // NOLINT(bugprone-empty-catch): a request lost to bad_alloc is only a cache miss
    }
  }
  /// Throws what create_infer_request throws.
  ov::InferRequest& acquire(ov::CompiledModel& compiled) {
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        request_ = std::move(idle_.back());
        idle_.pop_back();
        return request_;
      }
    }
    request_ = compiled.create_infer_request();
    return request_;
  }

 private:
  std::mutex& mutex_;
  std::vector<ov::InferRequest>& idle_;
  ov::InferRequest request_;
};

ov::Shape to_ov_shape(const Shape& s) {
  ov::Shape out;
  out.reserve(s.size());
  for (auto d : s) out.push_back(static_cast<std::size_t>(d));
  return out;
}

}  // namespace

Result<ExecutionResult> OpenVinoBackend::do_execute(const ExecutionRequest& request) {
  Model& m = *model_;
  if (request.output_placement == OutputPlacement::Device) {
    return Error(ErrorCode::Unsupported, "the openvino backend returns host outputs only");
  }
  ExecutionResult result;
  result.outputs.resize(m.outputs.size());
  std::string stage = "taking an inference request";
  try {
    RequestLease lease(m.pool_mutex, m.idle);
    ov::InferRequest& req = lease.acquire(m.compiled);
    // Inputs wrap the caller's memory: no copy.
    for (std::size_t i = 0; i < m.inputs.size(); ++i) {
      stage = "setting input '" + m.inputs[i].name + "'";
      const TensorView& v = request.inputs[i].view;
      req.set_input_tensor(i, ov::Tensor(m.input_types[i], to_ov_shape(v.shape()), const_cast<void*>(v.data())));
    }
    // Static outputs: OpenVINO writes straight into tensors we own.
    for (std::size_t i = 0; i < m.outputs.size(); ++i) {
      if (!m.output_static[i]) continue;
      stage = "preparing output '" + m.outputs[i].name + "'";
      AEGIS_ASSIGN_OR_RETURN(result.outputs[i],
                             Tensor::allocate_host(m.outputs[i].shape, m.outputs[i].dtype, m.outputs[i].name));
      if (result.outputs[i].byte_size() == 0) continue;
      req.set_output_tensor(i, ov::Tensor(m.output_types[i], to_ov_shape(m.outputs[i].shape), result.outputs[i].data()));
    }
    stage = "running inference";
    req.infer();
    // Dynamic outputs: their shape is known now; copy them out of the request.
    for (std::size_t i = 0; i < m.outputs.size(); ++i) {
      if (m.output_static[i]) continue;
      stage = "reading output '" + m.outputs[i].name + "'";
      const ov::Tensor t = req.get_output_tensor(i);
      const auto dtype = ov_detail::from_ov(t.get_element_type());
      if (!dtype) {
        return Error(ErrorCode::BackendError, "output '" + m.outputs[i].name + "' came back as " +
                                                  t.get_element_type().get_type_name());
      }
      Shape shape;
      for (auto d : t.get_shape()) shape.push_back(static_cast<std::int64_t>(d));
      AEGIS_ASSIGN_OR_RETURN(result.outputs[i], Tensor::allocate_host(std::move(shape), *dtype, m.outputs[i].name));
      if (result.outputs[i].byte_size() != t.get_byte_size()) {
        return Error(ErrorCode::BackendError, "output '" + m.outputs[i].name + "': OpenVINO returned " +
                                                  std::to_string(t.get_byte_size()) + " bytes for shape " +
                                                  shape_to_string(result.outputs[i].shape()));
      }
      if (t.get_byte_size() > 0) std::memcpy(result.outputs[i].data(), t.data(), t.get_byte_size());
    }
  } catch (const std::exception& e) {
    return ov_detail::to_error(ErrorCode::BackendError, e, "OpenVINO " + stage);
  }
  return result;
}

std::unique_ptr<RuntimeBackend> make_openvino_backend() { return std::make_unique<OpenVinoBackend>(); }

std::string openvino_version() {
  try {
    const ov::Version v = ov::get_openvino_version();
    return v.buildNumber != nullptr ? std::string(v.buildNumber) : std::string();
  } catch (...) {
    return {};
  }
}

Result<std::vector<std::string>> openvino_devices() {
  AEGIS_ASSIGN_OR_RETURN(ov::Core * core, ov_detail::core());
  std::vector<std::string> out;
  try {
    for (const auto& d : core->get_available_devices()) {
      std::string full;
      try {
        full = core->get_property(d, ov::device::full_name);
      } catch (const std::exception&) {  // NOLINT(bugprone-empty-catch): the name alone is still useful
      }
      out.push_back(full.empty() ? d : d + " (" + full + ")");
    }
  } catch (const std::exception& e) {
    return ov_detail::to_error(ErrorCode::BackendError, e, "OpenVINO cannot list its devices");
  }
  return out;
}

BuildEnvironment openvino_build_environment() {
  BuildEnvironment env;
  env.backend_display_name = "OpenVINO";
  env.backend_version = openvino_version();
  return env;
}

// Called by the generated register_builtin_backends() (cmake/AegisBackends.cmake).
void register_openvino_backend(BackendRegistry& registry);
void register_openvino_backend(BackendRegistry& registry) {
  (void)registry.add({"openvino", "Intel OpenVINO (CPU; Intel GPU/NPU with backend option device=...)",
                      openvino_version()},
                     [] { return make_openvino_backend(); });
}

}  // namespace aegisrt
