// OnnxRuntimeBackend: session creation (with the optional optimised-model
// cache), tensor specs from the model, and the execute() hot path, which uses
// ORT's C API directly so a call costs no more than a raw ORT Run.
#include "aegisrt/backends/onnxruntime/onnxruntime_backend.h"

#include <spdlog/spdlog.h>

#include <onnxruntime_run_options_config_keys.h>

#include <array>
#include <fstream>
#include <mutex>
#include <optional>
#include <span>
#include <sstream>

#include "aegisrt/backend/memory_estimate.h"
#include "aegisrt/backend/registry.h"
#include "aegisrt/onnx/onnx_summary.h"
#include "aegisrt/cache/artifact_cache.h"
#include "aegisrt/cache/sha256.h"
#include "aegisrt/core/file_util.h"
#include "backends/onnxruntime/ort_common.h"
#include "backends/onnxruntime/session_config.h"
#if defined(AEGISRT_HAVE_CUDA)
#include "aegisrt/cuda/cuda_stream.h"
#include "aegisrt/cuda/device_buffer.h"
#include "aegisrt/cuda/tensor_ops.h"
#endif

namespace aegisrt {

namespace {

// Backend option cuda_graph=1 (the CUDA provider's enable_cuda_graph). A CUDA
// graph replays the kernels it captured on the device addresses it captured,
// so every Run of one graph must bind its inputs and outputs at the same
// addresses with the same shapes. One session holds several graphs, told
// apart by the run option gpu_graph_id (ORT >= 1.18); a "graph slot" here is
// one such id with its fixed addresses:
//  * inputs all in device memory (the pipeline's device path: each pipeline
//    instance pre-processes into its own device tensor that lives as long as
//    the instance): the slot is keyed by those addresses and binds them in
//    place, so each instance (create_instance) gets a graph of its own;
//  * inputs all in host memory: one shared slot whose device input buffers
//    (allocated once) receive an H2D copy per call;
//  * mixed host/device inputs, or more than kMaxGraphSlots keyed slots (a
//    caller handing new device addresses per call): run without a graph
//    (gpu_graph_id = -1), correct but not replayed.
// Outputs are bound to device buffers owned by the slot (allocated once from
// the shapes of the slot's first call, which runs without capture to learn
// them) and copied out after each Run (one copy per output). ORT's CUDA
// sessions take turns in RuntimeBackend's mutex (thread_safe_execute is
// false), so one slot is never run twice at once; slots are guarded by their
// own mutex anyway. A slot's input shapes are fixed: a call with other shapes
// is refused (InvalidArgument naming the input), since a replay cannot change
// them. Why graph ids and not one session per graph: all instances share one
// LoadedModel (one session, one copy of the weights); ORT keeps one graph per
// id in that session.
constexpr std::size_t kMaxGraphSlots = 16;

}  // namespace

struct OnnxRuntimeBackend::Model {
  Ort::Session session{nullptr};
  ort::SessionConfig config;
  std::vector<TensorDesc> inputs;
  std::vector<TensorDesc> outputs;
  // Pre-built for Run(): pointers into inputs[i].name / outputs[i].name.
  std::vector<const char*> input_names;
  std::vector<const char*> output_names;
  std::vector<ONNXTensorElementDataType> input_types;
  // Inputs/outputs that are not plain bytes for ORT (string, int4/uint4):
  // converted at the edge instead of wrapped in place.
  std::vector<bool> input_converted;
  Ort::MemoryInfo host_memory{nullptr};
  Ort::MemoryInfo device_memory{nullptr};  // only with the CUDA/TensorRT providers
  std::size_t model_bytes = 0;

#if defined(AEGISRT_HAVE_CUDA)
  // cuda_graph=1: the graph slots (see kMaxGraphSlots above).
  struct GraphSlot {
    int id = 0;                           // gpu_graph_id, >= 1 (0 is ORT's own)
    std::vector<const void*> key;         // the caller's device input addresses; empty: host inputs
    std::vector<Shape> input_shapes;      // fixed at the slot's first call
    std::vector<cuda::DeviceBuffer> in;   // host-input slot only: the fixed device inputs
    std::optional<cuda::CudaStream> upload;  // host-input slot only: their H2D copies
    std::vector<Shape> output_shapes;     // learnt from the first call
    std::vector<DType> output_dtypes;
    std::vector<cuda::DeviceBuffer> out;  // the fixed device outputs
    bool ready = false;                   // outputs allocated: the next Runs capture / replay
  };
  std::mutex graph_mutex;
  std::vector<std::unique_ptr<GraphSlot>> graph_slots;
  int next_graph_id = 1;
  bool graph_fallback_logged = false;

  /// do_execute() for cuda_graph=1.
  Result<ExecutionResult> execute_graph(const ExecutionRequest& request, bool device_out);
  /// A Run without capture (gpu_graph_id = -1), outputs in ORT's device memory
  /// then where the caller wants them; `in` as wrap_inputs() made it.
  Result<std::vector<Tensor>> run_uncaptured(OrtValue** in, bool device_out);
  /// Slot for this call's inputs (created on first use); null: run uncaptured.
  Result<GraphSlot*> graph_slot(const ExecutionRequest& request);
#endif

  // The steps of do_execute(), in order.
  /// Wraps the request's inputs as OrtValues in `in` (the caller's memory, no
  /// copy; string and int4 inputs converted into `packed`, which must outlive
  /// Run). true when any input is in device memory.
  Result<bool> wrap_inputs(const ExecutionRequest& request, OrtValue** in,
                           std::vector<std::vector<std::uint8_t>>& packed);
  /// Session Run into `out`; through IoBinding (which takes the inputs) when
  /// device memory is read or written.
  /// With cuda_graph=1, `graph_id` goes to the run option gpu_graph_id
  /// (-1: no capture, no replay); without it, it is ignored.
  Result<void> run(OrtValue** in, OrtValue** out, bool bind, bool device_out, int graph_id = -1);
  /// Output `i` as a Tensor: ORT's buffer adopted (taking `value`), or
  /// converted at the edge (string, int4; `value` stays with the caller).
  Result<Tensor> take_output(OrtValue*& value, std::size_t i, bool device_out);
};

namespace {

// OrtValue* array for one Run(): inline for the common small case, released
// on every path out.
class ValueArray {
 public:
  explicit ValueArray(std::size_t n) : n_(n) {
    if (n > inline_.size()) heap_.resize(n, nullptr);
    data_ = n > inline_.size() ? heap_.data() : inline_.data();
  }
  ~ValueArray() {
    const OrtApi& api = Ort::GetApi();
    for (std::size_t i = 0; i < n_; ++i)
      if (data_[i] != nullptr) api.ReleaseValue(data_[i]);
  }
  ValueArray(const ValueArray&) = delete;
  ValueArray& operator=(const ValueArray&) = delete;

  OrtValue** data() noexcept { return data_; }
  OrtValue*& operator[](std::size_t i) noexcept { return data_[i]; }
  OrtValue* release(std::size_t i) noexcept { return std::exchange(data_[i], nullptr); }

 private:
  std::array<OrtValue*, 8> inline_{};
  std::vector<OrtValue*> heap_;
  OrtValue** data_ = nullptr;
  std::size_t n_ = 0;
};

std::string_view value_kind_name(ONNXType t) noexcept {
  switch (t) {
    case ONNX_TYPE_TENSOR: return "tensor";
    case ONNX_TYPE_SEQUENCE: return "sequence";
    case ONNX_TYPE_MAP: return "map";
    case ONNX_TYPE_OPAQUE: return "opaque";
    case ONNX_TYPE_SPARSETENSOR: return "sparse tensor";
    case ONNX_TYPE_OPTIONAL: return "optional";
    case ONNX_TYPE_UNKNOWN: break;
  }
  return "unknown";
}

bool converted_at_edge(DType t) noexcept { return dtype_is_string(t) || dtype_is_int4(t); }

Result<TensorDesc> describe_value(const Ort::TypeInfo& info, std::string name,
                                  std::string_view kind) {
  if (const ONNXType vt = info.GetONNXType(); vt != ONNX_TYPE_TENSOR) {
    return Error(ErrorCode::Unsupported,
                 std::string(kind) + " '" + name + "' is a " + std::string(value_kind_name(vt)) +
                     " value, not a tensor; AegisRT binds tensors only (see docs/EXEC.md)");
  }
  const auto tinfo = info.GetTensorTypeAndShapeInfo();
  const auto et = tinfo.GetElementType();
  const auto dtype = ort::from_onnx(et);
  if (!dtype) {
    return Error(ErrorCode::Unsupported, std::string(kind) + " '" + name + "' has element type " +
                                             ort::onnx_type_name(et) + " (ONNX data type " +
                                             std::to_string(static_cast<int>(et)) +
                                             "), which AegisRT does not support");
  }
  TensorDesc d;
  d.name = std::move(name);
  d.dtype = *dtype;
  d.shape = tinfo.GetShape();  // ORT reports symbolic and unknown dims as -1
  for (auto& dim : d.shape)
    if (dim < 0) dim = kDynamicDim;
  return d;
}

Result<void> read_specs(const Ort::Session& session,
                        std::vector<TensorDesc>& inputs, std::vector<TensorDesc>& outputs) {
  Ort::AllocatorWithDefaultOptions alloc;
  for (std::size_t i = 0; i < session.GetInputCount(); ++i) {
    auto name = session.GetInputNameAllocated(i, alloc);
    AEGIS_ASSIGN_OR_RETURN(auto d, describe_value(session.GetInputTypeInfo(i), name.get(), "input"));
    inputs.push_back(std::move(d));
  }
  for (std::size_t i = 0; i < session.GetOutputCount(); ++i) {
    auto name = session.GetOutputNameAllocated(i, alloc);
    AEGIS_ASSIGN_OR_RETURN(auto d, describe_value(session.GetOutputTypeInfo(i), name.get(), "output"));
    outputs.push_back(std::move(d));
  }
  if (outputs.empty()) return Error(ErrorCode::Corrupt, "the model has no outputs");
  return {};
}

// --- optimised-model cache -------------------------------------------------------
// A sidecar "<cache>.key" records what the cached graph was built from; the
// cache is used only when it matches: same source content (SHA-256 of the
// .onnx and of every external data file it names), ORT version, provider,
// optimisation level and CPU model (level "all" bakes in CPU-specific layouts
// such as NCHWc). The key also records the cache file's own SHA-256, checked
// before ORT reads it, so a replaced or damaged cache file is rebuilt. The
// cache file and key must be ours (owner, mode: docs/CACHE.md "Trust").

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 1);
    }
  }
  return "unknown";
}

constexpr std::string_view kCacheHashField = "cache_sha256=";

Result<std::string> cache_key(const std::filesystem::path& model, const ort::SessionConfig& c) {
  AEGIS_ASSIGN_OR_RETURN(const std::string model_sha, sha256_file(model));
  AEGIS_ASSIGN_OR_RETURN(const auto extra, onnx::onnx_external_data_files(model));
  AEGIS_ASSIGN_OR_RETURN(const std::string source_sha, combined_source_hash(model, model_sha, extra));
  std::ostringstream s;
  s << "format=aegisrt-ort-optimized/2\nsource_sha256=" << source_sha
    << "\nort=" << OrtGetApiBase()->GetVersionString() << "\nprovider=" << ort::to_string(c.provider)
    << "\noptimization=" << c.optimization_name << "\ncpu=" << cpu_model() << "\n";
  return s.str();
}

// Ok(true) = use the cache; Ok(false) = rebuild (logged why); an error for a
// cache file or key that is not ours.
Result<bool> cache_matches(const std::filesystem::path& cache, const std::string& key) {
  const std::filesystem::path key_file = cache.string() + ".key";
  std::error_code ec;
  if (!std::filesystem::exists(cache, ec)) return false;
  AEGIS_TRY(check_trusted_file(cache, "optimised-model cache"));
  if (!std::filesystem::exists(key_file, ec)) return false;
  AEGIS_TRY(check_trusted_file(key_file, "optimised-model cache key"));
  auto text = read_file(key_file, "optimised-model cache key", kMaxSidecarBytes);
  if (!text.ok()) {
    spdlog::warn("onnx: rebuilding optimised-model cache '{}': {}", cache.string(), text.error().message());
    return false;
  }
  if (!text->starts_with(key)) {
    spdlog::info("onnx: optimised-model cache '{}' was built from another model or setup; rebuilding",
                 cache.string());
    return false;
  }
  std::string rest = text->substr(key.size());
  if (!rest.starts_with(kCacheHashField)) return false;
  rest = rest.substr(kCacheHashField.size());
  while (!rest.empty() && (rest.back() == '\n' || rest.back() == '\r')) rest.pop_back();
  AEGIS_ASSIGN_OR_RETURN(const std::string actual, sha256_file(cache));
  if (actual != rest) {
    spdlog::warn("onnx: optimised-model cache '{}' does not match its key's checksum (replaced or damaged); "
                 "rebuilding", cache.string());
    return false;
  }
  return true;
}

void write_cache_key(const std::filesystem::path& cache, const std::string& key) {
  auto sha = sha256_file(cache);
  if (!sha.ok()) {
    spdlog::warn("onnx: cannot hash optimised-model cache '{}': {}", cache.string(), sha.error().message());
    return;
  }
  const std::string text = key + std::string(kCacheHashField) + *sha + "\n";
  if (auto r = write_file_atomic(cache.string() + ".key", text, 0644); !r.ok()) {
    spdlog::warn("onnx: cannot write optimised-model cache key: {}", r.error().message());
  }
}

Result<Ort::Session> create_session(Ort::Env& env, const std::filesystem::path& path,
                                    const Ort::SessionOptions& so) {
  try {
    return Ort::Session(env, path.c_str(), so);
  } catch (const Ort::Exception& e) {
    return ort::to_error(e, "ONNX Runtime cannot load '" + path.string() + "'");
  }
}

Result<Ort::Session> load_session(Ort::Env& env, const ort::SessionConfig& config,
                                  const LoadOptions& options) {
  AEGIS_ASSIGN_OR_RETURN(Ort::SessionOptions so, ort::make_session_options(config, options));
  const auto& cache = config.optimized_model_path;
  if (cache.empty()) return create_session(env, options.artifact_path, so);

  AEGIS_ASSIGN_OR_RETURN(const std::string key, cache_key(options.artifact_path, config));
  AEGIS_ASSIGN_OR_RETURN(const bool matches, cache_matches(cache, key));
  if (matches) {
    auto cached_so = so.Clone();
    cached_so.SetGraphOptimizationLevel(ORT_DISABLE_ALL);  // already optimised
    auto s = create_session(env, cache, cached_so);
    if (s.ok()) {
      spdlog::debug("onnx: loaded optimised model from cache '{}'", cache.string());
      return s;
    }
    spdlog::warn("onnx: optimised-model cache '{}' unusable, rebuilding: {}", cache.string(),
                 s.error().message());
  }
  std::error_code ec;
  if (cache.has_parent_path() && !std::filesystem::exists(cache.parent_path(), ec)) {
    AEGIS_TRY(ensure_private_dir(cache.parent_path()));
  }
  std::filesystem::remove(cache.string() + ".key", ec);
  try {
    so.SetOptimizedModelFilePath(cache.c_str());
  } catch (const Ort::Exception& e) {
    return ort::to_error(e, "setting optimized_model_path '" + cache.string() + "'");
  }
  AEGIS_ASSIGN_OR_RETURN(Ort::Session session, create_session(env, options.artifact_path, so));
  if (std::filesystem::is_regular_file(cache, ec)) {
    // Whatever the umask made of it: writable by us only (the trust check).
    std::filesystem::permissions(cache, std::filesystem::perms::group_write | std::filesystem::perms::others_write,
                                 std::filesystem::perm_options::remove, ec);
    write_cache_key(cache, key);
  } else {
    spdlog::warn("onnx: ONNX Runtime did not write the optimised model to '{}'", cache.string());
  }
  return session;
}

/// An OrtValue for a string or int4/uint4 input (host memory only): strings
/// are copied into an ORT-allocated string tensor, int4 elements (one per
/// byte in AegisRT) are packed two per byte, low nibble first, into `packed`.
Result<void> make_converted_input(const std::string& name, ONNXTensorElementDataType type,
                                  const OrtMemoryInfo* host_memory, const TensorView& v,
                                  std::vector<std::vector<std::uint8_t>>& packed, OrtValue*& value) {
  const OrtApi& api = Ort::GetApi();
  if (!v.location().is_host()) {
    return Error(ErrorCode::Unsupported, "input '" + name + "' is " + std::string(dtype_name(v.dtype())) +
                                             ", which AegisRT passes from host memory only");
  }
  const auto n = static_cast<std::size_t>(v.element_count());
  std::optional<Tensor> contiguous;
  const TensorView* src = &v;
  TensorView cv;
  if (!v.is_contiguous()) {
    AEGIS_ASSIGN_OR_RETURN(contiguous, copy_to_contiguous(v, name));
    cv = contiguous->view();
    src = &cv;
  }
  if (dtype_is_string(v.dtype())) {
    OrtAllocator* alloc = nullptr;
    if (OrtStatus* s = api.GetAllocatorWithDefaultOptions(&alloc)) return ort::status_to_error(s, "input '" + name + "'");
    if (OrtStatus* s = api.CreateTensorAsOrtValue(alloc, v.shape().data(), v.shape().size(),
                                                  ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING, &value)) {
      return ort::status_to_error(s, "creating string input '" + name + "'");
    }
    std::vector<const char*> ptrs(n);
    const auto* strings = src->data_as<std::string>();
    for (std::size_t k = 0; k < n; ++k) {
      if (strings[k].find('\0') != std::string::npos) {
        return Error(ErrorCode::InvalidArgument, "input '" + name + "' element " + std::to_string(k) +
                                                     " holds a NUL byte, which ONNX Runtime strings cannot carry");
      }
      ptrs[k] = strings[k].c_str();
    }
    if (n > 0) {
      if (OrtStatus* s = api.FillStringTensor(value, ptrs.data(), n)) {
        return ort::status_to_error(s, "filling string input '" + name + "'");
      }
    }
    return {};
  }
  // int4 / uint4
  auto& buf = packed.emplace_back((n + 1) / 2, std::uint8_t{0});
  const auto* elems = static_cast<const std::uint8_t*>(src->data());
  for (std::size_t k = 0; k < n; ++k) {
    const auto nibble = static_cast<std::uint8_t>(elems[k] & 0x0Fu);
    buf[k / 2] = static_cast<std::uint8_t>(buf[k / 2] | (k % 2 == 0 ? nibble : nibble << 4));
  }
  if (OrtStatus* s = api.CreateTensorWithDataAsOrtValue(host_memory, buf.data(), buf.size(), v.shape().data(),
                                                        v.shape().size(), type, &value)) {
    return ort::status_to_error(s, "wrapping input '" + name + "'");
  }
  return {};
}

// The error paths of execute(): out of line and cold, so the hot path stays
// a few compact cache lines (the micro model's wall-clock overhead over raw
// ORT was mostly instruction-cache misses in our code, docs/PERFORMANCE.md).
[[gnu::cold, gnu::noinline]] Error output_error(Error e, const std::string& name) {
  return std::move(e).with_context("output '" + name + "'");
}
[[gnu::cold, gnu::noinline]] Error output_type_error(ONNXTensorElementDataType et, const std::string& name) {
  return Error(ErrorCode::BackendError, "output '" + name + "' came back as " + ort::onnx_type_name(et));
}
[[gnu::cold, gnu::noinline]] Error output_not_on_device(DType dtype, const std::string& name) {
  return Error(ErrorCode::Unsupported, "output '" + name + "' is " + std::string(dtype_name(dtype)) +
                                           ", which AegisRT returns in host memory only");
}
[[gnu::cold, gnu::noinline]] Error output_status_error(OrtStatus* st, const std::string& name) {
  return ort::status_to_error(st, "reading output '" + name + "'");
}
[[gnu::cold, gnu::noinline]] Error input_status_error(OrtStatus* st, const std::string& name) {
  return ort::status_to_error(st, "wrapping input '" + name + "'");
}
[[gnu::cold, gnu::noinline]] Error run_status_error(OrtStatus* st) {
  return ort::status_to_error(st, "ONNX Runtime Run failed");
}
[[gnu::cold, gnu::noinline]] Error device_outputs_unsupported(ort::Provider provider) {
  return Error(ErrorCode::Unsupported, "device outputs need provider cuda or tensorrt (provider is '" +
                                           std::string(ort::to_string(provider)) + "')");
}

/// Copies a string or int4/uint4 output out of ORT into an AegisRT host tensor.
Result<Tensor> read_converted_output(OrtValue* value, Shape shape, DType dtype, const std::string& name) {
  const OrtApi& api = Ort::GetApi();
  AEGIS_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate_host(std::move(shape), dtype, name));
  const auto n = static_cast<std::size_t>(t.element_count());
  if (n == 0) return t;
  if (dtype_is_string(dtype)) {
    auto out = t.span<std::string>();
    for (std::size_t k = 0; k < n; ++k) {
      std::size_t len = 0;
      if (OrtStatus* s = api.GetStringTensorElementLength(value, k, &len)) {
        return ort::status_to_error(s, "reading string output '" + name + "'");
      }
      out[k].resize(len);
      if (len == 0) continue;
      if (OrtStatus* s = api.GetStringTensorElement(value, len, k, out[k].data())) {
        return ort::status_to_error(s, "reading string output '" + name + "'");
      }
    }
    return t;
  }
  void* data = nullptr;
  if (OrtStatus* s = api.GetTensorMutableData(value, &data)) {
    return ort::status_to_error(s, "reading output '" + name + "'");
  }
  const auto* packed = static_cast<const std::uint8_t*>(data);
  auto* dst = t.data_as<std::uint8_t>();
  for (std::size_t k = 0; k < n; ++k) {
    auto nibble = static_cast<std::uint8_t>((k % 2 == 0 ? packed[k / 2] : packed[k / 2] >> 4) & 0x0Fu);
    if (dtype == DType::Int4 && (nibble & 0x08u)) nibble = static_cast<std::uint8_t>(nibble | 0xF0u);  // sign-extend
    dst[k] = nibble;
  }
  return t;
}

}  // namespace

OnnxRuntimeBackend::OnnxRuntimeBackend() = default;
OnnxRuntimeBackend::~OnnxRuntimeBackend() { do_unload(); }

BackendCapabilities OnnxRuntimeBackend::capabilities() const {
  BackendCapabilities c;
  // Every DType: each is an ONNX Runtime tensor element type (string and
  // int4/uint4 are converted at the edge, host memory only).
  c.dtypes.assign(std::begin(kAllDTypes), std::end(kAllDTypes));
  c.devices = {DeviceKind::CPU};
  c.host_inputs = true;
  const bool cuda = model_ && model_->config.uses_cuda();
  if (cuda) c.devices.push_back(DeviceKind::CUDA);
  c.device_inputs = cuda;
  c.device_outputs = cuda;
  c.async = false;
  c.dynamic_shapes = true;
  // Session::Run is documented thread-safe and execute() shares no mutable
  // state, but concurrent Run()s on one session with the CUDA provider were
  // measured to corrupt results and fault on the H200 (ORT 1.31.1, YOLOv8n,
  // 2-4 pipelines over one session: varying detections, sporadic
  // cudaErrorIllegalAddress; one at a time: identical results). So CUDA and
  // TensorRT sessions take turns in RuntimeBackend's mutex; several
  // pipelines still overlap decode, pre- and post-processing with execute.
  c.thread_safe_execute = !cuda;
  c.max_batch = 0;
  return c;
}

std::string OnnxRuntimeBackend::active_provider() const {
  return model_ ? std::string(ort::to_string(model_->config.provider)) : std::string();
}

Result<void> OnnxRuntimeBackend::do_load(const LoadOptions& options) {
  AEGIS_ASSIGN_OR_RETURN(auto config, ort::parse_session_config(options));
  AEGIS_ASSIGN_OR_RETURN(Ort::Env * env, ort::env());
  auto m = std::make_unique<Model>();
  m->config = std::move(config);
  AEGIS_ASSIGN_OR_RETURN(m->session, load_session(*env, m->config, options));
  try {
    AEGIS_TRY(read_specs(m->session, m->inputs, m->outputs));
    m->host_memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    if (m->config.uses_cuda()) {
      m->device_memory = Ort::MemoryInfo("Cuda", OrtDeviceAllocator, m->config.device_id, OrtMemTypeDefault);
    }
  } catch (const Ort::Exception& e) {
    return ort::to_error(e, "reading the model's inputs and outputs");
  }
  for (const auto& d : m->inputs) {
    m->input_names.push_back(d.name.c_str());
    m->input_types.push_back(ort::to_onnx(d.dtype));
    m->input_converted.push_back(converted_at_edge(d.dtype));
  }
  for (const auto& d : m->outputs) m->output_names.push_back(d.name.c_str());
  if (m->config.cuda_graph) {
#if defined(AEGISRT_HAVE_CUDA)
    for (const auto* list : {&m->inputs, &m->outputs}) {
      for (const auto& d : *list) {
        if (converted_at_edge(d.dtype)) {
          return Error(ErrorCode::Unsupported,
                       "backend option cuda_graph=1 binds every input and output in device memory, but '" +
                           d.name + "' is " + std::string(dtype_name(d.dtype)) +
                           ", which AegisRT passes in host memory only");
        }
      }
    }
    spdlog::info("onnx: CUDA graph on (cuda_graph=1) for '{}': each caller's first Run learns the output "
                 "shapes, the next Runs capture and then replay one graph per fixed set of input addresses",
                 options.artifact_path.string());
#else
    return Error(ErrorCode::Unsupported,
                 "backend option cuda_graph=1 needs AegisRT built with the CUDA toolkit (its fixed device "
                 "buffers come from the cuda layer)");
#endif
  }
  std::error_code ec;
  m->model_bytes = std::filesystem::file_size(options.artifact_path, ec);
  model_ = std::move(m);
  return {};
}

void OnnxRuntimeBackend::do_unload() noexcept { model_.reset(); }

std::vector<TensorDesc> OnnxRuntimeBackend::do_input_specs() const {
  return model_ ? model_->inputs : std::vector<TensorDesc>{};
}
std::vector<TensorDesc> OnnxRuntimeBackend::do_output_specs() const {
  return model_ ? model_->outputs : std::vector<TensorDesc>{};
}

Result<std::size_t> OnnxRuntimeBackend::do_estimate_memory() const {
  if (!model_) return Error(ErrorCode::FailedPrecondition, "no model loaded");
  // Weights (about the file size) plus one set of inputs and outputs: a rough
  // admission figure, not an exact ORT arena size.
  const std::size_t bytes = estimate_io_bytes(model_->model_bytes, model_->inputs, model_->outputs);
  return bytes > 0 ? bytes : std::size_t{1};
}

Result<bool> OnnxRuntimeBackend::Model::wrap_inputs(const ExecutionRequest& request, OrtValue** in,
                                                    std::vector<std::vector<std::uint8_t>>& packed) {
  const OrtApi& api = Ort::GetApi();
  bool any_device_input = false;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const TensorView& v = request.inputs[i].view;
    const bool on_device = v.location().is_device();
    any_device_input |= on_device;
    if (input_converted[i]) {
      AEGIS_TRY(make_converted_input(inputs[i].name, input_types[i], host_memory, v, packed, in[i]));
      continue;
    }
    const OrtMemoryInfo* mem = on_device ? static_cast<const OrtMemoryInfo*>(device_memory)
                                         : static_cast<const OrtMemoryInfo*>(host_memory);
    if (OrtStatus* s = api.CreateTensorWithDataAsOrtValue(
            mem, const_cast<void*>(v.data()), v.byte_size(), v.shape().data(), v.shape().size(),
            input_types[i], &in[i])) {
      return input_status_error(s, inputs[i].name);
    }
  }
  return any_device_input;
}

Result<void> OnnxRuntimeBackend::Model::run(OrtValue** in, OrtValue** out, bool bind, bool device_out,
                                            int graph_id) {
  const std::size_t n_in = inputs.size();
  const std::size_t n_out = outputs.size();
  // cuda_graph=1: every Run names its graph (-1: none); without a run option
  // ORT would capture graph 0 on whatever addresses this call has.
  Ort::RunOptions run_options{nullptr};
  if (config.cuda_graph) {
    try {
      run_options = Ort::RunOptions();
      run_options.AddConfigEntry(kOrtRunOptionsConfigCudaGraphAnnotation, std::to_string(graph_id).c_str());
    } catch (const Ort::Exception& e) {
      return ort::to_error(e, "setting the run option gpu_graph_id");
    }
  }
  if (!bind) {
    // ORT allocates the outputs (from its arena) and we adopt them below.
    // Handing Run() pre-allocated output buffers was measured slower with ORT
    // 1.31 (its pre-allocated-fetch path costs more than the shape query).
    if (OrtStatus* s = Ort::GetApi().Run(session, run_options, input_names.data(), in, n_in, output_names.data(),
                                         n_out, out)) [[unlikely]] {
      return run_status_error(s);
    }
    return {};
  }
  // Device memory in or out: bind through IoBinding so ORT reads/writes it in place.
  // Outputs given in `out` (cuda_graph slots: fixed device buffers) are bound
  // as they are; otherwise ORT allocates them in `device_out`'s memory.
  try {
    Ort::IoBinding binding(session);
    for (std::size_t i = 0; i < n_in; ++i) {
      binding.BindInput(input_names[i], Ort::Value(std::exchange(in[i], nullptr)));
    }
    const Ort::MemoryInfo& out_mem = device_out ? device_memory : host_memory;
    for (std::size_t i = 0; i < n_out; ++i) {
      if (out[i] != nullptr) {
        binding.BindOutput(output_names[i], Ort::Value(std::exchange(out[i], nullptr)));
      } else {
        binding.BindOutput(output_names[i], out_mem);
      }
    }
    session.Run(run_options, binding);
    auto values = binding.GetOutputValues();
    if (values.size() != n_out) {
      return Error(ErrorCode::BackendError, "ONNX Runtime returned " + std::to_string(values.size()) +
                                                " bound outputs, expected " + std::to_string(n_out));
    }
    for (std::size_t i = 0; i < n_out; ++i) out[i] = values[i].release();
  } catch (const Ort::Exception& e) {
    return ort::to_error(e, "ONNX Runtime Run (IoBinding) failed");
  }
  return {};
}

Result<Tensor> OnnxRuntimeBackend::Model::take_output(OrtValue*& value, std::size_t i, bool device_out) {
  const OrtApi& api = Ort::GetApi();
  ONNXTensorElementDataType et = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
  Shape shape;
  if (auto r = ort::read_type_and_shape(value, et, shape, "reading output"); !r.ok()) [[unlikely]] {
    return output_error(std::move(r).error(), outputs[i].name);
  }
  const auto dtype = ort::from_onnx(et);
  if (!dtype) [[unlikely]] {
    return output_type_error(et, outputs[i].name);
  }
  if (converted_at_edge(*dtype)) [[unlikely]] {
    if (device_out) return output_not_on_device(*dtype, outputs[i].name);
    return read_converted_output(value, std::move(shape), *dtype, outputs[i].name);  // the caller still owns `value`
  }
  void* data = nullptr;
  if (OrtStatus* st = api.GetTensorMutableData(value, &data)) [[unlikely]] {
    return output_status_error(st, outputs[i].name);
  }
  if (data == nullptr) {
    // Zero elements: nothing to adopt.
    return Tensor::allocate_host(std::move(shape), *dtype, outputs[i].name);
  }
  // The output tensor owns ORT's buffer: no copy; releasing the Tensor
  // releases the OrtValue.
  const Location loc = device_out ? Location::device(config.device_id) : Location::host();
  return Tensor::adopt(
      data, std::move(shape), *dtype, loc,
      [v = std::exchange(value, nullptr)](void*) { Ort::GetApi().ReleaseValue(v); }, outputs[i].name);
}

Result<ExecutionResult> OnnxRuntimeBackend::do_execute(const ExecutionRequest& request) {
  Model& m = *model_;  // not const: Session::Run is a non-const (but thread-safe) call
  const bool device_out = request.output_placement == OutputPlacement::Device;
  if (device_out && !m.config.uses_cuda()) [[unlikely]] return device_outputs_unsupported(m.config.provider);
#if defined(AEGISRT_HAVE_CUDA)
  if (m.config.cuda_graph) return m.execute_graph(request, device_out);
#endif
  ValueArray in(m.inputs.size());                  // released on every path out
  std::vector<std::vector<std::uint8_t>> packed;  // int4 inputs, alive until Run returns
  AEGIS_ASSIGN_OR_RETURN(const bool any_device_input, m.wrap_inputs(request, in.data(), packed));
  ValueArray out(m.outputs.size());
  AEGIS_TRY(m.run(in.data(), out.data(), any_device_input || device_out, device_out));

  ExecutionResult result;
  // Built in place (no default-constructed Tensor to overwrite per output).
  result.outputs.reserve(m.outputs.size());
  for (std::size_t i = 0; i < m.outputs.size(); ++i) {
    auto t = m.take_output(out[i], i, device_out);
    if (!t.ok()) [[unlikely]] return std::move(t).error();
    result.outputs.push_back(std::move(t).value());
  }
  return result;
}

#if defined(AEGISRT_HAVE_CUDA)

Result<std::vector<Tensor>> OnnxRuntimeBackend::Model::run_uncaptured(OrtValue** in, bool device_out) {
  ValueArray out(outputs.size());
  AEGIS_TRY(run(in, out.data(), /*bind=*/true, /*device_out=*/true, /*graph_id=*/-1));
  std::vector<Tensor> result(outputs.size());
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    AEGIS_ASSIGN_OR_RETURN(Tensor t, take_output(out[i], i, /*device_out=*/true));
    if (device_out || !t.location().is_device()) {
      result[i] = std::move(t);
    } else {
      AEGIS_ASSIGN_OR_RETURN(result[i], cuda::copy_to_host(t.view(), outputs[i].name));
    }
  }
  return result;
}

Result<OnnxRuntimeBackend::Model::GraphSlot*> OnnxRuntimeBackend::Model::graph_slot(
    const ExecutionRequest& request) {
  std::size_t on_device = 0;
  for (const auto& in : request.inputs) on_device += in.view.location().is_device() ? 1 : 0;
  if (on_device != 0 && on_device != request.inputs.size()) return nullptr;  // mixed: no graph
  std::vector<const void*> key;
  if (on_device != 0) {
    for (const auto& in : request.inputs) key.push_back(in.view.data());
  }
  for (auto& slot : graph_slots) {
    if (slot->key != key) continue;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (request.inputs[i].view.shape() != slot->input_shapes[i]) {
        return Error(ErrorCode::InvalidArgument,
                     "input '" + inputs[i].name + "' has shape " + shape_to_string(request.inputs[i].view.shape()) +
                         " but its CUDA graph (cuda_graph=1, graph " + std::to_string(slot->id) +
                         ") was made for " + shape_to_string(slot->input_shapes[i]) +
                         "; a graph replays fixed shapes: keep the shapes of one caller fixed or use cuda_graph=0");
      }
    }
    return slot.get();
  }
  if (graph_slots.size() >= kMaxGraphSlots) {
    if (!graph_fallback_logged) {
      spdlog::warn("onnx: cuda_graph=1: {} graphs made; calls with other input addresses run without a graph",
                   graph_slots.size());
      graph_fallback_logged = true;
    }
    return nullptr;
  }
  auto slot = std::make_unique<GraphSlot>();
  slot->id = next_graph_id++;
  slot->key = std::move(key);
  for (const auto& in : request.inputs) slot->input_shapes.push_back(in.view.shape());
  if (slot->key.empty()) {  // host inputs: fixed device buffers receive them
    auto stream = cuda::CudaStream::create(config.device_id);
    if (!stream.ok()) return std::move(stream).error().with_context("cuda_graph=1: the input upload stream");
    slot->upload.emplace(std::move(stream).value());
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      auto buf = cuda::DeviceBuffer::create(request.inputs[i].view.byte_size(), config.device_id);
      if (!buf.ok()) return std::move(buf).error().with_context("cuda_graph=1: input '" + inputs[i].name + "'");
      slot->in.push_back(std::move(buf).value());
    }
  }
  spdlog::info("onnx: CUDA graph {} for {} inputs", slot->id, slot->key.empty() ? "host" : "device");
  graph_slots.push_back(std::move(slot));
  return graph_slots.back().get();
}

Result<ExecutionResult> OnnxRuntimeBackend::Model::execute_graph(const ExecutionRequest& request,
                                                                  bool device_out) {
  const OrtApi& api = Ort::GetApi();
  std::lock_guard lock(graph_mutex);
  const std::size_t n_in = inputs.size();
  const std::size_t n_out = outputs.size();
  AEGIS_ASSIGN_OR_RETURN(GraphSlot * slot, graph_slot(request));
  ExecutionResult result;
  ValueArray in(n_in);
  if (slot == nullptr) {
    std::vector<std::vector<std::uint8_t>> packed;  // stays empty: no converted types with cuda_graph
    AEGIS_ASSIGN_OR_RETURN(const bool any_device_input, wrap_inputs(request, in.data(), packed));
    (void)any_device_input;  // bound through IoBinding either way
    AEGIS_ASSIGN_OR_RETURN(result.outputs, run_uncaptured(in.data(), device_out));
    return result;
  }
  // Inputs at the slot's fixed addresses: the caller's own device tensors
  // (the key), or the slot's buffers filled from the host now.
  for (std::size_t i = 0; i < n_in; ++i) {
    const TensorView& v = request.inputs[i].view;
    void* data = const_cast<void*>(v.data());
    if (slot->key.empty()) {
      const std::span<const std::byte> bytes(static_cast<const std::byte*>(v.data()), v.byte_size());
      // On a stream, synchronised below: a plain cudaMemcpy from pageable
      // memory may return before the DMA has landed, and ORT's stream would
      // not wait for it.
      if (auto c = slot->in[i].copy_from_host(bytes, &*slot->upload); !c.ok()) {
        return std::move(c).error().with_context("cuda_graph=1: uploading input '" + inputs[i].name + "'");
      }
      data = slot->in[i].data();
    }
    if (OrtStatus* s = api.CreateTensorWithDataAsOrtValue(device_memory, data, v.byte_size(), v.shape().data(),
                                                          v.shape().size(), input_types[i], &in[i])) {
      return ort::status_to_error(s, "wrapping input '" + inputs[i].name + "'");
    }
  }
  if (slot->upload) {
    if (auto c = slot->upload->synchronize(); !c.ok()) {
      return std::move(c).error().with_context("cuda_graph=1: uploading the inputs");
    }
  }
  if (!slot->ready) {
    // The slot's first call: no capture, ORT allocates the outputs; their
    // shapes size the slot's fixed output buffers.
    AEGIS_ASSIGN_OR_RETURN(result.outputs, run_uncaptured(in.data(), device_out));
    for (std::size_t i = 0; i < n_out; ++i) {
      const Tensor& t = result.outputs[i];
      auto buf = cuda::DeviceBuffer::create(t.byte_size(), config.device_id);
      if (!buf.ok()) return std::move(buf).error().with_context("cuda_graph=1: output '" + outputs[i].name + "'");
      slot->output_shapes.push_back(t.shape());
      slot->output_dtypes.push_back(t.dtype());
      slot->out.push_back(std::move(buf).value());
    }
    slot->ready = true;
    return result;
  }
  ValueArray out(n_out);
  for (std::size_t i = 0; i < n_out; ++i) {
    const Shape& shape = slot->output_shapes[i];
    if (OrtStatus* s = api.CreateTensorWithDataAsOrtValue(device_memory, slot->out[i].data(), slot->out[i].size(),
                                                          shape.data(), shape.size(),
                                                          ort::to_onnx(slot->output_dtypes[i]), &out[i])) {
      return ort::status_to_error(s, "wrapping output '" + outputs[i].name + "'");
    }
  }
  AEGIS_TRY(run(in.data(), out.data(), /*bind=*/true, /*device_out=*/true, slot->id));
  // The bound values come back from the binding (same buffers): release them,
  // the data stay in the slot; copy each output out once.
  result.outputs.resize(n_out);
  for (std::size_t i = 0; i < n_out; ++i) {
    const TensorView view(slot->out[i].data(), slot->output_shapes[i], slot->output_dtypes[i],
                          Location::device(config.device_id));
    if (device_out) {
      AEGIS_ASSIGN_OR_RETURN(result.outputs[i], cuda::copy_to_device(view, config.device_id, outputs[i].name));
    } else {
      AEGIS_ASSIGN_OR_RETURN(result.outputs[i],
                             Tensor::allocate_host(slot->output_shapes[i], slot->output_dtypes[i], outputs[i].name));
      Tensor& t = result.outputs[i];
      const std::span<std::byte> dst(reinterpret_cast<std::byte*>(t.data()), t.byte_size());
      if (auto c = slot->out[i].copy_to_host(dst); !c.ok()) {
        return std::move(c).error().with_context("cuda_graph=1: downloading output '" + outputs[i].name + "'");
      }
    }
  }
  return result;
}

#endif  // AEGISRT_HAVE_CUDA

std::unique_ptr<RuntimeBackend> make_onnxruntime_backend() {
  return std::make_unique<OnnxRuntimeBackend>();
}

std::string onnxruntime_version() {
  const OrtApiBase* base = OrtGetApiBase();
  return base ? std::string(base->GetVersionString()) : std::string();
}

std::vector<std::string> onnxruntime_available_providers() {
  std::vector<std::string> out;
  if (!ort::env().ok()) return out;
  try {
    for (const auto& p : Ort::GetAvailableProviders()) out.push_back(ort::our_provider_name(p));
  } catch (const Ort::Exception&) {
    out.clear();
  }
  return out;
}

// Called by the generated register_builtin_backends() (cmake/AegisBackends.cmake).
void register_onnxruntime_backend(BackendRegistry& registry);
void register_onnxruntime_backend(BackendRegistry& registry) {
  (void)registry.add({"onnx", "ONNX Runtime (CPU; CUDA/TensorRT/OpenVINO providers when present)", onnxruntime_version()},
                     [] { return make_onnxruntime_backend(); });
}

}  // namespace aegisrt
