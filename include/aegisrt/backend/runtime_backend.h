// RuntimeBackend: the one interface every inference backend implements
// (ONNX Runtime, TVM, TensorRT, the test mock).
//
// Shape of the contract (checked by tests/conformance for every backend):
//  * The public methods are non-virtual. They validate, convert and time; the
//    protected do_*() hooks do backend work. A backend therefore never sees a
//    non-contiguous or mis-typed input, and no exception escapes: anything a
//    hook throws is caught here and returned as ErrorCode::Internal (an
//    escaping exception is a bug in the backend's edge code).
//  * load(): NotFound for a missing artefact, Corrupt for an empty one (both
//    checked here before do_load), Corrupt/BackendError/Stale from do_load for
//    truncated, foreign or version-mismatched files. A second load() replaces
//    the first (unload() is called first).
//  * execute(): FailedPrecondition before load(); InvalidArgument naming the
//    tensor for a wrong count, name, dtype, rank or static dim; a missed
//    deadline is reported in the result (ExecutionResult::deadline_missed), not
//    as an error, so the outputs are not lost.
//  * unload(): idempotent, never fails.
//  * Thread safety: execute() may be called from several threads at once on a
//    loaded backend if capabilities().thread_safe_execute; otherwise the base
//    class serialises calls with a mutex. load()/unload() must not race with
//    execute() (the ExecutionContext guarantees that).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "aegisrt/core/result.h"
#include "aegisrt/core/runtime_types.h"  // Precision, Device, NamedTensorView
#include "aegisrt/core/tensor.h"
#include "aegisrt/core/types.h"

namespace aegisrt {

namespace cuda {
class CudaStream;
}

struct LoadOptions {
  /// The model artefact: .onnx for ONNX Runtime; .onnx or a built library for
  /// TVM; .onnx or .engine for TensorRT.
  std::filesystem::path artifact_path;
  Device device = Device::cpu();
  Precision precision = Precision::FP32;
  /// Where compiled artefacts are cached; empty = the backend's default.
  std::filesystem::path cache_dir;
  /// Name used for cache entries ({variant}_{precision}.ext); empty = file stem.
  std::string variant;
  /// Backend-specific knobs, e.g. {"intra_op_threads","2"},
  /// {"provider","cuda"}. Unknown keys are rejected by the backend with
  /// InvalidArgument naming the key.
  std::map<std::string, std::string> backend_options;
};

enum class OutputPlacement : std::uint8_t { Host, Device };

struct ExecutionRequest {
  std::vector<NamedTensorView> inputs;
  /// Stream to enqueue on (CUDA backends); null = the backend's own stream.
  cuda::CudaStream* stream = nullptr;
  /// Absolute deadline; the call still completes but reports deadline_missed.
  std::optional<TimePoint> deadline;
  /// Where outputs should live. Device outputs are only produced by backends
  /// whose capabilities().device_outputs is true.
  OutputPlacement output_placement = OutputPlacement::Host;
};

struct ExecutionResult {
  std::vector<Tensor> outputs;  // in output_specs() order, named
  Duration latency{};           // wall time of do_execute (copies included)
  bool deadline_missed = false;

  /// Output by name, or nullptr.
  [[nodiscard]] const Tensor* find(std::string_view name) const noexcept;
};

struct BackendCapabilities {
  std::vector<DType> dtypes;             // element types accepted for inputs
  std::vector<DeviceKind> devices;       // where it can run
  bool host_inputs = true;
  bool device_inputs = false;
  bool device_outputs = false;
  bool async = false;
  bool dynamic_shapes = false;
  bool thread_safe_execute = false;
  std::int64_t max_batch = 0;            // 0 = no fixed limit
};

class RuntimeBackend {
 public:
  virtual ~RuntimeBackend() = default;
  RuntimeBackend(const RuntimeBackend&) = delete;
  RuntimeBackend& operator=(const RuntimeBackend&) = delete;

  /// Short stable name ("onnx", "tvm", "tensorrt", "mock").
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;
  [[nodiscard]] virtual BackendCapabilities capabilities() const = 0;

  [[nodiscard]] Result<void> load(const LoadOptions& options);
  [[nodiscard]] Result<ExecutionResult> execute(const ExecutionRequest& request);
  /// Idempotent; safe to call when nothing is loaded.
  void unload() noexcept;
  [[nodiscard]] bool is_loaded() const noexcept { return loaded_.load(std::memory_order_acquire); }

  /// Empty when not loaded.
  [[nodiscard]] std::vector<TensorDesc> input_specs() const;
  [[nodiscard]] std::vector<TensorDesc> output_specs() const;
  /// Device (or host, for CPU backends) bytes the loaded model needs per
  /// execution context; FailedPrecondition before load().
  [[nodiscard]] Result<std::size_t> estimate_memory() const;

 protected:
  RuntimeBackend() = default;

  virtual Result<void> do_load(const LoadOptions& options) = 0;
  /// Inputs are validated against input_specs(), ordered like them and
  /// contiguous (their names may be empty: positional). Must fill
  /// ExecutionResult::outputs; latency is measured here.
  virtual Result<ExecutionResult> do_execute(const ExecutionRequest& request) = 0;
  virtual void do_unload() noexcept = 0;
  virtual std::vector<TensorDesc> do_input_specs() const = 0;
  virtual std::vector<TensorDesc> do_output_specs() const = 0;
  virtual Result<std::size_t> do_estimate_memory() const = 0;

 private:
  Result<ExecutionResult> execute_checked(const ExecutionRequest& request);
  Result<ExecutionResult> run_and_time(const ExecutionRequest& request);

  std::atomic<bool> loaded_{false};
  std::mutex serial_mutex_;  // used when !thread_safe_execute
  // Specs cached at load time so validation does not call virtuals per request.
  std::vector<TensorDesc> inputs_cache_;
  std::vector<TensorDesc> outputs_cache_;
  bool thread_safe_cache_ = false;
  bool device_inputs_cache_ = false;
};

/// Validates `inputs` against `specs` and returns them reordered to spec
/// order, each contiguous (non-contiguous host views are copied into
/// `scratch`). Exposed for backends and tests.
Result<std::vector<NamedTensorView>> prepare_inputs(const std::vector<TensorDesc>& specs,
                                                    const std::vector<NamedTensorView>& inputs,
                                                    bool allow_device_inputs,
                                                    std::vector<Tensor>& scratch);

}  // namespace aegisrt
