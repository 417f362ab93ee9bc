// OnnxRuntimeBackend: runs .onnx models through ONNX Runtime (CPU by default;
// CUDA, TensorRT and OpenVINO execution providers where the installed ORT has
// them). No ORT type appears here: the session lives behind a pointer.
//
// LoadOptions::backend_options keys (anything else is InvalidArgument naming the key):
//   provider            cpu (default; cuda when LoadOptions::device is CUDA) | cuda |
//                       tensorrt | openvino. A provider the installed ORT lacks is
//                       Unsupported, naming it and what to install.
//   intra_op_threads    >= 0 (0 = ORT's default: one per physical core)
//   inter_op_threads    >= 0
//   graph_optimization  disable | basic | extended | all (default: ORT's own, i.e. all)
//   optimized_model_path  file caching the optimised graph: written on the first
//                       load, reused (with optimisation off) while "<file>.key"
//                       matches: SHA-256 of the model and its external data,
//                       ORT version, provider, level, CPU, and the cache file's
//                       own SHA-256 (a replaced or bad cache file is rebuilt). A
//                       cache file or key not owned by us, or writable by
//                       group/others, is refused (InvalidArgument).
//   calibration_table   tensorrt + int8: calibration table name (ORT looks it up
//                       in the engine cache directory)
//   openvino_device_type  openvino: CPU (default), GPU, NPU, ...
//   tf32                cuda/tensorrt: 1 lets float32 convolutions and GEMMs use
//                       TF32 tensor cores (default 0: float32 computes in float32)
//   cuda_graph          cuda only: 1 turns on the CUDA provider's CUDA graph
//                       (enable_cuda_graph) and runs every call through IoBinding
//                       at fixed device addresses: one graph per set of device
//                       input addresses (each pipeline instance's own input
//                       tensor), one shared graph with fixed device input
//                       buffers for host inputs; outputs in fixed device buffers
//                       sized by the caller's first call (run without capture),
//                       copied out after each Run. A later call with other input
//                       shapes is InvalidArgument (a graph replays fixed shapes).
//                       String/int4 tensors, other providers, or a build without
//                       the CUDA toolkit are refused. cuda_enable_cuda_graph is
//                       refused in its favour. ORT itself refuses a session
//                       whose nodes are not all on the CUDA provider.
//   trt_<key>, cuda_<key> passed verbatim (without the cuda_ prefix for CUDA) to
//                       the TensorRT / CUDA provider options; only with that provider.
// TensorRT also gets: engine cache on in LoadOptions::cache_dir (default
// default_cache_dir("tensorrt"), created 0700 and refused when not ours), cache prefix "<variant>_<precision>" when a variant is
// given, fp16 for Precision::FP16, int8 (+fp16 fallback) for Precision::INT8.
// For the other providers the precision is the model's own (an fp16 or Q/DQ
// int8 .onnx); LoadOptions::precision is not used.
//
// Thread safety: execute() may run concurrently (ORT's Session::Run is
// thread-safe and no per-call state is shared).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "aegisrt/backend/runtime_backend.h"

namespace aegisrt {

class OnnxRuntimeBackend final : public RuntimeBackend {
 public:
  OnnxRuntimeBackend();
  ~OnnxRuntimeBackend() override;

  [[nodiscard]] std::string_view name() const noexcept override { return "onnx"; }
  [[nodiscard]] BackendCapabilities capabilities() const override;

  /// The provider the loaded session uses ("cpu", "cuda", ...); empty when not loaded.
  [[nodiscard]] std::string active_provider() const;

 protected:
  Result<void> do_load(const LoadOptions& options) override;
  Result<ExecutionResult> do_execute(const ExecutionRequest& request) override;
  void do_unload() noexcept override;
  std::vector<TensorDesc> do_input_specs() const override;
  std::vector<TensorDesc> do_output_specs() const override;
  Result<std::size_t> do_estimate_memory() const override;

 private:
  struct Model;  // the ORT session and everything precomputed for execute()
  std::unique_ptr<Model> model_;
};

std::unique_ptr<RuntimeBackend> make_onnxruntime_backend();

/// Version of the ONNX Runtime library loaded at run time ("1.31.1").
std::string onnxruntime_version();

/// Execution providers the loaded ORT library offers, in AegisRT's names
/// ("cpu", "cuda", "tensorrt", "openvino"; others under ORT's own name).
std::vector<std::string> onnxruntime_available_providers();

}  // namespace aegisrt
