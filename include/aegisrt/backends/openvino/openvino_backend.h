// OpenVinoBackend: runs .onnx models through Intel OpenVINO's C++ API
// (ov::Core::read_model with the ONNX frontend -> compile_model for a device ->
// one ov::InferRequest per concurrent call, from a pool). No OpenVINO type
// appears here: the compiled model lives behind a pointer.
//
// load(): LoadOptions::artifact_path is an .onnx model.
//   * Device: LoadOptions::device CPU -> OpenVINO "CPU" (the default); the
//     backend option `device` names any OpenVINO device instead ("GPU", "NPU",
//     "AUTO", "GPU.1", ...). A CUDA LoadOptions::device is Unsupported: OpenVINO
//     does not drive NVIDIA GPUs.
//   * Precision (docs/BACKENDS.md "OpenVINO"): fp32 sets the
//     inference-precision hint to f32 (so a CPU with native bf16 does not
//     silently run in bf16); fp16 sets it to f16, and is Unsupported, naming
//     the device, where the device does not list FP16 in its
//     OPTIMIZATION_CAPABILITIES; int8 needs a Q/DQ-quantized ONNX model
//     (Unsupported for a model with no quantized operations) and a device
//     listing INT8; the backend option `inference_precision` (f32 | f16 | bf16)
//     overrides the hint, e.g. bf16 on CPUs that list BF16.
//   * Compiled-model cache: the compiled model is exported
//     (CompiledModel::export_model) into the ArtifactCache at
//     {cache_dir}/{variant}_{device}_{precision}.bin (default cache_dir
//     /tmp/aegisrt_openvino, variant = file stem; "_t<N>" / "_throughput" are
//     appended for num_threads / performance_hint), keyed and validated by the
//     model's SHA-256, the OpenVINO build, the device's full name and
//     capabilities, the precision hint and the thread count; a warm start
//     imports it (Core::import_model) and skips reading and compiling the ONNX.
//     A blob that does not import is reported and the model compiled afresh.
//
// LoadOptions::backend_options keys (others are InvalidArgument naming the key):
//   device              OpenVINO device name (see above)
//   inference_precision f32 | f16 | bf16 (default: from LoadOptions::precision)
//   num_threads         >= 0: ov::inference_num_threads (0 = OpenVINO's default)
//   intra_op_threads    alias of num_threads (what `aegisrt run --threads` sets)
//   performance_hint    latency (default) | throughput
//   cache               on (default) | off: the compiled-model cache
//
// Execution: inputs are wrapped as ov::Tensor over the caller's memory (no
// copy); outputs whose shape the compiled model knows statically are
// allocated by us and handed to OpenVINO to write into (no copy); dynamic
// outputs are copied out of the request once.
// Thread safety: execute() may run concurrently: each call takes its own
// InferRequest from a pool (created on demand, reused afterwards).
// Errors: every OpenVINO exception is caught inside the backend: Corrupt for a
// model OpenVINO cannot read (naming the file), BackendError for compile and
// inference failures (naming the tensor where one is at fault).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "aegisrt/backend/runtime_backend.h"
#include "aegisrt/cache/artifact_cache.h"

namespace aegisrt {

class OpenVinoBackend final : public RuntimeBackend {
 public:
  OpenVinoBackend();
  ~OpenVinoBackend() override;

  [[nodiscard]] std::string_view name() const noexcept override { return "openvino"; }
  [[nodiscard]] BackendCapabilities capabilities() const override;

  /// The OpenVINO device the loaded model runs on ("CPU"); empty when not loaded.
  [[nodiscard]] std::string active_device() const;
  /// How the loaded model was obtained: "compiled" (cache off), or the
  /// ArtifactCache outcome ("hit", "built", ...); empty when not loaded.
  [[nodiscard]] std::string cache_outcome() const;

 protected:
  Result<void> do_load(const LoadOptions& options) override;
  Result<ExecutionResult> do_execute(const ExecutionRequest& request) override;
  void do_unload() noexcept override;
  std::vector<TensorDesc> do_input_specs() const override;
  std::vector<TensorDesc> do_output_specs() const override;
  Result<std::size_t> do_estimate_memory() const override;

 private:
  struct Model;  // the compiled model, its request pool and precomputed specs
  std::unique_ptr<Model> model_;
};

std::unique_ptr<RuntimeBackend> make_openvino_backend();

/// "2026.4.1-22982-..." : the OpenVINO runtime loaded at run time (its build number).
std::string openvino_version();

/// The devices OpenVINO sees here ("CPU", "GPU.0", ...), each with its full
/// name, e.g. "CPU (Intel(R) Xeon(R) ...)". An error when OpenVINO itself fails.
Result<std::vector<std::string>> openvino_devices();

/// The environment an exported OpenVINO blob is checked against (OpenVINO
/// version; the device's full name and capabilities go into the key).
BuildEnvironment openvino_build_environment();

}  // namespace aegisrt
